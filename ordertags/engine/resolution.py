"""A run's customers: the frame's rows grouped into people, with the tag book's links and
(in a workspace) the order history, and the customer measures rules ask for.

The identity model is in :mod:`ordertags.customers`: keys of whole columns, connected
components, links and suspect pairs in :mod:`ordertags.customers.identity`; a row's
identity keys and the merging of a run's rows into people in
:mod:`ordertags.customers.people`; the history store in
:mod:`ordertags.customers.history`. This module feeds them a run's :class:`Frame` and
hands the result (a :class:`Memory`) explicitly to whoever needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.base.amounts import fully_refunded, net_spend, rate_into
from ordertags.customers.grouping import Customers
from ordertags.customers.history import History, IngestReport, Recorded
from ordertags.customers.identity import (
    NO_DATE,
    LinkSet,
    OrderBatch,
    RunIdentities,
    Suspect,
    codes_of,
    evidence_text,
    find_suspects,
    list_suspects,
    null_strings,
    resolve_links,
    tag_priorities,
)
from ordertags.customers.people import Grouping, OrderTexts, group_people, identities_of
from ordertags.engine.arrays import BoolArray, FloatArray, IntArray, combined
from ordertags.engine.frame import Frame
from ordertags.engine.tagtext import render_tags
from ordertags.errors import ColumnError, param
from ordertags.io.fields import CONSENT_YES, FIELD_ALIASES, FIELD_OPTIONS
from ordertags.io.values import whole_units
from ordertags.tagbook import TagBook


def run_identities(
    frame: Frame, region: str = K.DEFAULT_REGION, *, phones: bool = True
) -> RunIdentities:
    """Per row of ``frame``: its identity keys (:func:`ordertags.customers.people.identities_of`).
    Without ``phones`` (a run with neither a history nor a phone a link or the tag book
    names) the phone and address keys are left null, unparsed."""

    def text(name: str) -> pa.ChunkedArray | None:
        if not phones or not frame.has_field(name):
            return None
        return frame.text(field=name)

    texts = OrderTexts(
        identity=frame.identities.text(),
        buyers=frame.identities.buyers(),
        phone=text("phone"),
        country=text("country"),
        last_name=text("last_name"),
        name=text("name"),
        postcode=text("postcode"),
        address=text("address"),
    )
    return identities_of(texts, region)


# --- the run's view ---------------------------------------------------------------------


class Memory:
    """A run's customers and their measures, from the run's rows, the tag book's links
    and (with a workspace) the history.

    Rows are grouped at two levels. ``customers.codes`` still gives one code per email
    key (conditions on the email are evaluated once per key, as without a memory);
    orders with no email but a strong phone identity get codes of their own, with a
    null key. ``customers.groups`` then maps codes to people: the reductions
    (``reduce_any``, ``person_any``...) run per person, so a customer tag and a customer
    measure cover every order of the merged customer.
    """

    def __init__(
        self,
        frame: Frame,
        ids: RunIdentities,
        links: LinkSet,
        history: History | None = None,
        *,
        full: bool = False,
        recorded: IngestReport | None = None,
        tag_phones: frozenset[str] = frozenset(),
    ) -> None:
        self.frame = frame
        self.ids = ids
        self.links = links
        self.history = history
        self.full = full
        self.recorded = recorded
        #: Phones the tag book tags by hand: orders with them join that person, as
        #: phones named in a link do.
        self.tag_phones = tag_phones
        self._measures: dict[tuple[int | None, bool], dict[str, IntArray]] = {}

    @property
    def customers(self) -> Customers:
        return self.grouping.customers

    @cached_property
    def grouping(self) -> Grouping:
        return group_people(
            self.frame.identities.text(),
            self.ids,
            self.links,
            history=self.history,
            full=self.full,
            tag_phones=self.tag_phones,
            recorded_owner_keys=self._recorded_owner_keys,
        )

    def _recorded_owner_keys(self, nameless: BoolArray) -> pa.Array:
        """Per row: where the row names no customer (``nameless``) but the history holds
        its order (the same channel and number, or the order known by that number), a
        key (email or buyer id) of the history's customer of that order; else null."""
        frame = self.frame
        out = null_strings(frame.n)
        if self.history is None or not frame.has_field("order_id"):
            return out
        numbered = np.asarray(
            pc.not_equal(frame.orders.numbers, "").to_numpy(zero_copy_only=False), dtype=bool
        )
        rows = np.flatnonzero(nameless & numbered & frame.orders.starts)
        if not len(rows):
            return out
        take = pa.array(rows)
        recorded = self.history.recorded_orders(
            frame.orders.channels.take(take).to_pylist(),
            frame.orders.numbers.take(take).to_pylist(),
        )
        owned = recorded.customer >= 0
        if not owned.any():
            return out
        keys, customer = self.history.email_identities(np.unique(recorded.customer[owned]))
        if not len(keys):
            return out
        # One key per customer (the first), per order of the run that the history holds.
        first_of, at = np.unique(customer, return_index=True)
        where = np.searchsorted(first_of, recorded.customer)
        hit = owned & (where < len(first_of))
        hit &= first_of[np.minimum(where, len(first_of) - 1)] == recorded.customer
        source = np.full(frame.n, -1, dtype=np.int64)
        source[rows[recorded.pos[hit]]] = at[where[hit]]
        if frame.orders.grouped:  # every row of the order, as its first row
            source = source[frame.orders.first_rows][frame.orders.codes]
        picked = pc.take(keys, pa.array(np.maximum(source, 0)))
        result: pa.Array = pc.if_else(pa.array(source >= 0), picked, out)
        return result

    # --- measures -----------------------------------------------------------------------

    def measure(self, frame: Frame, measure: str, within_days: int | None) -> FloatArray:
        """Per customer code: a customer measure as rules read it (float64, NaN where it
        has no value), over the merged customers' orders in the run and, with a
        workspace, in the history."""
        groups = self.customers.groups
        assert groups is not None
        require_measure_fields(frame, measure, within_days)
        agg = self.aggregates(within_days, refunds=measure in REFUND_MEASURES)
        values = measure_of(frame, agg, measure, within_days)
        result: FloatArray = values[groups]
        return result

    def aggregates(self, within_days: int | None, *, refunds: bool = False) -> dict[str, IntArray]:
        """Per person: see :func:`customer_aggregates`; with the history's orders (and,
        with ``refunds``, its refund figures: a query of their orders, made only for
        the rules that ask)."""
        if (within_days, refunds) in self._measures:
            return self._measures[(within_days, refunds)]
        frame = self.frame
        customers = self.customers
        assert customers.groups is not None
        person = self._person_of_rows
        out = customer_aggregates(frame, person, customers.people, within_days)
        if self.history is not None:
            start = end = None
            if within_days is not None:
                start, end = history_window(frame.as_of, within_days)
            self._add_history(out, out["first"], out["last"], start, end, refunds=refunds)
        self._measures[(within_days, refunds)] = out
        return out

    @cached_property
    def _person_of_rows(self) -> IntArray:
        """Per row: the person whose figures its order counts in (-1: none). An order
        whose copy in the history outranks the run's (the channel's own report there,
        only Linnworks' copy here) counts as the history holds it, not as the run does."""
        customers = self.customers
        assert customers.groups is not None
        person = customers.row_people()
        if not len(self.grouping.hist_ids):
            return person  # no customer of the run is in the history: nothing to win
        copies = self._recorded_copies
        if copies is None or not self._history_wins.any():
            return person
        person = person.copy()
        person[copies[0][self._history_wins]] = -1
        return person

    @cached_property
    def _recorded_copies(self) -> tuple[IntArray, Recorded] | None:
        """The history's version of the orders this run holds (looked up once), with
        the frame row of the run's copy of each (the one the run counts); None with no
        history."""
        if self.history is None:
            return None
        batch = run_orders(self.frame, self.ids)
        if batch is None or not len(batch.rows):
            return None
        recorded = self.history.recorded_orders(batch.channel, batch.order_id)
        return batch.rows[recorded.pos], recorded

    @cached_property
    def _history_wins(self) -> BoolArray:
        """Per copy of :attr:`_recorded_copies`: does the history's copy of the order
        outrank the run's, and belong to the person of the run's order? The history
        then keeps its values (as recording the run would): the run's copy neither counts
        nor takes the history's copy out."""
        copies = self._recorded_copies
        if copies is None:
            return np.zeros(0, dtype=bool)
        rows, dup = copies
        frame = self.frame
        run_rank = frame.orders.copy_ranks[np.searchsorted(frame.offsets, rows, side="right") - 1]
        wins: BoolArray = dup.rank > run_rank
        if not wins.any():
            return wins
        ids_sorted, owner_sorted = self.grouping.hist_ids, self.grouping.hist_owner
        at = np.searchsorted(ids_sorted, dup.customer)
        found = (at < len(ids_sorted)) & (
            ids_sorted[np.minimum(at, max(len(ids_sorted) - 1, 0))] == dup.customer
            if len(ids_sorted)
            else np.zeros(len(dup.customer), dtype=bool)
        )
        customers = self.customers
        assert customers.groups is not None
        person = customers.row_people()[rows]
        owner = np.where(found, owner_sorted[np.minimum(at, max(len(owner_sorted) - 1, 0))], -2)
        result: BoolArray = wins & (owner == person)
        return result

    def _add_history(
        self,
        out: dict[str, IntArray],
        first: IntArray,
        last: IntArray,
        start: int | None,
        end: int | None,
        *,
        refunds: bool,
    ) -> None:
        """Add the history's orders of each person; take out the history's copy of the
        orders this run holds too, so that no order counts twice. The refund figures
        (``refunds``, ``placed``...) only with ``refunds``."""
        assert self.history is not None
        ids_sorted, owner_sorted = self.grouping.hist_ids, self.grouping.hist_owner
        if not len(ids_sorted):
            return
        base = self.frame.money.currency
        agg = self.history.aggregates(
            ids_sorted, start=start, end=end, currency=base, rates=self.frame.money.rates
        )
        k = np.searchsorted(ids_sorted, agg.ids)
        p = owner_sorted[k]
        np.add.at(out["orders"], p, agg.orders)
        np.add.at(out["spend"], p, agg.spend)
        if refunds:
            figures = self.history.refund_figures(ids_sorted, start=start, end=end)
            r = owner_sorted[np.searchsorted(ids_sorted, figures.ids)]
            np.add.at(out["refunds"], r, figures.refunded)
            np.add.at(out["placed"], r, figures.placed)
            np.add.at(out["refunded_orders"], r, figures.refunded_orders)
            np.add.at(out["placed_value"], r, figures.placed_value)
        dated = agg.first != NO_DATE
        np.minimum.at(first, p[dated], agg.first[dated])
        low = np.where(last == NO_DATE, _LOW, last)
        np.maximum.at(low, p[dated], agg.last[dated])
        last[:] = np.where(low == _LOW, NO_DATE, low)
        # The history's copies of this run's orders, but those that outrank the run's
        # (the run does not count those: see _person_of_rows).
        copies = self._recorded_copies
        if copies is None:
            return
        dup = copies[1]
        keep = np.isin(dup.customer, ids_sorted) & ~self._history_wins
        if start is not None and end is not None:
            keep &= (dup.at != NO_DATE) & (dup.at >= start) & (dup.at < end)
        if not keep.any():
            return
        q = owner_sorted[np.searchsorted(ids_sorted, dup.customer[keep])]
        # Each copy as the history counted it: an order unless fully refunded, its
        # total net of its refund.
        np.subtract.at(out["orders"], q, (~fully_refunded(dup.total, dup.refund)[keep]).astype(int))
        totals = net_spend(dup.total, dup.refund)[keep]
        if base is not None:  # the history's copies in the currency spend is compared in
            factor = np.array(
                [
                    rate_into(c, base, self.frame.money.rates) or 0.0
                    for c, k in zip(dup.currency, keep, strict=True)
                    if k
                ]
            )
            totals = np.rint(totals * factor).astype(np.int64)
        np.subtract.at(out["spend"], q, totals)
        if not refunds:
            return
        kept = dup.cancelled[keep] == 0  # a cancelled copy was in no refund figure
        np.subtract.at(out["refunds"], q[kept], dup.refund[keep][kept])
        np.subtract.at(out["placed"], q[kept], 1)
        np.subtract.at(out["refunded_orders"], q[kept], (dup.refund[keep][kept] > 0).astype(int))
        np.subtract.at(out["placed_value"], q[kept], dup.total[keep][kept])


