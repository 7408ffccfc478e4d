"""A UK surf shop's second month (issue 17): Shopify with multi-row orders, eBay UK, eBay.com
and eBay.de (in Windows-1252), Amazon UK, WooCommerce, Etsy, and Linnworks re-listing the
other channels' orders, applied in one run.

- A rule's ``set`` of an order field (the tracked service claimers always get) writes each
  export's own column, decided per export, whatever the other exports of the run call
  theirs; ``show`` and the dry run say the same as the files.
- eBay.de's own German columns (Versandservice, Notiz zum Artikel, Land des Käufers).
- The dry run names orders by the number a seller knows (``#4004``) and counts orders.
- Excel's "Unicode Text" (UTF-16) and Excel for Mac's "CSV" (Mac Roman).

Every expected figure below is written by hand from the exports the test builds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.api import apply_files, view_files
from ordertags.cli import app
from ordertags.io.readers import mac_roman_rather, read_orders
from ordertags.io.sniff import utf16_codec
from ordertags.reports.dryrun import DryRun

from .month_shop import make_month

AS_OF = dt.date(2026, 11, 26)
ADDED = ["Customer Tags", "Customer Profile", "Tag Colour"]
TRACKED = "Royal Mail Tracked 24"
SECOND = "Royal Mail 2nd Class"

TAGBOOK = """\
version: 1
tags:
  - name: CLAIMED
    colour: orange
    label: "CLAIMED — ship tracked"
    priority: 90
customers:
  - email: zoe@example.com
    tags: [CLAIMED]
  - email: r17x1@marketplace.amazon.co.uk
    tags: [CLAIMED]
  - id: ebay:claimer_uk
    tags: [CLAIMED]
  - id: ebay:claimer_us
    tags: [CLAIMED]
  - id: ebay:claimer_de
    tags: [CLAIMED]
  - id: etsy:900001
    tags: [CLAIMED]
"""
NO_CLAIMS = """\
version: 1
tags:
  - name: CLAIMED
    colour: orange
    label: "CLAIMED — ship tracked"
    priority: 90
customers: []
"""
RULES = f"""\
version: 1
rules:
  - name: Claimers always go tracked
    when: {{has_tag: CLAIMED}}
    set: {{shipping_service: {TRACKED}}}
"""


def run(*args: str | Path | dt.date) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _csv(rows: list[list[str]], delimiter: str = ",", eol: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=eol).writerows(rows)
    return buf.getvalue()


@dataclass
class Export:
    """One platform's export as the test writes it, and what the test knows of it."""

    name: str
    rows: list[list[str]]  # the header, then the records
    service: str  # the export's own shipping-service column ("" where it has none)
    order_column: str  # the column with the order number the seller knows
    claimed: set[str]  # the claimers' order numbers
    orders: int  # how many orders (counted by hand)
    delimiter: str = ","
    encoding: str = "utf-8"
    before: str = ""  # lines before the header (eBay's report)
    after: str = ""  # lines after the records

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        text = self.before + _csv(self.rows, self.delimiter) + self.after
        path.write_bytes(text.encode(self.encoding))
        return path


