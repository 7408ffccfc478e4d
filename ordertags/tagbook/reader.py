"""Reading a tag book: its YAML checked against the schema and the rules of the
model (each tag defined once, entries naming defined tags, identities that are what
they say), with every problem named by its line.

One reader: :func:`parse_text` reads the ``customers`` list by the line reader of
:mod:`ordertags.tagbook.quickread` where it can, else by the YAML parser, and builds
the book from either through the same :func:`build`. What a parse of a large book
found is cached by the SHA-256 of its bytes (:mod:`ordertags.tagbook.cachefile`).
This module must stay free of pandas and pyarrow: the quick commands use it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from ordertags.base.cache import cache_dir, digest, read_cached, write_cached
from ordertags.base.colours import is_colour
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.keys import looks_like_identity
from ordertags.base.yamlfiles import decode_text, line_of, load_yaml_nodes, read_bytes, validate
from ordertags.errors import TagBookError
from ordertags.tagbook.cachefile import CACHE_FORMAT, book_from_json, book_to_json
from ordertags.tagbook.layout import layout_of, node_under
from ordertags.tagbook.model import (
    IDENTITY_FIELDS,
    KIND_HINT,
    KIND_TEXT,
    Entry,
    Link,
    Suppression,
    TagBook,
    TagDef,
    entry_key,
    is_icon,
    parse_date,
)
from ordertags.tagbook.quickread import read_customers
from ordertags.tagbook.shared import shared_location, with_database_entries


def load_tagbook(path: str | os.PathLike[str]) -> TagBook:
    """Read and check a tag book (a shared workspace's with the customer entries its
    database holds, see :mod:`ordertags.tagbook.shared`). What the parse of a book over
    16 KB found is cached in the user's cache folder, and used while the book holds the
    very same bytes (see :mod:`ordertags.base.cache`): read again, a book of 10,000
    entries costs a JSON read.

    >>> book = load_tagbook("tagbook.example.yaml")
    >>> book.rank(["VIP", "FRAUD"])
    ['FRAUD', 'VIP']
    """
    p = Path(path)
    book = book_of(read_bytes(p, TagBookError, "tag book"), p, str(p))[0]
    # A shared workspace's book: its customer entries in the database, after the file's.
    where = shared_location(p)
    return book if where is None else with_database_entries(book, where)


def parse_tagbook(text: str, *, file: str) -> TagBook:
    """Build a :class:`TagBook` from YAML text (see :func:`load_tagbook`)."""
    return parse_text(text, file=file)[0]


#: Tag books smaller than this are parsed every time (a few milliseconds), not cached.
CACHE_MIN_BYTES = 16 * 1024
_CACHE_KIND = "tagbooks"


def book_of(raw: bytes, path: Path, file: str) -> tuple[TagBook, dict[str, Any]]:
    """The book (and its layout, see :func:`ordertags.tagbook.layout.layout_of`) of a
    tag book's bytes: from the cache when it holds these very bytes and what it holds
    is sound, else parsed (and cached)."""
    key = digest(raw) if len(raw) >= CACHE_MIN_BYTES else None
    if key is not None:
        # A cached parse is about the size of the book: more is not what this wrote.
        limit = 4 * len(raw) + (64 << 10)
        cached = read_cached(_CACHE_KIND, CACHE_FORMAT, path, key, limit=limit)
        if cached is not None:
            found = book_from_json(cached, file, raw)
            if found is not None:
                return found
    text = decode_text(raw, file=file, error=TagBookError)
    book, layout = parse_text(text, file=file)
    if key is not None:
        write_cached(_CACHE_KIND, CACHE_FORMAT, path, key, book_to_json(book, layout))
    return book, layout


def cache_book(raw: bytes, path: Path, book: TagBook, layout: dict[str, Any]) -> None:
    """Remember the book and layout a tag book's new bytes ``raw`` hold (after an edit)."""
    if len(raw) >= CACHE_MIN_BYTES and cache_dir() is not None:
        write_cached(_CACHE_KIND, CACHE_FORMAT, path, digest(raw), book_to_json(book, layout))


_ENTRY_KEYS = frozenset({"email", "phone", "id", "address", "tags", "note", "by", "at", "expires"})
_TAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:.+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")


