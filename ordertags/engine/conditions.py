"""Evaluating the conditions of a rule file (:mod:`ordertags.rules`) on a frame.

Each condition gives one boolean per row, computed as column operations (pyarrow
compute, numpy): a list of 100,000 emails is one hash-set lookup, a regular expression
runs in RE2 (linear time, no catastrophic backtracking). The rule file's model knows
nothing of arrays; :func:`evaluate`, :func:`explain` and :func:`value_at` dispatch on
the condition's class.

Blank values: a blank fails every positive comparison (``equals``, ``over``, ``before``
...) and so passes every negated one (``not_equals``, ``not_between`` ...), exactly as
wrapping the positive one in ``not:`` would. ``blank: true`` tests for blanks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.customers.grouping import Customers, customer_keys, email_domains
from ordertags.customers.rfm import Cutoffs
from ordertags.customers.rfm import score as rfm_score
from ordertags.engine.arrays import BoolArray, FloatArray, to_bool
from ordertags.engine.frame import VIRTUAL_FIELDS, Frame
from ordertags.engine.items import Items, build_items
from ordertags.engine.resolution import Memory, measure_per_code
from ordertags.rules import (
    NEGATED,
    AllOf,
    AnyOf,
    Condition,
    CustomerCondition,
    FieldCondition,
    ItemCondition,
    Not,
    SegmentCondition,
    TagCondition,
    parse_when,
)


@dataclass
class Explained:
    """One line of ``ordertags explain``: a condition, the value it saw, its result."""

    depth: int
    text: str
    value: str
    result: bool


@dataclass
class Context:
    """What conditions look at: the frame, the run's customers (merged by ``memory``
    where the run has links or a history), the tags given so far in this run (for
    ``has_tag``) and, where a workspace keeps one, the tag history (for ``had_tag``).
    Results the same in several rules (a list file, a customer measure) are kept in
    ``cache`` for the run."""

    frame: Frame
    customers: Customers
    memory: Memory | None = None
    tag_masks: dict[str, BoolArray] = field(default_factory=dict)
    #: (tag, days) -> per row, did the row's customer carry the tag in those days.
    tag_history: Callable[[str, int], BoolArray] | None = None
    # How to work out a tag's rows when ``tag_masks`` lacks it (the engine keeps customer
    # tags per customer while rules run, and makes rows of them only when asked).
    resolve: Callable[[str], BoolArray | None] | None = None
    cache: dict[Hashable, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: Frame, memory: Memory | None = None) -> Context:
        """A context with no tags yet: for evaluating conditions outside a run."""
        return cls(frame, memory.customers if memory is not None else frame.customers, memory)

    def mask(self, tag: str) -> BoolArray | None:
        """The rows carrying ``tag`` at this point of the run (None: no row yet)."""
        if tag not in self.tag_masks and self.resolve is not None:
            found = self.resolve(tag)
            if found is not None:
                self.tag_masks[tag] = found
        return self.tag_masks.get(tag)

    def remembered(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()``, worked out once per run for ``key``."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def items(self) -> Items:
        """The run's line items, split once."""
        items: Items = self.remembered("items", lambda: build_items(self.frame))
        return items

    @property
    def domains(self) -> pa.Array:
        """The email domain of each customer key."""
        domains: pa.Array = self.remembered("domains", lambda: email_domains(self.customers.keys))
        return domains


# --- dispatch ---------------------------------------------------------------------------


def evaluate(cond: Condition, ctx: Context) -> BoolArray:
    """One bool per row of ``ctx.frame``: does ``cond`` hold there?"""
    return _EVALUATORS[type(cond)](cond, ctx)


def explain(cond: Condition, ctx: Context, row: int, depth: int = 0) -> list[Explained]:
    """The lines ``ordertags explain`` shows for ``cond`` on ``row``: the condition, the
    value it saw and its result, with the parts of ``all``/``any``/``not`` below it."""
    if isinstance(cond, AllOf):  # AnyOf too
        lines = [Explained(depth, cond.label, "", bool(evaluate(cond, ctx)[row]))]
        for part in cond.parts:
            lines += explain(part, ctx, row, depth + 1)
        return lines
    if isinstance(cond, Not):
        inner = explain(cond.part, ctx, row, depth + 1)
        return [Explained(depth, "not", "", not inner[0].result), *inner]
    result = bool(evaluate(cond, ctx)[row])
    return [Explained(depth, cond.describe(), value_at(cond, ctx, row), result)]


