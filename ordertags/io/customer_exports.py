"""Customer exports of the tools sellers already use, read into one shape.

``ordertags import FILE`` brings what a seller already knows about their customers
into the tag book: the tags of their Shopify customers, who unsubscribed from their
Klaviyo, Mailchimp or Brevo audience, a spreadsheet of past claimers. Each format is one
class in :data:`FORMATS`, recognised by its header (columns matched by name, never by
position: vendors add columns) and turned into :class:`CustomerRecord` rows:

- ``shopify``: the Shopify customers export (``Customer ID``, ``Email``, ``Accepts
  Email Marketing``, ``Tags``, ``Note``...): ``Tags`` is one quoted cell of
  comma-separated tags; ``'``-prefixed phones and zips lose the prefix.
- ``klaviyo``: a Klaviyo profile export (``Klaviyo ID``): tags from ``Shopify Tags``
  (or ``Tags``); ``Email Marketing Consent`` ``Unsubscribed`` is a suppression.
- ``mailchimp``: a Mailchimp audience export (``Email Address`` with ``LEID``/``EUID``/
  ``MEMBER_RATING``), each of its three files, or the zip holding them: members of the
  unsubscribed and cleaned files are suppressions (told by their ``UNSUB_TIME`` and
  ``CLEAN_TIME`` columns, else by the file's name).
- ``brevo``: a Brevo contacts file (``EMAIL`` with ``FIRSTNAME``, ``LASTNAME``, ``SMS``,
  ``EXT_ID``...; separated by ``;``, ``,`` or tab; UTF-8 or Windows-1252);
  ``EMAIL_BLACKLISTED`` or ``BLACKLISTED`` yes/true is a suppression.
- ``plain``: ``identity,tag,note,expires`` (identity: an email, a phone number,
  ``CHANNEL:ID`` or an order number; several tags in one cell separated by ``;``),
  optionally with ``address``, ``postcode`` and ``country`` columns (an address entry).

Pure Python (``csv``, ``zipfile``): nothing here needs the array libraries.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ordertags.errors import InputError, UsageError
from ordertags.io.sniff import sniff_delimiter

#: Answers that mean yes in the consent columns of these tools.
_YES = frozenset({"yes", "y", "true", "1", "subscribed", "opted in", "opt-in"})
_NO = frozenset({"no", "n", "false", "0", "unsubscribed", "never subscribed", "opted out"})


@dataclass(frozen=True)
class CustomerRecord:
    """One customer as a customer export says it: an identity (email, phone, buyer id
    ``CHANNEL:ID`` or order number, as written; "" when the row gives none), the tags
    the tool holds for them (as the tool spells them), a note, a last day (``expires``,
    text), their marketing answer (``consent``: True, False or None where the file
    does not say) and, where the tool says they must never be mailed again, why
    (``suppress``: ``unsubscribed``, ``cleaned``...). ``address``: (country, postcode,
    first line) of an address entry, where the file names one for the tags. ``source``
    and ``line`` say where it was read (the file, or the zip member, and its 1-based line)."""

    source: str
    line: int
    identity: str
    tags: tuple[str, ...] = ()
    note: str | None = None
    expires: str | None = None
    name: str = ""
    consent: bool | None = None
    suppress: str | None = None
    address: tuple[str, str, str] | None = None


class Table:
    """A customer file's header and rows, as text, with the 1-based line each row
    starts on. ``name`` is the file (or zip member) name messages give."""

    def __init__(self, name: str, header: list[str], rows: list[tuple[int, list[str]]]):
        self.name = name
        self.header = [h.strip().lstrip("\ufeff") for h in header]
        self.rows = rows
        self._at: dict[str, int] = {}
        for i, h in enumerate(self.header):
            self._at.setdefault(h, i)
            self._at.setdefault(h.lower(), i)

    def has(self, *names: str) -> bool:
        """Has the header every one of ``names`` (exact, as the tools write them)?"""
        return all(n in self._at for n in names)

    def has_any(self, *names: str) -> bool:
        return any(n in self._at for n in names)

    def cell(self, row: list[str], *names: str, fold: bool = False) -> str:
        """The row's text in the first of the columns ``names`` the header has (case
        ignored with ``fold``), trimmed; "" when none."""
        for n in names:
            i = self._at.get(n.lower() if fold else n)
            if i is not None and i < len(row) and row[i].strip():
                return row[i].strip()
        return ""


def _unquote(text: str) -> str:
    """A phone, zip or id as Shopify writes it for Excel (``'+44 7700 900123``)."""
    return text[1:] if text.startswith("'") else text


def split_tags(text: str) -> tuple[str, ...]:
    """Tags written in one cell: comma- (or semicolon-) separated, each trimmed, with
    the quotes and brackets some tools add (``"vip", "wholesale"``, ``["a", "b"]``)
    dropped; in file order, each once.

    >>> split_tags('VIP, Wholesale buyer,  vip')
    ('VIP', 'Wholesale buyer', 'vip')
    >>> split_tags('["Repeat", "Claimed"]'), split_tags('"a","b"')
    (('Repeat', 'Claimed'), ('a', 'b'))
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    parts = (p.strip().strip("\"'").strip() for p in re.split(r"[,;]", body))
    return tuple(dict.fromkeys(p for p in parts if p))


def _consent(text: str) -> bool | None:
    said = text.strip().lower()
    if said in _YES:
        return True
    if said in _NO:
        return False
    return None


class CustomerFormat:
    """One kind of customer file: its name (``--format``), a title, how its header is
    recognised and how a row becomes a :class:`CustomerRecord`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    @classmethod
    def recognises(cls, table: Table) -> bool:  # pragma: no cover - every format has one
        raise NotImplementedError

    @classmethod
    def check(cls, table: Table) -> None:
        """Refuse a file forced with ``--format`` that lacks the format's identity column."""
        if not cls.recognises(table):
            raise InputError(
                f"is not a {cls.title} file: its header has none of the columns that "
                f"identify one ({', '.join(cls.columns)}).",
                file=table.name,
                line=1,
                hint="Check the file, or leave --format out to recognise it by its header.",
            )

    columns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:  # pragma: no cover
        raise NotImplementedError


#: Format name -> class, in the order files are recognised (the most particular first).
FORMATS: dict[str, type[CustomerFormat]] = {}


def register(cls: type[CustomerFormat]) -> type[CustomerFormat]:
    """Add a format to :data:`FORMATS` (a class decorator)."""
    FORMATS[cls.name] = cls
    return cls


@register
class ShopifyCustomers(CustomerFormat):
    name = "shopify"
    title = "Shopify customers export"
    columns = ("Customer ID", "Email", "Accepts Email Marketing", "Tags")

    @classmethod
    def recognises(cls, table: Table) -> bool:
        return table.has("Email", "Tags") and table.has_any(
            "Customer ID", "Accepts Email Marketing", "Accepts Marketing", "Total Orders"
        )

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:
        for line, row in table.rows:
            phone = _unquote(table.cell(row, "Phone", "Default Address Phone"))
            name = f"{table.cell(row, 'First Name')} {table.cell(row, 'Last Name')}".strip()
            yield CustomerRecord(
                source=table.name,
                line=line,
                identity=table.cell(row, "Email") or phone,
                tags=split_tags(table.cell(row, "Tags")),
                note=table.cell(row, "Note") or None,
                name=name,
                consent=_consent(table.cell(row, "Accepts Email Marketing", "Accepts Marketing")),
            )


@register
class KlaviyoProfiles(CustomerFormat):
    name = "klaviyo"
    title = "Klaviyo profile export"
    columns = ("Email", "Klaviyo ID")

    @classmethod
    def recognises(cls, table: Table) -> bool:
        return table.has("Klaviyo ID") and table.has_any("Email", "Phone Number")

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:
        for line, row in table.rows:
            said = table.cell(row, "Email Marketing Consent", "Accepts Marketing", "Consent")
            consent = _consent(said)
            unsubscribed = said.strip().lower() == "unsubscribed"
            if said and consent is None:
                # ``Consent`` lists the channels a profile consented to ("email, sms").
                consent = "email" in said.lower() or None
            yield CustomerRecord(
                source=table.name,
                line=line,
                identity=table.cell(row, "Email") or table.cell(row, "Phone Number"),
                tags=split_tags(table.cell(row, "Shopify Tags", "Tags")),
                name=f"{table.cell(row, 'First Name')} {table.cell(row, 'Last Name')}".strip(),
                consent=consent,
                suppress="unsubscribed" if unsubscribed else None,
            )


#: The columns Mailchimp adds to the unsubscribed and cleaned files.
_MAILCHIMP_STATUS = (("UNSUB_TIME", "unsubscribed"), ("CLEAN_TIME", "cleaned"))


@register
class MailchimpAudience(CustomerFormat):
    name = "mailchimp"
    title = "Mailchimp audience export"
    columns = ("Email Address", "LEID", "EUID", "MEMBER_RATING")

    @classmethod
    def recognises(cls, table: Table) -> bool:
        return table.has("Email Address") and table.has_any(
            "LEID", "EUID", "MEMBER_RATING", "OPTIN_TIME", "LAST_CHANGED"
        )

    @classmethod
    def status(cls, table: Table) -> str:
        """subscribed, unsubscribed or cleaned: by the file's own columns, else its name
        (``unsubscribed_members_export_….csv``)."""
        for column, status in _MAILCHIMP_STATUS:
            if table.has(column):
                return status
        base = Path(table.name).name.lower()
        for status in ("unsubscribed", "cleaned"):
            if base.startswith(status):
                return status
        return "subscribed"

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:
        status = cls.status(table)
        for line, row in table.rows:
            yield CustomerRecord(
                source=table.name,
                line=line,
                identity=table.cell(row, "Email Address"),
                tags=split_tags(table.cell(row, "TAGS", "Tags")),
                note=table.cell(row, "NOTES") or None,
                name=f"{table.cell(row, 'First Name')} {table.cell(row, 'Last Name')}".strip(),
                consent=status == "subscribed",
                suppress=None if status == "subscribed" else status,
            )


@register
class BrevoContacts(CustomerFormat):
    name = "brevo"
    title = "Brevo contacts file"
    columns = ("EMAIL", "FIRSTNAME", "LASTNAME", "SMS", "EXT_ID")

    @classmethod
    def recognises(cls, table: Table) -> bool:
        return table.has_any("EMAIL", "SMS") and table.has_any(
            "FIRSTNAME", "LASTNAME", "SMS", "EXT_ID", "LANDLINE_NUMBER", "WHATSAPP", "NOM", "PRENOM"
        )

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:
        for line, row in table.rows:
            blocked = table.cell(row, "EMAIL_BLACKLISTED", "BLACKLISTED").lower()
            first = table.cell(row, "FIRSTNAME", "PRENOM")
            last = table.cell(row, "LASTNAME", "NOM")
            yield CustomerRecord(
                source=table.name,
                line=line,
                identity=table.cell(row, "EMAIL") or table.cell(row, "SMS", "WHATSAPP"),
                tags=split_tags(table.cell(row, "TAGS")),
                name=f"{first} {last}".strip(),
                suppress="blocklisted" if blocked in ("yes", "true", "1") else None,
            )


@register
class PlainList(CustomerFormat):
    name = "plain"
    title = "identity,tag,note,expires list"
    columns = ("identity", "tag", "note", "expires")

    @classmethod
    def recognises(cls, table: Table) -> bool:
        lower = [h.lower() for h in table.header]
        return "identity" in lower and ("tag" in lower or "tags" in lower)

    @classmethod
    def records(cls, table: Table) -> Iterator[CustomerRecord]:
        for line, row in table.rows:
            street = table.cell(row, "address", fold=True)
            postcode = _unquote(table.cell(row, "postcode", "zip", fold=True))
            country = table.cell(row, "country", fold=True)
            yield CustomerRecord(
                source=table.name,
                line=line,
                identity=table.cell(row, "identity", fold=True),
                tags=split_tags(table.cell(row, "tag", "tags", fold=True)),
                note=table.cell(row, "note", fold=True) or None,
                expires=table.cell(row, "expires", fold=True) or None,
                name=table.cell(row, "name", fold=True),
                address=(country, postcode, street) if street and postcode else None,
            )


def decode_customer_file(raw: bytes, name: str, encoding: str | None = None) -> str:
    """The text of a customer file: UTF-8 (a BOM dropped), else Windows-1252 (Brevo and
    Excel on Windows write it), or ``encoding`` when given."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"cannot be read as {encoding}: {exc}.",
                file=name,
                hint="Give the file's encoding with --encoding (utf-8, cp1252...).",
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_table(text: str, name: str, delimiter: str | None = None) -> Table:
    """A customer file's text as a :class:`Table` (the delimiter sniffed: ``, ; TAB``)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if start is None:
        raise InputError("is empty.", file=name, hint="Export the customers again.")
    body = "".join(lines[start:])
    sep = sniff_delimiter(body[:65536], delimiter)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep)
    try:
        header = next(reader)
        rows: list[tuple[int, list[str]]] = []
        at = start + 2
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((at, row))
            at = start + 1 + reader.line_num
    except csv.Error as exc:
        raise InputError(
            f"is not a readable CSV file ({exc}).",
            file=name,
            line=start + reader.line_num,
            hint="Export it again as CSV.",
        ) from None
    return Table(name, header, rows)


