"""Money amounts as people read them (the history keeps ten-thousandths, exact)."""

from __future__ import annotations

from collections.abc import Mapping


def money(units: int) -> str:
    """Ten-thousandths as text with two decimals, rounded half away from zero.

    >>> money(12345000), money(-50), money(0)
    ('1,234.50', '-0.01', '0.00')
    """
    cents = (abs(units) + 50) // 100
    sign = "-" if units < 0 and cents else ""
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


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
