"""The tag book: tag definitions and the customers tagged by hand.

Reading uses a safe YAML loader. Writing (``tag_customer``, ``untag_customer``) edits the
file with a comment-preserving round trip under a file lock, and replaces it atomically,
so hand edits, comments and layout survive and two writers at once both land.
This module must stay free of pandas and pyarrow: the quick commands use it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml

from ordertags.base.addresses import written_key
from ordertags.base.cache import cache_dir, digest, read_cached, write_cached
from ordertags.base.colours import is_colour
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.files import FILE_MODE, LOCK_TIMEOUT_S, atomic_write_bytes, real_target
from ordertags.base.keys import BUYER as _BUYER
from ordertags.base.keys import (
    DEFAULT_REGION,
    buyer_key,
    identity_of,
    looks_like_identity,
    looks_like_phone,
    normalize_phone,
)
from ordertags.base.keys import PHONE as _PHONE
from ordertags.base.yamlfiles import (
    NON_PRINTABLE,
    ScalarResolver,
    decode_text,
    has_anchors,
    line_of,
    load_schema,
    load_yaml_nodes,
    read_bytes,
    validate,
)
from ordertags.base.yamltext import (
    BOM,
    DASH,
    NotPlainText,
    TextLines,
    flow_list,
    guess_indent,
    reads_back_plain,
    scalar,
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


_KIND_TEXT = {
    "email": "an email address",
    "phone": "a phone number",
    "id": "a buyer id (CHANNEL:ID)",
    "address": "a postal address (COUNTRY; POSTCODE; ADDRESS LINE)",
}
_KIND_HINT = {
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


def load_tagbook(path: str | os.PathLike[str]) -> TagBook:
    """Read and check a tag book. What the parse of a book over 16 KB found is cached in
    the user's cache folder, and used while the book holds the very same bytes (see
    :mod:`ordertags.base.cache`): read again, a book of 10,000 entries costs a JSON read.

    >>> book = load_tagbook("tagbook.example.yaml")
    >>> book.rank(["VIP", "FRAUD"])
    ['FRAUD', 'VIP']
    """
    p = Path(path)
    return _book_of(read_bytes(p, TagBookError, "tag book"), p, str(p))[0]


def parse_tagbook(text: str, *, file: str) -> TagBook:
    """Build a :class:`TagBook` from YAML text (see :func:`load_tagbook`)."""
    return _parse(text, file=file)[0]


#: Tag books smaller than this are parsed every time (a few milliseconds), not cached.
CACHE_MIN_BYTES = 16 * 1024
#: The layout of the cached parse; bump it whenever what is cached changes meaning.
CACHE_FORMAT = 4
_CACHE_KIND = "tagbooks"


def _book_of(raw: bytes, path: Path, file: str) -> tuple[TagBook, dict[str, Any]]:
    """The book (and its layout, see :func:`_parse`) of a tag book's bytes: from the
    cache when it holds these very bytes, else parsed (and cached)."""
    key = digest(raw) if len(raw) >= CACHE_MIN_BYTES else None
    if key is not None:
        cached = read_cached(_CACHE_KIND, CACHE_FORMAT, path, key)
        if cached is not None:
            try:
                return _from_json(cached, file)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                pass  # not what this version writes: parse and rewrite it
    text = decode_text(raw, file=file, error=TagBookError)
    book, layout = _parse(text, file=file)
    if key is not None and cache_dir() is not None:
        write_cached(_CACHE_KIND, CACHE_FORMAT, path, key, _to_json(book, layout))
    return book, layout


def _cache_book(raw: bytes, path: Path, book: TagBook, layout: dict[str, Any]) -> None:
    if len(raw) >= CACHE_MIN_BYTES and cache_dir() is not None:
        write_cached(_CACHE_KIND, CACHE_FORMAT, path, digest(raw), _to_json(book, layout))


def _to_json(book: TagBook, layout: dict[str, Any]) -> dict[str, Any]:
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


def _from_json(data: dict[str, Any], file: str) -> tuple[TagBook, dict[str, Any]]:
    book = TagBook(path=file)
    for i, (name, colour, label, description, priority, scope, icon, nm, alert) in enumerate(
        data["tags"]
    ):
        book.tags[name] = TagDef(
            name=name,
            colour=colour,
            label=label,
            description=description,
            priority=priority,
            scope=scope,
            index=i,
            icon=icon,
            no_marketing=nm,
            alert=alert,
        )
    fromiso = dt.date.fromisoformat
    book.entries = [
        Entry(
            identity=identity,
            kind=kind,
            key=identity if key is None else key,
            tags=tuple(tags),
            note=note,
            by=by,
            at=at,
            expires=fromiso(expires) if expires else None,
            line=line,
        )
        for identity, kind, key, tags, note, by, at, expires, line in data["entries"]
    ]
    book.links = [
        Link(a=a, b=b, same=same, note=note, by=by, at=at, line=line)
        for a, b, same, note, by, at, line in data["links"]
    ]
    book.suppressed = [
        Suppression(email=email, key=key, reason=reason, by=by, at=at, line=line)
        for email, key, reason, by, at, line in data["suppressed"]
    ]
    layout = data["layout"]
    if (
        not isinstance(layout, dict)
        or len(layout.get("ends") or []) != len(book.entries)
        or not isinstance(layout.get("lists"), dict)
    ):
        raise ValueError("layout")
    return book, layout


_ENTRY_KEYS = frozenset({"email", "phone", "id", "address", "tags", "note", "by", "at", "expires"})
_TAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:.+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")


def _entry_fits(raw: Any) -> bool:
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


def _end_line(node: Any) -> int:
    """The 1-based last line holding ``node``'s text (a block scalar's end mark sits at
    the start of the line after it)."""
    end = node.end_mark
    line: int = end.line + 1
    if end.column == 0 and end.line > node.start_mark.line:
        line -= 1
    return line


def _items(root: Any, key: str) -> Any:
    """The node under the top-level ``key`` (the last one, as the loader reads it)."""
    found = None
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = v
    return found


def _layout(text: str, root: Any, count: int) -> dict[str, Any]:
    """Where each ``customers`` entry ends (its last line) and whether the list can be
    edited as text (``edit``); for ``suppressed`` and ``links``, whether they can be
    and where their last item ends (``lists``). A list can be edited as text when it is
    a block list whose every item is a block mapping starting on its dash line, in a
    file without anchors."""
    # Line numbers are the YAML parser's: they are those of a split at LF only when the
    # text has no other line break.
    plain = not has_anchors(text) and not any(c in text for c in _NOT_QUICK[1:5])
    lines = text.split("\n") if plain else []
    editable, ends = _block_list(lines, _items(root, "customers"), plain)
    if len(ends) != count:
        ends, editable = [0] * count, False
    lists = {}
    for key in ("suppressed", "links"):
        ok, item_ends = _block_list(lines, _items(root, key), plain)
        lists[key] = [ok, item_ends[-1] if item_ends else 0]
    return {"ends": ends, "edit": editable and count > 0, "lists": lists}


def _block_list(lines: list[str], seq: Any, plain: bool) -> tuple[bool, list[int]]:
    """(can the list be edited as text, the last line of each item)."""
    if not isinstance(seq, yaml.SequenceNode):
        return False, []
    ends: list[int] = []
    editable = plain and not seq.flow_style and bool(seq.value)
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            return False, []
        ends.append(max((_end_line(v) for _, v in item.value), default=0))
        if editable:
            start = item.start_mark
            dash = DASH.match(lines[start.line])
            editable = (
                not item.flow_style and dash is not None and len(dash.group(0)) == start.column
            )
    return editable, ends


#: A top-level ``customers:`` line, and the lines of a block list's entries as
#: :func:`_parse_quickly` reads them.
_CUSTOMERS_LINE = re.compile(r"^customers:[ \t]*(?:#.*)?$")
_SKIP = re.compile(r"^[ \t]*(?:#.*)?$")
_KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?:[ ]+(.*))?$")
_DOUBLE = re.compile(r'"([^"\\]*)"(?:[ \t]+#.*)?$')
_SINGLE = re.compile(r"'([^']*)'(?:[ \t]+#.*)?$")
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_FLOW = re.compile(rf"\[[ ]*((?:{_NAME})(?:[ ]*,[ ]*{_NAME})*)?[ ]*\](?:[ \t]+#.*)?$")
_PLAIN_START = re.compile(r"[A-Za-z0-9_+.(/$]")
_STR = "tag:yaml.org,2002:str"


#: Characters :func:`_parse_quickly` leaves to the YAML parser: tabs, and every line
#: break but LF (YAML 1.1 also breaks lines at CR, NEL, U+2028 and U+2029), and a BOM.
_NOT_QUICK = ("\t", "\r", "\x85", "\u2028", "\u2029", "\ufeff")


class _Quick(Exception):
    """Not a layout :func:`_parse_quickly` reads: the YAML parser reads the book."""


def _plain_value(text: str, resolve: Any) -> str | None:
    """The value of a plain scalar written as ``text`` (a trailing comment dropped),
    when it is certainly a string as the YAML parser would read it."""
    for mark in (" #", "\t#"):
        cut = text.find(mark)
        if cut >= 0:
            text = text[:cut]
    text = text.rstrip(" \t")
    if not text:
        return None
    if (
        not _PLAIN_START.match(text)
        or ": " in text
        or ":\t" in text
        or text.endswith(":")
        or "\t" in text
        or resolve(text) != _STR
    ):
        raise _Quick
    return text


def _parse_quickly(text: str, *, file: str) -> tuple[TagBook, dict[str, Any]] | None:
    """The book read without the YAML parser for its ``customers`` list, in the layout
    ordertags writes and people keep (``- email: ...`` then ``  tags: [...]``, one value
    a line, plain or quoted without escapes, comments and blank lines anywhere), or None
    for anything else. The rest of the book (tags, links, suppressed) is parsed as
    usual. A book of 10,000 entries reads in a tenth of the time."""
    if (
        has_anchors(text)
        or any(c in text for c in _NOT_QUICK)
        or NON_PRINTABLE.search(text) is not None
    ):
        return None
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("customers")]
    if len(starts) != 1 or not _CUSTOMERS_LINE.match(lines[starts[0]]):
        return None
    top = starts[0]
    resolver = ScalarResolver()

    def resolve(value: str) -> Any:
        return resolver.resolve(yaml.ScalarNode, value, (True, False))

    entries: list[dict[str, Any]] = []
    entry_lines: list[int] = []
    ends: list[int] = []
    dash = key_col = -1
    current: dict[str, Any] = {}
    end = top + 1
    try:
        for i in range(top + 1, len(lines)):
            line = lines[i]
            if _SKIP.match(line):
                continue
            indent = len(line) - len(line.lstrip(" "))
            if dash < 0:
                first = DASH.match(line)
                if first is None:
                    break  # no entry: not a block list (or an empty one)
                dash = len(first.group(1))
            if indent < dash or (indent == dash and not line.startswith("- ", dash)):
                end = i
                break
            if indent == dash:
                first = DASH.match(line)
                if first is None or len(first.group(1)) != dash:
                    raise _Quick
                if key_col >= 0 and len(first.group(0)) != key_col:
                    raise _Quick
                key_col = len(first.group(0))
                current = {}
                entries.append(current)
                entry_lines.append(i + 1)
                ends.append(i + 1)
            elif indent != key_col or not entries:
                raise _Quick
            found = _KEY_VALUE.match(line, key_col)
            if found is None or found.group(1) in current:
                raise _Quick
            key, raw = found.group(1), found.group(2) or ""
            if raw.startswith("["):
                names = _FLOW.match(raw)
                if names is None:
                    raise _Quick
                items = [n.strip() for n in names.group(1).split(",")] if names.group(1) else []
                if any(resolve(n) != _STR for n in items):
                    raise _Quick
                value: Any = items
            elif raw.startswith('"') or raw.startswith("'"):
                quoted_value = (_DOUBLE if raw[0] == '"' else _SINGLE).match(raw)
                if quoted_value is None:
                    raise _Quick
                value = quoted_value.group(1)
            elif raw.startswith("#"):
                value = None
            else:
                value = _plain_value(raw, resolve)
            current[key] = value
            ends[-1] = i + 1
        else:
            end = len(lines)
    except _Quick:
        return None
    if not entries:
        return None
    # The rest of the book, with the list's lines left blank (so every line keeps its
    # number) and an empty list in its place.
    rest = "\n".join(lines[:top] + ["customers: []"] + [""] * (end - top - 1) + lines[end:])
    try:
        data, root = load_yaml_nodes(rest, file=file, error=TagBookError)
    except TagBookError:
        return None
    listed = _items(root, "customers")
    if (
        not isinstance(data, dict)
        or data.get("customers") != []
        or not isinstance(listed, yaml.SequenceNode)
        or listed.start_mark.line != top
    ):
        return None
    data["customers"] = entries
    try:
        return _build(text, file, data, root, (entry_lines, ends), rest)
    except TagBookError:
        return None  # the YAML parser reads it again, for the message


def _parse(text: str, *, file: str) -> tuple[TagBook, dict[str, Any]]:
    """The book, and the layout of its ``customers`` list (see :func:`_layout`)."""
    fast = _parse_quickly(text, file=file)
    if fast is not None:
        return fast
    data, root = load_yaml_nodes(text, file=file, error=TagBookError)
    return _build(text, file, data, root, None)


def _build(
    text: str,
    file: str,
    data: Any,
    root: Any,
    read: tuple[list[int], list[int]] | None,
    rest: str | None = None,
) -> tuple[TagBook, dict[str, Any]]:
    """Check the data of a tag book and make the book. ``rest``: the text without the
    ``customers`` entries (same line numbers), when :func:`_parse_quickly` made it:
    what the JSON Schema check of the rest is remembered by, so that editing customers
    by hand does not mean checking the tag definitions again. ``read``: the lines and
    ends of the ``customers`` entries when :func:`_parse_quickly` read them, else None (they
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
    if isinstance(customers, list) and all(_entry_fits(raw) for raw in customers):
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
        seq = _items(root, key)
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
                f'"{written}" is not {_KIND_TEXT[kind]}.',
                file=file,
                line=line_of(text, ["customers", i, kind]) or line,
                key=f"customers[{i}].{kind}",
                hint=_KIND_HINT[kind],
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
        return book, _layout(text, root, len(book.entries))
    layout = _layout(text, root, 0)
    return book, {**layout, "ends": read[1], "edit": bool(read[1])}


# --- editing -------------------------------------------------------------------------


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


def _identity(text: str, region: str | None, *, valid_phone: bool = False) -> tuple[str, str]:
    """(entry kind, key) of an identity a person gave: ``email``, ``phone`` or ``id``.
    One that is none of them is a usage error (exit 2), as for ``link``."""
    if text.strip().lower().startswith("address:"):
        key = written_key(text.strip()[8:])
        if key is None:
            raise UsageError(
                f'"{text.strip()}" is not {_KIND_TEXT["address"]}.', hint=_KIND_HINT["address"]
            )
        return "address", key
    kind, key = identity_of(text, region or DEFAULT_REGION, valid_phone=valid_phone)
    return ("id" if kind == _BUYER else "phone" if kind == _PHONE else "email"), key


def _plain(value: str) -> Any:
    """A string as ruamel should write it: quoted when a YAML 1.1 reader (ours) would
    read it back as something else (``yes``, ``on``, ``1:20``, ``2026-01-01``...)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return value if reads_back_plain(value) else DoubleQuotedScalarString(value)


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")  # round-trip: only plain data and comments, never objects
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


#: Edit the customers list as text where the layout allows (tests turn it off to
#: compare with the round trip).
_TEXT_EDITS = True


class _TextEdit:
    """The ``customers`` list of a tag book edited as lines of text: an entry appended
    after the last one in the same layout, an entry's lines removed, its tags or note
    rewritten. Everything else in the file stays byte for byte. Each change is checked
    by parsing the changed entry's lines; whatever is not the common layout raises
    :class:`NotPlainText`, and the caller uses the round trip instead."""

    def __init__(self, raw: bytes, book: TagBook, layout: dict[str, Any]) -> None:
        self.doc = TextLines(raw)
        self.book = book
        self.entries = list(book.entries)
        self.ends: list[int] = list(layout["ends"])
        self.customers_ok = bool(layout["edit"])
        self.lists: dict[str, list[Any]] = {k: list(v) for k, v in layout["lists"].items()}
        self.links = list(book.links)
        self.suppressed = list(book.suppressed)
        self.changed = False

    def result(self) -> tuple[bytes, TagBook, dict[str, Any]]:
        """The new bytes, and the book and layout a full parse of them gives."""
        book = TagBook(
            path=self.book.path,
            tags=self.book.tags,
            entries=self.entries,
            links=self.links,
            suppressed=self.suppressed,
        )
        layout = {
            "ends": self.ends,
            "edit": self.customers_ok and bool(self.entries),
            "lists": self.lists,
        }
        return self.doc.to_bytes(), book, layout

    def _shift(self, after: int, by: int) -> None:
        """Lines after line ``after`` moved by ``by``."""

        def moved(line: int | None) -> int | None:
            return line + by if line is not None and line > after else line

        self.entries = [
            e if (e.line or 0) <= after else replace(e, line=moved(e.line)) for e in self.entries
        ]
        self.ends = [end + by if end > after else end for end in self.ends]
        for item in self.lists.values():
            item[1] += by if item[1] > after else 0
        self.links = [
            x if (x.line or 0) <= after else replace(x, line=moved(x.line)) for x in self.links
        ]
        self.suppressed = [
            x if (x.line or 0) <= after else replace(x, line=moved(x.line)) for x in self.suppressed
        ]

    def _node(self, i: int) -> tuple[Any, int]:
        """Entry ``i``'s mapping node, parsed from its own lines (their line numbers
        counted from the returned first line), after checking they hold what the book
        says."""
        entry, first, last = self.entries[i], self.entries[i].line, self.ends[i]
        if not self.customers_ok or first is None or not 0 < first <= last <= len(self.doc):
            raise NotPlainText("entry lines")
        data, root = _snippet(self.doc.snippet(first, last))
        raw = data[0]
        if (
            not isinstance(raw.get("tags"), list)
            or raw.get(entry.kind) != entry.identity
            or tuple(raw["tags"]) != entry.tags
            or raw.get("note") != entry.note
        ):
            raise NotPlainText("the lines do not hold the entry")
        return root.value[0], first

    def _item_lines(self, first: int, record: dict[str, Any]) -> tuple[list[str], Any]:
        """The lines of a new list item ``record``, laid out as the item starting on line
        ``first`` is (its dash and indent), and what they read back as."""
        dash = DASH.match(self.doc.line(first))
        if dash is None:
            raise NotPlainText("no dash")
        pad = " " * len(dash.group(0))
        texts: list[str] = []
        for k, v in record.items():
            value = flow_list(v) if isinstance(v, list) else scalar(v)
            texts.append(f"{dash.group(0) if not texts else pad}{k}: {value}")
        data, _ = _snippet("".join(t + "\n" for t in texts))
        return texts, data

    def append(self, record: dict[str, Any]) -> None:
        """Add ``record`` (a new entry) after the last entry, in its layout."""
        if not self.entries or not self.customers_ok:
            raise NotPlainText("no entry to follow")
        self._node(len(self.entries) - 1)
        last = self.entries[-1]
        first, end = last.line or 0, self.ends[-1]
        texts, data = self._item_lines(first, record)
        kind = next(k for k in IDENTITY_FIELDS if k in record)
        key = entry_key(kind, record[kind])
        if data != [record] or not _entry_fits(record) or key is None:
            raise NotPlainText("the new entry does not read back")
        self.doc.insert(end, texts)
        self._shift(end, len(texts))
        expires = record.get("expires")
        self.entries.append(
            Entry(
                identity=record[kind],
                kind=kind,
                key=key,
                tags=tuple(record["tags"]),
                note=record.get("note"),
                by=record.get("by"),
                at=record.get("at"),
                expires=dt.date.fromisoformat(expires[:10]) if expires else None,
                line=end + 1,
            )
        )
        self.ends.append(end + len(texts))
        self.changed = True

    def append_item(self, key: str, record: dict[str, Any]) -> None:
        """Add ``record`` after the last item of the ``suppressed`` or ``links`` list, in
        its layout (the same checks as :meth:`append`)."""
        ok, end = self.lists.get(key) or (False, 0)
        items: list[Any] = self.suppressed if key == "suppressed" else self.links
        first = items[-1].line if items else None
        if not ok or first is None or not 0 < first <= end <= len(self.doc):
            raise NotPlainText("no item to follow")
        data, _ = _snippet(self.doc.snippet(first, last=end))
        last = items[-1]
        held = (
            data[0].get("email")
            if key == "suppressed"
            else data[0].get("same" if last.same else "different")
        )
        if held != (last.email if key == "suppressed" else [last.a, last.b]):
            raise NotPlainText("the lines do not hold the item")
        texts, data = self._item_lines(first, record)
        if data != [record] or not _fits_schema(key, record):
            raise NotPlainText("the new item does not read back")
        self.doc.insert(end, texts)
        self._shift(end, len(texts))
        if key == "suppressed":
            email = record["email"]
            self.suppressed.append(
                Suppression(
                    email=email,
                    key=normalize_email(email) or email,
                    reason=record.get("reason"),
                    by=record.get("by"),
                    at=record.get("at"),
                    line=end + 1,
                )
            )
        else:
            same = "same" in record
            a, b = record["same" if same else "different"]
            self.links.append(
                Link(
                    a=a,
                    b=b,
                    same=same,
                    note=record.get("note"),
                    by=record.get("by"),
                    at=record.get("at"),
                    line=end + 1,
                )
            )
        self.lists[key][1] = end + len(texts)
        self.changed = True

    def remove(self, i: int) -> None:
        """Delete entry ``i``'s lines (the last one left too: ``customers:`` with no
        entry reads as an empty list)."""
        _, first = self._node(i)
        last = self.ends[i]
        self.doc.delete(first, last)
        del self.entries[i], self.ends[i]
        self._shift(last, first - last - 1)
        self.changed = True

    def _value(self, i: int, key: str) -> tuple[Any, int] | None:
        """Entry ``i``'s value node for ``key`` (None when absent), and its line."""
        node, first = self._node(i)
        found = [v for k, v in node.value if k.value == key]
        if len(found) > 1:
            raise NotPlainText("a key given twice")
        if not found:
            return None
        value = found[0]
        if value.start_mark.line != value.end_mark.line:
            raise NotPlainText("a value over several lines")
        return value, first + value.start_mark.line

    def _put(self, value: Any, line: int, text: str) -> None:
        """Put ``text`` in place of the one-line ``value`` on ``line``."""
        old = self.doc.line(line)
        start, end = value.start_mark.column, value.end_mark.column
        self.doc.replace(line, old[:start] + text + old[end:])

    def set_tags(self, i: int, tags: list[str]) -> None:
        """Rewrite entry ``i``'s tags (a flow list on one line, ``[VIP, REGULAR]``)."""
        found = self._value(i, "tags")
        if found is None or not isinstance(found[0], yaml.SequenceNode) or not found[0].flow_style:
            raise NotPlainText("tags not a flow list")
        self._put(found[0], found[1], flow_list(tags))
        self.entries[i] = replace(self.entries[i], tags=tuple(tags))
        self._node(i)  # the lines read back as the changed entry
        self.changed = True

    def set_note(self, i: int, note: str) -> None:
        """Set entry ``i``'s note: its value rewritten, or a ``note:`` line added."""
        found = self._value(i, "note")
        if found is None:
            node, first = self._node(i)
            pad = " " * node.start_mark.column
            end = self.ends[i]
            self.doc.insert(end, [f"{pad}note: {scalar(note)}"])
            self._shift(end, 1)
            self.ends[i] = end + 1
        else:
            value, line = found
            if not isinstance(value, yaml.ScalarNode) or value.style not in (None, "", '"', "'"):
                raise NotPlainText("note not a one-line scalar")
            self._put(value, line, scalar(note))
        self.entries[i] = replace(self.entries[i], note=note)
        self._node(i)
        self.changed = True

    def set_value(self, i: int, key: str, text: str | None, entry: Entry) -> None:
        """Set entry ``i``'s ``key`` to the YAML scalar ``text`` (its one-line value
        rewritten, or a line added at the entry's end), or remove its line (``None``);
        ``entry`` is what the lines then hold (checked by reading them back)."""
        node, first = self._node(i)
        if node.flow_style:
            raise NotPlainText("a flow mapping")
        found = self._value(i, key)
        if found is None and text is not None:
            end = self.ends[i]
            self.doc.insert(end, [f"{' ' * node.start_mark.column}{key}: {text}"])
            self._shift(end, 1)
            self.ends[i] = end + 1
        elif found is not None:
            value, line = found
            if not isinstance(value, yaml.ScalarNode) or value.style not in (None, "", '"', "'"):
                raise NotPlainText("not a one-line scalar")
            if text is not None:
                self._put(value, line, text)
            else:
                if line == first or not self.doc.line(line).lstrip().startswith(f"{key}:"):
                    raise NotPlainText("the value shares its line")
                last = self.ends[i] == line
                self.doc.delete(line, line)
                self._shift(line, -1)
                if last:
                    self.ends[i] = line - 1
        self.entries[i] = replace(entry, line=self.entries[i].line)
        self._node(i)
        raw = _snippet(self.doc.snippet(self.entries[i].line or 0, self.ends[i]))[0][0]
        held = raw.get("expires")
        if (str(held)[:10] if held else None) != (
            entry.expires.isoformat() if entry.expires else None
        ):
            raise NotPlainText("the expiry does not read back")
        self.changed = True