def entry_fits(raw: Any) -> bool:
    """Does a ``customers`` entry certainly satisfy the schema's ``entry`` definition?
    A quick check in plain Python, so that 10,000 entries need not go through the JSON
    Schema validator; anything it does not accept is left to the validator, which then
    says what is wrong. (tests/test_tagbook_text.py checks it never accepts what the
    schema refuses.)"""
    if type(raw) is not dict or not raw.keys() <= _ENTRY_KEYS:
        return False
    named = [k for k in IDENTITY_FIELDS if k in raw]
    if len(named) != 1:
        return False
    value = raw[named[0]]
    if type(value) is not str or len(value) < (6 if named[0] == "phone" else 3):
        return False
    if named[0] == "id" and not _ID.search(value):
        return False
    tags = raw.get("tags")
    if type(tags) is not list or not tags:
        return False
    if not all(type(t) is str and _TAG_NAME.search(t) for t in tags):
        return False
    for k in ("note", "by"):
        if k in raw and raw[k] is not None and type(raw[k]) is not str:
            return False
    for k in ("at", "expires"):
        if k in raw and not (type(raw[k]) is str and _DATE.search(raw[k])):
            return False
    return True


def parse_text(text: str, *, file: str) -> tuple[TagBook, dict[str, Any]]:
    """The book, and the layout of its lists (see :func:`ordertags.tagbook.layout.layout_of`)."""
    fast = parse_quickly(text, file=file)
    if fast is not None:
        return fast
    data, root = load_yaml_nodes(text, file=file, error=TagBookError)
    return build(text, file, data, root, None)


def parse_quickly(text: str, *, file: str) -> tuple[TagBook, dict[str, Any]] | None:
    """:func:`parse_text` with the ``customers`` list read by the line reader
    (:func:`ordertags.tagbook.quickread.read_customers`), or None where it does not read
    the book or the book has a problem (the YAML parser then reads it, for the message)."""
    quick = read_customers(text, file=file)
    if quick is None:
        return None
    try:
        return build(text, file, quick.data, quick.root, (quick.lines, quick.ends), quick.rest)
    except TagBookError:
        return None


