"""Dates in a run's orders: how each export writes them, read once, and the windows
rules count in.

A date written ``03/04/2026`` could be day-first or month-first: :meth:`Dates.style_of`
decides per file and column from what is said (``--date-style``, a mapping file, the
platform), from the dates themselves, or from the region, and says so where it has to
assume. An order field (``date``) gives the order's date on every row of the order
(:class:`ordertags.engine.orders.Orders`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.arrays import BoolArray, combined
from ordertags.engine.columns import Columns, joined
from ordertags.engine.orders import Orders
from ordertags.io.platforms import ITEM_FIELDS
from ordertags.io.values import (
    DATE_STYLE_ALIASES,
    date_style_name,
    numeric_date_order,
    parse_dates,
    region_date_style,
)


class Dates:
    """The dates of a run's orders, as of ``as_of`` (the day the run counts windows
    from). ``style`` forces how dates are written (``--date-style``; None: each export's
    profile decides); ``region`` decides ambiguous numeric dates (None: nobody said)."""

    def __init__(
        self,
        cols: Columns,
        orders: Orders,
        *,
        as_of: dt.date,
        style: str | None = None,
        region: str | None = None,
    ) -> None:
        self.cols = cols
        self.orders = orders
        self.as_of = as_of
        self.style = DATE_STYLE_ALIASES.get(style or "", style) or None
        self.region = region.upper() if region else None
        self._cache: dict[tuple[str, str], Any] = {}

    def style_of(
        self, ti: int, values: pa.ChunkedArray | pa.Array | None = None, column: str = ""
    ) -> tuple[str, str]:
        """How the dates of table ``ti`` (its ``column``) are read, and why: ``--date-style``;
        the mapping file's ``dates``; the platform's own layout; what the dates say
        (a first part above 12: day first; a second part above 12: month first); the
        region (``--default-region``, the workspace's); else, where the data cannot
        tell and nothing says, slashed dates month first and dashed or dotted ones day
        first, with a warning (once per file and column) naming the style assumed."""
        key = ("datestyle", f"{ti}:{column}")
        if key in self._cache:
            cached: tuple[str, str] = self._cache[key]
            return cached
        profile = self.cols.profiles[ti]
        if self.style:
            found = (self.style, "--date-style")
        elif profile.dates_from:
            found = (profile.dates, profile.dates_from)
        elif profile.dates != "auto":
            found = (profile.dates, f"{profile.name} exports write it")
        else:
            order = None if values is None else numeric_date_order(values)
            if order is None:
                found = ("auto", "each value's layout")
            elif order in ("eu", "us"):
                found = (order, "the dates themselves")
            elif order == "mixed":
                found = ("auto", "each value's layout")  # parse_dates says what is wrong
            elif self.region:
                found = (region_date_style(self.region), f"region {self.region}")
            else:
                slashed = bool(pc.any(pc.match_substring(combined(values), "/")).as_py())
                style = "us" if slashed else "eu"
                found = (style, "assumed")
                where = f" ({column})" if column else ""
                self.cols.warnings.append(
                    f"{self.cols.tables[ti].source}{where}: every date could be day-first or "
                    f"month-first; read as {date_style_name(style)}. Say which with "
                    "--date-style day-first|month-first, `dates:` in a mapping file, or "
                    "the workspace's region (--default-region)."
                )
        self._cache[key] = found
        return found

    def stamps(
        self, *, field: str | None = "date", column: str | None = None, optional: bool = False
    ) -> np.ndarray[Any, np.dtype[np.datetime64]]:
        """A date field as datetime64[s] (NaT where blank). Bad values raise. An order
        field gives the order's date on every row of the order. With ``optional``, the
        rows of an export without the field are NaT."""
        optional = self.cols.optional_for(field, optional)
        key = ("date", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            parts = []
            for ti, table in enumerate(self.cols.tables):
                fmap = self.cols.maps[ti]
                if optional and field and not self.cols.has(ti, field):
                    parts.append(np.full(table.num_rows, np.datetime64("NaT"), "datetime64[s]"))
                    continue
                if field:
                    raw = self.cols.raw_field(ti, field)
                    if raw is None:
                        raise fmap.missing(field, file=table.source)
                    i = fmap.get(field)
                    name = table.columns[i] if i is not None else field
                else:
                    i = fmap.find_column(column or "")
                    if i is None:
                        parts.append(np.full(table.num_rows, np.datetime64("NaT"), "datetime64[s]"))
                        continue
                    raw, name = table.column(i), table.columns[i]
                arr = parse_dates(
                    raw,
                    style=self.style_of(ti, raw, name)[0],
                    file=table.source,
                    column=name,
                    row_offset=table.row_offset,
                )
                stamps = arr.to_numpy(zero_copy_only=False).astype("datetime64[s]")
                g = self.orders.groups(ti)
                if field and field not in ITEM_FIELDS and g.codes is not None:
                    stamps = stamps[self.orders.first_valid(ti, ~np.isnat(stamps))][g.codes]
                parts.append(stamps)
            self._cache[key] = joined(parts, "datetime64[s]")
        result: np.ndarray[Any, np.dtype[np.datetime64]] = self._cache[key]
        return result

    def within_days(self, days: int) -> BoolArray:
        """Rows dated from the as-of date minus ``days`` (inclusive) to the as-of date
        (exclusive)."""
        key = ("window", str(days))
        if key not in self._cache:
            stamps = self.stamps()
            end = np.datetime64(self.as_of.isoformat(), "s")
            start = end - np.timedelta64(days, "D")
            with np.errstate(invalid="ignore"):
                self._cache[key] = (stamps >= start) & (stamps < end)
        result: BoolArray = self._cache[key]
        return result

    def customer_window(self, days: int) -> BoolArray:
        """The run's own rows a customer window of ``days`` counts: those dated from its
        start (the as-of date minus ``days``, inclusive) on, with no end. The run's
        orders are the ones being packed: dated today (``--as-of`` defaults to today),
        later today in another time zone or after an as-of date given by hand, each is
        one of the customer's orders in the last ``days`` days. An undated order is in
        no window (nor is the history's). (The history's orders count up to the end of
        the as-of day: see :func:`ordertags.engine.resolution.history_window`.)"""
        key = ("customer-window", str(days))
        if key not in self._cache:
            stamps = self.stamps()
            start = np.datetime64(self.as_of.isoformat(), "s") - np.timedelta64(days, "D")
            with np.errstate(invalid="ignore"):
                self._cache[key] = stamps >= start  # NaT compares False
        result: BoolArray = self._cache[key]
        return result