def _snippet(text: str) -> tuple[Any, Any]:
    """One entry's lines parsed on their own: (``[entry]``, the list's node)."""
    try:
        data, root = load_yaml_nodes(text, file="", error=TagBookError)
    except TagBookError:
        raise NotPlainText("the lines do not parse") from None
    if (
        not isinstance(root, yaml.SequenceNode)
        or len(root.value) != 1
        or not isinstance(root.value[0], yaml.MappingNode)
        or not isinstance(data, list)
        or not isinstance(data[0], dict)
    ):
        raise NotPlainText("not one entry")
    return data, root


def _fits_schema(key: str, record: dict[str, Any]) -> bool:
    """Does one new item of the list ``key`` satisfy the tag book's schema?"""
    import jsonschema

    schema = load_schema("tagbook")
    validator = jsonschema.validators.validator_for(schema)(schema)
    return bool(validator.is_valid({"tags": [], key: [record]}))


#: Called with the tag book as read under the edit's lock, before any change: raises to
#: refuse the edit (the team screen: the customer's entries changed since the page).
Guard = Callable[["TagBook"], None]


def _edit(path: Path, change: Any, text_change: Any = None, guard: Guard | None = None) -> Any:
    """Lock the tag book, let ``change`` edit it (loaded round-trip), check the result
    and write it back atomically. ``change`` returns what the caller reports.

    ``text_change``, when given, does the same on a :class:`_TextEdit` of the file's
    lines: tried first, for a ``customers`` list in the usual layout, it changes only
    the lines of the entries concerned (a large book's round trip takes seconds);
    where it cannot, ``change`` does the edit."""
    from filelock import FileLock, Timeout

    # A tag book that is a symbolic link (one book shared by several workspaces) is
    # edited where it points, under the lock of that file: every link to one book
    # takes the same lock, and the link stays a link.
    shown = path
    path = real_target(path)
    if os.path.islink(str(path) + ".lock"):
        # Opening it would follow the link (and truncate what it points to).
        raise TagBookError(
            f"the lock file {path}.lock is a symbolic link.",
            file=str(shown),
            hint=f"Delete {path}.lock (it must be a plain file, not a link) and try again.",
        )
    lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S, mode=FILE_MODE)
    try:
        with lock:
            raw = read_bytes(path, TagBookError, "tag book")
            # Refuse to edit a broken file.
            book, layout = _book_of(raw, path, str(path))
            if guard is not None:
                guard(book)
            if text_change is not None and _TEXT_EDITS:
                try:
                    edit = _TextEdit(raw, book, layout)
                    result = text_change(edit, book)
                except NotPlainText:
                    pass
                else:
                    if edit.changed:
                        new_raw, new_book, new_layout = edit.result()
                        atomic_write_bytes(path, new_raw)
                        _cache_book(new_raw, path, new_book, new_layout)
                    return result
            return _round_trip_edit(path, raw, change, book)
    except Timeout:
        raise TagBookError(
            f"the tag book is locked by another ordertags for over {LOCK_TIMEOUT_S:.0f} s.",
            file=str(shown),
            hint=f"Try again; if no ordertags is running, delete {path}.lock.",
        ) from None
    except OSError as exc:
        if Path(exc.filename or "") != Path(str(path) + ".lock"):
            raise
        raise TagBookError(
            f"the lock file {path}.lock cannot be used: {exc.strerror}.",
            file=str(shown),
            hint=f"Delete {path}.lock (it must be a plain file, not a link) and try again.",
        ) from None


