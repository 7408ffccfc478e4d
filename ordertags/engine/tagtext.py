"""The text of tag combinations: the three columns ``apply`` adds, made once per
distinct combination of tags and taken for every row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.customers.grouping import Customers, customer_keys
from ordertags.tagbook import Entry, TagBook

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
        # The narrowest integer that holds them: a byte a row for up to 8 tags.
        kind: Any = next(
            k for k in (np.uint8, np.uint16, np.uint32, np.int64) if np.iinfo(k).bits >= len(ranked)
        )
        bits: np.ndarray[Any, Any] = np.zeros(n, dtype=kind)
        for i, t in enumerate(ranked):
            np.bitwise_or(bits, np.left_shift(masks[t].astype(kind), kind(i)), out=bits)
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


#: Between the tag labels and the customer's own note in ``Customer Profile``.
NOTE_SEPARATOR = " — "


def entry_notes(entries: Sequence[Entry], customers: Customers, n: int) -> pa.Array | None:
    """Per row, the hand-written notes of the tag-book entries in force for the row's
    customer (``"; "``-joined where several), "" where none; None when no entry has a
    note. Entries are few: one pass per entry with a note, over the customers."""
    with_note = [e for e in entries if e.note and str(e.note).strip()]
    if not with_note or n == 0:
        return None
    notes: list[str] = []
    which = np.full(n, -1, dtype=np.int64)
    combos: dict[tuple[int, int], int] = {}
    for e in with_note:
        key = pc.drop_null(customer_keys(pa.array([e.email], pa.string())))
        rows = customers.per_row(customers.match_keys(key))
        if not rows.any():
            continue
        notes.append(" ".join(str(e.note).split()))
        mine = len(notes) - 1
        both = rows & (which >= 0)
        which[rows & (which < 0)] = mine
        for old in np.unique(which[both]).tolist():  # a customer with two noted entries
            pair = (old, mine)
            if pair not in combos:
                notes.append(f"{notes[old]}; {notes[mine]}")
                combos[pair] = len(notes) - 1
            which[both & (which == old)] = combos[pair]
    if not notes:
        return None
    texts = pa.array([*notes, ""], pa.string())
    result: pa.Array = texts.take(pa.array(np.where(which >= 0, which, len(notes))))
    return result


def add_notes(profile: pa.ChunkedArray, notes: pa.Array | None) -> pa.ChunkedArray:
    """``Customer Profile`` with the customer's note after the labels:
    ``VIP — Buys a board every season; add free wax``."""
    if notes is None:
        return profile
    labels = profile.combine_chunks()
    if pa.types.is_dictionary(labels.type):
        labels = labels.cast(pa.string())
    has_note = pc.not_equal(notes, "")
    has_label = pc.not_equal(labels, "")
    joined = pc.if_else(
        has_label, pc.binary_join_element_wise(labels, notes, NOTE_SEPARATOR), notes
    )
    return pa.chunked_array([pc.if_else(has_note, joined, labels)], type=pa.string())
