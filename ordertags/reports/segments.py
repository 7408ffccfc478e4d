"""Segments for people: the RFM groups of the customers, and per-tag figures over time.

:func:`segment_customers` scores :class:`ordertags.reports.lists.CustomerRows` (from a
run, or from a workspace's history) with :mod:`ordertags.customers.rfm`;
:func:`segment_table` sums them per group; :func:`tag_figures` gives, per tag, the
customers, orders and spend of the orders carrying it in the last 30, 90 and 365 days.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.customers.rfm import GROUP_NAMES, Cutoffs, Scores, score
from ordertags.io.safecsv import SafeWriter
from ordertags.reports.lists import CustomerRows, money_text

WINDOWS = (30, 90, 365)


def segment_customers(
    rows: CustomerRows,
    as_of: dt.date,
    *,
    method: str = "quantiles",
    cutoffs: Cutoffs | None = None,
) -> Scores:
    """RFM scores and group of each customer of ``rows`` on ``as_of`` (days since the last
    order, orders, spend in their main currency).

    >>> segment_customers(rows, dt.date(2026, 11, 26)).groups[:2]
    ['new', 'loyal']
    """
    as_day = np.datetime64(as_of.isoformat(), "D")
    with np.errstate(invalid="ignore"):
        days = (as_day - rows.last_order).astype("timedelta64[D]").astype(np.float64)
    days[np.isnat(rows.last_order)] = np.nan
    currency, amount = rows.main_currency()
    return score(
        days,
        rows.orders.astype(np.float64),
        amount.astype(np.float64) / 10_000,
        currency=currency,
        cutoffs=cutoffs,
        method=method,
    )


@dataclass
class GroupLine:
    """One line of the segments table."""

    group: str
    name: str
    customers: int
    share: float
    spend: dict[str, str] = field(default_factory=dict)


@dataclass
class SegmentTable:
    """Customers per RFM group, and how the scores were made."""

    lines: list[GroupLine]
    total: int
    method: str
    reason: str
    thresholds: dict[str, list[float]]


def segment_table(rows: CustomerRows, scores: Scores) -> SegmentTable:
    """Per group (all 11, in :data:`ordertags.customers.rfm.GROUP_NAMES` order): customers,
    their share of all customers, and their spend per currency."""
    groups = np.array(scores.groups, dtype=object)
    total = len(rows)
    lines = []
    for slug, name in GROUP_NAMES.items():
        sel = groups == slug
        count = int(sel.sum())
        spend = {
            cur: money_text(int(rows.spend[cur][sel].sum()))
            for cur in rows.currencies
            if int(rows.spend[cur][sel].sum())
        }
        lines.append(GroupLine(slug, name, count, count / total if total else 0.0, spend))
    return SegmentTable(lines, total, scores.method, scores.reason, scores.thresholds or {})


def _fmt_threshold(value: float) -> str:
    if value != value:  # NaN: no customer reaches that score
        return "-"
    return f"{value:g}"


def thresholds_text(table: SegmentTable) -> list[str]:
    """The thresholds as lines for people: score 2..5 needs at least ..."""
    t = table.thresholds
    if not t:
        return []
    rec = ", ".join(
        f"R{s} <= {_fmt_threshold(v)} days"
        for s, v in zip((5, 4, 3, 2), t.get("recency_days", []), strict=False)
    )
    freq = ", ".join(
        f"F{s} >= {_fmt_threshold(v)}"
        for s, v in zip((2, 3, 4, 5), t.get("frequency", []), strict=False)
    )
    mon = ", ".join(
        f"M{s} >= {_fmt_threshold(v)}"
        for s, v in zip((2, 3, 4, 5), t.get("monetary", []), strict=False)
    )
    return [
        f"scores from {table.method}" + (f" ({table.reason})" if table.reason else ""),
        f"recency: {rec} (else R1)",
        f"frequency (orders): {freq} (else F1)",
        f"monetary (spend): {mon} (else M1)",
    ]


def segment_table_csv(table: SegmentTable) -> str:
    """The table as CSV (cells made inert for spreadsheets)."""
    currencies = sorted({c for line in table.lines for c in line.spend})
    header = ["Group", "Customers", "Share", *[f"Spend {c}".strip() for c in currencies]]
    buf = io.StringIO()
    writer = SafeWriter(csv.writer(buf, lineterminator="\r\n"), header=header, numeric=header[1:])
    writer.writerow(header)
    for line in table.lines:
        writer.writerow(
            [
                line.name,
                str(line.customers),
                f"{line.share * 100:.1f}",
                *[line.spend.get(c, "0.00") for c in currencies],
            ]
        )
    return buf.getvalue()


def segment_table_json(table: SegmentTable) -> str:
    return json.dumps(asdict(table), ensure_ascii=False, indent=2) + "\n"


# --- per tag over time ------------------------------------------------------------------


@dataclass
class TagWindow:
    """One tag's figures over the last ``days`` days."""

    days: int
    customers: int
    orders: int
    spend: dict[str, str]


