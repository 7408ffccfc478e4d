"""One customer, everywhere: a seller's Shopify, WooCommerce, eBay, Amazon and Linnworks
exports of the same people, and every command seeing the same person.

The people (figures worked out by hand below, never by ordertags):

- Jane Doe buys with her Gmail address on Shopify (``Jane.Doe@gmail.com``, twice) and
  WooCommerce (``janedoe+shop@googlemail.com``: the same customer key); on eBay as
  ``jane_d_1990``, once with her email visible and once without; on Amazon with a blank
  buyer-email (found by her phone and surname); and in a Linnworks phone order under a
  family address (``j.doe@doe-family.co.uk``, her phone and name).
- Quinn Belfast: one eBay order, no email (a non-receipt claim).
- Carl: eBay orders with his email in the Buyer Email column.
- Ann Other: an Amazon order with a blank buyer-email and a phone.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.tagbook import load_tagbook
from tests.conftest import csv_text, read_csv

runner = CliRunner()
AS_OF = "2026-11-30"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


TAGBOOK = """\
# the shop's tag book
version: 1
tags:
  - name: CLAIMED-NON-RECEIPT
    colour: red
    label: "CLAIMED — send tracked"
    priority: 90
  - name: VIP
    colour: gold
    label: "VIP — handwritten note"
    priority: 50
  - name: GOLD
    colour: orange
    label: "GOLD — add a freebie"
    priority: 40
  - name: BIG_SPENDER
    colour: purple
    label: "BIG SPENDER"
    priority: 30
customers:
  - email: jane.doe@gmail.com   # Jane, by the address she gave us in the shop
    tags: [VIP]
    by: sam
    at: 2026-10-01
"""

RULES = """\
version: 1
rules:
  - name: gold list
    when: {field: email, in_file: gold.txt}
    tag: GOLD
  - name: big spender
    when: {customer: spend, over: 900}
    tag: BIG_SPENDER
