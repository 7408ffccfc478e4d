"""Commands that look without changing anything: ``inspect`` (what ordertags sees in
an export), ``explain`` (why an order gets its tags), ``lint`` (the rule file and the
tag book checked), ``schema`` (the JSON Schemas)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ordertags.base.printable import printable
from ordertags.base.yamlfiles import load_schema
from ordertags.cli.context import Where, command, flag
from ordertags.cli.options import (
    SCHEMAS,
    AsOfOpt,
    BookOpt,
    OrdersArg,
    RegionOpt,
    RulesOpt,
    WorkspaceOpt,
    as_of_date,
    choose,
    either,
    reads_exports,
)
from ordertags.cli.render import plural
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions


@command
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
    from ordertags.runs import inspect_orders

    where = Where(workspace)
    report = inspect_orders(
        export, read=read, rows=rows, region=where.region_or_default(default_region)
    )
    typer.echo(printable(report.render(flag), keep="\n"))


@command
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
    when = as_of_date(as_of)
    where = Where(workspace, tagbook, rules)
    tagbook_path, rules_path = where.tagbook, where.rules
    from ordertags.runs import Inputs, explain, explanation_text

    inputs = Inputs(orders, tagbook_path, rules_path, when, read, where.workspace, default_region)
    ex = explain(order_id, inputs)
    typer.echo(printable(explanation_text(ex), keep="\n"))


@command
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
    from ordertags.runs import lint

    where = Where(workspace, rules=rules)
    ws = where.workspace
    if ws is not None:
        rules = where.rules
        if tagbook is None and ws.tagbook.exists():
            tagbook = ws.tagbook
    if rules is None and tagbook is None:
        raise typer.BadParameter(
            "give --rules, --tagbook or both, or run in a workspace (see `ordertags init`)."
        )
    report = lint(
        None if rules is None else str(rules),
        None if tagbook is None else str(tagbook),
        orders=orders or [],
        as_of=as_of_date(as_of),
    )
    for f in report.findings:
        typer.echo(f"{f.level}: {f.where}: {f.message}")
    typer.echo(
        f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}",
        err=True,
    )
    if report.errors:
        raise typer.Exit(code=1)


@command
def schema(
    which: Annotated[str, typer.Argument(help=f"{either(SCHEMAS)}.", show_default=False)],
) -> None:
    """Print the JSON Schema of the tag book or the rule file, for editors to validate
    the YAML as it is typed; or of the JSON document a `report` page embeds.

    Example: ordertags schema rules > rules.schema.json
    """
    choose(which, SCHEMAS, "WHICH", f"choose {either(SCHEMAS)}.")
    typer.echo(json.dumps(load_schema(which), indent=2, ensure_ascii=False))
