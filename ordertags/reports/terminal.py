"""The orders as a table in a terminal (``ordertags show``).

On a terminal: a table whose tagged rows are filled with their tag's colour (black or
white text, whichever reads better on it), the fields a rule set and the hold in bold,
and columns of lower priority dropped until the table fits the width, so that a row is
never wrapped. Elsewhere (a pipe, a file): tab-separated text a script can read, one
order a line, every column, no colour.

>>> render_plain(view).splitlines()[0].split("\\t")
['Order', 'Customer Profile', 'Customer', 'Identity', 'Date', 'Total', 'Service',
 'Country', 'Channel', 'Order Notes', 'Action']
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ordertags.base.printable import printable
from ordertags.reports.views import OrdersView, OrderView, TagStyle


@dataclass(frozen=True)
class Column:
    """One column of the table: its title, its priority (the lowest is dropped first when
    the terminal is too narrow), its widest width, and the narrowest it may be cut to
    rather than dropped (0: dropped whole, never cut narrower than its text)."""

    title: str
    priority: int
    widest: int
    least: int = 0


#: Priorities of the usual fields; columns named with --columns rank between them.
FIELD_PRIORITY = {"Service": 55, "Total": 50, "Date": 40, "Country": 30, "Channel": 20}

#: What the packer must act on (the hold, a forced service) comes first after the order
#: number: it is the last column to be cut or dropped.
ACTION_PRIORITY = 98


def columns_of(view: OrdersView) -> list[Column]:
    """The table's columns, left to right."""
    cols = [
        Column("Order", 100, 24),
        Column("Customer Profile", 95, 44, least=12),
        Column("Customer", 85, 20, least=10),
        Column("Identity", 60, 26),
    ]
    for i, title in enumerate(view.fields):
        cols.append(Column(title, FIELD_PRIORITY.get(title, 45 - i), 20))
    cols += [Column("Order Notes", 70, 32, least=12), Column("Action", ACTION_PRIORITY, 44, 16)]
    return cols


def cells_of(order: OrderView, view: OrdersView) -> list[str]:
    """One order's cells, in the order of :func:`columns_of`."""
    return [
        order.order,
        order.profile,
        order.name,
        order.identity,
        *(v for _, v in order.values),
        "; ".join(order.order_notes),
        order.actions(),
    ]


def _one_line(text: str) -> str:
    """One line of text, its control characters inert (:func:`printable`)."""
    return printable(" ".join(text.split()))


def render_plain(view: OrdersView) -> str:
    """Tab-separated: a header line, then one line per order (tabs and line breaks in
    values become spaces)."""
    lines = ["\t".join(c.title for c in columns_of(view))]
    for order in view.orders:
        lines.append("\t".join(_one_line(c) for c in cells_of(order, view)))
    return "\n".join(lines)


#: Characters between two columns (the padding, collapsed).
GAP = 2


def fit_columns(view: OrdersView, width: int) -> list[tuple[int, int]]:
    """The columns that fit in ``width`` characters, as (index, width).

    Columns are taken by priority, each as wide as its longest cell up to its widest.
    One that does not fit whole is cut to the width left if that is at least its
    ``least`` (and then the table is full), else dropped, and the next is tried: so a
    column is never dropped for one of lower priority, but a narrow column of lower
    priority may fill the room a wide one could not use. Columns with nothing in them
    are left out (the order number and the profile never are). Width left over goes to
    the cut columns, by priority."""
    cols = columns_of(view)
    need = [0] * len(cols)
    for order in view.orders:
        for i, cell in enumerate(cells_of(order, view)):
            need[i] = max(need[i], cell_len(_one_line(cell)))
    full = [min(max(n, cell_len(c.title)), c.widest) for n, c in zip(need, cols, strict=True)]
    widths: dict[int, int] = {}
    used = -GAP
    for i in sorted(range(len(cols)), key=lambda i: -cols[i].priority):
        if need[i] == 0 and cols[i].title not in ("Order", "Customer Profile"):
            continue
        room = width - used - GAP
        if full[i] <= room or not widths:
            widths[i] = full[i]
        elif cols[i].least and room >= cols[i].least:
            widths[i] = room
        else:
            continue
        used += GAP + widths[i]
    for i in sorted(widths, key=lambda i: -cols[i].priority):
        extra = max(0, min(need[i] - widths[i], width - used))
        widths[i] += extra
        used += extra
    return sorted(widths.items())


def _style(tag: TagStyle | None) -> Any:

    if tag is None:
        return Style()
    return Style(color=tag.text, bgcolor=tag.background)


def render_counts(view: OrdersView, *, colour: bool, width: int = 200) -> str:
    """The counts line; on a terminal each tag is a chip in its colour, and the chips
    wrap between chips (never inside one) at ``width``."""
    if not colour:
        return printable(view.counts_line())

    head, _, _ = printable(view.counts_line()).partition(": ")
    chips = [
        (printable(f" {(s.icon + ' ') if s.icon else ''}{s.name} {s.orders:,} "), s)
        for s in view.tags.values()
        if s.orders
    ]
    lines = [Text(head + (":" if chips else ""))]
    for label, style in chips:
        if cell_len(lines[-1].plain) + 1 + cell_len(label) > width:
            lines.append(Text())
        if lines[-1].plain:
            lines[-1].append(" ")
        lines[-1].append(label, style=_style(style))
    return "\n".join(_to_ansi(line, width=width, colour_system="truecolor") for line in lines)


def _to_ansi(renderable: Any, *, width: int, colour_system: str | None) -> str:

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=colour_system is not None,
        color_system=colour_system,  # type: ignore[arg-type]
        no_color=colour_system is None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(renderable, end="")
    return buf.getvalue().rstrip("\n")


def render_table(view: OrdersView, *, width: int, colour_system: str | None = "truecolor") -> str:
    """The orders as a table ``width`` characters wide at most. ``colour_system``:
    ``truecolor``, ``256``, ``standard`` or None for no colour (``NO_COLOR``)."""
    cols = columns_of(view)
    kept = fit_columns(view, width)
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        expand=False,
    )
    for i, w in kept:
        table.add_column(cols[i].title, no_wrap=True, overflow="ellipsis", max_width=w)
    for order in view.orders:
        cells = cells_of(order, view)
        row = []
        for i, _ in kept:
            text = Text(_one_line(cells[i]))
            if cols[i].title == "Action" and cells[i]:
                text.stylize("bold")
            row.append(text)
        table.add_row(*row, style=_style(order.colour(view.tags)))
    return _to_ansi(table, width=width, colour_system=colour_system)


@contextmanager
def progress_bar(total: int, file: TextIO) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` bytes drawn on ``file`` (a terminal) while the block runs, with
    the bytes read, the rate and the time left; it goes when the block ends. Yields the
    callback to give the library (``progress=``), called with each chunk's size. Once
    everything is read, the rest of the run (rules, writing) has no byte count: the bar
    says so and pulses."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(file=file),
        transient=True,
    )
    with bar:
        task = bar.add_task("reading", total=total)

        def advance(n: int) -> None:
            bar.advance(task, n)
            state = bar.tasks[0]
            if state.total is not None and state.completed >= total:
                state.total = None
                bar.update(task, description="tagging")

        yield advance
