"""The PostgreSQL backend: one history shared by every machine of a business.

psycopg 3 with its connection pool (one per URL and process: the team screen's request
threads share it); COPY for bulk rows. Transactions:

- reads: one REPEATABLE READ snapshot per command (ended by ``end_snapshot``), so a
  command sees the history as it was when its first read ran, whatever commits meanwhile;
- writes: READ COMMITTED, one writer at a time per workspace (an advisory transaction
  lock keyed by the schema), so each writer reads what the one before it committed, as
  SQLite's single writer does;
- the run lock (two crons on two machines): an advisory session lock on a connection of
  its own, released when the run ends or its process dies;
- the schema: versioned steps in ``ordertags_schema``, run under the write lock, once,
  by whichever machine comes first.

A lost connection (server restarted, network gone), a statement timeout or a full disk
rolls the transaction back and becomes one :class:`ordertags.errors.HistoryError` line.
The URL's password (where ``ORDERTAGS_DATABASE`` holds one) is never shown: messages
name :func:`ordertags.storage.location.redact`'s form; libpq's own ``PGPASSWORD``,
``~/.pgpass`` and ``sslmode`` settings apply as in every PostgreSQL client.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import NumericLoader
from psycopg_pool import ConnectionPool

from ordertags.errors import BusyError, HistoryError
from ordertags.storage.base import Cursor, Database, Migration
from ordertags.storage.sqlite import refuse_newer
from ordertags.storage.urls import password_of

#: The advisory locks' names; the key is made from the name and the schema, so two
#: workspaces in two schemas of one database do not hold each other.
WRITE_LOCK = "ordertags write "
RUN_LOCK = "ordertags run "
_LOCK_KEY = "hashtextextended(%s || current_schema(), 0)"
CONNECT_TIMEOUT_S = 10

_WORDS = [
    (re.compile(r"\bIFNULL\(", re.I), "COALESCE("),
    (re.compile(r"\binstr\(", re.I), "strpos("),
    (re.compile(r"\bCROSS JOIN\b", re.I), "JOIN"),  # SQLite's "this join order" spelling
    (re.compile(r"\bLIKE\b", re.I), "ILIKE"),  # SQLite's LIKE ignores (ASCII) case
]
_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO\b", re.I)
_PIECES = re.compile(r"('(?:[^']|'')*'|\"[^\"]*\"|\$\$.*?\$\$)", re.S)


@functools.lru_cache(maxsize=1024)
def dialect(statement: str) -> str:
    """A statement in SQLite's spelling (``?`` parameters) in PostgreSQL's (``%s``): the
    few words the two spell differently, outside quoted text. Only the statement's own
    text is changed; values stay parameters.

    >>> dialect("SELECT IFNULL(a, ?) FROM t CROSS JOIN u ON u.x = t.x WHERE n LIKE '%?'")
    "SELECT COALESCE(a, %s) FROM t JOIN u ON u.x = t.x WHERE n ILIKE '%%?'"
    """
    ignore = bool(_OR_IGNORE.match(statement))
    if ignore:
        statement = re.sub(r"INSERT OR IGNORE INTO", "INSERT INTO", statement, count=1, flags=re.I)
    out = []
    for i, piece in enumerate(_PIECES.split(statement)):
        if i % 2:  # quoted: a literal, a name or a function body
            out.append(piece.replace("%", "%%"))
            continue
        piece = piece.replace("%", "%%").replace("?", "%s")
        for pattern, word in _WORDS:
            piece = pattern.sub(word, piece)
        out.append(piece)
    text = "".join(out)
    return f"{text} ON CONFLICT DO NOTHING" if ignore else text


class _WholeNumberLoader(NumericLoader):
    """SUM of integers is NUMERIC in PostgreSQL; the history only sums whole numbers
    (ten-thousandths, counts), read back as Python ints as SQLite gives them."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        return value


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", _WholeNumberLoader)


# The pool notes a connection a restarted server dropped as a warning; ordertags tells
# what failed in one line of its own, so the library's log stays quiet unless the
# program using it configures logging.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

_pools: dict[str, ConnectionPool[Any]] = {}
_pools_lock = threading.Lock()


def _connect(url: str, shown: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise HistoryError(
            f"cannot connect to the database: {first_line(exc, url)}.",
            file=shown,
            hint="Check that the server is running and the URL (ORDERTAGS_DATABASE or the "
            "workspace's settings.toml); the password comes from PGPASSWORD or ~/.pgpass.",
        ) from None
    _configure(conn)
    return conn


def _pool(url: str, shown: str) -> ConnectionPool[Any]:
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            # A first connection made here, so that a server that cannot be reached is
            # told at once in libpq's words (the pool would retry in the background).
            _connect(url, shown).close()
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=16,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                configure=_configure,
                check=ConnectionPool.check_connection,  # a server restarted meanwhile
                num_workers=1,
                open=True,
                name="ordertags",
            )
            _pools[url] = pool
        return pool


@atexit.register
def close_pools() -> None:
    """Close every pool of this process (at exit; tests between servers)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        with contextlib.suppress(Exception):
            pool.close(timeout=1)


def first_line(exc: BaseException, url: str | None = None) -> str:
    """The first line of a driver's message, without the URL's password if it shows."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    if url:
        secret = password_of(url)
        if secret:
            text = text.replace(secret, "***")
    return text


