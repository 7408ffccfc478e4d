"""The command line as a package: every command goes through the one context (errors
mapped to exit codes, library parameters spelt as flags), and every list of choices a
command offers is what the code supports."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from ordertags.base.segments import SEGMENTS_BY
from ordertags.cli import app
from ordertags.cli.context import Where, flag
from ordertags.cli.options import (
    APPLY_FORMATS,
    COLOURS,
    FORMATS,
    LIST_FORMATS,
    MONEY,
    SCHEMAS,
    either,
)
from ordertags.cli.tables import RICH_ROWS, draw, echo_table
from ordertags.customers.accounts import ROLES
from ordertags.errors import UsageError, param
from ordertags.io.options import OUTPUT_FORMATS
from ordertags.io.platforms import MONEY_STYLES, PROFILE_NAMES, get_profile
from ordertags.reports.lists import PRESET_NAMES, get_preset
from ordertags.runs import ApplyRequest, Inputs, ListSpec, apply_orders

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, Any]:
    """Every command of the app (``history stats`` for a group's), as Click sees it."""
    root = typer.main.get_command(app)
    found: dict[str, Any] = {}

    def walk(group: Any, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, f"{prefix}{name} ")
            else:
                found[prefix + name] = cmd

    walk(root, "")
    return found


def _help(command: str, option: str) -> str:
    (found,) = [p for p in _commands()[command].params if option in p.opts]
    return " ".join(str(found.help).split())


def test_every_command_maps_library_errors_in_the_one_place() -> None:
    unwrapped = [
        name for name, cmd in _commands().items() if not getattr(cmd.callback, "maps_errors", False)
    ]
    assert unwrapped == []


def test_the_platforms_offered_are_the_profiles() -> None:
    assert FORMATS == PROFILE_NAMES
    assert f"the header: {either(PROFILE_NAMES)}." in _help("apply", "--format")
    assert [get_profile(name).name for name in FORMATS] == list(FORMATS)


def test_the_money_styles_offered_are_the_supported_ones() -> None:
    assert MONEY == MONEY_STYLES
    help_text = _help("apply", "--money-style")
    assert [s for s in MONEY_STYLES if re.search(rf"\b{s}\b", help_text)] == list(MONEY_STYLES)


def test_the_output_formats_offered_are_those_written() -> None:
    assert APPLY_FORMATS == OUTPUT_FORMATS
    assert _help("apply", "--output-format").startswith(either(OUTPUT_FORMATS) + " ")
    export = _help("export", "--output-format").replace(" (default)", "")
    assert export.startswith(either(LIST_FORMATS) + " ")


def test_an_output_format_nobody_writes_is_refused_by_the_run(tmp_path: Path) -> None:
    inputs = Inputs([str(ROOT / "examples" / "orders.csv")], ROOT / "tagbook.example.yaml")
    with pytest.raises(UsageError, match="written as csv, json, ndjson, xlsx"):
        apply_orders(ApplyRequest(inputs, tmp_path / "out.pdf", write=_write("pdf")))


def _write(fmt: str) -> Any:
    from ordertags.runs import WriteOptions

    return WriteOptions(output_format=fmt)


def test_the_presets_named_in_help_are_the_presets() -> None:
    text = _help("export", "--preset")
    named = re.search(r"email tool: (.*?) \(default", text)
    assert named is not None
    names = re.split(r", | or ", named.group(1))
    assert sorted(names) == sorted(PRESET_NAMES)
    assert [get_preset(n).name for n in names] == names


def test_the_roles_named_in_help_are_the_roles() -> None:
    text = _help("users add", "--role")
    assert re.findall(r"(\w+) \(", text) == list(ROLES)


def test_the_schemas_offered_are_those_shipped() -> None:
    shipped = sorted(
        p.name.removesuffix(".schema.json")
        for p in (ROOT / "ordertags" / "schemas").glob("*.schema.json")
    )
    assert sorted(SCHEMAS) == shipped


def test_segments_groups_by_what_the_run_can() -> None:
    assert _help("segments", "--by").startswith("group: ")
    assert re.findall(r"(\w+): ", _help("segments", "--by")) == list(SEGMENTS_BY)


def test_colour_choices_are_refused_outside_the_list(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["show", "x.csv", "--colour", "sometimes"])
    assert result.exit_code == 2
    assert f"use {either(COLOURS)}." in result.output


# --- library errors speak of parameters; the command line of flags ----------------------


def test_a_library_error_names_the_parameter_and_the_cli_the_flag(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        ListSpec.parse("vip.csv")
    assert "--list" not in str(caught.value)
    assert "lists vip.csv:VIP" in str(caught.value)
    result = CliRunner().invoke(
        app,
        [
            "apply",
            str(ROOT / "examples" / "orders.csv"),
            "-t",
            str(ROOT / "tagbook.example.yaml"),
            "-o",
            str(tmp_path / "out.csv"),
            "--list",
            "vip.csv",
        ],
    )
    assert result.exit_code == 2
    assert "For example: --list vip.csv:VIP or --list 'vip.csv:VIP,GOLD,!FRAUD'." in result.stderr
    assert "\x1f" not in result.stderr


@pytest.mark.parametrize(
    ("name", "spelt"),
    [
        ("everyone", "--all"),
        ("tags", "--tag"),
        ("read.date_style", "--date-style"),
        ("read.columns['date']", "--date-column"),
        ("min_orders", "--min-orders"),
        ("profile_columns", "--profile-columns"),
    ],
)
def test_each_parameter_has_one_flag(name: str, spelt: str) -> None:
    assert flag(name) == spelt
    assert UsageError(f"use {param(name)}.").render(flag) == f"use {spelt}."


def test_where_without_a_tag_book_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERTAGS_WORKSPACE", raising=False)
    where = Where()
    assert where.workspace is None and where.rules is None and where.region is None
    with pytest.raises(typer.BadParameter, match="no tag book"):
        _ = where.tagbook


# --- the one table renderer -----------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_table_on_a_terminal_is_drawn_by_rich_with_cells_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    echo_table([("ann@example.com", "[red]VIP[/red] :smile:", 3)], ["customer", "note", "n"])
    text = out.getvalue()
    assert "[red]VIP[/red] :smile:" in text  # no markup, no emoji codes
    assert "customer" in text and "---" not in text  # rich's rule, not tabulate's dashes


def test_a_long_table_on_a_terminal_is_drawn_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    rows = [(f"c{i}@example.com", "VIP") for i in range(RICH_ROWS + 1)]
    echo_table(rows, ["customer", "tags"])
    assert out.getvalue() == draw(rows, ["customer", "tags"]) + "\n"


def test_piped_a_table_is_drawn_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    echo_table([("a", 1)], ["x", "n"], align=("left", "right"))
    assert out.getvalue() == "x      n\n---  ---\na      1\n"
