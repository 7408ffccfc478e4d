"""Which rows are which order: rows grouped into orders, an order's fields on every
row of it, and the same order told apart across exports.

Where a platform writes one row per line item (Shopify, Amazon, eBay, Etsy items,
AlgolPlus, Linnworks), the rows of one order are grouped by its order id
(:attr:`Orders.codes`, :attr:`Orders.starts`). An order field (email, total, date,
country, ...) read through :meth:`Orders.text` gives, on every row of an order, the
order's value: the first one its rows hold (Shopify fills them on the first row only;
AlgolPlus repeats its totals on every row, and they are counted once). The written
output never sees these copies: it is made from the tables as read.

An order several exports hold (an Amazon order in the Amazon report and in Linnworks'
export) is one order: :attr:`Orders.distinct` is the one key for an order (its channel
and its number there), :attr:`Orders.counted` the copy the run counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.arrays import BLANK, BoolArray, IntArray, combined, count_codes, nonblank
from ordertags.engine.columns import Columns, joined, stacked
from ordertags.io.platforms import ITEM_FIELDS, clean_id, normalise_channel


def order_id_keys(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Order numbers as compared across files, a column at a time: surrounding spaces
    and a leading ``'`` (Excel) or ``#`` (Shopify) dropped. The one-value twin, for the
    quick commands, is :func:`ordertags.io.lookup.norm_order_id`."""
    values = combined(values)
    stripped = pc.utf8_ltrim(pc.utf8_trim_whitespace(values), "'#")
    result: pa.Array = pc.utf8_trim_whitespace(stripped)
    return result


@dataclass
class Groups:
    """How the rows of one table form orders: a local order code per row (None: one row
    per order, codes are the row numbers), the number of orders, the first row of each
    order and which rows start one (None: every row)."""

    codes: IntArray | None
    count: int
    first: IntArray | None
    starts: BoolArray | None


