"""Customer identity and per-customer aggregates, as column operations.

A customer is the normalised email (see :func:`ordertags.emails.normalize_email`, which
this module computes for a whole column at once). Aggregates are reductions over the
customer codes of the rows (``numpy.bincount``), broadcast back to rows by indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .emails import GMAIL_DOMAINS

_EMAIL = r"(?s)^(?P<local>.*)@(?P<domain>[^@]*)$"


def customer_keys(emails: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """The customer key of each email; null where the email is blank.

    >>> customer_keys(pa.array([" Jane.Doe+x@GoogleMail.com", "", "a@b.org"])).to_pylist()
    ['janedoe@gmail.com', None, 'a@b.org']
    """
    if isinstance(emails, pa.Array):
        emails = pa.chunked_array([emails], type=pa.string())
    text = pc.utf8_lower(pc.utf8_trim_whitespace(emails))
    parts = pc.extract_regex(text, _EMAIL)
    local = pc.replace_substring_regex(pc.struct_field(parts, "local"), r"(?s)\+.*", "")
    domain = pc.struct_field(parts, "domain")
    gmail = pc.fill_null(pc.is_in(domain, value_set=pa.array(sorted(GMAIL_DOMAINS))), False)
    local = pc.if_else(gmail, pc.replace_substring(local, ".", ""), local)
    domain = pc.if_else(gmail, pa.scalar("gmail.com"), domain)
    joined = pc.binary_join_element_wise(local, domain, "@")
    keys = pc.coalesce(joined, text)  # no "@": the trimmed, lower-cased text itself
    blank = pc.equal(text, "")
    result: pa.ChunkedArray = pc.if_else(blank, pa.scalar(None, pa.string()), keys)
    return result


def email_domains(keys: pa.ChunkedArray) -> pa.ChunkedArray:
    """The domain of each customer key (null where there is none)."""
    parts = pc.extract_regex(keys, _EMAIL)
    result: pa.ChunkedArray = pc.struct_field(parts, "domain")
    return result


@dataclass
class Customers:
    """The customers of a run: one code per row (-1: no customer) and one key per code."""

    codes: np.ndarray[Any, np.dtype[np.int64]]
    keys: pa.Array  # code -> customer key

    @classmethod
    def from_keys(cls, keys: pa.ChunkedArray) -> Customers:
        encoded = pc.dictionary_encode(keys).combine_chunks() if keys.num_chunks != 1 else \
            pc.dictionary_encode(keys.chunk(0))
        if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - pyarrow versions
            encoded = encoded.combine_chunks()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return cls(codes=codes.astype(np.int64, copy=False), keys=encoded.dictionary)

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def has_customer(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        result: np.ndarray[Any, np.dtype[np.bool_]] = self.codes >= 0
        return result

    def reduce_any(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per customer: does any of their rows match ``mask``?"""
        return self.reduce_sum(mask.astype(np.int64)) > 0

    def reduce_sum(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Per customer: the sum of ``values`` over their rows (exact for integers)."""
        has = self.has_customer
        codes = self.codes[has]
        vals = values[has]
        if vals.dtype.kind in "iub":
            # bincount sums in float64, which holds integers exactly up to 2**53: money in
            # ten-thousandths stays exact up to 900 billion per customer.
            sums = np.bincount(codes, weights=vals.astype(np.float64), minlength=self.count)
            return np.rint(sums).astype(np.int64)
        return np.bincount(codes, weights=vals, minlength=self.count)

    def broadcast(self, per_customer: np.ndarray[Any, Any], fill: Any = False) \
            -> np.ndarray[Any, Any]:
        """Per row: the value of the row's customer (``fill`` for rows with no customer)."""
        out = np.full(len(self.codes), fill, dtype=per_customer.dtype)
        has = self.has_customer
        out[has] = per_customer[self.codes[has]]
        return out

    def first_rows(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Per customer: the index of their first row."""
        has = np.flatnonzero(self.has_customer)
        first = np.full(self.count, -1, dtype=np.int64)
        # Reverse so that the earliest row is written last and wins.
        first[self.codes[has[::-1]]] = has[::-1]
        return first
