"""Platform profiles: each export is recognised, grouped into orders, its totals counted
once, its customers told apart, and written back with every original value unchanged.

The fixtures in tests/fixtures were written from the headers documented in
../shared/reference/export-formats.md, each with the traps listed there; the real
samples in ../shared/data/real are checked against figures computed here with the csv
module (skipped where ../shared is absent).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ordertags import annotate, load_rules, load_tagbook
from ordertags.cli import app
from ordertags.engine.frame import Frame
from ordertags.engine.items import build_items
from ordertags.errors import ColumnError, OrderTagsError
from ordertags.io.lookup import find_order_email
from ordertags.io.platforms import GENERIC, detect_profile, load_mapping
from ordertags.io.readers import read_orders

from .conftest import AS_OF, shared_path

FIX = Path(__file__).parent / "fixtures"
ADDED = ["Customer Tags", "Customer Profile", "Tag Colour"]
WHEN = dt.date.fromisoformat(AS_OF)


def frame_of(name: str | Path, **kw: object) -> Frame:
    path = name if isinstance(name, Path) else FIX / name
    return Frame([read_orders(path, **kw)], as_of=WHEN)  # type: ignore[arg-type]


def per_order(frame: Frame, values: object) -> list[object]:
    """A per-row array's values at each order's first row."""
    rows = frame.order_rows
    if hasattr(values, "to_pylist"):
        got = values.to_pylist()
        return [got[int(r)] for r in rows]
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(values)[rows]]


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nrules:\n" + text, encoding="utf-8")
    return path


# --- detection: which profile, how many rows, orders and customers ----------------------

DETECTED = [
    # (fixture, profile, rows, orders, customers)
    ("shopify_orders_export.csv", "shopify", 7, 4, 2),
    ("woocommerce_webtoffee.csv", "woocommerce", 3, 3, 2),
    ("woocommerce_skyverge.csv", "woocommerce", 2, 2, 1),
    ("woocommerce_algolplus.csv", "woocommerce-algolplus", 4, 2, 2),
    ("woocommerce_analytics.csv", "woocommerce-analytics", 3, 3, 2),
    ("linnworks_open_orders.csv", "linnworks", 4, 3, 3),
    ("amazon_unshipped_orders.txt", "amazon", 5, 3, 2),
    ("amazon_jp_orders.txt", "amazon", 2, 2, 2),
    ("ebay_orders_report.csv", "ebay", 5, 3, 2),
    ("ebay_de_bestellungen.csv", "ebay-de", 3, 3, 2),
    ("EtsySoldOrders2026-10.csv", "etsy-orders", 3, 3, 2),
    ("EtsySoldOrderItems2026-10.csv", "etsy-items", 3, 2, 2),
    ("squarespace_orders.csv", "squarespace", 4, 3, 2),
]


@pytest.mark.parametrize(("name", "profile", "rows", "orders", "customers"), DETECTED)
def test_each_fixture_is_detected_and_grouped(
    name: str, profile: str, rows: int, orders: int, customers: int
) -> None:
    frame = frame_of(name)
    assert frame.tables[0].profile.name == profile
    assert frame.n == rows
    assert frame.n_orders == orders
    assert int(frame.order_starts.sum()) == orders
    assert sorted(set(frame.order_codes.tolist())) == list(range(orders))
    assert frame.customers.count == customers


def test_detection_is_by_name_not_position_and_ignores_case() -> None:
    shuffled = ["Lineitem name", "Total", "financial status", "NAME", "Email"]
    found = detect_profile(shuffled)
    assert found.profile.name == "shopify"
    assert set(found.matched) == {"Name", "Financial Status", "Lineitem name"}
    assert detect_profile(["Order Id", "Email", "Total"]).profile is GENERIC
    # The benchmark's Linnworks-like header is read as generic: one row per order, no
    # grouping work on a million rows.
    bench = [
        "Order Id",
        "Reference Num",
        "Source",
        "Received Date",
        "Customer Name",
        "Email",
        "Phone",
        "Total",
    ]
    assert detect_profile(bench).profile is GENERIC


# --- Shopify ------------------------------------------------------------------------------


def test_shopify_orders_span_rows_and_fields_come_from_the_first() -> None:
    frame = frame_of("shopify_orders_export.csv")
    ids = frame.text(column="Name").to_pylist()
    assert ids == ["#1001", "#1001", "#1002", "#1003", "#1004", "#1003", "#1003"]
    # #1003's rows are not adjacent: rows 3, 5 and 6 are one order.
    assert frame.order_codes.tolist() == [0, 0, 1, 2, 3, 2, 2]
    assert frame.order_starts.tolist() == [True, False, True, True, True, False, False]
    # Email and total are on the first row only; every row reads the order's.
    assert frame.text(field="email").to_pylist()[:2] == ["Jane.Doe@Example.com"] * 2
    assert frame.numbers(field="total").tolist() == [
        120.5,
        120.5,
        35.0,
        1659.95,
        0.0,
        1659.95,
        1659.95,
    ]
    assert per_order(frame, frame.money_units(field="total")) == [1_205_000, 350_000, 16_599_500, 0]
    # Excel's protective apostrophe is dropped from phones and zips (not from the file).
    assert frame.text(field="phone").to_pylist()[0] == "+46 70 459 81 59"
    assert frame.text(field="postcode").to_pylist()[0] == "11122"
    assert frame.text(column="Phone").to_pylist()[0] == "'+46 70 459 81 59"
    assert per_order(frame, frame.dates()) == [
        dt.datetime(2022, 1, 10, 9, 55, 16),
        dt.datetime(2022, 1, 11, 10),
        dt.datetime(2022, 1, 12, 8),
        dt.datetime(2022, 1, 13, 12, 30),
    ]
    # A draft order without an email has no customer; the two spellings of Jane are one.
    customers = frame.customers
    assert customers.keys.to_pylist() == ["jane.doe@example.com", "bob@example.org"]
    assert customers.codes.tolist() == [0, 0, -1, 0, 1, 0, 0]


def test_shopify_line_items() -> None:
    items = build_items(frame_of("shopify_orders_export.csv"))
    assert items.text("sku").to_pylist() == ["SOCK-01", "BOX-L", "", "SB-H", "SB-O", "WAX", "STK"]
    assert items.text("name").to_pylist()[1] == "Gift box, large"
    assert items.order_row.tolist() == [0, 0, 2, 3, 3, 3, 4]
    assert items.numbers("quantity").tolist() == [2, 1, 1, 1, 1, 1, 1]
    assert items.numbers("price").tolist()[:2] == [25.25, 60.0]
    assert items.numbers("total").tolist()[:2] == [50.5, 60.0]


def test_shopify_customer_spend_counts_each_order_once(tmp_path: Path, tagbook: Path) -> None:
    rules = rules_file(
        tmp_path,
        "  - name: big\n    when: {customer: spend, at_least: 1780.45}\n"
        "    tag: BIG\n"
        "  - name: two\n    when: {customer: orders, equals: 2}\n"
        "    tag: REGULAR\n",
    )
    result = annotate(
        [FIX / "shopify_orders_export.csv"],
        tagbook=load_tagbook(tagbook),
        rules=load_rules(rules),
        as_of=WHEN,
    )
    # Jane: 120.50 + 1659.95 = 1780.45 over two orders (not 1780.45 + copies per row).
    tags = result.tags.to_pylist()
    assert tags == ["BIG; REGULAR"] * 2 + [""] + ["BIG; REGULAR"] + [""] + ["BIG; REGULAR"] * 2
    assert result.summary.orders == 4
    assert result.summary.orders_per_tag == {"VIP": 0, "BIG": 2, "REGULAR": 2}
    assert result.summary.orders_without_customer == 1


def test_order_tags_are_the_first_rows(tmp_path: Path, tagbook: Path) -> None:
    """An order-level condition on a raw column is judged on the order's first row: the
    blank Billing Country of a continuation row does not make `not_in` hold."""
    rules = rules_file(
        tmp_path,
        "  - name: abroad\n    when: {field: Shipping Country, not_in: [SE]}\n    tag: CHECK\n",
    )
    result = annotate(
        [FIX / "shopify_orders_export.csv"],
        tagbook=load_tagbook(tagbook),
        rules=load_rules(rules),
        as_of=WHEN,
    )
    assert result.tags.to_pylist() == ["", "", "CHECK", "", "CHECK", "", ""]
    assert result.summary.orders_per_tag == {"VIP": 0, "CHECK": 2}


# --- WooCommerce --------------------------------------------------------------------------


def test_woocommerce_webtoffee_guest_email_dates_and_money() -> None:
    frame = frame_of("woocommerce_webtoffee.csv")
    table = frame.tables[0]
    assert table.dialect.bom and table.dialect.eol == "\r\n"
    assert table.columns[0] == "order_id"  # the BOM is not part of the first name
    # A guest's customer_email is blank: billing_email is read there.
    assert frame.text(field="email").to_pylist() == [
        "Lilly@Example.com",
        "john@example.com",
        "LILLY@example.com",
    ]
    assert frame.customers.keys.to_pylist() == ["lilly@example.com", "john@example.com"]
    assert frame.numbers(field="total").tolist() == [1234.5, 33.04, 58.98]
    assert frame.dates().tolist() == [
        dt.datetime(2018, 5, 16, 7, 32, 6),
        dt.datetime(2018, 5, 17, 9, 0),
        dt.datetime(2018, 5, 18, 10, 11, 12),
    ]
    # WooCommerce's CSV-injection guard: '-5.00 is -5.
    assert frame.numbers(column="cart_discount").tolist()[0] == -5.0
    assert frame.text(field="phone").to_pylist()[0] == "+44 7700 900123"
    assert frame.text(field="name").to_pylist() == ["Lilly Gordon", "John Edward", "Lilly Gordon"]


def test_woocommerce_line_item_cells() -> None:
    items = build_items(frame_of("woocommerce_webtoffee.csv"))
    assert items.text("name").to_pylist() == [
        "Formal shoe",
        "Belt, brown",
        "Washing machine",
        "LED TV",
        "Phone",
        "T-Shirt",
    ]
    assert items.text("sku").to_pylist() == ["A12", "B7", "A15", "A13", "A11", "B11V2"]
    assert items.order_row.tolist() == [0, 0, 1, 2, 2, 2]
    assert items.numbers("quantity").tolist() == [2, 1, 1, 1, 2, 1]
    assert items.numbers("total").tolist() == [16.0, 1218.5, 18.0, 23.19, 17.6, 8.0]
    assert items.numbers("price").tolist() == [8.0, 1218.5, 18.0, 23.19, 8.8, 8.0]


def test_woocommerce_skyverge_line_items_cell() -> None:
    frame = frame_of("woocommerce_skyverge.csv")
    items = build_items(frame)
    # Items are split before ";id:", so a ";" inside a product name stays.
    assert items.text("name").to_pylist() == ["Mug", "Spoon", "Tea; green"]
    assert items.text("sku").to_pylist() == ["MUG-1", "", "TEA"]
    assert items.numbers("total").tolist() == [20.0, 10.0, 12.0]
    assert items.numbers("price").tolist() == [10.0, 10.0, 4.0]
    assert frame.dates().tolist()[0] == dt.datetime(2016, 5, 31, 0, 37)  # resaved by Excel


def test_woocommerce_algolplus_totals_counted_once_in_cp1252(tmp_path: Path, tagbook: Path) -> None:
    frame = frame_of("woocommerce_algolplus.csv")
    assert frame.tables[0].dialect.encoding == "cp1252"  # tried after UTF-8 failed
    assert frame.text(field="name").to_pylist()[0] == "Zoë Müller"
    assert frame.order_codes.tolist() == [0, 0, 1, 0]
    assert per_order(frame, frame.numbers(field="total")) == [60.0, 1249.99]
    assert build_items(frame).text("name").to_pylist()[0] == "Tasse „Köln“"
    # 60.00 is repeated on three rows of order 3001: Zoë spent 60, not 180.
    rules = rules_file(
        tmp_path, "  - name: spend\n    when: {customer: spend, over: 100}\n    tag: BIG\n"
    )
    result = annotate(
        [FIX / "woocommerce_algolplus.csv"],
        tagbook=load_tagbook(tagbook),
        rules=load_rules(rules),
        as_of=WHEN,
    )
    assert result.tags.to_pylist() == ["", "", "BIG", ""]


def test_woocommerce_analytics_products_and_customers_by_name() -> None:
    frame = frame_of("woocommerce_analytics.csv")
    assert frame.customers.keys.to_pylist() == ["woo-name:mia wong", "woo-name:leo park"]
    assert frame.numbers(field="total").tolist() == [42.5, 1200.0, 8.0]
    items = build_items(frame)
    assert items.text("name").to_pylist() == ["Formal shoe", "Belt, brown leather", "Sofa", "Socks"]
    assert items.numbers("quantity").tolist() == [2, 1, 1, 1]
    assert items.order_row.tolist() == [0, 0, 1, 2]


# --- Linnworks and mappings ----------------------------------------------------------------


def test_linnworks_repeated_totals_and_relay_addresses() -> None:
    frame = frame_of("linnworks_open_orders.csv")
    assert per_order(frame, frame.numbers(field="total")) == [45.0, 12.99, 150.01]
    assert frame.customers.keys.to_pylist() == [
        "x7k2m9@marketplace.amazon.co.uk",
        "bob@example.co.uk",
        "annsmith@gmail.com",
    ]
    assert frame.text(field="channel").to_pylist() == ["AMAZON", "AMAZON", "EBAY", "DIRECT"]
    assert build_items(frame).text("sku").to_pylist() == ["MUG-1", "SPN-1", "TEA-1", "SOFA"]


def test_mapping_file_names_the_columns_of_another_export() -> None:
    frame = frame_of("linnworks_custom.csv", mapping=FIX / "linnworks_custom.mapping.yaml")
    table = frame.tables[0]
    assert table.profile.name == "linnworks" and table.dialect.delimiter == ";"
    assert frame.text(field="order_id").to_pylist() == ["L-1", "L-2", "L-3"]
    assert frame.numbers(field="total").tolist() == [1234.5, 10.0, 99.9]
    assert frame.dates().tolist()[2] == dt.datetime(2025, 2, 28)
    assert frame.customers.keys.to_pylist() == ["ann@example.com", "cy@example.com"]


def test_flat_mapping_and_customer_id(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Ref,Buyer,Paid\nA,u17.0,5\nB,U17,7\nC,,9\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("Ref: order_id\nBuyer: customer_id\nPaid: total\n", encoding="utf-8")
    frame = frame_of(src, mapping=mapping)
    assert frame.customers.keys.to_pylist() == ["customer:u17.0", "customer:u17"]
    assert frame.numbers(field="total").tolist() == [5.0, 7.0, 9.0]
    assert frame.customers.codes.tolist() == [0, 1, -1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Ref: order\n",
            'line 1: column "Ref" is mapped to "order", which is not an ordertags '
            "field. Use one of: order_id, email, total",
        ),
        ("A: email\nB: email\n", 'line 2: two columns are mapped to "email".'),
        (
            "columns: {A: email}\nmoney: dollars\n",
            'line 2: money "dollars" is not one of plain, symbol, comma_decimal, auto.',
        ),
        ("columns: {A: email}\ncolour: red\n", 'line 2: unknown setting "colour".'),
        ("- A\n", "a mapping file maps column names to ordertags fields."),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(ColumnError) as err:
        load_mapping(mapping)
    assert message in str(err.value)
    assert str(mapping) in str(err.value)


def test_mapped_column_missing_from_the_export(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Ref,Mail\n1,a@b.co\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("Ref: order_id\nBuyer: email\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(src),
            "-t",
            str(tagbook),
            "-o",
            str(tmp_path / "out.csv"),
            "--mapping",
            str(mapping),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"ordertags: {src}: no customer email column (looked for: Buyer). Name the column "
        "with --email-column (the file's columns: Ref, Mail).\n"
    )


# --- Amazon ---------------------------------------------------------------------------------


def test_amazon_totals_are_summed_over_lines_in_cp1252() -> None:
    frame = frame_of("amazon_unshipped_orders.txt")
    table = frame.tables[0]
    assert table.dialect.delimiter == "\t" and table.dialect.encoding == "cp1252"
    assert frame.text(field="name").to_pylist()[0] == "Jörg Müller"
    # The continuation line (blank order-id, a -1.00 shipping promotion) is part of the
    # first order and starts none.
    assert frame.order_codes.tolist() == [0, 0, 0, 1, 2]
    assert frame.order_starts.tolist() == [True, False, False, True, True]
    # item-price is per line, already times the quantity. Amazon.de prices include VAT:
    # item-tax is the VAT inside item-price, not added (19.98 + 4.99 + 5.00 - 1.00).
    assert per_order(frame, frame.money_units(field="total")) == [289_700, 300_000, 149_800]
    assert frame.customers.keys.to_pylist() == [
        "zjzhk7tmf7ts1q1@marketplace.amazon.de",
        "q9w8e7r6t5@marketplace.amazon.de",
    ]
    # Offsets are dropped, not applied: the wall-clock time as written.
    assert per_order(frame, frame.dates())[2] == dt.datetime(2017, 9, 25, 9, 30)
    items = build_items(frame)
    assert items.text("sku").to_pylist() == ["MUG-1", "SPN-1", "TEA-1", "MUG-1"]
    assert items.numbers("price").tolist() == [9.99, 5.0, 10.0, 9.99]


def test_amazon_japan_is_read_as_cp932() -> None:
    frame = frame_of("amazon_jp_orders.txt")
    assert frame.tables[0].dialect.encoding == "cp932"
    assert frame.text(field="name").to_pylist() == ["山田 太郎", "佐藤 花子"]
    # Prices on Amazon.co.jp include consumption tax: item-tax is not added again.
    assert frame.numbers(field="total").tolist() == [3500.0, 1500.0]


def test_amazon_report_without_buyer_email_says_which_report_to_use(
    tmp_path: Path, tagbook: Path
) -> None:
    src = FIX / "amazon_all_orders.txt"
    result = CliRunner().invoke(
        app, ["apply", str(src), "-t", str(tagbook), "-o", str(tmp_path / "out.txt")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"ordertags: {src}: no customer email column (looked for: buyer-email). This Amazon "
        "report has no buyer-email (the All Orders report lacks it), so customers cannot be "
        "told apart: download the Order Report (unshipped orders) or Amazon Fulfilled "
        "Shipments instead, or name the column with --email-column"
    )
    assert not (tmp_path / "out.txt").exists()


# --- eBay -----------------------------------------------------------------------------------


def test_ebay_preamble_trailer_money_and_dates() -> None:
    frame = frame_of("ebay_orders_report.csv")
    table = frame.tables[0]
    assert table.dialect.preamble == b"\r\nSeller Hub Orders Report\r\n"
    assert table.dialect.trailer == (
        b"\r\n3 record(s) downloaded,from Jul-01-26 to "
        b"Aug-02-26,,,\r\nSeller ID: snow-shop-777,,,,\r\n"
    )
    assert table.header_row == 3 and table.num_rows == 5
    # Order Number, falling back to Sales Record Number where it is blank.
    assert per_order(frame, frame.text(field="order_id")) == [
        "24-14934-88735",
        "1202",
        "12-34567-89012",
    ]
    assert per_order(frame, frame.numbers(field="total")) == [1433.66, 45.99, 99.5]
    assert per_order(frame, frame.dates()) == [
        dt.datetime(2026, 7, 25),
        dt.datetime(2026, 8, 1),
        dt.datetime(2026, 8, 2),
    ]
    # Customers by Buyer Username (case-insensitive), not by the unreliable Buyer Email.
    assert frame.customers.keys.to_pylist() == ["ebay:snowfan_77", "ebay:ski.mum"]
    assert build_items(frame).text("sku").to_pylist() == ["SB-158", "WAX", "GL-1", "HM-2"]
    assert build_items(frame).numbers("price").tolist() == [1375.67, 22.99, 45.99, 89.0]


def test_ebay_rows_are_numbered_as_in_the_file(tmp_path: Path) -> None:
    data = (FIX / "ebay_orders_report.csv").read_bytes()
    src = tmp_path / "ebay.csv"
    assert data.count(b"Aug-01-26") == 1
    src.write_bytes(data.replace(b"Aug-01-26", b"Aug-41-26"))
    frame = frame_of(src)
    with pytest.raises(OrderTagsError) as err:
        frame.dates()
    # Two lines before the header (row 3): the fourth data row is row 7.
    assert str(err.value).startswith(
        f'{src}, row 7, column "Sale Date": "Aug-41-26" is not a valid date in the "ebay" style'
    )


def test_ebay_report_lines_inside_the_data_are_no_orders(tmp_path: Path, tagbook: Path) -> None:
    """Two reports pasted together: their 'record(s) downloaded' lines sit between
    orders, as wide as the header. They are no orders and get no tags."""
    src = tmp_path / "ebay.csv"
    src.write_text(
        "Order number,Buyer username,Post to name,Total price\n"
        "04-15250-08826,jacgeo-2000,Toby Roberts,$10.00\n"
        "record(s) downloaded,,,\n"
        "Seller ID : caledonian-youth,,,\n"
        "24-15229-61546,mowl_to,Tom Mowlem,$20.00\n",
        encoding="utf-8",
    )
    frame = frame_of(src)
    assert frame.tables[0].profile.name == "ebay"
    assert frame.n_orders == 2 and frame.order_starts.tolist() == [True, False, False, True]
    assert frame.customers.keys.to_pylist() == ["ebay:jacgeo-2000", "ebay:mowl_to"]
    out = tmp_path / "out.csv"
    rules = rules_file(
        tmp_path, "  - name: any\n    when: {field: total, over: 5}\n    tag: CHECK\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(src),
            "-t",
            str(tagbook),
            "-r",
            str(rules),
            "-o",
            str(out),
            "--as-of",
            AS_OF,
            "-q",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r[:4] for r in rows] == [
        r[:4] for r in csv.reader(io.StringIO(src.read_text(encoding="utf-8"), newline=""))
    ]
    assert [r[4] for r in rows[1:]] == ["CHECK", "", "", "CHECK"]


def test_ebay_germany() -> None:
    frame = frame_of("ebay_de_bestellungen.csv")
    table = frame.tables[0]
    assert table.dialect.delimiter == ";" and table.dialect.preamble == b"sep=;\n"
    assert frame.numbers(field="total").tolist() == [116.99, 1049.0, 9.5]
    assert frame.dates().tolist() == [
        dt.datetime(2025, 12, 10),
        dt.datetime(2026, 3, 2),
        dt.datetime(2025, 10, 15),
    ]
    assert frame.customers.keys.to_pylist() == ["ebay:kaeufer_1", "ebay:kaeufer_2"]


# --- Etsy -----------------------------------------------------------------------------------


def test_etsy_orders_mixed_money_and_us_dates() -> None:
    frame = frame_of("EtsySoldOrders2026-10.csv")
    assert frame.numbers(field="total").tolist() == [55.0, 12.0, 5.0]  # 55.00, "12,00", $5.00
    assert frame.dates().tolist()[0] == dt.datetime(2026, 9, 25)
    assert frame.customers.keys.to_pylist() == ["etsy:kj7", "etsy:m42"]


def test_etsy_items_total_is_items_plus_shipping_and_tax_once() -> None:
    frame = frame_of("EtsySoldOrderItems2026-10.csv")
    # 30.00 + 20.00 items, + 5.00 shipping and 2.50 tax once (they repeat on each row).
    assert per_order(frame, frame.numbers(field="total")) == [57.5, 12.0]
    assert frame.customers.keys.to_pylist() == ["etsy:andrewdye", "etsy:elodiem"]


# --- forcing a profile ------------------------------------------------------------------------


def test_format_forces_a_profile(tmp_path: Path, tagbook: Path) -> None:
    frame = frame_of("shopify_orders_export.csv", profile="generic")
    assert frame.n_orders == 7  # every row an order, as the user asked
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(FIX / "shopify_orders_export.csv"),
            "-t",
            str(tagbook),
            "-o",
            str(out),
            "--format",
            "nosuch",
        ],
    )
    assert result.exit_code == 2
    assert 'unknown format "nosuch". Use one of: shopify, woocommerce' in result.stderr


# --- write-back: every original value unchanged -------------------------------------------


def _records(data: bytes, encoding: str, delimiter: str) -> list[list[str]]:
    text = data.decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("name", [d[0] for d in DETECTED])
def test_write_back_keeps_every_value_and_the_file_shape(
    tmp_path: Path, tagbook: Path, name: str
) -> None:
    src = FIX / name
    table = read_orders(src)
    d = table.dialect
    out = tmp_path / f"out-{name}"
    result = CliRunner().invoke(
        app,
        ["apply", str(src), "-t", str(tagbook), "-o", str(out), "--as-of", AS_OF, "-q"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    original, written = src.read_bytes(), out.read_bytes()
    bom = b"\xef\xbb\xbf" if d.bom else b""
    assert written.startswith(bom + d.preamble)
    assert written.endswith(d.trailer)
    body_in = original[len(bom) + len(d.preamble) : len(original) - len(d.trailer)]
    body_out = written[len(bom) + len(d.preamble) : len(written) - len(d.trailer)]
    before = _records(body_in, d.encoding, d.delimiter)
    after = _records(body_out, d.encoding, d.delimiter)
    assert after[0] == before[0] + ADDED
    assert [r[: len(before[0])] for r in after[1:]] == before[1:]
    if d.eol == "\r\n":
        assert body_out.count(b"\r\n") >= len(after) and b"\n" not in body_out.replace(
            b"\r\n", b""
        ).replace(b'\n"', b"")
    else:
        assert b"\r\n" not in body_out


def test_every_row_of_an_order_carries_its_tags(tmp_path: Path, tagbook: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(
        tagbook.read_text(encoding="utf-8").replace("vip@example.com", "JANE.doe@example.com"),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(FIX / "shopify_orders_export.csv"),
            "-t",
            str(book),
            "-o",
            str(out),
            "--as-of",
            AS_OF,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["Name"], r["Customer Tags"]) for r in rows] == [
        ("#1001", "VIP"),
        ("#1001", "VIP"),
        ("#1002", ""),
        ("#1003", "VIP"),
        ("#1004", ""),
        ("#1003", "VIP"),
        ("#1003", "VIP"),
    ]
    assert rows[0]["Note Attributes"] == "created_at: 1639983837\nmc_cid: 63c528caa1"
    assert result.stderr.splitlines()[:2] == [
        f"read 4 orders (7 rows) from {FIX / 'shopify_orders_export.csv'} (csv, Shopify orders "
        "export)",
        f"4 orders, 2 customers, 1 order without an email; as of {AS_OF}",
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_output_format_converts_any_export(tmp_path: Path, tagbook: Path, fmt: str) -> None:
    import json

    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(FIX / "ebay_orders_report.csv"),
            "-t",
            str(tagbook),
            "-o",
            str(out),
            "--as-of",
            AS_OF,
            "-q",
            "--output-format",
            fmt,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    records = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    assert len(records) == 5
    assert records[0]["Total Price"] == "$1,433.66"
    assert records[1]["Item Title"] == "Snowboard, 158 cm"
    assert list(records[0])[-3:] == ADDED


# --- several platforms in one run -------------------------------------------------------------


def test_exports_of_different_platforms_form_one_customer_history(
    tmp_path: Path, tagbook: Path
) -> None:
    own = tmp_path / "shop.csv"
    own.write_text(
        "Order Id,Email,Total,Received Date\nW1,Jane.Doe+web@example.com,100.00,2026-01-02 10:00\n",
        encoding="utf-8",
    )
    rules = rules_file(
        tmp_path,
        "  - name: big\n    when: {customer: spend, over: 1880}\n"
        "    tag: BIG\n"
        "  - name: three\n    when: {customer: orders, at_least: 3}\n"
        "    tag: REGULAR\n",
    )
    result = annotate(
        [FIX / "shopify_orders_export.csv", FIX / "ebay_orders_report.csv", own],
        tagbook=load_tagbook(tagbook),
        rules=load_rules(rules),
        as_of=WHEN,
    )
    s = result.summary
    assert [(f.profile, f.rows, f.orders) for f in s.files] == [
        ("shopify", 7, 4),
        ("ebay", 5, 3),
        ("generic", 1, 1),
    ]
    assert s.orders == 8 and s.customers == 4
    # Jane: 120.50 + 1659.95 in Shopify and 100.00 on the shop's own site = 1880.45.
    tags = result.tags.to_pylist()
    assert tags[-1] == "BIG; REGULAR"
    assert tags[:7] == [
        "BIG; REGULAR",
        "BIG; REGULAR",
        "",
        "BIG; REGULAR",
        "",
        "BIG; REGULAR",
        "BIG; REGULAR",
    ]
    assert tags[7:12] == [""] * 5


# --- tag --order: the same profiles ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "order", "email"),
    [
        ("shopify_orders_export.csv", "#1003", "jane.doe@example.com"),
        ("shopify_orders_export.csv", "1001", "Jane.Doe@Example.com"),
        ("woocommerce_webtoffee.csv", "2002", "john@example.com"),  # guest: billing_email
        ("woocommerce_algolplus.csv", "3002", "juergen@example.de"),  # cp1252
        ("amazon_unshipped_orders.txt", "302-3333333-3333333", "q9w8e7r6t5@marketplace.amazon.de"),
        ("linnworks_open_orders.csv", "8003", "Ann.Smith@Gmail.com"),
    ],
)
def test_find_order_email_per_platform(name: str, order: str, email: str) -> None:
    assert find_order_email(FIX / name, order) == email


def test_find_order_on_a_platform_without_emails_gives_the_buyer_id() -> None:
    # Marketplace buyers have no email to give: the order's buyer id is their identity.
    assert find_order_email(FIX / "ebay_orders_report.csv", "12-34567-89012") == "ebay:ski.mum"
    assert find_order_email(FIX / "EtsySoldOrders2026-10.csv", "3935119410") == "etsy:m42"


# --- the real samples in ../shared/data/real ----------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _orders(frame: Frame) -> dict[str, int]:
    """Order id -> total in ten-thousandths, from the frame."""
    ids = per_order(frame, frame.text(field="order_id"))
    units = per_order(frame, frame.money_units(field="total"))
    return dict(zip(ids, units, strict=True))  # type: ignore[arg-type]


def test_real_shopify_sample() -> None:
    path = shared_path("data", "real", "shopify", "orders_export.csv")
    rows = _csv_rows(path)
    totals: dict[str, Decimal] = {}
    emails: dict[str, str] = {}
    for r in rows:
        if r["Name"] not in totals:
            totals[r["Name"]] = Decimal(r["Total"])
            emails[r["Name"]] = r["Email"].strip().lower()
    frame = frame_of(path)
    assert frame.tables[0].profile.name == "shopify"
    assert (frame.n, frame.n_orders) == (len(rows), len(totals)) == (40, 19)
    assert _orders(frame) == {k: int(v * 10_000) for k, v in totals.items()}
    assert frame.customers.count == len({e for e in emails.values() if e})
    assert (
        int((~frame.customers.has_customer[frame.order_rows]).sum())
        == sum(1 for e in emails.values() if not e)
        == 10
    )


def test_real_woocommerce_sample() -> None:
    path = shared_path("data", "real", "woocommerce", "webtoffee_sample_order.csv")
    rows = _csv_rows(path)
    frame = frame_of(path)
    assert frame.tables[0].profile.name == "woocommerce"
    assert frame.n_orders == len(rows) == 3
    expected = {r["order_number"]: int(Decimal(r["order_total"]) * 10_000) for r in rows}
    assert _orders(frame) == expected
    keys = {(r["customer_email"] or r["billing_email"]).lower() for r in rows}
    assert set(frame.customers.keys.to_pylist()) == keys
    assert build_items(frame).text("sku").to_pylist() == ["A12", "A15", "A13", "A11", "B11V2"]


def test_real_uci_online_retail_sample() -> None:
    path = shared_path("data", "real", "uci-online-retail", "online_retail_sample.csv")
    rows = _csv_rows(path)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r["InvoiceNo"]] += Decimal(r["Quantity"]) * Decimal(r["UnitPrice"])
    customers = {str(int(float(r["CustomerID"]))) for r in rows if r["CustomerID"]}
    frame = frame_of(path)
    assert frame.tables[0].profile.name == "online-retail"
    assert (frame.n, frame.n_orders, frame.customers.count) == (4792, 2093, 875)
    assert (len(totals), len(customers)) == (2093, 875)
    got = _orders(frame)
    assert got.keys() == totals.keys()
    assert all(abs(got[k] - int(v * 10_000)) <= 1 for k, v in totals.items())
    assert set(frame.customers.keys.to_pylist()) == {f"online-retail:{c}" for c in customers}


@pytest.mark.parametrize(
    "parts",
    [
        ("shopify", "orders_export.csv"),
        ("woocommerce", "webtoffee_sample_order.csv"),
        ("uci-online-retail", "online_retail_sample.csv"),
    ],
)
def test_real_samples_are_written_back_unchanged(
    tmp_path: Path, tagbook: Path, parts: tuple[str, str]
) -> None:
    path = shared_path("data", "real", *parts)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        ["apply", str(path), "-t", str(tagbook), "-o", str(out), "--as-of", AS_OF, "-q"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    with open(path, newline="", encoding="utf-8") as fh:
        before = list(csv.reader(fh))
    with open(out, newline="", encoding="utf-8") as fh:
        after = list(csv.reader(fh))
    assert after[0] == before[0] + ADDED
    assert [r[: len(before[0])] for r in after[1:]] == before[1:]
