"""The second month (issue 17): a new seller runs a whole month across channels, in one
run and in a workspace, and every figure and every action is checked against the month
generator's own truth (:mod:`tests.month_shop`, worked out with ``decimal``).

- a ``set:`` rule reaches every platform's own service column in one mixed run;
- a Shopify re-export after refunds: spend net of the refunds, counted once;
- the hub's copy alone in a run without a workspace;
- today's orders counted by a cron run (``--as-of`` left to default to today);
- list files in every spelling people write them;
- lists, segments by group and ``customers`` to the penny.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.cli import app

from .month_shop import (
    Month,
    Order,
    list_files,
    make_month,
    shopify,
    shopify_refunds,
    write_exports,
)

runner = CliRunner()
SEED = 9
TRACKED = "Royal Mail Tracked 24"

#: Where each export keeps the shipping service (its own header), and how it is read.
SERVICE_COLUMN = {
    "orders_export.csv": ("Shipping Method", ",", "utf-8"),
    "woocommerce_orders.csv": ("shipping_method", ",", "utf-8"),
    "amazon_uk.txt": ("ship-service-level", "\t", "utf-8"),
    "amazon_us.txt": ("ship-service-level", "\t", "utf-8"),
    "ebay_us.csv": ("Shipping Service", ",", "utf-8"),
    "ebay_de.csv": ("Versandservice", ";", "cp1252"),
    "linnworks_open_orders.csv": ("Postal Service", ",", "utf-8"),
}
#: The order number column of each export (the channel's number; Linnworks: Reference Num).
NUMBER_COLUMN = {
    "orders_export.csv": "Name",
    "woocommerce_orders.csv": "order_number",
    "amazon_uk.txt": "order-id",
    "amazon_us.txt": "order-id",
    "ebay_us.csv": "Order Number",
    "ebay_de.csv": "Bestellnummer",
    "linnworks_open_orders.csv": "Reference Num",
}


@pytest.fixture(scope="module")
def month() -> Month:
    return make_month(SEED)


@pytest.fixture(scope="module")
def exports(month: Month, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_exports(month, tmp_path_factory.mktemp("month2"))


def identity(order: Order) -> str:
    """The tag book's way of naming the customer of ``order``."""
    if order.key.startswith(("ebay:", "etsy:")):
        return f"id: {order.key}"
    return f"email: {order.key}"


def read_table(path: Path, delimiter: str, encoding: str) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode(encoding)
    lines = [line for line in text.splitlines() if line.strip()]
    if path.name == "ebay_us.csv":  # the report's own lines before and after the orders
        lines = [x for x in lines if not x.startswith("Seller ID") and "record(s)" not in x]
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    return rows[0], rows[1:]


