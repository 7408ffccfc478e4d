"""``ordertags import``: a customer export's tags and unsubscribes brought into the tag
book. A quick command: the import is pure Python (:mod:`ordertags.customers.importing`),
nothing here imports pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordertags.cli.context import Where, command
from ordertags.cli.options import BookOpt, DelimiterOpt, EncodingOpt, WorkspaceOpt
from ordertags.cli.render import plural
from ordertags.cli.tagging import ByOpt
from ordertags.customers.importing import ImportPlan, apply_import, parse_tag_map, plan_import


def render_import(plan: ImportPlan) -> str:
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


def render_import_summary(plan: ImportPlan, dry_run: bool) -> str:
    """The counts of ``ordertags import`` (stderr): files and formats, what changes,
    what was left out and why."""
    would = "would " if dry_run else ""
    files = ", ".join(f"{f.name} ({f.format}, {plural(len(f.records), 'row')})" for f in plan.files)
    out = [f"read {files}"]
    tagged = sum(1 for p in plan.tag if p.add)
    sup = sum(1 for _, _, done in plan.suppress if not done)
    out.append(
        f"{would}tag {plural(tagged, 'customer')}"
        f", {would}suppress {plural(sup, 'address', 'addresses')}"
        + (f", {would}define {plural(len(plan.create), 'tag')}" if plan.create else "")
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
            f"{plural(plan.declined, 'customer')} said no to email marketing: lists leave "
            "them out where their orders say so"
        )
    for source, line, why in plan.skipped[:20]:
        out.append(f"skipped {source}, line {line}: {why}")
    if len(plan.skipped) > 20:
        out.append(f"... and {len(plan.skipped) - 20} more rows skipped")
    return "\n".join(out)


@command
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
    where = Where(workspace, tagbook)
    book = where.tagbook
    plan = plan_import(
        book,
        file,
        forced=format_,
        mapping=parse_tag_map(map_),
        create_tags=create_tags,
        extra_tags=tuple(tag or ()),
        by=by,
        workspace=where.workspace,
        region=where.region,
        encoding=encoding,
        delimiter=delimiter,
    )
    if dry_run:
        diff = render_import(plan)
        if diff:
            typer.echo(diff)
    else:
        apply_import(book, plan, region=where.region)
    typer.echo(render_import_summary(plan, dry_run), err=True)
