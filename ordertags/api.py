"""Whole operations, as the CLI runs them: load, evaluate, write.

>>> from ordertags import apply_files
>>> result, written = apply_files(["orders.csv"], tagbook="tagbook.yaml",
...                               rules="rules.yaml", output="annotated.csv")
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.files import (
    Staged,
    check_mode,
    check_output_folder,
    check_wait,
    make_private_dir,
)
from ordertags.base.keys import check_region
from ordertags.base.sidework import SideWork
from ordertags.customers.accounts import (
    ROLES,
    AuditEntry,
    User,
    add_user,
    audit_entries,
    list_users,
    remove_user,
    set_password,
)
from ordertags.customers.applied import record_applied
from ordertags.customers.history import History, IngestReport
from ordertags.customers.identity import Suspect, resolve_links
from ordertags.customers.migration import MigrateReport, migrate_workspace
from ordertags.customers.rfm import Cutoffs
from ordertags.customers.workspace import Workspace, run_lock, workspace_history
from ordertags.engine.columns import VIRTUAL_FIELDS
from ordertags.engine.conditions import check_patterns
from ordertags.engine.frame import Frame
from ordertags.engine.pipeline import Annotated
from ordertags.engine.pipeline import annotate as annotate_tables
from ordertags.engine.resolution import order_batches, run_identities, suspects_in_frame
from ordertags.engine.tagtext import COLOUR_COLUMN, PROFILE_COLUMN
from ordertags.errors import UsageError
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.platforms import map_profile
from ordertags.io.readers import (
    NotStreamable,
    OrderSource,
    OrderTable,
    read_exports,
    read_orders_lazily,
)
from ordertags.io.writers import copy_plan, write_output, write_table
from ordertags.reports import segments
from ordertags.reports.dryrun import DryRun, compare
from ordertags.reports.explain import Explanation, explain_order
from ordertags.reports.explain import render as render_explanation
from ordertags.reports.html import render_page
from ordertags.reports.inspection import Inspection, inspect_orders
from ordertags.reports.lint import LintReport, lint
from ordertags.reports.lists import (
    REASON_TEXT,
    CustomerRows,
    ListFilter,
    Money,
    Selection,
    customers_of_history,
    customers_of_run,
    get_preset,
    read_suppression_file,
    render_list,
    render_suppression,
    select,
)
from ordertags.reports.lists import mailing_list as run_mailing_list
from ordertags.reports.segments import (
    SegmentTable,
    TagLine,
    segment_customers,
    segment_table,
    tag_figures,
    thresholds_text,
)
from ordertags.reports.views import OrdersView, order_views
from ordertags.reports.watch import (
    Alert,
    new_alerts,
    post_alerts,
    untold_alerts,
    watch_alerts,
    webhook_settings,
)
from ordertags.rules import FieldCondition, RuleSet, load_rules
from ordertags.tagbook import TagBook, load_tagbook

PathLike = str | os.PathLike[str]
#: Called with the number of bytes read after each chunk of an export.
Progress = Callable[[int], None]

#: The public names of this module (the command line imports only these).
__all__ = [
    "MigrateReport",
    "migrate_workspace",
    "ROLES",
    "AuditEntry",
    "User",
    "add_user",
    "audit_log",
    "list_users",
    "remove_user",
    "set_password",
    "Annotated",
    "Explanation",
    "OrderSource",
    "annotate",
    "mailing_list",
    "INGEST_SLICE",
    "Inspection",
    "LintReport",
    "ListFilter",
    "ListSpec",
    "Money",
    "OrdersView",
    "PathLike",
    "Progress",
    "REASON_TEXT",
    "ReadOptions",
    "SegmentTable",
    "Selection",
    "TagLine",
    "apply_files",
    "explain_files",
    "explanation_text",
    "export_list",
    "ingest_files",
    "inspect_export",
    "lint_files",
    "make_list",
    "segments",
    "segments_report",
    "suspects_in_files",
    "progress_bar",
    "render_counts",
    "render_page",
    "render_plain",
    "render_table",
    "thresholds_text",
    "view_files",
    "write_list_xlsx",
    "write_report",
    "Alert",
    "new_alerts",
    "post_alerts",
    "untold_alerts",
    "watch_alerts",
    "webhook_settings",
]

if TYPE_CHECKING:
    from ordertags.reports.terminal import (
        progress_bar,
        render_counts,
        render_plain,
        render_table,
    )

#: Drawn on a terminal only (rich takes a while to import): loaded when first asked for.
_TERMINAL = ("progress_bar", "render_counts", "render_plain", "render_table")


def __getattr__(name: str) -> Any:
    if name in _TERMINAL:
        from ordertags.reports import terminal

        return getattr(terminal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ListSpec:
    """A mailing list that ``apply`` writes beside the annotated orders (``--list``):
    the customers with any of ``tags`` and none of ``not_tags``, into ``path`` (a ``str``
    or any ``os.PathLike``).

    >>> ListSpec.parse("vip.csv:VIP,GOLD,!FRAUD")
    ListSpec(path='vip.csv', tags=('VIP', 'GOLD'), not_tags=('FRAUD',))
    """

    path: str
    tags: tuple[str, ...]
    not_tags: tuple[str, ...] = ()

    def __init__(
        self, path: str | os.PathLike[str], tags: Sequence[str], not_tags: Sequence[str] = ()
    ) -> None:
        # Written out so that ``path`` may be any path (a str, a pathlib.Path).
        object.__setattr__(self, "path", os.fspath(path))
        object.__setattr__(self, "tags", tuple(tags))
        object.__setattr__(self, "not_tags", tuple(not_tags))

    @classmethod
    def parse(cls, text: str) -> ListSpec:
        """``PATH:TAG[,TAG...]``; a tag written ``!TAG`` leaves its customers out. The
        path ends at the last ``:``, so a Windows path (``C:\\lists\\vip.csv:VIP``) works."""
        path, sep, spec = text.rpartition(":")
        names = [t.strip() for t in spec.split(",") if t.strip()]
        tags = tuple(t for t in names if not t.startswith("!"))
        not_tags = tuple(t[1:].strip() for t in names if t.startswith("!") and t[1:].strip())
        if not sep or not path.strip() or not tags:
            raise UsageError(
                f'"{text}" is not a list: write the file, a colon and the tags.',
                hint="For example: --list vip.csv:VIP or --list 'vip.csv:VIP,GOLD,!FRAUD'.",
            )
        if path.strip() == "-":
            raise UsageError(
                "a list cannot go to standard output (-).",
                hint="Give a file name, e.g. --list vip.csv:VIP.",
            )
        return cls(path, tags, not_tags)

    def named_in(self, book: TagBook) -> ListSpec:
        """The list with its tags in the tag book's spelling (an unknown tag is an
        error: :meth:`ordertags.tagbook.TagBook.tag_named`)."""
        return ListSpec(
            self.path,
            tuple(book.tag_named(t) for t in self.tags),
            tuple(book.tag_named(t) for t in self.not_tags),
        )


def _run(
    orders: Sequence[PathLike],
    tagbook: TagBook | PathLike,
    rules: PathLike | None,
    as_of: dt.date | None,
    read: ReadOptions,
    history: History | None = None,
    record: bool = False,
    region: str | None = None,
    streamed: bool = False,
    for_lists: bool = False,
    progress: Progress | None = None,
    scan: bool = False,
    side: SideWork | None = None,
) -> Annotated:
    book = tagbook if isinstance(tagbook, TagBook) else load_tagbook(tagbook)
    ruleset = load_rules(rules) if rules is not None else None
    for rule in ruleset.rules if ruleset is not None else ():
        check_patterns(rule.when.walk())  # what lint refuses, before anything is read
    given: list[Any] = [os.fspath(o) for o in orders]
    if streamed and history is None:
        # A big export is read in two passes: here the columns the run needs, the rest
        # a batch at a time while it is written (read_orders_lazily).
        given = [
            read_orders_lazily(
                o,
                prefetch=_prefetch(read, names=for_lists, rules=ruleset),
                encoding=read.encoding,
                delimiter=read.delimiter,
                profile=read.profile,
                mapping=read.mapping_path,
                scan=scan,
                side=side,
            )
            or o
            for o in given
        ]
        if progress is not None:
            # The first pass has read the files (the bar then follows the tagging).
            for o in given:
                if isinstance(o, OrderTable):
                    progress(os.path.getsize(o.source))
    return annotate_tables(
        given,
        tagbook=book,
        rules=ruleset,
        as_of=as_of,
        read=read,
        history=history,
        record=record,
        region=region,
        progress=progress,
        side=side,
    )


def _prefetch(read: ReadOptions, names: bool, rules: RuleSet | None = None) -> Any:
    """What to read of a big export on the first pass (:func:`read_orders_lazily`): the
    columns of the fields a run reads on every order (who the customer is, the total,
    the date, the order number where rows are grouped; with ``names``, what mailing
    lists show of a customer), and those the ``rules`` name. Any other column (line items,
    say) is read when first asked for, a pass over the file each."""
    named: list[str] = []
    written: list[str] = []
    if rules is not None:
        for rule in rules.rules:
            named += [c.field for c in rule.when.walk() if isinstance(c, FieldCondition)]
        written = rules.written_columns

    def pick(table: OrderTable) -> list[int]:
        fmap = map_profile(table.columns, table.profile, overrides=read.columns, file=table.source)
        # The currency too: customer spend is summed per currency; and net of refunds
        # (the refund column, or a status saying "refunded").
        fields = [*table.profile.customer, "email", "total", "currency", "date"]
        fields += ["refunds", "status"]
        fields += ["quantity", "price"]
        if names:  # what apply's lists show of each customer (reports.lists)
            fields += ["name", "first_name", "last_name", "marketing_consent"]
        if table.profile.grouped:
            fields.append("order_id")
        found = [i for f in fields for i in fmap.sources(f)]
        for name in named:
            found += fmap.sources(name) or [i for i in (fmap.find_column(name),) if i is not None]
        for name in written:  # the column each action writes in this export
            at, _ = fmap.action_column(name, field=name in VIRTUAL_FIELDS)
            found += [] if at is None else [at]
        lines = [*table.profile.total_lines, *table.profile.total_once]
        found += [i for n in lines if (i := fmap.find_column(n)) is not None]
        return found

    return pick


def _targets(orders: Sequence[PathLike], output: PathLike, output_format: str | None) -> list[str]:
    if len(orders) == 1:
        return [os.fspath(output)]
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"{folder} is a file; with several exports, --output is a folder.",
            hint="Give a folder (it is created if missing).",
        )
    names = [Path(o).name for o in orders]
    if len(set(names)) != len(names):
        raise UsageError(
            "two exports have the same file name, so their outputs would clash.",
            hint="Apply them in separate runs, or rename one.",
        )
    make_private_dir(folder)
    suffix = {"json": ".json", "ndjson": ".ndjson", "csv": ".csv", "xlsx": ".xlsx"}.get(
        output_format or ""
    )
    return [str(folder / (Path(n).stem + suffix if suffix else n)) for n in names]


def _check_call(
    *,
    tagbook: object = "",
    as_of: object = None,
    mode: object = None,
    wait: object = None,
) -> None:
    """The arguments a Python caller may get wrong, checked before anything is read or
    written: a :class:`UsageError` saying what is expected, never a bare TypeError or
    ValueError from deep inside (or, worse, a run that goes on)."""
    if not isinstance(tagbook, str | os.PathLike | TagBook):
        raise UsageError(
            f"tagbook must be a path or a loaded TagBook, not {type(tagbook).__name__}.",
            hint='Give the tag book\'s path, e.g. tagbook="tagbook.yaml".',
        )
    if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
        raise UsageError(
            f"as_of must be a datetime.date, not {type(as_of).__name__} {as_of!r}.",
            hint="Give e.g. as_of=datetime.date(2026, 1, 1) (or None for today).",
        )
    check_mode(mode)
    check_wait(wait)


def apply_files(
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    output: PathLike,
    rules: PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    output_format: str | None = None,
    dry_run: bool = False,
    workspace: Workspace | None = None,
    record: bool = True,
    region: str | None = None,
    output_encoding: str | None = None,
    profile_columns: str = "last",
    excel_safe: bool = False,
    lists: Sequence[ListSpec] = (),
    consent: bool = True,
    mode: int | None = None,
    wait: float | None = None,
    progress: Progress | None = None,
) -> tuple[Annotated, list[str] | list[DryRun]]:
    """Tag the orders of ``orders`` and write each export back annotated.

    >>> import datetime as dt
    >>> result, written = apply_files(["examples/orders.csv"], tagbook="tagbook.example.yaml",
    ...     rules="rules.example.yaml", output="annotated.csv",
    ...     as_of=dt.date(2026, 11, 26))
    >>> written
    ['annotated.csv']

    With one export, ``output`` is a file (``-``: standard output); with several, a folder
    that receives each under its own name. ``read`` says how to read the exports
    (:class:`ordertags.io.options.ReadOptions`); ``output_format``
    (csv, json, ndjson, xlsx) converts, else each export keeps its own. ``progress``
    follows the bytes read (:func:`ordertags.io.readers.read_orders`). Returns the result and
    the paths written; ``excel_safe`` makes cells a spreadsheet would run as a formula
    inert (:func:`ordertags.io.writers.write_table`). With ``dry_run``, writes nothing and
    returns, per output, a :class:`ordertags.reports.dryrun.DryRun` of what would change.

    With a ``workspace`` (:class:`ordertags.customers.workspace.Workspace`), customer conditions
    read its order history, and the run's orders are recorded in it (unless ``record``
    is false, or on a dry run).

    ``read.date_style`` (``day-first``, ``month-first``) says how numeric dates are
    written where the platform does not; CSV is written back in each export's encoding, or
    ``output_encoding``; ``profile_columns`` ``first`` puts the added columns right
    after the order number (default ``last``, which keeps re-imports safe).

    ``lists`` are mailing lists written from the same run (``--list``): each is what
    :func:`export_list` would write after this run (``consent`` as there), made from the
    customer totals the rules already worked out, so the exports are read once. Each
    list's :class:`ordertags.reports.lists.Selection` (its customers, and how many were
    left out and why) is in ``result.summary.lists``, by path.

    New files get ``mode`` (default 0600). A recording run holds the workspace (see
    :func:`ordertags.customers.workspace.run_lock`), waiting up to ``wait`` seconds for
    another.
    """
    _check_call(tagbook=tagbook, as_of=as_of, mode=mode, wait=wait)
    if dry_run and lists:
        raise UsageError(
            "a dry run writes nothing, so it cannot write lists.",
            hint="Leave out --list, or --dry-run.",
        )
    targets = _targets(orders, output, output_format)
    # The lists' tags are checked (and put in the tag book's spelling) before anything
    # is read or recorded; the run uses the same book.
    book = load_tagbook(tagbook)
    lists = [spec.named_in(book) for spec in lists]
    for spec in lists:
        if spec.path in targets or spec.path == os.fspath(output):
            raise UsageError(
                f"the list {spec.path} would overwrite the annotated output.",
                hint="Give the list its own file name.",
            )
    # A big export is read in two passes (the columns the rules need, then every column
    # a batch at a time while writing), so that memory stays bounded; the bytes written
    # are the same. Not on a dry run (it compares whole tables), not into stdout (a
    # second pass that fails could not be taken back), and not with a history (its
    # records read every column). Where the second pass finds rows the first did not
    # look at unreadable (bad UTF-8, say), the export is read whole, which tries its
    # other encodings or names the row.
    streamed = not dry_run and workspace is None and "-" not in targets and output_format != "xlsx"
    with SideWork() as side:  # the run's threads, for its side-by-side work
        try:
            return _apply_run(locals(), streamed=streamed, side=side)
        except NotStreamable:
            return _apply_run(locals(), streamed=False, side=side)


def _apply_run(
    given: dict[str, Any], *, streamed: bool, side: SideWork
) -> tuple[Annotated, list[Any]]:
    """The body of :func:`apply_files` (``given``: its arguments and targets)."""
    orders = given["orders"]
    tagbook = given["book"]
    rules = given["rules"]
    as_of = given["as_of"]
    read = given["read"]
    output_format = given["output_format"]
    dry_run = given["dry_run"]
    workspace = given["workspace"]
    record = given["record"]
    region = given["region"]
    output_encoding = given["output_encoding"]
    profile_columns = given["profile_columns"]
    excel_safe = given["excel_safe"]
    lists = given["lists"]
    consent = given["consent"]
    targets = given["targets"]
    wait = given["wait"]
    mode = given["mode"]
    progress = given["progress"]
    for target in [*targets, *(str(spec.path) for spec in lists)]:
        check_output_folder(target)  # before anything is recorded in the history
    recording = workspace is not None and record and not dry_run
    with run_lock(workspace if recording else None, wait):
        with workspace_history(workspace) as history, _recording(history, recording):
            result = _run(
                orders,
                tagbook,
                rules,
                as_of,
                read,
                history=history,
                record=record and not dry_run,
                region=region,
                streamed=streamed,
                for_lists=bool(lists),
                progress=progress,
                # Where the annotated file can be written by copying each record's
                # bytes (io.rawrows), find the records alongside the first pass.
                scan=bool(
                    copy_plan(
                        output_format,
                        output_encoding,
                        profile_first=profile_columns == "first",
                        excel_safe=excel_safe,
                    )
                ),
                side=side,
            )
            if recording and history is not None:  # the team screen's orders of the day
                record_applied(history, [t.source for t in result.tables], result.summary.as_of)
            # Every list is made (and its tags checked) before anything is put in place;
            # in a workspace, with the history's all-time figures (as export makes them).
            # Only the customers some list can select (each list needs one of its tags).
            any_tags = sorted({t for spec in lists for t in spec.tags})
            every = not all(spec.tags for spec in lists)

            def make_lists() -> list[tuple[ListSpec, Selection]]:
                rows = customers_of_run(result, history, any_tags=None if every else any_tags)
                return [
                    (
                        spec,
                        make_list(
                            result.tagbook,
                            rows,
                            ListFilter(tags=spec.tags, not_tags=spec.not_tags),
                            consent=consent,
                        ),
                    )
                    for spec in lists
                ]

            made: list[tuple[ListSpec, Selection]] = []
            pending: Future[list[tuple[ListSpec, Selection]]] | None = None
            if lists and history is None:
                # On a second thread while the annotated exports are written (the
                # kernels let both run); nothing is put in place until they are made,
                # so a list that fails leaves no output. (A history's connection
                # belongs to this thread: with one, they are made here.)
                pending = side.submit(make_lists)
            elif lists:
                made = make_lists()

        def settle() -> None:
            """Wait for the lists (raising what made them fail)."""
            nonlocal made, pending
            if pending is not None:
                made, pending = pending.result(), None

        if dry_run:
            return result, [
                compare(result, i, t, encoding=read.encoding, columns=read.columns)
                for i, t in enumerate(targets)
            ]
        if profile_columns not in ("first", "last"):
            raise UsageError(
                f'--profile-columns is "first" or "last", not "{profile_columns}".',
                hint="first: right after the order number; last: after the export's own columns.",
            )
        replaced = [0]
        # The annotated exports and the lists are put in place together: a list that
        # cannot be written (a full disk) leaves every output as it was.
        with Staged() as stage:
            for index, (table, target) in enumerate(zip(result.tables, targets, strict=True)):
                extra = result.output_columns(index)
                # In a spreadsheet the order number, then what the order needs, lead.
                ids = result.frame.maps[index].sources("order_id")
                lead = [table.columns[ids[0]]] if ids else []

                def write(fh: Any, t: Any = table, e: Any = extra, lead: list[str] = lead) -> None:
                    replaced[0] += write_table(
                        fh,
                        t,
                        e,
                        output_format=output_format,
                        encoding=output_encoding,
                        profile_first=profile_columns == "first",
                        excel_safe=excel_safe,
                        lead=[*lead, PROFILE_COLUMN],
                        colour_column=COLOUR_COLUMN,
                        side=side,
                    )

                write_output(target, write, mode=mode, before_commit=settle, stage=stage)
            settle()
            result.summary.replaced = replaced[0]
            for spec, chosen in made:
                data = render_list(chosen.rows, get_preset(None))
                write_output(spec.path, lambda fh, d=data: fh.write(d), mode=mode, stage=stage)
                result.summary.lists[str(spec.path)] = chosen
            stage.commit()
        return result, [t for t in targets if t != "-"] + [str(s.path) for s, _ in made]


def write_list_xlsx(
    rows: CustomerRows,
    preset: Any,
    book: TagBook,
    output: PathLike,
    segments: Sequence[str] | None = None,
    stage: Staged | None = None,
) -> None:
    """Write a mailing list in ``preset``'s columns as a spreadsheet (see
    :func:`ordertags.io.xlsx.write_xlsx`), each customer's row in the colour of their
    highest priority tag; cells are text, never formulas."""
    # Lazy: XlsxWriter takes tens of ms to import; only a spreadsheet needs it.
    from ordertags.io.xlsx import write_xlsx

    if preset.lines:
        raise UsageError(
            f"the {preset.name} preset is one address a line, not a spreadsheet.",
            hint="Leave out --output-format xlsx, or choose another --preset.",
        )
    ctx: dict[str, Any] = {"main": rows.main_currency(), "segments": segments}
    values = [preset.row(rows, i, ctx) for i in range(len(rows))]
    header = list(preset.header)
    cols = [pa.array([str(v[j]) for v in values], pa.string()) for j in range(len(header))]
    colours = []
    for tags in rows.tags:
        known = book.rank(t for t in tags if t in book.tags)
        colours.append(book.tags[known[0]].colour if known else "")
    names = [*header, "Tag Colour"]
    write_output(
        output,
        lambda fh: write_xlsx(
            fh,
            names,
            [*cols, pa.array(colours, pa.string())],
            colour_column="Tag Colour",
            sheet="Customers",
        ),
        stage=stage,
    )


def export_list(
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    output: PathLike,
    tags: Sequence[str] = (),
    not_tags: Sequence[str] = (),
    rules: PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    workspace: Workspace | None = None,
    region: str | None = None,
    consent: bool = True,
    preset: str | None = None,
    excel: bool | None = None,
    list_filter: ListFilter | None = None,
    suppress: Sequence[PathLike] = (),
    suppression_out: PathLike | None = None,
    mode: int | None = None,
    wait: float | None = None,
    output_format: str | None = None,
    progress: Progress | None = None,
) -> tuple[Annotated | None, Selection]:
    """Write the mailing list of the customers that ``list_filter`` asks for (or those
    with any of ``tags`` and none of ``not_tags``), in the columns of ``preset`` (see
    :data:`ordertags.reports.lists.PRESETS`), leaving out addresses no list may carry
    (no email, invalid, relay, suppressed by the tag book or a ``suppress`` file), customers
    with a ``no_marketing`` tag, and, unless ``consent`` is False, customers who did not
    accept marketing where any export or the history records it. With ``suppression_out``,
    writes the addresses left out and why. New files get ``mode`` (default 0600).
    ``output_format`` ``xlsx`` writes a spreadsheet in the preset's columns instead
    (:func:`write_list_xlsx`).

    With a ``workspace``, the run's orders are recorded in its history as ``apply``
    records them, and each listed customer's orders, spend and marketing answer are
    all-time figures from the history, across channels. With a workspace and no
    ``orders``, every customer of the history is a candidate (rule tags as the last
    ``apply`` left them); the result is then None.

    >>> result, chosen = export_list(["orders.csv"], tagbook="tagbook.yaml", output="vip.csv",
    ...     tags=["VIP"], preset="mailchimp")
    >>> chosen.count, chosen.left_out["no_consent"]
    (1, 0)
    """
    flt = list_filter or ListFilter(tags=tuple(tags), not_tags=tuple(not_tags))
    if flt.everyone and (flt.tags or flt.segments):
        raise UsageError(
            "--all lists every customer: it does not go with --tag or --segment.",
            hint="Leave out --all, or the tags and segments (--not-tag and the other "
            "filters narrow --all).",
        )
    if not flt.tags and not flt.segments and not flt.everyone:
        raise UsageError(
            "say whom to list: a tag with --tag, a segment with --segment, or --all for "
            "every customer.",
            hint="For example: --tag VIP, --segment champions, or --all --min-orders 2.",
        )
    if not orders and workspace is None:
        raise UsageError(
            "give the exports to make the list from.",
            hint="Or, in a workspace (--workspace DIR), give none to list the customers of "
            "its history.",
        )
    _check_call(tagbook=tagbook, as_of=as_of, mode=mode, wait=wait)
    chosen_preset = get_preset(preset)
    # The tags in the tag book's spelling, checked before anything is read or recorded.
    book = load_tagbook(tagbook)
    flt = flt.named_in(book)
    for target in (output, suppression_out):
        if target is not None:
            check_output_folder(target)  # before anything is recorded in the history
    result: Annotated | None = None
    tags_as_of: str | None = None
    # Recording the run's orders, it holds the workspace as apply does.
    with (
        run_lock(workspace if orders else None, wait),
        workspace_history(workspace) as history,
        _recording(history, bool(orders)),
    ):
        if not orders:
            assert history is not None
            when = as_of or dt.date.today()
            rows, tags_as_of = customers_of_history(history, book, when)
        else:
            result = _run(
                orders,
                book,
                rules,
                as_of,
                read,
                history=history,
                record=history is not None,
                region=region,
                progress=progress,
            )
            when = result.frame.as_of
            # Segments rank every customer; without them, only those with a wanted tag.
            ranked_all = bool(flt.segments) or chosen_preset.name == "generic"
            only = None if ranked_all or not flt.tags else flt.tags
            rows = customers_of_run(result, history, any_tags=only)
    if flt.min_spend is not None:
        # --min-spend compares spend as the rules do: in the rule file's currency, with
        # its rates (the run's; listing the history alone, the rule file's).
        if result is not None:
            currency, rates = result.frame.money.currency, result.frame.money.rates
        elif rules is not None:
            ruleset = load_rules(rules)
            currency, rates = ruleset.currency, ruleset.rates
        else:
            currency, rates = None, {}
        flt = dataclasses.replace(flt, spend_currency=currency, rates=rates)
    segments = None
    if flt.segments or chosen_preset.name == "generic":
        method, cutoffs = _segment_config(rules)
        segments = segment_customers(rows, when, method=method, cutoffs=cutoffs).groups
    chosen = make_list(book, rows, flt, consent=consent, segments=segments, suppress=suppress)
    chosen.tags_as_of = tags_as_of
    listed_segments = None
    if segments is not None:
        by_key = dict(zip(rows.key, segments, strict=True))
        listed_segments = [by_key[k] for k in chosen.rows.key]
    if output_format not in (None, "csv", "xlsx"):
        raise UsageError(f'a mailing list is written as csv or xlsx, not "{output_format}".')
    with Staged() as stage:  # the list and the suppression file: both or neither
        if output_format == "xlsx":
            write_list_xlsx(
                chosen.rows, chosen_preset, book, output, segments=listed_segments, stage=stage
            )
        else:
            data = render_list(chosen.rows, chosen_preset, excel=excel, segments=listed_segments)
            write_output(output, lambda fh: fh.write(data), mode=mode, stage=stage)
        if suppression_out is not None:
            gone = render_suppression(chosen.suppressed_out)
            write_output(suppression_out, lambda fh: fh.write(gone), mode=mode, stage=stage)
        stage.commit()
    return result, chosen


def make_list(
    book: TagBook,
    rows: CustomerRows,
    flt: ListFilter,
    *,
    consent: bool = True,
    segments: Sequence[str] | None = None,
    suppress: Sequence[PathLike] = (),
) -> Selection:
    """The customers of ``rows`` that ``flt`` asks for, without those no list may carry:
    the tag ``book``'s suppressed addresses and those of the ``suppress`` files, its
    ``no_marketing`` tags, and (unless ``consent`` is False) customers who did not accept
    marketing. Every tag ``flt`` names must be in the tag book (in any case)."""
    flt = flt.named_in(book)
    suppressed = {s.key for s in book.suppressed}
    for path in suppress:
        suppressed |= read_suppression_file(path)
    return select(
        rows,
        flt,
        suppressed=suppressed,
        no_marketing=book.no_marketing_tags(),
        consent=consent,
        segments=segments,
    )


def _segment_config(rules: PathLike | None) -> tuple[str, Any]:
    """RFM method and fixed cut-offs from the rule file's ``segments:`` (defaults without)."""
    if rules is None:
        return "quantiles", None
    ruleset = load_rules(rules)
    return ruleset.segment_method, Cutoffs.of(ruleset.segment_cutoffs)


