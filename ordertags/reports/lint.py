"""``ordertags lint``: problems in the rules and the tag book, before a run finds them.

Errors (exit 1): the rule file or tag book does not load, a rule names an undefined tag,
a rule uses a field no given export has. Warnings (exit 0): a rule that can never match
(contradictory bounds), a rule shadowed by an earlier ``stop``, an empty list file,
lines of a list of emails that hold no address (by line number), expired tag-book entries.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordertags.engine.conditions import check_patterns
from ordertags.engine.frame import VIRTUAL_FIELDS
from ordertags.errors import OrderTagsError
from ordertags.io.fields import map_fields
from ordertags.io.readers import read_orders
from ordertags.rules import (
    AllOf,
    Condition,
    CustomerCondition,
    FieldCondition,
    Rule,
    RuleSet,
    load_rules,
    redacted,
)
from ordertags.tagbook import TagBook, load_tagbook


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    where: str  # file and line
    message: str


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def add(self, level: str, where: str, message: str) -> None:
        self.findings.append(Finding(level, where, message))

    def add_error(self, exc: OrderTagsError, file: str | Path) -> None:
        """An error raised while checking ``file``: where the error says it is (the
        file named once), and what it says."""
        self.add("error", exc.location() or str(file), exc.detail())


def _where(file: str, line: int | None) -> str:
    return f"{file}, line {line}" if line else file


def _lines_of(path: str | Path, unread: Sequence[tuple[int, str]]) -> str:
    """``vip.txt, line 4`` or ``vip.txt, lines 2, 7, 9`` (the first ten, then how many
    more)."""
    numbers = [str(n) for n, _ in unread[:10]]
    more = f" and {len(unread) - 10:,} more" if len(unread) > 10 else ""
    if len(unread) == 1:
        return f"{path}, line {numbers[0]}"
    return f"{path}, lines {', '.join(numbers)}{more}"


def _unread_text(unread: Sequence[tuple[int, str]], column: str | None) -> str:
    """What is wrong with the lines of a list of addresses that hold none (in its
    ``column``, a table's)."""
    # A short, redacted sample: the list may be the wrong file (/etc/shadow), and a
    # message must not print its lines.
    shown = ", ".join(redacted(text) for _, text in unread[:3])
    many = len(unread) != 1
    return (
        f"{len(unread):,} line{'s' if many else ''} hold{'' if many else 's'} no email address, "
        f"so {'they match' if many else 'it matches'} nobody ({shown}"
        f"{', ...' if len(unread) > 3 else ''}); "
        + (
            f'check that column "{column}" is the one holding the addresses'
            if column
            else "write an address a line, or name a CSV's address column with `column:`"
        )
    )


def _interval(ops: dict[str, Any]) -> tuple[float, float, bool, bool]:
    """The numbers a set of bound comparisons allows: (low, high, low open, high open)."""
    low, high, low_open, high_open = -math.inf, math.inf, False, False
    for op, v in ops.items():
        if op == "over" and v >= low:
            low, low_open = v, True
        elif op == "at_least" and v > low:
            low, low_open = v, False
        elif op == "under" and v <= high:
            high, high_open = v, True
        elif op == "at_most" and v < high:
            high, high_open = v, False
        elif op == "between":
            if v[0] > low:
                low, low_open = v[0], False
            if v[1] < high:
                high, high_open = v[1], False
    return low, high, low_open, high_open


def _empty(interval: tuple[float, float, bool, bool]) -> bool:
    low, high, low_open, high_open = interval
    return low > high or (low == high and (low_open or high_open))


def never_matches(cond: Condition) -> str | None:
    """Why ``cond`` can never hold, or None when it may."""
    if isinstance(cond, FieldCondition) and cond.kind() == "number":
        if _empty(_interval(cond.ops)):
            return f'the bounds on "{cond.field}" leave no number ({cond.describe()})'
    if isinstance(cond, CustomerCondition) and _empty(_interval(cond.ops)):
        return f"the bounds on customer {cond.measure} leave no number"
    if isinstance(cond, FieldCondition):
        eq, neq = cond.ops.get("equals"), cond.ops.get("not_equals")
        if eq is not None and neq is not None and str(eq).lower() == str(neq).lower():
            return f'"{cond.field}" cannot both equal and not equal {eq!r}'
        if "in" in cond.ops and not cond.ops["in"]:
            return f'"{cond.field}" in an empty list'
    if type(cond) is AllOf:  # not AnyOf, which shares its code
        by_field: dict[tuple[str, str], dict[str, Any]] = {}
        for part in cond.parts:
            reason = never_matches(part)
            if reason:
                return reason
            if isinstance(part, FieldCondition) and part.kind() == "number":
                key = ("field", part.field)
            elif isinstance(part, CustomerCondition) and part.measure != "first_order":
                key = ("customer", f"{part.measure}/{part.within_days}")
            else:
                continue
            merged = by_field.setdefault(key, {})
            for op, v in part.ops.items():
                if op in ("over", "at_least"):
                    merged[op] = max(v, merged.get(op, v))
                elif op in ("under", "at_most"):
                    merged[op] = min(v, merged.get(op, v))
                elif op == "between":
                    merged.setdefault("_between", []).append(v)
        for (kind, name), ops in by_field.items():
            bounds = {k: v for k, v in ops.items() if k != "_between"}
            for b in ops.get("_between", []):
                bounds.setdefault("at_least", b[0])
                bounds["at_least"] = max(bounds["at_least"], b[0])
                bounds.setdefault("at_most", b[1])
                bounds["at_most"] = min(bounds["at_most"], b[1])
            if _empty(_interval(bounds)):
                label = name if kind == "field" else f"customer {name.split('/')[0]}"
                return f'the conditions on "{label}" together leave no number'
    return None


def _conjuncts(rule: Rule) -> set[str]:
    raw = rule.raw_when
    parts = raw["all"] if isinstance(raw, dict) and list(raw) == ["all"] else [raw]
    return {json.dumps(p, sort_keys=True, default=str) for p in parts}


def lint(
    rules_path: str | Path | None,
    tagbook_path: str | Path | None,
    *,
    orders: Sequence[str | Path] = (),
    as_of: dt.date | None = None,
) -> LintReport:
    """Check a rule file and a tag book (and, given exports, the fields rules use)."""
    report = LintReport()
    as_of = as_of or dt.date.today()
    book: TagBook | None = None
    rules: RuleSet | None = None
    if tagbook_path is not None:
        try:
            book = load_tagbook(tagbook_path)
        except OrderTagsError as exc:
            report.add_error(exc, tagbook_path)
    if rules_path is not None:
        try:
            rules = load_rules(rules_path)
            for rule in rules.rules:  # the patterns a run would refuse
                check_patterns(rule.when.walk())
        except OrderTagsError as exc:
            report.add_error(exc, rules_path)
            rules = None
    if book is not None:
        for entry in book.entries:
            if entry.expired(as_of):
                report.add(
                    "warning",
                    _where(book.path, entry.line),
                    f"the entry for {entry.email} ({', '.join(entry.tags)}) expired on "
                    f"{entry.expires}; it is ignored (remove it, or extend expires)",
                )
    if rules is None:
        return report
    if book is not None:
        try:
            rules.check_tags(book)
        except OrderTagsError as exc:
            report.add_error(exc, rules.path)
    stoppers: list[Rule] = []
    told: set[tuple[str, str | None]] = set()  # list files whose lines were warned about
    for rule in rules.rules:
        where = _where(rules.path, rule.line)
        reason = never_matches(rule.when)
        if reason:
            report.add("warning", where, f'rule "{rule.name}" can never match: {reason}')
        for earlier in stoppers:
            if _conjuncts(earlier) <= _conjuncts(rule):
                report.add(
                    "warning",
                    where,
                    f'rule "{rule.name}" is shadowed: every order it matches was '
                    f'already stopped by "{earlier.name}" (line {earlier.line})',
                )
                break
        if rule.stop:
            stoppers.append(rule)
        for cond in rule.when.walk():
            if not isinstance(cond, FieldCondition):
                continue
            for op, path in cond.list_paths.items():
                values, unread = cond.list_values[op], cond.list_unread.get(op, [])
                if not values and not unread:
                    report.add(
                        "warning",
                        _where(rules.path, cond.where.line),
                        f"the list file {path} is empty: {op} matches nothing",
                    )
                if unread and (str(path), cond.column) not in told:
                    told.add((str(path), cond.column))
                    report.add(
                        "warning", _lines_of(path, unread), _unread_text(unread, cond.column)
                    )
    if orders:
        _check_fields(rules, orders, report)
    return report


def _check_fields(rules: RuleSet, orders: Sequence[str | Path], report: LintReport) -> None:
    columns: list[str] = []
    try:
        for path in orders:
            columns += read_orders(path).columns
    except OrderTagsError as exc:
        report.add_error(exc, path)
        return
    fmap = map_fields(columns)
    for rule in rules.rules:
        for cond in rule.when.walk():
            if (
                isinstance(cond, FieldCondition)
                and not cond.item
                and cond.field not in VIRTUAL_FIELDS
                and fmap.find_column(cond.field) is None
            ):
                report.add(
                    "error",
                    _where(rules.path, cond.where.line),
                    f'rule "{rule.name}" uses the field "{cond.field}", which the '
                    f"exports do not have (their columns: {', '.join(columns[:12])})",
                )