def value_at(cond: Condition, ctx: Context, row: int) -> str:
    """The value ``cond`` compared on ``row``, as ``explain`` shows it."""
    if isinstance(cond, FieldCondition):
        return _field_value_at(cond, ctx, row)
    if isinstance(cond, CustomerCondition):
        code = ctx.customers.codes[row]
        if code < 0:
            return "no customer (blank email)"
        v = measure_values(cond, ctx)[int(code)]
        return "none" if v != v else f"{v:g}"
    if isinstance(cond, SegmentCondition):
        code = ctx.customers.codes[row]
        if code < 0:
            return "no customer (blank email)"
        return segments_per_code(cond, ctx)[int(code)]
    return ""


# --- all, any, not ----------------------------------------------------------------------


def _all_of(cond: AllOf, ctx: Context) -> BoolArray:
    every = not isinstance(cond, AnyOf)
    out = np.full(ctx.frame.n, every, dtype=bool)
    for part in cond.parts:
        hit = evaluate(part, ctx)
        if every:
            out &= hit
        else:
            out |= hit
    return out


def _not(cond: Not, ctx: Context) -> BoolArray:
    result: BoolArray = np.logical_not(evaluate(cond.part, ctx))
    return result


# --- comparisons ------------------------------------------------------------------------


def _compare(values: Any, op: str, bound: Any) -> BoolArray:
    """NaN/NaT-safe comparison: a blank value matches no bound."""
    with np.errstate(invalid="ignore"):
        if op in ("over", "after"):
            result: BoolArray = values > bound
        elif op in ("under", "before"):
            result = values < bound
        elif op == "at_least":
            result = values >= bound
        elif op == "at_most":
            result = values <= bound
        elif op == "equals":
            result = values == bound
        else:  # between, inclusive
            result = (values >= bound[0]) & (values <= bound[1])
    return np.asarray(result, dtype=bool)


@functools.lru_cache(maxsize=512)
def _value_set(mode: str, values: tuple[str, ...]) -> pa.Array:
    """The Arrow set a list compares against, made once per list (a list file used by
    forty rules is normalised once)."""
    arr = pa.array(values, type=pa.string())
    if mode == "email":
        arr = customer_keys(arr)
    elif mode == "domain":
        arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    elif mode == "fold":
        arr = pc.utf8_lower(arr)
    result: pa.Array = pc.drop_null(arr)
    return result


# --- field conditions -------------------------------------------------------------------


def _resolve(cond: FieldCondition, frame: Frame) -> tuple[str | None, str | None]:
    """(field, column): what ``cond.field`` names in this run; raises where nothing."""
    if cond.field in VIRTUAL_FIELDS:
        if cond.field in ("email", "email_domain"):
            frame.require_field("email")
        elif not frame.has_field(cond.field):
            frame.require_field(cond.field)
        return cond.field, None
    if frame.has_column(cond.field):
        return None, cond.field
    columns = ", ".join(frame.columns()[:15])
    raise cond.where.child("field").error(
        f'unknown field "{cond.field}": no export in this run has that column.',
        hint=f"Use one of {', '.join(VIRTUAL_FIELDS)} or a column of the export ({columns}).",
    )


def _numbers(cond: FieldCondition, ctx: Context) -> FloatArray:
    if cond.item:
        return ctx.items.numbers(cond.field)
    fld, col = _resolve(cond, ctx.frame)
    return ctx.frame.numbers(field=fld, column=col)


def _dates(cond: FieldCondition, ctx: Context) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    fld, col = _resolve(cond, ctx.frame)
    return ctx.frame.dates(field=fld, column=col)


def _text(cond: FieldCondition, ctx: Context, *, folded: bool) -> Any:
    if cond.item:
        text = ctx.items.text(cond.field)
        return pc.utf8_lower(text) if folded else text
    frame = ctx.frame
    fld, col = _resolve(cond, frame)
    if fld == "email":
        return ctx.customers.keys
    if fld == "email_domain":
        return ctx.domains
    return frame.lower(field=fld, column=col) if folded else frame.text(field=fld, column=col)


def _per_customer(cond: FieldCondition) -> bool:
    return not cond.item and cond.field in ("email", "email_domain")


def _field_value_at(cond: FieldCondition, ctx: Context, row: int) -> str:
    if cond.item:
        return ""
    kind = cond.kind()
    if kind == "number":
        v = _numbers(cond, ctx)[row]
        return "blank" if v != v else f"{v:g}"
    if kind == "date":
        d = _dates(cond, ctx)[row]
        return "blank" if str(d) == "NaT" else str(d).replace("T", " ")
    if _per_customer(cond):
        code = ctx.customers.codes[row]
        if code < 0:
            return "blank"
        arr = _text(cond, ctx, folded=False)
        return repr(arr[int(code)].as_py())
    value = _text(cond, ctx, folded=False)[row].as_py()
    return repr(value) if value else "blank"