_LOW = np.iinfo(np.int64).min
#: The measures made from the refund figures (the history's are read only for them).
REFUND_MEASURES = frozenset(
    {"refunds", "refunded_orders", "orders_placed", "refund_rate", "refund_value_rate"}
)
#: The columns each measure is worked out from (besides the orders).
_NEEDS: dict[str, tuple[str, ...]] = {
    "orders": (),
    "first_order": (),
    "spend": ("total",),
    "average_order_value": ("total",),
    "refunds": ("refunds",),
    "refunded_orders": (),
    "orders_placed": (),
    "refund_rate": (),
    "refund_value_rate": ("total", "refunds"),
    "days_since_first": ("date",),
    "days_since_last": ("date",),
}


def history_window(as_of: dt.date, days: int) -> tuple[int, int]:
    """A customer window of ``days`` over the history's orders, in epoch seconds: from
    the as-of date minus ``days`` (inclusive) to the end of the as-of day, so that the
    orders an earlier run of the day recorded count (a cron's third order of a
    customer today is their third)."""
    end = int(np.datetime64(as_of.isoformat(), "s").astype(np.int64)) + 86_400
    return end - (days + 1) * 86_400, end


def customer_aggregates(
    frame: Frame,
    person: IntArray,
    people: int,
    within_days: int | None,
    measure: str | None = None,
) -> dict[str, IntArray]:
    """Per person (``person``: per row, its person, -1 for none): ``orders`` (a fully
    refunded order is none), ``spend`` (net of refunds) and ``refunds``
    (ten-thousandths), ``first`` and ``last`` order (epoch seconds; ``NO_DATE`` where
    none), over the run's orders in the window (all orders when ``within_days`` is
    None; see :meth:`ordertags.engine.dates.Dates.customer_window`: the run's own orders
    count whatever their date, unless it is before the window's start). With
    ``measure``, only what it needs is worked out (the rest is zero); a column some
    export lacks counts as zero."""
    need = _NEEDS.get(measure or "", ("total", "refunds", "date"))
    rows = frame.orders.counted.copy()  # an order two exports hold counts once
    if within_days is not None:
        rows &= frame.dates.customer_window(within_days)
    sel = rows & (person >= 0)
    who = person[sel]
    purchases = sel & ~frame.money.fully_refunded()
    out: dict[str, IntArray] = {
        "orders": np.bincount(person[purchases], minlength=people).astype(np.int64)
    }
    for name, column in (("spend", "total"), ("refunds", "refunds")):
        values = (
            (
                frame.money.spend_units()  # net of refunds, in one currency
                if name == "spend"
                else np.where(frame.money.cancelled(), 0, frame.money.refund_units())
            )
            if column in need
            and (frame.has_field(column) or (name == "refunds" and frame.has_field("status")))
            else None
        )
        out[name] = (
            _sum_by(who, values[sel], people) if values is not None else np.zeros(people, np.int64)
        )
    # The refund figures: orders placed (a cancelled one is none) and those with money
    # given back, and their value (as stated, in each order's currency).
    placed = sel & ~frame.money.cancelled()
    out["placed"] = np.bincount(person[placed], minlength=people).astype(np.int64)
    refund = frame.money.refund_units()
    out["refunded_orders"] = np.bincount(person[placed & (refund > 0)], minlength=people).astype(
        np.int64
    )
    out["placed_value"] = (
        _sum_by(person[placed], frame.money.units(field="total", optional=True)[placed], people)
        if "total" in need and frame.has_field("total")
        else np.zeros(people, np.int64)
    )
    first = np.full(people, NO_DATE, dtype=np.int64)
    last = np.full(people, NO_DATE, dtype=np.int64)
    if "date" in need and frame.has_field("date"):
        secs = _seconds(frame.dates.stamps(optional=True))
        dated = sel & (secs != NO_DATE)
        np.minimum.at(first, person[dated], secs[dated])
        # "no date" sorts last for the minimum; for the maximum, it is overwritten.
        low = np.where(last == NO_DATE, _LOW, last)
        np.maximum.at(low, person[dated], secs[dated])
        last = np.where(low == _LOW, NO_DATE, low)
    out["first"], out["last"] = first, last
    return out


