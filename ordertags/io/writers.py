"""Writing annotated orders back in the shape they came in.

CSV is written with minimal quoting (a value is quoted only when it holds the delimiter,
a quote or a line break), the input's delimiter, line ends, BOM and encoding, and the
original header text, so a diff of input and output shows only the added columns. The
rows are assembled as Arrow string columns, a batch at a time, without a Python loop
per row. JSON is written back as the objects that were read, with the added keys.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import os
import re
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.files import Staged, atomic_writer
from ordertags.base.sidework import SideWork, side_work
from ordertags.io.platforms import map_profile
from ordertags.io.rawrows import QUOTE, NotRaw, RecordMap, quoted_bytes, raw_blocks
from ordertags.io.readers import Dialect, NotStreamable, OrderTable, RawNumber, batch_bytes
from ordertags.io.safecsv import neutralise_column
from ordertags.io.values import combined

BATCH_ROWS = 65_536
WRITE_THREADS = max(1, min(4, os.cpu_count() or 1))


def _quote_needed_pattern(delimiter: str) -> str:
    return "[" + re.escape(quoted_bytes(delimiter).decode("utf-8")) + "]"


def _may_need_quotes(col: pa.ChunkedArray, specials: bytes) -> bool:
    """Does any value of the column hold a character that needs quoting? A scan of the
    raw value bytes (memchr speed), so that most columns skip the per-value check."""
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        if pa.types.is_dictionary(chunk.type):  # the distinct values are enough
            chunk = chunk.dictionary
        if chunk.type == pa.large_string():
            chunk = chunk.cast(pa.string())
        data = _string_buffer(chunk).tobytes()
        if any(data.find(bytes([b])) >= 0 for b in specials):
            return True
    return False


def _quoted(col: pa.Array, pattern: str) -> pa.Array:
    needs = pc.match_substring_regex(col, pattern)
    if not pc.any(needs).as_py():
        return col
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
    result: pa.Array = pc.if_else(needs, escaped, col)
    return result


def _header_line(names: Sequence[str], dialect: Dialect) -> str:
    buf = io.StringIO()
    csv.writer(
        buf, delimiter=dialect.delimiter, lineterminator=dialect.eol, quoting=csv.QUOTE_MINIMAL
    ).writerow(names)
    return buf.getvalue()


def write_csv_table(
    out: BinaryIO,
    names: Sequence[str],
    columns: Sequence[pa.ChunkedArray],
    dialect: Dialect,
    *,
    bom: bool | None = None,
    side: SideWork | None = None,
) -> int:
    """Write string columns as delimited text to a binary file, in the dialect's
    encoding. Returns how many characters that encoding cannot hold were replaced (see
    :func:`encode_text`). ``side``: the run's pool, where batches are rendered."""
    emit = _Emitter(out, dialect.encoding)
    _write_csv_head(emit, names, dialect, bom=bom)
    _write_csv_rows(emit, columns, dialect, side)
    out.write(dialect.trailer)
    return emit.replaced


class _Emitter:
    """Writes UTF-8 text bytes in the output's encoding, counting what it replaced."""

    def __init__(self, out: BinaryIO, encoding: str) -> None:
        self.out, self.encoding, self.replaced = out, encoding, 0

    def __call__(self, text_bytes: bytes | memoryview) -> None:
        if self.encoding in ("utf-8", "utf8"):
            self.out.write(text_bytes)
            return
        data, count = encode_text(bytes(text_bytes).decode("utf-8"), self.encoding)
        self.replaced += count
        self.out.write(data)


#: The byte order mark of each encoding that has one (a file read with a BOM is written
#: with its own: Excel's "Unicode Text" is UTF-16 little-endian with one).
_BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
}


def _write_csv_head(
    emit: _Emitter, names: Sequence[str], dialect: Dialect, *, bom: bool | None = None
) -> None:
    if dialect.bom if bom is None else bom:
        emit.out.write(_BOMS.get(dialect.encoding, b""))
    emit.out.write(dialect.preamble)
    emit(_header_line(names, dialect).encode("utf-8"))


