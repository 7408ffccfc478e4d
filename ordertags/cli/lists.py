"""``ordertags export`` (mailing lists) and ``ordertags segments`` (RFM groups, figures
per tag)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ordertags.base.files import RUN_WAIT_S
from ordertags.base.segments import GROUP_NAMES, group_slug
from ordertags.cli.context import Where, command
from ordertags.cli.options import (
    LIST_FORMATS,
    SEGMENTS_BY,
    TABLE_FORMATS,
    AsOfOpt,
    BookOpt,
    ModeOpt,
    OutputOpt,
    QuietOpt,
    RegionOpt,
    RulesOpt,
    WaitOpt,
    WorkspaceOpt,
    as_of_date,
    choose,
    date_of,
    either,
    mode_of,
    option_group,
    reads_exports,
)
from ordertags.cli.program import progress_of, say
from ordertags.cli.render import plural, render_list_outcome, tags_as_of_text
from ordertags.cli.tables import echo_table
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions

# --- whom a list is for: the customer filters of export ------------------------------

WantedTagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="TAG",
        help="Customers with this tag (repeat: any of them). A tag on any of their orders counts.",
        show_default=False,
    ),
]

EveryoneOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every customer, instead of --tag or --segment (the filters below and "
        "--not-tag narrow it); consent, suppression, no_marketing tags and relay "
        "addresses leave people out as always.",
    ),
]

AllTagsOpt = Annotated[
    bool, typer.Option("--all-tags", help="Customers must have every --tag, not any.")
]

NotTagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--not-tag",
        metavar="TAG",
        help="Leave out customers with this tag (repeat for several).",
        show_default=False,
    ),
]

SegmentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--segment",
        metavar="GROUP",
        help="Customers in this RFM group, e.g. champions, at_risk (repeat: any of them).",
        show_default=False,
    ),
]

MinSpendOpt = Annotated[
    str | None,
    typer.Option(
        "--min-spend",
        help="Customers who spent at least this much, as customer rules count spend: "
        "with `currency:` in the rule file, in that currency, other currencies converted "
        "by its `rates:` (100, or 100 EUR converted too); without, 100 GBP in GBP alone, "
        "100 in any one currency.",
        show_default=False,
    ),
]

MinOrdersOpt = Annotated[
    int | None,
    typer.Option("--min-orders", help="Customers with at least this many orders.", min=0),
]

OrderedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--ordered-since",
        help="Customers with an order on or after this date (YYYY-MM-DD).",
        show_default=False,
    ),
]

NotOrderedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--not-ordered-since",
        help="Customers with no order on or after this date (YYYY-MM-DD).",
        show_default=False,
    ),
]

CountryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--country",
        metavar="COUNTRY",
        help="Customers whose latest country is this (as the export writes it, e.g. GB; "
        "repeat: any of them).",
        show_default=False,
    ),
]

ChannelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--channel",
        metavar="CHANNEL",
        help="Customers with an order on this channel (the export's channel column, "
        "else its platform, e.g. shopify, ebay; repeat: any of them).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Wanted:
    """The customer filters of ``export`` as given (:meth:`list_filter` checks them)."""

    tag: list[str] | None = None
    everyone: bool = False
    all_tags: bool = False
    not_tag: list[str] | None = None
    segment: list[str] | None = None
    min_spend: str | None = None
    min_orders: int | None = None
    ordered_since: str | None = None
    not_ordered_since: str | None = None
    country: list[str] | None = None
    channel: list[str] | None = None

    def list_filter(self) -> Any:
        """The ``ListFilter`` these say (exit 2 on a group or date that is none)."""
        from ordertags.runs import ListFilter, Money

        segments = []
        for name in self.segment or []:
            slug = group_slug(name)
            if slug is None:
                raise typer.BadParameter(
                    f'"{name}" is not an RFM group; use one of: {", ".join(GROUP_NAMES)}.',
                    param_hint="--segment",
                )
            segments.append(slug)
        return ListFilter(
            tags=tuple(self.tag or ()),
            all_tags=self.all_tags,
            not_tags=tuple(self.not_tag or ()),
            segments=tuple(segments),
            min_spend=Money.parse(self.min_spend) if self.min_spend is not None else None,
            min_orders=self.min_orders,
            ordered_since=date_of(self.ordered_since, "--ordered-since"),
            not_ordered_since=date_of(self.not_ordered_since, "--not-ordered-since"),
            countries=tuple(self.country or ()),
            channels=tuple(self.channel or ()),
            everyone=self.everyone,
        )


WANTED = Wanted()

#: The filters, in the order --help lists them.
WANTED_OPTIONS: list[tuple[str, Any, Any]] = [
    ("tag", WantedTagOpt, None),
    ("everyone", EveryoneOpt, False),
    ("all_tags", AllTagsOpt, False),
    ("not_tag", NotTagOpt, None),
    ("segment", SegmentOpt, None),
    ("min_spend", MinSpendOpt, None),
    ("min_orders", MinOrdersOpt, None),
    ("ordered_since", OrderedSinceOpt, None),
    ("not_ordered_since", NotOrderedSinceOpt, None),
    ("country", CountryOpt, None),
    ("channel", ChannelOpt, None),
]


@command
@reads_exports
@option_group(WANTED_OPTIONS, Wanted, "wanted")
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
    tagbook: BookOpt = None,
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
    wanted: Wanted = WANTED,
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
    when = as_of_date(as_of)
    if output_format is not None:
        choose(output_format, LIST_FORMATS, "--output-format")
    where = Where(workspace, tagbook, rules)
    tagbook_path, rules_path = where.tagbook, where.rules
    from ordertags.runs import ExportRequest, Inputs, export_list

    flt = wanted.list_filter()
    with progress_of(orders or [], quiet) as progress:
        inputs = Inputs(
            orders or [],
            tagbook_path,
            rules_path,
            when,
            read,
            where.workspace,
            default_region,
            progress,
        )
        done = export_list(
            ExportRequest(
                inputs,
                output=output,
                list_filter=flt,
                preset=preset,
                excel=excel,
                output_format=output_format,
                suppress=list(suppress or ()),
                suppression_out=suppression_out,
                consent=not without_consent,
                mode=mode_of(mode),
                wait=wait,
            )
        )
    chosen = done.selection
    if without_consent and chosen.consent_ignored:
        typer.echo(
            f"warning: {plural(chosen.consent_ignored, 'customer')} listed without marketing "
            "consent (--include-without-consent); mailing them may break the law where you sell.",
            err=True,
        )
    elif without_consent:
        typer.echo(
            "warning: --include-without-consent lists customers who did not accept marketing.",
            err=True,
        )
    for warning in chosen.warnings:
        typer.echo(f"warning: {warning}", err=True)
    say(
        quiet,
        render_list_outcome(chosen)
        + ("" if output == "-" else f"; wrote {output}")
        + (f"; left-out addresses in {suppression_out}" if suppression_out else ""),
    )
    if done.tags_as_of is not None:
        say(quiet, tags_as_of_text(done.tags_as_of))


@command
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
        typer.Option("--output-format", help=f"{either(TABLE_FORMATS)}."),
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
    choose(output_format, TABLE_FORMATS, "--output-format")
    choose(by, SEGMENTS_BY, "--by")
    when = as_of_date(as_of)
    where = Where(workspace, tagbook, rules)
    tagbook_path, rules_path = where.tagbook, where.rules
    from ordertags import runs

    inputs = runs.Inputs(
        orders or [], tagbook_path, rules_path, when, read, where.workspace, default_region
    )
    report = runs.segment_report(inputs, by=by)
    if isinstance(report, list):
        if output_format == "csv":
            typer.echo(runs.tag_figures_csv(report), nl=False)
        elif output_format == "json":
            typer.echo(runs.tag_figures_json(report), nl=False)
        else:
            echo_table(*tag_figure_rows(report), numparse=False)
        return
    if output_format == "csv":
        typer.echo(runs.segment_table_csv(report), nl=False)
        return
    if output_format == "json":
        typer.echo(runs.segment_table_json(report), nl=False)
        return
    echo_table(*segment_rows(report), align=segment_align(report), numparse=False)
    typer.echo("\n" + "\n".join(runs.thresholds_text(report)))
    if report.reason:
        typer.echo(f"note: {report.reason}", err=True)


def segment_rows(table: Any) -> tuple[list[list[Any]], list[str]]:
    """The segments table for people (rows, headers): per group its customers, share
    and spend per currency."""
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
    return rows, headers


def segment_align(table: Any) -> list[str]:
    """The segments table's columns: the group left, the figures right."""
    currencies = {c for line in table.lines for c in line.spend}
    return ["left", "right", "right", *["right"] * len(currencies)]


def tag_figure_rows(lines: list[Any]) -> tuple[list[list[Any]], list[str]]:
    """Per tag and window: customers, orders, spend per currency (rows, headers)."""
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
    return rows, headers
