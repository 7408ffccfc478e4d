"""Finding the order fields (email, total, date, ...) among an export's columns.

Pure Python on purpose: ``ordertags tag --order`` uses it without loading pyarrow.
Columns are matched by name, never by position, ignoring case, spaces, ``_`` and ``-``.
The aliases here are those of the generic profile; each platform profile
(:mod:`ordertags.io.platforms`) has its own, matched the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ordertags.errors import ColumnError, param

#: The order fields ordertags computes on, with the column names that usually hold them
#: (the generic profile: an export from no platform ordertags knows by name).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": (
        "Order Id",
        "Order ID",
        "OrderId",
        "Order Number",
        "Order No",
        "Order #",
        "order_id",
        "order-id",
        "amazon-order-id",
        "nOrderId",
        "Id",
    ),
    "email": (
        "Email",
        "E-mail",
        "Email Address",
        "Customer Email",
        "Customer email address",
        "customer_email",
        "billing_email",
        "Email (Billing)",
        "Buyer Email",
        "buyer-email",
        "cEmailAddress",
    ),
    "total": (
        "Total",
        "Order Total",
        "order_total",
        "Total Price",
        "Grand Total",
        "Total Charge",
        "fTotalCharge",
        "Amount",
        "Order Value",
    ),
    "date": (
        "Received Date",
        "Created at",
        "Order Date",
        "order_date",
        "Sale Date",
        "purchase-date",
        "Created Date",
        "Date",
        "dReceivedDate",
        "Date Created",
    ),
    "name": (
        "Customer Name",
        "Billing Name",
        "Buyer Name",
        "Full Name",
        "Shipping customer name",
        "Ship To Name",
        "buyer-name",
        "Customer",
    ),
    "first_name": ("First Name", "billing_first_name", "First Name (Billing)"),
    "last_name": ("Last Name", "billing_last_name", "Last Name (Billing)"),
    "customer_id": (
        "Customer ID",
        "CustomerID",
        "Customer Number",
        "Buyer Username",
        "Buyer User ID",
        "buyerID",
    ),
    "phone": (
        "Phone",
        "Phone Number",
        "Telephone",
        "Customer Phone",
        "Billing Phone",
        "Buyer Phone",
        "buyer-phone-number",
        "Ship To Phone",
    ),
    "address": (
        "Address",
        "Address1",
        "Address Line 1",
        "Street",
        "Billing Address1",
        "Shipping Address1",
        "ship-address-1",
    ),
    "postcode": (
        "Postcode",
        "Post Code",
        "Postal Code",
        "Zip",
        "Zip Code",
        "Zipcode",
        "Shipping Zip",
        "Billing Zip",
        "ship-postal-code",
    ),
    "country": ("Country", "Country Code", "Shipping Country", "Billing Country", "ship-country"),
    "currency": ("Currency", "Currency Code", "cCurrency"),
    "channel": ("Channel", "Source", "Sales Channel", "sales-channel", "Marketplace"),
    # Where the seller's notes on an order go (a rule's ``note``).
    "notes": ("Notes", "Order Notes", "Note", "Order Note", "Comments"),
    # The channel's own order number where an order hub (Linnworks) gives the order a
    # number of its own: the order is known by both.
    "reference": (
        "Reference Num",
        "Reference Number",
        "ReferenceNum",
        "Channel Reference",
        "Channel Reference Number",
        "External Reference",
        "ExternalReference",
        "Channel Order Number",
    ),
    "shipping_service": (
        "Shipping Service",
        "Postal Service",
        "Shipping Method",
        "Delivery Method",
        "ship-service-level",
    ),
    "status": ("Status", "Order Status", "Financial Status"),
    "marketing_consent": (
        "Accepts Marketing",
        "Accepts Email Marketing",
        "Email Marketing Consent",
        "Marketing Consent",
        "Marketing Opt-in",
        "Newsletter",
        "Newsletter Opt-in",
    ),
    "refunds": ("Refunded Amount", "Refunds", "Refund Amount", "Refunded"),
    "risk_level": ("Risk Level", "Fraud Risk"),
    "sku": ("SKU", "Item SKU", "Product SKU"),
    "item_name": ("Item Name", "Item Title", "Product Name"),
    "quantity": ("Quantity", "Qty"),
    "price": ("Unit Price", "Item Price", "Price"),
    "line_total": ("Line Total",),
}

#: Values of a marketing-consent column that mean yes (compared lower-cased).
CONSENT_YES = ("yes", "y", "true", "1", "subscribed", "accepted", "opt-in", "opted in", "granted")

#: What each field is for, in messages.
FIELD_TITLES = {
    "order_id": "order id",
    "email": "customer email",
    "total": "order total",
    "date": "order date",
    "name": "customer name",
    "first_name": "first name",
    "last_name": "last name",
    "customer_id": "customer id",
    "phone": "phone",
    "address": "address",
    "postcode": "postcode",
    "country": "country",
    "currency": "currency",
    "channel": "channel",
    "notes": "order notes",
    "shipping_service": "shipping service",
    "status": "order status",
    "marketing_consent": "marketing consent",
    "reference": "channel reference",
    "refunds": "refunds",
    "risk_level": "risk level",
    "sku": "line item SKU",
    "item_name": "line item name",
    "quantity": "line item quantity",
    "price": "line item price",
    "line_total": "line item total",
}

#: The column a rule's ``set`` or ``note`` of an order field adds where an export has
#: none (any other field: its name in title case, ``Shipping Service``).
ADDED_FIELD_COLUMNS = {"notes": "Order Notes"}

#: The command-line option that names each field's column (the others: --mapping).
#: The read option that names a field's column (``ReadOptions.columns``).
FIELD_OPTIONS = {
    f: param(f"read.columns['{f}']") for f in ("order_id", "email", "total", "date", "name")
}


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


@dataclass(frozen=True)
class FieldMap:
    """Field name -> 0-based column index, for one export.

    ``fallbacks`` lists, per field, further columns read where the main one is blank
    (WooCommerce: ``billing_email`` where ``customer_email`` is blank); ``aliases`` are
    the names that were looked for, and ``notes`` a profile's advice per missing field,
    both for messages.
    """

    columns: tuple[str, ...]
    index: Mapping[str, int]
    fallbacks: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: FIELD_ALIASES)
    notes: Mapping[str, str] = field(default_factory=dict)

    def get(self, field: str) -> int | None:
        return self.index.get(field)

    def column_name(self, field: str) -> str | None:
        i = self.index.get(field)
        return None if i is None else self.columns[i]

    def sources(self, field: str) -> tuple[int, ...]:
        """The field's column, then its fallback columns (empty: not in this export)."""
        i = self.index.get(field)
        return () if i is None else (i, *self.fallbacks.get(field, ()))

    def require(self, field: str, *, file: str) -> int:
        """The column index of ``field``, or an error saying what was looked for."""
        i = self.index.get(field)
        if i is not None:
            return i
        raise self.missing(field, file=file)

    def missing(self, field: str, *, file: str) -> ColumnError:
        """The error for a field this export has no column for."""
        looked = ", ".join(self.aliases.get(field, ()))
        note = self.notes.get(field)
        option = FIELD_OPTIONS.get(field)
        how = (
            f"Name the column with {option}"
            if option
            else f"Map a column to it with {param('read.mapping')} FILE"
        )
        if note:  # the profile's advice, then "or name the column ..."
            how = f"{note} {how[0].lower()}{how[1:]}"
        return ColumnError(
            f"no {FIELD_TITLES.get(field, field)} column (looked for: {looked}).",
            file=file,
            hint=f"{how} (the file's columns: {_list(self.columns)}).",
        )

    def action_column(self, name: str, *, field: bool) -> tuple[int | None, str]:
        """Where a rule action (``set``, ``note``) that names ``name`` writes in this
        export: (the existing column's index or None, the column's name).

        An order ``field`` (``shipping_service``, ``notes``) is this export's own column
        for it (Postal Service, Shipping Method), decided per export whatever the other
        exports of the run call theirs; where the export has none, a column of that name
        or of the name ordertags adds (written by an earlier run) is used, else the
        column is added under :data:`ADDED_FIELD_COLUMNS`' name. Any other name is a
        column, found ignoring case and spacing.

        >>> m = map_fields(["Order Id", "Postal Service"])
        >>> m.action_column("shipping_service", field=True)
        (1, 'Postal Service')
        >>> map_fields(["Order Id"]).action_column("shipping_service", field=True)
        (None, 'Shipping Service')
        """
        if field:
            sources = self.sources(name)
            if sources:
                return sources[0], self.columns[sources[0]]
            added = ADDED_FIELD_COLUMNS.get(name, name.replace("_", " ").title())
            for spelling in (name, added):
                found = self.find_column(spelling)
                if found is not None:
                    return found, self.columns[found]
            return None, added
        found = self.find_column(name)
        return (found, self.columns[found]) if found is not None else (None, name)

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


