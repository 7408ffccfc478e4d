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
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Keep the order history in this PostgreSQL database "
            "(postgresql://USER@HOST/DBNAME), shared by every machine whose workspace "
            "names it; written into settings.toml. Never a password: libpq reads it "
            "from ~/.pgpass or PGPASSWORD. See docs/shared-workspace.md.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a workspace: a starter tag book and rule file (commented, valid as written),
    the order history (history.sqlite, or with --database a PostgreSQL database) and a
    .gitignore that keeps the history out of version control. Files already there are
    kept. What it creates is owner-only (files 600, the folder 700) unless --mode says
    otherwise.

    Example: ordertags init shop --default-region GB
    """
    report = init_workspace(directory, region=default_region, mode=mode_of(mode), database=database)
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


@command
def migrate_cmd(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Where the history goes: a PostgreSQL URL (postgresql://USER@HOST/DBNAME, "
            "no password), or `sqlite` for the workspace's own history.sqlite.",
            show_default=False,
        ),
    ],
    workspace: WorkspaceOpt = None,
    wait: WaitOpt = RUN_WAIT_S,
) -> None:
    """Move the workspace's order history to another database and switch to it: every
    table copied in one transaction, the row counts checked, then the workspace's
    settings.toml updated. The old SQLite file is kept as history.sqlite-migrated.

    Example: ordertags migrate --to postgresql://shop@db.example.com/shop -w shop
    """
    from ordertags.runs import migrate_workspace

    ws = Where(workspace).needed_workspace
    report = migrate_workspace(ws, to, wait=wait)
    c = report.counts
    typer.echo(
        f"moved the history from {report.source} to {report.target}: "
        f"{plural(c.get('orders', 0), 'order')}, {plural(c.get('customers', 0), 'customer')}, "
        f"{plural(c.get('identities', 0), 'identity', 'identities')}, "
        f"{plural(c.get('audit', 0), 'audit entry', 'audit entries')} (counts checked); "
        f"the workspace {ws.root} now uses {report.target}",
        err=True,
    )
    if report.entries:
        typer.echo(
            f"moved {plural(report.entries, 'customer entry', 'customer entries')} of the "
            f"tag book along (into {'the database' if ws.shared else 'tagbook.yaml'})",
            err=True,
        )
    if report.kept:
        typer.echo(
            f"the old history file is kept as {report.kept}: delete it once you no longer need it",
            err=True,
        )


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
