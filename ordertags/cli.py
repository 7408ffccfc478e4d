"""The ``ordertags`` command line: parses options, calls the library, renders results.

Heavy libraries (pyarrow, pandas) are imported inside the commands that need them, so
``ordertags --help``, ``tag``, ``untag`` and ``tags`` start quickly.
"""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .errors import OrderTagsError

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

OrdersArg = Annotated[list[str], typer.Argument(
    help="Order exports (CSV, TSV or JSON); - reads standard input.", show_default=False)]
TagbookOpt = Annotated[Path, typer.Option(
    "--tagbook", "-t", help="The tag book (YAML): tag definitions and customers tagged by hand.",
    show_default=False)]
RulesOpt = Annotated[Path | None, typer.Option(
    "--rules", "-r", help="The rule file (YAML). Optional: manual tags alone are a valid run.",
    show_default=False)]
OutputOpt = Annotated[str, typer.Option(
    "--output", "-o", help="Where to write: a file, - for standard output, or a folder when "
    "several exports are given.", show_default=False)]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="The date rules are evaluated on, YYYY-MM-DD (default: today). Windows "
    "such as within_days count back from it.", show_default=False)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")]
EncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of the exports (default utf-8; e.g. cp1252, latin-1).",
    show_default=False)]
DelimiterOpt = Annotated[str | None, typer.Option(
    "--delimiter", help="Field delimiter of CSV exports (default: sniffed; 'tab' for TSV).",
    show_default=False)]
EmailColOpt = Annotated[str | None, typer.Option(
    "--email-column", help="The column holding the customer's email.", show_default=False)]
TotalColOpt = Annotated[str | None, typer.Option(
    "--total-column", help="The column holding the order total.", show_default=False)]
DateColOpt = Annotated[str | None, typer.Option(
    "--date-column", help="The column holding the order date.", show_default=False)]
NameColOpt = Annotated[str | None, typer.Option(
    "--name-column", help="The column holding the customer's name.", show_default=False)]
IdColOpt = Annotated[str | None, typer.Option(
    "--order-id-column", help="The column holding the order number.", show_default=False)]
TagOpt = Annotated[list[str], typer.Option(
    "--tag", help="A tag name (repeat for several).", show_default=False)]
MoneyOpt = Annotated[str, typer.Option(
    "--money-style", help="How money is written: plain (1234.50), symbol ($1,433.66), "
    "comma_decimal (116,99 €) or auto (each value by its look).")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="On an error, also show the traceback.")]

F = TypeVar("F", bound=Callable[..., Any])


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
        raise typer.BadParameter(f'"{value}" is not a date; write YYYY-MM-DD.',
                                 param_hint="--as-of") from None


def _money(value: str) -> str:
    if value not in ("plain", "symbol", "comma_decimal", "auto"):
        raise typer.BadParameter("use plain, symbol, comma_decimal or auto.",
                                 param_hint="--money-style")
    return value


