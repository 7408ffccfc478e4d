"""The edits of the tag book, each written once: tag, untag, the note and expiry of an
entry (the team screen), suppress, link and unlink. Each works out, from the book as
read under the lock, what it reports and the changes to make
(:mod:`ordertags.tagbook.changes`); :func:`ordertags.tagbook.store.edit_book` has them
written by the text writer where the file allows, else by the comment-keeping round
trip. ``text_edits=False`` always takes the round trip (tests compare the two).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ordertags.base.addresses import written_key
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.keys import BUYER, DEFAULT_REGION, PHONE, identity_of
from ordertags.errors import OrderTagsError, TagBookError, UsageError
from ordertags.tagbook.changes import (
    AppendEntry,
    AppendItem,
    Change,
    RemoveEntry,
    RemoveItem,
    SetTags,
    SetValue,
)
from ordertags.tagbook.model import KIND_HINT, KIND_TEXT, Entry, TagBook, parse_date
from ordertags.tagbook.reader import entry_fits
from ordertags.tagbook.store import Guard, edit_book
from ordertags.tagbook.textwriter import fits_schema


@dataclass(frozen=True)
class TagChange:
    """What ``tag_customer``/``untag_customer`` did, for the CLI to report."""

    identity: str
    key: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    note_updated: bool = False
    kind: str = "email"

    @property
    def email(self) -> str:
        """The identity as given (named for the callers that know only emails)."""
        return self.identity


@dataclass(frozen=True)
class EntryChange:
    """What :func:`change_entry` did: the tag-book entry before and after."""

    identity: str
    key: str
    tag: str
    before: Entry
    after: Entry

    @property
    def changed(self) -> bool:
        """Whether the note or the expiry changed."""
        return (self.before.note, self.before.expires) != (self.after.note, self.after.expires)


@dataclass(frozen=True)
class SuppressChange:
    """What ``suppress_address`` did: ``added`` False when the address (any spelling with
    the same customer key) was already suppressed, or, with ``remove``, how many entries
    went."""

    email: str
    key: str
    added: bool = False
    removed: int = 0


@dataclass(frozen=True)
class LinkChange:
    """What ``link_identities``/``unlink_identities`` did."""

    a: str
    b: str
    added: bool = False  # a new "same" or "different" entry
    removed: int = 0  # entries of the opposite kind for the pair, removed


def default_author() -> str:
    """Who is tagging: $ORDERTAGS_USER, else the login name."""
    try:
        return os.environ.get("ORDERTAGS_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _identity(text: str, region: str | None, *, valid_phone: bool = False) -> tuple[str, str]:
    """(entry kind, key) of an identity a person gave: ``email``, ``phone`` or ``id``.
    One that is none of them is a usage error (exit 2), as for ``link``; ``address:``
    and the address names a postal address (``address``)."""
    if text.strip().lower().startswith("address:"):
        key = written_key(text.strip()[8:])
        if key is None:
            raise UsageError(
                f'"{text.strip()}" is not {KIND_TEXT["address"]}.', hint=KIND_HINT["address"]
            )
        return "address", key
    kind, key = identity_of(text, region or DEFAULT_REGION, valid_phone=valid_phone)
    return ("id" if kind == BUYER else "phone" if kind == PHONE else "email"), key


def _moment(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now().astimezone()).replace(microsecond=0)


@dataclass(frozen=True)
class TagRequest:
    """One customer to tag in :func:`tag_customers`: the identity as given, the tags,
    and the entry's note and expiry."""

    identity: str
    tags: tuple[str, ...]
    note: str | None = None
    expires: str | dt.date | None = None


