"""A month of a multi-channel shop, generated from a seed: the same customers' orders as
Shopify, WooCommerce, Amazon (UK and US), eBay (US and DE) and Etsy export them, and as
Linnworks' consolidated export holds them all again.

The truth (per customer: orders, spend per currency) is worked out here from the
generated orders, with ``decimal`` and no ordertags code, so that a test can compare
what ordertags counts with what an accountant would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

CENT = Decimal("0.01")
GERMAN_MONTHS = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]
FIRST = ["Jane", "Sam", "Kim", "Lena", "Rob", "Ana", "Tom", "Mia", "Jörg", "Zoë", "Ben", "Ida"]
#: The services each channel offers, as its export writes them.
SERVICES = {
    "shopify": ["Royal Mail 2nd Class", "Royal Mail 1st Class"],
    "woocommerce": ["DHL Paket", "Flat rate"],
    "amazon-uk": ["Standard", "Expedited"],
    "amazon-us": ["Standard", "SecondDay"],
    "ebay-us": ["USPS Ground Advantage", "USPS Priority Mail"],
    "ebay-de": ["DHL Paket", "Deutsche Post Warensendung"],
    "etsy": ["Standard Shipping"],
}
LAST = ["Doe", "Surf", "Lee", "Nguyen", "Marsh", "Silva", "Fox", "Berg", "Müller", "Faß"]


@dataclass
class Order:
    channel: str  # shopify, woocommerce, amazon-uk, amazon-us, ebay-us, ebay-de, etsy
    number: str  # the channel's order number, as the channel writes it
    hub_id: str  # Linnworks' own Order Id
    key: str  # who the customer is, as ordertags keys them (email, relay, ebay:, etsy:)
    email: str  # as written ("" where the channel gives none)
    buyer: str  # the marketplace buyer id ("" for web shops)
    name: str
    when: dt.datetime
    currency: str
    lines: list[tuple[str, int, Decimal, Decimal]]  # sku, quantity, line price, line tax
    shipping: Decimal
    shipping_tax: Decimal
    #: The shipping service the customer chose, as the channel writes it.
    service: str = ""

    @property
    def total(self) -> Decimal:
        """What the customer paid. Amazon UK and eBay DE prices include VAT; Amazon US
        adds the tax at checkout; the web shops' totals include their tax."""
        net = sum((p for _, _, p, _ in self.lines), Decimal(0)) + self.shipping
        if self.channel == "amazon-us":
            net += sum((t for _, _, _, t in self.lines), Decimal(0)) + self.shipping_tax
        return net.quantize(CENT)


@dataclass
class Month:
    orders: list[Order] = field(default_factory=list)
    #: One Amazon UK order whose Linnworks copy adds the VAT again (a hub's mistake):
    #: the channel's own report must win.
    wrong_in_hub: str = ""
    #: Shopify orders refunded after the month's first export (order number -> amount
    #: given back), as :func:`shopify_refunds` re-exports them.
    refunds: dict[str, Decimal] = field(default_factory=dict)

    def truth(self, refunded: bool = False) -> dict[str, dict[str, object]]:
        """Per customer key: orders and spend per currency, each order once. With
        ``refunded``, spend is net of :attr:`refunds` and an order refunded in full is
        not counted as an order."""
        out: dict[str, dict[str, object]] = {}
        for o in self.orders:
            row = out.setdefault(o.key, {"orders": 0, "spend": defaultdict(Decimal)})
            back = self.refunds.get(o.number, Decimal(0)) if refunded else Decimal(0)
            if back < o.total:
                row["orders"] = int(row["orders"]) + 1  # type: ignore[call-overload]
            spend = row["spend"]
            assert isinstance(spend, defaultdict)
            spend[o.currency] += o.total - back
        return out