class PostgresDatabase(Database):
    kind = "postgresql"

    def __init__(self, url: str, shown: str, lock_timeout: float) -> None:
        super().__init__(shown, lock_timeout)
        self._url = url
        self._pool = _pool(url, shown)
        try:
            self.conn: psycopg.Connection[Any] = self._pool.getconn(timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # the pool's timeout: the server went away
            raise HistoryError(
                f"cannot connect to the database: {first_line(exc, url)}.", file=shown
            ) from None
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.end_snapshot()
        self.rollback()
        self._pool.putconn(self.conn)

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def _begin_read(self) -> None:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def _begin_write(self) -> None:
        self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        wait_ms = max(int(self.lock_timeout * 1000), 1)
        self.conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{wait_ms}ms",))
        self.conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})", (WRITE_LOCK,))

    def _commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.closed:
            return
        with contextlib.suppress(psycopg.Error):
            if self.in_transaction:
                self.conn.execute("ROLLBACK")

    def is_backend_error(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.Error)

    def failure(self, exc: Exception) -> HistoryError:
        said = first_line(exc, self._url)
        if isinstance(exc, pg_errors.LockNotAvailable):
            return HistoryError(
                f"the history is locked by another ordertags (waited {self.lock_timeout:g} s).",
                file=self.where,
                hint="Another ingest or apply is writing to it: try again when it has finished.",
            )
        if isinstance(exc, pg_errors.QueryCanceled):
            return HistoryError(
                f"the database stopped a statement ({said}); nothing of it was recorded.",
                file=self.where,
                hint="The server's statement_timeout is shorter than this run needs: raise "
                "it for ordertags' role, or run with fewer orders at a time.",
            )
        if isinstance(exc, pg_errors.DiskFull | pg_errors.InsufficientResources):
            return HistoryError(
                f"the database server is out of space ({said}); nothing of it was recorded.",
                file=self.where,
                hint="Free space on the database server, then run again.",
            )
        if isinstance(exc, psycopg.OperationalError) or self.conn.closed:
            return HistoryError(
                f"the connection to the database was lost ({said}); nothing of this run "
                "was recorded.",
                file=self.where,
                hint="Run again once the server is back.",
            )
        if isinstance(exc, pg_errors.InsufficientPrivilege):
            return HistoryError(
                f"the database refused: {said}.",
                file=self.where,
                hint="Grant ordertags' role the privileges docs/shared-workspace.md lists.",
            )
        return HistoryError(
            f"the history cannot be used: {said}.",
            file=self.where,
            hint="Check the database server (its log says more).",
        )

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        return self.conn.execute(dialect(statement), tuple(params))

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(dialect(statement), rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self.conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def schema_version(self) -> int:
        found = self.conn.execute("SELECT to_regclass('ordertags_schema')").fetchone()
        if found is None or found[0] is None:
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM ordertags_schema").fetchone()
        return int(row[0] or 0) if row else 0

    def migrate(self, migrations: Sequence[Migration], newest: int) -> None:
        try:
            version = self.schema_version()
            self.rollback()
        except psycopg.Error as exc:
            raise self.failure(exc) from None
        refuse_newer(version, newest, self.where, "the database")
        if version >= newest:
            return  # the daily case: no lock, no DDL (a cron role may not have the right)
        with self.writing():
            # Under the write lock: another machine may have migrated meanwhile.
            self.execute("CREATE TABLE IF NOT EXISTS ordertags_schema (version INTEGER NOT NULL)")
            version = self.schema_version()
            refuse_newer(version, newest, self.where, "the database")
            for target, script in migrations:
                if target <= version:
                    continue
                for statement in script.split(";\n"):
                    if statement.strip():
                        self.execute(statement)
                self.execute("INSERT INTO ordertags_schema VALUES (?)", (target,))

    def secondary_indexes(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        # PostgreSQL keeps its indexes up as rows arrive at little cost, and dropping one
        # needs the table's owner (the daily cron role is not): none are deferred.
        return []

    def after_copy(self, table: str) -> None:
        identity = self.fetch(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND column_name = 'id' AND is_identity = 'YES'",
            (table,),
        )
        if identity:
            # The identity's sequence goes on after the copied ids.
            self.conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "(SELECT COALESCE(MAX(id), 0) + 1 FROM {}), false)"
                ).format(sql.Identifier(table)),
                (table,),
            )

    def size_bytes(self) -> int:
        row = self.fetch(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
        return int(row[0][0])

    def compact(self) -> None:
        self.end_snapshot()
        with contextlib.suppress(psycopg.Error):  # only the owner may; others skip it
            self.conn.execute("VACUUM")


def open_postgresql(url: str, shown: str, *, lock_timeout: float) -> PostgresDatabase:
    return PostgresDatabase(url, shown, lock_timeout)


@contextlib.contextmanager
def run_lock(url: str, shown: str, wait: float, where: str) -> Iterator[None]:
    """Hold the workspace's database for one recording run: the advisory session lock
    of its schema, on a connection of its own (released when the run ends, or by the
    server when the process dies). A second run waits up to ``wait`` seconds, then gives
    up with :class:`ordertags.errors.BusyError`."""
    conn = _connect(url, shown)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                got = conn.execute(
                    f"SELECT pg_try_advisory_lock({_LOCK_KEY})", (RUN_LOCK,)
                ).fetchone()
            except psycopg.Error as exc:
                raise HistoryError(
                    f"the connection to the database was lost ({first_line(exc, url)}).",
                    file=shown,
                    hint="Run again once the server is back.",
                ) from None
            if got and got[0]:
                break
            if time.monotonic() >= deadline:
                raise BusyError(
                    f"another ordertags run is using the workspace {where} (waited "
                    f"{wait:g} s); this run did nothing.",
                    hint="It will be done by the next run; if this happens every time, runs "
                    "take longer than the cron interval: run less often, or give --wait "
                    "more seconds.",
                )
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.close()  # the session lock goes with the session
