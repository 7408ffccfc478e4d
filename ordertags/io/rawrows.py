"""A CSV export's records as the bytes they were written in, found by a vectorised scan.

Writing a big export back with columns added at its end, each record's own bytes can be
copied as they are, followed by the added values: no column of the record is parsed or
re-quoted, which is most of the cost of writing. That is only done where it gives the
very bytes a re-rendering gives (:mod:`ordertags.io.writers` quotes a value only where
it holds the delimiter, a quote or a line break), so the scan checks, and says no
(:class:`NotRaw`) at the first sign of anything else:

- quotes only where a field opens or closes, or doubled inside a quoted field (a stray
  quote such as ``5" screen`` would throw the count of quotes off);
- a field quoted only where it must be (it holds the delimiter, a quote or a line break);
- every record ending with the export's line end (no bare CR, no mixed ends) and none
  empty (a CSV reader skips blank lines);
- the header line as it would be written again.

The scan works on the bytes in blocks: the positions of quotes and line ends (numpy),
and a line end ends a record where an even number of quotes comes before it in the
block (each block starts at a record's start).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

QUOTE, LF, CR = 0x22, 0x0A, 0x0D


def quoted_bytes(delimiter: str) -> bytes:
    """The bytes that make a CSV value quoted (the writer's minimal quoting, and what
    :func:`scan_records` checks a quoted field of the export holds): the delimiter, a
    quote, a line break.

    >>> quoted_bytes(";")
    b';"\\r\\n'
    """
    return (delimiter + '"\r\n').encode("utf-8")


class NotRaw(Exception):
    """The export's records cannot be copied as they are (see the module's text)."""


@dataclass(frozen=True)
class RecordMap:
    """Where a CSV file's records are: the header line's bytes, then blocks of whole
    records, each as (offset in the file, length, the end of each record's text within
    the block), and the file's size and modification time when it was scanned."""

    header: tuple[int, int]
    blocks: list[tuple[int, int, np.ndarray[Any, Any]]]
    count: int
    stamp: tuple[int, int]


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _check(a: np.ndarray[Any, Any], q: np.ndarray[Any, Any], delim: int, final: bool) -> None:
    """Raise :class:`NotRaw` unless every quote of ``a`` (a block starting at a record
    start; ``q`` the quotes' positions) opens or closes a field, is doubled in one, and
    every quoted field holds something that needs the quotes."""
    if not len(q):
        return
    n = len(a)
    prev = np.where(q > 0, a[np.maximum(q - 1, 0)], LF)
    nxt = np.where(q + 1 < n, a[np.minimum(q + 1, n - 1)], LF if final else QUOTE)
    even = q[0::2]
    odd = q[1::2]
    prev_even = prev[0::2]
    next_odd = nxt[1::2]
    opens = (prev_even == delim) | (prev_even == LF) | (prev_even == QUOTE)
    closes = (next_odd == delim) | (next_odd == LF) | (next_odd == CR) | (next_odd == QUOTE)
    if not (opens.all() and closes.all()):
        raise NotRaw("a quote inside a field")
    # Fields quoted with nothing doubled inside: the pair of quotes around them.
    k = min(len(even), len(odd))
    plain = (prev_even[:k] != QUOTE) & (next_odd[:k] != QUOTE)
    if not plain.any():
        return
    o, c = even[:k][plain], odd[:k][plain]
    lo, hi = int(o[0]), int(c[-1]) + 1
    span = a[lo:hi]
    # The bytes that need quotes, the quote left aside: no quote stands inside the
    # fields looked at here (none doubled), and an empty field ("") is its quotes only.
    # (Compared byte by byte: np.isin is several times slower on a block.)
    special = np.zeros(len(span), dtype=bool)
    for byte in quoted_bytes(chr(delim)):
        if byte != QUOTE:
            special |= span == byte
    # Per quoted field, does anything between its quotes need them? (The reductions
    # between one field's closing quote and the next one's opening are left aside.)
    bounds = np.empty(2 * len(o), dtype=np.int64)
    bounds[0::2] = o + 1 - lo
    bounds[1::2] = c - lo
    inside = np.logical_or.reduceat(special, bounds)[0::2]
    # An empty field ("") reduces to its closing quote, which is no special byte.
    if not inside.all():
        raise NotRaw("a field quoted that needs no quotes")


def _outside(part: np.ndarray[Any, Any], q: np.ndarray[Any, Any], byte: int) -> int:
    """How many ``byte`` stand outside quotes in ``part``."""
    at = np.flatnonzero(part == byte)
    if not len(q):
        return len(at)
    return int(np.count_nonzero((np.searchsorted(q, at) & 1) == 0))


