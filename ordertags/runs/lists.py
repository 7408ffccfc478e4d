"""``export``: a mailing list from a run (or from a workspace's history), and the
pieces ``apply --list`` shares with it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from ordertags.base.files import Staged, check_output_folder
from ordertags.customers.workspace import run_lock, workspace_history
from ordertags.engine.pipeline import Annotated
from ordertags.errors import UsageError, param
from ordertags.io.writers import write_output
from ordertags.reports.lists import (
    CustomerRows,
    ListFilter,
    Selection,
    customers_of_history,
    customers_of_run,
    get_preset,
    read_suppression_file,
    render_list,
    render_suppression,
    select,
)
from ordertags.reports.segments import segment_customers
from ordertags.rules import load_rules
from ordertags.runs.common import recording_run, segment_config, tag_orders
from ordertags.runs.requests import LIST_FORMATS, ExportRequest, ExportResult, PathLike
from ordertags.tagbook import TagBook, load_tagbook


def export_list(request: ExportRequest) -> ExportResult:
    """Write the mailing list ``request`` asks for (see
    :class:`ordertags.runs.requests.ExportRequest`). With a workspace, the run's orders
    are recorded in its history as ``apply`` records them, and each listed customer's
    orders, spend and marketing answer are all-time figures from the history, across
    channels; with a workspace and no exports, every customer of the history is a
    candidate (rule tags as the last ``apply`` left them).

    >>> from ordertags.runs import Inputs
    >>> from ordertags.reports.lists import ListFilter
    >>> done = export_list(ExportRequest(Inputs(["orders.csv"], tagbook="tagbook.yaml"),
    ...     output="vip.csv", list_filter=ListFilter(tags=("VIP",)), preset="mailchimp"))
    >>> done.selection.count, done.selection.left_out["no_consent"]
    (1, 0)
    """
    inputs, flt = request.inputs, request.list_filter
    if flt.everyone and (flt.tags or flt.segments):
        raise UsageError(
            f"{param('everyone')} lists every customer: it does not go with "
            f"{param('tags')} or {param('segments')}.",
            hint=f"Leave out {param('everyone')}, or the tags and segments "
            f"({param('not_tags')} and the other filters narrow {param('everyone')}).",
        )
    if not flt.tags and not flt.segments and not flt.everyone:
        raise UsageError(
            f"say whom to list: a tag with {param('tags')}, a segment with "
            f"{param('segments')}, or {param('everyone')} for every customer.",
            hint=f"For example: {param('tags')} VIP, {param('segments')} champions, or "
            f"{param('everyone')} {param('min_orders')} 2.",
        )
    if not inputs.orders and inputs.workspace is None:
        raise UsageError(
            "give the exports to make the list from.",
            hint=f"Or, in a workspace ({param('workspace')} DIR), give none to list the "
            "customers of its history.",
        )
    if request.output_format not in (None, *LIST_FORMATS):
        raise UsageError(
            f'a mailing list is written as csv or xlsx, not "{request.output_format}".'
        )
    preset = get_preset(request.preset)
    # The tags in the tag book's spelling, checked before anything is read or recorded.
    given = inputs.tagbook
    book = given if isinstance(given, TagBook) else load_tagbook(given)
    flt = flt.named_in(book)
    for target in (request.output, request.suppression_out):
        if target is not None:
            check_output_folder(target)  # before anything is recorded in the history
    result: Annotated | None = None
    tags_as_of: str | None = None
    # Recording the run's orders, it holds the workspace as apply does.
    with (
        run_lock(inputs.workspace if inputs.orders else None, request.wait),
        workspace_history(inputs.workspace) as history,
        recording_run(history, bool(inputs.orders)),
    ):
        if not inputs.orders:
            assert history is not None
            when = inputs.as_of or dt.date.today()
            rows, tags_as_of = customers_of_history(history, book, when)
        else:
            result = tag_orders(
                dataclasses.replace(inputs, tagbook=book),
                history=history,
                record=history is not None,
            )
            when = result.frame.as_of
            # Segments rank every customer; without them, only those with a wanted tag.
            ranked_all = bool(flt.segments) or preset.name == "generic"
            only = None if ranked_all or not flt.tags else flt.tags
            rows = customers_of_run(result, history, any_tags=only)
    if flt.min_spend is not None:
        # --min-spend compares spend as the rules do: in the rule file's currency, with
        # its rates (the run's; listing the history alone, the rule file's).
        if result is not None:
            currency, rates = result.frame.money.currency, result.frame.money.rates
        elif inputs.rules is not None:
            ruleset = load_rules(inputs.rules)
            currency, rates = ruleset.currency, ruleset.rates
        else:
            currency, rates = None, {}
        flt = dataclasses.replace(flt, spend_currency=currency, rates=rates)
    segments = None
    if flt.segments or preset.name == "generic":
        method, cutoffs = segment_config(inputs.rules)
        segments = segment_customers(rows, when, method=method, cutoffs=cutoffs).groups
    chosen = make_list(
        book, rows, flt, consent=request.consent, segments=segments, suppress=request.suppress
    )
    listed_segments = None
    if segments is not None:
        by_key = dict(zip(rows.key, segments, strict=True))
        listed_segments = [by_key[k] for k in chosen.rows.key]
    with Staged() as stage:  # the list and the suppression file: both or neither
        if request.output_format == "xlsx":
            write_list_xlsx(
                chosen.rows, preset, book, request.output, segments=listed_segments, stage=stage
            )
        else:
            data = render_list(chosen.rows, preset, excel=request.excel, segments=listed_segments)
            write_output(request.output, lambda fh: fh.write(data), mode=request.mode, stage=stage)
        if request.suppression_out is not None:
            gone = render_suppression(chosen.suppressed_out)
            write_output(
                request.suppression_out, lambda fh: fh.write(gone), mode=request.mode, stage=stage
            )
        stage.commit()
    return ExportResult(result, chosen, tags_as_of)


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
    highest priority tag; cells are text, never formulas. With ``stage``, the file is
    put in place with the run's other outputs (:class:`ordertags.base.files.Staged`)."""
    # Lazy: XlsxWriter takes tens of ms to import; only a spreadsheet needs it.
    from ordertags.io.xlsx import write_xlsx

    if preset.lines:
        raise UsageError(
            f"the {preset.name} preset is one address a line, not a spreadsheet.",
            hint=f"Leave out {param('output_format')} xlsx, or choose another {param('preset')}.",
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
