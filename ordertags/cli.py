"""The ``ordertags`` command line: parses options, calls the library, renders results.

The commands reach the library through :mod:`ordertags.api`, imported inside each
command: the one import kept out of the module's top, so that ``--help``, ``tag``,
``untag`` and ``tags`` start without pyarrow (tests/test_architecture.py checks it).
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import inspect
import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from ordertags.base.amounts import money
from ordertags.base.files import RUN_WAIT_S, check_wait, parse_mode
from ordertags.base.keys import DEFAULT_REGION, check_region, identity_of
from ordertags.base.printable import printable
from ordertags.base.segments import GROUP_NAMES, group_slug
from ordertags.base.version import VERSION
from ordertags.base.yamlfiles import load_schema
from ordertags.customers.importing import (
    apply_import,
    parse_tag_map,
    plan_import,
    read_identities,
    tag_many,
)
from ordertags.customers.workspace import (
    customer_name,
    find_workspace,
    identity_seen,
    init_workspace,
    order_customer,
    workspace_region,
)
from ordertags.errors import OrderTagsError
from ordertags.io.lookup import OrderCustomer, find_order_customer
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import MONEY_STYLES, ReadOptions, date_style_named
from ordertags.rules import load_rules

if TYPE_CHECKING:  # the API (and pyarrow) is imported only by commands that read exports
    from ordertags.api import OrdersView

from ordertags.tagbook import (
    change_entry,
    default_author,
    export_entries,
    import_entries,
    link_identities,
    load_tagbook,
    suppress_address,
    tag_customer,
    unlink_identities,
    untag_customer,
)

app = typer.Typer(
    name="ordertags",
    help="Customer tags for online sellers: apply a tag book and rules to order exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # orders hold personal data: never show locals
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

_state = {"verbose": False}

# --- shared options: one spelling and one help text each ---------------------------------

OrdersArg = Annotated[
    list[str],
    typer.Argument(
        help="Order exports (CSV, TSV or JSON); - reads standard input.",
        show_default=False,
        metavar="EXPORT",
    ),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        "-r",
        help="The rule file (YAML). Optional: manual tags alone are a valid run.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Where to write: a file, - for standard output, or a folder when "
        "several exports are given.",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The date rules are evaluated on, YYYY-MM-DD (default: today). Windows "
        "such as within_days count back from it; a customer window counts the run's own "
        "orders whatever their date after its start (today's too).",
        show_default=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of the exports (default utf-8, else detected; e.g. cp1252, "
        "mac_roman, utf-16, latin-1).",
        show_default=False,
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Field delimiter of CSV exports (default: sniffed; 'tab' for TSV).",
        show_default=False,
    ),
]
EmailColOpt = Annotated[
    str | None,
    typer.Option(
        "--email-column", help="The column holding the customer's email.", show_default=False
    ),
]
TotalColOpt = Annotated[
    str | None,
    typer.Option("--total-column", help="The column holding the order total.", show_default=False),
]
DateColOpt = Annotated[
    str | None,
    typer.Option("--date-column", help="The column holding the order date.", show_default=False),
]
NameColOpt = Annotated[
    str | None,
    typer.Option(
        "--name-column", help="The column holding the customer's name.", show_default=False
    ),
]
IdColOpt = Annotated[
    str | None,
    typer.Option(
        "--order-id-column", help="The column holding the order number.", show_default=False
    ),
]
TagOpt = Annotated[
    list[str],
    typer.Option(
        "--tag",
        help="A tag name, in any case (repeat for several).",
        show_default=False,
        metavar="TAG",
    ),
]
MoneyOpt = Annotated[
    str | None,
    typer.Option(
        "--money-style",
        help="How money is written: plain (1234.50), symbol ($1,433.66), "
        "comma_decimal (116,99 €) or auto (each value by its look). Default: as the export's "
        "platform writes it (plain for an export from no known platform).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="The platform the exports come from, instead of recognising it from "
        "the header: shopify, woocommerce, woocommerce-algolplus, woocommerce-analytics, "
        "linnworks, amazon, ebay, ebay-de, etsy-orders, etsy-items, squarespace, online-retail "
        "or generic.",
        show_default=False,
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="A YAML file naming the columns of any other export: one "
        "`Their column: field` a line (fields: order_id, email, total, date, name, ...).",
        show_default=False,
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="On an error, also show the traceback.")
]
BookOpt = Annotated[
    Path | None,
    typer.Option(
        "--tagbook",
        "-t",
        help="The tag book (YAML): tag definitions, customers tagged by hand "
        "and identity links. Default: the workspace's tagbook.yaml.",
        show_default=False,
    ),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="ORDERTAGS_WORKSPACE",
        help="The workspace folder (tag "
        "book, rules, order history; see `ordertags init`). Default: the current folder, when "
        "it is one.",
        show_default=False,
    ),
]
NoRecordOpt = Annotated[
    bool,
    typer.Option(
        "--no-record",
        help="Do not record this run's orders in the workspace's history (its "
        "history is still read).",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--default-region",
        help="The country of phone numbers written without a country code, "
        "e.g. GB, US, DE (default: the workspace's, else GB).",
        show_default=False,
    ),
]

DateStyleOpt = Annotated[
    str | None,
    typer.Option(
        "--date-style",
        help="How numeric dates such as 05/11/2026 are written: day-first or "
        "month-first (also iso, ebay, yyyymmdd, auto). Default: the mapping file's, the "
        "platform's, what the dates show, else the region's (--default-region, the "
        "workspace's); a warning says when none of these could tell.",
        show_default=False,
    ),
]
OutputEncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--output-encoding",
        help="Text encoding of CSV output (default: each export's own, e.g. cp1252 "
        "for a German eBay report). Characters it cannot hold are written as ?.",
        show_default=False,
    ),
]
ProfileColumnsOpt = Annotated[
    str,
    typer.Option(
        "--profile-columns",
        help="Where the added columns go: last (after the export's own columns, safe "
        "to re-import) or first (right after the order number, where packers see them).",
    ),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Permissions of the files this run creates, in octal (default 600: owner "
        "only, as orders hold personal data; e.g. 640 for a group). A file that exists "
        "keeps its own.",
        show_default=False,
    ),
]


def _wait_seconds(value: float) -> float:
    try:
        check_wait(value)
    except OrderTagsError as exc:
        raise typer.BadParameter(exc.detail(), param_hint="--wait") from None
    return value


WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        callback=_wait_seconds,
        help="In a workspace, how many seconds to wait for another recording run (cron "
        "starting again before the last run ended) before giving up with exit 3.",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


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


def render_text_table(rows: Sequence[tuple[Any, ...]], headers: list[str]) -> str:
    """The table tabulate's ``simple`` format draws, for columns of text or of whole
    numbers: the same characters, drawn in a fraction of the time (tabulate takes a
    third of a second for 10,000 rows: the list of a large tag book). Other columns
    (text it would read as numbers, decimals), and cells with line breaks or control
    characters, go to tabulate itself."""
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
    right: list[bool] = []
    for col in cols:
        if col and all(type(c) is int for c in col):
            right.append(True)  # whole numbers: right-aligned
            continue
        if not all(type(c) is str for c in col) or not "".join(col).isprintable():
            return tabulate(rows, headers=headers)
        filled = [c for c in col if c]
        if filled and not any(_text_cell(c) for c in filled):
            return tabulate(rows, headers=headers)
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


#: The options that say how to read exports, in the order ``--help`` lists them; every
#: command that reads exports takes them all, as one :class:`ReadOptions` (``read``).
READ_OPTIONS: list[tuple[str, Any]] = [
    ("encoding", EncodingOpt),
    ("delimiter", DelimiterOpt),
    ("format_", FormatOpt),
    ("mapping", MappingOpt),
    ("money_style", MoneyOpt),
    ("date_style", DateStyleOpt),
    ("email_column", EmailColOpt),
    ("total_column", TotalColOpt),
    ("date_column", DateColOpt),
    ("name_column", NameColOpt),
    ("order_id_column", IdColOpt),
]


def tabulate(*args: Any, **kwargs: Any) -> str:
    """``tabulate.tabulate``, imported when a table is first drawn: the import takes
    longer than a quick run's work."""
    from tabulate import tabulate as draw

    text: str = draw(*args, **kwargs)
    return printable(text, keep="\n")  # a value's control characters never reach a terminal


def read_options(
    encoding: str | None = None,
    delimiter: str | None = None,
    format_: str | None = None,
    mapping: Path | None = None,
    money_style: str | None = None,
    date_style: str | None = None,
    email_column: str | None = None,
    total_column: str | None = None,
    date_column: str | None = None,
    name_column: str | None = None,
    order_id_column: str | None = None,
) -> ReadOptions:
    """The :class:`ReadOptions` the read options of a command line say."""
    if money_style is not None and money_style not in MONEY_STYLES:
        raise typer.BadParameter(f"use {', '.join(MONEY_STYLES)}.", param_hint="--money-style")
    named = {
        "email": email_column,
        "total": total_column,
        "date": date_column,
        "name": name_column,
        "order_id": order_id_column,
    }
    return ReadOptions(
        encoding=encoding,
        delimiter=delimiter,
        profile=format_,
        mapping=mapping,
        columns={k: v for k, v in named.items() if v is not None},
        money_style=money_style,
        date_style=_date_style(date_style),
    )


