"""Moving a workspace's history between storage backends (``ordertags migrate``): from
its SQLite file to a PostgreSQL database shared by several machines, and back.

Every table is copied from one snapshot of the source while the workspace's run lock is
held (no ``apply`` or ``ingest`` lands meanwhile), in one transaction of the target;
the row counts of each table are compared before it commits; only then does the
workspace switch (its settings file names the database, or no longer does). The old
SQLite file is kept beside, renamed (``history.sqlite-migrated``), never deleted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordertags.customers.history import History, open_history
from ordertags.customers.store import TABLES
from ordertags.customers.workspace import HISTORY_NAME, Workspace, run_lock
from ordertags.errors import HistoryError, UsageError
from ordertags.storage.location import (
    DATABASE_VAR,
    Location,
    check_url,
    redact,
    write_settings,
)
from ordertags.tagbook.transfer import move_entries

#: What the SQLite file is renamed to once the history has moved to a database (still
#: matched by the workspace's .gitignore: it holds personal data).
MOVED_NAME = "history.sqlite-migrated"
#: Rows read and written at a time (ids in a range of this size).
CHUNK = 100_000


@dataclass
class MigrateReport:
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    kept: str | None = None  # where the old SQLite file is now
    entries: int = 0  # customer entries of the tag book moved (file <-> database)


def _rows(history: History, table: str, columns: tuple[str, ...], order: str) -> Iterator[Any]:
    """The table's rows in order, a range of ids at a time (memory stays bounded)."""
    cols = ", ".join(columns)
    first = order.split(",")[0].strip()
    if first not in ("id", "a", "customer"):  # small tables keyed by text
        yield from history.fetch(f"SELECT {cols} FROM {table} ORDER BY {order}")
        return
    low, high = history.fetch(f"SELECT MIN({first}), MAX({first}) FROM {table}")[0]
    if low is None:
        return
    start = int(low)
    while start <= int(high):
        yield from history.fetch(
            f"SELECT {cols} FROM {table} WHERE {first} >= ? AND {first} < ? ORDER BY {order}",
            (start, start + CHUNK),
        )
        start += CHUNK


def _is_empty(history: History) -> bool:
    return not any(
        history.fetch(f"SELECT 1 FROM {table} LIMIT 1")
        for table in ("orders", "identities", "customers", "links", "users", "audit")
    )


def copy_history(source: History, target: History) -> dict[str, int]:
    """Copy every table of ``source`` into the empty history ``target`` in one
    transaction, checking each table's row count before it commits, and write the
    target's search index from the copy."""
    if not _is_empty(target):
        raise HistoryError(
            "the target already holds a history (orders, customers or accounts).",
            file=target.where,
            hint="Give an empty database (or schema), or drop what it holds first.",
        )
    counts: dict[str, int] = {}
    with target.transaction() as db:
        for table, columns, order in TABLES:
            if table != "audit":  # append-only (and empty: checked above)
                db.execute(f"DELETE FROM {table}")
            db.copy_rows(table, columns, _rows(source, table, columns, order))
            db.after_copy(table)
            want = int(source.fetch(f"SELECT COUNT(*) FROM {table}")[0][0])
            got = int(target.fetch(f"SELECT COUNT(*) FROM {table}")[0][0])
            if want != got:
                raise HistoryError(
                    f"the copy of {table} holds {got:,} rows, the history {want:,}; nothing "
                    "was changed.",
                    file=target.where,
                    hint="Run again; if it happens again, check the target's server log.",
                )
            counts[table] = got
        # The search index is the target's own kind (FTS5 or pg_trgm): written afresh
        # from what was copied, not copied.
        target.refresh_derived()
    return counts


def _target(ws: Workspace, to: str) -> Location:
    if to.strip().lower() in ("sqlite", HISTORY_NAME):
        return Location(path=ws.history_path)
    return Location(url=check_url(to))


def migrate_workspace(ws: Workspace, to: str, *, wait: float | None = None) -> MigrateReport:
    """Move the workspace's history to ``to`` (a PostgreSQL URL without a password, or
    ``sqlite`` for the workspace's own file) and switch the workspace to it.

    >>> migrate_workspace(Workspace("shop"), "sqlite")
    Traceback (most recent call last):
    ...
    ordertags.errors.UsageError: the workspace's history is already in .../history.sqlite. ...
    """
    if os.environ.get(DATABASE_VAR):
        raise UsageError(
            f"{DATABASE_VAR} is set: it names the database whatever the workspace says.",
            hint=f"Unset {DATABASE_VAR} to migrate, and set it again (to the new place) after.",
        )
    source = ws.location
    target = _target(ws, to)
    if (source.url, source.path) == (target.url, target.path):
        raise UsageError(
            f"the workspace's history is already in {target.shown}.",
            hint="Give --to another database, or `sqlite` for the workspace's own file.",
        )
    if target.path is not None and target.path.exists():
        raise UsageError(
            f"{target.path} already exists.",
            hint="Move it away (it may be an older copy of the history), then run again.",
        )
    report = MigrateReport(source=source.shown, target=target.shown)
    with run_lock(ws, wait):
        with open_history(source) as src, open_history(target, create=True) as dst:
            report.counts = copy_history(src, dst)
        if ws.tagbook.exists():
            # The tag book's customer entries follow the history: into the database,
            # or back into the file.
            report.entries = move_entries(
                ws.tagbook, source if source.url else None, target if target.url else None
            )
        write_settings(ws.root, target.url)
    if source.path is not None:
        moved = ws.root / MOVED_NAME
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{source.path}{suffix}")
            if old.exists():
                old.rename(Path(f"{moved}{suffix}") if suffix else moved)
        report.kept = str(moved)
    return report


__all__ = ["MOVED_NAME", "MigrateReport", "copy_history", "migrate_workspace", "redact"]
