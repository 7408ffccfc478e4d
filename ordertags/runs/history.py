"""``ingest``: record the orders of exports in a workspace's history."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow.compute as pc

from ordertags.base.keys import check_region
from ordertags.customers.history import IngestReport
from ordertags.customers.identity import resolve_links
from ordertags.customers.workspace import run_lock, workspace_history
from ordertags.engine.frame import Frame
from ordertags.engine.resolution import order_batches, run_identities
from ordertags.io.options import ReadOptions
from ordertags.io.readers import OrderTable, read_exports
from ordertags.runs.requests import IngestRequest
from ordertags.tagbook import load_tagbook

#: Rows of one export ingested at a time (each slice ends at an order's last row).
INGEST_SLICE = 500_000


def ingest(request: IngestRequest) -> IngestReport:
    """Record the orders of ``request.orders`` in the workspace's history, one
    transaction per export; returns an :class:`ordertags.customers.history.IngestReport`.
    Ingesting an export again changes nothing; a changed order is updated. The run
    holds the workspace (waiting up to ``request.wait`` seconds for another run, as
    ``apply`` does)."""
    workspace, read = request.workspace, request.read
    report = IngestReport()
    with run_lock(workspace, request.wait), workspace_history(workspace) as history:
        assert history is not None
        code = check_region(request.region or history.region)
        book = load_tagbook(workspace.tagbook) if workspace.tagbook.exists() else None
        history.sync_links(resolve_links(book, code))
        for path in request.orders:
            # One export at a time, in slices of whole orders: memory stays that of a
            # slice, however large the export; one transaction for the whole export.
            (table,) = read_exports([path], read, request.progress)
            part_report = IngestReport(files=[table.source])
            with history.transaction():
                for part in slices(table, read):
                    frame = Frame.of([part], as_of=dt.date.today(), read=read, region=code)
                    frame.require_field("email")
                    ids = run_identities(frame, code)
                    got = history.record(order_batches(frame, ids))
                    got.files = []
                    part_report += got
            report += part_report
    return report


def slices(table: OrderTable, read: ReadOptions, rows: int | None = None) -> Iterator[OrderTable]:
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
