"""The workspace commands through the CLI: init, apply/ingest with a history, customers,
customer, history stats/prune, link/unlink, suspects, and their messages."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.base.version import VERSION
from ordertags.cli import app

from .conftest import AS_OF, csv_text, read_csv

runner = CliRunner()
HEADER = [
    "Order Id",
    "Source",
    "Received Date",
    "Customer Name",
    "Email",
    "Phone",
    "Address1",
    "Postcode",
    "Total",
]
PAST = [
    [
        "1",
        "SHOPIFY",
        "2026-01-10 10:00",
        "Jane Doe",
        "Jane.Doe@gmail.com",
        "07700 900456",
        "12 Rose Street",
        "EH2 2PR",
        "700.00",
    ],
    [
        "2",
        "EBAY",
        "2026-03-01 10:00",
        "Doe, Jane",
        "jdoe@work.example",
        "+44 7700 900456",
        "12 Rose Street",
        "EH2 2PR",
        "350.00",
    ],
    [
        "3",
        "ETSY",
        "2026-04-01 10:00",
        "Bob Brown",
        "bob@example.org",
        "07700 900111",
        "1 Mill Lane",
        "LS1 4AP",
        "20.00",
    ],
    [
        "4",
        "DIRECT",
        "2026-05-01 10:00",
        "Rob Marsh",
        "rob@example.org",
        "07700 900111",
        "9 Oak Road",
        "M1 1AA",
        "30.00",
    ],
]
TODAY = [
    ["9", "SHOPIFY", "2026-11-25 09:00", "Jane Doe", "janedoe+x@gmail.com", "", "", "", "5.00"]
]
RULES = """\
version: 1
rules:
  - name: Big spenders
    when: {customer: spend, over: 1000, within_days: 365}
    tag: BIG_SPENDER
