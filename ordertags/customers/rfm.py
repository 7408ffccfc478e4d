"""RFM segments: recency, frequency and monetary scores 1-5 and the 11 groups.

Scores come from the seller's own customers (those with at least one order):

- **quantiles** (the default): a customer's score on a measure is ``1 + floor(5 * b / N)``,
  where ``N`` is the number of customers with orders and ``b`` how many of them do
  strictly worse on that measure (an older last order, fewer orders, less spend). The
  top fifth scores 5, the bottom fifth 1, and customers with the same value always share
  a score. Monetary is ranked among the customers whose main currency is the same (spend
  in different currencies is not comparable).
- **fixed cut-offs** (``segments:`` in the rule file, or when there are fewer than
  :data:`MIN_QUANTILE_CUSTOMERS` customers, too few for fifths to mean anything):
  recency 5 for a last order at most ``recency_days[0]`` days ago, 4 within
  ``recency_days[1]`` and so on; frequency and monetary 1 plus the number of cut-offs
  the value reaches.

The group comes from R and FM = (F + M) / 2, as Shopify describes its groups; the table
:data:`GROUPS` gives the ranges (docs/segments.md shows them). Customers with no order are
Prospects. Pure numpy: the engine (rules), the reports and the history all use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ordertags.base.segments import (
    DEFAULT_FREQUENCY,
    DEFAULT_MONETARY,
    DEFAULT_RECENCY_DAYS,
    GROUP_NAMES,
    group_slug,
)

__all__ = [
    "DEFAULT_CUTOFFS",
    "GROUPS",
    "GROUP_NAMES",
    "MIN_QUANTILE_CUSTOMERS",
    "PROSPECTS",
    "Cutoffs",
    "Scores",
    "group_of",
    "group_slug",
    "score",
]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

#: Below this many customers with orders, quantile scores are replaced by fixed cut-offs.
MIN_QUANTILE_CUSTOMERS = 20

#: (slug, name, R range, FM range), FM = (F + M) / 2 in steps of 0.5. Every (R, FM) pair
#: falls in exactly one group (a test checks it).
GROUPS: tuple[tuple[str, str, tuple[int, int], tuple[float, float]], ...] = (
    ("champions", "Champions", (5, 5), (4.5, 5.0)),
    ("loyal", "Loyal", (5, 5), (3.5, 4.0)),
    ("loyal", "Loyal", (4, 4), (3.5, 5.0)),
    ("active", "Active", (5, 5), (2.0, 3.0)),
    ("new", "New", (5, 5), (1.0, 1.5)),
    ("promising", "Promising", (4, 4), (1.0, 1.5)),
    ("needs_attention", "Needs attention", (3, 4), (2.0, 3.0)),
    ("almost_lost", "Almost lost", (3, 3), (1.0, 1.5)),
    ("almost_lost", "Almost lost", (2, 2), (2.0, 3.0)),
    ("previously_loyal", "Previously loyal", (3, 3), (3.5, 5.0)),
    ("previously_loyal", "Previously loyal", (2, 2), (4.5, 5.0)),
    ("at_risk", "At risk", (2, 2), (3.5, 4.0)),
    ("at_risk", "At risk", (1, 1), (3.5, 5.0)),
    ("dormant", "Dormant", (2, 2), (1.0, 1.5)),
    ("dormant", "Dormant", (1, 1), (1.0, 3.0)),
)
PROSPECTS = ("prospects", "Prospects")


@dataclass(frozen=True)
class Cutoffs:
    """Fixed cut-offs: ``recency_days`` ascending (score 5 within the first), and the
    lowest ``frequency`` (orders) and ``monetary`` (spend) for scores 2, 3, 4 and 5."""

    recency_days: tuple[int, int, int, int] = DEFAULT_RECENCY_DAYS
    frequency: tuple[float, float, float, float] = DEFAULT_FREQUENCY
    monetary: tuple[float, float, float, float] = DEFAULT_MONETARY


DEFAULT_CUTOFFS = Cutoffs()


@dataclass
class Scores:
    """Per customer: R, F, M (0 for a prospect), the group slug, and how they were made:
    ``method`` (``quantiles`` or ``fixed``), ``reason`` when fixed was forced, and the
    thresholds used per measure (value needed for scores 2..5; recency: the most days
    for scores 5..2)."""

    r: IntArray
    f: IntArray
    m: IntArray
    groups: list[str]
    method: str
    reason: str = ""
    thresholds: dict[str, list[float]] | None = None


def _quantile_scores(values: FloatArray, higher_is_better: bool) -> IntArray:
    """``1 + floor(5 * worse / N)``, ``worse`` = how many values are strictly worse."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keyed = values if higher_is_better else -values
    order = np.sort(keyed)
    worse = np.searchsorted(order, keyed, side="left")
    scores: IntArray = (1 + (5 * worse) // n).astype(np.int64)
    return scores


def _min_value_for(values: FloatArray, scores: IntArray, s: int) -> float:
    hit = values[scores >= s]
    return float(hit.min()) if len(hit) else float("nan")


def _fixed(values: FloatArray, cuts: Sequence[float]) -> IntArray:
    scores: IntArray = (
        1 + np.searchsorted(np.asarray(cuts, dtype=np.float64), values, "right")
    ).astype(np.int64)
    return scores


def score(
    days_since_last: FloatArray,
    orders: FloatArray,
    spend: FloatArray,
    *,
    currency: Sequence[str] | None = None,
    cutoffs: Cutoffs | None = None,
    method: str = "quantiles",
) -> Scores:
    """RFM scores and groups for customers (parallel arrays: days since their last order
    (NaN: unknown), orders, spend in their main ``currency``). ``method`` ``fixed`` uses
    ``cutoffs`` (default :data:`DEFAULT_CUTOFFS`) always; ``quantiles`` falls back to them
    when fewer than :data:`MIN_QUANTILE_CUSTOMERS` customers have orders.

    >>> s = score(np.array([1.0, 400.0]), np.array([9.0, 1.0]), np.array([2000.0, 5.0]))
    >>> s.method, s.groups
    ('fixed', ['champions', 'dormant'])
    """
    days = np.asarray(days_since_last, dtype=np.float64)
    freq = np.asarray(orders, dtype=np.float64)
    money = np.asarray(spend, dtype=np.float64)
    n = len(freq)
    buyers = np.flatnonzero(freq > 0)
    r = np.zeros(n, dtype=np.int64)
    f = np.zeros(n, dtype=np.int64)
    m = np.zeros(n, dtype=np.int64)
    cuts = cutoffs or DEFAULT_CUTOFFS
    reason = ""
    if method == "quantiles" and len(buyers) < MIN_QUANTILE_CUSTOMERS:
        method = "fixed"
        reason = (
            f"{len(buyers)} customers with orders are too few for quantiles (fewer than "
            f"{MIN_QUANTILE_CUSTOMERS}): fixed cut-offs used"
        )
    # An unknown last-order date counts as the oldest.
    d = np.where(np.isnan(days[buyers]), np.inf, days[buyers])
    thresholds: dict[str, list[float]] = {}
    if method == "fixed":
        r[buyers] = 5 - np.searchsorted(np.asarray(cuts.recency_days, dtype=np.float64), d, "left")
        f[buyers] = _fixed(freq[buyers], cuts.frequency)
        m[buyers] = _fixed(money[buyers], cuts.monetary)
        thresholds = {
            "recency_days": [float(x) for x in cuts.recency_days],
            "frequency": [float(x) for x in cuts.frequency],
            "monetary": [float(x) for x in cuts.monetary],
        }
    else:
        r[buyers] = _quantile_scores(-d, True)
        f[buyers] = _quantile_scores(freq[buyers], True)
        cur = np.array(list(currency) if currency is not None else [""] * n, dtype=object)
        for c in sorted(set(cur[buyers].tolist())):
            sel = buyers[cur[buyers] == c]
            m[sel] = _quantile_scores(money[sel], True)
        rb = r[buyers]
        thresholds = {
            "recency_days": [
                float(np.max(d[rb >= s])) if np.any(rb >= s) else float("nan") for s in (5, 4, 3, 2)
            ],
            "frequency": [_min_value_for(freq[buyers], f[buyers], s) for s in (2, 3, 4, 5)],
            "monetary": [_min_value_for(money[buyers], m[buyers], s) for s in (2, 3, 4, 5)],
        }
    groups = [PROSPECTS[0]] * n
    fm = (f + m) / 2.0
    for i in buyers.tolist():
        groups[i] = group_of(int(r[i]), float(fm[i]))
    return Scores(r, f, m, groups, method, reason, thresholds)


def group_of(r: int, fm: float) -> str:
    """The group slug for a recency score and FM = (F + M) / 2.

    >>> group_of(5, 5.0), group_of(1, 1.0), group_of(2, 3.5)
    ('champions', 'dormant', 'at_risk')
    """
    for slug, _, (r_lo, r_hi), (fm_lo, fm_hi) in GROUPS:
        if r_lo <= r <= r_hi and fm_lo <= fm <= fm_hi:
            return slug
    raise ValueError(f"no RFM group for R={r}, FM={fm}")  # pragma: no cover - table is total
