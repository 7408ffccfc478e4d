"""A month of a UK surf shop, second pass (issue 17): mailing lists, segments and the
list files rules read, as a new seller meets them.

The month comes from :mod:`tests.month_shop` (Shopify with multi-row orders, eBay US/DE,
Amazon UK/US, WooCommerce, Etsy, and Linnworks re-listing every order). Every figure
expected here is worked out with ``decimal`` from the generated orders, never read from
ordertags.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.customers.rfm import group_of

from .conftest import read_rows
from .month_shop import Month, Order, make_month, write_exports

runner = CliRunner()
SEED = 17
AS_OF = "2026-12-01"

BOOK = """\
version: 1
tags:
  - {name: FRAUD, colour: red, priority: 100, no_marketing: true}
  - {name: VIP, colour: gold, priority: 50}
  - {name: CUSTOMER, colour: teal, priority: 10}
"""
# Every customer with an order carries CUSTOMER: a list by that tag is everyone.
RULES = """\
version: 1
rules:
  - name: Everyone who ordered
    when: {customer: orders, at_least: 1}
    tag: CUSTOMER
"""

Figures = dict[str, tuple[int, dict[str, Decimal]]]


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def month() -> Month:
    return make_month(SEED)


@pytest.fixture(scope="module")
def exports(month: Month, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = write_exports(month, tmp_path_factory.mktemp("month"))
    return {p.name: p for p in paths}


@pytest.fixture
def books(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "book.yaml").write_text(BOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return ["-t", tmp_path / "book.yaml", "-r", tmp_path / "rules.yaml", "--as-of", AS_OF]


# --- what the files hold, by hand ----------------------------------------------------------

#: Which exports a run gets: the issue's pair (Shopify and Linnworks' copy of every
#: order), and every export of the month.
RUNS = {
    "shopify and linnworks": ["orders_export.csv", "linnworks_open_orders.csv"],
    "every export": [
        "orders_export.csv",
        "woocommerce_orders.csv",
        "amazon_uk.txt",
        "amazon_us.txt",
        "ebay_us.csv",
        "ebay_de.csv",
        "EtsySoldOrders2026-11.csv",
        "linnworks_open_orders.csv",
    ],
}
CHANNEL_FILE = {
    "shopify": "orders_export.csv",
    "woocommerce": "woocommerce_orders.csv",
    "amazon-uk": "amazon_uk.txt",
    "amazon-us": "amazon_us.txt",
    "ebay-us": "ebay_us.csv",
    "ebay-de": "ebay_de.csv",
    "etsy": "EtsySoldOrders2026-11.csv",
}


def order_total(month: Month, o: Order, files: list[str]) -> Decimal:
    """The order's total as the run counts it: the channel's own export where the run
    has it; else Linnworks' copy, which for one Amazon UK order adds the VAT again."""
    if CHANNEL_FILE[o.channel] in files or o.number != month.wrong_in_hub:
        return o.total
    vat = sum((t for _, _, _, t in o.lines), Decimal(0)) + o.shipping_tax
    return o.total + vat


def run_figures(month: Month, files: list[str]) -> tuple[Figures, dict[str, dt.date]]:
    """Per customer of the run: orders and spend per currency, each order once, and
    their last order's day. Linnworks gives an email for web-shop and Amazon orders
    only: an eBay or Etsy order is a customer's only where their own export is given."""
    figures: Figures = {}
    last: dict[str, dt.date] = {}
    for o in month.orders:
        in_run = CHANNEL_FILE[o.channel] in files or (
            "linnworks_open_orders.csv" in files and bool(o.email)
        )
        if not in_run:
            continue
        count, spend = figures.get(o.key, (0, defaultdict(Decimal)))
        spend[o.currency] += order_total(month, o, files)
        figures[o.key] = (count + 1, spend)
        last[o.key] = max(last.get(o.key, o.when.date()), o.when.date())
    return {k: (n, dict(s)) for k, (n, s) in figures.items()}, last


