"""Rules: conditions on orders and customers, and the tags they add.

A rule file is YAML, checked against ``schemas/rules.schema.json``. Each condition is
compiled to an object whose ``evaluate(frame)`` returns one boolean per row, computed as
column operations (pyarrow compute, numpy): a list of 100,000 emails is one hash-set
lookup, a regular expression runs in RE2 (linear time, no catastrophic backtracking).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RulesError
from .yamlfiles import json_path, line_of, load_yaml, read_text, validate

if TYPE_CHECKING:
    import numpy as np

    from .frame import Frame
    from .tags import TagBook

    BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

TEXT_OPS = ("equals", "in", "in_file", "contains", "starts_with", "ends_with", "matches")
NUMBER_OPS = ("over", "under", "at_least", "at_most", "between")
CUSTOMER_MEASURES = ("spend", "orders")


@dataclass
class Where:
    """Where a piece of the rule file is, for messages."""

    file: str
    text: str
    path: list[str | int]

    def child(self, *parts: str | int) -> Where:
        return Where(self.file, self.text, [*self.path, *parts])

    def error(self, message: str, hint: str | None = None) -> RulesError:
        return RulesError(message, file=self.file, line=line_of(self.text, self.path),
                          key=json_path(self.path), hint=hint)


class Condition:
    """A compiled condition. ``evaluate`` gives one bool per row of the frame."""

    where: Where

    def evaluate(self, frame: Frame) -> BoolArray:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class AllOf(Condition):
    parts: list[Condition]
    where: Where

    def evaluate(self, frame: Frame) -> BoolArray:
        import numpy as np

        out = np.ones(frame.n, dtype=bool)
        for part in self.parts:
            out &= part.evaluate(frame)
        return out


@dataclass
class AnyOf(Condition):
    parts: list[Condition]
    where: Where

    def evaluate(self, frame: Frame) -> BoolArray:
        import numpy as np

        out = np.zeros(frame.n, dtype=bool)
        for part in self.parts:
            out |= part.evaluate(frame)
        return out


@dataclass
class Not(Condition):
    part: Condition
    where: Where

    def evaluate(self, frame: Frame) -> BoolArray:
        import numpy as np

        result: BoolArray = np.logical_not(self.part.evaluate(frame))
        return result


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
    """NaN-safe numeric comparison: a blank value matches no bound."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        if op == "over":
            result: BoolArray = values > bound
        elif op == "under":
            result = values < bound
        elif op == "at_least":
            result = values >= bound
        elif op == "at_most":
            result = values <= bound
        else:  # between, inclusive
            result = (values >= bound[0]) & (values <= bound[1])
    return result


@dataclass
class FieldCondition(Condition):
    """A condition on one order field or column: text or number comparisons, ANDed."""

    field: str
    ops: dict[str, Any]
    case_sensitive: bool
    where: Where
    list_values: list[str] | None = None  # in/in_file, loaded

    def _resolve(self, frame: Frame) -> tuple[str | None, str | None]:
        from .frame import VIRTUAL_FIELDS

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
            hint=f"Use one of {', '.join(VIRTUAL_FIELDS)} or a column of the export "
                 f"({columns}).")

    def evaluate(self, frame: Frame) -> BoolArray:
        import numpy as np

        fld, col = self._resolve(frame)
        out = np.ones(frame.n, dtype=bool)
        for op, value in self.ops.items():
            if op in NUMBER_OPS or (op == "equals" and _is_number(value)) or (
                    op == "in" and value and all(_is_number(v) for v in value)):
                nums = frame.numbers(field=fld, column=col)
                if op == "equals":
                    out &= nums == float(value)
                elif op == "in":
                    out &= np.isin(nums, [float(v) for v in value])
                else:
                    out &= _compare(nums, op, value)
            elif fld in ("email", "email_domain"):
                # Once per customer, not per row: then broadcast to the customer's rows.
                per_customer = frame.customers.keys if fld == "email" else \
                    frame.customer_domains
                out &= frame.customers.per_row(self._match(per_customer, op, value, fld))
            else:
                raw = frame.text(field=fld, column=col)
                text = raw if self.case_sensitive or op == "matches" else \
                    frame.lower(field=fld, column=col)
                out &= _to_bool(self._match(text, op, value, fld))
        return out

    def _match(self, text: Any, op: str, value: Any, fld: str | None) -> Any:
        """One text comparison over an Arrow string array (already lower-cased where
        the comparison ignores case, except for ``matches``)."""
        import pyarrow.compute as pc

        fold = not self.case_sensitive and fld not in ("email", "email_domain")
        if op in ("equals", "in", "in_file"):
            values = [str(value)] if op == "equals" else (
                self.list_values if op == "in_file" else [str(v) for v in value])
            return pc.is_in(text, value_set=self._value_set(values or [], fld))
        if op == "contains":
            return pc.match_substring(text, _fold(value, fold))
        if op == "starts_with":
            return pc.starts_with(text, _fold(value, fold))
        if op == "ends_with":
            return pc.ends_with(text, _fold(value, fold))
        return pc.match_substring_regex(text, value, ignore_case=not self.case_sensitive)

    def _value_set(self, values: list[str], fld: str | None) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        from .customers import customer_keys

        arr = pa.array(values, type=pa.string())
        if fld == "email":
            arr = customer_keys(arr)
        elif fld == "email_domain":
            arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
        elif not self.case_sensitive:
            arr = pc.utf8_lower(arr)
        return pc.drop_null(arr)


