"""Array types and small Arrow/numpy helpers shared by the engine's modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.io.values import combined as combined

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

BLANK = pa.scalar("", pa.string())


def nonblank(arr: pa.Array) -> BoolArray:
    """Per value: does it hold anything but white space?"""
    filled = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr), ""), False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def floats(arr: pa.Array) -> FloatArray:
    """float64 values, NaN for null."""
    return np.asarray(pc.fill_null(arr, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def to_bool(arr: pa.Array | pa.ChunkedArray) -> BoolArray:
    """An Arrow boolean array as numpy, null as False."""
    filled = pc.fill_null(combined(arr), False)
    result: BoolArray = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)
    return result


def count_codes(codes: IntArray, mask: BoolArray, size: int | None = None) -> int:
    """How many distinct codes (each in ``0 .. size - 1``; by default up to the largest
    code) the rows of ``mask`` carry: a mark per code, in linear time (``np.unique``
    sorts or hashes the rows).

    >>> count_codes(np.array([0, 0, 1, 2]), np.array([True, True, False, True]))
    2
    """
    chosen = codes[mask]
    if not len(chosen):
        return 0
    seen = np.zeros(int(chosen.max()) + 1 if size is None else size, dtype=bool)
    seen[chosen] = True
    return int(np.count_nonzero(seen))
