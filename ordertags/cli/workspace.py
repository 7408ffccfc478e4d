"""The workspace: ``init`` (create one), ``ingest`` (record exports in its order
history), ``history stats`` and ``history prune``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordertags.base.files import RUN_WAIT_S
from ordertags.cli.context import Where, command
from ordertags.cli.options import (
    ModeOpt,
    OrdersArg,
    QuietOpt,
    RegionOpt,
    WaitOpt,
    WorkspaceOpt,
    date_of,
    mode_of,
    reads_exports,
)
from ordertags.cli.program import progress_of, say
from ordertags.cli.render import plural, render_ingest
from ordertags.cli.tables import draw
from ordertags.customers.workspace import init_workspace
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions


@command
def init_cmd(
    directory: Annotated[
        Path, typer.Argument(help="The workspace folder (created if missing).", show_default=False)
    ] = Path("."),
    default_region: RegionOpt = None,
    mode: ModeOpt = None,
) -> None:
    """Create a workspace: a starter tag book and rule file (commented, valid as written),
    the order history (history.sqlite) and a .gitignore that keeps the history out of
    version control. Files already there are kept. What it creates is owner-only (files
    600, the folder 700) unless --mode says otherwise.

    Example: ordertags init shop --default-region GB
    """
    report = init_workspace(directory, region=default_region, mode=mode_of(mode))
    root = report.workspace.root
    typer.echo(
        f"workspace {root}: "
        + (f"created {', '.join(report.created)}" if report.created else "")
        + ("; " if report.created and report.kept else "")
        + (f"kept {', '.join(report.kept)}" if report.kept else ""),
        err=True,
    )
    if report.folder_note:
        typer.echo(report.folder_note, err=True)


@command
@reads_exports
def ingest(
    orders: OrdersArg,
    workspace: WorkspaceOpt = None,
    quiet: QuietOpt = False,
    default_region: RegionOpt = None,
    wait: WaitOpt = RUN_WAIT_S,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Add the orders of exports to the workspace's history, keyed by channel and order
    id: ingesting an export again changes nothing, and a changed order (a refund, a
    corrected email) is updated. One transaction per export.

    Example: ordertags ingest orders-2025.csv orders-2026.csv --workspace shop
    """
    ws = Where(workspace).needed_workspace
    from ordertags.runs import IngestRequest, ingest

    with progress_of(orders or [], quiet) as progress:
        report = ingest(IngestRequest(orders, ws, read, default_region, wait, progress))
    say(quiet, render_ingest(report))


history_app = typer.Typer(
    help="The workspace's order history: counts, and pruning for data retention.",
    no_args_is_help=True,
)


@history_app.command("stats")
@command
def history_stats(workspace: WorkspaceOpt = None) -> None:
    """Show the history's size, orders, customers, identities, date range and channels.

    Example: ordertags history stats --workspace shop
    """
    with Where(workspace).needed_workspace.open_history() as history:
        st = history.stats()
    lines = [
        f"history {st.path} ({st.bytes / 1e6:,.1f} MB, schema version "
        f"{st.schema_version}, phone region {st.region})",
        f"{plural(st.orders, 'order')}, {plural(st.customers, 'customer')}; orders from "
        f"{st.first or '-'} to {st.last or '-'}"
        + (f", {plural(st.undated, 'order')} without a date" if st.undated else ""),
        "identities: " + (", ".join(f"{n:,} {k}" for k, n in st.identities.items()) or "none"),
        f"links: {st.links:,} same person, {st.apart:,} different people",
    ]
    if st.channels:
        lines += [
            "",
            draw(
                [(c, f"{n:,}") for c, n in st.channels],
                ["channel", "orders"],
                align=("left", "right"),
            ),
        ]
    typer.echo("\n".join(lines))


@history_app.command("prune")
@command
def history_prune(
    before: Annotated[
        str,
        typer.Option(
            "--before",
            help="Delete the orders dated before this day, YYYY-MM-DD.",
            show_default=False,
        ),
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Delete the orders dated before a day (data retention), with the identities and
    customers nothing else uses; the file is then compacted so the data is gone from it.

    Example: ordertags history prune --before 2020-01-01
    """
    day = date_of(before, "--before")
    assert day is not None  # --before is required
    with Where(workspace).needed_workspace.open_history() as history:
        rep = history.prune(day)
    typer.echo(
        f"pruned {plural(rep.orders, 'order')} dated before {rep.before}: "
        f"{plural(rep.customers, 'customer')} and "
        f"{plural(rep.identities, 'identity', 'identities')} left with none removed",
        err=True,
    )