def reads_exports(command: F) -> F:
    """Give ``command`` the read options (:data:`READ_OPTIONS`): Typer sees them in
    place of its ``read`` parameter, and the command gets them as one ReadOptions."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "read"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=alias)
        for name, alias in READ_OPTIONS
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, None) for name, _ in READ_OPTIONS}
        return command(*args, read=read_options(**values), **kwargs)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


def _mode(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_mode(value)
    except ValueError:
        raise typer.BadParameter(
            f'"{value}" is not a file mode; write it in octal, e.g. 600 or 640.',
            param_hint="--mode",
        ) from None


def _fail(exc: OrderTagsError) -> NoReturn:
    if _state["verbose"]:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(f"ordertags: {exc}", err=True)
    raise typer.Exit(code=exc.exit_code)


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f'"{value}" is not a date; write YYYY-MM-DD.', param_hint="--as-of"
        ) from None


def _date_style(value: str | None) -> str | None:
    if value is None:
        return None
    style = date_style_named(value)
    if style is None:
        raise typer.BadParameter(
            "use day-first or month-first (or iso, ebay, yyyymmdd, auto).",
            param_hint="--date-style",
        )
    return style


def _output_encoding(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise typer.BadParameter(
            f'unknown encoding "{value}"; use e.g. utf-8, cp1252, latin-1 or cp932.',
            param_hint="--output-encoding",
        ) from None


def _region_of(region: str | None, ws: Any) -> str | None:
    """--default-region, else the workspace's region (GB where it never set one), else
    None (no workspace: nothing says)."""
    if region or ws is None:
        return region
    try:
        return workspace_region(ws) or DEFAULT_REGION
    except OrderTagsError:
        return None


def _profile_columns(value: str) -> str:
    if value not in ("first", "last"):
        raise typer.BadParameter("use first or last.", param_hint="--profile-columns")
    return value


def _say(quiet: bool, text: str) -> None:
    if not quiet and text:
        typer.echo(text, err=True)


def _workspace(explicit: Path | None) -> Any:
    """The workspace in use (``--workspace``, $ORDERTAGS_WORKSPACE, the current folder)
    or None. Imports nothing heavy: the quick commands call it."""
    try:
        return find_workspace(explicit)
    except OrderTagsError as exc:
        _fail(exc)


def _need_workspace(explicit: Path | None) -> Any:
    ws = _workspace(explicit)
    if ws is None:
        raise typer.BadParameter(
            "this command needs a workspace, and the current folder is not one.",
            param_hint="--workspace",
        )
    return ws


def _book(tagbook: Path | None, ws: Any) -> Path:
    """The tag book to use: --tagbook, else the workspace's (exit 2 when neither)."""
    if tagbook is not None:
        return tagbook
    if ws is not None:
        path: Path = ws.tagbook
        return path
    raise typer.BadParameter(
        "no tag book: give --tagbook FILE, or run in a workspace (see `ordertags init`), or "
        "name one with --workspace DIR or ORDERTAGS_WORKSPACE.",
        param_hint="--tagbook",
    )


def _rules(rules: Path | None, ws: Any) -> Path | None:
    """The rule file: --rules, else the workspace's rules.yaml when it has one."""
    if rules is None and ws is not None and ws.rules.exists():
        found: Path = ws.rules
        return found
    return rules


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    verbose: VerboseOpt = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Customer tags for online sellers: apply a tag book and rules to order exports.

    Example: ordertags apply orders.csv --tagbook tagbook.yaml --rules rules.yaml -o out.csv
    """
    _state["verbose"] = verbose
    if version:
        typer.echo(f"ordertags {VERSION}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(code=2)


# --- apply ---------------------------------------------------------------------------------


@app.command()
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
            help="csv, json, ndjson or xlsx (a spreadsheet: header row frozen, "
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
    when = _as_of(as_of)
    from ordertags.api import ListSpec

    try:
        lists = [ListSpec.parse(text) for text in list_ or []]
    except OrderTagsError as exc:
        _fail(exc)
    ws = _workspace(workspace)
    tagbook_path, rules_path = _book(tagbook, ws), _rules(rules, ws)
    if output_format not in (None, "csv", "json", "ndjson", "xlsx"):
        raise typer.BadParameter("use csv, json, ndjson or xlsx.", param_hint="--output-format")
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
    from ordertags.api import apply_files

    try:
        with _progress(orders or [], quiet) as progress:
            result, written = apply_files(
                orders,
                tagbook=tagbook_path,
                rules=rules_path,
                output=output,
                as_of=when,
                read=read,
                output_format=output_format,
                dry_run=dry_run,
                workspace=ws,
                record=not no_record,
                region=default_region,
                output_encoding=_output_encoding(output_encoding),
                profile_columns=_profile_columns(profile_columns),
                excel_safe=excel_safe,
                lists=lists,
                consent=not without_consent,
                mode=_mode(mode),
                wait=wait,
                progress=progress,
            )
    except OrderTagsError as exc:
        _fail(exc)
    if dry_run:
        typer.echo(render_dry_run(written))
        _say(quiet, render_summary(result.summary, []))
    elif not quiet:  # the summary's table layout is not even imported for a quiet run
        _say(quiet, render_summary(result.summary, [w for w in written if isinstance(w, str)]))
    _say(False, render_warnings(result.summary))
    _watch(result, ws, post=not dry_run)


def _watch(result: Any, ws: Any, *, post: bool) -> None:
    """The watch list: a line per order with an ``alert: true`` tag (always, even with
    --quiet: cron mails it), and one message to the workspace's webhooks."""
    from ordertags.api import post_alerts, watch_alerts, webhook_settings

    alerts = watch_alerts(result)
    for alert in alerts:
        typer.echo(alert.line(), err=True)
    if not alerts or not post or ws is None:
        return
    try:
        settings = webhook_settings(ws.root)
    except OrderTagsError as exc:
        typer.echo(f"warning: no webhook posted: {exc}", err=True)
        return
    for host, why in post_alerts(alerts, settings).failed:
        typer.echo(f"warning: the webhook at {host} was not reached ({why}).", err=True)


def render_dry_run(runs: list[Any]) -> str:
    """What ``apply --dry-run`` found, per output file."""
    lines = []
    for run in runs:
        if not run.previous:
            lines.append(
                f"{run.target}: no previous output; {_n(run.orders, 'order')} would "
                f"be written, {_n(run.changed_orders, 'order')} with tags"
            )
            continue
        lines.append(
            f"{run.target}: {_n(run.changed_orders, 'order')} of {run.orders:,} would change"
        )
        if run.changes:
            rows = [(c.order, c.column, c.before, c.after) for c in run.changes]
            lines.append(tabulate(rows, headers=["order", "column", "before", "after"]))
            if run.changed_orders > len({c.order for c in run.changes}):
                lines.append("(first changes only)")
    return "\n".join(lines)


