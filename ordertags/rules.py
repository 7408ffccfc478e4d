"""Rules: conditions on orders, line items and customers, and the actions they take.

A rule file is YAML, checked against ``schemas/rules.schema.json``. Each condition is
compiled to an object whose ``evaluate(frame)`` returns one boolean per row, computed as
column operations (pyarrow compute, numpy): a list of 100,000 emails is one hash-set
lookup, a regular expression runs in RE2 (linear time, no catastrophic backtracking).

Blank values: a blank fails every positive comparison (``equals``, ``over``, ``before``
...) and so passes every negated one (``not_equals``, ``not_between`` ...), exactly as
wrapping the positive one in ``not:`` would. ``blank: true`` tests for blanks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordertags.base.yamlfiles import json_path, line_of, load_yaml, read_text, validate
from ordertags.errors import RulesError

if TYPE_CHECKING:
    import numpy as np

    from ordertags.engine.frame import Frame
    from ordertags.tags import TagBook

    BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

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


@dataclass
class Explained:
    """One line of ``ordertags explain``: a condition, the value it saw, its result."""

    depth: int
    text: str
    value: str
    result: bool


@dataclass
class Context:
    """What conditions may look at besides the frame: the tags given so far in this run
    (for ``has_tag``) and, where a workspace keeps one, the tag history."""

    tag_masks: dict[str, BoolArray] = field(default_factory=dict)
    tag_history: Any = None  # callable (tag, days) -> per-row bool array, or None
    frame: Any = None  # the frame being evaluated
    # How to work out a tag's rows when ``tag_masks`` lacks it (the engine keeps customer
    # tags per customer while rules run, and makes rows of them only when asked).
    resolve: Any = None

    def mask(self, tag: str) -> BoolArray | None:
        """The rows carrying ``tag`` at this point of the run (None: no row yet)."""
        if tag not in self.tag_masks and self.resolve is not None:
            found = self.resolve(tag)
            if found is not None:
                self.tag_masks[tag] = found
        return self.tag_masks.get(tag)


class Condition:
    """A compiled condition. ``evaluate`` gives one bool per row of the frame."""

    where: Where

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, frame: Frame, ctx: Context, row: int, depth: int = 0) -> list[Explained]:
        result = bool(self.evaluate(frame, ctx)[row])
        return [Explained(depth, self.describe(), self.value_at(frame, ctx, row), result)]

    def value_at(self, frame: Frame, ctx: Context, row: int) -> str:
        return ""

    def walk(self) -> list[Condition]:
        return [self]


@dataclass
class AllOf(Condition):
    """``all: [...]``: every part holds. (``AnyOf`` differs only in how parts combine.)"""

    parts: list[Condition]
    where: Where
    label = "all of"

    def _combine(self, acc: BoolArray, part: BoolArray) -> None:
        acc &= part

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        out = np.full(frame.n, self.label == "all of", dtype=bool)
        for part in self.parts:
            self._combine(out, part.evaluate(frame, ctx))
        return out

    def describe(self) -> str:
        return self.label

    def explain(self, frame: Frame, ctx: Context, row: int, depth: int = 0) -> list[Explained]:
        lines = [Explained(depth, self.label, "", bool(self.evaluate(frame, ctx)[row]))]
        for part in self.parts:
            lines += part.explain(frame, ctx, row, depth + 1)
        return lines

    def walk(self) -> list[Condition]:
        return [self, *(c for p in self.parts for c in p.walk())]


@dataclass
class AnyOf(AllOf):
    """``any: [...]``: at least one part holds."""

    label = "any of"

    def _combine(self, acc: BoolArray, part: BoolArray) -> None:
        acc |= part


@dataclass
class Not(Condition):
    part: Condition
    where: Where

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        result: BoolArray = np.logical_not(self.part.evaluate(frame, ctx))
        return result

    def describe(self) -> str:
        return "not"

    def explain(self, frame: Frame, ctx: Context, row: int, depth: int = 0) -> list[Explained]:
        inner = self.part.explain(frame, ctx, row, depth + 1)
        return [Explained(depth, "not", "", not inner[0].result), *inner]

    def walk(self) -> list[Condition]:
        return [self, *self.part.walk()]


def _to_bool(arr: Any) -> BoolArray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    filled = pc.fill_null(arr, False)
    result: BoolArray = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)
    return result


def _compare(values: Any, op: str, bound: Any) -> BoolArray:
    """NaN/NaT-safe comparison: a blank value matches no bound."""
    import numpy as np

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
def _value_set(mode: str, values: tuple[str, ...]) -> Any:
    """The Arrow set a list compares against, made once per list (a list file used by
    forty rules is normalised once)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ordertags.customers.grouping import customer_keys

    arr = pa.array(values, type=pa.string())
    if mode == "email":
        arr = customer_keys(arr)
    elif mode == "domain":
        arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    elif mode == "fold":
        arr = pc.utf8_lower(arr)
    return pc.drop_null(arr)


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
    """A date (``2026-01-31``) or date-time (``2026-01-31 17:00``) in a rule."""
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

    def _resolve(self, frame: Frame) -> tuple[str | None, str | None]:
        from ordertags.engine.frame import VIRTUAL_FIELDS

        if self.field in VIRTUAL_FIELDS:
            if self.field in ("email", "email_domain"):
                frame.require_field("email")
            elif not frame.has_field(self.field):
                frame.require_field(self.field)
            return self.field, None
        if frame.has_column(self.field):
            return None, self.field
        columns = ", ".join(frame.columns()[:15])
        raise self.where.child("field").error(
            f'unknown field "{self.field}": no export in this run has that column.',
            hint=f"Use one of {', '.join(VIRTUAL_FIELDS)} or a column of the export ({columns}).",
        )

    # --- values ----------------------------------------------------------------------

    def _numbers(self, frame: Frame) -> Any:
        if self.item:
            return frame.items.numbers(self.field)
        fld, col = self._resolve(frame)
        return frame.numbers(field=fld, column=col)

    def _dates(self, frame: Frame) -> Any:
        fld, col = self._resolve(frame)
        return frame.dates(field=fld, column=col) if fld else frame.dates(field=None, column=col)

    def _text(self, frame: Frame, *, folded: bool) -> Any:
        if self.item:
            text = frame.items.text(self.field)
            if folded:
                import pyarrow.compute as pc

                return pc.utf8_lower(text)
            return text
        fld, col = self._resolve(frame)
        if fld == "email":
            return frame.customers.keys
        if fld == "email_domain":
            return frame.customer_domains
        return frame.lower(field=fld, column=col) if folded else frame.text(field=fld, column=col)

    def _size(self, frame: Frame) -> int:
        return len(frame.items.order_row) if self.item else frame.n

    def _per_customer(self) -> bool:
        return not self.item and self.field in ("email", "email_domain")

    def value_at(self, frame: Frame, ctx: Context, row: int) -> str:
        if self.item:
            return ""
        kind = self.kind()
        if kind == "number":
            v = self._numbers(frame)[row]
            return "blank" if v != v else f"{v:g}"
        if kind == "date":
            v = self._dates(frame)[row]
            return "blank" if str(v) == "NaT" else str(v).replace("T", " ")
        if self._per_customer():
            code = frame.customers.codes[row]
            if code < 0:
                return "blank"
            arr = self._text(frame, folded=False)
            return repr(arr[int(code)].as_py())
        value = self._text(frame, folded=False)[row].as_py()
        return repr(value) if value else "blank"

    # --- evaluation ------------------------------------------------------------------

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        if not self.item:
            self._resolve(frame)
        per_customer = self._per_customer()
        size = frame.customers.count if per_customer else self._size(frame)
        out = np.ones(size, dtype=bool)
        kind = self.kind()
        for op, value in self.ops.items():
            negate = op.startswith("not_")
            base = NEGATED.get(op, op)
            if base == "blank":
                hit = self._blank(frame, kind)
                out &= hit if value else ~hit
                continue
            if kind == "number":
                hit = self._number_op(frame, base, value)
            elif kind == "date":
                hit = self._date_op(frame, base, value)
            else:
                hit = self._text_op(frame, base, value, op)
            out &= ~hit if negate else hit
        if per_customer:
            result: BoolArray = frame.customers.broadcast(out, fill=False)
            # Rows with no email: a blank value, so negated comparisons hold there.
            if any(op.startswith("not_") for op in self.ops) or self.ops.get("blank") is True:
                result |= ~frame.customers.has_customer & self._blank_row_result(frame, ctx)
            return result
        return out

    def _blank_row_result(self, frame: Frame, ctx: Context) -> BoolArray:
        """What the condition gives for a row whose email is blank."""
        import numpy as np

        ok = True
        for op, value in self.ops.items():
            if op == "blank":
                ok = ok and bool(value)
            else:
                ok = ok and op.startswith("not_")
        return np.full(frame.n, ok, dtype=bool)

    def _blank(self, frame: Frame, kind: str) -> BoolArray:
        import numpy as np
        import pyarrow.compute as pc

        if self._per_customer():
            return np.zeros(frame.customers.count, dtype=bool)  # keys are never blank
        if self.item:
            text = self._text(frame, folded=False)
            return _to_bool(pc.equal(pc.utf8_trim_whitespace(text), ""))
        fld, col = self._resolve(frame)
        _, values = frame.encoded(field=fld, column=col)
        per_value = _to_bool(pc.equal(pc.utf8_trim_whitespace(values), ""))
        return frame.rows_with_values(per_value, field=fld, column=col)

    def _number_op(self, frame: Frame, op: str, value: Any) -> BoolArray:
        import numpy as np

        nums = self._numbers(frame)
        if op == "in":
            return np.isin(nums, [float(v) for v in value])
        if op == "equals":
            return _compare(nums, "equals", float(value))
        return _compare(nums, op, value)

    def _date_op(self, frame: Frame, op: str, value: Any) -> BoolArray:
        import numpy as np

        stamps = self._dates(frame)
        day = np.timedelta64(1, "D")

        def bound(v: Any, *, end: bool = False) -> Any:
            when = parse_when(v, self.where.child(op))
            stamp = np.datetime64(when, "s")
            date_only = len(str(v).strip()) <= 10
            return stamp + day if end and date_only else stamp

        if op == "within_days" and not self.item and self.field == "date":
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
            return np.isin(
                days, [np.datetime64(parse_when(v, self.where).date(), "D") for v in values]
            )
        raise self.where.child(op).error(
            f'"{op}" does not apply to dates.', hint="Use before, after, between or within_days."
        )

    def _text_op(self, frame: Frame, op: str, value: Any, raw_op: str) -> BoolArray:
        fold = not self.case_sensitive  # (customer keys are lower-case already)
        if self.item:
            text = self._text(frame, folded=fold and op != "matches")
            return _to_bool(self._match(text, op, value, raw_op, fold))
        # The same comparison in several rules (a list file, "Source equals AMAZON") is
        # worked out once per run: its result per customer or per distinct value is kept.
        what = (
            self.list_paths[raw_op]
            if op == "in_file"
            else tuple(value)
            if isinstance(value, list)
            else value
        )
        memo = ("cmp", f"{self.field}\x00{op}\x00{what}\x00{fold}")
        cache = frame._cache
        if self._per_customer():
            if memo not in cache:
                text = self._text(frame, folded=fold and op != "matches")
                cache[memo] = _to_bool(self._match(text, op, value, raw_op, fold))
            known: BoolArray = cache[memo]
            return known
        # Once per distinct value, then broadcast to the rows by their value's index.
        fld, col = self._resolve(frame)
        if memo not in cache:
            _, values = frame.encoded(field=fld, column=col, folded=fold and op != "matches")
            cache[memo] = _to_bool(self._match(values, op, value, raw_op, fold))
        return frame.rows_with_values(cache[memo], field=fld, column=col)

    def _match(self, text: Any, op: str, value: Any, raw_op: str, fold: bool) -> Any:
        import pyarrow.compute as pc

        if op == "matches":
            return pc.match_substring_regex(text, value, ignore_case=not self.case_sensitive)
        if op in ("equals", "in", "in_file"):
            if op == "equals":
                values = [str(value)]
            elif op == "in_file":
                values = self.list_values[raw_op]
            else:
                values = [str(v) for v in value]
            return pc.is_in(text, value_set=self._value_set(values))
        needle = value.lower() if fold else value
        if op == "contains":
            return pc.match_substring(text, needle)
        if op == "starts_with":
            return pc.starts_with(text, needle)
        return pc.ends_with(text, needle)

    def _value_set(self, values: list[str]) -> Any:
        mode = (
            "email"
            if not self.item and self.field == "email"
            else "domain"
            if not self.item and self.field == "email_domain"
            else "exact"
            if self.case_sensitive
            else "fold"
        )
        return _value_set(mode, tuple(values))


