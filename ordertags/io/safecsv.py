"""Cells a spreadsheet would run as a formula, made inert (CSV injection).

A CSV opened in Excel, LibreOffice or Google Sheets runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``,
``@SUM(...)``), and a leading tab or carriage return can hide such a start. OWASP's advice
(https://owasp.org/www-community/attacks/CSV_Injection) is to put a single quote in front
of such a cell, which spreadsheets show as text and do not run. The CSV writer already
quotes cells holding the delimiter, quotes or line breaks, which covers OWASP's other
point (a cell breaking out into the next one).

A plain number is no formula: ``-12.50`` in a numeric column (spend, a refund) stays a
number, so sums in the spreadsheet still work. In a text column (a name, an email, a
tag) every cell with such a start is quoted, ``-5`` included.

:func:`neutralise_column` does the same as column operations (pyarrow compute), for
whole columns of orders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What is put in front of such a cell.
INERT_PREFIX = "'"
_FORMULA_START_PATTERN = r"^[=+\-@\t\r]"
#: A plain number: optional minus, digits, optional decimals (``-12.50``, ``3``, ``-0,5``).
_PLAIN_NUMBER_PATTERN = r"^-?[0-9]+(?:[.,][0-9]+)?$"
_FORMULA_START = re.compile(_FORMULA_START_PATTERN)
_PLAIN_NUMBER = re.compile(_PLAIN_NUMBER_PATTERN)


def is_formula_like(value: str, *, numeric: bool = False) -> bool:
    """Would a spreadsheet run ``value`` as a formula? With ``numeric`` (the cell is in a
    column of numbers), a plain number such as ``-12.50`` is not.

    >>> is_formula_like("=HYPERLINK(\\"http://x\\")"), is_formula_like("Ann")
    (True, False)
    >>> is_formula_like("-2+3", numeric=True), is_formula_like("-2", numeric=True)
    (True, False)
    """
    if not value or not _FORMULA_START.match(value):
        return False
    return not (numeric and _PLAIN_NUMBER.match(value))


def neutralise_text(value: str, *, numeric: bool = False) -> str:
    """``value`` made inert for a spreadsheet: a leading ``'`` when it would run as a
    formula, else unchanged.

    >>> neutralise_text("@SUM(A1:A9)"), neutralise_text("-7.5", numeric=True)
    ("'@SUM(A1:A9)", '-7.5')
    """
    return INERT_PREFIX + value if is_formula_like(value, numeric=numeric) else value


def neutralise_row(row: Sequence[Any], numeric: Iterable[int] = ()) -> list[Any]:
    """A row of cells for ``csv.writer``: text cells made inert; cells at the positions in
    ``numeric`` keep plain numbers; non-text cells (int, float, None) pass unchanged.

    >>> neutralise_row(["=1+1", "-3", -3, "-3"], numeric=[3])
    ["'=1+1", "'-3", -3, '-3']
    """
    nums = set(numeric)
    return [
        neutralise_text(v, numeric=i in nums) if isinstance(v, str) else v
        for i, v in enumerate(row)
    ]


class SafeWriter:
    """A ``csv.writer`` look-alike that makes every text cell inert before writing it.

    >>> import csv, io
    >>> buf = io.StringIO()
    >>> SafeWriter(csv.writer(buf, lineterminator="\\n"), numeric=["Spend"], header=["Name",
    ...     "Spend"]).writerows([["=cmd", "-1.00"]])
    >>> buf.getvalue()
    "'=cmd,-1.00\\n"
    """

    def __init__(
        self, writer: Any, *, header: Sequence[str] = (), numeric: Iterable[str | int] = ()
    ) -> None:
        self._writer = writer
        names = list(header)
        self._numeric = [names.index(n) if isinstance(n, str) else n for n in numeric]

    def writerow(self, row: Sequence[Any]) -> Any:
        return self._writer.writerow(neutralise_row(row, self._numeric))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def neutralise_column(values: pa.Array | pa.ChunkedArray, *, numeric: bool = False) -> pa.Array:
    """A string column with each cell made inert (see :func:`neutralise_text`), as column
    operations. Nulls stay null.

    >>> import pyarrow as pa
    >>> neutralise_column(pa.array(["=1", "ok", "-2"]), numeric=True).to_pylist()
    ["'=1", 'ok', '-2']
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    risky = pc.fill_null(pc.match_substring_regex(arr, _FORMULA_START_PATTERN), False)
    if numeric:
        plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_NUMBER_PATTERN), False)
        risky = pc.and_(risky, pc.invert(plain))
    if not pc.any(risky).as_py():
        return arr
    prefixed = pc.binary_join_element_wise(INERT_PREFIX, arr, "")
    result: pa.Array = pc.if_else(risky, prefixed, arr)
    return result
