"""A list is chosen by the orders that carry its tag, but shows each customer's figures
over all their orders: the orders without the tag, in other exports, in other
currencies, under their other (linked) addresses, and in a workspace's history.
(``apply --list`` works on the chosen customers' rows alone: these catch a figure taken
from the tagged rows only.)"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from ordertags.cli import app

from .conftest import AS_OF, csv_text, read_rows

runner = CliRunner()

BOOK = """\
version: 1
tags:
  - name: VIP
    colour: gold
    priority: 50
  - name: HIGH
    colour: purple
    priority: 5
    scope: order
links:
  - same: [ann@example.org, ann.work@example.net]
"""
RULES = """\
version: 1
rules:
  - name: High value
    when: {field: total, over: 150}
    tag: HIGH
"""
HEADER = ["Order Id", "Customer Name", "Email", "Total", "Currency", "Received Date"]
# The web shop's export: Jane's and Ann's big orders (HIGH), Jane's small one, Bob's.
SHOP = [
    ["A1", "Jane Doe", "jane@example.com", "200.00", "GBP", "2026-03-01 10:00"],
    ["A2", "Jane Doe", "jane@example.com", "40.00", "GBP", "2026-09-01 10:00"],
    ["A3", "Ann Smith", "ann@example.org", "500.00", "GBP", "2026-04-01 10:00"],
    ["A4", "Bob Brown", "bob@example.org", "10.00", "GBP", "2026-05-01 10:00"],
]
# The marketplace's export, in euros: Jane's latest order (another spelling of her
# address, another name) and Ann's, under her work address (linked in the tag book).
MARKET = [
    ["B1", "Smith, Jane", " JANE@example.com ", "30.00", "EUR", "2026-10-01 10:00"],
    ["B2", "Ann Smith-Jones", "ann.work@example.net", "20.00", "gbp", "2026-11-01 10:00"],
]
LIST_HEADER = ["Email Address", "First Name", "Last Name", "Orders", "Spend", "Tags"]


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def _job(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "book.yaml").write_text(BOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "shop.csv").write_text(csv_text(HEADER, SHOP), encoding="utf-8")
    (tmp_path / "market.csv").write_text(csv_text(HEADER, MARKET), encoding="utf-8")
    return [
        *(tmp_path / "shop.csv", tmp_path / "market.csv"),
        *("-t", tmp_path / "book.yaml", "-r", tmp_path / "rules.yaml", "--as-of", AS_OF),
    ]


def test_a_list_by_an_order_tag_shows_all_of_each_customers_orders(tmp_path: Path) -> None:
    job = _job(tmp_path)
    listed = tmp_path / "high.csv"
    result = run("apply", *job, "-o", tmp_path / "out", "--list", f"{listed}:HIGH")
    assert result.exit_code == 0, result.stderr
    # By hand. Ann (one person by the link): A3 500.00 + B2 20.00 (gbp is GBP) = 520.00
    # GBP over 2 orders, under the address of her latest order (B2, untagged). Jane:
    # A1 200.00 + A2 40.00 = 240.00 GBP and B1 30.00 EUR, 3 orders, her own currencies
    # largest first; address and name from B1 (latest, untagged, trimmed). Highest
    # spend first: Ann 520 > Jane 240. Bob carries no HIGH order: not listed.
    assert read_rows(listed) == [
        LIST_HEADER,
        ["ann.work@example.net", "Ann", "Smith-Jones", "2", "520.00", "HIGH"],
        ["JANE@example.com", "Jane", "Smith", "3", "240.00 GBP; 30.00 EUR", "HIGH"],
    ]
    # And the same list as apply then export writes from the whole run.
    again = run("export", *job, "--tag", "HIGH", "-o", tmp_path / "exported.csv")
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "exported.csv").read_bytes() == listed.read_bytes()


def test_a_customer_tag_lists_every_customer_it_reaches(tmp_path: Path) -> None:
    job = _job(tmp_path)
    book = tmp_path / "book.yaml"
    # VIP by hand on Ann's work address: the link gives her orders under both.
    book.write_text(
        BOOK + "customers:\n  - email: Ann.Work@example.net\n    tags: [VIP]\n",
        encoding="utf-8",
    )
    listed = tmp_path / "vip.csv"
    result = run("apply", *job, "-o", tmp_path / "out", "--list", f"{listed}:VIP")
    assert result.exit_code == 0, result.stderr
    # Ann's order A3 carries HIGH (500.00 > 150): the Tags column shows her order tags.
    assert read_rows(listed) == [
        LIST_HEADER,
        ["ann.work@example.net", "Ann", "Smith-Jones", "2", "520.00", "VIP,HIGH"],
    ]


def test_in_a_workspace_the_figures_are_all_time(tmp_path: Path) -> None:
    shop = tmp_path / "ws"
    assert run("init", shop).exit_code == 0
    (shop / "tagbook.yaml").write_text(BOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(RULES, encoding="utf-8")
    past = tmp_path / "past.csv"
    past.write_text(
        csv_text(
            HEADER,
            [
                ["P1", "Jane Doe", "jane@example.com", "100.00", "GBP", "2025-12-01 10:00"],
                ["P2", "Jane Doe", "jane@example.com", "50.00", "GBP", "2026-01-01 10:00"],
                ["P3", "Rob Marsh", "rob@example.org", "900.00", "GBP", "2026-02-01 10:00"],
            ],
        ),
        encoding="utf-8",
    )
    assert run("ingest", past, "-w", shop).exit_code == 0
    today = tmp_path / "today.csv"
    today.write_text(
        csv_text(
            HEADER,
            [
                ["T1", "Jane Doe", "jane@example.com", "200.00", "GBP", "2026-11-25 09:00"],
                ["T2", "Bob Brown", "bob@example.org", "10.00", "GBP", "2026-11-25 10:00"],
            ],
        ),
        encoding="utf-8",
    )
    listed = tmp_path / "high.csv"
    result = run(
        "apply", today, "-w", shop, "-o", tmp_path / "out.csv", "--as-of", AS_OF,
        "--list", f"{listed}:HIGH",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # Jane's T1 (200.00) is today's one HIGH order; her figures count the history's
    # P1 and P2 too: 100.00 + 50.00 + 200.00 = 350.00 over 3 orders. Rob's big order is
    # in the history only (not in this run): he carries no HIGH order of the run.
    assert read_rows(listed) == [
        LIST_HEADER,
        ["jane@example.com", "Jane", "Doe", "3", "350.00", "HIGH"],
    ]
