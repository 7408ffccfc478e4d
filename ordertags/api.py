"""The Python API for people: a few verbs on order exports (paths, pandas DataFrames,
Arrow tables) with typed results.

>>> import datetime as dt
>>> result = annotate("examples/orders.csv", tagbook="tagbook.example.yaml",
...     rules="rules.example.yaml", as_of=dt.date(2026, 11, 26))
>>> result.to_arrow().num_rows
16

:func:`annotate` and :func:`mailing_list` work in memory; the ``*_files`` verbs (and
:func:`export_list`, :func:`segments_report`) do what the command of the same name
does, on files. Each of these builds the typed request of a run in
:mod:`ordertags.runs` (where the command line's runs live) and calls it; call the runs
directly for their typed results (e.g. :func:`ordertags.runs.apply_orders` gives each
``--list``'s selection).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from ordertags.customers.history import IngestReport
from ordertags.customers.identity import Suspect
from ordertags.customers.migration import MigrateReport, migrate_workspace
from ordertags.customers.workspace import Workspace, workspace_history
from ordertags.engine.pipeline import Annotated
from ordertags.engine.pipeline import annotate as annotate_tables
from ordertags.errors import UsageError
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.readers import OrderSource
from ordertags.reports.dryrun import DryRun
from ordertags.reports.explain import Explanation
from ordertags.reports.explain import render as render_explanation
from ordertags.reports.inspection import Inspection, inspect_orders
from ordertags.reports.lint import LintReport, lint
from ordertags.reports.lists import ListFilter, Selection
from ordertags.reports.lists import mailing_list as run_mailing_list
from ordertags.reports.segments import SegmentTable, TagLine
from ordertags.reports.views import OrdersView
from ordertags.reports.watch import (
    Alert,
    new_alerts,
    post_alerts,
    untold_alerts,
    watch_alerts,
    webhook_settings,
)
from ordertags.rules import RuleSet, load_rules
from ordertags.runs import (
    ApplyRequest,
    ExportRequest,
    IngestRequest,
    Inputs,
    ListSpec,
    PathLike,
    Progress,
    SuspectsRequest,
    ViewRequest,
    WriteOptions,
    apply_orders,
    check_arguments,
    explain,
    ingest,
    segment_report,
    suspects,
    view_orders,
    write_report,
)
from ordertags.runs import export_list as run_export
from ordertags.tagbook import TagBook, load_tagbook

__all__ = [
    "MigrateReport",
    "migrate_workspace",
    "Annotated",
    "Explanation",
    "Inspection",
    "LintReport",
    "ListFilter",
    "ListSpec",
    "OrderSource",
    "OrdersView",
    "PathLike",
    "Progress",
    "ReadOptions",
    "SegmentTable",
    "Selection",
    "TagLine",
    "annotate",
    "apply_files",
    "explain_files",
    "explanation_text",
    "export_list",
    "ingest_files",
    "inspect_export",
    "lint_files",
    "mailing_list",
    "segments_report",
    "suspects_in_files",
    "view_files",
    "write_report",
    "Alert",
    "new_alerts",
    "post_alerts",
    "untold_alerts",
    "watch_alerts",
    "webhook_settings",
]


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
    check_arguments(tagbook=tagbook, as_of=as_of)
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
    """Tag the orders of ``orders`` and write each export back annotated, as
    ``ordertags apply`` does (the run: :func:`ordertags.runs.apply_orders`).

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
    customer totals the rules already worked out, so the exports are read once. Their
    paths follow the exports' in the paths written; each list's
    :class:`ordertags.reports.lists.Selection` (its customers, and how many were left out
    and why) is in the result of :func:`ordertags.runs.apply_orders` (``lists``, by path).

    New files get ``mode`` (default 0600). A recording run holds the workspace (see
    :func:`ordertags.customers.workspace.run_lock`), waiting up to ``wait`` seconds for
    another.
    """
    done = apply_orders(
        ApplyRequest(
            Inputs(orders, tagbook, rules, as_of, read, workspace, region, progress),
            output=output,
            write=WriteOptions(output_format, output_encoding, profile_columns, excel_safe, mode),
            dry_run=dry_run,
            record=record,
            lists=lists,
            consent=consent,
            wait=wait,
        )
    )
    return done.run, done.dry_runs if dry_run else done.written


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
    (the run: :func:`ordertags.runs.export_list`).

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
    done = run_export(
        ExportRequest(
            Inputs(orders, tagbook, rules, as_of, read, workspace, region, progress),
            output=output,
            list_filter=list_filter or ListFilter(tags=tuple(tags), not_tags=tuple(not_tags)),
            preset=preset,
            excel=excel,
            output_format=output_format,
            suppress=suppress,
            suppression_out=suppression_out,
            consent=consent,
            mode=mode,
            wait=wait,
        )
    )
    return done.run, done.selection


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
    inputs = Inputs(orders, tagbook, rules, as_of, read, workspace, region)
    return segment_report(inputs, by=by)


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
    return ingest(IngestRequest(orders, workspace, read, region, wait, progress))


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
    return explain(order_id, Inputs(orders, tagbook, rules, as_of, read, workspace, region))


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
    inputs = Inputs(orders, tagbook, None, as_of, read, None, region)
    return suspects(SuspectsRequest(inputs, tag=tag, limit=limit, max_sharing=max_sharing))


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
    inputs = Inputs(orders, tagbook, rules, as_of, read, workspace, region, progress)
    return view_orders(ViewRequest(inputs, tags, only_tagged, show_columns))
