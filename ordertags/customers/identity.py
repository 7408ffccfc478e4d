"""One customer across emails, phones and channels, as column operations.

Every order carries identities (see :mod:`ordertags.base.keys` for what each key is). Two
orders belong to one customer when they share a *strong* identity: the same email key,
or the same phone with the same surname; links in the tag book join identities by
hand, and "not the same person" statements keep them apart, whatever the evidence.
Weaker evidence (a shared address, a shared phone under another name) merges nothing:
:func:`find_suspects` reports it for a person to decide.

Merging is connected components over edge arrays (:func:`connected_components`:
hooking and pointer jumping in numpy), so its cost is a few passes over the edges,
never a Python loop per order. Only components that break a "not the same person"
statement are redone one edge at a time (:func:`split_components`), and those are a
handful of a person's identities.

:class:`Memory` is what a run sees: the frame's rows grouped into customers (with the
history, when a workspace is in use) and the customer measures rules ask for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.customers.grouping import Customers, customer_keys
from ordertags.io.fields import CONSENT_YES

if TYPE_CHECKING:
    from ordertags.customers.history import History, IngestReport, Recorded
    from ordertags.engine.frame import Frame
    from ordertags.tags import TagBook

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

_SURNAME_BEFORE_COMMA = r"(?s)^(?P<p>[^,]*),"
_LAST_WORD = r"(?s)(?P<p>[^\t\n\f\r ]*)$"
_HOUSE = r"(?:^|[^0-9A-Za-z])(?P<h>[0-9]+[A-Za-z]?)(?:$|[^0-9A-Za-z])"


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


# --- identity keys for whole columns ----------------------------------------------------


def phone_keys(values: pa.Array | pa.ChunkedArray, region: str = K.DEFAULT_REGION) -> pa.Array:
    """E.164 keys of a column of phone numbers (null where blank or not a number).

    Each distinct spelling is parsed once. Spellings that differ only in their last
    digits are parsed alike, so for each class (international or national, length,
    first digits) one number goes through ``phonenumbers`` and the rest take the same
    transformation, checked against it: a class where the check fails is parsed number
    by number. The result is the same as :func:`ordertags.base.keys.normalize_phone` on
    every value (a property test checks it).
    """
    import phonenumbers

    arr = _array(values)
    if len(arr) == 0:
        return _nulls(0)
    encoded = pc.dictionary_encode(arr)
    raw = encoded.dictionary.to_pylist()
    cleaned = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(encoded.dictionary), K.PHONE_SEPARATORS, ""
    ).to_pylist()
    country = str(phonenumbers.country_code_for_region(region))
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (meta.national_prefix if meta is not None else None) or ""
    classes: dict[tuple[str, int, str], bool] = {}
    out: list[str | None] = [None] * len(raw)
    for i, text in enumerate(cleaned):
        if not text:
            continue
        guess: str | None = None
        if text[0] == "+" or text.startswith("00"):
            digits = text[1:] if text[0] == "+" else text[2:]
            if digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15:
                guess, cls = "+" + digits, (text[:1], len(digits), digits[:4])
        elif text.isascii() and text.isdigit():
            national = text[len(trunk) :] if trunk and text.startswith(trunk) else text
            guess, cls = f"+{country}{national}", ("n", len(text), text[:4])
        if guess is not None:
            ok = classes.get(cls)
            if ok is None:
                ok = classes[cls] = K.normalize_phone(raw[i], region) == guess
            if ok:
                out[i] = guess
                continue
        out[i] = K.normalize_phone(raw[i], region)
    result: pa.Array = pa.array(out, pa.string()).take(encoded.indices)
    return result


def fold_names(text: pa.Array) -> pa.Array:
    """Vectorised :func:`ordertags.base.keys.fold_name`."""
    decomposed = pc.utf8_normalize(text, form="NFKD")
    plain = pc.replace_substring_regex(decomposed, r"\p{Mn}", "")
    result: pa.Array = pc.replace_substring_regex(pc.utf8_lower(plain), r"[^\p{L}]", "")
    return result


def surnames(names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised :func:`ordertags.base.keys.surname_of` (null where there is none)."""
    text = pc.utf8_trim_whitespace(_array(names))
    before = pc.struct_field(pc.extract_regex(text, _SURNAME_BEFORE_COMMA), "p")
    last = pc.struct_field(pc.extract_regex(text, _LAST_WORD), "p")
    part = pc.if_else(pc.fill_null(pc.match_substring(text, ","), False), before, last)
    folded = fold_names(pc.fill_null(part, ""))
    result: pa.Array = pc.if_else(pc.equal(folded, ""), pa.scalar(None, pa.string()), folded)
    return result


def address_keys(
    postcodes: pa.Array | pa.ChunkedArray, lines: pa.Array | pa.ChunkedArray
) -> pa.Array:
    """Vectorised :func:`ordertags.base.keys.address_key`."""
    code = pc.replace_substring_regex(pc.utf8_upper(_array(postcodes)), r"[^\p{L}\p{Nd}]", "")
    line = _array(lines)
    number = pc.utf8_lower(pc.struct_field(pc.extract_regex(line, _HOUSE), "h"))
    words = pc.replace_substring_regex(pc.utf8_lower(line), r"[^\p{L}\p{Nd}]", "")
    house = pc.coalesce(number, words)
    joined = pc.binary_join_element_wise(
        pa.scalar(K.ADDRESS_PREFIX), code, pa.scalar(" "), house, ""
    )
    blank = pc.or_(pc.equal(code, ""), pc.equal(pc.fill_null(house, ""), ""))
    result: pa.Array = pc.if_else(pc.fill_null(blank, True), pa.scalar(None, pa.string()), joined)
    return result


