"""The customers a mailing list is chosen from: one entry per person
(:class:`ListCustomers`), whichever identities their orders carry, with their figures,
latest marketing answer and tags. Marketplace relay addresses (Amazon's
``@marketplace.amazon.*``, eBay's ``@members.ebay.*``) reach no inbox a seller may
market to, so they are flagged. ``reports.lists`` chooses, orders and renders them.

The customers come from a run's orders (:func:`run_customers`), from the workspace's
history for the run's customers (:func:`all_time_customers`: all-time figures) or from
the whole history (:func:`history_customers`, ``ordertags export`` with no files).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.keys import RELAY_PATTERN
from ordertags.customers.history import History, ListFigures
from ordertags.engine.pipeline import Annotated
from ordertags.io.fields import CONSENT_YES
from ordertags.io.values import whole_units
from ordertags.tagbook import TagBook

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass
class ListCustomers:
    """The customers a list is chosen from, one entry per person (a customer merged
    from several emails, buyer ids and phones is one entry).

    ``email`` is the address to write (as the customer wrote it; None: they have no
    mailbox, only a marketplace buyer id or a relay address, ``relay``), ``orders`` and
    ``spend`` (ten-thousandths, per currency; "" for orders whose export names none)
    the figures shown, ``consent`` their latest marketing answer (1 yes, 0 no, -1 never
    said; None: no source records answers), ``tags`` their customer tags (tag -> one
    flag per customer) and ``key`` their best identity, which orders ties."""

    key: list[str]
    email: list[str | None]
    relay: BoolArray
    first_name: list[str]
    last_name: list[str]
    orders: IntArray
    spend: dict[str, IntArray] = field(default_factory=dict)
    consent: IntArray | None = None
    tags: dict[str, BoolArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.key)


def _split_names(names: pa.Array) -> tuple[pa.Array, pa.Array]:
    """ "Smith, Ann" -> (Ann, Smith); "Ann van Dijk" -> (Ann, van Dijk)."""
    trimmed = pc.utf8_trim_whitespace(names)
    comma = pc.extract_regex(trimmed, r"(?s)^(?P<last>[^,]*?)\s*,\s*(?P<first>.*)$")
    plain = pc.extract_regex(trimmed, r"(?s)^(?P<first>\S*)\s*(?P<last>.*)$")
    has_comma = pc.fill_null(pc.match_substring(trimmed, ","), False)
    first = pc.if_else(has_comma, pc.struct_field(comma, "first"), pc.struct_field(plain, "first"))
    last = pc.if_else(has_comma, pc.struct_field(comma, "last"), pc.struct_field(plain, "last"))
    return pc.fill_null(first, ""), pc.fill_null(last, "")


# --- customers from a run ------------------------------------------------------------------


def _first_per(person: IntArray, rows: IntArray, people: int) -> IntArray:
    """Per person, the first of ``rows`` (ascending) that is theirs (-1: none)."""
    out = np.full(people, -1, dtype=np.int64)
    out[person[rows[::-1]]] = rows[::-1]
    return out


def run_customers(annotated: Annotated) -> ListCustomers:
    """The customers of a run, one entry per person, with the run's figures: their
    orders and spend per currency in the run, their latest marketing answer in the run,
    their first mailbox address and the name on that order."""
    frame = annotated.frame
    customers = annotated.customers
    people = customers.people
    codes = customers.codes
    has = codes >= 0
    person = np.where(
        has,
        customers.groups[np.maximum(codes, 0)] if customers.groups is not None else codes,
        -1,
    )
    starts = frame.counted_orders & has  # an order two exports hold counts once
    # A fully refunded order is no purchase; spend is net of refunds.
    orders = np.bincount(person[starts & ~frame.fully_refunded()], minlength=people).astype(
        np.int64
    )
    spend: dict[str, IntArray] = {}
    if frame.has_field("total"):
        units = frame.net_units()
        currency = (
            pc.utf8_upper(pc.utf8_trim_whitespace(frame.text(field="currency"))).combine_chunks()
            if frame.has_field("currency")
            else pa.repeat(pa.scalar("", pa.string()), frame.n)
        )
        enc = pc.dictionary_encode(currency)
        cur = enc.indices.to_numpy(zero_copy_only=False)
        for j, name in enumerate(enc.dictionary.to_pylist()):
            sel = starts & (cur == j)
            sums = np.bincount(person[sel], weights=units[sel].astype(np.float64), minlength=people)
            spend[name or ""] = spend.get(name or "", 0) + whole_units(sums)
    else:
        spend[""] = np.zeros(people, dtype=np.int64)
    consent = _run_consent(annotated, person, people)
    email_text = pc.utf8_trim_whitespace(frame.text(field="email").combine_chunks())
    is_relay = pc.fill_null(
        pc.match_substring_regex(pc.utf8_lower(email_text), RELAY_PATTERN), False
    )
    mailbox = np.asarray(
        pc.and_(
            pc.and_(pc.not_equal(email_text, ""), pc.match_substring(email_text, "@")),
            pc.invert(is_relay),
        ).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    relay_rows = np.asarray(is_relay.to_numpy(zero_copy_only=False), dtype=bool) & has
    relay = np.zeros(people, dtype=bool)
    relay[person[relay_rows]] = True
    mail_row = _first_per(person, np.flatnonzero(mailbox & has), people)
    any_row = _first_per(person, np.flatnonzero(has), people)
    row = np.where(mail_row >= 0, mail_row, any_row)
    emails = email_text.take(pa.array(np.maximum(mail_row, 0))).to_pylist() if people else []
    email = [e if mail_row[i] >= 0 else None for i, e in enumerate(emails)]
    at = pa.array(np.maximum(row, 0))

    def text_at(name: str) -> list[str]:
        if not frame.has_field(name) or not people:
            return [""] * people
        got = pc.utf8_trim_whitespace(frame.text(field=name).combine_chunks().take(at))
        return [x or "" for x in got.to_pylist()]

    if frame.has_field("first_name") or frame.has_field("last_name"):
        first, last = text_at("first_name"), text_at("last_name")
    else:
        f, la = _split_names(pa.array(text_at("name"), pa.string()))
        first, last = f.to_pylist(), la.to_pylist()
    keys_text = customers.row_keys().take(at).to_pylist() if people else []
    masks = annotated.tag_masks
    book = annotated.tagbook
    # Every tag a customer's orders carry chooses them (an order tag too: NEW on their
    # first order); the Tags column shows the customer tags.
    tag_flags = {t: customers.person_any(masks[t]) for t in masks if t in book.tags}
    return ListCustomers(
        key=[k or "" for k in keys_text],
        email=email,
        relay=relay,
        first_name=first,
        last_name=last,
        orders=orders,
        spend=spend,
        consent=consent,
        tags=tag_flags,
    )


def _run_consent(annotated: Annotated, person: IntArray, people: int) -> IntArray | None:
    """Per person: their latest marketing answer in the run (1 yes, 0 no, -1 none);
    None when no export of the run has a marketing-consent column."""
    frame = annotated.frame
    if not frame.has_field("marketing_consent"):
        return None
    text = pc.utf8_lower(pc.utf8_trim_whitespace(frame.text(field="marketing_consent")))
    known = np.asarray(pc.not_equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    yes = np.asarray(
        pc.fill_null(pc.is_in(text, value_set=pa.array(CONSENT_YES)), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    rows = np.flatnonzero(known & (person >= 0))
    if frame.has_field("date"):  # latest by date (then by row), so the newest answer wins
        stamps = frame.dates()[rows].astype("datetime64[s]").astype(np.int64)
        rows = rows[np.lexsort((rows, stamps))]
    answer = np.full(people, -1, dtype=np.int64)
    answer[person[rows]] = yes[rows].astype(np.int64)  # later rows overwrite earlier ones
    return answer


# --- customers from the history ------------------------------------------------------------


def _from_figures(fig: ListFigures, tags: dict[str, BoolArray]) -> ListCustomers:
    first, last = _split_names(pa.array([x or "" for x in fig.name], pa.string()))
    return ListCustomers(
        key=list(fig.key),
        email=list(fig.email),
        relay=fig.relay,
        first_name=first.to_pylist(),
        last_name=last.to_pylist(),
        orders=fig.orders,
        spend=fig.spend or {"": np.zeros(len(fig.ids), dtype=np.int64)},
        consent=fig.consent if fig.any_consent else None,
        tags=tags,
    )


def history_customers(history: History, tagbook: TagBook, as_of: dt.date) -> ListCustomers:
    """Every customer of the history, with all-time figures, the tags given by hand (by
    any identity of theirs) and the rule tags of the last ``apply``."""
    fig = history.list_figures()
    manual = history.manual_customers(tagbook, as_of)
    pos = {int(c): i for i, c in enumerate(fig.ids.tolist())}
    tags: dict[str, BoolArray] = {
        t: np.zeros(len(fig.ids), dtype=bool)
        for t, d in tagbook.tags.items()
        if d.scope == "customer"
    }
    for i, text in enumerate(fig.rule_tags):
        for t in text.split("; ") if text else ():
            if t in tags:
                tags[t][i] = True
    for c, names in manual.items():
        if c in pos:
            for t in names:
                if t in tags:
                    tags[t][pos[c]] = True
    return _from_figures(fig, tags)


def _with_history(run: ListCustomers, annotated: Annotated, history: History) -> ListCustomers:
    """The run's customers with the history's all-time figures: each person's history
    customers summed (orders, spend per currency), their latest answer from any
    channel, and the email and name of their latest order with one."""
    memory = annotated.memory
    if memory is None or memory.history is None:
        return run
    hist_ids, owner = memory.grouping.hist_ids, memory.grouping.hist_owner
    if not len(hist_ids):
        return run
    fig = history.list_figures(hist_ids)
    at = np.searchsorted(fig.ids, hist_ids)
    people = len(run)
    known = np.zeros(people, dtype=bool)
    known[owner] = True
    orders = np.where(known, 0, run.orders)
    np.add.at(orders, owner, fig.orders[at])
    spend: dict[str, IntArray] = {}
    for c in set(run.spend) | set(fig.spend):
        base = run.spend.get(c, np.zeros(people, dtype=np.int64))
        sums = np.where(known, 0, base)
        if c in fig.spend:
            np.add.at(sums, owner, fig.spend[c][at])
        spend[c] = sums
    consent = run.consent
    if fig.any_consent:
        consent = np.where(known, -1, run.consent if run.consent is not None else -1)
        stamp = np.full(people, -(2**63), dtype=np.int64)
        order = np.argsort(fig.consent_at[at], kind="stable")
        for k in order.tolist():  # a person has a handful of history customers
            p, i = int(owner[k]), int(at[k])
            if fig.consent[i] >= 0 and fig.consent_at[i] >= stamp[p]:
                consent[p], stamp[p] = fig.consent[i], fig.consent_at[i]
    email = list(run.email)
    first, last = list(run.first_name), list(run.last_name)
    relay = run.relay.copy()
    relay[owner[fig.relay[at]]] = True
    hist_first, hist_last = _split_names(pa.array([x or "" for x in fig.name], pa.string()))
    hf, hl = hist_first.to_pylist(), hist_last.to_pylist()
    best = np.argsort(fig.orders[at], kind="stable")  # the busiest history customer last
    for k in best.tolist():
        p, i = int(owner[k]), int(at[k])
        if fig.email[i] is not None and (email[p] is None or known[p]):
            email[p] = fig.email[i]
        if fig.name[i]:
            first[p], last[p] = hf[i], hl[i]
    return ListCustomers(
        key=run.key,
        email=email,
        relay=relay,
        first_name=first,
        last_name=last,
        orders=orders,
        spend=spend,
        consent=consent,
        tags=run.tags,
    )


def all_time_customers(annotated: Annotated, history: History | None) -> ListCustomers:
    """The run's customers, one entry per person (as :func:`run_customers`), with the
    history's all-time orders, spend per currency and latest marketing answer where the
    run has a ``history``."""
    people = run_customers(annotated)
    return _with_history(people, annotated, history) if history is not None else people
