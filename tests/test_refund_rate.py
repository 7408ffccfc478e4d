"""Refunds in the history and the refund conditions: ``refunds``, ``refunded_orders``,
``orders_placed``, ``refund_rate`` and ``refund_value_rate``, over the run's orders and
the workspace's history, on each storage backend.

The orders (as-of 2026-11-30; the 180-day window starts 2026-06-02). Recorded before,
from the Shopify export ``earlier.csv``:

- Ann: #990 on 2026-01-05, 30.00, refunded (outside the window); #1001 100.00 paid;
  #1002 50.00 ``refunded`` with no amount (its whole total); #1003 80.00
  ``partially_refunded``, 20.00 given back.
- Bob: #1101 60.00 paid; #1102 40.00 ``voided`` (cancelled: no sale, no refund).

In this run (``today.csv``): Ann #1004 70.00 paid; Bob #1103 25.00 refunded 25.00.

The figures, worked out by hand below with Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from tests.conftest import csv_text, read_csv

pytestmark = pytest.mark.usefixtures("backend")

runner = CliRunner()
AS_OF = "2026-11-30"
HEADER = ["Name", "Email", "Financial Status", "Currency", "Total", "Refunded Amount",
          "Created at", "Lineitem name"]  # fmt: skip

EARLIER = [
    ["#990", "ann@example.com", "refunded", "GBP", "30.00", "30.00", "2026-01-05 10:00:00 +0000", "Mug"],
    ["#1001", "ann@example.com", "paid", "GBP", "100.00", "", "2026-08-01 10:00:00 +0000", "Mug"],
    ["#1002", "ann@example.com", "refunded", "GBP", "50.00", "", "2026-09-01 10:00:00 +0000", "Mug"],
    ["#1003", "ann@example.com", "partially_refunded", "GBP", "80.00", "20.00",
     "2026-10-01 10:00:00 +0000", "Mug"],
    ["#1101", "bob@example.com", "paid", "GBP", "60.00", "", "2026-09-10 10:00:00 +0000", "Mug"],
    ["#1102", "bob@example.com", "voided", "GBP", "40.00", "", "2026-10-10 10:00:00 +0000", "Mug"],
]  # fmt: skip
TODAY = [
    ["#1004", "ann@example.com", "paid", "GBP", "70.00", "", "2026-11-29 10:00:00 +0000", "Mug"],
    ["#1103", "bob@example.com", "refunded", "GBP", "25.00", "25.00", "2026-11-29 11:00:00 +0000", "Mug"],
]  # fmt: skip

TAGBOOK = """\
version: 1
tags:
  - name: SERIAL-REFUNDER
    label: "SERIAL REFUNDER — ship tracked"
  - name: VALUE-25
  - name: THREE-REFUNDS
  - name: SPEND-60
  - name: ONE-ORDER
  - name: ALL-BACK
  - name: FOUR-PLACED
"""

RULES = """\
version: 1
rules:
  - name: serial refunder
    when:
      all:
        - {customer: refund_rate, over: 40, within_days: 180}
        - {customer: orders_placed, at_least: 3, within_days: 180}
    tag: SERIAL-REFUNDER
  - name: a quarter of the money back
    when: {customer: refund_value_rate, over: 25, within_days: 180}
    tag: VALUE-25
  - name: three refunds ever
    when: {customer: refunded_orders, at_least: 3}
    tag: THREE-REFUNDS
  - name: spend of exactly 60
    when:
      all:
        - {customer: spend, at_least: 59.99}
        - {customer: spend, at_most: 60.01}
    tag: SPEND-60
  - name: one order
    when: {customer: orders, equals: 1}
    tag: ONE-ORDER
  - name: everything given back
    when: {customer: refund_rate, at_least: 100, within_days: 180}
    tag: ALL-BACK
  - name: four orders placed
    when: {customer: orders_placed, equals: 4, within_days: 180}
    tag: FOUR-PLACED
