"""Running a rule set over a frame: tags, untags, fields set, notes, holds and stops.

Rules run in file order. Each rule's condition is one boolean column; its actions are
column updates. ``stop`` takes the matching orders out of every later rule. When two
rules set one field of one order to different values, the rule with the higher
``priority`` wins (on a tie, the later rule, as a later assignment would), and the
conflict is counted and reported, never silent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.actions import ACTIONS, HoldAction, NoteAction
from ordertags.base.sidework import SideWork, side_work
from ordertags.customers.grouping import Customers
from ordertags.engine.arrays import BoolArray, IntArray
from ordertags.engine.conditions import Context, evaluate
from ordertags.engine.frame import Frame
from ordertags.engine.resolution import Memory
from ordertags.rules import Rule, RuleSet
from ordertags.tagbook import TagBook

#: Called for each rule before its actions, with the context it saw and the rows it
#: matched (``ordertags explain`` uses it).
RuleHook = Callable[[Rule, Context, BoolArray], None]


@dataclass
class FieldSet:
    """The values rules set in one column: an index into ``values`` per row (-1: not
    set), with the priority and rule that set it."""

    values: list[str]
    index: IntArray
    priority: IntArray
    rule: IntArray
    loser: IntArray  # per row: the last rule that lost a clash over this field, or -1


@dataclass
class Conflict:
    """Two rules that set one field of the same orders to different values."""

    column: str
    loser: str
    winner: str
    orders: int


@dataclass
class Outcome:
    """What the rules did, row by row."""

    manual: dict[str, BoolArray]
    derived: dict[str, BoolArray]
    acted: dict[int, int] = field(default_factory=dict)  # rule index -> orders it acted on
    stopped_by: IntArray | None = None  # rule index that stopped each row, -1 if none
    fields: dict[str, FieldSet] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    #: Per action key (:data:`ordertags.actions.ACTIONS`), what its actions left: the
    #: kind decides what (``note``: per column, (text, rows); ``hold``: (reason, rows)).
    kept: dict[str, Any] = field(default_factory=dict)

    @property
    def notes(self) -> dict[str, list[tuple[str, BoolArray]]]:
        """Per notes column, each note rules add and the rows it is added to."""
        notes: dict[str, list[tuple[str, BoolArray]]] = self.kept.get(NoteAction.key, {})
        return notes

    @property
    def holds(self) -> list[tuple[str, BoolArray]]:
        """Each hold reason and the rows it holds."""
        holds: list[tuple[str, BoolArray]] = self.kept.get(HoldAction.key, [])
        return holds

    @property
    def masks(self) -> dict[str, BoolArray]:
        """Final tags per row: manual or derived."""
        out = {t: m.copy() for t, m in self.manual.items()}
        for t, m in self.derived.items():
            out[t] = out[t] | m if t in out else m.copy()
        return out


def _spread(customers: Customers, rows: BoolArray) -> BoolArray:
    """From the matching rows to every row of the same customers."""
    result: BoolArray = customers.broadcast(
        customers.reduce_any(rows & customers.has_customer), fill=False
    )
    return result


class ActionRun:
    """The run's state as rule actions change it (the :class:`ordertags.actions.Run`
    each action kind works on): customer tags kept per customer (a bool per customer
    code), order tags per row, the stopped rows and the fields set."""

    def __init__(self, out: Outcome, customers: Customers, tagbook: TagBook, n: int) -> None:
        self.out, self.customers, self.tagbook, self.n = out, customers, tagbook, n
        self.kept = out.kept
        #: The tag rows conditions asked for (the context's): a tag that changes is
        #: forgotten there, made again when next asked for.
        self.cached: dict[str, BoolArray] = {}
        self.per_customer: dict[str, BoolArray] = {}
        self.per_row: dict[str, BoolArray] = {}
        self.stopped = np.zeros(n, dtype=bool)
        self.matched: BoolArray = self.stopped
        self._who: BoolArray | None = None

    def start(self, matched: BoolArray) -> None:
        """The next rule matched these rows."""
        self.matched, self._who = matched, None

    def who(self) -> BoolArray:
        """The matching customers (worked out once per rule)."""
        if self._who is None:
            self._who = self.customers.reduce_any(self.matched)
        return self._who

    def rows_of(self, tag: str) -> BoolArray | None:
        """The rows carrying ``tag`` at this point of the run (manual or derived)."""
        parts = [m for m in (self.out.manual.get(tag), self.per_row.get(tag)) if m is not None]
        if tag in self.per_customer:
            parts.append(self.customers.broadcast(self.per_customer[tag], fill=False))
        return np.logical_or.reduce(parts) if parts else None

    def add_tag(self, name: str, scope: str | None, matched: BoolArray) -> None:
        if (scope or self.tagbook.tags[name].scope) == "customer":
            who = self.who() if matched is self.matched else self.customers.reduce_any(matched)
            prev = self.per_customer.get(name)
            self.per_customer[name] = who.copy() if prev is None else prev | who
        else:
            prev = self.per_row.get(name)
            self.per_row[name] = matched.copy() if prev is None else prev | matched
        self.cached.pop(name, None)

    def remove_tag(self, name: str, matched: BoolArray) -> None:
        customer = self.tagbook.tags[name].scope == "customer"
        if customer and name in self.per_customer:
            who = self.who() if matched is self.matched else self.customers.reduce_any(matched)
            self.per_customer[name] &= ~who
        if name in self.per_row:
            self.per_row[name] &= ~(_spread(self.customers, matched) if customer else matched)
        self.cached.pop(name, None)

    def assign(self, column: str, value: str, priority: int, rule: int, matched: BoolArray) -> None:
        _set(self.out, column, value, priority, rule, matched, self.n)

    def stop(self, rule: int, matched: BoolArray) -> None:
        assert self.out.stopped_by is not None
        self.out.stopped_by[matched] = rule
        self.stopped |= matched

    def derived(self) -> dict[str, BoolArray]:
        """The derived tags per row, at the end of the run."""
        out = {}
        for tag in {*self.per_customer, *self.per_row}:
            rows = [m for m in (self.per_row.get(tag),) if m is not None]
            if tag in self.per_customer:
                rows.append(self.customers.broadcast(self.per_customer[tag], fill=False))
            out[tag] = np.logical_or.reduce(rows)
        return out


def run_rules(
    frame: Frame,
    tagbook: TagBook,
    rules: RuleSet | None,
    manual: dict[str, BoolArray],
    *,
    customers: Customers | None = None,
    memory: Memory | None = None,
    tag_history: Callable[[str, int], BoolArray] | None = None,
    on_rule: RuleHook | None = None,
    side: SideWork | None = None,
) -> Outcome:
    """Apply ``rules`` (if any) on top of the ``manual`` tags. ``customers``: the run's
    customers (default: the frame's grouping by customer key); ``memory``: its customer
    memory, for customer measures over merged customers and the history.
    ``on_rule(rule, ctx, matched)`` is called for each rule before its actions, with the
    context it saw (``ordertags explain`` uses it). Each action applies itself
    (:meth:`ordertags.actions.Action.apply`) to the run's state (:class:`ActionRun`).
    ``side``: the run's pool, where the next rules' conditions are evaluated ahead."""
    out = Outcome(manual=manual, derived={})
    n = frame.n
    out.stopped_by = np.full(n, -1, dtype=np.int64)
    if rules is None:
        return out
    if customers is None:
        customers = memory.customers if memory is not None else frame.customers
    # Rows are made of customer tags once at the end, or when a has_tag condition asks.
    run = ActionRun(out, customers, tagbook, n)
    ctx = Context(frame, customers, memory=memory, tag_history=tag_history, resolve=run.rows_of)
    run.cached = ctx.tag_masks
    with side_work(side, 1) as work:
        ahead = _Lookahead(ctx, rules.rules, work)
        try:
            _act(rules, ahead, run, ctx, on_rule)
        finally:
            ahead.close()
    out.derived = run.derived()
    _name_conflicts(out, rules)
    return out


def _act(
    rules: RuleSet, ahead: _Lookahead, run: ActionRun, ctx: Context, on_rule: RuleHook | None
) -> None:
    """Each rule in turn: its condition, then its actions on the rows it matches."""
    for rule in rules.rules:
        matched = ahead.evaluate(rule) & ~run.stopped
        run.out.acted[rule.index] = int(np.count_nonzero(matched))
        if on_rule is not None:
            on_rule(rule, ctx, matched)
        if not run.out.acted[rule.index]:
            continue
        run.start(matched)
        for action in rule.actions:
            action.apply(run, rule.index, rule.priority, matched)


class _Lookahead:
    """Evaluates the conditions of the next few rules on the run's pool while the
    current rule's actions run. A condition that reads the tags earlier rules gave, or
    the workspace's history (one SQLite connection, this thread's), is evaluated in turn
    here: each condition kind says what it reads (:attr:`ordertags.rules.Condition.reads`;
    a kind that says nothing reads both, so stays here). The kernels release the GIL, so
    two cores share the work."""

    WINDOW = 4

    def __init__(self, ctx: Context, rules: list[Rule], side: SideWork) -> None:
        self.ctx, self.rules = ctx, rules
        memory = ctx.memory
        history = memory is not None and memory.history is not None
        bound = {"tags", "history"} if history else {"tags"}
        self.free = [not any(c.reads & bound for c in r.when.walk()) for r in rules]
        self.pending: dict[int, Future[BoolArray]] = {}
        self.next = 0
        self.pool = side.lane() if len(rules) > 1 else None

    def evaluate(self, rule: Rule) -> BoolArray:
        i = rule.index
        self.next = max(self.next, i + 1)
        if self.pool is not None:
            while self.next < len(self.rules) and self.next <= i + self.WINDOW:
                j = self.next
                if self.free[j]:
                    self.pending[j] = self.pool.submit(evaluate, self.rules[j].when, self.ctx)
                self.next += 1
        future = self.pending.pop(i, None)
        if future is not None:
            result: BoolArray = future.result()
            return result
        return evaluate(rule.when, self.ctx)

    def close(self) -> None:
        """Wait for (or cancel) what was started ahead: nothing is left running."""
        for future in self.pending.values():
            future.cancel()
        for future in self.pending.values():
            if not future.cancelled():
                future.exception()
        self.pending.clear()


def _set(
    out: Outcome, column: str, value: str, priority: int, rule: int, matched: BoolArray, n: int
) -> None:
    fs = out.fields.get(column)
    if fs is None:
        fs = FieldSet(
            [],
            np.full(n, -1, np.int64),
            np.zeros(n, np.int64),
            np.full(n, -1, np.int64),
            np.full(n, -1, np.int64),
        )
        out.fields[column] = fs
    if value not in fs.values:
        fs.values.append(value)
    vi = fs.values.index(value)
    have = fs.index >= 0
    clash = matched & have & (fs.index != vi)
    win = matched & (~have | (priority >= fs.priority))
    if clash.any():
        fs.loser[clash & win] = fs.rule[clash & win]
        fs.loser[clash & ~win] = rule
        # Remember (earlier rule, this rule, winner) per clashing row, named afterwards.
        earlier = fs.rule[clash]
        wins_now = win[clash]
        for (prev, now_wins), count in Counter(
            zip(earlier.tolist(), wins_now.tolist(), strict=True)
        ).items():
            loser, winner = (prev, rule) if now_wins else (rule, prev)
            out.conflicts.append(Conflict(column, str(loser), str(winner), count))
    fs.index[win] = vi
    fs.priority[win] = priority
    fs.rule[win] = rule


def _name_conflicts(out: Outcome, rules: RuleSet) -> None:
    names = {r.index: r.name for r in rules.rules}
    merged: Counter[tuple[str, str, str]] = Counter()
    for c in out.conflicts:
        merged[(c.column, names[int(c.loser)], names[int(c.winner)])] += c.orders
    out.conflicts = [
        Conflict(col, loser, winner, count) for (col, loser, winner), count in merged.items()
    ]


# --- output columns ---------------------------------------------------------------------


def _combine(parts: list[tuple[str, BoolArray]], n: int, sep: str = "; ") -> pa.Array:
    """Per row: the texts whose masks hold, joined in order (few distinct combinations)."""
    if not parts:
        return pa.repeat(pa.scalar("", pa.string()), n)
    bits = np.zeros(n, dtype=np.int64)
    texts = [t for t, _ in parts]
    if len(parts) > 62:  # pragma: no cover - more note/hold rules than anyone writes
        rows = [sep.join(dict.fromkeys(t for t, m in parts if m[i])) for i in range(n)]
        return pa.array(rows, pa.string())
    for i, (_, mask) in enumerate(parts):
        bits |= mask.astype(np.int64) << i
    encoded = pc.dictionary_encode(pa.array(bits))
    combos = [
        sep.join(dict.fromkeys(texts[i] for i in range(len(texts)) if code >> i & 1))
        for code in encoded.dictionary.to_pylist()
    ]
    result: pa.Array = pc.take(pa.array(combos, pa.string()), encoded.indices)
    return result


def _original(frame: Frame, name: str) -> pa.Array:
    """Per row, the text the column an action names had before any rule touched it: in
    each export, the column :meth:`Frame.action_column` finds ("" where it adds one)."""
    pieces = []
    for ti, table in enumerate(frame.tables):
        i, _ = frame.action_column(ti, name)
        pieces.append(
            table.column(i).combine_chunks()
            if i is not None
            else pa.repeat(pa.scalar("", pa.string()), table.num_rows)
        )
    return pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())


class OutputColumns:
    """The column kernels actions write their columns with (the
    :class:`ordertags.actions.Columns` of a run)."""

    def __init__(self, out: Outcome, frame: Frame) -> None:
        self.out, self.frame = out, frame

    def original(self, column: str) -> pa.Array:
        return _original(self.frame, column)

    def assigned(self, column: str, original: pa.Array) -> pa.Array:
        fs = self.out.fields.get(column)
        if fs is None:
            return original
        idx = pa.array(fs.index, mask=fs.index < 0)
        chosen = pc.take(pa.array(fs.values, pa.string()), idx)
        result: pa.Array = pc.coalesce(chosen, original)
        return result

    def joined(self, parts: Sequence[tuple[str, BoolArray]]) -> pa.Array:
        return _combine(list(parts), self.frame.n)

    def appended(self, existing: pa.Array, parts: Sequence[tuple[str, BoolArray]]) -> pa.Array:
        kept_parts = []
        for text, mask in parts:
            # A note already in the text (applying to an annotated file) is not added
            # again; only the rows the note is for are looked at.
            rows = np.flatnonzero(mask)
            there = pc.match_substring(existing.take(pa.array(rows)), text)
            kept = mask.copy()
            kept[
                rows[
                    np.asarray(
                        pc.fill_null(there, False).to_numpy(zero_copy_only=False), dtype=bool
                    )
                ]
            ] = False
            kept_parts.append((text, kept))
        added = _combine(kept_parts, self.frame.n)
        both = pc.and_(pc.not_equal(pc.utf8_trim_whitespace(existing), ""), pc.not_equal(added, ""))
        joined = pc.binary_join_element_wise(existing, added, "; ")
        result: pa.Array = pc.if_else(
            both, joined, pc.if_else(pc.equal(added, ""), existing, added)
        )
        return result


def field_columns(out: Outcome, frame: Frame, rules: RuleSet | None) -> dict[str, pa.Array]:
    """The columns the actions write, full length, in frame order, by the name the rules
    give them (an order field or a column: each export writes its own column for it, see
    :meth:`Frame.action_column`): each action kind writes its own
    (:meth:`ordertags.actions.Action.columns`), in registry order: each set column (the
    original text where no rule set it), each notes column (existing text with the
    notes appended, unless already there), the hold column."""
    if rules is None:
        return {}
    ops = OutputColumns(out, frame)
    cols: dict[str, pa.Array] = {}
    for key, kind in ACTIONS.items():
        kind.columns(rules.actions_of(kind), out.kept.get(key), ops, rules.settings, cols)
    return cols
