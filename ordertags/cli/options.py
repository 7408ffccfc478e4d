"""The options commands share (one spelling and one help text each), the lists of
choices they offer, and the parsing of option values.

Each list of choices is what the code supports: read from its registry where that is
light to import (the platforms, the money styles), else written here and checked
against the registry by a test (tests/test_cli_package.py), so that ``--help`` never
offers what the library refuses nor hides what it takes.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ordertags.base.files import check_wait, parse_mode
from ordertags.base.segments import SEGMENTS_BY as SEGMENTS_BY
from ordertags.errors import OrderTagsError
from ordertags.io.options import LIST_FORMATS as LIST_FORMATS
from ordertags.io.options import (
    MONEY_STYLES,
    OUTPUT_FORMATS,
    PROFILE_NAMES,
    ReadOptions,
    date_style_named,
)
from ordertags.io.options import PROFILE_PLACES as PROFILE_PLACES

F = TypeVar("F", bound=Callable[..., Any])

# --- the choices -------------------------------------------------------------------------

# From the registries (light modules): --format (the platform profiles), --money-style,
# apply's and export's --output-format, --profile-columns, segments --by.
FORMATS: tuple[str, ...] = PROFILE_NAMES
MONEY: tuple[str, ...] = MONEY_STYLES
APPLY_FORMATS: tuple[str, ...] = OUTPUT_FORMATS
# export --preset (reports.lists.PRESET_NAMES) and --role (customers.accounts.ROLES) are
# named in their help texts: their registries load pyarrow and argon2, too slow for
# --help; the library checks the value, and a test the help text.
#: `ordertags schema WHICH`: the schemas shipped in the package (ordertags/schemas/).
SCHEMAS = ("tagbook", "rules", "report")
#: The command line's own choices (no library behind them).
TABLE_FORMATS = ("table", "csv", "json")
COLOURS = ("auto", "always", "never")


def either(choices: Sequence[str]) -> str:
    """``a, b or c``."""
    return ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]


def choose(value: str, choices: Sequence[str], flag: str, message: str | None = None) -> str:
    """``value`` where it is one of ``choices``; else exit 2 (``use a, b or c.``)."""
    if value not in choices:
        raise typer.BadParameter(message or f"use {either(choices)}.", param_hint=flag)
    return value


# --- the shared options ------------------------------------------------------------------

OrdersArg = Annotated[
    list[str],
    typer.Argument(
        help="Order exports (CSV, TSV or JSON); - reads standard input.",
        show_default=False,
        metavar="EXPORT",
    ),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        "-r",
        help="The rule file (YAML). Optional: manual tags alone are a valid run.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Where to write: a file, - for standard output, or a folder when "
        "several exports are given.",
        show_default=False,
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The date rules are evaluated on, YYYY-MM-DD (default: today). Windows "
        "such as within_days count back from it; a customer window counts the run's own "
        "orders whatever their date after its start (today's too).",
        show_default=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of the exports (default utf-8, else detected; e.g. cp1252, "
        "mac_roman, utf-16, latin-1).",
        show_default=False,
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Field delimiter of CSV exports (default: sniffed; 'tab' for TSV).",
        show_default=False,
    ),
]
EmailColOpt = Annotated[
    str | None,
    typer.Option(
        "--email-column", help="The column holding the customer's email.", show_default=False
    ),
]
TotalColOpt = Annotated[
    str | None,
    typer.Option("--total-column", help="The column holding the order total.", show_default=False),
]
DateColOpt = Annotated[
    str | None,
    typer.Option("--date-column", help="The column holding the order date.", show_default=False),
]
NameColOpt = Annotated[
    str | None,
    typer.Option(
        "--name-column", help="The column holding the customer's name.", show_default=False
    ),
]
IdColOpt = Annotated[
    str | None,
    typer.Option(
        "--order-id-column", help="The column holding the order number.", show_default=False
    ),
]
TagOpt = Annotated[
    list[str],
    typer.Option(
        "--tag",
        help="A tag name, in any case (repeat for several).",
        show_default=False,
        metavar="TAG",
    ),
]
MoneyOpt = Annotated[
    str | None,
    typer.Option(
        "--money-style",
        help="How money is written: plain (1234.50), symbol ($1,433.66), "
        "comma_decimal (116,99 €) or auto (each value by its look). Default: as the export's "
        "platform writes it (plain for an export from no known platform).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="The platform the exports come from, instead of recognising it from "
        f"the header: {either(FORMATS)}.",
        show_default=False,
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="A YAML file naming the columns of any other export: one "
        "`Their column: field` a line (fields: order_id, email, total, date, name, ...).",
        show_default=False,
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="On an error, also show the traceback.")
]
BookOpt = Annotated[
    Path | None,
    typer.Option(
        "--tagbook",
        "-t",
        help="The tag book (YAML): tag definitions, customers tagged by hand "
        "and identity links. Default: the workspace's tagbook.yaml.",
        show_default=False,
    ),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="ORDERTAGS_WORKSPACE",
        help="The workspace folder (tag "
        "book, rules, order history; see `ordertags init`). Default: the current folder, when "
        "it is one.",
        show_default=False,
    ),
]
NoRecordOpt = Annotated[
    bool,
    typer.Option(
        "--no-record",
        help="Do not record this run's orders in the workspace's history (its "
        "history is still read).",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--default-region",
        help="The country of phone numbers written without a country code, "
        "e.g. GB, US, DE (default: the workspace's, else GB).",
        show_default=False,
    ),
]

DateStyleOpt = Annotated[
    str | None,
    typer.Option(
        "--date-style",
        help="How numeric dates such as 05/11/2026 are written: day-first or "
        "month-first (also iso, ebay, yyyymmdd, auto). Default: the mapping file's, the "
        "platform's, what the dates show, else the region's (--default-region, the "
        "workspace's); a warning says when none of these could tell.",
        show_default=False,
    ),
]
OutputEncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--output-encoding",
        help="Text encoding of CSV output (default: each export's own, e.g. cp1252 "
        "for a German eBay report). Characters it cannot hold are written as ?.",
        show_default=False,
    ),
]
ProfileColumnsOpt = Annotated[
    str,
    typer.Option(
        "--profile-columns",
        help="Where the added columns go: last (after the export's own columns, safe "
        "to re-import) or first (right after the order number, where packers see them).",
    ),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Permissions of the files this run creates, in octal (default 600: owner "
        "only, as orders hold personal data; e.g. 640 for a group). A file that exists "
        "keeps its own.",
        show_default=False,
    ),
]


def _wait_seconds(value: float) -> float:
    """--wait as the library bounds it (:func:`ordertags.base.files.check_wait`): exit 2
    on a negative, infinite or too long wait, before anything is read."""
    try:
        check_wait(value)
    except OrderTagsError as exc:
        raise typer.BadParameter(exc.detail(), param_hint="--wait") from None
    return value


WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        callback=_wait_seconds,
        help="In a workspace, how many seconds to wait for another recording run (cron "
        "starting again before the last run ended) before giving up with exit 3.",
    ),
]

READ_OPTIONS: list[tuple[str, Any]] = [
    ("encoding", EncodingOpt),
    ("delimiter", DelimiterOpt),
    ("format_", FormatOpt),
    ("mapping", MappingOpt),
    ("money_style", MoneyOpt),
    ("date_style", DateStyleOpt),
    ("email_column", EmailColOpt),
    ("total_column", TotalColOpt),
    ("date_column", DateColOpt),
    ("name_column", NameColOpt),
    ("order_id_column", IdColOpt),
]


def read_options(
    encoding: str | None = None,
    delimiter: str | None = None,
    format_: str | None = None,
    mapping: Path | None = None,
    money_style: str | None = None,
    date_style: str | None = None,
    email_column: str | None = None,
    total_column: str | None = None,
    date_column: str | None = None,
    name_column: str | None = None,
    order_id_column: str | None = None,
) -> ReadOptions:
    """The :class:`ReadOptions` the read options of a command line say."""
    if money_style is not None and money_style not in MONEY:
        raise typer.BadParameter(f"use {', '.join(MONEY)}.", param_hint="--money-style")
    named = {
        "email": email_column,
        "total": total_column,
        "date": date_column,
        "name": name_column,
        "order_id": order_id_column,
    }
    return ReadOptions(
        encoding=encoding,
        delimiter=delimiter,
        profile=format_,
        mapping=mapping,
        columns={k: v for k, v in named.items() if v is not None},
        money_style=money_style,
        date_style=date_style_of(date_style),
    )


def option_group(
    options: Sequence[tuple[str, Any, Any]], build: Callable[..., Any], into: str
) -> Callable[[F], F]:
    """A decorator giving a command a group of options, each ``(name, alias, default)``:
    Typer sees them (after the command's own) in place of its parameter ``into``, and
    the command gets ``build(**their values)`` there. One group, one spelling and one
    help text of each of its options, whichever command takes them."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != into]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=alias)
            for name, alias, d in options
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name, d) for name, _, d in options}
            return command(*args, **{into: build(**values)}, **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate


#: Give a command the read options (:data:`READ_OPTIONS`) as one ReadOptions (``read``).
reads_exports = option_group(
    [(name, alias, None) for name, alias in READ_OPTIONS], read_options, "read"
)


# --- option values -------------------------------------------------------------------------


def mode_of(value: str | None) -> int | None:
    """--mode: a file mode in octal."""
    if value is None:
        return None
    try:
        return parse_mode(value)
    except ValueError:
        raise typer.BadParameter(
            f'"{value}" is not a file mode; write it in octal, e.g. 600 or 640.',
            param_hint="--mode",
        ) from None


def date_of(value: str | None, flag: str) -> dt.date | None:
    """A YYYY-MM-DD option (None where not given)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f'"{value}" is not a date; write YYYY-MM-DD.', param_hint=flag
        ) from None


def as_of_date(value: str | None) -> dt.date:
    """--as-of (default: today)."""
    return date_of(value, "--as-of") or dt.date.today()


def date_style_of(value: str | None) -> str | None:
    """--date-style: the style it names."""
    if value is None:
        return None
    style = date_style_named(value)
    if style is None:
        raise typer.BadParameter(
            "use day-first or month-first (or iso, ebay, yyyymmdd, auto).",
            param_hint="--date-style",
        )
    return style


def output_encoding_of(value: str | None) -> str | None:
    """--output-encoding: the codec's name."""
    if value is None:
        return None
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise typer.BadParameter(
            f'unknown encoding "{value}"; use e.g. utf-8, cp1252, latin-1 or cp932.',
            param_hint="--output-encoding",
        ) from None
