"""Recording orders in the history: new and changed orders, customers merged by shared
strong identities, the tag book's links applied, customer tags remembered, pruning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.base.amounts import money
from ordertags.customers.identity import (
    LinkSet,
    OrderBatch,
    dictionary_codes,
    merge_identities,
    resolve_links,
)
from ordertags.customers.store import (
    CUSTOMER_TOTALS,
    NONE,
    HistoryStore,
    IntArray,
    consent_codes,
    epoch_of,
    id_list,
    optional_ints,
    same_text,
)
from ordertags.io.platforms import PROFILES
from ordertags.tagbook import TagBook

#: Customers refreshed at once from which their facts are read in one pass of the orders
#: rather than by the index (a random read per order).
SCAN_FROM = 20_000


@dataclass
class IngestReport:
    """What recording orders did."""

    files: list[str] = field(default_factory=list)
    read: int = 0  # orders in the exports (one per order id)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # orders with no order id
    merged: int = 0  # customers merged into another
    #: Orders two exports disagree on (their totals differ), and what was kept: one
    #: line each, e.g. ``amazon 202-4417730-1180323: total 65.90 in linnworks, 56.49
    #: in amazon; kept 56.49 (the channel's own export)``.
    disagreements: list[str] = field(default_factory=list)

    def __iadd__(self, other: IngestReport) -> IngestReport:
        self.files += other.files
        for name in ("read", "new", "updated", "unchanged", "skipped", "merged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.disagreements += other.disagreements
        return self


#: The columns of a new order, in the order :meth:`HistoryIngest.ingest` gives them.
ORDER_COLUMNS = (
    "id", "channel", "order_id", "at", "total", "refund", "customer", "email", "ps", "phone",
    "address", "name", "buyer", "currency", "consent", "email_text", "via", "cancelled",
)  # fmt: skip

#: Platform profiles whose exports hold copies of other channels' orders.
HUB_PROFILES = frozenset(p.name for p in PROFILES if p.hub)


def _disagreement(
    batch: OrderBatch, i: int, old_total: int, old_via: str | None, totals: IntArray, yields: Any
) -> str:
    """One line on an order two exports disagree on, and the value kept."""
    new_text = money(int(totals[i])) if batch.has_total[i] else "none"
    old_text = money(old_total)
    kept, where = (old_text, old_via) if yields[i] else (new_text, batch.via)
    return (
        f"{batch.channel[i] or 'no channel'} {batch.order_id[i]}: total {old_text} in "
        f"{old_via} and {new_text} in {batch.via}; kept {kept} from {where}, the "
        "channel's own export"
    )


@dataclass
class PruneReport:
    before: dt.date
    orders: int
    customers: int  # customers left with no orders (and dropped)
    identities: int


class HistoryIngest(HistoryStore):
    """The writing half of :class:`ordertags.customers.history.History`."""

    def log_tags(
        self, gained: dict[str, list[int]], lost: dict[str, list[int]], as_of: dt.date
    ) -> None:
        """Open a span for each customer that gained a tag, close the span of each that
        lost one (``had_tag`` reads these)."""
        day = as_of.isoformat()
        with self.writing() as conn:
            for tag, ids in gained.items():
                conn.executemany(
                    "INSERT INTO tag_log (customer, tag, since) VALUES (?, ?, ?)",
                    ((c, tag, day) for c in ids),
                )
            for tag, ids in lost.items():
                conn.executemany(
                    "UPDATE tag_log SET until = ? WHERE customer = ? AND tag = ? AND until IS NULL",
                    ((day, c, tag) for c in ids),
                )

    def remember_tags(self, customers: list[int], texts: list[str], as_of: dt.date) -> None:
        """Keep the customer tags a run gave (shown and searched by ``customers``), and
        when that run was (``last_apply``)."""
        if not customers:
            return
        with self.writing() as conn:
            now = dt.datetime.now().astimezone().replace(second=0, microsecond=0)
            self.set_meta("last_apply", now.isoformat(timespec="minutes"))
            conn.executemany(
                "UPDATE customers SET tags = ?, tags_on = ? WHERE id = ?",
                zip(texts, [as_of.isoformat()] * len(customers), customers, strict=True),
            )

    def record(self, batches: Sequence[OrderBatch]) -> IngestReport:
        """Ingest several exports, one transaction each."""
        report = IngestReport()
        for batch in batches:
            report += self.ingest(batch)
        return report

    def ingest(self, batch: OrderBatch) -> IngestReport:
        """Add or update the orders of one export, in one transaction.

        Orders are keyed by (channel, order id): one already held with the same values
        is left alone; one whose values changed (a refund, a corrected email) is
        updated. New identities are created; orders that share a strong identity join
        its customer, and customers they connect are merged. Each affected customer's
        aggregates are then recomputed from its orders.
        """
        n = len(batch.order_id)
        report = IngestReport(files=[batch.source], read=n, skipped=batch.skipped)
        if n == 0:
            return report
        ids = batch.ids
        strings = pa.concat_arrays(
            [
                ids.email.cast(pa.string()),
                ids.phone_name.cast(pa.string()),
                ids.buyer.cast(pa.string()),
            ]
        )
        encoded = pc.dictionary_encode(strings)
        pos = dictionary_codes(encoded)
        keys: list[str] = encoded.dictionary.to_pylist()
        kind = np.zeros(len(keys), dtype=np.int64)
        seg_kind = np.concatenate([ids.kind, np.full(n, K.PHONE_NAME), np.full(n, K.BUYER)])
        kind[pos[pos >= 0]] = seg_kind[pos >= 0]
        row_pos = pos.reshape(3, n)
        at = batch.at
        total = np.where(batch.has_total, batch.total, 0)
        cancelled = (
            np.zeros(n, dtype=np.int64)
            if batch.cancelled is None
            else batch.cancelled.astype(np.int64)
        )
        phone = ids.phone.cast(pa.string())
        address = ids.address.cast(pa.string())
        with self.writing():
            ident, cust = self._lookup(keys)
            new_key = ident < 0
            next_id = int(self.fetch("SELECT IFNULL(MAX(id), 0) FROM identities")[0][0]) + 1
            ident[new_key] = next_id + np.arange(int(new_key.sum()), dtype=np.int64)
            row_id = np.append(ident, -1)[np.where(row_pos >= 0, row_pos, len(ident))]
            e, pn, b = row_id
            old = self._existing(batch.channel, batch.order_id, batch.reference)
            exists = old["id"] >= 0
            # One order, one record: where an order hub's copy (Linnworks) and the
            # channel's own export (the Amazon report) disagree, the channel's wins,
            # whichever came first; between equals the later export updates the order.
            old_hub = np.isin(np.asarray(old["via"], dtype=object), list(HUB_PROFILES))
            old_rank = np.where(old["via_known"], np.where(old_hub, 0, 1), 1 - int(batch.hub))
            rank = 1 - int(batch.hub)
            yields = exists & (rank < old_rank)
            differs = (
                exists
                & ((old["has_total"] != batch.has_total) | (old["total"] != total))
                & (rank != old_rank)
            )
            for i in np.flatnonzero(differs).tolist():
                report.disagreements.append(
                    _disagreement(batch, i, int(old["total"][i]), old["via"][i], total, yields)
                )
            same = yields | (
                exists
                & (old["at"] == at)
                & (old["has_total"] == batch.has_total)
                & (old["total"] == total)
                & (old["refund"] == batch.refund)
                & (old["cancelled"] == cancelled)
                & (old["email"] == e)
                & (old["ps"] == pn)
                & (old["buyer"] == b)
                & (old["consent"] == consent_codes(batch.consent))
                & same_text(pa.array(batch.currency, pa.string()), old["currency"])
                & same_text(pa.array(batch.email_text, pa.string()), old["email_text"])
                & same_text(phone, old["phone"])
                & same_text(address, old["address"])
                & same_text(pa.array(batch.name, pa.string()), old["name"])
                & (old["via"] == np.asarray([batch.via] * n, dtype=object))
            )
            todo = ~same
            report.new = int((~exists).sum())
            report.updated = int((exists & ~same).sum())
            report.unchanged = int(same.sum())
            if not todo.any():
                self._add_aliases(old["id"], batch.reference, old["aliased"])
                return report
            T = np.flatnonzero(todo)
            lp = self._linked_phone_ids(phone)[T]
            row_cust, merges, node_ids, node_cust, new_ids = self._plan(
                e[T], pn[T], lp, ident, cust, b[T]
            )
            report.merged = len(merges)
            # New identities, with their customer when they are strong.
            where = np.flatnonzero(new_key)
            at_node = np.searchsorted(node_ids, ident[where])
            found = at_node < len(node_ids)
            found[found] = node_ids[at_node[found]] == ident[where][found]
            new_cust = np.where(
                found,
                node_cust[np.minimum(at_node, max(len(node_ids) - 1, 0))] if len(node_ids) else -1,
                -1,
            )
            rows = zip(
                ident[where].tolist(),
                [keys[i] for i in where.tolist()],
                kind[where].tolist(),
                id_list(new_cust),
                strict=True,
            )
            # A first load into an empty history: the secondary indexes of the tables
            # filled here are built once after the rows are in (a sort each), not
            # kept up row by row; the same indexes, in the same transaction.
            deferred = [] if exists.any() else self._defer_indexes()
            self.db.copy_rows("identities", ("id", "key", "kind", "customer"), rows)
            known = ~np.isin(node_ids, ident[where])
            self.db.executemany(
                "UPDATE identities SET customer = ? WHERE id = ? AND customer IS NULL",
                zip(node_cust[known].tolist(), node_ids[known].tolist(), strict=True),
            )
            moves = [(new_c, old_c) for old_c, new_c in merges]
            self.db.executemany("UPDATE identities SET customer = ? WHERE customer = ?", moves)
            self.db.executemany("UPDATE orders SET customer = ? WHERE customer = ?", moves)
            # The orders themselves.
            cols = (batch.channel, batch.order_id)
            fresh = T[~exists[T]]
            changed = T[exists[T]]
            rc = np.full(n, -1, dtype=np.int64)
            rc[T] = row_cust
            values = {
                "at": optional_ints(at, at == NONE),
                "total": optional_ints(total, ~batch.has_total),
                "refund": batch.refund.tolist(),
                "customer": id_list(rc),
                "email": id_list(e),
                "ps": id_list(pn),
                "phone": phone.to_pylist(),
                "address": address.to_pylist(),
                "buyer": id_list(b),
                "consent": batch.consent,
            }
            columns = [
                cols[0],
                cols[1],
                values["at"],
                values["total"],
                values["refund"],
                values["customer"],
                values["email"],
                values["ps"],
                values["phone"],
                values["address"],
                batch.name,
                values["buyer"],
                batch.currency,
                values["consent"],
                batch.email_text,
                [batch.via] * n,
                cancelled.tolist(),
            ]
            every = columns
            if len(fresh) < n:
                picked = fresh.tolist()
                columns = [[c[i] for i in picked] for c in columns]
            # The new orders' ids, given here (their other numbers are kept by id).
            record_ids = old["id"].copy()
            first = int(self.fetch("SELECT IFNULL(MAX(id), 0) FROM orders")[0][0]) + 1
            record_ids[fresh] = first + np.arange(len(fresh), dtype=np.int64)
            self.db.copy_rows(
                "orders", ORDER_COLUMNS, zip(record_ids[fresh].tolist(), *columns, strict=True)
            )
            self.db.executemany(
                "UPDATE orders SET at = ?, total = ?, refund = ?, customer = ?, email = ?, "
                "ps = ?, phone = ?, address = ?, name = ?, buyer = ?, currency = ?, "
                "consent = ?, email_text = ?, via = ?, cancelled = ? WHERE id = ?",
                ((*(c[i] for c in every[2:]), int(old["id"][i])) for i in changed.tolist()),
            )
            self._add_aliases(record_ids, batch.reference, old["aliased"])
            for statement in deferred:
                self.db.execute(statement)
            touched = set(row_cust[row_cust >= 0].tolist())
            touched.update(old["customer"][changed][old["customer"][changed] >= 0].tolist())
            touched.update(c for pair in merges for c in pair)
            self.set_meta("next_customer", str(max(new_ids + [self._next_customer() - 1]) + 1))
            self._refresh(touched)
            self._keep_apart()
        return report

    def _defer_indexes(self) -> list[str]:
        """Where the history holds no orders yet: drop the secondary indexes of orders
        and order_aliases (and of identities, where it is empty too) and return the
        statements that build them again, as the schema wrote them (none where there
        are orders: an index kept up row by row is cheaper than rebuilding a big one).
        The constraints' own indexes (identities' unique key, the primary keys) stay."""
        if self.fetch("SELECT 1 FROM orders LIMIT 1"):
            return []
        tables = ["orders", "order_aliases"]
        if not self.fetch("SELECT 1 FROM identities LIMIT 1"):
            tables.append("identities")
        found = self.db.secondary_indexes(tables)
        for name, _ in found:
            self.db.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in found]

    def _lookup(self, keys: list[str]) -> tuple[IntArray, IntArray]:
        """Per key: its identity id and customer (-1 where none)."""
        ident = np.full(len(keys), -1, dtype=np.int64)
        cust = np.full(len(keys), -1, dtype=np.int64)
        if not self.fetch("SELECT 1 FROM identities LIMIT 1"):
            return ident, cust  # a new history: no key to look up
        self.temp_keys(list(keys))
        rows = self.fetch(
            "SELECT t.pos, i.id, IFNULL(i.customer, -1) FROM t_keys t "
            "CROSS JOIN identities i ON i.key = t.key"
        )
        if rows:
            arr = np.array(rows, dtype=np.int64)
            ident[arr[:, 0]] = arr[:, 1]
            cust[arr[:, 0]] = arr[:, 2]
        return ident, cust

    def _existing(
        self, channels: list[str], order_ids: list[str], aliases: Sequence[str | None]
    ) -> dict[str, Any]:
        """The history's copy of these orders (-1 and None where it holds none), and
        per order (``aliased``) whether its other number in ``aliases`` is held already
        (True where it has none)."""
        n = len(order_ids)
        empty = not self.fetch("SELECT 1 FROM orders LIMIT 1")
        if not empty:
            self.temp_orders(channels, order_ids, aliases)
        rows = (
            []
            if empty
            else self.fetch(
                "SELECT t.pos, o.id, IFNULL(o.at, ?), o.total IS NOT NULL, IFNULL(o.total, 0), "
                "o.refund, IFNULL(o.customer, -1), IFNULL(o.email, -1), IFNULL(o.ps, -1), "
                "IFNULL(o.buyer, -1), IFNULL(o.consent, -1), o.cancelled, "
                "t.alias IS NULL OR EXISTS "
                "(SELECT 1 FROM order_aliases a WHERE a.id = o.id AND a.alias = t.alias) "
                "FROM t_orders t CROSS JOIN orders o "
                "ON o.order_id = t.order_id AND o.channel = t.channel",
                (int(NONE),),
            )
        )
        numbers = (
            "id", "at", "has_total", "total", "refund", "customer", "email", "ps", "buyer",
            "consent", "cancelled", "held",
        )  # fmt: skip
        out: dict[str, Any] = {k: np.full(n, -1, dtype=np.int64) for k in numbers}
        text_cols = ("phone", "address", "name", "currency", "email_text", "via")
        texts: dict[str, list[str | None]] = {k: [None] * n for k in text_cols}
        if rows:
            arr = np.array(rows, dtype=np.int64)
            at = arr[:, 0]
            for j, k in enumerate(numbers, start=1):
                out[k][at] = arr[:, j]
            for i, *got in self.fetch(
                "SELECT t.pos, o.phone, o.address, o.name, o.currency, "
                "o.email_text, o.via FROM t_orders t CROSS JOIN "
                "orders o ON o.order_id = t.order_id AND o.channel = t.channel"
            ):
                for k, value in zip(text_cols, got, strict=True):
                    texts[k][i] = value
        # Per order: is its other number held already (or has it none, or is it its
        # own number)?
        alias = pa.array(aliases, pa.string())
        own = pc.fill_null(pc.equal(alias, pa.array(order_ids, pa.string())), True)
        out["aliased"] = (out.pop("held") == 1) | np.asarray(
            own.to_numpy(zero_copy_only=False), dtype=bool
        )
        via = texts.pop("via")
        out.update({k: pa.array(v, pa.string()) for k, v in texts.items()})
        out["via"] = np.asarray(via, dtype=object)
        out["via_known"] = np.asarray([v is not None for v in via], dtype=bool)
        out["has_total"] = out["has_total"] == 1
        return out

    def _add_aliases(
        self, order_ids: IntArray, aliases: Sequence[str | None], aliased: np.ndarray[Any, Any]
    ) -> None:
        """Keep each order's other number (an order hub's own id) beside it (orders
        ``order_ids``), whichever export's values the order keeps: a hub's copy that
        yields to the channel's own export still names the order by its number."""
        rows = np.flatnonzero(~aliased)
        self.db.executemany(
            "INSERT OR IGNORE INTO order_aliases (id, alias) VALUES (?, ?)",
            zip(order_ids[rows].tolist(), [aliases[i] for i in rows.tolist()], strict=True),
        )

    def _next_customer(self) -> int:
        return int(self.meta("next_customer", "1") or 1)

    def _linked_phones(self) -> tuple[pa.Array, IntArray]:
        """The phones named in "same person" links: their keys and identity ids."""
        rows = self.fetch(
            "SELECT i.key, i.id FROM links l CROSS JOIN identities i ON i.id = l.a "
            "WHERE l.same = 1 AND i.kind = ? UNION SELECT i.key, i.id FROM links l "
            "CROSS JOIN identities i ON i.id = l.b WHERE l.same = 1 AND i.kind = ?",
            (K.PHONE, K.PHONE),
        )
        return (
            pa.array([r[0] for r in rows], pa.string()),
            np.array([r[1] for r in rows], dtype=np.int64),
        )

    def _linked_phone_ids(self, phones: pa.Array) -> IntArray:
        """Per phone key: the identity id of that phone where a link names it, else -1."""
        keys, ids = self._linked_phones()
        if not len(keys):
            return np.full(len(phones), -1, dtype=np.int64)
        at = pc.fill_null(pc.index_in(phones, value_set=keys), -1)
        idx = np.asarray(at.to_numpy(zero_copy_only=False), dtype=np.int64)
        result: IntArray = np.where(idx >= 0, ids[np.maximum(idx, 0)], -1)
        return result

    def _plan(
        self,
        e: IntArray,
        pn: IntArray,
        lp: IntArray,
        ident: IntArray,
        cust: IntArray,
        b: IntArray | None = None,
    ) -> tuple[IntArray, list[tuple[int, int]], IntArray, IntArray, list[int]]:
        """Customers for new and changed orders: connected components over their strong
        identities (email or buyer id, phone with surname, a linked phone, the buyer id
        beside an email) and the customers those already belong to.

        Returns each order's customer (-1: none), the merges (old -> kept), the strong
        identities seen with their customer, and the new customer ids."""
        b = np.full(len(e), -1, dtype=np.int64) if b is None else b
        present = np.concatenate([e, pn, lp, b])
        nodes = np.unique(present[present >= 0])
        if not len(nodes):
            return np.full(len(e), -1, np.int64), [], nodes, nodes, []

        def local(x: IntArray) -> IntArray:
            return np.where(x >= 0, np.searchsorted(nodes, x), -1)

        le, lpn, llp, lb = local(e), local(pn), local(lp), local(b)
        anchor = np.where(le >= 0, le, np.where(lpn >= 0, lpn, llp))
        by_id = np.argsort(ident)
        node_old = cust[by_id][np.searchsorted(ident[by_id], nodes)]
        k = len(nodes)
        merged = merge_identities(k, [(anchor, lpn), (anchor, llp), (anchor, lb)], owner=node_old)
        labels, olds = merged.labels, merged.prior
        comps, comp_of = np.unique(labels, return_inverse=True)
        comp_of = comp_of.ravel()
        target = np.full(len(comps), -1, dtype=np.int64)
        merges: list[tuple[int, int]] = []
        if len(olds):
            size = dict(self.fetch_in("SELECT id, orders FROM customers", olds.tolist()))
            weight = np.array([size.get(int(c), 0) for c in olds.tolist()], dtype=np.int64)
            oc = comp_of[k:]
            order = np.lexsort((olds, -weight, oc))
            first = np.ones(len(order), dtype=bool)
            first[1:] = oc[order][1:] != oc[order][:-1]
            target[oc[order][first]] = olds[order][first]
            merges = [
                (int(c), int(target[oc[i]]))
                for i, c in enumerate(olds.tolist())
                if target[oc[i]] != c
            ]
        fresh = np.flatnonzero(target < 0)
        start = self._next_customer()
        target[fresh] = start + np.arange(len(fresh), dtype=np.int64)
        node_cust = target[comp_of[:k]]
        row_cust = np.where(anchor >= 0, node_cust[np.maximum(anchor, 0)], -1)
        return row_cust, merges, nodes, node_cust, target[fresh].tolist()

    def _refresh(self, customers: Iterable[int]) -> None:
        """Recompute the aggregates, key and search text of these customers from their
        orders and identities, and drop the ones left with no orders."""
        customers = set(customers)
        self.temp_ids("t_touched", customers)
        self.db.execute(
            "INSERT INTO customers (id, key, orders, spend, refunds, refunded, first_at, "
            f"last_at) SELECT o.customer, '', {CUSTOMER_TOTALS} FROM orders o "
            "WHERE o.customer IN (SELECT id FROM t_touched) GROUP BY o.customer "
            "ON CONFLICT (id) DO UPDATE SET orders = excluded.orders, spend = excluded.spend, "
            "refunds = excluded.refunds, refunded = excluded.refunded, "
            "first_at = excluded.first_at, last_at = excluded.last_at"
        )
        self.db.execute(
            "UPDATE customers SET key = IFNULL((SELECT substr(MIN(i.kind || ' ' || i.key), 3) "
            "FROM identities i WHERE i.customer = customers.id AND i.kind <= ?), "
            "'#' || customers.id) WHERE id IN (SELECT id FROM t_touched)",
            (K.PHONE,),
        )
        self.db.execute(
            "DELETE FROM customers WHERE id IN (SELECT id FROM t_touched) AND NOT EXISTS "
            "(SELECT 1 FROM orders o WHERE o.customer = customers.id)"
        )
        self.refresh_derived("t_touched", many=len(customers) > SCAN_FROM)

    def _keep_apart(self) -> None:
        """Where evidence joined identities the tag book says are different people,
        redo those customers keeping them apart."""
        rows = self.fetch(
            "SELECT ia.customer FROM links l CROSS JOIN identities ia ON ia.id = l.a "
            "CROSS JOIN identities ib ON ib.id = l.b WHERE l.same = 0 "
            "AND ia.customer IS NOT NULL AND ia.customer = ib.customer"
        )
        if rows:
            self._recompute({r[0] for r in rows})

    def _recompute(self, customers: set[int]) -> None:
        """Work out these customers afresh from their orders' identities and the links:
        the groups they fall into now, keeping "different people" apart. Ids are kept
        where a group keeps most of a customer; new groups get new ids."""
        if not customers:
            return
        self.temp_ids("t_dirty", customers)
        self._recompute_dirty(customers)

    def _recompute_dirty(self, customers: set[int]) -> None:
        fetched = self.fetch(
            "SELECT id, customer, IFNULL(email, -1), IFNULL(ps, -1), IFNULL(buyer, -1), phone "
            "FROM orders WHERE customer IN (SELECT id FROM t_dirty)"
        )
        orders = np.array([r[:5] for r in fetched], dtype=np.int64).reshape(-1, 5)
        lp = self._linked_phone_ids(pa.array([r[5] for r in fetched], pa.string()))
        idents = np.array(
            self.fetch(
                "SELECT id, customer, kind FROM identities WHERE customer IN "
                "(SELECT id FROM t_dirty)"
            ),
            dtype=np.int64,
        ).reshape(-1, 3)
        links = np.array(self.fetch("SELECT a, b, same FROM links"), dtype=np.int64).reshape(-1, 3)
        linked = self._linked_phones()[1]
        weak = (idents[:, 2] >= K.PHONE) & ~np.isin(idents[:, 0], linked)
        if weak.any():
            self.db.executemany(
                "UPDATE identities SET customer = NULL WHERE id = ?",
                ((int(i),) for i in idents[weak, 0]),
            )
        idents = idents[~weak]
        nodes = np.unique(
            np.concatenate([idents[:, 0], orders[:, 2], orders[:, 3], orders[:, 4], lp])
        )
        nodes = nodes[nodes >= 0]
        if not len(nodes):
            self._refresh(customers)
            return

        def local(x: IntArray) -> IntArray:
            i = np.searchsorted(nodes, x)
            ok = (x >= 0) & (i < len(nodes))
            ok[ok] = nodes[i[ok]] == x[ok]
            return np.where(ok, i, -1)

        le, lpn, llp = local(orders[:, 2]), local(orders[:, 3]), local(lp)
        lb = local(orders[:, 4])
        anchor = np.where(le >= 0, le, np.where(lpn >= 0, lpn, llp))
        same = links[links[:, 2] == 1]
        apart = links[links[:, 2] == 0]
        labels = merge_identities(
            len(nodes),
            [(anchor, lpn), (anchor, llp), (anchor, lb)],
            same=(local(same[:, 0]), local(same[:, 1])),
            apart=(local(apart[:, 0]), local(apart[:, 1])),
        ).labels
        # Give each group an id: the old customer most of its identities had, once.
        old_of_node = np.full(len(nodes), -1, dtype=np.int64)
        old_of_node[local(idents[:, 0])] = idents[:, 1]
        pairs, counts = np.unique(
            np.stack([labels, old_of_node], axis=1), axis=0, return_counts=True
        )
        order = np.lexsort((pairs[:, 1], -counts))
        chosen: dict[int, int] = {}
        taken: set[int] = set()
        for lab, old in pairs[order].tolist():
            if old >= 0 and lab not in chosen and old not in taken:
                chosen[lab] = old
                taken.add(old)
        next_c = self._next_customer()
        for lab in np.unique(labels).tolist():
            if lab not in chosen:
                chosen[lab] = next_c
                next_c += 1
        self.set_meta("next_customer", str(next_c))
        groups = np.fromiter(chosen, dtype=np.int64, count=len(chosen))
        ids = np.fromiter(chosen.values(), dtype=np.int64, count=len(chosen))
        by_group = np.argsort(groups)
        new_of_node = ids[by_group][np.searchsorted(groups[by_group], labels)]
        moved = new_of_node != old_of_node
        self.db.executemany(
            "UPDATE identities SET customer = ? WHERE id = ?",
            zip(new_of_node[moved].tolist(), nodes[moved].tolist(), strict=True),
        )
        row_new = np.where(anchor >= 0, new_of_node[np.maximum(anchor, 0)], -1)
        changed = row_new != orders[:, 1]
        self.db.executemany(
            "UPDATE orders SET customer = ? WHERE id = ?",
            zip(id_list(row_new[changed]), orders[changed, 0].tolist(), strict=True),
        )
        self._refresh(set(customers) | set(chosen.values()))

    def sync_links(self, links: LinkSet) -> bool:
        """Bring the history's customers in line with the tag book's links (a no-op
        when they have not changed since the last time). Returns whether it changed
        anything."""
        digest = links.digest()
        if self.meta("links") == digest:
            return False
        with self.writing():
            if self.meta("links") == digest:
                return False
            ends = sorted(links.kinds)
            ident, cust = self._lookup(ends)
            id_of = dict(zip(ends, ident.tolist(), strict=True))
            next_id = int(self.fetch("SELECT IFNULL(MAX(id), 0) FROM identities")[0][0]) + 1
            next_c = self._next_customer()
            linked_phones = links.linked_phones
            for key, i, c in zip(ends, ident.tolist(), cust.tolist(), strict=True):
                strong = links.kinds[key] <= K.PHONE_NAME or key in linked_phones
                if i < 0:
                    self.db.execute(
                        "INSERT INTO identities VALUES (?, ?, ?, ?)",
                        (next_id, key, links.kinds[key], next_c if strong else None),
                    )
                    id_of[key] = next_id
                    next_id += 1
                    next_c += strong
                elif c < 0 and strong:
                    self.db.execute("UPDATE identities SET customer = ? WHERE id = ?", (next_c, i))
                    next_c += 1
            self.set_meta("next_customer", str(next_c))
            want = {(min(id_of[a], id_of[b]), max(id_of[a], id_of[b])): 1 for a, b in links.same}
            want.update(
                {(min(id_of[a], id_of[b]), max(id_of[a], id_of[b])): 0 for a, b in links.different}
            )
            have = {(a, b): s for a, b, s in self.fetch("SELECT a, b, same FROM links")}
            changed = {p for p in set(want) | set(have) if want.get(p) != have.get(p)}
            ends_changed = {x for p in changed for x in p}
            dirty: set[int] = set()
            if ends_changed:
                rows = self.fetch_in(
                    "SELECT customer, kind, key FROM identities", sorted(ends_changed)
                )
                dirty = {r[0] for r in rows if r[0] is not None}
                phones = [r[2] for r in rows if r[1] == K.PHONE]
                if phones:
                    # Orders are not indexed by phone: a scan, only when a phone link
                    # changes.
                    self.temp_keys(list(phones))
                    dirty.update(
                        r[0]
                        for r in self.fetch(
                            "SELECT DISTINCT customer FROM orders WHERE phone IN "
                            "(SELECT key FROM t_keys) AND customer IS NOT NULL"
                        )
                    )
            self.db.execute("DELETE FROM links")
            self.db.executemany(
                "INSERT INTO links VALUES (?, ?, ?)", ((a, b, s) for (a, b), s in want.items())
            )
            self._recompute(dirty)
            self._keep_apart()
            self.set_meta("links", digest)
        return True

    def sync_tagbook(self, tagbook: TagBook | None, region: str | None = None) -> bool:
        """:meth:`sync_links` with the links of a tag book."""
        if tagbook is None:
            return False
        return self.sync_links(resolve_links(tagbook, K.check_region(region or self.region)))

    def prune(self, before: dt.date) -> PruneReport:
        """Delete the orders dated before ``before`` (data retention), the identities
        no order or link uses any more, and customers left with no orders; the freed
        pages are wiped (secure_delete) and the file is compacted (VACUUM)."""
        cutoff = epoch_of(before)
        customers_before = self.fetch("SELECT COUNT(*) FROM customers")[0][0]
        self.db.wipe_deleted()
        with self.writing():
            affected = {
                r[0]
                for r in self.fetch(
                    "SELECT DISTINCT customer FROM orders WHERE at < ? AND customer IS NOT NULL",
                    (cutoff,),
                )
            }
            self.db.execute(
                "DELETE FROM order_aliases WHERE id IN (SELECT id FROM orders WHERE at < ?)",
                (cutoff,),
            )
            gone = self.db.execute("DELETE FROM orders WHERE at < ?", (cutoff,)).rowcount
            self.db.temp_table("t_used", "id INTEGER PRIMARY KEY")
            for col in ("email", "ps", "buyer"):
                self.db.execute(
                    f"INSERT OR IGNORE INTO t_used SELECT {col} FROM orders WHERE {col} IS NOT NULL"
                )
            self.db.execute(
                "INSERT OR IGNORE INTO t_used SELECT a FROM links UNION SELECT b FROM links"
            )
            dropped = self.db.execute(
                "DELETE FROM identities WHERE id NOT IN (SELECT id FROM t_used)"
            ).rowcount
            self._recompute(affected)
        self.db.compact()
        left = self.fetch("SELECT COUNT(*) FROM customers")[0][0]
        return PruneReport(before, gone, max(customers_before - left, 0), dropped)
