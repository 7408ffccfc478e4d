"""The tag book's commands: ``tag``, ``untag`` and ``tags`` (customers tagged by hand),
``link`` and ``unlink`` (identities of one person, or not), ``suppress`` (addresses
kept off mailing lists). Quick commands: nothing here imports pyarrow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ordertags.base.keys import DEFAULT_REGION, check_region, identity_of
from ordertags.base.printable import printable
from ordertags.cli.context import Where, command
from ordertags.cli.options import (
    AsOfOpt,
    BookOpt,
    RegionOpt,
    TagOpt,
    WorkspaceOpt,
    as_of_date,
    reads_exports,
)
from ordertags.cli.render import plural
from ordertags.cli.tables import echo_table
from ordertags.customers.importing import read_identities, tag_many
from ordertags.customers.workspace import (
    customer_name,
    identity_seen,
    order_customer,
    workspace_region,
)
from ordertags.errors import OrderTagsError
from ordertags.io.lookup import OrderCustomer, find_order_customer
from ordertags.io.options import DEFAULT as DEFAULT_READ
from ordertags.io.options import ReadOptions
from ordertags.tagbook import (
    change_entry,
    export_entries,
    import_entries,
    link_identities,
    load_tagbook,
    suppress_address,
    tag_customer,
    unlink_identities,
    untag_customer,
)


def _customer_of(
    identity: str | None,
    order: str | None,
    in_: str | None,
    read: ReadOptions,
    where: Where,
) -> Any:
    """The customer a person means: an identity they typed, or the customer of an order
    (in an export, or in the workspace's history); an ``OrderCustomer``."""
    ws = where.workspace
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
            name = customer_name(ws, identity_of(identity, where.region or DEFAULT_REGION)[1])
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


@command
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
    where = Where(workspace, tagbook)
    book = where.tagbook
    if from_ is not None:
        if customer is not None or order is not None:
            raise typer.BadParameter("give a CUSTOMER, --order or --from, not two of them.")
        _tag_from(book, from_, column, tag, note, by, expires, in_, read, where)
        return
    never = expires is not None and expires.strip().lower() == "never"
    found = _customer_of(customer, order, in_, read, where)
    change = tag_customer(
        book,
        found.identity,
        tag,
        note=note,
        by=by,
        expires=None if never else expires,
        region=where.region,
        valid_phone=order is None,  # a number typed, not one an order carries
    )
    # --expires on a tag they already have: their entry's date changes.
    dated = [
        change_entry(book, found.identity, t, expires=expires, region=where.region)
        for t in (change.unchanged if expires is not None else ())
    ]
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
    if (
        order is None
        and change.kind != "address"
        and identity_seen(where.workspace, change.key) is False
    ):
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
    where: Where,
) -> None:
    """``tag --from``: one line of counts; the values that named nobody on stderr."""
    ws = where.workspace

    def orders(number: str) -> str | None:
        try:
            if in_ is not None:
                return str(_customer_of(None, number, in_, read, where).identity)
            if ws is not None and ws.history_path.exists():
                return str(order_customer(ws, number).identity)
        except OrderTagsError:
            return None
        return None

    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise OrderTagsError(
                f"cannot read the list: {exc.strerror}.", file=source, hint="Check the path."
            ) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    values = read_identities(text, column)
    never = expires is not None and expires.strip().lower() == "never"
    done = tag_many(
        book,
        values,
        tags,
        note=note,
        by=by,
        expires=None if never else expires,
        region=where.region,
        orders=orders if (in_ is not None or ws is not None) else None,
    )
    shown = "standard input" if source == "-" else Path(source).name
    for line, value, why in done.not_found:
        typer.echo(f"not found: {shown}, line {line}: {value} ({why})", err=True)
    typer.echo(
        f"tagged {plural(done.tagged, 'customer')} with {', '.join(tags)}; "
        f"{done.already} already tagged; {len(done.not_found)} not found",
        err=True,
    )


@command
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
    where = Where(workspace, tagbook)
    book = where.tagbook
    found = _customer_of(customer, order, in_, read, where)
    change = untag_customer(book, found.identity, tag, region=where.region)
    who = _named(found, change)
    if change.removed:
        typer.echo(f"removed {', '.join(change.removed)} from {who}", err=True)
    if change.unchanged:
        typer.echo(f"{who} had no {', '.join(change.unchanged)} in the tag book", err=True)


@command
def tags_cmd(
    tagbook: BookOpt = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the tag definitions, the customers tagged by hand, the identity links and the
    addresses kept off mailing lists.

    Example: ordertags tags -t tagbook.yaml
    """
    when = as_of_date(as_of)
    book = load_tagbook(Where(workspace, tagbook).tagbook)
    defs = [
        (t.name, t.priority, t.scope, t.colour, t.display)
        for t in sorted(book.tags.values(), key=lambda t: (-t.priority, t.index))
    ]
    echo_table(defs, ["tag", "priority", "scope", "colour", "label"])
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
        echo_table(rows, ["customer", "tags", "note", "by", "at", "expires"])
    else:
        typer.echo("no customers tagged by hand")
    if book.links:
        typer.echo("")
        links = [
            (ln.a, "same as" if ln.same else "not", ln.b, ln.note or "", ln.by or "", ln.at or "")
            for ln in book.links
        ]
        echo_table(
            [(*ln[:5], ln[5][:10]) for ln in links],
            ["identity", "link", "identity", "note", "by", "at"],
        )
    if book.no_marketing_tags():
        typer.echo("")
        typer.echo(f"on no mailing list: customers with {', '.join(book.no_marketing_tags())}")
    if book.suppressed:
        typer.echo("")
        echo_table(
            [(x.email, x.reason or "", x.by or "", (x.at or "")[:10]) for x in book.suppressed],
            ["suppressed address", "reason", "by", "at"],
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
    where = Where(workspace, tagbook)
    book = where.tagbook
    code = check_region(region or workspace_region(where.workspace))
    edit = link_identities if same else unlink_identities
    change = edit(book, a, b, note=note, by=by, region=code)
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


@command
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


@command
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


@command
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
    book = Where(workspace, tagbook).tagbook
    change = suppress_address(book, email, reason=reason, by=by, remove=remove)
    if remove:
        if change.removed:
            typer.echo(f"{change.email} is no longer suppressed", err=True)
        else:
            typer.echo(f"{change.email} was not suppressed; nothing changed", err=True)
    elif change.added:
        typer.echo(f"suppressed {change.email}: it goes on no mailing list", err=True)
    else:
        typer.echo(f"{change.email} was already suppressed; nothing changed", err=True)


# --- tagbook export / import (the tag book's customer entries as a file) -------------

tagbook_app = typer.Typer(
    help="The tag book's customers tagged by hand, as a YAML file: export and import.",
    no_args_is_help=True,
)


@tagbook_app.command("export")
@command
def tagbook_export(tagbook: BookOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Write the customers tagged by hand as the tag book's `customers:` list (a shared
    workspace's from its database) to standard output.

    Example: ordertags tagbook export > book.yaml
    """
    typer.echo(export_entries(Where(workspace, tagbook).tagbook), nl=False)


@tagbook_app.command("import")
@command
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
    report = import_entries(Where(workspace, tagbook).tagbook, source, dry_run=dry_run)
    for line in report.diff:
        typer.echo(printable(line))
    verb = "would be " if dry_run else ""
    typer.echo(
        f"{plural(len(report.added), 'entry', 'entries')} {verb}added, "
        f"{plural(len(report.removed), 'entry', 'entries')} {verb}removed"
        + ("" if report.diff else ": the tag book already holds these entries"),
        err=True,
    )
