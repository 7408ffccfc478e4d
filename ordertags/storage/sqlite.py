"""The SQLite backend: the history as one file in the workspace (the default).

An embedded database (standard library, no server) in WAL mode, so a cron ``apply``, an
``ingest`` and a person reading the history never block or corrupt each other: readers
never wait; a writer waits for another writer up to a bounded time, then gives up with a
clear message. The schema version is ``PRAGMA user_version``; ``application_id`` marks
the file as an ordertags history.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ordertags.base.files import create_private
from ordertags.base.version import VERSION
from ordertags.errors import HistoryError, param
from ordertags.storage.base import Cursor, Database, Migration

APPLICATION_ID = 0x4F544147  # "OTAG": an ordertags history, not some other SQLite file


class SQLiteDatabase(Database):
    kind = "sqlite"

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_timeout: float) -> None:
        super().__init__(str(path), lock_timeout)
        self.path = path
        self.conn = conn

    def close(self) -> None:
        self.end_snapshot()
        self.conn.close()

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def _begin_read(self) -> None:
        self.conn.execute("BEGIN")

    def _begin_write(self) -> None:
        # The write lock at once (waiting up to the lock timeout for another writer).
        self.conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")

    def is_backend_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def failure(self, exc: Exception) -> HistoryError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return HistoryError(
                f"the history is locked by another ordertags (waited {self.lock_timeout:g} s).",
                file=self.where,
                hint="Another ingest or apply is writing to it: try again when it has "
                "finished. If none is running, check that nothing else holds the file "
                "open.",
            )
        return HistoryError(
            f"the history cannot be used: {text}.",
            file=self.where,
            hint="Check the file and the disk (space, permissions).",
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, migrations: Sequence[Migration], newest: int) -> None:
        conn = self.conn
        try:
            version = self.schema_version()
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                f"this is not an ordertags history ({exc}).",
                file=self.where,
                hint=f"Point {param('workspace')} at a folder made by `ordertags init`.",
            ) from None
        if app not in (0, APPLICATION_ID) or (app == 0 and tables):
            raise HistoryError(
                "this SQLite database is not an ordertags history.",
                file=self.where,
                hint=f"Point {param('workspace')} at a folder made by `ordertags init`.",
            )
        refuse_newer(version, newest, self.where)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -262144")  # 256 MiB, used only as pages are read
        except sqlite3.OperationalError as exc:
            raise self.failure(exc) from None
        for target, script in migrations:
            if target <= version:
                continue
            with self.writing():
                # Another process may have migrated while this one waited for the lock.
                if self.schema_version() >= target:
                    continue
                for statement in script.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
                conn.execute(f"PRAGMA user_version = {int(target):d}")

    def secondary_indexes(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        marks = ", ".join("?" * len(tables))
        rows = self.fetch(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            tables,
        )
        return [(str(name), str(sql)) for name, sql in rows]

    def size_bytes(self) -> int:
        files = (self.path, Path(f"{self.path}-wal"))
        return sum(os.path.getsize(p) for p in files if os.path.exists(p))

    def wipe_deleted(self) -> None:
        self.conn.execute("PRAGMA secure_delete = ON")  # the freed pages wiped

    def compact(self) -> None:
        self.end_snapshot()
        self.conn.execute("VACUUM")

    def limit_cache(self, kib: int) -> None:
        self.conn.execute(f"PRAGMA cache_size = -{int(kib):d}")


def refuse_newer(version: int, newest: int, where: str, what: str = "the file") -> None:
    if version > newest:
        raise HistoryError(
            f"the history was written by a newer ordertags (schema version {version}; "
            f"ordertags {VERSION} reads up to version {newest}).",
            file=where,
            hint="Upgrade ordertags (pip install -U ordertags); this version will not "
            f"touch {what}.",
        )


def open_sqlite(
    path: str | os.PathLike[str],
    *,
    create: bool,
    lock_timeout: float,
    mode: int | None = None,
    read_only: bool = False,
) -> SQLiteDatabase:
    """Open (with ``create``, create owner-only or ``mode``) a history file."""
    p = Path(path)
    if not create and not p.exists():
        raise HistoryError(
            "no history database here.",
            file=str(p),
            hint="Create a workspace with `ordertags init DIR`.",
        )
    try:
        if read_only:
            conn = sqlite3.connect(
                f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=5, isolation_level=None
            )
        else:
            if create:
                # Owner-only (or ``mode``) from the start; SQLite gives its -wal and -shm
                # files the database file's mode.
                create_private(p, mode)
            conn = sqlite3.connect(
                str(p), timeout=lock_timeout, isolation_level=None, check_same_thread=False
            )
    except (sqlite3.Error, OSError) as exc:
        raise HistoryError(
            f"cannot open the history: {exc}.",
            file=str(p),
            hint="Check the path and its permissions.",
        ) from None
    return SQLiteDatabase(p, conn, lock_timeout)