def month_exports() -> list[Export]:
    """Every platform with a shipping-service column, and Etsy without one: in each, a
    claimer's order (tagged in the tag book by the identity that export carries) and
    someone else's, both sent second class."""
    shopify = [
        ["Name", "Email", "Financial Status", "Currency", "Total", "Shipping Method"]
        + ["Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"]
        + ["Billing Name", "Shipping Country", "Id"],
        ["#4004", "zoe@example.com", "paid", "GBP", "349.00", SECOND]
        + ["2026-11-20 09:12:00 +0000", "1", "Wetsuit 4/3", "299.00", "WS-43"]
        + ["Zoë Müller", "United Kingdom", "5610001"],
        ["#4004", "zoe@example.com", "", "", "", ""]
        + ["2026-11-20 09:12:00 +0000", "1", "Booties", "50.00", "BT-5", "", "", ""],
        ["#4005", "sam@example.com", "paid", "GBP", "25.00", SECOND]
        + ["2026-11-21 10:00:00 +0000", "1", "Wax", "25.00", "WAX-1"]
        + ["Sam Surf", "United Kingdom", "5610002"],
    ]
    woo = [
        ["order_id", "order_number", "order_date", "status", "order_total", "order_currency"]
        + ["shipping_method", "customer_email", "billing_email", "billing_first_name"],
        ["70001", "5001", "2026-11-20 11:00:00", "processing", "80.00", "GBP", SECOND]
        + ["", "zoe@example.com", "Zoë"],
        ["70002", "5002", "2026-11-21 11:00:00", "processing", "40.00", "GBP", SECOND]
        + ["kim@example.com", "kim@example.com", "Kim"],
    ]
    algolplus = [
        ["Order Number", "Order Status", "Order Date", "Email (Billing)", "Shipping Method Title"]
        + ["SKU", "Quantity", "Order Total Amount"],
        ["6001", "processing", "2026-11-20", "zoe@example.com", SECOND, "FIN-1", "1", "30.00"],
        ["6002", "processing", "2026-11-21", "lena@example.com", SECOND, "FIN-2", "1", "35.00"],
    ]
    linnworks = [
        ["Order Id", "Reference Num", "Source", "SubSource", "Received Date", "Customer Name"]
        + ["Email", "Currency", "Total", "Postal Service"],
        ["10450", "#4004", "SHOPIFY", "Surf Shop", "20/11/2026 09:12", "Zoë Müller"]
        + ["zoe@example.com", "GBP", "349.00", SECOND],
        ["10451", "#4005", "SHOPIFY", "Surf Shop", "21/11/2026 10:00", "Sam Surf"]
        + ["sam@example.com", "GBP", "25.00", SECOND],
    ]
    amazon = [
        ["order-id", "order-item-id", "purchase-date", "buyer-email", "buyer-name", "sku"]
        + ["quantity-purchased", "currency", "item-price", "item-tax", "shipping-price"]
        + ["ship-service-level", "sales-channel"],
        ["202-1111111-1111111", "00000000000001", "2026-11-20T08:00:00+00:00"]
        + ["r17x1@marketplace.amazon.co.uk", "Ida Berg", "LEASH-6", "1", "GBP", "20.00"]
        + ["3.33", "0.00", "Standard", "Amazon.co.uk"],
        ["202-1111111-1111111", "00000000000002", "2026-11-20T08:00:00+00:00"]
        + ["r17x1@marketplace.amazon.co.uk", "Ida Berg", "WAX-1", "2", "GBP", "10.00"]
        + ["1.67", "0.00", "Standard", "Amazon.co.uk"],
        ["202-2222222-2222222", "00000000000003", "2026-11-21T08:00:00+00:00"]
        + ["r17x2@marketplace.amazon.co.uk", "Tom Fox", "FIN-1", "1", "GBP", "30.00"]
        + ["5.00", "0.00", "Standard", "Amazon.co.uk"],
    ]
    ebay_uk = [
        ["Sales Record Number", "Order Number", "Buyer Username", "Post to name"]
        + ["Post to postcode", "Total Price", "Sale Date", "Delivery service"],
        ["1", "21-11111-11111", "claimer_uk", "Ben Lee", "TR7 1AA", "£120.00", "Nov-20-26"]
        + [SECOND],
        ["2", "21-22222-22222", "other_uk", "Rob Marsh", "EX1 1AA", "£12.00", "Nov-21-26"]
        + [SECOND],
    ]
    ebay_us = [
        ["Sales Record Number", "Order Number", "Buyer Username", "Buyer Name"]
        + ["Total Price", "Sale Date", "Shipping Service"],
        ["101", "11-11111-11111", "claimer_us", "Mia Silva", "$1,433.66", "Nov-20-26", SECOND],
        ["102", "11-22222-22222", "other_us", "Kim Nguyen", "$45.99", "Nov-21-26", SECOND],
    ]
    ebay_de = [
        ["Verkaufsprotokollnummer", "Bestellnummer", "Nutzername des Käufers"]
        + ["Name des Käufers", "Land des Käufers", "Gesamtbetrag", "Verkauft am"]
        + ["Versandservice", "Notiz zum Artikel"],
        ["201", "23-11111-11111", "claimer_de", "Jörg Faß", "Deutschland", "116,99 €"]
        + ["20-Nov-26", SECOND, ""],
        ["202", "23-22222-22222", "other_de", "Ana Berg", "Österreich", "1.016,99 €"]
        + ["21-Nov-26", SECOND, "Geschenk"],
    ]
    etsy = [
        ["Sale Date", "Order ID", "Buyer User ID", "Full Name", "Number of Items", "Currency"]
        + ["Order Value", "Order Total"],
        ["11/20/26", "3100000001", "900001", "Ida Doe", "1", "GBP", "18.00", "18.00"],
        ["11/21/26", "3100000002", "900002", "Tom Lee", "1", "GBP", "22.00", "22.00"],
    ]
    return [
        Export("orders_export.csv", shopify, "Shipping Method", "Name", {"#4004"}, 2),
        Export("woocommerce.csv", woo, "shipping_method", "order_number", {"5001"}, 2),
        Export("algolplus.csv", algolplus, "Shipping Method Title", "Order Number", {"6001"}, 2),
        Export("linnworks.csv", linnworks, "Postal Service", "Order Id", {"10450"}, 2),
        Export(
            "amazon_uk.txt",
            amazon,
            "ship-service-level",
            "order-id",
            {"202-1111111-1111111"},
            2,
            delimiter="\t",
        ),
        Export("ebay_uk.csv", ebay_uk, "Delivery service", "Order Number", {"21-11111-11111"}, 2),
        Export(
            "ebay_us.csv",
            ebay_us,
            "Shipping Service",
            "Order Number",
            {"11-11111-11111"},
            2,
            before="\n",
            after="2 record(s) downloaded,,,,,,\nSeller ID: surfshop,,,,,,\n",
        ),
        Export(
            "ebay_de.csv",
            ebay_de,
            "Versandservice",
            "Bestellnummer",
            {"23-11111-11111"},
            2,
            delimiter=";",
            encoding="cp1252",
        ),
        Export("EtsySoldOrders2026-11.csv", etsy, "", "Order ID", {"3100000001"}, 2),
    ]