@dataclass
class TagLine:
    tag: str
    windows: list[TagWindow]


def tag_figures(annotated: Any, windows: Sequence[int] = WINDOWS) -> list[TagLine]:
    """Per tag of the run (tag-book order of priority): for each window of days before the
    as-of date, the customers with an order carrying the tag, those orders, and their
    spend per currency. Customer tags mark every order of the customer, so this is what
    the tagged customers bought in that time."""
    frame = annotated.frame
    book = annotated.tagbook
    masks = annotated.tag_masks
    customers = annotated.customers
    # Each order once; a fully refunded one is no purchase.
    starts = frame.orders.counted & customers.has_customer & ~frame.money.fully_refunded()
    person = customers.row_people()
    units = (
        frame.money.net_units()  # spend: net of refunds
        if frame.has_field("total")
        else np.zeros(frame.n, dtype=np.int64)
    )
    currency = (
        pc.utf8_upper(pc.utf8_trim_whitespace(frame.text(field="currency").combine_chunks()))
        if frame.has_field("currency")
        else pa.repeat(pa.scalar("", pa.string()), frame.n)
    )
    enc = pc.dictionary_encode(currency)
    cur_idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False))
    names = [c or "" for c in enc.dictionary.to_pylist()]
    in_window = {
        d: frame.dates.within_days(d) if frame.has_field("date") else None for d in windows
    }
    out = []
    for tag in book.rank(masks):
        per = []
        for d in windows:
            w = in_window[d]
            sel = starts & masks[tag] & (w if w is not None else np.zeros(frame.n, dtype=bool))
            rows = np.flatnonzero(sel)
            spend = {}
            for ci, name in enumerate(names):
                total = int(units[rows[cur_idx[rows] == ci]].sum())
                if total:
                    spend[name] = money_text(total)
            per.append(TagWindow(d, int(np.unique(person[rows]).size), int(len(rows)), spend))
        out.append(TagLine(tag, per))
    return out


def tag_figures_csv(lines: list[TagLine]) -> str:
    currencies = sorted({c for line in lines for w in line.windows for c in w.spend})
    header = ["Tag", "Days", "Customers", "Orders", *[f"Spend {c}".strip() for c in currencies]]
    buf = io.StringIO()
    writer = SafeWriter(csv.writer(buf, lineterminator="\r\n"), header=header, numeric=header[1:])
    writer.writerow(header)
    for line in lines:
        for w in line.windows:
            writer.writerow(
                [
                    line.tag,
                    str(w.days),
                    str(w.customers),
                    str(w.orders),
                    *[w.spend.get(c, "0.00") for c in currencies],
                ]
            )
    return buf.getvalue()


def tag_figures_json(lines: list[TagLine]) -> str:
    return json.dumps([asdict(line) for line in lines], ensure_ascii=False, indent=2) + "\n"
