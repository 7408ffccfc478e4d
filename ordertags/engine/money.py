"""Money in a run's orders: totals, refunds, customer spend in one currency.

Amounts are read once per field, when first asked for, and only for the fields a rule
needs (a bad value in a column no rule uses is no error): as float64 for comparisons
(:meth:`Money.numbers`) and as exact ten-thousandths for sums (:meth:`Money.units`).
An order field (``total``) gives the order's value on every row of the order
(:class:`ordertags.engine.orders.Orders`). Customer spend is net of refunds and, with a
rule file's ``currency:`` and ``rates:``, converted into one currency
(:meth:`Money.spend_units`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.amounts import fully_refunded, net_spend, rate_into
from ordertags.engine.arrays import BoolArray, FloatArray, IntArray, combined, floats
from ordertags.engine.columns import Columns, joined
from ordertags.engine.orders import Orders
from ordertags.io.platforms import ITEM_FIELDS, tax_included
from ordertags.io.values import money_to_units, parse_money

#: Order statuses that say the whole order was given back (compared trimmed and
#: lower-cased): Shopify's Financial Status and WooCommerce's status ``refunded``
#: (``wc-refunded`` as some WooCommerce exporters write it), AlgolPlus' ``Refunded``.
#: Shopify's ``partially_refunded`` states its amount in ``Refunded Amount``.
REFUNDED_STATUSES = frozenset({"refunded", "wc-refunded"})

#: Order statuses that say the order never became a sale (compared trimmed and
#: lower-cased): WooCommerce's ``cancelled`` and ``failed`` (a payment that did not go
#: through), Shopify's Financial Status ``voided`` (the payment given up before it was
#: taken), Amazon's order-status ``Canceled``, eBay's ``Cancelled``. Such an order counts
#: nowhere in a customer's figures: not in orders or spend (as a fully refunded order),
#: nor in refunds or refund rates (no money was given back: none was kept).
CANCELLED_STATUSES = frozenset(
    {"cancelled", "canceled", "wc-cancelled", "failed", "wc-failed", "voided"}
)


class Money:
    """The money of a run's orders; ``style`` forces how amounts are written
    (``--money-style``; None: each export's profile decides)."""

    def __init__(self, cols: Columns, orders: Orders, *, style: str | None = None) -> None:
        self.cols = cols
        self.orders = orders
        self.style = style
        self._cache: dict[tuple[str, str], Any] = {}
        #: The currency customer spend is compared in, and rates into it (see
        #: :meth:`spend_units`); set by :meth:`compare_spend_in`.
        self.currency: str | None = None
        self.rates: dict[str, float] = {}
        #: Per currency: counted orders left out of customer spend (no rate into it).
        self.left_out: dict[str, int] = {}

    def compare_spend_in(self, currency: str | None, rates: Mapping[str, float]) -> None:
        """Compare customer spend in ``currency`` with ``rates`` into it (a rule file's
        ``currency:`` and ``rates:``)."""
        self.currency = currency.upper() if currency else None
        self.rates = {k.upper(): float(v) for k, v in rates.items()}

    def style_of(self, ti: int) -> str:
        """How the amounts of table ``ti`` are written (``--money-style``, else its
        profile's)."""
        return self.style or self.cols.profiles[ti].money

    def refund_units(self) -> IntArray:
        """Per row: what its order gave back (ten-thousandths), as the exports state it:
        the refund column (Shopify ``Refunded Amount``, AlgolPlus ``Order Refund
        Amount``) or, where that says nothing and the order's status says it was
        refunded (:data:`REFUNDED_STATUSES`: Shopify's Financial Status, WooCommerce's
        status) or cancelled (:meth:`cancelled`), its whole total; 0 elsewhere. An order
        field: the order's value on every row of the order."""
        key = ("refund", "")
        if key in self._cache:
            cached: IntArray = self._cache[key]
            return cached
        units = (
            self.units(field="refunds", optional=True)
            if self.cols.has_field("refunds")
            else np.zeros(self.cols.n, dtype=np.int64)
        )
        if self.cols.has_field("status"):
            said = self._status_in(REFUNDED_STATUSES) | self.cancelled()
            if said.any():
                total = self.units(field="total", optional=True)
                units = np.where(said & (units == 0), total, units)
        self._cache[key] = units
        return units

    def _status_in(self, statuses: frozenset[str]) -> BoolArray:
        """Per row: does its order's status (trimmed, lower-cased) name one of
        ``statuses``? (All False where the exports have no status.)"""
        if not self.cols.has_field("status"):
            return np.zeros(self.cols.n, dtype=bool)
        encoded = pc.dictionary_encode(combined(self.orders.text("status")))
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        names = pc.utf8_lower(encoded.dictionary)
        said: BoolArray = np.array(
            [(x or "").strip() in statuses for x in names.to_pylist()] + [False]
        )[np.where(codes >= 0, codes, len(names))]
        return said

    def cancelled(self) -> BoolArray:
        """Per row: was its order cancelled, voided or failed (:data:`CANCELLED_STATUSES`)?
        It gives back its whole total (:meth:`refund_units`), so it counts in neither
        orders nor spend, and it is left out of refunds and refund rates. An order
        field: the order's value on every row of the order."""
        key = ("cancelled", "")
        if key not in self._cache:
            self._cache[key] = self._status_in(CANCELLED_STATUSES)
        result: BoolArray = self._cache[key]
        return result

    def net_units(self) -> IntArray:
        """Per row: what its order adds to its customer's spend (ten-thousandths): its
        total less :meth:`refund_units`, which takes it down to 0 at most
        (:func:`ordertags.base.amounts.net_spend`)."""
        key = ("net", "")
        if key not in self._cache:
            total = self.units(field="total", optional=True)
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
                fully_refunded(self.units(field="total", optional=True), self.refund_units())
                if self._refunds_known()
                else np.zeros(self.cols.n, dtype=bool)
            )
        result: BoolArray = self._cache[key]
        return result

    def _refunds_known(self) -> bool:
        """Does any order of the run state a refund? (Else neither the totals nor the
        refunds need reading to count orders.)"""
        if not self.cols.has_field("refunds") and not self.cols.has_field("status"):
            return False
        return bool(self.refund_units().any())

    def spend_units(self) -> IntArray:
        """Per row: its order's total as customer spend counts it (ten-thousandths): net
        of refunds (:meth:`net_units`), in one currency: the configured one, where
        orders in others are converted by the configured rates or, with no rate, left
        out (0 here; counted, per currency, in :attr:`left_out`); without one,
        the orders' own currency where the run's orders agree (where they do not, they
        are summed as they are, with a warning naming the currencies). An order with no
        currency is taken to be in it."""
        key = ("spend", "")
        if key in self._cache:
            cached: IntArray = self._cache[key]
            return cached
        units = self.net_units()
        if not self.cols.has_field("currency"):
            self._cache[key] = units
            return units
        text = pc.utf8_upper(pc.utf8_trim_whitespace(combined(self.orders.text("currency"))))
        encoded = pc.dictionary_encode(text)
        names = [c or "" for c in encoded.dictionary.to_pylist()]
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
        counted = self.orders.counted
        present = sorted(
            {names[c] for c in np.unique(codes[counted & (codes >= 0)]).tolist()} - {""}
        )
        base = self.currency
        if base is None:
            if len(present) > 1:
                self.cols.warnings.append(
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
                    self.left_out[name] = self.left_out.get(name, 0) + left
        converted: IntArray = np.rint(units * factor[codes]).astype(np.int64)
        self._cache[key] = converted
        return converted

    def _parse(self, ti: int, col: pa.ChunkedArray | pa.Array, name: str) -> FloatArray:
        table = self.cols.tables[ti]
        arr = parse_money(
            col,
            style=self.style_of(ti),
            file=table.source,
            column=name,
            row_offset=table.row_offset,
        )
        return floats(arr)

    def _column_numbers(self, ti: int, name: str) -> FloatArray | None:
        i = self.cols.maps[ti].find_column(name)
        if i is None:
            return None
        return self._parse(ti, self.cols.tables[ti].column(i), self.cols.tables[ti].columns[i])

    def _field_numbers(self, ti: int, field: str) -> FloatArray:
        """A field's numbers row by row (no spreading), NaN where blank."""
        table, fmap = self.cols.tables[ti], self.cols.maps[ti]
        raw = self.cols.raw_field(ti, field)
        if raw is None:
            raise fmap.missing(field, file=table.source)
        i = fmap.get(field)
        name = table.columns[i] if i is not None else field
        return self._parse(ti, raw, name)

    def _per_order_sum(self, ti: int, per_row: FloatArray) -> FloatArray:
        """Per order: the sum of ``per_row`` over its rows (NaN where all are blank)."""
        g = self.orders.groups(ti)
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
        g = self.orders.groups(ti)
        if g.codes is None:
            return per_row
        result: FloatArray = per_row[self.orders.first_valid(ti, ~np.isnan(per_row))]
        return result

    def _tax_included(self, ti: int) -> BoolArray:
        """Per row of table ``ti``: do its prices include tax? (Amazon: by the order's
        marketplace, see :func:`ordertags.io.platforms.tax_included`; decided once per
        distinct (sales channel, currency).)"""
        n = self.cols.tables[ti].num_rows
        if self.cols.profiles[ti].tax_rule != "amazon-marketplace":
            return np.zeros(n, dtype=bool)
        channel = combined(self.orders.table_text(ti, "channel"))
        currency = combined(self.orders.table_text(ti, "currency"))
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
        table, profile, fmap = self.cols.tables[ti], self.cols.profiles[ti], self.cols.maps[ti]
        lines = self.cols.line_columns(ti, profile.total_lines)
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
            taxes = self.cols.line_columns(ti, profile.tax_lines)
            if taxes:
                exclusive = ~self._tax_included(ti)
                for name in taxes:
                    nums = self._column_numbers(ti, name)
                    assert nums is not None
                    per_row += np.where(exclusive, np.nan_to_num(nums), 0.0)
            for name in self.cols.line_columns(ti, profile.discount_lines):
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
            for name in self.cols.line_columns(ti, profile.total_once):
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
        optional = self.cols.optional_for(field, optional)
        key = ("num", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            parts = []
            for ti, table in enumerate(self.cols.tables):
                g = self.orders.groups(ti)
                if optional and field and not self.cols.has(ti, field):
                    parts.append(np.full(table.num_rows, np.nan))
                elif field == "total":
                    totals = self.order_totals(ti)
                    parts.append(totals if g.codes is None else totals[g.codes])
                elif field:
                    nums = self._field_numbers(ti, field)
                    if field not in ITEM_FIELDS and g.codes is not None:
                        nums = nums[self.orders.first_valid(ti, ~np.isnan(nums))][g.codes]
                    parts.append(nums)
                else:
                    got = self._column_numbers(ti, column or "")
                    parts.append(np.full(table.num_rows, np.nan) if got is None else got)
            self._cache[key] = joined(parts, np.float64)
        result: FloatArray = self._cache[key]
        return result

    def units(
        self, *, field: str | None = None, column: str | None = None, optional: bool = False
    ) -> IntArray:
        """Money in ten-thousandths, exact for sums (blank -> 0). For ``total``, the
        order's total on each row of the order: sum it over
        :attr:`ordertags.engine.orders.Orders.starts`. ``optional``: as for :meth:`numbers`."""
        optional = self.cols.optional_for(field, optional)
        key = ("units", (field or f"col:{column}") + ("?" if optional else ""))
        if key not in self._cache:
            nums = self.numbers(field=field, column=column, optional=optional)
            self._cache[key] = money_to_units(pa.array(nums, from_pandas=True))
        result: IntArray = self._cache[key]
        return result