"""

SHOPIFY = csv_text(
    [
        "Name", "Email", "Financial Status", "Accepts Marketing", "Currency", "Total",
        "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
        "Billing Name", "Billing Phone", "Source",
    ],
    [
        ["#1042", "Jane.Doe@gmail.com", "paid", "yes", "GBP", "310.00", "2026-03-01 10:00",
         "1", "Lamp", "310.00", "LAMP", "Jane Doe", "07700 900456", "web"],
        ["#1043", "Jane.Doe@gmail.com", "paid", "no", "GBP", "150.00", "2026-06-01 10:00",
         "1", "Rug", "150.00", "RUG", "Jane Doe", "07700 900456", "web"],
    ],
)  # fmt: skip

WOO = csv_text(
    [
        "order_id", "order_number", "order_date", "status", "order_total", "order_currency",
        "customer_email", "billing_first_name", "billing_last_name", "billing_email",
        "billing_phone",
    ],
    [
        ["5001", "5001", "2026-05-10 12:00:00", "completed", "89.50", "GBP",
         "janedoe+shop@googlemail.com", "Jane", "Doe", "janedoe+shop@googlemail.com", ""],
    ],
)  # fmt: skip

EBAY_HEADER = [
    "Sales Record Number", "Order Number", "Buyer Username", "Buyer Name", "Buyer Email",
    "Ship To Phone", "Ship To Zip", "Ship To Country", "Item Title", "Quantity", "Sold For",
    "Total Price", "Sale Date",
]  # fmt: skip
EBAY = "\nSeller Hub Orders Report\n" + csv_text(
    EBAY_HEADER,
    [
        ["301", "17-11901-10001", "jane_d_1990", "Jane Doe", "jane.doe@gmail.com", "", "",
         "United Kingdom", "Chair", "1", "£229.99", "£229.99", "Nov-20-26"],
        ["302", "17-11901-10002", "jane_d_1990", "Jane Doe", "", "", "", "United Kingdom",
         "Cushion", "1", "£40.00", "£40.00", "Nov-25-26"],
        ["303", "17-11901-33871", "quinn_belfast", "Quinn Belfast", "", "", "BT1 1AA",
         "United Kingdom", "Kettle", "1", "£64.00", "£64.00", "Nov-21-26"],
        ["304", "17-11901-20001", "carl_big", "Carl Big", "carl.big@example.com", "", "",
         "United Kingdom", "Sofa", "1", "£500.00", "£500.00", "Nov-22-26"],
        ["305", "17-11901-20002", "carl_big", "Carl Big", "carl.big@example.com", "", "",
         "United Kingdom", "Table", "1", "£120.00", "£120.00", "Nov-23-26"],
    ],
)  # fmt: skip

AMAZON = "\t".join(
    [
        "order-id", "order-item-id", "purchase-date", "buyer-email", "buyer-name",
        "buyer-phone-number", "sku", "product-name", "quantity-purchased", "currency",
        "item-price", "item-tax", "shipping-price", "shipping-tax", "ship-postal-code",
        "sales-channel",
    ]
) + "\n" + "\n".join(
    "\t".join(row)
    for row in [
        ["202-1111111-0000001", "1", "2026-11-24T10:00:00+00:00", "", "Jane Doe",
         "07700 900456", "MUG", "Mug", "1", "GBP", "49.99", "10.00", "0.00", "0.00",
         "SW1A 1AA", "Amazon.co.uk"],
        ["202-2222222-0000002", "1", "2026-11-26T10:00:00+00:00", "", "Ann Other",
         "+44 7123 000999", "TOY", "Toy", "1", "GBP", "20.00", "4.00", "0.00", "0.00",
         "M1 1AA", "Amazon.co.uk"],
    ]
) + "\n"  # fmt: skip

LINNWORKS = csv_text(
    [
        "Order Id", "Reference Number", "Source", "SubSource", "Received date",
        "Customer email address", "Shipping customer name", "Customer buyer phone number",
        "Postcode", "Country", "Currency", "Total", "SKU", "Item Title", "Quantity",
        "Unit Cost",
    ],
    [
        ["9001", "WEB-778", "DIRECT", "Phone", "2026-11-27 09:00", "j.doe@doe-family.co.uk",
         "Jane Doe", "07700900456", "SW1A 1AA", "United Kingdom", "GBP", "120.00", "VASE",
         "Vase", "1", "120.00"],
    ],
)  # fmt: skip

# Jane's orders, by hand: Shopify 310.00 + 150.00, WooCommerce 89.50, eBay 229.99 + 40.00,
# Amazon 49.99 (item price, VAT included), Linnworks 120.00.
JANE_ORDERS = 2 + 1 + 2 + 1 + 1
JANE_SPEND = "989.48"
# Amazon.co.uk prices include VAT: the 10.00 item-tax is inside the 49.99, not added.
assert f"{310.00 + 150.00 + 89.50 + 229.99 + 40.00 + 49.99 + 120.00:.2f}" == JANE_SPEND


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in [
        ("shopify.csv", SHOPIFY),
        ("woo.csv", WOO),
        ("ebay.csv", EBAY),
        ("amazon.txt", AMAZON),
        ("linnworks.csv", LINNWORKS),
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out[name.split(".")[0]] = path
    (tmp_path / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "gold.txt").write_text("Jane.Doe@gmail.com\n", encoding="utf-8")
    return out


def apply_all(
    files: dict[str, Path], out: Path, *extra: str | Path
) -> dict[str, list[dict[str, str]]]:
    """Apply to every export (outputs in ``out``); the rows of each output by name."""
    rules = next(iter(files.values())).parent / "rules.yaml"
    result = run("apply", *files.values(), "-o", out, "--as-of", AS_OF, "-r", rules, *extra)
    assert result.exit_code == 0, result.stderr
    return {p.stem: _rows(out / p.name) for p in files.values() if p.suffix == ".csv"}


def _rows(path: Path) -> list[dict[str, str]]:
    """The rows of an annotated CSV, its header found after eBay's title lines."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "," in line)
    return list(csv.DictReader(lines[start:]))


def tags_by(rows: list[dict[str, str]], column: str) -> dict[str, set[str]]:
    return {r[column]: {t for t in r["Customer Tags"].split("; ") if t} for r in rows if r[column]}


# --- without a workspace: one run ------------------------------------------------------------


