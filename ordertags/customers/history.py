"""The order history: every order seen, each customer's identities and aggregates.

Three modules hold it: :mod:`ordertags.customers.store` (the SQLite schema, migrations
and transactions), :mod:`ordertags.customers.ingest` (recording orders, merging
customers, links) and :mod:`ordertags.customers.queries` (what runs, lists and reports
read). :class:`History` is the one object the rest of ordertags opens.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ordertags.base.amounts import money
from ordertags.base.files import create_private
from ordertags.customers.ingest import IngestReport, PruneReport
from ordertags.customers.queries import (
    Aggregates,
    CustomerReport,
    CustomerRow,
    HistoryQueries,
    ListFigures,
    Recorded,
    SpendBasis,
    Stats,
)
from ordertags.customers.store import (
    APPLICATION_ID,
    LOCK_TIMEOUT_S,
    MIGRATIONS,
    NONE,
    SCHEMA_VERSION,
    prepare_store,
)
from ordertags.errors import HistoryError

__all__ = [
    "APPLICATION_ID",
    "LOCK_TIMEOUT_S",
    "MIGRATIONS",
    "NONE",
    "SCHEMA_VERSION",
    "Aggregates",
    "CustomerReport",
    "CustomerRow",
    "History",
    "IngestReport",
    "ListFigures",
    "PruneReport",
    "Recorded",
    "SpendBasis",
    "Stats",
    "money",
    "open_history",
]


class History(HistoryQueries):
    """An open history database. Use :func:`open_history`.

    >>> with open_history("shop/history.sqlite") as h:
    ...     print(h.stats().orders)
    16
    """


def open_history(
    path: str | os.PathLike[str],
    *,
    create: bool = False,
    lock_timeout: float = LOCK_TIMEOUT_S,
    region: str | None = None,
    mode: int | None = None,
) -> History:
    """Open (with ``create``, create) a history database, migrating it to this version.

    A history written by a newer ordertags, or a file that is not an ordertags history,
    is refused with a message saying what to do.

    >>> with open_history("new-history.sqlite", create=True) as h:
    ...     h.stats().orders
    0
    """
    p = Path(path)
    if not create and not p.exists():
        raise HistoryError(
            "no history database here.",
            file=str(p),
            hint="Create a workspace with `ordertags init DIR`.",
        )
    try:
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
    history = History(p, conn, lock_timeout)
    try:
        prepare_store(history, create=create, region=region)
    except BaseException:
        conn.close()
        raise
    return history
