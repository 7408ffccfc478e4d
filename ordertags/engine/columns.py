"""The exports of one run, stacked: where each field and column is, read as text.

:class:`Columns` knows the tables of a run (in the order the files were given), each
export's map of order fields onto its columns, and a field's text row by row. What the
rows mean as orders, money, dates and customers is built on it by
:class:`ordertags.engine.orders.Orders`, :class:`ordertags.engine.money.Money`,
:class:`ordertags.engine.dates.Dates` and :class:`ordertags.engine.identities.Identities`,
which :class:`ordertags.engine.frame.Frame` puts together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.arrays import BLANK, combined
from ordertags.io.fields import FieldMap
from ordertags.io.platforms import QUOTED_FIELDS, Profile, map_profile
from ordertags.io.readers import OrderTable

#: Field names a rule can use besides the export's own columns.
VIRTUAL_FIELDS = (
    "email",
    "email_domain",
    "total",
    "date",
    "order_id",
    "name",
    "customer_id",
    "phone",
    "postcode",
    "country",
    "currency",
    "channel",
    "shipping_service",
    "status",
    "refunds",
    "notes",
    "risk_level",  # Shopify's Risk Level (Low, Medium, High)
)

#: The currency a money symbol names, where an export has no currency column (eBay's
#: reports): "$" is read as US dollars, the eBay.com report's.
CURRENCY_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}


class Columns:
    """All rows of a run. Row ``i`` is row ``i - offset`` of its table."""

    def __init__(
        self,
        tables: Sequence[OrderTable],
        *,
        overrides: Mapping[str, str | None] | None = None,
    ) -> None:
        self.tables = list(tables)
        #: Things the run should tell its reader (dates read by assumption, an encoding
        #: read by a heuristic).
        self.warnings: list[str] = [w for t in self.tables for w in t.warnings]
        self.profiles: list[Profile] = [t.profile for t in self.tables]
        self.maps: list[FieldMap] = [
            map_profile(t.columns, t.profile, overrides=overrides, file=t.source)
            for t in self.tables
        ]
        self.offsets = np.cumsum([0] + [t.num_rows for t in self.tables])
        self.n = int(self.offsets[-1])

    def optional_for(self, field: str | None, optional: bool) -> bool:
        """``optional`` where it can make a difference: a field every export has reads
        the same either way, so both ask for (and cache) one result."""
        if optional and field and all(self.has(ti, field) for ti in range(len(self.tables))):
            return False
        return optional

    def has(self, ti: int, field: str) -> bool:
        """Does table ``ti`` have what ``field`` is read from: its column, or what it
        is worked out from (an order total from line amounts, a name from first and
        last names, a currency from the money's symbol)?"""
        fmap, profile = self.maps[ti], self.profiles[ti]
        if fmap.get(field) is not None:
            return True
        if field == "total":
            return bool(self.line_columns(ti, profile.total_lines)) or (
                profile.total_product
                and fmap.get("quantity") is not None
                and fmap.get("price") is not None
            )
        if field == "name":
            return fmap.get("first_name") is not None or fmap.get("last_name") is not None
        if field == "currency":  # told by the total's symbol (eBay: $1,433.66, 116,99 €)
            return profile.money in ("symbol", "comma_decimal") and fmap.get("total") is not None
        return False

    def has_field(self, field: str) -> bool:
        """Does any export of the run have a column for ``field``?"""
        return any(self.has(i, field) for i in range(len(self.tables)))

    def require_field(self, field: str) -> None:
        """Raise for the first file that has no column for ``field``. For ``email``: the
        first file with no column to tell its customers apart by (an email, or the
        buyer id of a platform that has no email)."""
        for ti, table in enumerate(self.tables):
            if field == "email":
                self.identity_field(ti)
            elif not self.has(ti, field):
                raise self.maps[ti].missing(field, file=table.source)

    def identity_field(self, ti: int) -> str:
        """The field that tells the customers of table ``ti`` apart, or an error."""
        profile, fmap = self.profiles[ti], self.maps[ti]
        for f in profile.customer:
            if fmap.get(f) is not None:
                return f
        raise fmap.missing(profile.customer[0], file=self.tables[ti].source)

    def has_column(self, name: str) -> bool:
        """Does any export of the run have a column named ``name``?"""
        return any(m.find_column(name) is not None for m in self.maps)

    def action_column(self, index: int, name: str) -> tuple[int | None, str]:
        """Where a rule's ``set`` or ``note`` that names ``name`` writes in export
        ``index``: (the existing column's index or None, the column's name). An order
        field is each export's own column for it, decided per export (a Shopify export's
        Shipping Method, a Linnworks export's Postal Service, in one run)."""
        return self.maps[index].action_column(name, field=name in VIRTUAL_FIELDS)

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.tables:
            seen.update(dict.fromkeys(t.columns))
        return list(seen)

    def line_columns(self, ti: int, names: Sequence[str]) -> list[str]:
        """Those of ``names`` that table ``ti`` has a column for (line amounts)."""
        fmap = self.maps[ti]
        return [n for n in names if fmap.find_column(n) is not None]

    def _currency_of_symbols(self, ti: int) -> pa.Array:
        """Per row of table ``ti`` (an export with no currency column whose money carries
        a symbol): the currency its total's symbol names ("" where none)."""
        i = self.maps[ti].get("total")
        assert i is not None
        text = combined(self.tables[ti].column(i))
        out = pa.repeat(BLANK, len(text))
        for symbol, code in CURRENCY_SYMBOLS.items():
            hit = pc.fill_null(pc.match_substring(text, symbol), False)
            out = pc.if_else(hit, pa.scalar(code, pa.string()), out)
        result: pa.Array = out
        return result

    def raw_field(self, ti: int, field: str) -> pa.ChunkedArray | pa.Array | None:
        """A field's text row by row in table ``ti``: its column, with blanks filled from
        its fallback columns and Excel's leading ``'`` dropped (None: no such column)."""
        table, fmap = self.tables[ti], self.maps[ti]
        sources = fmap.sources(field)
        if not sources:
            if field == "currency" and self.has(ti, "currency"):
                return self._currency_of_symbols(ti)
            if field == "name" and (
                fmap.get("first_name") is not None or fmap.get("last_name") is not None
            ):
                parts = [
                    combined(self.raw_field(ti, f) or pa.repeat(BLANK, table.num_rows))
                    for f in ("first_name", "last_name")
                ]
                return pc.utf8_trim_whitespace(pc.binary_join_element_wise(*parts, " "))
            return None
        col: pa.ChunkedArray | pa.Array = table.column(sources[0])
        for j in sources[1:]:
            arr = combined(col)
            blank = pc.equal(pc.utf8_trim_whitespace(arr), "")
            if pc.any(blank).as_py():
                col = pc.if_else(blank, combined(table.column(j)), arr)
        if field in QUOTED_FIELDS and pc.any(pc.starts_with(col, "'")).as_py():
            col = pc.replace_substring_regex(col, "^'", "")
        return col

    def locate(self, row: int) -> tuple[OrderTable, int]:
        """The table of frame row ``row`` and the row number a person sees in it."""
        t = int(np.searchsorted(self.offsets, row, side="right")) - 1
        table = self.tables[t]
        return table, row - int(self.offsets[t]) + table.row_offset


def stacked(pieces: Sequence[pa.ChunkedArray | pa.Array]) -> pa.ChunkedArray:
    chunks = [c for p in pieces for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.chunked_array(chunks, type=pa.string())


def joined(parts: Sequence[np.ndarray[Any, Any]], dtype: Any) -> np.ndarray[Any, Any]:
    """The parts one after the other: the part itself where there is one (a run of one
    export; ``np.concatenate`` would copy it), and no copy per cached variant."""
    if len(parts) == 1:
        view = parts[0].view()
        view.flags.writeable = False  # shared with where it came from: never changed
        return view
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
