"""Platform profiles: how each shop system names, shapes and writes its order exports.

A :class:`Profile` maps a platform's columns onto ordertags' order fields and says how to
read the rest: how money and dates are written, whether an order spans several rows
(one per line item) and what groups them, where the customer's identity is, how the
order total is made up, where the line items are, which encodings to try.

Profiles are picked from the header (:func:`detect_profile`): each has one or more
*signatures*, sets of column names that only that platform's exports have together;
the profile with the largest matching signature wins, and an export that matches none
is read with the generic profile. ``--format NAME`` forces a profile; a mapping file
(``--mapping FILE``, :func:`load_mapping`) names the columns of any other export.

Pure Python on purpose: ``ordertags tag --order`` uses it without loading pyarrow.
Facts per platform, with sources: ``../shared/reference/export-formats.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordertags.base.yamlfiles import line_of, load_yaml, read_text
from ordertags.errors import ColumnError, UsageError
from ordertags.io.fields import FIELD_ALIASES, FIELD_TITLES, FieldMap, build_map
from ordertags.io.sniff import DELIMITERS

#: Fields that belong to a line item; every other field belongs to the order.
ITEM_FIELDS = ("sku", "item_name", "quantity", "price", "line_total")
#: Fields whose text may carry Excel's protective leading apostrophe (``'+46 70 459``).
QUOTED_FIELDS = ("phone", "postcode", "order_id", "customer_id")
#: How money is written (``--money-style``, a mapping file's ``money``).
MONEY_STYLES = ("plain", "symbol", "comma_decimal", "auto")
#: How dates are written (``--date-style``, a mapping file's ``dates``).
DATE_STYLES = ("iso", "us", "eu", "ebay", "yyyymmdd", "auto")
#: ``--date-style`` and mapping-file spellings people use, and the style each means.
DATE_STYLE_ALIASES = {
    "day-first": "eu",
    "dayfirst": "eu",
    "dmy": "eu",
    "month-first": "us",
    "monthfirst": "us",
    "mdy": "us",
}


class MappingError(ColumnError):
    """A mapping file (``--mapping``) that cannot be used."""


@dataclass(frozen=True)
class Profile:
    """How one platform's order export is laid out.

    ``fields`` maps each order field to the column names that hold it (the first present
    wins); ``fallbacks`` to columns read where that one is blank. ``rows`` is ``order``
    (one row per order) or ``item`` (one row per line item, grouped into orders by the
    ``order_id`` field; rows of one order need not be adjacent, and a row with a blank
    order id continues the order above it). ``customer`` lists the fields that identify
    the customer, in preference; a non-email identity is prefixed with ``key_prefix``
    so that ids of different platforms never meet. The order total is the ``total``
    field, unless ``total_lines`` (columns summed over an order's lines),
    ``total_product`` (quantity x unit price summed over the lines) or ``total_once``
    (order-level columns added once) say otherwise. ``items`` names extra places line
    items are written: ``woo_cells`` (``line_item_N`` = ``name:..|sku:..|quantity:..``
    and ``Product Item N Name``-style columns), ``skyverge`` (``line_items`` =
    ``id:..|name:..;id:..``), ``woo_products`` (``2× Name, 1× Name``).
    """

    name: str
    title: str
    fields: Mapping[str, tuple[str, ...]]
    signatures: tuple[tuple[str, ...], ...] = ()
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    money: str = "plain"
    dates: str = "auto"
    rows: str = "order"
    customer: tuple[str, ...] = ("email",)
    key_prefix: str = ""
    total_lines: tuple[str, ...] = ()
    total_product: bool = False
    total_once: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ()
    skip_junk: bool = False
    notes: Mapping[str, str] = field(default_factory=dict)
    about: str = ""
    mapping_file: str | None = None
    #: Where ``dates`` was said, when a mapping file said it (for ``inspect``).
    dates_from: str = ""
    #: Tax columns summed over the lines only where prices exclude tax (see
    #: ``tax_included``), and discount columns taken off (their size, whichever sign
    #: the report gives them).
    tax_lines: tuple[str, ...] = ()
    discount_lines: tuple[str, ...] = ()
    #: How to tell whether prices include tax: "" (they do not, or there is an order
    #: total), or "amazon-marketplace" (by the marketplace: see :func:`tax_included`).
    tax_rule: str = ""
    #: The channel every order of this export comes from (``shopify``, ``amazon``...),
    #: "" where a column says it (an order hub such as Linnworks, a generic export).
    channel: str = ""
    #: An order hub (Linnworks) keeps copies of other channels' orders: where a
    #: channel's own export disagrees with the hub's copy, the channel's wins.
    hub: bool = False

    @property
    def grouped(self) -> bool:
        return self.rows == "item"

    def describe(self) -> str:
        """One line on the shape of the rows, for ``inspect``."""
        if self.grouped:
            shape = "one row per line item, grouped into orders by the order id"
        else:
            shape = "one row per order"
        return f"{shape}; money {self.money}, dates {self.dates}"


def _p(**kw: Any) -> Profile:
    return Profile(**kw)


SHOPIFY = _p(
    channel="shopify",
    name="shopify",
    title="Shopify orders export",
    signatures=(
        ("Name", "Financial Status", "Lineitem name"),
        ("Name", "Lineitem quantity", "Lineitem price"),
    ),
    fields={
        "notes": ("Notes",),
        "order_id": ("Name",),
        "email": ("Email",),
        "name": ("Billing Name", "Shipping Name"),
        "phone": ("Phone", "Billing Phone", "Shipping Phone"),
        "address": ("Shipping Address1", "Billing Address1"),
        "postcode": ("Shipping Zip", "Billing Zip"),
        "country": ("Shipping Country", "Billing Country"),
        "date": ("Created at",),
        "total": ("Total",),
        "currency": ("Currency",),
        "channel": ("Source",),
        "shipping_service": ("Shipping Method",),
        "status": ("Financial Status",),
        "marketing_consent": ("Accepts Marketing", "Accepts Email Marketing"),
        "refunds": ("Refunded Amount",),
        "risk_level": ("Risk Level",),
        "sku": ("Lineitem sku",),
        "item_name": ("Lineitem name",),
        "quantity": ("Lineitem quantity",),
        "price": ("Lineitem price",),
    },
    fallbacks={
        "phone": ("Billing Phone", "Shipping Phone"),
        "name": ("Shipping Name",),
        "postcode": ("Billing Zip",),
        "country": ("Billing Country",),
        "address": ("Billing Address1",),
    },
    money="plain",
    dates="iso",
    rows="item",
    about="order fields (Total, Email, addresses) on an order's first row only; draft "
    "orders have no email",
)

WOOCOMMERCE = _p(
    channel="woocommerce",
    name="woocommerce",
    title="WooCommerce order export (WebToffee / SkyVerge)",
    signatures=(
        ("order_id", "order_total", "billing_email"),
        ("order_id", "order_date", "customer_email"),
    ),
    fields={
        "notes": ("order_notes", "customer_note"),
        "order_id": ("order_number", "order_id"),
        "email": ("customer_email", "billing_email"),
        "first_name": ("billing_first_name", "shipping_first_name"),
        "last_name": ("billing_last_name", "shipping_last_name"),
        "phone": ("billing_phone", "shipping_phone"),
        "address": ("shipping_address_1", "billing_address_1"),
        "postcode": ("shipping_postcode", "billing_postcode"),
        "country": ("shipping_country", "billing_country"),
        "date": ("order_date",),
        "total": ("order_total",),
        "currency": ("order_currency",),
        "shipping_service": ("shipping_method",),
        "status": ("status",),
        "refunds": ("refunded_total", "order_refund"),
        "sku": ("item_sku",),
        "item_name": ("item_name",),
        "quantity": ("item_quantity",),
        "price": ("item_price",),
        "line_total": ("item_total",),
    },
    fallbacks={
        "email": ("billing_email",),
        "order_id": ("order_id",),
        "phone": ("shipping_phone",),
        "postcode": ("billing_postcode",),
        "country": ("billing_country",),
        "address": ("billing_address_1",),
    },
    money="auto",
    dates="auto",
    rows="item",
    items=("woo_cells", "skyverge"),
    about="customer_email is blank for guests, so billing_email is read there; line items "
    "in line_item_N / line_items cells",
)

WOO_ALGOLPLUS = _p(
    channel="woocommerce",
    name="woocommerce-algolplus",
    title="WooCommerce Advanced Order Export (AlgolPlus)",
    signatures=(
        ("Order Number", "Order Date", "Email (Billing)"),
        ("Order Number", "Order Total Amount"),
    ),
    fields={
        "notes": ("Customer Note", "Order Notes"),
        "order_id": ("Order Number",),
        "email": ("Email (Billing)",),
        "first_name": ("First Name (Billing)", "First Name (Shipping)"),
        "last_name": ("Last Name (Billing)", "Last Name (Shipping)"),
        "phone": ("Phone (Billing)",),
        "address": ("Address 1&2 (Shipping)", "Address 1&2 (Billing)"),
        "postcode": ("Postcode (Shipping)", "Postcode (Billing)"),
        "country": ("Country Code (Shipping)", "Country Code (Billing)"),
        "date": ("Order Date",),
        "total": ("Order Total Amount", "Order Total"),
        "currency": ("Currency",),
        "status": ("Order Status",),
        "shipping_service": ("Shipping Method Title", "Shipping Method"),
        "refunds": ("Order Refund Amount",),
        "sku": ("SKU",),
        "item_name": ("Name", "Product Name"),
        "quantity": ("Quantity",),
        "price": ("Item Cost",),
        "line_total": ("Order Line Total",),
    },
    money="auto",
    dates="auto",
    rows="item",
    encodings=("cp1252", "latin-1"),
    about="one row per product with the order's fields (and totals) repeated on each; "
    "totals are counted once per order",
)

WOO_ANALYTICS = _p(
    channel="woocommerce",
    name="woocommerce-analytics",
    title="WooCommerce Analytics orders download",
    signatures=(("Order #", "Customer type"), ("Order #", "Net Sales", "Items sold")),
    fields={
        "order_id": ("Order #",),
        "customer_id": ("Customer",),
        "name": ("Customer",),
        "date": ("Date",),
        "total": ("Net Sales", "N. Revenue (formatted)"),
        "status": ("Status",),
    },
    customer=("customer_id",),
    key_prefix="woo-name:",
    money="auto",
    dates="auto",
    items=("woo_products",),
    about="no email column: customers are told apart by name only",
)

LINNWORKS = _p(
    hub=True,
    name="linnworks",
    title="Linnworks orders export",
    signatures=(
        ("Order Id", "Customer email address"),
        ("nOrderId", "cEmailAddress"),
        ("Order Id", "SubSource"),
        ("Reference Number", "Customer email address"),
    ),
    fields={
        "notes": ("Notes", "Order Notes", "Note"),
        "order_id": ("Order Id", "nOrderId"),
        "reference": (
            "Reference Num",
            "Reference Number",
            "ReferenceNum",
            "Channel Reference",
            "External Reference",
            "ExternalReference",
        ),
        "email": ("Customer email address", "cEmailAddress", "Email"),
        "name": ("Shipping customer name", "Customer Name", "cFullName"),
        "phone": (
            "Customer buyer phone number",
            "Customer Phone",
            "Customer phone number",
            "Phone",
            "cPhoneNumber",
            "BuyerPhoneNumber",
        ),
        "address": ("Shipping address 1", "Address1", "Address Line 1"),
        "postcode": ("Shipping postcode", "Postcode", "Post Code"),
        "country": ("Shipping country", "Country"),
        "date": ("Received date", "dReceivedDate", "Created Date"),
        "total": ("Total", "Total Charge", "fTotalCharge", "Order Total"),
        "currency": ("Currency", "cCurrency"),
        "channel": ("Source", "SubSource"),
        "shipping_service": ("Postal Service", "Shipping Service", "PostalServiceName"),
        "status": ("Status",),
        "sku": ("SKU", "ItemNumber"),
        "item_name": ("Item Title", "ItemTitle", "Title"),
        "quantity": ("Quantity",),
        "price": ("Unit Cost", "Price Per Unit", "PricePerUnit"),
        "line_total": ("Line Total", "LineTotal"),
    },
    fallbacks={"order_id": ("Reference Number", "Reference Num", "ReferenceNum")},
    money="auto",
    dates="auto",
    rows="item",
    about="columns are chosen by the user: map others with --mapping; one row per SKU "
    "with the order's total repeated, counted once",
)

AMAZON = _p(
    channel="amazon",
    name="amazon",
    title="Amazon Seller Central order report",
    signatures=(
        ("order-id", "order-item-id", "purchase-date"),
        ("amazon-order-id", "purchase-date", "sku"),
        ("amazon-order-id", "buyer-email"),
    ),
    fields={
        "order_id": ("order-id", "amazon-order-id"),
        "email": ("buyer-email",),
        "name": ("buyer-name", "recipient-name"),
        "phone": ("buyer-phone-number", "ship-phone-number"),
        "address": ("ship-address-1",),
        "postcode": ("ship-postal-code",),
        "country": ("ship-country",),
        "date": ("purchase-date",),
        "currency": ("currency",),
        "channel": ("sales-channel",),
        "shipping_service": ("ship-service-level",),
        "status": ("order-status", "item-status"),
        "sku": ("sku",),
        "item_name": ("product-name",),
        "quantity": ("quantity-purchased", "quantity", "quantity-shipped"),
        "line_total": ("item-price",),
    },
    total_lines=("item-price", "shipping-price", "gift-wrap-price"),
    tax_lines=("item-tax", "shipping-tax", "gift-wrap-tax"),
    discount_lines=("item-promotion-discount", "ship-promotion-discount"),
    tax_rule="amazon-marketplace",
    money="plain",
    dates="iso",
    rows="item",
    encodings=("cp1252", "cp932"),
    notes={
        "email": "This Amazon report has no buyer-email (the All Orders report "
        "lacks it), so customers cannot be told apart: download the Order "
        "Report (unshipped orders) or Amazon Fulfilled Shipments instead, or"
    },
    about="buyer-email is a marketplace relay address (an opaque per-buyer key); the "
    "order total is the sum over its lines of item-price, shipping-price and "
    "gift-wrap-price, less item- and ship-promotion-discount, plus item-tax, "
    "shipping-tax and gift-wrap-tax only on marketplaces whose prices exclude tax "
    "(amazon.com, amazon.ca: by sales-channel, else USD/CAD)",
)

EBAY = _p(
    channel="ebay",
    name="ebay",
    title="eBay orders report",
    signatures=(
        ("Sales Record Number", "Order Number", "Buyer Username"),
        ("Order Number", "Buyer Username", "Post to name"),
        ("Sales Record Number", "User Id"),
    ),
    fields={
        "notes": ("My Item Note",),
        "order_id": ("Order Number", "Sales Record Number"),
        "customer_id": ("Buyer Username", "User Id"),
        "email": ("Buyer Email",),
        "name": ("Buyer Name", "Ship To Name", "Post to name"),
        "phone": ("Ship To Phone", "Post to phone", "Buyer Phone"),
        "address": ("Ship To Address 1", "Post to address 1", "Buyer Address 1"),
        "postcode": ("Ship To Zip", "Post to postcode", "Buyer Zip"),
        "country": ("Ship To Country", "Post to country", "Buyer Country"),
        "date": ("Sale Date",),
        "total": ("Total Price",),
        "shipping_service": ("Shipping Service", "Delivery service"),
        "sku": ("Custom Label",),
        "item_name": ("Item Title",),
        "quantity": ("Quantity",),
        "price": ("Sold For",),
    },
    fallbacks={"order_id": ("Sales Record Number",)},
    customer=("customer_id", "email"),
    key_prefix="ebay:",
    money="symbol",
    dates="ebay",
    rows="item",
    skip_junk=True,
    about="customers by Buyer Username; lines before the header and 'record(s) "
    "downloaded' / 'Seller ID' lines are skipped and written back as they were",
)

EBAY_DE = _p(
    channel="ebay",
    name="ebay-de",
    title="eBay orders report (German)",
    signatures=(
        ("Verkaufsprotokollnummer", "Bestellnummer"),
        ("Bestellnummer", "Nutzername des Käufers"),
    ),
    # The German report's own names for the columns of the English one (Shipping
    # Service, My Item Note, Ship To / Buyer Country, ...), as eBay.de writes them and
    # as import scripts for it read them.
    fields={
        "notes": ("Notiz zum Artikel",),
        "order_id": ("Bestellnummer", "Verkaufsprotokollnummer"),
        "customer_id": ("Nutzername des Käufers",),
        "email": ("E-Mail des Käufers",),
        "name": ("Name des Käufers", "Name des Empfängers"),
        "phone": ("Telefonnummer des Empfängers",),
        "address": ("Adresse 1 des Empfängers", "Adresse 1 des Käufers"),
        "postcode": ("Versand nach - PLZ", "PLZ des Käufers"),
        "country": ("Versand nach - Land", "Land des Käufers"),
        "date": ("Verkauft am",),
        "total": ("Gesamtbetrag",),
        "shipping_service": ("Versandservice",),
        "sku": ("Bestandseinheit",),
        "item_name": ("Angebotstitel",),
        "quantity": ("Anzahl", "Menge"),
        "price": ("Verkauft für",),
    },
    fallbacks={
        "order_id": ("Verkaufsprotokollnummer",),
        "name": ("Name des Empfängers",),
        "address": ("Adresse 1 des Käufers",),
        "postcode": ("PLZ des Käufers",),
        "country": ("Land des Käufers",),
    },
    customer=("customer_id", "email"),
    key_prefix="ebay:",
    money="comma_decimal",
    dates="ebay",
    rows="item",
    skip_junk=True,
    encodings=("cp1252",),
    about="semicolon-separated, 116,99 € and 10-Dez-25; written in Windows-1252",
)

ETSY_ORDERS = _p(
    channel="etsy",
    name="etsy-orders",
    title="Etsy sold orders (EtsySoldOrders)",
    signatures=(
        ("Sale Date", "Order ID", "Buyer User ID"),
        ("Order ID", "Order Value", "Order Total", "Number of Items"),
    ),
    fields={
        "order_id": ("Order ID",),
        "customer_id": ("Buyer User ID", "Buyer"),
        "name": ("Full Name",),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "address": ("Street 1",),
        "postcode": ("Ship Zipcode",),
        "country": ("Ship Country",),
        "date": ("Sale Date",),
        "total": ("Order Total",),
        "currency": ("Currency",),
        "status": ("Status",),
    },
    customer=("customer_id",),
    key_prefix="etsy:",
    money="auto",
    dates="us",
    about="no email column: customers by Buyer User ID",
)

ETSY_ITEMS = _p(
    channel="etsy",
    name="etsy-items",
    title="Etsy sold order items (EtsySoldOrderItems)",
    signatures=(
        ("Sale Date", "Item Name", "Order ID", "Transaction ID"),
        ("Item Name", "Order ID", "Listing ID"),
    ),
    fields={
        "order_id": ("Order ID",),
        "customer_id": ("Buyer",),
        "name": ("Ship Name",),
        "address": ("Ship Address1",),
        "postcode": ("Ship Zipcode",),
        "country": ("Ship Country",),
        "date": ("Sale Date",),
        "currency": ("Currency",),
        "sku": ("SKU",),
        "item_name": ("Item Name",),
        "quantity": ("Quantity",),
        "price": ("Price",),
        "line_total": ("Item Total",),
    },
    total_lines=("Item Total",),
    total_once=("Order Shipping", "Order Sales Tax"),
    customer=("customer_id",),
    key_prefix="etsy:",
    money="auto",
    dates="us",
    rows="item",
    about="no email column: customers by Buyer; the order total is the sum of Item Total "
    "plus Order Shipping and Order Sales Tax once",
)

SQUARESPACE = _p(
    channel="squarespace",
    name="squarespace",
    title="Squarespace orders (Orders > Download CSV)",
    signatures=(
        ("Order ID", "Financial Status", "Lineitem name"),
        ("Order ID", "Lineitem quantity", "Private Notes"),
    ),
    fields={
        "notes": ("Private Notes",),
        "order_id": ("Order ID",),
        "email": ("Email",),
        "name": ("Billing Name", "Shipping Name"),
        "phone": ("Billing Phone", "Shipping Phone"),
        "address": ("Shipping Address1", "Billing Address1"),
        "postcode": ("Shipping Zip", "Billing Zip"),
        "country": ("Shipping Country", "Billing Country"),
        "date": ("Created at", "Paid at"),
        "total": ("Total",),
        "currency": ("Currency",),
        "shipping_service": ("Shipping Method",),
        "status": ("Financial Status",),
        "refunds": ("Amount Refunded",),
        "sku": ("Lineitem sku",),
        "item_name": ("Lineitem name",),
        "quantity": ("Lineitem quantity",),
        "price": ("Lineitem price",),
    },
    fallbacks={
        "phone": ("Shipping Phone",),
        "name": ("Shipping Name",),
        "postcode": ("Billing Zip",),
        "country": ("Billing Country",),
        "address": ("Billing Address1",),
    },
    money="plain",
    dates="us",
    rows="item",
    about="Shopify-like columns under Order ID; one row per line item, the order's fields "
    "on its first row only; dates month first (7/25/2018 21:06)",
)

ONLINE_RETAIL = _p(
    name="online-retail",
    title="UCI Online Retail invoice lines",
    signatures=(("InvoiceNo", "StockCode", "CustomerID"), ("InvoiceNo", "StockCode", "UnitPrice")),
    fields={
        "order_id": ("InvoiceNo", "Invoice"),
        "customer_id": ("CustomerID", "Customer ID"),
        "country": ("Country",),
        "date": ("InvoiceDate",),
        "sku": ("StockCode",),
        "item_name": ("Description",),
        "quantity": ("Quantity",),
        "price": ("UnitPrice", "Price"),
    },
    total_product=True,
    customer=("customer_id",),
    key_prefix="online-retail:",
    money="plain",
    dates="auto",
    rows="item",
    about="one row per invoice line; the invoice total is the sum of Quantity x UnitPrice; "
    "customers by CustomerID (17850.0 is read as 17850)",
)

GENERIC = _p(
    name="generic",
    title="generic export",
    fields=FIELD_ALIASES,
    customer=("email", "customer_id"),
    key_prefix="customer:",
    money="plain",
    dates="auto",
    about="no platform recognised: columns found by their usual names, one row per order",
)

#: Every profile, in the order ties are broken.
PROFILES: tuple[Profile, ...] = (
    SHOPIFY,
    WOOCOMMERCE,
    WOO_ALGOLPLUS,
    WOO_ANALYTICS,
    LINNWORKS,
    AMAZON,
    EBAY,
    EBAY_DE,
    ETSY_ORDERS,
    ETSY_ITEMS,
    SQUARESPACE,
    ONLINE_RETAIL,
    GENERIC,
)
PROFILE_NAMES = tuple(p.name for p in PROFILES)
_BY_NAME = {p.name: p for p in PROFILES}


#: Amazon marketplaces whose item-price excludes tax (tax is added at checkout, and
#: item-tax is on top): the United States and Canada. On every other marketplace
#: (amazon.co.uk, the EU ones, .co.jp, .com.au, ...) prices include VAT/GST and
#: item-tax is the part of item-price that is tax (Seller Central: "the item price
#: includes VAT"), so adding it would count the tax twice.
AMAZON_TAX_EXCLUSIVE = frozenset({"amazon.com", "amazon.ca", "www.amazon.com", "www.amazon.ca"})
#: Without a sales-channel: the currencies of those marketplaces.
AMAZON_TAX_EXCLUSIVE_CURRENCIES = frozenset({"USD", "CAD"})


def tax_included(sales_channel: str, currency: str) -> bool:
    """Do an Amazon order's prices include tax? By its marketplace (``sales-channel``:
    ``Amazon.co.uk`` yes, ``Amazon.com`` no), else by its currency (USD, CAD: no).

    >>> tax_included("Amazon.co.uk", "GBP"), tax_included("Amazon.com", "USD")
    (True, False)
    >>> tax_included("", "EUR"), tax_included("Non-Amazon", "USD")
    (True, False)
    """
    channel = sales_channel.strip().lower()
    if channel.startswith("amazon."):
        return channel not in AMAZON_TAX_EXCLUSIVE
    return currency.strip().upper() not in AMAZON_TAX_EXCLUSIVE_CURRENCIES


# --- one channel vocabulary ----------------------------------------------------------------

#: Channel names as exports write them (a Linnworks Source or SubSource, an Amazon
#: sales-channel, a platform name) -> the channel: the first word found wins.
CHANNEL_WORDS = (
    ("amazon", "amazon"),
    ("ebay", "ebay"),
    ("shopify", "shopify"),
    ("woocommerce", "woocommerce"),
    ("woo", "woocommerce"),
    ("wordpress", "woocommerce"),
    ("etsy", "etsy"),
    ("squarespace", "squarespace"),
    ("magento", "magento"),
    ("bigcommerce", "bigcommerce"),
    ("onbuy", "onbuy"),
    ("tiktok", "tiktok"),
    ("direct", "direct"),
    ("manual", "direct"),
)
#: Country words in a channel name -> the marketplace's domain suffix.
MARKETPLACES = {
    "co.uk": "co.uk",
    "uk": "co.uk",
    "gb": "co.uk",
    "com.au": "com.au",
    "au": "com.au",
    "co.jp": "co.jp",
    "jp": "co.jp",
    "com.mx": "com.mx",
    "mx": "com.mx",
    "com.br": "com.br",
    "com.be": "com.be",
    "com.tr": "com.tr",
    "com": "com",
    "us": "com",
    "usa": "com",
    "ca": "ca",
    "de": "de",
    "fr": "fr",
    "it": "it",
    "es": "es",
    "nl": "nl",
    "se": "se",
    "pl": "pl",
    "ie": "ie",
    "in": "in",
    "sg": "sg",
    "ae": "ae",
}
_MARKET = re.compile(r"(co\.uk|com\.[a-z]{2}|co\.jp|\b[a-z]{2,3}\b)\s*$")


def normalise_channel(text: str) -> tuple[str, str]:
    """A channel as exports name it -> (channel, marketplace): one vocabulary for
    Linnworks' Source and SubSource, Amazon's sales-channel and platform names.

    >>> normalise_channel("AMAZON"), normalise_channel("Amazon UK")
    (('amazon', ''), ('amazon', 'amazon.co.uk'))
    >>> normalise_channel("AMAZON.CO.UK"), normalise_channel("eBay DE")
    (('amazon', 'amazon.co.uk'), ('ebay', 'ebay.de'))
    >>> normalise_channel("My Woo Store"), normalise_channel("")
    (('woocommerce', ''), ('', ''))
    """
    text = " ".join(text.strip().lower().split())
    if not text:
        return "", ""
    channel = next((c for word, c in CHANNEL_WORDS if word in text), text)
    market = ""
    if channel in ("amazon", "ebay"):
        rest = text.split(channel, 1)[1].strip(" ._-") if channel in text else ""
        found = _MARKET.search(rest)
        if found and found.group(1) in MARKETPLACES:
            market = f"{channel}.{MARKETPLACES[found.group(1)]}"
    return channel, market


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (``--format``)."""
    key = name.strip().lower().replace("_", "-")
    profile = _BY_NAME.get(key)
    if profile is None:
        raise UsageError(
            f'unknown format "{name}".', hint=f"Use one of: {', '.join(PROFILE_NAMES)}."
        )
    return profile


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Detection:
    """The profile picked for a header, and the columns that decided it."""

    profile: Profile
    matched: tuple[str, ...] = ()