def require_measure_fields(frame: Frame, measure: str, within_days: int | None) -> None:
    """Raise where the exports lack a column ``measure`` needs."""
    if measure in ("spend", "average_order_value"):
        frame.require_field("total")
    if measure == "refunds":
        frame.require_field("refunds")
    if measure in ("refunded_orders", "refund_rate", "refund_value_rate"):
        # A refund column, or a status that says "refunded" or "cancelled".
        if not frame.has_field("refunds"):
            frame.require_field("status")
    if measure == "refund_value_rate":
        frame.require_field("total")
    if within_days is not None or measure.startswith("days_since"):
        frame.require_field("date")


def measure_of(
    frame: Frame, agg: dict[str, IntArray], measure: str, within_days: int | None
) -> FloatArray:
    """Per person: ``measure`` from :func:`customer_aggregates` (float64, NaN where it
    has no value). Raises where the exports lack a column the measure needs."""
    require_measure_fields(frame, measure, within_days)
    orders = agg["orders"].astype(np.float64)
    values: FloatArray
    if measure in ("orders", "first_order"):
        values = orders
    elif measure == "spend":
        values = agg["spend"].astype(np.float64) / 10_000
    elif measure == "average_order_value":
        spend = agg["spend"].astype(np.float64) / 10_000
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(orders > 0, spend / np.maximum(orders, 1), np.nan)
    elif measure == "refunds":
        values = agg["refunds"].astype(np.float64) / 10_000
    elif measure == "refunded_orders":
        values = agg["refunded_orders"].astype(np.float64)
    elif measure == "orders_placed":
        values = agg["placed"].astype(np.float64)
    elif measure in ("refund_rate", "refund_value_rate"):
        # A percentage: refunded orders of the orders placed, or the value given back
        # of the value of the orders placed (NaN where there is none).
        part, whole = (
            ("refunded_orders", "placed")
            if measure == "refund_rate"
            else ("refunds", "placed_value")
        )
        num, den = agg[part].astype(np.float64), agg[whole].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(den > 0, 100 * num / np.maximum(den, 1), np.nan)
    else:
        stamp = agg["first"] if measure == "days_since_first" else agg["last"]
        as_of = int(np.datetime64(frame.as_of.isoformat(), "s").astype(np.int64))
        with np.errstate(invalid="ignore"):
            values = np.floor((as_of - stamp.astype(np.float64)) / 86_400)
        values[stamp == NO_DATE] = np.nan
    return values


