"""The command-line reference (docs/cli.md), made from the app itself.

``python -m ordertags.clidoc > docs/cli.md`` rewrites it; a test fails when it is stale,
so the reference always says what ``--help`` says.
"""

from __future__ import annotations

from typing import Any


def _help(app: Any, args: list[str]) -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, [*args, "--help"], terminal_width=100, env={"COLUMNS": "100", "TERMINAL_WIDTH": "100"}
    )
    return result.stdout.rstrip()


def _commands(app: Any) -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        for name in sorted(getattr(cmd, "commands", {}) or {}):
            sub = cmd.commands[name]
            out.append([*path, name])
            walk(sub, [*path, name])

    walk(group, [])
    return out


def render_reference() -> str:
    """docs/cli.md as it should be now."""
    from ordertags.cli import app

    parts = [
        "# ordertags command-line reference",
        "",
        "Made by `python -m ordertags.clidoc > docs/cli.md`; do not edit by hand.",
        "",
        "## ordertags",
        "",
        "```",
        _help(app, []),
        "```",
        "",
    ]
    for path in _commands(app):
        parts += [f"## ordertags {' '.join(path)}", "", "```", _help(app, path), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_reference(), end="")