@pytest.mark.parametrize("run", ["one run of every export", "Linnworks alone, in a workspace"])
def test_a_set_rule_reaches_every_platforms_own_column(
    month: Month, exports: list[Path], tmp_path: Path, run: str
) -> None:
    """One claimer per channel. In one ``apply`` of every export, each claimer's orders
    go tracked in that export's own service column (Linnworks' copies too, though it
    lists eBay and Etsy orders without the buyer), every other order keeps its service,
    and no export gains a column of the canonical name. In a workspace whose history holds
    the channels' exports, a cron ``apply`` of Linnworks' export alone does the same."""
    claimers: dict[str, Order] = {}
    for o in month.orders:
        claimers.setdefault(o.channel, o)
    keys = {o.key for o in claimers.values()}
    entries = "".join(f"  - {{{identity(o)}, tags: [CLAIMED]}}\n" for o in claimers.values())
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "version: 1\ntags:\n  - {name: CLAIMED, colour: orange, priority: 90}\n"
        f"customers:\n{entries}",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: Claimers ship tracked\n    when: {has_tag: CLAIMED}\n"
        f"    set: {{shipping_service: {TRACKED}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    applied = list(exports)
    more: list[str] = []
    if run.startswith("Linnworks"):
        shop = tmp_path / "shop"
        assert runner.invoke(app, ["init", str(shop), "--default-region", "GB"]).exit_code == 0
        channels = [p for p in exports if not p.name.startswith("linnworks")]
        done = runner.invoke(app, ["ingest", *map(str, channels), "-w", str(shop)])
        assert done.exit_code == 0, done.stderr
        applied = [p for p in exports if p.name.startswith("linnworks")]
        out.mkdir()
        more = ["-w", str(shop)]
    target = out / applied[0].name if len(applied) == 1 else out
    result = runner.invoke(
        app,
        ["apply", *map(str, applied), "-t", str(book), "-r", str(rules), "-o", str(target)]
        + ["--as-of", "2026-12-01", "--default-region", "GB", "--quiet", *more],
    )
    assert result.exit_code == 0, result.stderr
    by_number = {o.number: o for o in month.orders}
    checked: set[tuple[str, str]] = set()
    for name, (column, delimiter, encoding) in SERVICE_COLUMN.items():
        if not (out / name).exists():
            assert len(applied) == 1, name
            continue
        original_header, original_rows = read_table(
            next(p for p in exports if p.name == name), delimiter, encoding
        )
        header, rows = read_table(out / name, delimiter, encoding)
        assert "shipping_service" not in header, name
        assert header[: len(original_header)] == original_header, name
        col, num = header.index(column), header.index(NUMBER_COLUMN[name])
        for row, before in zip(rows, original_rows, strict=True):
            order = by_number[row[num]]
            if before[col] == "":  # a continuation row of a multi-row order
                continue
            expected = TRACKED if order.key in keys else order.service
            assert row[col] == expected, (name, row[num])
            checked.add((name, row[num]))
    # Every order in Linnworks' export, and in its channel's (Etsy's has no service column).
    channel_orders = len([o for o in month.orders if o.channel != "etsy"])
    assert len(checked) == len(month.orders) + (channel_orders if len(applied) > 1 else 0)
    if len(applied) > 1:  # Etsy's export gains one service column, tracked for the claimer
        header, rows = read_table(out / "EtsySoldOrders2026-11.csv", ",", "utf-8")
        col, num = header.index("Shipping Service"), header.index("Order ID")
        for row in rows:
            claimed = by_number[row[num]].key in keys
            assert row[col] == (TRACKED if claimed else ""), row[num]


def _shifted(orders: list[Order], when: dt.datetime) -> list[Order]:
    return [replace(o, when=when) for o in orders]


@pytest.mark.parametrize("workspace", [True, False])
def test_a_cron_run_counts_todays_orders(month: Month, tmp_path: Path, workspace: bool) -> None:
    """``apply`` with no ``--as-of`` (cron): the order being packed today counts towards
    its customer's orders in the last 30 days, with the history or without."""
    per: dict[str, list[Order]] = defaultdict(list)
    for o in month.orders:
        if o.channel == "shopify":
            per[o.key].append(o)
    key, past = max(per.items(), key=lambda kv: len(kv[1]))
    now = dt.datetime.now().replace(microsecond=0)
    earlier = _shifted(past, now - dt.timedelta(days=10))
    today = replace(past[0], number="#9001", when=now)
    need = len(past) + 1  # the past orders and today's
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: Regular this month\n"
        f"    when: {{customer: orders, at_least: {need}, within_days: 30}}\n    tag: REGULAR\n",
        encoding="utf-8",
    )
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "version: 1\ntags:\n  - {name: REGULAR, colour: teal}\ncustomers: []\n", encoding="utf-8"
    )
    new = tmp_path / "today.csv"
    args = ["-t", str(book), "-r", str(rules), "--default-region", "GB", "--quiet"]
    if workspace:
        shop = tmp_path / "shop"
        assert runner.invoke(app, ["init", str(shop), "--default-region", "GB"]).exit_code == 0
        history = tmp_path / "history.csv"
        history.write_text(shopify(earlier), encoding="utf-8")
        done = runner.invoke(app, ["ingest", str(history), "-w", str(shop)])
        assert done.exit_code == 0, done.stderr
        new.write_text(shopify([today]), encoding="utf-8")
        args += ["-w", str(shop)]
    else:
        new.write_text(shopify([*earlier, today]), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["apply", str(new), "-o", str(out), *args])
    assert result.exit_code == 0, result.stderr
    header, rows = read_table(out, ",", "utf-8")
    tags, names, emails = (header.index(c) for c in ("Customer Tags", "Name", "Email"))
    mine = [r for r in rows if r[names] == "#9001"]
    assert mine and all(r[tags] == "REGULAR" for r in mine), key
    assert all(r[tags] == "" for r in rows if r[emails] and r[emails] != key)


