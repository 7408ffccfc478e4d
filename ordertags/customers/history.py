"""The order history: every order seen, each customer's identities and aggregates.

An embedded SQLite database (standard library, no server) in WAL mode, so a cron
``apply``, an ``ingest`` and a person reading the history never block or corrupt each
other: readers never wait; a writer waits for another writer up to a bounded time,
then gives up with a clear message. Each export is ingested in one transaction, so an
interrupted ingest leaves the history as it was.

Tables (schema version in ``PRAGMA user_version``, migrated forward on open; a history
from a newer ordertags is refused):

- ``orders``: one row per (channel, order id), with its date (epoch seconds), total and
  refund (ten-thousandths), its identities and its customer;
- ``identities``: the strong identity keys (email, buyer id, phone with surname) and the
  phones a link names, each with its customer; a phone or an address alone is weak
  evidence, kept as text on the order (no index to update as orders arrive);
- ``customers``: per customer, the aggregates (orders, spend, refunds, first and last
  order), kept current as orders arrive, and the customer tags of the last ``apply``
  that saw them;
- ``links``: the tag book's links, as applied;
- ``meta``: counters and settings.

Everything an ``apply`` asks for is looked up by key for the run's customers only
(indexes on identity key, (order id, channel) and (customer, date)), so its cost does
not grow with the size of the history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.customers.identity import (
    LinkSet,
    OrderBatch,
    Suspect,
    codes_of,
    connected_components,
    dictionary_codes,
    find_suspects,
    ranked_pairs,
    resolve_links,
    split_components,
)
from ordertags.errors import HistoryError

if TYPE_CHECKING:
    from ordertags.tags import TagBook

IntArray = np.ndarray[Any, np.dtype[np.int64]]

SCHEMA_VERSION = 2
APPLICATION_ID = 0x4F544147  # "OTAG": an ordertags history, not some other SQLite file
LOCK_TIMEOUT_S = 30.0
NONE = np.iinfo(np.int64).max  # no date

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind INTEGER NOT NULL,          -- keys.EMAIL, RELAY, BUYER, PHONE_NAME, PHONE, ADDRESS
    customer INTEGER                -- NULL: a weak identity no link names
);
CREATE INDEX identities_customer ON identities (customer);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,          -- the export's Source/Channel column, upper-cased
    order_id TEXT NOT NULL,
    at INTEGER,                     -- order date, epoch seconds
    total INTEGER,                  -- ten-thousandths
    refund INTEGER NOT NULL DEFAULT 0,
    customer INTEGER,
    email INTEGER, ps INTEGER,      -- strong identities: customer key, phone + surname
    phone TEXT, address TEXT,       -- weak evidence, as keys (E.164, addr:...)
    name TEXT
);
CREATE UNIQUE INDEX orders_key ON orders (order_id, channel);
CREATE INDEX orders_customer ON orders (customer, at, total, refund);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,              -- the customer's best identity, for people to read
    orders INTEGER NOT NULL,
    spend INTEGER NOT NULL,
    refunds INTEGER NOT NULL,       -- orders with a refund
    refunded INTEGER NOT NULL,      -- ten-thousandths
    first_at INTEGER,
    last_at INTEGER,
    tags TEXT,                      -- customer tags at the last apply that saw them
    tags_on TEXT                    -- that apply's as-of date
);
CREATE TABLE links (
    a INTEGER NOT NULL, b INTEGER NOT NULL, same INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
INSERT INTO meta VALUES ('next_customer', '1');
"""

#: Forward migrations: (version reached, SQL script). A history at version v runs every
#: step above v, each in its own transaction with the version bump.
# Version 2: when each customer carried each customer tag (for ``had_tag``), as spans
# from the as-of date of the apply that gave it to the one that found it gone.
_V2 = """
CREATE TABLE tag_log (
    customer INTEGER NOT NULL,
    tag TEXT NOT NULL,
    since TEXT NOT NULL,            -- as-of date of the apply that gave the tag
    until TEXT                      -- as-of date of the apply that found it gone; NULL: still
);
CREATE INDEX tag_log_customer ON tag_log (customer, tag)
"""

MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2)]


