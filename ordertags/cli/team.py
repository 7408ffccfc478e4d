"""The team screen: ``serve`` (the local web pages), ``users`` (its accounts) and
``audit`` (the log of every change made from it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ordertags.cli.context import Where, command
from ordertags.cli.options import RulesOpt, WorkspaceOpt, choose, date_of
from ordertags.cli.render import plural
from ordertags.cli.tables import echo_table
from ordertags.tagbook import default_author

users_app = typer.Typer(
    help="The team screen's accounts (ordertags serve): add, list, remove, new password.",
    no_args_is_help=True,
)


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
@command
def users_add(
    name: Annotated[str, typer.Argument(help="The account name (letters, digits, . _ -).")],
    role: RoleOpt = "viewer",
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an account for the team screen. The password is asked without echo (or read
    from standard input in a script) and stored as an Argon2 hash in the workspace.

    Example: ordertags users add sam --role manager
    """
    from ordertags.runs import ROLES, add_user

    choose(role, ROLES, "--role", f"use one of {', '.join(ROLES)}.")
    add_user(Where(workspace).needed_workspace, name, role, _read_password(), by=_operator())
    typer.echo(f"added {name} ({role})", err=True)


@users_app.command("list")
@command
def users_list(workspace: WorkspaceOpt = None) -> None:
    """List the accounts with their roles.

    Example: ordertags users list
    """
    from ordertags.runs import list_users

    users = list_users(Where(workspace).needed_workspace)
    if users:
        echo_table([(u.name, u.role, u.created[:10]) for u in users], ["name", "role", "added"])
    typer.echo(plural(len(users), "account"), err=True)


@users_app.command("remove")
@command
def users_remove(
    name: Annotated[str, typer.Argument(help="The account to remove.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove an account (its entries in the audit log stay; its sessions end).

    Example: ordertags users remove sam
    """
    from ordertags.runs import remove_user

    remove_user(Where(workspace).needed_workspace, name, by=_operator())
    typer.echo(f"removed {name}", err=True)


@users_app.command("passwd")
@command
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
    from ordertags.runs import ROLES, set_password

    if role is not None:
        choose(role, ROLES, "--role", f"use one of {', '.join(ROLES)}.")
    ws = Where(workspace).needed_workspace
    set_password(ws, name, _read_password(), by=_operator(), role=role)
    typer.echo(f"changed the password of {name}", err=True)


@command
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
    from ordertags.runs import audit_log

    day = date_of(since, "--since")
    entries = audit_log(Where(workspace).needed_workspace, customer=customer, since=day)
    if entries:
        echo_table(
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
            numparse=False,
        )
    typer.echo(plural(len(entries), "change"), err=True)


@command
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

    ws = Where(workspace).needed_workspace
    try:
        screen, line = prepare(
            ws, host=host, port=port, exports=[str(e) for e in exports or []], rules=rules
        )
        typer.echo(f"ordertags: {line}", err=True)
        serve(screen, host=host, port=port)
    except ServeError as exc:
        typer.echo(f"ordertags: {exc}", err=True)
        raise typer.Exit(code=2) from None
