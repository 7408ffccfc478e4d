"""Orders counted with a mark per order code (``count_codes``), not ``np.unique``: the
same count on every mask, and codes that skip numbers (an order without a number gets a
code past the dictionary's) are counted too."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ordertags.engine.arrays import count_codes


@given(st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=60))
def test_count_codes_is_the_number_of_distinct_codes_marked(
    rows: list[tuple[int, bool]],
) -> None:
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    mask = np.array([m for _, m in rows], dtype=bool)
    expected = len({c for c, m in rows if m})
    assert count_codes(codes, mask) == expected
    assert count_codes(codes, mask, 41) == expected