def measure_per_code(
    frame: Frame,
    customers: Customers,
    memory: Memory | None,
    measure: str,
    within_days: int | None,
) -> FloatArray:
    """Per customer code of ``customers``: ``measure`` over the customer's orders (all
    the merged person's, with a ``memory``)."""
    if memory is not None:
        return memory.measure(frame, measure, within_days)
    require_measure_fields(frame, measure, within_days)
    agg = customer_aggregates(frame, customers.codes, customers.count, within_days, measure)
    return measure_of(frame, agg, measure, within_days)


def _sum_by(who: IntArray, values: np.ndarray[Any, Any], n: int) -> IntArray:
    sums = np.bincount(who, weights=values.astype(np.float64), minlength=n)
    result: IntArray = whole_units(sums)
    return result


def _seconds(stamps: np.ndarray[Any, Any]) -> IntArray:
    """datetime64 -> epoch seconds, ``NO_DATE`` for NaT."""
    secs = stamps.astype("datetime64[s]").astype(np.int64)
    result: IntArray = np.where(np.isnat(stamps), NO_DATE, secs)
    return result


def run_orders(
    frame: Frame,
    ids: RunIdentities | None = None,
    *,
    start: int = 0,
    length: int | None = None,
    source: str = "",
) -> OrderBatch | None:
    """The recordable orders among frame rows ``start .. start+length`` (all rows by
    default): None when the exports have no order id column."""
    if not frame.has_field("order_id"):
        return None
    length = frame.n - start if length is None else length
    sl = slice(start, start + length)
    # An order's identity: its channel (one vocabulary) and its number there.
    order_id = frame.orders.numbers.slice(start, length)
    keep = frame.orders.starts[sl] & np.asarray(
        pc.not_equal(order_id, "").to_numpy(zero_copy_only=False), dtype=bool
    )
    skipped = int((frame.orders.starts[sl] & ~keep).sum())
    channel = frame.orders.channels.slice(start, length)
    # One version per order (Orders.distinct: its channel and number): the one the
    # run counts (Orders.counted): a channel's own export's copy over an order
    # hub's, then the last one.
    idx = np.flatnonzero(keep)
    if len(idx):
        uniq, codes = np.unique(frame.orders.distinct[idx + start], return_inverse=True)
        table_rank = frame.orders.copy_ranks[
            np.searchsorted(frame.offsets, idx + start, side="right") - 1
        ]
        score = table_rank * (len(idx) + 1) + np.arange(len(idx))
        best = np.full(len(uniq), -1, dtype=np.int64)
        np.maximum.at(best, codes, score)
        idx = idx[np.sort(best % (len(idx) + 1))]
    take = pa.array(idx, pa.int64())
    rows = idx + start
    if frame.has_field("date"):
        at = _seconds(frame.dates.stamps(optional=True)[rows])
    else:
        at = np.full(len(rows), NO_DATE, dtype=np.int64)
    if frame.has_field("total"):
        nums = frame.money.numbers(field="total", optional=True)[rows]
        has_total = ~np.isnan(nums)
        total = frame.money.units(field="total", optional=True)[rows]
    else:
        has_total = np.zeros(len(rows), dtype=bool)
        total = np.zeros(len(rows), dtype=np.int64)
    refund = frame.money.refund_units()[rows]  # as stated, or the total where "refunded"
    name = (
        combined(frame.text(field="name")).take(pa.array(rows)).to_pylist()
        if frame.has_field("name")
        else [None] * len(rows)
    )
    # The order's other number: the hub's own id where the key is the channel's number.
    ref = frame.orders.aliases.take(pa.array(rows)).to_pylist()
    table_of = min(
        int(np.searchsorted(frame.offsets, start, side="right")) - 1, len(frame.tables) - 1
    )
    profile = frame.profiles[table_of] if frame.tables else None
    full_ids = ids if ids is not None else run_identities(frame)
    sub = full_ids.take(rows)

    def texts(name: str) -> list[str | None]:
        if not frame.has_field(name):
            return [None] * len(rows)
        got = pc.utf8_trim_whitespace(combined(frame.text(field=name)).take(pa.array(rows)))
        return [x or None for x in got.to_pylist()]

    consent: list[int | None] = [
        None if x is None else int(x.lower() in CONSENT_YES) for x in texts("marketing_consent")
    ]
    return OrderBatch(
        currency=[x.upper() if x else None for x in texts("currency")],
        consent=consent,
        reference=[r or None for r in ref],
        email_text=[x if x and "@" in x else None for x in texts("email")],
        source=source,
        rows=rows,
        channel=channel.take(take).to_pylist(),
        order_id=order_id.take(take).to_pylist(),
        at=at,
        total=total,
        has_total=has_total,
        refund=refund,
        name=[(x or "").strip() or None for x in name],
        ids=sub,
        skipped=skipped,
        via=profile.name if profile is not None else "",
        hub=frame.orders.is_hub(table_of) if profile is not None else False,
        cancelled=frame.money.cancelled()[rows],
    )


