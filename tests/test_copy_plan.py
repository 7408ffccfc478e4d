"""One copy plan and one pool of threads per run: ``copy_plan`` says whether a big
export's records are copied byte for byte (and why not), for the run and the writer
alike; the run's side-by-side work goes to one ``SideWork``; a condition kind says what
it reads, so the rules' look-ahead needs no list of kinds."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest

from ordertags.actions import StopAction
from ordertags.base.sidework import SideWork
from ordertags.engine.evaluate import _Lookahead
from ordertags.io.readers import Dialect, read_orders_lazily
from ordertags.io.writers import copy_plan, write_table
from ordertags.rules import Condition, Rule, Where

HEADER = "Order Id,Email,Name,Notes,Total\n"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({}, ""),
        ({"encoding": "UTF8"}, ""),
        ({"excel_safe": True}, "cells a spreadsheet would run are made inert"),
        ({"profile_first": True}, "the added columns go after the order number, not at the end"),
        ({"output_format": "json"}, "the output is json, not CSV"),
        ({"encoding": "cp1252"}, "the output is written in cp1252, not UTF-8"),
        ({"encoding": "klingon"}, "the output encoding klingon is not known"),
    ],
)
def test_the_options_say_whether_records_can_be_copied(
    options: dict[str, Any], reason: str
) -> None:
    given: dict[str, Any] = {"output_format": None, "encoding": None}
    given.update(options)
    plan = copy_plan(
        given["output_format"],
        given["encoding"],
        profile_first=given.get("profile_first", False),
        excel_safe=given.get("excel_safe", False),
    )
    assert (bool(plan), plan.reason) == (reason == "", reason)


def _lazy(path: Path, monkeypatch: pytest.MonkeyPatch, side: SideWork | None = None) -> Any:
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
    monkeypatch.setenv("ORDERTAGS_BATCH_BYTES", "4096")
    table = read_orders_lazily(path, prefetch=lambda t: [0], scan=True, side=side)
    assert table is not None
    return table


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('1,a@x.org,Ann,,1.00\n2,b@x.org,"Bo, B",,2.00\n', ""),
        (
            '1,a@x.org,"Ann",,1.00\n',
            "the export's records are not as the writer writes them: "
            "a field quoted that needs no quotes",
        ),
        (
            '1,a@x.org,5" screen,,1.00\n2,b@x.org,x",y,2.00\n',
            "the export's records are not as the writer writes them: a quote inside a field",
        ),
    ],
)
def test_the_writer_asks_the_same_function_and_gets_the_records_or_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, reason: str
) -> None:
    src = tmp_path / "orders.csv"
    src.write_bytes((HEADER + body).encode())
    table = _lazy(src, monkeypatch)
    width = len(table.columns)
    added = pa.chunked_array([pa.array(["VIP"] * table.num_rows)])
    plan = copy_plan(
        None,
        None,
        profile_first=False,
        excel_safe=False,
        table=table,
        plan=[*range(width), added],
        dialect=Dialect(),
    )
    assert plan.reason == reason
    assert (plan.records is not None) == (reason == "")
    # A column of the export moved: never copied, whatever the file (a replaced one is
    # spliced into the records: tests/test_splice.py).
    moved = copy_plan(
        None,
        None,
        profile_first=False,
        excel_safe=False,
        table=table,
        plan=[1, 0, *range(2, width), added],
        dialect=Dialect(),
    )
    assert moved.reason == "a column of the export is moved"
    # Either way every value comes back as it was, then the added column; copied, the
    # very bytes of each record.
    out = io.BytesIO()
    write_table(out, table, {"Customer Tags": added})
    text = out.getvalue().decode()
    expected = list(csv.reader(io.StringIO(HEADER + body)))
    assert list(csv.reader(io.StringIO(text))) == [
        [*expected[0], "Customer Tags"],
        *[[*row, "VIP"] for row in expected[1:]],
    ]
    if not reason:
        assert text == HEADER.strip() + ",Customer Tags\n" + body.replace("\n", ",VIP\n")


def test_a_run_pool_does_the_scan_and_the_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "orders.csv"
    src.write_bytes((HEADER + "".join(f"{i},c{i}@x.org,N,,1.00\n" for i in range(500))).encode())
    before = {t.name for t in threading.enumerate()}
    with SideWork(name="ordertags-test-run") as side:
        table = _lazy(src, monkeypatch, side)
        out = io.BytesIO()
        extra = {"Customer Tags": pa.chunked_array([pa.array(["VIP"] * 500)])}
        write_table(out, table, extra, side=side)
        assert table.lazy.scan is not None and table.lazy.scan.done()
        named = {t.name for t in threading.enumerate()} - before
        assert named and all(n.startswith("ordertags-test-run") for n in named)
    assert out.getvalue().count(b",VIP\n") == 500


def test_a_lane_runs_its_work_one_at_a_time_in_order() -> None:
    running, seen = [0], []
    lock = threading.Lock()

    def job(i: int) -> int:
        with lock:
            running[0] += 1
            assert running[0] == 1
        time.sleep(0.002)
        seen.append(i)
        with lock:
            running[0] -= 1
        return i * i

    with SideWork(4) as side:
        lane = side.lane()
        futures = [lane.submit(job, i) for i in range(20)]
        assert [f.result() for f in futures] == [i * i for i in range(20)]
    assert seen == list(range(20))


def test_map_keeps_order_and_hands_over_at_most_so_many() -> None:
    busy, most = [0], [0]
    lock = threading.Lock()

    def job(i: int) -> int:
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.003)
        with lock:
            busy[0] -= 1
        return -i

    with SideWork(8) as side:
        assert list(side.map(job, range(30), 3)) == [-i for i in range(30)]
    assert 1 <= most[0] <= 3


def test_read_ahead_on_the_pool_hands_on_errors_and_lets_go() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("bad batch")

    with SideWork(2) as side:
        got = []
        with pytest.raises(ValueError, match="bad batch"):
            for item in side.read_ahead(failing()):
                got.append(item)
        assert got == [1]
        ahead = side.read_ahead(iter(range(1000)), depth=2)
        assert next(ahead) == 0
        ahead.close()  # the pump lets go: the pool can close


# --- the look-ahead: each condition kind says what it reads ------------------------------


@dataclass
class _NewKind(Condition):
    """A condition kind added later that says nothing of what it reads."""

    where: Where


@dataclass
class _PureKind(Condition):
    where: Where
    reads = frozenset()


def test_a_condition_kind_that_says_nothing_is_evaluated_in_turn() -> None:
    where = Where("rules.yaml", "", [])
    rules = [
        Rule(f"r{i}", i, kind(where), [StopAction()], None)
        for i, kind in enumerate((_PureKind, _NewKind, _PureKind))
    ]
    ctx: Any = SimpleNamespace(memory=None)
    with SideWork(2) as side:
        ahead = _Lookahead(ctx, rules, side)
        assert ahead.free == [True, False, True]
        ahead.close()


def test_the_run_uses_one_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """apply: no thread but the run's pool's works beside it."""
    from ordertags import api

    rows = "".join(f"{i},c{i % 7}@x.org,N,,{i}.00\n" for i in range(300))
    src = tmp_path / "orders.csv"
    src.write_bytes((HEADER + rows).encode())
    book = tmp_path / "tagbook.yaml"
    book.write_text("version: 1\ntags:\n  - name: VIP\n    colour: gold\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {name: a, when: {field: total, over: 100}, tag: VIP}\n"
        "  - {name: b, when: {customer: orders, at_least: 40}, note: regular}\n"
        "  - {name: c, when: {field: total, over: 250}, hold: true}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
    started: list[str] = []
    real = threading.Thread.start

    def start(self: threading.Thread) -> None:
        started.append(self.name)
        real(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    result, _ = api.apply_files(
        [src],
        tagbook=book,
        rules=rules,
        output=tmp_path / "out.csv",
        as_of=dt.date(2026, 11, 26),
    )
    assert result.summary.held == sum(1 for i in range(300) if i > 250)
    assert started and all(name.startswith("ordertags_") for name in started), started