def listed_figures(path: Path) -> Figures:
    """Per address of a list in the default columns: orders, and spend per currency
    (``2408.14 GBP; 45.00 EUR``; a single amount is in the customer's one currency,
    shown here as "?")."""
    out: Figures = {}
    for email, _first, _last, orders, spend, _tags in read_rows(path)[1:]:
        per: dict[str, Decimal] = {}
        for part in spend.split("; "):
            amount, _, currency = part.partition(" ")
            per[currency or "?"] = Decimal(amount)
        out[email] = (int(orders), per)
    return out


def one_currency_shown_bare(figures: Figures) -> Figures:
    """``figures`` as a list shows them: one currency's amount without its code."""
    return {
        k: (n, {"?": next(iter(s.values()))} if len(s) == 1 else s) for k, (n, s) in figures.items()
    }


# --- 1. one order, one record, on lists and segments ---------------------------------------


@pytest.mark.parametrize("which", sorted(RUNS))
def test_lists_count_each_order_once_without_a_workspace(
    month: Month, exports: dict[str, Path], books: list[str | Path], tmp_path: Path, which: str
) -> None:
    files = RUNS[which]
    truth, _ = run_figures(month, files)
    # On a list: the customers with a mailbox (web shops; Amazon's relay addresses and
    # the marketplaces' buyer ids are left out).
    expected = one_currency_shown_bare({k: v for k, v in truth.items() if "@example.com" in k})
    assert len(expected) >= 3 and any(n >= 3 for n, _ in expected.values())
    paths = [exports[f] for f in files]
    listed = tmp_path / "export.csv"
    result = run("export", *paths, *books, "--tag", "CUSTOMER", "-o", listed)
    assert result.exit_code == 0, result.stderr
    assert listed_figures(listed) == expected
    # apply --list: the same list from the same run.
    written = tmp_path / "apply.csv"
    result = run("apply", *paths, *books, "-o", tmp_path / "out", "--list", f"{written}:CUSTOMER")
    assert result.exit_code == 0, result.stderr
    assert listed_figures(written) == expected


#: Fixed RFM cut-offs (the README's defaults; a run of fewer than 20 customers uses them):
#: recency 5 within 30 days, 4 within 90, ...; frequency and monetary 2, 3, 4, 5 from
#: these orders and this spend (in the customer's main currency) on.
RECENCY = (30, 90, 180, 365)
FREQUENCY = (2, 3, 5, 8)
MONETARY = (100, 250, 500, 1000)


def expected_segments(
    truth: Figures, last: dict[str, dt.date], as_of: dt.date
) -> dict[str, tuple[int, dict[str, str]]]:
    """Per RFM group: customers and spend per currency, scored by hand."""
    out: dict[str, tuple[int, dict[str, Decimal]]] = {}
    for key, (orders, spend) in truth.items():
        days = (as_of - last[key]).days
        r = 5 - sum(1 for cut in RECENCY if cut < days)
        f = 1 + sum(1 for cut in FREQUENCY if cut <= orders)
        ranked = sorted(spend.values(), reverse=True)
        assert len(ranked) < 2 or ranked[0] != ranked[1]  # one main currency
        m = 1 + sum(1 for cut in MONETARY if cut <= ranked[0])
        group = group_of(r, (f + m) / 2)  # the published table of groups
        count, sums = out.get(group, (0, defaultdict(Decimal)))
        for cur, amount in spend.items():
            sums[cur] += amount
        out[group] = (count + 1, sums)
    return {g: (n, {c: f"{v:.2f}" for c, v in s.items()}) for g, (n, s) in out.items()}


@pytest.mark.parametrize("which", sorted(RUNS))
def test_segments_count_each_order_once_without_a_workspace(
    month: Month, exports: dict[str, Path], books: list[str | Path], which: str
) -> None:
    files = RUNS[which]
    truth, last = run_figures(month, files)
    expected = expected_segments(truth, last, dt.date.fromisoformat(AS_OF))
    assert len(expected) >= 2  # customers in several groups
    paths = [exports[f] for f in files]
    result = run("segments", *paths, *books, "--output-format", "json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert table["method"] == "fixed" and table["total"] == len(truth)
    got = {
        line["group"]: (line["customers"], line["spend"])
        for line in table["lines"]
        if line["customers"]
    }
    assert got == expected