def make_month(seed: int, customers: int = 14, orders: int = 48) -> Month:
    """The orders of a month: each customer has a home channel and sometimes buys on
    another web shop under the same email (one customer across Shopify and WooCommerce)."""
    rnd = random.Random(seed)
    services = random.Random(f"services {seed}")  # apart, so the month stays as it was
    channels = ["shopify", "woocommerce", "amazon-uk", "amazon-us", "ebay-us", "ebay-de", "etsy"]
    people = []
    for i in range(customers):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        people.append(
            {
                "first": first,
                "last": last,
                "email": f"{first.lower()}.{i}@example.com".replace("ö", "o").replace("ë", "e"),
                "home": channels[i % len(channels)],
                "relay": f"r{seed}x{i}",
                "user": f"buyer_{seed}_{i}",
                "etsy": str(900_000 + i),
            }
        )
    month = Month()
    start = dt.datetime(2026, 11, 1, 8, 0)
    counters: dict[str, int] = defaultdict(int)
    for n in range(orders):
        person = people[rnd.randrange(customers)]
        channel = str(person["home"])
        if channel in ("shopify", "woocommerce") and rnd.random() < 0.4:
            channel = "woocommerce" if channel == "shopify" else "shopify"
        counters[channel] += 1
        k = counters[channel]
        when = start + dt.timedelta(days=rnd.randrange(0, 28), minutes=rnd.randrange(0, 600))
        lines = []
        for j in range(rnd.randint(1, 3)):
            qty = rnd.randint(1, 2)
            unit = Decimal(rnd.randrange(500, 30_000)) / 100
            if n == 0 and j == 0:
                unit = Decimal("1025.00")  # a board: a spend over 1,000 in one order
            price = (unit * qty).quantize(CENT)
            tax = (price / 6).quantize(CENT)  # the VAT inside a VAT-inclusive price
            lines.append((f"SKU-{rnd.randrange(1, 30)}", qty, price, tax))
        shipping = Decimal(rnd.choice(["0.00", "3.99", "4.99"]))
        service = services.choice(SERVICES[channel])
        name = f"{person['first']} {person['last']}"
        email, buyer = str(person["email"]), ""
        if channel == "shopify":
            number, currency, key = f"#{1000 + k}", "GBP", email
        elif channel == "woocommerce":
            number, currency, key = str(5000 + k), "EUR", email
        elif channel.startswith("amazon"):
            market = "co.uk" if channel == "amazon-uk" else "com"
            prefix = "202" if channel == "amazon-uk" else "111"
            number = f"{prefix}-{rnd.randrange(10**7):07d}-{rnd.randrange(10**7):07d}"
            email = f"{person['relay']}@marketplace.amazon.{market}"
            currency = "GBP" if channel == "amazon-uk" else "USD"
            key = email
        elif channel.startswith("ebay"):
            number = f"{rnd.randint(10, 27)}-{rnd.randrange(10**5):05d}-{rnd.randrange(10**5):05d}"
            buyer, email = str(person["user"]), ""
            currency = "USD" if channel == "ebay-us" else "EUR"
            key = f"ebay:{buyer.lower()}"
        else:
            number, currency = str(3_100_000_000 + k), "GBP"
            buyer, email = str(person["etsy"]), ""
            key = f"etsy:{buyer}"
        month.orders.append(
            Order(
                channel=channel,
                number=number,
                hub_id=str(10_450 + n),
                key=key,
                email=email,
                buyer=buyer,
                name=name,
                when=when,
                currency=currency,
                lines=lines,
                shipping=shipping,
                shipping_tax=(shipping / 6).quantize(CENT),
                service=service,
            )
        )
    uk = [o for o in month.orders if o.channel == "amazon-uk"]
    if uk:
        month.wrong_in_hub = uk[0].number
    shop = [o for o in month.orders if o.channel == "shopify"]
    if len(shop) >= 2:  # one refunded in full, one in part (the shipping kept)
        month.refunds[shop[0].number] = shop[0].total
        month.refunds[shop[1].number] = (shop[1].total - shop[1].shipping).quantize(CENT)
    return month