def segments_report(
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    rules: PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    workspace: Workspace | None = None,
    region: str | None = None,
    by: str = "group",
) -> SegmentTable | list[TagLine]:
    """The RFM groups of the run's customers (all-time figures from the history in a
    workspace; with a workspace and no ``orders``, every customer of the history) as a
    :class:`ordertags.reports.segments.SegmentTable`; with ``by="tag"``, per tag the
    customers, orders and spend of the last 30, 90 and 365 days.

    >>> table = segments_report(["orders.csv"], tagbook="tagbook.yaml")
    >>> [(line.name, line.customers) for line in table.lines][:1]
    [('Champions', 0)]
    """
    if by not in ("group", "tag"):
        raise UsageError(f'cannot group segments by "{by}".', hint="Use --by group or --by tag.")
    if not orders and workspace is None:
        raise UsageError(
            "give the exports to work segments out from.",
            hint="Or, in a workspace (--workspace DIR), give none to use its history.",
        )
    if not orders and by == "tag":
        raise UsageError(
            "--by tag needs the exports whose orders carry the tags.",
            hint="Give the exports (in a workspace, their customers' history is used too).",
        )
    with workspace_history(workspace) as history:
        if not orders:
            assert history is not None
            when = as_of or dt.date.today()
            rows, _ = customers_of_history(history, load_tagbook(tagbook), when)
        else:
            result = _run(
                orders,
                tagbook,
                rules,
                as_of,
                read,
                history=history,
                region=region,
            )
            if by == "tag":
                return tag_figures(result)
            when = result.frame.as_of
            rows = customers_of_run(result, history)
    method, cutoffs = _segment_config(rules)
    scores = segment_customers(rows, when, method=method, cutoffs=cutoffs)
    return segment_table(rows, scores)


