"""A second month of the surf shop (issue 17): money and dates as a seller counts them.

- Refunds: a refunded order does not count in full towards spend: spend is net of the
  refunds the exports state (Shopify ``Refunded Amount``, a status ``refunded``), a fully
  refunded order is no order, and a refund re-export of an order already in the history
  updates it (counted once, net).
- Cron: the run's own orders count in customer windows whatever their date (today's, as
  ``--as-of`` defaults to today), and the orders an earlier run of the day recorded too.
- Currencies: ``customers`` and ``inspect`` never add two currencies into one number.

Every expected figure is worked out here by hand or with ``decimal``.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags import annotate, load_rules, load_tagbook
from ordertags.cli import app

from .conftest import csv_text, read_csv
from .month_shop import make_month, write_exports

runner = CliRunner()

TAGBOOK = """\
version: 1
tags:
  - {name: BIG, colour: gold, label: BIG, priority: 50}
  - {name: REGULAR, colour: teal, label: REGULAR, priority: 30}
  - {name: THIRD, colour: purple, label: third order this month, priority: 20}
customers: []
"""
RULES = """\
version: 1
rules:
  - {name: Spent over 40, when: {customer: spend, over: 40}, tag: BIG}
  - {name: Two orders, when: {customer: orders, at_least: 2}, tag: REGULAR}
