"""The ``ordertags`` command line: parses options, calls the library, renders results.

One module per group of commands; this one registers them on the app, in the order
``--help`` lists them, and holds the console script's entry point (:func:`main`).

- :mod:`~ordertags.cli.program`: the Typer app and its callback; the summary line, the
  progress bar.
- :mod:`~ordertags.cli.context`: the workspace, tag book and rules a command works on
  (``Where``), and library errors mapped to messages and exit codes (``command``).
- :mod:`~ordertags.cli.options`: the shared options, their choices, their values.
- :mod:`~ordertags.cli.tables`: the one table renderer; :mod:`~ordertags.cli.render`:
  summaries and the other words of a run.
- The commands: :mod:`~ordertags.cli.apply`, :mod:`~ordertags.cli.lists` (export,
  segments), :mod:`~ordertags.cli.checks` (inspect, explain, lint, schema),
  :mod:`~ordertags.cli.tagging` (tag, untag, tags, link, unlink, suppress),
  :mod:`~ordertags.cli.importing` (import),
  :mod:`~ordertags.cli.workspace` (init, ingest, history),
  :mod:`~ordertags.cli.customers` (customers, customer, suspects),
  :mod:`~ordertags.cli.views` (show, report), :mod:`~ordertags.cli.team` (serve,
  users, audit).

The commands reach the library's runs inside their bodies, never at a module's top,
so that ``--help``, ``tag``, ``untag`` and ``tags`` start without pyarrow
(tests/test_architecture.py checks it).
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import typer

from ordertags.cli import (
    apply,
    checks,
    customers,
    importing,
    lists,
    tagging,
    team,
    views,
    workspace,
)
from ordertags.cli.context import STATE
from ordertags.cli.program import app

__all__ = ["app", "main"]

# The commands, in the order --help lists them.
app.command()(apply.apply)
app.command()(lists.export)
app.command("segments")(lists.segments_cmd)
app.command("inspect")(checks.inspect_cmd)
app.command("tag")(tagging.tag_cmd)
app.command("untag")(tagging.untag_cmd)
app.command("tags")(tagging.tags_cmd)
app.command()(checks.explain)
app.command()(checks.lint)
app.command()(checks.schema)
app.command("init")(workspace.init_cmd)
app.command("migrate")(workspace.migrate_cmd)
app.command()(workspace.ingest)
app.command("customers")(customers.customers_cmd)
app.command("customer")(customers.customer_cmd)
app.add_typer(workspace.history_app, name="history")
app.command("link")(tagging.link_cmd)
app.command("unlink")(tagging.unlink_cmd)
app.command("suppress")(tagging.suppress_cmd)
app.command("import")(importing.import_cmd)
app.add_typer(tagging.tagbook_app, name="tagbook")
app.command()(customers.suspects)
app.command()(views.show)
app.command()(views.report)
app.add_typer(team.users_app, name="users")
app.command("audit")(team.audit_cmd)
app.command("serve")(team.serve_cmd)


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
        if STATE["verbose"]:
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
