"""The tag book: tag definitions and the customers tagged by hand.

Reading uses a safe YAML loader. Writing (``tag_customer``, ``untag_customer``) edits the
file with a comment-preserving round trip under a file lock, and replaces it atomically,
so hand edits, comments and layout survive and two writers at once both land.
This module must stay free of pandas and pyarrow: the quick commands use it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordertags.base.colours import is_colour
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.files import FILE_MODE, atomic_write_bytes, real_target
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
from ordertags.base.yamlfiles import line_of, load_yaml, read_text, validate
from ordertags.errors import OrderTagsError, TagBookError

LOCK_TIMEOUT_S = 30.0


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

    @property
    def display(self) -> str:
        """The label as every view shows it: the icon, if any, then the label.

        >>> TagDef("VIP", label="VIP — add a freebie", icon="★").display
        '★ VIP — add a freebie'
        """
        return f"{self.icon} {self.label}" if self.icon else self.label


#: The keys a tag-book entry can name its customer by.
IDENTITY_FIELDS = ("email", "phone", "id")


@dataclass(frozen=True)
class Entry:
    """A customer tagged by hand, named by one identity: an email, a phone number or a
    marketplace buyer id (``kind`` says which: ``email``, ``phone`` or ``id``)."""

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


@dataclass
class TagBook:
    """Tag definitions (in file order), manual entries, identity links and suppressed
    addresses."""

    path: str
    tags: dict[str, TagDef] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    suppressed: list[Suppression] = field(default_factory=list)

    def no_marketing_tags(self) -> list[str]:
        """The tags marked ``no_marketing: true``, in tag-book order."""
        return [name for name, t in self.tags.items() if t.no_marketing]

    def rank(self, names: Iterable[str]) -> list[str]:
        """Tag names, highest priority first (ties: the order of the tag book)."""
        return sorted(set(names), key=lambda n: (-self.tags[n].priority, self.tags[n].index))

    def require(
        self, name: str, *, file: str | None = None, line: int | None = None, key: str | None = None
    ) -> TagDef:
        """The definition of ``name``, or an error that lists the defined tags."""
        if name in self.tags:
            return self.tags[name]
        defined = ", ".join(self.tags) or "none"
        raise TagBookError(
            f'tag "{name}" is not defined in the tag book {self.path} (defined: {defined}).',
            file=file,
            line=line,
            key=key,
            hint="Add it under `tags:` in the tag book, or use one of the defined tags.",
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
}
_KIND_HINT = {
    "email": "Write the customer's email, e.g. jane@example.com.",
    "phone": 'Write the phone number with its country code, e.g. "+447700900123".',
    "id": "Write the marketplace and the buyer's id, e.g. ebay:quinn_belfast or amazon:A1B2C3.",
}


def entry_key(kind: str, text: str, region: str = DEFAULT_REGION) -> str | None:
    """The identity key of a tag-book entry's ``email``, ``phone`` or ``id`` (None when
    the text is not one)."""
    if kind == "email":
        key = normalize_email(text)
        return key if key is not None and looks_like_email(text) else None
    if kind == "id":
        return buyer_key(text)
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
    """Read and check a tag book.

    >>> book = load_tagbook("tagbook.example.yaml")  # doctest: +SKIP
    >>> book.rank(["VIP", "FRAUD"])  # doctest: +SKIP
    ['FRAUD', 'VIP']
    """
    p = Path(path)
    text = read_text(p, TagBookError, "tag book")
    return parse_tagbook(text, file=str(p))


def parse_tagbook(text: str, *, file: str) -> TagBook:
    """Build a :class:`TagBook` from YAML text (see :func:`load_tagbook`)."""
    data = load_yaml(text, file=file, error=TagBookError)
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
    validate(data, schema="tagbook", text=text, file=file, error=TagBookError)
    book = TagBook(path=file)
    for i, raw in enumerate(data.get("tags") or []):
        name = raw["name"]
        line = line_of(text, ["tags", i])
        if name in book.tags:
            raise TagBookError(
                f'tag "{name}" is defined twice.',
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
        )
    for i, raw in enumerate(data.get("customers") or []):
        line = line_of(text, ["customers", i])
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
        for j, name in enumerate(raw["tags"]):
            book.require(
                name,
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
                tags=tuple(raw["tags"]),
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
                line=line_of(text, ["links", i]),
            )
        )
    for i, raw in enumerate(data.get("suppressed") or []):
        line = line_of(text, ["suppressed", i])
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
    return book


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


def _identity(text: str, region: str | None) -> tuple[str, str]:
    """(entry kind, key) of an identity a person gave: ``email``, ``phone`` or ``id``."""
    try:
        kind, key = identity_of(text, region or DEFAULT_REGION)
    except OrderTagsError as exc:
        raise TagBookError(exc.message, hint=exc.hint) from None
    return ("id" if kind == _BUYER else "phone" if kind == _PHONE else "email"), key


def _plain(value: str) -> Any:
    """A string as ruamel should write it: quoted when a YAML 1.1 reader (ours) would
    read it back as something else (``yes``, ``on``, ``1:20``, ``2026-01-01``...)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    try:
        same = load_yaml(f"v: {value}", file="", error=TagBookError) == {"v": value}
    except TagBookError:
        same = False
    return value if same and value == value.strip() and value else DoubleQuotedScalarString(value)


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")  # round-trip: only plain data and comments, never objects
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _edit(path: Path, change: Any) -> Any:
    """Lock the tag book, load it round-trip, let ``change`` edit it, check the result
    and write it back atomically. ``change`` returns what the caller reports."""
    from filelock import FileLock, Timeout
    from ruamel.yaml.util import load_yaml_guess_indent

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
            text = read_text(path, TagBookError, "tag book")
            book = parse_tagbook(text, file=str(path))  # refuse to edit a broken file
            yaml = _round_trip()
            try:
                _, indent, block_seq_indent = load_yaml_guess_indent(text)
            except Exception:  # noqa: BLE001 - the guess is only a layout hint
                indent, block_seq_indent = 2, 0
            # The guess gives the sequence indent and the dash offset ("  - name:" is
            # 4 and 2); the mapping indent is what is left once the dash is placed.
            indent = indent or 2
            block_seq_indent = block_seq_indent or 0
            yaml.indent(
                mapping=max(2, indent - block_seq_indent), sequence=indent, offset=block_seq_indent
            )
            data = yaml.load(text)
            result = change(data, book)
            out = io.StringIO()
            yaml.dump(data, out)
            new_text = out.getvalue()
            parse_tagbook(new_text, file=str(path))  # never write a tag book we cannot read
            if new_text != text:
                # Keep the file's own line ends and BOM, so a diff shows only the change.
                raw = path.read_bytes()
                crlf = b"\r\n" in raw[:4096] or raw.count(b"\r\n") * 2 > raw.count(b"\n")
                data = new_text.replace("\n", "\r\n") if crlf else new_text
                bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
                atomic_write_bytes(path, bom + data.encode("utf-8"))
            return result
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


