"""Cron-grade behaviour on ordinary days (issue 9): a header-only export in a workspace,
several platforms' exports in one workspace run, ``--dry-run`` with every action kind,
and an empty run that leaves no stale output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app

from .conftest import AS_OF, ROOT, read_csv

runner = CliRunner()

LINNWORKS_HEADER = (
    "Order Id,Reference Num,Source,Received Date,Customer Name,Email,Phone,Address1,"
    "Town,Postcode,Country,Postal Service,Currency,Subtotal,Shipping Cost,Total,Items,Notes\n"
)
RULES = """\
version: 1
rules:
  - name: Big spenders
    when: {customer: spend, over: 100}
    tag: BIG_SPENDER
  - name: Tracked for big orders
    when: {field: total, over: 50}
    set: {shipping_service: Royal Mail Tracked 24}
    note: Pack with care
    hold: check first
"""


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    result = run("init", tmp_path / "shop")
    assert result.exit_code == 0, result.stderr
    (tmp_path / "shop" / "rules.yaml").write_text(RULES, encoding="utf-8")
    return tmp_path / "shop"


def test_header_only_export_in_a_workspace(shop: Path, tmp_path: Path) -> None:
    """A quiet day: no open orders. The run succeeds and rewrites the output header-only,
    so yesterday's orders are not left for the packers."""
    out = tmp_path / "open_orders.tagged.csv"
    out.write_text("Order Id,Email\n1,stale@example.com\n", encoding="utf-8")
    export = tmp_path / "open_orders.csv"
    export.write_text(LINNWORKS_HEADER, encoding="utf-8")
    result = run("apply", export, "-w", shop, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert "0 orders, 0 customers" in result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Order Id,Reference Num,Source")
    assert "Customer Profile" in lines[0]


def test_header_only_export_dry_run_and_no_record(shop: Path, tmp_path: Path) -> None:
    export = tmp_path / "open_orders.csv"
    export.write_text(LINNWORKS_HEADER, encoding="utf-8")
    for extra in (["--no-record"], ["--dry-run"]):
        result = run("apply", export, "-w", shop, "-o", tmp_path / "o.csv", *extra)
        assert result.exit_code == 0, result.stderr


def test_no_new_orders_twice(shop: Path, tmp_path: Path) -> None:
    src = ROOT / "examples" / "orders.csv"
    first = run("apply", src, "-w", shop, "-o", tmp_path / "a.csv", "--as-of", AS_OF)
    assert first.exit_code == 0, first.stderr
    again = run("apply", src, "-w", shop, "-o", tmp_path / "a.csv", "--as-of", AS_OF)
    assert again.exit_code == 0, again.stderr
    assert "0 new, 0 updated, 16 unchanged" in again.stderr


def test_several_platforms_in_one_workspace_run(shop: Path, tmp_path: Path) -> None:
    """Linnworks has no refunds column, Shopify has one: that is no error."""
    orders = ROOT / "examples" / "orders.csv"
    shopify = ROOT / "examples" / "shopify_orders.csv"
    for extra in (["--no-record"], []):
        out = tmp_path / ("dir" + "".join(extra))
        result = run("apply", orders, shopify, "-w", shop, *extra, "-o", out, "--as-of", AS_OF)
        assert result.exit_code == 0, result.stderr
        assert (out / "orders.csv").exists() and (out / "shopify_orders.csv").exists()


def test_dry_run_with_set_note_and_hold(shop: Path, tmp_path: Path) -> None:
    """``set: {shipping_service: ...}`` writes the export's own column (Postal Service):
    the dry run compares that column and does not stop with a KeyError."""
    rules = shop / "rules.yaml"
    tagbook = shop / "tagbook.yaml"
    src = ROOT / "examples" / "orders.csv"
    out = tmp_path / "out.csv"
    args: list[str | Path] = [
        "apply",
        src,
        "--tagbook",
        tagbook,
        "--rules",
        rules,
        "--as-of",
        AS_OF,
        "-o",
        out,
    ]
    first = run(*args, "--dry-run")
    assert first.exit_code == 0, first.stderr
    assert not out.exists()
    assert run(*args).exit_code == 0
    before = {r["Order Id"]: r["Postal Service"] for r in read_csv(out)}
    again = run(*args, "--dry-run")
    assert again.exit_code == 0, again.stderr
    assert "0 orders of 16 would change" in again.stdout + again.stderr
    assert before["200002"] == "Royal Mail Tracked 24"
