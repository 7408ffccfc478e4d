"""The customer search (``customers --search``, the team screen's search box) by its
index (history version 11: FTS5 trigrams on SQLite, pg_trgm on PostgreSQL) finds
exactly the customers a plain substring search of their identity keys, phones and names
finds, after a first ingest, a second one that merges and renames, a link, and a move
between backends; and the customer page's figures, now read from each customer's kept
facts (history version 11), are what their orders say after each of those.

The expected customers and figures are worked out here in Python from the history's
identities and orders tables, never from the index or the facts."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.api import ingest_files
from ordertags.cli import app
from ordertags.customers.history import History
from ordertags.customers.workspace import Workspace, init_workspace
from ordertags.tagbook import link_identities, load_tagbook

from .conftest import csv_text

HEADER = ["Order Id", "Source", "Received Date", "Customer Name", "Email", "Phone", "Total"]
FIRST = ["Jane", "John", "Ann", "Zoë", "Mary-Kate", "Li", "O'Neil", "Aaron"]
LAST = ["Smith", "Smithson", "Doe", "Ng", "Under_score", "Per%cent", 'Quo"te', "Doolittle"]


def orders(seed: int, count: int, first_id: int) -> list[list[str]]:
    """Orders of people drawn with ``seed``: some known by email, some by phone alone,
    a name spelled two ways now and then."""
    rnd = random.Random(seed)
    rows = []
    for n in range(count):
        person = rnd.randrange(60)
        first, last = FIRST[person % len(FIRST)], LAST[person // len(FIRST) % len(LAST)]
        name = f"{first} {last}" if rnd.random() > 0.2 else f"{first[0]}. {last.upper()}"
        email = f"{first.lower()}.{person}@example.com" if person % 4 else ""
        phone = f"07700 9{person:05d}" if person % 3 else ""
        if not email and not phone:
            phone = f"07700 8{person:05d}"
        rows.append(
            [
                str(first_id + n),
                "SHOP",
                f"2026-0{1 + n % 9}-1{n % 10} 10:00",
                name,
                email,
                phone,
                f"{10 + n % 50}.00",
            ]
        )
    return rows


def expected(history: History, text: str) -> set[int]:
    """The customers whose identity keys, order phones or order names hold ``text`` (any
    case), or, for a phone however spelled, whose keys or phones hold its digits."""
    wanted = text.strip().lower()
    digits = "".join(c for c in wanted if c.isdigit()).lstrip("0")
    phone = digits if len(digits) >= 6 and not wanted.strip("+0123456789 ()-./") else None
    texts: dict[int, list[str]] = {}
    for c, key in history.fetch("SELECT customer, key FROM identities"):
        texts.setdefault(c, []).append(key)
    for c, name, tel in history.fetch("SELECT customer, name, phone FROM orders"):
        texts.setdefault(c, []).extend(t for t in (name, tel) if t)
    known = {r[0] for r in history.fetch("SELECT id FROM customers")}
    return {
        c
        for c in known
        if any(wanted in t.lower() or (phone and phone in t) for t in texts.get(c, []))
    }


def queries(history: History, seed: int) -> list[str]:
    """Pieces of the history's own keys, phones and names (1 to 9 letters), phones as a
    person types them, and texts with LIKE's wildcards and FTS5's quotes in them."""
    rnd = random.Random(seed)
    texts = [r[0] for r in history.fetch("SELECT key FROM identities")]
    texts += [r[0] for r in history.fetch("SELECT name FROM orders WHERE name IS NOT NULL")]
    out = ["%", "_", "r_s", "r%c", '"', 'o"t', "  smith  ", "SMITH", "zoë", "nobody", "07700 9"]
    out += ["07700 900013", "+447700900014", "7700-900-017", "(07700) 900 020", "x", "ng"]
    for _ in range(120):
        t = rnd.choice(texts)
        size = rnd.randint(1, 9)
        start = rnd.randrange(max(1, len(t) - size + 1))
        out.append(t[start : start + size])
    return out


def page_is_right(history: History, key: str) -> None:
    """The customer page's names (most used first), spend per currency, phone counts
    and latest orders are what the customer's own orders in the history say."""
    report = history.customer_report(key, recent=5)
    cid = report.row.id
    rows = history.fetch(
        "SELECT name, total, upper(IFNULL(currency, '')), phone, at, order_id FROM orders "
        "WHERE customer = ?",
        (cid,),
    )
    names = Counter(r[0] for r in rows if r[0] is not None)
    first = {n: min(r[4] for r in rows if r[0] == n) for n in names}  # ties: first given
    assert report.names == sorted(names, key=lambda n: (-names[n], first[n], n))
    spend: Counter[str] = Counter()
    for r in rows:
        spend[r[2]] += r[1]
    assert dict(report.spend) == dict(spend)
    phones = Counter(r[3] for r in rows if r[3] is not None)
    assert {k: n for kind, k, n in report.identities if kind == "phone"} == dict(phones)
    latest = sorted(rows, key=lambda r: (-r[4], -int(r[5])))[:5]
    assert [r[2] for r in report.recent] == [r[5] for r in latest]


