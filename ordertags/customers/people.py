"""A run's orders grouped into people: the identity keys of each row and the merging of
those keys, with the tag book's links and the history's customers, into one person per
customer, however many emails, buyer ids and phones they use. The engine gathers the
text of the fields (:mod:`ordertags.engine.identities`); everything about what makes
two orders one customer is here, as column operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base import keys as K
from ordertags.customers.grouping import Customers, customer_keys_of_column
from ordertags.customers.history import History
from ordertags.customers.identity import (
    BoolArray,
    IntArray,
    LinkSet,
    RunIdentities,
    address_keys,
    dictionary_codes,
    fold_names,
    merge_identities,
    null_strings,
    phone_keys,
    phone_name_keys,
    relay_flags,
    surnames,
)
from ordertags.io.values import combined


def phones_by_country(phones: pa.Array, country: pa.Array | None, region: str) -> pa.Array:
    """E.164 keys of phones written without a country code, read as numbers of the
    order's country where the export names it (a US order's 555 number is +1, not +44),
    else of ``region`` (--default-region, the workspace's)."""
    if country is None:
        return phone_keys(phones, region)
    encoded = pc.dictionary_encode(country)
    regions = [K.country_region(c or "") or region for c in encoded.dictionary.to_pylist()]
    per_row = np.asarray(regions + [region], dtype=object)[
        np.asarray(pc.fill_null(encoded.indices, len(regions)).to_numpy(zero_copy_only=False))
    ]
    distinct = sorted(set(regions) | {region})
    if len(distinct) == 1:
        return phone_keys(phones, region)
    out = null_strings(len(phones))
    for code in distinct:
        rows = np.flatnonzero(per_row == code)
        if not len(rows):
            continue
        keys = phone_keys(phones.take(pa.array(rows)), code)
        mask = np.zeros(len(phones), dtype=bool)
        mask[rows] = True
        # Scatter the group's keys back to its rows.
        full = np.full(len(phones), -1, dtype=np.int64)
        full[rows] = np.arange(len(rows))
        taken = keys.take(pa.array(np.maximum(full, 0)))
        out = pc.if_else(pa.array(mask), taken, out)
    result: pa.Array = out
    return result


@dataclass
class OrderTexts:
    """Per row of a run: the text of each field an identity is made from. ``identity``
    is the email, else the platform's buyer id (:func:`ordertags.customers.grouping.identity_text`);
    ``buyers`` the buyer id where the order carries an email too; the rest None where
    no export of the run has the field (or its keys are not wanted)."""

    identity: pa.Array | pa.ChunkedArray
    buyers: pa.Array | pa.ChunkedArray | None = None
    phone: pa.Array | pa.ChunkedArray | None = None
    country: pa.Array | pa.ChunkedArray | None = None
    last_name: pa.Array | pa.ChunkedArray | None = None
    name: pa.Array | pa.ChunkedArray | None = None
    postcode: pa.Array | pa.ChunkedArray | None = None
    address: pa.Array | pa.ChunkedArray | None = None


def identities_of(texts: OrderTexts, region: str = K.DEFAULT_REGION) -> RunIdentities:
    """Per row: its identity keys (see :class:`ordertags.customers.identity.RunIdentities`):
    the email key (or buyer id), the buyer id beside an email, the phone (read in the
    order's country where the export names one, else in ``region``), the phone with the
    surname, and the address; null where the row has none."""
    n = len(texts.identity)

    def text(name: str) -> pa.Array | None:
        values: pa.Array | pa.ChunkedArray | None = getattr(texts, name)
        return None if values is None else combined(values)

    email = customer_keys_of_column(texts.identity)
    buyer_text = texts.buyers
    buyer = customer_keys_of_column(buyer_text) if buyer_text is not None else null_strings(n)
    phone_text = text("phone")
    phone = (
        phones_by_country(phone_text, text("country"), region)
        if phone_text is not None
        else null_strings(n)
    )
    last = text("last_name")
    full = text("name")
    # Per row: the last-name column where the export has one, else the full name's
    # surname (a run of several exports mixes both).
    surname = surnames(full) if full is not None else null_strings(n)
    if last is not None:
        folded = fold_names(pc.utf8_trim_whitespace(last))
        surname = pc.if_else(pc.fill_null(pc.equal(folded, ""), True), surname, folded)
    postcode, line1 = text("postcode"), text("address")
    address = (
        address_keys(
            postcode, line1 if line1 is not None else pa.repeat(pa.scalar("", pa.string()), n)
        )
        if postcode is not None
        else null_strings(n)
    )
    kind = np.where(relay_flags(email), K.RELAY, K.EMAIL)
    no_at = np.asarray(
        pc.fill_null(pc.invert(pc.match_substring(email, "@")), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    kind[no_at] = K.BUYER
    return RunIdentities(
        email=email,
        kind=kind.astype(np.int64),
        phone=phone,
        phone_name=phone_name_keys(phone, surname),
        address=address,
        buyer=buyer,
    )


@dataclass
class Grouping:
    """How a run's rows fall into customers (:func:`group_people`)."""

    customers: Customers
    # The history customers in each person, as two aligned arrays sorted by history id:
    # ``hist_ids[i]`` belongs to person ``hist_owner[i]`` (a person may have none).
    hist_ids: IntArray
    hist_owner: IntArray


def group_people(
    identity: pa.Array | pa.ChunkedArray,
    ids: RunIdentities,
    links: LinkSet,
    *,
    history: History | None = None,
    full: bool = False,
    tag_phones: frozenset[str] = frozenset(),
    recorded_owner_keys: Callable[[BoolArray], pa.Array] | None = None,
) -> Grouping:
    """A run's rows grouped into people. ``identity`` is each row's identity text
    (:func:`ordertags.customers.grouping.identity_text`), ``ids`` its identity keys
    (:func:`identities_of`). Identities seen on one order are one customer: its email
    and buyer id; with ``full`` (a workspace), its phone with surname; a phone ``links``
    or the tag book names (``tag_phones``). ``links`` join and keep apart by hand; with
    a ``history``, its customers join the people they share an identity with.
    ``recorded_owner_keys`` gives, for the rows that name no customer, a key of the
    history's customer of their order (an order hub's copy of an order the history
    holds), or null.

    Rows are grouped at two levels. ``customers.codes`` gives one code per email key
    (conditions on the email are evaluated once per key); rows with no email but a
    strong phone identity get codes of their own, with a null key.
    ``customers.groups`` then maps codes to people."""
    n = len(identity)
    base = Customers.from_emails(identity)
    n_email = base.count
    phone_name = ids.phone_name if full else null_strings(n)
    linked = links.linked_phones | tag_phones
    if linked:
        hit = pc.fill_null(
            pc.is_in(ids.phone, value_set=pa.array(sorted(linked), pa.string())), False
        )
        linked_phone = pc.if_else(hit, ids.phone, pa.scalar(None, pa.string()))
    else:
        linked_phone = null_strings(n)
    # Rows with no email but a strong phone identity: codes of their own. So do an
    # order hub's copies of orders that name no customer (Linnworks' eBay and Etsy
    # orders) where the history holds the order: its customer's key.
    no_email = base.codes < 0
    anchor = pc.if_else(
        pa.array(no_email),
        pc.coalesce(
            phone_name,
            linked_phone,
            (recorded_owner_keys(no_email) if recorded_owner_keys else null_strings(n)),
        ),
        pa.scalar(None, pa.string()),
    )
    extra = pc.dictionary_encode(anchor)
    codes = base.codes.copy()
    extra_codes = dictionary_codes(extra, n_email)
    codes[no_email] = extra_codes[no_email]
    n_codes = n_email + len(extra.dictionary)
    keys = pa.concat_arrays([base.keys.cast(pa.string()), null_strings(len(extra.dictionary))])
    if n_codes == 0:
        # No customer in the run (a header-only export on a quiet day): no people.
        return Grouping(
            Customers(codes=codes, keys=keys, groups=np.zeros(0, np.int64), people=0),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )

    # One node per distinct identity; the codes' own identities (email keys, then
    # the anchors) come first.
    ends_same = [k for pair in links.same for k in pair]
    ends_diff = [k for pair in links.different for k in pair]
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
    node_of = dictionary_codes(nodes)
    n_nodes = len(nodes.dictionary)
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
    hist_of_node = None
    if history is not None:
        hist_of_node = history.customers_of(nodes.dictionary)
    merged = merge_identities(
        n_nodes,
        [(row_code, row_pn), (row_code, row_lp), (row_pn, row_lp), (row_code, row_buyer)],
        same=(same_nodes[:, 0], same_nodes[:, 1]),
        apart=(diff_nodes[:, 0], diff_nodes[:, 1]),
        owner=hist_of_node,
    )
    labels, hist_ids = merged.labels, merged.prior
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
        assert history is not None
        akeys, acust = history.email_identities(hist_ids[found])
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