def _fold(value: str, fold: bool) -> str:
    return value.lower() if fold else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class CustomerCondition(Condition):
    """A condition on the customer's orders in the run: spend or number of orders,
    optionally within the last D days before the as-of date."""

    measure: str
    ops: dict[str, Any]
    within_days: int | None
    where: Where

    def evaluate(self, frame: Frame) -> BoolArray:
        import numpy as np

        customers = frame.customers
        rows = frame.order_starts.copy()
        if self.within_days is not None:
            frame.require_field("date")
            rows &= frame.within_days(self.within_days)
        if self.measure == "spend":
            frame.require_field("total")
            per_customer = customers.reduce_sum(np.where(rows, frame.money_units(field="total"), 0))
            scale = 10_000
        else:
            per_customer = customers.count_rows(rows)
            scale = 1
        ok = np.ones(customers.count, dtype=bool)
        for op, bound in self.ops.items():
            scaled = [round(b * scale) for b in bound] if op == "between" else round(bound * scale)
            ok &= _compare(per_customer, op, scaled)
        result: BoolArray = customers.broadcast(ok, fill=False)
        return result


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


@dataclass
class RuleSet:
    """A loaded rule file."""

    path: str
    rules: list[Rule] = field(default_factory=list)

    def check_tags(self, tagbook: TagBook) -> None:
        """Every tag a rule adds must be defined in the tag book."""
        for rule in self.rules:
            for action in rule.tags:
                if action.name not in tagbook.tags:
                    defined = ", ".join(tagbook.tags) or "none"
                    raise RulesError(
                        f'rule "{rule.name}" adds tag "{action.name}", which the tag book '
                        f"{tagbook.path} does not define (defined: {defined}).",
                        file=self.path, line=rule.line, key=f"$.rules[{rule.index}].tag",
                        hint="Define the tag in the tag book, or fix the rule's tag name.")

    def scope_of(self, action: TagAction, tagbook: TagBook) -> str:
        return action.scope or tagbook.tags[action.name].scope


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
        raise RulesError("the rule file is empty.", file=file,
                         hint="Start from rules.example.yaml, or write `rules: []`.")
    validate(data, schema="rules", text=text, file=file, error=RulesError)
    ruleset = RuleSet(path=file)
    names: dict[str, int] = {}
    for i, raw in enumerate(data.get("rules") or []):
        where = Where(file, text, ["rules", i])
        if raw["name"] in names:
            raise where.child("name").error(
                f'two rules are named "{raw["name"]}".', hint="Give each rule its own name.")
        names[raw["name"]] = i
        scope = raw.get("scope")
        tag = raw["tag"]
        if isinstance(tag, str):
            actions = [TagAction(tag, scope)]
        elif isinstance(tag, list):
            actions = [TagAction(t, scope) for t in tag]
        else:
            actions = [TagAction(tag["name"], tag.get("scope", scope))]
        ruleset.rules.append(Rule(
            name=raw["name"], index=i, when=compile_condition(raw["when"], where.child("when"),
                                                              base),
            tags=actions, line=line_of(text, ["rules", i])))
    return ruleset


