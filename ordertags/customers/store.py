"""The history's store: the schema, its migrations, transactions and the small lookups
every part of the history uses. :mod:`ordertags.customers.ingest` writes orders into it,
:mod:`ordertags.customers.queries` reads it, and
:class:`ordertags.customers.history.History` joins the two.

It runs on the storage interface (:mod:`ordertags.storage`): a SQLite file in the
workspace (the default) or a PostgreSQL database several machines share. Either way,
readers never wait; a writer waits for another writer up to a bounded time, then gives
up with a clear message; each export is ingested in one transaction (an ``apply``
records its orders, tags and tag log in one), so an interrupted run leaves the history
as it was.

Tables (schema versioned, migrated forward on open; a history from a newer ordertags is
refused):

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
- ``alerted``: the orders each watch-list tag was told for (once each);
- ``meta``: counters and settings.

Everything an ``apply`` asks for is looked up by key for the run's customers only
(indexes on identity key, (order id, channel) and (customer, date)), so its cost does
not grow with the size of the history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.base.amounts import counted_sql, net_spend_sql
from ordertags.base.files import LOCK_TIMEOUT_S as LOCK_TIMEOUT_S  # history.py hands it on
from ordertags.storage.base import Database
from ordertags.storage.entries import ENTRIES_STEP, ENTRIES_VERSION
from ordertags.storage.sqlite import APPLICATION_ID as APPLICATION_ID  # history.py hands it on

IntArray = np.ndarray[Any, np.dtype[np.int64]]

SCHEMA_VERSION = 11
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

# Version 9: refunds and the watch list. ``orders.cancelled``: the order was cancelled,
# voided or its payment failed (its export's status said so): recorded as giving back its
# whole total, so it counts in neither orders nor spend, and left out of refunds and
# refund rates. ``alerted``: the orders a watch-list alert was given for, one row per
# order and tag, so each is told once however many runs see it again.
_V9_REFUNDS = """
ALTER TABLE orders ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE alerted (
    channel TEXT NOT NULL,
    order_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    at TEXT NOT NULL,               -- when it was told (ISO 8601, UTC)
    PRIMARY KEY (order_id, channel, tag)
)
"""


def _has_trigram_index() -> bool:
    """Whether this Python's SQLite has FTS5 with the trigram tokenizer (3.34 on)."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'trigram')")
    except sqlite3.Error:
        return False
    return True


#: What the customer page shows of a customer's orders, kept per customer as ingest
#: records them (``customer_facts``): per kind (``email``, ``ps``, ``buyer``: identity
#: ids; ``phone``, ``address``, ``name``: as on the orders; ``currency``: upper case,
#: '' where none) each value with its orders, net spend and first order date, so the
#: page of a customer with 40,000 orders reads a few rows, not every order; and the
#: customers' orders per currency (``currency_counts``: which currency most are in, the
#: one customers are ranked in), so a list need not count every order first.
FACTS = ("email", "ps", "buyer", "phone", "address", "name", "currency")


def _facts_sql(kind: str, where: str, source: str = "orders o") -> str:
    value = {
        "email": "CAST(o.email AS TEXT)",
        "ps": "CAST(o.ps AS TEXT)",
        "buyer": "CAST(o.buyer AS TEXT)",
        "currency": "upper(IFNULL(o.currency, ''))",
    }.get(kind, f"o.{kind}")
    present = "" if kind == "currency" else f" AND o.{kind} IS NOT NULL"
    return (
        "INSERT INTO customer_facts (customer, kind, value, orders, net, first_at) SELECT "
        f"o.customer, '{kind}', {value}, COUNT(*), IFNULL(SUM({net_spend_sql('o')}), 0), "
        f"MIN(o.at) FROM {source} "
        f"WHERE o.customer IS NOT NULL{where}{present} GROUP BY o.customer, {value}"
    )


#: The text a customer is found by (``customers --search``, the team screen's search):
#: ``keys``, their identity keys and the phones of their orders; ``names``, the names on
#: their orders; each value on a line of its own (a search never spans two), from
#: ``customer_facts``.
_SEARCH_TEXT = {
    "sqlite": (
        "IFNULL((SELECT group_concat(k, char(10)) FROM (SELECT key AS k FROM identities "
        "WHERE customer = c.id UNION SELECT value FROM customer_facts WHERE customer = c.id "
        "AND kind = 'phone')), ''), "
        "IFNULL((SELECT group_concat(value, char(10)) FROM customer_facts "
        "WHERE customer = c.id AND kind = 'name'), '')"
    ),
    "postgresql": (
        "COALESCE((SELECT string_agg(k, chr(10)) FROM (SELECT key AS k FROM identities "
        "WHERE customer = c.id UNION SELECT value FROM customer_facts WHERE customer = c.id "
        "AND kind = 'phone') s), ''), "
        "COALESCE((SELECT string_agg(value, chr(10)) FROM customer_facts "
        "WHERE customer = c.id AND kind = 'name'), '')"
    ),
}
_SEARCH_ID = {"sqlite": "rowid", "postgresql": "customer"}