def order_batches(frame: Frame, ids: RunIdentities) -> list[OrderBatch]:
    """One :class:`OrderBatch` per export of the frame (one history transaction each)."""
    out = []
    for t, table in enumerate(frame.tables):
        if frame.maps[t].get("order_id") is None:
            looked = ", ".join(FIELD_ALIASES["order_id"][:6])
            raise ColumnError(
                f"no order id column (looked for: {looked}, ...), so its orders cannot be "
                "recorded in the history.",
                file=table.source,
                hint=f"Name the column with {FIELD_OPTIONS['order_id']}, or leave the history "
                f"out with {param('record=False')}.",
            )
        start = int(frame.offsets[t])
        batch = run_orders(frame, ids, start=start, length=table.num_rows, source=table.source)
        assert batch is not None
        out.append(batch)
    return out


# --- a run's customer memory ----------------------------------------------------------


def resolve_customers(
    frame: Frame,
    tagbook: TagBook,
    *,
    history: History | None = None,
    record: bool = False,
    region: str | None = None,
) -> Memory | None:
    """The customer memory of the run on ``frame``: links from the tag book and, with a
    history, strong phone identities, the past orders and (with ``record``) this run's
    orders written to it. None (the frame's own grouping by customer key, see
    :attr:`Frame.customers`) when there is neither a history nor a link. The result is
    handed to whatever needs the run's customers (:func:`run_customers`)."""
    frame.require_field("email")
    if history is None and not tagbook.links and not tagbook.has_phone_entries():
        if frame.identities.buyers() is None:
            return None  # the plain path: one identity per order, no phone parsing
        # Orders carrying an email and a buyer id: join the two, nothing else.
        return Memory(frame, run_identities(frame, phones=False), LinkSet())
    region = K.check_region(region or (history.region if history is not None else None))
    links = resolve_links(tagbook, region)
    ids = run_identities(frame, region)
    recorded = None
    if history is not None:
        history.sync_links(links)
        if record:
            recorded = history.record(order_batches(frame, ids))
    return Memory(
        frame,
        ids,
        links,
        history,
        full=history is not None,
        recorded=recorded,
        tag_phones=tagbook.phone_keys(region),
    )


