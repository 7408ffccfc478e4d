"""The history's SQLite store: the schema, its migrations, transactions and the small
lookups every part of the history uses. :mod:`ordertags.customers.ingest` writes
orders into it, :mod:`ordertags.customers.queries` reads it, and
:class:`ordertags.customers.history.History` joins the two.

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
- ``order_aliases``: the other numbers of an order (an order hub's own id);
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
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.base.amounts import counted_sql, net_spend_sql
from ordertags.base.files import LOCK_TIMEOUT_S as LOCK_TIMEOUT_S  # history.py hands it on
from ordertags.base.version import VERSION
from ordertags.errors import HistoryError, param

IntArray = np.ndarray[Any, np.dtype[np.int64]]

SCHEMA_VERSION = 8
APPLICATION_ID = 0x4F544147  # "OTAG": an ordertags history, not some other SQLite file
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
    channel TEXT NOT NULL,          -- amazon, ebay, shopify... (version 3; before: as written)
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

# Version 3: every identity an order carries (its buyer id beside its email), what a
# mailing list needs from the memory (currency, the marketing answer, the email as
# written) and the channel's own order number, for ``tag --order``. Columns: buyer (the
# buyer id where the email is the key), currency, consent (marketing: 1 yes, 0 no, NULL
# not said), reference (the channel's order number), email_text (the email as written).
_V3 = """
ALTER TABLE orders ADD COLUMN buyer INTEGER;
ALTER TABLE orders ADD COLUMN currency TEXT;
ALTER TABLE orders ADD COLUMN consent INTEGER;
ALTER TABLE orders ADD COLUMN reference TEXT;
ALTER TABLE orders ADD COLUMN email_text TEXT
"""

# Version 4: an order is known by its channel (one vocabulary: amazon, ebay, shopify...)
# and its number there, whichever export brought it (``order_id``; ``reference`` is then
# its other number, e.g. Linnworks' own Order Id); ``via`` is the platform profile of
# the export that gave its values: an order hub's copy yields to the channel's own
# export. Channels recorded before are brought into the vocabulary.
_V4 = """
ALTER TABLE orders ADD COLUMN via TEXT;
UPDATE OR IGNORE orders SET channel = CASE
    WHEN lower(channel) LIKE '%amazon%' THEN 'amazon'
    WHEN lower(channel) LIKE '%ebay%' THEN 'ebay'
    WHEN lower(channel) LIKE '%shopify%' THEN 'shopify'
    WHEN lower(channel) LIKE '%woo%' THEN 'woocommerce'
    WHEN lower(channel) LIKE '%etsy%' THEN 'etsy'
    ELSE lower(channel) END
"""

#: A customer's kept aggregates from their orders ``o`` (the customers table's orders,
#: spend, refunds, refunded, first_at and last_at): spend net of refunds, and a fully
#: refunded order not counted as an order (see :mod:`ordertags.base.amounts`).
CUSTOMER_TOTALS = (
    f"SUM({counted_sql('o')}), IFNULL(SUM({net_spend_sql('o')}), 0), "
    "COUNT(NULLIF(o.refund, 0)), SUM(o.refund), MIN(o.at), MAX(o.at)"
)

# Version 5: customer spend is net of refunds, and a fully refunded order is not counted
# as an order: the kept aggregates are worked out again. (Orders recorded before with a
# status saying "refunded" and no amount hold no refund: ingesting them again fills it.)
_V5 = f"""
UPDATE customers SET (orders, spend) = (
    SELECT SUM({counted_sql("o")}), IFNULL(SUM({net_spend_sql("o")}), 0)
    FROM orders o WHERE o.customer = customers.id)
