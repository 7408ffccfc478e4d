"""``ordertags tag --from FILE|-``: a list of customers tagged in one go, with the same
identity rules as ``tag`` (an email, a phone number, ``CHANNEL:ID`` or an order number of
the workspace's history or of ``--in EXPORT``), one line of counts, and the lines that
named nobody on stderr (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.customers.importing import read_identities
from ordertags.tagbook import load_tagbook

runner = CliRunner()

BOOK = """\
version: 1
tags:
  - {name: CLAIMED-NON-RECEIPT, colour: orange, label: CLAIMED, priority: 90}
  - {name: VIP, colour: gold, label: VIP, priority: 50}
customers:
  - email: known@example.com
    tags: [CLAIMED-NON-RECEIPT]
"""
ORDERS = """\
Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Billing Name
#1042,Buyer.One@Example.com,paid,GBP,20.00,2026-11-20 10:00:00 +0000,1,Mug,20.00,Bea One
#1043,two@example.com,paid,GBP,30.00,2026-11-21 10:00:00 +0000,1,Mug,30.00,Tim Two
"""


def run(*args: str | Path, input: str | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    return path


def held(book: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in load_tagbook(book).entries:
        out.setdefault(e.key, set()).update(e.tags)
    return out


def test_from_stdin_counts_and_not_found(book: Path, tmp_path: Path) -> None:
    orders = tmp_path / "orders_export.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    pasted = (
        "# claimers, March\n"
        "new@example.com,\n"  # pasted from a spreadsheet
        '"known@example.com"\n'  # already tagged
        "\n"
        "+44 7400 123456\n"
        "ebay:Quinn_Belfast\n"
        "#1042\n"  # an order number of the export
        "#9999\n"  # no such order
        "not-a-customer\n"
        "NEW@example.com\n"  # the same customer again: counted once
    )
    result = run(
        "tag",
        "--from",
        "-",
        "--tag",
        "claimed-non-receipt",
        "--in",
        orders,
        "-t",
        book,
        input=pasted,
    )
    assert result.exit_code == 0, result.stderr
    # Tagged: new@, the phone, the eBay buyer, the customer of #1042 = 4; known@ had it.
    assert result.stderr.splitlines()[-1] == (
        "tagged 4 customers with claimed-non-receipt; 1 already tagged; 2 not found"
    )
    assert "not found: standard input, line 8: #9999" in result.stderr
    assert "not found: standard input, line 9: not-a-customer" in result.stderr
    assert result.stdout == ""
    assert held(book) == {
        "known@example.com": {"CLAIMED-NON-RECEIPT"},
        "new@example.com": {"CLAIMED-NON-RECEIPT"},
        "+447400123456": {"CLAIMED-NON-RECEIPT"},
        "ebay:quinn_belfast": {"CLAIMED-NON-RECEIPT"},
        "buyer.one@example.com": {"CLAIMED-NON-RECEIPT"},
    }
    again = run("tag", "--from", "-", "--tag", "CLAIMED-NON-RECEIPT", "-t", book, input=pasted)
    assert "tagged 0 customers" in again.stderr


def test_from_a_csv_column(book: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "disputes.csv"
    sheet.write_text(
        "Case;Buyer email;Amount\nPP-1;a@example.com;20.00\nPP-2;;5.00\nPP-3;b@example.com;7.00\n",
        encoding="utf-8",
    )
    result = run("tag", "--from", sheet, "--column", "buyer email", "--tag", "VIP", "-t", book)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == "tagged 2 customers with VIP; 0 already tagged; 0 not found"
    assert read_identities(sheet.read_text(encoding="utf-8"), "Buyer email") == [
        (2, "a@example.com"),
        (4, "b@example.com"),  # the line of the file (PP-2 has no email)
    ]
    assert held(book)["a@example.com"] == {"VIP"}
    missing = run("tag", "--from", sheet, "--column", "Email", "--tag", "VIP", "-t", book)
    assert missing.exit_code == 1
    assert 'has no column "Email"' in missing.stderr


def test_from_refuses_a_customer_too_and_an_unknown_tag(book: Path, tmp_path: Path) -> None:
    both = run("tag", "x@example.com", "--from", "-", "--tag", "VIP", "-t", book, input="")
    assert both.exit_code == 2
    unknown = run("tag", "--from", "-", "--tag", "GOLDD", "-t", book, input="a@example.com\n")
    assert unknown.exit_code == 2
    assert held(book) == {"known@example.com": {"CLAIMED-NON-RECEIPT"}}


def test_read_identities_lines() -> None:
    assert read_identities("a@b.co;\n# note\n'#77'\n  ebay:x  \n") == [
        (1, "a@b.co"),
        (3, "#77"),
        (4, "ebay:x"),
    ]
