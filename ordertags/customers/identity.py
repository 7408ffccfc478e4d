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

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.errors import TagBookError, UsageError
from ordertags.tagbook import TagBook

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

#: Epoch seconds of "no date" in order records (sorts after every real date).
NO_DATE = np.iinfo(np.int64).max

_SURNAME_BEFORE_COMMA = r"(?s)^(?P<p>[^,]*),"
_LAST_WORD = r"(?s)(?P<p>[^\t\n\f\r ]*)$"
_HOUSE = r"(?:^|[^0-9A-Za-z])(?P<h>[0-9]+[A-Za-z]?)(?:$|[^0-9A-Za-z])"


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def null_strings(n: int) -> pa.Array:
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
        return null_strings(0)
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


Pair = tuple[IntArray, IntArray]


@dataclass
class Merged:
    """Customers from :func:`merge_identities`: a component label per identity node,
    then per prior customer (``prior[i]`` is node ``n + i``)."""

    labels: IntArray
    prior: IntArray


def merge_identities(
    n: int,
    together: Sequence[Pair],
    *,
    same: Pair | None = None,
    apart: Pair | None = None,
    owner: IntArray | None = None,
) -> Merged:
    """Group ``n`` identity nodes into customers: the nodes of each ``together`` pair of
    aligned arrays (identities seen on one order, -1 where absent) are one customer, as
    are the ``same`` pairs (links) and each node with its prior customer ``owner[i]``
    (-1: none; prior customers become nodes ``n..``). Where a group would hold both
    nodes of an ``apart`` pair, it is redone with links and prior customers first
    (:func:`split_components`).

    >>> pair = (np.array([0, 2]), np.array([1, 3]))
    >>> m = merge_identities(4, [pair], owner=np.array([7, -1, 7, -1]))
    >>> m.labels.tolist(), m.prior.tolist()
    ([0, 0, 0, 0, 0], [7])
    """
    u, v = edges(*together)
    first = np.zeros(len(u), dtype=bool)
    if same is not None:
        su, sv = edges(same)
        u, v = np.concatenate([su, u]), np.concatenate([sv, v])
        first = np.concatenate([np.ones(len(su), dtype=bool), first])
    prior = np.zeros(0, dtype=np.int64)
    if owner is not None:
        prior, index = np.unique(owner[owner >= 0], return_inverse=True)
        held = np.flatnonzero(owner >= 0)
        u = np.concatenate([u, held])
        v = np.concatenate([v, n + index.ravel().astype(np.int64)])
        first = np.concatenate([first, np.ones(len(held), dtype=bool)])
    labels = connected_components(n + len(prior), u, v)
    if apart is not None:
        keep = (apart[0] >= 0) & (apart[1] >= 0)
        if keep.any():
            labels = split_components(labels, u, v, first, apart[0][keep], apart[1][keep])
    return Merged(labels, prior.astype(np.int64))


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


def dictionary_codes(encoded: pa.DictionaryArray, offset: int = 0) -> IntArray:
    """Dictionary indices as int64 (-1 for null), plus ``offset``."""
    idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(idx >= 0, idx + offset, -1)


def edges(*pairs: tuple[IntArray, IntArray]) -> tuple[IntArray, IntArray]:
    us, vs = [], []
    for a, b in pairs:
        keep = (a >= 0) & (b >= 0) & (a != b)
        us.append(a[keep])
        vs.append(b[keep])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(us), np.concatenate(vs)


# --- orders as the history keeps them ---------------------------------------------------


@dataclass
class OrderBatch:
    """The orders of one export as the history records them: one per order (the row
    that carries its totals), keyed by channel and order id."""

    source: str
    rows: IntArray  # frame rows
    channel: list[str]
    order_id: list[str]
    at: IntArray  # epoch seconds (NO_DATE: no date)
    total: IntArray  # ten-thousandths
    has_total: BoolArray
    refund: IntArray
    name: list[str | None]
    ids: RunIdentities
    skipped: int = 0  # orders with no order id: not recorded
    currency: list[str | None] = field(default_factory=list)
    consent: list[int | None] = field(default_factory=list)  # marketing: 1 yes, 0 no
    #: Each order's other number (an order hub's own id where the key is the channel's).
    reference: list[str | None] = field(default_factory=list)
    email_text: list[str | None] = field(default_factory=list)  # the email as written
    via: str = ""  # the platform profile of the export (linnworks, amazon, ...)
    hub: bool = False  # an order hub's copies of other channels' orders (Linnworks)
    #: Per order: cancelled, voided or failed (its status said so); None: none was.
    cancelled: BoolArray | None = None

    def __post_init__(self) -> None:
        n = len(self.order_id)
        if self.cancelled is None:
            self.cancelled = np.zeros(n, dtype=bool)
        for name in ("currency", "consent", "reference", "email_text"):
            if not getattr(self, name):
                setattr(self, name, [None] * n)


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
    return dictionary_codes(enc), enc.dictionary.to_pylist()


@dataclass
class Suspect:
    """Two customers that may be one person, with the evidence."""

    a: str
    b: str
    evidence: list[str]
    tags_a: list[str]
    tags_b: list[str]
    priority: int


#: The priority of a customer with no tag (below every tag's).
NO_PRIORITY = -(10**9)


def tag_priorities(
    tags_of: Mapping[int, Sequence[str]], size: int, tagbook: TagBook | None
) -> IntArray:
    """Per customer ``0..size-1``: the highest priority of its tags (``NO_PRIORITY``
    where it has none, or without a tag book)."""
    priority = np.full(size, NO_PRIORITY, dtype=np.int64)
    if tagbook is not None:
        for c, names in tags_of.items():
            if names:
                priority[c] = max(tagbook.tags[t].priority for t in names)
    return priority


def evidence_text(kind: int, key: str, names: tuple[str, str] = ("?", "?")) -> str:
    """How a piece of weak evidence reads: the shared address, or the shared phone with
    each customer's surnames on it."""
    if kind == K.ADDRESS:
        return f"same address {key.removeprefix(K.ADDRESS_PREFIX)}"
    return f"same phone {key} ({names[0]} / {names[1]})"


def list_suspects(
    pairs: SuspectPairs,
    tags_of: Mapping[int, list[str]],
    priority: IntArray,
    *,
    label: Callable[[int], str],
    evidence: Callable[[int, int, int], str],
    apart: set[tuple[int, int]],
    tag: str | None = None,
    limit: int | None = 50,
) -> list[Suspect]:
    """The suspects of :func:`find_suspects` pairs, as :func:`ranked_pairs` orders them:
    pairs in ``apart`` (said to be different people, ``(low, high)``) left out, only
    pairs where either customer has ``tag`` when one is given, at most ``limit``.
    ``label(c)`` names a customer; ``evidence(i, a, b)`` says what pair evidence ``i``
    is."""
    out: list[Suspect] = []
    for a, b, which in ranked_pairs(pairs, priority):
        if (a, b) in apart:
            continue
        if tag and tag not in tags_of[a] and tag not in tags_of[b]:
            continue
        out.append(
            Suspect(
                label(a),
                label(b),
                [evidence(i, a, b) for i in which],
                tags_of[a],
                tags_of[b],
                int(max(priority[a], priority[b])),
            )
        )
        if limit and len(out) >= limit:
            break
    return out
