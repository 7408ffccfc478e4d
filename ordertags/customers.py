"""Customer identity and per-customer aggregates, as column operations.

A customer is the normalised email (see :func:`ordertags.emails.normalize_email`, which
this module computes for a whole column at once). Aggregates are reductions over the
customer codes of the rows (``numpy.bincount``), broadcast back to rows by indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .emails import GMAIL_DOMAINS

_EMAIL = r"(?s)^(?P<local>.*)@(?P<domain>[^@]*)$"


def customer_keys(emails: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The customer key of each email; null where the email is blank.

    >>> customer_keys(pa.array([" Jane.Doe+x@GoogleMail.com", "", "a@b.org"])).to_pylist()
    ['janedoe@gmail.com', None, 'a@b.org']
    """
    if isinstance(emails, pa.ChunkedArray):
        emails = emails.combine_chunks()
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
    result: pa.Array = pc.if_else(blank, pa.scalar(None, pa.string()), keys)
    return result


def email_domains(keys: pa.Array) -> pa.Array:
    """The domain of each customer key (null where there is none)."""
    parts = pc.extract_regex(keys, _EMAIL)
    result: pa.Array = pc.struct_field(parts, "domain")
    return result


def _encode(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded: pa.DictionaryArray = pc.dictionary_encode(values)
    return encoded


@dataclass(eq=False)
class Customers:
    """The customers of a run: one code per row (-1: no customer) and one key per code."""

    codes: np.ndarray[Any, np.dtype[np.int64]]
    keys: pa.Array  # code -> customer key

    @classmethod
    def from_emails(cls, emails: pa.ChunkedArray) -> Customers:
        """Group rows by customer. The distinct spellings are far fewer than the rows, so
        the keys are computed once per spelling, then mapped back to rows by code."""
        spelled = _encode(emails)
        raw_codes = spelled.indices.to_numpy(zero_copy_only=False)
        keys = customer_keys(spelled.dictionary)
        by_key = _encode(keys)
        key_codes = pc.fill_null(by_key.indices, -1).to_numpy(zero_copy_only=False)
        codes = key_codes.astype(np.int64)[raw_codes]
        return cls(codes=codes, keys=by_key.dictionary)

    def row_keys(self) -> pa.Array:
        """The customer key of every row (null: no customer)."""
        codes = pa.array(self.codes, mask=self.codes < 0)
        result: pa.Array = self.keys.take(codes)
        return result

    def per_row(self, per_customer_mask: pa.Array | pa.ChunkedArray) \
            -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Broadcast an Arrow boolean per customer (nulls: False) to the rows."""
        if isinstance(per_customer_mask, pa.ChunkedArray):
            per_customer_mask = per_customer_mask.combine_chunks()
        flags = np.asarray(pc.fill_null(per_customer_mask, False)
                           .to_numpy(zero_copy_only=False), dtype=bool)
        return self.broadcast(flags, fill=False)

    @property
    def count(self) -> int:
        return len(self.keys)

    @cached_property
    def has_customer(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        result: np.ndarray[Any, np.dtype[np.bool_]] = self.codes >= 0
        return result

    @cached_property
    def _valid_codes(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        valid: np.ndarray[Any, np.dtype[np.int64]] = self.codes[self.has_customer]
        return valid

    def reduce_any(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per customer: does any of their rows match ``mask``?"""
        out = np.zeros(self.count, dtype=bool)
        out[self.codes[mask & self.has_customer]] = True
        return out

    def reduce_sum(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Per customer: the sum of ``values`` over their rows (exact for integers)."""
        vals = values[self.has_customer]
        if vals.dtype.kind in "iub":
            # bincount sums in float64, which holds integers exactly up to 2**53: money in
            # ten-thousandths stays exact up to 900 billion per customer.
            sums = np.bincount(self._valid_codes, weights=vals.astype(np.float64),
                               minlength=self.count)
            return np.rint(sums).astype(np.int64)
        return np.bincount(self._valid_codes, weights=vals, minlength=self.count)

    def count_rows(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Per customer: how many of their rows match ``mask``."""
        counts = np.bincount(self.codes[mask & self.has_customer], minlength=self.count)
        return counts.astype(np.int64, copy=False)

    def broadcast(self, per_customer: np.ndarray[Any, Any], fill: Any = False) \
            -> np.ndarray[Any, Any]:
        """Per row: the value of the row's customer (``fill`` for rows with no customer)."""
        out = np.full(len(self.codes), fill, dtype=per_customer.dtype)
        has = self.has_customer
        out[has] = per_customer[self._valid_codes]
        return out

    def first_rows(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Per customer: the index of their first row."""
        has = np.flatnonzero(self.has_customer)
        first = np.full(self.count, -1, dtype=np.int64)
        # Reverse so that the earliest row is written last and wins.
        first[self.codes[has[::-1]]] = has[::-1]
        return first
