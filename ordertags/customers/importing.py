"""``ordertags import``: what a customer export says, merged into the tag book.

:func:`plan_import` reads the files (:mod:`ordertags.io.customer_exports`) and works out,
against the tag book as it is, what an import would change: the tags each customer
gains, the addresses to suppress, the tags the book does not define, the rows that name
nobody. :func:`apply_import` makes those changes through the tag book's own edit
functions (:func:`ordertags.tagbook.tag_customer`, :func:`ordertags.tagbook.suppress_address`,
:func:`ordertags.tagbook.define_tag`), so every entry is written as ``ordertags tag``
writes it, under the book's lock, and a second import of the same file changes nothing.

Consent: the history keeps marketing answers per order (the exports' ``Accepts
Marketing`` columns); an import has no order to put them on. So the answers that must
keep someone off every list (unsubscribed, cleaned, blocklisted) become suppressions in
the tag book, which every list honours; a plain "no" is counted and left to the orders'
own consent column.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ordertags.base.addresses import written, written_key
from ordertags.base.emails import looks_like_email, normalize_email
from ordertags.base.keys import DEFAULT_REGION, buyer_key, identity_of
from ordertags.base.listfiles import read_value_list
from ordertags.customers.workspace import Workspace, order_customer
from ordertags.errors import OrderTagsError, UsageError
from ordertags.io.customer_exports import CustomerFile, CustomerRecord, read_customer_files
from ordertags.tagbook import (
    TagBook,
    TagRequest,
    default_author,
    define_tag,
    load_tagbook,
    parse_date,
    suppress_address,
    tag_customers,
    tag_key,
)


def parse_tag_map(text: str | None) -> dict[str, str]:
    """``--map 'vip=VIP,Wholesale=GOLD'`` as {their tag (folded): the tag book's tag}.

    >>> parse_tag_map("vip=VIP, Wholesale buyer = GOLD")
    {'vip': 'VIP', 'wholesale buyer': 'GOLD'}
    """
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        theirs, eq, ours = part.partition("=")
        if not eq or not theirs.strip() or not ours.strip():
            raise UsageError(
                f'"{part.strip()}" is not THEIRS=OURS.',
                hint="Write --map 'vip=VIP,Wholesale=GOLD': their tag, =, the tag book's tag.",
            )
        out[theirs.strip().casefold()] = ours.strip()
    return out


def created_name(theirs: str) -> str:
    """The tag book name a tag of another tool gets with ``--create-tags``: upper case,
    runs of other characters as ``-`` (tag names are letters, digits and ``_ . -``).

    >>> created_name("Wholesale buyer"), created_name("  repeat / claimed ")
    ('WHOLESALE-BUYER', 'REPEAT-CLAIMED')
    """
    out = []
    for c in theirs.strip().upper():
        out.append(c if (c.isascii() and c.isalnum()) or c in "_.-" else "-")
    name = "-".join(p for p in "".join(out).split("-") if p)
    return name or "TAG"


@dataclass(frozen=True)
class Planned:
    """A customer the import tags: their identity (as the tag book will name them),
    the tags they gain (the book's spelling; ``have``: those they already hold), the
    note and last day to record, and where the file names them."""

    identity: str
    key: str
    add: tuple[str, ...]
    have: tuple[str, ...]
    note: str | None
    expires: dt.date | None
    source: str
    line: int


@dataclass
class ImportPlan:
    """What importing the files would do (see :func:`plan_import`)."""

    files: list[CustomerFile] = field(default_factory=list)
    tag: list[Planned] = field(default_factory=list)
    #: (email, reason, already suppressed)
    suppress: list[tuple[str, str, bool]] = field(default_factory=list)
    #: Tags the tag book does not define, as the file spells them -> customers.
    unknown: Counter[str] = field(default_factory=Counter)
    #: With --create-tags: tag book name -> their spelling (to define).
    create: dict[str, str] = field(default_factory=dict)
    #: (source, line, why) of rows that name nobody the import can tag.
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    #: Customers who said no to email marketing (left to the orders' consent column).
    declined: int = 0
    by: str = ""

    @property
    def changes(self) -> int:
        """How many tag-book edits the import makes."""
        return (
            sum(1 for p in self.tag if p.add)
            + sum(1 for _, _, done in self.suppress if not done)
            + len(self.create)
        )

    @property
    def unchanged(self) -> int:
        """Customers the file tags who hold every tag already."""
        return sum(1 for p in self.tag if not p.add)


def _identity(
    text: str,
    region: str,
    orders: Callable[[str], str | None] | None,
) -> tuple[str, str] | str:
    """(identity as the book will write it, key) of a record's identity, or why not."""
    value = text.strip()
    if not value:
        return "no email, phone or buyer id"
    if value.lower().startswith("address:"):
        key = written_key(value[8:])
        return (value, key) if key is not None else "not COUNTRY; POSTCODE; ADDRESS LINE"
    number = value[6:].strip() if value.lower().startswith("order:") else None
    if number is None and value.startswith("#"):
        number = value
    if number is None and "@" not in value:
        # An order number first (``100123`` could be read as a phone number), unless it
        # is a buyer id or starts with a country code.
        found = None
        if orders is not None and not value.startswith("+") and buyer_key(value) is None:
            found = orders(value)
        if found is not None:
            return found, identity_of(found, region)[1]
        try:
            return value, identity_of(value, region)[1]
        except OrderTagsError:
            number = value  # not a phone: an order number the history does not have
    if number is not None:
        found = orders(number) if orders is not None else None
        if found is None:
            if orders is None:
                return (
                    "not an email, phone number or buyer id (an order number needs a "
                    "workspace history or --in EXPORT)"
                )
            return "not an email, phone number or buyer id, nor an order number found"
        return found, identity_of(found, region)[1]
    key = normalize_email(value)
    if key is None or not looks_like_email(value):
        return f'"{value}" is not an email address'
    return value, key


def plan_import(
    tagbook: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    forced: str | None = None,
    mapping: dict[str, str] | None = None,
    create_tags: bool = False,
    extra_tags: tuple[str, ...] = (),
    by: str | None = None,
    workspace: Workspace | None = None,
    region: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    today: dt.date | None = None,
) -> ImportPlan:
    """What importing the customer export ``path`` into ``tagbook`` would change.

    Each tag the file gives is the tag book's tag of that name (case does not count),
    else the one ``mapping`` maps it to (``{"wholesale": "GOLD"}``), else unknown:
    counted, and left out unless ``create_tags`` (then defined, named by
    :func:`created_name`). ``extra_tags`` are given to every customer of the file (a
    claimers list of bare emails). Order numbers in a plain list are looked up in the
    ``workspace``'s history. The tag book is only read.

    >>> plan = plan_import("tagbook.yaml", "examples/customers_export.csv",
    ...                    mapping={"claimed": "CLAIMED-NON-RECEIPT"})
    >>> plan.unknown.most_common(1), [(p.identity, p.add) for p in plan.tag if p.add]
    ([('Newsletter', 3)], [('jane.doe@gmail.com', ('VIP',))])
    """
    book = load_tagbook(tagbook)
    code = region or DEFAULT_REGION
    today = today or dt.date.today()
    maps = {k: book.tag_named(v, said=f'--map tag "{v}"') for k, v in (mapping or {}).items()}
    given = tuple(book.tag_named(t) for t in extra_tags)
    files = read_customer_files(path, forced=forced, encoding=encoding, delimiter=delimiter)
    plan = ImportPlan(files=files, by=by or default_author())

    def orders(number: str) -> str | None:
        if workspace is None or not workspace.history_path.exists():
            return None
        try:
            return order_customer(workspace, number).identity
        except OrderTagsError:
            return None

    held: dict[str, set[str]] = {}
    for entry in book.active_entries(today)[0]:
        held.setdefault(entry.key_in(region), set()).update(entry.tags)
    suppressed = {s.key for s in book.suppressed}
    merged: dict[str, _Slot] = {}
    seen_unknown: dict[str, set[str]] = {}
    for record in (r for f in files for r in f.records):
        if record.consent is False and record.suppress is None:
            plan.declined += 1
        tags = list(given)
        for theirs in record.tags:
            ours = _ours(book, theirs, maps)
            if ours is None and create_tags:
                ours = book.spelling(created_name(theirs)) or created_name(theirs)
                if ours not in book.tags:
                    plan.create.setdefault(ours, theirs)
            if ours is None:
                seen_unknown.setdefault(theirs, set()).add(f"{record.source}:{record.line}")
            elif ours not in tags:
                tags.append(ours)
        if record.suppress is not None:
            _plan_suppression(plan, record, suppressed)
        if not tags:
            continue
        found = _identity(record.identity, code, orders if workspace is not None else None)
        if isinstance(found, str) and (record.identity.strip() or record.address is None):
            plan.skipped.append((record.source, record.line, found))
            continue
        expires = _expiry(record, today, plan)
        if expires is False:
            continue
        named = [] if isinstance(found, str) else [found]
        if record.address is not None:
            # The list names the address the claims were sent to: every order shipped
            # there is tagged too, whoever buys it.
            door = "address:" + written(*record.address)
            door_key = written_key(written(*record.address))
            if door_key is None:
                plan.skipped.append((record.source, record.line, "the address is incomplete"))
            else:
                named.append((door, door_key))
        for written_as, key in named:
            slot = merged.setdefault(key, _Slot(written_as, record))
            slot.tags.extend(t for t in tags if t not in slot.tags)
            if isinstance(expires, dt.date):
                slot.expires = expires
    plan.unknown = Counter({t: len(rows) for t, rows in seen_unknown.items()})
    for key, slot in merged.items():
        have = held.get(key, set())
        plan.tag.append(
            Planned(
                identity=slot.identity,
                key=key,
                add=tuple(t for t in slot.tags if t not in have),
                have=tuple(t for t in slot.tags if t in have),
                note=_note(slot.record),
                expires=slot.expires,
                source=slot.record.source,
                line=slot.record.line,
            )
        )
    return plan


@dataclass
class _Slot:
    """One customer of the files, their rows merged: how the book will name them, the
    first row naming them, their tags and last day."""

    identity: str
    record: CustomerRecord
    tags: list[str] = field(default_factory=list)
    expires: dt.date | None = None


def _ours(book: TagBook, theirs: str, maps: dict[str, str]) -> str | None:
    """The tag book's tag for a tag of another tool (None: it has none)."""
    mapped = maps.get(theirs.strip().casefold())
    if mapped is not None:
        return mapped
    return book.spelling(tag_key(theirs)) if theirs.strip() else None


def _expiry(record: CustomerRecord, today: dt.date, plan: ImportPlan) -> dt.date | None | bool:
    """The record's last day (None: none), or False (skipped: unreadable or past)."""
    if not record.expires:
        return None
    try:
        day = parse_date(record.expires, what="expires", file=record.source, line=record.line)
    except OrderTagsError:
        plan.skipped.append((record.source, record.line, f'"{record.expires}" is not a date'))
        return False
    if day < today:
        plan.skipped.append((record.source, record.line, f"expired on {day.isoformat()}"))
        return False
    return day


def _plan_suppression(plan: ImportPlan, record: CustomerRecord, suppressed: set[str]) -> None:
    email = record.identity.strip()
    key = normalize_email(email)
    if key is None or not looks_like_email(email):
        plan.skipped.append((record.source, record.line, "no email address to suppress"))
        return
    if any(normalize_email(e) == key for e, _, _ in plan.suppress):
        return
    reason = f"{record.suppress} ({Path(record.source).name.split(':')[0]})"
    plan.suppress.append((email, reason, key in suppressed))


def _note(record: CustomerRecord) -> str:
    """The note an imported entry carries: where it came from, then the tool's note."""
    source = record.source.split(":")[0]
    return f"Imported from {source}" + (f": {record.note}" if record.note else "")


@dataclass(frozen=True)
class ImportResult:
    """What :func:`apply_import` changed."""

    tagged: int  # customers given tags
    tags_added: int  # tags given, over all customers
    suppressed: int
    defined: int


def apply_import(
    tagbook: str | os.PathLike[str],
    plan: ImportPlan,
    *,
    region: str | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Make the changes of ``plan`` (see :func:`plan_import`) through the tag book's
    edit functions: the tags to define first, then each customer's new tags (one entry
    each, with ``by:`` and a note naming the file), then the suppressions.

    >>> apply_import("tagbook.yaml", plan_import("tagbook.yaml", "examples/claimers.csv"))
    ImportResult(tagged=2, tags_added=2, suppressed=0, defined=0)
    """
    defined = sum(
        define_tag(tagbook, name, label=theirs, description=f"Imported ({theirs})")
        for name, theirs in plan.create.items()
    )
    todo = [p for p in plan.tag if p.add]
    changes = tag_customers(
        tagbook,
        [TagRequest(p.identity, tuple(p.add), p.note, p.expires) for p in todo],
        by=plan.by,
        now=now,
        region=region,
        valid_phone=False,
    )
    tagged = sum(1 for c in changes if c.added)
    added = sum(len(c.added) for c in changes)
    suppressed = 0
    for email, reason, done in plan.suppress:
        if done:
            continue
        if suppress_address(tagbook, email, reason=reason, by=plan.by, now=now).added:
            suppressed += 1
    return ImportResult(tagged, added, suppressed, defined)


# --- tag --from ----------------------------------------------------------------------


@dataclass
class BulkTagResult:
    """What :func:`tag_many` did: customers tagged, customers who had every tag already,
    and the values that named nobody: (line, value, why)."""

    tagged: int = 0
    already: int = 0
    not_found: list[tuple[int, str, str]] = field(default_factory=list)


def read_identities(text: str, column: str | None = None) -> list[tuple[int, str]]:
    """(line, value) of a list of customers: one identity or order number a line
    (blank lines and ``#`` comments skipped; quotes and a trailing comma or semicolon
    of a pasted spreadsheet cell dropped), or with ``column`` the cells of that column
    of a CSV (``,``, ``;`` or tab).

    >>> read_identities('jane@example.com,\\n\\n"#1042"\\n')
    [(1, 'jane@example.com'), (3, '#1042')]
    """
    if column is not None:
        listed = read_value_list(text, addresses=False, column=column)
        return list(zip(listed.lines, listed.values, strict=True))
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip().rstrip(",;").strip().strip("\"'").strip()
        if value and not value.startswith("#") or value.startswith("#") and value[1:2].isdigit():
            out.append((number, value))
    return out


def tag_many(
    tagbook: str | os.PathLike[str],
    values: list[tuple[int, str]],
    tags: list[str],
    *,
    note: str | None = None,
    by: str | None = None,
    expires: str | dt.date | None = None,
    region: str | None = None,
    orders: Callable[[str], str | None] | None = None,
    now: dt.datetime | None = None,
) -> BulkTagResult:
    """Tag each customer ``values`` names (an email, a phone number, ``CHANNEL:ID`` or
    an order number, which ``orders`` turns into its customer's identity), as
    :func:`ordertags.tagbook.tag_customer` tags one; values that name nobody are listed,
    not fatal. The same customer named twice is tagged once.

    >>> done = tag_many("tagbook.yaml", [(1, "jane@example.com"), (2, "#1042")], ["VIP"])
    >>> done.tagged, done.not_found[0][:2]
    (1, (2, '#1042'))
    """
    book = load_tagbook(tagbook)
    for t in tags:
        book.tag_named(t)  # an unknown tag is a usage error before anything changes
    code = region or DEFAULT_REGION
    out = BulkTagResult()
    done: set[str] = set()
    requests = []
    for line, value in values:
        found = _identity(value, code, orders)
        if isinstance(found, str):
            out.not_found.append((line, value, found))
            continue
        written, key = found
        if key in done:
            continue
        done.add(key)
        requests.append(TagRequest(written, tuple(tags), note, expires))
    for change in tag_customers(
        tagbook, requests, by=by, now=now, region=region, valid_phone=False
    ):
        if change.added:
            out.tagged += 1
        else:
            out.already += 1
    return out
