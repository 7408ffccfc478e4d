"""Issue 12, item 1: every read of the history in one command comes from one snapshot.

An ``ingest`` committing while ``export`` or ``apply`` reads the history must not change
their answer: the run's orders are either not yet in the history (customer totals plus
the run's orders) or already there (totals that hold them, minus the history's copies,
plus the run's orders); both give the same figures. Reading the totals before the commit
and the copies after it subtracts orders that were never added.

The first tests put the commit deterministically between two reads of one command; the
last races real processes (a few rounds here; ``benchmarks/run_hostile.py --race N``
runs many).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ordertags.api import apply_files, export_list, ingest_files
from ordertags.customers import history as history_module
from ordertags.customers.workspace import Workspace, init_workspace

from .conftest import csv_text, read_csv

AS_OF = dt.date(2026, 11, 26)
HEADER = ["Order Id", "Source", "Received Date", "Email", "Total"]
TAGBOOK = """\
version: 1
tags:
  - name: BIG
    colour: blue
    priority: 40
customers: []
"""
# BIG: spend over 100 in the history and the run together.
RULES = """\
version: 1
rules:
  - name: Big
    when: {customer: spend, over: 100}
    tag: BIG
"""
CUSTOMERS = 30


def _past() -> list[list[str]]:
    # Customer c{i} spent 10 * i in the past (one order each, i >= 1).
    return [
        [f"P{i}", "SHOP", "2026-06-01 10:00", f"c{i}@example.com", f"{10 * i}.00"]
        for i in range(1, CUSTOMERS + 1)
    ]


def _run_orders() -> list[list[str]]:
    # Today each customer orders 50.00: with the past, c{i} has 10 * i + 50.
    return [
        [f"R{i}", "SHOP", "2026-11-20 10:00", f"c{i}@example.com", "50.00"]
        for i in range(1, CUSTOMERS + 1)
    ]


# Worked out by hand: 10 * i + 50 > 100 <=> i > 5, so c6 .. c30 are BIG (25 customers).
EXPECTED_BIG = {f"c{i}@example.com" for i in range(6, CUSTOMERS + 1)}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Workspace, Path]:
    ws = init_workspace(tmp_path / "shop").workspace
    ws.tagbook.write_text(TAGBOOK, encoding="utf-8")
    ws.rules.write_text(RULES, encoding="utf-8")
    past = tmp_path / "past.csv"
    past.write_text(csv_text(HEADER, _past()), encoding="utf-8")
    ingest_files([past], workspace=ws)
    run = tmp_path / "open.csv"
    run.write_text(csv_text(HEADER, _run_orders()), encoding="utf-8")
    return ws, run


def _commit_between_reads(
    monkeypatch: pytest.MonkeyPatch, ws: Workspace, path: Path
) -> tuple[list[int], list[threading.Thread]]:
    """Make another connection ingest ``path`` (the run's own orders) right after the
    command's first read of customer totals, before it looks up the run's orders."""
    calls: list[int] = []
    original = history_module.History.aggregates
    # The workspace's run lock would make the ingest wait for a recording apply; this
    # test is about the snapshot alone, so the ingest does not take it.
    import ordertags.runs.history

    unlocked = contextlib.nullcontext
    monkeypatch.setattr(ordertags.runs.history, "run_lock", lambda *a, **k: unlocked())

    def aggregates(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(self, *args, **kwargs)
        if not calls:
            calls.append(1)
            if self.db.in_write:
                # A recording run holds the write lock from its first write to its
                # last (one transaction): the ingest waits for it, then lands.
                waiting = threading.Thread(
                    target=ingest_files, args=([path],), kwargs={"workspace": ws}
                )
                waiting.start()
                threads.append(waiting)
            else:
                ingest_files([path], workspace=ws)  # its own connection, committed at once
        return out

    threads: list[threading.Thread] = []
    monkeypatch.setattr(history_module.History, "aggregates", aggregates)
    return calls, threads


def test_export_reads_one_snapshot_while_an_ingest_commits(
    shop: tuple[Workspace, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, run = shop
    calls, waiting = _commit_between_reads(monkeypatch, ws, run)
    out = tmp_path / "big.csv"
    export_list(
        [run], tagbook=ws.tagbook, rules=ws.rules, output=out, tags=["BIG"], workspace=ws,
        as_of=AS_OF,
    )  # fmt: skip
    for thread in waiting:
        thread.join()
    assert calls == [1]  # the ingest did commit in the middle
    assert {r["Email Address"] for r in read_csv(out)} == EXPECTED_BIG


@pytest.mark.parametrize("record", [False, True])
def test_apply_reads_one_snapshot_while_an_ingest_commits(
    shop: tuple[Workspace, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: bool
) -> None:
    ws, run = shop
    calls, waiting = _commit_between_reads(monkeypatch, ws, run)
    out = tmp_path / "out.csv"
    apply_files(
        [run], tagbook=ws.tagbook, rules=ws.rules, output=out, workspace=ws, as_of=AS_OF,
        record=record,
    )  # fmt: skip
    for thread in waiting:
        thread.join()
    assert calls == [1]
    big = {r["Email"] for r in read_csv(out) if r["Customer Tags"] == "BIG"}
    assert big == EXPECTED_BIG


def test_export_and_apply_racing_ingest_processes_give_one_answer(
    shop: tuple[Workspace, Path], tmp_path: Path
) -> None:
    """Real processes: an ingest of the run's orders (and of them changed and back)
    loops while export, apply --no-record and apply run; every answer is the same."""
    ws, run = shop
    # The same orders again under other totals and back: the history changes all the
    # time, but the customer totals the runs read are the same before and after each
    # commit of the run's own file.
    script_ingest = textwrap.dedent(f"""
        import sys
        from ordertags.api import ingest_files
        from ordertags.customers.workspace import find_workspace
        ws = find_workspace({str(ws.root)!r})
        for _ in range(int(sys.argv[1])):
            ingest_files([{str(run)!r}], workspace=ws)
    """)
    script_run = textwrap.dedent(f"""
        import datetime as dt, sys
        from ordertags.api import apply_files, export_list
        from ordertags.customers.workspace import find_workspace
        ws = find_workspace({str(ws.root)!r})
        kind, out = sys.argv[1], sys.argv[2]
        kw = dict(tagbook=ws.tagbook, rules=ws.rules, output=out, workspace=ws,
                  as_of=dt.date(2026, 11, 26))
        if kind == "export":
            export_list([{str(run)!r}], tags=["BIG"], **kw)
        else:
            apply_files([{str(run)!r}], record=kind == "apply", **kw)
    """)
    ingester = subprocess.Popen([sys.executable, "-c", script_ingest, "3"], stderr=subprocess.PIPE)
    results = []
    try:
        for round_ in range(1):
            for kind in ("export", "apply-no-record", "apply"):
                out = tmp_path / f"{kind}{round_}.csv"
                proc = subprocess.run(
                    [sys.executable, "-c", script_run, kind, str(out)],
                    capture_output=True,
                    check=False,
                    timeout=120,
                )
                assert proc.returncode == 0, proc.stderr.decode()
                rows = read_csv(out)
                if kind == "export":
                    results.append({r["Email Address"] for r in rows})
                else:
                    results.append({r["Email"] for r in rows if r["Customer Tags"] == "BIG"})
    finally:
        _, err = ingester.communicate(timeout=120)
    assert ingester.returncode == 0, err.decode()
    assert all(r == EXPECTED_BIG for r in results)
