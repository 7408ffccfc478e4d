"""A first ingest into an empty history builds the secondary indexes after loading the
rows (a sort each, not one B-tree insertion per row): the history it leaves, what
``customers`` shows and what a later ingest does are the same as with the indexes kept
up row by row, and SQLite finds the file sound."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.ingest import HistoryIngest
from ordertags.storage.sqlite import open_sqlite

from .conftest import csv_text

runner = CliRunner()
HEADER = ["Order Id", "Source", "Received Date", "Customer Name", "Email", "Phone", "Total"]
TABLES = ("identities", "orders", "customers", "order_aliases", "links", "tag_log")


def _orders(n: int, seed: int, first_id: int) -> list[list[str]]:
    """Orders of a few hundred customers: repeat buyers, email case and Gmail-dot
    variants, shared phones that join customers, no email at all now and then."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        c = rng.randrange(max(2, n // 6))
        local = f"buyer.{c}" if c % 3 else f"Buyer.{c}"
        email = "" if rng.random() < 0.03 else f"{local}@{'gmail.com' if c % 2 else 'shop.example'}"
        phone = f"07{(c // 2) * 7919 % 10**9:09d}" if c % 5 else ""
        rows.append(
            [
                str(first_id + i),
                rng.choice(["EBAY", "AMAZON", "SHOPIFY", "DIRECT"]),
                f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d} 10:00",
                f"Name{c // 2} Surname{c // 2}",
                email,
                phone,
                f"{rng.randint(100, 90000) / 100:.2f}",
            ]
        )
    return rows


def _dump(history: Path) -> dict[str, object]:
    with sqlite3.connect(history) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        dump: dict[str, object] = {
            t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in TABLES
        }
        dump["meta"] = sorted(conn.execute("SELECT * FROM meta WHERE key = 'next_customer'"))
        dump["schema"] = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    return dump


ORDER_TABLES = ("orders", "order_aliases", "identities")


def _run(tmp_path: Path, name: str, deferred: bool, mp: pytest.MonkeyPatch) -> dict[str, object]:
    real = HistoryIngest._defer_indexes
    rebuilt: list[str] = []

    def spy(self: HistoryIngest) -> list[str]:
        found = real(self)
        rebuilt.extend(found)
        return found

    mp.setattr(HistoryIngest, "_defer_indexes", spy if deferred else lambda self: [])
    ws = tmp_path / name
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    first = tmp_path / "first.csv"
    more = tmp_path / "more.csv"
    first.write_text(csv_text(HEADER, _orders(3000, 1, 1000)), encoding="utf-8")
    # The second export repeats some orders (changed totals) and adds new ones.
    again = _orders(3000, 1, 1000)[::7]
    for row in again[::2]:
        row[6] = "1.00"
    more.write_text(csv_text(HEADER, again + _orders(800, 2, 9000)), encoding="utf-8")
    out: dict[str, object] = {}
    for i, path in enumerate((first, more)):
        done = runner.invoke(app, ["ingest", str(path), "-w", str(ws), "-q"])
        assert done.exit_code == 0, done.stderr
        listed = runner.invoke(app, ["customers", "-w", str(ws), "--limit", "100000"])
        assert listed.exit_code == 0, listed.stderr
        out[f"customers {i}"] = listed.stdout
        out[f"history {i}"] = _dump(ws / "history.sqlite")
    mp.undo()
    # Deferred: the indexes rebuilt; kept: the secondary indexes the schema has on the
    # tables a first load fills (orders, order_aliases, identities): the ones to rebuild.
    schema = out["history 1"]["schema"]  # type: ignore[index]
    secondary = [r for r in schema if r[0] == "index" and r[3] and r[2] in ORDER_TABLES]
    out["rebuilt"] = len(rebuilt) if deferred else len(secondary)
    return out


def test_first_ingest_builds_indexes_after_the_rows_same_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = _run(tmp_path, "bulk", True, monkeypatch)
    # The first ingest dropped and rebuilt the secondary indexes; the second none.
    kept = _run(tmp_path, "kept", False, monkeypatch)
    assert bulk.keys() == kept.keys()
    for key in kept:
        assert bulk[key] == kept[key], key
    # Something was recorded and merged: the comparison is not of two empty histories.
    history = kept["history 1"]
    assert isinstance(history, dict)
    assert len(history["orders"]) == 3800
    assert 300 < len(history["customers"]) < 1000
    # Every index of a new history is there after the first load, as the schema has it.
    names = {row[1] for row in history["schema"] if row[0] == "index"}
    assert {"orders_key", "orders_customer", "identities_customer", "order_aliases_alias"} <= names


def test_an_index_is_kept_up_once_the_history_holds_orders(tmp_path: Path) -> None:
    """Only a first load rebuilds: with orders held, nothing is dropped."""
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (tmp_path / "a.csv").write_text(csv_text(HEADER, _orders(50, 3, 1)), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "a.csv"), "-w", str(ws)]).exit_code == 0
    path = ws / "history.sqlite"
    history = HistoryIngest(open_sqlite(path, create=False, lock_timeout=5.0))
    try:
        assert history._defer_indexes() == []
    finally:
        history.close()
