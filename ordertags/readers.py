"""Reading order exports: CSV/TSV/semicolon text and JSON, every value as text.

A file is read as bytes; a leading ``[`` or ``{`` means JSON (an array of objects, an
object with an ``orders`` list, or one object a line); anything else is delimited text,
sniffed from a sample unless a delimiter is given. Every column is kept as text, so
``007`` stays ``007`` and ``0.00`` stays ``0.00``; only the fields a rule computes on
are converted later (:mod:`ordertags.values`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import InputError
from .sniff import BOM, SNIFF_BYTES, sniff_delimiter


class RawNumber(str):
    """A JSON number kept as the text it was written as (``12.50`` stays ``12.50``)."""


@dataclass(frozen=True)
class Dialect:
    """How a delimited file was written, so that it can be written back the same way."""

    delimiter: str = ","
    eol: str = "\n"
    bom: bool = False
    encoding: str = "utf-8"


@dataclass
class OrderTable:
    """One export as read: its header and its values, all text.

    ``table`` holds one string column per header column, named by position
    (``c0``, ``c1``, ...) so that repeated header names survive.
    """

    source: str
    kind: str  # "csv", "json" or "ndjson"
    columns: list[str]
    table: pa.Table
    dialect: Dialect = field(default_factory=Dialect)
    records: list[dict[str, Any]] | None = None  # JSON: the objects, for writing back
    json_wrapper: str | None = None  # JSON: the key of the list, when it was {"orders": [...]}

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def row_offset(self) -> int:
        """Add to a 0-based row index to get the row a person sees: in CSV the header
        is row 1 (as in a spreadsheet); in JSON the first object is row 1."""
        return 2 if self.kind == "csv" else 1

    def column(self, i: int) -> pa.ChunkedArray:
        return self.table.column(i)


def _read_bytes(path: str | Path) -> tuple[bytes, str]:
    if str(path) == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    p = Path(path)
    try:
        return p.read_bytes(), str(p)
    except FileNotFoundError:
        raise InputError("no such file.", file=str(p), hint="Check the path.") from None
    except IsADirectoryError:
        raise InputError("this is a folder, not an order export.", file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}.", file=str(p)) from None


def read_orders(path: str | Path, *, encoding: str | None = None,
                delimiter: str | None = None) -> OrderTable:
    """Read one order export (``-`` for stdin) with every value as text.

    >>> orders = read_orders("examples/orders.csv")  # doctest: +SKIP
    >>> orders.columns[:3], orders.num_rows  # doctest: +SKIP
    (['Order Id', 'Reference Num', 'Source'], 40)
    """
    data, name = _read_bytes(path)
    return parse_orders(data, source=name, encoding=encoding, delimiter=delimiter)


def parse_orders(data: bytes, *, source: str, encoding: str | None = None,
                 delimiter: str | None = None) -> OrderTable:
    """Parse an export held in memory (see :func:`read_orders`)."""
    bom = data.startswith(BOM)
    body = data[len(BOM):] if bom else data
    head = body[:4096].lstrip()
    if not head and not body.strip():
        raise InputError("the file is empty.", file=source,
                         hint="Export the orders again; the file has no header and no rows.")
    enc = _check_encoding(encoding or "utf-8", source)
    first = head[:1]
    if first in (b"[", b"{") and delimiter is None:
        text = _decode(body, enc, source)
        return _parse_json(text, source=source, bom=bom, encoding=enc)
    return _parse_csv(body, source=source, bom=bom, encoding=enc, delimiter=delimiter)


def _check_encoding(encoding: str, source: str) -> str:
    import codecs

    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f'unknown encoding "{encoding}".', file=source,
                         hint="Use utf-8, cp1252, latin-1 or cp932.") from None


def _decode(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _decode_error(exc, encoding, source) from None


def _decode_error(exc: UnicodeDecodeError, encoding: str, source: str) -> InputError:
    return InputError(
        f"cannot decode byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start} "
        f"as {encoding}.", file=source,
        hint="The file is in another encoding: try --encoding cp1252 (Excel on Windows), "
             "--encoding latin-1 or --encoding cp932 (Japanese).")


# --- delimited text ------------------------------------------------------------------


def _parse_csv(body: bytes, *, source: str, bom: bool, encoding: str,
               delimiter: str | None) -> OrderTable:
    sample_bytes = body[:SNIFF_BYTES]
    sample = sample_bytes.decode(encoding, errors="replace")
    delim = sniff_delimiter(sample, delimiter)
    if len(delim) != 1:
        raise InputError(f'the delimiter must be one character, not "{delim}".', file=source)
    eol = _header_line_end(sample_bytes)
    try:
        header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except (StopIteration, csv.Error):
        header = []
    if not header or all(not h.strip() for h in header):
        raise InputError("the first line is not a header.", file=source,
                         hint="The first line must name the columns.")
    if b"\n" not in body and b"\r" not in body:
        body += eol.encode()  # a header alone, with no line end: pyarrow wants one
    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list[tuple[int, int]] = []

    def on_bad_row(row: Any) -> str:
        bad_rows.append((row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=0,
                                           encoding="utf8" if encoding == "utf-8" else encoding,
                                           block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            try:
                body.decode(encoding)
            except UnicodeDecodeError as dec:
                raise _decode_error(dec, encoding, source) from None
        raise InputError("this is not a readable CSV file.", file=source,
                         hint="Check that it is a CSV/TSV export or JSON.") from None
    if bad_rows:
        raise _ragged_error(body, source=source, encoding=encoding, delimiter=delim,
                            width=len(header), count=len(bad_rows))
    # The header came through as row 0 (column_names were given): drop it.
    table = table.slice(1)
    return OrderTable(source=source, kind="csv", columns=header, table=table,
                      dialect=Dialect(delimiter=delim, eol=eol, bom=bom, encoding=encoding))


def _header_line_end(sample: bytes) -> str:
    """The line end of the header record: the first LF outside double quotes (a quoted
    header name may hold a line break of its own)."""
    start = 0
    while (nl := sample.find(b"\n", start)) >= 0:
        if sample.count(b'"', 0, nl) % 2 == 0:
            return "\r\n" if nl > 0 and sample[nl - 1:nl] == b"\r" else "\n"
        start = nl + 1
    return "\n"


def _ragged_error(body: bytes, *, source: str, encoding: str, delimiter: str, width: int,
                  count: int) -> InputError:
    """Find the first row whose number of fields differs from the header's (slow path,
    only on error), and say where it is without quoting its contents."""
    text = body.decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    for number, row in enumerate(reader, start=2):
        if row and len(row) != width:
            more = f" ({count} such rows in all)" if count > 1 else ""
            return InputError(
                f"this row has {len(row)} fields but the header has {width}{more}.",
                file=source, row=number, line=reader.line_num,
                hint="A value with the delimiter or a line break in it must be in double "
                     "quotes; re-export the file, or fix that row.")
    return InputError(f"{count} rows do not have {width} fields like the header.",
                      file=source, hint="Re-export the file.")


# --- JSON ----------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    """The text of a JSON value as a CSV would hold it."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)


