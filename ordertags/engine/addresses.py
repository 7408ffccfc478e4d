"""Orders shipped to an address of the tag book (``address:`` entries).

The run's postcodes are compared with the entries' as column operations (upper-cased,
letters and digits only; a US ZIP+4 by its first five); only the rows whose postcode
is one of them have their whole address worked out
(:func:`ordertags.base.addresses.address_identity`, the one definition the tag book
uses too), so a run of 100,000 orders and a few held addresses looks at a handful.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.addresses import address_identity
from ordertags.base.keys import DEFAULT_REGION
from ordertags.engine.frame import Frame

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def address_rows(frame: Frame, keys: Iterable[str], region: str | None = None) -> BoolArray:
    """Per row of ``frame``: is the order shipped to one of the addresses ``keys``
    (``address:`` keys)? Rows without a country read as ``region``'s (default GB).

    >>> address_rows(frame, {"address:GB EH22PR 10/2 rosestreet"}).sum()
    1
    """
    wanted = set(keys)
    out = np.zeros(frame.n, dtype=bool)
    if not wanted or not frame.has_field("postcode") or not frame.has_field("address"):
        return out
    codes = pa.array(sorted({k.split(" ")[1] for k in wanted}), pa.string())
    raw = frame.text(field="postcode")
    code = pc.replace_substring_regex(pc.utf8_upper(raw), r"[^\p{L}\p{Nd}]", "")
    near = pc.or_(
        pc.is_in(code, value_set=codes),
        pc.is_in(pc.utf8_slice_codeunits(code, 0, 5), value_set=codes),
    )
    rows = np.flatnonzero(np.asarray(pc.fill_null(near, False).to_numpy(zero_copy_only=False)))
    if not len(rows):
        return out
    take = pa.array(rows, pa.int64())
    lines = frame.text(field="address").take(take).to_pylist()
    posts = raw.take(take).to_pylist()
    countries = (
        frame.text(field="country").take(take).to_pylist()
        if frame.has_field("country")
        else [""] * len(rows)
    )
    home = region or frame.region or DEFAULT_REGION
    for r, country, post, line in zip(rows.tolist(), countries, posts, lines, strict=True):
        out[r] = address_identity(country, post, line, home) in wanted
    return out
