"""Rules: conditions on orders, line items and customers, and the actions they take.

A rule file is YAML, checked against ``schemas/rules.schema.json`` and compiled here into
a :class:`RuleSet`: plain data (conditions, actions), with every error reported against
its line and key. This module imports no array library, so the quick commands stay
quick; the engine evaluates the conditions (:mod:`ordertags.engine.conditions`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ordertags.actions import (
    ACTIONS,
    Action,
    HoldAction,
    NoteAction,
    SetAction,
    Settings,
    StopAction,
    TagAction,
    UntagAction,
    read_actions,
)
from ordertags.base.listfiles import ValueList, read_value_list
from ordertags.base.segments import (
    DEFAULT_FREQUENCY,
    DEFAULT_MONETARY,
    DEFAULT_RECENCY_DAYS,
    GROUP_NAMES,
    group_slug,
)
from ordertags.base.yamlfiles import json_path, line_of, load_yaml, read_text, validate
from ordertags.errors import ColumnError, RulesError
from ordertags.tagbook import TagBook

A = TypeVar("A", bound=Action)

TEXT_OPS = ("equals", "in", "in_file", "contains", "starts_with", "ends_with", "matches")
NUMBER_OPS = ("over", "under", "at_least", "at_most", "between")
DATE_OPS = ("before", "after", "within_days")
NEGATED = {f"not_{op}": op for op in (*TEXT_OPS, "between", "within_days")}
ALL_FIELD_OPS = (*TEXT_OPS, *NUMBER_OPS, *DATE_OPS, *NEGATED, "blank")
CUSTOMER_MEASURES = (
    "spend",
    "orders",
    "average_order_value",
    "days_since_first",
    "days_since_last",
    "refunds",
    "refunded_orders",
    "orders_placed",
    "refund_rate",
    "refund_value_rate",
    "first_order",
)
ITEM_FIELDS = ("sku", "name", "quantity", "price")
DATE_FIELDS = ("date",)
FORMS = (
    "all",
    "any",
    "not",
    "field",
    "customer",
    "segment",
    "has_tag",
    "had_tag",
    "any_item",
    "all_items",
    "no_item",
)


@dataclass
class Where:
    """Where a piece of the rule file is, for messages."""

    file: str
    text: str
    path: list[str | int]

    def child(self, *parts: str | int) -> Where:
        return Where(self.file, self.text, [*self.path, *parts])

    @property
    def line(self) -> int | None:
        return line_of(self.text, self.path)

    def error(self, message: str, hint: str | None = None) -> RulesError:
        return RulesError(
            message, file=self.file, line=self.line, key=json_path(self.path), hint=hint
        )


class Condition:
    """A compiled condition of the rule file. The engine evaluates it
    (:func:`ordertags.engine.conditions.evaluate`); here it is only data."""

    where: Where
    #: What evaluating this condition reads besides the orders of the run: ``tags``
    #: (the tags earlier rules gave: it waits for them) and ``history`` (the workspace's
    #: history, one SQLite connection on the run's own thread). The engine evaluates a
    #: condition ahead, on another thread, only where it reads neither; a new kind that
    #: says nothing is taken to read both, and so is evaluated in turn.
    reads: ClassVar[frozenset[str]] = frozenset({"tags", "history"})

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def walk(self) -> list[Condition]:
        """This condition and every condition inside it."""
        return [self]


@dataclass
class AllOf(Condition):
    """``all: [...]``: every part holds. (``AnyOf`` differs only in how parts combine.)"""

    parts: list[Condition]
    where: Where
    label = "all of"
    reads = frozenset()  # its parts say what they read (walk)

    def describe(self) -> str:
        return self.label

    def walk(self) -> list[Condition]:
        return [self, *(c for p in self.parts for c in p.walk())]


@dataclass
class AnyOf(AllOf):
    """``any: [...]``: at least one part holds."""

    label = "any of"


@dataclass
class Not(Condition):
    """``not: ...``: the part does not hold."""

    part: Condition
    where: Where
    reads = frozenset()  # its part says (walk)

    def describe(self) -> str:
        return "not"

    def walk(self) -> list[Condition]:
        return [self, *self.part.walk()]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(_fmt(v) for v in value[:5])
        return f"[{shown}{', ...' if len(value) > 5 else ''}]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def parse_when(text: str, where: Where) -> dt.datetime:
    """A date (``2026-01-31``) or date-time (``2026-01-31 17:00``) in a rule.

    >>> parse_when("2026-01-31 17:00", Where("r.yaml", "", []))
    datetime.datetime(2026, 1, 31, 17, 0)
    """
    try:
        return dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00")).replace(
            tzinfo=None
        )
    except ValueError:
        raise where.error(
            f'"{text}" is not a date.', hint="Write dates as YYYY-MM-DD (optionally with HH:MM)."
        ) from None


@dataclass
class FieldCondition(Condition):
    """Comparisons on one order field or column (all must hold)."""

    field: str
    ops: dict[str, Any]
    case_sensitive: bool
    where: Where
    # (``field`` is taken by the field name here, hence dataclasses.field)
    list_values: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # op -> values
    item: bool = False  # a line-item condition (any_item / all_items / no_item)
    list_paths: dict[str, Path] = dataclasses.field(default_factory=dict)  # op -> list file
    #: The column of a table list file the values are read from (``column:``).
    column: str | None = None
    #: op -> the lines of its list file that hold no value (line, text), for ``lint``.
    list_unread: dict[str, list[tuple[int, str]]] = dataclasses.field(default_factory=dict)
    reads = frozenset()  # the orders' own columns only

    def describe(self) -> str:
        ops = ", ".join(f"{op} {_fmt(v)}" for op, v in self.ops.items())
        return f"{self.field} {ops}" + (" (case-sensitive)" if self.case_sensitive else "")

    def kind(self) -> str:
        """number, date or text: what the comparisons treat the values as."""
        ops = set(self.ops) - {"blank"}
        if self.field in DATE_FIELDS or ops & {"before", "after", "within_days", "not_within_days"}:
            return "date"
        if ops & set(NUMBER_OPS) or ops & {"not_between"}:
            between = self.ops.get("between", self.ops.get("not_between"))
            if between is not None and not all(_is_number(b) for b in between):
                return "date"
            return "number"
        values = [v for op, v in self.ops.items() if op in ("equals", "not_equals", "in", "not_in")]
        flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
        if flat and all(_is_number(v) for v in flat):
            return "number"
        return "text"


@dataclass
class CustomerCondition(Condition):
    """A condition on the customer's orders: spend, order count, average order value,
    days since the first or last order, refunds (value, orders refunded, refund rate by
    count or value, orders placed), first order; optionally within the last D days
    before the as-of date."""

    measure: str
    ops: dict[str, Any]
    within_days: int | None
    where: Where
    reads = frozenset({"history"})

    def describe(self) -> str:
        window = f" in the last {self.within_days} days" if self.within_days else ""
        ops = ", ".join(f"{op} {_fmt(v)}" for op, v in self.ops.items())
        return f"customer {self.measure.replace('_', ' ')}{window} {ops}".rstrip()


@dataclass
class SegmentCondition(Condition):
    """``segment``: the customer's RFM group is one of ``groups`` (slugs, see
    :mod:`ordertags.customers.rfm`), scored from the customers of the run (with their
    history, in a workspace) as the rule file's ``segments:`` says."""

    groups: tuple[str, ...]
    where: Where
    reads = frozenset({"history"})
    method: str = "quantiles"
    cutoffs: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]] | None = None

    def describe(self) -> str:
        return "segment " + " or ".join(self.groups)


