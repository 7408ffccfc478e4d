"""The one table renderer of the command line.

:func:`echo_table` prints a table to standard output: on a terminal, with rich (columns
fitted to its width, long cells wrapped) for tables of up to :data:`RICH_ROWS` rows;
otherwise, and for longer tables, in the plain format of :func:`draw`: tabulate's
``simple`` layout, which scripts and the tests read. :func:`draw` alone makes the plain
text of a table that is part of a longer message (a summary, a customer's card).

Both ways, a value's control characters never reach the terminal: each is shown as its
escape (:func:`ordertags.base.printable.printable`), piped or not, whatever the table.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from ordertags.base.printable import printable

#: Rows beyond which a table on a terminal is drawn plain: rich takes about half a
#: second for 1,000 rows (a large tag book lists 10,000), the plain format a twentieth.
RICH_ROWS = 200

Align = Sequence[str] | None


def echo_table(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[str],
    *,
    align: Align = None,
    numparse: bool = True,
) -> None:
    """Print the table (see the module's docstring)."""
    if sys.stdout.isatty() and len(rows) <= RICH_ROWS:
        _print_rich(rows, headers, align)
    else:
        typer.echo(draw(rows, headers, align=align, numparse=numparse))


def _print_rich(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: Align) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, header in enumerate(headers):
        right = align is not None and align[i] == "right"
        if align is None and rows:
            right = all(type(row[i]) is int for row in rows)
        table.add_column(printable(header), justify="right" if right else "left", overflow="fold")
    for row in rows:
        # Text, not markup: a note such as "[red]" is shown as written; a control
        # character as its escape.
        table.add_row(*(Text(printable(str(cell))) for cell in row))
    Console(highlight=False, emoji=False, soft_wrap=False).print(table)


def draw(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[str],
    *,
    align: Align = None,
    numparse: bool = True,
) -> str:
    """The table in tabulate's ``simple`` format. ``align`` gives each column's
    alignment (left, right); ``numparse`` False shows numbers as written (tabulate
    otherwise right-aligns and reformats them).

    Columns of text or of whole numbers, with tabulate's own alignment, are drawn here
    (the same characters, in a fraction of the time: tabulate takes a third of a second
    for 10,000 rows, the list of a large tag book, against the quick commands' budget);
    other tables (numbers written as text, decimals, cells with line breaks or control
    characters) go to tabulate itself.
    """
    if align is None and numparse:
        drawn = _draw_simple(rows, list(headers))
        if drawn is not None:
            return printable(drawn, keep="\n")
    from tabulate import tabulate

    kwargs: dict[str, Any] = {"headers": list(headers), "disable_numparse": not numparse}
    if align is not None:
        kwargs["colalign"] = tuple(align)
    text: str = tabulate([list(r) for r in rows], **kwargs)
    return printable(text, keep="\n")  # a value's control characters never reach a terminal


def _text_cell(cell: str) -> bool:
    """Would tabulate read this cell as text (not a number or a boolean)?"""
    if cell in ("True", "False"):
        return False
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return True
    return False


def _cell_width(cell: str) -> int:
    if cell.isascii():
        return len(cell)
    from wcwidth import wcswidth

    width: int = wcswidth(cell)
    return width


def _draw_simple(rows: Sequence[Sequence[Any]], headers: list[str]) -> str | None:
    """The table as tabulate draws it by default, for columns of text or whole numbers;
    None for any other table."""
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
    right: list[bool] = []
    for col in cols:
        if col and all(type(c) is int for c in col):
            right.append(True)  # whole numbers: right-aligned
            continue
        if not all(type(c) is str for c in col) or not "".join(col).isprintable():
            return None
        filled = [c for c in col if c]
        if filled and not any(_text_cell(c) for c in filled):
            return None
        right.append(False)
    # tabulate strips the cells (not the headers).
    cells = [
        tuple(str(c) if r else c.strip() for c, r in zip(row, right, strict=True)) for row in rows
    ]
    cols = list(zip(*cells, strict=True)) if cells else cols
    ascii_only = all("".join(col).isascii() for col in cols) and "".join(headers).isascii()
    width = len if ascii_only else _cell_width

    def pad(text: str, w: int, r: bool) -> str:
        fill = " " * (w - width(text))
        return fill + text if r else text + fill

    widths = [max([width(h) + 2, *map(width, col)]) for h, col in zip(headers, cols, strict=True)]
    out = [
        "  ".join(pad(h, w, r) for h, w, r in zip(headers, widths, right, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    if ascii_only:
        fmt = "  ".join(f"{{:{'>' if r else '<'}{w}}}" for w, r in zip(widths, right, strict=True))
        out.extend(fmt.format(*row).rstrip() for row in cells)
    else:
        out.extend(
            "  ".join(pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip()
            for row in cells
        )
    return "\n".join(out)
