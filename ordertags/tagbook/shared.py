"""The tag book of a shared workspace: its customer entries in the database.

A workspace whose history is on PostgreSQL keeps the customers tagged by hand in the
database (:mod:`ordertags.storage.entries`), so that a tag set on one machine is seen
by every machine at once; tag definitions, links, suppressions and the rules stay in
the YAML files. The workspace's ``tagbook.yaml`` is read as a whole book: the entries
its ``customers:`` list still holds (written by hand), then the database's. An edit is
worked out once on that book (:mod:`ordertags.tagbook.changes`); the changes to the
database's entries, and every new entry, go to the database (:class:`DatabaseEntries`),
the rest to the file, in one transaction under the database's write lock. With SQLite,
nothing of this applies: the file holds everything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ordertags.base.files import LOCK_TIMEOUT_S
from ordertags.errors import HistoryError, TagBookError
from ordertags.storage import entries as stored
from ordertags.storage.base import Database
from ordertags.storage.location import Location, locate, open_database, read_settings
from ordertags.tagbook.changes import AppendEntry, Change, RemoveEntry, SetTags, SetValue
from ordertags.tagbook.model import (
    IDENTITY_FIELDS,
    KIND_TEXT,
    Entry,
    TagBook,
    entry_key,
    parse_date,
)

#: The workspace's tag book and its history file (as :mod:`ordertags.customers.workspace`
#: names them): only that book, in a folder that is a workspace, is shared.
BOOK_NAME = "tagbook.yaml"
HISTORY_FILE = "history.sqlite"


def shared_location(path: str | Path) -> Location | None:
    """The database holding the customer entries of the tag book at ``path``: its
    workspace's database when the book is a shared workspace's ``tagbook.yaml``, else
    None (the file holds them)."""
    book = Path(path)
    if book.name != BOOK_NAME:
        return None
    root = book.parent
    named = read_settings(root).get("database") if (root / "settings.toml").is_file() else None
    if not named and not (root / HISTORY_FILE).is_file():
        return None  # not a workspace
    location = locate(root, HISTORY_FILE)
    return location if location.url else None


@contextlib.contextmanager
def opened(location: Location) -> Iterator[Database]:
    db = open_database(location, lock_timeout=LOCK_TIMEOUT_S)
    try:
        yield db
    finally:
        db.close()


def entry_of(row: stored.EntryRow, book: TagBook) -> Entry:
    """A stored entry as the model's, its tags in the tag book's spelling (checked)."""
    where = f"the database's entry for {row.identity}"
    key = entry_key(row.kind, row.identity) if row.kind in IDENTITY_FIELDS else None
    if key is None:
        raise TagBookError(
            f'"{row.identity}" in {where} is not {KIND_TEXT.get(row.kind, "an identity")}.',
            file=book.path,
            hint="Correct it: `ordertags tagbook export`, edit, `ordertags tagbook import`.",
        )
    tags = tuple(
        book.tag_named(t, error=TagBookError, said=f'tag "{t}" ({where})') for t in row.tags
    )
    return Entry(
        identity=row.identity,
        kind=row.kind,
        key=key,
        tags=tags,
        note=row.note,
        by=row.by,
        at=row.at,
        expires=parse_date(row.expires, what="expires", file=book.path) if row.expires else None,
    )


def merged(book: TagBook, rows: list[stored.EntryRow]) -> TagBook:
    """The book with the database's entries after the file's."""
    return TagBook(
        book.path,
        book.tags,
        [*book.entries, *(entry_of(r, book) for r in rows)],
        book.links,
        book.suppressed,
    )


def with_database_entries(book: TagBook, location: Location) -> TagBook:
    """The book a shared workspace's commands see (see the module's docstring)."""
    with opened(location) as db:
        return merged(book, stored.read_entries(db))


def record_of(entry: Entry) -> dict[str, Any]:
    """An entry as a ``customers:`` item of the YAML tag book (keys in their order)."""
    record: dict[str, Any] = {entry.kind: entry.identity, "tags": list(entry.tags)}
    for key, value in (("note", entry.note), ("by", entry.by), ("at", entry.at)):
        if value is not None:
            record[key] = value
    if entry.expires is not None:
        record["expires"] = entry.expires.isoformat()
    return record


def row_of(record: dict[str, Any]) -> stored.EntryRow:
    """A new entry's record (see :class:`ordertags.tagbook.changes.AppendEntry`) as a row."""
    kind = next(k for k in IDENTITY_FIELDS if k in record)

    def text(key: str) -> str | None:
        value = record.get(key)
        return None if value is None else str(value)

    return stored.EntryRow(
        0,
        kind,
        str(record[kind]),
        tuple(str(t) for t in record["tags"]),
        text("note"),
        text("by"),
        text("at"),
        text("expires"),
    )


class DatabaseEntries:
    """Applies the changes of an edit to the database's entries; ``ids`` are the ids
    of the entries the edit's book lists after the file's ``first`` ones."""

    def __init__(self, db: Database, ids: list[int], first: int) -> None:
        self.db = db
        self.ids = ids
        self.first = first

    def owns(self, change: Change) -> bool:
        """Is ``change`` the database's to make (else the file's)?"""
        if isinstance(change, AppendEntry):
            return True
        if isinstance(change, RemoveEntry | SetTags | SetValue):
            return change.index >= self.first
        return False

    def apply(self, changes: list[Change]) -> None:
        new: list[stored.EntryRow] = []
        for change in changes:
            if isinstance(change, AppendEntry):
                new.append(row_of(change.record))
                continue
            assert isinstance(change, RemoveEntry | SetTags | SetValue)
            entry_id = self.ids[change.index - self.first]
            if isinstance(change, RemoveEntry):
                stored.delete_entry(self.db, entry_id)
            elif isinstance(change, SetTags):
                stored.set_tags(self.db, entry_id, change.tags)
            elif change.key == "note":
                stored.set_note(self.db, entry_id, change.value)
            elif change.key == "expires":
                stored.set_expires(self.db, entry_id, change.value)
            else:  # pragma: no cover - the edits set only these two
                raise ValueError(change.key)
        if new:
            stored.insert_entries(self.db, new)


@contextlib.contextmanager
def database_edit(location: Location, book: TagBook) -> Iterator[tuple[TagBook, DatabaseEntries]]:
    """One transaction on the database's entries under its write lock: the book with
    them merged in, and the writer of the edit's changes to them (committed when the
    block ends without an error)."""
    with opened(location) as db, db.writing():
        if not stored.has_entries_table(db):
            raise HistoryError(
                "the workspace's database has no place for the tag book's entries yet "
                "(its schema is older than this ordertags).",
                file=db.where,
                hint="Run `ordertags customers` once as the database's owner: it brings the "
                "schema up to date; then edit the tag book again.",
            )
        rows = stored.read_entries(db)
        yield merged(book, rows), DatabaseEntries(db, [r.id for r in rows], len(book.entries))


def stored_entries(location: Location, book: TagBook) -> list[Entry]:
    """The database's entries alone (``migrate`` back to a file)."""
    with opened(location) as db:
        return [replace(entry_of(r, book), line=None) for r in stored.read_entries(db)]