# --- refunds, and the three outputs to the penny ---------------------------------------------

SPEND = re.compile(r"(-?[\d,]+\.\d\d) ([A-Z]{3})")


def spend_of(text: str) -> dict[str, Decimal]:
    """``3,440.76 GBP + 777.77 EUR`` or ``3440.76 GBP; 777.77 EUR`` as amounts by currency."""
    return {c: Decimal(a.replace(",", "")) for a, c in SPEND.findall(text)}


@pytest.fixture(scope="module")
def with_refunds(
    month: Month, exports: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """The month's exports, then Shopify's export downloaded again after two refunds
    (one in full, one of the goods but not the shipping)."""
    again = tmp_path_factory.mktemp("refunds") / "orders_export_after_refunds.csv"
    again.write_text(shopify_refunds(month), encoding="utf-8")
    return [*exports, again]


@pytest.mark.parametrize("where", ["one run", "workspace"])
def test_lists_segments_and_customers_to_the_penny(
    month: Month, with_refunds: list[Path], tmp_path: Path, where: str
) -> None:
    """Every export of the month and a refund re-export, in one run and in a workspace:
    the mailing list (everyone), the RFM groups and ``customers`` give each customer the
    orders and spend (net of refunds, per currency) the generator worked out; a fully
    refunded order is no order; each order counts once, whichever exports hold it."""
    truth = month.truth(refunded=True)
    assert any(
        Decimal(0) < b < next(o.total for o in month.orders if o.number == n)
        for n, b in month.refunds.items()
    )  # a partial refund is among them
    files = list(map(str, with_refunds))
    common = ["--default-region", "GB", "--as-of", "2026-12-01"]
    book = tmp_path / "tagbook.yaml"
    book.write_text("version: 1\ntags:\n  - {name: VIP, colour: gold}\ncustomers: []\n", "utf-8")
    if where == "workspace":
        shop = tmp_path / "shop"
        assert runner.invoke(app, ["init", str(shop), "--default-region", "GB"]).exit_code == 0
        done = runner.invoke(app, ["ingest", *files, "-w", str(shop)])
        assert done.exit_code == 0, done.stderr
        source = ["-w", str(shop)]
    else:
        source = [*files, "-t", str(book)]

    # The mailing list: everyone with an address that may be mailed (web shop customers).
    listed = runner.invoke(
        app, ["export", *source, "--all", "--include-without-consent", "-o", "-", *common]
    )
    assert listed.exit_code == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    mailable = {k for k in truth if "@" in k and "marketplace.amazon" not in k}
    assert {r["Email Address"] for r in rows} == mailable
    for r in rows:
        want = truth[r["Email Address"]]
        assert int(r["Orders"]) == want["orders"], r["Email Address"]
        spend = {c: v for c, v in dict(want["spend"]).items() if v}  # type: ignore[call-overload]
        assert spend_of(r["Spend"]) == spend, r["Email Address"]

    # The RFM groups: every customer in one group, every penny in one group.
    groups = runner.invoke(app, ["segments", *source, "--output-format", "json", *common])
    assert groups.exit_code == 0, groups.stderr
    lines = json.loads(groups.stdout)["lines"]
    assert sum(g["customers"] for g in lines) == len(truth)
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for g in lines:
        for c, v in g["spend"].items():
            per_currency[c] += Decimal(v)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in truth.values():
        for c, v in dict(row["spend"]).items():  # type: ignore[call-overload]
            expected[c] += v
    assert {c: v for c, v in per_currency.items() if v} == {c: v for c, v in expected.items() if v}

    # customers (the workspace's history): each customer's orders and spend per currency.
    if where == "workspace":
        table = runner.invoke(app, ["customers", *source, "--limit", "0", *common[2:]])
        assert table.exit_code == 0, table.stderr
        seen = 0
        for line in table.stdout.splitlines()[2:]:
            cells = re.split(r"\s{2,}", line.strip())
            key = cells[0]
            want = truth[key]
            assert int(cells[1]) == want["orders"], key
            spend = {c: v for c, v in dict(want["spend"]).items() if v}  # type: ignore[call-overload]
            assert spend_of(cells[2]) == spend, key
            seen += 1
        assert seen == len(truth)


def test_list_files_in_every_spelling_people_write(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """A rule's list file written as people write one (``addr,``, ``"addr"``, ``addr;``,
    ``addr<TAB>GOLD``, ``mailto:addr``, a CSV with an ``Email Address`` column) tags
    exactly the customers it names, on every one of their Shopify orders; ``lint`` says
    nothing of such files, and warns by line number of a line that holds no address."""
    shop = [o for o in month.orders if o.channel == "shopify"]
    emails = sorted({o.email for o in shop})[::2]  # every other customer of the shop
    assert emails and len(emails) < len({o.email for o in shop})
    lists = list_files(
        tmp_path / "lists", [e.upper() if i % 2 else e for i, e in enumerate(emails)]
    )
    book = tmp_path / "tagbook.yaml"
    book.write_text("version: 1\ntags:\n  - {name: GOLD, colour: gold}\ncustomers: []\n", "utf-8")
    export = next(p for p in exports if p.name == "orders_export.csv")
    for spelling, path in lists.items():
        rules = tmp_path / f"rules_{spelling}.yaml"
        rules.write_text(
            "version: 1\nrules:\n  - name: Gold list\n"
            f"    when: {{field: email, in_file: {path.name}}}\n    tag: GOLD\n",
            encoding="utf-8",
        )
        (tmp_path / path.name).write_bytes(path.read_bytes())  # beside the rule file
        linted = runner.invoke(app, ["lint", "-r", str(rules), "-t", str(book)])
        assert linted.exit_code == 0 and "warning" not in linted.stdout, (spelling, linted.stdout)
        out = tmp_path / f"out_{spelling}.csv"
        result = runner.invoke(
            app,
            ["apply", str(export), "-t", str(book), "-r", str(rules), "-o", str(out), "--quiet"]
            + ["--as-of", "2026-12-01"],
        )
        assert result.exit_code == 0, (spelling, result.stderr)
        header, rows = read_table(out, ",", "utf-8")
        name, tags = header.index("Name"), header.index("Customer Tags")
        by_number = {o.number: o for o in shop}
        for row in rows:
            assert row[tags] == ("GOLD" if by_number[row[name]].email in emails else ""), (
                spelling,
                row[name],
            )
    # A line that holds no address: lint names the file and the line.
    junk = tmp_path / lists["comma"].name
    junk.write_text(junk.read_text("utf-8") + "call Jane back\n", encoding="utf-8")
    linted = runner.invoke(app, ["lint", "-r", str(tmp_path / "rules_comma.yaml"), "-t", str(book)])
    assert (
        f"warning: {junk}, line {len(emails) + 1}: 1 line holds no email address" in linted.stdout
    )


def test_the_run_summary_counts_each_order_once(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """One ``apply`` of every export: the summary counts the month's orders and
    customers once each (Linnworks' copies said, not added), per tag too."""
    book = tmp_path / "tagbook.yaml"
    book.write_text("version: 1\ntags:\n  - {name: SEEN, colour: teal}\ncustomers: []\n", "utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: Every order\n    when: {field: order_id, blank: false}\n"
        "    tag: SEEN\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["apply", *map(str, exports), "-t", str(book), "-r", str(rules), "-o", str(tmp_path / "o")]
        + ["--as-of", "2026-12-01", "--default-region", "GB"],
    )
    assert result.exit_code == 0, result.stderr
    n, people = len(month.orders), len(month.truth())
    assert (
        f"{n} orders ({n} seen again in another export, counted once), {people} customers; "
        in result.stderr
    )
    assert re.search(rf"^SEEN\s+{n}\s+{people}$", result.stderr, re.M), result.stderr