# --- the exports -------------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def shopify(orders: list[Order], refunds: dict[str, Decimal] | None = None) -> str:
    """Shopify's orders export; with ``refunds``, as re-exported after those refunds
    (Financial Status refunded or partially_refunded, Refunded Amount)."""
    header = ["Name", "Email", "Financial Status", "Currency", "Total", "Created at"]
    header += ["Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"]
    header += ["Billing Name", "Source", "Shipping Method", "Refunded Amount"]
    rows = []
    for o in orders:
        back = refunds.get(o.number, Decimal(0)) if refunds else Decimal(0)
        status = "paid" if not back else "refunded" if back == o.total else "partially_refunded"
        for j, (sku, qty, price, _) in enumerate(o.lines):
            first = j == 0
            rows.append(
                [
                    o.number,
                    o.email,
                    status if first else "",
                    o.currency if first else "",
                    _money(o.total) if first else "",
                    o.when.strftime("%Y-%m-%d %H:%M:%S +0000"),
                    str(qty),
                    f"Item {sku}",
                    _money(price / qty),
                    sku,
                    o.name if first else "",
                    "web" if first else "",
                    o.service if first else "",
                    _money(back) if first else "",
                ]
            )
    return _csv(header, rows)


def woocommerce(orders: list[Order]) -> str:
    header = ["order_id", "order_number", "order_date", "status", "order_total"]
    header += ["order_currency", "customer_email", "billing_first_name", "billing_last_name"]
    header += ["billing_email", "billing_country", "shipping_method"]
    rows = []
    for i, o in enumerate(orders):
        first, last = o.name.split(" ", 1)
        guest = i % 3 == 0  # guests: customer_email blank, billing_email holds it
        rows.append(
            [
                str(70_000 + i),
                o.number,
                o.when.strftime("%Y-%m-%d %H:%M:%S"),
                "completed",
                _money(o.total),
                o.currency,
                "" if guest else o.email,
                first,
                last,
                o.email,
                "DE",
                o.service,
            ]
        )
    return _csv(header, rows)


def amazon(orders: list[Order]) -> str:
    header = ["order-id", "order-item-id", "purchase-date", "buyer-email", "buyer-name", "sku"]
    header += ["quantity-purchased", "currency", "item-price", "item-tax", "shipping-price"]
    header += ["shipping-tax", "ship-service-level", "sales-channel"]
    rows = []
    for o in orders:
        market = "Amazon.co.uk" if o.channel == "amazon-uk" else "Amazon.com"
        for j, (sku, qty, price, tax) in enumerate(o.lines):
            rows.append(
                [
                    o.number,
                    f"{j + 1:014d}",
                    o.when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                    o.email,
                    o.name,
                    sku,
                    str(qty),
                    o.currency,
                    _money(price),
                    _money(tax),
                    _money(o.shipping if j == 0 else Decimal(0)),
                    _money(o.shipping_tax if j == 0 else Decimal(0)),
                    o.service,
                    market,
                ]
            )
    return _csv(header, rows, "\t")


def ebay_us(orders: list[Order]) -> str:
    header = ["Sales Record Number", "Order Number", "Buyer Username", "Buyer Name"]
    header += ["Buyer Email", "Quantity", "Sold For", "Total Price", "Sale Date"]
    header += ["Shipping Service"]
    rows = []
    for i, o in enumerate(orders):
        qty = sum(q for _, q, _, _ in o.lines)
        rows.append(
            [
                str(100 + i),
                o.number,
                o.buyer,
                o.name,
                "",
                str(qty),
                f"${o.total:,.2f}",
                f"${o.total:,.2f}",
                o.when.strftime("%b-%d-%y"),
                o.service,
            ]
        )
    text = _csv(header, rows)
    return f"\n{text}{len(rows)} record(s) downloaded,,,,,,,,\nSeller ID: surfshop,,,,,,,,\n"


def ebay_de(orders: list[Order]) -> bytes:
    header = ["Verkaufsprotokollnummer", "Bestellnummer", "Nutzername des Käufers"]
    header += ["Name des Käufers", "Gesamtbetrag", "Verkauft am", "Versandservice"]
    rows = []
    for i, o in enumerate(orders):
        amount = f"{o.total:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        day = f"{o.when.day:02d}-{GERMAN_MONTHS[o.when.month - 1]}-{o.when.year % 100:02d}"
        rows.append([str(200 + i), o.number, o.buyer, o.name, f"{amount} €", day, o.service])
    return _csv(header, rows, ";").encode("cp1252")


