"""The orders of one run, seen as columns: the view rules are evaluated on.

Several exports can go into one run; a :class:`Frame` stacks their rows (in the order
the files were given: :class:`ordertags.engine.columns.Columns`) and answers, per
column, for all rows at once. Its parts each do one job, built on the columns:

- :attr:`Frame.orders` (:class:`ordertags.engine.orders.Orders`): which rows are which
  order, an order field on every row of its order, the one key of an order across
  exports (an order hub's copy and the channel's own);
- :attr:`Frame.money` (:class:`ordertags.engine.money.Money`): totals, refunds, customer
  spend in one currency;
- :attr:`Frame.dates` (:class:`ordertags.engine.dates.Dates`): dates read in each
  export's style, the windows rules count in;
- :attr:`Frame.identities` (:class:`ordertags.engine.identities.Identities`): what each
  row's customer key is made from; :attr:`Frame.customers` groups the rows by it.

Conversions (customer keys, money, dates, lower-cased text) are done once, when first
asked for, and only for the columns a rule needs: a bad value in a column no rule uses
is no error. A raw column (``column=``) is always read row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.customers.grouping import Customers
from ordertags.engine.arrays import BLANK, BoolArray, combined
from ordertags.engine.columns import Columns, stacked
from ordertags.engine.dates import Dates
from ordertags.engine.identities import Identities
from ordertags.engine.money import Money
from ordertags.engine.orders import Orders
from ordertags.io.options import ReadOptions
from ordertags.io.readers import OrderTable


class Frame(Columns):
    """All rows of a run (:class:`ordertags.engine.columns.Columns`) and its parts:
    :attr:`orders`, :attr:`money`, :attr:`dates`, :attr:`identities`."""

    def __init__(
        self,
        tables: Sequence[OrderTable],
        *,
        as_of: dt.date,
        overrides: Mapping[str, str | None] | None = None,
        money_style: str | None = None,
        date_style: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(tables, overrides=overrides)
        self.as_of = as_of
        self._cache: dict[tuple[str, str], Any] = {}
        self.orders = Orders(self)
        self.money = Money(self, self.orders, style=money_style)
        self.dates = Dates(self, self.orders, as_of=as_of, style=date_style, region=region)
        self.identities = Identities(self, self.orders)

    @classmethod
    def of(
        cls,
        tables: Sequence[OrderTable],
        *,
        as_of: dt.date,
        read: ReadOptions,
        region: str | None = None,
    ) -> Frame:
        """The frame of ``tables`` read with ``read`` (its columns and styles); ``region``
        decides numeric dates nothing else decides."""
        return cls(
            tables,
            as_of=as_of,
            overrides=read.columns,
            money_style=read.money_style,
            date_style=read.date_style,
            region=region,
        )

    def text(self, *, field: str | None = None, column: str | None = None) -> pa.ChunkedArray:
        """The raw text of a field or column for every row ("" in files without it). An
        order field gives the order's value on every row of the order."""
        if field:
            return self.orders.text(field)
        key = ("text", f"col:{column}")
        if key not in self._cache:
            pieces = []
            for table, fmap in zip(self.tables, self.maps, strict=True):
                i = fmap.find_column(column or "")
                pieces.append(pa.repeat(BLANK, table.num_rows) if i is None else table.column(i))
            self._cache[key] = stacked(pieces)
        result: pa.ChunkedArray = self._cache[key]
        return result

    def lower(self, *, field: str | None = None, column: str | None = None) -> pa.ChunkedArray:
        key = ("lower", field or f"col:{column}")
        if key not in self._cache:
            self._cache[key] = pc.utf8_lower(self.text(field=field, column=column))
        result: pa.ChunkedArray = self._cache[key]
        return result

    def encoded(
        self, *, field: str | None = None, column: str | None = None, folded: bool = False
    ) -> tuple[np.ndarray[Any, np.dtype[np.int32]], pa.Array]:
        """The distinct values of a text column (lower-cased if ``folded``) and, per row,
        the index of its value. Text conditions are evaluated once per distinct value
        (a Country column has a few dozen) and broadcast, so hundreds of rules stay cheap.
        """
        key = ("enc", field or f"col:{column}")
        if key not in self._cache:
            text = self.text(field=field, column=column)
            encoded = pc.dictionary_encode(combined(text))
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
            self._cache[key] = (codes, encoded.dictionary, None)
        codes, values, lowered = self._cache[key]
        if folded:
            if lowered is None:
                lowered = pc.utf8_lower(values)
                self._cache[key] = (codes, values, lowered)
            return codes, lowered
        return codes, values

    def rows_with_values(
        self, per_value: BoolArray, *, field: str | None = None, column: str | None = None
    ) -> BoolArray:
        """Per row: is its value one of those ``per_value`` marks (a bool per distinct value
        of :meth:`encoded`)? Few marked values touch only their own rows: the rows are
        kept grouped by value, so a rule picking one country out of twenty costs that
        country's rows, not the whole column."""
        codes, _ = self.encoded(field=field, column=column)
        hits = np.flatnonzero(per_value)
        if len(hits) == 0:
            return np.zeros(self.n, dtype=bool)
        key = ("byvalue", field or f"col:{column}")
        if key not in self._cache:
            # Few distinct values (a country, a service): 16-bit codes sort by radix.
            keys = codes.astype(np.uint16) if len(per_value) <= 65_536 else codes
            order = np.argsort(keys, kind="stable").astype(np.int32)
            starts = np.searchsorted(codes[order], np.arange(len(per_value) + 1))
            self._cache[key] = (order, starts)
        order, starts = self._cache[key]
        sizes = starts[hits + 1] - starts[hits]
        total = int(sizes.sum())
        if total * 8 > self.n:  # a large share: one gather over all rows is cheaper
            result: BoolArray = per_value[codes]
            return result
        out = np.zeros(self.n, dtype=bool)
        # The rows of every hit value, as one index: each value's run in ``order``.
        run_start = np.repeat(starts[hits] - np.cumsum(sizes) + sizes, sizes)
        out[order[run_start + np.arange(total)]] = True
        return out

    @cached_property
    def customers(self) -> Customers:
        """The customers of the run told apart by their key alone: a normalised email, or
        (on platforms without one) the platform's buyer id, so several exports of
        different platforms form one customer history. A run with links or a history
        merges them further (:func:`ordertags.engine.resolution.resolve_customers`)."""
        return Customers.from_emails(self.identities.text())