def _round_trip_edit(path: Path, raw: bytes, change: Any, book: TagBook) -> Any:
    """The edit through a comment-preserving YAML round trip (under the caller's lock)."""
    text = decode_text(raw, file=str(path), error=TagBookError)
    yaml_rt = _round_trip()
    # The guess gives the sequence indent and the dash offset ("  - name:" is 4 and 2);
    # the mapping indent is what is left once the dash is placed.
    indent, block_seq_indent = guess_indent(text)
    yaml_rt.indent(
        mapping=max(2, indent - block_seq_indent), sequence=indent, offset=block_seq_indent
    )
    data = yaml_rt.load(text)
    result = change(data, book)
    out = io.StringIO()
    yaml_rt.dump(data, out)
    new_text = out.getvalue()
    # Never write a tag book we cannot read.
    try:
        new_book, new_layout = _parse(new_text, file=str(path))
    except TagBookError as exc:
        raise TagBookError(
            f"the edit was not saved: the YAML library wrote a tag book that does not read "
            f"back ({exc.message})",
            file=str(path),
            hint="The tag book is unchanged. Make the change by hand, or move the comments "
            "next to the entry to another place and try again.",
        ) from None
    if new_text != text:
        # Keep the file's own line ends and BOM, so a diff shows only the change.
        crlf = b"\r\n" in raw[:4096] or raw.count(b"\r\n") * 2 > raw.count(b"\n")
        body = new_text.replace("\n", "\r\n") if crlf else new_text
        bom = BOM if raw.startswith(BOM) else b""
        new_raw = bom + body.encode("utf-8")
        atomic_write_bytes(path, new_raw)
        _cache_book(new_raw, path, new_book, new_layout)
    return result


