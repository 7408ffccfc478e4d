"""Finding the order fields (email, total, date, ...) among an export's columns.

Pure Python on purpose: ``ordertags tag --order`` uses it without loading pyarrow.
Columns are matched by name, never by position, ignoring case, spaces, ``_`` and ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import ColumnError

#: The order fields ordertags computes on, with the column names that usually hold them.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("Order Id", "Order ID", "OrderId", "Order Number", "Order No", "Order #",
                 "order_id", "order-id", "amazon-order-id", "nOrderId", "Reference Number",
                 "Reference Num", "Id"),
    "email": ("Email", "E-mail", "Email Address", "Customer Email", "Customer email address",
              "customer_email", "billing_email", "Email (Billing)", "Buyer Email", "buyer-email",
              "cEmailAddress"),
    "total": ("Total", "Order Total", "order_total", "Total Price", "Grand Total",
              "Total Charge", "fTotalCharge", "Amount", "Order Value"),
    "date": ("Received Date", "Created at", "Order Date", "order_date", "Sale Date",
             "purchase-date", "Created Date", "Date", "dReceivedDate", "Date Created"),
    "name": ("Customer Name", "Billing Name", "Buyer Name", "Full Name", "Shipping customer name",
             "Ship To Name", "buyer-name", "Customer"),
    "first_name": ("First Name", "billing_first_name", "First Name (Billing)"),
    "last_name": ("Last Name", "billing_last_name", "Last Name (Billing)"),
}

#: What each field is for, in messages.
FIELD_TITLES = {
    "order_id": "order id", "email": "customer email", "total": "order total",
    "date": "order date", "name": "customer name", "first_name": "first name",
    "last_name": "last name",
}

#: The command-line option that names each field's column.
FIELD_OPTIONS = {f: f"--{f.replace('_', '-')}-column" for f in FIELD_ALIASES}


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


@dataclass(frozen=True)
class FieldMap:
    """Field name -> 0-based column index, for one export."""

    columns: tuple[str, ...]
    index: Mapping[str, int]

    def get(self, field: str) -> int | None:
        return self.index.get(field)

    def column_name(self, field: str) -> str | None:
        i = self.index.get(field)
        return None if i is None else self.columns[i]

    def require(self, field: str, *, file: str) -> int:
        """The column index of ``field``, or an error saying what was looked for."""
        i = self.index.get(field)
        if i is not None:
            return i
        looked = ", ".join(FIELD_ALIASES.get(field, ()))
        raise ColumnError(
            f"no {FIELD_TITLES.get(field, field)} column (looked for: {looked}).", file=file,
            hint=f"Name the column with {FIELD_OPTIONS.get(field, '--' + field)} "
                 f"(the file's columns: {_list(self.columns)}).")

    def find_column(self, name: str) -> int | None:
        """A column by its name: exact first, then ignoring case and spacing."""
        for i, col in enumerate(self.columns):
            if col == name:
                return i
        squashed = _squash(name)
        for i, col in enumerate(self.columns):
            if _squash(col) == squashed:
                return i
        return None


def _list(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "")


def map_fields(columns: Sequence[str], *, overrides: Mapping[str, str | None] | None = None,
               file: str = "") -> FieldMap:
    """Find each field's column in a header; ``overrides`` (field -> column name) win.

    >>> map_fields(["Order Id", "Email", "Total"]).index
    {'order_id': 0, 'email': 1, 'total': 2}
    """
    cols = tuple(columns)
    squashed = [_squash(c) for c in cols]
    index: dict[str, int] = {}
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            s = _squash(alias)
            if s in squashed:
                index[field] = squashed.index(s)
                break
    for field, column in (overrides or {}).items():
        if not column:
            continue
        fm = FieldMap(cols, index)
        i = fm.find_column(column)
        if i is None:
            raise ColumnError(
                f'there is no column "{column}" for the {FIELD_TITLES.get(field, field)}.',
                file=file, hint=f"The file's columns: {_list(cols)}.")
        index[field] = i
    return FieldMap(cols, index)