def _parse_json(text: str, *, source: str, bom: bool, encoding: str) -> OrderTable:
    wrapper = None
    kind = "json"
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        # One object a line (NDJSON / JSON Lines)?
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if exc.msg == "Extra data" and lines and lines[0].lstrip().startswith("{"):
            data = []
            for n, ln in enumerate(text.splitlines(), start=1):
                if not ln.strip():
                    continue
                try:
                    data.append(_loads(ln))
                except json.JSONDecodeError as exc2:
                    raise InputError(f"not valid JSON (column {exc2.colno}): {exc2.msg}.",
                                     file=source, line=n, hint="Fix or re-export that line.")\
                        from None
            kind = "ndjson"
        else:
            raise InputError(f"not valid JSON (column {exc.colno}): {exc.msg}.", file=source,
                             line=exc.lineno, hint="Fix the JSON, or re-export the file.")\
                from None
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        key = "orders" if "orders" in lists else (lists[0] if len(lists) == 1 else None)
        if key is None:
            raise InputError("a JSON object, but with no list of orders in it.", file=source,
                             hint='Give a JSON array of orders, or an object with an "orders" '
                                  "list.")
        wrapper, data = key, data[key]
    if not isinstance(data, list):
        raise InputError("JSON, but not a list of orders.", file=source,
                         hint="Give a JSON array of objects, one per order.")
    columns: dict[str, None] = {}
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise InputError(f"item {i + 1} of the list is not an object.", file=source,
                             row=i + 1, hint="Each order must be a JSON object.")
        for k in rec:
            columns.setdefault(k, None)
    names = list(columns)
    arrays = [pa.array([_json_text(rec.get(c)) for rec in data], type=pa.string())
              for c in names]
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(names))]) \
        if names else pa.table({})
    return OrderTable(source=source, kind=kind, columns=names, table=table,
                      dialect=Dialect(bom=bom, encoding=encoding), records=data,
                      json_wrapper=wrapper)
