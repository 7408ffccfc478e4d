"""Lists of values a seller keeps by hand or downloads: the files rules read
(``{field: email, in_file: vip.txt}``) and ``export --suppress`` files.

People write such lists as they write anything: ``jane@example.com,`` or
``"jane@example.com"`` pasted from a spreadsheet, ``jane@example.com;`` from an email
client, ``jane@example.com<TAB>GOLD`` with a note beside it, ``mailto:jane@example.com``
from a web page; or they download a CSV from an email tool, with a header row and an
``Email Address`` column among others. :func:`read_value_list` reads the values out of
all of these, and tells which lines held none (``lint`` warns about them, by line).

- **A table** (a CSV, semicolon- or tab-separated file with a header row): the values
  are one column's. The column is the one named (a rule's ``column:``), else, for a list
  of addresses, the first header cell that is a usual name of an email column
  (:data:`EMAIL_HEADERS`: ``Email``, ``Email Address``, ``E-mail``, ``Customer Email``...).
- **One value a line** otherwise; blank lines and lines starting with ``#`` are skipped.
  In a list of addresses, every address on a line is read out of it (quotes, ``mailto:``,
  ``<...>``, a trailing comma or semicolon, and text beside it are left aside), and a
  marketplace buyer id (``ebay:quinn_belfast``) is kept as it is; other lists keep each
  line whole, trimmed.

Pure Python (``csv`` and ``re``): rules are read without the array libraries.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ordertags.base.emails import looks_like_email
from ordertags.errors import ColumnError

#: Usual names of an email column (compared lower-case, letters and digits only), in
#: order of preference: Mailchimp's ``Email Address``, Klaviyo's and Shopify's ``Email``,
#: Brevo's ``EMAIL``, Linnworks' ``Customer email address``, WooCommerce's billing email.
EMAIL_HEADERS = (
    "email",
    "emailaddress",
    "emails",
    "mail",
    "customeremail",
    "customeremailaddress",
    "buyeremail",
    "billingemail",
    "emailbilling",
    "contactemail",
    "subscriberemail",
    "subscriberemailaddress",
)
#: The delimiters a table list file may use (the header row says which).
DELIMITERS = (",", ";", "\t")
#: An address inside other text: no spaces, quotes, brackets, commas, semicolons or
#: colons on either side of the ``@`` (so ``mailto:`` and ``<...>`` fall away).
_ADDRESS = re.compile(r"[^\s<>()\[\]{}\",;:@]+@[^\s<>()\[\]{}\",;:@'`]+")
#: A marketplace buyer id as the rules key buyers (``ebay:quinn_belfast``).
_BUYER = re.compile(r"^(ebay|etsy|amazon):\S+$", re.IGNORECASE)


@dataclass
class ValueList:
    """What a list file holds: its ``values`` in file order, and ``unread``, the lines
    (1-based number, text) that hold no value (no address, in a list of addresses).
    ``column`` is the table column the values came from (None: one value a line)."""

    values: list[str] = field(default_factory=list)
    unread: list[tuple[int, str]] = field(default_factory=list)
    column: str | None = None
    #: The 1-based line each value was read from (``values[i]`` on ``lines[i]``).
    lines: list[int] = field(default_factory=list, repr=False)


def addresses_in(text: str) -> list[str]:
    """The email addresses written in ``text``, as written.

    >>> addresses_in('mailto:Jane@Example.com;'), addresses_in('"Doe, Jane" <j@x.co>\\tGOLD')
    (['Jane@Example.com'], ['j@x.co'])
    >>> addresses_in("o'brien@example.ie"), addresses_in("jane@example")
    (["o'brien@example.ie"], [])
    """
    out = []
    for found in _ADDRESS.findall(text):
        address = found.lstrip("'").rstrip(".'")
        if looks_like_email(address):
            out.append(address)
    return out


def _header_key(cell: str) -> str:
    return "".join(c for c in cell.lower() if c.isalnum())


def _table_column(header: list[str], column: str | None) -> int | None:
    """The index of the list's column in a header row: the one named ``column`` (case
    and surrounding spaces ignored), else the first usual email header's."""
    cells = [h.strip() for h in header]
    if column is not None:
        wanted = column.strip().lower()
        return next((i for i, h in enumerate(cells) if h.lower() == wanted), None)
    keys = [_header_key(h) for h in cells]
    for name in EMAIL_HEADERS:
        if name in keys:
            return keys.index(name)
    return None


def _shown(cell: str) -> str:
    """A header cell for a message: whole when short, else its start (a file named by
    mistake may hold secrets)."""
    return cell if len(cell) <= 40 else cell[:2] + "…"


def read_value_list(text: str, *, addresses: bool, column: str | None = None) -> ValueList:
    """The values of a list file's ``text`` (see the module's documentation). With
    ``column``, the file must be a table with that column (else :class:`ColumnError`,
    naming its columns); ``addresses``: a list of email addresses.

    >>> read_value_list('"jane@example.com",\\nnot an address\\n', addresses=True)
    ValueList(values=['jane@example.com'], unread=[(2, 'not an address')], column=None)
    >>> read_value_list("Name;Email Address\\nJane;jane@example.com\\n", addresses=True).values
    ['jane@example.com']
    """
    lines = text.splitlines()
    first = next(
        (i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), None
    )
    if first is not None and (column is not None or (addresses and "@" not in lines[first])):
        line = lines[first]
        delimiter = max(DELIMITERS, key=line.count)
        header = next(csv.reader([line], delimiter=delimiter), [])
        at = _table_column(header, column)
        if at is not None:
            return _read_table(lines[first + 1 :], first + 2, delimiter, at, header, addresses)
        if column is not None:
            names = ", ".join(_shown(h.strip()) for h in header[:12])
            raise ColumnError(
                f'has no column "{column}" (its header row, line {first + 1}: {names}).',
                column=column,
                hint="Name one of its columns in `column:`, or leave `column:` out for one "
                "value a line.",
            )
    out = ValueList()
    for number, line in enumerate(lines, start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        _take(out, number, value, addresses)
    return out


def _take(out: ValueList, number: int, text: str, addresses: bool) -> None:
    """Add what the line or cell ``text`` (on line ``number``) holds to ``out``: the text
    itself, or with ``addresses`` the addresses in it (a marketplace buyer id as it is);
    a text holding none is kept aside as unread, for ``lint`` to name."""
    if not addresses:
        out.values.append(text)
        out.lines.append(number)
        return
    found = addresses_in(text)
    if not found and _BUYER.match(text):
        found = [text]
    if found:
        out.values.extend(found)
        out.lines.extend([number] * len(found))
    else:
        out.unread.append((number, text))


def _read_table(
    lines: list[str], start: int, delimiter: str, at: int, header: list[str], addresses: bool
) -> ValueList:
    """The values in column ``at`` of the rows ``lines`` (the first on line ``start``)."""
    out = ValueList(column=header[at].strip())
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    line = start
    for row in reader:
        number, line = line, start + reader.line_num
        cell = row[at].strip() if len(row) > at else ""
        if not cell:
            continue  # a row without one (a customer known by phone only)
        _take(out, number, cell, addresses)
    return out