def derived_sql(backend: str, only: str | None = None, *, scan: bool = True) -> list[str]:
    """The statements that write the facts and the search text of the customers whose
    ids the temporary table ``only`` holds (of every customer where None). ``scan``:
    read the orders in one pass of the table (many customers), not by the (customer,
    date) index, whose order costs a random read per order."""
    rid = _SEARCH_ID[backend]
    mine = f" IN (SELECT id FROM {only})" if only else ""
    # SQLite is told to read the table (PostgreSQL's planner chooses).
    source = "orders o NOT INDEXED" if scan and backend == "sqlite" else "orders o"
    counted = (  # the customers' orders per currency, taken away (-) or added (+)
        "INSERT INTO currency_counts (currency, orders) SELECT value, {sign}SUM(orders) "
        "FROM customer_facts WHERE kind = 'currency'"
        + (f" AND customer{mine}" if only else "")
        + " GROUP BY value ON CONFLICT (currency) DO UPDATE SET "
        "orders = currency_counts.orders + excluded.orders"
    )
    return [
        counted.format(sign="-") if only else "DELETE FROM currency_counts",
        "DELETE FROM customer_facts" + (f" WHERE customer{mine}" if only else ""),
        *(_facts_sql(kind, f" AND o.customer{mine}" if only else "", source) for kind in FACTS),
        counted.format(sign=""),
        "DELETE FROM customer_search" + (f" WHERE {rid}{mine}" if only else ""),
        f"INSERT INTO customer_search ({rid}, keys, names) SELECT c.id, "
        f"{_SEARCH_TEXT[backend]} FROM customers c" + (f" WHERE c.id{mine}" if only else ""),
    ]


# Version 11: the team screen at a million orders: each customer's facts (what their
# page shows of their orders: identities, phones, addresses, names and spend per
# currency, with order counts), and the customer search (``customers --search``, the
# screen's search box) by a trigram index (FTS5, tokenizer ``trigram``) over each
# customer's identity keys, phones and names, instead of a substring scan of every
# order; a plain table (the scan, of one row per customer) where this SQLite has no
# FTS5 trigrams (before 3.34). Both kept by ingest for the customers it touches.
_V11 = (
    """CREATE TABLE customer_facts (
    customer INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    orders INTEGER NOT NULL,
    net INTEGER NOT NULL,
    first_at INTEGER,
    PRIMARY KEY (customer, kind, value)
) WITHOUT ROWID;
CREATE TABLE currency_counts (currency TEXT PRIMARY KEY, orders INTEGER NOT NULL) WITHOUT ROWID;
"""
    + (
        "CREATE VIRTUAL TABLE customer_search USING fts5(keys, names, tokenize = 'trigram')"
        if _has_trigram_index()
        else "CREATE TABLE customer_search (keys TEXT NOT NULL, names TEXT NOT NULL)"
    )
    + ";\n"
    + ";\n".join(derived_sql("sqlite"))
)

MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
    (7, _V7_TEAM_SCREEN),
    (8, _V8),
    (9, _V9_REFUNDS),
    # 10: nothing in a file: its tag book holds its customer entries (PostgreSQL's
    # tagbook_entries). (Version 9: the refunds' step, above.)
    (10, ""),
    (11, _V11),
]


