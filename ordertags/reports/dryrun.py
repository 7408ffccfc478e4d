"""``ordertags apply --dry-run``: what a run would change, written nowhere.

The new annotation of each export is compared with the previous annotated file (the
file ``--output`` names, when it exists): order by order (by the order number the
seller knows, e.g. Shopify's ``#4004``, where both files have one, else row by row; a
multi-row order once), for the tag column and every column rule actions write. Only
the orders whose values would change are listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.arrays import IntArray, combined
from ordertags.engine.frame import Frame
from ordertags.engine.orders import order_id_keys
from ordertags.engine.pipeline import Annotated
from ordertags.engine.tagtext import COLOUR_COLUMN, PROFILE_COLUMN, TAGS_COLUMN
from ordertags.io.readers import read_orders


@dataclass(frozen=True)
class Change:
    """One value that would change."""

    order: str
    column: str
    before: str
    after: str


@dataclass
class DryRun:
    """Per output: whether a previous file was there, how many orders would change, and
    the first changes."""

    target: str
    previous: bool
    orders: int
    changed_orders: int
    changes: list[Change]


def _orders(frame: Frame, index: int) -> tuple[IntArray, list[str], pa.Array]:
    """Per order of export ``index`` of ``frame``: its first row (in the export), the
    number the seller knows it by (Shopify's ``#4004``, not its internal ``Id``: the
    export's order-number field, as ``show`` names it) and the key it is matched by
    between two files (that number as :func:`order_id_keys` compares it; ``row N``
    where an export has no order numbers). Continuation rows of a multi-row order and
    rows that are not orders (eBay's report lines) are not orders."""
    start, end = int(frame.offsets[index]), int(frame.offsets[index + 1])
    rows = frame.orders.first_rows
    rows = rows[(rows >= start) & (rows < end)]
    local: IntArray = (rows - start).astype(np.int64)
    numbered = [f"row {r + 1}" for r in local.tolist()]
    if frame.maps[index].get("order_id") is None:
        return local, numbered, pa.array(numbered, pa.string())
    text = combined(frame.text(field="order_id")).take(pa.array(rows))
    labels = [
        t.strip() if t and t.strip() else n for t, n in zip(text.to_pylist(), numbered, strict=True)
    ]
    keys = order_id_keys(pa.array(labels, pa.string()))
    return local, labels, keys


def compare(
    result: Annotated,
    index: int,
    target: str,
    *,
    encoding: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    limit: int = 200,
) -> DryRun:
    """Compare the new annotation of table ``index`` with the file at ``target``, order
    by order (an order of several rows once, by its first row). ``columns`` are the
    run's ``--*-column`` overrides, read the same way in the previous file."""
    new_cols = result.output_columns(index)
    table = result.tables[index]
    # Every column the run writes, by the name it has in this export (a ``set`` of an
    # order field writes the export's own column, e.g. shipping_service -> Postal Service).
    compared = [c for c in new_cols if c not in (PROFILE_COLUMN, COLOUR_COLUMN)]
    new_rows, labels, new_ids = _orders(result.frame, index)
    taken = pa.array(new_rows)
    if target == "-" or not Path(target).exists():
        tagged = pc.not_equal(combined(new_cols[TAGS_COLUMN]).take(taken), "")
        changed = int(pc.sum(tagged).as_py() or 0)
        return DryRun(target, False, len(new_rows), changed, [])
    # The previous output is this export annotated: read as this export is.
    old = read_orders(target, encoding=encoding, profile=table.profile)
    before = Frame([old], as_of=result.frame.as_of, overrides=columns)
    old_rows, _, old_ids = _orders(before, 0)
    old_taken = pa.array(old_rows)
    left = {"id": new_ids, "order": pa.array(labels, pa.string())}
    right = {"id": old_ids}
    for col in compared:
        left[f"new:{col}"] = combined(new_cols[col]).cast(pa.string()).take(taken)
        right[f"old:{col}"] = (
            combined(old.table.column(old.columns.index(col))).take(old_taken)
            if col in old.columns
            else pa.repeat(pa.scalar("", pa.string()), len(old_rows))
        )
    # An order number seen twice (an export that repeats an order) compares once.
    joined = (
        pa.table(left)
        .group_by("id", use_threads=False)
        .aggregate([("order", "first"), *[(f"new:{c}", "first") for c in compared]])
        .join(
            pa.table(right)
            .group_by("id", use_threads=False)
            .aggregate([(f"old:{c}", "first") for c in compared]),
            "id",
            join_type="left outer",
        )
    )
    any_change = pa.repeat(pa.scalar(False), joined.num_rows)
    changes: list[Change] = []
    for col in compared:
        after = joined.column(f"new:{col}_first")
        before_values = pc.fill_null(joined.column(f"old:{col}_first"), "")
        differs = pc.not_equal(after, before_values)
        any_change = pc.or_(any_change, differs)
        rows = joined.filter(differs).slice(0, limit)
        for order, b, a in zip(
            rows.column("order_first").to_pylist(),
            rows.column(f"old:{col}_first").to_pylist(),
            rows.column(f"new:{col}_first").to_pylist(),
            strict=True,
        ):
            changes.append(Change(str(order), col, b or "", a or ""))
    position = {label: i for i, label in enumerate(labels)}
    changes.sort(key=lambda c: (position.get(c.order, 0), compared.index(c.column)))
    return DryRun(
        target, True, joined.num_rows, int(pc.sum(any_change).as_py() or 0), changes[:limit]
    )