@dataclass
class CustomerCondition(Condition):
    """A condition on the customer's orders: spend, order count, average order value,
    days since the first or last order, refunds, first order; optionally within the last
    D days before the as-of date."""

    measure: str
    ops: dict[str, Any]
    within_days: int | None
    where: Where

    def describe(self) -> str:
        window = f" in the last {self.within_days} days" if self.within_days else ""
        ops = ", ".join(f"{op} {_fmt(v)}" for op, v in self.ops.items())
        return f"customer {self.measure.replace('_', ' ')}{window} {ops}".rstrip()

    def measure_values(self, frame: Frame) -> Any:
        """Per customer: the measured value (float64; NaN where it has no value).
        Computed once per run for each measure and window, however many rules use it."""
        key = ("measure", f"{self.measure}/{self.within_days}")
        cache = frame._cache
        if key not in cache:
            cache[key] = self._measure(frame)
        return cache[key]

    def _measure(self, frame: Frame) -> Any:
        import numpy as np

        if frame.memory is not None:
            # Merged customers and, in a workspace, the order history (ordertags.customers.identity).
            remembered = frame.memory.measure(frame, self.measure, self.within_days)
            if remembered is not None:
                return remembered
        customers = frame.customers
        rows = frame.order_starts.copy()
        if self.within_days is not None:
            frame.require_field("date")
            rows &= frame.within_days(self.within_days)
        orders = customers.count_rows(rows).astype(np.float64)
        if self.measure in ("orders", "first_order"):
            return orders
        if self.measure in ("spend", "average_order_value", "refunds"):
            fld = "refunds" if self.measure == "refunds" else "total"
            frame.require_field(fld)
            units = np.where(rows, frame.money_units(field=fld), 0)
            spend = customers.reduce_sum(units).astype(np.float64) / 10_000
            if self.measure == "average_order_value":
                with np.errstate(invalid="ignore", divide="ignore"):
                    return np.where(orders > 0, spend / np.maximum(orders, 1), np.nan)
            return spend
        # days since the first / last order
        frame.require_field("date")
        stamps = frame.dates()
        valid = rows & ~np.isnat(stamps)
        secs = stamps.astype("datetime64[s]").astype(np.int64)
        if self.measure == "days_since_first":
            init = np.iinfo(np.int64).max
            agg = np.full(customers.count, init, dtype=np.int64)
            np.minimum.at(
                agg,
                customers.codes[valid & customers.has_customer],
                secs[valid & customers.has_customer],
            )
        else:
            init = np.iinfo(np.int64).min
            agg = np.full(customers.count, init, dtype=np.int64)
            np.maximum.at(
                agg,
                customers.codes[valid & customers.has_customer],
                secs[valid & customers.has_customer],
            )
        as_of = np.datetime64(frame.as_of.isoformat(), "s").astype(np.int64)
        days = np.floor((as_of - agg) / 86_400).astype(np.float64)
        days[agg == init] = np.nan
        return days

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        values = self.measure_values(frame)
        if self.measure == "first_order":
            ok = values == 1
        else:
            ok = np.ones(frame.customers.count, dtype=bool)
            for op, bound in self.ops.items():
                negate = op.startswith("not_")
                base = NEGATED.get(op, op)
                if base in ("equals", "in"):
                    hit = np.isin(
                        values, [float(b) for b in (bound if isinstance(bound, list) else [bound])]
                    )
                else:
                    hit = _compare(values, base, bound)
                ok &= ~hit if negate else hit
        result: BoolArray = frame.customers.broadcast(ok, fill=False)
        return result

    def value_at(self, frame: Frame, ctx: Context, row: int) -> str:
        code = frame.customers.codes[row]
        if code < 0:
            return "no customer (blank email)"
        v = self.measure_values(frame)[int(code)]
        return "none" if v != v else f"{v:g}"


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

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        if self.within_days is None:
            mask = ctx.mask(self.tag)
            return mask.copy() if mask is not None else np.zeros(frame.n, dtype=bool)
        if ctx.tag_history is None:
            raise self.where.error(
                "had_tag needs the tag history of a workspace, and this run has none.",
                hint="Run in a workspace (`ordertags init`), or use has_tag.",
            )
        now = ctx.mask(self.tag)
        past: BoolArray = ctx.tag_history(self.tag, self.within_days)
        return past | now if now is not None else past


