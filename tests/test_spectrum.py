"""The csv-spectrum acid tests (../shared/data/csv-spectrum): every value survives
``ordertags apply`` and ``read_orders`` unchanged.

These files have no email column, so ``--email-column`` names their first column. Their
expected parses are ``json/NAME.json``, except ``location_coordinates``, whose oracle is
known to be wrong (see SOURCE.md there): that one must match what Python's csv module
reads from the input.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.base.emails import normalize_email
from ordertags.cli import app
from ordertags.io.readers import read_orders

from .conftest import AS_OF, SHARED, shared_path

SPECTRUM = SHARED / "data" / "csv-spectrum"
# The names are listed where ../shared is present; elsewhere one placeholder case runs
# and skips with shared_path's message.
NAMES = sorted(p.stem for p in (SPECTRUM / "csvs").glob("*.csv")) or ["csv-spectrum"]
BAD_ORACLE = {"location_coordinates"}
ADDED = ["Customer Tags", "Customer Profile", "Tag Colour"]


def case(name: str) -> tuple[Path, list[dict[str, str]]]:
    """The CSV of a case and the rows it must come back as."""
    source = shared_path("data", "csv-spectrum", "csvs", f"{name}.csv")
    if name in BAD_ORACLE:
        with open(source, newline="", encoding="utf-8") as fh:
            return source, list(csv.DictReader(fh))
    oracle = shared_path("data", "csv-spectrum", "json", f"{name}.json")
    expected = json.loads(oracle.read_text(encoding="utf-8"))
    assert isinstance(expected, list) and expected
    return source, expected


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


@pytest.mark.parametrize("name", NAMES)
def test_apply_keeps_every_value(name: str, tmp_path: Path, tagbook: Path) -> None:
    source, expected = case(name)
    header = list(expected[0])
    out = tmp_path / f"{name}.out.csv"

    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(source),
            "-t",
            str(tagbook),
            "-o",
            str(out),
            "--as-of",
            AS_OF,
            "--email-column",
            header[0],
        ],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    keys = {normalize_email(r[header[0]]) for r in expected} - {None}
    assert (
        result.stderr
        == "\n".join(
            [
                f"read {plural(len(expected), 'order')} from {source} (csv)",
                f"{plural(len(expected), 'order')}, {plural(len(keys), 'customer')}; as of {AS_OF}",
                # The tag book's tags are counted even where no order has them.
                "tag      orders    customers",
                "-----  --------  -----------",
                "VIP           0            0",
                "tag book: 1 entry in force",
                f"wrote {out}",
            ]
        )
        + "\n"
    )
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*header, *ADDED]
    got = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [{k: r[k] for k in header} for r in got] == expected
    assert all(r[c] == "" for r in got for c in ADDED)
    # Written back with the input's line ends: CRLF files stay CRLF, LF files gain no CR.
    data, original = out.read_bytes(), source.read_bytes()
    if b"\r\n" in original:
        assert (
            data.count(b"\r\n")
            == data.count(b"\n")
            == original.count(b"\n") + (0 if original.endswith(b"\n") else 1)
        )
    else:
        assert b"\r" not in data


@pytest.mark.parametrize("name", NAMES)
def test_read_orders_parses_like_the_oracle(name: str) -> None:
    source, expected = case(name)
    table = read_orders(source)
    assert table.kind == "csv"
    assert table.columns == list(expected[0])
    columns = [table.column(i).to_pylist() for i in range(len(table.columns))]
    parsed = [
        dict(zip(table.columns, values, strict=True)) for values in zip(*columns, strict=True)
    ]
    assert parsed == expected


def test_location_coordinates_oracle_is_the_known_bad_one() -> None:
    """Keep the exception honest: its JSON oracle really is wrong (a single object with
    another phone number), so csv-module parity is the right check for it."""
    oracle = shared_path("data", "csv-spectrum", "json", "location_coordinates.json")
    data = json.loads(oracle.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert data["Contact Phone Number"] == "1234567890"
    _, expected = case("location_coordinates")
    assert expected[0]["Contact Phone Number"] == "2095257564"
    assert expected[0]["Location Coordinates"] == "37\ufffd36'37.8\"N 121\ufffd2'17.9\"W"