def _write_csv_rows(
    emit: _Emitter,
    columns: Sequence[pa.ChunkedArray],
    dialect: Dialect,
    side: SideWork | None = None,
) -> None:
    """The records of string columns, each value quoted only where it must be: the same
    bytes whether the rows come in one piece or in several."""
    n = len(columns[0]) if columns else 0
    pattern = _quote_needed_pattern(dialect.delimiter)
    specials = quoted_bytes(dialect.delimiter)
    check = [_may_need_quotes(c, specials) for c in columns]
    eol = pa.scalar(dialect.eol.encode("utf-8"), pa.binary())
    sep = pa.scalar(dialect.delimiter.encode("utf-8"), pa.binary())

    def render(start: int) -> pa.Array:
        cols = [
            _cells(combined(c.slice(start, BATCH_ROWS)), pattern if may else None)
            for c, may in zip(columns, check, strict=True)
        ]
        # The line end rides on the last value, so whole rows are copied once.
        cols[-1] = pc.binary_join_element_wise(cols[-1], eol, pa.scalar(b"", pa.binary()))
        lines: pa.Array = cols[0] if len(cols) == 1 else pc.binary_join_element_wise(*cols, sep)
        return lines

    if n <= BATCH_ROWS:  # one batch (always so for a big export's batches): no thread
        if n:
            emit(_string_buffer(render(0)))
        return
    # Arrow kernels release the GIL: render the next batches while this one is written.
    with side_work(side, WRITE_THREADS) as work:
        # Every core renders while this thread writes.
        for lines in work.map(render, range(0, n, BATCH_ROWS), WRITE_THREADS + 1):
            emit(_string_buffer(lines))


#: What a character the output encoding cannot hold is written as (after the
#: look-alikes of typographic punctuation below): ``★ VIP`` in a cp1252 file is ``? VIP``.
REPLACEMENT = "?"


def encode_text(text: str, encoding: str) -> tuple[bytes, int]:
    """``text`` in ``encoding``, and how many characters were replaced: typographic
    punctuation the encoding lacks by its plain look-alike (``—`` -> ``-``, not counted),
    any other character it cannot hold (``★``, an emoji) by :data:`REPLACEMENT`
    (counted). The export's own values always encode: they were read in it; only what
    ordertags adds (tag labels, notes) can need this.

    >>> encode_text("★ VIP — wax", "cp1252")
    (b'? VIP \\x97 wax', 1)
    """
    try:
        return text.encode(encoding, errors=_PLAIN_PUNCTUATION), 0
    except UnicodeEncodeError:
        pass
    bad = {}
    for ch in set(text):
        if ch in _LOOK_ALIKES:
            continue
        try:
            ch.encode(encoding)
        except UnicodeEncodeError:
            bad[ord(ch)] = REPLACEMENT
    count = sum(text.count(chr(c)) for c in bad)
    return text.translate(bad).encode(encoding, errors=_PLAIN_PUNCTUATION), count


#: Typographic punctuation in added text (tag labels: "VIP — add a note") that an
#: export's encoding lacks (cp932 has no em dash), written as its plain look-alike. The
#: export's own values never reach this: they were read in that encoding.
_LOOK_ALIKES = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2012": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "*",
    "\u00b7": "*",
}
_PLAIN_PUNCTUATION = "ordertags-plain-punctuation"


