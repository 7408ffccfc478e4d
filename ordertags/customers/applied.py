"""Which exports each recording ``apply`` read, and when: the team screen shows the
orders of the latest apply of each export, and refreshes when a new one lands."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ordertags.customers.history import History


@dataclass(frozen=True)
class Applied:
    source: str  # the export's absolute path
    at: str  # ISO 8601, UTC
    as_of: str | None


def record_applied(history: History, sources: Sequence[str], as_of: dt.date | None) -> None:
    """Note that an apply read ``sources`` now (standard input and the like are left out)."""
    paths = [os.path.abspath(s) for s in sources if s and s != "-" and os.path.isfile(s)]
    if not paths:
        return
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    day = as_of.isoformat() if as_of else None
    with history.writing() as conn:
        conn.executemany(
            "INSERT INTO applied VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE "
            "SET at = excluded.at, as_of = excluded.as_of",
            ((p, now, day) for p in paths),
        )


def applied_exports(history: History) -> list[Applied]:
    """The exports of the latest apply's day (UTC), each as its latest apply read it,
    newest first."""
    rows = history.fetch("SELECT source, at, as_of FROM applied ORDER BY at DESC")
    if not rows:
        return []
    day = rows[0][1][:10]
    return [Applied(*r) for r in rows if r[1][:10] == day]


def last_applied(history: History) -> str:
    """When the latest apply ran ("" if none): a cheap stamp for "has anything changed"."""
    row = history.fetch("SELECT MAX(at) FROM applied")
    return str(row[0][0] or "")
