"""Money amounts as people read them (the history keeps ten-thousandths, exact)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def money(units: int) -> str:
    """Ten-thousandths as text with two decimals, rounded half away from zero.

    >>> money(12345000), money(-50), money(0)
    ('1,234.50', '-0.01', '0.00')
    """
    cents = (abs(units) + 50) // 100
    sign = "-" if units < 0 and cents else ""
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


# --- what an order adds to its customer ---------------------------------------------------
#
# Spend is net of the refunds the exports state: an order of 45.00 with 45.00 given back
# adds nothing, one with 20.00 given back adds 25.00 (a refund takes the order down to
# nothing at most: stated above the total, it adds 0; an order whose total is negative,
# a credit some exports write as an order, keeps it). A fully refunded order (a refund
# stated, as large as its total) is no purchase: it is left out of the customer's order
# count (``orders``, ``average_order_value``), while its refund still counts in
# ``refunds``. The run's orders are counted with :func:`net_spend` and
# :func:`fully_refunded` (arrays of ten-thousandths); the history's with the SQL of
# :func:`net_spend_sql` and :func:`counted_sql`, the same rule.


def net_spend(total: Any, refund: Any) -> Any:
    """What orders add to spend: ``total`` less ``refund``, the refund taking it down
    to 0 at most (ints or numpy arrays of integer ten-thousandths: ``min`` and ``max``
    written with ``abs``, which both have, so that this module needs no numpy).

    >>> int(net_spend(450_000, 200_000)), int(net_spend(450_000, 600_000))
    (250000, 0)
    >>> int(net_spend(-50_000, 0))
    -50000
    """
    kept = (total + abs(total)) // 2  # max(total, 0)
    taken = (refund + kept - abs(refund - kept)) // 2  # min(refund, kept)
    return total - taken


def fully_refunded(total: Any, refund: Any) -> Any:
    """Is each order fully refunded: a refund stated, at least its total?

    >>> bool(fully_refunded(450_000, 450_000)), bool(fully_refunded(450_000, 200_000))
    (True, False)
    """
    return (refund > 0) & (refund >= total)


def net_spend_sql(alias: str) -> str:
    """:func:`net_spend` of the history's order ``alias`` (a table or alias name)."""
    # CASE, not SQLite's two-argument MIN/MAX (PostgreSQL's LEAST/GREATEST): one
    # spelling for every storage backend.
    total = f"COALESCE({alias}.total, 0)"
    refund = f"COALESCE({alias}.refund, 0)"
    cap = f"(CASE WHEN {total} > 0 THEN {total} ELSE 0 END)"
    return f"({total} - (CASE WHEN {refund} < {cap} THEN {refund} ELSE {cap} END))"


def counted_sql(alias: str) -> str:
    """1 where the history's order ``alias`` counts as an order (not
    :func:`fully_refunded`), else 0."""
    return (
        f"(CASE WHEN {alias}.refund > 0 AND {alias}.refund >= COALESCE({alias}.total, 0) "
        "THEN 0 ELSE 1 END)"
    )


def rate_into(currency: str, base: str | None, rates: Mapping[str, float]) -> float | None:
    """What one unit of ``currency`` is worth in ``base``, where customer spend is compared
    in one currency (a rule file's ``currency:`` and ``rates:``, upper-case codes): 1 for
    ``base`` itself and for no currency (an order that names none is taken to be in it),
    else its rate; None where there is none (such spend is left out, and said so).

    >>> rate_into("eur", "GBP", {"EUR": 0.86}), rate_into("", "GBP", {})
    (0.86, 1.0)
    >>> rate_into("USD", "GBP", {"EUR": 0.86}) is None
    True
    """
    code = currency.strip().upper()
    if not code or code == base:
        return 1.0
    return rates.get(code)
