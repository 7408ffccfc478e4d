"""The order history and customer identity: ingest, merging, links, suspects, windowed
measures, and the history's behaviour under concurrency, crashes and newer versions."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordertags.api import apply_files, ingest_files
from ordertags.base import keys as K
from ordertags.base.version import VERSION
from ordertags.customers.history import SCHEMA_VERSION, IngestReport, open_history
from ordertags.customers.identity import (
    address_keys,
    connected_components,
    phone_keys,
    split_components,
    surnames,
)
from ordertags.customers.workspace import Workspace, find_workspace, init_workspace
from ordertags.errors import HistoryError, WorkspaceError
from ordertags.tagbook import link_identities, tag_customer, unlink_identities

from .conftest import ROOT, csv_text, read_csv

# On each storage backend (SQLite, PostgreSQL): the same figures.
pytestmark = pytest.mark.usefixtures("backend")

AS_OF = dt.date(2026, 11, 26)
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
TAGBOOK = """\
# a test tag book
version: 1
tags:
  - name: FRAUD
    colour: red
    priority: 100
  - name: VIP
    colour: gold
    priority: 50
  - name: BIG
    colour: blue
    priority: 40
  - name: REGULAR
    colour: teal
    priority: 30
  - name: RECENT
    colour: green
    priority: 20
customers: []
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    report = init_workspace(tmp_path / "shop")
    report.workspace.tagbook.write_text(TAGBOOK, encoding="utf-8")
    report.workspace.rules.write_text("version: 1\nrules: []\n", encoding="utf-8")
    return report.workspace


@pytest.fixture
def export(tmp_path: Path) -> Callable[..., Path]:
    """export(name, rows) -> a CSV with HEADER; each row a list or a dict of overrides."""

    def _export(name: str, rows: list[list[str]]) -> Path:
        path = tmp_path / name
        path.write_text(csv_text(HEADER, rows), encoding="utf-8")
        return path

    return _export


def order(
    oid: str,
    email: str,
    total: str = "10.00",
    date: str = "2026-06-01 10:00",
    name: str = "Jane Doe",
    phone: str = "",
    address: str = "",
    postcode: str = "",
    source: str = "SHOP",
) -> list[str]:
    return [oid, source, date, name, email, phone, address, postcode, total]


def ingest(ws: Workspace, *paths: Path) -> IngestReport:
    return ingest_files(list(paths), workspace=ws)


def customers(ws: Workspace) -> list[tuple[str, int, int]]:
    """(key, orders, spend in ten-thousandths) of every customer, by key."""
    with ws.open_history() as h:
        return sorted((c.key, c.orders, c.spend) for c in h.list_customers(limit=None))


def tags_of(
    ws: Workspace, path: Path, tmp_path: Path, rules: str | None = None, *, record: bool = True
) -> dict[str, str]:
    if rules is not None:
        ws.rules.write_text(textwrap.dedent(rules), encoding="utf-8")
    out = tmp_path / f"{path.stem}.out.csv"
    apply_files(
        [path],
        tagbook=ws.tagbook,
        rules=ws.rules,
        output=out,
        as_of=AS_OF,
        workspace=ws,
        record=record,
    )
    return {r["Order Id"]: r["Customer Tags"] for r in read_csv(out)}


# --- workspace ------------------------------------------------------------------------


@pytest.mark.sqlite_file
@pytest.mark.sqlite_file
def test_init_writes_valid_starters_and_keeps_existing_files(tmp_path: Path) -> None:
    from ordertags.rules import load_rules
    from ordertags.tagbook import load_tagbook

    report = init_workspace(tmp_path / "new")
    assert report.created == ["tagbook.yaml", "rules.yaml", "history.sqlite", ".gitignore"]
    book = load_tagbook(report.workspace.tagbook)
    load_rules(report.workspace.rules).check_tags(book)
    assert "history.sqlite" in (tmp_path / "new" / ".gitignore").read_text()
    report.workspace.tagbook.write_text(TAGBOOK, encoding="utf-8")
    again = init_workspace(tmp_path / "new")
    assert again.created == [] and "tagbook.yaml" in again.kept
    assert report.workspace.tagbook.read_text(encoding="utf-8") == TAGBOOK