def _field(cond: FieldCondition, ctx: Context) -> BoolArray:
    frame = ctx.frame
    if not cond.item:
        _resolve(cond, frame)
    per_customer = _per_customer(cond)
    size = (
        ctx.customers.count if per_customer else len(ctx.items.order_row) if cond.item else frame.n
    )
    out = np.ones(size, dtype=bool)
    kind = cond.kind()
    for op, value in cond.ops.items():
        negate = op.startswith("not_")
        base = NEGATED.get(op, op)
        if base == "blank":
            hit = _blank(cond, ctx)
            out &= hit if value else ~hit
            continue
        if kind == "number":
            hit = _number_op(cond, ctx, base, value)
        elif kind == "date":
            hit = _date_op(cond, ctx, base, value)
        else:
            hit = _text_op(cond, ctx, base, value, op)
        out &= ~hit if negate else hit
    if per_customer:
        customers = ctx.customers
        result: BoolArray = customers.broadcast(out, fill=False)
        # Rows with no email: a blank value, so negated comparisons hold there.
        if any(op.startswith("not_") for op in cond.ops) or cond.ops.get("blank") is True:
            result |= ~customers.has_customer & _blank_row_result(cond, frame.n)
        return result
    return out


def _blank_row_result(cond: FieldCondition, n: int) -> BoolArray:
    """What the condition gives for a row whose email is blank."""
    ok = True
    for op, value in cond.ops.items():
        if op == "blank":
            ok = ok and bool(value)
        else:
            ok = ok and op.startswith("not_")
    return np.full(n, ok, dtype=bool)


def _blank(cond: FieldCondition, ctx: Context) -> BoolArray:
    if _per_customer(cond):
        return np.zeros(ctx.customers.count, dtype=bool)  # keys are never blank
    if cond.item:
        text = _text(cond, ctx, folded=False)
        return to_bool(pc.equal(pc.utf8_trim_whitespace(text), ""))
    frame = ctx.frame
    fld, col = _resolve(cond, frame)
    _, values = frame.encoded(field=fld, column=col)
    per_value = to_bool(pc.equal(pc.utf8_trim_whitespace(values), ""))
    return frame.rows_with_values(per_value, field=fld, column=col)


def _number_op(cond: FieldCondition, ctx: Context, op: str, value: Any) -> BoolArray:
    nums = _numbers(cond, ctx)
    if op == "in":
        return np.isin(nums, [float(v) for v in value])
    if op == "equals":
        return _compare(nums, "equals", float(value))
    return _compare(nums, op, value)


def _date_op(cond: FieldCondition, ctx: Context, op: str, value: Any) -> BoolArray:
    frame = ctx.frame
    stamps = _dates(cond, ctx)
    day = np.timedelta64(1, "D")

    def bound(v: Any, *, end: bool = False) -> Any:
        when = parse_when(v, cond.where.child(op))
        stamp = np.datetime64(when, "s")
        date_only = len(str(v).strip()) <= 10
        return stamp + day if end and date_only else stamp

    if op == "within_days" and not cond.item and cond.field == "date":
        return frame.within_days(int(value))  # the order date's window, kept per run
    if op == "within_days":
        end = np.datetime64(frame.as_of.isoformat(), "s")
        return _compare(stamps, "at_least", end - np.timedelta64(int(value), "D")) & _compare(
            stamps, "under", end
        )
    if op == "before":
        return _compare(stamps, "under", bound(value))
    if op == "after":
        return _compare(stamps, "at_least", bound(value, end=True))
    if op == "between":
        return _compare(stamps, "at_least", bound(value[0])) & _compare(
            stamps, "under", bound(value[1], end=True)
        )
    if op in ("equals", "in"):
        values = value if op == "in" else [value]
        days = stamps.astype("datetime64[D]")
        return np.isin(days, [np.datetime64(parse_when(v, cond.where).date(), "D") for v in values])
    raise cond.where.child(op).error(
        f'"{op}" does not apply to dates.', hint="Use before, after, between or within_days."
    )