"""

SHOPIFY = [
    "Name", "Email", "Financial Status", "Currency", "Subtotal", "Total", "Refunded Amount",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Billing Name",
]  # fmt: skip


#: One Shopify order: (number, email, financial status, total, refunded, created, line prices).
Order = tuple[str, str, str, str, str, str, list[str]]


def shopify_rows(orders: list[Order]) -> list[list[str]]:
    """Shopify's shape: one row per line item, the order's fields on its first row only.
    Each order: (number, email, financial status, total, refunded, created, line prices)."""
    rows = []
    for number, email, status, total, refunded, created, prices in orders:
        for j, price in enumerate(prices):
            first = j == 0
            rows.append(
                [
                    number,
                    email,
                    status if first else "",
                    "GBP" if first else "",
                    total if first else "",
                    total if first else "",
                    refunded if first else "",
                    created,
                    "1",
                    f"Wetsuit part {j}",
                    price,
                    email.split("@")[0].title() if first else "",
                ]
            )
    return rows


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def tags_by_order(out: Path, column: str = "Name") -> dict[str, str]:
    found: dict[str, str] = {}
    for row in read_csv(out):
        found.setdefault(row[column], row["Customer Tags"])
    return found


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return {"book": tmp_path / "tagbook.yaml", "rules": tmp_path / "rules.yaml"}


def workspace(tmp_path: Path, files: dict[str, Path]) -> Path:
    shop = tmp_path / "shop"
    assert run("init", shop, "--default-region", "GB").exit_code == 0
    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(files["rules"].read_text(encoding="utf-8"), encoding="utf-8")
    return shop


# --- 1. refunds ------------------------------------------------------------------------

# (number, email, financial status, total, refunded, created, line prices)
NOVEMBER = [
    ("#1001", "ann@example.com", "refunded", "45.00", "45.00", "2026-11-02 10:00:00 +0000",
     ["30.00", "15.00"]),
    ("#1002", "ann@example.com", "paid", "5.00", "", "2026-11-20 10:00:00 +0000", ["5.00"]),
    ("#1003", "bob@example.com", "paid", "45.00", "", "2026-11-03 10:00:00 +0000", ["45.00"]),
    ("#1004", "cat@example.com", "partially_refunded", "50.00", "20.00",
     "2026-11-04 10:00:00 +0000", ["25.00", "25.00"]),
    ("#1005", "dan@example.com", "paid", "10.00", "", "2026-11-05 10:00:00 +0000", ["10.00"]),
    ("#1006", "dan@example.com", "paid", "10.00", "", "2026-11-06 10:00:00 +0000", ["10.00"]),
]  # fmt: skip


def by_hand(orders: list[Order]) -> dict[str, tuple[int, Decimal]]:
    """Per email: (orders that are purchases, spend net of refunds), with ``decimal``."""
    out: dict[str, tuple[int, Decimal]] = {}
    for _, email, _, total, refunded, _, _ in orders:
        kept = Decimal(total) - Decimal(refunded or "0")
        n, spend = out.get(email, (0, Decimal(0)))
        out[email] = (n + (kept > 0), spend + kept)
    return out


def expected_tags(figures: dict[str, tuple[int, Decimal]]) -> dict[str, str]:
    tags = {}
    for email, (n, spend) in figures.items():
        got = (["BIG"] if spend > 40 else []) + (["REGULAR"] if n >= 2 else [])
        tags[email] = "; ".join(got)
    return tags


@pytest.mark.parametrize("streamed", [False, True])
def test_spend_is_net_of_refunds_and_a_refunded_order_is_no_order(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:  # as a big export is read: in two passes, in small batches
        monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
        monkeypatch.setenv("ORDERTAGS_BATCH_BYTES", "256")
    figures = by_hand(NOVEMBER)
    # Ann spent 45.00 and got 45.00 back, then 5.00: 5.00 in one order. Cat kept 30.00.
    assert figures["ann@example.com"] == (1, Decimal("5.00"))
    assert figures["cat@example.com"] == (1, Decimal("30.00"))
    export = tmp_path / "orders_export.csv"
    export.write_text(csv_text(SHOPIFY, shopify_rows(NOVEMBER)), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run(
        "apply", export, "-t", files["book"], "-r", files["rules"], "-o", out,
        "--as-of", "2026-11-28", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    email_of = {number: email for number, email, *_ in NOVEMBER}
    want = expected_tags(figures)
    assert tags_by_order(out) == {n: want[email_of[n]] for n in email_of}
    assert want["ann@example.com"] == "" and want["bob@example.com"] == "BIG"


WOO = ["order_id", "order_number", "order_date", "status", "order_total", "order_currency"]
WOO += ["customer_email", "billing_email", "billing_first_name", "billing_last_name"]


def test_a_woocommerce_order_whose_status_says_refunded_gave_its_total_back(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    """WebToffee's export has no refund amount column: ``refunded`` (or ``wc-refunded``)
    says the whole total went back."""
    rows = [
        ["70001", "5001", "2026-11-02 10:00:00", "completed", "30.00", "EUR", "eve@example.com",
         "eve@example.com", "Eve", "Surf"],
        ["70002", "5002", "2026-11-09 10:00:00", "refunded", "30.00", "EUR", "",
         "eve@example.com", "Eve", "Surf"],
        ["70003", "5003", "2026-11-10 10:00:00", "wc-refunded", "12.00", "EUR", "eve@example.com",
         "eve@example.com", "Eve", "Surf"],
    ]  # fmt: skip
    export = tmp_path / "woocommerce_orders.csv"
    export.write_text(csv_text(WOO, rows), encoding="utf-8")
    result = annotate(
        [export],
        tagbook=load_tagbook(files["book"]),
        rules=load_rules(files["rules"]),
        as_of=dt.date(2026, 11, 28),
    )
    # By hand: only 5001 was kept, 30.00 in one order: neither over 40 nor two orders
    # (72.00 in three before).
    kept = [Decimal(r[4]) for r in rows if r[3] not in ("refunded", "wc-refunded")]
    assert (len(kept), sum(kept)) == (1, Decimal("30.00"))
    assert result.tags.to_pylist() == ["", "", ""]


def test_a_refund_re_export_updates_the_order_in_the_history(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    """The seller ingests November, refunds Ann's #1001, and Shopify's next export shows
    #1001 again with its refund: the same order, counted once, net."""
    shop = workspace(tmp_path, files)
    before = [o for o in NOVEMBER if o[0] != "#1002"]
    paid = [("#1001", "ann@example.com", "paid", "45.00", "", "2026-11-02 10:00:00 +0000",
             ["30.00", "15.00"])] + before[1:]  # fmt: skip
    first = tmp_path / "november.csv"
    first.write_text(csv_text(SHOPIFY, shopify_rows(paid)), encoding="utf-8")
    assert run("ingest", first, "-w", shop).exit_code == 0
    today = tmp_path / "open_orders.csv"
    today.write_text(csv_text(SHOPIFY, shopify_rows([NOVEMBER[1]])), encoding="utf-8")
    out = tmp_path / "out.csv"

    def apply(*extra: object) -> str:
        result = run("apply", today, "-w", shop, "-o", out, "--as-of", "2026-11-28", "-q", *extra)
        assert result.exit_code == 0, result.stderr
        return tags_by_order(out)["#1002"]

    # Before the refund, by hand: 45.00 + 5.00 = 50.00 in two orders.
    assert apply("--no-record") == "BIG; REGULAR"
    # The run holds the refunded copy, the history the paid one: the run's counts.
    both = tmp_path / "refund_and_today.csv"
    both.write_text(csv_text(SHOPIFY, shopify_rows(NOVEMBER[:2])), encoding="utf-8")
    result = run("apply", both, "-w", shop, "-o", out, "--as-of", "2026-11-28", "-q", "--no-record")
    assert result.exit_code == 0, result.stderr
    assert tags_by_order(out) == {"#1001": "", "#1002": ""}  # 5.00 in one order
    # The refund re-export, ingested: the recorded order is updated, not added.
    refund = tmp_path / "refund.csv"
    refund.write_text(csv_text(SHOPIFY, shopify_rows(NOVEMBER[:1])), encoding="utf-8")
    ingested = run("ingest", refund, "-w", shop)
    assert ingested.stderr == "1 order from 1 export: 0 new, 1 updated, 0 unchanged\n"
    assert apply() == ""  # recorded now too: 5.00 in one order
    listed = run("customers", "-w", shop, "--search", "ann@")
    assert listed.exit_code == 0, listed.stderr
    row = re.split(r"\s{2,}", listed.stdout.splitlines()[2].strip())
    n, spend = by_hand(NOVEMBER[:2])["ann@example.com"]
    assert row[:3] == ["ann@example.com", str(n), f"{spend:,.2f} GBP"]
    assert row[5] == "1"  # one order with a refund
    # What the seller would see in the history file itself: two orders of Ann, one refunded.
    conn = sqlite3.connect(shop / "history.sqlite")
    held = conn.execute(
        "SELECT order_id, total, refund FROM orders WHERE email_text = 'ann@example.com' "
        "ORDER BY order_id"
    ).fetchall()
    conn.close()
    assert held == [("1001", 450_000, 450_000), ("1002", 50_000, 0)]


