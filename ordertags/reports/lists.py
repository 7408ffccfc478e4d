"""Mailing lists a marketer uploads as they are: customers, filters, exclusions, presets.

This layer takes the customers as rows (:class:`CustomerRows`: one per person, with their
identity, name, address, tags, orders, spend per currency, consent, last order, channels
and country), whether they come from a run's orders (:func:`customers_of_run`) or from a
workspace's history, and

1. keeps those the filters ask for (:class:`ListFilter`: tags, segments, spend, orders,
   dates, country, channel);
2. leaves out, each with its count, those no list may carry (:func:`select`): invalid
   addresses, marketplace relay addresses, suppressed addresses, customers with a tag
   marked ``no_marketing``, and customers who did not accept marketing;
3. writes them in the columns of an email tool (:data:`PRESETS`), with every text cell
   made inert for spreadsheets (:mod:`ordertags.io.safecsv`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.amounts import rate_into
from ordertags.base.emails import normalize_email
from ordertags.base.keys import RELAY_PATTERN
from ordertags.base.listfiles import read_value_list
from ordertags.customers.grouping import customer_keys
from ordertags.engine.pipeline import Annotated
from ordertags.errors import OrderTagsError, UsageError
from ordertags.io.fields import CONSENT_YES
from ordertags.io.safecsv import neutralise_column, neutralise_text
from ordertags.io.values import whole_units
from ordertags.reports.mailing import all_time_customers, history_customers
from ordertags.tagbook import TagBook, tag_key

if TYPE_CHECKING:
    import pandas

    from ordertags.customers.history import History

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
DateArray = np.ndarray[Any, np.dtype[np.datetime64]]

#: An address the email tools take: a local part that starts with a letter, digit or
#: ``_`` (so never with ``=``, ``+``, ``-`` or ``@``, which a spreadsheet would run), then
#: letters, digits and ``. _ % + ' -``, with no two dots in a row and no dot before the
#: ``@``; a domain of dot-separated labels with a TLD of 2+ letters. Letters include
#: accented ones (``chloé@example.fr``, RFC 6531). Stricter than RFC 5321 on purpose:
#: email tools refuse quoted and other rare forms. RE2 syntax, for whole columns.
VALID_EMAIL = (
    r"^[\p{L}\p{N}_][\p{L}\p{N}_.%+'\-]*@"
    r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?\.)+\p{L}{2,}$"
)
# The same for Python's re, which has no \p{..}: [^\W] is a letter, digit or _.
_VALID = re.compile(r"^[^\W][\w.%+'\-]*@(?:[^\W_](?:(?:[^\W_]|-)*[^\W_])?\.)+[^\W\d_]{2,}$")
_RELAY = re.compile(RELAY_PATTERN, re.IGNORECASE)

#: Why a customer was left out, in the order the reasons are checked (a customer is
#: counted under the first that applies).
REASONS = ("no_address", "invalid", "relay", "suppressed", "no_marketing", "no_consent")
REASON_TEXT = {
    "no_address": "with no email (buyer id only)",
    "invalid": "with an invalid address",
    "relay": "with marketplace relay addresses",
    "suppressed": "suppressed",
    "no_marketing": "with a no-marketing tag",
    "no_consent": "without marketing consent",
}


def is_valid_email(address: str) -> bool:
    """Would an email tool take ``address``? (See :data:`VALID_EMAIL`.)

    >>> is_valid_email("jane.doe+news@example.co.uk"), is_valid_email("=1+1@example.com")
    (True, False)
    """
    text = address.strip()
    return bool(_VALID.match(text)) and ".." not in text and ".@" not in text


def valid_email_mask(emails: pa.Array) -> BoolArray:
    """:func:`is_valid_email` for a whole column (nulls: False)."""
    ok = pc.and_(
        pc.match_substring_regex(emails, VALID_EMAIL),
        pc.invert(pc.or_(pc.match_substring(emails, ".."), pc.match_substring(emails, ".@"))),
    )
    return np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)


def is_relay(address: str) -> bool:
    """Is ``address`` a marketplace relay address?

    >>> is_relay("x1@marketplace.amazon.co.uk"), is_relay("x@example.com")
    (True, False)
    """
    return bool(_RELAY.search(address))


# --- the customers ------------------------------------------------------------------------

T = TypeVar("T")


class _Once(Generic[T]):
    """A list made on first use, once (shared by the columns :meth:`Later.take` makes)."""

    def __init__(self, make: Callable[[], list[T]]) -> None:
        self.make: Callable[[], list[T]] | None = make
        self.value: list[T] = []

    def get(self) -> list[T]:
        if self.make is not None:
            self.value, self.make = self.make(), None
        return self.value


class Later(Sequence[T]):
    """A column of :class:`CustomerRows` worked out when first read: a run's country,
    channels, phone and address spellings, which only some presets and filters show, so
    that a list which does not show them never reads their columns.

    >>> col = Later(lambda: ["GB", "FR", "DE"], 3)
    >>> len(col), list(col.take([2, 0])), col == ["GB", "FR", "DE"]
    (3, ['DE', 'GB'], True)
    """

    def __init__(
        self, make: Callable[[], list[T]] | _Once[T], n: int, pick: list[int] | None = None
    ) -> None:
        self._once = make if isinstance(make, _Once) else _Once(make)
        self._n = n
        self._pick = pick
        self._values: list[T] | None = None

    def values(self) -> list[T]:
        """The column as a list (worked out now if not yet)."""
        if self._values is None:
            made = self._once.get()
            self._values = made if self._pick is None else [made[i] for i in self._pick]
        return self._values

    def take(self, pick: list[int]) -> Later[T]:
        """The values at positions ``pick``, still worked out when first read."""
        picked = pick if self._pick is None else [self._pick[i] for i in pick]
        return Later(self._once, len(pick), picked)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        return self.values()[i]

    def __iter__(self) -> Iterator[T]:
        return iter(self.values())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self.values() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.values())


@dataclass
class CustomerRows:
    """Customers, one per person, as parallel columns.

    ``key`` is the person's identity (the customer key of ``email``, else their other
    identity), ``email`` the address they used last (a mailbox before a relay address),
    ``spellings`` every spelling of their addresses (lower-cased), ``tags`` their
    customer tags and the order tags any of their orders carries (highest priority
    first), ``spend`` ten-thousandths per currency (``""``: not stated), ``consent`` 1
    (their latest answer was yes), 0 (no) or -1 (never answered), and
    ``consent_recorded`` whether any source records consent at all. ``last_order`` and
    ``first_order`` are dates (NaT: unknown).
    """

    key: list[str]
    email: list[str]
    first_name: list[str]
    last_name: list[str]
    tags: list[tuple[str, ...]]
    orders: IntArray
    spend: dict[str, IntArray]
    consent: np.ndarray[Any, np.dtype[np.int8]]
    consent_recorded: bool
    last_order: DateArray
    first_order: DateArray
    channels: Sequence[tuple[str, ...]]
    country: Sequence[str]
    phone: Sequence[str] = field(default_factory=list)
    spellings: Sequence[tuple[str, ...]] = field(default_factory=list)
    aliases: list[tuple[str, ...]] = field(default_factory=list)
    #: No mailbox, only a marketplace relay address (known to the history).
    relay_only: list[bool] = field(default_factory=list)
    #: Per tag (spelled as in ``tags``): which customers carry it, a column per tag, so
    #: that a list filtered by tag is a column operation. Made from ``tags`` when not
    #: given (customers made by hand).
    tag_flags: dict[str, BoolArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.key)
        if not self.relay_only:
            self.relay_only = [False] * n
        if not self.phone:
            self.phone = [""] * n
        if not self.spellings:
            self.spellings = [(e.strip().lower(),) if e.strip() else () for e in self.email]
        if not self.aliases:
            self.aliases = [(k,) if k else () for k in self.key]
        if not self.tag_flags:
            self.tag_flags = _tag_flags(self.tags, n)

    def __len__(self) -> int:
        return len(self.key)

    @property
    def currencies(self) -> list[str]:
        """The currencies spent in, most spent first (by sum over all customers)."""
        return sorted(self.spend, key=lambda c: (-int(self.spend[c].sum()), c))

    def main_currency(self) -> tuple[list[str], IntArray]:
        """Per customer: the currency they spent most in, and that amount (ties: the
        currency first in :attr:`currencies`)."""
        n = len(self)
        if not self.spend:
            return [""] * n, np.zeros(n, dtype=np.int64)
        order = self.currencies
        stacked = np.stack([self.spend[c] for c in order])
        best = np.argmax(stacked, axis=0)  # first maximum: the overall biggest currency
        amounts: IntArray = stacked[best, np.arange(n)]
        return [order[i] if amounts[j] else "" for j, i in enumerate(best)], amounts

    def take(self, idx: IntArray) -> CustomerRows:
        """The customers at positions ``idx``, in that order."""
        pick = [int(i) for i in idx]

        def sub(values: Sequence[Any]) -> Any:
            if isinstance(values, Later):
                return values.take(pick)
            return [values[i] for i in pick]

        return CustomerRows(
            key=sub(self.key),
            email=sub(self.email),
            first_name=sub(self.first_name),
            last_name=sub(self.last_name),
            tags=sub(self.tags),
            orders=self.orders[idx],
            spend={c: v[idx] for c, v in self.spend.items()},
            consent=self.consent[idx],
            consent_recorded=self.consent_recorded,
            last_order=self.last_order[idx],
            first_order=self.first_order[idx],
            channels=sub(self.channels),
            country=sub(self.country),
            phone=sub(self.phone),
            spellings=sub(self.spellings),
            aliases=sub(self.aliases),
            relay_only=sub(self.relay_only),
            tag_flags={t: v[idx] for t, v in self.tag_flags.items()},
        )


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _flags(arr: pa.Array | pa.ChunkedArray) -> BoolArray:
    return np.asarray(_np(pc.fill_null(arr, False)), dtype=bool)


def _split_names(names: list[str]) -> tuple[list[str], list[str]]:
    """ "Smith, Ann" -> (Ann, Smith); "Ann van Dijk" -> (Ann, van Dijk)."""
    first, last = [], []
    for name in names:
        name = " ".join(name.split())
        if "," in name:
            a, _, b = name.partition(",")
            first.append(b.strip())
            last.append(a.strip())
        else:
            a, _, b = name.partition(" ")
            first.append(a)
            last.append(b)
    return first, last


def customers_of_run(
    annotated: Annotated,
    history: History | None = None,
    *,
    any_tags: Sequence[str] | None = None,
) -> CustomerRows:
    """The customers of a run (an :class:`ordertags.engine.pipeline.Annotated`), one per
    person: merged identities (a link, a phone, the history) are one customer, shown
    under the address they used last. With the run's ``history`` (a workspace), orders,
    spend per currency and the latest marketing answer are all-time figures from it,
    across every channel. With ``any_tags`` (names in any case; one the tag book does not
    define is an error), only the customers carrying one of them (all their figures still
    over all their orders).

    >>> from ordertags import annotate
    >>> rows = customers_of_run(annotate(["orders.csv"], tagbook="tagbook.yaml"))
    >>> rows.email[:1], rows.orders[:1]
    (['Lena.Nguyen@example.org'], array([2]))
    """
    frame = annotated.frame
    customers = annotated.customers
    codes = np.asarray(customers.codes, dtype=np.int64)
    has = customers.has_customer
    groups = customers.groups
    n_people = customers.people if groups is not None else customers.count
    if groups is None:
        person = codes  # -1: no customer
    else:
        person = np.full(len(codes), -1, dtype=np.int64)
        person[has] = groups[codes[has]]
    masks = annotated.tag_masks
    ranked = annotated.tagbook.rank(masks)

    # Who is listed: with ``any_tags``, the people carrying one of them; else everyone
    # with an order (in the run, or in the history). Every figure below is worked out
    # on the rows of the listed people alone.
    every = all_time_customers(annotated, history) if history is not None else None
    wanted_tags: dict[str, BoolArray] = {}
    if any_tags is not None:
        wanted = {annotated.tagbook.tag_named(t) for t in any_tags}
        keep = np.zeros(n_people, dtype=bool)
        for t in ranked:
            if t in wanted:
                wanted_tags[t] = customers.person_any(masks[t])
                keep |= wanted_tags[t]
    else:
        keep = customers.person_any(has)
        if every is not None:
            keep |= every.orders > 0
    sel = np.flatnonzero(keep)
    m = len(sel)
    pos = np.full(n_people + 1, -1, dtype=np.int64)  # person -> position (-1: not listed)
    pos[sel] = np.arange(m)
    row_pos = pos[person]  # person -1 -> pos[-1], which is -1
    rows = np.flatnonzero(row_pos >= 0)  # the listed people's rows, ascending
    who = row_pos[rows]
    k = len(rows)
    # Their orders, each once (the run's one-order-one-record model, as the rules count
    # them): an order that the channel's export and an order hub's both hold is counted
    # in one copy (see Orders.counted).
    starts = frame.orders.counted[rows]

    # Each row's date as a rank (0: none), so that "the latest row" is one maximum of
    # rank * k + position per person: no sort.
    low = 0
    if frame.has_field("date") and k:
        seconds = np.asarray(frame.dates.stamps()[rows], dtype="datetime64[s]").view(np.int64)
        dated = seconds != np.iinfo(np.int64).min  # NaT
        day = seconds // 86_400  # as datetime64[D] has it (before 1970 too)
        low = int(np.where(dated, day, np.iinfo(np.int64).max).min()) if dated.any() else 0
        stamp = np.where(dated, day - low + 1, 0)
    else:
        dated = np.zeros(k, dtype=bool)
        stamp = np.zeros(k, dtype=np.int64)
    span = int(stamp.max(initial=0)) + 1
    latest_key = stamp * k + np.arange(k, dtype=np.int64)

    def last_of(key: IntArray, where: BoolArray | None = None) -> IntArray:
        """Per listed person, the position among ``rows`` of their row with the largest
        ``key`` (among ``where``), or -1."""
        best = np.full(m, -1, dtype=np.int64)
        if where is None or where.all():
            np.maximum.at(best, who, key)
        else:
            np.maximum.at(best, who[where], key[where])
        out: IntArray = np.where(best >= 0, best % max(k, 1), -1)
        return out

    def values(name: str, at: IntArray = rows) -> tuple[IntArray, pa.Array]:
        """Per row of ``at``: the index of its trimmed value of field ``name`` among the
        distinct ones (text work is done once per distinct value)."""
        if not frame.has_field(name) or not len(at):
            return np.zeros(len(at), dtype=np.int64), pa.array([""], pa.string())
        taken = frame.text(field=name).take(pa.array(at))
        enc = pc.dictionary_encode(pc.fill_null(_combined(taken), ""))
        idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        return idx, pc.utf8_trim_whitespace(enc.dictionary)

    # The address used last: the latest row with a mailbox, else the latest with any.
    email_idx, email_text = values("email")
    mailbox_of = valid_email_mask(email_text) & ~_flags(
        pc.match_substring_regex(email_text, RELAY_PATTERN, ignore_case=True)
    )
    has_email = _flags(pc.not_equal(email_text, ""))[email_idx]
    mailbox = mailbox_of[email_idx]
    chosen = last_of((mailbox * span + stamp) * k + np.arange(k, dtype=np.int64), has_email)
    latest = last_of(latest_key)
    at = np.where(chosen >= 0, chosen, latest)  # position among rows (-1: no row)
    found = at >= 0
    at_rows = pa.array(rows[np.maximum(at, 0)] if k else np.zeros(m, dtype=np.int64))

    def pick(name: str) -> list[str]:
        """Per listed person: the trimmed ``name`` of their row ``at`` ("" if none)."""
        if not frame.has_field(name) or not k:
            return [""] * m
        got = pc.utf8_trim_whitespace(frame.text(field=name).take(at_rows)).to_pylist()
        return [g if ok and g is not None else "" for g, ok in zip(got, found, strict=True)]

    def at_value(idx: IntArray, text: pa.Array, which: IntArray) -> list[str]:
        got = text.take(pa.array(idx[np.maximum(which, 0)] if k else np.zeros(m, np.int64)))
        return [
            g if w >= 0 and g is not None else ""
            for g, w in zip(got.to_pylist(), which, strict=True)
        ]

    emails = at_value(email_idx, email_text, at)
    # First and last name where the export has them, else the full name split (one run
    # may mix both kinds of export).
    first_names, last_names = pick("first_name"), pick("last_name")
    split_first, split_last = _split_names(pick("name"))
    for i in range(m):
        if not first_names[i] and not last_names[i]:
            first_names[i], last_names[i] = split_first[i], split_last[i]

    # A fully refunded order is no purchase (spend below is net of refunds).
    purchases = starts & ~frame.money.fully_refunded()[rows]
    orders = np.bincount(who[purchases], minlength=m).astype(np.int64)
    spend = (
        {}
        if every is not None
        else _run_spend(frame, person, has, rows, who, starts, sel, n_people)
    )

    nat = np.datetime64("NaT", "D")
    if annotated.memory is not None and groups is not None:
        # Merged customers (and, in a workspace, the history): first and last order
        # over all their orders, one value per person.
        last_all, first_all = _remembered_dates(annotated.memory)
        last_order, first_order = last_all[sel], first_all[sel]
    else:
        none = np.iinfo(np.int64).min
        last = np.full(m, none, dtype=np.int64)
        first = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        counted = starts & dated
        np.maximum.at(last, who[counted], stamp[counted])
        np.minimum.at(first, who[counted], stamp[counted])
        none_at = last == none
        base = np.datetime64(low - 1, "D")
        last_order = np.where(none_at, nat, base + np.where(none_at, 0, last).astype("m8[D]"))
        first_order = np.where(none_at, nat, base + np.where(none_at, 0, first).astype("m8[D]"))

    consent = np.full(m, -1, dtype=np.int8)
    recorded = frame.has_field("marketing_consent")
    if recorded:
        said_idx, said_text = values("marketing_consent")
        answer = pc.utf8_lower(said_text)
        known = _flags(pc.not_equal(answer, ""))[said_idx]
        yes = _flags(pc.is_in(answer, value_set=pa.array(CONSENT_YES)))[said_idx]
        said = last_of(latest_key, known)
        ok = said >= 0
        consent[ok] = yes[said[ok]].astype(np.int8)
    if every is not None:
        # The history's all-time figures, across channels (reports.mailing works them out).
        orders = every.orders.astype(np.int64)[sel]
        folded = fold_unnamed_currency({c: v.astype(np.int64) for c, v in every.spend.items()})
        spend = {c: v[sel] for c, v in folded.items()}
        if every.consent is not None:
            recorded = True
            consent = every.consent.astype(np.int8)[sel]

    # Country, channels, phone and the spellings of addresses are worked out when first
    # read: the default columns and tag filters need none of them, and in a big export's
    # first pass their columns are not read at all.
    def countries() -> list[str]:
        """Per listed person: the country of their latest order naming one."""
        idx, text = values("country")
        text = pc.utf8_upper(text)
        named = _flags(pc.not_equal(text, ""))[idx]
        return at_value(idx, text, last_of(latest_key, named))

    order_rows, order_who = rows[starts], who[starts]

    def channels() -> list[tuple[str, ...]]:
        """Per listed person: the channels of their orders, the export's channel column
        where it has one, else its platform."""
        idx, text = values("channel", order_rows)
        table_of = np.searchsorted(frame.offsets, order_rows, side="right") - 1
        idx = np.where(_flags(pc.equal(text, ""))[idx], len(text) + table_of, idx)
        platforms = pa.array([p.name for p in frame.profiles], pa.string())
        words = pc.utf8_lower(pa.concat_arrays([text, platforms])).to_pylist()
        return _sets_of(order_who, idx, words, m)

    mail_who, mail_idx = who[mailbox], email_idx[mailbox]

    def spellings() -> list[tuple[str, ...]]:
        words = pc.utf8_lower(email_text).to_pylist()
        return _sets_of(mail_who, mail_idx, words, m)

    # Each person's identities (their customer keys), and the key they are known by:
    # that of the address shown, else their least identity.
    aliases: list[tuple[str, ...]]
    if groups is None:  # one code per person: its key
        own = customers.keys.take(pa.array(sel)).to_pylist()
        aliases = [(key,) if key else () for key in own]
    else:
        code_rows = pos[np.asarray(groups, dtype=np.int64)]
        wanted_codes = np.flatnonzero(code_rows >= 0)
        aliases_sets: list[set[str]] = [set() for _ in range(m)]
        for i, key in zip(
            code_rows[wanted_codes].tolist(),
            customers.keys.take(pa.array(wanted_codes)).to_pylist(),
            strict=True,
        ):
            if key:
                aliases_sets[i].add(key)
        aliases = [tuple(sorted(s)) for s in aliases_sets]
    shown_at = email_idx[np.maximum(at, 0)] if k else np.zeros(m, dtype=np.int64)
    shown = customer_keys(email_text).take(pa.array(shown_at))
    keys = [
        key if key and a >= 0 else (names[0] if names else f"#{int(p)}")
        for key, a, names, p in zip(shown.to_pylist(), at, aliases, sel, strict=True)
    ]

    # The tags each person carries, highest priority first.
    flags = [
        wanted_tags[t][sel] if t in wanted_tags else _any_of(who[masks[t][rows]], m) for t in ranked
    ]
    if len(ranked) < 63:  # one bit a tag: one tuple per combination
        bits = np.zeros(m, dtype=np.int64)
        for j, flag in enumerate(flags):
            bits |= flag.astype(np.int64) << j
        combos = {
            b: tuple(t for j, t in enumerate(ranked) if b >> j & 1)
            for b in np.unique(bits).tolist()
        }
        tags = [combos[b] for b in bits.tolist()]
    else:
        tags = [
            tuple(t for t, flag in zip(ranked, flags, strict=True) if flag[i]) for i in range(m)
        ]
    return CustomerRows(
        key=keys,
        email=emails,
        first_name=first_names,
        last_name=last_names,
        tags=tags,
        orders=orders,
        spend=spend,
        consent=consent,
        consent_recorded=recorded,
        last_order=last_order,
        first_order=first_order,
        channels=Later(channels, m),
        country=Later(countries, m),
        phone=Later(lambda: pick("phone"), m),
        spellings=Later(spellings, m),
        aliases=aliases,
        tag_flags=dict(zip(ranked, flags, strict=True)),
    )


def _any_of(who: IntArray, n: int) -> BoolArray:
    """Per position of ``n``: is it among ``who``?"""
    out = np.zeros(n, dtype=bool)
    out[who] = True
    return out


def _combined(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _run_spend(
    frame: Any,
    person: IntArray,
    has: BoolArray,
    rows: IntArray,
    who: IntArray,
    starts: BoolArray,
    sel: IntArray,
    n_people: int,
) -> dict[str, IntArray]:
    """Spend per currency (ten-thousandths) of the listed people ``sel``, over their
    orders (the first rows among ``rows``; ``who``: their positions in ``sel``), folded
    as :func:`fold_unnamed_currency` folds the run's customers: one sum per currency
    named on any order of the run (upper-cased, trimmed; "": none named)."""
    if not frame.has_field("total"):
        return {}
    m = len(sel)
    order_rows = rows[starts]
    net = frame.money.net_units()  # spend: net of refunds
    units = net[order_rows].astype(np.float64)
    if frame.has_field("currency"):
        codes, names = frame.encoded(field="currency")
        text = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(names, "")))
        enc = pc.dictionary_encode(text)
        named = [c or "" for c in enc.dictionary.to_pylist()]
        canon = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        # The currencies of the run's orders (of customers): those of the listed
        # people's orders, and only when some value is not among them, all.
        used = np.zeros(len(named), dtype=bool)
        used[canon[codes[order_rows]]] = True
        if not used[canon].all():
            all_orders = np.flatnonzero(frame.orders.counted & has)
            used[canon[codes[all_orders]]] = True
        currency = canon[codes[order_rows]]
    else:
        any_order = len(order_rows) > 0 or bool((frame.orders.counted & has).any())
        named, used = [""], np.array([any_order])
        currency = np.zeros(len(order_rows), dtype=np.int64)
    present = [named[j] for j in np.flatnonzero(used).tolist()]
    if "" in present and len(present) > 1:
        # Orders with no currency are folded into a customer's one currency, and the
        # unnamed column stays when anyone of the run keeps such spend: worked out over
        # every customer (a run mixing exports with and without a currency).
        all_orders = np.flatnonzero(frame.orders.counted & has)
        all_units = net[all_orders]
        all_currency = canon[codes[all_orders]]
        whole: dict[str, IntArray] = {}
        for j in np.flatnonzero(used).tolist():
            pick = all_currency == j
            sums = np.bincount(
                person[all_orders[pick]],
                weights=all_units[pick].astype(np.float64),
                minlength=n_people,
            )
            whole[named[j]] = whole_units(sums)
        return {c: v[sel] for c, v in fold_unnamed_currency(whole).items()}
    spend: dict[str, IntArray] = {}
    order_who = who[starts]
    size = len(named)
    if m * size <= 4 * len(order_rows) + 4096:
        # One sum per (person, currency): each bin adds its orders in row order, as a sum
        # per currency would.
        table = np.bincount(order_who * size + currency, weights=units, minlength=m * size)
        for j in np.flatnonzero(used).tolist():
            spend[named[j]] = whole_units(table[j::size])
        return spend
    for j in np.flatnonzero(used).tolist():
        pick = currency == j
        sums = np.bincount(order_who[pick], weights=units[pick], minlength=m)
        spend[named[j]] = whole_units(sums)
    return spend


def _sets_of(
    who: IntArray, idx: IntArray, words: Sequence[str | None], n: int
) -> list[tuple[str, ...]]:
    """Per person (``who``, one per row), the distinct non-blank ``words[idx]`` of their
    rows, sorted."""
    out: list[tuple[str, ...]] = [()] * n
    if not len(who):
        return out
    ordered = sorted({w for w in words if w})
    if not ordered:
        return out
    rank_of = {w: i for i, w in enumerate(ordered)}
    size = len(ordered)
    rank = np.array([rank_of.get(w or "", size) for w in words], dtype=np.int64)
    r = rank[idx]
    known = r < size
    pairs = np.unique(who[known] * size + r[known])
    owner, what = pairs // size, pairs % size
    if not len(pairs):
        return out
    cuts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1, len(owner)]
    for p, a, b in zip(
        owner[cuts[:-1]].tolist(), cuts[:-1].tolist(), cuts[1:].tolist(), strict=True
    ):
        out[p] = tuple(ordered[w] for w in what[a:b].tolist())
    return out


def _remembered_dates(memory: Any) -> tuple[DateArray, DateArray]:
    """Per person: their last and first order from the customer memory (the run's orders
    and, in a workspace, the history's)."""
    agg = memory.aggregates(None)
    none = np.iinfo(np.int64).max

    def day(stamps: IntArray) -> DateArray:
        out = np.full(len(stamps), np.datetime64("NaT"), "datetime64[D]")
        ok = stamps != none
        out[ok] = stamps[ok].astype("datetime64[s]").astype("datetime64[D]")
        return out

    return day(agg["last"]), day(agg["first"])


def fold_unnamed_currency(spend: dict[str, IntArray]) -> dict[str, IntArray]:
    """Orders whose export names no currency (``""``) count in the customer's currency
    where they used exactly one named currency."""
    if "" not in spend or len(spend) == 1:
        return spend
    named = [c for c in spend if c]
    out = {c: spend[c].copy() for c in named}
    blank = spend[""].copy()
    used = sum(((out[c] != 0).astype(np.int64) for c in named), np.zeros(len(blank), np.int64))
    for c in named:
        only = (used == 1) & (out[c] != 0)
        out[c][only] += blank[only]
        blank[only] = 0
    if blank.any():
        out[""] = blank
    return out


def customers_of_history(
    history: History, tagbook: TagBook, as_of: dt.date
) -> tuple[CustomerRows, str]:
    """Every customer of a workspace's history as rows (``ordertags export`` with no
    files): all-time orders and spend per currency, the latest marketing answer from any
    channel, tags by hand and the rule tags of the last apply; and when that apply was
    ("never" if none), with each customer's first and last order. The history keeps no
    channel or country per customer, so ``--channel`` and ``--country`` find nobody."""
    history.sync_tagbook(tagbook)
    people = history_customers(history, tagbook, as_of)
    n = len(people)
    ranked = tagbook.rank(t for t in people.tags if t in tagbook.tags)
    tags = [tuple(t for t in ranked if people.tags[t][i]) for i in range(n)]
    dates = {r.key: (r.first, r.last) for r in history.list_customers(limit=None)}
    nat = np.datetime64("NaT", "D")

    def day(value: dt.date | None) -> np.datetime64:
        return nat if value is None else np.datetime64(value.isoformat(), "D")

    first_order = np.array(
        [day(dates.get(k, (None, None))[0]) for k in people.key], "datetime64[D]"
    )
    last_order = np.array([day(dates.get(k, (None, None))[1]) for k in people.key], "datetime64[D]")
    rows = CustomerRows(
        key=list(people.key),
        email=[e or "" for e in people.email],
        first_name=list(people.first_name),
        last_name=list(people.last_name),
        tags=tags,
        orders=people.orders.astype(np.int64),
        spend=fold_unnamed_currency({c: v.astype(np.int64) for c, v in people.spend.items()}),
        consent=(
            people.consent.astype(np.int8)
            if people.consent is not None
            else np.full(n, -1, dtype=np.int8)
        ),
        consent_recorded=people.consent is not None,
        last_order=last_order.reshape(n),
        first_order=first_order.reshape(n),
        channels=[()] * n,
        country=[""] * n,
        relay_only=[bool(r) and not e for r, e in zip(people.relay, people.email, strict=True)],
        tag_flags={t: np.asarray(people.tags[t], dtype=bool) for t in ranked},
    )
    return rows, history.last_apply() or "never"


# --- filters and exclusions ---------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount, optionally in one currency (``--min-spend 100`` or ``100 GBP``)."""

    units: int
    currency: str = ""

    @classmethod
    def parse(cls, text: str) -> Money:
        """``"100"``, ``"100 GBP"``, ``"GBP 100"`` or ``"99.50EUR"``.

        >>> Money.parse("GBP 99.5")
        Money(units=995000, currency='GBP')
        """
        m = re.fullmatch(r"\s*([A-Za-z]{3})?\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]{3})?\s*", text)
        if not m or (m.group(1) and m.group(3)):
            raise UsageError(
                f'"{text}" is not an amount.',
                hint="Write a number, optionally with a currency code: 100 or 100 GBP.",
            )
        try:
            value = Decimal(m.group(2))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise UsageError(f'"{text}" is not an amount.') from None
        return cls(int(value * 10_000), (m.group(1) or m.group(3) or "").upper())


@dataclass
class ListFilter:
    """Which customers a list is for. Everything given must hold: ``tags`` any of them
    (``all_tags``: all), none of ``not_tags``, one of ``segments`` (RFM group slugs,
    see :mod:`ordertags.reports.segments`), spend at least ``min_spend`` (in its
    currency; without one, in any currency), at least ``min_orders`` orders, an order on
    or after ``ordered_since``, none on or after ``not_ordered_since``, ``countries``
    and ``channels`` any of them (case-insensitive). Tag names match in any case
    (:func:`ordertags.tagbook.tag_key`); :meth:`named_in` checks them against a tag book.
    ``everyone``: no tag or segment chooses; every customer does (``export --all``),
    narrowed by the rest. With a ``spend_currency``, ``min_spend`` is compared with each
    customer's spend converted into it (:func:`spend_in`)."""

    tags: Sequence[str] = ()
    all_tags: bool = False
    not_tags: Sequence[str] = ()
    segments: Sequence[str] = ()
    min_spend: Money | None = None
    min_orders: int | None = None
    ordered_since: dt.date | None = None
    not_ordered_since: dt.date | None = None
    countries: Sequence[str] = ()
    channels: Sequence[str] = ()
    everyone: bool = False
    #: How ``min_spend`` compares: in this currency, other currencies converted by
    #: ``rates`` into it, as customer rules compare spend (the rule file's ``currency:``
    #: and ``rates:``). None: in one currency of the customer's, unconverted.
    spend_currency: str | None = None
    rates: Mapping[str, float] = field(default_factory=dict)

    def named_in(self, book: TagBook) -> ListFilter:
        """The filter with its tags in the tag book's spelling (an unknown tag is an
        error: :meth:`ordertags.tagbook.TagBook.tag_named`)."""
        return replace(
            self,
            tags=tuple(book.tag_named(t) for t in self.tags),
            not_tags=tuple(book.tag_named(t) for t in self.not_tags),
        )


def _tag_flags(tags: Sequence[tuple[str, ...]], n: int) -> dict[str, BoolArray]:
    """Per tag: which of ``n`` customers carry it, from each customer's tags (as lists
    of tags made by hand give them), as column operations over the flattened tags."""
    listed = pa.array(list(tags), pa.list_(pa.string()))
    names = pc.list_flatten(listed)
    owners = np.asarray(pc.list_parent_indices(listed).to_numpy(zero_copy_only=False))
    encoded = pc.dictionary_encode(names)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    out: dict[str, BoolArray] = {}
    for j, name in enumerate(encoded.dictionary.to_pylist()):
        flags = np.zeros(n, dtype=bool)
        flags[owners[codes == j]] = True
        out[name] = flags
    return out


def _tag_mask(rows: CustomerRows, tag: str) -> BoolArray:
    """Per customer: do they carry ``tag`` (matched by :func:`ordertags.tagbook.tag_key`)?"""
    want = tag_key(tag)
    out = np.zeros(len(rows), dtype=bool)
    for name, flags in rows.tag_flags.items():
        if tag_key(name) == want:
            out |= flags
    return out


def spend_in(
    rows: CustomerRows, currency: str, rates: Mapping[str, float], among: BoolArray | None = None
) -> tuple[IntArray, dict[str, int]]:
    """Per customer: their spend in ``currency`` (ten-thousandths), spend in another
    converted by its rate in ``rates`` (1 unit of it is worth the rate in ``currency``),
    spend with no currency taken to be in it: the total customer rules compare
    (:meth:`ordertags.engine.money.Money.spend_units`). Spend in a currency with no rate
    is left out; per such currency, how many customers (of ``among``) had some.

    >>> rows = customers_of_run(result)
    >>> units, unconverted = spend_in(rows, "GBP", {"EUR": 0.86})
    >>> len(units) == len(rows.email), unconverted
    (True, {})
    """
    total = np.zeros(len(rows), dtype=np.float64)
    unconverted: dict[str, int] = {}
    for code, units in rows.spend.items():
        rate = rate_into(code, currency, rates)
        if rate is not None:
            total += units.astype(np.float64) * rate
            continue
        spent = units != 0
        if among is not None:
            spent &= among
        if spent.any():
            unconverted[code] = int(spent.sum())
    result: IntArray = np.rint(total).astype(np.int64)
    return result, unconverted


def filter_mask(
    rows: CustomerRows,
    flt: ListFilter,
    segments: Sequence[str] | None = None,
    warnings: list[str] | None = None,
) -> tuple[BoolArray, int]:
    """Per customer: do they meet ``flt``? And how many of those with the wanted tags
    did ``--not-tag`` take out. ``segments`` is each customer's RFM group slug (needed
    only when ``flt.segments`` is given). What a reader should know about the choice
    (spend ``--min-spend`` could not convert) is added to ``warnings``."""
    if warnings is None:
        warnings = []
    n = len(rows)
    keep = np.ones(n, dtype=bool)
    if flt.tags:
        masks = [_tag_mask(rows, t) for t in flt.tags]
        combined = np.logical_and.reduce(masks) if flt.all_tags else np.logical_or.reduce(masks)
        keep &= combined
    blocked = np.zeros(n, dtype=bool)
    for t in flt.not_tags:
        blocked |= _tag_mask(rows, t)
    not_tag_count = int((keep & blocked).sum())
    keep &= ~blocked
    if flt.segments:
        if segments is None:
            raise ValueError("segments are needed to filter by segment")
        wanted = set(flt.segments)
        keep &= np.array([s in wanted for s in segments], dtype=bool)
    if flt.min_spend is not None and flt.spend_currency is not None:
        base = flt.spend_currency.upper()
        asked = flt.min_spend.currency or base
        rate = rate_into(asked, base, flt.rates)
        if rate is None:
            raise UsageError(
                f"--min-spend {money_text(flt.min_spend.units)} {asked}: customer spend is "
                f"compared in {base} (the rule file's currency:), and there is no rate for "
                f"{asked}.",
                hint=f"Give the amount in {base}, or add {asked} under `rates:` in the rule file.",
            )
        total, unconverted = spend_in(rows, base, flt.rates, keep)
        keep &= total >= round(flt.min_spend.units * rate)
        for code, count in sorted(unconverted.items()):
            warnings.append(
                f"--min-spend compares spend in {base}: the {code} spend of "
                f"{count:,} customer{'' if count == 1 else 's'} is left out of it (no rate: "
                "add one under `rates:` in the rule file)."
            )
    elif flt.min_spend is not None:
        cur = flt.min_spend.currency
        if cur:
            spent = rows.spend.get(cur, np.zeros(n, dtype=np.int64))
            keep &= spent >= flt.min_spend.units
        else:
            any_enough = np.zeros(n, dtype=bool)
            for values in rows.spend.values():
                any_enough |= values >= flt.min_spend.units
            keep &= any_enough if rows.spend else flt.min_spend.units <= 0
    if flt.min_orders is not None:
        keep &= rows.orders >= flt.min_orders
    if flt.ordered_since is not None:
        since = np.datetime64(flt.ordered_since.isoformat(), "D")
        with np.errstate(invalid="ignore"):
            keep &= ~np.isnat(rows.last_order) & (rows.last_order >= since)
    if flt.not_ordered_since is not None:
        since = np.datetime64(flt.not_ordered_since.isoformat(), "D")
        keep &= np.isnat(rows.last_order) | (rows.last_order < since)
    if flt.countries:
        wanted = {c.strip().upper() for c in flt.countries}
        keep &= np.array([c.upper() in wanted for c in rows.country], dtype=bool)
    if flt.channels:
        wanted = {c.strip().lower() for c in flt.channels}
        keep &= np.array([bool(wanted.intersection(ch)) for ch in rows.channels], dtype=bool)
    return keep, not_tag_count


def read_suppression_file(path: str | os.PathLike[str]) -> set[str]:
    """Customer keys of the addresses in a suppression file, read as a rule's list of
    emails is (:func:`ordertags.base.listfiles.read_value_list`): one a line, however
    written, or a CSV whose email column (``Email``, ``Email Address``...) holds them
    (Mailchimp's and Klaviyo's exports of unsubscribed and cleaned contacts); blank lines
    and ``#`` comments skipped. A file with lines but not one address is an error."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise OrderTagsError(
            f"cannot read the suppression file: {exc.strerror}.",
            file=str(p),
            hint="Give a text file with one email address a line, or a CSV with an Email column.",
        ) from None
    listed = read_value_list(text, addresses=True)
    if listed.unread and not listed.values:
        raise OrderTagsError(
            "the suppression file holds no email address (nor a column named like Email).",
            file=str(p),
            line=listed.unread[0][0],
            hint="Name the address column Email, or give one address a line.",
        )
    return {k for k in (normalize_email(v) for v in listed.values) if k}


@dataclass
class Selection:
    """The customers chosen for a list (in list order), and those left out."""

    rows: CustomerRows
    left_out: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    excluded_not_tag: int = 0
    #: (address, reason) for ``--suppression-out``, in list order.
    suppressed_out: list[tuple[str, str]] = field(default_factory=list)
    consent_ignored: int = 0  # listed without consent because of include_without_consent
    #: Whom the list was asked for (its summary names the tags or segments, in the tag
    #: book's spelling where a tag book checked them: :meth:`ListFilter.named_in`).
    filter: ListFilter | None = None
    #: What the reader should know about how it was chosen (spend that --min-spend
    #: could not convert).
    warnings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many customers the list has."""
        return len(self.rows)

    def to_arrow(self) -> pa.Table:
        """The list as an Arrow table: Email Address, First Name, Last Name, Orders,
        Spend (one column per currency, ``Spend GBP``; ``Spend`` where none is
        stated) and Tags."""
        rows = self.rows
        columns: dict[str, pa.Array] = {
            "Email Address": pa.array(rows.email, pa.string()),
            "First Name": pa.array(rows.first_name, pa.string()),
            "Last Name": pa.array(rows.last_name, pa.string()),
            "Orders": pa.array(np.asarray(rows.orders, dtype=np.int64)),
        }
        for currency, units in sorted(rows.spend.items()):
            name = f"Spend {currency}" if currency else "Spend"
            columns[name] = pa.array(np.asarray(units, dtype=np.float64) / 10_000)
        columns["Tags"] = pa.array(["; ".join(t) for t in rows.tags], pa.string())
        return pa.table(columns)

    def to_pandas(self) -> pandas.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame (pandas is imported here, and only
        here)."""
        frame: pandas.DataFrame = self.to_arrow().to_pandas()
        return frame


def exclusion_reasons(
    rows: CustomerRows,
    *,
    suppressed: set[str] = frozenset(),  # type: ignore[assignment]
    no_marketing: Sequence[str] = (),
    consent: bool = True,
) -> list[str | None]:
    """Per customer: the first reason (of :data:`REASONS`) that keeps them off every
    list, or None."""
    blocked = {tag_key(t) for t in no_marketing}
    out: list[str | None] = []
    for i in range(len(rows)):
        email = rows.email[i].strip()
        reason: str | None = None
        if not email:
            reason = "relay" if rows.relay_only[i] else "no_address"
        elif not is_valid_email(email):
            reason = "relay" if is_relay(email) else "invalid"
        elif is_relay(email):
            reason = "relay"
        elif suppressed and (
            rows.key[i] in suppressed
            or any(a in suppressed for a in rows.aliases[i])
            or (normalize_email(email) or "") in suppressed
        ):
            reason = "suppressed"
        elif blocked and any(tag_key(t) in blocked for t in rows.tags[i]):
            reason = "no_marketing"
        elif consent and rows.consent_recorded and rows.consent[i] != 1:
            reason = "no_consent"
        out.append(reason)
    return out


def list_order(rows: CustomerRows) -> IntArray:
    """Highest spend first (in each customer's main currency), then most orders, then by
    identity key: the same customers always come out in the same order."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    _, amount = rows.main_currency()
    keys = np.array(rows.key, dtype=object)
    order: IntArray = np.lexsort((keys, -rows.orders, -amount)).astype(np.int64)
    return order


def select(
    rows: CustomerRows,
    flt: ListFilter,
    *,
    suppressed: set[str] = frozenset(),  # type: ignore[assignment]
    no_marketing: Sequence[str] = (),
    consent: bool = True,
    segments: Sequence[str] | None = None,
) -> Selection:
    """The customers of ``rows`` that ``flt`` asks for, without those no list may carry
    (each reason counted: see :data:`REASONS`), in list order (:func:`list_order`).
    With ``consent`` False, customers who did not accept marketing are listed too, and
    counted in ``consent_ignored``.

    >>> chosen = select(customers_of_run(result, None), ListFilter(tags=("VIP",)))
    >>> chosen.count, chosen.left_out["no_consent"]
    (2, 0)
    """
    warnings: list[str] = []
    keep, not_tag = filter_mask(rows, flt, segments, warnings)
    candidates = rows.take(np.flatnonzero(keep))
    reasons = exclusion_reasons(candidates, suppressed=suppressed, no_marketing=no_marketing)
    left = dict.fromkeys(REASONS, 0)
    chosen = []
    out: list[tuple[str, str]] = []
    ignored = 0
    for i, r in enumerate(reasons):
        if r == "no_consent" and not consent:
            ignored += 1
            r = None
        if r is None:
            chosen.append(i)
        else:
            left[r] += 1
            if candidates.email[i]:  # a buyer id alone is no address for an email tool
                out.append((candidates.email[i], r))
    picked = candidates.take(np.array(chosen, dtype=np.int64))
    ordered = picked.take(list_order(picked))
    out.sort(key=lambda pair: (REASONS.index(pair[1]), pair[0].lower()))
    return Selection(ordered, left, not_tag, out, ignored, filter=flt, warnings=warnings)


# --- presets --------------------------------------------------------------------------------


def money_text(units: int) -> str:
    """Ten-thousandths -> ``1234.50`` (half away from zero)."""
    cents = (abs(units) + 50) // 100
    return f"{'-' if units < 0 and cents else ''}{cents // 100}.{cents % 100:02d}"


def _date(value: np.datetime64) -> str:
    return "" if np.isnat(value) else str(value.astype("datetime64[D]"))


@dataclass(frozen=True)
class Preset:
    """How one email tool takes a list: header, delimiter, which columns are numbers
    and always quoted, the BOM default, and how a customer becomes a row."""

    name: str
    header: tuple[str, ...]
    row: Callable[[CustomerRows, int, Mapping[str, Any]], list[str]]
    delimiter: str = ","
    numeric: tuple[str, ...] = ()
    always_quoted: tuple[str, ...] = ()
    bom: bool = False
    lines: bool = False  # one address a line, no header
    doc: str = ""


def _tags_comma(rows: CustomerRows, i: int) -> str:
    return ",".join(rows.tags[i])


def _main(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> tuple[str, int]:
    cur, amount = ctx["main"]
    return cur[i], int(amount[i])


def spend_text(rows: CustomerRows, i: int) -> str:
    """A customer's spend: ``2638.13`` in one currency; in several, each with its code,
    largest first (``2408.14 GBP; 45.00 EUR``)."""
    parts = sorted(
        ((int(v[i]), c) for c, v in rows.spend.items() if int(v[i])), key=lambda p: (-p[0], p[1])
    )
    if len(parts) <= 1:
        return money_text(parts[0][0] if parts else 0)
    return "; ".join(f"{money_text(units)} {c}".strip() for units, c in parts)


def _row_list(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    return [
        rows.email[i],
        rows.first_name[i],
        rows.last_name[i],
        str(int(rows.orders[i])),
        spend_text(rows, i),
        _tags_comma(rows, i),
    ]


def _row_mailchimp(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    return [rows.email[i], rows.first_name[i], rows.last_name[i], _tags_comma(rows, i)]


KLAVIYO_CONSENT = {1: "Subscribed", 0: "Unsubscribed", -1: "Never subscribed"}


def _row_klaviyo(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    consent = int(rows.consent[i]) if rows.consent_recorded else -1
    return [
        rows.email[i],
        rows.first_name[i],
        rows.last_name[i],
        KLAVIYO_CONSENT[consent],
        json.dumps(list(rows.tags[i]), ensure_ascii=False),
    ]


SHOPIFY_HEADER = (
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Address1",
    "Address2",
    "City",
    "Province",
    "Province Code",
    "Country",
    "Country Code",
    "Zip",
    "Phone",
    "Accepts Email Marketing",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Tags",
    "Note",
    "Tax Exempt",
)


def _row_shopify(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    country = rows.country[i]
    code = country if re.fullmatch(r"[A-Z]{2}", country) else ""
    accepts = "yes" if rows.consent_recorded and rows.consent[i] == 1 else "no"
    if not rows.consent_recorded:
        accepts = ""
    return [
        rows.first_name[i],
        rows.last_name[i],
        rows.email[i],
        "",
        "",
        "",
        "",
        "",
        "",
        "" if code else country,
        code,
        "",
        rows.phone[i],
        accepts,
        "",
        money_text(_main(rows, i, ctx)[1]),
        str(int(rows.orders[i])),
        ", ".join(rows.tags[i]),
        "",
        "",
    ]


def _row_brevo(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    return [rows.email[i], rows.first_name[i], rows.last_name[i]]


GENERIC_HEADER = (
    "Email",
    "First Name",
    "Last Name",
    "Customer Key",
    "Tags",
    "Orders",
    "Spend",
    "Currency",
    "All Spend",
    "First Order",
    "Last Order",
    "Channels",
    "Country",
    "Phone",
    "Marketing Consent",
    "Segment",
)


def _row_generic(rows: CustomerRows, i: int, ctx: Mapping[str, Any]) -> list[str]:
    cur, amount = _main(rows, i, ctx)
    every = "; ".join(
        f"{money_text(int(rows.spend[c][i]))} {c}".strip()
        for c in rows.currencies
        if rows.spend[c][i]
    )
    consent = {1: "yes", 0: "no", -1: ""}[int(rows.consent[i])] if rows.consent_recorded else ""
    segments = ctx.get("segments")
    return [
        rows.email[i],
        rows.first_name[i],
        rows.last_name[i],
        rows.key[i],
        "; ".join(rows.tags[i]),
        str(int(rows.orders[i])),
        money_text(amount),
        cur,
        every,
        _date(rows.first_order[i]),
        _date(rows.last_order[i]),
        "; ".join(rows.channels[i]),
        rows.country[i],
        rows.phone[i],
        consent,
        segments[i] if segments is not None else "",
    ]


PRESETS: dict[str, Preset] = {
    "list": Preset(
        "list",
        ("Email Address", "First Name", "Last Name", "Orders", "Spend", "Tags"),
        _row_list,
        numeric=("Orders", "Spend"),
        doc="the default: Mailchimp's columns plus Orders and Spend",
    ),
    "mailchimp": Preset(
        "mailchimp",
        ("Email Address", "First Name", "Last Name", "Tags"),
        _row_mailchimp,
        always_quoted=("Tags",),
        doc="Mailchimp audience import",
    ),
    "klaviyo": Preset(
        "klaviyo",
        ("Email", "First Name", "Last Name", "Email Marketing Consent", "Tags"),
        _row_klaviyo,
        doc="Klaviyo list import",
    ),
    "shopify-customers": Preset(
        "shopify-customers",
        SHOPIFY_HEADER,
        _row_shopify,
        numeric=("Total Spent", "Total Orders"),
        doc="Shopify customer import template",
    ),
    "brevo": Preset(
        "brevo", ("EMAIL", "FIRSTNAME", "LASTNAME"), _row_brevo, delimiter=";", doc="Brevo"
    ),
    "linnworks-list": Preset(
        "linnworks-list", (), _row_brevo, lines=True, doc="one address a line, for Linnworks"
    ),
    "generic": Preset(
        "generic",
        GENERIC_HEADER,
        _row_generic,
        numeric=("Orders", "Spend"),
        bom=True,
        doc="every field, for a spreadsheet",
    ),
}
PRESET_NAMES = tuple(p for p in PRESETS if p != "list")


def get_preset(name: str | None) -> Preset:
    """The preset called ``name`` (None: the default ``list`` columns).

    >>> get_preset(None).name
    'list'
    """
    if name is None:
        return PRESETS["list"]
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise UsageError(
            f'there is no list preset "{name}".',
            hint=f"Use one of: {', '.join(PRESET_NAMES)}.",
        )
    return preset


def _cell(value: str, delimiter: str, quote: bool) -> str:
    if quote or any(ch in value for ch in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def render_list(
    rows: CustomerRows,
    preset: Preset,
    *,
    excel: bool | None = None,
    segments: Sequence[str] | None = None,
) -> bytes:
    """The list as the bytes of a file for ``preset``: UTF-8 (with a BOM when ``excel``,
    default the preset's own), CRLF line ends as RFC 4180 has them, every text cell made
    inert for spreadsheets (numbers in the preset's numeric columns stay numbers).

    >>> render_list(rows, get_preset("brevo")).splitlines()[:2]
    [b'EMAIL;FIRSTNAME;LASTNAME', b'Lena.Nguyen@example.org;Lena;Nguyen']
    """
    bom = preset.bom if excel is None else excel
    out: list[str] = []
    if preset.lines:
        seen: set[str] = set()
        for i in range(len(rows)):
            for address in rows.spellings[i] or (rows.email[i].strip().lower(),):
                if address and address not in seen and is_valid_email(address):
                    seen.add(address)
                    out.append(address + "\r\n")
        return ("\ufeff" if bom else "").encode("utf-8") + "".join(out).encode("utf-8")
    ctx: dict[str, Any] = {"main": rows.main_currency(), "segments": segments}
    numeric = {preset.header.index(c) for c in preset.numeric}
    quoted = {preset.header.index(c) for c in preset.always_quoted}
    d = preset.delimiter
    out.append(d.join(_cell(h, d, False) for h in preset.header) + "\r\n")
    # The values a row at a time, then each column's cells made inert and quoted as
    # column operations (what neutralise_text and _cell do to one cell).
    columns = list(zip(*(preset.row(rows, i, ctx) for i in range(len(rows))), strict=True))
    if columns:
        cells = [
            _cells(list(values), d, numeric=j in numeric, quote=j in quoted)
            for j, values in enumerate(columns)
        ]
        lines = pc.binary_join_element_wise(*cells, d).to_pylist()
        out.append("\r\n".join(lines) + "\r\n")
    return ("\ufeff" if bom else "").encode("utf-8") + "".join(out).encode("utf-8")


def _cells(values: list[str], delimiter: str, *, numeric: bool, quote: bool) -> pa.Array:
    """A column of a list as its cells: made inert for spreadsheets (a plain number kept
    where ``numeric``), then quoted where it holds the delimiter, a quote or a line
    break, or (``quote``) wherever it is not empty."""
    text = pa.array(values, pa.string())
    inert = neutralise_column(text, numeric=numeric)
    needs = pc.match_substring(inert, delimiter)
    for ch in ('"', "\r", "\n"):
        needs = pc.or_(needs, pc.match_substring(inert, ch))
    if quote:
        needs = pc.or_(needs, pc.not_equal(text, ""))
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(inert, '"', '""'), '"', "")
    result: pa.Array = pc.if_else(needs, wrapped, inert)
    return result


def render_suppression(pairs: Sequence[tuple[str, str]]) -> bytes:
    """``--suppression-out``: ``Email,Reason`` a line, for an email tool's own
    suppression list (UTF-8, cells made inert)."""
    out = ["Email,Reason\r\n"]
    for address, reason in pairs:
        out.append(
            _cell(neutralise_text(address), ",", False) + "," + reason.replace("_", "-") + "\r\n"
        )
    return "".join(out).encode("utf-8")


def mailing_list(
    annotated: Annotated,
    *,
    tags: Sequence[str] = (),
    not_tags: Sequence[str] = (),
    consent: bool = True,
    history: History | None = None,
    list_filter: ListFilter | None = None,
) -> Selection:
    """The mailing list of a run, as ``ordertags export`` makes it: the customers with any
    of ``tags`` and none of ``not_tags`` (or those ``list_filter`` asks for), without
    those no list may carry (the tag book's suppressed addresses and ``no_marketing``
    tags, no email, invalid and relay addresses, and, unless ``consent`` is False,
    customers who did not accept marketing). With the run's ``history``, all-time figures.

    >>> chosen = mailing_list(result, tags=["VIP"])
    >>> chosen.rows.email[:1], chosen.left_out["no_consent"]
    (['JANE.DOE@GMAIL.COM'], 0)
    """
    book = annotated.tagbook
    flt = (list_filter or ListFilter(tags=tuple(tags), not_tags=tuple(not_tags))).named_in(book)
    return select(
        customers_of_run(annotated, history, any_tags=flt.tags or None),
        flt,
        suppressed={x.key for x in book.suppressed},
        no_marketing=book.no_marketing_tags(),
        consent=consent,
    )
