"""Who each row's order is from, as the exports say it: the text a customer key is
made from, gathered from each export's columns. How that text is made (the email, else
the platform's buyer id: :func:`ordertags.customers.grouping.identity_text`) and how
keys make customers is :mod:`ordertags.customers`' business.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.customers.grouping import buyer_keys, identity_text
from ordertags.engine.arrays import BLANK, combined
from ordertags.engine.columns import Columns, stacked
from ordertags.engine.orders import Orders


class Identities:
    """The identities of a run's rows (:class:`ordertags.engine.columns.Columns`)."""

    def __init__(self, cols: Columns, orders: Orders) -> None:
        self.cols = cols
        self.orders = orders
        self._text: pa.ChunkedArray | None = None
        self._buyers: tuple[pa.ChunkedArray | None] | None = None

    def _buyer(self, ti: int) -> pa.Array | None:
        """Per row of table ``ti``: the platform's buyer id prefixed with the platform
        (``ebay:jdoe``), "" where blank; None when the export has no buyer id column."""
        profile, fmap = self.cols.profiles[ti], self.cols.maps[ti]
        if "customer_id" not in profile.customer or fmap.get("customer_id") is None:
            return None
        return buyer_keys(self.orders.table_text(ti, "customer_id"), profile.key_prefix)

    def _email(self, ti: int) -> pa.Array | None:
        """Per row of table ``ti``: the email, where the platform tells customers apart
        by it (None: no such column)."""
        if (
            self.cols.maps[ti].get("email") is None
            or "email" not in self.cols.profiles[ti].customer
        ):
            return None
        return combined(self.orders.table_text(ti, "email"))

    def _identity(self, ti: int) -> pa.ChunkedArray | pa.Array:
        """Per row, what the customer key is made from: the email where the order has
        one, else the platform's buyer id prefixed with the platform (``ebay:jdoe``), ""
        where both are blank."""
        self.cols.identity_field(ti)
        return identity_text(self._email(ti), self._buyer(ti))

    def text(self) -> pa.ChunkedArray:
        """Per row, what the customer key is made from (feed it to
        :func:`ordertags.customers.grouping.customer_keys`): the order's email, or, where
        it has none, the platform's buyer id prefixed with the platform (``ebay:jdoe``,
        ``etsy:123``); "" where there is none. Raises for a file with neither."""
        if self._text is None:
            self.cols.require_field("email")
            pieces = [self._identity(ti) for ti in range(len(self.cols.tables))]
            self._text = stacked(self._hub_copies_named(pieces))
        return self._text

    def _hub_copies_named(self, pieces: list[pa.Array]) -> list[pa.Array]:
        """``pieces`` (per table, its rows' identities) with an order hub's copy of an
        order that names no customer (Linnworks lists eBay and Etsy orders without the
        buyer) given the customer of another copy of the order in the run (the same
        channel and number: the channel's own export), so that a tag, a ``set:`` or a
        hold of that customer reaches the copy the packers work from too."""
        hubs = [ti for ti in range(len(self.cols.tables)) if self.orders.is_hub(ti)]
        if not hubs or len(self.cols.tables) < 2:
            return pieces
        flat = pa.concat_arrays([combined(p) for p in pieces])
        blank = np.asarray(
            pc.fill_null(pc.equal(pc.utf8_trim_whitespace(flat), ""), True).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        in_hub = np.zeros(self.cols.n, dtype=bool)
        for ti in hubs:
            in_hub[
                self.cols.offsets[ti] : self.cols.offsets[ti] + self.cols.tables[ti].num_rows
            ] = True
        numbered = np.asarray(
            pc.not_equal(self.orders.numbers, "").to_numpy(zero_copy_only=False), dtype=bool
        )
        wanting = np.flatnonzero(blank & in_hub & numbered)
        donors = np.flatnonzero(~blank & numbered)
        if not len(wanting) or not len(donors):
            return pieces
        # Per order (its copies share one code): a row of a copy that names the customer.
        order = self.orders.distinct
        donor_of = np.full(int(order.max()) + 1, -1, dtype=np.int64)
        donor_of[order[donors]] = donors
        found = donor_of[order[wanting]]
        take = found >= 0
        if not take.any():
            return pieces
        source = np.arange(self.cols.n, dtype=np.int64)  # each row its own, but for the copies
        source[wanting[take]] = found[take]
        whole = flat.take(pa.array(source))
        return [
            whole.slice(int(self.cols.offsets[ti]), table.num_rows)
            for ti, table in enumerate(self.cols.tables)
        ]

    def buyers(self) -> pa.ChunkedArray | None:
        """Per row, the platform's buyer id (``ebay:jdoe``) where the order carries an
        email too ("" elsewhere): a second identity of the order, which the customer
        resolution joins to the email. None when no order of the run has both."""
        if self._buyers is None:
            pieces: list[pa.Array] = []
            found = False
            for ti, table in enumerate(self.cols.tables):
                email, buyer = self._email(ti), self._buyer(ti)
                if buyer is None or email is None:
                    pieces.append(pa.repeat(BLANK, table.num_rows))
                    continue
                both = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(email), ""), False)
                pieces.append(pc.if_else(both, buyer, BLANK))
                found = found or bool(pc.any(pc.and_(both, pc.not_equal(buyer, ""))).as_py())
            self._buyers = (stacked(pieces) if found else None,)
        return self._buyers[0]