@dataclass
class TagCondition(Condition):
    """``has_tag``: the order or its customer carries the tag at this point of the run
    (from the tag book or an earlier rule). ``had_tag`` with ``within_days``: the customer
    carried it at some point in the last D days (needs a workspace's history)."""

    tag: str
    within_days: int | None
    where: Where

    def describe(self) -> str:
        if self.within_days is not None:
            return f"had tag {self.tag} in the last {self.within_days} days"
        return f"has tag {self.tag}"


@dataclass
class ItemCondition(Condition):
    """``any_item`` / ``all_items`` / ``no_item``: a condition on the order's line items."""

    quantifier: str
    part: Condition
    where: Where
    reads = frozenset()  # its part says (walk)

    def describe(self) -> str:
        return (
            {"any_item": "any item", "all_items": "all items", "no_item": "no item"}[
                self.quantifier
            ]
            + ": "
            + self.part.describe()
        )

    def walk(self) -> list[Condition]:
        return [self, *self.part.walk()]


# --- rules ------------------------------------------------------------------------------


@dataclass
class Rule:
    """A rule: its condition and its actions (:mod:`ordertags.actions`, in the order
    they apply)."""

    name: str
    index: int
    when: Condition
    actions: list[Action]
    line: int | None
    priority: int = 0
    raw_when: Any = None

    def of(self, kind: type[A]) -> list[A]:
        """This rule's actions of one kind."""
        return [a for a in self.actions if isinstance(a, kind)]

    # What the rule does, kind by kind, as plain values (lint, tests, the API's users).
    @property
    def tags(self) -> list[TagAction]:
        return self.of(TagAction)

    @property
    def untag(self) -> list[str]:
        return [a.name for a in self.of(UntagAction)]

    @property
    def set(self) -> dict[str, str]:
        return {a.column: a.value for a in self.of(SetAction)}

    @property
    def note(self) -> tuple[str, str] | None:
        notes = self.of(NoteAction)
        return (notes[0].column, notes[0].text) if notes else None

    @property
    def hold(self) -> str | None:
        holds = self.of(HoldAction)
        return holds[0].reason if holds else None

    @property
    def stop(self) -> bool:
        return bool(self.of(StopAction))


