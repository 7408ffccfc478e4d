"""The orders of one run, seen as columns: the view rules are evaluated on.

Several exports can go into one run; a :class:`Frame` stacks their rows (in the order
the files were given) and answers, per column, for all rows at once. Conversions
(customer keys, money, dates, lower-cased text) are done once, when first asked for,
and only for the columns a rule needs: a bad value in a column no rule uses is no error.

Rows and orders: where a platform writes one row per line item (Shopify, Amazon, eBay,
Etsy items, AlgolPlus, Linnworks), the rows of one order are grouped by its order id
(:attr:`Frame.order_codes`, :attr:`Frame.order_starts`). An order field (email, total,
date, country, ...) read through :meth:`Frame.text`, :meth:`Frame.numbers` or
:meth:`Frame.dates` gives, on every row of an order, the order's value: the first one
its rows hold (Shopify fills them on the first row only; AlgolPlus repeats its totals on
every row, and they are counted once). The written output never sees these copies: it is
made from the tables as read. A raw column (``column=``) is always read row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.amounts import fully_refunded, net_spend, rate_into
from ordertags.customers.grouping import Customers
from ordertags.engine.arrays import (
    BLANK,
    BoolArray,
    FloatArray,
    IntArray,
    combined,
    count_codes,
    floats,
    nonblank,
)
from ordertags.io.fields import FieldMap
from ordertags.io.options import ReadOptions
from ordertags.io.platforms import (
    ITEM_FIELDS,
    QUOTED_FIELDS,
    Profile,
    clean_id,
    map_profile,
    normalise_channel,
    tax_included,
)
from ordertags.io.readers import OrderTable
from ordertags.io.values import (
    DATE_STYLE_ALIASES,
    date_style_name,
    money_to_units,
    numeric_date_order,
    parse_dates,
    parse_money,
    region_date_style,
)

#: Field names a rule can use besides the export's own columns.
VIRTUAL_FIELDS = (
    "email",
    "email_domain",
    "total",
    "date",
    "order_id",
    "name",
    "customer_id",
    "phone",
    "postcode",
    "country",
    "currency",
    "channel",
    "shipping_service",
    "status",
    "refunds",
    "notes",
    "risk_level",  # Shopify's Risk Level (Low, Medium, High)
)


#: Order statuses that say the whole order was given back (compared trimmed and
#: lower-cased): Shopify's Financial Status and WooCommerce's status ``refunded``
#: (``wc-refunded`` as some WooCommerce exporters write it), AlgolPlus' ``Refunded``.
#: Shopify's ``partially_refunded`` states its amount in ``Refunded Amount``.
REFUNDED_STATUSES = frozenset({"refunded", "wc-refunded"})

#: The currency a money symbol names, where an export has no currency column (eBay's
#: reports): "$" is read as US dollars, the eBay.com report's.
CURRENCY_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}


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


class Frame:
    """All rows of a run. Row ``i`` of the frame is row ``i - offset`` of its table."""

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
        self.tables = list(tables)
        self.as_of = as_of
        #: The region that decides ambiguous numeric dates (None: nobody said).
        self.region = region.upper() if region else None
        #: Things the run should tell its reader (dates read by assumption, an encoding
        #: read by a heuristic).
        self.warnings: list[str] = [w for t in self.tables for w in t.warnings]
        #: Forced styles (``--money-style``); None: each export's profile decides.
        self.money_style = money_style
        self.date_style = DATE_STYLE_ALIASES.get(date_style or "", date_style) or None
        self.profiles: list[Profile] = [t.profile for t in self.tables]
        self.maps: list[FieldMap] = [
            map_profile(t.columns, t.profile, overrides=overrides, file=t.source)
            for t in self.tables
        ]
        self.offsets = np.cumsum([0] + [t.num_rows for t in self.tables])
        self.n = int(self.offsets[-1])
        self._cache: dict[tuple[str, str], Any] = {}
        #: The currency customer spend is compared in, and rates into it (see
        #: :meth:`spend_units`); set by :meth:`compare_spend_in`.
        self.spend_currency: str | None = None
        self.rates: dict[str, float] = {}
        #: Per currency: counted orders left out of customer spend (no rate into it).
        self.spend_left_out: dict[str, int] = {}

    def compare_spend_in(self, currency: str | None, rates: Mapping[str, float]) -> None:
        """Compare customer spend in ``currency`` with ``rates`` into it (a rule file's
        ``currency:`` and ``rates:``)."""
        self.spend_currency = currency.upper() if currency else None
        self.rates = {k.upper(): float(v) for k, v in rates.items()}

    def refund_units(self) -> IntArray:
        """Per row: what its order gave back (ten-thousandths), as the exports state it:
        the refund column (Shopify ``Refunded Amount``, AlgolPlus ``Order Refund
        Amount``) or, where that says nothing and the order's status says it was
        refunded (:data:`REFUNDED_STATUSES`: Shopify's Financial Status, WooCommerce's
        status), its whole total; 0 elsewhere. An order field: the order's value on
        every row of the order."""
        key = ("refund", "")
        if key in self._cache:
            cached: IntArray = self._cache[key]
            return cached
        units = (
            self.money_units(field="refunds", optional=True)
            if self.has_field("refunds")
            else np.zeros(self.n, dtype=np.int64)
        )
        if self.has_field("status"):
            codes, names = self.encoded(field="status", folded=True)
            said = np.array(
                [(x or "").strip() in REFUNDED_STATUSES for x in names.to_pylist()] + [False]
            )[np.where(codes >= 0, codes, len(names))]
            if said.any():
                total = self.money_units(field="total", optional=True)
                units = np.where(said & (units == 0), total, units)
        self._cache[key] = units
        return units

    def net_units(self) -> IntArray:
        """Per row: what its order adds to its customer's spend (ten-thousandths): its
        total less :meth:`refund_units`, which takes it down to 0 at most
        (:func:`ordertags.base.amounts.net_spend`)."""
        key = ("net", "")
        if key not in self._cache:
            total = self.money_units(field="total", optional=True)
            self._cache[key] = (
                net_spend(total, self.refund_units()) if self._refunds_known() else total
            )
        result: IntArray = self._cache[key]
        return result

    def fully_refunded(self) -> BoolArray:
        """Per row: was its order fully refunded (a refund stated, at least its total)?
        Such an order is no purchase: it is left out of customer order counts
        (:func:`ordertags.base.amounts.fully_refunded`)."""
        key = ("refunded", "")
        if key not in self._cache:
            self._cache[key] = (
                fully_refunded(self.money_units(field="total", optional=True), self.refund_units())
                if self._refunds_known()
                else np.zeros(self.n, dtype=bool)
            )
        result: BoolArray = self._cache[key]
        return result

    def _refunds_known(self) -> bool:
        """Does any order of the run state a refund? (Else neither the totals nor the
        refunds need reading to count orders.)"""
        if not self.has_field("refunds") and not self.has_field("status"):
            return False
        return bool(self.refund_units().any())

    def spend_units(self) -> IntArray:
        """Per row: its order's total as customer spend counts it (ten-thousandths): net
        of refunds (:meth:`net_units`), in one currency: the configured one, where
        orders in others are converted by the configured rates or, with no rate, left
        out (0 here; counted, per currency, in :attr:`spend_left_out`); without one,
        the orders' own currency where the run's orders agree (where they do not, they
        are summed as they are, with a warning naming the currencies). An order with no
        currency is taken to be in it."""
        key = ("spend", "")
        if key in self._cache:
            cached: IntArray = self._cache[key]
            return cached
        units = self.net_units()
        if not self.has_field("currency"):
            self._cache[key] = units
            return units
        text = pc.utf8_upper(pc.utf8_trim_whitespace(combined(self.text(field="currency"))))
        encoded = pc.dictionary_encode(text)
        names = [c or "" for c in encoded.dictionary.to_pylist()]
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
        counted = self.counted_orders
        present = sorted(
            {names[c] for c in np.unique(codes[counted & (codes >= 0)]).tolist()} - {""}
        )
        base = self.spend_currency
        if base is None:
            if len(present) > 1:
                self.warnings.append(
                    f"customer spend adds up orders in {', '.join(present)} as they are; "
                    "set `currency:` (and `rates:`) in the rule file to compare in one."
                )
            self._cache[key] = units
            return units
        factor = np.ones(len(names) + 1)
        for j, name in enumerate(names):
            rate = rate_into(name, base, self.rates)
            factor[j] = 0.0 if rate is None else rate
            if rate is None:
                left = int((counted & (codes == j)).sum())
                if left:
                    self.spend_left_out[name] = self.spend_left_out.get(name, 0) + left
        converted: IntArray = np.rint(units * factor[codes]).astype(np.int64)
        self._cache[key] = converted
        return converted

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

    # --- where things are -------------------------------------------------------------

    def _optional(self, field: str | None, optional: bool) -> bool:
        """``optional`` where it can make a difference: a field every export has reads
        the same either way, so both ask for (and cache) one result."""
        if optional and field and all(self._has(ti, field) for ti in range(len(self.tables))):
            return False
        return optional

    def _has(self, ti: int, field: str) -> bool:
        fmap, profile = self.maps[ti], self.profiles[ti]
        if fmap.get(field) is not None:
            return True
        if field == "total":
            return bool(self._line_columns(ti, profile.total_lines)) or (
                profile.total_product
                and fmap.get("quantity") is not None
                and fmap.get("price") is not None
            )
        if field == "name":
            return fmap.get("first_name") is not None or fmap.get("last_name") is not None
        if field == "currency":  # told by the total's symbol (eBay: $1,433.66, 116,99 €)
            return profile.money in ("symbol", "comma_decimal") and fmap.get("total") is not None
        return False

    def has_field(self, field: str) -> bool:
        """Does any export of the run have a column for ``field``?"""
        return any(self._has(i, field) for i in range(len(self.tables)))

    def require_field(self, field: str) -> None:
        """Raise for the first file that has no column for ``field``. For ``email``: the
        first file with no column to tell its customers apart by (an email, or the
        buyer id of a platform that has no email)."""
        for ti, table in enumerate(self.tables):
            if field == "email":
                self._identity_field(ti)
            elif not self._has(ti, field):
                raise self.maps[ti].missing(field, file=table.source)

    def has_column(self, name: str) -> bool:
        return any(m.find_column(name) is not None for m in self.maps)

    def action_column(self, index: int, name: str) -> tuple[int | None, str]:
        """Where a rule's ``set`` or ``note`` that names ``name`` writes in export
        ``index``: (the existing column's index or None, the column's name). An order
        field is each export's own column for it, decided per export (a Shopify export's
        Shipping Method, a Linnworks export's Postal Service, in one run)."""
        return self.maps[index].action_column(name, field=name in VIRTUAL_FIELDS)

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

    def _stack(self, pieces: Sequence[pa.ChunkedArray | pa.Array]) -> pa.ChunkedArray:
        chunks = [c for p in pieces for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
        return pa.chunked_array(chunks, type=pa.string())

    def money_style_of(self, ti: int) -> str:
        return self.money_style or self.profiles[ti].money

    def _date_style(self, ti: int) -> str:
        return self.date_style or self.profiles[ti].dates

    def date_style_of(
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
        profile = self.profiles[ti]
        if self.date_style:
            found = (self.date_style, "--date-style")
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
                self.warnings.append(
                    f"{self.tables[ti].source}{where}: every date could be day-first or "
                    f"month-first; read as {date_style_name(style)}. Say which with "
                    "--date-style day-first|month-first, `dates:` in a mapping file, or "
                    "the workspace's region (--default-region)."
                )
        self._cache[key] = found
        return found

    # --- orders -------------------------------------------------------------------------

    def table_groups(self, ti: int) -> Groups:
        key = ("groups", str(ti))
        if key in self._cache:
            cached: Groups = self._cache[key]
            return cached
        table, profile = self.tables[ti], self.profiles[ti]
        n = table.num_rows
        skip = table.skip_rows
        if n == 0 or (
            (not profile.grouped or self.maps[ti].get("order_id") is None) and skip is None
        ):
            groups = Groups(None, n, None, None)
        else:
            groups = self._group_rows(ti, n, skip)
        self._cache[key] = groups
        return groups

    def _group_rows(self, ti: int, n: int, skip: BoolArray | None) -> Groups:
        """Group rows by the order id (rows need not be adjacent); a row with a blank id
        continues the order above it; rows that are not orders (``skip``) join the order
        above them without starting one."""
        profile, fmap = self.profiles[ti], self.maps[ti]
        rows = np.arange(n, dtype=np.int64)
        if profile.grouped and fmap.get("order_id") is not None:
            ids = self.raw_field(ti, "order_id")
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
    def n_orders(self) -> int:
        """How many orders the run has (rows, where each row is an order)."""
        return sum(self.table_groups(i).count for i in range(len(self.tables)))

    @cached_property
    def order_offsets(self) -> IntArray:
        counts = [self.table_groups(i).count for i in range(len(self.tables))]
        offsets: IntArray = np.cumsum([0, *counts]).astype(np.int64)
        return offsets

    @cached_property
    def grouped(self) -> bool:
        """Does any order of the run span several rows (or any row not be an order)?"""
        return any(self.table_groups(i).codes is not None for i in range(len(self.tables)))

    @cached_property
    def order_starts(self) -> BoolArray:
        """True on the first row of each order (the row carrying its order-level fields);
        every row, where each row is an order."""
        if not self.grouped:
            return np.ones(self.n, dtype=bool)
        parts = []
        for ti, table in enumerate(self.tables):
            g = self.table_groups(ti)
            parts.append(np.ones(table.num_rows, dtype=bool) if g.starts is None else g.starts)
        return _joined(parts, bool)

    @cached_property
    def order_codes(self) -> IntArray:
        """Per row, the index of its order in the run (0 .. n_orders - 1, in order of
        first appearance)."""
        parts = []
        for ti, table in enumerate(self.tables):
            g = self.table_groups(ti)
            base = int(self.order_offsets[ti])
            local = np.arange(table.num_rows, dtype=np.int64) if g.codes is None else g.codes
            parts.append(local + base)
        return _joined(parts, np.int64)

    @cached_property
    def order_rows(self) -> IntArray:
        """Per order, the frame row of its first row."""
        return np.flatnonzero(self.order_starts).astype(np.int64)

    # --- which order is which, across exports ------------------------------------------

    def _order_channel(self, ti: int) -> pa.Array:
        """Per row of table ``ti``: its order's channel in the one vocabulary
        (:func:`ordertags.io.platforms.normalise_channel`): the platform's own for a
        platform export, else what the channel column says ("" where nothing does)."""
        profile, n = self.profiles[ti], self.tables[ti].num_rows
        if profile.channel:
            return pa.repeat(pa.scalar(profile.channel, pa.string()), n)
        if not self._has(ti, "channel"):
            return pa.repeat(BLANK, n)
        encoded = pc.dictionary_encode(combined(self._table_text(ti, "channel")))
        names = [normalise_channel(t or "")[0] for t in encoded.dictionary.to_pylist()]
        result: pa.Array = pa.array(names, pa.string()).take(encoded.indices)
        return result

    def _order_number(self, ti: int) -> pa.Array:
        """Per row of table ``ti``: its order's number on its channel: the channel's
        reference where an order hub gives the order a number of its own (Linnworks'
        Reference Num), else the order id; normalised as :func:`order_id_keys`."""
        own = (
            order_id_keys(self._table_text(ti, "order_id"))
            if self._has(ti, "order_id")
            else pa.repeat(BLANK, self.tables[ti].num_rows)
        )
        if not self._has(ti, "reference"):
            return own
        ref = order_id_keys(self._table_text(ti, "reference"))
        result: pa.Array = pc.if_else(pc.equal(ref, ""), own, ref)
        return result

    @cached_property
    def order_channels(self) -> pa.Array:
        """Per row: the channel of its order (``amazon``, ``ebay``, ``shopify``...)."""
        parts = [self._order_channel(ti) for ti in range(len(self.tables))]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    @cached_property
    def order_numbers(self) -> pa.Array:
        """Per row: its order's number on its channel ("" where it has none)."""
        parts = [self._order_number(ti) for ti in range(len(self.tables))]
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    @cached_property
    def order_aliases(self) -> pa.Array:
        """Per row: its order's other number ("" where none): the order hub's own id
        where the channel's number is the order's identity (Linnworks' Order Id)."""
        parts = []
        for ti, table in enumerate(self.tables):
            if self._has(ti, "reference") and self._has(ti, "order_id"):
                own = order_id_keys(self._table_text(ti, "order_id"))
                ref = order_id_keys(self._table_text(ti, "reference"))
                parts.append(pc.if_else(pc.equal(ref, ""), BLANK, own))
            else:
                parts.append(pa.repeat(BLANK, table.num_rows))
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    def find_order(self, number: str) -> int:
        """The first row of the order known by ``number`` (any of its numbers: the
        channel's, an order hub's own id; ``#1042`` is ``1042``), -1 where none."""
        want = clean_id(number)
        best = -1
        for values in (self.order_numbers, self.order_aliases):
            at = int(pc.index(values, want).as_py())
            if at >= 0 and (best < 0 or at < best):
                best = at
        if best < 0 and self.has_field("order_id"):
            best = int(pc.index(order_id_keys(self.text(field="order_id")), want).as_py())
        return best

    def is_hub(self, ti: int) -> bool:
        """Is table ``ti`` an order hub's export (Linnworks): copies of other channels'
        orders, each with a number of the hub's own beside the channel's?"""
        return self.profiles[ti].hub or (self._has(ti, "reference") and self._has(ti, "order_id"))

    @cached_property
    def copy_ranks(self) -> IntArray:
        """Per table: whose copy of its orders it holds, 1 a channel's own export's, 0
        an order hub's (Linnworks'); where two copies of an order disagree, the higher
        rank's wins (in a run and in the history alike)."""
        ranks = [0 if self.is_hub(i) else 1 for i in range(len(self.tables))]
        return np.array(ranks, dtype=np.int64)

    @cached_property
    def counted_orders(self) -> BoolArray:
        """True on the first row of each order the run counts: an order that several
        exports hold (the same channel and number: an Amazon order in the Amazon
        report and in Linnworks' export) counts once, in the copy of the channel's own
        export (not an order hub's), and among equals the last export given. Orders
        with no number all count."""
        starts = self.order_starts
        if len(self.tables) < 2:
            return starts  # one export holds each order once (its rows are grouped)
        rows = np.flatnonzero(starts)
        codes = self.distinct_orders[rows]  # an order without a number: a code of its own
        if len(np.unique(codes)) == len(codes):
            return starts  # no order is held twice
        table_of = np.searchsorted(self.offsets, rows, side="right") - 1
        rank = self.copy_ranks[table_of]
        # Highest rank wins, then the latest row: one score per order, the best per key.
        score = rank * (self.n + 1) + rows
        best = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        np.maximum.at(best, codes, score)
        keep = best[codes] == score
        out = np.zeros(self.n, dtype=bool)
        out[rows[keep]] = True
        return out

    @cached_property
    def distinct_orders(self) -> IntArray:
        """Per row: one number per order of the run, the same for every copy of it (an
        order that a channel's export and an order hub's both hold: the same channel and
        number); an order with no number is one of its own."""
        first = self.order_rows
        numbers = self.order_numbers.take(pa.array(first))
        keyed = pc.binary_join_element_wise(
            self.order_channels.take(pa.array(first)), numbers, "\x1f"
        )
        encoded = pc.dictionary_encode(keyed)
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        blank = np.asarray(pc.equal(numbers, "").to_numpy(zero_copy_only=False), dtype=bool)
        codes[blank] = int(codes.max(initial=-1)) + 1 + np.arange(int(blank.sum()))
        per_row: IntArray = codes[self.order_codes]
        return per_row

    def count_distinct_orders(self, mask: BoolArray) -> int:
        """How many orders have ``mask`` on any row of any of their copies: a Shopify
        order of three line items counts once, and so does an order that the channel's
        export and Linnworks' export both hold."""
        if len(self.tables) < 2:
            return self.count_orders(mask)
        return count_codes(self.distinct_orders, mask)

    def count_orders(self, mask: BoolArray) -> int:
        """How many orders have ``mask`` on any of their rows (a Shopify order of three
        line items counts once)."""
        if not self.grouped:
            return int(np.count_nonzero(mask))
        return count_codes(self.order_codes, mask, self.n_orders)

    def order_first(self, mask: BoolArray) -> BoolArray:
        """Per row, ``mask`` at the first row of the row's order: what an order-level
        answer computed row by row says for the whole order."""
        if not self.grouped:
            return mask
        first: BoolArray = mask[self.order_rows][self.order_codes]
        return first

    def _first_valid(self, ti: int, valid: BoolArray) -> IntArray:
        """Per order of table ``ti``: its first row where ``valid`` holds, else its first
        row."""
        g = self.table_groups(ti)
        assert g.codes is not None and g.first is not None
        src = g.first.copy()
        rows = np.flatnonzero(valid)
        if len(rows):
            codes = g.codes[rows]
            uniq, at = np.unique(codes, return_index=True)
            src[uniq] = rows[at]
        return src

    def _spread(
        self, ti: int, per_row: pa.Array | pa.ChunkedArray, valid: BoolArray
    ) -> pa.Array | pa.ChunkedArray:
        """An order field's value on every row of its order (see :meth:`_first_valid`)."""
        g = self.table_groups(ti)
        if g.codes is None:
            return per_row
        take = self._first_valid(ti, valid)[g.codes]
        result: pa.Array = combined(per_row).take(pa.array(take))
        return result

    # --- text ---------------------------------------------------------------------------

    def _currency_of_symbols(self, ti: int) -> pa.Array:
        """Per row of table ``ti`` (an export with no currency column whose money carries
        a symbol): the currency its total's symbol names ("" where none)."""
        i = self.maps[ti].get("total")
        assert i is not None
        text = combined(self.tables[ti].column(i))
        out = pa.repeat(BLANK, len(text))
        for symbol, code in CURRENCY_SYMBOLS.items():
            hit = pc.fill_null(pc.match_substring(text, symbol), False)
            out = pc.if_else(hit, pa.scalar(code, pa.string()), out)
        result: pa.Array = out
        return result

    def raw_field(self, ti: int, field: str) -> pa.ChunkedArray | pa.Array | None:
        """A field's text row by row in table ``ti``: its column, with blanks filled from
        its fallback columns and Excel's leading ``'`` dropped (None: no such column)."""
        table, fmap = self.tables[ti], self.maps[ti]
        sources = fmap.sources(field)
        if not sources:
            if field == "currency" and self._has(ti, "currency"):
                return self._currency_of_symbols(ti)
            if field == "name" and (
                fmap.get("first_name") is not None or fmap.get("last_name") is not None
            ):
                parts = [
                    combined(self.raw_field(ti, f) or pa.repeat(BLANK, table.num_rows))
                    for f in ("first_name", "last_name")
                ]
                return pc.utf8_trim_whitespace(pc.binary_join_element_wise(*parts, " "))
            return None
        col: pa.ChunkedArray | pa.Array = table.column(sources[0])
        for j in sources[1:]:
            arr = combined(col)
            blank = pc.equal(pc.utf8_trim_whitespace(arr), "")
            if pc.any(blank).as_py():
                col = pc.if_else(blank, combined(table.column(j)), arr)
        if field in QUOTED_FIELDS and pc.any(pc.starts_with(col, "'")).as_py():
            col = pc.replace_substring_regex(col, "^'", "")
        return col

    def _table_text(self, ti: int, field: str) -> pa.ChunkedArray | pa.Array:
        table = self.tables[ti]
        raw = self.raw_field(ti, field)
        if raw is None:
            return pa.repeat(BLANK, table.num_rows)
        if field in ITEM_FIELDS or self.table_groups(ti).codes is None:
            return raw
        return self._spread(ti, raw, nonblank(combined(raw)))

    def text(self, *, field: str | None = None, column: str | None = None) -> pa.ChunkedArray:
        """The raw text of a field or column for every row ("" in files without it). An
        order field gives the order's value on every row of the order."""
        key = ("text", field or f"col:{column}")
        if key not in self._cache:
            if field:
                pieces = [self._table_text(ti, field) for ti in range(len(self.tables))]
            else:
                pieces = []
                for table, i in self._pieces(None, column):
                    pieces.append(
                        pa.repeat(BLANK, table.num_rows) if i is None else table.column(i)
                    )
            self._cache[key] = self._stack(pieces)
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

    # --- customers ----------------------------------------------------------------------

    def _identity_field(self, ti: int) -> str:
        """The field that tells the customers of table ``ti`` apart, or an error."""
        profile, fmap = self.profiles[ti], self.maps[ti]
        for f in profile.customer:
            if fmap.get(f) is not None:
                return f
        raise fmap.missing(profile.customer[0], file=self.tables[ti].source)

    def _buyer(self, ti: int) -> pa.Array | None:
        """Per row of table ``ti``: the platform's buyer id prefixed with the platform
        (``ebay:jdoe``), "" where blank; None when the export has no buyer id column."""
        profile, fmap = self.profiles[ti], self.maps[ti]
        if "customer_id" not in profile.customer or fmap.get("customer_id") is None:
            return None
        text = self._table_text(ti, "customer_id")
        ids = pc.utf8_trim_whitespace(combined(text))
        ids = pc.replace_substring_regex(ids, r"^(\d+)\.0+$", r"\1")  # 17850.0 -> 17850
        keyed = pc.binary_join_element_wise(profile.key_prefix, ids, "")
        result: pa.Array = pc.if_else(pc.equal(ids, ""), BLANK, keyed)
        return result

    def _email(self, ti: int) -> pa.Array | None:
        """Per row of table ``ti``: the email, where the platform tells customers apart
        by it (None: no such column)."""
        if self.maps[ti].get("email") is None or "email" not in self.profiles[ti].customer:
            return None
        return combined(self._table_text(ti, "email"))

    def _identity(self, ti: int) -> pa.ChunkedArray | pa.Array:
        """Per row, what the customer key is made from: the email where the order has
        one, else the platform's buyer id prefixed with the platform (``ebay:jdoe``), ""
        where both are blank."""
        self._identity_field(ti)
        email, buyer = self._email(ti), self._buyer(ti)
        if buyer is None:
            assert email is not None
            return email
        if email is None:
            return buyer
        has_email = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(email), ""), False)
        result: pa.Array = pc.if_else(has_email, email, buyer)
        return result

    def identity_text(self) -> pa.ChunkedArray:
        """Per row, what the customer key is made from (feed it to
        :func:`ordertags.customers.grouping.customer_keys`): the order's email, or, where
        it has none, the platform's buyer id prefixed with the platform (``ebay:jdoe``,
        ``etsy:123``); "" where there is none. Raises for a file with neither."""
        key = ("identity", "")
        if key not in self._cache:
            self.require_field("email")
            pieces = [self._identity(ti) for ti in range(len(self.tables))]
            self._cache[key] = self._stack(self._hub_copies_named(pieces))
        result: pa.ChunkedArray = self._cache[key]
        return result

    def _hub_copies_named(self, pieces: list[pa.Array]) -> list[pa.Array]:
        """``pieces`` (per table, its rows' identities) with an order hub's copy of an
        order that names no customer (Linnworks lists eBay and Etsy orders without the
        buyer) given the customer of another copy of the order in the run (the same
        channel and number: the channel's own export), so that a tag, a ``set:`` or a
        hold of that customer reaches the copy the packers work from too."""
        hubs = [ti for ti in range(len(self.tables)) if self.is_hub(ti)]
        if not hubs or len(self.tables) < 2:
            return pieces
        flat = pa.concat_arrays([combined(p) for p in pieces])
        blank = np.asarray(
            pc.fill_null(pc.equal(pc.utf8_trim_whitespace(flat), ""), True).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        in_hub = np.zeros(self.n, dtype=bool)
        for ti in hubs:
            in_hub[self.offsets[ti] : self.offsets[ti] + self.tables[ti].num_rows] = True
        numbered = np.asarray(
            pc.not_equal(self.order_numbers, "").to_numpy(zero_copy_only=False), dtype=bool
        )
        wanting = np.flatnonzero(blank & in_hub & numbered)
        donors = np.flatnonzero(~blank & numbered)
        if not len(wanting) or not len(donors):
            return pieces
        # Per order (its copies share one code): a row of a copy that names the customer.
        order = self.distinct_orders
        donor_of = np.full(int(order.max()) + 1, -1, dtype=np.int64)
        donor_of[order[donors]] = donors
        found = donor_of[order[wanting]]
        take = found >= 0
        if not take.any():
            return pieces
        source = np.arange(self.n, dtype=np.int64)  # each row its own, but for the copies
        source[wanting[take]] = found[take]
        whole = flat.take(pa.array(source))
        return [
            whole.slice(int(self.offsets[ti]), table.num_rows)
            for ti, table in enumerate(self.tables)
        ]

    def buyer_text(self) -> pa.ChunkedArray | None:
        """Per row, the platform's buyer id (``ebay:jdoe``) where the order carries an
        email too ("" elsewhere): a second identity of the order, which the customer
        resolution joins to the email. None when no order of the run has both."""
        key = ("buyer", "")
        if key not in self._cache:
            pieces: list[pa.Array] = []
            found = False
            for ti, table in enumerate(self.tables):
                email, buyer = self._email(ti), self._buyer(ti)
                if buyer is None or email is None:
                    pieces.append(pa.repeat(BLANK, table.num_rows))
                    continue
                both = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(email), ""), False)
                pieces.append(pc.if_else(both, buyer, BLANK))
                found = found or bool(pc.any(pc.and_(both, pc.not_equal(buyer, ""))).as_py())
            self._cache[key] = self._stack(pieces) if found else None
        result: pa.ChunkedArray | None = self._cache[key]
        return result

    @cached_property
    def customers(self) -> Customers:
        """The customers of the run told apart by their key alone: a normalised email, or
        (on platforms without one) the platform's buyer id, so several exports of
        different platforms form one customer history. A run with links or a history
        merges them further (:func:`ordertags.engine.resolution.resolve_customers`)."""
        return Customers.from_emails(self.identity_text())

    # --- numbers and dates --------------------------------------------------------------

    def _parse_money(self, ti: int, col: pa.ChunkedArray | pa.Array, name: str) -> FloatArray:
        table = self.tables[ti]
        arr = parse_money(
            col,
            style=self.money_style_of(ti),
            file=table.source,
            column=name,
            row_offset=table.row_offset,
        )
        return floats(arr)

    def _column_numbers(self, ti: int, name: str) -> FloatArray | None:
        i = self.maps[ti].find_column(name)
        if i is None:
            return None
        return self._parse_money(ti, self.tables[ti].column(i), self.tables[ti].columns[i])

    def _field_numbers(self, ti: int, field: str) -> FloatArray:
        """A field's numbers row by row (no spreading), NaN where blank."""
        table, fmap = self.tables[ti], self.maps[ti]
        raw = self.raw_field(ti, field)
        if raw is None:
            raise fmap.missing(field, file=table.source)
        i = fmap.get(field)
        name = table.columns[i] if i is not None else field
        return self._parse_money(ti, raw, name)

    def _line_columns(self, ti: int, names: Sequence[str]) -> list[str]:
        fmap = self.maps[ti]
        return [n for n in names if fmap.find_column(n) is not None]

    def _per_order_sum(self, ti: int, per_row: FloatArray) -> FloatArray:
        """Per order: the sum of ``per_row`` over its rows (NaN where all are blank)."""
        g = self.table_groups(ti)
        if g.codes is None:
            return per_row
        present = ~np.isnan(per_row)
        sums = np.bincount(g.codes, weights=np.where(present, per_row, 0.0), minlength=g.count)[
            : g.count
        ]
        seen = np.bincount(g.codes[present], minlength=g.count)[: g.count]
        out: FloatArray = np.where(seen > 0, sums, np.nan)
        return out

    def _per_order_first(self, ti: int, per_row: FloatArray) -> FloatArray:
        """Per order: the first value its rows hold (totals written once, or repeated)."""
        g = self.table_groups(ti)
        if g.codes is None:
            return per_row
        result: FloatArray = per_row[self._first_valid(ti, ~np.isnan(per_row))]
        return result

    def _tax_included(self, ti: int) -> BoolArray:
        """Per row of table ``ti``: do its prices include tax? (Amazon: by the order's
        marketplace, see :func:`ordertags.io.platforms.tax_included`; decided once per
        distinct (sales channel, currency).)"""
        n = self.tables[ti].num_rows
        if self.profiles[ti].tax_rule != "amazon-marketplace":
            return np.zeros(n, dtype=bool)
        channel = combined(self._table_text(ti, "channel"))
        currency = combined(self._table_text(ti, "currency"))
        pairs = pc.binary_join_element_wise(channel, currency, "\x1f")
        encoded = pc.dictionary_encode(pairs)
        flags = [
            tax_included(*(text.split("\x1f", 1) + [""])[:2])
            for text in encoded.dictionary.to_pylist()
        ]
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        result: BoolArray = np.asarray(flags, dtype=bool)[codes]
        return result

    def order_totals(self, ti: int) -> FloatArray:
        """Per order of table ``ti``: its total (NaN where it has none). The ``total``
        column's value, counted once however many rows repeat it; or, where the platform
        has no order total, the sum over the lines of ``total_lines`` (Amazon) or of
        quantity x unit price (UCI Online Retail), plus ``total_once`` (Etsy shipping)."""
        key = ("totals", str(ti))
        if key in self._cache:
            cached: FloatArray = self._cache[key]
            return cached
        table, profile, fmap = self.tables[ti], self.profiles[ti], self.maps[ti]
        lines = self._line_columns(ti, profile.total_lines)
        if fmap.get("total") is not None:
            totals = self._per_order_first(ti, self._field_numbers(ti, "total"))
        elif lines or profile.total_product:
            per_row = np.zeros(table.num_rows)
            present = np.zeros(table.num_rows, dtype=bool)
            for name in lines:
                nums = self._column_numbers(ti, name)
                assert nums is not None
                present |= ~np.isnan(nums)
                per_row += np.nan_to_num(nums)
            taxes = self._line_columns(ti, profile.tax_lines)
            if taxes:
                exclusive = ~self._tax_included(ti)
                for name in taxes:
                    nums = self._column_numbers(ti, name)
                    assert nums is not None
                    per_row += np.where(exclusive, np.nan_to_num(nums), 0.0)
            for name in self._line_columns(ti, profile.discount_lines):
                nums = self._column_numbers(ti, name)
                assert nums is not None
                per_row -= np.abs(np.nan_to_num(nums))
            if profile.total_product and not lines:
                quantity = self._field_numbers(ti, "quantity")
                price = self._field_numbers(ti, "price")
                product = quantity * price
                present = ~np.isnan(product)
                per_row = np.nan_to_num(product)
            totals = self._per_order_sum(ti, np.where(present, per_row, np.nan))
            for name in self._line_columns(ti, profile.total_once):
                nums = self._column_numbers(ti, name)
                assert nums is not None
                once = self._per_order_first(ti, nums)
                totals = np.where(np.isnan(totals), once, totals + np.nan_to_num(once))
        else:
            raise fmap.missing("total", file=table.source)
        self._cache[key] = totals
        return totals

    def numbers(
        self, *, field: str | None = None, column: str | None = None, optional: bool = False
    ) -> FloatArray:
        """A money or number field as float64 (NaN where blank). Bad values raise. An
        order field (``total``) gives the order's value on every row of the order; a
        column is read row by row. With ``optional``, the rows of an export without the
        field are NaN (several platforms in one run: only Shopify has refunds)."""
        optional = self._optional(field, optional)
        key = ("num", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            parts = []
            for ti, table in enumerate(self.tables):
                g = self.table_groups(ti)
                if optional and field and not self._has(ti, field):
                    parts.append(np.full(table.num_rows, np.nan))
                elif field == "total":
                    totals = self.order_totals(ti)
                    parts.append(totals if g.codes is None else totals[g.codes])
                elif field:
                    nums = self._field_numbers(ti, field)
                    if field not in ITEM_FIELDS and g.codes is not None:
                        nums = nums[self._first_valid(ti, ~np.isnan(nums))][g.codes]
                    parts.append(nums)
                else:
                    got = self._column_numbers(ti, column or "")
                    parts.append(np.full(table.num_rows, np.nan) if got is None else got)
            self._cache[key] = _joined(parts, np.float64)
        result: FloatArray = self._cache[key]
        return result

    def money_units(
        self, *, field: str | None = None, column: str | None = None, optional: bool = False
    ) -> IntArray:
        """Money in ten-thousandths, exact for sums (blank -> 0). For ``total``, the
        order's total on each row of the order: sum it over :attr:`order_starts`.
        ``optional``: as for :meth:`numbers`."""
        optional = self._optional(field, optional)
        key = ("units", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            nums = self.numbers(field=field, column=column, optional=optional)
            self._cache[key] = money_to_units(pa.array(nums, from_pandas=True))
        result: IntArray = self._cache[key]
        return result

    def dates(
        self, *, field: str | None = "date", column: str | None = None, optional: bool = False
    ) -> np.ndarray[Any, np.dtype[np.datetime64]]:
        """A date field as datetime64[s] (NaT where blank). Bad values raise. An order
        field gives the order's date on every row of the order. With ``optional``, the
        rows of an export without the field are NaT."""
        optional = self._optional(field, optional)
        key = ("date", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            parts = []
            for ti, table in enumerate(self.tables):
                fmap = self.maps[ti]
                if optional and field and not self._has(ti, field):
                    parts.append(np.full(table.num_rows, np.datetime64("NaT"), "datetime64[s]"))
                    continue
                if field:
                    raw = self.raw_field(ti, field)
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
                    style=self.date_style_of(ti, raw, name)[0],
                    file=table.source,
                    column=name,
                    row_offset=table.row_offset,
                )
                stamps = arr.to_numpy(zero_copy_only=False).astype("datetime64[s]")
                g = self.table_groups(ti)
                if field and field not in ITEM_FIELDS and g.codes is not None:
                    stamps = stamps[self._first_valid(ti, ~np.isnat(stamps))][g.codes]
                parts.append(stamps)
            self._cache[key] = _joined(parts, "datetime64[s]")
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
            stamps = self.dates()
            start = np.datetime64(self.as_of.isoformat(), "s") - np.timedelta64(days, "D")
            with np.errstate(invalid="ignore"):
                self._cache[key] = stamps >= start  # NaT compares False
        result: BoolArray = self._cache[key]
        return result

    # --- locating rows, for messages ------------------------------------------------------

    def locate(self, row: int) -> tuple[OrderTable, int]:
        """The table of frame row ``row`` and the row number a person sees in it."""
        t = int(np.searchsorted(self.offsets, row, side="right")) - 1
        table = self.tables[t]
        return table, row - int(self.offsets[t]) + table.row_offset


def _joined(parts: Sequence[np.ndarray[Any, Any]], dtype: Any) -> np.ndarray[Any, Any]:
    """The parts one after the other: the part itself where there is one (a run of one
    export; ``np.concatenate`` would copy it), and no copy per cached variant."""
    if len(parts) == 1:
        view = parts[0].view()
        view.flags.writeable = False  # shared with where it came from: never changed
        return view
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