def _n(count: int, one: str, many: str | None = None) -> str:
    """``_n(1, "order")`` -> "1 order"; ``_n(2, "order")`` -> "2 orders"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _spend_text(per_currency: list[tuple[str, int]], total: int) -> str:
    """Spend with its currency, per currency where there are several: ``1,050.00 GBP``,
    ``600.00 GBP + 1,000.00 EUR`` (never one sum of two currencies)."""

    named = [(c, t) for c, t in per_currency if c]
    if not named:
        return money(total)
    return " + ".join(f"{money(t)} {c or '(no currency)'}" for c, t in per_currency)


def render_warnings(summary: Any) -> str:
    """What a run must tell even with --quiet (a cron log keeps it): what the rules
    asked to be told (``notify``), dates read by assumption, characters the output
    encoding could not hold."""
    lines = list(getattr(summary, "notices", []))
    lines += [f"warning: {w}" for w in getattr(summary, "warnings", [])]
    left = getattr(summary, "spend_left_out", {})
    if left:
        lines.append(
            f"warning: customer spend is compared in {summary.spend_currency}; "
            + ", ".join(f"{_n(n, 'order')} in {c}" for c, n in sorted(left.items()))
            + " left out (no rate: add one under `rates:` in the rule file)"
        )
    if getattr(summary, "replaced", 0):
        lines.append(
            f"warning: {_n(summary.replaced, 'character')} of added labels or notes could "
            "not be written in the output's encoding and were written as ? "
            "(--output-encoding utf-8 keeps them)"
        )
    return "\n".join(lines)


def render_summary(summary: Any, written: list[str]) -> str:
    """The summary printed to stderr after apply/export."""
    lines = []
    for f in summary.files:
        what = f.kind if f.profile == "generic" else f"{f.kind}, {f.title or f.profile}"
        if getattr(f, "encoding", "") and f.encoding != "utf-8":
            what += f", {f.encoding}"
        if f.orders == f.rows:
            lines.append(f"read {_n(f.rows, 'order')} from {f.name} ({what})")
        else:
            lines.append(
                f"read {_n(f.orders, 'order')} ({_n(f.rows, 'row')}) from {f.name} ({what})"
            )
    lines.append(
        f"{_n(summary.orders, 'order')}"
        + (
            f" ({summary.copies:,} seen again in another export, counted once)"
            if getattr(summary, "copies", 0)
            else ""
        )
        + f", {_n(summary.customers, 'customer')}"
        + (
            f", {_n(summary.orders_without_customer, 'order')} without an email"
            if summary.orders_without_customer
            else ""
        )
        + f"; as of {summary.as_of}"
    )
    if summary.orders_per_tag:
        rows_ = [
            (t, f"{summary.orders_per_tag[t]:,}", f"{summary.customers_per_tag[t]:,}")
            for t in summary.orders_per_tag
        ]
        lines.append(
            tabulate(
                rows_,
                headers=["tag", "orders", "customers"],
                tablefmt="simple",
                colalign=("left", "right", "right"),
            )
        )
    else:
        lines.append("no order carries a tag")
    for column, count in getattr(summary, "fields_set", {}).items():
        lines.append(f"set {column} on {_n(count, 'order')}")
    changes = getattr(summary, "tag_changes", {})
    if changes:
        lines.append(
            "since the last run: "
            + ", ".join(f"{t} +{g:,} -{lost:,}" for t, (g, lost) in changes.items())
        )
    if getattr(summary, "held", 0):
        lines.append(f"held {_n(summary.held, 'order')}")
    for column, loser, winner, count in getattr(summary, "conflicts", []):
        lines.append(
            f'conflict: rules "{loser}" and "{winner}" set {column} differently on '
            f'{_n(count, "order")}; "{winner}" wins'
        )
    recorded = getattr(summary, "recorded", None)
    if recorded is not None:
        lines.append(render_ingest(recorded, prefix="history: "))

    lines.append(
        f"tag book: {_n(summary.manual_entries, 'entry', 'entries')} in force"
        + (f", {summary.expired_entries} expired (ignored)" if summary.expired_entries else "")
    )
    lists = getattr(summary, "lists", {})
    for path in written:
        if path in lists:
            lines.append(f"{render_list_outcome(lists[path])}; wrote {path}")
        else:
            lines.append(f"wrote {path}")
    return "\n".join(lines)


# --- export --------------------------------------------------------------------------------


def _date_opt(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f'"{value}" is not a date; write YYYY-MM-DD.', param_hint=flag
        ) from None


@app.command()
@reads_exports
def export(
    output: OutputOpt,
    orders: Annotated[
        list[str] | None,
        typer.Argument(
            help="Order exports (CSV, TSV or JSON); - reads standard input. In a workspace, "
            "none: list the customers of its history.",
            show_default=False,
            metavar="EXPORT",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            metavar="TAG",
            help="Customers with this tag (repeat: any of them). A tag on any of their "
            "orders counts.",
            show_default=False,
        ),
    ] = None,
    everyone: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every customer, instead of --tag or --segment (the filters below and "
            "--not-tag narrow it); consent, suppression, no_marketing tags and relay "
            "addresses leave people out as always.",
        ),
    ] = False,
    tagbook: BookOpt = None,
    all_tags: Annotated[
        bool, typer.Option("--all-tags", help="Customers must have every --tag, not any.")
    ] = False,
    not_tag: Annotated[
        list[str] | None,
        typer.Option(
            "--not-tag",
            metavar="TAG",
            help="Leave out customers with this tag (repeat for several).",
            show_default=False,
        ),
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            "--segment",
            metavar="GROUP",
            help="Customers in this RFM group, e.g. champions, at_risk (repeat: any of them).",
            show_default=False,
        ),
    ] = None,
    min_spend: Annotated[
        str | None,
        typer.Option(
            "--min-spend",
            help="Customers who spent at least this much, as customer rules count spend: "
            "with `currency:` in the rule file, in that currency, other currencies converted "
            "by its `rates:` (100, or 100 EUR converted too); without, 100 GBP in GBP alone, "
            "100 in any one currency.",
            show_default=False,
        ),
    ] = None,
    min_orders: Annotated[
        int | None,
        typer.Option("--min-orders", help="Customers with at least this many orders.", min=0),
    ] = None,
    ordered_since: Annotated[
        str | None,
        typer.Option(
            "--ordered-since",
            help="Customers with an order on or after this date (YYYY-MM-DD).",
            show_default=False,
        ),
    ] = None,
    not_ordered_since: Annotated[
        str | None,
        typer.Option(
            "--not-ordered-since",
            help="Customers with no order on or after this date (YYYY-MM-DD).",
            show_default=False,
        ),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option(
            "--country",
            metavar="COUNTRY",
            help="Customers whose latest country is this (as the export writes it, e.g. GB; "
            "repeat: any of them).",
            show_default=False,
        ),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel",
            metavar="CHANNEL",
            help="Customers with an order on this channel (the export's channel column, "
            "else its platform, e.g. shopify, ebay; repeat: any of them).",
            show_default=False,
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="The columns of an email tool: mailchimp, klaviyo, shopify-customers, brevo, "
            "linnworks-list or generic (default: Email Address, First Name, Last Name, "
            "Orders, Spend, Tags).",
            show_default=False,
        ),
    ] = None,
    excel: Annotated[
        bool | None,
        typer.Option(
            "--excel/--no-excel",
            help="Write a UTF-8 BOM so that spreadsheets read accents right (default: only "
            "for --preset generic).",
            show_default=False,
        ),
    ] = None,
    suppress: Annotated[
        list[Path] | None,
        typer.Option(
            "--suppress",
            help="A file of addresses never to list: one a line, or a CSV with an Email "
            "column (repeat for several). The tag book's suppressed list always applies.",
            show_default=False,
        ),
    ] = None,
    suppression_out: Annotated[
        Path | None,
        typer.Option(
            "--suppression-out",
            help="Also write the addresses left out and why (Email, Reason), for the email "
            "tool's own suppression list.",
            show_default=False,
        ),
    ] = None,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    without_consent: Annotated[
        bool,
        typer.Option(
            "--include-without-consent",
            help="Also list customers who did not accept marketing (by default, where any "
            "export records consent, only those whose latest answer is yes are listed).",
        ),
    ] = False,
    mode: ModeOpt = None,
    wait: WaitOpt = RUN_WAIT_S,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            help="csv (default) or xlsx (a spreadsheet in the preset's columns: header "
            "frozen, autofilter, each customer's row in their first tag's colour).",
            show_default=False,
        ),
    ] = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Write a mailing list: one row per customer (merged identities once, under the
    address used last), highest spend first. Left out, each counted in the summary:
    invalid and marketplace relay addresses, suppressed addresses, customers with a
    no_marketing tag, and customers who did not accept marketing.

    Example: ordertags export orders.csv --tag VIP --preset mailchimp -t tagbook.yaml
    -r rules.yaml -o vip.csv

    Example: ordertags export orders.csv --segment at_risk --min-orders 2 --preset klaviyo
    -o winback.csv

    Example (everyone who may be mailed): ordertags export orders.csv --all -o everyone.csv
    """
    when = _as_of(as_of)
    if output_format not in (None, "csv", "xlsx"):
        raise typer.BadParameter("use csv or xlsx.", param_hint="--output-format")
    ws = _workspace(workspace)
    tagbook_path, rules_path = _book(tagbook, ws), _rules(rules, ws)
    from ordertags.api import ListFilter, Money, export_list

    segments = []
    for name in segment or []:
        slug = group_slug(name)
        if slug is None:
            raise typer.BadParameter(
                f'"{name}" is not an RFM group; use one of: {", ".join(GROUP_NAMES)}.',
                param_hint="--segment",
            )
        segments.append(slug)
    try:
        flt = ListFilter(
            tags=tuple(tag or ()),
            all_tags=all_tags,
            not_tags=tuple(not_tag or ()),
            segments=tuple(segments),
            min_spend=Money.parse(min_spend) if min_spend is not None else None,
            min_orders=min_orders,
            ordered_since=_date_opt(ordered_since, "--ordered-since"),
            not_ordered_since=_date_opt(not_ordered_since, "--not-ordered-since"),
            countries=tuple(country or ()),
            channels=tuple(channel or ()),
            everyone=everyone,
        )
        with _progress(orders or [], quiet) as progress:
            result, chosen = export_list(
                orders or [],
                tagbook=tagbook_path,
                rules=rules_path,
                output=output,
                as_of=when,
                workspace=ws,
                region=default_region,
                not_tags=not_tag or [],
                read=read,
                consent=not without_consent,
                preset=preset,
                excel=excel,
                list_filter=flt,
                suppress=list(suppress or ()),
                suppression_out=suppression_out,
                mode=_mode(mode),
                wait=wait,
                output_format=output_format,
                progress=progress,
            )
    except OrderTagsError as exc:
        _fail(exc)
    if without_consent and chosen.consent_ignored:
        typer.echo(
            f"warning: {_n(chosen.consent_ignored, 'customer')} listed without marketing consent "
            "(--include-without-consent); mailing them may break the law where you sell.",
            err=True,
        )
    elif without_consent:
        typer.echo(
            "warning: --include-without-consent lists customers who did not accept marketing.",
            err=True,
        )
    for warning in chosen.warnings:
        typer.echo(f"warning: {warning}", err=True)
    _say(
        quiet,
        render_list_outcome(chosen)
        + ("" if output == "-" else f"; wrote {output}")
        + (f"; left-out addresses in {suppression_out}" if suppression_out else ""),
    )
    if chosen.tags_as_of is not None:
        _say(quiet, _tags_as_of(chosen.tags_as_of))


def render_list_outcome(chosen: Any) -> str:
    """A mailing list's line of the summary, the same for ``export`` and ``apply --list``:
    its customers, whom it was asked for, and how many were left out, and why
    (``4 customers with VIP or GOLD (1 with an invalid address; 2 without marketing
    consent left out)``)."""
    from ordertags.api import REASON_TEXT

    flt = chosen.filter
    left_out = [
        f"{chosen.left_out[r]:,} {REASON_TEXT[r]}" for r in chosen.left_out if chosen.left_out[r]
    ]
    if chosen.excluded_not_tag:
        not_tags = " or ".join(flt.not_tags) if flt is not None else "a --not-tag tag"
        left_out.append(f"{chosen.excluded_not_tag:,} with {not_tags}")
    wanted = ""
    if flt is not None:
        tags = (" and " if flt.all_tags else " or ").join(flt.tags)
        segments = " or ".join(flt.segments)
        wanted = f"{tags}, in {segments}" if tags and segments else tags or segments
    return (
        _n(chosen.count, "customer")
        + (f" with {wanted}" if wanted else "")
        + (f" ({'; '.join(left_out)} left out)" if left_out else "")
    )


# --- segments ------------------------------------------------------------------------------


