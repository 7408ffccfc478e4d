"""``ordertags inspect``: what ordertags sees in an export, before any rule runs.

The platform profile it picked (and from which columns), where each order field comes
from, how many rows, orders and customers, the date range, the sum of the totals, and
the first orders with their parsed fields. A value that cannot be parsed is reported as
a problem, not raised, so that one run shows everything to fix.

>>> report = inspect_orders("orders_export.csv")
>>> report.profile.name, report.orders, report.customers
('shopify', 3, 2)
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.amounts import money
from ordertags.engine.arrays import combined
from ordertags.engine.frame import Frame
from ordertags.engine.items import build_items
from ordertags.errors import OrderTagsError
from ordertags.io.fields import FIELD_TITLES
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.platforms import GENERIC, Profile
from ordertags.io.readers import OrderTable, read_exports
from ordertags.io.values import date_style_name

_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class Inspection:
    """What ``inspect`` found; :meth:`render` gives the text it prints."""

    table: OrderTable
    profile: Profile
    detected: tuple[str, ...]
    fields: list[tuple[str, str, str]]  # (field, its column, fallback columns)
    missing: list[str]
    rows: int = 0
    orders: int = 0
    customers: int | None = None
    without_customer: int = 0
    first_date: str | None = None
    last_date: str | None = None
    #: The sum of the order totals per currency, ten-thousandths ("": orders naming
    #: none), largest first; None where the totals cannot be read. Never one sum of
    #: several currencies.
    totals: list[tuple[str, int]] | None = None
    #: The refunds the export states (or a status "refunded" implies), per currency,
    #: and how many orders have one.
    refunds: list[tuple[str, int]] = field(default_factory=list)
    refunded_orders: int = 0
    currencies: list[str] = field(default_factory=list)
    items: int | None = None
    header: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)
    #: What could not be worked out (customers, dates, totals ...), and the error that
    #: says why (:attr:`problems` as text).
    failures: list[tuple[str, OrderTagsError]] = field(default_factory=list)
    date_style: str = ""  # "day-first (region GB)"
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """The values that do not parse and what else could not be worked out, as text."""
        return [f"{what}: {exc}" for what, exc in self.failures]

    def layout(self) -> str:
        """How the file is written: format, delimiter, line ends, encoding, BOM."""
        t, d = self.table, self.table.dialect
        if t.kind == "ndjson":
            return "NDJSON (one JSON object a line)"
        if t.kind == "json":
            return "JSON, an object with an orders list" if t.json_wrapper else "JSON array"
        parts = [
            f"delimiter {_DELIMITERS.get(d.delimiter, repr(d.delimiter))}",
            "CRLF line ends" if d.eol == "\r\n" else "LF line ends",
            d.describe_encoding(),
            "with BOM" if d.bom else "no BOM",
        ]
        if d.preamble:
            parts.append(f"{t.header_row - 1} line(s) before the header")
        if d.trailer:
            parts.append(f"{len(d.trailer.splitlines())} trailer line(s)")
        return "CSV, " + ", ".join(parts)

    def render(self, spell: Callable[[str], str] | None = None) -> str:
        """The text ``inspect`` prints; ``spell`` writes the parameters its problems name
        (see :meth:`ordertags.errors.OrderTagsError.render`)."""
        p = self.profile
        how = "forced" if not self.detected else "detected from " + ", ".join(self.detected)
        if p.name == GENERIC.name and not self.detected and not p.mapping_file:
            how = "no platform recognised"
        lines = [
            f"file:      {self.table.source} ({self.layout()})",
            f"profile:   {p.name} ({p.title}; {how})",
        ]
        if p.mapping_file:
            lines.append(f"mapping:   {p.mapping_file}")
        lines.append(f"rows:      {p.describe()}")
        if p.about:
            lines.append(f"note:      {p.about}")
        lines.append("fields:")
        width = max((len(FIELD_TITLES.get(f, f)) for f, _, _ in self.fields), default=0)
        for f, column, backs in self.fields:
            extra = f" (else {backs})" if backs else ""
            lines.append(f"  {FIELD_TITLES.get(f, f):<{width}}  {column}{extra}")
        if self.missing:
            lines.append("  not found: " + ", ".join(FIELD_TITLES.get(f, f) for f in self.missing))
        counts = f"{_n(self.rows, 'row')}, {_n(self.orders, 'order')}"
        if self.customers is not None:
            counts += f", {_n(self.customers, 'customer')}"
            if self.without_customer:
                counts += f" ({_n(self.without_customer, 'order')} without one)"
        if self.items is not None:
            counts += f", {_n(self.items, 'line item')}"
        lines.append(f"counts:    {counts}")
        if self.first_date:
            lines.append(f"dates:     {self.first_date} to {self.last_date}")
        if self.date_style:
            lines.append(f"date style: {self.date_style}")
        if self.totals is not None:
            lines.append(f"totals:    {_per_currency(self.totals)} over {_n(self.orders, 'order')}")
        if self.refunded_orders:
            lines.append(
                f"refunds:   {_per_currency(self.refunds)} on "
                f"{_n(self.refunded_orders, 'order')} (customer spend is net of them)"
            )
        if self.sample:
            lines.append(f"first {_n(len(self.sample), 'order')}:")
            from tabulate import tabulate  # lazy: drawn only here

            lines.append(tabulate(self.sample, headers=self.header, disable_numparse=True))
        if self.failures:
            lines.append("problems:")
            lines += [f"  {what}: {exc.render(spell)}" for what, exc in self.failures]
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)


def _n(count: int, one: str) -> str:
    return f"{count:,} {one if count == 1 else one + 's'}"


def _per_currency(sums: list[tuple[str, int]]) -> str:
    """``1,125.00 GBP + 1,125.00 EUR``; ``3.50`` where no currency is named."""
    if not sums:
        return money(0)
    named = any(c for c, _ in sums)
    return " + ".join(
        f"{money(units)} {c or '(no currency)'}" if named else money(units) for c, units in sums
    )


def _sums_by_currency(frame: Frame, rows: Any, units: Any) -> list[tuple[str, int]]:
    """The sum of ``units`` over frame rows ``rows``, per currency (upper-cased; "" for
    none), largest first."""
    if not frame.has_field("currency"):
        return [("", int(units[rows].sum()))]
    text = pc.utf8_upper(pc.utf8_trim_whitespace(combined(frame.text(field="currency"))))
    enc = pc.dictionary_encode(text.take(pa.array(rows, pa.int64())))
    codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    names = [c or "" for c in enc.dictionary.to_pylist()]
    sums: dict[str, int] = {}
    for j, name in enumerate(names):
        sums[name] = sums.get(name, 0) + int(units[rows[codes == j]].sum())
    return sorted(sums.items(), key=lambda p: (-p[1], p[0]))


def _fmt_date(value: Any) -> str:
    return "" if np.isnat(value) else str(value).replace("T", " ")


def inspect_orders(
    path: str | os.PathLike[str],
    *,
    read: ReadOptions = DEFAULT,
    rows: int = 5,
    region: str | None = None,
) -> Inspection:
    """Read one export and describe it (see the module docstring). Unreadable files
    raise; values that do not parse are listed in ``problems``."""
    (table,) = read_exports([path], read)
    frame = Frame.of([table], as_of=dt.date.today(), read=read, region=region)
    fmap = frame.maps[0]
    found = []
    for f in fmap.index:
        backs = ", ".join(table.columns[j] for j in fmap.fallbacks.get(f, ()))
        found.append((f, fmap.column_name(f) or "", backs))
    found.sort(key=lambda x: list(FIELD_TITLES).index(x[0]) if x[0] in FIELD_TITLES else 99)
    wanted = ("order_id", "email", "total", "date", "name", "phone", "country", "currency")
    missing = [f for f in wanted if fmap.get(f) is None and not frame.has_field(f)]
    report = Inspection(table, table.profile, table.detected, found, missing, rows=table.num_rows)
    failures = report.failures

    def attempt(what: str, fn: Any) -> Any:
        try:
            return fn()
        except OrderTagsError as exc:
            failures.append((what, exc))
            return None

    report.orders = frame.orders.count
    starts = frame.orders.first_rows
    customers = attempt("customers", lambda: frame.customers)
    if customers is not None:
        report.customers = customers.count
        report.without_customer = int((~customers.has_customer[starts]).sum())
    stamps = attempt("dates", lambda: frame.dates.stamps()) if frame.has_field("date") else None
    if frame.has_field("date"):
        fmap_date = fmap.get("date")
        style, source = frame.dates.style_of(
            0,
            frame.raw_field(0, "date"),
            table.columns[fmap_date] if fmap_date is not None else "date",
        )
        report.date_style = f"{date_style_name(style)} ({source})"
        report.warnings = frame.warnings
    if stamps is not None and len(stamps):
        valid = stamps[starts][~np.isnat(stamps[starts])]
        if len(valid):
            report.first_date, report.last_date = _fmt_date(valid.min()), _fmt_date(valid.max())
    totals = (
        attempt("totals", lambda: frame.money.numbers(field="total"))
        if frame.has_field("total")
        else None
    )
    if totals is not None:
        report.totals = _sums_by_currency(frame, starts, frame.money.units(field="total"))
        refunds = attempt("refunds", frame.money.refund_units)
        if refunds is not None:
            given = starts[refunds[starts] > 0]
            report.refunded_orders = len(given)
            if len(given):
                report.refunds = _sums_by_currency(frame, given, refunds)
    if frame.has_field("currency"):
        cur = frame.text(field="currency").to_pylist()
        report.currencies = sorted({c.strip() for c in cur if c and c.strip()})
    items = attempt("line items", lambda: build_items(frame))
    per_order = None
    if items is not None and len(items):
        report.items = len(items)
        per_order = np.bincount(frame.orders.codes[items.order_row], minlength=frame.orders.count)
    # The first orders, field by field, as parsed.
    shown = starts[:rows]
    cols: dict[str, list[str]] = {}
    if frame.has_field("order_id"):
        cols["order id"] = [frame.text(field="order_id")[int(r)].as_py() for r in shown]
    if customers is not None:
        keys = customers.row_keys()
        cols["customer"] = [keys[int(r)].as_py() or "" for r in shown]
    if frame.has_field("name"):
        cols["name"] = [frame.text(field="name")[int(r)].as_py() for r in shown]
    if stamps is not None:
        cols["date"] = [_fmt_date(stamps[int(r)]) for r in shown]
    if totals is not None:
        cols["total"] = ["" if np.isnan(totals[int(r)]) else f"{totals[int(r)]:.2f}" for r in shown]
    for f in ("currency", "country", "channel"):
        if frame.has_field(f):
            cols[f] = [frame.text(field=f)[int(r)].as_py() for r in shown]
    if per_order is not None:
        cols["items"] = [str(per_order[int(frame.orders.codes[int(r)])]) for r in shown]
    report.header = list(cols)
    report.sample = [list(vals) for vals in zip(*cols.values(), strict=True)] if cols else []
    return report
