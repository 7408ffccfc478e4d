"""What every command shares: the workspace, tag book and rule file it works on
(:class:`Where`), and how a library error ends it (:func:`command`, :func:`fail`).

A command is wrapped once by :func:`command`; inside, it names what it needs with
``Where(workspace, tagbook, rules)`` and calls the library. An
:class:`~ordertags.errors.OrderTagsError` from anywhere in it becomes one line on stderr
(the parameters it names spelt as this command line's flags, :data:`FLAGS`) and the
error's exit code; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from ordertags.base.keys import DEFAULT_REGION
from ordertags.customers.workspace import find_workspace, workspace_region
from ordertags.errors import OrderTagsError

if TYPE_CHECKING:
    from ordertags.customers.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

#: Set by the app's callback (``--verbose``): show the traceback of an error.
STATE = {"verbose": False}

#: The library's parameters, as the command line spells them where it differs from
#: ``--`` and the name with dashes (``as_of`` is ``--as-of``). A library message names a
#: parameter with :func:`ordertags.errors.param`; :func:`flag` spells it here.
FLAGS = {
    "everyone": "--all",
    "tags": "--tag",
    "not_tags": "--not-tag",
    "segments": "--segment",
    "lists": "--list",
    "output": "--output",
    "region": "--default-region",
    "record=False": "--no-record",
    "include_without_consent": "--include-without-consent",
    "read.encoding": "--encoding",
    "read.delimiter": "--delimiter",
    "read.profile": "--format",
    "read.mapping": "--mapping",
    "read.money_style": "--money-style",
    "read.date_style": "--date-style",
    "read.columns['email']": "--email-column",
    "read.columns['total']": "--total-column",
    "read.columns['date']": "--date-column",
    "read.columns['name']": "--name-column",
    "read.columns['order_id']": "--order-id-column",
}


def flag(name: str) -> str:
    """The flag of the library's parameter ``name``: ``date_style`` -> ``--date-style``."""
    return FLAGS.get(name) or "--" + name.removeprefix("read.").replace("_", "-")


def fail(exc: OrderTagsError) -> NoReturn:
    """End the command on a library error: its message (in flags), its exit code."""
    if STATE["verbose"]:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(f"ordertags: {exc.render(flag)}", err=True)
    raise typer.Exit(code=exc.exit_code)


def command(function: F) -> F:
    """Wrap a command so that a library error ends it as :func:`fail` says (the one
    place that maps errors to exit codes)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except OrderTagsError as exc:
            fail(exc)

    wrapper.maps_errors = True  # type: ignore[attr-defined]  # checked by a test
    return wrapper  # type: ignore[return-value]


class Where:
    """The workspace, tag book and rule file a command works on, from its options:
    ``--workspace`` (else $ORDERTAGS_WORKSPACE, else the current folder when it is
    one), ``--tagbook`` (else the workspace's), ``--rules`` (else the workspace's
    rules.yaml when it has one). Each is worked out when first asked for; finding the
    workspace imports nothing heavy (the quick commands use it)."""

    def __init__(
        self,
        workspace: Path | None = None,
        tagbook: Path | None = None,
        rules: Path | None = None,
    ) -> None:
        self.given_workspace = workspace
        self.given_tagbook = tagbook
        self.given_rules = rules

    @functools.cached_property
    def workspace(self) -> Workspace | None:
        """The workspace in use, or None."""
        found: Workspace | None = find_workspace(self.given_workspace)
        return found

    @property
    def needed_workspace(self) -> Workspace:
        """The workspace; exit 2 where there is none."""
        if self.workspace is None:
            raise typer.BadParameter(
                "this command needs a workspace, and the current folder is not one.",
                param_hint="--workspace",
            )
        return self.workspace

    @property
    def tagbook(self) -> Path:
        """The tag book: --tagbook, else the workspace's (exit 2 when neither)."""
        if self.given_tagbook is not None:
            return self.given_tagbook
        if self.workspace is not None:
            path: Path = self.workspace.tagbook
            return path
        raise typer.BadParameter(
            "no tag book: give --tagbook FILE, or run in a workspace (see `ordertags init`), "
            "or name one with --workspace DIR or ORDERTAGS_WORKSPACE.",
            param_hint="--tagbook",
        )

    @property
    def rules(self) -> Path | None:
        """The rule file: --rules, else the workspace's rules.yaml when it has one."""
        ws = self.workspace
        if self.given_rules is None and ws is not None and ws.rules.exists():
            found: Path = ws.rules
            return found
        return self.given_rules

    @property
    def region(self) -> str | None:
        """The workspace's phone region (None without a workspace, or where it cannot
        be read)."""
        if self.workspace is None:
            return None
        try:
            region: str | None = workspace_region(self.workspace)
        except OrderTagsError:
            return None
        return region

    def region_or_default(self, region: str | None) -> str | None:
        """``region`` (--default-region), else the workspace's (GB where it never set
        one), else None (no workspace: nothing says)."""
        if region or self.workspace is None:
            return region
        try:
            return workspace_region(self.workspace) or DEFAULT_REGION
        except OrderTagsError:
            return None