def test_a_version_4_history_is_migrated_to_net_spend(tmp_path: Path) -> None:
    from ordertags.customers.history import APPLICATION_ID, MIGRATIONS, open_history

    path = tmp_path / "history.sqlite"
    conn = sqlite3.connect(path)  # a history as version 4 wrote it: spend the sum of totals
    for version, script in MIGRATIONS:
        if version <= 4:
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
    conn.execute(
        "INSERT INTO orders (channel, order_id, at, total, refund, customer) VALUES "
        "('shopify', '1001', 0, 450000, 450000, 1), ('shopify', '1002', 0, 500000, 200000, 1)"
    )
    conn.execute(
        "INSERT INTO customers (id, key, orders, spend, refunds, refunded) "
        "VALUES (1, 'ann@example.com', 2, 950000, 2, 650000)"
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with open_history(path) as history:
        (row,) = history.list_customers()
    # By hand: 45.00 - 45.00 (no purchase) and 50.00 - 20.00 = 30.00 in one order.
    assert (row.orders, row.spend, row.refunds, row.refunded) == (1, 300_000, 2, 650_000)


# --- 2. cron: the run's own orders count -----------------------------------------------------


def test_a_cron_run_counts_todays_orders_in_customer_windows(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    """No --as-of: today. Kim's third order of the month is today's; one of them is dated
    tomorrow by the clock (23:30 at -0400 is 03:30 UTC the next day). An order 40 days
    old is outside a 30-day window, whatever the run."""
    files["rules"].write_text(
        "version: 1\nrules:\n"
        "  - {name: Third this month, when: {customer: orders, at_least: 3, within_days: 30}, "
        "tag: THIRD}\n"
        "  - {name: Spent this month, when: {customer: spend, over: 40, within_days: 30}, "
        "tag: BIG}\n",
        encoding="utf-8",
    )
    today = dt.date.today()
    old = today - dt.timedelta(days=40)
    orders = [
        ("#2001", "kim@example.com", "paid", "15.00", "", f"{today} 08:00:00 +0000", ["15.00"]),
        ("#2002", "kim@example.com", "paid", "15.00", "", f"{today} 09:30:00 +0000", ["15.00"]),
        ("#2003", "kim@example.com", "paid", "15.00", "", f"{today} 23:30:00 -0400", ["15.00"]),
        ("#2004", "lou@example.com", "paid", "30.00", "", f"{old} 10:00:00 +0000", ["30.00"]),
        ("#2005", "lou@example.com", "paid", "30.00", "", f"{today} 10:00:00 +0000", ["30.00"]),
        ("#2006", "lou@example.com", "paid", "5.00", "", f"{today} 11:00:00 +0000", ["5.00"]),
    ]
    # By hand: Kim 3 orders, 45.00 in the window; Lou 2 orders, 35.00 (the old one is out).
    export = tmp_path / "open_orders.csv"
    export.write_text(csv_text(SHOPIFY, shopify_rows(orders)), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("apply", export, "-t", files["book"], "-r", files["rules"], "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    assert tags_by_order(out) == {
        "#2001": "BIG; THIRD",
        "#2002": "BIG; THIRD",
        "#2003": "BIG; THIRD",
        "#2004": "",
        "#2005": "",
        "#2006": "",
    }


def test_a_cron_in_a_workspace_counts_the_orders_an_earlier_run_of_the_day_recorded(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    files["rules"].write_text(
        "version: 1\nrules:\n"
        "  - {name: Third this month, when: {customer: orders, at_least: 3, within_days: 30}, "
        "tag: THIRD}\n",
        encoding="utf-8",
    )
    shop = workspace(tmp_path, files)
    today = dt.date.today()
    out = tmp_path / "out.csv"
    morning = [
        ("#3001", "kim@example.com", "paid", "15.00", "", f"{today} 08:00:00 +0000", ["15.00"]),
        ("#3002", "kim@example.com", "paid", "15.00", "", f"{today} 09:00:00 +0000", ["15.00"]),
    ]
    afternoon = [
        ("#3003", "kim@example.com", "paid", "15.00", "", f"{today} 15:00:00 +0000", ["15.00"]),
    ]
    for batch, expected in ((morning, ""), (afternoon, "THIRD")):
        export = tmp_path / "open_orders.csv"
        export.write_text(csv_text(SHOPIFY, shopify_rows(batch)), encoding="utf-8")
        result = run("apply", export, "-w", shop, "-o", out, "-q")
        assert result.exit_code == 0, result.stderr
        assert set(tags_by_order(out).values()) == {expected}


# --- 3. currencies -------------------------------------------------------------------------

MIXED = [
    ("#4001", "ann@example.com", "GBP", "600.00"),
    ("#4002", "bob@example.com", "EUR", "1000.00"),
    ("#4003", "cat@example.com", "GBP", "525.00"),
    ("#4004", "cat@example.com", "EUR", "125.00"),
    ("#4005", "dee@example.com", "GBP", "50.00"),
]


def mixed_export(tmp_path: Path) -> Path:
    header = ["Name", "Email", "Financial Status", "Currency", "Total", "Created at"]
    header += ["Lineitem quantity", "Lineitem name", "Lineitem price"]
    rows = [
        [n, e, "paid", c, t, f"2026-11-0{i + 1} 10:00:00 +0000", "1", "Board", t]
        for i, (n, e, c, t) in enumerate(MIXED)
    ]
    path = tmp_path / "orders_export.csv"
    path.write_text(csv_text(header, rows), encoding="utf-8")
    return path


def spend_by_hand() -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {}
    for _, email, currency, total in MIXED:
        per = out.setdefault(email, {})
        per[currency] = per.get(currency, Decimal(0)) + Decimal(total)
    return out


def spend_text(per: dict[str, Decimal]) -> str:
    return " + ".join(f"{v:,.2f} {c}" for c, v in sorted(per.items(), key=lambda p: (-p[1], p[0])))


def listed(shop: Path, *extra: object) -> tuple[list[list[str]], str]:
    result = run("customers", "-w", shop, *extra)
    assert result.exit_code == 0, result.stderr
    return [re.split(r"\s{2,}", ln.strip()) for ln in result.stdout.splitlines()[2:]], result.stderr


def test_customers_show_spend_per_currency_and_rank_in_one(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    files["rules"].write_text("version: 1\nrules: []\n", encoding="utf-8")
    shop = workspace(tmp_path, files)
    assert run("ingest", mixed_export(tmp_path), "-w", shop).exit_code == 0
    spend = spend_by_hand()
    # Without rates: ranked by spend in GBP, the currency most orders are in (3 of 5);
    # EUR ranks as nothing. Ann 600, Cat 525, Dee 50, Bob 0 GBP.
    rows, summary = listed(shop)
    assert [(r[0], r[2]) for r in rows] == [
        (e, spend_text(spend[e]))
        for e in ("ann@example.com", "cat@example.com", "dee@example.com", "bob@example.com")
    ]
    assert rows[1][2] == "525.00 GBP + 125.00 EUR"  # never 650.00
    assert summary.startswith(
        "4 customers; ranked by spend in GBP, the currency most orders are in (EUR not "
        "counted: no rate under `rates:`); "
    )
    # With the rule file's currency and rates, the converted figure, labelled.
    (shop / "rules.yaml").write_text(
        "version: 1\ncurrency: GBP\nrates: {EUR: 0.86}\nrules: []\n", encoding="utf-8"
    )
    rate = Decimal("0.86")
    converted = {
        e: sum((v * (rate if c == "EUR" else 1) for c, v in per.items()), Decimal(0))
        for e, per in spend.items()
    }
    # By hand: Bob 860.00, Cat 525.00 + 107.50 = 632.50, Ann 600.00, Dee 50.00.
    order = sorted(converted, key=lambda e: -converted[e])
    result = run("customers", "-w", shop)
    assert result.stdout.splitlines()[0].split() == [
        "customer", "orders", "spend", "in", "GBP", "at", "rates", "first", "last", "refunds",
        "tags",
    ]  # fmt: skip
    rows, summary = listed(shop)
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (e, spend_text(spend[e]), f"{converted[e]:,.2f}") for e in order
    ]
    assert order == ["bob@example.com", "cat@example.com", "ann@example.com", "dee@example.com"]
    assert "ranked by spend in GBP, the rule file's `currency:` (EUR at 0.86)" in summary


def test_inspect_prints_the_totals_per_currency(tmp_path: Path) -> None:
    result = run("inspect", mixed_export(tmp_path))
    assert result.exit_code == 0, result.stderr
    per: dict[str, Decimal] = {}
    for _, _, currency, total in MIXED:
        per[currency] = per.get(currency, Decimal(0)) + Decimal(total)
    # By hand: GBP 600 + 525 + 50 = 1,175.00; EUR 1,000 + 125 = 1,125.00.
    assert per == {"GBP": Decimal("1175.00"), "EUR": Decimal("1125.00")}
    assert "totals:    1,175.00 GBP + 1,125.00 EUR over 5 orders" in result.stdout.splitlines()


def test_inspect_prints_the_refunds_it_reads(tmp_path: Path) -> None:
    export = tmp_path / "orders_export.csv"
    export.write_text(csv_text(SHOPIFY, shopify_rows(NOVEMBER)), encoding="utf-8")
    result = run("inspect", export)
    assert result.exit_code == 0, result.stderr
    refunded = [Decimal(r) for *_, r, _, _ in NOVEMBER if r]
    assert sum(refunded) == Decimal("65.00")
    assert (
        "refunds:   65.00 GBP on 2 orders (customer spend is net of them)"
        in result.stdout.splitlines()
    )


def test_a_month_of_every_channel_lists_spend_per_currency(tmp_path: Path) -> None:
    """The generated month (Shopify GBP, WooCommerce EUR, Amazon GBP and USD, eBay USD and
    EUR, Etsy GBP, and Linnworks holding them all again): each customer's spend per
    currency, as the generator's truth has it, and no sum of two currencies anywhere."""
    month = make_month(17)
    shop = tmp_path / "shop"
    assert run("init", shop, "--default-region", "GB").exit_code == 0
    paths = write_exports(month, tmp_path / "exports")
    assert run("ingest", *paths, "-w", shop).exit_code == 0
    rows, _ = listed(shop, "--limit", "0")
    got = {r[0]: r[2] for r in rows}
    want = {}
    for key, row in month.truth().items():
        per = row["spend"]
        assert isinstance(per, dict)
        want[key] = spend_text({c: v for c, v in per.items() if v})
    assert got == want
    assert any(" + " in text for text in got.values())  # someone spent in two currencies