def ingest_files(
    orders: Sequence[PathLike],
    *,
    workspace: Workspace,
    read: ReadOptions = DEFAULT,
    region: str | None = None,
    wait: float | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Record the orders of ``orders`` in the workspace's history, one transaction per
    export; returns an :class:`ordertags.customers.history.IngestReport`. Ingesting an export
    again changes nothing; a changed order is updated. The run holds the workspace
    (waiting up to ``wait`` seconds for another run, as ``apply`` does).

    >>> from ordertags.customers.workspace import find_workspace
    >>> ingest_files(["orders_export.csv"], workspace=find_workspace("shop"))
    IngestReport(files=['orders_export.csv'], read=3, new=3, updated=0, unchanged=0, ...)
    """
    report = IngestReport()
    with run_lock(workspace, wait), workspace_history(workspace) as history:
        assert history is not None
        code = check_region(region or history.region)
        book = load_tagbook(workspace.tagbook) if workspace.tagbook.exists() else None
        history.sync_links(resolve_links(book, code))
        for path in orders:
            # One export at a time, in slices of whole orders: memory stays that of a
            # slice, however large the export; one transaction for the whole export.
            (table,) = read_exports([path], read, progress)
            part_report = IngestReport(files=[table.source])
            with history.transaction():
                for part in _slices(table, read):
                    frame = Frame.of([part], as_of=dt.date.today(), read=read, region=code)
                    frame.require_field("email")
                    ids = run_identities(frame, code)
                    got = history.record(order_batches(frame, ids))
                    got.files = []
                    part_report += got
            report += part_report
    return report


def _recording(
    history: History | None, recording: bool
) -> contextlib.AbstractContextManager[object]:
    """Everything a recording run writes to the history (its orders, its customers'
    tags, the tag log, the exports it read) in one transaction: a command reading the
    history meanwhile (a cron ``export``) sees the run's whole record or none of it, and
    a run that fails or is killed leaves nothing half-recorded."""
    if history is None or not recording:
        return contextlib.nullcontext()
    return history.transaction()


#: Rows of one export ingested at a time (each slice ends at an order's last row).
INGEST_SLICE = 500_000


def _slices(table: OrderTable, read: ReadOptions, rows: int | None = None) -> Iterator[OrderTable]:
    """The export in slices of about ``rows`` rows, cut between orders (a CSV export;
    others whole). Row numbers in messages stay those of the file."""
    n = table.num_rows
    rows = rows or INGEST_SLICE
    if n <= rows or table.kind != "csv":
        yield table
        return
    frame = Frame.of([table], as_of=dt.date.today(), read=read)
    cuts = np.arange(rows, n, rows)
    if frame.has_field("order_id"):
        ids = frame.text(field="order_id").combine_chunks()
        change = (
            np.flatnonzero(
                np.asarray(
                    pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False),
                    dtype=bool,
                )
            )
            + 1
        )
        at = np.searchsorted(change, cuts)
        cuts = np.unique(np.where(at < len(change), change[np.minimum(at, len(change) - 1)], n))
    bounds = [0, *[int(c) for c in cuts if 0 < c < n], n]
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        skip = table.skip_rows[start:end] if table.skip_rows is not None else None
        yield dataclasses.replace(
            table,
            table=table.table.slice(start, end - start),
            header_row=table.header_row + start,
            skip_rows=skip,
        )


def inspect_export(
    path: PathLike, *, read: ReadOptions = DEFAULT, rows: int = 5, region: str | None = None
) -> Inspection:
    """What ordertags sees in one export: its platform, the column of each field, the
    orders, customers, dates and totals, the first orders as parsed, and the values
    that do not parse (see :mod:`ordertags.reports.inspection`).

    >>> report = inspect_export("examples/orders.csv")
    >>> report.profile.name, report.orders
    ('generic', 16)
    """
    return inspect_orders(path, read=read, rows=rows, region=region)


def explain_files(
    order_id: str,
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    rules: PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    workspace: Workspace | None = None,
    region: str | None = None,
) -> Explanation:
    """Why order ``order_id`` of ``orders`` gets its tags: each rule with its
    conditions' values and results, the tag-book entries that matched and the final
    tags (:func:`explanation_text` renders it). With a ``workspace``, customer
    conditions read its history, as :func:`apply_files` does (nothing is recorded).

    >>> ex = explain_files("200002", ["examples/orders.csv"], tagbook="tagbook.example.yaml",
    ...                    rules="rules.example.yaml", as_of=dt.date(2026, 11, 26))
    >>> ex.tags
    'VIP; BIG_SPENDER; REGULAR; HIGH_VALUE'
    """
    _check_call(tagbook=tagbook, as_of=as_of)
    book = load_tagbook(tagbook)
    ruleset = load_rules(rules) if rules is not None else None
    with workspace_history(workspace) as history:
        return explain_order(
            order_id,
            [os.fspath(o) for o in orders],
            tagbook=book,
            rules=ruleset,
            as_of=as_of,
            read=read,
            history=history,
            region=region,
        )


def explanation_text(explanation: Explanation) -> str:
    """An :class:`Explanation` as ``ordertags explain`` prints it."""
    return render_explanation(explanation)


def lint_files(
    rules: PathLike | None,
    tagbook: PathLike | None,
    *,
    orders: Sequence[PathLike] = (),
    as_of: dt.date | None = None,
) -> LintReport:
    """Check a rule file and a tag book (and, given exports, the fields rules use):
    unknown tags and fields, rules that never match or are shadowed, bad list files.

    >>> report = lint_files("rules.example.yaml", "tagbook.example.yaml")
    >>> report.errors
    []
    """
    return lint(
        None if rules is None else os.fspath(rules),
        None if tagbook is None else os.fspath(tagbook),
        orders=[os.fspath(o) for o in orders],
        as_of=as_of,
    )


def suspects_in_files(
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    region: str | None = None,
    tag: str | None = None,
    limit: int | None = 50,
    max_sharing: int = 5,
) -> list[Suspect]:
    """Pairs of customers of ``orders`` that may be one person (the same address, or
    the same phone under another surname), highest-priority tags first.

    >>> suspects_in_files(["examples/orders.csv"], tagbook="tagbook.example.yaml")[:0]
    []
    """
    when = as_of or dt.date.today()
    book = load_tagbook(tagbook)
    frame = Frame.of(read_exports([os.fspath(o) for o in orders], read), as_of=when, read=read)
    frame.require_field("email")
    return suspects_in_frame(
        frame,
        book,
        as_of=when,
        tag=tag,
        limit=limit,
        max_sharing=max_sharing,
        region=check_region(region),
    )


def annotate(
    orders: OrderSource | Sequence[OrderSource],
    *,
    tagbook: TagBook | PathLike,
    rules: RuleSet | PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    workspace: Workspace | None = None,
    region: str | None = None,
) -> Annotated:
    """Tag every order of ``orders``: a path to an export, a pandas DataFrame, anything
    with ``__arrow_c_stream__`` (a pyarrow Table, a polars DataFrame), or a list of
    these. ``tagbook`` and ``rules`` are loaded objects or paths. With a ``workspace``,
    customer conditions read its history (nothing is recorded). The result gives each
    input back with its tag columns: ``result.to_pandas(i)``, ``result.to_arrow(i)``.
    Anything else as ``orders`` raises :class:`ordertags.errors.InputError`.

    >>> import pyarrow as pa
    >>> orders = pa.table({"Order Id": ["1", "2"],
    ...                    "Email": ["lena.nguyen@example.org", "new@example.com"],
    ...                    "Total": [120.0, 15.5]})
    >>> result = annotate(orders, tagbook="tagbook.example.yaml")
    >>> result.to_arrow().column("Customer Tags").to_pylist()
    ['VIP', '']
    """
    _check_call(tagbook=tagbook, as_of=as_of)
    book = tagbook if isinstance(tagbook, TagBook) else load_tagbook(tagbook)
    ruleset = rules if isinstance(rules, RuleSet) or rules is None else load_rules(rules)
    items: list[OrderSource] = list(orders) if isinstance(orders, list | tuple) else [orders]
    with workspace_history(workspace) as history:
        return annotate_tables(
            items,
            tagbook=book,
            rules=ruleset,
            as_of=as_of,
            read=read,
            history=history,
            region=region,
        )


def mailing_list(
    orders: Annotated | OrderSource | Sequence[OrderSource],
    *,
    tags: Sequence[str] = (),
    not_tags: Sequence[str] = (),
    tagbook: TagBook | PathLike | None = None,
    rules: RuleSet | PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    consent: bool = True,
    list_filter: ListFilter | None = None,
) -> Selection:
    """The mailing list as ``ordertags export`` makes it (see
    :func:`ordertags.reports.lists.mailing_list`): the customers with any of ``tags``
    and none of ``not_tags`` (or those ``list_filter`` asks for), one row each, from the
    result of :func:`annotate`, or from orders as :func:`annotate` takes them (then
    ``tagbook`` is needed). ``.to_pandas()`` and ``.to_arrow()`` give the list.

    >>> import pyarrow as pa
    >>> orders = pa.table({"Order Id": ["1"], "Email": ["lena.nguyen@example.org"], "Total": ["9"]})
    >>> ml = mailing_list(orders, tagbook="tagbook.example.yaml", tags=["VIP"])
    >>> ml.to_arrow().column("Email Address").to_pylist()
    ['lena.nguyen@example.org']
    """
    if isinstance(orders, Annotated):
        result = orders
    else:
        if tagbook is None:
            raise UsageError(
                "a mailing list from orders needs the tag book.",
                hint="Pass tagbook=..., or the result of annotate().",
            )
        result = annotate(orders, tagbook=tagbook, rules=rules, as_of=as_of, read=read)
    return run_mailing_list(
        result, tags=tags, not_tags=not_tags, consent=consent, list_filter=list_filter
    )


def view_files(
    orders: Sequence[PathLike],
    *,
    tagbook: PathLike,
    rules: PathLike | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    tags: Sequence[str] = (),
    only_tagged: bool = False,
    show_columns: Sequence[str] = (),
    workspace: Workspace | None = None,
    region: str | None = None,
    progress: Progress | None = None,
) -> OrdersView:
    """Tag the orders and return what each needs, for ``show`` and ``report``: an
    :class:`ordertags.reports.views.OrdersView`. With a ``workspace``, its history is read
    (a customer merged across channels shows all their tags and notes); nothing is
    recorded.

    >>> view = view_files(["orders.csv"], tagbook="tagbook.yaml")
    >>> view.counts_line()
    '16 orders, 3 tagged: CLAIMED-NON-RECEIPT 1, VIP 2'
    """
    _check_call(tagbook=tagbook, as_of=as_of)
    with workspace_history(workspace) as history:
        result = _run(
            orders,
            tagbook,
            rules,
            as_of,
            read,
            history=history,
            record=False,
            region=region,
            progress=progress,
        )
    return order_views(result, tags=tags, only_tagged=only_tagged, columns=show_columns)


def write_report(view: OrdersView, output: PathLike, *, title: str = "Orders to pack") -> None:
    """Write ``view`` as the self-contained web page of ``ordertags report`` into
    ``output`` (``-``: standard output), atomically."""
    page = render_page(view, title=title).encode("utf-8")
    write_output(output, lambda fh: fh.write(page))


def audit_log(
    workspace: Workspace, *, customer: str | None = None, since: dt.date | None = None
) -> list[AuditEntry]:
    """The workspace's audit log, oldest first: every change made from the team screen
    or by ``ordertags users`` (of the customer ``customer`` names, from ``since`` on).

    >>> from ordertags.customers.accounts import add_user
    >>> _ = add_user(Workspace("shop"), "sam", "manager", "a long passphrase", by="owner")
    >>> [(entry.who, entry.action) for entry in audit_log(Workspace("shop"))]
    [('owner', 'add user')]
    """
    with workspace_history(workspace) as history:
        assert history is not None
        return audit_entries(history, customer=customer, since=since)
