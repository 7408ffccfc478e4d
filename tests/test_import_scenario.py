"""A seller brings in what they already know, then runs a month of orders (issue 21).

They import their Shopify customers export (tags on their customers) and a spreadsheet
of past non-receipt claimers (emails, eBay buyer ids, and one address), then ``apply``
a month of multi-channel orders (:mod:`tests.month_shop`: Shopify, WooCommerce, Amazon,
eBay, Etsy, and Linnworks holding them all again). Worked out here from the generated
orders alone: which orders belong to each tagged person, on every channel and in
every copy; every one of them must carry the tag, and no other order. A claimer who
comes back under a new email, shipping to the same door spelled otherwise, is held.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from ordertags.cli import app

from .month_shop import Month, make_month, write_exports

runner = CliRunner()
SEED = 21

BOOK = """\
version: 1
tags:
  - {name: CLAIMED-NON-RECEIPT, colour: orange, label: CLAIMED, priority: 90, alert: true}
  - {name: VIP, colour: gold, label: VIP, priority: 50}
customers: []
"""
RULES = """\
version: 1
rules:
  - name: Claimers are checked before dispatch
    when: {has_tag: CLAIMED-NON-RECEIPT}
    hold: Claimed non-receipt before — ship tracked
"""
SHOPIFY_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags"
)
#: Where each export keeps the order number (the channel's), and its delimiter.
ORDER_COLUMN = {
    "orders_export.csv": ("Name", ","),
    "woocommerce_orders.csv": ("order_number", ","),
    "amazon_uk.txt": ("order-id", "\t"),
    "amazon_us.txt": ("order-id", "\t"),
    "ebay_us.csv": ("Order Number", ","),
    "ebay_de.csv": ("Bestellnummer", ";"),
    "EtsySoldOrders2026-11.csv": ("Order ID", ","),
    "linnworks_open_orders.csv": ("Reference Num", ","),
    "returning.csv": ("Name", ","),
}


def people(month: Month) -> dict[str, tuple[str, str, set[str]]]:
    """Per customer key: (channel, name, order numbers), from the generated orders."""
    out: dict[str, tuple[str, str, set[str]]] = {}
    for o in month.orders:
        out.setdefault(o.key, (o.channel, o.name, set()))[2].add(o.number)
    return out


def shopify_customers(rows: list[tuple[str, str, str]]) -> str:
    """A Shopify customers export: (email, name, tags) a row; Tags quoted, with spaces."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SHOPIFY_HEADER.split(","))
    for i, (email, name, tags) in enumerate(rows):
        first, last = name.split(" ", 1)
        writer.writerow(
            [f"'70000{i}", first, last, email, "yes", "", "", "", "", "", "GB", "", "", "", "no"]
            + ["10.00", "1", "", "no", tags]
        )
    return buf.getvalue()


def tags_by_order(out: Path, names: list[str]) -> dict[str, set[str]]:
    """Order number -> the tags its rows carry, over every written export."""
    seen: dict[str, set[str]] = {}
    for name in names:
        column, delimiter = ORDER_COLUMN[name]
        raw = (out / name).read_bytes()
        text = raw.decode("cp1252") if name == "ebay_de.csv" else raw.decode("utf-8-sig")
        lines = text.splitlines()
        start = next(i for i, ln in enumerate(lines) if column in ln)
        for row in csv.DictReader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter):
            number = (row.get(column) or "").strip()
            if not number or row.get("Customer Tags") is None:
                continue  # eBay's trailer lines
            tags = {t for t in row["Customer Tags"].split(", ") if t}
            seen.setdefault(number, set()).update(tags)
    return seen


