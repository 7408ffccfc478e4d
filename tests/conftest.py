"""Shared fixtures: a small tag book, rule files written per test, and CSV helpers."""

from __future__ import annotations

import csv
import io
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
AS_OF = "2026-11-26"

TAGBOOK = """\
# test tag book
version: 1
tags:
  - name: FRAUD
    colour: red
    label: "FRAUD — hold"
    priority: 100
  - name: VIP
    colour: gold
    label: "VIP — add a note"
    priority: 50
  - name: BIG
    colour: "#1f77b4"
    label: "BIG — freebie"
    priority: 40
  - name: REGULAR
    colour: teal
    label: "REGULAR — card"
    priority: 30
  - name: HIGH
    colour: purple
    label: "HIGH — pack with care"
    priority: 20
    scope: order
  - name: CHECK
    colour: orange
    label: "CHECK"
    priority: 10
    scope: order
customers:
  - email: vip@example.com
    tags: [VIP]
    note: picked by hand
    by: sam
    at: 2026-01-01
"""


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test (and every process it starts) keeps ordertags' cache in a folder of
    its own, never in the user's cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ORDERTAGS_CACHE_DIR", str(folder))
    monkeypatch.delenv("ORDERTAGS_NO_CACHE", raising=False)
    return folder


def shared_path(*parts: str) -> Path:
    """A path under ../shared. Where it is absent the test is skipped, except under CI
    (the ``CI`` environment variable set), where a missing sample is a failure: CI must
    run every test."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"../shared is absent here: {path.relative_to(SHARED.parent)} not found"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: every test must run)")
        pytest.skip(message)
    return path


@pytest.fixture
def tagbook(tmp_path: Path) -> Path:
    path = tmp_path / "tagbook.yaml"
    path.write_text(TAGBOOK, encoding="utf-8")
    return path


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> path: a file in the test's folder, text dedented."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def read_csv(path: Path | str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def read_rows(path: Path | str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))
