"""The Typer app, its callback (``--verbose``, ``--version``) and what commands share
on the terminal: the summary line on stderr, the progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from ordertags.base.version import VERSION
from ordertags.cli.context import STATE
from ordertags.cli.options import VerboseOpt

app = typer.Typer(
    name="ordertags",
    help="Customer tags for online sellers: apply a tag book and rules to order exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # orders hold personal data: never show locals
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    verbose: VerboseOpt = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Customer tags for online sellers: apply a tag book and rules to order exports.

    Example: ordertags apply orders.csv --tagbook tagbook.yaml --rules rules.yaml -o out.csv
    """
    STATE["verbose"] = verbose
    if version:
        typer.echo(f"ordertags {VERSION}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(code=2)


def say(quiet: bool, text: str) -> None:
    """Print ``text`` (a summary, a confirmation) to stderr, unless --quiet."""
    if not quiet and text:
        typer.echo(text, err=True)


@contextmanager
def progress_of(orders: list[str], quiet: bool) -> Iterator[Callable[[int], None] | None]:
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
    from ordertags.runs import progress_bar

    with progress_bar(sum(sizes), sys.stderr) as advance:
        yield advance
