"""Money amounts as people read them (the history keeps ten-thousandths, exact)."""

from __future__ import annotations


def money(units: int) -> str:
    """Ten-thousandths as text with two decimals, rounded half away from zero.

    >>> money(12345000), money(-50), money(0)
    ('1,234.50', '-0.01', '0.00')
    """
    cents = (abs(units) + 50) // 100
    sign = "-" if units < 0 and cents else ""
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"
