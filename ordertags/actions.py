"""Rule actions: one class per kind, in one registry (:data:`ACTIONS`).

A rule's ``when`` says which orders it matches; each action key of the rule (``tag``,
``untag``, ``set``, ``note``, ``hold``, ``notify``, ``stop``) is one :class:`Action`
kind that knows, in one place:

- its schema fragment (:attr:`Action.schema`: the rule file's JSON Schema has it under
  ``$defs.rule.properties.<key>``, checked by ``tests/test_actions.py``);
- how it is read from the rule file and checked beyond the schema (:meth:`Action.read`);
- what it does to the matching orders (:meth:`Action.apply`): column operations on the
  run's state, through the kernels the engine hands in (:class:`Run`), never a loop
  per order;
- the columns it writes into the export (:meth:`Action.writes`, :meth:`Action.columns`);
- how it is explained (:meth:`Action.describe`), shown to the packer
  (:meth:`Action.show`) and told by the run (:meth:`Action.report`).

This module imports no array library (the quick commands import the rules); the engine
gives each action the arrays and the kernels it works with (:class:`Run`,
:class:`Columns`). ``docs/contributing.md`` says how to add a kind.

>>> sorted(ACTIONS)
['hold', 'note', 'notify', 'set', 'stop', 'tag', 'untag']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ordertags.errors import RulesError

#: A boolean column (a numpy array: one value per row of the run).
Mask = Any


class Place(Protocol):
    """Where in the rule file an action is (:class:`ordertags.rules.Where`)."""

    def child(self, *parts: str | int) -> Place: ...

    def error(self, message: str, hint: str | None = None) -> RulesError: ...


@dataclass(frozen=True)
class Settings:
    """What the rule file says for every rule (``notes_column``, ``hold_column``)."""

    notes_column: str = "notes"
    hold_column: str = "Hold"


class Run(Protocol):
    """The state of a run as actions change it (:class:`ordertags.engine.evaluate.ActionRun`):
    tags per customer and per order, the stopped orders, and what each kind keeps."""

    #: Per action key, what its actions of the run left (the kind decides what).
    kept: dict[str, Any]

    def add_tag(self, name: str, scope: str | None, matched: Mask) -> None:
        """Give tag ``name`` to the matching orders, or to their customers (``scope``
        None: the tag book's scope)."""

    def remove_tag(self, name: str, matched: Mask) -> None:
        """Take derived tag ``name`` away from the matching orders (and customers)."""

    def assign(self, column: str, value: str, priority: int, rule: int, matched: Mask) -> None:
        """Set ``column`` to ``value`` on the matching orders; a clash with another rule's
        value is settled by ``priority`` and counted."""

    def stop(self, rule: int, matched: Mask) -> None:
        """Take the matching orders out of every later rule."""


class Columns(Protocol):
    """The column kernels actions write their output columns with
    (:class:`ordertags.engine.evaluate.OutputColumns`)."""

    def original(self, column: str) -> Any:
        """Per row, the column's text as the export has it ("" where it has none)."""

    def assigned(self, column: str, original: Any) -> Any:
        """The values rules assigned to ``column`` (:meth:`Run.assign`), else ``original``."""

    def joined(self, parts: Sequence[tuple[str, Mask]]) -> Any:
        """Per row, the texts whose masks hold, joined with "; " in order."""

    def appended(self, existing: Any, parts: Sequence[tuple[str, Mask]]) -> Any:
        """``existing`` with the texts whose masks hold appended ("; "), each only where
        the text is not already there."""


class Shown(Protocol):
    """The orders a view shows (:func:`ordertags.reports.views.order_views`)."""

    def each(self, mask: Mask) -> list[int]:
        """The positions of the shown orders ``mask`` holds for."""


class Counts(Protocol):
    """What a run's summary counts with (:mod:`ordertags.engine.pipeline`)."""

    def orders(self, mask: Mask) -> int:
        """How many orders ``mask`` holds for (an order of several rows once)."""

    def numbers(self, mask: Mask, limit: int) -> list[str]:
        """The numbers of the first ``limit`` orders ``mask`` holds for."""


class Action:
    """One action of a rule. A subclass is one kind: its key in the rule file, its
    schema fragment, how it is read and what it does. Registered with :func:`register`."""

    key: ClassVar[str]
    #: The JSON Schema of the key's value, as the rule file's schema has it.
    schema: ClassVar[dict[str, Any]]

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        """The actions ``value`` (the key's value in rule ``rule``, valid by the schema)
        stands for: checks what the schema cannot, raising ``where.error(...)``."""
        raise NotImplementedError

    def tags(self) -> list[str]:
        """The tags this action names (checked against the tag book)."""
        return []

    def rename(self, names: dict[str, str]) -> None:
        """Name the tags as the tag book spells them (``names``: as written -> there)."""

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        """Act on the ``matched`` rows of rule number ``rule``."""
        raise NotImplementedError

    def describe(self) -> str:
        """The action in words, for ``ordertags explain``."""
        raise NotImplementedError

    def writes(self) -> list[str]:
        """The columns (order fields or names) whose text this action changes in the
        export (read on a big export's first pass: :func:`ordertags.api`'s prefetch)."""
        return []

    @classmethod
    def columns(
        cls, actions: list[Action], kept: Any, ops: Columns, settings: Settings, out: dict[str, Any]
    ) -> None:
        """Put the columns this kind writes into ``out`` (name -> full-length values):
        ``actions`` are this kind's actions in the rule file (none: nothing to write),
        ``kept`` what they left in the run. ``out`` already holds the columns of the
        kinds registered before."""

    @classmethod
    def show(cls, kept: Any, rows: Shown, n: int) -> list[list[str]] | None:
        """Per shown order, the lines this kind adds to what the packer sees (``n``
        orders shown); None where the view shows the kind in its own way, or not at all."""
        return None

    @classmethod
    def report(cls, kept: Any, counts: Counts) -> list[str]:
        """Lines the run tells about this kind (on stderr, even with ``--quiet``)."""
        return []


#: Every action kind by its key, in the order a rule's actions apply (and their
#: columns are written): tags first, the stop last.
ACTIONS: dict[str, type[Action]] = {}


def register(kind: type[Action]) -> type[Action]:
    """Add an action kind to :data:`ACTIONS` (a class decorator)."""
    if kind.key in ACTIONS:
        raise ValueError(f"two action kinds have the key {kind.key!r}")
    ACTIONS[kind.key] = kind
    return kind


def read_actions(raw: dict[str, Any], where: Place, settings: Settings) -> list[Action]:
    """Every action of rule ``raw``, in registry order."""
    out: list[Action] = []
    for key, kind in ACTIONS.items():
        if key in raw:
            out += kind.read(raw[key], raw, where.child(key), settings)
    return out


_TAGNAME = {"$ref": "#/$defs/tagname"}
_TAGNAMES = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/tagname"}}


@register
@dataclass
class TagAction(Action):
    """``tag``: add a tag to the matching orders' customers (or the orders themselves,
    as the tag book or ``scope`` says)."""

    name: str
    scope: str | None  # None: the tag book's definition decides

    key = "tag"
    schema = {
        "description": "The tag or tags to add: a name, a list of names, or {name, scope}.",
        "oneOf": [
            _TAGNAME,
            _TAGNAMES,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": _TAGNAME, "scope": {"$ref": "#/$defs/scope"}},
            },
        ],
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        scope = rule.get("scope")
        if isinstance(value, str):
            return [cls(value, scope)]
        if isinstance(value, list):
            return [cls(t, scope) for t in value]
        return [cls(value["name"], value.get("scope", scope))]

    def tags(self) -> list[str]:
        return [self.name]

    def rename(self, names: dict[str, str]) -> None:
        self.name = names[self.name]

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.add_tag(self.name, self.scope, matched)

    def describe(self) -> str:
        return f"tag {self.name}" + (f" ({self.scope})" if self.scope else "")


@register
@dataclass
class UntagAction(Action):
    """``untag``: take a derived tag away from the matching orders (or customers)."""

    name: str

    key = "untag"
    schema = {
        "description": "Derived tags to take away from the matching orders (or customers).",
        "oneOf": [_TAGNAME, _TAGNAMES],
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        return [cls(t) for t in ([value] if isinstance(value, str) else value)]

    def tags(self) -> list[str]:
        return [self.name]

    def rename(self, names: dict[str, str]) -> None:
        self.name = names[self.name]

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.remove_tag(self.name, matched)

    def describe(self) -> str:
        return f"untag {self.name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@register
@dataclass
class SetAction(Action):
    """``set``: write a value into a column (an order field or a column of the export);
    where two rules set one field differently, the higher ``priority`` wins."""

    column: str
    value: str

    key = "set"
    schema = {
        "type": "object",
        "minProperties": 1,
        "description": "Columns to set on the matching orders, e.g. "
        "{Postal Service: Royal Mail Tracked 24}.",
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        return [cls(str(k), _text(v)) for k, v in value.items()]

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.assign(self.column, self.value, priority, rule, matched)

    def describe(self) -> str:
        return f"set {self.column} = {self.value!r}"

    def writes(self) -> list[str]:
        return [self.column]

    @classmethod
    def columns(
        cls, actions: list[Action], kept: Any, ops: Columns, settings: Settings, out: dict[str, Any]
    ) -> None:
        for column in dict.fromkeys(c for a in actions for c in a.writes()):
            out[column] = ops.assigned(column, ops.original(column))


@register
@dataclass
class NoteAction(Action):
    """``note``: append a text to the notes column (or a named column)."""

    column: str
    text: str

    key = "note"
    schema = {
        "description": "A note appended to the notes column, or {text, column}.",
        "oneOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "minLength": 1},
                    "column": {"type": "string", "minLength": 1},
                },
            },
        ],
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        if isinstance(value, str):
            return [cls(settings.notes_column, value)]
        return [cls(value.get("column") or settings.notes_column, value["text"])]

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.kept.setdefault(self.key, {}).setdefault(self.column, []).append((self.text, matched))

    def describe(self) -> str:
        where = "the export's notes column" if self.column == "notes" else self.column
        return f"note {self.text!r} in {where}"

    def writes(self) -> list[str]:
        return [self.column]

    @classmethod
    def columns(
        cls, actions: list[Action], kept: Any, ops: Columns, settings: Settings, out: dict[str, Any]
    ) -> None:
        for column in dict.fromkeys(c for a in actions for c in a.writes()):
            # A column rules also set: the notes go after the new value.
            existing = out[column] if column in out else ops.original(column)
            out[column] = ops.appended(existing, (kept or {}).get(column, []))

    @classmethod
    def show(cls, kept: Any, rows: Shown, n: int) -> list[list[str]] | None:
        return None  # the views show them as the order's notes (``order_notes``)


@register
@dataclass
class HoldAction(Action):
    """``hold``: hold the order, with a reason, in the hold column."""

    reason: str

    key = "hold"
    schema = {
        "description": "Hold the order: the reason written to the hold column "
        "(true: the rule's name).",
        "type": ["string", "boolean"],
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        if value is True:
            return [cls(rule["name"])]
        return [cls(value)] if value else []

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.kept.setdefault(self.key, []).append((self.reason, matched))

    def describe(self) -> str:
        return f"hold: {self.reason}"

    @classmethod
    def columns(
        cls, actions: list[Action], kept: Any, ops: Columns, settings: Settings, out: dict[str, Any]
    ) -> None:
        if actions:  # the rule file's hold column, whatever it held before
            out[settings.hold_column] = ops.joined(kept or [])


@register
@dataclass
class NotifyAction(Action):
    """``notify``: tell whoever reads the run's output (a cron job mails it; told even
    with ``--quiet``) that these orders came in, by their numbers: "a customer we watch
    ordered again". The export itself is left as it is; the packer's views show the
    notice too."""

    text: str

    key = "notify"
    #: How many order numbers a notice names (then "and N more").
    SHOWN = 10
    schema = {
        "description": "A notice in the run's summary naming the matching orders by their "
        "numbers (e.g. a watched customer ordered again); the export is left as it is.",
        "type": "string",
        "minLength": 1,
    }

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        text = " ".join(str(value).split())
        if not text:
            raise where.error("notify needs a text.", hint='For example: notify: "FRAUD ordered".')
        return [cls(text)]

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.kept.setdefault(self.key, []).append((self.text, matched))

    def describe(self) -> str:
        return f"notify {self.text!r}"

    @classmethod
    def show(cls, kept: Any, rows: Shown, n: int) -> list[list[str]] | None:
        lines: list[list[str]] = [[] for _ in range(n)]
        for text, mask in kept or []:
            for k in rows.each(mask):
                if f"Notify: {text}" not in lines[k]:
                    lines[k].append(f"Notify: {text}")
        return lines

    @classmethod
    def report(cls, kept: Any, counts: Counts) -> list[str]:
        merged: dict[str, Mask] = {}
        for text, mask in kept or []:  # one notice per text, however many rules give it
            merged[text] = merged[text] | mask if text in merged else mask
        lines = []
        for text, mask in merged.items():
            count = counts.orders(mask)
            if not count:
                continue
            numbers = counts.numbers(mask, cls.SHOWN)
            more = f" and {count - len(numbers):,} more" if count > len(numbers) else ""
            shown = f": {', '.join(numbers)}{more}" if numbers else ""
            lines.append(f"notify: {text} ({count:,} {'order' if count == 1 else 'orders'}{shown})")
        return lines


@register
@dataclass
class StopAction(Action):
    """``stop``: no later rule applies to the matching orders."""

    key = "stop"
    schema = {"type": "boolean", "description": "No later rule applies to the matching orders."}

    @classmethod
    def read(
        cls, value: Any, rule: dict[str, Any], where: Place, settings: Settings
    ) -> list[Action]:
        return [cls()] if value else []

    def apply(self, run: Run, rule: int, priority: int, matched: Mask) -> None:
        run.stop(rule, matched)

    def describe(self) -> str:
        return "stop"