def _text_op(cond: FieldCondition, ctx: Context, op: str, value: Any, raw_op: str) -> BoolArray:
    fold = not cond.case_sensitive  # (customer keys are lower-case already)
    if cond.item:
        text = _text(cond, ctx, folded=fold and op != "matches")
        return to_bool(_match(cond, text, op, value, raw_op))
    # The same comparison in several rules (a list file, "Source equals AMAZON") is
    # worked out once per run: its result per customer or per distinct value is kept.
    what = (
        (cond.list_paths[raw_op], cond.column)
        if op == "in_file"
        else tuple(value)
        if isinstance(value, list)
        else value
    )
    memo = ("cmp", f"{cond.field}\x00{op}\x00{what}\x00{fold}")
    if _per_customer(cond):
        known: BoolArray = ctx.remembered(
            memo, lambda: _per_person(cond, ctx, fold and op != "matches", op, value, raw_op)
        )
        return known
    # Once per distinct value, then broadcast to the rows by their value's index.
    frame = ctx.frame
    fld, col = _resolve(cond, frame)

    def per_value() -> BoolArray:
        _, values = frame.encoded(field=fld, column=col, folded=fold and op != "matches")
        return to_bool(_match(cond, values, op, value, raw_op))

    return frame.rows_with_values(ctx.remembered(memo, per_value), field=fld, column=col)


def _per_person(
    cond: FieldCondition, ctx: Context, folded: bool, op: str, value: Any, raw_op: str
) -> BoolArray:
    """A comparison on the email (or its domain), per customer code: it holds for every
    code of a customer when it holds for any of their emails or buyer ids. A customer is
    a set of identities: an email list names one spelling, while their eBay or Linnworks
    orders carry another identity of theirs."""
    per_code = to_bool(_match(cond, _text(cond, ctx, folded=folded), op, value, raw_op))
    customers = ctx.customers
    if customers.groups is None or customers.alias_keys is None:
        return per_code
    aliases = customers.alias_keys
    # Emails and buyer ids only: not the phones or addresses that also join people.
    named = to_bool(pc.invert(pc.match_substring_regex(aliases, r"^(\+|addr:)")))
    text = email_domains(aliases) if cond.field == "email_domain" else aliases
    per_alias = to_bool(_match(cond, text, op, value, raw_op)) & named
    return customers.spread_any(per_code, per_alias)


def _regex(cond: FieldCondition, text: Any, value: Any, raw_op: str) -> Any:
    """``matches`` in RE2; a pattern RE2 will not compile is an error at its key (the
    one check: :func:`check_patterns` runs it for ``lint`` and before a run)."""
    try:
        return pc.match_substring_regex(text, value, ignore_case=not cond.case_sensitive)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).split(":", 1)[-1].strip()
        raise cond.where.child(raw_op).error(
            f"the regular expression {value!r} cannot be used: {reason}.",
            hint="Patterns run in RE2, which has no backreferences or lookarounds "
            "(that is what keeps them fast); rewrite it without them.",
        ) from None


def check_patterns(conditions: Any) -> None:
    """Compile every ``matches``/``not_matches`` pattern of ``conditions`` (a rule's
    ``when.walk()``) as a run would, raising its error: what ``apply`` refuses, ``lint``
    refuses."""
    empty = pa.array([""], pa.string())
    for cond in conditions:
        if isinstance(cond, FieldCondition):
            for op in ("matches", "not_matches"):
                if op in cond.ops:
                    _regex(cond, empty, cond.ops[op], op)


def _match(cond: FieldCondition, text: Any, op: str, value: Any, raw_op: str) -> Any:
    if op == "matches":
        return _regex(cond, text, value, raw_op)
    if op in ("equals", "in", "in_file"):
        if op == "equals":
            values = [str(value)]
        elif op == "in_file":
            values = cond.list_values[raw_op]
        else:
            values = [str(v) for v in value]
        return pc.is_in(text, value_set=_value_set(_set_mode(cond), tuple(values)))
    needle = value.lower() if not cond.case_sensitive else value
    if op == "contains":
        return pc.match_substring(text, needle)
    if op == "starts_with":
        return pc.starts_with(text, needle)
    return pc.ends_with(text, needle)


def _set_mode(cond: FieldCondition) -> str:
    if not cond.item and cond.field == "email":
        return "email"
    if not cond.item and cond.field == "email_domain":
        return "domain"
    return "exact" if cond.case_sensitive else "fold"


# --- customer conditions ----------------------------------------------------------------


def measure_values(cond: CustomerCondition, ctx: Context) -> FloatArray:
    """Per customer code: the measured value (float64; NaN where it has no value).
    Computed once per run for each measure and window, however many rules use it."""
    values: FloatArray = ctx.remembered(
        ("measure", cond.measure, cond.within_days),
        lambda: measure_per_code(
            ctx.frame, ctx.customers, ctx.memory, cond.measure, cond.within_days
        ),
    )
    return values