def _records(
    a: np.ndarray[Any, Any], delim: int, eol: bytes, final: bool
) -> tuple[np.ndarray[Any, Any], int]:
    """The ends of the whole records at the start of block ``a`` (the positions of their
    text's end, before the line end), and where the rest begins."""
    q = np.flatnonzero(a == QUOTE)
    nl = np.flatnonzero(a == LF)
    ends = nl[(np.searchsorted(q, nl) & 1) == 0] if len(q) else nl
    n = len(a)
    if final and (not len(ends) or ends[-1] != n - 1) and n:
        # The last record has no line end.
        if len(q) & 1:
            raise NotRaw("a quote left open at the end of the file")
        stops = np.append(ends - (len(eol) - 1), n)
        cut = n
    else:
        if not len(ends):
            return ends, 0
        cut = int(ends[-1]) + 1
        stops = ends - (len(eol) - 1)
    part = a[:cut]
    _check(part, q[q < cut], delim, final=cut == n and final)
    done = ends[ends < cut]
    crs = int(np.count_nonzero(part == CR))
    if len(eol) == 1:
        if crs and _outside(part, q, CR):
            raise NotRaw("a carriage return outside quotes")
    elif crs != len(done) or not (part[np.maximum(done - 1, 0)] == CR).all():
        # Not simply one CR before each record's LF: look closer (a CR inside a quoted
        # value is text).
        if not (part[np.maximum(done - 1, 0)] == CR).all():
            raise NotRaw("a record ends in LF alone")
        if _outside(part, q, CR) != len(done):
            raise NotRaw("a carriage return outside quotes")
    starts = np.concatenate(([0], stops[:-1] + len(eol)))
    if (stops <= starts).any():
        raise NotRaw("an empty line")
    return stops, cut


def scan_records(path: str, start: int, delimiter: str, eol: str, block: int) -> RecordMap:
    """Find the records of the CSV file ``path`` from byte ``start`` (its header line), in
    blocks of about ``block`` bytes. Raises :class:`NotRaw` where they cannot be copied
    as they are. Only positions are kept: the bytes are read again when written."""
    if len(delimiter.encode("utf-8")) != 1 or eol not in ("\n", "\r\n"):
        raise NotRaw("a delimiter or line end of more than one byte")
    delim = delimiter.encode("utf-8")[0]
    end_bytes = eol.encode("ascii")
    stamp = _stamp(path)
    blocks: list[tuple[int, int, np.ndarray[Any, Any]]] = []
    header: tuple[int, int] | None = None
    count = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        at = start  # the file offset of the first byte of ``carry``
        carry = b""
        size = block
        final = False
        while not final:
            more = fh.read(size)
            final = len(more) < size
            buf = carry + more if carry else more
            if not buf:
                break
            stops, cut = _records(np.frombuffer(buf, dtype=np.uint8), delim, end_bytes, final)
            if not cut:
                if final:
                    break
                carry, size = buf, size * 2  # a record longer than a block
                continue
            size = block
            base = at
            if header is None:
                # The first record is the header line: the records start after it.
                skip = int(stops[0]) + len(end_bytes)
                header = (at, skip)
                stops = stops[1:] - skip
                base, cut_len = at + skip, cut - skip
            else:
                cut_len = cut
            if len(stops):
                blocks.append((base, cut_len, stops.astype(np.int32)))
                count += len(stops)
            carry = buf[cut:]
            at += cut
        if carry.strip(b"\r\n"):
            raise NotRaw("bytes after the last record")
    if _stamp(path) != stamp:
        raise NotRaw("the file changed while it was read")
    return RecordMap(header or (start, 0), blocks, count, stamp)


def raw_blocks(path: str, records: RecordMap) -> Iterator[pa.Array]:
    """The records of ``records`` (:func:`scan_records`), a block at a time: one binary
    value per record, the first record's text, then for each later one the line end
    before it and its text. Joined with the added values and followed by one line end,
    that is the block's output. Each array is good until the next is asked for: the
    blocks are read into one buffer, over and over (no fresh memory to fault in for
    every block)."""
    if _stamp(path) != records.stamp:
        raise NotRaw("the file changed since it was read")
    room = bytearray(max((length for _, length, _ in records.blocks), default=0))
    view = memoryview(room)
    with open(path, "rb") as fh:
        for offset, length, stops in records.blocks:
            fh.seek(offset)
            if fh.readinto(view[:length]) != length:
                raise NotRaw("the file changed since it was read")
            offsets = np.concatenate((np.zeros(1, np.int32), stops))
            yield pa.Array.from_buffers(
                pa.binary(),
                len(stops),
                [None, pa.py_buffer(offsets), pa.py_buffer(view[:length])],
            )
