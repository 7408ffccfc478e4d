"""What a parse of a tag book found, as JSON for the cache (:mod:`ordertags.base.cache`),
and back. What comes back is not trusted: a cached book is used only when every value
has the type and form the reader gives it, it is a sound book (each tag defined once,
entries naming defined tags, identities that are what they say) and it agrees with the
bytes it was stored for (each entry's identity and tags on its lines); any doubt makes it
a miss, and the book is parsed again."""

from __future__ import annotations

import datetime as dt
import re
from itertools import accumulate
from typing import Any

from ordertags.base.addresses import written_key
from ordertags.base.colours import is_colour
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.keys import buyer_key, looks_like_identity, looks_like_phone
from ordertags.tagbook.model import (
    IDENTITY_FIELDS,
    Entry,
    Link,
    Suppression,
    TagBook,
    TagDef,
    is_icon,
    tag_key,
)

#: The layout of the cached parse; bump it whenever what is cached changes meaning.
CACHE_FORMAT = 5

_TAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_E164 = re.compile(r"\+[0-9]{6,17}")


def book_to_json(book: TagBook, layout: dict[str, Any]) -> dict[str, Any]:
    """The book and its layout as JSON-ready data (read back by :func:`book_from_json`)."""
    return {
        "tags": [
            [
                t.name,
                t.colour,
                t.label,
                t.description,
                t.priority,
                t.scope,
                t.icon,
                t.no_marketing,
                t.alert,
            ]
            for t in book.tags.values()
        ],
        "entries": [
            [
                e.identity,
                e.kind,
                None if e.key == e.identity else e.key,
                list(e.tags),
                e.note,
                e.by,
                e.at,
                e.expires.isoformat() if e.expires else None,
                e.line,
            ]
            for e in book.entries
        ],
        "links": [[x.a, x.b, x.same, x.note, x.by, x.at, x.line] for x in book.links],
        "suppressed": [[s.email, s.key, s.reason, s.by, s.at, s.line] for s in book.suppressed],
        "layout": layout,
    }


def book_from_json(data: Any, file: str, raw: bytes) -> tuple[TagBook, dict[str, Any]] | None:
    """The book and layout :func:`book_to_json` made for the tag book whose bytes are
    ``raw``, or None when ``data`` is not that (a foreign, corrupt or forged entry)."""
    try:
        book, layout = _from_json(data, file)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    if not _sound(book) or not _agrees(book, layout, raw):
        return None
    return book, layout


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("not text")
    return value


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError("not a flag")
    return value


def _line(value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ValueError("not a line")
    return value


def _from_json(data: Any, file: str) -> tuple[TagBook, dict[str, Any]]:
    book = TagBook(path=file)
    tags = data["tags"]
    for i, (name, colour, label, description, priority, scope, icon, nm, alert) in enumerate(tags):
        if type(priority) is not int or type(nm) is not bool or type(alert) is not bool:
            raise TypeError("tag")
        if scope not in ("customer", "order"):
            raise TypeError("tag")
        book.tags[_text(name)] = TagDef(
            name=name,
            colour=_text(colour),
            label=_text(label),
            description=_text(description),
            priority=priority,
            scope=scope,
            index=i,
            icon=_text(icon),
            no_marketing=nm,
            alert=alert,
        )
    fromiso = dt.date.fromisoformat
    text = str
    for identity, kind, key, tags, note, by, at, expires, line in data["entries"]:
        # One test per row (10,000 rows): every value of the type the reader gives it.
        if not (
            type(identity) is text
            and type(kind) is text
            and (key is None or type(key) is text)
            and type(tags) is list
            and all(type(t) is text for t in tags)
            and (note is None or type(note) is text)
            and (by is None or type(by) is text)
            and (at is None or type(at) is text)
            and (expires is None or type(expires) is text)
            and type(line) is int
            and line > 0
        ):
            raise TypeError("entry")
        book.entries.append(
            Entry(
                identity=identity,
                kind=kind,
                key=identity if key is None else key,
                tags=tuple(tags),
                note=note,
                by=by,
                at=at,
                expires=fromiso(expires) if expires is not None else None,
                line=line,
            )
        )
    book.links = [
        Link(
            a=_text(a),
            b=_text(b),
            same=_flag(same),
            note=_maybe_text(note),
            by=_maybe_text(by),
            at=_maybe_text(at),
            line=_line(line),
        )
        for a, b, same, note, by, at, line in data["links"]
    ]
    book.suppressed = [
        Suppression(
            email=_text(email),
            key=_text(key),
            reason=_maybe_text(reason),
            by=_maybe_text(by),
            at=_maybe_text(at),
            line=_line(line),
        )
        for email, key, reason, by, at, line in data["suppressed"]
    ]
    layout = data["layout"]
    ends, lists = layout["ends"], layout["lists"]
    if (
        type(layout) is not dict
        or type(ends) is not list
        or len(ends) != len(book.entries)
        or any(type(end) is not int or end < 0 for end in ends)
        or type(layout["edit"]) is not bool
        or type(lists) is not dict
        or set(lists) != {"suppressed", "links"}
        or any(
            type(v) is not list or len(v) != 2 or type(v[0]) is not bool or type(v[1]) is not int
            for v in lists.values()
        )
    ):
        raise ValueError("layout")
    return book, layout


def _sound(book: TagBook) -> bool:
    """Does the book hold only what a parse of a valid tag book can give?"""
    if len({tag_key(name) for name in book.tags}) != len(book.tags):
        return False
    for name, tag in book.tags.items():
        if (
            tag.name != name
            or _TAG_NAME.fullmatch(name) is None
            or (tag.colour and not is_colour(tag.colour))
            or (tag.icon and not is_icon(tag.icon))
        ):
            return False
    for entry in book.entries:
        if not entry.tags or any(t not in book.tags for t in entry.tags):
            return False
        if not _identity_fits(entry.kind, entry.identity, entry.key):
            return False
    if not all(looks_like_identity(x.a) and looks_like_identity(x.b) for x in book.links):
        return False
    return all(
        looks_like_email(s.email) and normalize_email(s.email) == s.key for s in book.suppressed
    )


def _identity_fits(kind: str, identity: str, key: str) -> bool:
    if kind == "email":
        # A key that is the identity as written needs no second look (most are).
        return looks_like_email(identity) and (key == identity or normalize_email(identity) == key)
    if kind == "id":
        return buyer_key(identity) == key
    if kind == "address":
        return written_key(identity) == key
    # A phone's key is its E.164 form (the phone number library is not loaded here).
    return kind in IDENTITY_FIELDS and looks_like_phone(identity) and bool(_E164.fullmatch(key))


def _agrees(book: TagBook, layout: dict[str, Any], raw: bytes) -> bool:
    """Do the bytes hold each entry's identity and tags on the entry's lines, and is
    every item's line within the file, in the order of the lists?"""
    starts = [0, *accumulate(len(line) + 1 for line in raw.split(b"\n"))]
    count = len(starts) - 1
    for items in (book.entries, book.links, book.suppressed):
        at = [item.line or 0 for item in items]
        if at != sorted(at) or (at and at[-1] > count):
            return False
    for entry, end in zip(book.entries, layout["ends"], strict=True):
        first = entry.line or 0
        begin, stop = starts[first - 1], starts[max(end, first)]
        if raw.find(entry.identity.encode("utf-8"), begin, stop) < 0:
            return False
        for tag in entry.tags:
            name = tag.encode("ascii")
            # Tag names match in any case (the file may spell them otherwise).
            if raw.find(name, begin, stop) < 0 and name.upper() not in raw[begin:stop].upper():
                return False
    return True
