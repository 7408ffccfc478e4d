"""The orders of one run, seen as columns: the view rules are evaluated on.

Several exports can go into one run; a :class:`Frame` stacks their rows (in the order
the files were given) and answers, per column, for all rows at once. Conversions
(customer keys, money, dates, lower-cased text) are done once, when first asked for,
and only for the columns a rule needs: a bad value in a column no rule uses is no error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .customers import Customers, email_domains
from .errors import ColumnError
from .fields import FIELD_OPTIONS, FieldMap, map_fields
from .readers import OrderTable
from .values import money_to_units, parse_dates, parse_money

#: Field names a rule can use besides the export's own columns.
VIRTUAL_FIELDS = ("email", "email_domain", "total", "date", "order_id", "name")

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


class Frame:
    """All rows of a run. Row ``i`` of the frame is row ``i - offset`` of its table."""

    def __init__(self, tables: Sequence[OrderTable], *, as_of: dt.date,
                 overrides: Mapping[str, str | None] | None = None,
                 money_style: str = "plain", date_style: str = "auto") -> None:
        self.tables = list(tables)
        self.as_of = as_of
        self.money_style = money_style
        self.date_style = date_style
        self.maps: list[FieldMap] = [
            map_fields(t.columns, overrides=overrides, file=t.source) for t in self.tables]
        self.offsets = np.cumsum([0] + [t.num_rows for t in self.tables])
        self.n = int(self.offsets[-1])
        self._cache: dict[tuple[str, str], Any] = {}

    # --- where things are -------------------------------------------------------------

    def has_field(self, field: str) -> bool:
        return any(m.get(field) is not None for m in self.maps)

    def require_field(self, field: str) -> None:
        """Raise for the first file that has no column for ``field``."""
        for table, fmap in zip(self.tables, self.maps, strict=True):
            fmap.require(field, file=table.source)

    def has_column(self, name: str) -> bool:
        return any(m.find_column(name) is not None for m in self.maps)

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.tables:
            seen.update(dict.fromkeys(t.columns))
        return list(seen)

    def _pieces(self, field: str | None, column: str | None) -> list[tuple[OrderTable, int | None]]:
        out = []
        for table, fmap in zip(self.tables, self.maps, strict=True):
            i = fmap.get(field) if field else fmap.find_column(column or "")
            out.append((table, i))
        return out

    def _stack(self, pieces: list[pa.ChunkedArray]) -> pa.ChunkedArray:
        chunks = [c for p in pieces for c in p.chunks]
        return pa.chunked_array(chunks, type=pa.string())

    def text(self, *, field: str | None = None, column: str | None = None) -> pa.ChunkedArray:
        """The raw text of a field or column for every row ("" in files without it)."""
        key = ("text", field or f"col:{column}")
        if key not in self._cache:
            pieces = []
            for table, i in self._pieces(field, column):
                if i is None:
                    blank = pa.repeat(pa.scalar("", pa.string()), table.num_rows)
                    pieces.append(pa.chunked_array([blank]))
                else:
                    pieces.append(table.column(i))
            self._cache[key] = self._stack(pieces)
        result: pa.ChunkedArray = self._cache[key]
        return result

    def lower(self, *, field: str | None = None, column: str | None = None) -> pa.ChunkedArray:
        key = ("lower", field or f"col:{column}")
        if key not in self._cache:
            self._cache[key] = pc.utf8_lower(self.text(field=field, column=column))
        result: pa.ChunkedArray = self._cache[key]
        return result

    def encoded(self, *, field: str | None = None, column: str | None = None,
                folded: bool = False) -> tuple[np.ndarray[Any, np.dtype[np.int32]], pa.Array]:
        """The distinct values of a text column (lower-cased if ``folded``) and, per row,
        the index of its value. Text conditions are evaluated once per distinct value
        (a Country column has a few dozen) and broadcast, so hundreds of rules stay cheap.
        """
        key = ("enc", field or f"col:{column}")
        if key not in self._cache:
            text = self.text(field=field, column=column)
            encoded = pc.dictionary_encode(text.combine_chunks())
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
            self._cache[key] = (codes, encoded.dictionary, None)
        codes, values, lowered = self._cache[key]
        if folded:
            if lowered is None:
                lowered = pc.utf8_lower(values)
                self._cache[key] = (codes, values, lowered)
            return codes, lowered
        return codes, values

    # --- customers ----------------------------------------------------------------------

    @cached_property
    def customers(self) -> Customers:
        """The customers of the run; conditions on the email are evaluated once per
        customer on ``customers.keys`` and broadcast to rows."""
        self.require_field("email")
        return Customers.from_emails(self.text(field="email"))

    @cached_property
    def customer_domains(self) -> pa.Array:
        """The email domain of each customer (per customer, not per row)."""
        return email_domains(self.customers.keys)

    @cached_property
    def order_starts(self) -> BoolArray:
        """True on the row that carries an order's totals (every row, for one-row orders)."""
        return np.ones(self.n, dtype=bool)

    # --- numbers and dates --------------------------------------------------------------

    def numbers(self, *, field: str | None = None, column: str | None = None) \
            -> np.ndarray[Any, np.dtype[np.float64]]:
        """A money or number field as float64 (NaN where blank). Bad values raise."""
        key = ("num", field or f"col:{column}")
        if key not in self._cache:
            parts = []
            for table, i in self._pieces(field, column):
                if i is None:
                    if field:
                        raise ColumnError(
                            f"no {field} column, and a rule needs it.", file=table.source,
                            hint=f"Name it with {FIELD_OPTIONS.get(field, '--' + field)}.")
                    parts.append(np.full(table.num_rows, np.nan))
                    continue
                arr = parse_money(table.column(i), style=self.money_style, file=table.source,
                                  column=table.columns[i], row_offset=table.row_offset)
                parts.append(pc.fill_null(arr, np.nan).to_numpy(zero_copy_only=False)
                             .astype(np.float64, copy=False))
            self._cache[key] = np.concatenate(parts) if parts else np.zeros(0)
        result: np.ndarray[Any, np.dtype[np.float64]] = self._cache[key]
        return result

    def money_units(self, *, field: str | None = None, column: str | None = None) \
            -> np.ndarray[Any, np.dtype[np.int64]]:
        """Money in ten-thousandths, exact for sums (blank -> 0)."""
        key = ("units", field or f"col:{column}")
        if key not in self._cache:
            nums = self.numbers(field=field, column=column)
            self._cache[key] = money_to_units(pa.array(nums, from_pandas=True))
        result: np.ndarray[Any, np.dtype[np.int64]] = self._cache[key]
        return result

    def dates(self, *, field: str | None = "date", column: str | None = None) \
            -> np.ndarray[Any, np.dtype[np.datetime64]]:
        """A date field as datetime64[s] (NaT where blank). Bad values raise."""
        key = ("date", field or f"col:{column}")
        if key not in self._cache:
            parts = []
            for table, i in self._pieces(field, column):
                if i is None:
                    if field:
                        table_map = self.maps[self.tables.index(table)]
                        table_map.require(field, file=table.source)
                    parts.append(np.full(table.num_rows, np.datetime64("NaT"), "datetime64[s]"))
                    continue
                arr = parse_dates(table.column(i), style=self.date_style, file=table.source,
                                  column=table.columns[i], row_offset=table.row_offset)
                parts.append(arr.to_numpy(zero_copy_only=False).astype("datetime64[s]"))
            self._cache[key] = np.concatenate(parts) if parts else \
                np.zeros(0, "datetime64[s]")
        result: np.ndarray[Any, np.dtype[np.datetime64]] = self._cache[key]
        return result

    def within_days(self, days: int) -> BoolArray:
        """Rows dated from the as-of date minus ``days`` (inclusive) to the as-of date
        (exclusive)."""
        key = ("window", str(days))
        if key not in self._cache:
            stamps = self.dates()
            end = np.datetime64(self.as_of.isoformat(), "s")
            start = end - np.timedelta64(days, "D")
            with np.errstate(invalid="ignore"):
                self._cache[key] = (stamps >= start) & (stamps < end)
        result: BoolArray = self._cache[key]
        return result

    # --- locating rows, for messages ------------------------------------------------------

    def locate(self, row: int) -> tuple[OrderTable, int]:
        """The table of frame row ``row`` and the row number a person sees in it."""
        t = int(np.searchsorted(self.offsets, row, side="right")) - 1
        table = self.tables[t]
        return table, row - int(self.offsets[t]) + table.row_offset
