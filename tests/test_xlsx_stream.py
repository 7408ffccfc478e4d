"""The spreadsheet writer's fast path (rows made as XML a column at a time) writes the
same sheet as XlsxWriter's own cell-by-cell API, and what openpyxl reads back is the
export's text."""

from __future__ import annotations

import io
import zipfile

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from ordertags.errors import InputError
from ordertags.io import xlsx

TRICKY = [
    '=HYPERLINK("x","y")',
    "0012",
    "",
    None,
    "a & b <c> \"d\" 'e'",
    "  padded ",
    "line one\nline two",
    "tab\there",
    "bell\x07 and null\x00",
    "literal _x0041_ escape",
    "Zoë — ★ 東京",
    "1e5",
]
COLOURS = ["gold", "", "#1f77b4", "red", "", "gold", "black", "", "red", "", "gold", "nope"]


def _write(stream: bool, monkeypatch: pytest.MonkeyPatch, colour: bool) -> bytes:
    monkeypatch.setattr(xlsx, "STREAM_XML", stream)
    names = ["Text", "Reversed", "Tag Colour"]
    cols = [pa.array(TRICKY), pa.array(list(reversed(TRICKY))), pa.array(COLOURS)]
    buf = io.BytesIO()
    xlsx.write_xlsx(
        buf, names, cols, lead=["Reversed"], colour_column="Tag Colour" if colour else None
    )
    return buf.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("colour", [True, False])
def test_fast_rows_are_xlsxwriters_own(monkeypatch: pytest.MonkeyPatch, colour: bool) -> None:
    fast = _parts(_write(True, monkeypatch, colour))
    slow = _parts(_write(False, monkeypatch, colour))
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name] == slow[name], name


def test_read_back_is_text_with_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = load_workbook(io.BytesIO(_write(True, monkeypatch, True))).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:C{len(TRICKY) + 1}"
    rows = list(ws.iter_rows(min_row=2))
    assert [c.value for c in ws[1]] == ["Reversed", "Text", "Tag Colour"]
    expected = ["" if v is None else v for v in TRICKY]
    got = [r[1].value if r[1].value is not None else "" for r in rows]
    # XML keeps no control characters: Excel's _xHHHH_ escape stands for them (Excel
    # reads it back as the character; openpyxl shows the escape), and a literal
    # _x0041_ is itself escaped so that it stays text.
    expected[8] = "bell_x0007_ and null_x0000_"
    expected[9] = "literal _x005F_x0041_ escape"
    assert got == expected
    assert all(c.data_type == "s" for r in rows for c in r if c.value is not None)
    assert rows[0][0].fill.fgColor.rgb == "FFFFD700" and rows[0][0].font.color.rgb == "FF000000"
    assert rows[2][2].fill.fgColor.rgb == "FF1F77B4" and rows[2][2].font.color.rgb == "FFFFFFFF"
    assert rows[1][0].fill.fill_type is None  # no colour: no fill
    assert rows[11][0].fill.fill_type is None  # not a colour: no fill
    # An empty cell of a coloured row is filled too.
    assert rows[2][1].value in (None, "") and rows[2][1].fill.fgColor.rgb == "FF1F77B4"


def test_a_value_too_long_for_a_cell_is_refused_with_its_place() -> None:
    long = "x" * (xlsx.CELL_LIMIT + 1)
    with pytest.raises(InputError) as err:
        xlsx.write_xlsx(
            io.BytesIO(), ["A", "B"], [pa.array(["a", "b", "c"]), pa.array(["", "", long])]
        )
    assert err.value.row == 4 and err.value.column == "B"
    assert f"{xlsx.CELL_LIMIT + 1:,} characters" in str(err.value)