@app.command("segments")
@reads_exports
def segments_cmd(
    orders: Annotated[
        list[str] | None,
        typer.Argument(
            help="Order exports (CSV, TSV or JSON); - reads standard input. In a workspace, "
            "none: every customer of its history.",
            show_default=False,
        ),
    ] = None,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="group: customers per RFM group; tag: per tag, customers, orders and spend "
            "of the last 30, 90 and 365 days.",
        ),
    ] = "group",
    output_format: Annotated[
        str,
        typer.Option("--output-format", help="table, csv or json."),
    ] = "table",
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Show the customers' RFM groups (Shopify's 11 names; scores from quantiles of your
    customers, or the rule file's fixed cut-offs) with each group's customers, share
    and spend per currency, and the thresholds used. In a workspace the figures are
    all-time ones from the history, and with no exports every customer of the history
    is placed.

    Example: ordertags segments orders.csv -t tagbook.yaml --as-of 2026-11-26

    Example (does VIP pay off?): ordertags segments orders.csv --by tag -r rules.yaml
    """
    if output_format not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json.", param_hint="--output-format")
    if by not in ("group", "tag"):
        raise typer.BadParameter("use group or tag.", param_hint="--by")
    when = _as_of(as_of)
    ws = _workspace(workspace)
    tagbook_path, rules_path = _book(tagbook, ws), _rules(rules, ws)
    from ordertags.api import segments as seg
    from ordertags.api import segments_report

    try:
        report = segments_report(
            orders or [],
            tagbook=tagbook_path,
            rules=rules_path,
            as_of=when,
            read=read,
            workspace=ws,
            region=default_region,
            by=by,
        )
    except OrderTagsError as exc:
        _fail(exc)
    if isinstance(report, list):
        if output_format == "csv":
            typer.echo(seg.tag_figures_csv(report), nl=False)
        elif output_format == "json":
            typer.echo(seg.tag_figures_json(report), nl=False)
        else:
            typer.echo(render_tag_figures(report))
        return
    if output_format == "csv":
        typer.echo(seg.segment_table_csv(report), nl=False)
        return
    if output_format == "json":
        typer.echo(seg.segment_table_json(report), nl=False)
        return
    typer.echo(render_segments(report))
    if report.reason:
        typer.echo(f"note: {report.reason}", err=True)


def render_segments(table: Any) -> str:
    """The segments table for people, with the thresholds under it."""
    from ordertags.api import thresholds_text

    currencies = sorted({c for line in table.lines for c in line.spend})
    rows = [
        [
            line.name,
            line.customers,
            f"{line.share * 100:.1f}%",
            *[line.spend.get(c, "0.00") for c in currencies],
        ]
        for line in table.lines
    ]
    headers = ["group", "customers", "share", *[f"spend {c}".strip() for c in currencies]]
    text: str = tabulate(
        rows,
        headers=headers,
        disable_numparse=True,
        colalign=("left", "right", "right", *["right"] * len(currencies)),
    )
    return text + "\n\n" + "\n".join(thresholds_text(table))


def render_tag_figures(lines: list[Any]) -> str:
    """Per tag and window: customers, orders, spend per currency."""
    currencies = sorted({c for line in lines for w in line.windows for c in w.spend})
    rows = [
        [
            line.tag,
            f"{w.days} days",
            w.customers,
            w.orders,
            *[w.spend.get(c, "0.00") for c in currencies],
        ]
        for line in lines
        for w in line.windows
    ]
    headers = ["tag", "last", "customers", "orders", *[f"spend {c}".strip() for c in currencies]]
    text: str = tabulate(rows, headers=headers, disable_numparse=True)
    return text


# --- inspect ---------------------------------------------------------------------------------


@app.command("inspect")
@reads_exports
def inspect_cmd(
    export: Annotated[
        str,
        typer.Argument(
            help="An order export (CSV, TSV or JSON); - reads standard input.", show_default=False
        ),
    ],
    rows: Annotated[int, typer.Option("--rows", min=0, help="How many orders to show.")] = 5,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Show what ordertags sees in an export: the platform it recognised, which column
    holds each field, how many orders and customers, the date range, the totals and the
    first orders as parsed. Values that cannot be parsed are listed as problems.

    Example: ordertags inspect orders_export.csv
    """
    from ordertags.api import inspect_export

    ws = _workspace(workspace)
    try:
        report = inspect_export(
            export,
            read=read,
            rows=rows,
            region=_region_of(default_region, ws),
        )
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(printable(report.render(), keep="\n"))


# --- tag book ------------------------------------------------------------------------------


def _customer_of(
    identity: str | None,
    order: str | None,
    in_: str | None,
    read: ReadOptions,
    ws: Any = None,
) -> Any:
    """The customer a person means: an identity they typed, or the customer of an order
    (in an export, or in the workspace's history); an ``OrderCustomer``."""
    if order is not None:
        if identity is not None:
            raise typer.BadParameter("give a CUSTOMER or --order, not both.")
        if in_ is None and ws is not None:
            return order_customer(ws, order)
        if in_ is None:
            raise typer.BadParameter(
                "--order needs --in EXPORT (the export holding the order).", param_hint="--in"
            )
        return find_order_customer(
            in_,
            order,
            encoding=read.encoding,
            delimiter=read.delimiter,
            columns=read.columns,
            profile=read.profile,
            mapping=read.mapping,
        )
    if identity is None:
        raise typer.BadParameter(
            "give the CUSTOMER (email, phone or CHANNEL:ID), or --order ORDER_ID --in EXPORT."
        )
    name = None
    if ws is not None:
        try:
            name = customer_name(ws, identity_of(identity, _region(ws) or DEFAULT_REGION)[1])
        except OrderTagsError:
            name = None  # not an identity: tag_customer says so
    return OrderCustomer(identity, name)


def _named(found: Any, change: Any) -> str:
    """How a confirmation names the customer: ``Quinn Belfast (ebay:quinn_belfast)``."""
    return f"{found.name} ({change.identity})" if found.name else str(change.identity)


CustomerArg = Annotated[
    str | None,
    typer.Argument(
        help="The customer: an email, a phone number (any common spelling) or a "
        "marketplace buyer id CHANNEL:ID (ebay:NAME, amazon:ID, etsy:ID).",
        show_default=False,
    ),
]


OrderOpt = Annotated[
    str | None,
    typer.Option(
        "--order",
        help="Tag the customer of this order (the platform's order number, #1042 or the "
        "channel's reference) instead of naming them.",
        show_default=False,
    ),
]
UntagOrderOpt = Annotated[
    str | None,
    typer.Option(
        "--order",
        help="Untag the customer of this order (the platform's order number, #1042 or "
        "the channel's reference) instead of naming them.",
        show_default=False,
    ),
]
InOpt = Annotated[
    str | None,
    typer.Option(
        "--in",
        help="The export that holds --order (in a workspace, default: the order history).",
        show_default=False,
    ),
]