@dataclass
class RuleSet:
    """A loaded rule file; ``path`` (``str`` or ``os.PathLike``) is the file, as messages
    name it."""

    path: str
    rules: list[Rule] = field(default_factory=list)
    #: Where ``note`` writes unless a note names its column: by default ``notes``, the
    #: order field (each platform's own notes column: Shopify ``Notes``, WooCommerce
    #: ``order_notes``, Linnworks ``Notes``...; ``Order Notes``, added, where there is none).
    notes_column: str = "notes"
    hold_column: str = "Hold"
    #: The currency customer spend is compared in (``currency: GBP``), and fixed rates
    #: into it (``rates: {EUR: 0.86}``: 1 EUR is 0.86 GBP). None: the run's own currency
    #: where its orders agree.
    currency: str | None = None
    rates: dict[str, float] = field(default_factory=dict)
    text: str = ""
    #: RFM scoring (``segments:``): quantiles or fixed, and the fixed cut-offs (recency
    #: days, frequency, monetary) where the file gives them.
    segment_method: str = "quantiles"
    segment_cutoffs: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]] | None = None

    def __init__(
        self,
        path: str | os.PathLike[str],
        rules: list[Rule] | None = None,
        notes_column: str = "notes",
        hold_column: str = "Hold",
        currency: str | None = None,
        rates: dict[str, float] | None = None,
        text: str = "",
        segment_method: str = "quantiles",
        segment_cutoffs: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
        | None = None,
    ) -> None:
        # Written out so that ``path`` may be any path (a str, a pathlib.Path): it is
        # kept as the text messages name the file by.
        self.path = os.fspath(path)
        self.rules = [] if rules is None else rules
        self.notes_column = notes_column
        self.hold_column = hold_column
        self.currency = currency
        self.rates = {} if rates is None else rates
        self.text = text
        self.segment_method = segment_method
        self.segment_cutoffs = segment_cutoffs

    def check_tags(self, tagbook: TagBook) -> None:
        """Every tag a rule adds, removes or tests must be defined in the tag book; the
        rules then name each in the tag book's spelling (a name matches in any case:
        :meth:`ordertags.tagbook.TagBook.tag_named`)."""

        def named(name: str, verb: str, rule: Rule) -> str:
            return tagbook.tag_named(
                name,
                said=f'rule "{rule.name}" {verb} tag "{name}", which',
                error=RulesError,
                file=self.path,
                line=rule.line,
                key=f"$.rules[{rule.index}].tag",
            )

        for rule in self.rules:
            for action in rule.actions:
                verb = "removes" if isinstance(action, UntagAction) else "adds"
                action.rename({t: named(t, verb, rule) for t in action.tags()})
            for c in rule.when.walk():
                if isinstance(c, TagCondition):
                    c.tag = named(c.tag, "tests", rule)

    @property
    def settings(self) -> Settings:
        """What the rule file says for every action (the notes and hold columns)."""
        return Settings(notes_column=self.notes_column, hold_column=self.hold_column)

    def actions_of(self, kind: type[A]) -> list[A]:
        """Every action of one kind, rule by rule."""
        return [a for r in self.rules for a in r.of(kind)]

    @property
    def written_columns(self) -> list[str]:
        """The columns whose text actions change (each once, in rule order)."""
        return list(dict.fromkeys(c for r in self.rules for a in r.actions for c in a.writes()))


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Read, check and compile a rule file.

    >>> rules = load_rules("rules.example.yaml")
    >>> [r.name for r in rules.rules][:2]
    ['Throwaway mailbox on a big order', 'Known fraudsters']
    """
    p = Path(path)
    text = read_text(p, RulesError, "rule file")
    return parse_rules(text, file=str(p), base=p.parent)


#: ``1,000`` or ``12,500.50``: a number written with thousands separators.
_GROUPED = re.compile(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$")
#: The same inside a YAML flow mapping (``{over: 1,000}``), where it cannot be read.
_GROUPED_FLOW = re.compile(r"\{[^}\n]*:\s*-?\d{1,3},\d{3}")
_NUMERIC_KEYS = frozenset(
    {"over", "under", "at_least", "at_most", "equals", "not_equals", "between", "not_between"}
)


def _read_grouped_numbers(data: Any) -> Any:
    """Numbers people write with thousands separators (``over: 1,000``, which YAML reads
    as the text "1,000") as the numbers they are, wherever a comparison takes one."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in _NUMERIC_KEYS:
                value = _grouped(value)
            out[key] = _read_grouped_numbers(value)
        return out
    if isinstance(data, list):
        return [_read_grouped_numbers(v) for v in data]
    return data