def _books(folder: Path) -> tuple[Path, Path, Path]:
    book, none, rules = folder / "tagbook.yaml", folder / "none.yaml", folder / "rules.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    none.write_text(NO_CLAIMS, encoding="utf-8")
    rules.write_text(RULES, encoding="utf-8")
    return book, none, rules


def _rows(path: Path, export: Export) -> list[list[str]]:
    text = path.read_bytes().decode(export.encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=export.delimiter))


# --- 1. the tracked service, per export, in one run -----------------------------------


def test_the_tracked_service_goes_into_each_exports_own_column_in_one_run(
    tmp_path: Path,
) -> None:
    """Issue 17: a claimer's Shopify order applied with an eBay export kept `Shipping
    Method = Royal Mail 2nd Class` and got a new `shipping_service` column. Now, in one
    run over every platform: each file has the service in its own column (Etsy, which
    has none, gets one "Shipping Service" column), no `shipping_service` column anywhere,
    every other cell as it was, and each file is the one a run of it alone writes."""
    exports = month_exports()
    book, _, rules = _books(tmp_path)
    sources = [e.write(tmp_path) for e in exports]
    out = tmp_path / "out"
    joint = run("apply", *sources, "-t", book, "-r", rules, "-o", out, "--as-of", AS_OF)
    assert joint.exit_code == 0, joint.stderr
    # One claimer's order in each of the nine exports (the Shopify one spans two rows,
    # the Amazon one two items), the Shopify one listed again by Linnworks: eight orders
    # set, each once.
    assert f"set shipping_service on {len(exports) - 1} orders\n" in joint.stderr
    for export, source in zip(exports, sources, strict=True):
        written = out / export.name
        got, given = _rows(written, export), _rows(source, export)
        header = given[next(i for i, r in enumerate(given) if r)]
        added = ADDED + ([] if export.service else ["Shipping Service"])
        assert "shipping_service" not in got[given.index(header)], export.name
        assert len(got) == len(given), export.name
        service = header.index(export.service) if export.service else len(header) + 3
        order = header.index(export.order_column)
        numbers = {r[order] for r in export.rows[1:]}
        for old, new in zip(given, got, strict=True):
            if old == header:
                assert new == header + added, export.name
            elif len(old) != len(header) or old[order] not in numbers:
                assert new == old, export.name  # eBay's lines around the records
            else:
                claimed = old[order] in export.claimed
                expected = old + (
                    ["CLAIMED", "CLAIMED — ship tracked", "orange"] if claimed else ["", "", ""]
                )
                if not export.service:
                    expected.append("")
                if claimed:
                    expected[service] = TRACKED
                assert new == expected, (export.name, old[order])
        # The file a run of this export alone writes, byte for byte.
        alone = tmp_path / f"alone-{export.name}"
        result = run("apply", source, "-t", book, "-r", rules, "-o", alone, "--as-of", AS_OF)
        assert result.exit_code == 0, result.stderr
        assert alone.read_bytes() == written.read_bytes(), export.name


