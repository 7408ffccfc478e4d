"""The tag book as a model: tag definitions, the customers tagged by hand, identity
links and suppressed addresses, and the rules every part of ordertags names them by
(a tag's key, an entry's identity key). Reading and writing live beside it
(:mod:`ordertags.tagbook.reader`, :mod:`ordertags.tagbook.operations`); this module
imports no YAML library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import get_close_matches

from ordertags.base.addresses import written_key
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.keys import (
    DEFAULT_REGION,
    buyer_key,
    identity_of,
    looks_like_phone,
    normalize_phone,
)
from ordertags.errors import OrderTagsError, TagBookError, UsageError


@dataclass(frozen=True)
class TagDef:
    """One tag: how it looks on orders and how it ranks against others."""

    name: str
    colour: str = ""
    label: str = ""
    description: str = ""
    priority: int = 0
    scope: str = "customer"
    index: int = 0  # position in the tag book: breaks priority ties
    icon: str = ""  # a short emoji or symbol shown before the label (★, ⚠)
    no_marketing: bool = False  # customers with it never go on a mailing list
    alert: bool = False  # watch list: apply says so for each order with it

    @property
    def display(self) -> str:
        """The label as every view shows it: the icon, if any, then the label.

        >>> TagDef("VIP", label="VIP — add a freebie", icon="★").display
        '★ VIP — add a freebie'
        """
        return f"{self.icon} {self.label}" if self.icon else self.label


#: The keys a tag-book entry can name its customer by (``address``: every order shipped
#: to that address, see :mod:`ordertags.base.addresses`).
IDENTITY_FIELDS = ("email", "phone", "id", "address")


@dataclass(frozen=True)
class Entry:
    """A customer tagged by hand, named by one identity: an email, a phone number or a
    marketplace buyer id (``kind`` says which: ``email``, ``phone`` or ``id``), or a
    postal address (``address``: the orders shipped there, whoever buys them)."""

    identity: str  # as written in the tag book
    key: str  # the identity key (phones: E.164 in the default region, see key_in)
    tags: tuple[str, ...]
    note: str | None = None
    by: str | None = None
    at: str | None = None
    expires: dt.date | None = None
    line: int | None = None
    kind: str = "email"

    @property
    def email(self) -> str:
        """The identity as written (named for the tag books that know only emails)."""
        return self.identity

    def expired(self, as_of: dt.date) -> bool:
        """An entry applies up to and including its ``expires`` date."""
        return self.expires is not None and self.expires < as_of

    def key_in(self, region: str | None) -> str:
        """The identity key, phones read in ``region`` (a workspace's default)."""
        if self.kind != "phone" or not region or region == DEFAULT_REGION:
            return self.key
        return normalize_phone(self.identity, region) or self.key


@dataclass(frozen=True)
class Link:
    """Two identities (emails or phones, as written) that are the same person
    (``same``) or are not (``same=False``). Links beat every automatic match."""

    a: str
    b: str
    same: bool
    note: str | None = None
    by: str | None = None
    at: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Suppression:
    """An address never to put on a mailing list (``suppressed:`` in the tag book)."""

    email: str
    key: str
    reason: str | None = None
    by: str | None = None
    at: str | None = None
    line: int | None = None


def tag_key(name: str) -> str:
    """What a tag name is matched by: the one rule for tag names, wherever a name is
    given (a command's option, a Python call, a rule file, the tag book's entries).
    Case does not count, so ``vip`` names the tag the tag book spells ``VIP``; the tag
    book's spelling is the one every output shows. (Tag names are ASCII letters, digits
    and ``_ . -``, so upper-casing is all case folding there is.)

    >>> tag_key(" vip "), tag_key("Claimed-Non-Receipt")
    ('VIP', 'CLAIMED-NON-RECEIPT')
    """
    return name.strip().upper()


@dataclass
class TagBook:
    """Tag definitions (in file order), manual entries, identity links and suppressed
    addresses. ``path`` is the file it was read from (``str`` or ``os.PathLike``), as
    messages name it."""

    path: str
    tags: dict[str, TagDef] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    suppressed: list[Suppression] = field(default_factory=list)

    def __init__(
        self,
        path: str | os.PathLike[str],
        tags: dict[str, TagDef] | None = None,
        entries: list[Entry] | None = None,
        links: list[Link] | None = None,
        suppressed: list[Suppression] | None = None,
    ) -> None:
        # Written out so that ``path`` may be any path (a str, a pathlib.Path): it is
        # kept as the text messages name the file by.
        self.path = os.fspath(path)
        self.tags = {} if tags is None else tags
        self.entries = [] if entries is None else entries
        self.links = [] if links is None else links
        self.suppressed = [] if suppressed is None else suppressed

    def no_marketing_tags(self) -> list[str]:
        """The tags marked ``no_marketing: true``, in tag-book order."""
        return [name for name, t in self.tags.items() if t.no_marketing]

    def rank(self, names: Iterable[str]) -> list[str]:
        """Tag names, highest priority first (ties: the order of the tag book)."""
        return sorted(set(names), key=lambda n: (-self.tags[n].priority, self.tags[n].index))

    def spelling(self, name: str) -> str | None:
        """The tag book's spelling of the tag ``name`` (see :func:`tag_key`), or None
        when it defines no such tag; :meth:`tag_named` says why."""
        if name in self.tags:
            return name
        wanted = tag_key(name)
        return next((t for t in self.tags if tag_key(t) == wanted), None)

    def tag_named(
        self,
        name: str,
        *,
        said: str | None = None,
        error: type[OrderTagsError] = UsageError,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> str:
        """The tag book's own spelling of the tag ``name`` (matched as :func:`tag_key`
        says: ``vip`` is ``VIP``). Every command and function that takes a tag name
        asks this, so one rule holds everywhere.

        An unknown name raises ``error``: by default :class:`ordertags.errors.UsageError`
        (a name given in a call or on the command line: exit 2); a name read from a file
        passes that file's error (:class:`ordertags.errors.RulesError`,
        :class:`ordertags.errors.TagBookError`: exit 1) and where in it (``file``,
        ``line``, ``key``). The message names the tag book and the closest tag it
        defines; ``said`` is how it introduces the name (default ``tag "NAME"``).

        >>> book = TagBook("tagbook.yaml", {"GOLD": TagDef("GOLD")})
        >>> book.tag_named("gold")
        'GOLD'
        >>> try:
        ...     book.tag_named("golld")
        ... except UsageError as exc:
        ...     print(exc.message)
        tag "golld" is not in the tag book tagbook.yaml; did you mean GOLD?
        """
        known = self.spelling(name)
        if known is not None:
            return known
        wanted = tag_key(name)
        by_key = {tag_key(t): t for t in self.tags}
        close = get_close_matches(wanted, list(by_key), n=1, cutoff=0.6)
        if close:
            guess = f"; did you mean {by_key[close[0]]}?"
        else:
            guess = f" (it defines {', '.join(self.tags)})." if self.tags else " (it defines none)."
        shown = said or f'tag "{name}"'
        raise error(
            f"{shown} is not in the tag book {self.path}{guess}",
            file=file,
            line=line,
            key=key,
            hint="Use a tag the tag book defines (`ordertags tags` lists them), or add it "
            "under `tags:` there.",
        )

    def active_entries(self, as_of: dt.date) -> tuple[list[Entry], int]:
        """The entries in force on ``as_of``, and how many have expired."""
        active = [e for e in self.entries if not e.expired(as_of)]
        return active, len(self.entries) - len(active)

    def manual_tags(self, as_of: dt.date, region: str | None = None) -> dict[str, set[str]]:
        """Identity key -> tags given by hand and in force on ``as_of``."""
        out: dict[str, set[str]] = {}
        for entry in self.active_entries(as_of)[0]:
            out.setdefault(entry.key_in(region), set()).update(entry.tags)
        return out

    def has_phone_entries(self) -> bool:
        """Does any entry name its customer by a phone number?"""
        return any(e.kind == "phone" for e in self.entries)

    def phone_keys(self, region: str | None = None) -> frozenset[str]:
        """The phones entries name (E.164): orders with them belong to that customer."""
        return frozenset(e.key_in(region) for e in self.entries if e.kind == "phone")


#: How messages name each kind of identity, and how to write one.
KIND_TEXT = {
    "email": "an email address",
    "phone": "a phone number",
    "id": "a buyer id (CHANNEL:ID)",
    "address": "a postal address (COUNTRY; POSTCODE; ADDRESS LINE)",
}
KIND_HINT = {
    "email": "Write the customer's email, e.g. jane@example.com.",
    "phone": 'Write the phone number with its country code, e.g. "+447700900123".',
    "id": "Write the marketplace and the buyer's id, e.g. ebay:quinn_belfast or amazon:A1B2C3.",
    "address": 'Write the country, the postcode and the first line, e.g. "GB; EH2 2PR; 10 '
    'Rose Street".',
}


def entry_key(kind: str, text: str, region: str = DEFAULT_REGION) -> str | None:
    """The identity key of a tag-book entry's ``email``, ``phone`` or ``id`` (None when
    the text is not one)."""
    if kind == "email":
        key = normalize_email(text)
        return key if key is not None and looks_like_email(text) else None
    if kind == "id":
        return buyer_key(text)
    if kind == "address":
        return written_key(text)
    return normalize_phone(text, region) if looks_like_phone(text) else None


def is_icon(text: str) -> bool:
    """A tag icon is short (at most 8 code points: an emoji with its modifiers) and holds
    no letters, digits, spaces or control characters.

    >>> is_icon("★"), is_icon("⚠️"), is_icon("👨‍👩‍👧"), is_icon("VIP"), is_icon("! ")
    (True, True, True, False, False)
    """
    return 0 < len(text) <= 8 and not any(
        unicodedata.category(c)[0] in "LNZ" or unicodedata.category(c) == "Cc" for c in text
    )


def parse_date(
    text: str,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    key: str | None = None,
) -> dt.date:
    """``YYYY-MM-DD`` (optionally followed by a time) as a date."""
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise TagBookError(
            f'"{text}" is not a date for {what}.',
            file=file,
            line=line,
            key=key,
            hint="Write dates as YYYY-MM-DD, e.g. 2027-01-31.",
        ) from None


def customer_version(book: TagBook, keys: Iterable[str], region: str | None = None) -> str:
    """A short fingerprint of what the tag book says about the identities ``keys``:
    their entries, the links naming them, their suppressions. A page shows it, and an
    edit made from the page is refused (:class:`ordertags.errors.EditConflictError`)
    when it has changed meanwhile: someone else changed the same customer.

    >>> version = customer_version(book, {"lena.nguyen@example.org"})
    >>> len(version), version == customer_version(book, set())
    (16, False)
    """
    wanted = set(keys)
    code = region or DEFAULT_REGION

    def key_of(text: str) -> str:
        try:
            return identity_of(text, code)[1]
        except OrderTagsError:
            return text

    parts: list[str] = []
    for e in book.entries:
        if e.key_in(region) in wanted:
            parts.append(repr((e.key, e.tags, e.note, e.by, e.at, e.expires)))
    for link in book.links:
        if {key_of(link.a), key_of(link.b)} & wanted:
            parts.append(repr((link.a, link.b, link.same, link.note)))
    for sup in book.suppressed:
        if sup.key in wanted:
            parts.append(repr((sup.key, sup.reason)))
    return hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:16]