def run_customers(frame: Frame, memory: Memory | None) -> Customers:
    """The run's customers: merged by ``memory`` where there is one, else the frame's
    grouping by customer key."""
    return memory.customers if memory is not None else frame.customers


def remember_tags(
    memory: Memory, masks: dict[str, BoolArray], tagbook: TagBook, as_of: dt.date
) -> dict[str, tuple[int, int]]:
    """Store each recorded customer's customer tags of this run in the history (for
    ``ordertags customers --tag``), and say per tag how many of the run's customers
    gained it and lost it since the last run that saw them: ``{tag: (gained, lost)}``."""
    if memory.history is None:
        return {}
    customers = memory.customers
    assert customers.groups is not None
    names = [t for t in tagbook.rank(masks) if tagbook.tags[t].scope == "customer"]
    ids, owner = memory.grouping.hist_ids, memory.grouping.hist_owner
    if not len(ids):
        return {}
    per_person = {t: customers.person_any(masks[t])[owner] for t in names}
    text = (
        render_tags(names, per_person, tagbook, len(ids))[0].combine_chunks()
        if names
        else pa.repeat(pa.scalar("", pa.string()), len(ids))
    )
    before = memory.history.tags_of(ids)  # "; "-joined, "" where never tagged
    wrapped = pc.binary_join_element_wise("; ", before, "; ", "")
    changes = {}
    log_gained: dict[str, list[int]] = {}
    log_lost: dict[str, list[int]] = {}
    seen = {*names, *_names_in(before)}
    known = tagbook.rank(t for t in seen if t in tagbook.tags)
    for t in [*known, *sorted(seen - set(known))]:
        had = np.asarray(
            pc.match_substring(wrapped, f"; {t}; ").to_numpy(zero_copy_only=False), dtype=bool
        )
        has = per_person[t] if t in per_person else np.zeros(len(ids), dtype=bool)
        gained, lost = has & ~had, had & ~has
        if gained.any() or lost.any():
            changes[t] = (int(gained.sum()), int(lost.sum()))
            log_gained[t] = ids[gained].tolist()
            log_lost[t] = ids[lost].tolist()
    memory.history.remember_tags(ids.tolist(), text.to_pylist(), as_of)
    memory.history.log_tags(log_gained, log_lost, as_of)
    return changes


