"""The names of the RFM groups and the default fixed cut-offs, as plain data: the rule
file (``{segment: at_risk}``) checks names against them without numpy; the scoring is
in :mod:`ordertags.customers.rfm`."""

from __future__ import annotations

#: The 11 groups Shopify names, in display order: slug -> name.
#: How the segments report groups its figures: per RFM group, or per tag.
SEGMENTS_BY = ("group", "tag")
GROUP_NAMES: dict[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "active": "Active",
    "new": "New",
    "promising": "Promising",
    "needs_attention": "Needs attention",
    "almost_lost": "Almost lost",
    "previously_loyal": "Previously loyal",
    "at_risk": "At risk",
    "dormant": "Dormant",
    "prospects": "Prospects",
}
#: Fixed cut-offs: most days since the last order for recency 5, 4, 3, 2; least orders
#: and least spend for frequency and monetary 2, 3, 4, 5.
DEFAULT_RECENCY_DAYS = (30, 90, 180, 365)
DEFAULT_FREQUENCY = (2.0, 3.0, 5.0, 8.0)
DEFAULT_MONETARY = (100.0, 250.0, 500.0, 1000.0)


def group_slug(text: str) -> str | None:
    """``"At risk"``, ``"at-risk"`` or ``"AT_RISK"`` -> ``"at_risk"``; None if no group.

    >>> group_slug("Needs attention"), group_slug("vip")
    ('needs_attention', None)
    """
    slug = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    return slug if slug in GROUP_NAMES else None
