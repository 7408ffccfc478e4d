"""Reading the history: lookups for a run (customers of identity keys, aggregates, tag
log), statistics, customer lists and reports, and suspects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ordertags.base import keys as K
from ordertags.base.amounts import counted_sql, money, net_spend_sql, rate_into
from ordertags.base.emails import normalize_email
from ordertags.customers.identity import (
    Suspect,
    SuspectPairs,
    codes_of,
    evidence_text,
    find_suspects,
    list_suspects,
    tag_priorities,
)
from ordertags.customers.ingest import HUB_PROFILES, HistoryIngest
from ordertags.customers.store import NONE, SCHEMA_VERSION, IntArray, day_of
from ordertags.errors import HistoryError
from ordertags.io.lookup import norm_order_id
from ordertags.tagbook import TagBook

#: An order's spend (net of refunds) and whether it counts as an order, in the queries
#: below (the orders table is ``o`` in each).
NET = net_spend_sql("o")
COUNTED = counted_sql("o")

#: The orders (ids) known by a number (bound twice): their number on their channel, or
#: another they are known by (an order hub's own id).
KNOWN_BY = (
    "SELECT id FROM orders WHERE order_id = ? UNION SELECT id FROM order_aliases WHERE alias = ?"
)


@dataclass
class Aggregates:
    """Per history customer (``ids``): orders, spend, refunds, first and last order."""

    ids: IntArray
    orders: IntArray
    spend: IntArray
    refunds: IntArray
    first: IntArray
    last: IntArray


@dataclass
class RefundFigures:
    """Per history customer (``ids``): the orders placed (a cancelled one is none), those
    with money given back, the value of the orders placed and the value given back
    (ten-thousandths, each order in its own currency)."""

    ids: IntArray
    placed: IntArray
    refunded_orders: IntArray
    placed_value: IntArray
    refunded: IntArray


@dataclass
class Recorded:
    """The history's copy of some orders: customer, date, total, refund; ``pos``: which
    of the orders asked for each is; ``rank``: whose values it holds (1 a channel's own
    export's, 0 an order hub's copy, -1 not recorded), as :meth:`HistoryIngest.ingest`
    ranks the copies of an order."""

    customer: IntArray
    at: IntArray
    total: IntArray
    refund: IntArray
    currency: list[str] = field(default_factory=list)  # upper-cased, "" where none
    pos: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    rank: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    cancelled: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # 1: it was


@dataclass
class ListFigures:
    """Per history customer (``ids``, ascending), what a mailing list shows: all-time
    ``orders`` and ``spend`` per currency (ten-thousandths; "" for orders whose export
    gives no currency), the latest marketing answer (1 yes, 0 no, -1 never said) and
    its order's date-and-id stamp, the email and name of their latest order with one,
    whether they have a marketplace relay address, their key and the rule tags of the
    last apply ("; "-joined). ``any_consent``: does the history record any answer?"""

    ids: IntArray
    orders: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    spend: dict[str, IntArray] = field(default_factory=dict)
    consent: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    consent_at: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    any_consent: bool = False
    email: list[str | None] = field(default_factory=list)
    relay: np.ndarray[Any, np.dtype[np.bool_]] = field(default_factory=lambda: np.zeros(0, bool))
    name: list[str | None] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    rule_tags: list[str] = field(default_factory=list)


@dataclass
class Stats:
    path: str
    bytes: int
    schema_version: int
    orders: int
    customers: int
    identities: dict[str, int]
    first: dt.date | None
    last: dt.date | None
    undated: int
    channels: list[tuple[str, int]]
    links: int
    apart: int
    region: str


@dataclass
class CustomerRow:
    """One customer in ``ordertags customers``."""

    id: int
    key: str
    orders: int
    spend: int
    refunds: int
    refunded: int
    first: dt.date | None
    last: dt.date | None
    tags: list[str]  # customer tags at the last apply
    tags_on: str | None
    manual: list[str]  # tags in the tag book, in force
    #: Spend per currency ("" where the orders say none), largest first: ``spend`` is
    #: their sum, which means something only where there is one currency.
    spend_by: list[tuple[str, int]] = field(default_factory=list)
    #: Spend in the currency customers are compared in (:class:`SpendBasis`), others
    #: converted at its rates; None where one of their currencies has no rate.
    compared: int | None = None


@dataclass
class SpendBasis:
    """How ``ordertags customers`` ranks spend in several currencies: in ``currency``
    (the rule file's ``currency:``, else the one most of the history's orders are in),
    orders in others converted at ``rates`` (the rule file's ``rates:``); ``left_out``:
    the currencies with no rate, whose orders rank as nothing. ``currencies``: every
    currency the history's orders are in ("" for none named), most orders first."""

    currency: str
    rates: dict[str, float]
    left_out: list[str]
    currencies: list[str]
    #: Did the rule file name :attr:`currency` (else: the one most orders are in)?
    configured: bool = False

    @property
    def mixed(self) -> bool:
        """Are the history's orders in more than one named currency?"""
        return len([c for c in self.currencies if c]) > 1

    def factor_sql(self, alias: str) -> tuple[str, list[Any]]:
        """SQL for the factor that converts the order ``alias``'s spend into
        :attr:`currency` (0 where there is no rate), and its parameters."""
        ours = f"upper(IFNULL({alias}.currency, ''))"
        cases = [f"WHEN {ours} IN ('', ?) THEN 1.0"]
        params: list[Any] = [self.currency]
        for cur, rate in self.rates.items():
            cases.append(f"WHEN {ours} = ? THEN ?")
            params += [cur, rate]
        return f"(CASE {' '.join(cases)} ELSE 0.0 END)", params


@dataclass
class CustomerReport:
    """Everything the history knows of one customer (``ordertags customer KEY``)."""

    row: CustomerRow
    identities: list[tuple[str, str, int]]  # (kind, key, orders)
    names: list[str]
    entries: list[Any]  # tag-book entries (tags.Entry) of the customer's emails
    recent: list[tuple[str, str, str, str, str, str]]  # date, channel, id, total, refund, email
    #: Spend per currency ("" where the orders say none), largest first.
    spend: list[tuple[str, int]] = field(default_factory=list)


class HistoryQueries(HistoryIngest):
    """The reading half of :class:`ordertags.customers.history.History` (on top of the
    writing half: a list or a report first brings the tag book's links up to date)."""

    def customers_of(self, keys: pa.Array) -> IntArray:
        """Per key: the customer of that identity in the history, -1 where none."""
        out = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys):
            return out
        self.temp_keys(keys.to_pylist())
        rows = self.fetch(
            "SELECT t.pos, i.customer FROM t_keys t CROSS JOIN identities i "
            "ON i.key = t.key WHERE i.customer IS NOT NULL"
        )
        if rows:
            arr = np.array(rows, dtype=np.int64)
            out[arr[:, 0]] = arr[:, 1]
        return out

    def email_identities(self, customers: IntArray) -> tuple[pa.Array, IntArray]:
        """The customer keys (emails, buyer ids) of these customers: (keys, customer of
        each)."""
        if not len(customers):
            return pa.array([], pa.string()), np.zeros(0, np.int64)
        self.temp_ids("t_ids", customers.tolist())
        rows = self.fetch(
            "SELECT i.key, i.customer FROM t_ids t CROSS JOIN identities i "
            "ON i.customer = t.id WHERE i.kind <= ?",
            (K.BUYER,),
        )
        return (
            pa.array([r[0] for r in rows], pa.string()),
            np.array([r[1] for r in rows], dtype=np.int64),
        )

    def aggregates(
        self,
        customers: IntArray,
        *,
        start: int | None = None,
        end: int | None = None,
        currency: str | None = None,
        rates: Mapping[str, float] | None = None,
    ) -> Aggregates:
        """Per customer: orders (a fully refunded one is none), spend (net of refunds),
        refunds, first and last order; over all their orders, or those dated from
        ``start`` (inclusive) to ``end`` (exclusive).

        All-time figures come from the kept aggregates; a window reads the customers'
        orders in it through the (customer, date) index: neither reads anything of
        customers not asked for.
        """
        self.temp_ids("t_ids", customers.tolist())
        if start is None or end is None:
            rows = self.fetch(
                "SELECT c.id, c.orders, c.spend, c.refunded, IFNULL(c.first_at, ?), "
                "IFNULL(c.last_at, ?) FROM t_ids t CROSS JOIN customers c ON c.id = t.id",
                (int(NONE), int(NONE)),
            )
        else:
            rows = self.fetch(
                f"SELECT o.customer, SUM({COUNTED}), IFNULL(SUM({NET}), 0), SUM(o.refund), "
                "MIN(o.at), MAX(o.at) FROM t_ids t CROSS JOIN orders o ON o.customer = t.id "
                "WHERE o.at >= ? AND o.at < ? GROUP BY o.customer",
                (start, end),
            )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 6)
        if currency is not None and len(arr):
            # Spend in one currency: each currency's orders converted by its rate, or
            # left out where it has none (an order with no currency is taken to be in it).
            window = "" if start is None or end is None else " WHERE o.at >= ? AND o.at < ?"
            spend: dict[int, float] = {}
            for cust, cur, total in self.fetch(
                f"SELECT o.customer, upper(IFNULL(o.currency, '')), IFNULL(SUM({NET}), 0) "
                "FROM t_ids t CROSS JOIN orders o ON o.customer = t.id"
                + window
                + " GROUP BY o.customer, upper(IFNULL(o.currency, ''))",
                () if not window else (start, end),
            ):
                factor = rate_into(cur, currency, rates or {}) or 0.0
                spend[cust] = spend.get(cust, 0.0) + total * factor
            arr[:, 2] = np.rint([spend.get(int(c), 0.0) for c in arr[:, 0]]).astype(np.int64)
        return Aggregates(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5])

    def refund_figures(
        self, customers: IntArray, *, start: int | None = None, end: int | None = None
    ) -> RefundFigures:
        """Per customer: :class:`RefundFigures` over all their orders, or those dated
        from ``start`` (inclusive) to ``end`` (exclusive), read from their orders
        through the (customer, date) index."""
        self.temp_ids("t_ids", customers.tolist())
        window = "" if start is None or end is None else " WHERE o.at >= ? AND o.at < ?"
        rows = self.fetch(
            "SELECT o.customer, SUM(1 - o.cancelled), "
            "SUM(CASE WHEN o.cancelled = 0 AND o.refund > 0 THEN 1 ELSE 0 END), "
            "IFNULL(SUM(CASE WHEN o.cancelled = 0 THEN o.total ELSE 0 END), 0), "
            "SUM(CASE WHEN o.cancelled = 0 THEN o.refund ELSE 0 END) "
            "FROM t_ids t CROSS JOIN orders o ON o.customer = t.id"
            + window
            + " GROUP BY o.customer",
            () if not window else (start, end),
        )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
        return RefundFigures(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4])

    def alerted(self, channels: list[str], order_ids: list[str]) -> set[tuple[int, str]]:
        """(position, tag) of each of these orders the watch list has told of already."""
        self.temp_orders(channels, order_ids)
        rows = self.fetch(
            "SELECT t.pos, a.tag FROM t_orders t CROSS JOIN alerted a "
            "ON a.order_id = t.order_id AND a.channel = t.channel"
        )
        return {(int(pos), str(tag)) for pos, tag in rows}

    def remember_alerted(self, told: Sequence[tuple[str, str, str]], at: str) -> None:
        """Keep each (channel, order id, tag) as told at ``at`` (ISO 8601), so the
        watch list tells it once."""
        with self.writing() as db:
            db.executemany(
                "INSERT INTO alerted (channel, order_id, tag, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (order_id, channel, tag) DO NOTHING",
                [(c, o, t, at) for c, o, t in told],
            )

    def recorded_orders(self, channels: list[str], order_ids: list[str]) -> Recorded:
        """The history's version of these orders (those it holds)."""
        self.temp_orders(channels, order_ids)
        rows = self.fetch(
            "SELECT IFNULL(o.customer, -1), IFNULL(o.at, ?), IFNULL(o.total, 0), o.refund, "
            "t.pos, upper(IFNULL(o.currency, '')), o.via, o.cancelled "
            "FROM t_orders t CROSS JOIN orders o ON o.order_id = t.order_id "
            "AND o.channel = t.channel",
            (int(NONE),),
        )
        arr = np.array([r[:5] for r in rows], dtype=np.int64).reshape(-1, 5)
        rank = np.array(
            [-1 if r[6] is None else 0 if r[6] in HUB_PROFILES else 1 for r in rows],
            dtype=np.int64,
        )
        return Recorded(
            arr[:, 0],
            arr[:, 1],
            arr[:, 2],
            arr[:, 3],
            [r[5] for r in rows],
            arr[:, 4],
            rank,
            np.array([r[7] for r in rows], dtype=np.int64),
        )

    def had_tag(
        self, customers: IntArray, tag: str, start: dt.date, end: dt.date
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per customer of ``customers``: did they carry ``tag`` at some time from
        ``start`` (inclusive) to ``end`` (exclusive)?"""
        self.temp_ids("want", customers.tolist())
        had = {
            c
            for (c,) in self.fetch(
                "SELECT DISTINCT l.customer FROM tag_log l JOIN want w ON w.id = l.customer "
                "WHERE l.tag = ? AND l.since < ? AND (l.until IS NULL OR l.until > ?)",
                (tag, end.isoformat(), start.isoformat()),
            )
        }
        return np.isin(customers, np.fromiter(had, dtype=np.int64, count=len(had)))

    def tags_of(self, customers: IntArray) -> pa.Array:
        """The customer tags the last apply gave each customer ("" where none)."""
        self.temp_ids("want", customers.tolist())
        rows = self.fetch(
            "SELECT c.id, coalesce(c.tags, '') FROM customers c "
            "JOIN want w ON w.id = c.id ORDER BY c.id"
        )
        found = np.array([r[0] for r in rows], dtype=np.int64)
        texts = pa.array([r[1] for r in rows] + [""], pa.string())  # last: none found
        at = np.searchsorted(found, customers)
        hit = (
            (at < len(found)) & (found[np.minimum(at, max(len(found) - 1, 0))] == customers)
            if len(found)
            else np.zeros(len(customers), dtype=bool)
        )
        result: pa.Array = texts.take(pa.array(np.where(hit, at, len(found))))
        return result

    def stats(self) -> Stats:
        """Counts and dates, for ``ordertags history stats``."""
        size = self.db.size_bytes()
        orders, first, last, undated = self.fetch(
            "SELECT COUNT(*), MIN(at), MAX(at), COUNT(*) - COUNT(at) FROM orders"
        )[0]
        kinds = {
            K.KIND_NAMES[k]: c
            for k, c in self.fetch(
                "SELECT kind, COUNT(*) FROM identities WHERE kind < ? GROUP BY kind ORDER BY kind",
                (K.PHONE,),
            )
        }
        phones, addresses = self.fetch(
            "SELECT COUNT(DISTINCT phone), COUNT(DISTINCT address) FROM orders"
        )[0]
        kinds.update({K.KIND_NAMES[K.PHONE]: phones, K.KIND_NAMES[K.ADDRESS]: addresses})
        links = dict(self.fetch("SELECT same, COUNT(*) FROM links GROUP BY same"))
        return Stats(
            path=self.where,
            bytes=size,
            schema_version=SCHEMA_VERSION,
            orders=orders,
            customers=self.fetch("SELECT COUNT(*) FROM customers")[0][0],
            identities=kinds,
            first=day_of(first),
            last=day_of(last),
            undated=undated,
            channels=[
                (c or "(none)", n)
                for c, n in self.fetch(
                    "SELECT channel, COUNT(*) FROM orders GROUP BY channel ORDER BY 2 DESC"
                )
            ],
            links=links.get(1, 0),
            apart=links.get(0, 0),
            region=self.region,
        )

    def _manual_customers(self, tagbook: TagBook | None, as_of: dt.date) -> dict[int, list[str]]:
        """History customer -> tags given by hand in the tag book (in force)."""
        if tagbook is None:
            return {}
        wanted = tagbook.manual_tags(as_of, self.region)
        if not wanted:
            return {}
        keys = sorted(wanted)
        self.temp_keys(list(keys))
        out: dict[int, list[str]] = {}
        found = self.fetch(
            "SELECT t.pos, i.customer FROM t_keys t CROSS JOIN "
            "identities i ON i.key = t.key "
            "WHERE i.customer IS NOT NULL"
        )
        if tagbook.has_phone_entries():
            # A phone tagged by hand: the customers of the orders with it (a scan; orders
            # are not indexed by phone).
            found += self.fetch(
                "SELECT DISTINCT t.pos, o.customer FROM orders o CROSS JOIN t_keys t "
                "ON o.phone = t.key WHERE o.customer IS NOT NULL"
            )
        for pos, customer in found:
            have = out.setdefault(customer, [])
            have.extend(t for t in tagbook.rank(wanted[keys[pos]]) if t not in have)
        return out

    def manual_customers(self, tagbook: TagBook | None, as_of: dt.date) -> dict[int, list[str]]:
        """History customer -> tags given by hand in the tag book (in force), whichever
        identity the entry names (an email, a buyer id, a phone of one of their orders)."""
        return self._manual_customers(tagbook, as_of)

    def last_apply(self) -> str | None:
        """When the rule tags kept per customer were worked out (``2026-11-28 09:00``):
        the last ``apply`` that recorded its customers' tags; None if none has."""
        stamp = self.meta("last_apply")
        return stamp[:16].replace("T", " ") if stamp else None

    def list_figures(self, customers: IntArray | None = None) -> ListFigures:
        """What a mailing list shows of history customers (all of them when
        ``customers`` is None): all-time orders and spend per currency, the latest
        marketing answer from any channel, the email and name of their latest order
        that has one, their key and the rule tags of the last apply."""
        if customers is None:
            ids = np.array([r[0] for r in self.fetch("SELECT id FROM customers ORDER BY id")])
        else:
            ids = np.unique(np.asarray(customers, dtype=np.int64))
        ids = ids.astype(np.int64)
        self.temp_ids("t_list", ids.tolist())
        scope = "customer IN (SELECT id FROM t_list)"
        figures = ListFigures(ids=ids)
        pos = {int(c): i for i, c in enumerate(ids.tolist())}
        figures.orders = np.zeros(len(ids), dtype=np.int64)
        for c, cur, n, units in self.fetch(
            f"SELECT customer, IFNULL(currency, ''), SUM({COUNTED}), IFNULL(SUM({NET}), 0) "
            f"FROM orders o WHERE {scope} GROUP BY customer, currency"
        ):
            i = pos[c]
            figures.orders[i] += n
            figures.spend.setdefault(cur, np.zeros(len(ids), dtype=np.int64))[i] += units
        figures.consent = np.full(len(ids), -1, dtype=np.int64)
        figures.consent_at = np.full(len(ids), -(2**62), dtype=np.int64)
        for c, answer, at in self._latest("consent", f"consent IS NOT NULL AND {scope}"):
            figures.consent[pos[c]] = answer
            figures.consent_at[pos[c]] = at
        figures.any_consent = bool(
            self.fetch("SELECT 1 FROM orders WHERE consent IS NOT NULL LIMIT 1")
        )
        # The address they used last (as a list made from a run's orders shows them).
        email: list[str | None] = [None] * len(ids)
        for c, text, _ in self._latest(
            "email_text",
            f"email_text IS NOT NULL AND {scope} "
            "AND NOT email_text LIKE '%@marketplace.amazon.%' "
            "AND NOT email_text LIKE '%@members.ebay.%'",
        ):
            email[pos[c]] = text
        for c, key in self.fetch(
            f"SELECT customer, MIN(key) FROM identities WHERE kind = ? AND {scope} "
            "GROUP BY customer",
            (K.EMAIL,),
        ):
            if email[pos[c]] is None:  # orders recorded before emails were kept as written
                email[pos[c]] = key
        figures.email = email
        figures.relay = np.zeros(len(ids), dtype=bool)
        for (c,) in self.fetch(
            f"SELECT DISTINCT customer FROM identities WHERE kind = ? AND {scope}", (K.RELAY,)
        ):
            figures.relay[pos[c]] = True
        names: list[str | None] = [None] * len(ids)
        for c, name, _ in self._latest("name", f"name IS NOT NULL AND {scope}"):
            names[pos[c]] = name
        figures.name = names
        keys: list[str] = [f"#{c}" for c in ids.tolist()]
        tags: list[str] = [""] * len(ids)
        for c, key, text in self.fetch(
            "SELECT id, key, IFNULL(tags, '') FROM customers WHERE id IN (SELECT id FROM t_list)"
        ):
            keys[pos[c]], tags[pos[c]] = key, text
        figures.key, figures.rule_tags = keys, tags
        return figures

    def _latest(self, column: str, where: str) -> list[Any]:
        """Per customer: (customer, ``column`` of their latest order where ``where``,
        that order's rank: its date, then its row). ``column`` and ``where`` are the
        history's own SQL (columns and the scope of a list), never data."""
        return self.fetch(
            f"SELECT customer, {column}, k FROM (SELECT customer, {column}, "
            "COALESCE(at, -1) * 4294967296 + id AS k, ROW_NUMBER() OVER (PARTITION BY "
            "customer ORDER BY COALESCE(at, -1) DESC, id DESC) AS rn "
            f"FROM orders WHERE {where}) AS latest WHERE rn = 1"
        )

    def _rows(
        self, sql: str, params: Sequence[Any], manual: dict[int, list[str]]
    ) -> list[CustomerRow]:
        return [
            CustomerRow(
                id=r[0],
                key=r[1],
                orders=r[2],
                spend=r[3],
                refunds=r[4],
                refunded=r[5],
                first=day_of(r[6]),
                last=day_of(r[7]),
                tags=[t for t in (r[8] or "").split("; ") if t],
                tags_on=r[9],
                manual=manual.get(r[0], []),
            )
            for r in self.fetch(sql, params)
        ]

    _COLUMNS = (
        "SELECT id, key, orders, spend, refunds, refunded, first_at, last_at, tags, "
        "tags_on FROM customers"
    )

    def spend_basis(
        self, currency: str | None = None, rates: Mapping[str, float] | None = None
    ) -> SpendBasis:
        """The currency customers' spend is compared in (``currency``, else the one most
        of the customers' orders are in) and the rates into it (see :class:`SpendBasis`)."""
        found = [
            c
            for (c,) in self.fetch(  # kept by ingest: not a count of every order
                "SELECT currency FROM currency_counts WHERE orders > 0 ORDER BY orders DESC, 1"
            )
        ]
        named = [c for c in found if c]
        base = (currency or "").upper() or (named[0] if named else "")
        given = {k.upper(): float(v) for k, v in (rates or {}).items()} if currency else {}
        return SpendBasis(
            currency=base,
            rates={c: given[c] for c in named if c != base and c in given},
            left_out=[c for c in named if c != base and c not in given],
            currencies=found,
            configured=bool(currency),
        )

    def list_customers(
        self,
        *,
        tag: str | None = None,
        search: str | None = None,
        limit: int | None = 50,
        tagbook: TagBook | None = None,
        as_of: dt.date | None = None,
        basis: SpendBasis | None = None,
    ) -> list[CustomerRow]:
        """Customers, highest spend first: those with ``tag`` (by hand, or at the last
        apply; in any case, and with a ``tagbook``, one it does not define is an error),
        whose identities or names contain ``search``. Spend in several currencies is
        never added up as it is: customers are ranked by their spend in the currency of
        ``basis`` (:meth:`spend_basis` by default), orders in others converted at its
        rates or, without one, not ranked; each row has its spend per currency and that
        figure."""
        if tag and tagbook is not None:
            tag = tagbook.tag_named(tag)
        self.sync_tagbook(tagbook)
        basis = basis or self.spend_basis()
        manual = self._manual_customers(tagbook, as_of or dt.date.today())
        where, params = [], []
        if tag:
            # In any case (ordertags.tagbook.tag_key): the rule tags are kept as the tag book
            # spelt them at the last apply.
            wanted = tag.strip().lower()
            self.temp_ids(
                "t_manual", [c for c, tags in manual.items() if wanted in {t.lower() for t in tags}]
            )
            where.append(
                "(instr('; ' || lower(IFNULL(tags, '')) || '; ', '; ' || ? || '; ') > 0 "
                "OR id IN (SELECT id FROM t_manual))"
            )
            params.append(wanted)
        if search:
            found, found_params = self._search_sql(search)
            where.append(f"id IN ({found})")
            params += found_params
        rank: list[Any] = []
        if basis.mixed:
            # Each customer's spend in the basis currency, from their orders.
            factor, rank = basis.factor_sql("o")
            sql = (
                f"WITH ranked AS (SELECT o.customer AS cid, SUM({NET} * {factor}) AS r "
                "FROM orders o WHERE o.customer IS NOT NULL GROUP BY o.customer) "
                + self._COLUMNS
                + " LEFT JOIN ranked ON ranked.cid = customers.id"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY IFNULL(ranked.r, 0) DESC, key"
            )
        else:
            sql = (
                self._COLUMNS
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY spend DESC, key"
            )
        sql += f" LIMIT {int(limit)}" if limit else ""
        rows = self._rows(sql, rank + params, manual)
        self._add_spend_by(rows, basis)
        return rows

    def _search_sql(self, search: str) -> tuple[str, list[Any]]:
        """The ids of the customers ``search`` finds (a query, its parameters): those
        with an identity key, a phone or a name that holds the text (in any case; ``%``
        and ``_`` are letters like any other), or, where it is a phone however spelled
        ("7700 900456", "07700-900456"), whose keys or phones hold its digits (national
        leading 0 dropped), from the search index (version 11) rather than every order."""
        text = search.strip()
        digits = "".join(c for c in text if c.isdigit()).lstrip("0")
        phone = digits if len(digits) >= 6 and not text.strip("+0123456789 ()-./") else None
        if self.backend == "sqlite" and len(text) >= 3 and self._trigram_search():
            # Each text a phrase: its trigrams in a row, i.e. the text itself.
            def phrase(t: str) -> str:
                return '"' + t.replace('"', '""') + '"'

            match = "{keys names} : " + phrase(text)
            if phone:
                match += " OR keys : " + phrase(phone)
            return "SELECT rowid FROM customer_search WHERE customer_search MATCH ?", [match]
        # Fewer than 3 letters (no trigram), or no trigram index: a scan of one row per
        # customer (on PostgreSQL, pg_trgm's indexes serve these LIKEs where it is there).

        def like(t: str) -> str:
            return "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

        rid = "rowid" if self.backend == "sqlite" else "customer"
        sql = (
            f"SELECT {rid} FROM customer_search WHERE keys LIKE ? ESCAPE '\\' "
            "OR names LIKE ? ESCAPE '\\'"
        )
        params = [like(text), like(text)]
        if phone:
            sql += " OR keys LIKE ? ESCAPE '\\'"
            params.append(like(phone))
        return sql, params

    def _trigram_search(self) -> bool:
        """Whether the SQLite history's search table is an FTS5 trigram index."""
        if self._trigrams is None:
            row = self.fetch("SELECT sql FROM sqlite_master WHERE name = 'customer_search'")
            self._trigrams = bool(row) and "fts5" in str(row[0][0]).lower()
        return self._trigrams

    _trigrams: bool | None = None

    def _add_spend_by(self, rows: list[CustomerRow], basis: SpendBasis) -> None:
        """Fill each row's spend per currency and its spend in the basis currency."""
        self.temp_ids("t_spend", [r.id for r in rows])
        per: dict[int, list[tuple[str, int]]] = {}
        for c, cur, units in self.fetch(  # kept per customer: not every order of theirs
            "SELECT f.customer, f.value, f.net FROM t_spend t CROSS JOIN customer_facts f "
            "ON f.customer = t.id AND f.kind = 'currency' ORDER BY 1, 3 DESC, 2"
        ):
            per.setdefault(c, []).append((cur, int(units)))
        for r in rows:
            r.spend_by = per.get(r.id, [])
            converted = 0.0
            for cur, units in r.spend_by:
                if cur in ("", basis.currency):
                    converted += units
                elif cur in basis.rates:
                    converted += units * basis.rates[cur]
                elif units:
                    break
            else:
                r.compared = round(converted)

    def find_customer(self, query: str, region: str | None = None) -> int:
        """The customer a person means: an email, a phone, a buyer id (``ebay:NAME``), an
        identity key, a customer key or an order id."""
        text = query.strip()
        region = region or self.region
        tries: list[str] = [text]
        phone = None
        buyer = K.buyer_key(text)
        if buyer is not None:  # ebay:Quinn_Belfast
            tries.insert(0, buyer)
        elif "@" in text:
            tries.insert(0, normalize_email(text) or text)
        else:
            phone = K.normalize_phone(text, region)
            if phone:
                tries.append(phone)
        for key in tries:
            row = self.fetch("SELECT customer FROM identities WHERE key = ?", (key,))
            if row and row[0][0] is not None:
                return int(row[0][0])
        # A phone or an address alone: whoever ordered with it, if that is one customer.
        # (Orders are not indexed by them; a person asking can wait for a scan.)
        weak: list[tuple[str, str | None]] = [
            ("phone", phone),
            ("address", text if text.startswith(K.ADDRESS_PREFIX) else None),
        ]
        for col, value in weak:
            if value is None:
                continue
            found = self.fetch(
                f"SELECT DISTINCT customer FROM orders WHERE {col} = ? AND customer IS NOT NULL",
                (value,),
            )
            if len(found) == 1:
                return int(found[0][0])
            if found:
                keys = ", ".join(self.fetch_keys([f[0] for f in found])[:5])
                raise HistoryError(
                    f'{len(found)} customers have "{query}": {keys}.',
                    hint="Ask for one of them by email (ordertags customer EMAIL).",
                )
        row = self.fetch("SELECT id FROM customers WHERE key = ?", (text,))
        if row:
            return int(row[0][0])
        number = norm_order_id(text)  # any number an order is known by
        found = self.fetch(
            "SELECT DISTINCT customer FROM orders WHERE customer IS NOT NULL AND id IN "
            f"({KNOWN_BY})",
            (number, number),
        )
        if len(found) == 1:
            return int(found[0][0])
        raise HistoryError(
            f'no customer "{query}" in the history.',
            file=self.where,
            hint="Give an email, a phone number or an order id; "
            "`ordertags customers --search TEXT` finds customers.",
        )

    def order_numbers(self, number: str) -> list[str]:
        """The other numbers of the orders known by ``number`` (``10451`` -> the
        channel's ``202-4417730-1180323``, and back): their number on their channel and
        every other they are known by, such as an order hub's own id.

        >>> from ordertags.customers.history import open_history
        >>> with open_history("shop/history.sqlite") as history:
        ...     history.order_numbers("200002")
        ['SH-1001']
        """
        wanted = norm_order_id(number)
        rows = self.fetch(
            f"WITH known AS ({KNOWN_BY}) SELECT order_id FROM orders WHERE id IN known "
            "UNION SELECT alias FROM order_aliases WHERE id IN known",
            (wanted, wanted),
        )
        return sorted({str(r[0]) for r in rows} - {wanted})

    def customer_report(
        self,
        query: str,
        *,
        tagbook: TagBook | None = None,
        as_of: dt.date | None = None,
        region: str | None = None,
        recent: int = 10,
    ) -> CustomerReport:
        """Identities, tags, aggregates and recent orders of one customer."""
        self.sync_tagbook(tagbook, region)
        cid = self.find_customer(query, region)
        as_of = as_of or dt.date.today()
        manual = self._manual_customers(tagbook, as_of)
        rows = self._rows(self._COLUMNS + " WHERE id = ?", (cid,), manual)
        if not rows:
            raise HistoryError(
                f'"{query}" names an identity with no orders in the history.', file=self.where
            )
        # What the page shows of their orders, kept per customer (customer_facts): a
        # few rows, however many orders they have.
        facts: dict[str, list[tuple[str, int, int, int]]] = {}
        for kind, value, n, net, first in self.fetch(
            "SELECT kind, value, orders, net, IFNULL(first_at, ?) FROM customer_facts "
            "WHERE customer = ? ORDER BY kind, value",
            (int(NONE), cid),
        ):
            facts.setdefault(kind, []).append((str(value), int(n), int(net), int(first)))
        counts: dict[int, int] = {}
        for col in ("email", "ps", "buyer"):
            for value, n, *_ in facts.get(col, []):
                counts[int(value)] = counts.get(int(value), 0) + n
        idents = {
            i: (k, key)
            for i, k, key in self.fetch(
                "SELECT id, kind, key FROM identities WHERE customer = ?", (cid,)
            )
        }
        idents.update(
            {
                i: (k, key)
                for i, k, key in self.fetch_in("SELECT id, kind, key FROM identities", list(counts))
            }
        )
        found = [(K.KIND_NAMES[k], key, counts.get(i, 0)) for i, (k, key) in idents.items()]
        weak = {(K.KIND_NAMES[K.PHONE], key) for k, key in idents.values() if k == K.PHONE}
        for kind, col in ((K.PHONE, "phone"), (K.ADDRESS, "address")):
            for key, count, *_ in facts.get(col, []):
                if (K.KIND_NAMES[kind], key) in weak:  # a linked phone, listed already
                    found = [(n, k, c + count if k == key else c) for n, k, c in found]
                else:
                    found.append((K.KIND_NAMES[kind], key, count))
        order_of = list(K.KIND_NAMES.values())
        identities = sorted(
            ((n, key.removeprefix(K.ADDRESS_PREFIX), c) for n, key, c in found),
            key=lambda t: (order_of.index(t[0]), -t[2], t[1]),
        )
        # The name on most orders first; of two on as many, the one they gave first.
        names = [f[0] for f in sorted(facts.get("name", []), key=lambda f: (-f[1], f[3], f[0]))]
        # Tag-book entries naming any identity of theirs: an email or buyer id, or a
        # phone of one of their orders.
        named = {key for k, key in idents.values() if k <= K.BUYER}
        named.update(key for kind, key, _ in found if kind == K.KIND_NAMES[K.PHONE])
        entries = [
            e for e in (tagbook.entries if tagbook else []) if e.key_in(self.region) in named
        ]
        recent_rows = [
            (
                str(day_of(r[0]) or ""),
                r[1],
                r[2],
                "" if r[3] is None else f"{money(r[3])} {r[6] or ''}".strip(),
                money(r[4]) if r[4] else "",
                r[5] or "",
            )
            for r in self._recent_orders(cid, recent)
        ]
        spend = [
            (f[0], f[2]) for f in sorted(facts.get("currency", []), key=lambda f: (-f[2], f[0]))
        ]
        return CustomerReport(rows[0], identities, names, entries, recent_rows, spend)

    def _recent_orders(self, cid: int, limit: int) -> list[Any]:
        """The customer's latest ``limit`` orders, newest first (undated ones last):
        read backwards along the (customer, date) index, so ``limit`` orders are read
        however many they have."""
        if limit <= 0:
            return []
        columns = (
            "SELECT o.at, o.channel, o.order_id, o.total, o.refund, i.key, o.currency "
            "FROM orders o LEFT JOIN identities i ON i.id = o.email WHERE o.customer = ? "
        )
        rows = self.fetch(
            columns + "AND o.at IS NOT NULL ORDER BY o.at DESC, o.id DESC LIMIT ?", (cid, limit)
        )
        if len(rows) < limit:
            rows += self.fetch(
                columns + "AND o.at IS NULL ORDER BY o.id DESC LIMIT ?", (cid, limit - len(rows))
            )
        return rows

    def suspects(
        self,
        *,
        tagbook: TagBook | None = None,
        as_of: dt.date | None = None,
        tag: str | None = None,
        limit: int | None = 50,
        max_sharing: int = 5,
    ) -> list[Suspect]:
        """Pairs of customers that share an address or a phone but were not merged:
        possibly one person. Pairs the tag book says are different people are left out;
        pairs with a high-priority tag (FRAUD...) come first. ``tag``: only pairs where
        one customer has it (in any case; with a ``tagbook``, one it does not define is
        an error)."""
        if tag is not None and tagbook is not None:
            tag = tagbook.tag_named(tag)
        self.sync_tagbook(tagbook)
        rows = self.fetch(
            "SELECT customer, phone, address FROM orders "
            "WHERE customer IS NOT NULL AND (phone IS NOT NULL OR address IS NOT NULL)"
        )
        return self._suspects(rows, None, tagbook, as_of, tag, limit, max_sharing)

    def suspects_of(
        self,
        query: str,
        *,
        tagbook: TagBook | None = None,
        as_of: dt.date | None = None,
        region: str | None = None,
        limit: int | None = 50,
        max_sharing: int = 5,
    ) -> list[Suspect]:
        """The pairs of :meth:`suspects` that name one customer (as
        :meth:`find_customer` finds them), from the orders sharing their phones and
        addresses alone (indexed): what the customer page shows, without reading the
        whole history. A value is still skipped when more than ``max_sharing``
        customers share it: every order holding it is read."""
        self.sync_tagbook(tagbook, region)
        cid = self.find_customer(query, region)
        # Who else has their phones and addresses (kept in customer_facts): one row per
        # customer and value, from the (phone, customer) and (address, customer) indexes.
        rows = self.fetch(
            "SELECT DISTINCT customer, phone, NULL FROM orders WHERE customer IS NOT NULL "
            "AND phone IN (SELECT value FROM customer_facts WHERE customer = ? AND kind = 'phone') "
            "UNION ALL SELECT DISTINCT customer, NULL, address FROM orders WHERE customer IS NOT "
            "NULL AND address IN (SELECT value FROM customer_facts WHERE customer = ? "
            "AND kind = 'address')",
            (cid, cid),
        )
        return self._suspects(rows, cid, tagbook, as_of, None, limit, max_sharing)

    def _suspects(
        self,
        rows: list[Any],
        only: int | None,
        tagbook: TagBook | None,
        as_of: dt.date | None,
        tag: str | None,
        limit: int | None,
        max_sharing: int,
    ) -> list[Suspect]:
        """The suspects among the orders ``rows`` (customer, phone, address): every pair,
        or only those with customer ``only`` (``rows`` must then hold every order with
        a phone or address of theirs, so each value's sharers are all counted)."""
        phone, phones = codes_of([r[1] for r in rows])
        address, addresses = codes_of([r[2] for r in rows])
        pairs = find_suspects(
            np.array([r[0] for r in rows], dtype=np.int64), phone, address, max_sharing=max_sharing
        )
        del rows
        if only is not None:
            mine = (pairs.a == only) | (pairs.b == only)
            pairs = SuspectPairs(pairs.a[mine], pairs.b[mine], pairs.kind[mine], pairs.value[mine])
        if not len(pairs.a):
            return []
        apart = self.fetch(
            "SELECT ia.customer, ib.customer FROM links l CROSS JOIN identities ia "
            "ON ia.id = l.a CROSS JOIN identities ib ON ib.id = l.b WHERE l.same = 0"
        )
        dismissed = {(min(x, y), max(x, y)) for x, y in apart if x is not None and y is not None}
        manual = self._manual_customers(tagbook, as_of or dt.date.today())
        involved = np.unique(np.concatenate([pairs.a, pairs.b]))
        info = {
            r[0]: r for r in self.fetch_in("SELECT id, key, tags FROM customers", involved.tolist())
        }
        tags_of: dict[int, list[str]] = {}
        for c in involved.tolist():
            derived = [t for t in ((info.get(c) or (0, "", ""))[2] or "").split("; ") if t]
            names = list(dict.fromkeys(manual.get(c, []) + derived))
            if tagbook is not None:
                names = tagbook.rank(t for t in names if t in tagbook.tags)
            tags_of[c] = names
        priority = tag_priorities(tags_of, int(involved.max()) + 1, tagbook)

        def evidence(i: int, a: int, b: int) -> str:
            kind = int(pairs.kind[i])
            key = (addresses if kind == K.ADDRESS else phones)[int(pairs.value[i])]
            return self._evidence(kind, key, a, b)

        return list_suspects(
            pairs,
            tags_of,
            priority,
            label=lambda c: str(info[c][1]),
            evidence=evidence,
            apart=dismissed,
            tag=tag,
            limit=limit,
        )

    def _evidence(self, kind: int, key: str, a: int, b: int) -> str:
        if kind == K.ADDRESS:
            return evidence_text(kind, key)
        names = []
        for c in (a, b):
            rows = self.fetch(
                "SELECT DISTINCT i.key FROM orders o CROSS JOIN identities i "
                "ON i.id = o.ps WHERE o.customer = ? AND o.phone = ?",
                (c, key),
            )
            names.append("/".join(sorted(r[0].split(" ", 1)[1] for r in rows)) or "?")
        return evidence_text(kind, key, (names[0], names[1]))


# --- opening ----------------------------------------------------------------------------
