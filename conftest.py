"""The docstrings' examples run as doctests (``--doctest-modules``), each in a folder of
its own that holds the bundled examples under the names the examples use: the example
exports (``examples/``, ``orders.csv``, ``orders_export.csv``), the example tag book and
rules (under their own names and as ``tagbook.yaml``/``rules.yaml``) and a workspace
``shop`` made from them. Names the examples take as given (``result``, ``book``, ``view``
...) are made here from the same files."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent


def _namespace() -> dict[str, Any]:
    """What the examples use without making it (made in the current folder's files)."""
    import pyarrow as pa

    from ordertags.customers.workspace import Workspace
    from ordertags.engine.pipeline import annotate
    from ordertags.reports.lists import customers_of_run
    from ordertags.reports.views import order_views
    from ordertags.rules import load_rules
    from ordertags.tagbook import load_tagbook

    book = load_tagbook("tagbook.yaml")
    rules = load_rules("rules.yaml")
    result = annotate(["orders.csv"], tagbook=book, rules=rules, as_of=dt.date(2026, 11, 26))
    ws = Workspace(Path("shop").resolve())
    return {
        "dt": dt,
        "datetime": dt,
        "pa": pa,
        "Path": Path,
        "Workspace": Workspace,
        "book": book,
        "rules": rules,
        "result": result,
        "rows": customers_of_run(result),
        "view": order_views(result),
        "fh": io.BytesIO(),
        "ws": ws,
    }


@pytest.fixture(autouse=True)
def _doctest_folder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(request.node, pytest.Function):  # a test, not a docstring's example
        return
    tmp_path: Path = request.getfixturevalue("tmp_path")
    doctest_namespace: dict[str, Any] = request.getfixturevalue("doctest_namespace")
    monkeypatch.setenv("ORDERTAGS_CACHE_DIR", str(tmp_path / ".cache"))
    monkeypatch.delenv("ORDERTAGS_NO_CACHE", raising=False)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for name in ("tagbook.example.yaml", "rules.example.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "tagbook.example.yaml", tmp_path / "tagbook.yaml")
    shutil.copy(ROOT / "rules.example.yaml", tmp_path / "rules.yaml")
    shutil.copy(ROOT / "examples" / "orders.csv", tmp_path / "orders.csv")
    shutil.copy(ROOT / "examples" / "shopify_orders.csv", tmp_path / "orders_export.csv")
    monkeypatch.chdir(tmp_path)
    from ordertags.api import ingest_files
    from ordertags.customers.workspace import Workspace, init_workspace

    init_workspace("shop", region="GB")
    shutil.copy(ROOT / "tagbook.example.yaml", tmp_path / "shop" / "tagbook.yaml")
    shutil.copy(ROOT / "rules.example.yaml", tmp_path / "shop" / "rules.yaml")
    ingest_files(["orders.csv"], workspace=Workspace(tmp_path / "shop"))
    doctest_namespace.update(_namespace())