def recognise(table: Table, forced: str | None = None) -> type[CustomerFormat]:
    """The format of a customer file: ``forced`` (``--format``), else the first of
    :data:`FORMATS` whose header it has."""
    if forced is not None:
        fmt = FORMATS.get(forced.strip().lower())
        if fmt is None:
            raise UsageError(
                f'no customer file format "{forced}".',
                hint=f"Use one of {', '.join(FORMATS)}.",
            )
        fmt.check(table)
        return fmt
    for fmt in FORMATS.values():
        if fmt.recognises(table):
            return fmt
    shown = ", ".join(h if len(h) <= 30 else h[:2] + "…" for h in table.header[:10])
    raise InputError(
        f"is not a customer export ordertags knows (its header: {shown}).",
        file=table.name,
        line=1,
        hint="Import a Shopify customers export, a Klaviyo profile export, a Mailchimp "
        "audience export, a Brevo contacts file or a CSV with the columns "
        "identity,tag,note,expires; or name the format with --format.",
    )


@dataclass(frozen=True)
class CustomerFile:
    """One customer file read: its name, its format and its records."""

    name: str
    format: str
    records: list[CustomerRecord]


def read_customer_files(
    path: str | os.PathLike[str],
    *,
    forced: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> list[CustomerFile]:
    """Read a customer export (or a zip of them, as Mailchimp sends its audience) into
    records, each file recognised by its header.

    >>> [(f.format, len(f.records)) for f in read_customer_files("examples/customers_export.csv")]
    [('shopify', 4)]
    """
    p = Path(path)
    shown = p.name
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the file: {exc.strerror}.",
            file=shown,
            hint="Check the path.",
        ) from None
    members: Sequence[tuple[str, bytes]]
    if raw.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                members = [
                    (f"{shown}:{Path(info.filename).name}", zf.read(info))
                    for info in zf.infolist()
                    if not info.is_dir()
                    and info.filename.lower().endswith((".csv", ".txt", ".tsv"))
                    and not Path(info.filename).name.startswith(".")
                ]
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"is not a readable zip file ({exc}).", file=shown) from None
        if not members:
            raise InputError("holds no CSV file.", file=shown, hint="Check the zip.")
    else:
        members = [(shown, raw)]
    out = []
    for name, data in members:
        table = read_table(decode_customer_file(data, name, encoding), name, delimiter)
        fmt = recognise(table, forced)
        out.append(CustomerFile(name, fmt.name, list(fmt.records(table))))
    return out