"""

# Version 6: every other number an order is known by (an order hub's own id: Linnworks'
# Order Id 10451 for Amazon's 202-4417730-1180323), one row each, whichever export
# brought it and whether or not that export's values were kept: ``tag --order 10451``
# and ``customer 10451`` find the order after the channel's own export has replaced the
# hub's copy. ``orders.reference`` held one such number; it is copied here and no
# longer written (kept: SQLite before 3.35 cannot drop a column).
_V6 = """
CREATE TABLE order_aliases (
    id INTEGER NOT NULL,            -- orders.id
    alias TEXT NOT NULL,            -- the number, as order_id_keys writes it (no '#')
    PRIMARY KEY (id, alias)
) WITHOUT ROWID;
CREATE INDEX order_aliases_alias ON order_aliases (alias);
INSERT OR IGNORE INTO order_aliases SELECT id, reference FROM orders
    WHERE reference IS NOT NULL AND reference != ''
"""

# Version 7: the team screen:
# the accounts of ``ordertags serve`` (Argon2 hashes; the history is owner-only), the
# audit log of every change made through it or ``ordertags users``, append-only (the
# triggers refuse an update or a delete, so no one erases their own entries), and the
# exports each recording ``apply`` read (the team screen's orders of the day).
_V7_TEAM_SCREEN = """
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,             -- viewer, packer, manager, admin
    hash TEXT NOT NULL,             -- Argon2id, as argon2-cffi encodes it
    created TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,               -- ISO 8601, UTC
    who TEXT NOT NULL,
    address TEXT NOT NULL,          -- the client's address, or "command line"
    action TEXT NOT NULL,           -- tag, untag, note, link, unlink, suppress, refused...
    customer TEXT,                  -- the identity key acted on
    before TEXT, after TEXT, detail TEXT
);
CREATE INDEX audit_customer ON audit (customer, at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE applied (
    source TEXT PRIMARY KEY,        -- an export's absolute path
    at TEXT NOT NULL,               -- when the apply that last read it ran (ISO 8601, UTC)
    as_of TEXT
) WITHOUT ROWID
"""

# Version 8: the orders by their weak evidence (phone, address), so one customer's
# suspects are found from the orders sharing their phones and addresses, not the whole
# history (the team screen's customer page).
_V8 = """
CREATE INDEX IF NOT EXISTS orders_phone ON orders (phone, customer) WHERE phone IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_address ON orders (address, customer) WHERE address IS NOT NULL
"""

MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
    (7, _V7_TEAM_SCREEN),
    (8, _V8),
]


# --- helpers --------------------------------------------------------------------------


def optional_ints(values: IntArray, missing: np.ndarray[Any, Any]) -> list[Any]:
    """numpy ints -> Python list with None where ``missing``."""
    out: list[Any] = pa.array(values, mask=missing).to_pylist()
    return out


def id_list(values: IntArray) -> list[Any]:
    """Ids as a Python list, None where negative (no id)."""
    return optional_ints(values, values < 0)


def consent_codes(values: Sequence[int | None]) -> IntArray:
    """Marketing answers as stored (-1 where not said), for comparing with the held ones."""
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


def same_text(new: pa.Array, old: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Element-wise equality where two nulls are equal."""
    both_null = pc.and_(pc.is_null(new), pc.is_null(old))
    equal = pc.fill_null(pc.equal(new, old), both_null)
    return np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)


def day_of(seconds: int | None) -> dt.date | None:
    """Epoch seconds -> the date (None stays None)."""
    if seconds is None:
        return None
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))).date()


def epoch_of(day: dt.date) -> int:
    """A date -> epoch seconds at its midnight."""
    return int(
        (dt.datetime(day.year, day.month, day.day) - dt.datetime(1970, 1, 1)).total_seconds()
    )