@app.command("tag")
@reads_exports
def tag_cmd(
    tag: TagOpt,
    tagbook: BookOpt = None,
    customer: CustomerArg = None,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            help="Why: shown with the tag (given again, it replaces the note).",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Who is tagging (default: $ORDERTAGS_USER or the login name).",
            show_default=False,
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            help="Last day the tag applies, YYYY-MM-DD (default: never). On tags the "
            "customer already has, it changes their entry's date ('never' removes it).",
            show_default=False,
        ),
    ] = None,
    order: OrderOpt = None,
    in_: InOpt = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Tag every customer a file names ('-': standard input): one email, "
            "phone, CHANNEL:ID or order number a line, or the --column of a CSV.",
            show_default=False,
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            help="With --from: the CSV column holding the customers.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Tag a customer by hand: by email, phone number or marketplace buyer id, or by an
    order of theirs (in an export, or, in a workspace, in the order history). The tag
    book records the customer's best identity: email, else buyer id, else phone.
    With --from, every customer a list names.

    Example: ordertags tag jane@example.com --tag VIP --note "Wholesale" -t tagbook.yaml

    Example: ordertags tag ebay:quinn_belfast --tag CLAIMED-NON-RECEIPT -t tagbook.yaml

    Example: ordertags tag --order 100123 --in orders.csv --tag FRAUD -t tagbook.yaml

    Example: ordertags tag --from claimers.txt --tag CLAIMED-NON-RECEIPT
    """
    ws = _workspace(workspace)
    book = _book(tagbook, ws)
    if from_ is not None:
        if customer is not None or order is not None:
            raise typer.BadParameter("give a CUSTOMER, --order or --from, not two of them.")
        _tag_from(book, from_, column, tag, note, by, expires, in_, read, ws)
        return
    never = expires is not None and expires.strip().lower() == "never"
    try:
        found = _customer_of(customer, order, in_, read, ws)
        change = tag_customer(
            book,
            found.identity,
            tag,
            note=note,
            by=by,
            expires=None if never else expires,
            region=_region(ws),
            valid_phone=order is None,  # a number typed, not one an order carries
        )
        # --expires on a tag they already have: their entry's date changes.
        dated = [
            change_entry(book, found.identity, t, expires=expires, region=_region(ws))
            for t in (change.unchanged if expires is not None else ())
        ]
    except OrderTagsError as exc:
        _fail(exc)
    who = _named(found, change)
    for d in dated:
        if d.changed:
            until = d.after.expires.isoformat() if d.after.expires else "no end date"
            typer.echo(f"{who}: {d.tag} now until {until}", err=True)
    if change.added:
        typer.echo(
            f"tagged {who} with {', '.join(change.added)}"
            + (f" (already had {', '.join(change.unchanged)})" if change.unchanged else ""),
            err=True,
        )
    elif change.note_updated:
        typer.echo(f"{who} already has {', '.join(change.unchanged)}; note updated", err=True)
    elif not any(d.changed for d in dated):
        typer.echo(f"{who} already has {', '.join(change.unchanged)}; nothing changed", err=True)
    if order is None and change.kind != "address" and identity_seen(ws, change.key) is False:
        # Tagging ahead of a first order is allowed (a wholesale buyer announced by
        # phone); a typo in the email would tag nobody, so say so.
        typer.echo(
            f"warning: the history has no order of {change.identity} yet: the tag applies "
            "from their first order (check the spelling if they have ordered before).",
            err=True,
        )


def _tag_from(
    book: Path,
    source: str,
    column: str | None,
    tags: list[str],
    note: str | None,
    by: str | None,
    expires: str | None,
    in_: str | None,
    read: ReadOptions,
    ws: Any,
) -> None:
    """``tag --from``: one line of counts; the values that named nobody on stderr."""

    def orders(number: str) -> str | None:
        try:
            if in_ is not None:
                return str(_customer_of(None, number, in_, read, ws).identity)
            if ws is not None and ws.history_path.exists():
                return str(order_customer(ws, number).identity)
        except OrderTagsError:
            return None
        return None

    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(source).read_bytes().decode("utf-8-sig")
            except OSError as exc:
                raise OrderTagsError(
                    f"cannot read the list: {exc.strerror}.", file=source, hint="Check the path."
                ) from None
            except UnicodeDecodeError:
                text = Path(source).read_bytes().decode("cp1252", errors="replace")
        values = read_identities(text, column)
        never = expires is not None and expires.strip().lower() == "never"
        done = tag_many(
            book,
            values,
            tags,
            note=note,
            by=by,
            expires=None if never else expires,
            region=_region(ws),
            orders=orders if (in_ is not None or ws is not None) else None,
        )
    except OrderTagsError as exc:
        _fail(exc)
    shown = "standard input" if source == "-" else Path(source).name
    for line, value, why in done.not_found:
        typer.echo(f"not found: {shown}, line {line}: {value} ({why})", err=True)
    typer.echo(
        f"tagged {_n(done.tagged, 'customer')} with {', '.join(tags)}; "
        f"{done.already} already tagged; {len(done.not_found)} not found",
        err=True,
    )


@app.command("untag")
@reads_exports
def untag_cmd(
    tag: TagOpt,
    tagbook: BookOpt = None,
    customer: CustomerArg = None,
    order: UntagOrderOpt = None,
    in_: InOpt = None,
    workspace: WorkspaceOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Remove tags given by hand from a customer (every entry naming the same email,
    phone number or buyer id, however spelled).

    Example: ordertags untag jane@example.com --tag VIP -t tagbook.yaml
    """
    ws = _workspace(workspace)
    book = _book(tagbook, ws)
    try:
        found = _customer_of(customer, order, in_, read, ws)
        change = untag_customer(book, found.identity, tag, region=_region(ws))
    except OrderTagsError as exc:
        _fail(exc)
    who = _named(found, change)
    if change.removed:
        typer.echo(f"removed {', '.join(change.removed)} from {who}", err=True)
    if change.unchanged:
        typer.echo(f"{who} had no {', '.join(change.unchanged)} in the tag book", err=True)


def _region(ws: Any) -> str | None:
    """The workspace's default phone region (None without a workspace)."""
    if ws is None:
        return None
    try:
        region: str | None = workspace_region(ws)
    except OrderTagsError:
        return None
    return region


@app.command("tags")
def tags_cmd(
    tagbook: BookOpt = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the tag definitions, the customers tagged by hand, the identity links and the
    addresses kept off mailing lists.

    Example: ordertags tags -t tagbook.yaml
    """
    when = _as_of(as_of)
    path = _book(tagbook, _workspace(workspace))
    try:
        book = load_tagbook(path)
    except OrderTagsError as exc:
        _fail(exc)
    defs = [
        (t.name, t.priority, t.scope, t.colour, t.display)
        for t in sorted(book.tags.values(), key=lambda t: (-t.priority, t.index))
    ]
    typer.echo(render_text_table(defs, headers=["tag", "priority", "scope", "colour", "label"]))
    typer.echo("")
    entries = [
        (
            e.email,
            ", ".join(e.tags),
            e.note or "",
            e.by or "",
            (e.at or "")[:10],
            e.expires.isoformat() if e.expires else "",
            "expired" if e.expired(when) else "",
        )
        for e in book.entries
    ]
    if entries:
        # The expiry state goes with the date ("2026-12-31 (expired)"): an unnamed column
        # of its own showed as a stray "--" in the header rule.
        rows = [(*e[:5], f"{e[5]} ({e[6]})" if e[6] else e[5]) for e in entries]
        typer.echo(
            render_text_table(rows, headers=["customer", "tags", "note", "by", "at", "expires"])
        )
    else:
        typer.echo("no customers tagged by hand")
    if book.links:
        typer.echo("")
        typer.echo(
            render_text_table(
                [
                    (
                        ln.a,
                        "same as" if ln.same else "not",
                        ln.b,
                        ln.note or "",
                        ln.by or "",
                        (ln.at or "")[:10],
                    )
                    for ln in book.links
                ],
                headers=["identity", "link", "identity", "note", "by", "at"],
            )
        )
    if book.no_marketing_tags():
        typer.echo("")
        typer.echo(f"on no mailing list: customers with {', '.join(book.no_marketing_tags())}")
    if book.suppressed:
        typer.echo("")
        typer.echo(
            render_text_table(
                [(x.email, x.reason or "", x.by or "", (x.at or "")[:10]) for x in book.suppressed],
                headers=["suppressed address", "reason", "by", "at"],
            )
        )


@app.command()
@reads_exports
def explain(
    order_id: Annotated[
        str, typer.Argument(help="The order number, as in the export.", show_default=False)
    ],
    orders: OrdersArg,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """Show why an order gets its tags: each rule with its conditions' values and
    results, the tag-book entries that matched, and the final tags, fields and colour.
    In a workspace, customer conditions read the order history, as apply does.

    Example: ordertags explain 200011 orders.csv -t tagbook.yaml -r rules.yaml
    """
    when = _as_of(as_of)
    ws = _workspace(workspace)
    tagbook_path, rules_path = _book(tagbook, ws), _rules(rules, ws)
    from ordertags.api import explain_files, explanation_text

    try:
        ex = explain_files(
            order_id,
            orders,
            tagbook=tagbook_path,
            rules=rules_path,
            as_of=when,
            read=read,
            workspace=ws,
            region=default_region,
        )
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(printable(explanation_text(ex), keep="\n"))


@app.command()
def lint(
    rules: RulesOpt = None,
    tagbook: Annotated[
        Path | None,
        typer.Option(
            "--tagbook",
            "-t",
            help="The tag book (YAML) to check, and to check the rules against.",
            show_default=False,
        ),
    ] = None,
    orders: Annotated[
        list[str] | None,
        typer.Argument(
            help="Exports whose columns the rules' fields are checked against (optional).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check the rule file and the tag book: unknown tags and fields, rules that can
    never match or are shadowed by an earlier stop, empty or malformed list files,
    expired entries. Exit 1 on an error, 0 with warnings only. In a workspace, its
    rules.yaml and tagbook.yaml are checked unless others are given.

    Example: ordertags lint -r rules.yaml -t tagbook.yaml orders.csv
    """
    from ordertags.api import lint_files

    ws = _workspace(workspace)
    if ws is not None:
        rules = _rules(rules, ws)
        if tagbook is None and ws.tagbook.exists():
            tagbook = ws.tagbook
    if rules is None and tagbook is None:
        raise typer.BadParameter(
            "give --rules, --tagbook or both, or run in a workspace (see `ordertags init`)."
        )
    report = lint_files(rules, tagbook, orders=orders or [], as_of=_as_of(as_of))
    for f in report.findings:
        typer.echo(f"{f.level}: {f.where}: {f.message}")
    typer.echo(
        f"{_n(len(report.errors), 'error')}, {_n(len(report.warnings), 'warning')}", err=True
    )
    if report.errors:
        raise typer.Exit(code=1)


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="tagbook, rules or report.", show_default=False)],
) -> None:
    """Print the JSON Schema of the tag book or the rule file, for editors to validate
    the YAML as it is typed; or of the JSON document a `report` page embeds.

    Example: ordertags schema rules > rules.schema.json
    """
    if which not in ("tagbook", "rules", "report"):
        raise typer.BadParameter("choose tagbook, rules or report.", param_hint="WHICH")
    typer.echo(json.dumps(load_schema(which), indent=2, ensure_ascii=False))


# --- workspace, history and identity -------------------------------------------------------


@app.command("init")
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
    try:
        report = init_workspace(
            directory, region=default_region, mode=_mode(mode), database=database
        )
    except OrderTagsError as exc:
        _fail(exc)
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


@app.command("migrate")
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
    from ordertags.api import migrate_workspace

    ws = _need_workspace(workspace)
    try:
        report = migrate_workspace(ws, to, wait=wait)
    except OrderTagsError as exc:
        _fail(exc)
    c = report.counts
    typer.echo(
        f"moved the history from {report.source} to {report.target}: "
        f"{_n(c.get('orders', 0), 'order')}, {_n(c.get('customers', 0), 'customer')}, "
        f"{_n(c.get('identities', 0), 'identity', 'identities')}, "
        f"{_n(c.get('audit', 0), 'audit entry', 'audit entries')} (counts checked); "
        f"the workspace {ws.root} now uses {report.target}",
        err=True,
    )
    if report.entries:
        typer.echo(
            f"moved {_n(report.entries, 'customer entry', 'customer entries')} of the tag book "
            f"along (into {'the database' if ws.shared else 'tagbook.yaml'})",
            err=True,
        )
    if report.kept:
        typer.echo(
            f"the old history file is kept as {report.kept}: delete it once you no longer need it",
            err=True,
        )