def build_map(
    columns: Sequence[str],
    aliases: Mapping[str, tuple[str, ...]],
    *,
    fallbacks: Mapping[str, tuple[str, ...]] | None = None,
    overrides: Mapping[str, str | None] | None = None,
    notes: Mapping[str, str] | None = None,
    file: str = "",
) -> FieldMap:
    """Find each field's column by its aliases (the first alias present wins), then its
    fallback columns; ``overrides`` (field -> column name) win over both."""
    cols = tuple(columns)
    first: dict[str, int] = {}
    for i, c in enumerate(cols):
        first.setdefault(_squash(c), i)
    index: dict[str, int] = {}
    backs: dict[str, tuple[int, ...]] = {}
    for fld, names in aliases.items():
        for alias in names:
            at = first.get(_squash(alias))
            if at is not None:
                index[fld] = at
                break
    for fld, names in (fallbacks or {}).items():
        found = [first[s] for s in (_squash(n) for n in names) if s in first]
        found = [i for i in dict.fromkeys(found) if i != index.get(fld)]
        if not found:
            continue
        if fld not in index:
            index[fld], found = found[0], found[1:]
        if found:
            backs[fld] = tuple(found)
    fm = FieldMap(cols, index, backs, aliases, notes or {})
    for fld, column in (overrides or {}).items():
        if not column:
            continue
        named = fm.find_column(column)
        if named is None:
            raise ColumnError(
                f'there is no column "{column}" for the {FIELD_TITLES.get(fld, fld)}.',
                file=file,
                hint=f"The file's columns: {_list(cols)}.",
            )
        index[fld] = named
        backs.pop(fld, None)
    return FieldMap(cols, index, backs, aliases, notes or {})


def map_fields(
    columns: Sequence[str], *, overrides: Mapping[str, str | None] | None = None, file: str = ""
) -> FieldMap:
    """Find each field's column in a header by the generic names; ``overrides``
    (field -> column name) win.

    >>> map_fields(["Order Id", "Email", "Total"]).index
    {'order_id': 0, 'email': 1, 'total': 2}
    """
    return build_map(columns, FIELD_ALIASES, overrides=overrides, file=file)
