"""Addresses as an identity for holds (issue 21): an ``address:`` entry of the tag book
tags every order shipped to that door, whoever buys it, however the address is spelled
(GB, US, DE and FR spellings), and no other door."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner, Result

from ordertags.base.addresses import parse_written, written_key
from ordertags.cli import app
from ordertags.customers.addresses import postal_keys
from ordertags.errors import TagBookError
from ordertags.tagbook import load_tagbook, parse_tagbook

runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def key(country: str | None, postcode: str | None, line: str | None) -> str | None:
    out: str | None = postal_keys(
        pa.array([country], pa.string()),
        pa.array([postcode], pa.string()),
        pa.array([line], pa.string()),
    ).to_pylist()[0]
    return out


SAME = [
    # (one spelling, another spelling of the same door)
    (
        ("GB", "EH2 2PR", "Flat 2, 10 Rose St"),
        ("United Kingdom", "eh22pr", "10 Rose Street, Flat 2"),
    ),
    (("UK", "SW1A 1AA", "Rose Cottage, High St"), ("GB", "sw1a 1aa", "Rose Cottage High Street")),
    (("US", "02108-1234", "100 Main St Apt 4B"), ("USA", "02108", "100 Main Street, #4B")),
    (("US", "10001", "100 N Main St"), ("United States", "10001", "100 North Main Street")),
    (("DE", "10115", "Hauptstr. 5a"), ("Deutschland", "10115", "Hauptstraße 5 a")),
    (("Germany", "80331", "Müller Str. 12"), ("DE", "80331", "Mueller-Strasse 12")),
    (
        ("FR", "75008", "12 bis Av. des Champs-Élysées"),
        ("France", "75008", "12bis avenue des champs elysees"),
    ),
    (("FR", "69001", "3 r de la République"), ("FR", "69001", "3, rue de la Republique")),
]
DIFFERENT = [
    (("GB", "EH2 2PR", "Flat 2, 10 Rose St"), ("GB", "EH2 2PR", "Flat 3, 10 Rose St")),
    (("GB", "EH2 2PR", "10 Rose St"), ("GB", "EH2 2PR", "12 Rose St")),
    (("US", "02108", "100 Main St"), ("US", "02108", "100 Oak St")),
    (("DE", "10115", "Hauptstr. 5a"), ("DE", "10115", "Hauptstr. 5b")),
    (("FR", "75008", "12 rue A"), ("DE", "75008", "12 rue A")),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_spellings_of_one_door_have_one_key(
    a: tuple[str, str, str], b: tuple[str, str, str]
) -> None:
    assert key(*a) is not None
    assert key(*a) == key(*b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_other_doors_have_other_keys(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    assert key(*a) != key(*b)


def test_the_parts_of_a_key() -> None:
    assert key("GB", "EH2 2PR", "Flat 2, 10 Rose St") == "address:GB EH22PR 10/2 rosestreet"
    assert key("", "EH2 2PR", "10 Rose St") == "address:GB EH22PR 10/- rosestreet"  # default
    assert key("GB", "", "10 Rose St") is None
    assert key("GB", "EH2 2PR", " , ") is None
    assert key(None, None, None) is None


def test_written_form() -> None:
    assert parse_written("GB; EH2 2PR; 10 Rose St") == ("GB", "EH2 2PR", "10 Rose St")
    assert parse_written("10 Rose St, EH2 2PR") is None
    assert written_key("GB;  EH2 2PR ; 10  Rose St") == written_key("gb; eh2 2pr; 10 rose st")


BOOK = """\
version: 1
tags:
  - {name: CLAIMED-NON-RECEIPT, colour: orange, label: CLAIMED, priority: 90}
  - {name: VIP, colour: gold, label: VIP, priority: 50}
customers:
  - address: "GB; EH2 2PR; Flat 2, 10 Rose St"
    tags: [CLAIMED-NON-RECEIPT]
    note: Three claims in 2026.
  - address: "US; 02108; 100 Main St Apt 4B"
    tags: [CLAIMED-NON-RECEIPT]