# PostgreSQL: the same tables at version 8, written at once (a database server's history
# starts at 8; later versions add steps to both lists). BIGINT where SQLite's INTEGER
# holds 64 bits; text compared byte by byte (COLLATE "C", as SQLite's BINARY), so lists
# and reports sort the same on both; the audit log append-only by a trigger, TRUNCATE
# included.
_PG_V8 = """
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C");
CREATE TABLE identities (
    id BIGINT PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL UNIQUE,
    kind INTEGER NOT NULL,
    customer BIGINT
);
CREATE INDEX identities_customer ON identities (customer);
CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    channel TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    at BIGINT,
    total BIGINT,
    refund BIGINT NOT NULL DEFAULT 0,
    customer BIGINT,
    email BIGINT, ps BIGINT,
    phone TEXT COLLATE "C", address TEXT COLLATE "C",
    name TEXT COLLATE "C",
    buyer BIGINT,
    currency TEXT COLLATE "C",
    consent INTEGER,
    reference TEXT COLLATE "C",
    email_text TEXT COLLATE "C",
    via TEXT COLLATE "C"
);
CREATE UNIQUE INDEX orders_key ON orders (order_id, channel);
CREATE INDEX orders_customer ON orders (customer, at, total, refund);
CREATE INDEX orders_phone ON orders (phone, customer) WHERE phone IS NOT NULL;
CREATE INDEX orders_address ON orders (address, customer) WHERE address IS NOT NULL;
CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    orders BIGINT NOT NULL,
    spend BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    first_at BIGINT,
    last_at BIGINT,
    tags TEXT COLLATE "C",
    tags_on TEXT COLLATE "C"
);
CREATE TABLE links (
    a BIGINT NOT NULL, b BIGINT NOT NULL, same INTEGER NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE TABLE tag_log (
    customer BIGINT NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
    since TEXT COLLATE "C" NOT NULL,
    until TEXT COLLATE "C"
);
CREATE INDEX tag_log_customer ON tag_log (customer, tag);
CREATE TABLE order_aliases (
    id BIGINT NOT NULL,
    alias TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (id, alias)
);
CREATE INDEX order_aliases_alias ON order_aliases (alias);
CREATE TABLE users (
    name TEXT COLLATE "C" PRIMARY KEY,
    role TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    created TEXT COLLATE "C" NOT NULL
);
CREATE TABLE audit (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    who TEXT COLLATE "C" NOT NULL,
    address TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    customer TEXT COLLATE "C",
    before TEXT COLLATE "C", after TEXT COLLATE "C", detail TEXT COLLATE "C"
);
CREATE INDEX audit_customer ON audit (customer, at);
CREATE FUNCTION ordertags_audit_append_only() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION ordertags_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION ordertags_audit_append_only();
CREATE TABLE applied (
    source TEXT COLLATE "C" PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    as_of TEXT COLLATE "C"
);
INSERT INTO meta VALUES ('next_customer', '1')
"""

# Version 11 on PostgreSQL: the facts, and the search text in a table with trigram indexes (pg_trgm,
# a trusted extension: creating it needs the CREATE right on the database; without it
# the search scans the table, one row per customer).
_PG_V11 = """CREATE TABLE customer_facts (
    customer BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    orders BIGINT NOT NULL,
    net BIGINT NOT NULL,
    first_at BIGINT,
    PRIMARY KEY (customer, kind, value)
);
CREATE TABLE currency_counts (currency TEXT COLLATE "C" PRIMARY KEY, orders BIGINT NOT NULL);
CREATE TABLE customer_search (
    customer BIGINT PRIMARY KEY,
    keys TEXT COLLATE "C" NOT NULL,
    names TEXT COLLATE "C" NOT NULL
);
DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN OTHERS THEN NULL; END $$;
DO $$ DECLARE s TEXT; BEGIN SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n \
ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'; IF s IS NOT NULL THEN \
EXECUTE 'CREATE INDEX customer_search_keys ON customer_search USING gin (keys ' \
|| quote_ident(s) || '.gin_trgm_ops)'; \
EXECUTE 'CREATE INDEX customer_search_names ON customer_search USING gin (names ' \
|| quote_ident(s) || '.gin_trgm_ops)'; END IF; END $$;
""" + ";\n".join(derived_sql("postgresql"))

# Version 9 on PostgreSQL: as SQLite's (see _V9_REFUNDS), text compared byte by byte.
_PG_V9_REFUNDS = """
ALTER TABLE orders ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE alerted (
    channel TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (order_id, channel, tag)
)
"""

# Version 10: the tag book's customer entries of a shared workspace (see
# ordertags.storage.entries).
PG_MIGRATIONS: list[tuple[int, str]] = [
    (8, _PG_V8),
    (9, _PG_V9_REFUNDS),
    (ENTRIES_VERSION, ENTRIES_STEP),
    (11, _PG_V11),
]