def tag_customer(
    path: str | os.PathLike[str],
    identity: str,
    tags: list[str],
    *,
    note: str | None = None,
    by: str | None = None,
    expires: str | dt.date | None = None,
    now: dt.datetime | None = None,
    region: str | None = None,
    valid_phone: bool = True,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> TagChange:
    """Tag a customer by hand: append an entry to the tag book's ``customers`` list,
    keyed by the identity given: an email (``email:``), a phone number in any common
    spelling (``phone:``, written in E.164) or a marketplace buyer id ``CHANNEL:ID``
    (``id:``). Numbers without a country code are read in ``region`` (default GB).
    A phone number that no phone can have (``0770090``) is refused with a
    :class:`ordertags.errors.UsageError` saying why; ``valid_phone=False`` takes it as
    it is (a number from an order, which its orders carry however it is written).

    Tags the customer already has (from an unexpired entry) are left alone; given a
    ``note`` that differs, the note of the entry holding them is updated.

    >>> tag_customer("tagbook.yaml", "jane@example.com", ["VIP"],
    ...              note="Big order")
    TagChange(identity='jane@example.com', key='jane@example.com', added=('VIP',), ...)
    >>> tag_customer("tagbook.yaml", "ebay:quinn_belfast",
    ...              ["CLAIMED-NON-RECEIPT"]).added
    ('CLAIMED-NON-RECEIPT',)
    """
    request = TagRequest(identity, tuple(tags), note, expires)
    return tag_customers(
        path,
        [request],
        by=by,
        now=now,
        region=region,
        valid_phone=valid_phone,
        guard=guard,
        text_edits=text_edits,
    )[0]


def tag_customers(
    path: str | os.PathLike[str],
    requests: list[TagRequest],
    *,
    by: str | None = None,
    now: dt.datetime | None = None,
    region: str | None = None,
    valid_phone: bool = True,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> list[TagChange]:
    """Tag many customers in one edit of the tag book (one read, one write, under one
    lock: an import of 10,000 customers): each request as :func:`tag_customer` makes
    it, in order; a customer named twice sees the tags the first request gave. Returns
    one :class:`TagChange` per request.

    >>> [c.added for c in tag_customers("tagbook.yaml", [
    ...     TagRequest("jane@example.com", ("VIP",)), TagRequest("+447400123456", ("VIP",))])]
    [('VIP',), ('VIP',)]
    """
    when = _moment(now)
    asked = []
    for request in requests:
        written = request.identity.strip()
        kind, key = _identity(written, region, valid_phone=valid_phone)
        if kind in ("phone", "id"):
            written = key  # one spelling in the file: E.164, or the id as keyed
        elif kind == "address":
            written = written[8:].strip()  # the entry's key says what it is
        expires = request.expires
        if isinstance(expires, str):
            expires = parse_date(expires, what="--expires")
        if expires is not None and expires < when.date():
            raise TagBookError(
                f"--expires {expires.isoformat()} is in the past.",
                hint="Give a date from today on, or leave --expires out.",
            )
        asked.append((request, written, kind, key, expires))

    def plan(book: TagBook) -> tuple[list[TagChange], list[Change]]:
        # The customers' unexpired entries, by key, found in one pass over the book.
        entries_of: dict[str, list[int]] = {}
        for i, entry in enumerate(book.entries):
            if not entry.expired(when.date()):
                entries_of.setdefault(entry.key_in(region), []).append(i)
        given: dict[str, set[str]] = {}  # tags this edit gives, by key
        noted: set[int] = set()
        reports: list[TagChange] = []
        changes: list[Change] = []
        for request, written, kind, key, expires in asked:
            names = [book.tag_named(name) for name in request.tags]  # the book's spelling
            mine = entries_of.get(key, [])
            have = {t for i in mine for t in book.entries[i].tags} | given.get(key, set())
            new = [t for t in dict.fromkeys(names) if t not in have]
            if not new:
                target = _note_target(book, mine, names, request.note)
                if target in noted:
                    target = None
                reports.append(
                    TagChange(
                        written,
                        key,
                        unchanged=tuple(names),
                        note_updated=target is not None,
                        kind=kind,
                    )
                )
                if target is not None:
                    noted.add(target)
                    changes.append(SetValue(target, "note", request.note or ""))
                continue
            record: dict[str, Any] = {kind: written, "tags": new}
            if request.note:
                record["note"] = request.note
            record["by"] = by or default_author()
            record["at"] = when.isoformat()
            if expires is not None:
                record["expires"] = expires.isoformat()
            given.setdefault(key, set()).update(new)
            unchanged = tuple(t for t in names if t in have)
            reports.append(
                TagChange(written, key, added=tuple(new), unchanged=unchanged, kind=kind)
            )
            changes.append(AppendEntry(record))
        # Every later index valid: the notes set (indexes as read) before the appends.
        changes.sort(key=lambda c: not isinstance(c, SetValue))
        return reports, changes

    return edit_book(path, plan, guard=guard, text_edits=text_edits)


def _note_target(book: TagBook, mine: list[int], tags: list[str], note: str | None) -> int | None:
    """Re-tagging with a new note: the latest of the customer's entries (indexes
    ``mine``) that holds the tags, when its note differs (else None)."""
    if not note:
        return None
    holding = [i for i in mine if set(tags) & set(book.entries[i].tags)]
    if not holding or book.entries[holding[-1]].note == note:
        return None
    return holding[-1]


def untag_customer(
    path: str | os.PathLike[str],
    identity: str,
    tags: list[str],
    *,
    region: str | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> TagChange:
    """Remove tags from a customer: from every entry naming the same identity (any
    spelling of the email or phone number, any case of a buyer id). An entry left with
    no tags is removed.

    >>> _ = tag_customer("tagbook.yaml", "jane@example.com", ["VIP"])
    >>> untag_customer("tagbook.yaml", "Jane@Example.com", ["VIP"]).removed
    ('VIP',)
    """
    if not identity.strip():
        raise TagBookError("the customer is blank.", hint="Give an email, phone or buyer id.")
    kind, key = _identity(identity, region)
    given = list(tags)

    def plan(book: TagBook) -> tuple[TagChange, list[Change]]:
        names = [book.tag_named(name) for name in given]  # in the tag book's spelling
        removed: set[str] = set()
        changes: list[Change] = []
        for i in reversed(range(len(book.entries))):  # last first: the indexes hold
            entry = book.entries[i]
            if entry.key_in(region) != key:
                continue
            kept = tuple(t for t in entry.tags if t not in names)
            if len(kept) != len(entry.tags):
                removed.update(t for t in entry.tags if t in names)
                changes.append(SetTags(i, kept) if kept else RemoveEntry(i))
        report = TagChange(
            identity.strip(),
            key,
            removed=tuple(t for t in names if t in removed),
            unchanged=tuple(t for t in names if t not in removed),
            kind=kind,
        )
        return report, changes

    return edit_book(path, plan, guard=guard, text_edits=text_edits)


def change_entry(
    path: str | os.PathLike[str],
    identity: str,
    tag: str,
    *,
    note: str | None = None,
    expires: str | dt.date | None = None,
    now: dt.datetime | None = None,
    region: str | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> EntryChange:
    """Change the note or the expiry of a customer's existing tag-book entry: the
    latest entry naming the identity (any spelling) that holds ``tag`` (an unexpired
    one first: an expired tag can be given a later date). ``note``: the new note
    (``""`` removes it); ``expires``: the new last day (a date or ``YYYY-MM-DD``; ``""``
    or ``"never"`` removes it); ``None`` leaves either as it is. The entry keeps who
    made it and when (the audit log of the team screen says who changed it). The
    expiry applies to every tag of the entry.

    A customer with no entry holding ``tag`` is a :class:`ordertags.errors.TagBookError`
    (tag them first), as is a date in the past (as for :func:`tag_customer`); neither a
    note nor a date is a :class:`ordertags.errors.UsageError`.

    >>> change_entry("tagbook.yaml", "lena.nguyen@example.org", "VIP",
    ...              expires="2099-01-31")
    EntryChange(identity='lena.nguyen@example.org', key='lena.nguyen@example.org', tag='VIP', ...)
    """
    written = identity.strip()
    if not written:
        raise UsageError("the customer is blank.", hint="Give an email, phone or buyer id.")
    if note is None and expires is None:
        raise UsageError(
            "say what to change: the note or the expiry date.",
            hint='Give a note ("" removes it) or an expiry date YYYY-MM-DD ("never" removes it).',
        )
    kind, key = _identity(written, region)
    when = _moment(now)
    clear_expiry = isinstance(expires, str) and expires.strip().lower() in ("", "never")
    day: dt.date | None = None
    if isinstance(expires, str) and not clear_expiry:
        day = parse_date(expires.strip(), what="--expires")
    elif isinstance(expires, dt.date):
        day = expires
    if day is not None and day < when.date():
        raise TagBookError(
            f"--expires {day.isoformat()} is in the past.",
            hint='Give a date from today on, or "never".',
        )
    new_note = None if note is None else (note.strip() or None)

    def plan(book: TagBook) -> tuple[EntryChange, list[Change]]:
        name = book.tag_named(tag)
        holding = [
            i for i, e in enumerate(book.entries) if e.key_in(region) == key and name in e.tags
        ]
        if not holding:
            raise TagBookError(
                f"{written} has no entry with {name} in the tag book.",
                file=str(Path(path)),
                hint=f"Tag them first: ordertags tag {written} --tag {name}",
            )
        live = [i for i in holding if not book.entries[i].expired(when.date())]
        i = (live or holding)[-1]
        before = book.entries[i]
        after = replace(
            before,
            note=before.note if note is None else new_note,
            expires=None if clear_expiry else day if day is not None else before.expires,
        )
        record = {before.kind: before.identity, "tags": list(after.tags)}
        if after.note:
            record["note"] = after.note
        if after.expires:
            record["expires"] = after.expires.isoformat()
        if not entry_fits(record) and not fits_schema("customers", record):
            raise UsageError(
                "the changed entry would not be a valid tag-book entry.",
                hint="Check the note and the date, and try again.",
            )
        report = EntryChange(written, key, name, before, after)
        changes: list[Change] = []
        if after.note != before.note:
            changes.append(SetValue(i, "note", after.note))
        if after.expires != before.expires:
            iso = after.expires.isoformat() if after.expires else None
            changes.append(SetValue(i, "expires", iso))
        return report, changes

    return edit_book(path, plan, guard=guard, text_edits=text_edits)


#: What a tag's name may hold (the tag book's schema says the same).
TAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def define_tag(
    path: str | os.PathLike[str],
    name: str,
    *,
    label: str | None = None,
    description: str | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> bool:
    """Add a tag definition at the end of the tag book's ``tags`` list (``ordertags
    import --create-tags``); False when the book already defines it (in any case).

    >>> define_tag("tagbook.yaml", "WHOLESALE", label="Wholesale buyer")
    True
    """
    if not TAG_NAME.fullmatch(name):
        raise UsageError(
            f'"{name}" is not a tag name.',
            hint="Tag names are letters, digits and _ . - (e.g. WHOLESALE).",
        )
    record: dict[str, Any] = {"name": name, "label": label or name}
    if description:
        record["description"] = description

    def plan(book: TagBook) -> tuple[bool, list[Change]]:
        if book.spelling(name) is not None:
            return False, []
        return True, [AppendItem("tags", record)]

    return edit_book(path, plan, guard=guard, text_edits=text_edits)


def suppress_address(
    path: str | os.PathLike[str],
    email: str,
    *,
    reason: str | None = None,
    by: str | None = None,
    remove: bool = False,
    now: dt.datetime | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> SuppressChange:
    """Add an address to the tag book's ``suppressed`` list (or, with ``remove``, take
    every spelling of it off), so that no mailing list carries it.

    >>> suppress_address("tagbook.yaml", "Jane@Example.com", reason="unsubscribed")
    ...
    SuppressChange(email='Jane@Example.com', key='jane@example.com', added=True, removed=0)
    """
    email = email.strip()
    key = normalize_email(email)
    if key is None or not looks_like_email(email):
        raise TagBookError(
            f'"{email}" is not an email address.',
            hint="Give the address to leave off mailing lists, e.g. jane@example.com.",
        )
    when = _moment(now)

    def plan(book: TagBook) -> tuple[SuppressChange, list[Change]]:
        listed = [i for i, s in enumerate(book.suppressed) if s.key == key]
        if remove:
            changes: list[Change] = [RemoveItem("suppressed", i) for i in reversed(listed)]
            return SuppressChange(email, key, removed=len(listed)), changes
        if listed:
            return SuppressChange(email, key), []
        record: dict[str, Any] = {"email": email}
        if reason:
            record["reason"] = reason
        record["by"] = by or default_author()
        record["at"] = when.isoformat()
        return SuppressChange(email, key, added=True), [AppendItem("suppressed", record)]

    return edit_book(path, plan, guard=guard, text_edits=text_edits)


def link_identities(
    path: str | os.PathLike[str],
    a: str,
    b: str,
    *,
    note: str | None = None,
    by: str | None = None,
    region: str | None = None,
    now: dt.datetime | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> LinkChange:
    """Record in the tag book that two identities (emails or phone numbers) are the same
    person; a "different" entry for the pair is removed. Links beat automatic matches.

    >>> link_identities("tagbook.yaml", "jane@example.com", "07700 900123")
    LinkChange(a='jane@example.com', b='07700 900123', added=True, removed=0)
    """
    return edit_book(
        path,
        _link_plan(a, b, same=True, note=note, by=by, region=region, now=now),
        guard=guard,
        text_edits=text_edits,
    )


def unlink_identities(
    path: str | os.PathLike[str],
    a: str,
    b: str,
    *,
    note: str | None = None,
    by: str | None = None,
    region: str | None = None,
    now: dt.datetime | None = None,
    guard: Guard | None = None,
    text_edits: bool = True,
) -> LinkChange:
    """Record in the tag book that two identities are different people, whatever the
    evidence says; a "same" link for the pair is removed.

    >>> unlink_identities(
    ...     "tagbook.yaml", "bob@example.com", "bob.smith@example.com"
    ... )
    LinkChange(a='bob@example.com', b='bob.smith@example.com', added=True, removed=0)
    """
    return edit_book(
        path,
        _link_plan(a, b, same=False, note=note, by=by, region=region, now=now),
        guard=guard,
        text_edits=text_edits,
    )


def _link_plan(
    a: str,
    b: str,
    *,
    same: bool,
    note: str | None,
    by: str | None,
    region: str | None,
    now: dt.datetime | None,
) -> Callable[[TagBook], tuple[LinkChange, list[Change]]]:
    """The edit of :func:`link_identities` (``same``) or :func:`unlink_identities`: the
    pair's links of the other kind removed, one of this kind added unless there is."""
    code = region or DEFAULT_REGION
    ka, kb = identity_of(a, code)[1], identity_of(b, code)[1]
    if ka == kb:
        raise TagBookError(
            f'"{a}" and "{b}" are the same identity.',
            hint="Give two different emails or phone numbers.",
        )
    pair = {ka, kb}
    when = _moment(now)

    def keys_of(*texts: str) -> set[str] | None:
        try:
            return {identity_of(t, code)[1] for t in texts}
        except OrderTagsError:
            return None

    def plan(book: TagBook) -> tuple[LinkChange, list[Change]]:
        ours = [i for i, x in enumerate(book.links) if keys_of(x.a, x.b) == pair]
        other = [i for i in ours if book.links[i].same != same]
        changes: list[Change] = [RemoveItem("links", i) for i in reversed(other)]
        if len(other) < len(ours):  # a link of this kind is there already
            return LinkChange(a, b, added=False, removed=len(other)), changes
        record: dict[str, Any] = {"same" if same else "different": [a.strip(), b.strip()]}
        if note:
            record["note"] = note
        record["by"] = by or default_author()
        record["at"] = when.isoformat()
        changes.append(AppendItem("links", record))
        return LinkChange(a, b, added=True, removed=len(other)), changes

    return plan