def tag_history(memory: Memory) -> Callable[[str, int], BoolArray]:
    """For ``had_tag``: a function (tag, days) -> per row, did the row's customer carry
    the tag in the last ``days`` days before the as-of date (from the history's log)."""

    def had(tag: str, days: int) -> BoolArray:
        frame = memory.frame
        customers = memory.customers
        ids, owner = memory.grouping.hist_ids, memory.grouping.hist_owner
        assert memory.history is not None
        per_id = (
            memory.history.had_tag(ids, tag, frame.as_of - dt.timedelta(days=days), frame.as_of)
            if len(ids)
            else np.zeros(0, bool)
        )
        people = np.zeros(customers.people, dtype=bool)
        people[owner[per_id]] = True
        assert customers.groups is not None
        result: BoolArray = customers.broadcast(people[customers.groups], fill=False)
        return result

    return had


def _names_in(tag_texts: pa.Array) -> set[str]:
    """Every tag name in a column of "; "-joined tag lists (few distinct lists)."""
    distinct = pc.unique(tag_texts).to_pylist()
    return {t for text in distinct if text for t in text.split("; ")}


def suspects_in_frame(
    frame: Frame,
    tagbook: TagBook,
    *,
    as_of: dt.date,
    region: str = K.DEFAULT_REGION,
    tag: str | None = None,
    limit: int | None = 50,
    max_sharing: int = 5,
    memory: Memory | None = None,
) -> list[Suspect]:
    """:func:`find_suspects` over the orders of a run (no history): customers of the
    run that share an address, or a phone under another surname. ``memory``: the run's
    customer memory where the caller has one (default: made here from the tag book).
    ``tag``: in any case; one the tag book does not define is an error."""
    if tag is not None:
        tag = tagbook.tag_named(tag)
    if memory is None:
        memory = Memory(frame, run_identities(frame, region), resolve_links(tagbook, region))
    customers = memory.customers
    assert customers.groups is not None
    ids = memory.ids
    person = customers.row_people()
    phone, phones = codes_of(ids.phone)
    address, addresses = codes_of(ids.address)
    pairs = find_suspects(person, phone, address, max_sharing=max_sharing)
    if not len(pairs.a):
        return []
    # Tags given by hand, per person; the priority of the highest.
    tags_of: list[list[str]] = [[] for _ in range(customers.people)]
    for t, keys in _manual_keys(tagbook, as_of).items():
        hit = np.asarray(
            customers.match_keys(pa.array(keys, pa.string())).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        for p in np.unique(customers.groups[hit]).tolist():
            tags_of[p].append(t)
    ranked = {p: tagbook.rank(t) for p, t in enumerate(tags_of)}
    priority = tag_priorities(ranked, customers.people, tagbook)
    first_row = np.full(customers.people, -1, dtype=np.int64)
    rows = np.flatnonzero(person >= 0)
    first_row[person[rows[::-1]]] = rows[::-1]
    row_key = customers.row_keys()
    names = ids.phone_name
    apart: set[tuple[int, int]] = set()
    for key_a, key_b in resolve_links(tagbook, region).different:
        pa_, pb_ = _person_of(customers, key_a), _person_of(customers, key_b)
        if pa_ >= 0 and pb_ >= 0:
            apart.add((min(pa_, pb_), max(pa_, pb_)))

    def label(p: int) -> str:
        r = int(first_row[p])
        return str(row_key[r].as_py() or names[r].as_py() or f"row {r}")

    def evidence(i: int, a: int, b: int) -> str:
        kind, value = int(pairs.kind[i]), int(pairs.value[i])
        if kind == K.ADDRESS:
            return evidence_text(kind, addresses[value])
        surnames_ = []
        for p in (a, b):
            hit = np.flatnonzero((person == p) & (phone == value))
            found = {str(names[int(r)].as_py() or " ?").split(" ", 1)[1] for r in hit}
            surnames_.append("/".join(sorted(found)) or "?")
        return evidence_text(kind, phones[value], (surnames_[0], surnames_[1]))

    return list_suspects(
        pairs,
        ranked,
        priority,
        label=label,
        evidence=evidence,
        apart=apart,
        tag=tag,
        limit=limit,
    )


def _manual_keys(tagbook: TagBook, as_of: dt.date) -> dict[str, list[str]]:
    """Tag -> the email keys tagged with it by hand (in force)."""
    out: dict[str, list[str]] = {}
    for key, tags in tagbook.manual_tags(as_of).items():
        for t in tags:
            out.setdefault(t, []).append(key)
    return out


def _person_of(customers: Customers, key: str) -> int:
    """The person carrying the identity ``key`` (-1: none in the run)."""
    assert customers.groups is not None
    hit = np.flatnonzero(
        np.asarray(
            pc.fill_null(pc.equal(customers.keys, key), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    )
    if len(hit):
        return int(customers.groups[hit[0]])
    if customers.alias_keys is not None and customers.alias_people is not None:
        hit = np.flatnonzero(
            np.asarray(
                pc.fill_null(pc.equal(customers.alias_keys, key), False).to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
        )
        if len(hit):
            return int(customers.alias_people[hit[0]])
    return -1