class Orders:
    """The orders of a run's rows (:class:`ordertags.engine.columns.Columns`)."""

    def __init__(self, cols: Columns) -> None:
        self.cols = cols
        self._groups: dict[int, Groups] = {}
        self._text: dict[str, pa.ChunkedArray] = {}

    def groups(self, ti: int) -> Groups:
        """How the rows of table ``ti`` form orders (worked out once)."""
        if ti in self._groups:
            return self._groups[ti]
        table, profile = self.cols.tables[ti], self.cols.profiles[ti]
        n = table.num_rows
        skip = table.skip_rows
        if n == 0 or (
            (not profile.grouped or self.cols.maps[ti].get("order_id") is None) and skip is None
        ):
            groups = Groups(None, n, None, None)
        else:
            groups = self._group_rows(ti, n, skip)
        self._groups[ti] = groups
        return groups

    def _group_rows(self, ti: int, n: int, skip: BoolArray | None) -> Groups:
        """Group rows by the order id (rows need not be adjacent); a row with a blank id
        continues the order above it; rows that are not orders (``skip``) join the order
        above them without starting one."""
        profile, fmap = self.cols.profiles[ti], self.cols.maps[ti]
        rows = np.arange(n, dtype=np.int64)
        if profile.grouped and fmap.get("order_id") is not None:
            ids = self.cols.raw_field(ti, "order_id")
            assert ids is not None
            ids = pc.utf8_trim_whitespace(combined(ids))
            blank = ~nonblank(ids)
            if skip is not None:
                blank |= skip
            keyed = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), ids)
            idx = np.asarray(
                pc.fill_null(pc.dictionary_encode(keyed).indices, -1).to_numpy(
                    zero_copy_only=False
                ),
                dtype=np.int64,
            )
        else:  # one row per order, but some rows are not orders
            assert skip is not None
            idx = np.where(skip, -1, np.cumsum(~skip) - 1)
            blank = skip
        has_key = idx >= 0
        not_order = skip if skip is not None else np.zeros(n, dtype=bool)
        if has_key.all():
            codes = idx
        else:
            last = np.maximum.accumulate(np.where(has_key, rows, -1))
            codes = np.where(last >= 0, idx[np.maximum(last, 0)], -1)
            lead = (codes < 0) & ~not_order  # rows before the first id: an order each
            k = int(lead.sum())
            codes = np.where(lead, np.cumsum(lead) - 1, np.where(codes >= 0, codes + k, -1))
            # Rows that are not orders and come before any order join the first one.
            codes = np.where(codes < 0, 0, codes)
        counted = np.flatnonzero(~not_order)
        starts = np.zeros(n, dtype=bool)
        if len(counted):
            c = codes[counted]
            high = np.maximum.accumulate(c)
            first_of = np.empty(len(c), dtype=bool)
            first_of[0] = True
            first_of[1:] = c[1:] > high[:-1]
            starts[counted[first_of]] = True
        first = np.flatnonzero(starts).astype(np.int64)
        if not len(first):  # no order at all: every row is a report line
            return Groups(np.zeros(n, dtype=np.int64), 0, first, starts)
        return Groups(codes.astype(np.int64, copy=False), len(first), first, starts)

    @cached_property
    def count(self) -> int:
        """How many orders the run has (rows, where each row is an order)."""
        return sum(self.groups(i).count for i in range(len(self.cols.tables)))

    @cached_property
    def offsets(self) -> IntArray:
        """Per table, the index of its first order in the run (and the count at the end)."""
        counts = [self.groups(i).count for i in range(len(self.cols.tables))]
        offsets: IntArray = np.cumsum([0, *counts]).astype(np.int64)
        return offsets

    @cached_property
    def grouped(self) -> bool:
        """Does any order of the run span several rows (or any row not be an order)?"""
        return any(self.groups(i).codes is not None for i in range(len(self.cols.tables)))

    @cached_property
    def starts(self) -> BoolArray:
        """True on the first row of each order (the row carrying its order-level fields);
        every row, where each row is an order."""
        if not self.grouped:
            return np.ones(self.cols.n, dtype=bool)
        parts = []
        for ti, table in enumerate(self.cols.tables):
            g = self.groups(ti)
            parts.append(np.ones(table.num_rows, dtype=bool) if g.starts is None else g.starts)
        return joined(parts, bool)

    @cached_property
    def codes(self) -> IntArray:
        """Per row, the index of its order in the run (0 .. count - 1, in order of
        first appearance)."""
        parts = []
        for ti, table in enumerate(self.cols.tables):
            g = self.groups(ti)
            base = int(self.offsets[ti])
            local = np.arange(table.num_rows, dtype=np.int64) if g.codes is None else g.codes
            parts.append(local + base)
        return joined(parts, np.int64)

    @cached_property
    def first_rows(self) -> IntArray:
        """Per order, the frame row of its first row."""
        return np.flatnonzero(self.starts).astype(np.int64)

    def _channel(self, ti: int) -> pa.Array:
        """Per row of table ``ti``: its order's channel in the one vocabulary
        (:func:`ordertags.io.platforms.normalise_channel`): the platform's own for a
        platform export, else what the channel column says ("" where nothing does)."""
        profile, n = self.cols.profiles[ti], self.cols.tables[ti].num_rows
        if profile.channel:
            return pa.repeat(pa.scalar(profile.channel, pa.string()), n)
        if not self.cols.has(ti, "channel"):
            return pa.repeat(BLANK, n)
        encoded = pc.dictionary_encode(combined(self.table_text(ti, "channel")))
        names = [normalise_channel(t or "")[0] for t in encoded.dictionary.to_pylist()]
        result: pa.Array = pa.array(names, pa.string()).take(encoded.indices)
        return result

    def _number(self, ti: int) -> pa.Array:
        """Per row of table ``ti``: its order's number on its channel: the channel's
        reference where an order hub gives the order a number of its own (Linnworks'
        Reference Num), else the order id; normalised as :func:`order_id_keys`."""
        own = (
            order_id_keys(self.table_text(ti, "order_id"))
            if self.cols.has(ti, "order_id")
            else pa.repeat(BLANK, self.cols.tables[ti].num_rows)
        )
        if not self.cols.has(ti, "reference"):
            return own
        ref = order_id_keys(self.table_text(ti, "reference"))
        result: pa.Array = pc.if_else(pc.equal(ref, ""), own, ref)
        return result

    @cached_property
    def channels(self) -> pa.Array:
        """Per row: the channel of its order (``amazon``, ``ebay``, ``shopify``...)."""
        parts = [self._channel(ti) for ti in range(len(self.cols.tables))]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    @cached_property
    def numbers(self) -> pa.Array:
        """Per row: its order's number on its channel ("" where it has none)."""
        parts = [self._number(ti) for ti in range(len(self.cols.tables))]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    @cached_property
    def aliases(self) -> pa.Array:
        """Per row: its order's other number ("" where none): the order hub's own id
        where the channel's number is the order's identity (Linnworks' Order Id)."""
        parts = []
        for ti, table in enumerate(self.cols.tables):
            if self.cols.has(ti, "reference") and self.cols.has(ti, "order_id"):
                own = order_id_keys(self.table_text(ti, "order_id"))
                ref = order_id_keys(self.table_text(ti, "reference"))
                parts.append(pc.if_else(pc.equal(ref, ""), BLANK, own))
            else:
                parts.append(pa.repeat(BLANK, table.num_rows))
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    def find(self, number: str) -> int:
        """The first row of the order known by ``number`` (any of its numbers: the
        channel's, an order hub's own id; ``#1042`` is ``1042``), -1 where none."""
        want = clean_id(number)
        best = -1
        for values in (self.numbers, self.aliases):
            at = int(pc.index(values, want).as_py())
            if at >= 0 and (best < 0 or at < best):
                best = at
        if best < 0 and self.cols.has_field("order_id"):
            best = int(pc.index(order_id_keys(self.text("order_id")), want).as_py())
        return best

    def is_hub(self, ti: int) -> bool:
        """Is table ``ti`` an order hub's export (Linnworks): copies of other channels'
        orders, each with a number of the hub's own beside the channel's?"""
        return self.cols.profiles[ti].hub or (
            self.cols.has(ti, "reference") and self.cols.has(ti, "order_id")
        )

    @cached_property
    def copy_ranks(self) -> IntArray:
        """Per table: whose copy of its orders it holds, 1 a channel's own export's, 0
        an order hub's (Linnworks'); where two copies of an order disagree, the higher
        rank's wins (in a run and in the history alike)."""
        ranks = [0 if self.is_hub(i) else 1 for i in range(len(self.cols.tables))]
        return np.array(ranks, dtype=np.int64)

    @cached_property
    def counted(self) -> BoolArray:
        """True on the first row of each order the run counts: an order that several
        exports hold (the same channel and number: an Amazon order in the Amazon
        report and in Linnworks' export) counts once, in the copy of the channel's own
        export (not an order hub's), and among equals the last export given. Orders
        with no number all count."""
        starts = self.starts
        if len(self.cols.tables) < 2:
            return starts  # one export holds each order once (its rows are grouped)
        rows = np.flatnonzero(starts)
        codes = self.distinct[rows]  # an order without a number: a code of its own
        if len(np.unique(codes)) == len(codes):
            return starts  # no order is held twice
        table_of = np.searchsorted(self.cols.offsets, rows, side="right") - 1
        rank = self.copy_ranks[table_of]
        # Highest rank wins, then the latest row: one score per order, the best per key.
        score = rank * (self.cols.n + 1) + rows
        best = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        np.maximum.at(best, codes, score)
        keep = best[codes] == score
        out = np.zeros(self.cols.n, dtype=bool)
        out[rows[keep]] = True
        return out

    @cached_property
    def distinct(self) -> IntArray:
        """Per row: one number per order of the run, the same for every copy of it (an
        order that a channel's export and an order hub's both hold: the same channel and
        number); an order with no number is one of its own."""
        first = self.first_rows
        numbers = self.numbers.take(pa.array(first))
        keyed = pc.binary_join_element_wise(self.channels.take(pa.array(first)), numbers, "\x1f")
        encoded = pc.dictionary_encode(keyed)
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        blank = np.asarray(pc.equal(numbers, "").to_numpy(zero_copy_only=False), dtype=bool)
        codes[blank] = int(codes.max(initial=-1)) + 1 + np.arange(int(blank.sum()))
        per_row: IntArray = codes[self.codes]
        return per_row

    def count_distinct(self, mask: BoolArray) -> int:
        """How many orders have ``mask`` on any row of any of their copies: a Shopify
        order of three line items counts once, and so does an order that the channel's
        export and Linnworks' export both hold."""
        if len(self.cols.tables) < 2:
            return self.count_any(mask)
        return count_codes(self.distinct, mask)

    def count_any(self, mask: BoolArray) -> int:
        """How many orders have ``mask`` on any of their rows (a Shopify order of three
        line items counts once)."""
        if not self.grouped:
            return int(np.count_nonzero(mask))
        return count_codes(self.codes, mask, self.count)

    def at_first(self, mask: BoolArray) -> BoolArray:
        """Per row, ``mask`` at the first row of the row's order: what an order-level
        answer computed row by row says for the whole order."""
        if not self.grouped:
            return mask
        first: BoolArray = mask[self.first_rows][self.codes]
        return first

    def first_valid(self, ti: int, valid: BoolArray) -> IntArray:
        """Per order of table ``ti``: its first row where ``valid`` holds, else its first
        row."""
        g = self.groups(ti)
        assert g.codes is not None and g.first is not None
        src = g.first.copy()
        rows = np.flatnonzero(valid)
        if len(rows):
            codes = g.codes[rows]
            uniq, at = np.unique(codes, return_index=True)
            src[uniq] = rows[at]
        return src

    def spread(
        self, ti: int, per_row: pa.Array | pa.ChunkedArray, valid: BoolArray
    ) -> pa.Array | pa.ChunkedArray:
        """An order field's value on every row of its order (see :meth:`first_valid`)."""
        g = self.groups(ti)
        if g.codes is None:
            return per_row
        take = self.first_valid(ti, valid)[g.codes]
        result: pa.Array = combined(per_row).take(pa.array(take))
        return result

    def table_text(self, ti: int, field: str) -> pa.ChunkedArray | pa.Array:
        table = self.cols.tables[ti]
        raw = self.cols.raw_field(ti, field)
        if raw is None:
            return pa.repeat(BLANK, table.num_rows)
        if field in ITEM_FIELDS or self.groups(ti).codes is None:
            return raw
        return self.spread(ti, raw, nonblank(combined(raw)))

    def text(self, field: str) -> pa.ChunkedArray:
        """The text of order field ``field`` on every row ("" in files without it): on
        every row of an order, the order's value."""
        if field not in self._text:
            self._text[field] = stacked(
                [self.table_text(ti, field) for ti in range(len(self.cols.tables))]
            )
        return self._text[field]