def test_workspace_is_found_explicitly_by_environment_and_in_cwd(
    ws: Workspace, tmp_path: Path
) -> None:
    assert find_workspace(ws.root) == ws
    assert find_workspace(env={"ORDERTAGS_WORKSPACE": str(ws.root)}, cwd=tmp_path) == ws
    assert find_workspace(env={}, cwd=ws.root) == ws
    assert find_workspace(env={}, cwd=tmp_path) is None
    with pytest.raises(WorkspaceError) as err:
        find_workspace(tmp_path / "nowhere")
    assert str(err.value) == (
        f"{tmp_path / 'nowhere'} (--workspace) is not an ordertags workspace: it does not "
        f"exist. Create one with `ordertags init {tmp_path / 'nowhere'}`, or fix the path."
    )
    assert err.value.exit_code == 2


# --- ingest ---------------------------------------------------------------------------


@pytest.mark.sqlite_file
@pytest.mark.sqlite_file
def test_ingest_is_idempotent_and_updates_changed_orders(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    first = export(
        "a.csv",
        [
            order("1", "jane@example.com", "10.00"),
            order("2", "jane@example.com", "20.00"),
            order("3", "bob@example.com", "5.50"),
        ],
    )
    report = ingest(ws, first)
    assert (report.read, report.new, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert customers(ws) == [("bob@example.com", 1, 55_000), ("jane@example.com", 2, 300_000)]
    db = ws.history_path.read_bytes()
    again = ingest(ws, first)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert ws.history_path.read_bytes() == db  # nothing written at all
    # Order 2 refunded down to 12.00, order 4 new; same order ids, no duplicates.
    second = export(
        "b.csv", [order("2", "jane@example.com", "12.00"), order("4", "bob@example.com", "1.00")]
    )
    later = ingest(ws, second)
    assert (later.new, later.updated, later.unchanged) == (1, 1, 0)
    assert customers(ws) == [("bob@example.com", 2, 65_000), ("jane@example.com", 2, 220_000)]
    with ws.open_history() as h:
        assert h.stats().orders == 4


def test_same_order_id_on_two_channels_is_two_orders(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(
        ws,
        export(
            "a.csv",
            [
                order("1", "a@example.com", source="EBAY"),
                order("1", "a@example.com", source="AMAZON"),
            ],
        ),
    )
    assert customers(ws) == [("a@example.com", 2, 200_000)]


def test_rows_without_order_id_are_counted_not_recorded(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    report = ingest(ws, export("a.csv", [order("", "a@example.com"), order("7", "a@example.com")]))
    assert (report.new, report.skipped) == (1, 1)


def test_interrupted_ingest_leaves_the_history_as_it_was(
    ws: Workspace, export: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(ws, export("a.csv", [order("1", "jane@example.com")]))
    before = customers(ws)
    from ordertags.customers import history

    def boom(self: object, customers: object) -> None:
        raise KeyboardInterrupt  # after the orders were written, before the commit

    monkeypatch.setattr(history.History, "_refresh", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest(ws, export("b.csv", [order("2", "jane@example.com"), order("3", "new@example.com")]))
    monkeypatch.undo()
    assert customers(ws) == before
    with ws.open_history() as h:
        assert h.stats().orders == 1


def test_killed_ingest_leaves_the_history_as_it_was(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(ws, export("a.csv", [order("1", "jane@example.com")]))
    big = export("b.csv", [order(str(i), f"c{i}@example.com") for i in range(2, 500)])
    script = textwrap.dedent(f"""
        import os
        from ordertags.customers import history
        from ordertags.api import ingest_files
        from ordertags.customers.workspace import find_workspace
        def die(self, customers):
            os._exit(9)  # the process dies mid-transaction: no rollback, no cleanup
        history.History._refresh = die
        ingest_files([{str(big)!r}], workspace=find_workspace({str(ws.root)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert proc.returncode == 9
    assert customers(ws) == [("jane@example.com", 1, 100_000)]
    report = ingest(ws, big)  # and the history still works
    assert report.new == 498


def test_two_writers_at_once_both_land(ws: Workspace, export: Callable[..., Path]) -> None:
    files = [
        export(f"{k}.csv", [order(f"{k}{i}", f"{k}{i % 50}@example.com") for i in range(3000)])
        for k in ("a", "b")
    ]
    script = textwrap.dedent(f"""
        import sys
        from ordertags.api import ingest_files
        from ordertags.customers.workspace import find_workspace
        ingest_files([sys.argv[1]], workspace=find_workspace({str(ws.root)!r}))
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(f)], stderr=subprocess.PIPE)
        for f in files
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with ws.open_history() as h:
        assert h.stats().orders == 6000
        assert h.stats().customers == 100


@pytest.mark.sqlite_file
@pytest.mark.sqlite_file
def test_a_locked_history_is_waited_for_then_reported(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    blocker = sqlite3.connect(ws.history_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with (
            open_history(ws.history_path, lock_timeout=0.2) as h,
            pytest.raises(HistoryError) as err,
        ):
            h.remember_tags([1], ["VIP"], AS_OF)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert str(err.value) == (
        f"{ws.history_path}: the history is locked by another ordertags (waited 0.2 s). "
        "Another ingest or apply is writing to it: try again when it has finished. If none "
        "is running, check that nothing else holds the file open."
    )


@pytest.mark.sqlite_file
def test_a_history_from_a_newer_ordertags_is_refused(ws: Workspace) -> None:
    conn = sqlite3.connect(ws.history_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(HistoryError) as err:
        open_history(ws.history_path)
    assert str(err.value) == (
        f"{ws.history_path}: the history was written by a newer ordertags (schema version "
        f"{SCHEMA_VERSION + 1}; ordertags {VERSION} reads up to version {SCHEMA_VERSION}). "
        "Upgrade ordertags (pip install -U ordertags); this version will not touch the file."
    )


def test_another_sqlite_file_is_not_a_history(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(HistoryError, match="this SQLite database is not an ordertags history"):
        open_history(path)


@pytest.mark.sqlite_file
def test_migrations_run_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ordertags.customers import store

    path = tmp_path / "h.sqlite"
    open_history(path, create=True).close()
    nxt = store.SCHEMA_VERSION + 1
    monkeypatch.setattr(store, "SCHEMA_VERSION", nxt)
    monkeypatch.setattr(
        store, "MIGRATIONS", [*store.MIGRATIONS, (nxt, "CREATE TABLE extra (x INTEGER);\n")]
    )
    open_history(path).close()
    open_history(path).close()  # a second open finds it migrated
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == nxt
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.sqlite_file
@pytest.mark.sqlite_file
def test_prune_deletes_old_orders_and_what_only_they_used(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(
        ws,
        export(
            "a.csv",
            [
                order("1", "old@example.com", date="2019-05-01 10:00"),
                order("2", "both@example.com", "7.00", date="2019-06-01"),
                order("3", "both@example.com", "3.00", date="2026-01-01"),
            ],
        ),
    )
    with ws.open_history() as h:
        report = h.prune(dt.date(2020, 1, 1))
        assert (report.orders, report.customers) == (2, 1)
        assert h.find_customer("both@example.com") > 0
        with pytest.raises(HistoryError, match='no customer "old@example.com"'):
            h.find_customer("old@example.com")
    assert customers(ws) == [("both@example.com", 1, 30_000)]
    assert b"old@example.com" not in ws.history_path.read_bytes()


# --- identity and merging -------------------------------------------------------------


def test_email_variants_are_one_customer(ws: Workspace, export: Callable[..., Path]) -> None:
    ingest(
        ws,
        export(
            "a.csv",
            [
                order("1", "Jane.Doe@gmail.com"),
                order("2", "janedoe+shop@googlemail.com"),
                order("3", " JANEDOE@GMAIL.COM "),
            ],
        ),
    )
    assert customers(ws) == [("janedoe@gmail.com", 3, 300_000)]


def test_same_phone_and_surname_merges_across_exports(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(ws, export("a.csv", [order("1", "jane@home.example", phone="07700 900123")]))
    report = ingest(
        ws,
        export(
            "b.csv",
            [
                order("2", "j.doe@work.example", name="Doe, Jane", phone="+44 7700 900123"),
                order("3", "other@example.com", name="Jane Smith", phone="07700900123"),
            ],
        ),
    )
    assert report.merged == 0  # the new email joined the customer; nothing to merge
    assert customers(ws) == [("j.doe@work.example", 2, 200_000), ("other@example.com", 1, 100_000)]
    with ws.open_history() as h:
        rep = h.customer_report("j.doe@work.example")
        assert {(k, v) for k, v, _ in rep.identities} >= {
            ("email", "jane@home.example"),
            ("email", "j.doe@work.example"),
            ("phone+name", "+447700900123 doe"),
        }


def test_evidence_joining_two_customers_merges_them(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(
        ws,
        export(
            "a.csv",
            [
                order("1", "a@example.com", "30.00"),
                order("2", "b@example.com", "12.00", phone="0161 496 0000"),
            ],
        ),
    )
    report = ingest(ws, export("b.csv", [order("3", "a@example.com", "1.00", phone="01614960000")]))
    assert report.merged == 1
    assert customers(ws) == [("a@example.com", 3, 430_000)]


def test_links_join_and_unlinks_split(
    ws: Workspace, export: Callable[..., Path], tmp_path: Path
) -> None:
    path = export(
        "a.csv",
        [
            order("1", "jane@home.example", "600.00", phone="07700 900123"),
            order("2", "j.doe@work.example", "500.00", phone="07700 900123"),
            order("3", "mum@home.example", "10.00", name="Ann Smith", phone="07700 900123"),
            order("4", "work@example.com", "2.00", name="Someone Else"),
            order("5", "", "1.00", name="Kid", phone="07700 900999"),
        ],
    )
    rules = """\
        version: 1
        rules:
          - {name: Big, when: {customer: spend, over: 1000}, tag: BIG}
    """
    tags = tags_of(ws, path, tmp_path, rules)
    assert tags == {"1": "BIG", "2": "BIG", "3": "", "4": "", "5": ""}
    # By hand: work@ is Jane too, and so is the phone 07700 900999 (any name).
    link_identities(ws.tagbook, "jane@home.example", "work@example.com")
    link_identities(ws.tagbook, "j.doe@work.example", "07700 900999")
    tag_customer(ws.tagbook, "work@example.com", ["VIP"])
    assert tags_of(ws, path, tmp_path) == {
        "1": "VIP; BIG",
        "2": "VIP; BIG",
        "3": "",
        "4": "VIP; BIG",
        "5": "VIP; BIG",
    }
    assert customers(ws) == [
        ("j.doe@work.example", 4, 11_030_000),
        ("mum@home.example", 1, 100_000),
    ]
    # Unlink: the two emails are different people, whatever the phone says.
    unlink_identities(ws.tagbook, "jane@home.example", "j.doe@work.example")
    tags = tags_of(ws, path, tmp_path)
    assert tags["1"] != tags["2"]
    assert "BIG" not in tags["1"] + tags["2"]
    with ws.open_history() as h:
        assert h.find_customer("jane@home.example") != h.find_customer("j.doe@work.example")
    # Link again: the "different" entry goes, they are one person again.
    link_identities(ws.tagbook, "jane@home.example", "j.doe@work.example")
    assert tags_of(ws, path, tmp_path)["1"] == "VIP; BIG"
    text = ws.tagbook.read_text(encoding="utf-8")
    assert text.startswith("# a test tag book\n") and "different:" not in text


def test_a_customer_tag_reaches_an_order_without_email(
    ws: Workspace, export: Callable[..., Path], tmp_path: Path
) -> None:
    ingest(
        ws,
        export("a.csv", [order("1", "a.crook@example.com", name="Al Crook", phone="07700 900555")]),
    )
    tag_customer(ws.tagbook, "a.crook@example.com", ["FRAUD"])
    new = export(
        "b.csv",
        [
            order("2", "", name="A. Crook", phone="+447700900555"),
            order("3", "", name="Someone Else", phone="+447700900555"),
            order("4", "crook@marketplace.amazon.co.uk", name="Al Crook", phone="07700 900555"),
        ],
    )
    # A blank email with the phone and surname; another name on the same phone is not
    # enough; the Amazon relay address is a new identity, joined by phone and surname.
    assert tags_of(ws, new, tmp_path) == {"2": "FRAUD", "3": "", "4": "FRAUD"}
    from ordertags.tagbook import load_tagbook

    with ws.open_history() as h:
        rep = h.customer_report("A.Crook@example.com", tagbook=load_tagbook(ws.tagbook))
        kinds = {k for k, _, _ in rep.identities}
        assert "relay email" in kinds and [e.key for e in rep.entries] == ["a.crook@example.com"]


def test_suspects_lists_weak_evidence_fraud_first(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    ingest(
        ws,
        export(
            "a.csv",
            [
                order(
                    "1", "ann@example.com", name="Ann Lee", address="12 Rose St", postcode="EH2 2PR"
                ),
                order(
                    "2",
                    "new@example.com",
                    name="Ann Lee",
                    address="Flat 12, Rose Street",
                    postcode="eh22pr",
                ),
                order("3", "bob@example.com", name="Bob Stone", phone="07700 900777"),
                order("4", "rob@example.com", name="Rob Marsh", phone="07700900777"),
            ],
        ),
    )
    tag_customer(ws.tagbook, "rob@example.com", ["FRAUD"])
    from ordertags.tagbook import load_tagbook

    with ws.open_history() as h:
        found = h.suspects(tagbook=load_tagbook(ws.tagbook), as_of=AS_OF)
    assert [(s.a, s.b, s.evidence, s.tags_a + s.tags_b) for s in found] == [
        (
            "bob@example.com",
            "rob@example.com",
            ["same phone +447700900777 (stone / marsh)"],
            ["FRAUD"],
        ),
        ("ann@example.com", "new@example.com", ["same address EH22PR 12"], []),
    ]
    unlink_identities(ws.tagbook, "ann@example.com", "new@example.com")
    ingest(ws)  # syncs the links
    with ws.open_history() as h:
        found = h.suspects(tagbook=load_tagbook(ws.tagbook), as_of=AS_OF, tag="FRAUD")
    assert [(s.a, s.b) for s in found] == [("bob@example.com", "rob@example.com")]


def test_suspects_from_the_history_and_from_the_run_agree(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    # One shared implementation ranks and words suspect pairs for both call paths: on
    # orders where phone and surname merge nobody, they give the same pairs.
    from ordertags.api import suspects_in_files
    from ordertags.tagbook import load_tagbook

    path = export(
        "a.csv",
        [
            order("1", "ann@example.com", name="Ann Lee", address="12 Rose St", postcode="EH2 2PR"),
            order("2", "new@example.com", name="Ann Lee", address="12, Rose St", postcode="eh22pr"),
            order("3", "bob@example.com", name="Bob Stone", phone="07700 900777"),
            order("4", "rob@example.com", name="Rob Marsh", phone="07700900777"),
            order("5", "sue@example.com", name="Sue Park", phone="07700 900111"),
        ],
    )
    ingest(ws, path)
    tag_customer(ws.tagbook, "rob@example.com", ["FRAUD"])
    with ws.open_history() as h:
        stored = h.suspects(tagbook=load_tagbook(ws.tagbook), as_of=AS_OF)
    run = suspects_in_files([path], tagbook=ws.tagbook, as_of=AS_OF)
    seen = [
        [(s.a, s.b, s.evidence, s.tags_a, s.tags_b, s.priority) for s in found]
        for found in (stored, run)
    ]
    assert (
        seen[0]
        == seen[1]
        == [
            (
                "bob@example.com",
                "rob@example.com",
                ["same phone +447700900777 (stone / marsh)"],
                [],
                ["FRAUD"],
                100,
            ),
            ("ann@example.com", "new@example.com", ["same address EH22PR 12"], [], [], -(10**9)),
        ]
    )


def test_run_and_history_merge_customers_alike(ws: Workspace, export: Callable[..., Path]) -> None:
    # One merging implementation groups identities for a run's memory and for the
    # history's ingest: the same orders and links give the same customers.
    from ordertags.customers.identity import resolve_links
    from ordertags.engine.frame import Frame
    from ordertags.engine.resolution import Memory, run_identities
    from ordertags.io.options import DEFAULT
    from ordertags.io.readers import read_exports
    from ordertags.tagbook import load_tagbook

    link_identities(ws.tagbook, "bob@example.com", "rob@example.com")
    unlink_identities(ws.tagbook, "sue@example.com", "sue.park@example.com")
    path = export(
        "a.csv",
        [
            order("1", "ann@example.com", name="Ann Lee", phone="07700 900123"),
            order("2", "", name="A. Lee", phone="+447700900123"),
            order("3", "ann.lee@work.example", name="Ann Lee", phone="07700900123"),
            order("4", "bob@example.com", name="Bob Stone"),
            order("5", "ROB@example.com", name="Rob Stone"),
            order("6", "sue@example.com", name="Sue Park", phone="07700 900999"),
            order("7", "sue.park@example.com", name="Sue Park", phone="07700 900999"),
            order("8", "tom@example.com", name="Tom Hill"),
        ],
    )
    ingest(ws, path)
    with ws.open_history() as h:
        stored = dict(h.fetch("SELECT order_id, customer FROM orders"))
    frame = Frame.of(read_exports([path]), as_of=AS_OF, read=DEFAULT)
    region = K.DEFAULT_REGION
    links = resolve_links(load_tagbook(ws.tagbook), region)
    customers = Memory(frame, run_identities(frame, region), links, full=True).customers
    assert customers.groups is not None
    codes = customers.codes.tolist()
    run = {str(i + 1): int(customers.groups[c]) for i, c in enumerate(codes) if c >= 0}

    def partition(owner: dict[str, int]) -> list[list[str]]:
        groups: dict[int, list[str]] = {}
        for oid, c in owner.items():
            groups.setdefault(c, []).append(oid)
        return sorted(sorted(g) for g in groups.values())

    expected = [["1", "2", "3"], ["4", "5"], ["6"], ["7"], ["8"]]
    assert partition(run) == partition(stored) == expected


# --- measures from the history --------------------------------------------------------

RULES_WINDOWS = """\
    version: 1
    rules:
      - {name: Big year, when: {customer: spend, over: 100, within_days: 365}, tag: BIG}
      - {name: Regular, when: {customer: orders, at_least: 3}, tag: REGULAR}
      - {name: A year, when: {customer: days_since_first, at_least: 365}, tag: RECENT}
"""


def test_windowed_measures_read_the_history_without_double_counting(
    ws: Workspace, export: Callable[..., Path], tmp_path: Path
) -> None:
    # As of 2026-11-26, the last 365 days run from 2025-11-26 (inclusive).
    ingest(
        ws,
        export(
            "past.csv",
            [
                order("1", "a@example.com", "60.00", date="2025-11-25 23:59"),  # a day too early
                order("2", "a@example.com", "40.00", date="2025-11-26 00:00"),  # first day: in
                order("3", "b@example.com", "99.00", date="2026-03-01 12:00"),
                order("4", "c@example.com", "80.00", date="2026-11-25 18:00"),
            ],
        ),
    )
    today = export(
        "today.csv",
        [
            order("10", "a@example.com", "60.01", date="2026-11-25 09:00"),
            order("11", "b@example.com", "1.00", date="2026-11-25 09:00"),
            order("4", "c@example.com", "80.00", date="2026-11-25 18:00"),
        ],
    )
    # a: 40.00 + 60.01 > 100 in the window; 3 orders in all; first order 365 days ago.
    expected = {
        "10": "BIG; REGULAR; RECENT",
        "11": "",  # b: 99.00 + 1.00 is not over 100
        "4": "",
    }  # c: the order in the history and today counts once
    assert tags_of(ws, today, tmp_path, RULES_WINDOWS, record=False) == expected
    with ws.open_history() as h:
        assert h.stats().orders == 4  # --no-record
    assert tags_of(ws, today, tmp_path) == expected
    assert tags_of(ws, today, tmp_path) == expected  # recorded: the same again
    with ws.open_history() as h:
        assert h.stats().orders == 6
        rows = h.list_customers(tag="BIG")
    assert [r.key for r in rows] == ["a@example.com"]


def test_without_a_workspace_measures_use_the_run_alone(
    ws: Workspace, export: Callable[..., Path], tmp_path: Path
) -> None:
    ingest(ws, export("past.csv", [order("1", "a@example.com", "500.00")]))
    today = export("today.csv", [order("10", "a@example.com", "60.00")])
    out = tmp_path / "out.csv"
    ws.rules.write_text(
        "version: 1\nrules:\n  - {name: B, when: {customer: spend, over: 100}, tag: BIG}\n",
        encoding="utf-8",
    )
    apply_files([today], tagbook=ws.tagbook, rules=ws.rules, output=out, as_of=AS_OF)
    assert read_csv(out)[0]["Customer Tags"] == ""
    assert tags_of(ws, today, tmp_path) == {"10": "BIG"}


class _Common(TypedDict):
    """The apply_files arguments the runs below share."""

    tagbook: Path
    rules: Path
    as_of: dt.date


def test_example_export_tags_the_same_with_and_without_a_history(tmp_path: Path) -> None:
    shop = init_workspace(tmp_path / "shop").workspace
    for name in ("tagbook.example.yaml", "rules.example.yaml"):
        (shop.root / name).write_bytes((ROOT / name).read_bytes())
    (shop.root / "examples").mkdir()
    for f in (ROOT / "examples").iterdir():
        (shop.root / "examples" / f.name).write_bytes(f.read_bytes())
    export = shop.root / "examples" / "orders.csv"
    common = _Common(
        tagbook=shop.root / "tagbook.example.yaml",
        rules=shop.root / "rules.example.yaml",
        as_of=AS_OF,
    )
    apply_files([export], output=tmp_path / "plain.csv", **common)
    apply_files([export], output=tmp_path / "memory.csv", workspace=shop, **common)
    apply_files([export], output=tmp_path / "again.csv", workspace=shop, **common)
    plain = [r["Customer Tags"] for r in read_csv(tmp_path / "plain.csv")]
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "memory.csv")] == plain
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "again.csv")] == plain


# --- keys and components ----------------------------------------------------------------

PHONES = st.one_of(
    st.from_regex(r"\A\+?[0-9 ()\-.]{0,16}\Z"),
    st.from_regex(r"\A0[1-9][0-9]{8,9}\Z"),
    st.from_regex(r"\A(\+|00)(44|1|49|33)[ ]?[0-9]{9,10}\Z"),
    st.text(max_size=8),
)
NAMES = st.text(alphabet=st.sampled_from("abcÉéöß ,.-'Jo\tΣ"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(PHONES, max_size=30), st.sampled_from(["GB", "US", "DE"]))
def test_phone_keys_agree_with_one_at_a_time(values: list[str], region: str) -> None:
    got = phone_keys(pa.array(values, pa.string()), region).to_pylist()
    assert got == [K.normalize_phone(v, region) for v in values]


@settings(max_examples=150, deadline=None)
@given(st.lists(NAMES, max_size=20))
def test_surnames_agree_with_one_at_a_time(names: list[str]) -> None:
    assert surnames(pa.array(names, pa.string())).to_pylist() == [K.surname_of(n) for n in names]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab12 -EH", max_size=8),
            st.text(alphabet="Flat 12a,Rose-St.\u00e9 ", max_size=16),
        ),
        max_size=20,
    )
)
def test_address_keys_agree_with_one_at_a_time(pairs: list[tuple[str, str]]) -> None:
    codes = pa.array([p for p, _ in pairs], pa.string())
    lines = pa.array([ln for _, ln in pairs], pa.string())
    assert address_keys(codes, lines).to_pylist() == [K.address_key(p, ln) for p, ln in pairs]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=60))
def test_connected_components_match_a_plain_union_find(
    n: int, edges: list[tuple[int, int]]
) -> None:
    edges = [(a % n, b % n) for a, b in edges]
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    u = np.array([a for a, _ in edges], dtype=np.int64)
    v = np.array([b for _, b in edges], dtype=np.int64)
    assert connected_components(n, u, v).tolist() == [find(x) for x in range(n)]


def test_split_components_keeps_apart_what_must_stay_apart() -> None:
    # 0-1-2-3 in a chain, 0 and 3 said to be different people; 4-5 untouched.
    u, v = np.array([0, 1, 2, 4]), np.array([1, 2, 3, 5])
    labels = connected_components(6, u, v)
    split = split_components(
        labels, u, v, np.array([True, False, False, False]), np.array([0]), np.array([3])
    )
    assert split[0] == split[1] == split[2] != split[3]  # the link 0-1 first, then 1-2
    assert split[4] == split[5] == 4


def test_links_apply_without_a_workspace(tmp_path: Path, export: Callable[..., Path]) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(
        TAGBOOK + "links:\n  - same: [A@example.com, b@example.com]\n", encoding="utf-8"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {name: B, when: {customer: spend, over: 15}, tag: BIG}\n",
        encoding="utf-8",
    )
    path = export(
        "a.csv",
        [
            order("1", "a@example.com", "10.00"),
            order("2", "b@example.com", "10.00"),
            order("3", "c@example.com", "10.00", phone="07700 900123"),
            order("4", "d@example.com", "10.00", phone="07700900123"),
        ],
    )
    result, _ = apply_files(
        [path], tagbook=book, rules=rules, output=tmp_path / "o.csv", as_of=AS_OF
    )
    # The link joins a and b; without a history, a shared phone and surname does not.
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "o.csv")] == ["BIG", "BIG", "", ""]
    assert (result.summary.customers, result.summary.customers_per_tag) == (3, {"BIG": 1})


def test_a_merged_customer_is_one_row_of_a_mailing_list(
    tmp_path: Path, export: Callable[..., Path]
) -> None:
    from ordertags.api import export_list

    book = tmp_path / "book.yaml"
    book.write_text(
        TAGBOOK + "links:\n  - same: [a@example.com, b@example.com]\n"
        "  - same: [a@example.com, x1@marketplace.amazon.co.uk]\n",
        encoding="utf-8",
    )
    tag_customer(book, "b@example.com", ["VIP"])
    path = export(
        "a.csv",
        [
            order("1", "x1@marketplace.amazon.co.uk", "5.00"),
            order("2", "a@example.com", "10.00"),
            order("3", "b@example.com", "20.00"),
            order("4", "c@example.com", "1.00"),
        ],
    )
    _, ml = export_list(
        [path], tagbook=book, output=tmp_path / "list.csv", tags=["VIP"], as_of=AS_OF
    )
    rows = read_csv(tmp_path / "list.csv")
    # Once, under the mailbox used last (same date: the later order, #3).
    assert [(r["Email Address"], r["Orders"], r["Spend"]) for r in rows] == [
        ("b@example.com", "3", "35.00")
    ]


def test_a_refund_arriving_later_updates_the_order_and_the_measure(
    ws: Workspace, tmp_path: Path
) -> None:
    header = ["Order Id", "Email", "Total", "Received Date", "Refunded Amount"]
    first = tmp_path / "first.csv"
    first.write_text(
        csv_text(header, [["1", "a@example.com", "50.00", "2026-11-01", ""]]), encoding="utf-8"
    )
    later = tmp_path / "later.csv"
    later.write_text(
        csv_text(header, [["1", "a@example.com", "50.00", "2026-11-01", "20.00"]]), encoding="utf-8"
    )
    today = tmp_path / "today.csv"
    today.write_text(
        csv_text(header, [["2", "a@example.com", "5.00", "2026-11-20", ""]]), encoding="utf-8"
    )
    rules = """\
        version: 1
        rules:
          - {name: Refunder, when: {customer: refunds, over: 10, within_days: 30}, tag: FRAUD}
    """
    ingest(ws, first)
    assert tags_of(ws, today, tmp_path, rules, record=False) == {"2": ""}
    report = ingest(ws, later)
    assert (report.new, report.updated) == (0, 1)
    assert tags_of(ws, today, tmp_path, record=False) == {"2": "FRAUD"}
    with ws.open_history() as h:
        row = h.list_customers()[0]
    # Spend is net of the refund: 50.00 - 20.00.
    assert (row.orders, row.spend, row.refunds, row.refunded) == (1, 300_000, 1, 200_000)


def test_an_export_in_slices_is_still_one_transaction(
    ws: Workspace, export: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ordertags.customers import history
    from ordertags.runs import history as api

    monkeypatch.setattr(api, "INGEST_SLICE", 3)
    rows = [order(str(i), f"c{i % 4}@example.com", "1.00") for i in range(10)]
    report = ingest(ws, export("a.csv", rows))
    assert (report.files, report.read, report.new) == ([str(ws.root.parent / "a.csv")], 10, 10)
    assert customers(ws) == [
        (f"c{i}@example.com", n, n * 10_000) for i, n in ((0, 3), (1, 3), (2, 2), (3, 2))
    ]
    calls = []
    real = history.History._refresh

    def fail_second(self: history.History, touched: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        real(self, touched)  # type: ignore[arg-type]

    monkeypatch.setattr(history.History, "_refresh", fail_second)
    more = [order(str(i), "new@example.com", "2.00") for i in range(10, 20)]
    with pytest.raises(RuntimeError):
        ingest(ws, export("b.csv", more))
    monkeypatch.undo()
    with ws.open_history() as h:
        assert h.stats().orders == 10  # the first slice of b.csv went too


def test_orders_with_no_identity_at_all_are_recorded_without_a_customer(
    ws: Workspace, export: Callable[..., Path]
) -> None:
    report = ingest(ws, export("a.csv", [order("1", "", name="")]))
    assert (report.new, customers(ws)) == (1, [])
    with ws.open_history() as h:
        assert h.stats().orders == 1


@pytest.mark.sqlite_file
def test_a_version_1_history_is_migrated_to_the_tag_log(tmp_path: Path) -> None:
    from ordertags.customers.history import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, open_history

    path = tmp_path / "history.sqlite"
    conn = sqlite3.connect(path)  # a history as version 1 wrote it
    conn.executescript(MIGRATIONS[0][1])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with open_history(path) as history:
        tables = {
            r[0] for r in history.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"tag_log", "order_aliases"} <= tables
        columns = {r[1] for r in history.fetch("PRAGMA table_info(orders)")}
        assert {"buyer", "currency", "consent", "reference", "email_text"} <= columns
        assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 11
