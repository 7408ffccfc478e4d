"""The Python API a notebook user meets: orders from pandas or any Arrow stream, results
back as pandas or Arrow with every original column, clear errors, typed public names,
a light ``import ordertags`` and a reference kept current."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import ordertags
from ordertags import OrderTagsError, annotate, mailing_list
from ordertags.apidoc import render_reference
from ordertags.engine.tagtext import OUTPUT_COLUMNS

from .conftest import ROOT

AS_OF = dt.date(2026, 11, 26)

# Four orders, three customers; vip@example.com is tagged VIP by hand in the test tag
# book (two orders, one spelled in capitals), the others have no tag.
EMAILS = ["vip@example.com", "ann@example.com", "VIP@Example.com", "bo@example.com"]
TOTALS = [120.0, 15.5, 30.25, 8.0]
GIFT = [True, False, False, True]
EXPECTED_TAGS = ["VIP", "", "VIP", ""]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Order Id": ["1001", "1002", "1003", "1004"],
            "Email": EMAILS,
            "Total": TOTALS,
            "Gift Wrap": GIFT,
        }
    )


def test_annotate_a_pandas_dataframe(tagbook: Path) -> None:
    df = frame()
    result = annotate(df, tagbook=tagbook, as_of=AS_OF)
    out = result.to_pandas()
    assert list(out.columns) == [
        "Order Id",
        "Email",
        "Total",
        "Gift Wrap",
        "Customer Tags",
        "Customer Profile",
        "Tag Colour",
    ]
    # Every original column comes back as given, with its type.
    pd.testing.assert_frame_equal(out[list(df.columns)], df)
    assert out["Customer Tags"].tolist() == EXPECTED_TAGS
    assert out["Tag Colour"].tolist() == ["gold", "", "gold", ""]
    assert result.summary.customers == 3


def test_annotate_an_arrow_table_and_any_arrow_stream(tagbook: Path) -> None:
    table = pa.table({"Order Id": ["1", "2"], "Email": EMAILS[:2], "Total": TOTALS[:2]})

    class Stream:
        """A stand-in for a polars DataFrame: only the Arrow stream interface."""

        def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
            return table.__arrow_c_stream__(requested_schema)

    for data in (table, Stream()):
        result = annotate(data, tagbook=tagbook, as_of=AS_OF)
        out = result.to_arrow()
        assert out.column_names == [*table.column_names, *OUTPUT_COLUMNS]
        assert out.select(table.column_names).equals(table)
        assert out.column("Customer Tags").to_pylist() == ["VIP", ""]


def test_several_inputs_each_come_back_on_their_own(tagbook: Path, tmp_path: Path) -> None:
    csv = tmp_path / "web.csv"
    csv.write_text("Ref,E-mail,Order Total\nW1,ann@example.com,5.00\n", encoding="utf-8")
    result = annotate([frame(), csv], tagbook=tagbook, as_of=AS_OF)
    assert result.to_pandas(0)["Customer Tags"].tolist() == EXPECTED_TAGS
    second = result.to_arrow(1)
    assert second.column_names == ["Ref", "E-mail", "Order Total", *OUTPUT_COLUMNS]
    assert second.column("Order Total").to_pylist() == ["5.00"]  # a file's text, as read


def test_a_mailing_list_from_a_dataframe(tagbook: Path) -> None:
    ml = mailing_list(frame(), tagbook=tagbook, tags=["VIP"], as_of=AS_OF)
    got = ml.to_pandas()
    # One row for the two spellings, under the address used last.
    assert got["Email Address"].tolist() == ["VIP@Example.com"]
    assert got["Orders"].tolist() == [2]
    assert got["Spend"].tolist() == [120.0 + 30.25]
    assert got["Tags"].tolist() == ["VIP"]
    # From a result too, without annotating again.
    again = mailing_list(annotate(frame(), tagbook=tagbook, as_of=AS_OF), tags=["VIP"])
    assert again.to_arrow().equals(ml.to_arrow())


@pytest.mark.parametrize("bad", [42, {"Email": ["a@b.com"]}, object()])
def test_a_wrong_input_type_is_a_clear_error(tagbook: Path, bad: object) -> None:
    with pytest.raises(OrderTagsError) as err:
        annotate(bad, tagbook=tagbook)
    assert f"orders cannot be read from a {type(bad).__name__}." in str(err.value)
    assert "pandas DataFrame" in str(err.value)


def test_a_mailing_list_from_orders_needs_the_tag_book() -> None:
    with pytest.raises(OrderTagsError, match="needs the tag book"):
        mailing_list(frame(), tags=["VIP"])


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_ordertags_is_light() -> None:
    code = (
        "import sys\n"
        "import ordertags\n"
        "print(sorted(m for m in ('pyarrow', 'pandas', 'numpy') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_ordertags_itself_never_imports_pandas() -> None:
    """pandas is how data comes in and goes out (``to_pandas()``), never imported by
    ordertags (only named for type checkers). pyarrow itself may load it when it is
    installed: that is pyarrow's business."""
    found = []
    for path in sorted((ROOT / "ordertags").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        checking = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for n in ast.walk(node)
        }
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "pandas" for n in names) and id(node) not in checking:
                found.append(f"{path.name}:{getattr(node, 'lineno', 0)}")
    assert found == []


def test_public_functions_are_typed_without_any_and_have_an_example() -> None:
    problems = []
    for name in ordertags.__all__:
        obj = getattr(ordertags, name)
        if not inspect.isfunction(obj):
            continue
        if "Any" in str(inspect.signature(obj)):
            problems.append(f"{name}: Any in its signature")
        if ">>>" not in (obj.__doc__ or ""):
            problems.append(f"{name}: no example in its docstring")
    assert problems == []


def test_type_checkers_see_every_lazy_name() -> None:
    """Each name ``__getattr__`` hands out is also imported under TYPE_CHECKING, from
    the same module, so that checkers and editors see the real objects."""
    tree = ast.parse((ROOT / "ordertags" / "__init__.py").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                for alias in imp.names:
                    assert alias.asname == alias.name  # an explicit re-export
                    seen[alias.name] = imp.module.removeprefix("ordertags.")
    assert seen == ordertags._EXPORTS


def test_api_reference_is_current() -> None:
    current = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert current == render_reference(), "run: python -m ordertags.apidoc > docs/api.md"