def default_author() -> str:
    """Who is tagging: $ORDERTAGS_USER, else the login name."""
    try:
        return os.environ.get("ORDERTAGS_USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
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
) -> TagChange:
    """Tag a customer by hand: append an entry to the tag book's ``customers`` list,
    keyed by the identity given: an email (``email:``), a phone number in any common
    spelling (``phone:``, written in E.164) or a marketplace buyer id ``CHANNEL:ID``
    (``id:``). Numbers without a country code are read in ``region`` (default GB).

    Tags the customer already has (from an unexpired entry) are left alone; given a
    ``note`` that differs, the note of the entry holding them is updated.

    >>> tag_customer("tagbook.yaml", "jane@example.com", ["VIP"],
    ...              note="Big order")  # doctest: +SKIP
    TagChange(identity='jane@example.com', key='jane@example.com', added=('VIP',), ...)
    >>> tag_customer("tagbook.yaml", "ebay:quinn_belfast",
    ...              ["CLAIMED-NON-RECEIPT"])  # doctest: +SKIP
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    p = Path(path)
    written = identity.strip()
    kind, key = _identity(written, region)
    if kind == "phone":
        written = key  # one spelling in the file: E.164
    elif kind == "id":
        written = key
    if isinstance(expires, str):
        expires = parse_date(expires, what="--expires")
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    if expires is not None and expires < when.date():
        raise TagBookError(
            f"--expires {expires.isoformat()} is in the past.",
            hint="Give a date from today on, or leave --expires out.",
        )

    def change(data: Any, book: TagBook) -> TagChange:
        for name in tags:
            book.require(name)
        have: set[str] = set()
        mine: list[Entry] = []
        for entry in book.active_entries(when.date())[0]:
            if entry.key_in(region) == key:
                have.update(entry.tags)
                mine.append(entry)
        new = [t for t in dict.fromkeys(tags) if t not in have]
        if not new:
            updated = _update_note(data, book, mine, tags, note)
            return TagChange(written, key, unchanged=tuple(tags), note_updated=updated, kind=kind)
        record = CommentedMap()
        record[kind] = _plain(written)
        seq = CommentedSeq([_plain(t) for t in new])
        seq.fa.set_flow_style()
        record["tags"] = seq
        if note:
            record["note"] = _plain(note)
        record["by"] = _plain(by or default_author())
        record["at"] = when.isoformat()
        if expires is not None:
            record["expires"] = expires.isoformat()
        customers = data.get("customers")
        if customers is None or (not customers and customers.fa.flow_style()):
            customers = CommentedSeq()
            data["customers"] = customers
        customers.append(record)
        return TagChange(
            written,
            key,
            added=tuple(new),
            unchanged=tuple(t for t in tags if t in have),
            kind=kind,
        )

    result: TagChange = _edit(p, change)
    return result


def _update_note(
    data: Any, book: TagBook, mine: list[Entry], tags: list[str], note: str | None
) -> bool:
    """Re-tagging with a new note: set it on the latest entry that holds the tags."""
    if not note:
        return False
    holding = [e for e in mine if set(tags) & set(e.tags)]
    if not holding:
        return False
    target = holding[-1]
    if target.note == note:
        return False
    position = book.entries.index(target)
    record = (data.get("customers") or [])[position]
    record["note"] = _plain(note)
    return True


def untag_customer(
    path: str | os.PathLike[str], identity: str, tags: list[str], *, region: str | None = None
) -> TagChange:
    """Remove tags from a customer: from every entry naming the same identity (any
    spelling of the email or phone number, any case of a buyer id). An entry left with
    no tags is removed.

    >>> untag_customer("tagbook.yaml", "Jane@Example.com", ["VIP"])  # doctest: +SKIP
    """
    p = Path(path)
    if not identity.strip():
        raise TagBookError("the customer is blank.", hint="Give an email, phone or buyer id.")
    kind, key = _identity(identity, region)

    def change(data: Any, book: TagBook) -> TagChange:
        for name in tags:
            book.require(name)
        removed: set[str] = set()
        customers = data.get("customers") or []
        for i in reversed(range(len(customers))):
            entry = customers[i]
            if book.entries[i].key_in(region) != key:
                continue
            kept = [t for t in entry["tags"] if t not in tags]
            removed.update(t for t in entry["tags"] if t in tags)
            if not kept:
                del customers[i]
            elif len(kept) != len(entry["tags"]):
                for j in reversed(range(len(entry["tags"]))):
                    if entry["tags"][j] in tags:
                        del entry["tags"][j]
        return TagChange(
            identity.strip(),
            key,
            removed=tuple(t for t in tags if t in removed),
            unchanged=tuple(t for t in tags if t not in removed),
            kind=kind,
        )

    result: TagChange = _edit(p, change)
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
) -> SuppressChange:
    """Add an address to the tag book's ``suppressed`` list (or, with ``remove``, take
    every spelling of it off), so that no mailing list carries it.

    >>> suppress_address("tagbook.yaml", "Jane@Example.com", reason="unsubscribed")
    ... # doctest: +SKIP
    SuppressChange(email='Jane@Example.com', key='jane@example.com', added=True, removed=0)
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    email = email.strip()
    key = normalize_email(email)
    if key is None or not looks_like_email(email):
        raise TagBookError(
            f'"{email}" is not an email address.',
            hint="Give the address to leave off mailing lists, e.g. jane@example.com.",
        )
    when = (now or dt.datetime.now().astimezone()).replace(microsecond=0)

    def change(data: Any, book: TagBook) -> SuppressChange:
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
        record = CommentedMap()
        record["email"] = _plain(email)
        if reason:
            record["reason"] = _plain(reason)
        record["by"] = _plain(by or default_author())
        record["at"] = when.isoformat()
        if listed is None or (not listed and listed.fa.flow_style()):
            listed = CommentedSeq()
            data["suppressed"] = listed
        listed.append(record)
        return SuppressChange(email, key, added=True)

    result: SuppressChange = _edit(Path(path), change)
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
) -> LinkChange:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

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

    result: LinkChange = _edit(Path(path), change)
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
) -> LinkChange:
    """Record in the tag book that two identities (emails or phone numbers) are the same
    person; a "different" entry for the pair is removed. Links beat automatic matches.

    >>> link_identities("tagbook.yaml", "jane@example.com", "07700 900123")  # doctest: +SKIP
    LinkChange(a='jane@example.com', b='07700 900123', added=True, removed=0)
    """
    return _edit_link(path, a, b, same=True, note=note, by=by, region=region, now=now)


def unlink_identities(
    path: str | os.PathLike[str],
    a: str,
    b: str,
    *,
    note: str | None = None,
    by: str | None = None,
    region: str | None = None,
    now: dt.datetime | None = None,
) -> LinkChange:
    """Record in the tag book that two identities are different people, whatever the
    evidence says; a "same" link for the pair is removed.

    >>> unlink_identities(
    ...     "tagbook.yaml", "bob@example.com", "bob.smith@example.com"
    ... )  # doctest: +SKIP
    """
    return _edit_link(path, a, b, same=False, note=note, by=by, region=region, now=now)
