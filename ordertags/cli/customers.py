"""The customers of a workspace's history: ``customers`` (the list), ``customer`` (one
customer's card), ``suspects`` (pairs that may be one person, in the history or in
exports)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ordertags.base.amounts import money
from ordertags.base.printable import printable
from ordertags.cli.context import Where, command
from ordertags.cli.options import (
    AsOfOpt,
    BookOpt,
    RegionOpt,
    RulesOpt,
    WorkspaceOpt,
    as_of_date,
    reads_exports,
)
from ordertags.cli.render import plural, spend_text, tags_as_of_text
from ordertags.cli.tables import draw, echo_table
from ordertags.customers.workspace import workspace_region
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions
from ordertags.rules import load_rules
from ordertags.tagbook import load_tagbook


def _echo_customers(rows: list[Any], basis: Any) -> None:
    """The customers table: spend per currency, and where the history's orders are in
    several, each customer's spend in the one they are ranked by (``basis``), labelled
    (blank where one of their currencies has no rate)."""
    converted = basis.mixed and basis.rates
    table = [
        (
            r.key,
            f"{r.orders:,}",
            spend_text(r.spend_by, r.spend),
            *([money(r.compared) if r.compared is not None else ""] if converted else []),
            str(r.first or ""),
            str(r.last or ""),
            f"{r.refunds:,}" if r.refunds else "",
            ", ".join(dict.fromkeys(r.manual + r.tags)),
        )
        for r in rows
    ]
    spend_in = [f"in {basis.currency} at rates"] if converted else []
    echo_table(
        table,
        ["customer", "orders", "spend", *spend_in, "first", "last", "refunds", "tags"],
        align=("left", "right", "right", *(["right"] if converted else []), *["left"] * 4),
        numparse=False,
    )


def _ranked_by(basis: Any) -> str:
    """How ``customers`` ranks spend in several currencies ("" for one)."""
    if not basis.mixed:
        return ""
    how = [f"{c} at {r:g}" for c, r in sorted(basis.rates.items())]
    if basis.left_out:
        how.append(f"{', '.join(basis.left_out)} not counted: no rate under `rates:`")
    why = "the rule file's `currency:`" if basis.configured else "the currency most orders are in"
    return f"; ranked by spend in {basis.currency}, {why} ({'; '.join(how)})"


@command
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
    where = Where(workspace, tagbook, rules)
    ws = where.needed_workspace
    book = load_tagbook(where.tagbook)
    rules_path = where.rules
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
            as_of=as_of_date(as_of),
            basis=basis,
        )
        stamp = history.last_apply() or "never"
    if rows:
        _echo_customers(rows, basis)
    typer.echo(
        f"{plural(len(rows), 'customer')}"
        + (f" (--limit {limit}; there may be more)" if limit and len(rows) == limit else "")
        + _ranked_by(basis)
        + f"; {tags_as_of_text(stamp)}",
        err=True,
    )


@command
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
    where = Where(workspace, tagbook)
    ws = where.needed_workspace
    book = load_tagbook(where.tagbook)
    when = as_of_date(as_of)
    with ws.open_history() as history:
        rep = history.customer_report(
            key, tagbook=book, as_of=when, region=default_region, recent=recent
        )
    row = rep.row
    lines = [
        f"customer {row.key}" + (f" ({', '.join(rep.names[:3])})" if rep.names else ""),
        "",
        draw(
            [(k, v, f"{n:,}") for k, v, n in rep.identities],
            ["kind", "identity", "orders"],
            align=("left", "left", "right"),
            numparse=False,
        ),
        "",
    ]
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
        draw(tag_rows, ["tags", "from", "by", "at", "why", "email"]) if tag_rows else "no tags"
    )
    lines += [
        "",
        f"orders {row.orders:,}, spend {spend_text(rep.spend, row.spend)}, "
        f"refunds {row.refunds:,} "
        f"({money(row.refunded)}), first {row.first or '-'}, last {row.last or '-'}",
    ]
    if rep.recent:
        lines += [
            "",
            draw(
                rep.recent,
                ["date", "channel", "order", "total", "refund", "email"],
                align=("left", "left", "left", "right", "right", "left"),
                numparse=False,
            ),
        ]
    typer.echo(printable("\n".join(lines), keep="\n"))


@command
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
    when = as_of_date(as_of)
    where = Where(workspace, tagbook)
    ws = where.workspace
    book = load_tagbook(where.tagbook)
    if orders:
        from ordertags.runs import Inputs, SuspectsRequest, suspects

        region = default_region or workspace_region(ws)
        inputs = Inputs(orders, where.tagbook, None, when, read, None, region)
        found = suspects(
            SuspectsRequest(inputs, tag=tag, limit=limit or None, max_sharing=max_sharing)
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
    if found:
        echo_table(
            [
                (s.a, ", ".join(s.tags_a), s.b, ", ".join(s.tags_b), "; ".join(s.evidence))
                for s in found
            ],
            ["customer", "tags", "possibly the same as", "tags", "evidence"],
        )
    typer.echo(
        f"{plural(len(found), 'pair')} of possibly the same customer"
        + (
            "; `ordertags link A B` joins a pair, `ordertags unlink A B` dismisses it"
            if found
            else ""
        ),
        err=True,
    )
