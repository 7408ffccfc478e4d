"""A multi-channel seller's month, right to the penny (issue 9).

The generator (:mod:`tests.month_shop`) writes the same customers' orders as Shopify,
WooCommerce, Amazon (UK and US), eBay (US and DE) and Etsy export them, and Linnworks'
consolidated export of all of them again. The truth per customer (orders, spend per
currency) is worked out there with ``decimal``; here ordertags must agree, counting every
order once, whatever order the exports are ingested in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ordertags import annotate, load_rules, load_tagbook
from ordertags.cli import app
from ordertags.customers.workspace import Workspace

from .month_shop import Month, make_month, write_exports

runner = CliRunner()
SEED = 9
# Every test here on each storage backend (SQLite, PostgreSQL): the same figures.
pytestmark = pytest.mark.usefixtures("backend")

TAGBOOK = """\
version: 1
tags:
  - {name: VIP, colour: gold, label: VIP, priority: 50}
  - {name: REGULAR, colour: teal, label: REGULAR, priority: 30}
  - {name: ONE_ORDER, colour: grey, label: first order, priority: 10}
customers: []
"""
RULES = """\
version: 1
rules:
  - name: Three orders or more
    when: {customer: orders, at_least: 3}
    tag: REGULAR
  - name: Exactly one order
    when: {customer: orders, equals: 1}
    tag: ONE_ORDER
"""

Figures = dict[str, tuple[int, dict[str, Decimal]]]


def truth_of(month: Month) -> Figures:
    out: Figures = {}
    for key, row in month.truth().items():
        spend = row["spend"]
        assert isinstance(spend, dict)
        out[key] = (int(row["orders"]), dict(spend))  # type: ignore[call-overload]
    return out


def history_figures(shop: Path) -> Figures:
    """Per customer of the history: orders, and spend per currency (SQL on the store)."""
    with Workspace(shop).open_history() as history:  # either storage backend
        rows = history.fetch(
            "SELECT c.key, IFNULL(o.currency, ''), COUNT(*), SUM(o.total) FROM orders o "
            "JOIN customers c ON c.id = o.customer GROUP BY c.key, o.currency"
        )
    out: Figures = {}
    for key, currency, count, total in rows:
        orders, spend = out.get(key, (0, {}))
        spend[currency] = Decimal(total) / 10_000
        out[key] = (orders + count, spend)
    return out


def ingest_all(tmp: Path, paths: list[Path]) -> Path:
    shop = tmp / "shop"
    result = runner.invoke(app, ["init", str(shop), "--default-region", "GB"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["ingest", *map(str, paths), "-w", str(shop)])
    assert result.exit_code == 0, result.stderr
    return shop


@pytest.fixture(scope="module")
def month() -> Month:
    return make_month(SEED)


@pytest.fixture(scope="module")
def exports(month: Month, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_exports(month, tmp_path_factory.mktemp("month"))


def test_the_generator_makes_a_month_worth_checking(month: Month) -> None:
    """Every channel, a customer on two web shops, a customer with 3+ orders, an order
    over 1,000, and a hub copy that disagrees with the channel's report."""
    channels = {o.channel for o in month.orders}
    assert channels == {
        "shopify", "woocommerce", "amazon-uk", "amazon-us", "ebay-us", "ebay-de", "etsy",
    }  # fmt: skip
    truth = month.truth()
    assert any(int(r["orders"]) >= 3 for r in truth.values())  # type: ignore[call-overload]
    assert any(int(r["orders"]) == 1 for r in truth.values())  # type: ignore[call-overload]
    both = {o.key for o in month.orders if o.channel == "shopify"} & {
        o.key for o in month.orders if o.channel == "woocommerce"
    }
    assert both
    assert max(o.total for o in month.orders) > 1000
    assert month.wrong_in_hub


@pytest.mark.parametrize("order", ["channels first", "hub first", "interleaved"])
def test_every_customer_right_to_the_penny(
    month: Month, exports: list[Path], tmp_path: Path, order: str
) -> None:
    paths = list(exports)
    if order == "hub first":
        paths = paths[-1:] + paths[:-1]
    elif order == "interleaved":
        paths = paths[::2] + paths[1::2]
    shop = ingest_all(tmp_path, paths)
    got = history_figures(shop)
    truth = truth_of(month)
    assert got == truth
    assert sum(n for n, _ in got.values()) == len(month.orders)  # each order once
    with Workspace(shop).open_history() as history:
        assert history.fetch("SELECT COUNT(*) FROM orders")[0][0] == len(month.orders)


def test_ingest_reports_the_hub_disagreeing_with_the_channel(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    shop = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(shop), "--default-region", "GB"]).exit_code == 0
    hub = [p for p in exports if p.name.startswith("linnworks")]
    uk = [p for p in exports if p.name == "amazon_uk.txt"]
    first = runner.invoke(app, ["ingest", str(hub[0]), "-w", str(shop)])
    assert first.exit_code == 0, first.stderr
    second = runner.invoke(app, ["ingest", str(uk[0]), "-w", str(shop)])
    assert second.exit_code == 0, second.stderr
    wrong = next(o for o in month.orders if o.number == month.wrong_in_hub)
    assert f"exports disagree on amazon {wrong.number}: total " in second.stderr
    assert f"; kept {wrong.total:,.2f} from amazon, the channel's own export" in second.stderr


def test_one_run_counts_each_order_once_and_tags_every_customer(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """All exports in one apply (no history): the customer figures behind the tags count
    an order that the channel's export and Linnworks both hold once."""
    book, rules = tmp_path / "tagbook.yaml", tmp_path / "rules.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    rules.write_text(RULES, encoding="utf-8")
    result = annotate(
        [str(p) for p in exports],
        tagbook=load_tagbook(book),
        rules=load_rules(rules),
        as_of=dt.date(2026, 12, 1),
        region="GB",
    )
    frame = result.frame
    truth = month.truth()
    by_number = {o.number.lstrip("#"): o for o in month.orders}
    numbers = frame.orders.numbers.to_pylist()
    checked = 0
    for ti, table in enumerate(frame.tables):
        if frame.orders.is_hub(ti):
            continue
        start = int(frame.offsets[ti])
        for row in range(start, start + table.num_rows):
            if not frame.orders.starts[row]:
                continue
            order = by_number[numbers[row]]
            count = int(truth[order.key]["orders"])  # type: ignore[call-overload]
            assert bool(result.tag_masks["REGULAR"][row]) == (count >= 3), order
            assert bool(result.tag_masks["ONE_ORDER"][row]) == (count == 1), order
            checked += 1
    assert checked == len(month.orders)
    # Each order once: the hub's copies of orders the channels' exports hold are not counted.
    assert int(frame.orders.counted.sum()) == len(month.orders)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(permutation=st.permutations(list(range(8))))
def test_ingest_order_does_not_matter(
    permutation: list[int],
    month: Month,
    exports: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("perm")
    shop = ingest_all(tmp, [exports[i] for i in permutation])
    assert history_figures(shop) == truth_of(month)