def detect_profile(columns: Sequence[str]) -> Detection:
    """The profile whose largest signature the header holds (case and repeated spaces
    ignored); the generic profile when none matches. Costs one pass over the header.

    >>> detect_profile(["Name", "Email", "Financial Status", "Lineitem name"]).profile.name
    'shopify'
    >>> detect_profile(["Order Id", "Email", "Total"]).profile.name
    'generic'
    """
    present = {_norm(c) for c in columns}
    best: Detection | None = None
    for profile in PROFILES:
        for sig in profile.signatures:
            if all(_norm(c) in present for c in sig) and (
                best is None or len(sig) > len(best.matched)
            ):
                best = Detection(profile, sig)
    return best or Detection(GENERIC)


def map_profile(
    columns: Sequence[str],
    profile: Profile,
    *,
    overrides: Mapping[str, str | None] | None = None,
    file: str = "",
) -> FieldMap:
    """Find each field's column for ``profile``; ``overrides`` (field -> column) win."""
    return build_map(
        columns,
        profile.fields,
        fallbacks=profile.fallbacks,
        overrides=overrides,
        notes=profile.notes,
        file=file,
    )


# --- where the header is ---------------------------------------------------------------

#: How many lines before the header are looked at for a title, a blank line or ``sep=``.
MAX_PREAMBLE = 20
_JUNK = re.compile(r"record\(s\) downloaded|^\s*seller id\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Header:
    """Where a delimited export's header starts (byte offset and line), the delimiter an
    Excel ``sep=`` line or a recognised header gave (None: sniff it), and the profile."""

    start: int
    line: int
    delimiter: str | None
    detection: Detection


def find_header(
    sample: bytes,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    profile: Profile | None = None,
) -> Header:
    """Find the header line in the first bytes of a delimited export.

    Blank lines, an Excel ``sep=;`` line and title lines before a recognised header
    (eBay writes such a preamble) are skipped; when no line is recognised, the first
    non-blank line is the header. Only the first :data:`MAX_PREAMBLE` lines are read.

    >>> find_header(b"\\nsep=;\\nOrder Id;Email\\n1;a@b.c\\n").line
    2
    """
    lines: list[tuple[int, str]] = []
    pos = 0
    while len(lines) <= MAX_PREAMBLE and pos < len(sample):
        nl = sample.find(b"\n", pos)
        end = len(sample) if nl < 0 else nl + 1
        lines.append((pos, sample[pos:end].decode(encoding, errors="replace").rstrip("\r\n")))
        pos = end
    sep: str | None = None
    first: tuple[int, int] | None = None
    forced = delimiter
    inside = False  # within a quoted value that spans lines
    for number, (start, text) in enumerate(lines):
        odd = text.count('"') % 2 == 1
        if inside:
            inside = not odd
            continue
        inside = odd
        stripped = text.strip().strip('"')
        if not odd and not stripped.strip(DELIMITERS + ' "'):
            continue  # a blank line, or one of delimiters only
        if not odd and stripped.lower().startswith("sep=") and len(stripped) <= 5:
            sep = stripped[4:5] or ","
            continue
        if first is None:
            first = (start, number)
        if odd:
            continue
        given = forced or sep
        for d in [given] if given else list(DELIMITERS):
            cells = split_line(text, d)
            if len(cells) < 2:
                continue
            if profile is not None and profile is not GENERIC:
                if _matches(cells, profile):
                    return Header(start, number, d, Detection(profile, ()))
                continue
            found = detect_profile(cells) if profile is None else Detection(GENERIC)
            if found.profile is not GENERIC:
                return Header(start, number, d, found)
    if first is None:
        return Header(0, 0, forced or sep, Detection(profile or GENERIC))
    return Header(first[0], first[1], forced or sep, Detection(profile or GENERIC))


def split_line(text: str, delimiter: str) -> list[str]:
    """The cells of one line of delimited text ([] where it is not one whole record)."""
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def _matches(cells: Sequence[str], profile: Profile) -> bool:
    """Does a line look like ``profile``'s header (a signature, or two of its columns)?"""
    present = {_norm(c) for c in cells}
    if any(all(_norm(c) in present for c in sig) for sig in profile.signatures):
        return True
    names = {_norm(a) for aliases in profile.fields.values() for a in aliases}
    return len(names & present) >= 2


def is_junk_row(cells: Sequence[str]) -> bool:
    """An eBay line that is not an order: ``83 record(s) downloaded``, ``Seller ID: x``,
    a blank line, or a line whose only text is in its first cell."""
    if not cells:
        return True
    if _JUNK.search(cells[0]):
        return True
    return not any(c.strip() for c in cells[1:])


# --- identities ----------------------------------------------------------------------------

_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


def clean_id(value: str) -> str:
    """An order or customer id as typed by a person: Excel's leading ``'`` and Shopify's
    ``#`` dropped, a float-written id (``17850.0``) read as an integer.

    >>> clean_id("'#1001"), clean_id(" 17850.0 ")
    ('1001', '17850')
    """
    text = value.strip().lstrip("'").lstrip("#").strip()
    m = _FLOAT_ID.match(text)
    return m.group(1) if m else text


# --- user mappings -------------------------------------------------------------------------

#: The fields a mapping can name, and the settings it can give.
MAPPABLE_FIELDS = tuple(FIELD_TITLES)
_SETTINGS = ("columns", "format", "money", "dates", "rows", "customer")


def load_mapping(path: str | os.PathLike[str], *, base: Profile | None = None) -> Profile:
    """A profile from a mapping file: their column name -> ordertags field.

    The file is either a flat mapping::

        Buyer: email
        Paid: total
        When: date

    or, to say more, ``columns:`` with that mapping plus any of ``format`` (the profile
    to start from, default: the detected one), ``money`` (plain, symbol, comma_decimal,
    auto), ``dates`` (iso, us, eu, ebay, yyyymmdd, auto), ``rows`` (order: one row per
    order; item: one row per line item, grouped by the order id) and ``customer``
    (email or customer_id: which field identifies the customer).
    """
    p = Path(path)
    text = read_text(p, MappingError, "mapping file")
    data = load_yaml(text, file=str(p), error=MappingError)
    if not isinstance(data, dict) or not data:
        raise MappingError(
            "a mapping file maps column names to ordertags fields.",
            file=str(p),
            hint="Write one `Their column: field` a line, e.g. `Buyer: email`.",
        )
    structured = isinstance(data.get("columns"), dict)
    columns = data["columns"] if structured else data
    prefix = ["columns"] if structured else []
    if structured:
        for key in data:
            if key not in _SETTINGS:
                raise MappingError(
                    f'unknown setting "{key}".',
                    file=str(p),
                    line=line_of(text, [key]),
                    hint=f"Use {', '.join(_SETTINGS)}.",
                )
    mapped: dict[str, tuple[str, ...]] = {}
    for column, fld in columns.items():
        where = line_of(text, [*prefix, column])
        if not isinstance(fld, str) or fld not in MAPPABLE_FIELDS:
            raise MappingError(
                f'column "{column}" is mapped to "{fld}", which is not an ordertags field.',
                file=str(p),
                line=where,
                hint=f"Use one of: {', '.join(MAPPABLE_FIELDS)}.",
            )
        if fld in mapped:
            raise MappingError(
                f'two columns are mapped to "{fld}".',
                file=str(p),
                line=where,
                hint="Map each field from one column.",
            )
        mapped[fld] = (str(column),)
    start = base or GENERIC
    if structured and data.get("format") is not None:
        start = get_profile(str(data["format"]))
    changes: dict[str, Any] = {"mapping_file": str(p)}
    for key, allowed in (
        ("money", MONEY_STYLES),
        ("dates", DATE_STYLES),
        ("rows", ("order", "item")),
        ("customer", ("email", "customer_id")),
    ):
        if not structured or data.get(key) is None:
            continue
        value = str(data[key])
        if key == "dates":
            value = DATE_STYLE_ALIASES.get(value, value)
        if value not in allowed:
            raise MappingError(
                f'{key} "{value}" is not one of {", ".join(allowed)}.',
                file=str(p),
                line=line_of(text, [key]),
            )
        changes[key] = (value,) if key == "customer" else value
        if key == "dates":
            changes["dates_from"] = f"mapping file {p.name}"
    return with_mapping(start, mapped, **changes)


def with_mapping(
    profile: Profile, mapped: Mapping[str, tuple[str, ...]], **changes: Any
) -> Profile:
    """``profile`` with the fields of ``mapped`` taken from the given columns (and the
    totals they imply: a mapped total is the order's total, a mapped customer_id
    identifies the customer when there is no email)."""
    fields = {**profile.fields, **mapped}
    fallbacks = {k: v for k, v in profile.fallbacks.items() if k not in mapped}
    extra: dict[str, Any] = {}
    if "total" in mapped:
        extra.update(total_lines=(), total_product=False, total_once=())
    if (
        "customer_id" in mapped
        and "customer" not in changes
        and "customer_id" not in profile.customer
    ):
        extra["customer"] = (*profile.customer, "customer_id")
    if "customer_id" in mapped and not profile.key_prefix:
        extra["key_prefix"] = "customer:"
    return dataclasses.replace(profile, fields=fields, fallbacks=fallbacks, **{**extra, **changes})


def resolve_profile(
    columns: Sequence[str],
    *,
    format: str | Profile | None = None,
    mapping: str | os.PathLike[str] | Profile | None = None,
) -> Detection:
    """The profile for a header: forced by ``format``, else detected; then a mapping
    file laid over it."""
    if isinstance(format, Profile):
        detection = Detection(format)
    elif format:
        detection = Detection(get_profile(format))
    else:
        detection = detect_profile(columns)
    if isinstance(mapping, Profile):
        return Detection(mapping, detection.matched)
    if mapping is not None:
        return Detection(load_mapping(mapping, base=detection.profile), detection.matched)
    return detection
