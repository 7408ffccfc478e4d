"""The order history: every order seen, each customer's identities and aggregates.

Three modules hold it: :mod:`ordertags.customers.store` (the schema, its migrations,
transactions and lookups, on the storage interface of :mod:`ordertags.storage`),
:mod:`ordertags.customers.ingest` (recording orders, merging
customers, links) and :mod:`ordertags.customers.queries` (what runs, lists and reports
read). :class:`History` is the one object the rest of ordertags opens.
"""

from __future__ import annotations

import os
from pathlib import Path

from ordertags.base.amounts import money
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
from ordertags.storage.location import Location, open_database

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
    path: str | os.PathLike[str] | Location,
    *,
    create: bool = False,
    lock_timeout: float = LOCK_TIMEOUT_S,
    region: str | None = None,
    mode: int | None = None,
) -> History:
    """Open (with ``create``, create) a history, migrating it to this version: a SQLite
    file at ``path``, or wherever a :class:`ordertags.storage.location.Location` says (a
    PostgreSQL database).

    A history written by a newer ordertags, or a file that is not an ordertags history,
    is refused with a message saying what to do.

    >>> with open_history("new-history.sqlite", create=True) as h:
    ...     h.stats().orders
    0
    """
    location = path if isinstance(path, Location) else Location(path=Path(path))
    db = open_database(location, create=create, lock_timeout=lock_timeout, mode=mode)
    history = History(db)
    try:
        prepare_store(history, create=create, region=region)
    except BaseException:
        db.close()
        raise
    return history