def _columns(email: str | None, total: str | None, date: str | None, name: str | None,
             order_id: str | None) -> dict[str, str | None]:
    return {"email": email, "total": total, "date": date, "name": name, "order_id": order_id}


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        typer.echo(text, err=True)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    verbose: VerboseOpt = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] =
    False,
) -> None:
    """Customer tags for online sellers: apply a tag book and rules to order exports.

    Example: ordertags apply orders.csv --tagbook tagbook.yaml --rules rules.yaml -o out.csv
    """
    _state["verbose"] = verbose
    if version:
        typer.echo(f"ordertags {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(code=2)


# --- apply ---------------------------------------------------------------------------------


@app.command()
def apply(
    orders: OrdersArg,
    tagbook: TagbookOpt,
    output: OutputOpt,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    email_column: EmailColOpt = None,
    total_column: TotalColOpt = None,
    date_column: DateColOpt = None,
    name_column: NameColOpt = None,
    order_id_column: IdColOpt = None,
    money_style: MoneyOpt = "plain",
    output_format: Annotated[str | None, typer.Option(
        "--output-format", help="csv, json or ndjson (default: the input's format).",
        show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Write nothing; list the orders whose tags, set fields, notes "
        "or holds would change against the previous output file.")] = False,
) -> None:
    """Tag every order and write the exports back with Customer Tags, Customer Profile
    and Tag Colour columns.

    Example: ordertags apply open_orders.csv -t tagbook.yaml -r rules.yaml -o annotated.csv
    """
    when = _as_of(as_of)
    if output_format not in (None, "csv", "json", "ndjson"):
        raise typer.BadParameter("use csv, json or ndjson.", param_hint="--output-format")
    if len(orders) > 1 and output == "-":
        raise typer.BadParameter("several exports are written to a folder, not to -.",
                                 param_hint="--output")
    if orders.count("-") > 1:
        raise typer.BadParameter("standard input (-) can be read only once.")
    from .api import apply_files

    try:
        result, written = apply_files(
            orders, tagbook=tagbook, rules=rules, output=output, as_of=when,
            columns=_columns(email_column, total_column, date_column, name_column,
                             order_id_column),
            encoding=encoding, delimiter=delimiter, output_format=output_format,
            money_style=_money(money_style), dry_run=dry_run)
    except OrderTagsError as exc:
        _fail(exc)
    if dry_run:
        typer.echo(render_dry_run(written))
        _say(quiet, render_summary(result.summary, []))
        return
    _say(quiet, render_summary(result.summary, written))


def render_dry_run(runs: list[Any]) -> str:
    """What ``apply --dry-run`` found, per output file."""
    from tabulate import tabulate

    lines = []
    for run in runs:
        if not run.previous:
            lines.append(f"{run.target}: no previous output; {_n(run.orders, 'order')} would "
                         f"be written, {_n(run.changed_orders, 'order')} with tags")
            continue
        lines.append(f"{run.target}: {_n(run.changed_orders, 'order')} of {run.orders:,} "
                     "would change")
        if run.changes:
            rows = [(c.order, c.column, c.before, c.after) for c in run.changes]
            lines.append(tabulate(rows, headers=["order", "column", "before", "after"]))
            if run.changed_orders > len({c.order for c in run.changes}):
                lines.append("(first changes only)")
    return "\n".join(lines)


def _n(count: int, one: str, many: str | None = None) -> str:
    """``_n(1, "order")`` -> "1 order"; ``_n(2, "order")`` -> "2 orders"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def render_summary(summary: Any, written: list[str]) -> str:
    """The summary printed to stderr after apply/export."""
    from tabulate import tabulate

    lines = []
    for name, kind, rows in summary.files:
        lines.append(f"read {_n(rows, 'order')} from {name} ({kind})")
    lines.append(f"{_n(summary.orders, 'order')}, {_n(summary.customers, 'customer')}"
                 + (f", {_n(summary.orders_without_customer, 'order')} without an email"
                    if summary.orders_without_customer else "")
                 + f"; as of {summary.as_of}")
    if summary.orders_per_tag:
        rows_ = [(t, f"{summary.orders_per_tag[t]:,}", f"{summary.customers_per_tag[t]:,}")
                 for t in summary.orders_per_tag]
        lines.append(tabulate(rows_, headers=["tag", "orders", "customers"],
                              tablefmt="simple", colalign=("left", "right", "right")))
    else:
        lines.append("no order carries a tag")
    for column, count in getattr(summary, "fields_set", {}).items():
        lines.append(f"set {column} on {_n(count, 'order')}")
    if getattr(summary, "held", 0):
        lines.append(f"held {_n(summary.held, 'order')}")
    for column, loser, winner, count in getattr(summary, "conflicts", []):
        lines.append(f'conflict: rules "{loser}" and "{winner}" set {column} differently on '
                     f'{_n(count, "order")}; "{winner}" wins')
    lines.append(f"tag book: {_n(summary.manual_entries, 'entry', 'entries')} in force"
                 + (f", {summary.expired_entries} expired (ignored)"
                    if summary.expired_entries else ""))
    for path in written:
        lines.append(f"wrote {path}")
    return "\n".join(lines)


# --- export --------------------------------------------------------------------------------


@app.command()
def export(
    orders: OrdersArg,
    tagbook: TagbookOpt,
    output: OutputOpt,
    tag: TagOpt,
    not_tag: Annotated[list[str] | None, typer.Option(
        "--not-tag", help="Leave out customers with this tag (repeat for several).",
        show_default=False)] = None,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    email_column: EmailColOpt = None,
    total_column: TotalColOpt = None,
    date_column: DateColOpt = None,
    name_column: NameColOpt = None,
    money_style: MoneyOpt = "plain",
) -> None:
    """Write a mailing list of the customers with a tag: one row per customer, highest
    spend first (Email Address, First Name, Last Name, Orders, Spend, Tags).

    Example: ordertags export orders.csv --tag VIP --not-tag FRAUD -t tagbook.yaml
    -r rules.yaml -o vip.csv
    """
    when = _as_of(as_of)
    from .api import export_list

    try:
        result, ml = export_list(
            orders, tagbook=tagbook, rules=rules, output=output, as_of=when, tags=tag,
            not_tags=not_tag or [], columns=_columns(email_column, total_column, date_column,
                                                     name_column, None),
            encoding=encoding, delimiter=delimiter, money_style=_money(money_style))
    except OrderTagsError as exc:
        _fail(exc)
    left_out = []
    if ml.excluded_not_tag:
        left_out.append(f"{ml.excluded_not_tag:,} for --not-tag")
    if ml.excluded_relay:
        left_out.append(f"{ml.excluded_relay:,} with marketplace relay addresses")
    _say(quiet, f"{ml.count:,} customers with {' or '.join(tag)}"
         + (f" ({'; '.join(left_out)} left out)" if left_out else "")
         + ("" if output == "-" else f"; wrote {output}"))


# --- tag book ------------------------------------------------------------------------------


def _email_of(email: str | None, order: str | None, in_: str | None, encoding: str | None,
              delimiter: str | None) -> str:
    if order is not None:
        if email is not None:
            raise typer.BadParameter("give an EMAIL or --order, not both.")
        if in_ is None:
            raise typer.BadParameter("--order needs --in EXPORT (the export holding the order).",
                                     param_hint="--in")
        from .lookup import find_order_email

        return find_order_email(in_, order, encoding=encoding, delimiter=delimiter)
    if email is None:
        raise typer.BadParameter("give the customer's EMAIL, or --order ORDER_ID --in EXPORT.")
    return email


OrderOpt = Annotated[str | None, typer.Option(
    "--order", help="Tag the customer of this order number instead of an EMAIL.",
    show_default=False)]
InOpt = Annotated[str | None, typer.Option(
    "--in", help="The export that holds --order.", show_default=False)]


@app.command("tag")
def tag_cmd(
    tag: TagOpt,
    tagbook: TagbookOpt,
    email: Annotated[str | None, typer.Argument(help="The customer's email.",
                                                show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why: shown with the tag.",
                                             show_default=False)] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who is tagging (default: $ORDERTAGS_USER or the login name).",
        show_default=False)] = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", help="Last day the tag applies, YYYY-MM-DD (default: never).",
        show_default=False)] = None,
    order: OrderOpt = None,
    in_: InOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Tag a customer by hand, by email or by an order of theirs.

    Example: ordertags tag jane@example.com --tag VIP --note "Wholesale" -t tagbook.yaml

    Example: ordertags tag --order 100123 --in orders.csv --tag FRAUD -t tagbook.yaml
    """
    from .tags import tag_customer

    try:
        address = _email_of(email, order, in_, encoding, delimiter)
        change = tag_customer(tagbook, address, tag, note=note, by=by, expires=expires)
    except OrderTagsError as exc:
        _fail(exc)
    if change.added:
        typer.echo(f"tagged {change.email} with {', '.join(change.added)}"
                   + (f" (already had {', '.join(change.unchanged)})" if change.unchanged else ""),
                   err=True)
    else:
        typer.echo(f"{change.email} already has {', '.join(change.unchanged)}; nothing changed",
                   err=True)


@app.command("untag")
def untag_cmd(
    tag: TagOpt,
    tagbook: TagbookOpt,
    email: Annotated[str | None, typer.Argument(help="The customer's email.",
                                                show_default=False)] = None,
    order: OrderOpt = None,
    in_: InOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Remove tags given by hand from a customer (every spelling of their email).

    Example: ordertags untag jane@example.com --tag VIP -t tagbook.yaml
    """
    from .tags import untag_customer

    try:
        address = _email_of(email, order, in_, encoding, delimiter)
        change = untag_customer(tagbook, address, tag)
    except OrderTagsError as exc:
        _fail(exc)
    if change.removed:
        typer.echo(f"removed {', '.join(change.removed)} from {change.email}", err=True)
    if change.unchanged:
        typer.echo(f"{change.email} had no {', '.join(change.unchanged)} in the tag book",
                   err=True)


@app.command("tags")
def tags_cmd(
    tagbook: TagbookOpt,
    as_of: AsOfOpt = None,
) -> None:
    """List the tag definitions and the customers tagged by hand.

    Example: ordertags tags -t tagbook.yaml
    """
    from tabulate import tabulate

    from .tags import load_tagbook

    when = _as_of(as_of)
    try:
        book = load_tagbook(tagbook)
    except OrderTagsError as exc:
        _fail(exc)
    defs = [(t.name, t.priority, t.scope, t.colour, t.label) for t in
            sorted(book.tags.values(), key=lambda t: (-t.priority, t.index))]
    typer.echo(tabulate(defs, headers=["tag", "priority", "scope", "colour", "label"]))
    typer.echo("")
    entries = [(e.email, ", ".join(e.tags), e.note or "", e.by or "", (e.at or "")[:10],
                e.expires.isoformat() if e.expires else "",
                "expired" if e.expired(when) else "") for e in book.entries]
    if entries:
        typer.echo(tabulate(entries, headers=["customer", "tags", "note", "by", "at", "expires",
                                              ""]))
    else:
        typer.echo("no customers tagged by hand")


@app.command()
def explain(
    order_id: Annotated[str, typer.Argument(help="The order number, as in the export.",
                                            show_default=False)],
    orders: OrdersArg,
    tagbook: TagbookOpt,
    rules: RulesOpt = None,
    as_of: AsOfOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    email_column: EmailColOpt = None,
    total_column: TotalColOpt = None,
    date_column: DateColOpt = None,
    name_column: NameColOpt = None,
    order_id_column: IdColOpt = None,
    money_style: MoneyOpt = "plain",
) -> None:
    """Show why an order gets its tags: each rule with its conditions' values and
    results, the tag-book entries that matched, and the final tags, fields and colour.

    Example: ordertags explain 200011 orders.csv -t tagbook.yaml -r rules.yaml
    """
    when = _as_of(as_of)
    from .explain import explain_order, render
    from .rules import load_rules
    from .tags import load_tagbook

    try:
        ex = explain_order(order_id, orders, tagbook=load_tagbook(tagbook),
                           rules=load_rules(rules) if rules else None, as_of=when,
                           columns=_columns(email_column, total_column, date_column,
                                            name_column, order_id_column),
                           encoding=encoding, delimiter=delimiter,
                           money_style=_money(money_style))
    except OrderTagsError as exc:
        _fail(exc)
    typer.echo(render(ex))


@app.command()
def lint(
    rules: RulesOpt = None,
    tagbook: Annotated[Path | None, typer.Option(
        "--tagbook", "-t", help="The tag book (YAML) to check, and to check the rules "
        "against.", show_default=False)] = None,
    orders: Annotated[list[str] | None, typer.Argument(
        help="Exports whose columns the rules' fields are checked against (optional).",
        show_default=False)] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Check the rule file and the tag book: unknown tags and fields, rules that can
    never match or are shadowed by an earlier stop, empty or malformed list files,
    expired entries. Exit 1 on an error, 0 with warnings only.

    Example: ordertags lint -r rules.yaml -t tagbook.yaml orders.csv
    """
    from .lint import lint as run_lint

    if rules is None and tagbook is None:
        raise typer.BadParameter("give --rules, --tagbook or both.")
    report = run_lint(rules, tagbook, orders=orders or [], as_of=_as_of(as_of))
    for f in report.findings:
        typer.echo(f"{f.level}: {f.where}: {f.message}")
    typer.echo(f"{_n(len(report.errors), 'error')}, {_n(len(report.warnings), 'warning')}",
               err=True)
    if report.errors:
        raise typer.Exit(code=1)


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="tagbook or rules.", show_default=False)],
) -> None:
    """Print the JSON Schema of the tag book or the rule file, for editors to validate
    the YAML as it is typed.

    Example: ordertags schema rules > rules.schema.json
    """
    import json

    from .yamlfiles import load_schema

    if which not in ("tagbook", "rules"):
        raise typer.BadParameter("choose tagbook or rules.", param_hint="WHICH")
    typer.echo(json.dumps(load_schema(which), indent=2, ensure_ascii=False))


def main() -> None:
    """Entry point of the console script."""
    app()