@dataclass
class ItemCondition(Condition):
    """``any_item`` / ``all_items`` / ``no_item``: a condition on the order's line items."""

    quantifier: str
    part: Condition
    where: Where

    def describe(self) -> str:
        return (
            {"any_item": "any item", "all_items": "all items", "no_item": "no item"}[
                self.quantifier
            ]
            + ": "
            + self.part.describe()
        )

    def evaluate(self, frame: Frame, ctx: Context) -> BoolArray:
        import numpy as np

        items = frame.items
        hits = np.asarray(self.part.evaluate(frame, ctx), dtype=bool)
        first = items.order_row
        any_hit = np.zeros(frame.n, dtype=bool)
        any_hit[first[hits]] = True
        if self.quantifier == "all_items":
            has_item = np.zeros(frame.n, dtype=bool)
            has_item[first] = True
            any_miss = np.zeros(frame.n, dtype=bool)
            any_miss[first[~hits]] = True
            per_first = has_item & ~any_miss
        elif self.quantifier == "any_item":
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

    def walk(self) -> list[Condition]:
        return [self, *self.part.walk()]


# --- actions and rules -----------------------------------------------------------------


@dataclass
class TagAction:
    name: str
    scope: str | None  # None: the tag book's definition decides


@dataclass
class Rule:
    name: str
    index: int
    when: Condition
    tags: list[TagAction]
    line: int | None
    untag: list[str] = field(default_factory=list)
    set: dict[str, str] = field(default_factory=dict)
    note: tuple[str, str] | None = None  # (column, text)
    hold: str | None = None
    stop: bool = False
    priority: int = 0
    raw_when: Any = None