def phone_name_keys(phones: pa.Array, names: pa.Array) -> pa.Array:
    """``+447700900123 doe`` where both are there, else null."""
    result: pa.Array = pc.binary_join_element_wise(phones, names, " ")
    return result


def relay_flags(email_keys: pa.Array) -> BoolArray:
    """Per key: is it a marketplace relay address?"""
    hit = pc.fill_null(pc.match_substring_regex(email_keys, K.RELAY_PATTERN), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


# --- connected components ---------------------------------------------------------------


def connected_components(n: int, u: IntArray, v: IntArray) -> IntArray:
    """Label each of ``n`` nodes with the smallest node of its component, given the
    edges ``u[i] - v[i]``.

    Hooking and pointer jumping: every pass hooks each edge's larger root onto its
    smaller one, then flattens the trees; edges inside one tree drop out.

    >>> connected_components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 2, 3, 3]
    """
    parent = np.arange(n, dtype=np.int64)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    while len(u):
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        if not apart.any():
            break
        u, v, pu, pv = u[apart], v[apart], pu[apart], pv[apart]
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return parent


def split_components(
    labels: IntArray,
    u: IntArray,
    v: IntArray,
    first: BoolArray,
    apart_a: IntArray,
    apart_b: IntArray,
) -> IntArray:
    """Redo the components that hold both nodes of an ``apart`` pair, one edge at a time:
    edges marked ``first`` (links, settled assignments), then the others in order, each
    skipped when it would join two nodes that must stay apart. Other components keep
    their labels; the parts of a split one get labels of their own (>= ``len(labels)``).
    """
    labels = labels.copy()
    clash = labels[apart_a] == labels[apart_b]
    if not clash.any():
        return labels
    bad = np.unique(labels[apart_a[clash]])
    inside = np.isin(labels[u], bad)
    order = np.lexsort((np.arange(len(u))[inside], ~first[inside]))
    eu, ev = u[inside][order].tolist(), v[inside][order].tolist()
    nodes = np.flatnonzero(np.isin(labels, bad))
    parent = {int(x): int(x) for x in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = [
        (int(a), int(b))
        for a, b in zip(apart_a, apart_b, strict=True)
        if a in parent and b in parent
    ]
    for a, b in zip(eu, ev, strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if any({find(x), find(y)} == {ra, rb} for x, y in pairs):
            continue  # would put two identities said to be different people together
        parent[max(ra, rb)] = min(ra, rb)
    fresh = len(labels)
    roots: dict[int, int] = {}
    for x in parent:
        r = find(x)
        if r not in roots:
            roots[r] = fresh + len(roots)
        labels[x] = roots[r]
    return labels


# --- links from the tag book ------------------------------------------------------------


@dataclass(frozen=True)
class LinkSet:
    """The tag book's links as identity keys: pairs that are the same person, pairs
    that are not. Each key comes with its kind."""

    same: tuple[tuple[str, str], ...] = ()
    different: tuple[tuple[str, str], ...] = ()
    kinds: dict[str, int] = field(default_factory=dict)
    region: str = K.DEFAULT_REGION

    def __bool__(self) -> bool:
        return bool(self.same or self.different)

    @property
    def linked_phones(self) -> frozenset[str]:
        """Phones named in a "same person" link: orders with them join that person."""
        return frozenset(k for pair in self.same for k in pair if self.kinds[k] == K.PHONE)

    def digest(self) -> str:
        """A fingerprint, so the history knows when the links changed."""
        import hashlib

        text = "\n".join(
            [self.region]
            + [f"= {a} {b}" for a, b in sorted(self.same)]
            + [f"! {a} {b}" for a, b in sorted(self.different)]
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_links(tagbook: TagBook | None, region: str = K.DEFAULT_REGION) -> LinkSet:
    """The tag book's links, as normalised identity keys (a later statement about the
    same pair wins, as ``ordertags link``/``unlink`` keep them)."""
    links = getattr(tagbook, "links", None) or []
    if not links:
        return LinkSet(region=region)
    from ordertags.errors import TagBookError, UsageError

    kinds: dict[str, int] = {}
    state: dict[tuple[str, str], bool] = {}
    for link in links:
        ends = []
        for text in (link.a, link.b):
            try:
                kind, key = K.identity_of(text, region)
            except UsageError as exc:
                raise TagBookError(
                    exc.message,
                    file=tagbook.path if tagbook else None,
                    line=link.line,
                    hint=exc.hint,
                ) from None
            kinds[key] = kind
            ends.append(key)
        a, b = sorted(ends)
        if a != b:
            state[(a, b)] = link.same
    same = tuple(p for p, s in state.items() if s)
    different = tuple(p for p, s in state.items() if not s)
    return LinkSet(same, different, kinds, region)


# --- the identities of a run's rows -----------------------------------------------------


@dataclass
class RunIdentities:
    """Per row of a frame: the identity keys (null where absent)."""

    email: pa.Array  # customer key: the email key, or a platform's buyer id
    kind: IntArray  # keys.EMAIL, RELAY or BUYER
    phone: pa.Array  # E.164
    phone_name: pa.Array  # "+447700900123 doe"
    address: pa.Array  # "addr:EH22PR 12"
    buyer: pa.Array  # a platform's buyer id where the order has an email too (ebay:jdoe)

    @classmethod
    def from_frame(
        cls, frame: Frame, region: str = K.DEFAULT_REGION, *, phones: bool = True
    ) -> RunIdentities:
        """The identities of every row; without ``phones`` (a run with neither a history
        nor a link naming a phone) the phone and address keys are left null, unparsed."""
        n = frame.n

        def text(name: str) -> pa.Array | None:
            if not phones:
                return None
            return _array(frame.text(field=name)) if frame.has_field(name) else None

        email = customer_keys(frame.identity_text())
        buyer_text = frame.buyer_text()
        buyer = customer_keys(buyer_text) if buyer_text is not None else _nulls(n)
        phone_text = text("phone")
        phone = phone_keys(phone_text, region) if phone_text is not None else _nulls(n)
        last = text("last_name")
        full = text("name")
        if last is not None:
            folded = fold_names(pc.utf8_trim_whitespace(last))
            surname = pc.if_else(pc.equal(folded, ""), pa.scalar(None, pa.string()), folded)
        elif full is not None:
            surname = surnames(full)
        else:
            surname = _nulls(n)
        postcode, line1 = text("postcode"), text("address")
        address = (
            address_keys(
                postcode, line1 if line1 is not None else pa.repeat(pa.scalar("", pa.string()), n)
            )
            if postcode is not None
            else _nulls(n)
        )
        kind = np.where(relay_flags(email), K.RELAY, K.EMAIL)
        no_at = np.asarray(
            pc.fill_null(pc.invert(pc.match_substring(email, "@")), False).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        kind[no_at] = K.BUYER
        return cls(
            email=email,
            kind=kind.astype(np.int64),
            phone=phone,
            phone_name=phone_name_keys(phone, surname),
            address=address,
            buyer=buyer,
        )

    def slice(self, start: int, length: int) -> RunIdentities:
        return RunIdentities(
            self.email.slice(start, length),
            self.kind[start : start + length],
            self.phone.slice(start, length),
            self.phone_name.slice(start, length),
            self.address.slice(start, length),
            self.buyer.slice(start, length),
        )

    def take(self, rows: IntArray) -> RunIdentities:
        at = pa.array(rows)
        return RunIdentities(
            self.email.take(at),
            self.kind[rows],
            self.phone.take(at),
            self.phone_name.take(at),
            self.address.take(at),
            self.buyer.take(at),
        )


def _codes(encoded: pa.DictionaryArray, offset: int = 0) -> IntArray:
    """Dictionary indices as int64 (-1 for null), plus ``offset``."""
    idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(idx >= 0, idx + offset, -1)


def _edges(*pairs: tuple[IntArray, IntArray]) -> tuple[IntArray, IntArray]:
    us, vs = [], []
    for a, b in pairs:
        keep = (a >= 0) & (b >= 0) & (a != b)
        us.append(a[keep])
        vs.append(b[keep])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(us), np.concatenate(vs)


# --- the run's view ---------------------------------------------------------------------


@dataclass
class Grouping:
    """How a run's rows fall into customers (see :meth:`Memory.customers`)."""

    customers: Customers
    # The history customers in each person, as two aligned arrays sorted by history id:
    # ``hist_ids[i]`` belongs to person ``hist_owner[i]`` (a person may have none).
    hist_ids: IntArray
    hist_owner: IntArray


class Memory:
    """A run's customers and their measures, from the run's rows, the tag book's links
    and (with a workspace) the history.

    Rows are grouped at two levels. ``customers.codes`` still gives one code per email
    key (conditions on the email are evaluated once per key, as without a memory);
    orders with no email but a strong phone identity get codes of their own, with a
    null key. ``customers.groups`` then maps codes to people: the reductions
    (``reduce_any``, ``reduce_sum``...) run per person, so a customer tag and a customer
    measure cover every order of the merged customer.
    """

    def __init__(
        self,
        frame: Frame,
        ids: RunIdentities,
        links: LinkSet,
        history: History | None = None,
        *,
        full: bool = False,
        recorded: IngestReport | None = None,
        tag_phones: frozenset[str] = frozenset(),
    ) -> None:
        self.frame = frame
        self.ids = ids
        self.links = links
        self.history = history
        self.full = full
        self.recorded = recorded
        #: Phones the tag book tags by hand: orders with them join that person, as
        #: phones named in a link do.
        self.tag_phones = tag_phones
        self._measures: dict[int | None, dict[str, IntArray]] = {}

    @property
    def customers(self) -> Customers:
        return self.grouping.customers

    @cached_property
    def grouping(self) -> Grouping:
        frame, ids = self.frame, self.ids
        base = Customers.from_emails(frame.identity_text())
        n_email = base.count
        phone_name = ids.phone_name if self.full else _nulls(frame.n)
        linked = self.links.linked_phones | self.tag_phones
        if linked:
            hit = pc.fill_null(
                pc.is_in(ids.phone, value_set=pa.array(sorted(linked), pa.string())), False
            )
            linked_phone = pc.if_else(hit, ids.phone, pa.scalar(None, pa.string()))
        else:
            linked_phone = _nulls(frame.n)
        # Rows with no email but a strong phone identity: codes of their own.
        no_email = base.codes < 0
        anchor = pc.if_else(
            pa.array(no_email), pc.coalesce(phone_name, linked_phone), pa.scalar(None, pa.string())
        )
        extra = pc.dictionary_encode(anchor)
        codes = base.codes.copy()
        extra_codes = _codes(extra, n_email)
        codes[no_email] = extra_codes[no_email]
        n_codes = n_email + len(extra.dictionary)
        keys = pa.concat_arrays([base.keys.cast(pa.string()), _nulls(len(extra.dictionary))])
        if n_codes == 0:
            return Grouping(
                Customers(codes=codes, keys=keys), np.zeros(0, np.int64), np.zeros(0, np.int64)
            )

        # One node per distinct identity; the codes' own identities (email keys, then
        # the anchors) come first.
        ends_same = [k for pair in self.links.same for k in pair]
        ends_diff = [k for pair in self.links.different for k in pair]
        strings = pa.concat_arrays(
            [
                base.keys.cast(pa.string()),
                extra.dictionary.cast(pa.string()),
                phone_name,
                linked_phone,
                ids.buyer.cast(pa.string()),
                pa.array(ends_same + ends_diff, pa.string()),
            ]
        )
        nodes = pc.dictionary_encode(strings)
        node_of = _codes(nodes)
        n_nodes = len(nodes.dictionary)
        n = frame.n
        code_node = node_of[:n_codes]
        at = n_codes
        row_pn = node_of[at : at + n]
        row_lp = node_of[at + n : at + 2 * n]
        row_buyer = node_of[at + 2 * n : at + 3 * n]
        at += 3 * n
        same_nodes = node_of[at : at + len(ends_same)].reshape(-1, 2)
        diff_nodes = node_of[at + len(ends_same) :].reshape(-1, 2)
        has = codes >= 0
        row_code = np.where(has, code_node[np.maximum(codes, 0)], -1)
        # Identities seen on one order are one customer: its email and buyer id, its
        # phone with surname, a phone a link or the tag book names.
        u, v = _edges(
            (row_code, row_pn), (row_code, row_lp), (row_pn, row_lp), (row_code, row_buyer)
        )
        first = np.zeros(len(u), dtype=bool)
        lu, lv = same_nodes[:, 0], same_nodes[:, 1]
        u, v = np.concatenate([lu, u]), np.concatenate([lv, v])
        first = np.concatenate([np.ones(len(lu), dtype=bool), first])
        hist_of_node = np.full(n_nodes, -1, dtype=np.int64)
        hist_ids = np.zeros(0, dtype=np.int64)
        if self.history is not None:
            hist_of_node = self.history.customers_of(nodes.dictionary)
            hist_ids, hist_index = np.unique(hist_of_node[hist_of_node >= 0], return_inverse=True)
            with_hist = np.flatnonzero(hist_of_node >= 0)
            u = np.concatenate([u, with_hist])
            v = np.concatenate([v, n_nodes + hist_index.astype(np.int64)])
            first = np.concatenate([first, np.ones(len(with_hist), dtype=bool)])
        total = n_nodes + len(hist_ids)
        labels = connected_components(total, u, v)
        if len(diff_nodes):
            labels = split_components(labels, u, v, first, diff_nodes[:, 0], diff_nodes[:, 1])
        # People: the components of the codes, numbered 0..P-1.
        people, groups = np.unique(labels[code_node], return_inverse=True)
        groups = groups.astype(np.int64)
        # Other identities of each person: for tag-book entries that name an email
        # this run does not carry.
        node_person = np.searchsorted(people, labels[:n_nodes])
        node_person = np.where(
            (node_person < len(people))
            & (people[np.minimum(node_person, len(people) - 1)] == labels[:n_nodes]),
            node_person,
            -1,
        )
        alias_keys = [nodes.dictionary]
        alias_people = [node_person]
        grouped_ids = np.zeros(0, np.int64)
        grouped_owner = np.zeros(0, np.int64)
        if len(hist_ids):
            hist_person = np.searchsorted(people, labels[n_nodes:])
            found = (hist_person < len(people)) & (
                people[np.minimum(hist_person, len(people) - 1)] == labels[n_nodes:]
            )
            by_id = np.argsort(hist_ids[found], kind="stable")
            grouped_ids = hist_ids[found][by_id].astype(np.int64)
            grouped_owner = hist_person[found][by_id].astype(np.int64)
            assert self.history is not None
            akeys, acust = self.history.email_identities(hist_ids[found])
            if len(akeys):
                alias_keys.append(akeys)
                alias_people.append(hist_person[found][np.searchsorted(hist_ids[found], acust)])
        customers = Customers(
            codes=codes,
            keys=keys,
            groups=groups,
            people=len(people),
            alias_keys=pa.concat_arrays([a.cast(pa.string()) for a in alias_keys]),
            alias_people=np.concatenate(alias_people),
        )
        return Grouping(customers, grouped_ids, grouped_owner)

    # --- measures -----------------------------------------------------------------------

    def measure(
        self, frame: Frame, measure: str, within_days: int | None
    ) -> np.ndarray[Any, Any] | None:
        """Per customer code: a customer measure as rules read it (float64, NaN where it
        has no value), over the run's orders and, with a workspace, the history's; None
        for a measure this memory does not know (the caller computes it)."""
        if measure not in MEASURES:
            return None
        if measure in ("spend", "average_order_value"):
            frame.require_field("total")
        if measure == "refunds":
            frame.require_field("refunds")
        if within_days is not None or measure.startswith("days_since"):
            frame.require_field("date")
        agg = self.aggregates(within_days)
        groups = self.customers.groups
        assert groups is not None
        orders = agg["orders"].astype(np.float64)
        values: np.ndarray[Any, Any]
        if measure in ("orders", "first_order"):
            values = orders
        elif measure == "spend":
            values = agg["spend"].astype(np.float64) / 10_000
        elif measure == "average_order_value":
            spend = agg["spend"].astype(np.float64) / 10_000
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(orders > 0, spend / np.maximum(orders, 1), np.nan)
        elif measure == "refunds":
            values = agg["refunds"].astype(np.float64) / 10_000
        else:
            stamp = agg["first"] if measure == "days_since_first" else agg["last"]
            as_of = int(np.datetime64(frame.as_of.isoformat(), "s").astype(np.int64))
            with np.errstate(invalid="ignore"):
                values = np.floor((as_of - stamp.astype(np.float64)) / 86_400)
            values[stamp == _NONE] = np.nan
        result: np.ndarray[Any, Any] = values[groups]
        return result

    def aggregates(self, within_days: int | None) -> dict[str, IntArray]:
        """Per person: ``orders``, ``spend`` and ``refunds`` (ten-thousandths), ``first``
        and ``last`` order (epoch seconds; ``_NONE`` where none), over the orders dated
        in the window (all orders when ``within_days`` is None)."""
        if within_days in self._measures:
            return self._measures[within_days]
        frame = self.frame
        customers = self.customers
        assert customers.groups is not None
        people = customers.people
        rows = frame.order_starts.copy()
        start = end = None
        if within_days is not None:
            rows &= frame.within_days(within_days)
            end = int(np.datetime64(frame.as_of.isoformat(), "s").astype(np.int64))
            start = end - within_days * 86_400
        person = np.where(
            customers.codes >= 0, customers.groups[np.maximum(customers.codes, 0)], -1
        )
        sel = rows & (person >= 0)
        who = person[sel]
        out: dict[str, IntArray] = {"orders": np.bincount(who, minlength=people).astype(np.int64)}
        out["spend"] = (
            _sum_by(who, frame.money_units(field="total")[sel], people)
            if frame.has_field("total")
            else np.zeros(people, np.int64)
        )
        out["refunds"] = (
            _sum_by(who, frame.money_units(field="refunds")[sel], people)
            if frame.has_field("refunds")
            else np.zeros(people, np.int64)
        )
        first = np.full(people, _NONE, dtype=np.int64)
        last = np.full(people, _LOW, dtype=np.int64)
        if frame.has_field("date"):
            secs = _seconds(frame.dates())
            dated = sel & (secs != _NONE)
            np.minimum.at(first, person[dated], secs[dated])
            np.maximum.at(last, person[dated], secs[dated])
        if self.history is not None:
            self._add_history(out, first, last, start, end)
        last[last == _LOW] = _NONE
        out["first"], out["last"] = first, last
        self._measures[within_days] = out
        return out

    def _recorded_copies(self) -> Recorded | None:
        """The history's version of the orders this run holds (looked up once)."""
        if "copies" not in self.__dict__:
            assert self.history is not None
            batch = run_orders(self.frame, self.ids)
            self.__dict__["copies"] = (
                None
                if batch is None or not len(batch.rows)
                else self.history.recorded_orders(batch.channel, batch.order_id)
            )
        copies: Recorded | None = self.__dict__["copies"]
        return copies

    def _add_history(
        self,
        out: dict[str, IntArray],
        first: IntArray,
        last: IntArray,
        start: int | None,
        end: int | None,
    ) -> None:
        """Add the history's orders of each person; take out the history's copy of the
        orders this run holds too, so that no order counts twice."""
        assert self.history is not None
        ids_sorted, owner_sorted = self.grouping.hist_ids, self.grouping.hist_owner
        if not len(ids_sorted):
            return
        agg = self.history.aggregates(ids_sorted, start=start, end=end)
        k = np.searchsorted(ids_sorted, agg.ids)
        p = owner_sorted[k]
        np.add.at(out["orders"], p, agg.orders)
        np.add.at(out["spend"], p, agg.spend)
        np.add.at(out["refunds"], p, agg.refunds)
        dated = agg.first != _NONE
        np.minimum.at(first, p[dated], agg.first[dated])
        np.maximum.at(last, p[dated], agg.last[dated])
        # The history's copies of this run's orders.
        dup = self._recorded_copies()
        if dup is None:
            return
        keep = np.isin(dup.customer, ids_sorted)
        if start is not None and end is not None:
            keep &= (dup.at != _NONE) & (dup.at >= start) & (dup.at < end)
        if not keep.any():
            return
        q = owner_sorted[np.searchsorted(ids_sorted, dup.customer[keep])]
        np.subtract.at(out["orders"], q, 1)
        np.subtract.at(out["spend"], q, dup.total[keep])
        np.subtract.at(out["refunds"], q, dup.refund[keep])


MEASURES = (
    "orders",
    "first_order",
    "spend",
    "average_order_value",
    "refunds",
    "days_since_first",
    "days_since_last",
)
_LOW = np.iinfo(np.int64).min
_NONE = np.iinfo(np.int64).max  # "no date"


def _sum_by(who: IntArray, values: np.ndarray[Any, Any], n: int) -> IntArray:
    sums = np.bincount(who, weights=values.astype(np.float64), minlength=n)
    result: IntArray = np.rint(sums).astype(np.int64)
    return result


def _seconds(stamps: np.ndarray[Any, Any]) -> IntArray:
    """datetime64 -> epoch seconds, ``_NONE`` for NaT."""
    secs = stamps.astype("datetime64[s]").astype(np.int64)
    result: IntArray = np.where(np.isnat(stamps), _NONE, secs)
    return result


# --- orders as the history keeps them ---------------------------------------------------


@dataclass
class OrderBatch:
    """The orders of one export as the history records them: one per order (the row
    that carries its totals), keyed by channel and order id."""

    source: str
    rows: IntArray  # frame rows
    channel: list[str]
    order_id: list[str]
    at: IntArray  # epoch seconds (_NONE: no date)
    total: IntArray  # ten-thousandths
    has_total: BoolArray
    refund: IntArray
    name: list[str | None]
    ids: RunIdentities
    skipped: int = 0  # orders with no order id: not recorded
    currency: list[str | None] = field(default_factory=list)
    consent: list[int | None] = field(default_factory=list)  # marketing: 1 yes, 0 no
    reference: list[str | None] = field(default_factory=list)  # the channel's order number
    email_text: list[str | None] = field(default_factory=list)  # the email as written

    def __post_init__(self) -> None:
        n = len(self.order_id)
        for name in ("currency", "consent", "reference", "email_text"):
            if not getattr(self, name):
                setattr(self, name, [None] * n)


def run_orders(
    frame: Frame,
    ids: RunIdentities | None = None,
    *,
    start: int = 0,
    length: int | None = None,
    source: str = "",
) -> OrderBatch | None:
    """The recordable orders among frame rows ``start .. start+length`` (all rows by
    default): None when the exports have no order id column."""
    if not frame.has_field("order_id"):
        return None
    length = frame.n - start if length is None else length
    sl = slice(start, start + length)
    from ordertags.engine.frame import order_id_keys

    order_id = order_id_keys(_array(frame.text(field="order_id")).slice(start, length))
    keep = frame.order_starts[sl] & np.asarray(
        pc.not_equal(order_id, "").to_numpy(zero_copy_only=False), dtype=bool
    )
    skipped = int((frame.order_starts[sl] & ~keep).sum())
    channel = (
        pc.utf8_upper(
            pc.utf8_trim_whitespace(_array(frame.text(field="channel")).slice(start, length))
        )
        if frame.has_field("channel")
        else pa.repeat(pa.scalar("", pa.string()), length)
    )
    # One version per (channel, order id): the last one in the file.
    combined = pc.binary_join_element_wise(channel, order_id, "\x1f")
    idx = np.flatnonzero(keep)
    if len(idx):
        enc = pc.dictionary_encode(combined.take(pa.array(idx)))
        codes = enc.indices.to_numpy(zero_copy_only=False)
        last = np.full(len(enc.dictionary), -1, dtype=np.int64)
        np.maximum.at(last, codes, np.arange(len(codes)))
        idx = idx[np.sort(last)]
    take = pa.array(idx, pa.int64())
    rows = idx + start
    if frame.has_field("date"):
        at = _seconds(frame.dates()[rows])
    else:
        at = np.full(len(rows), _NONE, dtype=np.int64)
    if frame.has_field("total"):
        nums = frame.numbers(field="total")[rows]
        has_total = ~np.isnan(nums)
        total = frame.money_units(field="total")[rows]
    else:
        has_total = np.zeros(len(rows), dtype=bool)
        total = np.zeros(len(rows), dtype=np.int64)
    refund = (
        frame.money_units(field="refunds")[rows]
        if frame.has_field("refunds")
        else np.zeros(len(rows), dtype=np.int64)
    )
    name = (
        _array(frame.text(field="name")).take(pa.array(rows)).to_pylist()
        if frame.has_field("name")
        else [None] * len(rows)
    )
    full_ids = ids if ids is not None else RunIdentities.from_frame(frame)
    sub = full_ids.take(rows)

    def texts(name: str) -> list[str | None]:
        if not frame.has_field(name):
            return [None] * len(rows)
        got = pc.utf8_trim_whitespace(_array(frame.text(field=name)).take(pa.array(rows)))
        return [x or None for x in got.to_pylist()]

    consent: list[int | None] = [
        None if x is None else int(x.lower() in CONSENT_YES) for x in texts("marketing_consent")
    ]
    return OrderBatch(
        currency=[x.upper() if x else None for x in texts("currency")],
        consent=consent,
        reference=texts("reference"),
        email_text=[x if x and "@" in x else None for x in texts("email")],
        source=source,
        rows=rows,
        channel=channel.take(take).to_pylist(),
        order_id=order_id.take(take).to_pylist(),
        at=at,
        total=total,
        has_total=has_total,
        refund=refund,
        name=[(x or "").strip() or None for x in name],
        ids=sub,
        skipped=skipped,
    )


def order_batches(frame: Frame, ids: RunIdentities) -> list[OrderBatch]:
    """One :class:`OrderBatch` per export of the frame (one history transaction each)."""
    from ordertags.errors import ColumnError
    from ordertags.io.fields import FIELD_ALIASES

    out = []
    for t, table in enumerate(frame.tables):
        if frame.maps[t].get("order_id") is None:
            looked = ", ".join(FIELD_ALIASES["order_id"][:6])
            raise ColumnError(
                f"no order id column (looked for: {looked}, ...), so its orders cannot be "
                "recorded in the history.",
                file=table.source,
                hint="Name the column with --order-id-column, or leave the history out "
                "with --no-record.",
            )
        start = int(frame.offsets[t])
        batch = run_orders(frame, ids, start=start, length=table.num_rows, source=table.source)
        assert batch is not None
        out.append(batch)
    return out


# --- attaching a memory to a run --------------------------------------------------------


def attach_memory(
    frame: Frame,
    tagbook: TagBook,
    *,
    history: History | None = None,
    record: bool = False,
    region: str | None = None,
) -> Memory | None:
    """Give ``frame`` its customer memory: links from the tag book and, with a history,
    strong phone identities, the past orders and (with ``record``) this run's orders
    written to it. None (the frame groups by email alone) when there is neither a
    history nor a link."""
    frame.require_field("email")
    has_phones = tagbook.has_phone_entries()
    if history is None and not tagbook.links and not has_phones:
        if frame.buyer_text() is None:
            return None  # the plain path: one identity per order, no phone parsing
        # Orders carrying an email and a buyer id: join the two, nothing else.
        ids = RunIdentities.from_frame(frame, phones=False)
        memory = Memory(frame, ids, LinkSet())
        frame.memory = memory
        return memory
    region = K.check_region(region or (history.region if history is not None else None))
    links = resolve_links(tagbook, region)
    ids = RunIdentities.from_frame(frame, region)
    recorded = None
    if history is not None:
        history.sync_links(links)
        if record:
            recorded = history.record(order_batches(frame, ids))
    memory = Memory(
        frame,
        ids,
        links,
        history,
        full=history is not None,
        recorded=recorded,
        tag_phones=tagbook.phone_keys(region),
    )
    frame.memory = memory
    return memory


def remember_tags(
    memory: Memory, masks: dict[str, BoolArray], tagbook: TagBook, as_of: dt.date
) -> dict[str, tuple[int, int]]:
    """Store each recorded customer's customer tags of this run in the history (for
    ``ordertags customers --tag``), and say per tag how many of the run's customers
    gained it and lost it since the last run that saw them: ``{tag: (gained, lost)}``."""
    from ordertags.engine.pipeline import render_tags

    if memory.history is None:
        return {}
    customers = memory.customers
    assert customers.groups is not None
    names = [t for t in tagbook.rank(masks) if tagbook.tags[t].scope == "customer"]
    ids, owner = memory.grouping.hist_ids, memory.grouping.hist_owner
    if not len(ids):
        return {}
    per_person = {t: customers.person_any(masks[t])[owner] for t in names}
    text = (
        render_tags(names, per_person, tagbook, len(ids))[0].combine_chunks()
        if names
        else pa.repeat(pa.scalar("", pa.string()), len(ids))
    )
    before = memory.history.tags_of(ids)  # "; "-joined, "" where never tagged
    wrapped = pc.binary_join_element_wise("; ", before, "; ", "")
    changes = {}
    log_gained: dict[str, list[int]] = {}
    log_lost: dict[str, list[int]] = {}
    seen = {*names, *_names_in(before)}
    known = tagbook.rank(t for t in seen if t in tagbook.tags)
    for t in [*known, *sorted(seen - set(known))]:
        had = np.asarray(
            pc.match_substring(wrapped, f"; {t}; ").to_numpy(zero_copy_only=False), dtype=bool
        )
        has = per_person[t] if t in per_person else np.zeros(len(ids), dtype=bool)
        gained, lost = has & ~had, had & ~has
        if gained.any() or lost.any():
            changes[t] = (int(gained.sum()), int(lost.sum()))
            log_gained[t] = ids[gained].tolist()
            log_lost[t] = ids[lost].tolist()
    memory.history.remember_tags(ids.tolist(), text.to_pylist(), as_of)
    memory.history.log_tags(log_gained, log_lost, as_of)
    return changes


def tag_history(memory: Memory) -> Any:
    """For ``had_tag``: a function (tag, days) -> per row, did the row's customer carry
    the tag in the last ``days`` days before the as-of date (from the history's log)."""

    def had(tag: str, days: int) -> BoolArray:
        frame = memory.frame
        customers = memory.customers
        ids, owner = memory.grouping.hist_ids, memory.grouping.hist_owner
        assert memory.history is not None
        per_id = (
            memory.history.had_tag(ids, tag, frame.as_of - dt.timedelta(days=days), frame.as_of)
            if len(ids)
            else np.zeros(0, bool)
        )
        people = np.zeros(customers.people, dtype=bool)
        people[owner[per_id]] = True
        assert customers.groups is not None
        result: BoolArray = customers.broadcast(people[customers.groups], fill=False)
        return result

    return had


def _names_in(tag_texts: pa.Array) -> set[str]:
    """Every tag name in a column of "; "-joined tag lists (few distinct lists)."""
    distinct = pc.unique(tag_texts).to_pylist()
    return {t for text in distinct if text for t in text.split("; ")}


# --- possibly the same customer ---------------------------------------------------------


@dataclass
class SuspectPairs:
    """Pairs of customers with weak evidence of being one person: ``a[i]`` and ``b[i]``
    share ``value[i]`` (an address or phone code), of ``kind[i]`` (``keys.ADDRESS`` or
    ``keys.PHONE``)."""

    a: IntArray
    b: IntArray
    kind: IntArray
    value: IntArray


def find_suspects(
    customer: IntArray, phone: IntArray, address: IntArray, *, max_sharing: int = 5
) -> SuspectPairs:
    """Pairs of different customers that share an address or a phone (codes, -1 where
    absent). A value shared by more than ``max_sharing`` customers (a parcel locker, an
    office switchboard) is no evidence about anyone and is skipped."""
    parts_a, parts_b, parts_k, parts_v = [], [], [], []
    for kind, values in ((K.ADDRESS, address), (K.PHONE, phone)):
        ok = (values >= 0) & (customer >= 0)
        if not ok.any():
            continue
        pairs = np.unique(np.stack([values[ok], customer[ok]], axis=1), axis=0)
        vals, starts, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
        for size in range(2, max_sharing + 1):
            g = starts[counts == size]
            if not len(g):
                continue
            members = pairs[:, 1][g[:, None] + np.arange(size)[None, :]]
            for i in range(size):
                for j in range(i + 1, size):
                    parts_a.append(members[:, i])
                    parts_b.append(members[:, j])
                    parts_v.append(pairs[g, 0])
                    parts_k.append(np.full(len(g), kind, dtype=np.int64))
    if not parts_a:
        empty = np.zeros(0, dtype=np.int64)
        return SuspectPairs(empty, empty, empty, empty)
    return SuspectPairs(
        np.concatenate(parts_a),
        np.concatenate(parts_b),
        np.concatenate(parts_k),
        np.concatenate(parts_v),
    )


def ranked_pairs(pairs: SuspectPairs, priority: IntArray) -> list[tuple[int, int, list[int]]]:
    """Group evidence by customer pair; highest tag priority of either customer first
    (so FRAUD-like customers come first), then the most evidence. Returns (a, b,
    indices into ``pairs``)."""
    if not len(pairs.a):
        return []
    lo, hi = np.minimum(pairs.a, pairs.b), np.maximum(pairs.a, pairs.b)
    key = np.stack([lo, hi], axis=1)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    evidence = np.bincount(inverse, minlength=len(uniq))
    top = np.maximum(priority[uniq[:, 0]], priority[uniq[:, 1]])
    order = np.lexsort((uniq[:, 1], uniq[:, 0], -evidence, -top))
    by_pair = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[by_pair], np.arange(len(uniq) + 1))
    return [
        (int(uniq[p, 0]), int(uniq[p, 1]), by_pair[bounds[p] : bounds[p + 1]].tolist())
        for p in order
    ]


def codes_of(values: Sequence[str | None] | pa.Array) -> tuple[IntArray, list[str]]:
    """Dictionary codes (-1 for null) and the distinct values."""
    arr = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    enc = pc.dictionary_encode(arr)
    return _codes(enc), enc.dictionary.to_pylist()


@dataclass
class Suspect:
    """Two customers that may be one person, with the evidence."""

    a: str
    b: str
    evidence: list[str]
    tags_a: list[str]
    tags_b: list[str]
    priority: int


def suspects_in_frame(
    frame: Frame,
    tagbook: TagBook,
    *,
    as_of: dt.date,
    region: str = K.DEFAULT_REGION,
    tag: str | None = None,
    limit: int | None = 50,
    max_sharing: int = 5,
) -> list[Suspect]:
    """:func:`find_suspects` over the orders of a run (no history): customers of the
    run that share an address, or a phone under another surname."""
    memory = (
        frame.memory
        if frame.memory is not None
        else Memory(frame, RunIdentities.from_frame(frame, region), resolve_links(tagbook, region))
    )
    customers = memory.customers
    assert customers.groups is not None
    ids = memory.ids
    codes = customers.codes
    person = np.where(codes >= 0, customers.groups[np.maximum(codes, 0)], -1)
    phone, phones = codes_of(ids.phone)
    address, addresses = codes_of(ids.address)
    pairs = find_suspects(person, phone, address, max_sharing=max_sharing)
    if not len(pairs.a):
        return []
    # Tags given by hand, per person; the priority of the highest.
    tags_of: list[list[str]] = [[] for _ in range(customers.people)]
    for t, keys in _manual_keys(tagbook, as_of).items():
        hit = np.asarray(
            customers.match_keys(pa.array(keys, pa.string())).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        for p in np.unique(customers.groups[hit]).tolist():
            tags_of[p].append(t)
    tags_of = [tagbook.rank(t) for t in tags_of]
    priority = np.array(
        [max((tagbook.tags[t].priority for t in t_), default=-(10**9)) for t_ in tags_of],
        dtype=np.int64,
    )
    first_row = np.full(customers.people, -1, dtype=np.int64)
    rows = np.flatnonzero(person >= 0)
    first_row[person[rows[::-1]]] = rows[::-1]
    row_key = customers.row_keys()
    names = ids.phone_name
    apart: set[tuple[int, int]] = set()
    for key_a, key_b in resolve_links(tagbook, region).different:
        pa_, pb_ = _person_of(customers, key_a), _person_of(customers, key_b)
        if pa_ >= 0 and pb_ >= 0:
            apart.add((min(pa_, pb_), max(pa_, pb_)))

    def label(p: int) -> str:
        r = int(first_row[p])
        return str(row_key[r].as_py() or names[r].as_py() or f"row {r}")

    out: list[Suspect] = []
    for a, b, which in ranked_pairs(pairs, priority):
        if (a, b) in apart:
            continue
        if tag and tag not in tags_of[a] and tag not in tags_of[b]:
            continue
        evidence = []
        for i in which:
            value = int(pairs.value[i])
            if pairs.kind[i] == K.ADDRESS:
                evidence.append(f"same address {addresses[value].removeprefix(K.ADDRESS_PREFIX)}")
            else:
                surnames_ = []
                for p in (a, b):
                    hit = np.flatnonzero((person == p) & (phone == value))
                    found = {str(names[int(r)].as_py() or " ?").split(" ", 1)[1] for r in hit}
                    surnames_.append("/".join(sorted(found)) or "?")
                evidence.append(f"same phone {phones[value]} ({surnames_[0]} / {surnames_[1]})")
        out.append(
            Suspect(
                label(a),
                label(b),
                evidence,
                tags_of[a],
                tags_of[b],
                int(max(priority[a], priority[b])),
            )
        )
        if limit and len(out) >= limit:
            break
    return out


def _manual_keys(tagbook: TagBook, as_of: dt.date) -> dict[str, list[str]]:
    """Tag -> the email keys tagged with it by hand (in force)."""
    out: dict[str, list[str]] = {}
    for key, tags in tagbook.manual_tags(as_of).items():
        for t in tags:
            out.setdefault(t, []).append(key)
    return out


def _person_of(customers: Customers, key: str) -> int:
    """The person carrying the identity ``key`` (-1: none in the run)."""
    assert customers.groups is not None
    hit = np.flatnonzero(
        np.asarray(
            pc.fill_null(pc.equal(customers.keys, key), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    )
    if len(hit):
        return int(customers.groups[hit[0]])
    if customers.alias_keys is not None and customers.alias_people is not None:
        hit = np.flatnonzero(
            np.asarray(
                pc.fill_null(pc.equal(customers.alias_keys, key), False).to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
        )
        if len(hit):
            return int(customers.alias_people[hit[0]])
    return -1