def render_ingest(report: Any, prefix: str = "") -> str:
    """One line on what recording orders did."""
    text = (
        f"{prefix}{_n(report.read, 'order')} from {_n(len(report.files), 'export')}: "
        f"{report.new:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged"
    )
    if report.merged:
        text += f"; {_n(report.merged, 'customer')} merged into another"
    if report.skipped:
        text += f"; {_n(report.skipped, 'order')} without an order id not recorded"
    found = getattr(report, "disagreements", [])
    for line in found[:10]:
        text += f"\n{prefix}exports disagree on {line}"
    if len(found) > 10:
        text += f"\n{prefix}... and {len(found) - 10:,} more orders the exports disagree on"
    return text


@app.command()
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
    ws = _need_workspace(workspace)
    from ordertags.api import ingest_files

    try:
        with _progress(orders or [], quiet) as progress:
            report = ingest_files(
                orders,
                workspace=ws,
                read=read,
                region=default_region,
                wait=wait,
                progress=progress,
            )
    except OrderTagsError as exc:
        _fail(exc)
    _say(quiet, render_ingest(report))


def _tags_as_of(stamp: str) -> str:
    """Where the rule tags a history command shows come from."""
    if stamp == "never":
        return "no rule tags yet: `ordertags apply` works them out (tags by hand are shown)"
    return f"rule tags as of the last apply at {stamp}"


def _customer_rows(rows: list[Any], basis: Any) -> str:
    """The customers table: spend per currency, and where the history's orders are in
    several, each customer's spend in the one they are ranked by (``basis``), labelled
    (blank where one of their currencies has no rate)."""
    converted = basis.mixed and basis.rates
    table = [
        (
            r.key,
            f"{r.orders:,}",
            _spend_text(r.spend_by, r.spend),
            *([money(r.compared) if r.compared is not None else ""] if converted else []),
            str(r.first or ""),
            str(r.last or ""),
            f"{r.refunds:,}" if r.refunds else "",
            ", ".join(dict.fromkeys(r.manual + r.tags)),
        )
        for r in rows
    ]
    spend_in = [f"in {basis.currency} at rates"] if converted else []
    text: str = tabulate(
        table,
        headers=["customer", "orders", "spend", *spend_in, "first", "last", "refunds", "tags"],
        colalign=("left", "right", "right", *(["right"] if converted else [])),
        disable_numparse=True,
    )
    return text


def _ranked_by(basis: Any) -> str:
    """How ``customers`` ranks spend in several currencies ("" for one)."""
    if not basis.mixed:
        return ""
    how = [f"{c} at {r:g}" for c, r in sorted(basis.rates.items())]
    if basis.left_out:
        how.append(f"{', '.join(basis.left_out)} not counted: no rate under `rates:`")
    why = "the rule file's `currency:`" if basis.configured else "the currency most orders are in"
    return f"; ranked by spend in {basis.currency}, {why} ({'; '.join(how)})"


@app.command("customers")
def customers_cmd(
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag",
            help="Only customers with this tag, in any case (by hand, or at the last apply).",
            show_default=False,
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            help="Only customers whose email, phone, address or name contains this.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many (0: all).")] = 50,
    workspace: WorkspaceOpt = None,
    tagbook: BookOpt = None,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """List the customers of the history, highest spend first, with their orders, spend
    (net of refunds, per currency), first and last order, refunds and tags. Spend in
    several currencies is ranked in the rule file's `currency:`, others converted at
    its `rates:` (else in the currency most orders are in, others not counted).

    Example: ordertags customers --tag VIP --search gmail.com
    """
    ws = _need_workspace(workspace)
    try:
        book = load_tagbook(_book(tagbook, ws))
        rules_path = _rules(rules, ws)
        ruleset = load_rules(rules_path) if rules_path is not None else None
        with ws.open_history() as history:
            basis = history.spend_basis(
                ruleset.currency if ruleset else None, ruleset.rates if ruleset else None
            )
            rows = history.list_customers(
                tag=tag,
                search=search,
                limit=limit or None,
                tagbook=book,
                as_of=_as_of(as_of),
                basis=basis,
            )
            stamp = history.last_apply() or "never"
    except OrderTagsError as exc:
        _fail(exc)
    if rows:
        typer.echo(_customer_rows(rows, basis))
    typer.echo(
        f"{_n(len(rows), 'customer')}"
        + (f" (--limit {limit}; there may be more)" if limit and len(rows) == limit else "")
        + _ranked_by(basis)
        + f"; {_tags_as_of(stamp)}",
        err=True,
    )


@app.command("customer")
def customer_cmd(
    key: Annotated[
        str,
        typer.Argument(
            help="An email, phone number, order id or customer key.", show_default=False
        ),
    ],
    workspace: WorkspaceOpt = None,
    tagbook: BookOpt = None,
    as_of: AsOfOpt = None,
    recent: Annotated[
        int, typer.Option("--orders", min=0, help="How many recent orders to show.")
    ] = 10,
    default_region: RegionOpt = None,
) -> None:
    """Show one customer: identities, tags with who, when and why, aggregates and recent
    orders.

    Example: ordertags customer jane.doe@gmail.com
    """
    ws = _need_workspace(workspace)
    try:
        book = load_tagbook(_book(tagbook, ws))
        with ws.open_history() as history:
            rep = history.customer_report(
                key, tagbook=book, as_of=_as_of(as_of), region=default_region, recent=recent
            )
    except OrderTagsError as exc:
        _fail(exc)
    row = rep.row
    lines = [
        f"customer {row.key}" + (f" ({', '.join(rep.names[:3])})" if rep.names else ""),
        "",
        tabulate(
            [(k, v, f"{n:,}") for k, v, n in rep.identities],
            headers=["kind", "identity", "orders"],
            colalign=("left", "left", "right"),
            disable_numparse=True,
        ),
        "",
    ]
    when = _as_of(as_of)
    tag_rows = [
        (
            ", ".join(e.tags),
            "by hand",
            e.by or "",
            (e.at or "")[:10],
            (e.note or "")
            + (f" (expires {e.expires})" if e.expires else "")
            + (" [expired]" if e.expired(when) else ""),
            e.email,
        )
        for e in rep.entries
    ]
    if row.tags:
        tag_rows.append(
            (
                ", ".join(row.tags),
                "rules",
                "",
                row.tags_on or "",
                "at the last apply that saw the customer",
                "",
            )
        )
    lines.append(
        tabulate(tag_rows, headers=["tags", "from", "by", "at", "why", "email"])
        if tag_rows
        else "no tags"
    )
    lines += [
        "",
        f"orders {row.orders:,}, spend {_spend_text(rep.spend, row.spend)}, "
        f"refunds {row.refunds:,} "
        f"({money(row.refunded)}), first {row.first or '-'}, last {row.last or '-'}",
    ]
    if rep.recent:
        lines += [
            "",
            tabulate(
                rep.recent,
                headers=["date", "channel", "order", "total", "refund", "email"],
                colalign=("left", "left", "left", "right", "right"),
                disable_numparse=True,
            ),
        ]
    typer.echo(printable("\n".join(lines), keep="\n"))


history_app = typer.Typer(
    help="The workspace's order history: counts, and pruning for data retention.",
    no_args_is_help=True,
)
app.add_typer(history_app, name="history")


@history_app.command("stats")
def history_stats(workspace: WorkspaceOpt = None) -> None:
    """Show the history's size, orders, customers, identities, date range and channels.

    Example: ordertags history stats --workspace shop
    """
    ws = _need_workspace(workspace)
    try:
        with ws.open_history() as history:
            st = history.stats()
    except OrderTagsError as exc:
        _fail(exc)
    lines = [
        f"history {st.path} ({st.bytes / 1e6:,.1f} MB, schema version "
        f"{st.schema_version}, phone region {st.region})",
        f"{_n(st.orders, 'order')}, {_n(st.customers, 'customer')}; orders from "
        f"{st.first or '-'} to {st.last or '-'}"
        + (f", {_n(st.undated, 'order')} without a date" if st.undated else ""),
        "identities: " + (", ".join(f"{n:,} {k}" for k, n in st.identities.items()) or "none"),
        f"links: {st.links:,} same person, {st.apart:,} different people",
    ]
    if st.channels:
        lines += [
            "",
            tabulate(
                [(c, f"{n:,}") for c, n in st.channels],
                headers=["channel", "orders"],
                colalign=("left", "right"),
            ),
        ]
    typer.echo("\n".join(lines))


@history_app.command("prune")
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
    try:
        day = dt.date.fromisoformat(before)
    except ValueError:
        raise typer.BadParameter(
            f'"{before}" is not a date; write YYYY-MM-DD.', param_hint="--before"
        ) from None
    ws = _need_workspace(workspace)
    try:
        with ws.open_history() as history:
            rep = history.prune(day)
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(
        f"pruned {_n(rep.orders, 'order')} dated before {rep.before}: "
        f"{_n(rep.customers, 'customer')} and {_n(rep.identities, 'identity', 'identities')}"
        " left with none removed",
        err=True,
    )


def _link(
    a: str,
    b: str,
    same: bool,
    note: str | None,
    by: str | None,
    tagbook: Path | None,
    workspace: Path | None,
    region: str | None,
) -> None:
    ws = _workspace(workspace)
    book = _book(tagbook, ws)
    try:
        code = check_region(region or workspace_region(ws))
        edit = link_identities if same else unlink_identities
        change = edit(book, a, b, note=note, by=by, region=code)
    except OrderTagsError as exc:
        _fail(exc)
    what = "the same person" if same else "different people"
    if change.added:
        typer.echo(
            f"{a} and {b} are now {what}"
            + (f" (replacing {change.removed} earlier opposite entry)" if change.removed else ""),
            err=True,
        )
    else:
        typer.echo(f"{a} and {b} were already {what}; nothing changed", err=True)