"""


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    result = run("init", tmp_path / "shop")
    assert result.exit_code == 0, result.stderr
    (tmp_path / "shop" / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "past.csv").write_text(csv_text(HEADER, PAST), encoding="utf-8")
    (tmp_path / "today.csv").write_text(csv_text(HEADER, TODAY), encoding="utf-8")
    return tmp_path / "shop"


def test_init_says_what_it_made(tmp_path: Path) -> None:
    result = run("init", tmp_path / "s", "--default-region", "ie")
    assert result.exit_code == 0
    assert result.stderr == (
        f"workspace {tmp_path / 's'}: created tagbook.yaml, rules.yaml, "
        "history.sqlite, .gitignore\n"
    )
    again = run("init", tmp_path / "s")
    assert again.stderr == (
        f"workspace {tmp_path / 's'}: kept tagbook.yaml, rules.yaml, history.sqlite\n"
    )
    stats = run("history", "stats", "-w", tmp_path / "s")
    assert "phone region IE" in stats.stdout


def test_bad_region_is_a_usage_error(tmp_path: Path) -> None:
    result = run("init", tmp_path / "s", "--default-region", "XX")
    assert result.exit_code == 2
    assert result.stderr == (
        'ordertags: "XX" is not a region code phonenumbers knows. Give a '
        "two-letter country code such as GB, US, DE or FR.\n"
    )


def test_apply_in_a_workspace_needs_no_paths(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("ingest", tmp_path / "past.csv", "-w", shop).exit_code == 0
    monkeypatch.chdir(shop)
    result = run("apply", tmp_path / "today.csv", "-o", tmp_path / "out.csv", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert read_csv(tmp_path / "out.csv")[0]["Customer Tags"] == "BIG_SPENDER"
    assert "history: 1 order from 1 export: 1 new, 0 updated, 0 unchanged" in result.stderr
    assert "1 order, 1 customer; as of 2026-11-26" in result.stderr


def test_apply_finds_the_workspace_through_the_environment(shop: Path, tmp_path: Path) -> None:
    run("ingest", tmp_path / "past.csv", "-w", shop)
    env = {"ORDERTAGS_WORKSPACE": str(shop)}
    result = run(
        "apply",
        tmp_path / "today.csv",
        "-o",
        tmp_path / "out.csv",
        "--as-of",
        AS_OF,
        "--no-record",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    assert read_csv(tmp_path / "out.csv")[0]["Customer Tags"] == "BIG_SPENDER"
    assert "history:" not in result.stderr
    stats = run("history", "stats", env=env)
    assert "4 orders, 3 customers; orders from 2026-01-10 to 2026-05-01" in stats.stdout


def test_apply_without_tag_book_or_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "o.csv").write_text(csv_text(HEADER, TODAY), encoding="utf-8")
    result = run("apply", "o.csv", "-o", "out.csv")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for --tagbook: no tag book: give --tagbook FILE, or run in a "
        "workspace (see `ordertags init`), or name one with --workspace DIR or "
        "ORDERTAGS_WORKSPACE.\n"
    )


def test_a_named_folder_that_is_no_workspace(tmp_path: Path) -> None:
    result = run("customers", "-w", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"ordertags: {tmp_path} (--workspace) is not an ordertags workspace: it has no "
        f"history.sqlite. Create one with `ordertags init {tmp_path}`, or fix the path.\n"
    )


def test_ingest_twice_and_the_customers(shop: Path, tmp_path: Path) -> None:
    first = run("ingest", tmp_path / "past.csv", "-w", shop)
    assert first.stderr == "4 orders from 1 export: 4 new, 0 updated, 0 unchanged\n"
    second = run("ingest", tmp_path / "past.csv", "-w", shop)
    assert second.stderr == "4 orders from 1 export: 0 new, 0 updated, 4 unchanged\n"
    listed = run("customers", "-w", shop)
    assert listed.exit_code == 0
    assert listed.stdout.splitlines()[2:] == [
        "janedoe@gmail.com         2  1,050.00  2026-01-10  2026-03-01",
        "rob@example.org           1     30.00  2026-05-01  2026-05-01",
        "bob@example.org           1     20.00  2026-04-01  2026-04-01",
    ]
    found = run("customers", "--search", "work.example", "-w", shop)
    assert [ln.split()[0] for ln in found.stdout.splitlines()[2:]] == ["janedoe@gmail.com"]


def test_customer_shows_identities_tags_and_orders(shop: Path, tmp_path: Path) -> None:
    run("ingest", tmp_path / "past.csv", "-w", shop)
    run(
        "tag", "jdoe@work.example", "--tag", "VIP", "--note", "Wholesale", "--by", "sam", "-w", shop
    )
    result = run("customer", "07700 900456", "-w", shop)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("customer janedoe@gmail.com (Jane Doe, Doe, Jane)\n")
    for line in (
        "email       janedoe@gmail.com         1",
        "email       jdoe@work.example         1",
        "phone+name  +447700900456 doe         2",
        "address     EH22PR 12                 2",
        "orders 2, spend 1,050.00, refunds 0 (0.00), first 2026-01-10, last 2026-03-01",
        "2026-03-01  ebay       2         350.00            jdoe@work.example",
    ):
        assert line in out.splitlines(), line
    assert "VIP     by hand  sam" in out and "Wholesale" in out


def test_tag_by_order_from_the_history(shop: Path, tmp_path: Path) -> None:
    run("ingest", tmp_path / "past.csv", "-w", shop)
    result = run("tag", "--order", "#3", "--tag", "FRAUD", "-w", shop)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "tagged Bob Brown (bob@example.org) with FRAUD\n"
    missing = run("tag", "--order", "77", "--tag", "FRAUD", "-w", shop)
    assert missing.exit_code == 1
    assert missing.stderr == (
        f'ordertags: {shop / "history.sqlite"}: no order "77" in the '
        "history. Check the order number, or give the export with --in.\n"
    )


def test_link_unlink_and_suspects(shop: Path, tmp_path: Path) -> None:
    run("ingest", tmp_path / "past.csv", "-w", shop)
    run("tag", "rob@example.org", "--tag", "FRAUD", "-w", shop)
    found = run("suspects", "-w", shop)
    assert found.exit_code == 0, found.stderr
    assert found.stdout.splitlines()[2] == (
        "bob@example.org          rob@example.org         FRAUD   "
        "same phone +447700900111 (brown / marsh)"
    )
    assert found.stderr == (
        "1 pair of possibly the same customer; `ordertags link A B` joins "
        "a pair, `ordertags unlink A B` dismisses it\n"
    )
    linked = run("link", "bob@example.org", "rob@example.org", "--note", "same man", "-w", shop)
    assert linked.stderr == "bob@example.org and rob@example.org are now the same person\n"
    assert run("link", "bob@example.org", "ROB@example.org", "-w", shop).stderr == (
        "bob@example.org and ROB@example.org were already the same person; nothing changed\n"
    )
    run("apply", tmp_path / "past.csv", "-o", tmp_path / "out.csv", "-w", shop, "--as-of", AS_OF)
    tags = {r["Order Id"]: r["Customer Tags"] for r in read_csv(tmp_path / "out.csv")}
    assert tags["3"] == tags["4"] == "FRAUD"
    unlinked = run("unlink", "bob@example.org", "rob@example.org", "-w", shop)
    assert unlinked.stderr == (
        "bob@example.org and rob@example.org are now different people "
        "(replacing 1 earlier opposite entry)\n"
    )
    assert run("suspects", "-w", shop).stderr == "0 pairs of possibly the same customer\n"
    text = (shop / "tagbook.yaml").read_text(encoding="utf-8")
    assert "  - different: [bob@example.org, rob@example.org]\n" in text
    assert text.startswith("# ordertags tag book:")
    bad = run("link", "bob@example.org", "not a phone", "-w", shop)
    assert bad.exit_code == 2
    assert bad.stderr == (
        'ordertags: "not a phone" is not an email address, a phone number or a buyer id. '
        "Give an email (jane@example.com), a phone number (+447400123456; numbers without a "
        "country code are read as GB numbers) or a marketplace buyer id (ebay:NAME, "
        "amazon:ID, etsy:ID).\n"
    )


def test_suspects_in_exports_without_a_workspace(tmp_path: Path, tagbook: Path) -> None:
    (tmp_path / "past.csv").write_text(csv_text(HEADER, PAST), encoding="utf-8")
    result = run("suspects", tmp_path / "past.csv", "-t", tagbook)
    assert result.exit_code == 0, result.stderr
    # Without a history, phone and surname do not merge: Jane's two emails are a suspect.
    assert [ln.split()[:2] for ln in result.stdout.splitlines()[2:]] == [
        ["janedoe@gmail.com", "jdoe@work.example"],
        ["bob@example.org", "rob@example.org"],
    ]


def test_history_prune(shop: Path, tmp_path: Path) -> None:
    run("ingest", tmp_path / "past.csv", "-w", shop)
    result = run("history", "prune", "--before", "2026-03-15", "-w", shop)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "pruned 2 orders dated before 2026-03-15: 1 customer and "
        "3 identities left with none removed\n"
    )
    assert "2 orders, 2 customers" in run("history", "stats", "-w", shop).stdout
    bad = run("history", "prune", "--before", "March", "-w", shop)
    assert bad.exit_code == 2


def test_newer_history_is_refused_with_exit_1(shop: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(shop / "history.sqlite")
    conn.execute("PRAGMA user_version = 12")
    conn.close()
    result = run("apply", tmp_path / "today.csv", "-o", tmp_path / "out.csv", "-w", shop)
    assert result.exit_code == 1
    assert result.stderr == (
        f"ordertags: {shop / 'history.sqlite'}: the history was written by a newer ordertags "
        f"(schema version 12; ordertags {VERSION} reads up to version 11). Upgrade ordertags "
        "(pip install -U ordertags); this version will not touch the file.\n"
    )
    assert not (tmp_path / "out.csv").exists()


def test_new_commands_have_help_with_an_example() -> None:
    for args in (
        ["init"],
        ["ingest"],
        ["customers"],
        ["customer"],
        ["history", "stats"],
        ["history", "prune"],
        ["link"],
        ["unlink"],
        ["suspects"],
    ):
        result = run(*args, "--help")
        assert result.exit_code == 0, args
        assert "Example: ordertags" in result.stdout, args


def test_quick_commands_stay_quick(shop: Path) -> None:
    """link, unlink, tag and tags load neither pandas nor pyarrow (nor numpy)."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ordertags.cli import app\n"
        f"w = {str(shop)!r}\n"
        "for args in (['link', 'a@example.com', '07700 900123', '-w', w],\n"
        "             ['unlink', 'a@example.com', 'b@example.com', '-w', w],\n"
        "             ['tag', 'a@example.com', '--tag', 'VIP', '-w', w], ['tags', '-w', w]):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_recording_needs_an_order_id_column(shop: Path, tmp_path: Path) -> None:
    (tmp_path / "noid.csv").write_text(
        "Email,Total,Received Date\na@example.com,5.00,2026-11-01\n", encoding="utf-8"
    )
    result = run("apply", tmp_path / "noid.csv", "-o", tmp_path / "out.csv", "-w", shop)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"ordertags: {tmp_path / 'noid.csv'}: no order id column (looked for: Order Id, "
        "Order ID, OrderId, Order Number, Order No, Order #, ...), so its orders cannot be "
        "recorded in the history. Name the column with --order-id-column, or leave the "
        "history out with --no-record."
    )
    again = run(
        "apply", tmp_path / "noid.csv", "-o", tmp_path / "out.csv", "-w", shop, "--no-record"
    )
    assert again.exit_code == 0, again.stderr
