"""Line items: from rows (one row per item) or from cells that list an order's items.

Where a platform writes one row per line item (Shopify, Amazon, eBay, Etsy items,
AlgolPlus, Linnworks, UCI), each row with item data is an item. WooCommerce plugins
write the items of an order into cells instead, and those are split with Arrow kernels
(a regular expression per key, over all cells at once), not a loop per row:

- WebToffee ``line_item_1``, ``line_item_2``, ... =
  ``name:Formal shoe|product_id:13|sku:A12|quantity:1|total:8.00|tax:1.44``, and the
  newer ``Product Item 1 Name`` / ``SKU`` / ``Quantity`` / ``Total`` columns;
- SkyVerge ``line_items`` = ``id:1|name:Shoe|sku:A12|quantity:1|subtotal:10.00;id:2|...``
  (items separated by ``;``);
- WooCommerce Analytics ``Product(s)`` = ``2× Formal shoe, 1× Belt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.arrays import BLANK, FloatArray, IntArray, combined, floats, nonblank
from ordertags.engine.frame import Frame
from ordertags.errors import ColumnError, ValueParseError
from ordertags.io.values import parse_money


@dataclass
class ItemSource:
    """Line items read from one place of one table: where each item sits (the table
    row and, for messages, the column), and its text per item field."""

    table: int
    rows: IntArray
    column: str
    values: dict[str, pa.Array]  # "sku", "name", "quantity", "price", "total"
    columns: dict[str, str] | None = None  # item name -> its own column, for messages


class Items:
    """The line items of a run, one entry per item, in order of their orders.

    ``order_row`` is, per item, the frame row of its order's first row. ``text(name)``
    and ``numbers(name)`` give, per item, ``sku``, ``name``, ``quantity``, ``price`` (the
    unit price) or ``total`` (the line's amount: quantity x price where the platform
    writes only one of them), as an Arrow string array or float64 (NaN where blank).
    """

    NAMES = ("sku", "name", "quantity", "price", "total")

    def __init__(
        self,
        frame: Frame,
        order_row: IntArray,
        sources: list[ItemSource],
        perm: IntArray | None = None,
    ) -> None:
        self.frame = frame
        self.order_row = order_row
        self._sources = sources
        self._perm = perm
        self._cache: dict[tuple[str, str], Any] = {}

    def __len__(self) -> int:
        return len(self.order_row)

    def _check(self, name: str) -> None:
        if name not in self.NAMES:
            raise ColumnError(
                f'line items have no "{name}".', hint=f"Use one of {', '.join(self.NAMES)}."
            )

    def text(self, name: str) -> pa.Array:
        """Per item, the text of ``name`` ("" where the export does not write it)."""
        self._check(name)
        key = ("text", name)
        if key not in self._cache:
            parts = [s.values.get(name, pa.repeat(BLANK, len(s.rows))) for s in self._sources]
            arr = (
                pa.concat_arrays([combined(p).cast(pa.string()) for p in parts])
                if parts
                else pa.array([], pa.string())
            )
            if self._perm is not None:
                arr = arr.take(pa.array(self._perm))
            self._cache[key] = arr
        result: pa.Array = self._cache[key]
        return result

    def _parse(self, source: ItemSource, name: str) -> FloatArray:
        values = source.values.get(name)
        if values is None:
            return np.full(len(source.rows), np.nan)
        frame = self.frame
        table = frame.tables[source.table]
        column = (source.columns or {}).get(name, source.column)
        try:
            arr = parse_money(
                values,
                style=frame.money.style_of(source.table),
                file=table.source,
                column=column,
                row_offset=0,
            )
        except ValueParseError as exc:
            at = exc.row if exc.row is not None else 0
            raise ValueParseError(
                exc.message,
                file=table.source,
                row=int(source.rows[at]) + table.row_offset,
                column=column,
                hint=exc.hint,
            ) from None
        return floats(arr)

    def numbers(self, name: str) -> FloatArray:
        """Per item, ``name`` as a number (NaN where blank). Bad values raise."""
        self._check(name)
        key = ("num", name)
        if key not in self._cache:
            parts = []
            for s in self._sources:
                if name in ("price", "total"):
                    quantity = self._parse(s, "quantity")
                    price, total = self._parse(s, "price"), self._parse(s, "total")
                    with np.errstate(invalid="ignore", divide="ignore"):
                        if name == "price":
                            got = np.where(
                                np.isnan(price),
                                np.where(quantity != 0, total / quantity, np.nan),
                                price,
                            )
                        else:
                            got = np.where(np.isnan(total), quantity * price, total)
                    parts.append(np.asarray(got, dtype=np.float64))
                else:
                    parts.append(self._parse(s, name))
            nums = np.concatenate(parts) if parts else np.zeros(0)
            self._cache[key] = nums if self._perm is None else nums[self._perm]
        result: FloatArray = self._cache[key]
        return result


#: Item name -> the order field that holds it on row-per-item platforms.
ROW_FIELDS = {
    "sku": "sku",
    "name": "item_name",
    "quantity": "quantity",
    "price": "price",
    "total": "line_total",
}
#: Item name -> the keys that hold it in a ``key:value|key:value`` cell.
CELL_KEYS = {
    "sku": ("sku",),
    "name": ("name",),
    "quantity": ("quantity", "qty"),
    "price": ("price", "item_price"),
    "total": ("total", "subtotal"),
}
_NUMBERED_CELL = re.compile(r"^line_item_(\d+)$", re.IGNORECASE)
_NUMBERED_PART = re.compile(
    r"^Product Item (\d+) (Name|SKU|Quantity|Total|Subtotal|Price)$", re.IGNORECASE
)
_PART_NAMES = {
    "name": "name",
    "sku": "sku",
    "quantity": "quantity",
    "total": "total",
    "subtotal": "total",
    "price": "price",
}


def _value(cells: pa.Array, keys: tuple[str, ...]) -> pa.Array:
    """The value of the first of ``keys`` in each ``k:v|k:v`` cell ("" where absent)."""
    out: pa.Array | None = None
    for key in keys:
        got = pc.struct_field(
            pc.extract_regex(cells, rf"(?:^|\|){re.escape(key)}:(?P<v>[^|]*)"), "v"
        )
        out = got if out is None else pc.coalesce(out, got)
    assert out is not None
    result: pa.Array = pc.fill_null(out, "")
    return result


def _cells_source(ti: int, rows: Any, column: str, cells: pa.Array) -> ItemSource:
    values = {name: _value(cells, keys) for name, keys in CELL_KEYS.items()}
    return ItemSource(ti, np.asarray(rows, dtype=np.int64), column, values)


def _from_rows(frame: Frame, ti: int) -> list[ItemSource]:
    fmap, table = frame.maps[ti], frame.tables[ti]
    present = {
        name: frame.raw_field(ti, f) for name, f in ROW_FIELDS.items() if fmap.get(f) is not None
    }
    if not present:
        return []
    filled = np.zeros(table.num_rows, dtype=bool)
    for values in present.values():
        assert values is not None
        filled |= nonblank(combined(values))
    if table.skip_rows is not None:
        filled &= ~table.skip_rows
    rows = np.flatnonzero(filled)
    index = pa.array(rows)
    names = {
        name: table.columns[fmap.get(f) or 0]
        for name, f in ROW_FIELDS.items()
        if fmap.get(f) is not None
    }
    column = names.get("sku") or next(iter(names.values()))
    source = ItemSource(
        ti,
        rows.astype(np.int64),
        column,
        {name: combined(v).take(index) for name, v in present.items() if v is not None},
    )
    source.columns = names
    return [source]


def _from_woo_cells(frame: Frame, ti: int) -> list[ItemSource]:
    """``line_item_N`` cells, and ``Product Item N Name``-style columns."""
    table = frame.tables[ti]
    out: list[tuple[int, ItemSource]] = []
    parts: dict[int, dict[str, int]] = {}
    for i, name in enumerate(table.columns):
        m = _NUMBERED_CELL.match(name.strip())
        if m:
            cells = combined(table.column(i))
            filled = nonblank(cells)
            rows = np.flatnonzero(filled)
            if len(rows):
                out.append(
                    (int(m.group(1)), _cells_source(ti, rows, name, cells.filter(pa.array(filled))))
                )
            continue
        m = _NUMBERED_PART.match(name.strip())
        if m:
            parts.setdefault(int(m.group(1)), {})[_PART_NAMES[m.group(2).lower()]] = i
    for number, cols in parts.items():
        arrays = {k: combined(table.column(i)) for k, i in cols.items()}
        filled = np.zeros(table.num_rows, dtype=bool)
        for arr in arrays.values():
            filled |= nonblank(arr)
        rows = np.flatnonzero(filled)
        if len(rows):
            index = pa.array(rows)
            first = table.columns[next(iter(cols.values()))]
            out.append(
                (
                    number,
                    ItemSource(
                        ti,
                        rows.astype(np.int64),
                        first,
                        {k: a.take(index) for k, a in arrays.items()},
                    ),
                )
            )
    return [s for _, s in sorted(out, key=lambda x: x[0])]


def _split_marked(marked: pa.Array) -> tuple[np.ndarray[Any, np.dtype[np.int64]], pa.Array]:
    """Cells with their items separated by U+001F: each item's cell index, and the items."""
    lists = pc.split_pattern(marked, "\x1f")
    parents = np.asarray(
        pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    return parents, pc.list_flatten(lists)


def _from_skyverge(frame: Frame, ti: int) -> list[ItemSource]:
    """``line_items``: items separated by ``;``, each ``key:value|key:value``."""
    table = frame.tables[ti]
    i = frame.maps[ti].find_column("line_items")
    if i is None:
        return []
    cells = combined(table.column(i))
    # Items start with their id: split before ";id:" only, so that a ";" inside a
    # product name stays (cells in another layout are split at every ";").
    by_id = pc.replace_substring_regex(cells, r";\s*(id:)", "\x1f\\1")
    by_semicolon = pc.replace_substring(cells, ";", "\x1f")
    parents, flat = _split_marked(pc.if_else(pc.starts_with(cells, "id:"), by_id, by_semicolon))
    keep = nonblank(flat)
    if not keep.any():
        return []
    return [_cells_source(ti, parents[keep], table.columns[i], flat.filter(pa.array(keep)))]


def _from_woo_products(frame: Frame, ti: int) -> list[ItemSource]:
    """WooCommerce Analytics ``Product(s)``: ``2× Formal shoe, 1× Belt``."""
    table = frame.tables[ti]
    i = frame.maps[ti].find_column("Product(s)")
    if i is None:
        return []
    cells = combined(table.column(i))
    # Split only before "N× ", so that a comma inside a product name stays.
    parents, flat = _split_marked(pc.replace_substring_regex(cells, r",\s*(\d+)\s*× ", "\x1f\\1× "))
    flat = pc.utf8_trim_whitespace(flat)
    keep = nonblank(flat)
    if not keep.any():
        return []
    flat = flat.filter(pa.array(keep))
    parts = pc.extract_regex(flat, r"^(?:(?P<q>\d+)\s*×\s*)?(?P<n>.*)$")
    values = {
        "quantity": pc.fill_null(pc.struct_field(parts, "q"), ""),
        "name": pc.fill_null(pc.struct_field(parts, "n"), ""),
    }
    return [ItemSource(ti, parents[keep], table.columns[i], values)]


_CELL_READERS = {
    "woo_cells": _from_woo_cells,
    "skyverge": _from_skyverge,
    "woo_products": _from_woo_products,
}


def build_items(frame: Frame) -> Items:
    """Every line item of the run, in order of their orders (then as written)."""
    sources: list[ItemSource] = []
    for ti in range(len(frame.tables)):
        sources += _from_rows(frame, ti)
        for kind in frame.profiles[ti].items:
            sources += _CELL_READERS[kind](frame, ti)
    order_rows = []
    for s in sources:
        g = frame.orders.groups(s.table)
        local = s.rows if g.codes is None or g.first is None else g.first[g.codes[s.rows]]
        order_rows.append(local + int(frame.offsets[s.table]))
    order_row = (
        np.concatenate(order_rows).astype(np.int64) if order_rows else np.zeros(0, dtype=np.int64)
    )
    perm = np.argsort(order_row, kind="stable")
    if np.array_equal(perm, np.arange(len(perm))):
        return Items(frame, order_row, sources)
    return Items(frame, order_row[perm], sources, perm=perm)