def test_an_ebay_buyer_with_an_email_is_tagged_by_that_email(
    files: dict[str, Path], tmp_path: Path
) -> None:
    book = tmp_path / "tagbook.yaml"
    tagged = run("tag", "carl.big@example.com", "--tag", "CLAIMED-NON-RECEIPT", "-t", book)
    assert tagged.exit_code == 0, tagged.stderr
    out = apply_all(files, tmp_path / "out", "-t", book)
    ebay = tags_by(out["ebay"], "Order Number")
    assert "CLAIMED-NON-RECEIPT" in ebay["17-11901-20001"]
    assert "CLAIMED-NON-RECEIPT" in ebay["17-11901-20002"]
    assert "CLAIMED-NON-RECEIPT" not in ebay["17-11901-33871"]


def test_list_rules_and_hand_tags_reach_every_order_of_the_merged_customer(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = apply_all(files, tmp_path / "out", "-t", tmp_path / "tagbook.yaml")
    ebay = tags_by(out["ebay"], "Order Number")
    # Her second eBay order shows no email: the buyer id of the first joins it to her.
    for order in ("17-11901-10001", "17-11901-10002"):
        assert {"VIP", "GOLD"} <= ebay[order], order
    for rows, column in ((out["shopify"], "Name"), (out["woo"], "order_number")):
        assert all({"VIP", "GOLD"} <= t for t in tags_by(rows, column).values())
    assert not ({"VIP", "GOLD"} & (ebay["17-11901-33871"] | ebay["17-11901-20001"]))
    # Without a history, a phone and a surname are no proof: the Linnworks phone order
    # under another email stays apart.
    assert tags_by(out["linnworks"], "Order Id")["9001"] == set()


def test_tag_by_every_kind_of_identity(files: dict[str, Path], tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    for who in ("ebay:Quinn_Belfast", "+44 (0)7123 000-999"):
        tagged = run("tag", who, "--tag", "CLAIMED-NON-RECEIPT", "--by", "kim", "-t", book)
        assert tagged.exit_code == 0, tagged.stderr
    assert run("tag", "ebay:quinn_belfast", "--tag", "CLAIMED-NON-RECEIPT", "-t", book).stderr == (
        "ebay:quinn_belfast already has CLAIMED-NON-RECEIPT; nothing changed\n"
    )
    text = book.read_text(encoding="utf-8")
    assert "# the shop's tag book\n" in text and "# Jane, by the address" in text
    assert "  - id: ebay:quinn_belfast\n" in text
    assert '  - phone: "+447123000999"\n' in text
    entries = load_tagbook(book).entries
    assert [(e.kind, e.key) for e in entries[1:]] == [
        ("id", "ebay:quinn_belfast"),
        ("phone", "+447123000999"),
    ]
    out = apply_all(files, tmp_path / "out", "-t", book)
    ebay = tags_by(out["ebay"], "Order Number")
    assert "CLAIMED-NON-RECEIPT" in ebay["17-11901-33871"]
    assert "CLAIMED-NON-RECEIPT" not in ebay["17-11901-10001"]
    amazon = apply_all({"amazon": files["amazon"]}, tmp_path / "amz", "-t", book)
    assert amazon == {}  # a .txt output: read it below
    rows = (tmp_path / "amz").read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    col = header.index("Customer Tags")
    by_order = {r.split("\t")[0]: r.split("\t")[col] for r in rows[1:]}
    assert by_order == {"202-1111111-0000001": "", "202-2222222-0000002": "CLAIMED-NON-RECEIPT"}
    removed = run("untag", "EBAY:quinn_belfast", "--tag", "CLAIMED-NON-RECEIPT", "-t", book)
    assert removed.stderr == "removed CLAIMED-NON-RECEIPT from EBAY:quinn_belfast\n"
    assert "quinn" not in book.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("export", "order", "said", "entry"),
    [
        ("ebay", "17-11901-33871", "Quinn Belfast (ebay:quinn_belfast)", "id: ebay:quinn_belfast"),
        ("amazon", "202-2222222-0000002", "Ann Other (+447123000999)", 'phone: "+447123000999"'),
        ("shopify", "#1042", "Jane Doe (Jane.Doe@gmail.com)", "email: Jane.Doe@gmail.com"),
        ("shopify", "1043", "Jane Doe (Jane.Doe@gmail.com)", "email: Jane.Doe@gmail.com"),
        ("linnworks", "WEB-778", "Jane Doe (j.doe@doe-family.co.uk)", "email: j.doe@doe-family"),
        ("ebay", "17-11901-10002", "Jane Doe (ebay:jane_d_1990)", "id: ebay:jane_d_1990"),
    ],
)
def test_tag_by_order_number_from_an_export(
    files: dict[str, Path], tmp_path: Path, export: str, order: str, said: str, entry: str
) -> None:
    book = tmp_path / "tagbook.yaml"
    result = run(
        "tag", "--order", order, "--in", files[export], "--tag", "CLAIMED-NON-RECEIPT", "-t", book
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"tagged {said} with CLAIMED-NON-RECEIPT\n"
    assert f"  - {entry}" in book.read_text(encoding="utf-8")


def test_retagging_with_a_new_note_updates_the_note(tmp_path: Path, files: dict[str, Path]) -> None:
    book = tmp_path / "tagbook.yaml"
    run("tag", "ebay:quinn_belfast", "--tag", "CLAIMED-NON-RECEIPT", "--note", "first", "-t", book)
    again = run(
        "tag", "ebay:quinn_belfast", "--tag", "CLAIMED-NON-RECEIPT", "--note", "parcel found",
        "-t", book,
    )  # fmt: skip
    assert again.exit_code == 0
    assert again.stderr == "ebay:quinn_belfast already has CLAIMED-NON-RECEIPT; note updated\n"
    notes = [e.note for e in load_tagbook(book).entries if e.kind == "id"]
    assert notes == ["parcel found"]


def test_an_entry_that_names_no_identity_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(TAGBOOK + "  - id: quinn\n    tags: [VIP]\n", encoding="utf-8")
    result = run("tags", "-t", book)
    assert result.exit_code == 1
    assert "customers[1].id" in result.stderr


# --- with a workspace: the history --------------------------------------------------------------


@pytest.fixture
def shop(files: dict[str, Path], tmp_path: Path) -> Path:
    made = run("init", tmp_path / "shop")
    assert made.exit_code == 0, made.stderr
    shop = tmp_path / "shop"
    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(
        RULES.replace("gold.txt", str(tmp_path / "gold.txt")), encoding="utf-8"
    )
    got = run("ingest", *files.values(), "-w", shop)
    assert got.exit_code == 0, got.stderr
    return shop


def test_customer_by_buyer_id_in_any_case(shop: Path) -> None:
    found = run("customer", "eBay:Quinn_Belfast", "-w", shop)
    assert found.exit_code == 0, found.stderr
    assert "ebay:quinn_belfast" in found.stdout and "17-11901-33871" in found.stdout


def test_customer_shows_a_hand_tag_given_by_phone(shop: Path) -> None:
    tagged = run("tag", "07123 000999", "--tag", "CLAIMED-NON-RECEIPT", "--note", "no parcel",
                 "-w", shop)  # fmt: skip
    assert tagged.stderr == "tagged Ann Other (+447123000999) with CLAIMED-NON-RECEIPT\n"
    found = run("customer", "202-2222222-0000002", "-w", shop)
    assert found.exit_code == 0, found.stderr
    assert "no parcel" in found.stdout and "CLAIMED-NON-RECEIPT" in found.stdout


def test_tag_by_order_number_from_the_history(shop: Path) -> None:
    for order, said in [
        ("17-11901-33871", "Quinn Belfast (ebay:quinn_belfast)"),
        # the channel's reference, in Linnworks; her email on most orders, as last written
        ("WEB-778", "Jane Doe (jane.doe@gmail.com)"),
        ("#1042", "Jane Doe (jane.doe@gmail.com)"),
        ("202-2222222-0000002", "Ann Other (+447123000999)"),
    ]:
        result = run("tag", "--order", order, "--tag", "CLAIMED-NON-RECEIPT", "-w", shop)
        assert result.exit_code == 0, result.stderr
        assert result.stderr.startswith(f"{said} already has") or result.stderr == (
            f"tagged {said} with CLAIMED-NON-RECEIPT\n"
        ), result.stderr


def test_a_workspace_merges_every_channel_and_rules_follow(
    shop: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    out = apply_all(files, tmp_path / "out", "-w", shop, "-r", shop / "rules.yaml")
    linn = tags_by(out["linnworks"], "Order Id")
    # Same phone and surname, with a history: her Linnworks phone order is hers.
    assert {"VIP", "GOLD", "BIG_SPENDER"} <= linn["9001"]
    ebay = tags_by(out["ebay"], "Order Number")
    assert {"VIP", "GOLD", "BIG_SPENDER"} <= ebay["17-11901-10002"]
    assert "BIG_SPENDER" not in ebay["17-11901-20001"]  # Carl: 620.00
    customers = run("customers", "--tag", "big_spender", "-w", shop)
    assert customers.exit_code == 0, customers.stderr
    assert customers.stdout.splitlines()[2].split()[1:3] == [str(JANE_ORDERS), JANE_SPEND]
    assert len(customers.stdout.splitlines()) == 3
    assert "1 customer; rule tags as of the last apply at 20" in customers.stderr


def test_export_lists_the_history_with_all_time_figures(
    shop: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    listed = tmp_path / "vip.csv"
    plain = run("export", "--tag", "VIP", "-w", shop, "-o", listed, "--as-of", AS_OF)
    assert plain.exit_code == 0, plain.stderr
    # Her latest answer (Shopify #1043, June) was no; the Linnworks file says nothing.
    assert read_csv(listed) == []
    assert plain.stderr.startswith("0 customers with VIP (1 without marketing consent left out)")
    assert "no rule tags yet" in plain.stderr
    every = run(
        "export", "--tag", "VIP", "--tag", "CLAIMED-NON-RECEIPT", "-w", shop, "-o", listed,
        "--as-of", AS_OF, "--include-without-consent",
    )  # fmt: skip
    assert every.exit_code == 0, every.stderr
    # One row for all her identities, under the address she used last (her Linnworks
    # phone order).
    assert read_csv(listed) == [
        {
            "Email Address": "j.doe@doe-family.co.uk",
            "First Name": "Jane",
            "Last Name": "Doe",
            "Orders": str(JANE_ORDERS),
            "Spend": JANE_SPEND,
            "Tags": "VIP",
        }
    ]
    # With a file, its customers; still all-time figures, once each.
    quinn = run("tag", "ebay:quinn_belfast", "--tag", "VIP", "-w", shop)
    assert quinn.stderr == "tagged Quinn Belfast (ebay:quinn_belfast) with VIP\n"
    some = run(
        "export", files["linnworks"], files["ebay"], "--tag", "VIP", "-w", shop, "-o", listed,
        "--as-of", AS_OF, "--include-without-consent",
    )  # fmt: skip
    assert some.exit_code == 0, some.stderr
    rows = read_csv(listed)
    assert [(r["Email Address"], r["Orders"], r["Spend"]) for r in rows] == [
        ("j.doe@doe-family.co.uk", str(JANE_ORDERS), JANE_SPEND)
    ]
    assert "1 with no email (buyer id only)" in some.stderr


def test_explain_names_the_identity_a_hand_tag_came_through(
    files: dict[str, Path], tmp_path: Path
) -> None:
    result = run(
        "explain", "17-11901-10002", files["ebay"], "-t", tmp_path / "tagbook.yaml",
        "--as-of", AS_OF,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (
        "VIP (line 21) through email jane.doe@gmail.com, one customer with ebay:jane_d_1990"
        in result.stdout
    ), result.stdout


def test_link_a_buyer_id_to_an_email(files: dict[str, Path], tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    linked = run("link", "eBay:Quinn_Belfast", "quinn@example.com", "-t", book)
    assert linked.exit_code == 0, linked.stderr
    assert "  - same: [eBay:Quinn_Belfast, quinn@example.com]\n" in book.read_text("utf-8")
    run("tag", "quinn@example.com", "--tag", "VIP", "-t", book)
    rules = tmp_path / "rules.yaml"
    result = run("apply", files["ebay"], "-o", tmp_path / "out.csv", "-t", book, "-r", rules)
    assert result.exit_code == 0, result.stderr
    rows = _rows(tmp_path / "out.csv")
    assert tags_by(rows, "Order Number")["17-11901-33871"] == {"VIP"}


def test_an_entry_names_one_identity(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        TAGBOOK + "  - email: q@example.com\n    id: ebay:quinn\n    tags: [VIP]\n",
        encoding="utf-8",
    )
    result = run("tags", "-t", book)
    assert result.exit_code == 1
    assert result.stderr == (
        f"ordertags: {book}, line 25, key customers[1]: the entry names email and id: an "
        "entry names its customer by one identity. Give one of email:, phone: or id: "
        "(ebay:NAME); to say two identities are one person, link them (ordertags link).\n"
    )
