"""Orders as an Excel workbook for the people packing them (``--output-format xlsx``).

One sheet: the header row frozen so it stays visible, an autofilter on it, column widths
fitted to the text, and each row filled with its tag colour, in black or white text,
whichever reads better on it. Every value is written as text, exactly as read (leading
zeros, ``0.00``), so sorting and filtering in the spreadsheet see what the export had,
and a value that looks like a formula (``=HYPERLINK(...)``) stays text, never run.
Written with openpyxl in write-only mode: rows stream out, memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter

from ordertags.base.colours import colour_hex, contrast_text
from ordertags.errors import InputError

#: Widest a column is made, in characters; longer text wraps in the cell when opened.
MAX_WIDTH = 60
#: Rows measured to fit the column widths.
MEASURE_ROWS = 2000
#: Excel's limits: characters in one cell, rows in one sheet.
CELL_LIMIT = 32_767
ROW_LIMIT = 1_048_576
BATCH = 10_000


def _text(col: pa.ChunkedArray | pa.Array, start: int, length: int) -> list[str]:
    part = col.slice(start, length)
    if isinstance(part, pa.ChunkedArray):
        part = part.combine_chunks()
    if pa.types.is_dictionary(part.type):
        part = part.cast(pa.string())
    values: list[str] = pc.fill_null(part, "").to_pylist()
    return values


def _width(values: Sequence[str], header: str) -> float:
    longest = max([len(header), *(max(map(len, v.split("\n")), default=0) for v in values)])
    return float(min(MAX_WIDTH, longest + 2))


def write_xlsx(
    out: BinaryIO,
    names: Sequence[str],
    columns: Sequence[pa.ChunkedArray | pa.Array],
    *,
    lead: Sequence[str] = (),
    colour_column: str | None = None,
    sheet: str = "Orders",
) -> None:
    """Write string ``columns`` under ``names`` as one sheet of an .xlsx workbook.

    The columns named in ``lead`` (those present) come first, the others keep their
    order. A row whose ``colour_column`` holds a colour (CSS name or ``#rrggbb``) is
    filled with it.

    >>> write_xlsx(fh, ["Order", "Tag Colour"], [pa.array(["1"]), pa.array(["gold"])],
    ...            colour_column="Tag Colour")
    """
    order = [names.index(n) for n in dict.fromkeys(lead) if n in names]
    order += [i for i in range(len(names)) if i not in order]
    heads = [names[i] for i in order]
    cols = [columns[i] for i in order]
    n = len(cols[0]) if cols else 0
    if n + 1 > ROW_LIMIT:
        raise InputError(
            f"{n:,} rows do not fit in one spreadsheet (at most {ROW_LIMIT - 1:,}).",
            hint="Write CSV (--output-format csv), or split the export.",
        )
    colours = (
        _text(columns[names.index(colour_column)], 0, n)
        if colour_column is not None and colour_column in names
        else None
    )

    wb = Workbook(write_only=True)
    ws: Any = wb.create_sheet(sheet)
    for j, (head, col) in enumerate(zip(heads, cols, strict=True), start=1):
        ws.column_dimensions[get_column_letter(j)].width = _width(
            _text(col, 0, min(n, MEASURE_ROWS)), head
        )
    ws.freeze_panes = "A2"
    last = get_column_letter(max(1, len(heads)))
    ws.auto_filter.ref = f"A1:{last}{n + 1}"

    bold = Font(bold=True)
    header = []
    for head in heads:
        cell = WriteOnlyCell(ws, value=head)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    # One named style per colour, registered with the workbook once (openpyxl's public
    # style API): a cell then takes it by name, a copy of the style's index array, where
    # assigning a fill and a font to each cell would hash both per cell (most of the time
    # on a big sheet).
    styles: dict[str, str | None] = {}

    def style_of(colour: str) -> str | None:
        if colour not in styles:
            fill = colour_hex(colour)
            name = None
            if fill:
                name = f"Tag colour {fill.lower()}"
                if name not in wb.named_styles:
                    wb.add_named_style(
                        NamedStyle(
                            name=name,
                            fill=PatternFill(fill_type="solid", fgColor="FF" + fill[1:].upper()),
                            font=Font(color="FF" + contrast_text(colour)[1:].upper()),
                        )
                    )
            styles[colour] = name
        return styles[colour]

    for start in range(0, n, BATCH):
        batch = [_text(c, start, BATCH) for c in cols]
        for r, row in enumerate(zip(*batch, strict=True)):
            style = style_of(colours[start + r]) if colours is not None else None
            cells: list[Any] = []
            for j, value in enumerate(row):
                if len(value) > CELL_LIMIT:
                    raise InputError(
                        f"a value of {len(value):,} characters does not fit in a spreadsheet "
                        f"cell (at most {CELL_LIMIT:,}).",
                        row=start + r + 2,
                        column=heads[j],
                        hint="Write CSV (--output-format csv) for this export.",
                    )
                value = _clean(value)
                if style is None and not value.startswith("="):
                    cells.append(value)  # plain text: no cell object needed
                    continue
                cell = WriteOnlyCell(ws, value=value)
                if value.startswith("="):
                    # Text, never a formula: openpyxl takes a leading = as one.
                    cell.data_type = "s"
                if style is not None:
                    cell.style = style
                cells.append(cell)
            ws.append(cells)
    wb.save(out)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(value: str) -> str:
    """openpyxl refuses control characters other than tab and line breaks; XML cannot
    hold them. They are written as Excel's own escape (``_x0001_``), which Excel reads
    back as the character."""
    if _CONTROL.search(value) is None:
        return value
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
