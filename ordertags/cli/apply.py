"""``ordertags apply``: tag every order and write the exports back annotated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ordertags.base.files import RUN_WAIT_S
from ordertags.cli.context import Where, command, flag
from ordertags.cli.options import (
    APPLY_FORMATS,
    PROFILE_PLACES,
    AsOfOpt,
    BookOpt,
    ModeOpt,
    NoRecordOpt,
    OrdersArg,
    OutputEncodingOpt,
    OutputOpt,
    ProfileColumnsOpt,
    QuietOpt,
    RegionOpt,
    RulesOpt,
    WaitOpt,
    WorkspaceOpt,
    as_of_date,
    choose,
    either,
    mode_of,
    output_encoding_of,
    reads_exports,
)
from ordertags.cli.program import progress_of, say
from ordertags.cli.render import render_dry_run, render_summary, render_warnings
from ordertags.errors import OrderTagsError
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions

if TYPE_CHECKING:
    from ordertags.customers.workspace import Workspace


@command
@reads_exports
def apply(
    orders: OrdersArg,
    output: OutputOpt,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            help=f"{either(APPLY_FORMATS)} (a spreadsheet: header row frozen, "
            "autofilter, tagged rows in their tag's colour, Customer Profile after the order "
            "number). Default: the input's format.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Write nothing; list the orders whose tags, set fields, notes "
            "or holds would change against the previous output file.",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    no_record: NoRecordOpt = False,
    default_region: RegionOpt = None,
    output_encoding: OutputEncodingOpt = None,
    profile_columns: ProfileColumnsOpt = "last",
    excel_safe: Annotated[
        bool,
        typer.Option(
            "--excel-safe",
            help="Put a ' in front of every cell a spreadsheet would run as a formula "
            "(starting with = + - @, a tab or a carriage return; plain numbers stay). Off by "
            "default: every original value comes back byte for byte.",
        ),
    ] = False,
    list_: Annotated[
        list[str] | None,
        typer.Option(
            "--list",
            metavar="FILE:TAGS",
            help="Also write a mailing list from the same run, as export would: "
            "FILE:TAG[,TAG...], a tag written !TAG leaves its customers out "
            "(repeat for several lists).",
            show_default=False,
        ),
    ] = None,
    without_consent: Annotated[
        bool,
        typer.Option(
            "--include-without-consent",
            help="In the --list files, also list customers whose exports do not say "
            "they accept marketing (as export's option of the same name).",
        ),
    ] = False,
    mode: ModeOpt = None,
    wait: WaitOpt = RUN_WAIT_S,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Tag every order and write the exports back with Customer Tags, Customer Profile
    and Tag Colour columns. In a workspace, customer conditions read the order history
    and the run's orders are recorded in it (unless --no-record). Customer spend is net
    of the refunds the exports state, and a fully refunded order is not counted in
    orders. With --list, the same run also writes mailing lists (the exports are read
    once).

    Example: ordertags apply open_orders.csv -t tagbook.yaml -r rules.yaml -o annotated.csv

    Example (in a workspace, e.g. from cron): ordertags apply open_orders.csv -o tagged.csv

    Example (orders and the VIP list in one run):
    ordertags apply orders.csv -o annotated.csv --list 'vip.csv:VIP,!FRAUD'
    """
    when = as_of_date(as_of)
    from ordertags.runs import ApplyRequest, Inputs, ListSpec, WriteOptions, apply_orders

    lists = [ListSpec.parse(text) for text in list_ or []]
    where = Where(workspace, tagbook, rules)
    tagbook_path, rules_path = where.tagbook, where.rules
    if output_format is not None:
        choose(output_format, APPLY_FORMATS, "--output-format")
    if dry_run and output_format == "xlsx":
        raise typer.BadParameter(
            "--dry-run compares text outputs; leave out --output-format xlsx.",
            param_hint="--dry-run",
        )
    if len(orders) > 1 and output == "-":
        raise typer.BadParameter(
            "several exports are written to a folder, not to -.", param_hint="--output"
        )
    if orders.count("-") > 1:
        raise typer.BadParameter("standard input (-) can be read only once.")
    write = WriteOptions(
        output_format=output_format,
        encoding=output_encoding_of(output_encoding),
        profile_columns=choose(profile_columns, PROFILE_PLACES, "--profile-columns"),
        excel_safe=excel_safe,
        mode=mode_of(mode),
    )
    with progress_of(orders or [], quiet) as progress:
        inputs = Inputs(
            orders, tagbook_path, rules_path, when, read, where.workspace, default_region, progress
        )
        done = apply_orders(
            ApplyRequest(
                inputs,
                output=output,
                write=write,
                dry_run=dry_run,
                record=not no_record,
                lists=lists,
                consent=not without_consent,
                wait=wait,
            )
        )
    if dry_run:
        typer.echo(render_dry_run(done.dry_runs))
        say(quiet, render_summary(done.summary, []))
    elif not quiet:  # the summary's table layout is not even imported for a quiet run
        say(quiet, render_summary(done.summary, done.written, done.lists))
    say(False, render_warnings(done.summary, done.replaced))
    _watch(done.run, where.workspace, post=not dry_run, remember=not dry_run and not no_record)


def _watch(result: Any, ws: Workspace | None, *, post: bool, remember: bool) -> None:
    """The watch list: a line per order with an ``alert: true`` tag not told before
    (always, even with --quiet: cron mails it), and one message to the workspace's
    webhooks."""
    from ordertags.runs import new_alerts, post_alerts, webhook_settings

    alerts = new_alerts(result, ws, remember=remember)
    for alert in alerts:
        typer.echo(alert.line(), err=True)
    if not alerts or not post or ws is None:
        return
    try:
        settings = webhook_settings(ws.root)
    except OrderTagsError as exc:
        typer.echo(f"warning: no webhook posted: {exc.render(flag)}", err=True)
        return
    for host, why in post_alerts(alerts, settings).failed:
        typer.echo(f"warning: the webhook at {host} was not reached ({why}).", err=True)