def _grouped(value: Any) -> Any:
    if isinstance(value, list):
        return [_grouped(v) for v in value]
    if isinstance(value, str) and _GROUPED.match(value):
        number = float(value.replace(",", ""))
        return int(number) if number.is_integer() else number
    return value


def parse_rules(text: str, *, file: str, base: Path) -> RuleSet:
    """Compile rules from YAML text; ``in_file`` paths are relative to ``base``."""
    data = load_yaml(text, file=file, error=RulesError)
    if data is None:
        raise RulesError(
            "the rule file is empty.",
            file=file,
            hint="Start from rules.example.yaml, or write `rules: []`.",
        )
    data = _read_grouped_numbers(data)
    try:
        validate(data, schema="rules", text=text, file=file, error=RulesError)
    except RulesError as exc:
        if _GROUPED_FLOW.search(text):
            # `{over: 1,000}`: in a YAML flow mapping the comma ends the value, so the
            # rule reads `over: 1` and a key `000`. Say so rather than "(0 was unexpected)".
            raise RulesError(
                exc.message,
                file=file,
                hint="Write numbers without a thousands separator (over: 1000): inside "
                "{ } a comma separates entries, so `over: 1,000` is read as `over: 1` and "
                "a key `000`.",
            ) from None
        raise
    ruleset = RuleSet(
        path=file,
        text=text,
        notes_column=data.get("notes_column") or "notes",
        hold_column=data.get("hold_column") or "Hold",
        currency=str(data["currency"]).upper() if data.get("currency") else None,
        rates={str(k).upper(): float(v) for k, v in (data.get("rates") or {}).items()},
    )
    seg = data.get("segments") or {}
    ruleset.segment_method = seg.get("method", "quantiles")
    given = [k for k in ("recency_days", "frequency", "monetary") if k in seg]
    if given:
        for k in given:
            if list(seg[k]) != sorted(seg[k]):
                raise Where(file, text, ["segments", k]).error(
                    f"segments.{k} must be in ascending order.",
                    hint="For example: recency_days: [30, 90, 180, 365].",
                )
        ruleset.segment_cutoffs = (
            tuple(seg.get("recency_days", DEFAULT_RECENCY_DAYS)),
            tuple(seg.get("frequency", DEFAULT_FREQUENCY)),
            tuple(seg.get("monetary", DEFAULT_MONETARY)),
        )
    names: dict[str, int] = {}
    for i, raw in enumerate(data.get("rules") or []):
        where = Where(file, text, ["rules", i])
        if raw["name"] in names:
            raise where.child("name").error(
                f'two rules are named "{raw["name"]}".', hint="Give each rule its own name."
            )
        names[raw["name"]] = i
        ruleset.rules.append(_compile_rule(raw, i, where, base, ruleset))
    for rule in ruleset.rules:
        for cond in rule.when.walk():
            if isinstance(cond, SegmentCondition):
                cond.method = ruleset.segment_method
                cond.cutoffs = ruleset.segment_cutoffs
    return ruleset