"""
SHOPIFY = """\
Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Shipping Country
#2001,new.me@example.com,paid,GBP,20.00,2026-11-20 10:00:00 +0000,1,Mug,15.00,Mo Brown,"10 Rose Street, Flat 2",Edinburgh,eh2 2pr,GB
#2001,new.me@example.com,,,,2026-11-20 10:00:00 +0000,1,Cup,5.00,,,,,
#2002,next.door@example.com,paid,GBP,30.00,2026-11-20 11:00:00 +0000,1,Mug,30.00,Al Gray,"Flat 3, 10 Rose Street",Edinburgh,EH2 2PR,GB
#2003,far@example.com,paid,GBP,30.00,2026-11-20 12:00:00 +0000,1,Mug,30.00,Di Far,"10 Rose Street, Flat 2",Leeds,LS1 4AP,GB
"""
AMAZON = (
    "order-id\torder-item-id\tpurchase-date\tbuyer-email\tbuyer-name\tsku\tquantity-purchased\t"
    "currency\titem-price\tship-address-1\tship-city\tship-postal-code\tship-country\n"
    "111-0000001-0000001\t1\t2026-11-20T10:00:00+00:00\tzz1@marketplace.amazon.com\tMo B\tS1\t1\t"
    "USD\t9.99\t100 Main Street, #4B\tBoston\t02108-1234\tUS\n"
    "111-0000002-0000002\t1\t2026-11-20T11:00:00+00:00\tzz2@marketplace.amazon.com\tAl G\tS1\t1\t"
    "USD\t9.99\t100 Main Street, #4C\tBoston\t02108\tUS\n"
)


def tagged_orders(out: Path, order_col: str, delimiter: str = ",") -> dict[str, str]:
    import csv

    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=delimiter))
    seen: dict[str, str] = {}
    for r in rows:
        seen.setdefault(r[order_col], r["Customer Tags"])
    return seen


def test_orders_shipped_to_a_held_door_are_tagged_whoever_buys(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(BOOK, encoding="utf-8")
    shop = tmp_path / "orders_export.csv"
    shop.write_text(SHOPIFY, encoding="utf-8")
    amazon = tmp_path / "amazon.txt"
    amazon.write_text(AMAZON, encoding="utf-8")
    out = tmp_path / "out"
    result = run("apply", shop, amazon, "-t", book, "-o", out, "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.stderr
    # #2001: the held door under a new email (both of its rows); #2002: the flat next
    # door; #2003: the same line in another postcode.
    assert tagged_orders(out / "orders_export.csv", "Name") == {
        "#2001": "CLAIMED-NON-RECEIPT",
        "#2002": "",
        "#2003": "",
    }
    assert tagged_orders(out / "amazon.txt", "order-id", "\t") == {
        "111-0000001-0000001": "CLAIMED-NON-RECEIPT",
        "111-0000002-0000002": "",
    }


def test_tag_and_untag_an_address(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(BOOK.split("customers:")[0] + "customers: []\n", encoding="utf-8")
    result = run("tag", "address:GB; EH2 2PR; Flat 2, 10 Rose St", "--tag", "VIP", "-t", book)
    assert result.exit_code == 0, result.stderr
    entry = load_tagbook(book).entries[0]
    assert (entry.kind, entry.identity, entry.tags) == (
        "address",
        "GB; EH2 2PR; Flat 2, 10 Rose St",
        ("VIP",),
    )
    again = run("tag", "address:gb;  eh2 2pr; flat 2, 10 rose st", "--tag", "VIP", "-t", book)
    assert "already has VIP" in again.stderr
    bad = run("tag", "address:10 Rose St", "--tag", "VIP", "-t", book)
    assert bad.exit_code == 2
    assert "is not a postal address (COUNTRY; POSTCODE; ADDRESS LINE)" in bad.stderr
    gone = run("untag", "address:GB; EH2 2PR; Flat 2, 10 Rose St", "--tag", "VIP", "-t", book)
    assert gone.exit_code == 0, gone.stderr
    assert load_tagbook(book).entries == []


def test_a_malformed_address_entry_is_refused_with_its_line() -> None:
    text = BOOK.replace('"GB; EH2 2PR; Flat 2, 10 Rose St"', '"10 Rose St"')
    with pytest.raises(TagBookError) as caught:
        parse_tagbook(text, file="tagbook.yaml")
    assert caught.value.line == 6
    assert '"10 Rose St" is not a postal address' in caught.value.message


def test_explain_names_the_address_entry(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(BOOK, encoding="utf-8")
    shop = tmp_path / "orders_export.csv"
    shop.write_text(SHOPIFY, encoding="utf-8")
    result = run("explain", "#2001", shop, "-t", book, "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.stderr
    assert (
        "CLAIMED-NON-RECEIPT (line 6) through address GB; EH2 2PR; Flat 2, 10 Rose St: the "
        "order is shipped there" in result.stdout
    )
    other = run("explain", "#2002", shop, "-t", book, "--as-of", "2026-11-26")
    assert "through address" not in other.stdout
