"""Customer identity and per-customer aggregates, as column operations.

Rows get a customer code per normalised email (see
:func:`ordertags.base.emails.normalize_email`, which this module computes for a whole column
at once). With a customer memory (:mod:`ordertags.customers.identity`: phones, links, the history)
several codes can be one person: ``groups`` maps codes to people, and the reductions run
per person. Aggregates are reductions over the rows' codes (``numpy.bincount``),
broadcast back to rows by indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.emails import GMAIL_DOMAINS
from ordertags.io.values import combined

_EMAIL = r"(?s)^(?P<local>.*)@(?P<domain>[^@]*)$"
#: How many addresses :func:`customer_keys` works on at a time.
_SLICE = 1 << 18


def customer_keys(emails: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The customer key of each email; null where the email is blank.

    >>> customer_keys(pa.array([" Jane.Doe+x@GoogleMail.com", "", "a@b.org"])).to_pylist()
    ['janedoe@gmail.com', None, 'a@b.org']
    """
    emails = combined(emails)
    if len(emails) > _SLICE:
        # A slice at a time: the steps below make several arrays the size of their
        # input, which for millions of distinct addresses is a peak of memory.
        return pa.concat_arrays(
            [customer_keys(emails.slice(i, _SLICE)) for i in range(0, len(emails), _SLICE)]
        )
    text = pc.utf8_lower(pc.utf8_trim_whitespace(emails))
    # Split at the last "@" (plain splits: several times faster than a regex); text
    # without one is its own key.
    has_at = pc.fill_null(pc.match_substring(text, "@"), False)
    parts = pc.split_pattern(
        pc.if_else(has_at, text, pa.scalar("@")), "@", max_splits=1, reverse=True
    )
    local = pc.list_element(pc.split_pattern(pc.list_element(parts, 0), "+", max_splits=1), 0)
    domain = pc.list_element(parts, 1)
    gmail = pc.fill_null(pc.is_in(domain, value_set=pa.array(sorted(GMAIL_DOMAINS))), False)
    local = pc.if_else(gmail, pc.replace_substring(local, ".", ""), local)
    domain = pc.if_else(gmail, pa.scalar("gmail.com"), domain)
    keys = pc.if_else(has_at, pc.binary_join_element_wise(local, domain, "@"), text)
    blank = pc.equal(text, "")
    result: pa.Array = pc.if_else(blank, pa.scalar(None, pa.string()), keys)
    return result


def customer_keys_of_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`customer_keys` of a whole column, worked out once per distinct spelling
    (a column of orders repeats each customer's email) and taken back to the rows."""
    encoded = _encode(values)
    keyed: pa.Array = customer_keys(encoded.dictionary).take(encoded.indices)
    return keyed


def buyer_keys(ids: pa.Array | pa.ChunkedArray, prefix: str) -> pa.Array:
    """A platform's buyer ids as identities: prefixed with the platform (``ebay:jdoe``,
    ``etsy:123``), a number a spreadsheet wrote as ``17850.0`` read as ``17850``, ""
    where blank.

    >>> buyer_keys(pa.array([" jdoe ", "", "17850.0"]), "ebay:").to_pylist()
    ['ebay:jdoe', '', 'ebay:17850']
    """
    ids = pc.utf8_trim_whitespace(combined(ids))
    ids = pc.replace_substring_regex(ids, r"^(\d+)\.0+$", r"\1")
    keyed = pc.binary_join_element_wise(prefix, ids, "")
    result: pa.Array = pc.if_else(pc.equal(ids, ""), pa.scalar("", pa.string()), keyed)
    return result


def identity_text(email: pa.Array | None, buyer: pa.Array | None) -> pa.Array:
    """What an order's customer key is made from (for :func:`customer_keys`): its email
    where it has one, else its buyer id (:func:`buyer_keys`); "" where both are blank.
    ``None``: the export has no such column (one of the two is given).

    >>> identity_text(pa.array(["a@b.org", " "]), pa.array(["ebay:x", "ebay:y"])).to_pylist()
    ['a@b.org', 'ebay:y']
    """
    if buyer is None:
        assert email is not None
        return email
    if email is None:
        return buyer
    has_email = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(email), ""), False)
    result: pa.Array = pc.if_else(has_email, email, buyer)
    return result


def email_domains(keys: pa.Array) -> pa.Array:
    """The domain of each customer key (null where there is none)."""
    parts = pc.extract_regex(keys, _EMAIL)
    result: pa.Array = pc.struct_field(parts, "domain")
    return result


