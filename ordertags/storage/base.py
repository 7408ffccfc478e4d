"""The storage interface: what every backend of the workspace's memory provides.

A :class:`Database` is one open connection to the history, with:

- ``fetch``: a query; outside a write, the reads of one command share one snapshot
  (SQLite: one read transaction; PostgreSQL: REPEATABLE READ), ended by ``end_snapshot``;
- ``writing``: one write transaction (all or nothing), writers one at a time (SQLite's
  write lock; a PostgreSQL advisory transaction lock), reading what is committed;
- ``execute``/``executemany`` inside a write, ``copy_rows`` for bulk rows (PostgreSQL's
  COPY), temporary tables of ids and keys;
- ``migrate``: versioned schema steps, each run once whichever machine comes first;
- ``secondary_indexes``/``compact``/``limit_cache``: the maintenance a backend may do.

SQL is written once, in SQLite's spelling with ``?`` parameters; a backend turns the few
words the two spell differently into its own (:func:`ordertags.storage.postgresql.dialect`).
Values only ever travel as parameters; the only names put into SQL text are the
history's own constants (tables, columns), never data.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, Self

from ordertags.errors import HistoryError

#: One schema step: (version reached, SQL script of statements separated by ";\n").
Migration = tuple[int, str]


class Cursor(Protocol):
    """What an executed statement gives back (the DB-API subset used)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Database(ABC):
    """One open connection to a workspace's history (see the module's docstring)."""

    #: "sqlite" or "postgresql": the backend, for the few things written per backend.
    kind: str = ""

    def __init__(self, where: str, lock_timeout: float) -> None:
        #: Where the history is, for messages: a file, or a URL without its password.
        self.where = where
        self.lock_timeout = lock_timeout
        self._in_write = False

    # --- connection and transactions ----------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """End any snapshot and close (or give back) the connection."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...

    @property
    def in_write(self) -> bool:
        return self._in_write

    @abstractmethod
    def _begin_read(self) -> None:
        """Start the read snapshot the following reads share."""

    @abstractmethod
    def _begin_write(self) -> None:
        """Start a write transaction, waiting up to ``lock_timeout`` for another writer."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None:
        """Roll back whatever transaction is open (never fails)."""

    @abstractmethod
    def failure(self, exc: Exception) -> HistoryError:
        """The one-line error a backend's exception stands for (locked, lost, full...)."""

    @abstractmethod
    def is_backend_error(self, exc: BaseException) -> bool:
        """Is ``exc`` an error of this backend's driver (to be told as :meth:`failure`)?"""

    def end_snapshot(self) -> None:
        """End the read snapshot the reads so far were made in; the next read starts a
        new one, which sees everything committed by then."""
        if self.in_transaction and not self._in_write:
            with contextlib.suppress(Exception):
                self._commit()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Self]:
        """One write transaction; nested ones join it; an error rolls everything back."""
        if self._in_write:
            yield self
            return
        # A write ends the read snapshot: the writes a command makes (recording its
        # orders, its tags) come before or after all its reads, and a writer must read
        # what other writers committed.
        self.end_snapshot()
        try:
            self._begin_write()
        except Exception as exc:
            self.rollback()
            if self.is_backend_error(exc):
                raise self.failure(exc) from None
            raise
        self._in_write = True
        try:
            yield self
            self._commit()
        except Exception as exc:
            self.rollback()
            if self.is_backend_error(exc):
                raise self.failure(exc) from None
            raise
        except BaseException:
            self.rollback()
            raise
        finally:
            self._in_write = False

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query and return its rows. Outside a write, the first query opens a
        snapshot that the following ones share, so all the reads of one command see one
        state of the history (an ``ingest`` committing meanwhile is seen by all of them
        or by none)."""
        try:
            if not self.in_transaction:
                self._begin_read()
            return self.execute(sql, params).fetchall()
        except Exception as exc:
            if self.is_backend_error(exc):
                self.rollback()
                raise self.failure(exc) from None
            raise

    # --- statements -----------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement (``?`` parameters) in the current transaction."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    @abstractmethod
    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert many rows into ``table`` (the fastest way the backend has: COPY)."""

    def temp_table(self, name: str, columns: str) -> None:
        """Create (if missing) and empty the temporary table ``name``; ``columns`` is its
        column list, one of the history's constants."""
        self.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        self.execute(f"DELETE FROM {name}")

    # --- schema and maintenance -----------------------------------------------------

    @abstractmethod
    def migrate(self, migrations: Sequence[Migration], newest: int) -> None:
        """Bring the schema to ``newest``, each step once (another machine may have run
        it while this one waited), or refuse a history from a newer ordertags."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def secondary_indexes(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the indexes of ``tables`` other than the ones
        their constraints own."""

    @abstractmethod
    def compact(self) -> None:
        """Give the space of deleted rows back (outside any transaction)."""

    @abstractmethod
    def size_bytes(self) -> int:
        """How much room the history takes (its file, or its tables on the server)."""

    def after_copy(self, table: str) -> None:  # noqa: B027 (optional: nothing by default)
        """After rows with their own ids were copied into ``table``: let the ids the
        database gives next follow them."""

    def wipe_deleted(self) -> None:  # noqa: B027 (optional: nothing by default)
        """Overwrite what the following deletes free (personal data: ``prune``)."""

    def limit_cache(self, kib: int) -> None:  # noqa: B027 (optional: nothing by default)
        """Keep this connection's page cache to ``kib`` KiB (a server's many threads)."""