def _compile_rule(raw: dict[str, Any], i: int, where: Where, base: Path, ruleset: RuleSet) -> Rule:
    if not any(k in raw for k in ACTIONS):
        raise where.error(
            f'rule "{raw["name"]}" does nothing.', hint=f"Give it an action: {', '.join(ACTIONS)}."
        )
    return Rule(
        name=raw["name"],
        index=i,
        when=compile_condition(raw["when"], where.child("when"), base),
        actions=read_actions(raw, where, ruleset.settings),
        line=line_of(where.text, ["rules", i]),
        priority=int(raw.get("priority", 0)),
        raw_when=raw["when"],
    )


def compile_condition(
    raw: dict[str, Any], where: Where, base: Path, *, item: bool = False
) -> Condition:
    """Turn one condition mapping into a :class:`Condition` (checks what the schema cannot)."""
    forms = [k for k in FORMS if k in raw]
    if len(forms) != 1:
        found = ", ".join(forms) or "none of them"
        raise where.error(
            f"a condition needs exactly one of {', '.join(FORMS)} (found {found}).",
            hint="Split it into several conditions under `all:` or `any:`.",
        )
    form = forms[0]
    allowed_beside = {
        "field": (*ALL_FIELD_OPS, "case_sensitive", "column"),
        "customer": (
            *NUMBER_OPS,
            "equals",
            "not_equals",
            "in",
            "not_in",
            "not_between",
            "within_days",
        ),
        "had_tag": ("within_days",),
    }.get(form, ())
    extra = [k for k in raw if k != form and k not in allowed_beside]
    if extra:
        raise where.child(extra[0]).error(
            f'"{extra[0]}" cannot stand beside "{form}" in one condition.',
            hint="Put each condition in its own mapping under `all:` or `any:`.",
        )
    if form in ("all", "any"):
        parts = [
            compile_condition(c, where.child(form, i), base, item=item)
            for i, c in enumerate(raw[form])
        ]
        return AllOf(parts, where) if form == "all" else AnyOf(parts, where)
    if form == "not":
        return Not(compile_condition(raw["not"], where.child("not"), base, item=item), where)
    if item and form != "field":
        raise where.error(
            f"inside a line-item condition only field conditions on "
            f"{', '.join(ITEM_FIELDS)} can be used (found {form})."
        )
    if form in ("any_item", "all_items", "no_item"):
        if item:
            raise where.error("line-item conditions cannot be nested.")
        return ItemCondition(
            form, compile_condition(raw[form], where.child(form), base, item=True), where
        )
    if form == "segment":
        given = raw["segment"] if isinstance(raw["segment"], list) else [raw["segment"]]
        slugs = []
        for j, name in enumerate(given):
            slug = group_slug(str(name))
            if slug is None:
                at = where.child("segment", j) if isinstance(raw["segment"], list) else where
                raise at.error(
                    f'"{name}" is not an RFM group.', hint=f"Use one of: {', '.join(GROUP_NAMES)}."
                )
            slugs.append(slug)
        return SegmentCondition(tuple(slugs), where)
    if form == "has_tag":
        return TagCondition(raw["has_tag"], None, where)
    if form == "had_tag":
        if "within_days" not in raw:
            raise where.error(
                "had_tag needs within_days.",
                hint="For example: {had_tag: FRAUD, within_days: 365}.",
            )
        return TagCondition(raw["had_tag"], int(raw["within_days"]), where)
    if form == "customer":
        ops = {k: raw[k] for k in raw if k not in ("customer", "within_days")}
        if raw["customer"] == "first_order":
            if ops:
                raise where.error(
                    "first_order takes no comparison.", hint="Write {customer: first_order}."
                )
        elif not ops:
            raise where.error(
                f"a customer condition compares a number: use {', '.join(NUMBER_OPS)}.",
                hint="For example: {customer: spend, over: 1000, within_days: 365}.",
            )
        _check_bounds(raw, where)
        return CustomerCondition(raw["customer"], ops, raw.get("within_days"), where)
    # a field condition
    if item and raw["field"] not in ITEM_FIELDS:
        raise where.child("field").error(
            f'a line item has no field "{raw["field"]}".',
            hint=f"Item fields: {', '.join(ITEM_FIELDS)}.",
        )
    ops = {k: raw[k] for k in ALL_FIELD_OPS if k in raw}
    if not ops:
        raise where.error(
            f'the condition on "{raw["field"]}" has no comparison.',
            hint=f"Add one of: {', '.join(ALL_FIELD_OPS)}.",
        )
    _check_bounds(raw, where)
    paths: dict[str, Path] = {op: base / ops[op] for op in ("in_file", "not_in_file") if op in ops}
    column = raw.get("column")
    if column is not None and not paths:
        raise where.child("column").error(
            "column names the column of an in_file or not_in_file list file; this "
            "condition reads none.",
            hint="Add in_file (a CSV with a header row), or leave column out.",
        )
    # A list of emails is a list of addresses however they are written (see
    # ordertags.base.listfiles); other lists keep each line whole.
    addresses = raw["field"] == "email" and not item
    read = {
        op: read_list_file(path, where.child(op), addresses=addresses, column=column)
        for op, path in paths.items()
    }
    lists: dict[str, list[str]] = {op: got.values for op, got in read.items()}
    for op in ("matches", "not_matches"):
        if op in ops:
            _check_regex(ops[op], where.child(op))
    cond = FieldCondition(
        raw["field"],
        ops,
        bool(raw.get("case_sensitive", False)),
        where,
        lists,
        item=item,
        list_paths=paths,
        column=column,
        list_unread={op: got.unread for op, got in read.items()},
    )
    kind = cond.kind()
    if kind == "text":
        bad = [op for op in ops if NEGATED.get(op, op) in (*NUMBER_OPS, "before", "after")]
    elif kind == "number":
        bad = [
            op
            for op in ops
            if NEGATED.get(op, op) in ("contains", "starts_with", "ends_with", "matches", "in_file")
        ]
    else:
        bad = [
            op
            for op in ops
            if NEGATED.get(op, op)
            in ("contains", "starts_with", "ends_with", "matches", "in_file", *NUMBER_OPS[:4])
        ]
        for op in ("before", "after"):
            if op in ops:
                parse_when(ops[op], where.child(op))
        for op in ("between", "not_between"):
            if op in ops:
                for i in (0, 1):
                    parse_when(ops[op][i], where.child(op, i))
    if bad:
        raise where.child(bad[0]).error(
            f'"{bad[0]}" does not apply to a {kind} comparison.',
            hint="Compare numbers with over/under/between, dates with before/after/"
            "between/within_days, text with equals/in/contains/starts_with/ends_with/"
            "matches.",
        )
    return cond