def default_author() -> str:
    """Who is tagging: $ORDERTAGS_USER, else the login name."""
    try:
        return os.environ.get("ORDERTAGS_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


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

    p = Path(path)
    given = list(tags)
    written = identity.strip()
    kind, key = _identity(written, region, valid_phone=valid_phone)
    if kind == "phone":
        written = key  # one spelling in the file: E.164
    elif kind == "id":
        written = key
    elif kind == "address":
        written = written[8:].strip()  # the entry's key says what it is
    if isinstance(expires, str):
        expires = parse_date(expires, what="--expires")
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    if expires is not None and expires < when.date():
        raise TagBookError(
            f"--expires {expires.isoformat()} is in the past.",
            hint="Give a date from today on, or leave --expires out.",
        )

    def decide(book: TagBook) -> tuple[TagChange, dict[str, Any] | None, int | None]:
        """What to do: (the report, a new entry to append, the entry whose note to set)."""
        tags = [book.tag_named(name) for name in given]  # in the tag book's spelling
        have: set[str] = set()
        mine: list[int] = []
        for i, entry in enumerate(book.entries):
            if not entry.expired(when.date()) and entry.key_in(region) == key:
                have.update(entry.tags)
                mine.append(i)
        new = [t for t in dict.fromkeys(tags) if t not in have]
        if not new:
            target = _note_target(book, mine, tags, note)
            return (
                TagChange(
                    written, key, unchanged=tuple(tags), note_updated=target is not None, kind=kind
                ),
                None,
                target,
            )
        record: dict[str, Any] = {kind: written, "tags": new}
        if note:
            record["note"] = note
        record["by"] = by or default_author()
        record["at"] = when.isoformat()
        if expires is not None:
            record["expires"] = expires.isoformat()
        report = TagChange(
            written,
            key,
            added=tuple(new),
            unchanged=tuple(t for t in tags if t in have),
            kind=kind,
        )
        return report, record, None

    def change(data: Any, book: TagBook) -> TagChange:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        report, record, target = decide(book)
        if target is not None:
            (data.get("customers") or [])[target]["note"] = _plain(note or "")
        if record is None:
            return report
        entry = CommentedMap()
        for k, v in record.items():
            if isinstance(v, list):
                seq = CommentedSeq([_plain(t) for t in v])
                seq.fa.set_flow_style()
                entry[k] = seq
            else:
                entry[k] = v if k in ("at", "expires") else _plain(v)
        customers = data.get("customers")
        if customers is None or (not customers and customers.fa.flow_style()):
            customers = CommentedSeq()
            data["customers"] = customers
        customers.append(entry)
        return report

    def text_change(edit: _TextEdit, book: TagBook) -> TagChange:
        report, record, target = decide(book)
        if target is not None:
            edit.set_note(target, note or "")
        if record is not None:
            edit.append(record)
        return report

    result: TagChange = _edit(p, change, text_change, guard)
    return result


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
) -> TagChange:
    """Remove tags from a customer: from every entry naming the same identity (any
    spelling of the email or phone number, any case of a buyer id). An entry left with
    no tags is removed.

    >>> _ = tag_customer("tagbook.yaml", "jane@example.com", ["VIP"])
    >>> untag_customer("tagbook.yaml", "Jane@Example.com", ["VIP"]).removed
    ('VIP',)
    """
    p = Path(path)
    if not identity.strip():
        raise TagBookError("the customer is blank.", hint="Give an email, phone or buyer id.")
    kind, key = _identity(identity, region)
    given = list(tags)

    def decide(book: TagBook) -> tuple[TagChange, list[tuple[int, list[str]]]]:
        """The report, and the entries to change: (index, tags kept), last first."""
        tags = [book.tag_named(name) for name in given]  # in the tag book's spelling
        removed: set[str] = set()
        plan: list[tuple[int, list[str]]] = []
        for i in reversed(range(len(book.entries))):
            entry = book.entries[i]
            if entry.key_in(region) != key:
                continue
            kept = [t for t in entry.tags if t not in tags]
            if len(kept) != len(entry.tags):
                removed.update(t for t in entry.tags if t in tags)
                plan.append((i, kept))
        report = TagChange(
            identity.strip(),
            key,
            removed=tuple(t for t in tags if t in removed),
            unchanged=tuple(t for t in tags if t not in removed),
            kind=kind,
        )
        return report, plan

    def change(data: Any, book: TagBook) -> TagChange:
        report, plan = decide(book)
        customers = data.get("customers") or []
        dropped = {tag_key(t) for t in report.removed}  # the file may spell them otherwise
        for i, kept in plan:
            entry = customers[i]
            if not kept:
                del customers[i]
            else:
                for j in reversed(range(len(entry["tags"]))):
                    if tag_key(str(entry["tags"][j])) in dropped:
                        del entry["tags"][j]
        return report

    def text_change(edit: _TextEdit, book: TagBook) -> TagChange:
        report, plan = decide(book)
        for i, kept in plan:
            if kept:
                edit.set_tags(i, kept)
            else:
                edit.remove(i)
        return report

    result: TagChange = _edit(p, change, text_change, guard)
    return result


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
    p = Path(path)
    written = identity.strip()
    if not written:
        raise UsageError("the customer is blank.", hint="Give an email, phone or buyer id.")
    if note is None and expires is None:
        raise UsageError(
            "say what to change: the note or the expiry date.",
            hint='Give a note ("" removes it) or an expiry date YYYY-MM-DD ("never" removes it).',
        )
    kind, key = _identity(written, region)
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
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

    def decide(book: TagBook) -> tuple[int, EntryChange]:
        name = book.tag_named(tag)
        holding = [
            i for i, e in enumerate(book.entries) if e.key_in(region) == key and name in e.tags
        ]
        if not holding:
            raise TagBookError(
                f"{written} has no entry with {name} in the tag book.",
                file=str(p),
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
        if not _entry_fits(record) and not _fits_schema("customers", record):
            raise UsageError(
                "the changed entry would not be a valid tag-book entry.",
                hint="Check the note and the date, and try again.",
            )
        return i, EntryChange(written, key, name, before, after)

    def change(data: Any, book: TagBook) -> EntryChange:
        i, report = decide(book)
        if not report.changed:
            return report
        entry = (data.get("customers") or [])[i]
        for k, old, new in (
            ("note", report.before.note, report.after.note),
            ("expires", report.before.expires, report.after.expires),
        ):
            if new == old:
                continue
            if new is None:
                entry.pop(k, None)
            else:
                entry[k] = new.isoformat() if isinstance(new, dt.date) else _plain(new)
        return report

    def text_change(edit: _TextEdit, book: TagBook) -> EntryChange:
        i, report = decide(book)
        if not report.changed:
            return report
        before, after = report.before, report.after
        if after.note != before.note:
            middle = replace(before, note=after.note)
            edit.set_value(i, "note", None if after.note is None else scalar(after.note), middle)
            before = middle
        if after.expires != before.expires:
            iso = after.expires.isoformat() if after.expires else None
            edit.set_value(i, "expires", None if iso is None else scalar(iso), after)
        return report

    result: EntryChange = _edit(p, change, text_change, guard)
    return result


def define_tag(
    path: str | os.PathLike[str],
    name: str,
    *,
    label: str | None = None,
    description: str | None = None,
    guard: Guard | None = None,
) -> bool:
    """Add a tag definition at the end of the tag book's ``tags`` list (``ordertags
    import --create-tags``); False when the book already defines it (any case).

    >>> define_tag("tagbook.yaml", "WHOLESALE", label="Wholesale buyer")
    True
    """
    if not _TAG_NAME.search(name):
        raise UsageError(
            f'"{name}" is not a tag name.',
            hint="Tag names are letters, digits and _ . - (e.g. WHOLESALE).",
        )

    def change(data: Any, book: TagBook) -> bool:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        if book.spelling(name) is not None:
            return False
        item = CommentedMap()
        item["name"] = _plain(name)
        item["label"] = _plain(label or name)
        if description:
            item["description"] = _plain(description)
        listed = data.get("tags")
        if listed is None or (not listed and listed.fa.flow_style()):
            listed = CommentedSeq()
            data["tags"] = listed
        listed.append(item)
        return True

    result: bool = _edit(Path(path), change, None, guard)
    return result


# --- suppression ---------------------------------------------------------------------


@dataclass(frozen=True)
class SuppressChange:
    """What ``suppress_address`` did: ``added`` False when the address (any spelling with
    the same customer key) was already suppressed, or, with ``remove``, how many entries
    went."""

    email: str
    key: str
    added: bool = False
    removed: int = 0


def suppress_address(
    path: str | os.PathLike[str],
    email: str,
    *,
    reason: str | None = None,
    by: str | None = None,
    remove: bool = False,
    now: dt.datetime | None = None,
    guard: Guard | None = None,
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
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)

    def record() -> dict[str, Any]:
        out: dict[str, Any] = {"email": email}
        if reason:
            out["reason"] = reason
        out["by"] = by or default_author()
        out["at"] = when.isoformat()
        return out

    def change(data: Any, book: TagBook) -> SuppressChange:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        listed = data.get("suppressed")
        if remove:
            removed = 0
            for i in reversed(range(len(listed or []))):
                if normalize_email(str(listed[i].get("email", ""))) == key:
                    del listed[i]
                    removed += 1
            return SuppressChange(email, key, removed=removed)
        if any(s.key == key for s in book.suppressed):
            return SuppressChange(email, key)
        item = CommentedMap()
        for k, v in record().items():
            item[k] = v if k == "at" else _plain(v)
        if listed is None or (not listed and listed.fa.flow_style()):
            listed = CommentedSeq()
            data["suppressed"] = listed
        listed.append(item)
        return SuppressChange(email, key, added=True)

    def text_change(edit: _TextEdit, book: TagBook) -> SuppressChange:
        listed = [s.key for s in book.suppressed]
        if remove:
            if key in listed:
                raise NotPlainText("removing is left to the round trip")
            return SuppressChange(email, key, removed=0)
        if key in listed:
            return SuppressChange(email, key)
        edit.append_item("suppressed", record())
        return SuppressChange(email, key, added=True)

    result: SuppressChange = _edit(Path(path), change, text_change, guard)
    return result


# --- links ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkChange:
    """What ``link_identities``/``unlink_identities`` did."""

    a: str
    b: str
    added: bool = False  # a new "same" or "different" entry
    removed: int = 0  # entries of the opposite kind for the pair, removed


def _edit_link(
    path: str | os.PathLike[str],
    a: str,
    b: str,
    *,
    same: bool,
    note: str | None,
    by: str | None,
    region: str | None,
    now: dt.datetime | None,
    guard: Guard | None = None,
) -> LinkChange:
    code = region or DEFAULT_REGION
    ka, kb = identity_of(a, code)[1], identity_of(b, code)[1]
    if ka == kb:
        raise TagBookError(
            f'"{a}" and "{b}" are the same identity.',
            hint="Give two different emails or phone numbers.",
        )
    pair = {ka, kb}
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    kind, other = ("same", "different") if same else ("different", "same")

    def keys_of(raw: Any) -> set[str] | None:
        try:
            return {identity_of(str(v), code)[1] for v in raw}
        except OrderTagsError:
            return None

    def change(data: Any, book: TagBook) -> LinkChange:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        links = data.get("links")
        if links is None or (not links and links.fa.flow_style()):
            links = CommentedSeq()
            data["links"] = links
        removed = 0
        present = False
        for i in reversed(range(len(links))):
            entry = links[i]
            for k in (kind, other):
                if k in entry and keys_of(entry[k]) == pair:
                    if k == other:
                        del links[i]
                        removed += 1
                    else:
                        present = True
        if present:
            return LinkChange(a, b, added=False, removed=removed)
        record = CommentedMap()
        seq = CommentedSeq([_plain(a.strip()), _plain(b.strip())])
        seq.fa.set_flow_style()
        record[kind] = seq
        if note:
            record["note"] = _plain(note)
        record["by"] = _plain(by or default_author())
        record["at"] = when.isoformat()
        links.append(record)
        return LinkChange(a, b, added=True, removed=removed)

    def text_change(edit: _TextEdit, book: TagBook) -> LinkChange:
        matching = [x.same == same for x in book.links if keys_of([x.a, x.b]) == pair]
        if not all(matching):
            raise NotPlainText("removing is left to the round trip")
        if matching:
            return LinkChange(a, b, added=False, removed=0)
        record: dict[str, Any] = {kind: [a.strip(), b.strip()]}
        if note:
            record["note"] = note
        record["by"] = by or default_author()
        record["at"] = when.isoformat()
        edit.append_item("links", record)
        return LinkChange(a, b, added=True, removed=0)

    result: LinkChange = _edit(Path(path), change, text_change, guard)
    return result


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
) -> LinkChange:
    """Record in the tag book that two identities (emails or phone numbers) are the same
    person; a "different" entry for the pair is removed. Links beat automatic matches.

    >>> link_identities("tagbook.yaml", "jane@example.com", "07700 900123")
    LinkChange(a='jane@example.com', b='07700 900123', added=True, removed=0)
    """
    return _edit_link(path, a, b, same=True, note=note, by=by, region=region, now=now, guard=guard)


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
) -> LinkChange:
    """Record in the tag book that two identities are different people, whatever the
    evidence says; a "same" link for the pair is removed.

    >>> unlink_identities(
    ...     "tagbook.yaml", "bob@example.com", "bob.smith@example.com"
    ... )
    LinkChange(a='bob@example.com', b='bob.smith@example.com', added=True, removed=0)
    """
    return _edit_link(path, a, b, same=False, note=note, by=by, region=region, now=now, guard=guard)


def customer_version(book: TagBook, keys: Iterable[str], region: str | None = None) -> str:
    """A short fingerprint of what the tag book says about the identities ``keys``:
    their entries, the links naming them, their suppressions. A page shows it, and an
    edit made from the page is refused (:class:`ordertags.errors.EditConflictError`)
    when it has changed meanwhile: someone else changed the same customer.

    >>> version = customer_version(load_tagbook("tagbook.yaml"), {"lena.nguyen@example.org"})
    >>> len(version), version == customer_version(load_tagbook("tagbook.yaml"), set())
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