def test_the_summary_counts_orders_set_not_rows(tmp_path: Path) -> None:
    """The Shopify claimer's order spans two rows, the Amazon one two items: each is one
    order set."""
    exports = [e for e in month_exports() if e.name in ("orders_export.csv", "amazon_uk.txt")]
    book, _, rules = _books(tmp_path)
    sources = [e.write(tmp_path) for e in exports]
    result = run("apply", *sources, "-t", book, "-r", rules, "-o", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    assert "set shipping_service on 2 orders\n" in result.stderr


def test_show_and_the_dry_run_name_the_column_the_file_has(tmp_path: Path) -> None:
    """What `show` says a rule set, and what the dry run says would change, is the
    export's own column, in the same run over every platform."""
    exports = month_exports()
    book, none, rules = _books(tmp_path)
    sources = [e.write(tmp_path) for e in exports]
    view = view_files(sources, tagbook=book, rules=rules, as_of=AS_OF)
    said = {(o.source, o.order): o.set_fields for o in view.orders}
    for export in exports:
        column = export.service or "Shipping Service"
        mine = {order: fields for (src, order), fields in said.items() if src == export.name}
        assert len(mine) == export.orders, export.name
        for order, fields in mine.items():
            assert fields == (((column, TRACKED),) if order in export.claimed else ()), (
                export.name,
                order,
            )
    # Yesterday's files, written before anyone was tagged; today's dry run lists the
    # claimers' orders, by their numbers, in each export's own column.
    out = tmp_path / "out"
    apply_files(sources, tagbook=none, rules=rules, output=out, as_of=AS_OF)
    _, runs = apply_files(sources, tagbook=book, rules=rules, output=out, as_of=AS_OF, dry_run=True)
    for export, dry in zip(exports, runs, strict=True):
        assert isinstance(dry, DryRun)
        assert (dry.orders, dry.changed_orders) == (export.orders, 1), export.name
        (order,) = export.claimed
        column = export.service or "Shipping Service"
        header, *records = export.rows
        at = header.index(export.order_column)
        before = next(
            (r[header.index(column)] for r in records if r[at] == order and export.service), ""
        )
        assert [(c.order, c.column, c.before, c.after) for c in dry.changes] == [
            (order, "Customer Tags", "", "CLAIMED"),
            (order, column, before, TRACKED),
        ], export.name
    # Once written, nothing would change.
    apply_files(sources, tagbook=book, rules=rules, output=out, as_of=AS_OF)
    _, runs = apply_files(sources, tagbook=book, rules=rules, output=out, as_of=AS_OF, dry_run=True)
    for export, dry in zip(exports, runs, strict=True):
        assert isinstance(dry, DryRun)
        assert (dry.orders, dry.changed_orders, dry.changes) == (export.orders, 0, []), export.name


# --- 2. eBay.de's own columns ------------------------------------------------------------


def test_ebay_de_german_columns_are_its_fields(tmp_path: Path) -> None:
    """Versandservice is the shipping service, Notiz zum Artikel the notes, Land des
    Käufers the country: a rule reads and writes them, and no English column is added."""
    export = next(e for e in month_exports() if e.name == "ebay_de.csv")
    source = export.write(tmp_path)
    book, _, _ = _books(tmp_path)
    rules = tmp_path / "de.yaml"
    rules.write_text(
        f"""\
version: 1
rules:
  - name: Claimers always go tracked
    when: {{has_tag: CLAIMED}}
    set: {{shipping_service: {TRACKED}}}
    note: Past claim
  - name: Austria is abroad
    when: {{field: country, equals: Österreich}}
    note: Customs form
""",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = run("apply", source, "-t", book, "-r", rules, "-o", out, "--as-of", AS_OF, "-q")
    assert result.exit_code == 0, result.stderr
    header, first, second = _rows(out, export)
    assert header == export.rows[0] + ADDED
    assert first[7:9] == [TRACKED, "Past claim"]
    assert second[7:9] == [SECOND, "Geschenk; Customs form"]
    table = read_orders(source)
    assert table.dialect.encoding == "cp1252"
    assert "Land des Käufers" in table.columns


# --- 3. the dry run names and counts orders ----------------------------------------------


def _shopify_month(folder: Path) -> tuple[Path, list[str], int]:
    """The month's Shopify orders (from the shared generator) as the admin export writes
    them: one row per line item, order fields and the internal Id on the first row."""
    orders = [o for o in make_month(17).orders if o.channel == "shopify"]
    header = ["Name", "Email", "Financial Status", "Currency", "Total", "Shipping Method"]
    header += ["Created at", "Lineitem quantity", "Lineitem name", "Lineitem price"]
    header += ["Billing Name", "Id"]
    rows = [header]
    for k, o in enumerate(orders):
        for j, (sku, qty, price, _) in enumerate(o.lines):
            first = j == 0
            rows.append(
                [o.number, o.email, "paid" if first else "", o.currency if first else ""]
                + [f"{o.total:.2f}" if first else "", SECOND if first else ""]
                + [o.when.strftime("%Y-%m-%d %H:%M:%S +0000"), str(qty), sku]
                + [
                    f"{price / qty:.2f}",
                    o.name if first else "",
                    str(5_550_000 + k) if first else "",
                ]
            )
    path = folder / "orders_export.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path, [o.number for o in orders], len(rows) - 1


def test_the_dry_run_names_shopify_orders_by_name_and_counts_orders(tmp_path: Path) -> None:
    """Issue 17: "1 order of 9" for 8 orders, named by the internal Id. The dry run counts
    the orders (not the rows) and names each as the seller knows it (#1004)."""
    source, numbers, rows = _shopify_month(tmp_path)
    assert rows > len(numbers)  # multi-row orders, or the test proves nothing
    shop = [o for o in make_month(17).orders if o.channel == "shopify"]
    email = shop[1].email
    claimed = [o.number for o in shop if o.email == email]  # the claimer's orders
    book, none, rules = _books(tmp_path)
    book.write_text(TAGBOOK.replace("zoe@example.com", email), encoding="utf-8")
    out = tmp_path / "annotated.csv"
    args: list[str | Path | dt.date] = ["apply", source, "-r", rules, "-o", out]
    args += ["--as-of", AS_OF, "--dry-run"]
    first = run(*args, "-t", book)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == (
        f"{out}: no previous output; {len(numbers)} orders would be written, "
        f"{len(claimed)} order{'s' if len(claimed) > 1 else ''} with tags\n"
    )
    assert run("apply", source, "-t", none, "-r", rules, "-o", out).exit_code == 0
    again = run(*args, "-t", book)
    assert again.exit_code == 0, again.stderr
    lines = again.stdout.splitlines()
    n = len(claimed)
    assert lines[0] == f"{out}: {n} order{'s' if n > 1 else ''} of {len(numbers)} would change"
    # Per order, in file order: its tags, then its Shipping Method.
    assert [ln.split()[0] for ln in lines[3:]] == [c for c in claimed for _ in range(2)]
    for line in lines[4::2]:
        assert f"Shipping Method  {SECOND}" in line and line.endswith(TRACKED)


def test_the_dry_run_counts_an_ebay_order_of_two_items_once(tmp_path: Path) -> None:
    """An eBay order of two items is two rows (group by Order Number), and the report's
    lines around them are no orders: 2 orders, not 3 or 5."""
    export = next(e for e in month_exports() if e.name == "ebay_us.csv")
    export.rows.insert(2, ["101", "11-11111-11111", "claimer_us", "Mia Silva", "", "", ""])
    source = export.write(tmp_path)
    book, _, rules = _books(tmp_path)
    out = tmp_path / "o.csv"
    _, runs = apply_files([source], tagbook=book, rules=rules, output=out, dry_run=True)
    assert isinstance(runs[0], DryRun)
    assert (runs[0].orders, runs[0].changed_orders) == (2, 1)


# --- 4. Unicode Text (UTF-16) and Mac Roman ----------------------------------------------

UNICODE_TEXT = (
    "Name\tEmail\tFinancial Status\tTotal\tShipping Method\tLineitem name\tBilling Name\r\n"
    f"#4004\tzoe@example.com\tpaid\t349.00\t{SECOND}\tWetsuit 4/3\tZoë Müller\r\n"
    f"#4005\tsam@example.com\tpaid\t25.00\t{SECOND}\tWax\tJörg Faß\r\n"
)
NAMES = ["Zoë Müller", "Jörg Faß"]


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-le", b""),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-be", b""),
    ],
)
def test_unicode_text_is_read_and_written_back_in_utf16(
    tmp_path: Path, codec: str, bom: bytes
) -> None:
    """Excel's "Unicode Text" (UTF-16 little-endian with a BOM, tab-separated), and the
    same without a BOM or big-endian: read right, written back in the same bytes with
    the added columns after each line."""
    source = tmp_path / "orders.txt"
    source.write_bytes(bom + UNICODE_TEXT.encode(codec))
    table = read_orders(source)
    assert table.columns == UNICODE_TEXT.split("\r\n")[0].split("\t")
    assert table.table.column(6).to_pylist() == NAMES
    assert table.profile.name == "shopify"
    assert (table.dialect.encoding, table.dialect.delimiter) == (codec, "\t")
    book, _, rules = _books(tmp_path)
    out = tmp_path / "out.txt"
    result = run("apply", source, "-t", book, "-r", rules, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(bom)
    lines = data[len(bom) :].decode(codec).split("\r\n")
    given = UNICODE_TEXT.split("\r\n")
    assert lines[0] == given[0] + "\tCustomer Tags\tCustomer Profile\tTag Colour"
    assert (
        lines[1] == given[1].replace(SECOND, TRACKED) + "\tCLAIMED\tCLAIMED — ship tracked\torange"
    )
    assert lines[2] == given[2] + "\t\t\t"
    # Each original line's bytes are in the output, as they were.
    assert given[2].encode(codec) in data


def test_unicode_text_with_another_output_encoding(tmp_path: Path) -> None:
    """--output-encoding utf-8 writes a UTF-16 export as UTF-8 (its BOM as UTF-8's)."""
    source = tmp_path / "orders.txt"
    source.write_bytes(b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le"))
    out = tmp_path / "out.txt"
    result = run(
        "apply", source, "-t", _books(tmp_path)[0], "-o", out, "--output-encoding", "utf-8"
    )
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + UNICODE_TEXT.split("\t")[0].encode("utf-8"))
    assert "\tZoë Müller\t" in data.decode("utf-8")


def test_utf16_given_by_encoding_and_tag_order_reads_it(tmp_path: Path) -> None:
    source = tmp_path / "orders.txt"
    source.write_bytes(UNICODE_TEXT.encode("utf-16-le"))
    assert read_orders(source, encoding="utf-16").table.column(6).to_pylist() == NAMES
    book = tmp_path / "tb.yaml"
    book.write_text(NO_CLAIMS, encoding="utf-8")
    result = run("tag", "--order", "#4005", "--in", source, "--tag", "CLAIMED", "-t", book)
    assert result.exit_code == 0, result.stderr
    assert "sam@example.com" in book.read_text(encoding="utf-8")


def test_truncated_utf16_is_one_clear_message(tmp_path: Path) -> None:
    source = tmp_path / "orders.txt"
    source.write_bytes(b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le") + b"\x3d\xd8")
    result = run("apply", source, "-t", _books(tmp_path)[0], "-o", tmp_path / "o.txt")
    assert result.exit_code == 1
    n = len(UNICODE_TEXT.encode("utf-16-le")) + 2
    assert result.stderr == (
        f"ordertags: {source}: cannot decode byte 0x3d at byte offset {n} as utf-16-le. "
        "The file is not whole UTF-16 text: save it again from the spreadsheet (as Unicode "
        "Text or CSV UTF-8), or give --encoding.\n"
    )


MAC_CSV = (
    "Order Id,Email,Customer Name,Total,Postal Service\r"
    f"1001,zoe@example.com,Zoë Müller,60.00,{SECOND}\r"
    f"1002,sam@example.com,Jörg Faß,20.00,{SECOND}\r"
)


def test_mac_roman_is_read_as_mac_roman_with_a_warning(tmp_path: Path) -> None:
    """Excel for Mac's "CSV" is Mac Roman (and CR line ends). Windows-1252 decodes the
    same bytes into "Zo‘ MŸller": the heuristic reads it as Mac Roman and says so, naming
    --encoding; --encoding mac_roman reads it without a word."""
    source = tmp_path / "orders.csv"
    source.write_bytes(MAC_CSV.encode("mac_roman"))
    assert "Zo‘ MŸller" in source.read_bytes().decode("cp1252")  # the trap
    book, _, rules = _books(tmp_path)
    out = tmp_path / "out.csv"
    result = run("apply", source, "-t", book, "-r", rules, "-o", out, "--as-of", AS_OF, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"warning: {source}: read as Mac Roman (what Excel for Mac saves as CSV), not "
        "Windows-1252: only that way do its accented letters make words. If names look "
        "wrong, give --encoding cp1252; --encoding mac_roman says it is Mac Roman and stops "
        "this warning.\n"
    )
    lines = out.read_bytes().decode("mac_roman").split("\r")
    given = MAC_CSV.split("\r")
    assert lines[1].startswith(given[1].replace(SECOND, TRACKED) + ",CLAIMED,")
    assert lines[2] == given[2] + ",,,"
    quiet = run("apply", source, "-t", book, "-o", out, "--encoding", "mac_roman", "-q")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    assert read_orders(source, encoding="mac_roman").table.column(2).to_pylist() == [
        "Zoë Müller",
        "Jörg Faß",
    ]


def test_windows_1252_stays_windows_1252_without_a_warning(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(MAC_CSV.replace("\r", "\r\n").encode("cp1252"))
    table = read_orders(source)
    assert table.dialect.encoding == "cp1252"
    assert table.table.column(2).to_pylist() == ["Zoë Müller", "Jörg Faß"]
    result = run("apply", source, "-t", _books(tmp_path)[0], "-o", tmp_path / "o.csv", "-q")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    "text",
    ["Zoë Müller", "Jörg Faß", "Straße 5", "Café de Flore", "MÜLLER", "Éléonore Noël"],
)
def test_names_tell_mac_roman_from_windows_1252(text: str) -> None:
    assert mac_roman_rather(text.encode("mac_roman"))
    assert not mac_roman_rather(text.encode("cp1252"))


def test_a_tie_stays_windows_1252() -> None:
    """Nothing in a word to judge by (a euro sign alone): Windows-1252, as before."""
    assert not mac_roman_rather("Total;116,99 €\n".encode("cp1252"))
    assert not mac_roman_rather(b"plain ascii\n")


def test_utf16_is_told_only_where_certain() -> None:
    assert utf16_codec(b"\xff\xfeN\x00") == ("utf-16-le", 2)
    assert utf16_codec("Order Id,Email\n".encode("utf-16-be")) == ("utf-16-be", 0)
    assert utf16_codec("Zoë Müller;1\n".encode("cp1252")) is None
    assert utf16_codec(b"Email,Total\x00\x01\x02\n") is None  # binary: refused elsewhere