def test_imported_tags_reach_every_order_and_a_returning_claimer_is_held(tmp_path: Path) -> None:
    month = make_month(SEED, customers=14, orders=60)
    exports = write_exports(month, tmp_path / "exports")
    who = people(month)
    web = sorted(k for k, (ch, _, _) in who.items() if ch in ("shopify", "woocommerce"))
    ebay = sorted(k for k, (ch, _, _) in who.items() if ch.startswith("ebay"))
    assert len(web) >= 3 and len(ebay) >= 2, "the seed must give web and eBay customers"

    # The Shopify customers export: two customers tagged "vip" (their spelling), one
    # "Wholesale buyer" (mapped to VIP), one with a tag the book lacks.
    vips = web[:3]
    shop = tmp_path / "customers_export.csv"
    shop.write_text(
        shopify_customers(
            [
                (vips[0].upper(), who[vips[0]][1], "vip, Newsletter"),  # any case of the email
                (vips[1], who[vips[1]][1], "vip"),
                (vips[2], who[vips[2]][1], "Wholesale buyer, Newsletter"),
                ("nobody.yet@example.com", "No Body", "Newsletter"),
            ]
        ),
        encoding="utf-8",
    )
    # The claimers spreadsheet: an eBay buyer by id, a web customer by email, and a
    # claimer known by the door the claims were sent to.
    claimers = [ebay[0], web[3] if len(web) > 3 else ebay[1]]
    sheet = tmp_path / "claimers.csv"
    sheet.write_text(
        "identity,tag,note,expires,address,postcode,country\n"
        f"{claimers[0]},CLAIMED-NON-RECEIPT,PayPal dispute,,,,\n"
        f"{claimers[1]},CLAIMED-NON-RECEIPT,,,,,\n"
        "old.claimer@example.com,CLAIMED-NON-RECEIPT,Three claims,,"
        '"Flat 2, 10 Rose St",EH2 2PR,United Kingdom\n',
        encoding="utf-8",
    )
    # The claimer comes back under a new email, the door spelled otherwise; a
    # neighbour orders too.
    returning = tmp_path / "exports" / "returning.csv"
    returning.write_text(
        "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,"
        "Lineitem name,Lineitem price,Billing Name,Shipping Address1,Shipping City,"
        "Shipping Zip,Shipping Country\n"
        "#9001,brand.new@example.com,paid,GBP,25.00,2026-11-27 10:00:00 +0000,1,Mug,25.00,"
        'Ola Claimer,"10 Rose Street, Flat 2",Edinburgh,eh2 2pr,GB\n'
        "#9002,neighbour@example.com,paid,GBP,25.00,2026-11-27 11:00:00 +0000,1,Mug,25.00,"
        'Nia Bour,"10 Rose Street, Flat 3",Edinburgh,EH2 2PR,GB\n',
        encoding="utf-8",
    )
    book = tmp_path / "tagbook.yaml"
    book.write_text(BOOK, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")

    mapping = "Wholesale buyer=VIP"
    first = runner.invoke(app, ["import", str(shop), "-t", str(book), "--map", mapping])
    assert first.exit_code == 0, first.stderr
    assert "tag 3 customers" in first.stderr
    assert "left out: Newsletter (3)" in first.stderr
    second = runner.invoke(app, ["import", str(sheet), "-t", str(book), "--by", "priya"])
    assert second.exit_code == 0, second.stderr
    assert "tag 4 customers" in second.stderr  # three people and one address
    settled = book.read_bytes()
    for path, extra in ((shop, ["--map", mapping]), (sheet, [])):
        again = runner.invoke(app, ["import", str(path), "-t", str(book), *extra])
        assert again.exit_code == 0, again.stderr
    assert book.read_bytes() == settled  # a second import changes nothing

    out = tmp_path / "out"
    files = [*exports, returning]
    result = runner.invoke(
        app,
        ["apply", *map(str, files), "-t", str(book), "-r", str(rules), "-o", str(out)]
        + ["--as-of", "2026-11-30"],
    )
    assert result.exit_code == 0, result.stderr

    seen = tags_by_order(out, [p.name for p in files])
    expected: dict[str, set[str]] = {}
    for key in vips:
        for number in who[key][2]:
            expected.setdefault(number, set()).add("VIP")
    for key in claimers:
        for number in who[key][2]:
            expected.setdefault(number, set()).add("CLAIMED-NON-RECEIPT")
    expected["#9001"] = {"CLAIMED-NON-RECEIPT"}
    every = {o.number for o in month.orders} | {"#9001", "#9002"}
    assert set(seen) == every
    for number in sorted(every):
        assert seen[number] == expected.get(number, set()), number

    # Held: every claimer's order, the returning one included, once each.
    claimed = {n for n, tags in expected.items() if "CLAIMED-NON-RECEIPT" in tags}
    assert f"held {len(claimed)} orders" in result.stderr.splitlines()
    with (out / "returning.csv").open(encoding="utf-8", newline="") as f:
        held = {r["Name"]: r.get("Hold", "") for r in csv.DictReader(f)}
    assert held == {"#9001": "Claimed non-receipt before — ship tracked", "#9002": ""}
    # The watch list: one line per claimer's order (a channel's order and its Linnworks
    # copy are one), the returning claimer's among them.
    alerts = [ln for ln in result.stderr.splitlines() if ln.startswith("alert: ")]
    assert len(alerts) == len(claimed)
    assert "alert: order #9001 (Ola Claimer): CLAIMED-NON-RECEIPT" in alerts