def _check_bounds(raw: dict[str, Any], where: Where) -> None:
    for op in ("between", "not_between"):
        if op in raw and all(_is_number(b) for b in raw[op]) and raw[op][0] > raw[op][1]:
            raise where.child(op).error(
                f"{op} {raw[op]}: the low bound is above the high one.", hint="Write [low, high]."
            )


#: What RE2 (the engine's regular expressions) does not have: lookarounds,
#: backreferences, atomic groups, possessive repeats and conditionals.
_NOT_RE2 = re.compile(
    r"\(\?(?:=|!|<=|<!|>|P=|\()"  # (?= (?! (?<= (?<! (?> (?P= (?(
    r"|\\[1-9]"  # \1 .. \9
    r"|(?<!\\)[*+?}]\+"  # a*+ a++ a?+ a{2}+
)


def _check_regex(pattern: str, where: Where) -> None:
    """Refuse what RE2 does not have when the rule file is read (a clearer message);
    what RE2 itself will not compile (``(``, ``a{1001}``) is refused by
    :func:`ordertags.engine.conditions.check_patterns`, for ``apply`` and ``lint`` alike."""
    hint = (
        "Patterns run in RE2, which has no backreferences or lookarounds (that is what "
        "keeps them fast); rewrite it without them."
    )
    found = _NOT_RE2.search(pattern)
    if found:
        raise where.error(
            f"the regular expression {pattern!r} cannot be used: "
            f"{found.group(0)!r} is not supported.",
            hint=hint,
        )


