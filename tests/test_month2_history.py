"""A new seller's month in a workspace (issue 17): every number an order is known by finds
it, a run holding only Linnworks' copy of an order counts what the channel reported, and
``tag`` warns about a customer the history has never seen and refuses a phone number no
phone can have.

The month comes from :mod:`tests.month_shop` (Shopify, WooCommerce, Amazon UK and US,
eBay US and DE, Etsy, and Linnworks listing every order again under its own Order Id).
Expected figures are worked out here from the generated orders with ``decimal``.
"""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags import load_tagbook
from ordertags.cli import app
from ordertags.customers.history import open_history
from ordertags.customers.workspace import Workspace, order_customer

from .month_shop import Month, Order, make_month, write_exports

runner = CliRunner()
SEED = 17
ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-01"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def month() -> Month:
    return make_month(SEED)


@pytest.fixture(scope="module")
def exports(month: Month, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_exports(month, tmp_path_factory.mktemp("month17"))


def hub_of(exports: list[Path]) -> Path:
    return next(p for p in exports if p.name.startswith("linnworks"))


def channels_of(exports: list[Path]) -> list[Path]:
    return [p for p in exports if not p.name.startswith("linnworks")]


def make_shop(tmp: Path, paths: list[Path], region: str = "GB") -> Path:
    shop = tmp / "shop"
    made = run("init", shop, "--default-region", region)
    assert made.exit_code == 0, made.stderr
    if paths:
        got = run("ingest", *paths, "-w", shop)
        assert got.exit_code == 0, got.stderr
    return shop


def typed_numbers(o: Order) -> list[str]:
    """Every number a seller may type for the order: Linnworks' Order Id, the channel's
    number as the channel writes it, and Shopify's without its ``#``."""
    numbers = [o.hub_id, o.number]
    if o.number.startswith("#"):
        numbers.append(o.number[1:])
    return numbers


# --- 1. every number an order is known by ---------------------------------------------------

ORDERS = {
    "channels first": lambda e: [*channels_of(e), hub_of(e)],
    "hub first": lambda e: [hub_of(e), *channels_of(e)],
    "hub in the middle": lambda e: [*channels_of(e)[:3], hub_of(e), *channels_of(e)[3:]],
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_every_number_of_an_order_finds_its_customer(
    month: Month, exports: list[Path], tmp_path: Path, order: str
) -> None:
    """Linnworks' Order Id keeps finding the order after the channel's own export has
    replaced the hub's copy (the channels first), and the channel's number after the
    hub's copy (the hub first)."""
    shop = make_shop(tmp_path, ORDERS[order](exports))
    ws = Workspace(shop)
    for o in month.orders:
        for number in typed_numbers(o):
            assert order_customer(ws, number).identity == o.key, (order, o.channel, number)
    # The command line, one order per customer: `customer` and `tag --order` by the hub id.
    first: dict[str, Order] = {}
    for o in month.orders:
        first.setdefault(o.key, o)
    for o in first.values():
        shown = run("customer", o.hub_id, "-w", shop)
        assert shown.exit_code == 0, (o.hub_id, shown.stderr)
        assert shown.stdout.splitlines()[0] == f"customer {o.key} ({o.name})"
        tagged = run("tag", "--order", o.hub_id, "--tag", "VIP", "-w", shop)
        assert tagged.exit_code == 0, tagged.stderr
        assert tagged.stderr == f"tagged {o.name} ({o.key}) with VIP\n"


def test_explain_finds_an_order_by_a_number_its_export_does_not_write(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """Linnworks' Order Id of an order explained from the channel's own export: the
    workspace's history knows both numbers."""
    shop = make_shop(tmp_path, ORDERS["channels first"](exports))
    wrong = next(o for o in month.orders if o.number == month.wrong_in_hub)
    amazon_uk = next(p for p in exports if p.name == "amazon_uk.txt")
    shown = run("explain", wrong.hub_id, amazon_uk, "-w", shop, "--as-of", AS_OF)
    assert shown.exit_code == 0, shown.stderr
    row = 2 + sum(len(o.lines) for o in month.orders[: month.orders.index(wrong)]
                  if o.channel == "amazon-uk")  # fmt: skip
    assert shown.stdout.startswith(
        f"order {wrong.hub_id} ({amazon_uk}, row {row})\ncustomer: {wrong.key} "
    )
    # Without a workspace the export alone decides.
    alone = run("explain", wrong.hub_id, amazon_uk, "-t", shop / "tagbook.yaml")
    assert alone.exit_code == 1
    assert alone.stderr.startswith(f'ordertags: no order "{wrong.hub_id}" in {amazon_uk}.')


def test_a_history_that_kept_one_other_number_is_migrated(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """A history of schema 4 kept the hub's Order Id in ``orders.reference`` (when the
    hub's copy came first): the quick commands read it as it is, and opening it moves
    those numbers to ``order_aliases``."""
    shop = make_shop(tmp_path, ORDERS["hub first"](exports))
    path = shop / "history.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE orders SET reference = (SELECT alias FROM order_aliases a WHERE a.id = orders.id)"
    )
    later = ("order_aliases", "users", "audit", "applied", "alerted")  # versions 6 to 9
    for table in (*later, "customer_facts", "currency_counts", "customer_search"):  # 11
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE orders DROP COLUMN cancelled")  # version 9
    for index in ("orders_phone", "orders_address"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    ws = Workspace(shop)
    o = month.orders[0]
    assert order_customer(ws, o.hub_id).identity == o.key  # schema 4, read as it is
    open_history(path).close()  # migrated
    conn = sqlite3.connect(path)
    held = dict(
        conn.execute("SELECT o.order_id, a.alias FROM order_aliases a JOIN orders o ON o.id = a.id")
    )
    conn.close()
    assert held == {o.number.lstrip("#"): o.hub_id for o in month.orders}
    assert order_customer(ws, o.hub_id).identity == o.key


# --- 2. a run of only the hub's copy ---------------------------------------------------------


def spend_of(month: Month, key: str) -> Decimal:
    """A customer's spend as the channels reported it (every currency added as it is,
    as ordertags does with no `currency:` in the rules)."""
    return sum((o.total for o in month.orders if o.key == key), Decimal(0))


@pytest.mark.parametrize("record", [False, True], ids=["--no-record", "recorded"])
def test_a_run_of_only_linnworks_copy_counts_what_the_channel_reported(
    month: Month, exports: list[Path], tmp_path: Path, record: bool
) -> None:
    """The history holds the channels' own exports; today's run is Linnworks' export
    alone, whose copy of one Amazon UK order adds the VAT again. The customer's spend is
    the channel's: a threshold between the two figures must not tag them."""
    shop = make_shop(tmp_path, channels_of(exports))
    wrong = next(o for o in month.orders if o.number == month.wrong_in_hub)
    vat = sum((t for _, _, _, t in wrong.lines), Decimal(0)) + wrong.shipping_tax
    assert vat > 0
    threshold = spend_of(month, wrong.key) + vat / 2
    (shop / "rules.yaml").write_text(
        "version: 1\nrules:\n  - name: big spender\n"
        f"    when: {{customer: spend, over: {threshold}}}\n    tag: BIG_SPENDER\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    args: list[str | Path] = ["apply", hub_of(exports), "-o", out, "-w", shop, "--as-of", AS_OF]
    result = run(*args, *(["--no-record"] if not record else []))
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        rows = {r["Order Id"]: r for r in csv.DictReader(fh)}
    by_hub = {o.hub_id: o for o in month.orders}
    checked = 0
    for hub_id, row in rows.items():
        o = by_hub[hub_id]
        if not o.email:  # eBay and Etsy: Linnworks gives no identity to know them by
            continue
        expected = spend_of(month, o.key) > threshold
        assert ("BIG_SPENDER" in row["Customer Tags"]) == expected, (o.channel, o.number)
        checked += 1
    assert "BIG_SPENDER" not in rows[wrong.hub_id]["Customer Tags"]
    assert checked >= 10
    # explain shows the channel's figure too.
    shown = run("explain", wrong.hub_id, hub_of(exports), "-w", shop, "--as-of", AS_OF)
    assert shown.exit_code == 0, shown.stderr
    assert f"customer spend over {threshold} (value {spend_of(month, wrong.key)}): no" in (
        shown.stdout
    )
    if record:  # and the history kept the channel's total
        conn = sqlite3.connect(shop / "history.sqlite")
        total = conn.execute(
            "SELECT total FROM orders WHERE order_id = ?", (wrong.number,)
        ).fetchone()[0]
        conn.close()
        assert Decimal(total) / 10_000 == wrong.total


# --- 3. tag: a customer never seen, an invalid phone -------------------------------------------

NEVER_SEEN = (
    "warning: the history has no order of {} yet: the tag applies from their first order "
    "(check the spelling if they have ordered before).\n"
)


@pytest.fixture(scope="module")
def shop17(exports: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("shop17")
    phones = tmp / "linnworks_phones.csv"
    phones.write_text(
        "Order Id,Reference Num,Source,SubSource,Customer Name,Email,Customer Phone,Total\n"
        "20001,#2001,SHOPIFY,Surf Shop,Pat Phone,,07123 000999,10.00\n",
        encoding="utf-8",
    )
    return make_shop(tmp, [*exports, phones])


def test_tagging_a_customer_the_history_never_saw_warns(
    month: Month, shop17: Path, tmp_path: Path
) -> None:
    seen = next(o for o in month.orders if o.channel == "shopify")
    buyer = next(o for o in month.orders if o.channel == "ebay-de")
    cases = [
        ("new.customer@example.com", "tagged new.customer@example.com with VIP\n"
         + NEVER_SEEN.format("new.customer@example.com")),
        ("ebay:somebody_else", "tagged ebay:somebody_else with VIP\n"
         + NEVER_SEEN.format("ebay:somebody_else")),
        ("07123 000888", "tagged +447123000888 with VIP\n" + NEVER_SEEN.format("+447123000888")),
        (seen.email.upper(), f"tagged {seen.name} ({seen.email.upper()}) with VIP\n"),
        (buyer.key, f"tagged {buyer.name} ({buyer.key}) with VIP\n"),
        ("+44 7123 000999", "tagged Pat Phone (+447123000999) with VIP\n"),
    ]  # fmt: skip
    for who, said in cases:
        result = run("tag", who, "--tag", "VIP", "-w", shop17)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == said
    keys = {e.key for e in load_tagbook(shop17 / "tagbook.yaml").entries}
    assert {"new.customer@example.com", "ebay:somebody_else", "+447123000888"} <= keys
    # Without a workspace there is no history to ask: no warning.
    book = tmp_path / "tagbook.yaml"
    book.write_bytes((shop17 / "tagbook.yaml").read_bytes())
    plain = run("tag", "someone@example.com", "--tag", "VIP", "-t", book)
    assert plain.exit_code == 0, plain.stderr
    assert plain.stderr == "tagged someone@example.com with VIP\n"


GB_HINT = (
    "Write it in full as dialled within GB, e.g. 07400 123456, or with its country code, "
    "e.g. +44 7400 123456.\n"
)


@pytest.mark.parametrize(
    ("phone", "why", "hint"),
    [
        ("0770090", "too short for a GB number", GB_HINT),
        ("07700 900123", "no GB number has these digits", GB_HINT),
        ("+44 7123 000999 12", "too long for a GB number", GB_HINT),
        (
            "+1 555 0100",
            "too short for a US number (the area code is missing)",
            "Write it in full as dialled within US, e.g. (201) 555-0123, or with its country "
            "code, e.g. +1 201-555-0123.\n",
        ),
        ("202 555 0100", "no GB number has these digits", GB_HINT),
    ],
)
def test_an_invalid_phone_is_refused(shop17: Path, phone: str, why: str, hint: str) -> None:
    before = (shop17 / "tagbook.yaml").read_bytes()
    result = run("tag", phone, "--tag", "VIP", "-w", shop17)
    assert result.exit_code == 2
    assert result.stderr == f'ordertags: "{phone}" is not a valid phone number: {why}. {hint}'
    assert (shop17 / "tagbook.yaml").read_bytes() == before


def test_phones_are_read_in_the_workspaces_region(tmp_path: Path) -> None:
    shop = make_shop(tmp_path, [], region="US")
    result = run("tag", "202 555 0100", "--tag", "VIP", "-w", shop)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "tagged +12025550100 with VIP\n" + NEVER_SEEN.format("+12025550100")
    refused = run("tag", "0770090", "--tag", "VIP", "-w", shop)
    assert refused.exit_code == 2
    assert refused.stderr.startswith('ordertags: "0770090" is not a valid phone number: ')


def test_what_is_no_identity_is_a_usage_error_and_untag_takes_any_number(shop17: Path) -> None:
    bad = run("tag", "xyz", "--tag", "VIP", "-w", shop17)
    assert bad.exit_code == 2
    assert bad.stderr.startswith('ordertags: "xyz" is not an email address, a phone number ')
    # An entry an older ordertags wrote for an invalid number can still be taken off.
    book = shop17 / "tagbook.yaml"
    text = book.read_text(encoding="utf-8")
    book.write_text(
        text.replace("customers:\n", 'customers:\n  - phone: "+440770090"\n    tags: [VIP]\n', 1),
        encoding="utf-8",
    )
    removed = run("untag", "0770090", "--tag", "VIP", "-w", shop17)
    assert removed.exit_code == 0, removed.stderr
    assert removed.stderr == "removed VIP from 0770090\n"


def test_tag_by_order_takes_the_orders_phone_as_it_is(tmp_path: Path) -> None:
    """An order's phone is the customer's identity however it is written: --order
    tags it (the orders carry it), where typing it would be refused."""
    src = tmp_path / "linnworks.csv"
    src.write_text(
        "Order Id,Reference Num,Source,SubSource,Customer Name,Email,Customer Phone,Total\n"
        "30001,#3001,SHOPIFY,Surf Shop,Dee Drama,,07700 900123,10.00\n",
        encoding="utf-8",
    )
    book = make_shop(tmp_path, []) / "tagbook.yaml"
    result = run("tag", "--order", "30001", "--in", src, "--tag", "VIP", "-t", book)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "tagged Dee Drama (+447700900123) with VIP\n"


@pytest.mark.parametrize("who", ["never.seen@example.com", "0770090"])
def test_tag_in_a_workspace_stays_quick(shop17: Path, tmp_path: Path, who: str) -> None:
    """The history lookups of ``tag`` use the standard library's sqlite3 alone."""
    code = (  # the command ends the process itself (os._exit): look just before
        "import os, sys\n"
        "end = os._exit\n"
        "def leave(status):\n"
        "    heavy = sorted(m for m in ('pyarrow', 'pandas', 'numpy') if m in sys.modules)\n"
        "    print('HEAVY', heavy, flush=True)\n"
        "    end(status)\n"
        "os._exit = leave\n"
        "from ordertags.cli import main\n"
        f"sys.argv = ['ordertags', 'tag', {who!r}, '--tag', 'FRAUD', '-w', {str(shop17)!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []", done.stderr
    assert ("warning: the history has no order" in done.stderr) == ("@" in who)


def test_pruning_orders_drops_their_other_numbers(
    month: Month, exports: list[Path], tmp_path: Path
) -> None:
    """A pruned order's Linnworks id finds nothing, even when a later order gets its
    record's id again."""
    shop = make_shop(tmp_path, [hub_of(exports)])
    pruned = run("history", "prune", "--before", "2027-01-01", "-w", shop)
    assert pruned.exit_code == 0, pruned.stderr
    conn = sqlite3.connect(shop / "history.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM order_aliases").fetchone()[0] == 0
    conn.close()
    later = tmp_path / "later.csv"
    later.write_text(
        "Order Id,Email,Currency,Total,Date\n9001,later@example.com,GBP,10.00,2027-01-05\n",
        encoding="utf-8",
    )
    got = run("ingest", later, "-w", shop)
    assert got.exit_code == 0, got.stderr
    gone = run("customer", month.orders[0].hub_id, "-w", shop)
    assert gone.exit_code == 1
    assert run("customer", "9001", "-w", shop).stdout.startswith("customer later@example.com")
