"""``ordertags apply --dry-run``: what a run would change, written nowhere.

The new annotation of each export is compared with the previous annotated file (the
file ``--output`` names, when it exists): order by order (by order number where both
files have one, else row by row), for the tag column and every column rule actions
write. Only the orders whose values would change are listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.frame import order_id_keys
from ordertags.engine.pipeline import Annotated
from ordertags.engine.tagtext import COLOUR_COLUMN, PROFILE_COLUMN, TAGS_COLUMN
from ordertags.io.fields import map_fields
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


def _ids(table: pa.Table, names: list[str], fallback: int) -> pa.Array:
    i = map_fields(names).get("order_id")
    if i is None:  # no order numbers: compare row by row
        result: pa.Array = pa.array(np.arange(1, fallback + 1)).cast(pa.string())
        return result
    return order_id_keys(table.column(i))


def compare(
    result: Annotated, index: int, target: str, *, encoding: str | None = None, limit: int = 200
) -> DryRun:
    """Compare the new annotation of table ``index`` with the file at ``target``."""
    new_cols = result.output_columns(index)
    table = result.tables[index]
    # Every column the run writes, by the name it has in this export (a ``set`` of an
    # order field writes the export's own column, e.g. shipping_service -> Postal Service).
    compared = [c for c in new_cols if c not in (PROFILE_COLUMN, COLOUR_COLUMN)]
    if target == "-" or not Path(target).exists():
        changed = int(pc.sum(pc.not_equal(new_cols[TAGS_COLUMN], "")).as_py() or 0)
        return DryRun(target, False, table.num_rows, changed, [])
    old = read_orders(target, encoding=encoding)
    new_ids = _ids(table.table, table.columns, table.num_rows)
    old_ids = _ids(old.table, old.columns, old.num_rows)
    left = {"id": new_ids}
    right = {"id": old_ids}
    for col in compared:
        left[f"new:{col}"] = new_cols[col].combine_chunks().cast(pa.string())
        right[f"old:{col}"] = (
            old.table.column(old.columns.index(col)).combine_chunks()
            if col in old.columns
            else pa.repeat(pa.scalar("", pa.string()), old.num_rows)
        )
    # Orders that appear twice (several rows of one order) compare on their first row.
    joined = (
        pa.table(left)
        .group_by("id", use_threads=False)
        .aggregate([(f"new:{c}", "first") for c in compared])
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
        before = pc.fill_null(joined.column(f"old:{col}_first"), "")
        differs = pc.not_equal(after, before)
        any_change = pc.or_(any_change, differs)
        rows = joined.filter(differs).slice(0, limit)
        for order, b, a in zip(
            rows.column("id").to_pylist(),
            rows.column(f"old:{col}_first").to_pylist(),
            rows.column(f"new:{col}_first").to_pylist(),
            strict=True,
        ):
            changes.append(Change(str(order), col, b or "", a or ""))
    changes.sort(key=lambda c: (c.order, compared.index(c.column)))
    return DryRun(
        target, True, joined.num_rows, int(pc.sum(any_change).as_py() or 0), changes[:limit]
    )
