"""Orders shipped to an address of the tag book (``address:`` entries).

Column operations throughout: the run's postcodes are compared with the entries' first
(so a run of 100,000 orders and a few held addresses goes on with a handful of rows),
then those rows' addresses are read as the entries' are, by the one definition of a
door (:func:`ordertags.customers.addresses.postal_keys`), and looked up among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.addresses import parse_written
from ordertags.base.keys import DEFAULT_REGION
from ordertags.customers.addresses import postal_keys
from ordertags.engine.frame import Frame

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def entry_keys(written: Iterable[str], region: str = DEFAULT_REGION) -> pa.Array:
    """The door keys of ``address:`` entries as written (``GB; EH2 2PR; 10 Rose St``)."""
    parts = [p for p in (parse_written(w) for w in written) if p is not None]
    columns = [pa.array([p[i] for p in parts], pa.string()) for i in range(3)]
    keys: pa.Array = pc.drop_null(
        postal_keys(columns[0], columns[1], columns[2], default_country=region)
    )
    return keys


def address_rows(frame: Frame, written: Iterable[str], region: str | None = None) -> BoolArray:
    """Per row of ``frame``: is the order shipped to one of the ``address:`` entries
    ``written``? Rows without a country are read as ``region``'s (default: the run's,
    else GB).

    >>> int(address_rows(result.frame, ["United Kingdom; eh2 2pr; 12 Rose St"]).sum())
    5
    """
    home = region or frame.region or DEFAULT_REGION
    wanted = entry_keys(written, home)
    out = np.zeros(frame.n, dtype=bool)
    if not len(wanted) or not frame.has_field("postcode") or not frame.has_field("address"):
        return out
    codes = pc.unique(pc.list_element(pc.split_pattern(wanted, " "), 1))
    raw = frame.text(field="postcode")
    code = pc.replace_substring_regex(pc.utf8_upper(raw), r"[^\p{L}\p{Nd}]", "")
    near = pc.or_(
        pc.is_in(code, value_set=codes),
        pc.is_in(pc.utf8_slice_codeunits(code, 0, 5), value_set=codes),  # a ZIP+4
    )
    rows = np.flatnonzero(np.asarray(pc.fill_null(near, False).to_numpy(zero_copy_only=False)))
    if not len(rows):
        return out
    take = pa.array(rows, pa.int64())
    countries = (
        frame.text(field="country").take(take)
        if frame.has_field("country")
        else pa.nulls(len(rows), pa.string())
    )
    keys = postal_keys(
        countries, raw.take(take), frame.text(field="address").take(take), default_country=home
    )
    hit = pc.fill_null(pc.is_in(keys, value_set=wanted), False)
    out[rows] = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return out
