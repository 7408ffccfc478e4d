"""The orders for people: ``show`` (a table on the terminal, in the tags' colours) and
``report`` (a self-contained web page for the warehouse screen and the printer)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ordertags.base.printable import printable
from ordertags.cli.context import Where, command
from ordertags.cli.options import (
    COLOURS,
    AsOfOpt,
    BookOpt,
    OrdersArg,
    OutputOpt,
    QuietOpt,
    RegionOpt,
    RulesOpt,
    WorkspaceOpt,
    as_of_date,
    choose,
    reads_exports,
)
from ordertags.cli.program import progress_of, say
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions

if TYPE_CHECKING:  # the runs (and pyarrow) are imported only by commands that read exports
    from ordertags.runs import OrdersView

ColourOpt = Annotated[
    str,
    typer.Option(
        "--colour",
        "--color",
        help="auto: a coloured table on a terminal (no colour with NO_COLOR set), "
        "tab-separated text elsewhere; always: the coloured table anywhere; never: the "
        "table without colour on a terminal, tab-separated text elsewhere.",
    ),
]
OnlyTaggedOpt = Annotated[
    bool, typer.Option("--only-tagged", help="Show only the orders that carry a tag.")
]
ShowTagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        help="Show only the orders carrying this tag (repeat for several).",
        show_default=False,
    ),
]


def _colour_mode(colour: str) -> tuple[bool, str | None]:
    """(table?, colour system or None) for --colour on this standard output."""
    choose(colour, COLOURS, "--colour")
    forced = colour == "always" or (colour == "auto" and bool(os.environ.get("FORCE_COLOR")))
    tty = sys.stdout.isatty()
    if not (tty or forced):
        return False, None
    if colour == "never" or (not forced and os.environ.get("NO_COLOR")):
        return True, None
    term = os.environ.get("COLORTERM", "")
    system = "truecolor" if forced or term in ("truecolor", "24bit") else "256"
    return True, system


def _width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


def _view(
    orders: list[str],
    tagbook: Path | None,
    rules: Path | None,
    tag: list[str] | None,
    only_tagged: bool,
    as_of: str | None,
    quiet: bool,
    workspace: Path | None,
    region: str | None,
    read: ReadOptions,
    *,
    show_columns: list[str] | None = None,
) -> OrdersView:
    """The orders as ``show`` and ``report`` see them (the workspace's history read,
    nothing recorded), with the progress bar on a terminal."""
    when = as_of_date(as_of)
    where = Where(workspace, tagbook, rules)
    from ordertags.runs import Inputs, ViewRequest, view_orders

    with progress_of(orders, quiet) as progress:
        inputs = Inputs(
            orders, where.tagbook, where.rules, when, read, where.workspace, region, progress
        )
        return view_orders(ViewRequest(inputs, tag or [], only_tagged, show_columns or []))


@command
@reads_exports
def show(
    orders: OrdersArg,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    tag: ShowTagOpt = None,
    only_tagged: OnlyTaggedOpt = False,
    columns: Annotated[
        list[str] | None,
        typer.Option(
            "--columns",
            help="Export columns to show beside the order's needs (repeat, or separate "
            "with commas), instead of date, total, service, country and channel.",
            show_default=False,
        ),
    ] = None,
    colour: ColourOpt = "auto",
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Show the orders as a table: each tagged order in its tag's colour, with the
    labels, the customer's note and what rules set or held; a line of counts per tag on
    top (on stderr). On a terminal the table fits its width, dropping the less
    important columns; piped, it is tab-separated text. In a workspace, the history
    is read (nothing is recorded).

    Example: ordertags show open_orders.csv -t tagbook.yaml -r rules.yaml --only-tagged
    """
    table_mode, system = _colour_mode(colour)
    from ordertags.runs import render_counts, render_plain, render_table

    shown = [c.strip() for spec in columns or [] for c in spec.split(",") if c.strip()]
    view = _view(
        orders,
        tagbook,
        rules,
        tag,
        only_tagged,
        as_of,
        quiet,
        workspace,
        default_region,
        read,
        show_columns=shown,
    )
    colour_err = table_mode and system is not None and sys.stderr.isatty()
    say(quiet, render_counts(view, colour=colour_err, width=_width()))
    if table_mode:
        typer.echo(render_table(view, width=_width(), colour_system=system), color=True)
    else:
        typer.echo(printable(render_plain(view), keep="\n\t"))


@command
@reads_exports
def report(
    orders: OrdersArg,
    output: OutputOpt,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    tag: ShowTagOpt = None,
    only_tagged: OnlyTaggedOpt = False,
    title: Annotated[
        str, typer.Option("--title", help="The page's title.", show_default=True)
    ] = "Orders to pack",
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Write the orders as one self-contained web page for the warehouse screen and the
    printer: counts per tag, tag chips that filter the orders, a search box, and each
    order with its coloured tag badges, labels, the customer's note, and any hold or
    forced service in bold. Printed, each tagged order keeps its symbol and label, so a
    black-and-white page still shows it. The data is one JSON document in the page
    (its schema: `ordertags schema report`).

    Example: ordertags report open_orders.csv -t tagbook.yaml -r rules.yaml -o report.html
    """
    from ordertags.runs import write_report

    view = _view(
        orders, tagbook, rules, tag, only_tagged, as_of, quiet, workspace, default_region, read
    )
    write_report(view, output, title=title)
    say(quiet, view.counts_line() + ("" if output == "-" else f"; wrote {output}"))