#: The largest list file ``in_file`` reads (a million email addresses take about 30 MB).
MAX_LIST_BYTES = 64 << 20


def read_list_file(
    path: Path, where: Where, *, addresses: bool = False, column: str | None = None
) -> ValueList:
    """The values of a list file (:func:`ordertags.base.listfiles.read_value_list`): one
    a line (blank lines and lines starting with # skipped), or the ``column`` of a table;
    with ``addresses``, the email addresses read out of each line (or of the table's
    email column, found by its usual names where no ``column`` is named).

    Only a regular file of at most :data:`MAX_LIST_BYTES` is read: not a device
    (``/dev/zero`` never ends), a pipe (which would wait forever) or a folder. A path is
    relative to the rule file (the caller joins it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise where.error(
            f"the list file {path} does not exist.", hint="Paths are relative to the rule file."
        ) from None
    except OSError as exc:
        raise where.error(f"cannot read the list file {path}: {exc.strerror}.") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # checked before a file object is made of it
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise where.error(
            f"the list file {path} is {kind}.",
            hint="Give a text file with one value a line.",
        )
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > MAX_LIST_BYTES:
            raise where.error(
                f"the list file {path} is larger than {MAX_LIST_BYTES >> 20} MB.",
                hint="Split it, or check that it is the right file.",
            )
        try:
            data = fh.read(MAX_LIST_BYTES + 1)
        except OSError as exc:
            raise where.error(f"cannot read the list file {path}: {exc.strerror}.") from None
    if len(data) > MAX_LIST_BYTES:
        raise where.error(f"the list file {path} is larger than {MAX_LIST_BYTES >> 20} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise where.error(
            f"the list file {path} is not UTF-8 text.", hint="Save it as UTF-8, one value a line."
        ) from None
    if "\0" in text:
        raise where.error(
            f"the list file {path} holds NUL bytes: it is not a text list.",
            hint="Give a text file with one value a line.",
        )
    try:
        return _value_list(text, addresses, column)
    except ColumnError as exc:
        beside = Where(where.file, where.text, [*where.path[:-1], "column"])  # in_file's
        raise beside.error(f"the list file {path} {exc.message}", hint=exc.hint) from None


@functools.lru_cache(maxsize=16)
def _value_list(text: str, addresses: bool, column: str | None) -> ValueList:
    """:func:`read_value_list`, once per text: generated rule sets name one list file in
    dozens of rules (each read took 30 ms for 4,000 addresses). Callers only read it."""
    return read_value_list(text, addresses=addresses, column=column)


def redacted(value: str) -> str:
    """A value from a file the user may not mean to show (a list file pointed at the
    wrong file), for a message: its first two characters and its length."""
    head = value[:2] if len(value) > 4 else ""
    return f'"{head}…" ({len(value)} characters)'
