"""``apply``: tag every order and write each export back annotated (with mailing lists
made from the same run)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ordertags.base.files import Staged, check_output_folder, make_private_dir
from ordertags.base.sidework import SideWork
from ordertags.customers.applied import record_applied
from ordertags.customers.workspace import run_lock, workspace_history
from ordertags.engine.pipeline import Annotated
from ordertags.engine.tagtext import COLOUR_COLUMN, PROFILE_COLUMN
from ordertags.errors import UsageError, param
from ordertags.io.readers import NotStreamable
from ordertags.io.writers import copy_plan, write_output, write_table
from ordertags.reports.dryrun import compare
from ordertags.reports.lists import ListFilter, Selection, customers_of_run, get_preset, render_list
from ordertags.runs.common import recording_run, tag_orders
from ordertags.runs.lists import make_list
from ordertags.runs.requests import (
    OUTPUT_FORMATS,
    PROFILE_PLACES,
    ApplyRequest,
    ApplyResult,
    ListSpec,
    PathLike,
)
from ordertags.tagbook import TagBook, load_tagbook


def apply_orders(request: ApplyRequest) -> ApplyResult:
    """Tag the orders of ``request.inputs`` and write each export back annotated (see
    :class:`ordertags.runs.requests.ApplyRequest`).

    >>> import datetime as dt
    >>> from ordertags.runs import Inputs
    >>> done = apply_orders(ApplyRequest(Inputs(["examples/orders.csv"],
    ...     tagbook="tagbook.example.yaml", rules="rules.example.yaml",
    ...     as_of=dt.date(2026, 11, 26)), output="annotated.csv"))
    >>> done.written
    ['annotated.csv']
    """
    write = request.write
    if request.dry_run and request.lists:
        raise UsageError(
            "a dry run writes nothing, so it cannot write lists.",
            hint=f"Leave out {param('lists')}, or {param('dry_run')}.",
        )
    if write.output_format not in (None, *OUTPUT_FORMATS):
        raise UsageError(
            f"annotated exports are written as {', '.join(OUTPUT_FORMATS)}, "
            f'not "{write.output_format}".'
        )
    if write.profile_columns not in PROFILE_PLACES:
        raise UsageError(
            f'{param("profile_columns")} is "first" or "last", not "{write.profile_columns}".',
            hint="first: right after the order number; last: after the export's own columns.",
        )
    targets = _targets(request.inputs.orders, request.output, write.output_format)
    # The lists' tags are checked (and put in the tag book's spelling) before anything
    # is read or recorded; the run uses the same book.
    given = request.inputs.tagbook
    book = given if isinstance(given, TagBook) else load_tagbook(given)
    lists = [spec.named_in(book) for spec in request.lists]
    for spec in lists:
        if spec.path in targets or spec.path == os.fspath(request.output):
            raise UsageError(
                f"the list {spec.path} would overwrite the annotated output.",
                hint="Give the list its own file name.",
            )
    request = dataclasses.replace(
        request, inputs=dataclasses.replace(request.inputs, tagbook=book), lists=lists
    )
    # A big export is read in two passes (the columns the rules need, then every column
    # a batch at a time while writing), so that memory stays bounded; the bytes written
    # are the same. Not on a dry run (it compares whole tables), not into stdout (a
    # second pass that fails could not be taken back), and not with a history (its
    # records read every column). Where the second pass finds rows the first did not
    # look at unreadable (bad UTF-8, say), the export is read whole, which tries its
    # other encodings or names the row.
    streamed = (
        not request.dry_run
        and request.inputs.workspace is None
        and "-" not in targets
        and write.output_format != "xlsx"
    )
    with SideWork() as side:  # the run's threads, for its side-by-side work
        try:
            return _apply(request, targets, streamed=streamed, side=side)
        except NotStreamable:
            return _apply(request, targets, streamed=False, side=side)


def _apply(
    request: ApplyRequest, targets: list[str], *, streamed: bool, side: SideWork
) -> ApplyResult:
    """The run of :func:`apply_orders`, into ``targets`` (one per export), its
    side-by-side work on ``side``."""
    inputs, write, lists = request.inputs, request.write, request.lists
    for target in [*targets, *(str(spec.path) for spec in lists)]:
        check_output_folder(target)  # before anything is recorded in the history
    workspace = inputs.workspace
    recording = workspace is not None and request.record and not request.dry_run
    with run_lock(workspace if recording else None, request.wait):
        with workspace_history(workspace) as history, recording_run(history, recording):
            result = tag_orders(
                inputs,
                history=history,
                record=request.record and not request.dry_run,
                streamed=streamed,
                for_lists=bool(lists),
                # Where the annotated file can be written by copying each record's
                # bytes (io.rawrows), find the records alongside the first pass.
                scan=bool(
                    copy_plan(
                        write.output_format,
                        write.encoding,
                        profile_first=write.profile_columns == "first",
                        excel_safe=write.excel_safe,
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
                            consent=request.consent,
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

        if request.dry_run:
            read = inputs.read
            changes = [
                compare(result, i, t, encoding=read.encoding, columns=read.columns)
                for i, t in enumerate(targets)
            ]
            return ApplyResult(result, dry_runs=changes)
        # The annotated exports and the lists are put in place together: a list that
        # cannot be written (a full disk) leaves every output as it was.
        with Staged() as stage:
            replaced = _write_annotated(result, targets, request, settle, stage, side)
            settle()
            for spec, chosen in made:
                data = render_list(chosen.rows, get_preset(None))
                write_output(
                    spec.path, lambda fh, d=data: fh.write(d), mode=write.mode, stage=stage
                )
            stage.commit()
        return ApplyResult(
            result,
            written=[t for t in targets if t != "-"] + [str(s.path) for s, _ in made],
            lists={str(spec.path): chosen for spec, chosen in made},
            replaced=replaced,
        )


def _write_annotated(
    result: Annotated,
    targets: list[str],
    request: ApplyRequest,
    settle: Any,
    stage: Staged,
    side: SideWork,
) -> int:
    """Write each export annotated into its target, staged on ``stage`` (put in place
    with the run's other outputs); returns how many characters of added text the output
    encoding could not hold. ``settle`` runs before the files are put in place; the
    writer renders on ``side``'s threads."""
    write = request.write
    replaced = 0
    for index, (table, target) in enumerate(zip(result.tables, targets, strict=True)):
        extra = result.output_columns(index)
        # In a spreadsheet the order number, then what the order needs, lead.
        ids = result.frame.maps[index].sources("order_id")
        lead = [table.columns[ids[0]]] if ids else []

        def write_one(fh: Any, t: Any = table, e: Any = extra, lead: list[str] = lead) -> None:
            nonlocal replaced
            replaced += write_table(
                fh,
                t,
                e,
                output_format=write.output_format,
                encoding=write.encoding,
                profile_first=write.profile_columns == "first",
                excel_safe=write.excel_safe,
                lead=[*lead, PROFILE_COLUMN],
                colour_column=COLOUR_COLUMN,
                side=side,
            )

        write_output(target, write_one, mode=write.mode, before_commit=settle, stage=stage)
    return replaced


def _targets(orders: Sequence[PathLike], output: PathLike, output_format: str | None) -> list[str]:
    if len(orders) == 1:
        return [os.fspath(output)]
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"{folder} is a file; with several exports, {param('output')} is a folder.",
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