LinkArg = Annotated[
    str,
    typer.Argument(
        help="An email, a phone number or a marketplace buyer id (ebay:NAME).", show_default=False
    ),
]
NoteOpt = Annotated[
    str | None, typer.Option("--note", help="Why: kept with the link.", show_default=False)
]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by", help="Who says so (default: $ORDERTAGS_USER or the login name).", show_default=False
    ),
]


@app.command("link")
def link_cmd(
    a: LinkArg,
    b: LinkArg,
    note: NoteOpt = None,
    by: ByOpt = None,
    tagbook: BookOpt = None,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
) -> None:
    """Record in the tag book that two identities (emails or phone numbers) are the same
    person: their orders form one customer, and a customer tag covers them all. Links
    beat every automatic match.

    Example: ordertags link jane.doe@gmail.com jane@work.example --note "Same person"
    """
    _link(a, b, True, note, by, tagbook, workspace, default_region)


@app.command("unlink")
def unlink_cmd(
    a: LinkArg,
    b: LinkArg,
    note: NoteOpt = None,
    by: ByOpt = None,
    tagbook: BookOpt = None,
    workspace: WorkspaceOpt = None,
    default_region: RegionOpt = None,
) -> None:
    """Record in the tag book that two identities are different people, whatever the
    evidence (a shared phone and surname, an earlier link); dismisses a suspect pair.

    Example: ordertags unlink bob@example.com bob.smith@example.com
    """
    _link(a, b, False, note, by, tagbook, workspace, default_region)


@app.command("suppress")
def suppress_cmd(
    email: Annotated[
        str, typer.Argument(help="The address to leave off mailing lists.", show_default=False)
    ],
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why (unsubscribed, complained, ...): kept in the tag book.",
            show_default=False,
        ),
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Take the address off the suppressed list.")
    ] = False,
    by: ByOpt = None,
    tagbook: BookOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Keep an address off every mailing list: add it to the tag book's `suppressed`
    list (every spelling of it, by customer key), or take it off with --remove.

    Example: ordertags suppress jane@example.com --reason unsubscribed -t tagbook.yaml
    """
    ws = _workspace(workspace)
    book = _book(tagbook, ws)
    try:
        change = suppress_address(book, email, reason=reason, by=by, remove=remove)
    except OrderTagsError as exc:
        _fail(exc)
    if remove:
        if change.removed:
            typer.echo(f"{change.email} is no longer suppressed", err=True)
        else:
            typer.echo(f"{change.email} was not suppressed; nothing changed", err=True)
    elif change.added:
        typer.echo(f"suppressed {change.email}: it goes on no mailing list", err=True)
    else:
        typer.echo(f"{change.email} was already suppressed; nothing changed", err=True)


def render_import(plan: Any, dry_run: bool) -> str:
    """The diff of ``ordertags import``: one line per change, ``+`` a tag given, ``-``
    an address suppressed, ``*`` a tag defined."""
    lines = [f"* define tag {name} ({theirs})" for name, theirs in plan.create.items()]
    for p in plan.tag:
        if p.add:
            until = f" until {p.expires.isoformat()}" if p.expires else ""
            had = f" (has {', '.join(p.have)})" if p.have else ""
            lines.append(f"+ {p.identity}: {', '.join(p.add)}{until}{had}")
    lines += [f"- suppress {email}: {why}" for email, why, done in plan.suppress if not done]
    return "\n".join(lines)


def render_import_summary(plan: Any, dry_run: bool) -> str:
    """The counts of ``ordertags import`` (stderr): files and formats, what changes,
    what was left out and why."""
    would = "would " if dry_run else ""
    files = ", ".join(f"{f.name} ({f.format}, {_n(len(f.records), 'row')})" for f in plan.files)
    out = [f"read {files}"]
    tagged = sum(1 for p in plan.tag if p.add)
    sup = sum(1 for _, _, done in plan.suppress if not done)
    out.append(
        f"{would}tag {_n(tagged, 'customer')}"
        f", {would}suppress {_n(sup, 'address', 'addresses')}"
        + (f", {would}define {_n(len(plan.create), 'tag')}" if plan.create else "")
        + f"; {plan.unchanged + sum(1 for *_, done in plan.suppress if done)} already in "
        "the tag book"
    )
    if plan.unknown:
        listed = ", ".join(
            f"{t} ({n})" for t, n in sorted(plan.unknown.items(), key=lambda x: (-x[1], x[0]))
        )
        out.append(
            f"tags the tag book does not define, left out: {listed}; map them with "
            "--map 'THEIRS=OURS' or add them with --create-tags"
        )
    if plan.declined:
        out.append(
            f"{_n(plan.declined, 'customer')} said no to email marketing: lists leave them "
            "out where their orders say so"
        )
    for source, line, why in plan.skipped[:20]:
        out.append(f"skipped {source}, line {line}: {why}")
    if len(plan.skipped) > 20:
        out.append(f"... and {len(plan.skipped) - 20} more rows skipped")
    return "\n".join(out)


@app.command("import")
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="The customer export: Shopify customers, Klaviyo profiles, a Mailchimp "
            "audience export (a file or the zip), Brevo contacts, or a CSV "
            "identity,tag,note,expires.",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would change (stdout), change nothing."),
    ] = False,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="The file's format when its header does not say: shopify, klaviyo, "
            "mailchimp, brevo or plain.",
            show_default=False,
        ),
    ] = None,
    map_: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Their tag names onto the tag book's: 'vip=VIP,Wholesale=GOLD'.",
            show_default=False,
        ),
    ] = None,
    create_tags: Annotated[
        bool,
        typer.Option(
            "--create-tags", help="Define the tags the tag book lacks instead of leaving them out."
        ),
    ] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="Give every customer of the file this tag too (a list of claimers).",
            show_default=False,
            metavar="TAG",
        ),
    ] = None,
    by: ByOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    tagbook: BookOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Bring a customer export's tags and unsubscribes into the tag book: each tag the
    file gives becomes a tag-book entry (with --by and the file's name), unsubscribed
    and cleaned addresses become suppressions. Run it again: nothing changes.

    Example: ordertags import customers_export.csv --map 'Wholesale=VIP' --dry-run

    Example: ordertags import claimers.csv --tag CLAIMED-NON-RECEIPT
    """
    ws = _workspace(workspace)
    book = _book(tagbook, ws)
    try:
        plan = plan_import(
            book,
            file,
            forced=format_,
            mapping=parse_tag_map(map_),
            create_tags=create_tags,
            extra_tags=tuple(tag or ()),
            by=by,
            workspace=ws,
            region=_region(ws),
            encoding=encoding,
            delimiter=delimiter,
        )
        diff = render_import(plan, dry_run)
        if dry_run:
            if diff:
                typer.echo(diff)
        else:
            apply_import(book, plan, region=_region(ws))
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(render_import_summary(plan, dry_run), err=True)


@app.command()
@reads_exports
def suspects(
    orders: Annotated[
        list[str] | None,
        typer.Argument(
            help="Look in these exports instead of the workspace's history.", show_default=False
        ),
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag", help="Only pairs where one customer has this tag.", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="At most this many pairs (0: all).")
    ] = 50,
    max_sharing: Annotated[
        int,
        typer.Option(
            "--max-sharing",
            min=2,
            help="An address or phone shared by more customers than "
            "this (a parcel locker, an office) is no evidence.",
        ),
    ] = 5,
    workspace: WorkspaceOpt = None,
    tagbook: BookOpt = None,
    as_of: AsOfOpt = None,
    default_region: RegionOpt = None,
    read: ReadOptions = DEFAULT_READ,
) -> None:
    """List pairs of customers that may be one person: the same address under a new
    email, the same phone under another name. Customers tagged FRAUD-like (the highest
    priority tags) come first. Link them, or dismiss them with unlink.

    Example: ordertags suspects --tag FRAUD
    """
    when = _as_of(as_of)
    ws = _workspace(workspace)
    try:
        book = load_tagbook(_book(tagbook, ws))
        if orders:
            from ordertags.api import suspects_in_files

            found = suspects_in_files(
                orders,
                tagbook=_book(tagbook, ws),
                as_of=when,
                read=read,
                tag=tag,
                limit=limit or None,
                max_sharing=max_sharing,
                region=default_region or workspace_region(ws),
            )
        elif ws is None:
            raise typer.BadParameter(
                "give order exports, or run in a workspace (its history is searched).",
                param_hint="ORDERS",
            )
        else:
            with ws.open_history() as history:
                found = history.suspects(
                    tagbook=book, as_of=when, tag=tag, limit=limit or None, max_sharing=max_sharing
                )
    except OrderTagsError as exc:
        _fail(exc)
    if found:
        typer.echo(
            tabulate(
                [
                    (s.a, ", ".join(s.tags_a), s.b, ", ".join(s.tags_b), "; ".join(s.evidence))
                    for s in found
                ],
                headers=["customer", "tags", "possibly the same as", "tags", "evidence"],
            )
        )
    typer.echo(
        f"{_n(len(found), 'pair')} of possibly the same customer"
        + (
            "; `ordertags link A B` joins a pair, `ordertags unlink A B` dismisses it"
            if found
            else ""
        ),
        err=True,
    )


# --- views: the terminal table, the web page --------------------------------------------

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