"""


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    made = run("init", tmp_path / "shop")
    assert made.exit_code == 0, made.stderr
    shop = tmp_path / "shop"
    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(RULES, encoding="utf-8")
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(csv_text(HEADER, EARLIER), encoding="utf-8")
    got = run("ingest", earlier, "-w", shop)
    assert got.exit_code == 0, got.stderr
    return shop


def _apply(shop: Path, tmp_path: Path, rows: list[list[str]] = TODAY) -> dict[str, set[str]]:
    today = tmp_path / "today.csv"
    today.write_text(csv_text(HEADER, rows), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("apply", today, "-o", out, "--as-of", AS_OF, "-w", shop, "--no-record")
    assert result.exit_code == 0, result.stderr
    return {r["Email"]: {t for t in r["Customer Tags"].split("; ") if t} for r in read_csv(out)}


def test_refund_rates_over_the_run_and_the_history(shop: Path, tmp_path: Path) -> None:
    # Ann in the window: placed #1001, #1002, #1003, #1004; money back on #1002, #1003.
    ann_rate = Decimal(2) / Decimal(4) * 100  # 50%: over 40, across 4 orders
    ann_value = (
        (Decimal("50.00") + Decimal("20.00"))
        / (Decimal("100.00") + Decimal("50.00") + Decimal("80.00") + Decimal("70.00"))
        * 100
    )  # 23.33%
    # Bob in the window: placed #1101, #1103 (#1102 voided: no order); money back on #1103.
    bob_rate = Decimal(1) / Decimal(2) * 100
    bob_value = Decimal("25.00") / (Decimal("60.00") + Decimal("25.00")) * 100  # 29.41%
    # All time, orders with money back: Ann #990, #1002, #1003; Bob #1103.
    ann_refunded, bob_refunded = 3, 1
    # Spend net of refunds: Bob 60.00 (#1102 voided and #1103 refunded add nothing);
    # orders: Bob's one (#1101), Ann's four counted (#1001, #1003, #1004; #990 and #1002
    # fully refunded are none: three).
    ann_spend = Decimal("100.00") + Decimal("60.00") + Decimal("70.00")
    bob_spend = Decimal("60.00")
    assert ann_rate > 40 and bob_rate > 40 and ann_value < 25 < bob_value

    tags = _apply(shop, tmp_path)
    assert ("SERIAL-REFUNDER" in tags["ann@example.com"]) is (ann_rate > 40)  # 4 >= 3 orders
    assert "SERIAL-REFUNDER" not in tags["bob@example.com"]  # 2 orders placed: under 3
    assert ("VALUE-25" in tags["ann@example.com"]) is (ann_value > 25)
    assert ("VALUE-25" in tags["bob@example.com"]) is (bob_value > 25)
    assert ("THREE-REFUNDS" in tags["ann@example.com"]) is (ann_refunded >= 3)
    assert ("THREE-REFUNDS" in tags["bob@example.com"]) is (bob_refunded >= 3)
    assert ("SPEND-60" in tags["bob@example.com"]) is (abs(bob_spend - 60) < Decimal("0.01"))
    assert ("SPEND-60" in tags["ann@example.com"]) is (abs(ann_spend - 60) < Decimal("0.01"))
    assert "ONE-ORDER" in tags["bob@example.com"]  # #1101 only
    assert "ONE-ORDER" not in tags["ann@example.com"]
    assert "FOUR-PLACED" in tags["ann@example.com"]
    assert not tags["ann@example.com"] & {"ALL-BACK"} and not tags["bob@example.com"] & {"ALL-BACK"}


def test_an_order_in_the_run_and_the_history_counts_once(shop: Path, tmp_path: Path) -> None:
    # The run holds #1003 again as recorded, and #1101 now refunded in full (the history
    # has it paid): the run's copy counts, once.
    again = [r for r in EARLIER if r[0] == "#1003"]
    refunded = [["#1101", "bob@example.com", "refunded", "GBP", "60.00", "60.00",
                 "2026-09-10 10:00:00 +0000", "Mug"]]  # fmt: skip
    tags = _apply(shop, tmp_path, TODAY + again + refunded)
    # Ann: still #1001, #1002, #1003, #1004 placed (4, not 5), two refunded.
    assert "FOUR-PLACED" in tags["ann@example.com"]
    assert "SERIAL-REFUNDER" in tags["ann@example.com"]
    # Bob: #1101 and #1103 placed, both given back in full: 2 of 2, 100%.
    bob_rate = Decimal(2) / Decimal(2) * 100
    assert ("ALL-BACK" in tags["bob@example.com"]) is (bob_rate >= 100)
    assert "ONE-ORDER" not in tags["bob@example.com"]  # no order kept


def test_cancelled_orders_are_recorded_as_such(shop: Path) -> None:
    from ordertags.customers.workspace import find_workspace, workspace_history

    with workspace_history(find_workspace(shop)) as history:
        assert history is not None
        rows = history.fetch(
            "SELECT order_id, cancelled, refund, total FROM orders ORDER BY order_id"
        )
    by_id = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    # #1102 voided: cancelled, its whole total given back (no sale); #1002 refunded with
    # no amount: its whole total; #1003 its 20.00.
    assert by_id["1102"] == (1, 400_000, 400_000)
    assert by_id["1002"] == (0, 500_000, 500_000)
    assert by_id["1003"] == (0, 200_000, 800_000)
    assert by_id["1101"] == (0, 0, 600_000)


def test_woocommerce_cancelled_and_failed_count_nowhere(tmp_path: Path) -> None:
    header = ["order_id", "billing_email", "status", "order_total", "order_date"]
    rows = [
        ["1", "cara@example.com", "completed", "40.00", "2026-11-01"],
        ["2", "cara@example.com", "cancelled", "30.00", "2026-11-02"],
        ["3", "cara@example.com", "failed", "20.00", "2026-11-03"],
        ["4", "cara@example.com", "refunded", "10.00", "2026-11-04"],
    ]
    orders = tmp_path / "woo.csv"
    orders.write_text(csv_text(header, rows), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    # Placed: #1 and #4 (cancelled and failed are no orders); money back on #4: 50%.
    rate = Decimal(1) / Decimal(2) * 100
    value_rate = Decimal("10.00") / (Decimal("40.00") + Decimal("10.00")) * 100  # 20%
    rules.write_text(
        "version: 1\nrules:\n"
        "  - name: half\n    when: {customer: refund_rate, equals: 50}\n    tag: HALF\n"
        "  - name: fifth\n    when: {customer: refund_value_rate, equals: 20}\n"
        "    tag: FIFTH\n"
        "  - name: placed\n    when: {customer: orders_placed, equals: 2}\n    tag: TWO\n"
        "  - name: spend\n    when: {customer: spend, equals: 40}\n    tag: FORTY\n",
        encoding="utf-8",
    )
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "version: 1\ntags:\n  - name: HALF\n  - name: FIFTH\n  - name: TWO\n  - name: FORTY\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = run("apply", orders, "-o", out, "-r", rules, "-t", book, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert rate == 50 and value_rate == 20
    got = {t for t in read_csv(out)[0]["Customer Tags"].split("; ") if t}
    assert got == {"HALF", "FIFTH", "TWO", "FORTY"}  # spend: #1's 40.00 only