def _encode(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    values = combined(values)
    encoded: pa.DictionaryArray = pc.dictionary_encode(values)
    return encoded


@dataclass(eq=False)
class Customers:
    """The customers of a run: one code per row (-1: no customer) and one key per code.

    ``groups`` (code -> person, with ``people`` persons) merges codes that are one
    person; None means every code is a person of its own. ``alias_keys`` and
    ``alias_people`` are further email keys of those people (from the history or the
    tag book's links), so that a tag-book entry finds its person by any of them.
    """

    codes: np.ndarray[Any, np.dtype[np.int64]]
    keys: pa.Array  # code -> customer key (null: a code known by its phone alone)
    groups: np.ndarray[Any, np.dtype[np.int64]] | None = None
    people: int = -1
    alias_keys: pa.Array | None = None
    alias_people: np.ndarray[Any, np.dtype[np.int64]] | None = None

    def __post_init__(self) -> None:
        if self.people < 0:
            self.people = (
                len(self.keys) if self.groups is None else int(self.groups.max(initial=-1)) + 1
            )

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

    def row_people(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Per row: its person (its code's group; its code, where every code is a person
        of its own), -1 for a row with no customer."""
        codes = self.codes
        people = self.groups[np.maximum(codes, 0)] if self.groups is not None else codes
        result: np.ndarray[Any, np.dtype[np.int64]] = np.where(codes >= 0, people, -1)
        return result

    def row_keys(self) -> pa.Array:
        """The customer key of every row (null: no customer)."""
        codes = pa.array(self.codes, mask=self.codes < 0)
        result: pa.Array = self.keys.take(codes)
        return result

    def per_row(
        self, per_customer_mask: pa.Array | pa.ChunkedArray
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Broadcast an Arrow boolean per customer (nulls: False) to the rows."""
        if isinstance(per_customer_mask, pa.ChunkedArray):
            per_customer_mask = per_customer_mask.combine_chunks()
        flags = np.asarray(
            pc.fill_null(per_customer_mask, False).to_numpy(zero_copy_only=False), dtype=bool
        )
        return self.broadcast(flags, fill=False)

    @property
    def count(self) -> int:
        return len(self.keys)

    @cached_property
    def has_customer(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        result: np.ndarray[Any, np.dtype[np.bool_]] = self.codes >= 0
        return result

    @cached_property
    def _slots(self) -> np.ndarray[Any, np.dtype[np.int32]]:
        """Per row: its customer's code, or ``count`` (one spare slot) for no customer, so
        that gathers and scatters need no mask of their own (int32: half the memory
        traffic of int64, which is what these operations are bound by)."""
        slots: np.ndarray[Any, np.dtype[np.int32]] = np.where(
            self.codes >= 0, self.codes, self.count
        ).astype(np.int32)
        return slots

    def reduce_any(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per customer: does any of their rows (any row of their person) match ``mask``?"""
        out = self._any_code(mask)
        if self.groups is None:
            return out[: self.count]
        return self._spread(out[: self.count])

    def _any_code(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per code, plus the spare slot of rows with no customer: any row in ``mask``?
        (Positions then a gather: faster than a boolean index at every density.)"""
        out = np.zeros(self.count + 1, dtype=bool)
        out[self._slots.take(np.flatnonzero(mask))] = True
        return out

    def _spread(self, per_code: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per code: True where any code of the same person is True."""
        assert self.groups is not None
        people = np.zeros(self.people, dtype=bool)
        people[self.groups[per_code]] = True
        result: np.ndarray[Any, np.dtype[np.bool_]] = people[self.groups]
        return result

    def person_any(self, mask: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per person (per code when there are no groups): does any row match ``mask``?"""
        out = self._any_code(mask)
        if self.groups is None:
            return out[: self.count]
        people = np.zeros(self.people, dtype=bool)
        people[self.groups[out[: self.count]]] = True
        return people

    def match_keys(self, keys: pa.Array) -> pa.Array:
        """Per customer: is the customer's key, or (with groups) any email key of their
        person, in ``keys``? An Arrow boolean, for :meth:`per_row`."""
        direct = pc.is_in(self.keys, value_set=keys)
        if self.groups is None:
            result: pa.Array = direct
            return result
        flags = np.asarray(pc.fill_null(direct, False).to_numpy(zero_copy_only=False), dtype=bool)
        hit = np.zeros(self.people, dtype=bool)
        hit[self.groups[flags]] = True
        if self.alias_keys is not None and self.alias_people is not None:
            aliased = np.asarray(
                pc.fill_null(pc.is_in(self.alias_keys, value_set=keys), False).to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
            who = self.alias_people[aliased]
            hit[who[who >= 0]] = True
        return pa.array(hit[self.groups])

    def spread_any(
        self,
        per_code: np.ndarray[Any, Any],
        per_alias: np.ndarray[Any, Any] | None = None,
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Per code: does any identity of the code's person hold? ``per_code`` says it of
        the codes' own keys, ``per_alias`` of ``alias_keys`` (the person's other emails
        and buyer ids, from the run's other orders, the history or the links). Without
        groups every code is a person and ``per_code`` is the answer."""
        flags = np.asarray(per_code, dtype=bool)
        if self.groups is None:
            return flags
        hit = np.zeros(self.people, dtype=bool)
        hit[self.groups[flags]] = True
        if per_alias is not None and self.alias_people is not None:
            who = self.alias_people[np.asarray(per_alias, dtype=bool)]
            hit[who[who >= 0]] = True
        result: np.ndarray[Any, np.dtype[np.bool_]] = hit[self.groups]
        return result

    def count_people(self, per_customer: np.ndarray[Any, Any]) -> int:
        """How many people have a True among their codes in ``per_customer``."""
        if self.groups is None:
            return int(np.count_nonzero(per_customer))
        return int(np.unique(self.groups[np.asarray(per_customer, dtype=bool)]).size)

    def broadcast(
        self, per_customer: np.ndarray[Any, Any], fill: Any = False
    ) -> np.ndarray[Any, Any]:
        """Per row: the value of the row's customer (``fill`` for rows with no customer)."""
        ext = np.empty(self.count + 1, dtype=per_customer.dtype)
        ext[: self.count] = per_customer
        ext[self.count] = fill
        result: np.ndarray[Any, Any] = ext.take(self._slots)
        return result
