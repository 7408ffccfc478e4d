"""The tag book's customer entries as a YAML file of their own: ``ordertags tagbook
export`` writes them as the tag book's ``customers:`` list, ``ordertags tagbook import``
makes the workspace's entries those of such a file (a diff first; importing the same
file again changes nothing). Both see the entries as every command does (a shared
workspace's from its database, see :mod:`ordertags.tagbook.shared`), and an import is
one edit of the book, made by :func:`ordertags.tagbook.store.edit_book`; so the two are
the same on both backends. ``ordertags migrate`` moves the entries between the file and
the database with :func:`move_entries`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ordertags.base.yamlfiles import decode_text, line_of, load_yaml_nodes, read_bytes
from ordertags.errors import TagBookError
from ordertags.storage.location import Location
from ordertags.tagbook.changes import AppendEntry, Change, RemoveEntry
from ordertags.tagbook.model import (
    IDENTITY_FIELDS,
    KIND_HINT,
    KIND_TEXT,
    Entry,
    TagBook,
    entry_key,
    parse_date,
)
from ordertags.tagbook.reader import entry_fits, load_tagbook
from ordertags.tagbook.shared import record_of, stored_entries
from ordertags.tagbook.store import edit_book
from ordertags.tagbook.textwriter import fits_schema

EXPORT_HEAD = """\
# Customers tagged by hand, as `ordertags tagbook export` wrote them; read back with
# `ordertags tagbook import FILE` (a diff first; --dry-run shows it only).
"""


def export_entries(tagbook: str | os.PathLike[str]) -> str:
    """The tag book's customer entries as YAML: a ``customers:`` list as the tag book
    writes it (a shared workspace's entries from its database)."""
    records = [record_of(e) for e in load_tagbook(tagbook).entries]
    body: str = yaml.safe_dump(
        {"customers": records}, sort_keys=False, allow_unicode=True, default_flow_style=None
    )
    return EXPORT_HEAD + body


@dataclass
class ImportReport:
    """What an import changed (or, with ``dry_run``, would change): entries added and
    removed, each as one line (an entry changed is one of each)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def diff(self) -> list[str]:
        return [f"- {line}" for line in self.removed] + [f"+ {line}" for line in self.added]


Same = tuple[str, str, tuple[str, ...], str | None, str | None, str | None, str | None]


def _same(entry: Entry) -> Same:
    """What makes two entries the same entry."""
    expires = entry.expires.isoformat() if entry.expires else None
    return (entry.kind, entry.identity, entry.tags, entry.note, entry.by, entry.at, expires)


def shown(entry: Entry) -> str:
    """One entry in one line, for the diff."""
    text = f"{entry.kind} {entry.identity}: {', '.join(entry.tags)}"
    if entry.note:
        text += f" (note: {entry.note})"
    if entry.expires:
        text += f", expires {entry.expires.isoformat()}"
    if entry.by or entry.at:
        text += f" [by {entry.by or '?'}, {entry.at or '?'}]"
    return text


def read_entries_file(path: Path, book: TagBook) -> list[Entry]:
    """The ``customers:`` list of a YAML file (an export, or a whole tag book), checked
    against the tag book ``book`` (its tags), every problem named by file and line."""
    file = str(path)
    text = decode_text(
        read_bytes(path, TagBookError, "entries file"), file=file, error=TagBookError
    )
    data, _ = load_yaml_nodes(text, file=file, error=TagBookError)
    records = data.get("customers") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise TagBookError(
            "the file has no `customers:` list.",
            file=file,
            hint="Give a file written by `ordertags tagbook export` (or a tag book).",
        )
    entries: list[Entry] = []
    for i, raw in enumerate(records):
        line = line_of(text, ["customers", i])
        if not entry_fits(raw) and not fits_schema("customers", raw):
            raise TagBookError(
                "this is not a tag-book entry.",
                file=file,
                line=line,
                key=f"customers[{i}]",
                hint="An entry names one identity (email:, phone:, id: or address:) and "
                "its tags: [..]; note, by, at and expires may follow.",
            )
        kind = next(k for k in IDENTITY_FIELDS if k in raw)
        written = str(raw[kind])
        key = entry_key(kind, written)
        if key is None:
            raise TagBookError(
                f'"{written}" is not {KIND_TEXT[kind]}.',
                file=file,
                line=line,
                key=f"customers[{i}].{kind}",
                hint=KIND_HINT[kind],
            )
        tags = tuple(
            book.tag_named(
                str(t),
                error=TagBookError,
                file=file,
                line=line_of(text, ["customers", i, "tags", j]),
                key=f"customers[{i}].tags[{j}]",
            )
            for j, t in enumerate(raw["tags"])
        )
        expires = raw.get("expires")

        def text_of(key: str, raw: dict[str, Any] = raw) -> str | None:
            value = raw.get(key)
            return None if value is None else str(value)

        entries.append(
            Entry(
                identity=written,
                kind=kind,
                key=key,
                tags=tags,
                note=text_of("note"),
                by=text_of("by"),
                at=text_of("at"),
                expires=parse_date(
                    str(expires), what="expires", file=file, line=line, key=f"customers[{i}]"
                )
                if expires
                else None,
                line=line,
            )
        )
    return entries


def import_entries(
    tagbook: str | os.PathLike[str], source: str | os.PathLike[str], *, dry_run: bool = False
) -> ImportReport:
    """Make the tag book's customer entries those of the file ``source`` (see
    :func:`read_entries_file`): the entries it does not hold are removed, the ones it
    adds appended (a shared workspace's to its database); the entries both hold stay as
    they are, so importing the same file again changes nothing."""

    def plan(book: TagBook) -> tuple[ImportReport, list[Change]]:
        wanted = read_entries_file(Path(source), book)
        left = Counter(_same(e) for e in wanted)
        removed: list[int] = []
        for i, entry in enumerate(book.entries):
            if left[_same(entry)] > 0:
                left[_same(entry)] -= 1
            else:
                removed.append(i)
        added: list[Entry] = []
        for entry in wanted:
            if left[_same(entry)] > 0:
                left[_same(entry)] -= 1
                added.append(entry)
        report = ImportReport(
            added=[shown(e) for e in added],
            removed=[shown(book.entries[i]) for i in removed],
            dry_run=dry_run,
        )
        if dry_run:
            return report, []
        changes: list[Change] = [RemoveEntry(i) for i in reversed(removed)]
        changes += [AppendEntry(record_of(e)) for e in added]
        return report, changes

    return edit_book(tagbook, plan)


def move_entries(
    tagbook: str | os.PathLike[str], source: Location | None, target: Location | None
) -> int:
    """Move the tag book's customer entries from ``source`` to ``target`` (a database,
    or None: the file), as ``ordertags migrate`` moves the history; returns how many.
    Into a database: the file's entries are added to it and taken out of the file, in
    one edit. Back to the file: the database's entries are appended to the file (the
    database is left as it was, like the history)."""
    if target is not None:

        def into_database(book: TagBook) -> tuple[int, list[Change]]:
            # (The target is a new database: every entry is the file's.)
            changes: list[Change] = [RemoveEntry(i) for i in reversed(range(len(book.entries)))]
            changes += [AppendEntry(record_of(e)) for e in book.entries]
            return len(book.entries), changes

        return edit_book(tagbook, into_database, entries_at=target)
    assert source is not None

    def into_file(book: TagBook) -> tuple[int, list[Change]]:
        found = stored_entries(source, book)
        return len(found), [AppendEntry(record_of(e)) for e in found]

    return edit_book(tagbook, into_file, entries_at=None)