def check(ws: Workspace, seed: int) -> int:
    """Every query finds what the brute-force search finds, and customer pages show
    what their orders say; returns how many queries found some."""
    found_any = 0
    with ws.open_history() as history:
        for (key,) in history.fetch("SELECT key FROM customers ORDER BY id LIMIT 25"):
            page_is_right(history, key)
        for text in queries(history, seed):
            if not text.strip():
                continue
            got = {r.id for r in history.list_customers(search=text, limit=None)}
            assert got == expected(history, text), text
            found_any += bool(got)
    return found_any


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "shop").workspace


def export(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    path = tmp_path / name
    path.write_text(csv_text(HEADER, rows), encoding="utf-8")
    return path


@pytest.mark.usefixtures("backend")
def test_the_search_finds_what_a_substring_search_finds_after_each_ingest_and_link(
    ws: Workspace, tmp_path: Path
) -> None:
    ingest_files([export(tmp_path, "a.csv", orders(1, 150, 1000))], workspace=ws)
    assert check(ws, 11) > 60
    # Again: the same orders renamed (an update), new ones merging people by a shared
    # phone and email.
    second = orders(1, 150, 1000)[:40]
    for row in second:
        row[3] = "Renamed Person"
    second += orders(2, 120, 5000)
    merged = list(second[-1])
    merged[0], merged[4] = "9999", "jane.0@example.com"
    second.append(merged)
    ingest_files([export(tmp_path, "b.csv", second)], workspace=ws)
    with ws.open_history() as history:
        renamed = history.list_customers(search="renamed person", limit=None)
        assert renamed and len(renamed) == len(expected(history, "renamed person"))
    assert check(ws, 12) > 60
    # A link joins two customers: the search text follows.
    link_identities(ws.tagbook, "jane.0@example.com", "john.1@example.com")
    link_identities(ws.tagbook, "ann.2@example.com", "07700 900005")
    with ws.open_history() as history:
        assert history.sync_tagbook(load_tagbook(ws.tagbook))
    assert check(ws, 13) > 60


def test_the_search_index_is_written_afresh_by_migrate_both_ways(
    ws: Workspace, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERTAGS_DATABASE", raising=False)
    ingest_files([export(tmp_path, "a.csv", orders(3, 200, 1000))], workspace=ws)
    with ws.open_history() as history:
        before = {
            q: {r.key for r in history.list_customers(search=q, limit=None)}
            for q in ["smi", "an", "07700 900013", "per%"]
        }
        assert all(before.values())
    runner = CliRunner()
    for to in (pg_url, "sqlite"):
        moved = runner.invoke(app, ["migrate", "--to", to, "-w", str(ws.root)])
        assert moved.exit_code == 0, moved.stderr
        with Workspace(ws.root).open_history() as history:
            assert history.backend == ("postgresql" if to == pg_url else "sqlite")
            after = {
                q: {r.key for r in history.list_customers(search=q, limit=None)} for q in before
            }
        assert after == before
        assert check(Workspace(ws.root), 21) > 60


def test_the_search_is_served_by_a_trigram_index(ws: Workspace, backend: str) -> None:
    with ws.open_history() as history:
        if backend == "sqlite":
            row = history.fetch("SELECT sql FROM sqlite_master WHERE name = 'customer_search'")
            assert "fts5" in row[0][0] and "trigram" in row[0][0]
        else:
            names = {
                r[0]
                for r in history.fetch(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_search' "
                    "AND schemaname = current_schema()"
                )
            }
            assert {"customer_search_keys", "customer_search_names"} <= names