def build(
    text: str,
    file: str,
    data: Any,
    root: Any,
    read: tuple[list[int], list[int]] | None,
    rest: str | None = None,
) -> tuple[TagBook, dict[str, Any]]:
    """Check the data of a tag book and make the book. ``rest``: the text without the
    ``customers`` entries (same line numbers), when :func:`read_customers` made it:
    what the JSON Schema check of the rest is remembered by, so that editing customers
    by hand does not mean checking the tag definitions again. ``read``: the lines and
    ends of the ``customers`` entries when :func:`read_customers` read them, else None (they
    come from the node tree ``root``)."""
    if data is None:
        raise TagBookError(
            "the tag book is empty.",
            file=file,
            hint="Start from tagbook.example.yaml or `ordertags init`.",
        )
    for i, raw in enumerate((data.get("customers") or []) if isinstance(data, dict) else []):
        named = [k for k in IDENTITY_FIELDS if isinstance(raw, dict) and k in raw]
        if isinstance(raw, dict) and len(named) != 1:
            raise TagBookError(
                f"the entry names {'no customer' if not named else ' and '.join(named)}: "
                "an entry names its customer by one identity.",
                file=file,
                line=line_of(text, ["customers", i]),
                key=f"customers[{i}]",
                hint="Give one of email:, phone: or id: (ebay:NAME); to say two identities "
                "are one person, link them (ordertags link).",
            )
    customers = data.get("customers") if isinstance(data, dict) else None
    if isinstance(customers, list) and all(entry_fits(raw) for raw in customers):
        # The entries are fine: validate the rest (the validator takes seconds over
        # 10,000 entries).
        validate(
            {**data, "customers": []},
            schema="tagbook",
            text=text if rest is None else rest,
            file=file,
            error=TagBookError,
        )
    else:
        validate(data, schema="tagbook", text=text, file=file, error=TagBookError)

    def lines(key: str) -> list[int]:
        seq = node_under(root, key)
        return (
            [n.start_mark.line + 1 for n in seq.value] if isinstance(seq, yaml.SequenceNode) else []
        )

    book = TagBook(path=file)
    tag_lines, entry_lines = lines("tags"), lines("customers") if read is None else read[0]
    link_lines, suppressed_lines = lines("links"), lines("suppressed")
    for i, raw in enumerate(data.get("tags") or []):
        name = raw["name"]
        line = tag_lines[i]
        twin = book.spelling(name)
        if twin is not None:
            raise TagBookError(
                f'tag "{name}" is defined twice'
                + (
                    f' (as "{twin}" too: case does not count in tag names).'
                    if twin != name
                    else "."
                ),
                file=file,
                line=line,
                key=f"tags[{i}].name",
                hint="Keep one definition.",
            )
        colour = raw.get("colour", "")
        if colour and not is_colour(colour):
            raise TagBookError(
                f'"{colour}" is not a colour.',
                file=file,
                line=line_of(text, ["tags", i, "colour"]),
                key=f"tags[{i}].colour",
                hint="Use a CSS colour name (red, gold, teal) or #rrggbb.",
            )
        icon = raw.get("icon", "")
        if icon and not is_icon(icon):
            raise TagBookError(
                f'"{icon}" is not an icon.',
                file=file,
                line=line_of(text, ["tags", i, "icon"]),
                key=f"tags[{i}].icon",
                hint="Use one emoji or symbol, such as ★, ⚠ or 🎁 (words go in the label).",
            )
        book.tags[name] = TagDef(
            name=name,
            icon=icon,
            colour=colour,
            label=raw.get("label") or name,
            description=raw.get("description", ""),
            priority=raw.get("priority", 0),
            scope=raw.get("scope", "customer"),
            index=i,
            no_marketing=bool(raw.get("no_marketing", False)),
            alert=bool(raw.get("alert", False)),
        )
    for i, raw in enumerate(data.get("customers") or []):
        line = entry_lines[i]
        kind = next(k for k in IDENTITY_FIELDS if k in raw)
        written = str(raw[kind])
        key = entry_key(kind, written)
        if key is None:
            raise TagBookError(
                f'"{written}" is not {KIND_TEXT[kind]}.',
                file=file,
                line=line_of(text, ["customers", i, kind]) or line,
                key=f"customers[{i}].{kind}",
                hint=KIND_HINT[kind],
            )
        names = list(raw["tags"])
        for j, name in enumerate(names):
            if name not in book.tags:  # in the tag book's spelling, else an error
                found = book.spelling(name)
                names[j] = found or book.tag_named(
                    name,
                    error=TagBookError,
                    file=file,
                    line=line_of(text, ["customers", i, "tags", j]),
                    key=f"customers[{i}].tags[{j}]",
                )
        expires = raw.get("expires")
        book.entries.append(
            Entry(
                identity=written,
                kind=kind,
                key=key,
                tags=tuple(names),
                note=raw.get("note"),
                by=raw.get("by"),
                at=raw.get("at"),
                line=line,
                expires=parse_date(
                    expires, what="expires", file=file, line=line, key=f"customers[{i}].expires"
                )
                if expires
                else None,
            )
        )
    for i, raw in enumerate(data.get("links") or []):
        kind = "same" if "same" in raw else "different"
        for j, value in enumerate(raw[kind]):
            if not looks_like_identity(value):
                raise TagBookError(
                    f'"{value}" is not an email address, a phone number or a buyer id.',
                    file=file,
                    line=line_of(text, ["links", i, kind, j]),
                    key=f"links[{i}].{kind}[{j}]",
                    hint="A link joins two emails, phone numbers or buyer ids, e.g. "
                    '[jane@example.com, "+447700900123"] or [jane@example.com, ebay:jane_d].',
                )
        book.links.append(
            Link(
                a=raw[kind][0],
                b=raw[kind][1],
                same=kind == "same",
                note=raw.get("note"),
                by=raw.get("by"),
                at=raw.get("at"),
                line=link_lines[i],
            )
        )
    for i, raw in enumerate(data.get("suppressed") or []):
        line = suppressed_lines[i]
        key = normalize_email(raw["email"])
        if key is None or not looks_like_email(raw["email"]):
            raise TagBookError(
                f'"{raw["email"]}" is not an email address.',
                file=file,
                line=line,
                key=f"suppressed[{i}].email",
                hint="Write the address to leave off mailing lists, e.g. jane@example.com.",
            )
        book.suppressed.append(
            Suppression(
                email=raw["email"],
                key=key,
                reason=raw.get("reason"),
                by=raw.get("by"),
                at=raw.get("at"),
                line=line,
            )
        )
    if read is None:
        return book, layout_of(text, root, len(book.entries))
    layout = layout_of(text, root, 0)
    return book, {**layout, "ends": read[1], "edit": bool(read[1])}