#: The history's tables, each with the columns a copy between backends carries (in
#: this order) and what orders its rows (``ordertags migrate``).
TABLES: list[tuple[str, tuple[str, ...], str]] = [
    ("meta", ("key", "value"), "key"),
    ("identities", ("id", "key", "kind", "customer"), "id"),
    (
        "orders",
        (
            "id",
            "channel",
            "order_id",
            "at",
            "total",
            "refund",
            "customer",
            "email",
            "ps",
            "phone",
            "address",
            "name",
            "buyer",
            "currency",
            "consent",
            "reference",
            "email_text",
            "via",
            "cancelled",
        ),
        "id",
    ),  # fmt: skip
    (
        "customers",
        (
            "id",
            "key",
            "orders",
            "spend",
            "refunds",
            "refunded",
            "first_at",
            "last_at",
            "tags",
            "tags_on",
        ),
        "id",
    ),  # fmt: skip
    ("links", ("a", "b", "same"), "a, b"),
    ("tag_log", ("customer", "tag", "since", "until"), "customer, tag, since"),
    ("order_aliases", ("id", "alias"), "id, alias"),
    ("users", ("name", "role", "hash", "created"), "name"),
    (
        "audit",
        ("id", "at", "who", "address", "action", "customer", "before", "after", "detail"),
        "id",
    ),
    ("applied", ("source", "at", "as_of"), "source"),
    ("alerted", ("channel", "order_id", "tag", "at"), "order_id, channel, tag"),
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
    """An open history: its storage (:class:`ordertags.storage.base.Database`), write
    transactions and lookups. Everything here goes through the storage interface, so it
    runs unchanged on each backend."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def where(self) -> str:
        """Where the history is, for messages (a file, or a URL without its password)."""
        return self.db.where

    @property
    def backend(self) -> str:
        return self.db.kind

    def close(self) -> None:
        self.db.close()

    def end_snapshot(self) -> None:
        """End the read snapshot the reads so far were made in (see :meth:`fetch`); the
        next read starts a new one, which sees everything committed by then."""
        self.db.end_snapshot()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writing(self) -> contextlib.AbstractContextManager[Database]:
        """One write transaction: writers one at a time (waiting up to the lock timeout
        for another); an error rolls everything back."""
        return self.db.writing()

    def transaction(self) -> contextlib.AbstractContextManager[Database]:
        """One write transaction around several writes (e.g. the slices of one export,
        or everything an ``apply`` records): all land, or none."""
        return self.db.writing()

    def rollback(self) -> None:
        self.db.rollback()

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query. Outside a write, all the reads of one command see one snapshot
        of the history: an ``ingest`` committing meanwhile is seen by all of them or by
        none (an ``export`` reading customer totals before it and the copies of the
        run's orders after it would count orders twice, or take them away unadded)."""
        return self.db.fetch(sql, params)

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.fetch("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def temp_ids(self, name: str, ids: Iterable[int]) -> None:
        """Fill the temporary table ``name`` (one id column) with ``ids``."""
        self.db.temp_table(name, "id INTEGER PRIMARY KEY")
        self.db.copy_rows(name, ("id",), ((i,) for i in sorted({int(i) for i in ids})))

    def temp_keys(self, keys: list[str | None]) -> None:
        self.db.temp_table("t_keys", "pos INTEGER PRIMARY KEY, key TEXT NOT NULL")
        self.db.copy_rows(
            "t_keys", ("pos", "key"), ((i, k) for i, k in enumerate(keys) if k is not None)
        )

    def temp_orders(
        self,
        channels: list[str],
        order_ids: list[str],
        aliases: Sequence[str | None] | None = None,
    ) -> None:
        """Fill ``t_orders`` (pos, channel, order_id, alias: another number of the
        order, NULL where none is given)."""
        self.db.temp_table(
            "t_orders", "pos INTEGER PRIMARY KEY, channel TEXT, order_id TEXT, alias TEXT"
        )
        self.db.copy_rows(
            "t_orders",
            ("pos", "channel", "order_id", "alias"),
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

    def refresh_derived(self, only: str | None = None, *, many: bool = True) -> None:
        """Write the facts and the search text again of the customers whose ids the
        temporary table ``only`` holds (of every customer where None), in the
        transaction under way; ``many``: so many that reading every order is quicker
        than reading theirs by the index."""
        for statement in derived_sql(self.backend, only, scan=many):
            self.db.execute(statement)

    def fetch_keys(self, customers: list[int]) -> list[str]:
        return [r[0] for r in self.fetch_in("SELECT key FROM customers", customers)]


def prepare_store(history: HistoryStore, *, create: bool, region: str | None) -> None:
    """Bring the history's schema to this version (or refuse one from a newer ordertags,
    or a database that is not a history), and keep ``region`` as its default."""
    steps = MIGRATIONS if history.backend == "sqlite" else PG_MIGRATIONS
    history.db.migrate(steps, SCHEMA_VERSION)
    if region and history.meta("region") != region:
        with history.writing():
            history.set_meta("region", region)