@dataclass
class RuleSet:
    """A loaded rule file."""

    path: str
    rules: list[Rule] = field(default_factory=list)
    notes_column: str = "Order Notes"
    hold_column: str = "Hold"
    text: str = ""

    def check_tags(self, tagbook: TagBook) -> None:
        """Every tag a rule adds, removes or tests must be defined in the tag book."""
        for rule in self.rules:
            names = [(a.name, "adds") for a in rule.tags] + [(t, "removes") for t in rule.untag]
            names += [(c.tag, "tests") for c in rule.when.walk() if isinstance(c, TagCondition)]
            for name, verb in names:
                if name not in tagbook.tags:
                    defined = ", ".join(tagbook.tags) or "none"
                    raise RulesError(
                        f'rule "{rule.name}" {verb} tag "{name}", which the tag book '
                        f"{tagbook.path} does not define (defined: {defined}).",
                        file=self.path,
                        line=rule.line,
                        key=f"$.rules[{rule.index}].tag",
                        hint="Define the tag in the tag book, or fix the rule's tag name.",
                    )

    def scope_of(self, action: TagAction, tagbook: TagBook) -> str:
        return action.scope or tagbook.tags[action.name].scope

    @property
    def set_columns(self) -> list[str]:
        return list(dict.fromkeys(c for r in self.rules for c in r.set))

    @property
    def note_columns(self) -> list[str]:
        return list(dict.fromkeys(r.note[0] for r in self.rules if r.note))

    @property
    def holds(self) -> bool:
        return any(r.hold for r in self.rules)


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Read, check and compile a rule file.

    >>> rules = load_rules("rules.example.yaml")  # doctest: +SKIP
    >>> [r.name for r in rules.rules][:2]  # doctest: +SKIP
    ['Known fraudsters', 'VIP list']
    """
    p = Path(path)
    text = read_text(p, RulesError, "rule file")
    return parse_rules(text, file=str(p), base=p.parent)


def parse_rules(text: str, *, file: str, base: Path) -> RuleSet:
    """Compile rules from YAML text; ``in_file`` paths are relative to ``base``."""
    data = load_yaml(text, file=file, error=RulesError)
    if data is None:
        raise RulesError(
            "the rule file is empty.",
            file=file,
            hint="Start from rules.example.yaml, or write `rules: []`.",
        )
    validate(data, schema="rules", text=text, file=file, error=RulesError)
    ruleset = RuleSet(
        path=file,
        text=text,
        notes_column=data.get("notes_column") or "Order Notes",
        hold_column=data.get("hold_column") or "Hold",
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
    return ruleset


def _compile_rule(raw: dict[str, Any], i: int, where: Where, base: Path, ruleset: RuleSet) -> Rule:
    actions = ("tag", "untag", "set", "note", "hold", "stop")
    if not any(k in raw for k in actions):
        raise where.error(
            f'rule "{raw["name"]}" does nothing.', hint=f"Give it an action: {', '.join(actions)}."
        )
    scope = raw.get("scope")
    tag = raw.get("tag")
    if tag is None:
        tags = []
    elif isinstance(tag, str):
        tags = [TagAction(tag, scope)]
    elif isinstance(tag, list):
        tags = [TagAction(t, scope) for t in tag]
    else:
        tags = [TagAction(tag["name"], tag.get("scope", scope))]
    untag = raw.get("untag") or []
    note = raw.get("note")
    if isinstance(note, str):
        note = (ruleset.notes_column, note)
    elif isinstance(note, dict):
        note = (note.get("column") or ruleset.notes_column, note["text"])
    hold = raw.get("hold")
    if hold is True:
        hold = raw["name"]
    elif hold is False:
        hold = None
    return Rule(
        name=raw["name"],
        index=i,
        when=compile_condition(raw["when"], where.child("when"), base),
        tags=tags,
        line=line_of(where.text, ["rules", i]),
        untag=[untag] if isinstance(untag, str) else list(untag),
        set={str(k): _text(v) for k, v in (raw.get("set") or {}).items()},
        note=note,
        hold=hold,
        stop=bool(raw.get("stop", False)),
        priority=int(raw.get("priority", 0)),
        raw_when=raw["when"],
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
        "field": (*ALL_FIELD_OPS, "case_sensitive"),
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
    lists: dict[str, list[str]] = {
        op: read_list_file(path, where.child(op)) for op, path in paths.items()
    }
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


def _check_regex(pattern: str, where: Where) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).split(":", 1)[-1].strip()
        raise where.error(
            f"the regular expression {pattern!r} cannot be used: {reason}.",
            hint="Patterns run in RE2, which has no backreferences or lookarounds "
            "(that is what keeps them fast); rewrite it without them.",
        ) from None


#: The largest list file ``in_file`` reads (a million email addresses take about 30 MB).
MAX_LIST_BYTES = 64 << 20


def read_list_file(path: Path, where: Where) -> list[str]:
    """One value a line; blank lines and lines starting with # are skipped.

    Only a regular file of at most :data:`MAX_LIST_BYTES` is read: not a device
    (``/dev/zero`` never ends), a pipe (which would wait forever) or a folder. A path is
    relative to the rule file (the caller joins it)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise where.error(
            f"the list file {path} does not exist.", hint="Paths are relative to the rule file."
        ) from None
    except OSError as exc:
        raise where.error(f"cannot read the list file {path}: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise where.error(
                f"the list file {path} is not a regular file.",
                hint="Give a text file with one value a line.",
            )
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
    lines = (ln.strip() for ln in text.splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def redacted(value: str) -> str:
    """A value from a file the user may not mean to show (a list file pointed at the
    wrong file), for a message: its first two characters and its length."""
    head = value[:2] if len(value) > 4 else ""
    return f'"{head}…" ({len(value)} characters)'
