"""Orders as an Excel workbook for the people packing them (``--output-format xlsx``).

One sheet: the header row frozen so it stays visible, an autofilter on it, column widths
fitted to the text, and each row filled with its tag colour, in black or white text,
whichever reads better on it. Every value is written as text, exactly as read (leading
zeros, ``0.00``), so sorting and filtering in the spreadsheet see what the export had,
and a value that looks like a formula (``=HYPERLINK(...)``) stays text, never run.
Written with XlsxWriter in constant-memory mode: each row goes to the sheet's file as
soon as it is complete, so memory stays flat and no cell object is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter

from ordertags.base.colours import colour_hex, contrast_text
from ordertags.errors import InputError, param

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


def _too_long(col: pa.ChunkedArray | pa.Array) -> int | None:
    """The row (0-based) of the first value longer than a cell holds, or None."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    # UTF-8 bytes bound the characters from above: only a column with a long value pays
    # for counting characters.
    if (pc.max(pc.binary_length(col)).as_py() or 0) <= CELL_LIMIT:
        return None
    over = pc.greater(pc.utf8_length(col), CELL_LIMIT)
    first = pc.index(over, True).as_py()
    return None if first < 0 else int(first)


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
            hint=f"Write CSV ({param('output_format')} csv), or split the export.",
        )
    # The first value too long for a cell, in the order of writing: rows, then columns.
    long = [(r, j) for j, col in enumerate(cols) if (r := _too_long(col)) is not None]
    if long:
        r, j = min(long)
        size = len(_text(cols[j], r, 1)[0])
        raise InputError(
            f"a value of {size:,} characters does not fit in a spreadsheet "
            f"cell (at most {CELL_LIMIT:,}).",
            row=r + 2,
            column=heads[j],
            hint=f"Write CSV ({param('output_format')} csv) for this export.",
        )
    colours = (
        _text(columns[names.index(colour_column)], 0, n)
        if colour_column is not None and colour_column in names
        else None
    )

    # Every value is text: no number, date, formula or link is made of it (a value
    # starting with = is written as a string, never a formula).
    wb: Any = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    ws: Any = wb.add_worksheet(sheet)
    for j, (head, col) in enumerate(zip(heads, cols, strict=True)):
        ws.set_column(j, j, _width(_text(col, 0, min(n, MEASURE_ROWS)), head))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, n, max(1, len(heads)) - 1)

    bold = wb.add_format({"bold": True})
    for j, head in enumerate(heads):
        ws.write_string(0, j, head, bold)
    # One format per colour, made once; a row without a colour has none.
    formats: dict[str, Any] = {}

    def format_of(colour: str) -> Any:
        if colour not in formats:
            fill = colour_hex(colour)
            formats[colour] = (
                wb.add_format({"pattern": 1, "bg_color": fill, "font_color": contrast_text(colour)})
                if fill
                else None
            )
        return formats[colour]

    if n and _rows_as_xml(ws):
        # XlsxWriter's own row writer costs a few microseconds per cell (most of the
        # time on a big sheet); the same XML is made a column at a time below.
        ws._write_single_row(1)  # the header row, to the sheet's row file
        styles = None
        if colours is not None:
            ids = {
                c: (f' s="{f._get_xf_index()}"' if (f := format_of(c)) else "")
                for c in dict.fromkeys(colours)
            }
            styles = pa.array([ids[c] for c in colours], pa.string())
        for start in range(0, n, BATCH):
            length = min(BATCH, n - start)
            part = [_whole(c.slice(start, length)) for c in cols]
            style = styles.slice(start, length) if styles is not None else None
            ws.row_data_fh.write(_rows_xml(part, start + 2, style))
        ws._check_dimensions(n, len(cols) - 1)
        ws.previous_row = n
    else:
        put = ws.write_string
        for start in range(0, n, BATCH):
            batch = [_text(c, start, BATCH) for c in cols]
            for r, row in enumerate(zip(*batch, strict=True), start=start):
                fmt = format_of(colours[r]) if colours is not None else None
                at = r + 1
                for j, value in enumerate(row):
                    if value or fmt is not None:  # an empty cell without a fill: no cell
                        put(at, j, value, fmt)
    wb.close()


#: Write rows as XML straight to XlsxWriter's row file (constant-memory mode).
STREAM_XML = True


def _rows_as_xml(ws: Any) -> bool:
    """Whether this XlsxWriter worksheet has the row file and helpers the fast path
    writes through (XlsxWriter 3.x in constant-memory mode); otherwise rows go cell by
    cell through its public API, the same cells, slower."""
    return (
        STREAM_XML
        and all(
            hasattr(ws, name)
            for name in ("row_data_fh", "_write_single_row", "_check_dimensions", "previous_row")
        )
        and ws.row_data_fh is not None
    )


def _whole(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    return pc.fill_null(col.cast(pa.large_string()), "")


# What XlsxWriter does to a string in an inline cell (xmlwriter._escape_control_characters,
# _escape_data and worksheet's whitespace check), as column operations.
_ESCAPE_NEEDED = r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f]"
_EDGE_SPACE = r"^\s|\s$"


def _escaped(values: pa.Array) -> pa.Array:
    odd = pc.match_substring_regex(values, _ESCAPE_NEEDED)
    if pc.any(odd).as_py():
        # Control characters and text that reads as Excel's escape of one: rare, so
        # escaped one by one as XlsxWriter does (_x0007_ for BEL, _x005F_x0041_ for a
        # literal _x0041_).
        where = pc.indices_nonzero(odd)
        fixed = [_excel_escape(v) for v in values.take(where).to_pylist()]
        values = pc.replace_with_mask(values, odd, pa.array(fixed, values.type))
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        values = pc.replace_substring(values, char, entity)
    return values


_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")


def _excel_escape(value: str) -> str:
    value = _LITERAL_ESCAPE.sub(r"_x005F\1", value)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)


def _letters(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        name = chr(65 + rest) + name
    return name


def _rows_xml(cols: Sequence[pa.Array], first: int, styles: pa.Array | None) -> str:
    """The ``<row>`` elements of ``cols`` (text) from sheet row ``first`` (1-based),
    each cell an inline string with its row's style attribute (`` s="3"``) if any."""
    n = len(cols[0])

    def t(text: str) -> pa.Scalar:
        return pa.scalar(text, pa.large_string())

    rows = pc.cast(pa.array(range(first, first + n), pa.int64()), pa.large_string())
    style: pa.Array | pa.Scalar = styles.cast(pa.large_string()) if styles is not None else t("")
    cells = []
    for j, raw in enumerate(cols):
        values = _escaped(raw)
        space = pc.if_else(
            pc.match_substring_regex(raw, _EDGE_SPACE), t(' xml:space="preserve"'), t("")
        )
        cell = pc.binary_join_element_wise(
            t(f'<c r="{_letters(j)}'),
            rows,
            t('"'),
            style,
            t(' t="inlineStr"><is><t'),
            space,
            t(">"),
            values,
            t("</t></is></c>"),
            t(""),
        )
        if styles is None:
            cell = pc.if_else(pc.equal(raw, ""), t(""), cell)  # an empty cell: none written
        else:
            cell = pc.if_else(pc.and_(pc.equal(raw, ""), pc.equal(style, "")), t(""), cell)
        cells.append(cell)
    xml = pc.binary_join_element_wise(t('<row r="'), rows, t('">'), *cells, t("</row>"), t(""))
    return "".join(xml.to_pylist())
