"""Mailing lists from tagged customers: one row per customer, highest spend first.

The columns are those Mailchimp imports as they are and Klaviyo maps by name
(``Email Address`` first). Marketplace relay addresses (Amazon's
``@marketplace.amazon.*``, eBay's ``@members.ebay.*``) reach no inbox a seller may
market to, so they are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.engine.pipeline import Annotated
from ordertags.engine.tagtext import render_tags

LIST_COLUMNS = ("Email Address", "First Name", "Last Name", "Orders", "Spend", "Tags")
RELAY_PATTERN = r"@(marketplace\.amazon\.|members\.ebay\.)"
#: Values of a marketing-consent column that mean yes (compared lower-cased).
CONSENT_YES = ("yes", "y", "true", "1", "subscribed", "accepted", "opt-in", "opted in", "granted")


def _consented(annotated: Annotated) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    """Per customer: did their latest order with an answer say yes to marketing? None
    when no export of the run has a marketing-consent column."""
    frame = annotated.frame
    if not frame.has_field("marketing_consent"):
        return None
    customers = annotated.customers
    text = pc.utf8_lower(pc.utf8_trim_whitespace(frame.text(field="marketing_consent")))
    known = np.asarray(pc.not_equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    yes = np.asarray(
        pc.fill_null(pc.is_in(text, value_set=pa.array(CONSENT_YES)), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    rows = np.flatnonzero(known & customers.has_customer)
    if frame.has_field("date"):  # latest by date (then by row), so the newest answer wins
        stamps = frame.dates()[rows].astype("datetime64[s]").astype(np.int64)
        rows = rows[np.lexsort((rows, stamps))]
    answer = np.zeros(customers.count, dtype=bool)
    answer[customers.codes[rows]] = yes[rows]  # later rows overwrite earlier ones
    return answer


@dataclass
class MailingList:
    """The list as columns (``LIST_COLUMNS``), plus how many were left out and why."""

    columns: dict[str, pa.Array]
    excluded_not_tag: int = 0
    excluded_relay: int = 0
    excluded_consent: int = 0

    @property
    def count(self) -> int:
        return len(self.columns[LIST_COLUMNS[0]])


def _money_text(units: np.ndarray[Any, Any]) -> pa.Array:
    """Ten-thousandths -> text with two decimals (``1234.50``), rounded half away from 0."""
    cents = np.sign(units) * ((np.abs(units) + 50) // 100)
    whole = pa.array(np.abs(cents) // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(np.abs(cents) % 100).cast(pa.string()), 2, "0")
    sign = pc.if_else(pa.array(cents < 0), "-", "")
    result: pa.Array = pc.binary_join_element_wise(sign, whole, ".", frac, "")
    return result


def _split_names(names: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ "Smith, Ann" -> (Ann, Smith); "Ann van Dijk" -> (Ann, van Dijk)."""
    trimmed = pc.utf8_trim_whitespace(names)
    comma = pc.extract_regex(trimmed, r"(?s)^(?P<last>[^,]*?)\s*,\s*(?P<first>.*)$")
    plain = pc.extract_regex(trimmed, r"(?s)^(?P<first>\S*)\s*(?P<last>.*)$")
    has_comma = pc.fill_null(pc.match_substring(trimmed, ","), False)
    first = pc.if_else(has_comma, pc.struct_field(comma, "first"), pc.struct_field(plain, "first"))
    last = pc.if_else(has_comma, pc.struct_field(comma, "last"), pc.struct_field(plain, "last"))
    return pc.fill_null(first, ""), pc.fill_null(last, "")


def mailing_list(
    annotated: Annotated, *, tags: Sequence[str], not_tags: Sequence[str] = (), consent: bool = True
) -> MailingList:
    """Customers who carry any of ``tags`` and none of ``not_tags``. Where the exports
    say whether a customer accepts marketing, those whose latest answer is not yes (or
    who never answered) are left out, unless ``consent`` is False.

    >>> ml = mailing_list(result, tags=["VIP"], not_tags=["FRAUD"])  # doctest: +SKIP
    >>> ml.columns["Email Address"].to_pylist()[:1]  # doctest: +SKIP
    ['jane@example.com']
    """
    book = annotated.tagbook
    for t in (*tags, *not_tags):
        book.require(t)
    frame = annotated.frame
    customers = annotated.customers
    masks = annotated.tag_masks
    none = np.zeros(customers.count, dtype=bool)

    def customer_has(tag: str) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return customers.reduce_any(masks[tag]) if tag in masks else none

    wanted = np.zeros(customers.count, dtype=bool)
    for t in tags:
        wanted |= customer_has(t)
    blocked = np.zeros(customers.count, dtype=bool)
    for t in not_tags:
        blocked |= customer_has(t)
    relay = np.asarray(
        pc.fill_null(pc.match_substring_regex(customers.keys, RELAY_PATTERN), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    agreed = _consented(annotated) if consent else None
    no_consent = np.zeros(customers.count, dtype=bool) if agreed is None else ~agreed
    chosen = wanted & ~blocked & ~relay & ~no_consent
    if customers.groups is not None:
        # A merged customer (several emails, a link, a phone) is one row, under their
        # first email that is a mailbox; a code known by its phone alone has none.
        chosen &= np.asarray(pc.is_valid(customers.keys).to_numpy(zero_copy_only=False), dtype=bool)
        picked = np.flatnonzero(chosen)
        _, first_of = np.unique(customers.groups[picked], return_index=True)
        chosen = np.zeros_like(chosen)
        chosen[picked[first_of]] = True

    first = customers.first_rows()
    rows = frame.order_starts
    spend = (
        customers.reduce_sum(np.where(rows, frame.money_units(field="total"), 0))
        if frame.has_field("total")
        else np.zeros(customers.count, dtype=np.int64)
    )
    orders = customers.count_rows(rows)
    idx = np.flatnonzero(chosen)
    keys = customers.keys.take(pa.array(idx)).to_pylist() if len(idx) else []
    # Highest spend first; ties by customer key, so the order is stable between runs.
    order = np.lexsort((np.array(keys, dtype=object), -spend[idx])) if len(idx) else idx
    idx = idx[order]
    first_rows = pa.array(first[idx])

    def first_text(field: str) -> pa.Array:
        if not frame.has_field(field):
            return pa.repeat(pa.scalar("", pa.string()), len(idx))
        col = frame.text(field=field).combine_chunks()
        return pc.utf8_trim_whitespace(col.take(first_rows))

    email = first_text("email")
    if frame.has_field("first_name") or frame.has_field("last_name"):
        first_name, last_name = first_text("first_name"), first_text("last_name")
    else:
        first_name, last_name = _split_names(first_text("name"))
    customer_tags = [t for t in book.rank(masks) if book.tags[t].scope == "customer"]
    has = {t: customer_has(t)[idx] for t in customer_tags}
    tag_text = render_tags(customer_tags, has, book, len(idx))[0]
    columns = {
        "Email Address": email,
        "First Name": first_name,
        "Last Name": last_name,
        "Orders": pa.array(orders[idx]).cast(pa.string()),
        "Spend": _money_text(spend[idx]),
        "Tags": tag_text.combine_chunks(),
    }
    return MailingList(
        columns,
        excluded_not_tag=int((wanted & blocked).sum()),
        excluded_relay=int((wanted & ~blocked & relay).sum()),
        excluded_consent=int((wanted & ~blocked & ~relay & no_consent).sum()),
    )