class HistoryStore:
    """An open history database: the connection, write transactions and lookups."""

    def __init__(
        self, path: str | os.PathLike[str], conn: sqlite3.Connection, lock_timeout: float
    ) -> None:
        self.path = Path(path)
        self.conn = conn
        self.lock_timeout = lock_timeout
        self._in_write = False

    def close(self) -> None:
        self.end_snapshot()
        self.conn.close()

    def end_snapshot(self) -> None:
        """End the read transaction the reads so far were made in (see :meth:`fetch`);
        the next read starts a new one, which sees everything committed by then."""
        if self.conn.in_transaction and not self._in_write:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("COMMIT")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def failure(self, exc: sqlite3.OperationalError) -> HistoryError:
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
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the write lock is taken at once (waiting up to the lock
        timeout for another writer); an error rolls everything back."""
        if self._in_write:
            yield self.conn
            return
        # A write ends the read snapshot: SQLite cannot turn a read transaction into a
        # write one once another writer has committed, and the writes a command makes
        # (recording its orders, its tags) come before or after all its reads.
        self.end_snapshot()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self.failure(exc) from None
        self._in_write = True
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self.rollback()
            raise self.failure(exc) from None
        except BaseException:
            self.rollback()
            raise
        finally:
            self._in_write = False

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction around several writes (e.g. the slices of one export):
        all land, or none."""
        return self.writing()

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query. Outside a write, the first query opens a read transaction that
        the following ones share, so all the reads of one command see one snapshot of
        the history: an ``ingest`` committing meanwhile is seen by all of them or by
        none (an ``export`` reading customer totals before it and the copies of the
        run's orders after it would count orders twice, or take them away unadded)."""
        try:
            if not self.conn.in_transaction:
                self.conn.execute("BEGIN")
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise self.failure(exc) from None

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.fetch("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def temp_ids(self, name: str, ids: Iterable[int]) -> None:
        """Fill the temporary table ``name`` (one id column) with ``ids``."""
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
        self.conn.execute(f"DELETE FROM {name}")
        self.conn.executemany(f"INSERT OR IGNORE INTO {name} VALUES (?)", ((int(i),) for i in ids))

    def temp_keys(self, keys: list[str | None]) -> None:
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS t_keys (pos INTEGER PRIMARY KEY, key TEXT NOT NULL)"
        )
        self.conn.execute("DELETE FROM t_keys")
        self.conn.executemany(
            "INSERT INTO t_keys VALUES (?, ?)",
            ((i, k) for i, k in enumerate(keys) if k is not None),
        )

    def temp_orders(
        self,
        channels: list[str],
        order_ids: list[str],
        aliases: Sequence[str | None] | None = None,
    ) -> None:
        """Fill ``t_orders`` (pos, channel, order_id, alias: another number of the
        order, NULL where none is given)."""
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS t_orders "
            "(pos INTEGER PRIMARY KEY, channel TEXT, order_id TEXT, alias TEXT)"
        )
        self.conn.execute("DELETE FROM t_orders")
        self.conn.executemany(
            "INSERT INTO t_orders VALUES (?, ?, ?, ?)",
            zip(
                range(len(order_ids)),
                channels,
                order_ids,
                aliases if aliases is not None else [None] * len(order_ids),
                strict=True,
            ),
        )

    @property
    def region(self) -> str:
        return self.meta("region") or K.DEFAULT_REGION

    def fetch_in(self, sql: str, ids: list[int]) -> list[Any]:
        """``sql`` restricted to ``id IN ids`` (through a temporary table)."""
        self.temp_ids("t_in", ids)
        return self.fetch(f"{sql} WHERE id IN (SELECT id FROM t_in)")

    def fetch_keys(self, customers: list[int]) -> list[str]:
        return [r[0] for r in self.fetch_in("SELECT key FROM customers", customers)]


def prepare_store(history: HistoryStore, *, create: bool, region: str | None) -> None:
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
            hint=f"Point {param('workspace')} at a folder made by `ordertags init`.",
        ) from None
    if app not in (0, APPLICATION_ID) or (app == 0 and tables):
        raise HistoryError(
            "this SQLite database is not an ordertags history.",
            file=path,
            hint=f"Point {param('workspace')} at a folder made by `ordertags init`.",
        )
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"the history was written by a newer ordertags (schema version {version}; "
            f"ordertags {VERSION} reads up to version {SCHEMA_VERSION}).",
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
        raise history.failure(exc) from None
    if version < SCHEMA_VERSION:
        migrate_store(history, version)
    if region and history.meta("region") != region:
        with history.writing():
            history.set_meta("region", region)


def migrate_store(history: HistoryStore, version: int) -> None:
    conn = history.conn
    for target, script in MIGRATIONS:
        if target <= version:
            continue
        with history.writing():
            # Another process may have migrated while this one waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= target:
                continue
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {target}")