@contextmanager
def _progress(orders: list[str], quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar of the bytes read, on stderr, while the block runs: only when
    stderr is a terminal and not --quiet, and only for files (not stdin). Yields the
    callback the library calls with each chunk's size, or None."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    sizes = [os.path.getsize(o) for o in orders if o != "-" and os.path.isfile(o)]
    if not sizes:
        yield None
        return
    from ordertags.api import progress_bar

    with progress_bar(sum(sizes), sys.stderr) as advance:
        yield advance


def _colour_mode(colour: str) -> tuple[bool, str | None]:
    """(table?, colour system or None) for --colour on this standard output."""
    if colour not in ("auto", "always", "never"):
        raise typer.BadParameter("use auto, always or never.", param_hint="--colour")
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
    when = _as_of(as_of)
    ws = _workspace(workspace)
    from ordertags.api import view_files

    try:
        with _progress(orders, quiet) as progress:
            return view_files(
                orders,
                tagbook=_book(tagbook, ws),
                rules=_rules(rules, ws),
                as_of=when,
                tags=tag or [],
                only_tagged=only_tagged,
                show_columns=show_columns or [],
                read=read,
                workspace=ws,
                region=region,
                progress=progress,
            )
    except OrderTagsError as exc:
        _fail(exc)


@app.command()
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
    from ordertags.api import render_counts, render_plain, render_table

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
    _say(quiet, render_counts(view, colour=colour_err, width=_width()))
    if table_mode:
        typer.echo(render_table(view, width=_width(), colour_system=system), color=True)
    else:
        typer.echo(printable(render_plain(view), keep="\n\t"))


@app.command()
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
    from ordertags.api import write_report

    view = _view(
        orders, tagbook, rules, tag, only_tagged, as_of, quiet, workspace, default_region, read
    )
    try:
        write_report(view, output, title=title)
    except OrderTagsError as exc:
        _fail(exc)
    _say(quiet, view.counts_line() + ("" if output == "-" else f"; wrote {output}"))


# --- the team screen -----------------------------------------------------------------

users_app = typer.Typer(
    help="The team screen's accounts (ordertags serve): add, list, remove, new password.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="viewer (reads), packer (also notes on orders), manager (also tags, links, "
        "lists), admin (also accounts).",
    ),
]


def _read_password(confirm: bool = True) -> str:
    """The password: asked twice without echo on a terminal, else the first line of
    standard input (for scripts)."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Again: ") != first:
        typer.echo("ordertags: the two passwords differ; nothing was changed.", err=True)
        raise typer.Exit(code=1)
    return first


def _operator() -> str:
    """Who runs a command, for the audit log."""
    return default_author()


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The account name (letters, digits, . _ -).")],
    role: RoleOpt = "viewer",
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an account for the team screen. The password is asked without echo (or read
    from standard input in a script) and stored as an Argon2 hash in the workspace.

    Example: ordertags users add sam --role manager
    """
    from ordertags.api import ROLES, add_user

    if role not in ROLES:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}.", param_hint="--role")
    ws = _need_workspace(workspace)
    try:
        add_user(ws, name, role, _read_password(), by=_operator())
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(f"added {name} ({role})", err=True)


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = None) -> None:
    """List the accounts with their roles.

    Example: ordertags users list
    """
    from ordertags.api import list_users

    ws = _need_workspace(workspace)
    try:
        users = list_users(ws)
    except OrderTagsError as exc:
        _fail(exc)
    if users:
        typer.echo(
            tabulate([(u.name, u.role, u.created[:10]) for u in users], ["name", "role", "added"])
        )
    typer.echo(_n(len(users), "account"), err=True)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The account to remove.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove an account (its entries in the audit log stay; its sessions end).

    Example: ordertags users remove sam
    """
    from ordertags.api import remove_user

    ws = _need_workspace(workspace)
    try:
        remove_user(ws, name, by=_operator())
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(f"removed {name}", err=True)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[
        str | None,
        typer.Option("--role", help="Also give the account this role.", show_default=False),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Give an account a new password (asked without echo, or read from standard input).

    Example: ordertags users passwd sam
    """
    from ordertags.api import ROLES, set_password

    if role is not None and role not in ROLES:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}.", param_hint="--role")
    ws = _need_workspace(workspace)
    try:
        set_password(ws, name, _read_password(), by=_operator(), role=role)
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(f"changed the password of {name}", err=True)


@app.command("audit")
def audit_cmd(
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            help="Only changes to this customer (an email, phone, buyer id or order id).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only changes from this day, YYYY-MM-DD.", show_default=False),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the audit log: every change made from the team screen or to its accounts
    (when, who, from where, what, before and after).

    Example: ordertags audit --customer jane@example.com --since 2026-11-01
    """
    from ordertags.api import audit_log

    day = _date_opt(since, "--since")
    ws = _need_workspace(workspace)
    try:
        entries = audit_log(ws, customer=customer, since=day)
    except OrderTagsError as exc:
        _fail(exc)
    if entries:
        typer.echo(
            tabulate(
                [
                    (
                        e.at[:19].replace("T", " "),
                        e.who,
                        e.address,
                        e.action,
                        e.customer or "",
                        e.before or "",
                        e.after or "",
                        e.detail or "",
                    )
                    for e in entries
                ],
                ["at (UTC)", "who", "from", "what", "customer", "before", "after", "detail"],
                disable_numparse=True,
            )
        )
    typer.echo(_n(len(entries), "change"), err=True)


@app.command("serve")
def serve_cmd(
    exports: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Also show the orders of these exports (besides the latest apply's).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="The address to listen on. Beyond 127.0.0.1 (the shop's network) the "
            "workspace needs accounts (ordertags users add).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port.")] = 8650,
    workspace: WorkspaceOpt = None,
    rules: RulesOpt = None,
) -> None:
    """Start the team screen: today's orders in their tags' colours, customer look-up,
    and tagging with a click, for everyone logged in (local web pages; Ctrl+C stops).

    Example: ordertags serve --host 0.0.0.0 --port 8650
    """
    from ordertags.web import ServeError, prepare, serve

    ws = _need_workspace(workspace)
    try:
        screen, line = prepare(
            ws, host=host, port=port, exports=[str(e) for e in exports or []], rules=rules
        )
        typer.echo(f"ordertags: {line}", err=True)
        serve(screen, host=host, port=port)
    except ServeError as exc:
        typer.echo(f"ordertags: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except OrderTagsError as exc:
        _fail(exc)


# --- tagbook export / import (the tag book's customer entries as a file) -------------

tagbook_app = typer.Typer(
    help="The tag book's customers tagged by hand, as a YAML file: export and import.",
    no_args_is_help=True,
)
app.add_typer(tagbook_app, name="tagbook")


@tagbook_app.command("export")
def tagbook_export(tagbook: BookOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Write the customers tagged by hand as the tag book's `customers:` list (a shared
    workspace's from its database) to standard output.

    Example: ordertags tagbook export > book.yaml
    """
    path = _book(tagbook, _workspace(workspace))
    try:
        text = export_entries(path)
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(text, nl=False)


@tagbook_app.command("import")
def tagbook_import(
    source: Annotated[Path, typer.Argument(help="A file written by `tagbook export`.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff only.")] = False,
    tagbook: BookOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Make the customers tagged by hand those of FILE: shows the diff (entries removed
    with -, added with +), then makes it; the same file again changes nothing.

    Example: ordertags tagbook import book.yaml --dry-run
    """
    path = _book(tagbook, _workspace(workspace))
    try:
        report = import_entries(path, source, dry_run=dry_run)
    except OrderTagsError as exc:
        _fail(exc)
    for line in report.diff:
        typer.echo(printable(line))
    verb = "would be " if dry_run else ""
    typer.echo(
        f"{_n(len(report.added), 'entry', 'entries')} {verb}added, "
        f"{_n(len(report.removed), 'entry', 'entries')} {verb}removed"
        + ("" if report.diff else ": the tag book already holds these entries"),
        err=True,
    )


def main() -> None:
    """Entry point of the console script."""
    # No command uses pandas, but pyarrow imports it (about a second) the first time it
    # builds an array, only to recognise pandas objects: refuse it in this process.
    # (The library itself does not do this: a Python caller may hand pandas data in.)
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())
    # Arrow's jemalloc pool hands freed memory back sooner than its default (mimalloc):
    # measured on the reference job, a lower peak and fewer page faults.
    if sys.platform.startswith("linux"):  # where Arrow's wheels always carry jemalloc
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    # The library turns every failure it can foresee into an OrderTagsError with a
    # message; this is the last guard for an unattended run: a failure of the machine
    # (memory, a disk error) ends with one line and exit 1, not a traceback
    # (``--verbose`` shows it).
    try:
        app()
    except SystemExit as exc:
        _leave(exc.code)
    except (OSError, MemoryError, RecursionError) as exc:
        if _state["verbose"]:
            raise
        what = {
            MemoryError: "out of memory",
            RecursionError: "the input is nested too deeply",
        }.get(type(exc), f"{getattr(exc, 'strerror', None) or exc}")
        name = getattr(exc, "filename", None)
        typer.echo(
            f"ordertags: {str(name) + ': ' if name else ''}{what}. Nothing was written; "
            "run again with --verbose for the details.",
            err=True,
        )
        _leave(1)
    _leave(0)


def _leave(code: object) -> NoReturn:
    """End the process now that the command is done: its files are written whole and
    in place, and what it printed is flushed here. Python's own shutdown (freeing every
    array of a big run, one by one) would take a tenth of a second or more, and has
    nothing left to do. Not under a profiler, debugger or coverage, which report at
    exit."""
    if isinstance(code, str):  # sys.exit("message"): printed, exit 1
        sys.stderr.write(code + "\n")
        code = 1
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        # A profiler, a debugger or coverage is watching: let it write its report.
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): nothing more to say
            status = status or 1
    os._exit(status)


class _NoPandas:
    """An import hook that makes ``import pandas`` fail (see :func:`main`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("the ordertags command line does not use pandas")
        return None