def etsy(orders: list[Order]) -> str:
    header = ["Sale Date", "Order ID", "Buyer User ID", "Full Name", "Number of Items"]
    header += ["Currency", "Order Value", "Order Total"]
    rows = [
        [
            o.when.strftime("%m/%d/%y"),
            o.number,
            o.buyer,
            o.name,
            str(len(o.lines)),
            o.currency,
            _money(o.total),
            _money(o.total),
        ]
        for o in orders
    ]
    return _csv(header, rows)


LINNWORKS_SOURCE = {
    "shopify": ("SHOPIFY", "Surf Shop"),
    "woocommerce": ("WOOCOMMERCE", "surfshop.de"),
    "amazon-uk": ("AMAZON", "Amazon UK"),
    "amazon-us": ("AMAZON", "AMAZON.COM"),
    "ebay-us": ("EBAY", "EBAY0"),
    "ebay-de": ("EBAY", "eBay DE"),
    "etsy": ("ETSY", "SurfShopCo"),
}


def linnworks(month: Month) -> str:
    """Every order again, with Linnworks' own Order Id and the channel's number in
    Reference Num; dates day first (a UK seller). Marketplace orders carry the relay
    email Linnworks was given (Amazon), or none (eBay, Etsy)."""
    header = ["Order Id", "Reference Num", "Source", "SubSource", "Received Date"]
    header += ["Customer Name", "Email", "Currency", "Total", "Postal Service"]
    rows = []
    for o in month.orders:
        source, sub = LINNWORKS_SOURCE[o.channel]
        total = o.total
        if o.number == month.wrong_in_hub:  # the VAT added again: the report must win
            total += sum((t for _, _, _, t in o.lines), Decimal(0)) + o.shipping_tax
        rows.append(
            [
                o.hub_id,
                o.number,
                source,
                sub,
                o.when.strftime("%d/%m/%Y %H:%M"),
                o.name,
                o.email if o.channel in ("shopify", "woocommerce") or "amazon" in o.channel else "",
                o.currency,
                _money(total),
                o.service,
            ]
        )
    return _csv(header, rows)


def write_exports(month: Month, folder: Path) -> list[Path]:
    """Every export of the month in ``folder``; the channels' own first, Linnworks last."""
    folder.mkdir(parents=True, exist_ok=True)
    by: dict[str, list[Order]] = defaultdict(list)
    for o in month.orders:
        by[o.channel].append(o)
    files: list[tuple[str, str | bytes]] = [
        ("orders_export.csv", shopify(by["shopify"])),
        ("woocommerce_orders.csv", woocommerce(by["woocommerce"])),
        ("amazon_uk.txt", amazon(by["amazon-uk"])),
        ("amazon_us.txt", amazon(by["amazon-us"])),
        ("ebay_us.csv", ebay_us(by["ebay-us"])),
        ("ebay_de.csv", ebay_de(by["ebay-de"])),
        ("EtsySoldOrders2026-11.csv", etsy(by["etsy"])),
        ("linnworks_open_orders.csv", linnworks(month)),
    ]
    paths = []
    for name, content in files:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths.append(path)
    return paths


def shopify_refunds(month: Month) -> str:
    """The Shopify export downloaded again after :attr:`Month.refunds` were given."""
    return shopify([o for o in month.orders if o.channel == "shopify"], month.refunds)


def list_files(folder: Path, emails: list[str]) -> dict[str, Path]:
    """One list file per way people write an address list (a spreadsheet column saved as
    CSV, a line copied from a mail program...), each holding ``emails`` in that spelling.
    ``csv`` is a real CSV whose addresses are in its ``Email Address`` column."""
    folder.mkdir(parents=True, exist_ok=True)
    spellings = {  # each a format with the address in {}
        "comma": "{},",
        "quoted": '"{}"',
        "semicolon": "{};",
        "tab": "{}\tGOLD",
        "mailto": "mailto:{}",
    }
    out: dict[str, Path] = {}
    for name, spell in spellings.items():
        path = folder / f"list_{name}.txt"
        path.write_text("".join(spell.format(e) + "\n" for e in emails), encoding="utf-8")
        out[name] = path
    rows = [[f"Customer {i}", e, "2026-11-01"] for i, e in enumerate(emails)]
    path = folder / "list_columns.csv"
    path.write_text(_csv(["Name", "Email Address", "Added"], rows), encoding="utf-8")
    out["csv"] = path
    return out