# --- results ------------------------------------------------------------------------------


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

    def __iadd__(self, other: IngestReport) -> IngestReport:
        self.files += other.files
        for name in ("read", "new", "updated", "unchanged", "skipped", "merged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


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
class Recorded:
    """The history's copy of some orders: customer, date, total, refund."""

    customer: IntArray
    at: IntArray
    total: IntArray
    refund: IntArray


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
class PruneReport:
    before: dt.date
    orders: int
    customers: int  # customers left with no orders (and dropped)
    identities: int


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


@dataclass
class CustomerReport:
    """Everything the history knows of one customer (``ordertags customer KEY``)."""

    row: CustomerRow
    identities: list[tuple[str, str, int]]  # (kind, key, orders)
    names: list[str]
    entries: list[Any]  # tag-book entries (tags.Entry) of the customer's emails
    recent: list[tuple[str, str, str, str, str, str]]  # date, channel, id, total, refund, email


# --- helpers --------------------------------------------------------------------------


def _opt(values: IntArray, missing: np.ndarray[Any, Any]) -> list[Any]:
    """numpy ints -> Python list with None where ``missing``."""
    out: list[Any] = pa.array(values, mask=missing).to_pylist()
    return out


def _ids(values: IntArray) -> list[Any]:
    return _opt(values, values < 0)


def _same_text(new: pa.Array, old: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Element-wise equality where two nulls are equal."""
    both_null = pc.and_(pc.is_null(new), pc.is_null(old))
    equal = pc.fill_null(pc.equal(new, old), both_null)
    return np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)


def _day(seconds: int | None) -> dt.date | None:
    if seconds is None:
        return None
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))).date()


def _epoch(day: dt.date) -> int:
    return int(
        (dt.datetime(day.year, day.month, day.day) - dt.datetime(1970, 1, 1)).total_seconds()
    )


def money(units: int) -> str:
    """Ten-thousandths as text with two decimals: ``12345000`` -> ``1,234.50``."""
    cents = (abs(units) + 50) // 100
    sign = "-" if units < 0 and cents else ""
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


# --- the history ----------------------------------------------------------------------


class History:
    """An open history database. Use :func:`open_history`.

    >>> with open_history("shop/history.sqlite") as h:  # doctest: +SKIP
    ...     print(h.stats().orders)
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_timeout: float) -> None:
        self.path = path
        self.conn = conn
        self.lock_timeout = lock_timeout
        self._in_write = False

    # --- plumbing -----------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _locked(self, exc: sqlite3.OperationalError) -> HistoryError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return HistoryError(
                f"the history is locked by another ordertags (waited {self.lock_timeout:g} s).",
                file=str(self.path),
                hint="Another ingest or apply is writing to it: try again when it has "
                "finished. If none is running, check that nothing else holds the file "
                "open.",
            )
        return HistoryError(
            f"the history cannot be used: {text}.",
            file=str(self.path),
            hint="Check the file and the disk (space, permissions).",
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken at once (waiting up to the lock
        timeout for another writer); an error rolls everything back."""
        if self._in_write:
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._locked(exc) from None
        self._in_write = True
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._locked(exc) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._in_write = False

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction around several writes (e.g. the slices of one export):
        all land, or none."""
        return self._write()

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise self._locked(exc) from None

    def _meta(self, key: str, default: str | None = None) -> str | None:
        row = self._q("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _temp_ids(self, name: str, ids: Iterable[int]) -> None:
        """Fill the temporary table ``name`` (one id column) with ``ids``."""
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
        self.conn.execute(f"DELETE FROM {name}")
        self.conn.executemany(f"INSERT OR IGNORE INTO {name} VALUES (?)", ((int(i),) for i in ids))

    def _temp_keys(self, keys: list[str | None]) -> None:
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS t_keys (pos INTEGER PRIMARY KEY, key TEXT NOT NULL)"
        )
        self.conn.execute("DELETE FROM t_keys")
        self.conn.executemany(
            "INSERT INTO t_keys VALUES (?, ?)",
            ((i, k) for i, k in enumerate(keys) if k is not None),
        )

    def _temp_orders(self, channels: list[str], order_ids: list[str]) -> None:
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS t_orders "
            "(pos INTEGER PRIMARY KEY, channel TEXT, order_id TEXT)"
        )
        self.conn.execute("DELETE FROM t_orders")
        self.conn.executemany(
            "INSERT INTO t_orders VALUES (?, ?, ?)",
            zip(range(len(order_ids)), channels, order_ids, strict=True),
        )

    @property
    def region(self) -> str:
        return self._meta("region") or K.DEFAULT_REGION

    # --- lookups for a run ----------------------------------------------------------------

    def customers_of(self, keys: pa.Array) -> IntArray:
        """Per key: the customer of that identity in the history, -1 where none."""
        out = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys):
            return out
        self._temp_keys(keys.to_pylist())
        rows = self._q(
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
        self._temp_ids("t_ids", customers.tolist())
        rows = self._q(
            "SELECT i.key, i.customer FROM t_ids t CROSS JOIN identities i "
            "ON i.customer = t.id WHERE i.kind <= ?",
            (K.BUYER,),
        )
        return (
            pa.array([r[0] for r in rows], pa.string()),
            np.array([r[1] for r in rows], dtype=np.int64),
        )

    def aggregates(
        self, customers: IntArray, *, start: int | None = None, end: int | None = None
    ) -> Aggregates:
        """Per customer: orders, spend, refunds, first and last order; over all their
        orders, or those dated from ``start`` (inclusive) to ``end`` (exclusive).

        All-time figures come from the kept aggregates; a window reads the customers'
        orders in it through the (customer, date) index: neither reads anything of
        customers not asked for.
        """
        self._temp_ids("t_ids", customers.tolist())
        if start is None or end is None:
            rows = self._q(
                "SELECT c.id, c.orders, c.spend, c.refunded, IFNULL(c.first_at, ?), "
                "IFNULL(c.last_at, ?) FROM t_ids t CROSS JOIN customers c ON c.id = t.id",
                (int(NONE), int(NONE)),
            )
        else:
            rows = self._q(
                "SELECT o.customer, COUNT(*), IFNULL(SUM(o.total), 0), SUM(o.refund), "
                "MIN(o.at), MAX(o.at) FROM t_ids t CROSS JOIN orders o ON o.customer = t.id "
                "WHERE o.at >= ? AND o.at < ? GROUP BY o.customer",
                (start, end),
            )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 6)
        return Aggregates(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5])

    def recorded_orders(self, channels: list[str], order_ids: list[str]) -> Recorded:
        """The history's version of these orders (those it holds)."""
        self._temp_orders(channels, order_ids)
        rows = self._q(
            "SELECT IFNULL(o.customer, -1), IFNULL(o.at, ?), IFNULL(o.total, 0), o.refund "
            "FROM t_orders t CROSS JOIN orders o ON o.order_id = t.order_id "
            "AND o.channel = t.channel",
            (int(NONE),),
        )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
        return Recorded(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])

    def log_tags(
        self, gained: dict[str, list[int]], lost: dict[str, list[int]], as_of: dt.date
    ) -> None:
        """Open a span for each customer that gained a tag, close the span of each that
        lost one (``had_tag`` reads these)."""
        day = as_of.isoformat()
        with self._write() as conn:
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

    def had_tag(
        self, customers: IntArray, tag: str, start: dt.date, end: dt.date
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per customer of ``customers``: did they carry ``tag`` at some time from
        ``start`` (inclusive) to ``end`` (exclusive)?"""
        self._temp_ids("want", customers.tolist())
        had = {
            c
            for (c,) in self._q(
                "SELECT DISTINCT l.customer FROM tag_log l JOIN temp.want w ON w.id = l.customer "
                "WHERE l.tag = ? AND l.since < ? AND (l.until IS NULL OR l.until > ?)",
                (tag, end.isoformat(), start.isoformat()),
            )
        }
        return np.isin(customers, np.fromiter(had, dtype=np.int64, count=len(had)))

    def tags_of(self, customers: IntArray) -> pa.Array:
        """The customer tags the last apply gave each customer ("" where none)."""
        self._temp_ids("want", customers.tolist())
        rows = self._q(
            "SELECT c.id, coalesce(c.tags, '') FROM customers c "
            "JOIN temp.want w ON w.id = c.id ORDER BY c.id"
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

    def remember_tags(self, customers: list[int], texts: list[str], as_of: dt.date) -> None:
        """Keep the customer tags a run gave (shown and searched by ``customers``)."""
        if not customers:
            return
        with self._write() as conn:
            conn.executemany(
                "UPDATE customers SET tags = ?, tags_on = ? WHERE id = ?",
                zip(texts, [as_of.isoformat()] * len(customers), customers, strict=True),
            )

    # --- recording orders -----------------------------------------------------------------

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
        strings = pa.concat_arrays([ids.email.cast(pa.string()), ids.phone_name.cast(pa.string())])
        encoded = pc.dictionary_encode(strings)
        pos = dictionary_codes(encoded)
        keys: list[str] = encoded.dictionary.to_pylist()
        kind = np.zeros(len(keys), dtype=np.int64)
        seg_kind = np.concatenate([ids.kind, np.full(n, K.PHONE_NAME)])
        kind[pos[pos >= 0]] = seg_kind[pos >= 0]
        row_pos = pos.reshape(2, n)
        at = batch.at
        total = np.where(batch.has_total, batch.total, 0)
        phone = ids.phone.cast(pa.string())
        address = ids.address.cast(pa.string())
        with self._write():
            ident, cust = self._lookup(keys)
            new_key = ident < 0
            next_id = int(self._q("SELECT IFNULL(MAX(id), 0) FROM identities")[0][0]) + 1
            ident[new_key] = next_id + np.arange(int(new_key.sum()), dtype=np.int64)
            row_id = np.append(ident, -1)[np.where(row_pos >= 0, row_pos, len(ident))]
            e, pn = row_id
            old = self._existing(batch.channel, batch.order_id)
            exists = old["id"] >= 0
            same = (
                exists
                & (old["at"] == at)
                & (old["has_total"] == batch.has_total)
                & (old["total"] == total)
                & (old["refund"] == batch.refund)
                & (old["email"] == e)
                & (old["ps"] == pn)
                & _same_text(phone, old["phone"])
                & _same_text(address, old["address"])
                & _same_text(pa.array(batch.name, pa.string()), old["name"])
            )
            todo = ~same
            report.new = int((~exists).sum())
            report.updated = int((exists & ~same).sum())
            report.unchanged = int(same.sum())
            if not todo.any():
                return report
            T = np.flatnonzero(todo)
            lp = self._linked_phone_ids(phone)[T]
            row_cust, merges, node_ids, node_cust, new_ids = self._plan(
                e[T], pn[T], lp, ident, cust
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
                _ids(new_cust),
                strict=True,
            )
            self.conn.executemany("INSERT INTO identities VALUES (?, ?, ?, ?)", rows)
            known = ~np.isin(node_ids, ident[where])
            self.conn.executemany(
                "UPDATE identities SET customer = ? WHERE id = ? AND customer IS NULL",
                zip(node_cust[known].tolist(), node_ids[known].tolist(), strict=True),
            )
            moves = [(new_c, old_c) for old_c, new_c in merges]
            self.conn.executemany("UPDATE identities SET customer = ? WHERE customer = ?", moves)
            self.conn.executemany("UPDATE orders SET customer = ? WHERE customer = ?", moves)
            # The orders themselves.
            cols = (batch.channel, batch.order_id)
            fresh = T[~exists[T]]
            changed = T[exists[T]]
            rc = np.full(n, -1, dtype=np.int64)
            rc[T] = row_cust
            values = {
                "at": _opt(at, at == NONE),
                "total": _opt(total, ~batch.has_total),
                "refund": batch.refund.tolist(),
                "customer": _ids(rc),
                "email": _ids(e),
                "ps": _ids(pn),
                "phone": phone.to_pylist(),
                "address": address.to_pylist(),
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
            ]
            if len(fresh) < n:
                picked = fresh.tolist()
                columns = [[c[i] for i in picked] for c in columns]
            self.conn.executemany(
                "INSERT INTO orders (channel, order_id, at, total, refund, customer, email, "
                "ps, phone, address, name) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                zip(*columns, strict=True),
            )
            self.conn.executemany(
                "UPDATE orders SET at = ?, total = ?, refund = ?, customer = ?, email = ?, "
                "ps = ?, phone = ?, address = ?, name = ? WHERE id = ?",
                (
                    (
                        values["at"][i],
                        values["total"][i],
                        values["refund"][i],
                        values["customer"][i],
                        values["email"][i],
                        values["ps"][i],
                        values["phone"][i],
                        values["address"][i],
                        batch.name[i],
                        int(old["id"][i]),
                    )
                    for i in changed.tolist()
                ),
            )
            touched = set(row_cust[row_cust >= 0].tolist())
            touched.update(old["customer"][changed][old["customer"][changed] >= 0].tolist())
            touched.update(c for pair in merges for c in pair)
            self._set_meta("next_customer", str(max(new_ids + [self._next_customer() - 1]) + 1))
            self._refresh(touched)
            self._keep_apart()
        return report

    def _lookup(self, keys: list[str]) -> tuple[IntArray, IntArray]:
        """Per key: its identity id and customer (-1 where none)."""
        ident = np.full(len(keys), -1, dtype=np.int64)
        cust = np.full(len(keys), -1, dtype=np.int64)
        self._temp_keys(list(keys))
        rows = self._q(
            "SELECT t.pos, i.id, IFNULL(i.customer, -1) FROM t_keys t "
            "CROSS JOIN identities i ON i.key = t.key"
        )
        if rows:
            arr = np.array(rows, dtype=np.int64)
            ident[arr[:, 0]] = arr[:, 1]
            cust[arr[:, 0]] = arr[:, 2]
        return ident, cust

    def _existing(self, channels: list[str], order_ids: list[str]) -> dict[str, Any]:
        n = len(order_ids)
        empty = not self._q("SELECT 1 FROM orders LIMIT 1")
        if not empty:
            self._temp_orders(channels, order_ids)
        rows = (
            []
            if empty
            else self._q(
                "SELECT t.pos, o.id, IFNULL(o.at, ?), o.total IS NOT NULL, IFNULL(o.total, 0), "
                "o.refund, IFNULL(o.customer, -1), IFNULL(o.email, -1), IFNULL(o.ps, -1) "
                "FROM t_orders t CROSS JOIN orders o "
                "ON o.order_id = t.order_id AND o.channel = t.channel",
                (int(NONE),),
            )
        )
        numbers = ("id", "at", "has_total", "total", "refund", "customer", "email", "ps")
        out: dict[str, Any] = {k: np.full(n, -1, dtype=np.int64) for k in numbers}
        texts: dict[str, list[str | None]] = {k: [None] * n for k in ("phone", "address", "name")}
        if rows:
            arr = np.array(rows, dtype=np.int64)
            at = arr[:, 0]
            for j, k in enumerate(numbers, start=1):
                out[k][at] = arr[:, j]
            for i, ph, ad, name in self._q(
                "SELECT t.pos, o.phone, o.address, o.name FROM t_orders t CROSS JOIN "
                "orders o ON o.order_id = t.order_id AND o.channel = t.channel"
            ):
                texts["phone"][i], texts["address"][i], texts["name"][i] = ph, ad, name
        out.update({k: pa.array(v, pa.string()) for k, v in texts.items()})
        out["has_total"] = out["has_total"] == 1
        return out

    def _next_customer(self) -> int:
        return int(self._meta("next_customer", "1") or 1)

    def _linked_phones(self) -> tuple[pa.Array, IntArray]:
        """The phones named in "same person" links: their keys and identity ids."""
        rows = self._q(
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
        self, e: IntArray, pn: IntArray, lp: IntArray, ident: IntArray, cust: IntArray
    ) -> tuple[IntArray, list[tuple[int, int]], IntArray, IntArray, list[int]]:
        """Customers for new and changed orders: connected components over their strong
        identities and the customers those already belong to.

        Returns each order's customer (-1: none), the merges (old -> kept), the strong
        identities seen with their customer, and the new customer ids."""
        present = np.concatenate([e, pn, lp])
        nodes = np.unique(present[present >= 0])
        if not len(nodes):
            return np.full(len(e), -1, np.int64), [], nodes, nodes, []

        def local(x: IntArray) -> IntArray:
            return np.where(x >= 0, np.searchsorted(nodes, x), -1)

        le, lpn, llp = local(e), local(pn), local(lp)
        anchor = np.where(le >= 0, le, np.where(lpn >= 0, lpn, llp))
        by_id = np.argsort(ident)
        node_old = cust[by_id][np.searchsorted(ident[by_id], nodes)]
        olds = np.unique(node_old[node_old >= 0])
        k = len(nodes)
        u = np.concatenate([anchor, anchor, np.flatnonzero(node_old >= 0)])
        v = np.concatenate([lpn, llp, k + np.searchsorted(olds, node_old[node_old >= 0])])
        keep = (u >= 0) & (v >= 0)
        labels = connected_components(k + len(olds), u[keep], v[keep])
        comps, comp_of = np.unique(labels, return_inverse=True)
        comp_of = comp_of.ravel()
        target = np.full(len(comps), -1, dtype=np.int64)
        merges: list[tuple[int, int]] = []
        if len(olds):
            size = dict(self._q_in("SELECT id, orders FROM customers", olds.tolist()))
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

    def _q_in(self, sql: str, ids: list[int]) -> list[Any]:
        """``sql`` restricted to ``id IN ids`` (through a temporary table)."""
        self._temp_ids("t_in", ids)
        return self._q(f"{sql} WHERE id IN (SELECT id FROM t_in)")

    def _refresh(self, customers: Iterable[int]) -> None:
        """Recompute the aggregates and key of these customers from their orders, and
        drop the ones left with no orders."""
        self._temp_ids("t_touched", customers)
        self.conn.execute(
            "INSERT INTO customers (id, key, orders, spend, refunds, refunded, first_at, "
            "last_at) SELECT o.customer, '', COUNT(*), IFNULL(SUM(o.total), 0), "
            "COUNT(NULLIF(o.refund, 0)), SUM(o.refund), MIN(o.at), MAX(o.at) FROM orders o "
            "WHERE o.customer IN (SELECT id FROM t_touched) GROUP BY o.customer "
            "ON CONFLICT (id) DO UPDATE SET orders = excluded.orders, spend = excluded.spend, "
            "refunds = excluded.refunds, refunded = excluded.refunded, "
            "first_at = excluded.first_at, last_at = excluded.last_at"
        )
        self.conn.execute(
            "UPDATE customers SET key = IFNULL((SELECT substr(MIN(i.kind || ' ' || i.key), 3) "
            "FROM identities i WHERE i.customer = customers.id AND i.kind <= ?), "
            "'#' || customers.id) WHERE id IN (SELECT id FROM t_touched)",
            (K.PHONE,),
        )
        self.conn.execute(
            "DELETE FROM customers WHERE id IN (SELECT id FROM t_touched) AND NOT EXISTS "
            "(SELECT 1 FROM orders o WHERE o.customer = customers.id)"
        )

    def _keep_apart(self) -> None:
        """Where evidence joined identities the tag book says are different people,
        redo those customers keeping them apart."""
        rows = self._q(
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
        self._temp_ids("t_dirty", customers)
        self._recompute_dirty(customers)

    def _recompute_dirty(self, customers: set[int]) -> None:
        fetched = self._q(
            "SELECT id, customer, IFNULL(email, -1), IFNULL(ps, -1), phone "
            "FROM orders WHERE customer IN (SELECT id FROM t_dirty)"
        )
        orders = np.array([r[:4] for r in fetched], dtype=np.int64).reshape(-1, 4)
        lp = self._linked_phone_ids(pa.array([r[4] for r in fetched], pa.string()))
        idents = np.array(
            self._q(
                "SELECT id, customer, kind FROM identities WHERE customer IN "
                "(SELECT id FROM t_dirty)"
            ),
            dtype=np.int64,
        ).reshape(-1, 3)
        links = np.array(self._q("SELECT a, b, same FROM links"), dtype=np.int64).reshape(-1, 3)
        linked = self._linked_phones()[1]
        weak = (idents[:, 2] >= K.PHONE) & ~np.isin(idents[:, 0], linked)
        if weak.any():
            self.conn.executemany(
                "UPDATE identities SET customer = NULL WHERE id = ?",
                ((int(i),) for i in idents[weak, 0]),
            )
        idents = idents[~weak]
        nodes = np.unique(np.concatenate([idents[:, 0], orders[:, 2], orders[:, 3], lp]))
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
        anchor = np.where(le >= 0, le, np.where(lpn >= 0, lpn, llp))
        same = links[links[:, 2] == 1]
        apart = links[links[:, 2] == 0]
        sa, sb = local(same[:, 0]), local(same[:, 1])
        ok = (sa >= 0) & (sb >= 0)
        u = np.concatenate([sa[ok], anchor, anchor])
        v = np.concatenate([sb[ok], lpn, llp])
        first = np.concatenate([np.ones(int(ok.sum()), bool), np.zeros(2 * len(anchor), bool)])
        keep = (u >= 0) & (v >= 0)
        u, v, first = u[keep], v[keep], first[keep]
        labels = connected_components(len(nodes), u, v)
        aa, ab = local(apart[:, 0]), local(apart[:, 1])
        both = (aa >= 0) & (ab >= 0)
        if both.any():
            labels = split_components(labels, u, v, first, aa[both], ab[both])
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
        self._set_meta("next_customer", str(next_c))
        groups = np.fromiter(chosen, dtype=np.int64, count=len(chosen))
        ids = np.fromiter(chosen.values(), dtype=np.int64, count=len(chosen))
        by_group = np.argsort(groups)
        new_of_node = ids[by_group][np.searchsorted(groups[by_group], labels)]
        moved = new_of_node != old_of_node
        self.conn.executemany(
            "UPDATE identities SET customer = ? WHERE id = ?",
            zip(new_of_node[moved].tolist(), nodes[moved].tolist(), strict=True),
        )
        row_new = np.where(anchor >= 0, new_of_node[np.maximum(anchor, 0)], -1)
        changed = row_new != orders[:, 1]
        self.conn.executemany(
            "UPDATE orders SET customer = ? WHERE id = ?",
            zip(_ids(row_new[changed]), orders[changed, 0].tolist(), strict=True),
        )
        self._refresh(set(customers) | set(chosen.values()))

    # --- links ------------------------------------------------------------------------------

    def sync_links(self, links: LinkSet) -> bool:
        """Bring the history's customers in line with the tag book's links (a no-op
        when they have not changed since the last time). Returns whether it changed
        anything."""
        digest = links.digest()
        if self._meta("links") == digest:
            return False
        with self._write():
            if self._meta("links") == digest:
                return False
            ends = sorted(links.kinds)
            ident, cust = self._lookup(ends)
            id_of = dict(zip(ends, ident.tolist(), strict=True))
            next_id = int(self._q("SELECT IFNULL(MAX(id), 0) FROM identities")[0][0]) + 1
            next_c = self._next_customer()
            linked_phones = links.linked_phones
            for key, i, c in zip(ends, ident.tolist(), cust.tolist(), strict=True):
                strong = links.kinds[key] <= K.PHONE_NAME or key in linked_phones
                if i < 0:
                    self.conn.execute(
                        "INSERT INTO identities VALUES (?, ?, ?, ?)",
                        (next_id, key, links.kinds[key], next_c if strong else None),
                    )
                    id_of[key] = next_id
                    next_id += 1
                    next_c += strong
                elif c < 0 and strong:
                    self.conn.execute(
                        "UPDATE identities SET customer = ? WHERE id = ?", (next_c, i)
                    )
                    next_c += 1
            self._set_meta("next_customer", str(next_c))
            want = {(min(id_of[a], id_of[b]), max(id_of[a], id_of[b])): 1 for a, b in links.same}
            want.update(
                {(min(id_of[a], id_of[b]), max(id_of[a], id_of[b])): 0 for a, b in links.different}
            )
            have = {(a, b): s for a, b, s in self._q("SELECT a, b, same FROM links")}
            changed = {p for p in set(want) | set(have) if want.get(p) != have.get(p)}
            ends_changed = {x for p in changed for x in p}
            dirty: set[int] = set()
            if ends_changed:
                rows = self._q_in(
                    "SELECT customer, kind, key FROM identities", sorted(ends_changed)
                )
                dirty = {r[0] for r in rows if r[0] is not None}
                phones = [r[2] for r in rows if r[1] == K.PHONE]
                if phones:
                    # Orders are not indexed by phone: a scan, only when a phone link
                    # changes.
                    self._temp_keys(list(phones))
                    dirty.update(
                        r[0]
                        for r in self._q(
                            "SELECT DISTINCT customer FROM orders WHERE phone IN "
                            "(SELECT key FROM t_keys) AND customer IS NOT NULL"
                        )
                    )
            self.conn.execute("DELETE FROM links")
            self.conn.executemany(
                "INSERT INTO links VALUES (?, ?, ?)", ((a, b, s) for (a, b), s in want.items())
            )
            self._recompute(dirty)
            self._keep_apart()
            self._set_meta("links", digest)
        return True

    def sync_tagbook(self, tagbook: TagBook | None, region: str | None = None) -> bool:
        """:meth:`sync_links` with the links of a tag book."""
        if tagbook is None:
            return False
        return self.sync_links(resolve_links(tagbook, K.check_region(region or self.region)))

    # --- reports ------------------------------------------------------------------------------

    def stats(self) -> Stats:
        """Counts and dates, for ``ordertags history stats``."""
        size = sum(
            os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p)
        )
        orders, first, last, undated = self._q(
            "SELECT COUNT(*), MIN(at), MAX(at), COUNT(*) - COUNT(at) FROM orders"
        )[0]
        kinds = {
            K.KIND_NAMES[k]: c
            for k, c in self._q(
                "SELECT kind, COUNT(*) FROM identities WHERE kind < ? GROUP BY kind ORDER BY kind",
                (K.PHONE,),
            )
        }
        phones, addresses = self._q(
            "SELECT COUNT(DISTINCT phone), COUNT(DISTINCT address) FROM orders"
        )[0]
        kinds.update({K.KIND_NAMES[K.PHONE]: phones, K.KIND_NAMES[K.ADDRESS]: addresses})
        links = dict(self._q("SELECT same, COUNT(*) FROM links GROUP BY same"))
        return Stats(
            path=str(self.path),
            bytes=size,
            schema_version=SCHEMA_VERSION,
            orders=orders,
            customers=self._q("SELECT COUNT(*) FROM customers")[0][0],
            identities=kinds,
            first=_day(first),
            last=_day(last),
            undated=undated,
            channels=[
                (c or "(none)", n)
                for c, n in self._q(
                    "SELECT channel, COUNT(*) FROM orders GROUP BY channel ORDER BY 2 DESC"
                )
            ],
            links=links.get(1, 0),
            apart=links.get(0, 0),
            region=self.region,
        )

    def prune(self, before: dt.date) -> PruneReport:
        """Delete the orders dated before ``before`` (data retention), the identities
        no order or link uses any more, and customers left with no orders; the freed
        pages are wiped (secure_delete) and the file is compacted (VACUUM)."""
        cutoff = _epoch(before)
        customers_before = self._q("SELECT COUNT(*) FROM customers")[0][0]
        self.conn.execute("PRAGMA secure_delete = ON")
        with self._write():
            affected = {
                r[0]
                for r in self._q(
                    "SELECT DISTINCT customer FROM orders WHERE at < ? AND customer IS NOT NULL",
                    (cutoff,),
                )
            }
            gone = self.conn.execute("DELETE FROM orders WHERE at < ?", (cutoff,)).rowcount
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS t_used (id INTEGER PRIMARY KEY)")
            self.conn.execute("DELETE FROM t_used")
            for col in ("email", "ps"):
                self.conn.execute(
                    f"INSERT OR IGNORE INTO t_used SELECT {col} FROM orders WHERE {col} IS NOT NULL"
                )
            self.conn.execute(
                "INSERT OR IGNORE INTO t_used SELECT a FROM links UNION SELECT b FROM links"
            )
            dropped = self.conn.execute(
                "DELETE FROM identities WHERE id NOT IN (SELECT id FROM t_used)"
            ).rowcount
            self._recompute(affected)
        self.conn.execute("VACUUM")
        left = self._q("SELECT COUNT(*) FROM customers")[0][0]
        return PruneReport(before, gone, max(customers_before - left, 0), dropped)

    def _manual_customers(self, tagbook: TagBook | None, as_of: dt.date) -> dict[int, list[str]]:
        """History customer -> tags given by hand in the tag book (in force)."""
        if tagbook is None:
            return {}
        wanted = tagbook.manual_tags(as_of)
        if not wanted:
            return {}
        keys = sorted(wanted)
        self._temp_keys(list(keys))
        out: dict[int, list[str]] = {}
        for pos, customer in self._q(
            "SELECT t.pos, i.customer FROM t_keys t CROSS JOIN "
            "identities i ON i.key = t.key "
            "WHERE i.customer IS NOT NULL"
        ):
            have = out.setdefault(customer, [])
            have.extend(t for t in tagbook.rank(wanted[keys[pos]]) if t not in have)
        return out

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
                first=_day(r[6]),
                last=_day(r[7]),
                tags=[t for t in (r[8] or "").split("; ") if t],
                tags_on=r[9],
                manual=manual.get(r[0], []),
            )
            for r in self._q(sql, params)
        ]

    _COLUMNS = (
        "SELECT id, key, orders, spend, refunds, refunded, first_at, last_at, tags, "
        "tags_on FROM customers"
    )

    def list_customers(
        self,
        *,
        tag: str | None = None,
        search: str | None = None,
        limit: int | None = 50,
        tagbook: TagBook | None = None,
        as_of: dt.date | None = None,
    ) -> list[CustomerRow]:
        """Customers, highest spend first: those with ``tag`` (by hand, or at the last
        apply), whose identities or names contain ``search``."""
        self.sync_tagbook(tagbook)
        manual = self._manual_customers(tagbook, as_of or dt.date.today())
        where, params = [], []
        if tag:
            self._temp_ids("t_manual", [c for c, tags in manual.items() if tag in tags])
            where.append(
                "(instr('; ' || IFNULL(tags, '') || '; ', '; ' || ? || '; ') > 0 "
                "OR id IN (SELECT id FROM t_manual))"
            )
            params.append(tag)
        if search:
            like = f"%{search.strip().lower()}%"
            where.append(
                "(id IN (SELECT customer FROM identities WHERE key LIKE ? AND "
                "customer IS NOT NULL) OR id IN (SELECT customer FROM orders "
                "WHERE lower(name) LIKE ?))"
            )
            params += [like, like]
        sql = (
            self._COLUMNS
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY spend DESC, key"
            + (f" LIMIT {int(limit)}" if limit else "")
        )
        return self._rows(sql, params, manual)

    def find_customer(self, query: str, region: str | None = None) -> int:
        """The customer a person means: an email, a phone, an identity key, a customer
        key or an order id."""
        text = query.strip()
        region = region or self.region
        tries: list[str] = [text]
        phone = None
        if "@" in text:
            from ordertags.base.emails import normalize_email

            tries.insert(0, normalize_email(text) or text)
        else:
            phone = K.normalize_phone(text, region)
            if phone:
                tries.append(phone)
        for key in tries:
            row = self._q("SELECT customer FROM identities WHERE key = ?", (key,))
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
            found = self._q(
                f"SELECT DISTINCT customer FROM orders WHERE {col} = ? AND customer IS NOT NULL",
                (value,),
            )
            if len(found) == 1:
                return int(found[0][0])
            if found:
                keys = ", ".join(self._q_keys([f[0] for f in found])[:5])
                raise HistoryError(
                    f'{len(found)} customers have "{query}": {keys}.',
                    hint="Ask for one of them by email (ordertags customer EMAIL).",
                )
        row = self._q("SELECT id FROM customers WHERE key = ?", (text,))
        if row:
            return int(row[0][0])
        found = self._q(
            "SELECT DISTINCT customer FROM orders WHERE order_id = ? AND customer IS NOT NULL",
            (text.lstrip("'#"),),
        )
        if len(found) == 1:
            return int(found[0][0])
        raise HistoryError(
            f'no customer "{query}" in the history.',
            file=str(self.path),
            hint="Give an email, a phone number or an order id; "
            "`ordertags customers --search TEXT` finds customers.",
        )

    def _q_keys(self, customers: list[int]) -> list[str]:
        return [r[0] for r in self._q_in("SELECT key FROM customers", customers)]

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
                f'"{query}" names an identity with no orders in the history.', file=str(self.path)
            )
        counts: dict[int, int] = {}
        for col in ("email", "ps"):
            for ident, count in self._q(
                f"SELECT {col}, COUNT(*) FROM orders WHERE "
                f"customer = ? AND {col} IS NOT NULL GROUP BY {col}",
                (cid,),
            ):
                counts[ident] = counts.get(ident, 0) + count
        idents = {
            i: (k, key)
            for i, k, key in self._q(
                "SELECT id, kind, key FROM identities WHERE customer = ?", (cid,)
            )
        }
        idents.update(
            {
                i: (k, key)
                for i, k, key in self._q_in("SELECT id, kind, key FROM identities", list(counts))
            }
        )
        found = [(K.KIND_NAMES[k], key, counts.get(i, 0)) for i, (k, key) in idents.items()]
        weak = {(K.KIND_NAMES[K.PHONE], key) for k, key in idents.values() if k == K.PHONE}
        for kind, col in ((K.PHONE, "phone"), (K.ADDRESS, "address")):
            for key, count in self._q(
                f"SELECT {col}, COUNT(*) FROM orders WHERE customer = ? "
                f"AND {col} IS NOT NULL GROUP BY {col}",
                (cid,),
            ):
                if (K.KIND_NAMES[kind], key) in weak:  # a linked phone, listed already
                    found = [(n, k, c + count if k == key else c) for n, k, c in found]
                else:
                    found.append((K.KIND_NAMES[kind], key, count))
        order_of = list(K.KIND_NAMES.values())
        identities = sorted(
            ((n, key.removeprefix(K.ADDRESS_PREFIX), c) for n, key, c in found),
            key=lambda t: (order_of.index(t[0]), -t[2], t[1]),
        )
        names = [
            r[0]
            for r in self._q(
                "SELECT name FROM orders WHERE customer = ? AND name IS NOT NULL "
                "GROUP BY name ORDER BY COUNT(*) DESC",
                (cid,),
            )
        ]
        emails = {key for k, key in idents.values() if k <= K.BUYER}
        entries = [e for e in (tagbook.entries if tagbook else []) if e.key in emails]
        recent_rows = [
            (
                str(_day(r[0]) or ""),
                r[1],
                r[2],
                "" if r[3] is None else money(r[3]),
                money(r[4]) if r[4] else "",
                r[5] or "",
            )
            for r in self._q(
                "SELECT o.at, o.channel, o.order_id, o.total, o.refund, i.key FROM orders o "
                "LEFT JOIN identities i ON i.id = o.email WHERE o.customer = ? "
                "ORDER BY o.at IS NULL, o.at DESC, o.id DESC LIMIT ?",
                (cid, recent),
            )
        ]
        return CustomerReport(rows[0], identities, names, entries, recent_rows)

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
        pairs with a high-priority tag (FRAUD...) come first."""
        self.sync_tagbook(tagbook)
        rows = self._q(
            "SELECT customer, phone, address FROM orders "
            "WHERE customer IS NOT NULL AND (phone IS NOT NULL OR address IS NOT NULL)"
        )
        phone, phones = codes_of([r[1] for r in rows])
        address, addresses = codes_of([r[2] for r in rows])
        pairs = find_suspects(
            np.array([r[0] for r in rows], dtype=np.int64), phone, address, max_sharing=max_sharing
        )
        del rows
        if not len(pairs.a):
            return []
        apart = self._q(
            "SELECT ia.customer, ib.customer FROM links l CROSS JOIN identities ia "
            "ON ia.id = l.a CROSS JOIN identities ib ON ib.id = l.b WHERE l.same = 0"
        )
        dismissed = {(min(x, y), max(x, y)) for x, y in apart if x is not None and y is not None}
        manual = self._manual_customers(tagbook, as_of or dt.date.today())
        involved = np.unique(np.concatenate([pairs.a, pairs.b]))
        info = {
            r[0]: r for r in self._q_in("SELECT id, key, tags FROM customers", involved.tolist())
        }
        tags_of: dict[int, list[str]] = {}
        for c in involved.tolist():
            derived = [t for t in ((info.get(c) or (0, "", ""))[2] or "").split("; ") if t]
            names = list(dict.fromkeys(manual.get(c, []) + derived))
            if tagbook is not None:
                names = tagbook.rank(t for t in names if t in tagbook.tags)
            tags_of[c] = names
        priority = np.full(int(involved.max()) + 1, -(10**9), dtype=np.int64)
        for c, names in tags_of.items():
            if names and tagbook is not None:
                priority[c] = max(tagbook.tags[t].priority for t in names)
        out: list[Suspect] = []
        for a, b, which in ranked_pairs(pairs, priority):
            if (a, b) in dismissed:
                continue
            if tag and tag not in tags_of[a] and tag not in tags_of[b]:
                continue
            evidence = [
                self._evidence(
                    int(pairs.kind[i]),
                    (addresses if pairs.kind[i] == K.ADDRESS else phones)[int(pairs.value[i])],
                    a,
                    b,
                )
                for i in which
            ]
            out.append(
                Suspect(
                    info[a][1],
                    info[b][1],
                    evidence,
                    tags_of[a],
                    tags_of[b],
                    int(max(priority[a], priority[b])),
                )
            )
            if limit and len(out) >= limit:
                break
        return out

    def _evidence(self, kind: int, key: str, a: int, b: int) -> str:
        if kind == K.ADDRESS:
            return f"same address {key.removeprefix(K.ADDRESS_PREFIX)}"
        names = []
        for c in (a, b):
            rows = self._q(
                "SELECT DISTINCT i.key FROM orders o CROSS JOIN identities i "
                "ON i.id = o.ps WHERE o.customer = ? AND o.phone = ?",
                (c, key),
            )
            names.append("/".join(sorted(r[0].split(" ", 1)[1] for r in rows)) or "?")
        return f"same phone {key} ({names[0]} / {names[1]})"


# --- opening ----------------------------------------------------------------------------


def open_history(
    path: str | os.PathLike[str],
    *,
    create: bool = False,
    lock_timeout: float = LOCK_TIMEOUT_S,
    region: str | None = None,
) -> History:
    """Open (with ``create``, create) a history database, migrating it to this version.

    A history written by a newer ordertags, or a file that is not an ordertags history,
    is refused with a message saying what to do.
    """
    p = Path(path)
    if not create and not p.exists():
        raise HistoryError(
            "no history database here.",
            file=str(p),
            hint="Create a workspace with `ordertags init DIR`.",
        )
    try:
        conn = sqlite3.connect(
            str(p), timeout=lock_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise HistoryError(
            f"cannot open the history: {exc}.",
            file=str(p),
            hint="Check the path and its permissions.",
        ) from None
    history = History(p, conn, lock_timeout)
    try:
        _prepare(history, create=create, region=region)
    except BaseException:
        conn.close()
        raise
    return history


def _prepare(history: History, *, create: bool, region: str | None) -> None:
    conn = history.conn
    path = str(history.path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise HistoryError(
            f"this is not an ordertags history ({exc}).",
            file=path,
            hint="Point --workspace at a folder made by `ordertags init`.",
        ) from None
    if app not in (0, APPLICATION_ID) or (app == 0 and tables):
        raise HistoryError(
            "this SQLite database is not an ordertags history.",
            file=path,
            hint="Point --workspace at a folder made by `ordertags init`.",
        )
    if version > SCHEMA_VERSION:
        from ordertags import __version__

        raise HistoryError(
            f"the history was written by a newer ordertags (schema version {version}; "
            f"ordertags {__version__} reads up to version {SCHEMA_VERSION}).",
            file=path,
            hint="Upgrade ordertags (pip install -U ordertags); this version will not "
            "touch the file.",
        )
    try:
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB, used only as pages are read
    except sqlite3.OperationalError as exc:
        raise history._locked(exc) from None
    if version < SCHEMA_VERSION:
        _migrate(history, version)
    if region and history._meta("region") != region:
        with history._write():
            history._set_meta("region", region)


def _migrate(history: History, version: int) -> None:
    conn = history.conn
    for target, script in MIGRATIONS:
        if target <= version:
            continue
        with history._write():
            # Another process may have migrated while this one waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= target:
                continue
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {target}")