def _look_alike(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chars = exc.object[exc.start : exc.end]
    if all(c in _LOOK_ALIKES for c in chars):
        return "".join(_LOOK_ALIKES[c] for c in chars), exc.end
    raise exc


codecs.register_error(_PLAIN_PUNCTUATION, _look_alike)


def _string_buffer(arr: pa.Array) -> memoryview:
    """The bytes of all values of a string array, back to back."""
    if arr.type == pa.large_string():
        arr = arr.cast(pa.string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    return memoryview(arr.buffers()[2])[start:end]


# --- JSON ------------------------------------------------------------------------------


def _dump(value: Any) -> str:
    """JSON text with numbers written exactly as they were read."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{json.dumps(k, ensure_ascii=False)}: {_dump(v)}" for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _json_records(table: OrderTable, extra: dict[str, pa.ChunkedArray]) -> list[dict[str, Any]]:
    added = {name: col.to_pylist() for name, col in extra.items()}
    if table.records is not None:
        base = table.records
    else:  # a CSV converted to JSON: every value is text
        cols = [table.column(i).to_pylist() for i in range(len(table.columns))]
        base = (
            [dict(zip(table.columns, vals, strict=True)) for vals in zip(*cols, strict=True)]
            if cols
            else [{} for _ in range(table.num_rows)]
        )
    out = []
    for i, rec in enumerate(base):
        merged = dict(rec)
        for name, values in added.items():
            merged[name] = values[i]
        out.append(merged)
    return out


def write_json_table(
    out: BinaryIO, table: OrderTable, extra: dict[str, pa.ChunkedArray], *, ndjson: bool = False
) -> None:
    """Write a table's records plus the added columns as a JSON array or NDJSON."""
    records = _json_records(table, extra)
    if ndjson:
        out.write("".join(_dump(r) + "\n" for r in records).encode("utf-8"))
        return
    body = ",\n".join("  " + _dump(r) for r in records)
    text = "[\n" + body + "\n]\n" if records else "[]\n"
    if table.json_wrapper and table.records is not None:
        # The wrapping object keeps its other keys (paging, counts) where they were.
        document = table.json_document or {table.json_wrapper: None}
        parts = [
            json.dumps(k, ensure_ascii=False)
            + ": "
            + (text.rstrip("\n") if k == table.json_wrapper else _dump(v))
            for k, v in document.items()
        ]
        text = "{" + ", ".join(parts) + "}\n"
    out.write(text.encode("utf-8"))


# --- one table with added columns -------------------------------------------------------


def write_table(
    out: BinaryIO,
    table: OrderTable,
    extra: dict[str, pa.ChunkedArray],
    *,
    output_format: str | None = None,
    encoding: str | None = None,
    profile_first: bool = False,
    lead: Sequence[str] = (),
    colour_column: str | None = None,
    excel_safe: bool = False,
    side: SideWork | None = None,
) -> int:
    """Write ``table`` with ``extra`` columns (name -> values; a name already in the
    header is replaced in place, so applying to an annotated file refreshes it). CSV is
    written in the export's own encoding, or ``encoding`` (``--output-encoding``).
    Returns how many characters the encoding could not hold (replaced).

    As ``xlsx``, the columns named in ``lead`` come first and each row is filled with
    the colour in its ``colour_column`` (see :func:`ordertags.io.xlsx.write_xlsx`); every
    cell is text there, never a formula.

    With ``excel_safe`` (CSV only), every cell a spreadsheet would run as a formula gets
    a leading ``'`` (:mod:`ordertags.io.safecsv`); plain numbers stay numbers in every
    column, as which columns hold numbers is the export's business. Off by default, so
    that every original value comes back byte for byte.

    A big export read in two passes is written by copying each record's bytes where
    :func:`copy_plan` says it can be, else a batch at a time. ``side``: the run's pool
    (:mod:`ordertags.base.sidework`), where the next batch is read or rendered."""
    fmt = output_format or table.kind
    if table.skip_rows is not None:
        # Report lines inside the data (eBay's "record(s) downloaded") are no orders:
        # they get no tags.
        skip = pa.array(table.skip_rows)
        extra = {
            name: pa.chunked_array([pc.if_else(skip, "", _whole(values))])
            for name, values in extra.items()
        }
    if fmt in ("json", "ndjson"):
        write_json_table(out, table, extra, ndjson=fmt == "ndjson")
        return 0
    names = list(table.columns)
    # Per output column: the export's own column (its position) or added values.
    plan: list[int | pa.ChunkedArray] = list(range(len(names)))
    at = len(names)
    if profile_first:
        # Right after the order number (the first column where there is none), where a
        # packer sees them without scrolling; re-importing such a file into the shop
        # system may need its column mapping adjusted, hence not the default.
        found = map_profile(table.columns, table.profile).get("order_id")
        at = 0 if found is None else found + 1
    for name, values in extra.items():
        if name in names:
            plan[names.index(name)] = values
        else:
            names.insert(at, name)
            plan.insert(at, values)
            at += 1
    if fmt == "xlsx":
        # Lazy: XlsxWriter takes tens of ms to import; only a spreadsheet needs it.
        from ordertags.io.xlsx import write_xlsx

        columns = [table.column(p) if isinstance(p, int) else p for p in plan]
        write_xlsx(out, names, columns, lead=lead, colour_column=colour_column)
        return 0
    dialect = table.dialect if table.kind == "csv" else Dialect()
    if encoding and codecs.lookup(encoding).name != dialect.encoding:
        # The lines around the records (eBay's title, Excel's sep=) are kept as bytes in
        # the export's encoding: written in the output's.
        new = codecs.lookup(encoding).name
        dialect = dataclasses.replace(
            dialect,
            encoding=new,
            preamble=encode_text(dialect.preamble.decode(dialect.encoding, "replace"), new)[0],
            trailer=encode_text(dialect.trailer.decode(dialect.encoding, "replace"), new)[0],
        )
    if table.lazy is not None and table.kind == "csv":
        copy = copy_plan(
            fmt,
            encoding,
            profile_first=profile_first,
            excel_safe=excel_safe,
            table=table,
            plan=plan,
            dialect=dialect,
        )
        if copy.records is not None:
            _write_raw(out, table, names, plan, dialect, copy.records)
            return 0
        return _write_batches(out, table, names, plan, dialect, excel_safe=excel_safe, side=side)
    columns = [table.column(p) if isinstance(p, int) else p for p in plan]
    if excel_safe:
        columns = [pa.chunked_array([neutralise_column(c, numeric=True)]) for c in columns]
    return write_csv_table(out, names, columns, dialect, side=side)


def _read_ahead(
    items: Iterator[Any], depth: int = 2, side: SideWork | None = None
) -> Generator[Any, None, None]:
    """``items``, made on the run's pool (``side``; else a thread of its own) up to
    ``depth`` ahead of their use (:meth:`ordertags.base.sidework.SideWork.read_ahead`):
    the next batch is parsed while this one is written."""
    with side_work(side, 1) as work:
        yield from work.read_ahead(items, depth)


def _write_batches(
    out: BinaryIO,
    table: OrderTable,
    names: list[str],
    plan: list[int | pa.ChunkedArray],
    dialect: Dialect,
    *,
    excel_safe: bool,
    side: SideWork | None = None,
) -> int:
    """Write a big export read in two passes: its records come from the file again, a
    batch at a time, each with its slice of the added columns: the bytes
    :func:`write_csv_table` writes for the whole table, in the memory of a batch."""
    assert table.lazy is not None
    emit = _Emitter(out, dialect.encoding)
    _write_csv_head(emit, names, dialect)
    start = 0
    for batch in _read_ahead(table.lazy.batches(batch_bytes()), side=side):
        n = batch.num_rows
        columns = [
            pa.chunked_array([batch.column(p)]) if isinstance(p, int) else p.slice(start, n)
            for p in plan
        ]
        if excel_safe:
            columns = [pa.chunked_array([neutralise_column(c, numeric=True)]) for c in columns]
        _write_csv_rows(emit, columns, dialect)
        start += n
    if start != table.num_rows:
        raise NotStreamable(f"{start} records on the second reading, {table.num_rows} on the first")
    out.write(dialect.trailer)
    return emit.replaced


@dataclass(frozen=True)
class CopyPlan:
    """Whether an export's records are written by copying their bytes as they are
    (:mod:`ordertags.io.rawrows`), and where they are; else why not."""

    reason: str = ""  # "" where they are copied
    records: RecordMap | None = None

    def __bool__(self) -> bool:
        return not self.reason


def copy_plan(
    output_format: str | None,
    encoding: str | None,
    *,
    profile_first: bool,
    excel_safe: bool,
    table: OrderTable | None = None,
    plan: Sequence[int | pa.ChunkedArray] = (),
    dialect: Dialect | None = None,
) -> CopyPlan:
    """Can an export be written by copying each record's bytes, and the added values
    after them? That gives the bytes a re-rendering gives only where the output is CSV
    in UTF-8, every value is written as it was (not made Excel-safe), the export's
    columns stay in their place with the added ones at the end, and the file's records
    are quoted as the writer would quote them, its header as it would be written. A
    column of the export whose values change (``set:``, or the tag columns of an
    annotated file applied again) is spliced into the records where it changes
    (:func:`_splice`).

    A run asks with its options alone, before reading (to find the records alongside
    the first pass: :meth:`ordertags.io.readers.LazyCsv.start_scan`); the writer asks
    with the ``table``, the output columns (``plan``: the export's column positions or
    added values) and the output ``dialect``, and then gets the records found.

    >>> copy_plan("xlsx", None, profile_first=False, excel_safe=False).reason
    'the output is xlsx, not CSV'
    """
    if excel_safe:
        return CopyPlan("cells a spreadsheet would run are made inert")
    if profile_first:
        return CopyPlan("the added columns go after the order number, not at the end")
    if output_format not in (None, "csv"):
        return CopyPlan(f"the output is {output_format}, not CSV")
    try:
        if encoding is not None and codecs.lookup(encoding).name != "utf-8":
            return CopyPlan(f"the output is written in {encoding}, not UTF-8")
    except LookupError:  # said when the file is written
        return CopyPlan(f"the output encoding {encoding} is not known")
    if table is None:
        return CopyPlan()
    lazy = table.lazy
    if lazy is None or table.kind != "csv":
        return CopyPlan("the export is not read in two passes")
    if dialect is None or dialect.encoding != "utf-8":
        return CopyPlan("the output is not UTF-8")
    width = len(table.columns)
    added = [p for p in plan[width:] if not isinstance(p, int)]
    if not all(p == i for i, p in enumerate(plan[:width]) if isinstance(p, int)):
        return CopyPlan("a column of the export is moved")
    replaced = [i for i, p in enumerate(plan[:width]) if not isinstance(p, int)]
    if not (added or (replaced and width > 1)) or len(plan) != width + len(added):
        return CopyPlan("no columns are added at the end")
    try:
        records = lazy.records()
    except NotRaw as exc:
        return CopyPlan(f"the export's records are not as the writer writes them: {exc}")
    if records.count != table.num_rows:
        return CopyPlan("the records found are not the rows read")
    header = _header_line(table.columns, dialect).encode("utf-8")
    with open(lazy.path, "rb") as fh:
        fh.seek(records.header[0])
        if fh.read(records.header[1]) != header:
            return CopyPlan("the header would be written otherwise")
    return CopyPlan(records=records)


def _write_raw(
    out: BinaryIO,
    table: OrderTable,
    names: list[str],
    plan: list[int | pa.ChunkedArray],
    dialect: Dialect,
    records: RecordMap,
) -> None:
    """Write a big export read in two passes by copying each record's own bytes
    (``records``, where :func:`copy_plan` found them) and adding the new values after
    them: the bytes :func:`_write_batches` would write. The file may turn out to have
    changed since the first pass: then what was written is taken back."""
    assert table.lazy is not None
    added = [p for p in plan[len(table.columns) :] if not isinstance(p, int)]
    replaced = [i for i, p in enumerate(plan[: len(table.columns)]) if not isinstance(p, int)]
    spliced = [p for p in plan[: len(table.columns)] if not isinstance(p, int)]
    begin = out.tell()
    emit = _Emitter(out, dialect.encoding)
    _write_csv_head(emit, names, dialect)
    pattern = _quote_needed_pattern(dialect.delimiter)
    specials = quoted_bytes(dialect.delimiter)
    check = [_may_need_quotes(c, specials) for c in added]
    check_spliced = [_may_need_quotes(c, specials) for c in spliced]
    sep = pa.scalar(dialect.delimiter.encode("utf-8"), pa.binary())
    eol = dialect.eol.encode("utf-8")
    start = 0
    try:
        for values in raw_blocks(table.lazy.path, records):
            n = len(values)
            for pos, c, may in zip(replaced, spliced, check_spliced, strict=True):
                cell = _cells(combined(c.slice(start, n)), pattern if may else None)
                values = _splice(values, pos, len(table.columns), cell, dialect)
            cols = [values]
            for c, may in zip(added, check, strict=True):
                cols.append(_cells(combined(c.slice(start, n)), pattern if may else None))
            emit(_string_buffer(pc.binary_join_element_wise(*cols, sep)))
            emit(eol)
            start += n
    except NotRaw:
        # The file changed since the first pass: read it whole.
        out.seek(begin)
        out.truncate()
        raise NotStreamable("the export changed while it was read") from None
    out.write(dialect.trailer)


def _splice(values: pa.Array, pos: int, width: int, cells: pa.Array, dialect: Dialect) -> pa.Array:
    """The records of a block (``values``: one binary value each, as
    :func:`ordertags.io.rawrows.raw_blocks` gives them: every record but the first
    starts with the line end before it) with field ``pos`` (of ``width``) replaced by
    ``cells`` (its CSV text per record, quoted as the writer quotes). The records were
    checked to be quoted as the writer quotes (:func:`copy_plan`), so a delimiter
    outside quotes ends a field: every record has ``width - 1`` of them, found for the
    whole block at once (numpy); each record is then cut into its bytes before the
    field, the field and its bytes after, zero-copy, and joined again around the new
    text. A field whose text does not change comes back as it was (the writer's
    quoting of the same value)."""
    n = len(values)
    if n == 0:
        return values
    offsets_buf, data_buf = values.buffers()[1:3]
    offs = np.frombuffer(offsets_buf, dtype=np.int32)[values.offset : values.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    lo, hi = int(offs[0]), int(offs[-1])
    block = data[lo:hi]
    delim = dialect.delimiter.encode("utf-8")[0]
    cuts = np.flatnonzero(block == delim)
    quotes = np.flatnonzero(block == QUOTE)
    if len(quotes):
        cuts = cuts[np.searchsorted(quotes, cuts) % 2 == 0]
    if len(cuts) != n * (width - 1):
        raise NotRaw("a record with another number of fields")
    cuts = cuts.astype(np.int32).reshape(n, width - 1) + np.int32(lo)
    start: np.ndarray[Any, Any]
    if pos == 0:
        start = offs[:-1].copy()
        start[1:] += len(dialect.eol.encode("utf-8"))
    else:
        start = cuts[:, pos - 1] + 1
    end = cuts[:, pos] if pos < width - 1 else offs[1:]
    bounds = np.empty(3 * n + 1, dtype=np.int32)
    bounds[0:-1:3], bounds[1:-1:3], bounds[2:-1:3], bounds[-1] = offs[:-1], start, end, hi
    parts = pa.Array.from_buffers(pa.binary(), 3 * n, [None, pa.py_buffer(bounds), data_buf])
    before = parts.take(pa.array(np.arange(0, 3 * n, 3)))
    after = parts.take(pa.array(np.arange(2, 3 * n, 3)))
    empty = pa.scalar(b"", pa.binary())
    result: pa.Array = pc.binary_join_element_wise(before, cells, after, empty)
    return result


def _cells(arr: pa.Array, pattern: str | None) -> pa.Array:
    """The CSV text of an added column's values as binary, quoted (``pattern``: what
    needs quotes) where they must be. A dictionary column (tag texts: a few distinct
    values) is quoted once per distinct value, then taken for every row."""
    if pa.types.is_dictionary(arr.type):
        values = pc.fill_null(arr.dictionary.cast(pa.string()), "")
        indices = arr.indices
        if arr.null_count:  # a null row is a blank cell: one more value, ""
            values = pa.concat_arrays([values, pa.array([""], pa.string())])
            indices = pc.fill_null(indices, len(values) - 1)
        cells: pa.Array = _cells(values, pattern).take(indices)
        return cells
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    text = _quoted(arr, pattern) if pattern is not None else arr
    return text.cast(pa.binary())


def _whole(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values


def write_output(
    path: str | os.PathLike[str],
    writer: Any,
    *,
    mode: int | None = None,
    before_commit: Callable[[], None] | None = None,
    stage: Staged | None = None,
) -> None:
    """Run ``writer(binary_file)`` into ``path`` atomically, or into stdout for ``-``. A
    new file gets ``mode`` (default 0600: orders and lists hold personal data).
    ``before_commit`` runs once the file is written, before it is put in place: what it
    raises leaves ``path`` as it was. With ``stage``, the file is put in place with the
    run's other outputs (:class:`ordertags.base.files.Staged`)."""
    if str(path) == "-":
        buf = sys.stdout.buffer
        writer(buf)
        buf.flush()
        if before_commit is not None:
            before_commit()
        return
    with atomic_writer(path, durable=False, mode=mode, stage=stage) as fh:
        writer(fh)
        if before_commit is not None:
            before_commit()
