"""Reading order exports: CSV/TSV/semicolon text and JSON, every value as text.

A file is read as bytes; a leading ``[`` or ``{`` means JSON (an array of objects, an
object with an ``orders`` list, or one object a line); anything else is delimited text.
The header is looked for in the first lines (an eBay report has a title line before it,
Excel may add ``sep=;``), the platform profile is picked from it
(:mod:`ordertags.io.platforms`), and the delimiter is sniffed from a sample unless given.
Every column is kept as text, so ``007`` stays ``007`` and ``0.00`` stays ``0.00``; only
the fields a rule computes on are converted later (:mod:`ordertags.io.values`). Lines before
the header and eBay's trailer lines are kept as bytes, to be written back as they were.
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
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ordertags.base.files import BOM
from ordertags.base.sidework import SideWork
from ordertags.errors import InputError, param
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.platforms import (
    GENERIC,
    MAX_PREAMBLE,
    Detection,
    Profile,
    find_header,
    get_profile,
    is_junk_row,
    resolve_profile,
    split_line,
)
from ordertags.io.rawrows import RecordMap, scan_records
from ordertags.io.sniff import (
    OTHER_ENCODING,
    SNIFF_BYTES,
    check_not_binary,
    sniff_delimiter,
    utf16_codec,
    utf16_to_utf8,
)

#: What a --format or --mapping value may be: a name, a path, or a profile already made.
ProfileSpec = str | Profile | None
MappingSpec = str | os.PathLike[str] | Profile | None


class RawNumber(str):
    """A JSON number kept as the text it was written as (``12.50`` stays ``12.50``)."""


@dataclass(frozen=True)
class Dialect:
    """How a delimited file was written, so that it can be written back the same way:
    also the bytes before its header (``preamble``: a title, ``sep=,``) and after its
    last row (``trailer``: eBay's ``83 record(s) downloaded``), written back unchanged."""

    delimiter: str = ","
    eol: str = "\n"
    bom: bool = False
    encoding: str = "utf-8"
    preamble: bytes = b""
    trailer: bytes = b""
    #: Where the encoding came from: "utf-8" (it decoded as UTF-8), "given"
    #: (``--encoding``), "<platform> writes it" (the platform's known encoding) or
    #: "detected" (by charset-normalizer).
    encoding_source: str = "utf-8"

    def describe_encoding(self) -> str:
        """``cp1252 (ebay-de writes it)``, ``utf-8``: for the summary and ``inspect``."""
        if self.encoding_source in ("utf-8", ""):
            return self.encoding
        return f"{self.encoding} ({self.encoding_source})"


@dataclass
class OrderTable:
    """One export as read: its header and its values, all text.

    ``table`` holds one string column per header column, named by position
    (``c0``, ``c1``, ...) so that repeated header names survive. ``profile`` is the
    platform profile it is read with (``detected``: the header columns that picked it;
    empty when forced or generic). ``skip_rows`` marks rows that are not orders (eBay's
    ``record(s) downloaded`` lines inside the data), None when there are none.
    """

    source: str
    kind: str  # "csv", "json" or "ndjson"
    columns: list[str]
    table: pa.Table
    dialect: Dialect = field(default_factory=Dialect)
    records: list[dict[str, Any]] | None = None  # JSON: the objects, for writing back
    json_wrapper: str | None = None  # JSON: the key of the list, when it was {"orders": [...]}
    profile: Profile = GENERIC
    detected: tuple[str, ...] = ()
    header_row: int = 1
    skip_rows: np.ndarray[Any, np.dtype[np.bool_]] | None = None
    json_document: dict[str, Any] | None = None  # JSON: the wrapping object, all its keys
    #: Data handed in from Python (kind ``arrow``): the table as given, with its types,
    #: which :meth:`ordertags.engine.pipeline.Annotated.to_arrow` gives back.
    original: pa.Table | None = None
    #: What a run reading this export should tell its reader (an encoding chosen by a
    #: heuristic: :data:`MAC_ROMAN_WARNING`).
    warnings: list[str] = field(default_factory=list)
    #: A CSV read in two passes (:func:`read_orders_lazily`): ``table`` holds only the
    #: columns read so far (named ``c<i>``), the others are read on first use.
    lazy: LazyCsv | None = None

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def row_offset(self) -> int:
        """Add to a 0-based row index to get the row a person sees: in CSV the header
        is row 1 (as in a spreadsheet; later when lines come before it); in JSON the
        first object is row 1."""
        return self.header_row + 1 if self.kind == "csv" else 1

    def column(self, i: int) -> pa.ChunkedArray:
        if self.lazy is None:
            return self.table.column(i)
        name = f"c{i}"
        if name not in self.table.column_names:
            got = self.lazy.read_columns([i])
            self.table = self.table.append_column(name, got.column(0))
        return self.table.column(name)


#: Bytes read at a time when a progress callback follows the reading.
PROGRESS_CHUNK = 4 << 20


def _read_bytes(
    path: str | os.PathLike[str], progress: Callable[[int], None] | None = None
) -> tuple[bytes, str]:
    if os.fspath(path) == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    p = Path(path)
    try:
        if progress is None:
            return p.read_bytes(), str(p)
        parts = []
        with p.open("rb") as fh:
            while chunk := fh.read(PROGRESS_CHUNK):
                parts.append(chunk)
                progress(len(chunk))
        return b"".join(parts), str(p)
    except FileNotFoundError:
        raise InputError("no such file.", file=str(p), hint="Check the path.") from None
    except IsADirectoryError:
        raise InputError("this is a folder, not an order export.", file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}.", file=str(p)) from None


def read_orders(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    profile: ProfileSpec = None,
    mapping: MappingSpec = None,
    progress: Callable[[int], None] | None = None,
) -> OrderTable:
    """Read one order export (``-`` for stdin) with every value as text.

    ``profile`` forces a platform profile by name (``--format``); ``mapping`` is a
    mapping file (``--mapping``) laid over the profile. ``progress``, when given, is
    called with the number of bytes read after each chunk of a file (not of stdin).

    >>> orders = read_orders("examples/orders.csv")
    >>> orders.columns[:3], orders.num_rows, orders.profile.name
    (['Order Id', 'Reference Num', 'Source'], 16, 'generic')
    """
    data, name = _read_bytes(path, progress)
    return parse_orders(
        data, source=name, encoding=encoding, delimiter=delimiter, profile=profile, mapping=mapping
    )


class ArrowStream(Protocol):
    """Anything that hands out its data as an Arrow stream (the Arrow PyCapsule
    interface): a pyarrow Table, a polars DataFrame, a DuckDB relation ..."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


#: Orders as a Python caller may hand them in: a path (``-``: stdin), a table already
#: read, a pandas DataFrame or any :class:`ArrowStream`.
OrderSource = str | os.PathLike[str] | OrderTable | ArrowStream | Any


def _is_pandas_frame(data: object) -> bool:
    # Only a caller that has imported pandas can hold a DataFrame: pandas is never
    # imported here.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def table_from_data(data: object, *, source: str, options: ReadOptions = DEFAULT) -> OrderTable:
    """Orders handed in as a pandas DataFrame or an Arrow stream (pyarrow, polars ...):
    every value read as text, as from a file (a missing value is blank); the platform
    profile is picked from the column names as for a file. Anything else raises
    :class:`ordertags.errors.InputError`.

    >>> t = table_from_data(pa.table({"Email": ["a@b.com"], "Total": [9.5]}), source="df")
    >>> t.columns, t.table.column(1).to_pylist()
    (['Email', 'Total'], ['9.5'])
    """
    if _is_pandas_frame(data):
        columns = [str(c) for c in data.columns]  # type: ignore[attr-defined]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:  # pyarrow would raise a bare ValueError
            raise InputError(
                f"the DataFrame has more than one column named {', '.join(map(repr, twice))}.",
                file=source,
                hint="Give each column its own name (df.columns), or drop the copies.",
            )
        try:
            arrow = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(
                f"the DataFrame cannot be read: {exc}.",
                file=source,
                hint="Give columns of text or numbers (df.astype(str) turns any into text).",
            ) from None
    elif hasattr(data, "__arrow_c_stream__"):
        arrow = pa.table(data)
    else:
        raise InputError(
            f"orders cannot be read from a {type(data).__name__}.",
            file=source,
            hint="Give a path to an export, a pandas DataFrame, or a table with "
            "__arrow_c_stream__ (a pyarrow Table, a polars DataFrame).",
        )
    names = [str(n) for n in arrow.column_names]
    texts = []
    for name, col in zip(names, arrow.columns, strict=True):
        try:
            text = col.cast(pa.string()) if col.type != pa.string() else col
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(
                f'column "{name}" holds {col.type} values, which cannot be read as text.',
                file=source,
                hint="Give that column as text, or leave it out.",
            ) from None
        texts.append(pc.fill_null(text, ""))
    table = pa.Table.from_arrays(texts, names=[f"c{i}" for i in range(len(names))])
    forced = get_profile(options.profile) if options.profile else None
    detection = resolve_profile(names, format=forced, mapping=options.mapping_path)
    return OrderTable(
        source=source,
        kind="arrow",
        columns=names,
        table=table,
        profile=detection.profile,
        detected=detection.matched,
        original=arrow,
    )


def read_exports(
    orders: Sequence[OrderSource],
    options: ReadOptions = DEFAULT,
    progress: Callable[[int], None] | None = None,
) -> list[OrderTable]:
    """Read several exports (paths, ``-`` for stdin, tables already read, pandas
    DataFrames or Arrow streams) as ``options`` say; ``progress`` follows the bytes
    read (see :func:`read_orders`).

    >>> [t.profile.name for t in read_exports(["examples/shopify_orders.csv"])]
    ['shopify']
    """
    out = []
    for i, o in enumerate(orders):
        if isinstance(o, OrderTable):
            out.append(o)
        elif isinstance(o, str | os.PathLike):
            out.append(
                read_orders(
                    os.fspath(o),
                    encoding=options.encoding,
                    delimiter=options.delimiter,
                    profile=options.profile,
                    mapping=options.mapping_path,
                    progress=progress,
                )
            )
        else:
            out.append(table_from_data(o, source=f"<{type(o).__name__} {i + 1}>", options=options))
    return out


def parse_orders(
    data: bytes,
    *,
    source: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    profile: ProfileSpec = None,
    mapping: MappingSpec = None,
) -> OrderTable:
    """Parse an export held in memory (see :func:`read_orders`)."""
    if encoding:
        _check_encoding(encoding, source)
    wide = utf16_codec(data[:SNIFF_BYTES], encoding)
    if wide is not None:
        return _parse_utf16(
            data, wide, source=source, delimiter=delimiter, profile=profile, mapping=mapping
        )
    forced = get_profile(profile) if isinstance(profile, str) else profile
    bom = data.startswith(BOM)
    body = data[len(BOM) :] if bom else data
    head = body[:4096].lstrip()
    if not head and not body.strip():
        raise InputError(
            "the file is empty.",
            file=source,
            hint="Export the orders again; the file has no header and no rows.",
        )
    if encoding is None:
        check_not_binary(body[:SNIFF_BYTES], source)
    enc = _check_encoding(encoding, source) if encoding else None
    if _looks_like_json(head) and delimiter is None:
        text = _decode(body, enc or "utf-8", source, len(BOM) if bom else 0)
        table = _parse_json(text, source=source, bom=bom, encoding=enc or "utf-8")
        detection = resolve_profile(table.columns, format=forced, mapping=mapping)
        table.profile, table.detected = detection.profile, detection.matched
        return table
    return _parse_csv(
        body,
        source=source,
        bom=bom,
        encoding=enc,
        delimiter=delimiter,
        profile=forced,
        mapping=mapping,
    )


def _parse_utf16(
    data: bytes,
    wide: tuple[str, int],
    *,
    source: str,
    delimiter: str | None,
    profile: ProfileSpec,
    mapping: MappingSpec,
) -> OrderTable:
    """A UTF-16 export (Excel's "Unicode Text": UTF-16 little-endian with a BOM,
    tab-separated), read as the same text in UTF-8 and written back in UTF-16 as it was
    (its BOM, byte order, and lines before and after its records)."""
    codec, skip = wide
    table = parse_orders(
        utf16_to_utf8(data, codec, skip, source),
        source=source,
        encoding="utf-8",
        delimiter=delimiter,
        profile=profile,
        mapping=mapping,
    )
    if table.kind == "csv":
        d = table.dialect
        table.dialect = dataclasses.replace(
            d,
            encoding=codec,
            bom=skip > 0,
            preamble=d.preamble.decode("utf-8").encode(codec),
            trailer=d.trailer.decode("utf-8").encode(codec),
            encoding_source="its byte order mark" if skip else "detected",
        )
    return table


def _looks_like_json(head: bytes) -> bool:
    """A leading ``[`` or ``{`` that JSON could continue: ``[{``, ``[]``, ``{"``... (a CSV
    header may begin with a column named ``[``, which is followed by its delimiter)."""
    if head[:1] not in (b"[", b"{"):
        return False
    rest = head[1:].lstrip()[:1]
    if head[:1] == b"{":
        return rest in (b'"', b"}", b"")
    return rest == b"" or rest in b'{["]-0123456789tfn'


def _check_encoding(encoding: str, source: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(
            f'unknown encoding "{encoding}".',
            file=source,
            hint="Use utf-8, cp1252, mac_roman, utf-16, latin-1 or cp932.",
        ) from None


def _decode(data: bytes, encoding: str, source: str, base: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _decode_error(exc, encoding, source, base) from None


def _decode_error(exc: UnicodeDecodeError, encoding: str, source: str, base: int = 0) -> InputError:
    return InputError(
        f"cannot decode byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start + base} "
        f"as {encoding}.",
        file=source,
        hint=OTHER_ENCODING,
    )


# --- delimited text ------------------------------------------------------------------


def _parse_csv(
    body: bytes,
    *,
    source: str,
    bom: bool,
    encoding: str | None,
    delimiter: str | None,
    profile: Profile | None,
    mapping: MappingSpec,
) -> OrderTable:
    head = _head(body, source)
    found = find_header(
        head,
        encoding=encoding or "utf-8",
        delimiter=_delimiter_option(delimiter, source),
        profile=profile,
    )
    preamble, data = body[: found.start], body[found.start :]
    sample_bytes = data[: max(SNIFF_BYTES, len(head) - found.start)]
    sample = sample_bytes.decode(encoding or "utf-8", errors="replace")
    delim = found.delimiter or sniff_delimiter(sample[:SNIFF_BYTES], delimiter)
    if len(delim) != 1:
        raise InputError(f'the delimiter must be one character, not "{delim}".', file=source)
    eol = _header_line_end(sample_bytes)
    try:
        header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except (StopIteration, csv.Error):
        header = []
    if len(header) > MAX_COLUMNS:
        raise InputError(
            f"the header has {len(header):,} columns; ordertags reads at most {MAX_COLUMNS:,} "
            "(an order export has a few hundred at most).",
            file=source,
            hint=f"Check that this is an order export and that {param('read.delimiter')} is right.",
        )
    if not header or all(not h.strip() for h in header):
        raise InputError(
            "the first line is not a header.",
            file=source,
            hint="The first line must name the columns.",
        )
    detection = resolve_profile(header, format=profile or found.detection.profile, mapping=mapping)
    if not profile:
        detection = Detection(detection.profile, found.detection.matched)
    chosen = detection.profile
    trailer = b""
    if chosen.skip_junk:
        data, trailer = _cut_trailer(data, delim, encoding or "utf-8")
    if b"\n" not in data and b"\r" not in data:
        data += eol.encode()  # a header alone, with no line end: pyarrow wants one
    tries = (
        [encoding]
        if encoding
        else ["utf-8"]
        if bom
        else ["utf-8", *_fallbacks(chosen, sample_bytes)]
    )
    how = {tries[0]: "given" if encoding else "utf-8"}
    how.update(dict.fromkeys(tries[1:], f"{chosen.name} writes it"))
    table: pa.Table | None = None
    base = (len(BOM) if bom else 0) + len(preamble)

    def read_as(used: str, last: bool) -> pa.Table | None:
        return _read_table(
            data,
            source=source,
            encoding=used,
            delimiter=delim,
            width=len(header),
            last=last,
            base=base,
            row_base=found.line,
        )

    for used in tries:
        table = read_as(used, encoding is not None or bom)
        if table is not None:
            break
    if table is None:
        # Neither UTF-8 nor the platform's own encoding: ask a detector. (A file with a
        # UTF-8 BOM says it is UTF-8: a bad byte in it is an error, reported above.)
        used = detect_encoding(data)
        how[used] = "detected"
        table = read_as(used, True)
    if encoding is None and used == "cp1252" and mac_roman_rather(data):
        # The platform's Windows-1252 decodes a Mac Roman file too, into nonsense (an
        # export opened and saved in Excel for Mac).
        used = "mac-roman"
        how[used] = "detected"
        table = read_as(used, True)
    assert table is not None
    _check_quotes(table, data, source=source, delimiter=delim, row_base=found.line)
    _check_nul(table, data, source=source, row_base=found.line)
    # The header came through as row 0 (column_names were given): its names decoded
    # like the values, then dropped.
    if table.num_rows:
        names = [table.column(i)[0].as_py() or "" for i in range(len(header))]
        if len(names) == len(header):
            header = names
    table = table.slice(1)
    # The header's own names, and the profile again if decoding changed them.
    if used != "utf-8" and not profile and mapping is None:
        again = resolve_profile(header)
        if again.profile is not GENERIC:
            detection = again
            chosen = again.profile
    result = OrderTable(
        source=source,
        kind="csv",
        columns=header,
        table=table,
        dialect=Dialect(
            delimiter=delim,
            eol=eol,
            bom=bom,
            encoding=used,
            preamble=preamble,
            trailer=trailer,
            encoding_source=how.get(used, "utf-8"),
        ),
        profile=chosen,
        detected=detection.matched,
        header_row=found.line + 1,
    )
    if chosen.skip_junk and table.num_rows:
        result.skip_rows = _junk_rows(table)
    if used == "mac-roman" and encoding is None:
        result.warnings.append(MAC_ROMAN_WARNING.format(source=source))
    return result


#: What a run says of a file it read as Mac Roman by :func:`mac_roman_rather`.
MAC_ROMAN_WARNING = (
    "{source}: read as Mac Roman (what Excel for Mac saves as CSV), not Windows-1252: "
    "only that way do its accented letters make words. If names look wrong, give "
    "--encoding cp1252; --encoding mac_roman says it is Mac Roman and stops this warning."
)


#: The most columns read: each costs memory whatever the rows (100,000 columns would
#: take over 1 GB), and an order export has a few hundred at most.
MAX_COLUMNS = 10_000
#: The longest header line read (100,000 column names of 20 characters are 2 MB).
MAX_HEADER_BYTES = 16 << 20
#: The longest row (record) read: a value may be as long as this (a 50 MB note is read).
MAX_ROW_BYTES = 128 << 20


def _head(body: bytes, source: str) -> bytes:
    """The first bytes, to find the header in: :data:`SNIFF_BYTES`, or up to the end of
    the first line where that is longer (a header of thousands of columns)."""
    head = body[:SNIFF_BYTES]
    if len(body) <= SNIFF_BYTES or b"\n" in head or b"\r" in head:
        return head
    nl = body.find(b"\n", 0, MAX_HEADER_BYTES)
    if nl < 0:
        if len(body) > MAX_HEADER_BYTES:
            raise InputError(
                f"the first line is longer than {MAX_HEADER_BYTES >> 20} MB: it is not a header.",
                file=source,
                hint="Check that this is an order export (CSV/TSV or JSON).",
            )
        return body
    return body[: nl + 1]


def _delimiter_option(delimiter: str | None, source: str) -> str | None:
    if delimiter is None:
        return None
    d = "\t" if delimiter in ("\\t", "tab", "TAB") else delimiter
    if len(d) != 1:
        raise InputError(f'the delimiter must be one character, not "{d}".', file=source)
    return d


def detect_encoding(data: bytes) -> str:
    """The encoding of text that is not UTF-8.

    Western-European text first: Mac Roman where its reading makes words of the file's
    accented letters and Windows-1252's does not (:func:`mac_roman_rather`); else where
    Windows-1252 (what Excel on Windows writes) decodes the file into Latin letters,
    signs and typographic punctuation only, it is Windows-1252 (a detector cannot tell
    it from its siblings on a few names: ``Müller`` reads the same in cp1250).
    Otherwise charset-normalizer judges the start of the file and the bytes around the
    first one UTF-8 refuses (where the non-ASCII text is), among the encodings sellers'
    exports come in; its best guess that decodes the whole file wins, else Latin-1,
    which decodes anything.

    >>> detect_encoding("Müller;Straße;Größe;Köln;116,99 €\\n".encode("cp1252"))
    'cp1252'
    >>> detect_encoding("注文番号,購入者,金額,配送先住所\\n".encode("cp932"))
    'cp932'
    >>> detect_encoding("Zoë Müller;Straße\\n".encode("mac_roman"))
    'mac-roman'
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        at = exc.start
    if mac_roman_rather(data):
        return "mac-roman"
    if _western(data):
        return "cp1252"
    sample = data[:16_384] + b"\n" + data[max(0, at - 16_384) : at + 16_384]
    # Lazy: its import costs more than reading a small UTF-8 export, which never needs it.
    from charset_normalizer import from_bytes

    for match in from_bytes(sample, cp_isolation=_CANDIDATES):
        names = [match.encoding, *match.could_be_from_charset]
        if "cp1252" in names:
            names.insert(0, "cp1252")
        for name in names:
            if _decodes(data, name):
                return codecs.lookup(name).name
    return "cp1252" if _decodes(data, "cp1252") else "latin-1"


#: What sellers' exports are written in besides UTF-8 (Excel on Windows, old Macs,
#: Central Europe, Japanese and Chinese Windows): a short list keeps the detector from
#: exotic guesses.
_CANDIDATES = ["cp1252", "latin_1", "iso8859_15", "cp1250", "mac_roman", "cp932", "gb18030"]
#: Non-ASCII characters of Western text in Windows-1252: Latin-1 letters and signs, the
#: euro sign and typographic punctuation.
_WESTERN = re.compile(
    "[^\x00-\x7f\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
    "\u20ac\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u2122]"
)


#: Signs that may follow a letter (O’Brien, “word”, Brand™, l·l, a dash).
_AFTER_LETTERS = "’”»›…™®©°²³¹·–—"
_LETTERS = ("Lu", "Ll", "Lt", "Lo")


def _odd_characters(text: str) -> tuple[int, int]:
    """How many non-ASCII characters of ``text`` sit where no language writes them: a
    sign right after a letter (``Fa§``, ``Zo‘``, ``M¸ller``; but ``O’Brien``, ``Brand™``),
    a capital inside a word (``MŸller``, ``CafÈ``), or a byte the encoding does not
    define (U+FFFD); and how many are not Western letters: signs, and characters right
    after another non-ASCII one (Western words have an accent here and there, Japanese
    read in a Western encoding has runs of them). Modifier letters (``ˆ``) are signs."""
    odd = signs = 0
    for m in _NON_ASCII.finditer(text):
        i, c = m.start(), m.group()
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if before >= "\x80":
            signs += 1
        if c == "\ufffd":
            odd += 1
            signs += 1
        elif unicodedata.category(c) in _LETTERS:
            odd += c.isupper() and before.isalpha() and (before.islower() or after.islower())
        else:
            signs += 1
            odd += before.isalpha() and c not in _AFTER_LETTERS
    return odd, signs


_NON_ASCII = re.compile("[^\x00-\x7f]")


def mac_roman_rather(data: bytes) -> bool:
    """Is text that is not UTF-8 Mac Roman (what Excel for Mac saves as "CSV") rather
    than Windows-1252 (Excel on Windows)? Both decode almost any byte, so the bytes
    cannot say for certain; the heuristic: Mac Roman where its reading is Western text
    (at least half of its non-ASCII characters letters in words) and puts fewer characters where
    no language writes them (:func:`_odd_characters`) than the Windows-1252 reading,
    judged on the first 64 KB and the 64 KB around the first non-ASCII byte. Mac
    Roman's accented small letters (``ë ü é``: bytes 0x87-0x9F) are quotes, dashes and
    capitals in Windows-1252 (``Zo‘ MŸller``), and Windows-1252's accented letters
    (0xC0-0xFF) are signs and capitals in Mac Roman (``M¸ller CafÈ``), so names tell the
    two apart; where they do not (a tie: no accented letter in a word), Windows-1252.
    The caller warns when it reads a file as Mac Roman.

    >>> mac_roman_rather("Zoë Müller".encode("mac_roman"))
    True
    >>> mac_roman_rather("Zoë Müller".encode("cp1252")), mac_roman_rather(b"116,99 \\x80")
    (False, False)
    """
    first = _HIGH_BYTE.search(data)
    if first is None:
        return False
    sample = data[:65_536]
    if first.start() >= len(sample):
        sample += b"\n" + data[max(0, first.start() - 32_768) : first.start() + 32_768]
    mac = sample.decode("mac_roman")
    odd, signs = _odd_characters(mac)
    if signs * 2 > len(_NON_ASCII.findall(mac)):
        return False  # not Western text (Japanese, say, in bytes Mac Roman also decodes)
    return odd < _odd_characters(sample.decode("cp1252", errors="replace"))[0]


_HIGH_BYTE = re.compile(b"[\x80-\xff]")


def _western(data: bytes) -> bool:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return _WESTERN.search(text) is None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _fallbacks(profile: Profile, sample: bytes) -> list[str]:
    """The encodings to try after UTF-8 for this profile. Japanese Amazon reports are
    cp932; a cp932 file also decodes as cp1252 (into nonsense), so a report that says
    it is from Amazon.co.jp or in yen is tried as cp932 first."""
    order = list(profile.encodings)
    if "cp932" in order and (b"amazon.co.jp" in sample.lower() or b"\tJPY\t" in sample):
        order.remove("cp932")
        order.insert(0, "cp932")
    return order


def _read_table(
    data: bytes,
    *,
    source: str,
    encoding: str,
    delimiter: str,
    width: int,
    last: bool,
    base: int,
    row_base: int,
) -> pa.Table | None:
    """Parse with pyarrow; None when the bytes do not decode and another encoding is
    to be tried (``last`` False), else an error naming the byte offset."""
    names = [f"c{i}" for i in range(width)]
    bad_rows: list[tuple[int, int]] = []

    def on_bad_row(row: Any) -> str:
        bad_rows.append((row.expected_columns, row.actual_columns))
        return "skip"

    def read(block_size: int) -> pa.Table:
        bad_rows.clear()
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=0,
                encoding="utf8" if encoding == "utf-8" else encoding,
                block_size=block_size,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        try:
            table = read(8 << 20)
        except pa.ArrowInvalid as exc:
            # A row longer than a block: read again in blocks as long as the longest
            # row allowed (only such files pay for the larger blocks).
            if "straddl" not in str(exc) or len(data) <= 8 << 20:
                raise
            try:
                table = read(min(MAX_ROW_BYTES, len(data) + 1))
            except pa.ArrowInvalid as again:
                if "straddl" not in str(again):
                    raise
                raise InputError(
                    f"a row is longer than {MAX_ROW_BYTES >> 20} MB, the most ordertags reads.",
                    file=source,
                    hint="Check the quotes in the file (an unclosed quote makes one long "
                    "value), or shorten the value.",
                ) from None
    except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
        # A decoding failure: the caller may try the next encoding, or (the last one)
        # it is reported with the byte offset. Anything else is not CSV at all.
        if isinstance(exc, UnicodeDecodeError) or "utf8" in str(exc).lower():
            if not last:
                return None
            try:
                data.decode(encoding)
            except UnicodeDecodeError as dec:
                raise _decode_error(dec, encoding, source, base) from None
        raise InputError(
            "this is not a readable CSV file.",
            file=source,
            hint="Check that it is a CSV/TSV export or JSON.",
        ) from None
    if bad_rows:
        raise _ragged_error(
            data,
            source=source,
            encoding=encoding,
            delimiter=delimiter,
            width=width,
            count=len(bad_rows),
            row_base=row_base,
        )
    return table


#: The most line ends one value may hold: a quoted note or address has a few; a value
#: with more is a double quote that was never closed and swallowed the rows after it.
MAX_LINES_IN_VALUE = 200


def _check_quotes(
    table: pa.Table, data: bytes, *, source: str, delimiter: str, row_base: int
) -> None:
    """Refuse a file where a double quote opened a value and never closed where the
    value should end, so that the rows after it were read as part of that value (and
    their orders silently lost). Such a value holds line ends and either more than
    :data:`MAX_LINES_IN_VALUE` of them, or as many delimiters as a whole row (at least
    three), or it runs to the end of the file without a closing quote."""
    if not table.num_columns or not table.num_rows or b'"' not in data:
        return
    suspect = _quote_suspects(table, delimiter, open_at_end=not data.rstrip(b"\r\n").endswith(b'"'))
    if suspect is None:
        return
    width = table.num_columns
    index = int(pc.index(pc.fill_null(suspect, False), True).as_py())
    # The line the row starts on: one per row before it, plus the line ends inside them.
    inner = sum(
        int(pc.sum(pc.count_substring(table.column(i).slice(0, index), "\n")).as_py() or 0)
        for i in range(width)
    )
    raise InputError(
        "a double quote opened a value in this row and is not closed where the value "
        "should end, so the rows after it would be read as part of it.",
        file=source,
        row=index + 1 + row_base,
        line=index + 1 + inner + row_base,
        hint='Fix the quotes in that row (a quote inside a value is written twice: ""), '
        "or re-export the file.",
    )


def _quote_suspects(table: Any, delimiter: str, *, open_at_end: bool) -> pa.Array | None:
    """The rows of ``table`` (a table or a batch of records) whose values look like an
    unclosed double quote swallowed the rows after it (see :func:`_check_quotes`), None
    where there are none; ``open_at_end``: the data does not end with a closing quote, so
    a last value holding a line end ran to the end of the file."""
    width = table.num_columns
    suspect: pa.Array | None = None
    for i in range(width):
        col = table.column(i)
        has_break = pc.match_substring_regex(col, "[\r\n]")
        if not pc.any(has_break).as_py():
            continue
        bad = pc.greater(pc.count_substring(col, "\n"), MAX_LINES_IN_VALUE)
        if width >= 4:
            whole_row = pc.greater_equal(pc.count_substring(col, delimiter), width - 1)
            bad = pc.or_(bad, pc.and_(has_break, whole_row))
        if i > 0:
            bad = pc.or_(bad, _next_row_inside(table, col, has_break, delimiter))
        if i == width - 1:
            # The last value of the file, unclosed: it runs to the end of the data.
            last = col[len(col) - 1].as_py() or ""
            if "\n" in last and open_at_end:
                at_end = np.zeros(len(col), dtype=bool)
                at_end[-1] = True
                bad = pc.or_(bad, pa.array(at_end))
        suspect = bad if suspect is None else pc.or_(suspect, bad)
    if suspect is None or not pc.any(suspect).as_py():
        return None
    return suspect


def _check_nul(table: pa.Table, data: bytes, *, source: str, row_base: int) -> None:
    """Refuse a NUL byte anywhere in the data (the first 64 KB are checked before
    reading: :func:`ordertags.io.sniff.check_not_binary`): it would pass into the
    annotated output, the lists and the history. The message names its row."""
    if b"\x00" not in data:
        return
    for i in range(table.num_columns):
        hit = pc.fill_null(pc.match_substring(table.column(i), "\x00"), False)
        if pc.any(hit).as_py():
            index = int(pc.index(hit, True).as_py())
            raise InputError(
                "a value in this row holds a NUL byte: this is binary data, not an export.",
                file=source,
                row=index + 1 + row_base,
                column=None,
                hint="Export the orders again (a NUL byte is never in a CSV a shop writes).",
            )


def _next_row_inside(table: Any, col: Any, has_break: pa.Array, delimiter: str) -> pa.Array:
    """Rows whose value in ``col`` holds a line end followed by the start of another
    row: a short row ended in an unclosed quote, and the row after it was read into it
    up to a stray quote (its fields then add up to the header's). The line after the
    break has at least two delimiters, and its first field is shaped like the row's own
    first value (``2`` after ``1``, ``#1002`` after ``#1001``: digits as digits), which
    an address or a note over two lines is not."""
    after = pc.replace_substring_regex(col, r"^[^\r\n]*(\r\n|\r|\n)", "", max_replacements=1)
    many = pc.greater_equal(pc.count_substring(after, delimiter), 2)
    maybe = pc.fill_null(pc.and_(has_break, many), False)
    found = np.zeros(len(col), dtype=bool)
    if not pc.any(maybe).as_py():
        return pa.array(found)
    rows = pc.indices_nonzero(maybe).to_pylist()  # the few suspects only
    firsts = table.column(0).take(rows).to_pylist()
    for row, own, text in zip(rows, firsts, after.take(rows).to_pylist(), strict=True):
        lead = (text or "").split(delimiter, 1)[0]
        if own and lead and _shape(own) == _shape(lead):
            found[row] = True
    return pa.array(found)


def _shape(value: str) -> str:
    return re.sub(r"\d+", "9", value.strip().strip('"'))


def _header_line_end(sample: bytes) -> str:
    """The line end of the header record: the first line break outside double quotes (a
    quoted header name may hold a line break of its own): CRLF, LF, or a lone CR (what
    Excel for Mac writes)."""
    for m in _LINE_BREAK.finditer(sample):
        if sample.count(b'"', 0, m.start()) % 2 == 0:
            return m.group().decode()
    return "\n"


_LINE_BREAK = re.compile(b"\r\n|\n|\r")


def _cut_trailer(data: bytes, delimiter: str, encoding: str) -> tuple[bytes, bytes]:
    """Split off the lines at the end that are not orders (eBay: ``83 record(s)
    downloaded,,,,``, ``Seller ID: x``, blank lines). Only whole records are cut: a line
    is looked at only where the bytes before it hold an even number of quotes."""
    cut = len(data)
    end = len(data)
    for _ in range(MAX_PREAMBLE):
        if end == 0:
            break
        stop = end - 1 if data[end - 1 : end] == b"\n" else end
        start = data.rfind(b"\n", 0, stop) + 1
        if start == 0:
            break  # the header line itself
        text = data[start:end].decode(encoding, errors="replace").rstrip("\r\n")
        if data.count(b'"', 0, start) % 2:
            break
        cells = split_line(text, delimiter)
        if (text.strip() and not cells) or not is_junk_row(cells):
            break
        cut = end = start
    return data[:cut], data[cut:]


def _junk_rows(table: pa.Table) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    """Rows inside the data that are not orders: a report line such as ``record(s)
    downloaded`` in the first cell, or text in the first cell only."""
    first = table.column(0)
    junk = pc.match_substring_regex(first, r"(?i)record\(s\) downloaded|^\s*seller id\s*:")
    others = None
    for i in range(1, table.num_columns):
        filled = pc.not_equal(pc.utf8_trim_whitespace(table.column(i)), "")
        others = filled if others is None else pc.or_(others, filled)
    if others is not None:
        junk = pc.or_(junk, pc.invert(others))
    mask = np.asarray(pc.fill_null(junk, False).to_numpy(zero_copy_only=False), dtype=bool)
    return mask if mask.any() else None


def _ragged_error(
    body: bytes,
    *,
    source: str,
    encoding: str,
    delimiter: str,
    width: int,
    count: int,
    row_base: int = 0,
) -> InputError:
    """Find the first row whose number of fields differs from the header's (slow path,
    only on error), and say where it is without quoting its contents. ``row_base`` is
    the number of lines before the header."""
    text = body.decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    first_line = reader.line_num + 1
    for number, row in enumerate(reader, start=2):
        if row and len(row) != width:
            more = f" ({count} such rows in all)" if count > 1 else ""
            if any("\n" in v or "\r" in v for v in row):
                # The row runs over several lines: a quote opened in it swallowed the
                # line ends (and rows) after it.
                return InputError(
                    f"a double quote opened a value in this row and is not closed where "
                    f"the value should end, so the lines after it were read into it "
                    f"(the row then has {len(row)} fields, the header {width}){more}.",
                    file=source,
                    row=number + row_base,
                    line=first_line + row_base,
                    hint="Fix the quotes in that row (a quote inside a value is written "
                    'twice: ""), or re-export the file.',
                )
            return InputError(
                f"this row has {len(row)} fields but the header has {width}{more}.",
                file=source,
                row=number + row_base,
                line=reader.line_num + row_base,
                hint="A value with the delimiter or a line break in it must be in double "
                "quotes; re-export the file, or fix that row.",
            )
        first_line = reader.line_num + 1
    return InputError(
        f"{count} rows do not have {width} fields like the header.",
        file=source,
        hint="Re-export the file.",
    )


# --- big exports, in two passes ----------------------------------------------------------

#: Exports larger than this many bytes are read in two passes (the columns the rules
#: need, then every column a batch at a time while writing), so that memory stays
#: bounded whatever the file size; ``ORDERTAGS_STREAM_ABOVE`` overrides it (a huge value
#: reads every export whole). Also faster than one whole read: small batches stay in the
#: CPU caches and spare the system the page faults of one big allocation.
STREAM_ABOVE = 32 << 20
#: The size of those batches; ``ORDERTAGS_BATCH_BYTES`` overrides it.
BATCH_BYTES = 2 << 20


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


def stream_above() -> int:
    """The size above which an export is read in two passes."""
    return _setting("ORDERTAGS_STREAM_ABOVE", STREAM_ABOVE)


def batch_bytes() -> int:
    """The size of the batches a big export is written in."""
    return max(1 << 12, _setting("ORDERTAGS_BATCH_BYTES", BATCH_BYTES))


class NotStreamable(Exception):
    """The export cannot be read in two passes (raised to fall back to one whole read)."""


@dataclass(frozen=True)
class LazyCsv:
    """Where a CSV export's records are, to read some of its columns, or all of them in
    batches, straight from the file (UTF-8, no lines to cut at its end)."""

    path: str
    offset: int  # bytes before the header line (BOM, preamble)
    width: int
    delimiter: str
    eol: str = "\n"
    #: Where its records are (:func:`ordertags.io.rawrows.scan_records`), found in the
    #: background while the first pass reads, for the writer to copy them as they are.
    scan: Future[RecordMap] | None = field(default=None, compare=False, repr=False)

    def start_scan(self, side: SideWork | None = None) -> LazyCsv:
        """This export with its records being found on the run's pool (``side``; else a
        thread of their own): numpy and the file reads let the first pass run alongside."""
        work = side if side is not None else SideWork(1)
        future = work.submit(
            scan_records, self.path, self.offset, self.delimiter, self.eol, batch_bytes()
        )
        if side is None:
            work.close(wait=False)  # the thread ends with the scan
        return dataclasses.replace(self, scan=future)

    def records(self) -> RecordMap:
        """Where the records are (raises :class:`ordertags.io.rawrows.NotRaw` where they
        cannot be copied as they are)."""
        if self.scan is not None:
            return self.scan.result()
        return scan_records(self.path, self.offset, self.delimiter, self.eol, batch_bytes())

    def _options(
        self, include: list[int] | None, block: int
    ) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
        names = [f"c{i}" for i in range(self.width)]

        def on_bad_row(row: Any) -> str:
            # A row of another width: Arrow raises ArrowInvalid, turned into NotStreamable
            # below (an exception raised here would be lost inside Arrow's reader).
            return "error"

        return (
            pacsv.ReadOptions(column_names=names, block_size=block, use_threads=False),
            pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
            ),
            pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=[names[i] for i in include] if include is not None else None,
            ),
        )

    def _stream(self) -> Any:
        stream = pa.input_stream(self.path)
        stream.read(self.offset)
        return stream

    def read_columns(self, include: list[int]) -> pa.Table:
        """The columns ``include`` (by position) of every record, the header left out."""
        read, parse, convert = self._options(include, 1 << 20)
        try:
            with self._stream() as stream:
                table = pacsv.read_csv(
                    stream, read_options=read, parse_options=parse, convert_options=convert
                )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise NotStreamable(str(exc)) from None
        # One chunk per column, made a column at a time (the parser's blocks are let go
        # as each is done): later steps then take the column as it is, where several
        # chunks would be copied into one again at each step.
        names = table.column_names
        columns = table.columns
        del table
        for i, col in enumerate(columns):
            columns[i] = pa.chunked_array([col.combine_chunks()], type=col.type)
            del col
        return pa.Table.from_arrays(columns, names=names).slice(1)

    def batches(self, block: int) -> Any:
        """Every column, a batch of records at a time (about ``block`` bytes each), the
        header left out."""
        read, parse, convert = self._options(None, block)
        with self._stream() as stream:
            try:
                reader = pacsv.open_csv(
                    stream, read_options=read, parse_options=parse, convert_options=convert
                )
                first = True
                held = None  # one batch held back: the last is checked against the file's end
                for batch in reader:
                    if first:
                        batch, first = batch.slice(1), False
                    if held is not None:
                        yield self._quotes_closed(held, open_at_end=False)
                    held = batch
                if held is not None:
                    yield self._quotes_closed(held, open_at_end=not self._ends_closed())
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise NotStreamable(str(exc)) from None

    def _quotes_closed(self, batch: Any, *, open_at_end: bool) -> Any:
        """``batch``, unless a double quote in it looks unclosed (as the whole read
        checks): then the export is read whole, which names the row."""
        if (
            batch.num_rows
            and _quote_suspects(batch, self.delimiter, open_at_end=open_at_end) is not None
        ):
            raise NotStreamable("a double quote is not closed where its value should end")
        if batch.num_rows and any(
            pc.any(pc.fill_null(pc.match_substring(c, "\x00"), False)).as_py()
            for c in batch.columns
        ):
            raise NotStreamable("a NUL byte")  # read whole, which names the row
        return batch

    def _ends_closed(self) -> bool:
        """Does the file end with a closing quote (line ends aside)?"""
        with open(self.path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(self.offset, fh.tell() - 4096))
            return fh.read().rstrip(b"\r\n").endswith(b'"')


def _file_head(path: Path, size: int) -> bytes:
    """The first bytes of a file, up to a record end (a line end outside quotes)."""
    with open(path, "rb") as fh:
        head = fh.read(size)
    cut = 0
    inside = False
    start = 0
    while (nl := head.find(b"\n", start)) >= 0:
        inside ^= head.count(b'"', start, nl) % 2 == 1
        if not inside:
            cut = nl + 1
        start = nl + 1
    return head[:cut]


def read_orders_lazily(
    path: str | os.PathLike[str],
    *,
    prefetch: Any,
    encoding: str | None = None,
    delimiter: str | None = None,
    profile: ProfileSpec = None,
    mapping: MappingSpec = None,
    scan: bool = False,
    side: SideWork | None = None,
) -> OrderTable | None:
    """Read a big CSV export in two passes: here only the header and the columns
    ``prefetch(table)`` names (positions; any other column is read when first asked
    for); :meth:`LazyCsv.batches` then gives every column a batch at a time, for
    writing. None where the export is small (under :func:`stream_above`), read from
    stdin, not UTF-8 CSV, or has lines around its records (eBay's report lines): read
    it with :func:`read_orders`. Raises :class:`NotStreamable` where the records turn out
    not to parse (ragged rows, bad UTF-8): read it whole, which reports them. With
    ``scan``, where its records are is found alongside (:meth:`LazyCsv.start_scan`, on
    ``side``, the run's pool), for a writer that copies them as they are."""
    if os.fspath(path) == "-":
        return None
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size <= stream_above():
            return None
        if encoding is not None and codecs.lookup(encoding).name != "utf-8":
            return None
        head = _file_head(p, 4 * SNIFF_BYTES)
    except (OSError, LookupError):  # the whole read says what is wrong
        return None
    if not head or _looks_like_json(head.lstrip(BOM)[:4096].lstrip()):
        return None
    try:
        # The head parsed as an export of its own: the same header, dialect and profile
        # the whole file would get.
        first = parse_orders(
            head,
            source=str(p),
            encoding=encoding,
            delimiter=delimiter,
            profile=profile,
            mapping=mapping,
        )
    except InputError:
        return None
    d = first.dialect
    if (
        first.kind != "csv"
        or d.encoding != "utf-8"
        or d.trailer
        or first.profile.skip_junk
        or first.skip_rows is not None
    ):
        return None
    lazy = LazyCsv(
        str(p), (len(BOM) if d.bom else 0) + len(d.preamble), len(first.columns), d.delimiter, d.eol
    )
    if scan:
        lazy = lazy.start_scan(side)
    table = OrderTable(
        source=first.source,
        kind="csv",
        columns=first.columns,
        table=first.table.select([]),
        dialect=d,
        profile=first.profile,
        detected=first.detected,
        header_row=first.header_row,
        lazy=lazy,
    )
    wanted = sorted(set(prefetch(table))) or [0]
    got = lazy.read_columns(wanted)
    table.table = pa.Table.from_arrays(
        [got.column(j) for j in range(len(wanted))], names=[f"c{i}" for i in wanted]
    )
    return table


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


def _loads(text: str, source: str = "") -> Any:
    try:
        return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)
    except RecursionError:
        raise too_deep(source) from None


def too_deep(source: str) -> InputError:
    """A JSON document nested deeper than Python's parser goes (an order is a few
    levels deep)."""
    return InputError(
        "the JSON is nested too deeply to be an order export.",
        file=source,
        hint="An order is an object of values, lists and objects a few levels deep; check "
        "the file.",
    )


def _ndjson(text: str, source: str) -> list[Any]:
    """One JSON value a line. Lines end at LF only: a JSON string may hold U+2028,
    U+2029 or U+0085 as they are (str.splitlines would break there)."""
    out = []
    for n, ln in enumerate(text.split("\n"), start=1):
        if not ln.strip():
            continue
        try:
            out.append(_loads(ln, source))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON (column {exc.colno}): {exc.msg}.",
                file=source,
                line=n,
                hint="Fix or re-export that line.",
            ) from None
    return out


def _parse_json(text: str, *, source: str, bom: bool, encoding: str) -> OrderTable:
    wrapper = None
    document = None
    kind = "json"
    try:
        data = _loads(text, source)
    except json.JSONDecodeError as exc:
        # One object a line (NDJSON / JSON Lines)?
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            data = _ndjson(text, source)
            kind = "ndjson"
        else:
            raise InputError(
                f"not valid JSON (column {exc.colno}): {exc.msg}.",
                file=source,
                line=exc.lineno,
                hint="Fix the JSON, or re-export the file.",
            ) from None
    if isinstance(data, dict):
        if isinstance(data.get("orders"), list):
            wrapper, document, data = "orders", data, data["orders"]
        else:
            # One object alone is one order: an NDJSON export of one line.
            data = [data]
            kind = "ndjson"
    if not isinstance(data, list):
        raise InputError(
            "JSON, but not a list of orders.",
            file=source,
            hint="Give a JSON array of objects, one per order.",
        )
    columns: dict[str, None] = {}
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise InputError(
                f"item {i + 1} of the list is not an object.",
                file=source,
                row=i + 1,
                hint="Each order must be a JSON object.",
            )
        for k in rec:
            columns.setdefault(k, None)
    names = list(columns)
    if len(names) > MAX_COLUMNS:
        raise InputError(
            f"the orders have {len(names):,} different keys; ordertags reads at most "
            f"{MAX_COLUMNS:,} columns (an order export has a few hundred at most).",
            file=source,
            hint="Check that this is an order export.",
        )
    try:
        arrays = [
            pa.array([_json_text(rec.get(c)) for rec in data], type=pa.string()) for c in names
        ]
    except RecursionError:
        raise too_deep(source) from None
    table = (
        pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(names))])
        if names
        else pa.table({})
    )
    if not names and data:
        table = pa.table({"_": pa.array([""] * len(data))}).select([])
    return OrderTable(
        source=source,
        kind=kind,
        columns=names,
        table=table,
        dialect=Dialect(bom=bom, encoding=encoding),
        records=data,
        json_wrapper=wrapper,
        json_document=document,
    )
