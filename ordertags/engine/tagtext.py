"""The text of tag combinations: the three columns ``apply`` adds, made once per
distinct combination of tags and taken for every row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.tags import TagBook

#: The columns ``apply`` adds (or refreshes, when the input already has them).
TAGS_COLUMN = "Customer Tags"
PROFILE_COLUMN = "Customer Profile"
COLOUR_COLUMN = "Tag Colour"
OUTPUT_COLUMNS = (TAGS_COLUMN, PROFILE_COLUMN, COLOUR_COLUMN)
SEPARATOR = "; "


def render_tags(
    ranked: list[str], masks: Mapping[str, np.ndarray[Any, Any]], tagbook: TagBook, n: int
) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.ChunkedArray]:
    """The three output columns. Rows are grouped by their combination of tags (few
    distinct ones), each combination's text is built once and taken for every row."""
    if not ranked or n == 0:
        empty = pa.chunked_array([pa.repeat(pa.scalar("", pa.string()), n)], type=pa.string())
        return empty, empty, empty
    if len(ranked) <= 63:
        # One integer per row, bit i set for tag i; a hash encode finds the few distinct
        # combinations without sorting the rows.
        bits = np.zeros(n, dtype=np.int64)
        for i, t in enumerate(ranked):
            bits |= masks[t].astype(np.int64) << i
        encoded = pc.dictionary_encode(pa.array(bits))
        combos = [
            [ranked[i] for i in range(len(ranked)) if code >> i & 1]
            for code in encoded.dictionary.to_pylist()
        ]
        index = encoded.indices
    else:
        matrix = np.packbits(np.stack([masks[t] for t in ranked], axis=1), axis=1)
        keys = np.ascontiguousarray(matrix).view(f"V{matrix.shape[1]}").ravel()
        uniques, inverse = np.unique(keys, return_inverse=True)
        combos = [
            [
                ranked[i]
                for i in np.flatnonzero(
                    np.unpackbits(np.frombuffer(u.tobytes(), dtype=np.uint8))[: len(ranked)]
                )
            ]
            for u in uniques
        ]
        index = pa.array(inverse.ravel().astype(np.int32))
    texts = [SEPARATOR.join(names) for names in combos]
    labels = [SEPARATOR.join(tagbook.tags[t].display for t in names) for names in combos]
    colours = [tagbook.tags[names[0]].colour if names else "" for names in combos]

    def take(values: list[str]) -> pa.ChunkedArray:
        # Dictionary-encoded: the few distinct texts once, an index per row. Writers turn
        # it into text a batch at a time, so a million long profiles are never all
        # materialised at once.
        return pa.chunked_array(
            [pa.DictionaryArray.from_arrays(index, pa.array(values, pa.string()))]
        )

    return take(texts), take(labels), take(colours)