def _customer(cond: CustomerCondition, ctx: Context) -> BoolArray:
    values = measure_values(cond, ctx)
    if cond.measure == "first_order":
        ok = values == 1
    else:
        ok = np.ones(ctx.customers.count, dtype=bool)
        for op, bound in cond.ops.items():
            negate = op.startswith("not_")
            base = NEGATED.get(op, op)
            if base in ("equals", "in"):
                hit = np.isin(
                    values, [float(b) for b in (bound if isinstance(bound, list) else [bound])]
                )
            else:
                hit = _compare(values, base, bound)
            ok &= ~hit if negate else hit
    result: BoolArray = ctx.customers.broadcast(ok, fill=False)
    return result


# --- RFM segments ----------------------------------------------------------------------


def segments_per_code(cond: SegmentCondition, ctx: Context) -> list[str]:
    """Per customer code: the RFM group slug, from the customer measures (the run's
    orders and, in a workspace, the history's), one score per person. Worked out once
    per run for each scoring method."""

    def make() -> list[str]:
        measures = {
            m: measure_values(CustomerCondition(m, {}, None, cond.where), ctx)
            for m in ("days_since_last", "orders", "spend")
        }
        customers = ctx.customers
        if customers.groups is not None:  # one value per person, not per email of theirs
            _, pick, back = np.unique(customers.groups, return_index=True, return_inverse=True)
        else:
            pick = back = np.arange(customers.count)
        cuts = (
            Cutoffs(
                (
                    int(cond.cutoffs[0][0]),
                    int(cond.cutoffs[0][1]),
                    int(cond.cutoffs[0][2]),
                    int(cond.cutoffs[0][3]),
                ),
                tuple(float(x) for x in cond.cutoffs[1]),  # type: ignore[arg-type]
                tuple(float(x) for x in cond.cutoffs[2]),  # type: ignore[arg-type]
            )
            if cond.cutoffs
            else None
        )
        scores = rfm_score(
            measures["days_since_last"][pick],
            np.nan_to_num(measures["orders"][pick]),
            np.nan_to_num(measures["spend"][pick]),
            cutoffs=cuts,
            method=cond.method,
        )
        return [scores.groups[int(i)] for i in np.asarray(back).ravel()]

    result: list[str] = ctx.remembered(("segments", cond.method, cond.cutoffs), make)
    return result


def _segment(cond: SegmentCondition, ctx: Context) -> BoolArray:
    wanted = set(cond.groups)
    ok = np.array([g in wanted for g in segments_per_code(cond, ctx)], dtype=bool)
    result: BoolArray = ctx.customers.broadcast(ok, fill=False)
    return result


# --- tags and line items ----------------------------------------------------------------


def _tag(cond: TagCondition, ctx: Context) -> BoolArray:
    if cond.within_days is None:
        mask = ctx.mask(cond.tag)
        return mask.copy() if mask is not None else np.zeros(ctx.frame.n, dtype=bool)
    if ctx.tag_history is None:
        raise cond.where.error(
            "had_tag needs the tag history of a workspace, and this run has none.",
            hint="Run in a workspace (`ordertags init`), or use has_tag.",
        )
    now = ctx.mask(cond.tag)
    past: BoolArray = ctx.tag_history(cond.tag, cond.within_days)
    return past | now if now is not None else past


def _item(cond: ItemCondition, ctx: Context) -> BoolArray:
    frame = ctx.frame
    items = ctx.items
    hits = np.asarray(evaluate(cond.part, ctx), dtype=bool)
    first = items.order_row
    any_hit = np.zeros(frame.n, dtype=bool)
    any_hit[first[hits]] = True
    if cond.quantifier == "all_items":
        has_item = np.zeros(frame.n, dtype=bool)
        has_item[first] = True
        any_miss = np.zeros(frame.n, dtype=bool)
        any_miss[first[~hits]] = True
        per_first = has_item & ~any_miss
    elif cond.quantifier == "any_item":
        per_first = any_hit
    else:
        per_first = ~any_hit
    # Broadcast from each order's first row to all its rows.
    starts = np.flatnonzero(frame.order_starts)
    codes = frame.order_codes
    per_order = np.zeros(int(codes.max()) + 1 if frame.n else 0, dtype=np.bool_)
    per_order[codes[starts]] = per_first[starts]
    result: BoolArray = per_order[codes]
    return result


_EVALUATORS: dict[type[Condition], Callable[[Any, Context], BoolArray]] = {
    AllOf: _all_of,
    AnyOf: _all_of,
    Not: _not,
    FieldCondition: _field,
    CustomerCondition: _customer,
    SegmentCondition: _segment,
    TagCondition: _tag,
    ItemCondition: _item,
}

__all__ = ["Context", "Explained", "evaluate", "explain", "measure_values", "value_at"]
