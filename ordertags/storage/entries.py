"""The tag book's customer entries in a shared workspace's database.

In a workspace whose history is on PostgreSQL, the customers tagged by hand (tags, note,
who set them and when, expiry) live in the ``tagbook_entries`` table, so that a tag set
on one machine is seen by every machine at once; the tag definitions and the rules stay
YAML files. :mod:`ordertags.tagbook.shared` reads and edits them through the functions
here (the only SQL of the tag book); every write runs inside the caller's
:meth:`ordertags.storage.base.Database.writing` transaction (the advisory write lock).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ordertags.storage.base import Database

#: The schema version that adds the table (the history's versioned steps,
#: :data:`ordertags.customers.store.PG_MIGRATIONS`, include :data:`ENTRIES_STEP`).
ENTRIES_VERSION = 10

ENTRIES_STEP = """
CREATE TABLE tagbook_entries (
    id BIGINT PRIMARY KEY,          -- the entries' order (as a tag book lists them)
    kind TEXT COLLATE "C" NOT NULL, -- email, phone, id or address
    identity TEXT COLLATE "C" NOT NULL,
    tags TEXT COLLATE "C" NOT NULL, -- a JSON list of tag names, as the tag book spells them
    note TEXT COLLATE "C",
    set_by TEXT COLLATE "C",
    set_at TEXT COLLATE "C",
    expires TEXT COLLATE "C"        -- YYYY-MM-DD
);
CREATE INDEX tagbook_entries_identity ON tagbook_entries (identity)
"""


@dataclass(frozen=True)
class EntryRow:
    """One stored entry, as written (``tags`` in the tag book's spelling)."""

    id: int
    kind: str
    identity: str
    tags: tuple[str, ...]
    note: str | None = None
    by: str | None = None
    at: str | None = None
    expires: str | None = None


def has_entries_table(db: Database) -> bool:
    return db.schema_version() >= ENTRIES_VERSION


def read_entries(db: Database) -> list[EntryRow]:
    """Every stored entry, in order (none before the schema has the table)."""
    if not has_entries_table(db):
        return []
    rows = db.fetch(
        "SELECT id, kind, identity, tags, note, set_by, set_at, expires "
        "FROM tagbook_entries ORDER BY id"
    )
    return [
        EntryRow(int(r[0]), r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7])
        for r in rows
    ]


def insert_entries(db: Database, rows: Iterable[EntryRow]) -> None:
    """Add entries after the last one (their ``id`` is given here)."""
    found = db.fetch("SELECT COALESCE(MAX(id), 0) FROM tagbook_entries")
    after = int(found[0][0]) if found else 0
    db.executemany(
        "INSERT INTO tagbook_entries (id, kind, identity, tags, note, set_by, set_at, expires) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (after + n, r.kind, r.identity, json.dumps(list(r.tags)), r.note, r.by, r.at, r.expires)
            for n, r in enumerate(rows, start=1)
        ],
    )


def delete_entry(db: Database, entry_id: int) -> None:
    db.execute("DELETE FROM tagbook_entries WHERE id = ?", (entry_id,))


def set_tags(db: Database, entry_id: int, tags: Iterable[str]) -> None:
    db.execute(
        "UPDATE tagbook_entries SET tags = ? WHERE id = ?", (json.dumps(list(tags)), entry_id)
    )


def set_note(db: Database, entry_id: int, note: str | None) -> None:
    db.execute("UPDATE tagbook_entries SET note = ? WHERE id = ?", (note, entry_id))


def set_expires(db: Database, entry_id: int, expires: str | None) -> None:
    db.execute("UPDATE tagbook_entries SET expires = ? WHERE id = ?", (expires, entry_id))