_Compiler = Callable[[dict[str, Any], Where, Path], Condition]


def compile_condition(raw: dict[str, Any], where: Where, base: Path) -> Condition:
    """Turn one condition mapping into a :class:`Condition` (checks what the schema cannot)."""
    forms = [k for k in ("all", "any", "not", "field", "customer") if k in raw]
    if len(forms) != 1:
        found = ", ".join(forms) or "none of them"
        raise where.error(
            f"a condition needs exactly one of all, any, not, field or customer "
            f"(found {found}).",
            hint="Split it into several conditions under `all:` or `any:`.")
    form = forms[0]
    extra = [k for k in raw if k != form and k not in (*TEXT_OPS, *NUMBER_OPS, "within_days",
                                                       "case_sensitive")]
    if form in ("all", "any", "not") and len(raw) != 1:
        extra = [k for k in raw if k != form]
    if extra:
        raise where.child(extra[0]).error(
            f'"{extra[0]}" cannot stand beside "{form}" in one condition.',
            hint="Put each condition in its own mapping under `all:` or `any:`.")
    if form == "all":
        return AllOf([compile_condition(c, where.child("all", i), base)
                      for i, c in enumerate(raw["all"])], where)
    if form == "any":
        return AnyOf([compile_condition(c, where.child("any", i), base)
                      for i, c in enumerate(raw["any"])], where)
    if form == "not":
        return Not(compile_condition(raw["not"], where.child("not"), base), where)
    if form == "customer":
        ops = {k: raw[k] for k in NUMBER_OPS if k in raw}
        bad = [k for k in TEXT_OPS if k in raw]
        if bad or not ops:
            raise where.error(
                f"a customer condition compares a number: use {', '.join(NUMBER_OPS)}"
                + (f' (not "{bad[0]}")' if bad else "") + ".",
                hint="For example: {customer: spend, over: 1000, within_days: 365}.")
        _check_between(raw, where)
        return CustomerCondition(raw["customer"], ops, raw.get("within_days"), where)
    # field condition
    if "within_days" in raw:
        raise where.child("within_days").error(
            "within_days belongs to customer conditions.",
            hint="For an order's own date, a date condition comes in a later version.")
    ops = {k: raw[k] for k in (*TEXT_OPS, *NUMBER_OPS) if k in raw}
    if not ops:
        raise where.error(
            f'the condition on "{raw["field"]}" has no comparison.',
            hint=f"Add one of: {', '.join((*TEXT_OPS, *NUMBER_OPS))}.")
    _check_between(raw, where)
    values = None
    if "in_file" in ops:
        values = read_list_file(base / ops["in_file"], where.child("in_file"))
    if "matches" in ops:
        _check_regex(ops["matches"], where.child("matches"))
    return FieldCondition(raw["field"], ops, bool(raw.get("case_sensitive", False)), where,
                          values)


def _check_between(raw: dict[str, Any], where: Where) -> None:
    if "between" in raw and raw["between"][0] > raw["between"][1]:
        raise where.child("between").error(
            f"between {raw['between']}: the low bound is above the high one.",
            hint="Write [low, high].")


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
                 "(that is what keeps them fast); rewrite it without them.") from None


def read_list_file(path: Path, where: Where) -> list[str]:
    """One value a line; blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise where.error(f"the list file {path} does not exist.",
                          hint="Paths are relative to the rule file.") from None
    except UnicodeDecodeError:
        raise where.error(f"the list file {path} is not UTF-8 text.",
                          hint="Save it as UTF-8, one value a line.") from None
    except OSError as exc:
        raise where.error(f"cannot read the list file {path}: {exc.strerror}.") from None
    lines = (ln.strip() for ln in text.splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]
