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


# --- PostgreSQL: one server per test session, a fresh schema per test ----------------

from collections.abc import Iterator  # noqa: E402

from pytest_postgresql import factories  # noqa: E402

from tests import pg_support  # noqa: E402

_PG_CTL = pg_support.pg_ctl()
_PG_EXEC, _PG_FOLDERS = pg_support.executable(_PG_CTL) if _PG_CTL else (None, None)
postgresql_server = factories.postgresql_proc(executable=_PG_EXEC, port=None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    pg_support.remove(_PG_FOLDERS)


@pytest.fixture(scope="session")
def pg_base_url(request: pytest.FixtureRequest) -> str:
    """postgresql://USER@HOST:PORT of the session's server (started on first use)."""
    if _PG_CTL is None:
        message = "PostgreSQL is not installed here (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: every test must run)")
        pytest.skip(message)
    proc = request.getfixturevalue("postgresql_server")
    url = pg_support.server_url(proc)
    pg_support.ensure_database(url)
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A URL of an empty schema of its own (pools closed after the test)."""
    yield pg_support.fresh_schema(pg_base_url)
    from ordertags.storage.postgresql import close_pools

    close_pools()


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once per storage backend: with PostgreSQL, every workspace the test
    makes keeps its history in a fresh schema (ORDERTAGS_DATABASE)."""
    if request.param == "postgresql":
        url = pg_support.fresh_schema(request.getfixturevalue("pg_base_url"))
        monkeypatch.setenv("ORDERTAGS_DATABASE", url)
    else:
        monkeypatch.delenv("ORDERTAGS_DATABASE", raising=False)
    yield str(request.param)
    if request.param == "postgresql":
        from ordertags.storage.postgresql import close_pools

        close_pools()


@pytest.fixture(scope="module", params=BACKENDS)
def backend_module(request: pytest.FixtureRequest) -> Iterator[str]:
    """:func:`backend` for a module's shared workspace (module-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "postgresql":
            url = pg_support.fresh_schema(request.getfixturevalue("pg_base_url"))
            mp.setenv("ORDERTAGS_DATABASE", url)
        else:
            mp.delenv("ORDERTAGS_DATABASE", raising=False)
        yield str(request.param)
        if request.param == "postgresql":
            from ordertags.storage.postgresql import close_pools

            close_pools()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``sqlite_file`` (it looks into the SQLite file itself) runs on the
    SQLite backend only."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_server = "postgresql" in (params.get("backend"), params.get("backend_module"))
        (drop if on_server and item.get_closest_marker("sqlite_file") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
