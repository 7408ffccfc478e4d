"""Money and date columns: vectorised parsing of text with pyarrow.compute.

Order exports hold money and dates as text in platform-specific layouts
(``1659.95``, ``$1,433.66``, ``116,99 €``; ``2025-05-11 09:55:16 -0400``,
``09/25/26``, ``Jul-25-26``, ``10-Dez-25``). Every value is checked against a
full-match regular expression for the chosen style, so a bad value is reported
(file, row, column, value, count, hint) instead of being half-parsed.

All work is done column-wise with Arrow kernels and numpy; there is no Python
loop per value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.errors import ValueParseError
from ordertags.io.platforms import DATE_STYLE_ALIASES as DATE_STYLE_ALIASES
from ordertags.io.platforms import DATE_STYLES, MONEY_STYLES

__all__ = [
    "DATE_STYLES",
    "MONEY_STYLES",
    "money_to_units",
    "parse_dates",
    "parse_money",
]

# Characters trimmed from both ends of every value. NBSP (U+00A0) and narrow
# NBSP (U+202F) come from spreadsheets and French/German number formatting.
_TRIM = " \t\r\n\v\f\u00a0\u2007\u202f\u3000"

# ---------------------------------------------------------------------------
# Money grammar (RE2 syntax, as used by Arrow's regex kernels)
# ---------------------------------------------------------------------------

# Spaces allowed between a sign, a currency and the number.
_SP = "[ \u00a0\u202f]*"
# A currency: a symbol, a prefixed dollar (US$, C$, HK$), an ISO 4217 code or
# a few local abbreviations.
_CURRENCY = "(?:[A-Z]{1,3}\\$|[$£€¥₹₩₽₺₪₫₱₦฿₴₡₲₵₸₼₾¢]|[A-Z]{3}|zł|kr|Kč|Ft)"
# Comma thousands, dot decimals: 1,433.66  1433.66  .5. A grouped number
# starts with 1-9, so 0,125 is not read as thousands.
_SYMBOL_NUMBER = "(?:(?:[1-9]\\d{0,2}(?:,\\d{3})+|\\d+)(?:\\.\\d*)?|\\.\\d+)"
# Thousands separators of the comma-decimal style.
_COMMA_DECIMAL_GROUPING = (".", " ", "\u00a0", "\u202f", "'", "’")
# Dot / space / NBSP / narrow NBSP / apostrophe thousands (one kind per value),
# comma decimals: 1.234,56  1 234,56  1'234,56  12,00  ,5
_COMMA_DECIMAL_NUMBER = (
    "(?:(?:"
    + "|".join(f"[1-9]\\d{{0,2}}(?:{re.escape(sep)}\\d{{3}})+" for sep in _COMMA_DECIMAL_GROUPING)
    + "|\\d+)(?:,\\d*)?|,\\d+)"
)


def _money_pattern(number: str) -> str:
    """Full-match pattern: a number with an optional sign, currency or parentheses.

    A leading apostrophe before the sign is allowed because WooCommerce prefixes
    text starting with ``-`` or ``+`` with ``'`` as a CSV-injection guard.
    """
    cur_before = f"(?:{_CURRENCY}{_SP})?"
    cur_after = f"(?:{_SP}{_CURRENCY})?"
    return (
        "^(?:"
        f"(?:'?[-+])?{_SP}{cur_before}{number}{cur_after}"  # -$5.00  5 €  EUR 12.00
        f"|{_CURRENCY}{_SP}[-+]{_SP}{number}{cur_after}"  # $-5.00
        f"|\\({_SP}{cur_before}{number}{cur_after}{_SP}\\)"  # (5.00) = -5.00
        ")$"
    )


_PLAIN_RE = "^(?:'?[-+])?(?:\\d+(?:\\.\\d*)?|\\.\\d+)$"
_SYMBOL_RE = _money_pattern(_SYMBOL_NUMBER)
_COMMA_DECIMAL_RE = _money_pattern(_COMMA_DECIMAL_NUMBER)
# Spreadsheet damage: 9.23225E+11, inf, nan.
_EXPONENT_RE = "^(?i:[-+]?(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)e[-+]?\\d+|inf|infinity|nan))$"
# Everything that may stand around the number in a value that passed a money
# pattern: signs, parentheses, spaces and the letters and symbols of
# currencies. Trimming these leaves just the number.
_AROUND_NUMBER = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "$£€¥₹₩₽₺₪₫₱₦฿₴₡₲₵₸₼₾¢" + "złkrčt" + "()+-' \u00a0\u202f"
)

_MONEY_EXAMPLES = {
    "plain": "plain numbers like 1234.50 or -5 are expected",
    "symbol": "amounts like $1,234.56, -$5.00, (5.00) or EUR 12.00 are expected",
    "comma_decimal": "amounts like 1.234,56 €, 12,00 or € 5 are expected",
    "auto": "amounts like 1234.50, $1,234.56, (5.00) or 1.234,56 € are expected",
}

# ---------------------------------------------------------------------------
# Date grammar
# ---------------------------------------------------------------------------

_MONTH_NAMES = {
    # English
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "june": 6, "jul": 7,
    "july": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # German (eBay.de): Mär/Mrz, Mai, Okt, Dez; Juni/Juli written out.
    "mär": 3, "mrz": 3, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "okt": 10, "dez": 12,
}  # fmt: skip
_MONTH_KEYS = pa.array(list(_MONTH_NAMES))
_MONTH_NUMBERS = np.array(list(_MONTH_NAMES.values()), dtype=np.int64)
_MONTH_NAME = "(?i:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + ")\\.?"

# Each layout has a strict full-match pattern that decides which values it
# accepts, and a looser extraction pattern with named groups that is only run
# on values the strict one accepted (RE2 extracts groups much faster from a
# simple pattern). Groups: Y year, m/d month/day, mon month name, a/b the two
# leading numbers of a numeric date, H/M/S clock, p AM/PM.
_CLOCK = "\\d{1,2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?"
_CLOCK_X = "(?P<H>\\d{1,2}):(?P<M>\\d{2})(?::(?P<S>\\d{2}))?"
_OFFSET = "(?: ?(?:Z|[-+]\\d{2}(?::?\\d{2})?))?"
_ISO_TIME = f"(?:[T ]{_CLOCK}{_OFFSET})?"
_LOCAL_TIME = f"(?:[ T]{_CLOCK}(?: ?[AaPp][Mm])?)?"
_LOCAL_TIME_X = f"(?:[ T]{_CLOCK_X}(?:[.,]\\d+)?(?: ?(?P<p>[AaPp][Mm]))?)?"
_YEAR = "(?:\\d{4}|\\d{2})"
_YEAR_X = "(?P<Y>\\d{4}|\\d{2})"

_ISO_RE = f"^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}{_ISO_TIME}$"
_ISO_X = f"^(?P<Y>\\d{{4}})-(?P<m>\\d{{1,2}})-(?P<d>\\d{{1,2}})(?:[T ]{_CLOCK_X})?"
# Zero-padded ISO with seconds or minutes and an optional fraction or offset:
# cut to the first 19 or 16 characters, Arrow's ISO cast reads the rest.
_ISO_SECONDS_RE = (
    f"^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]\\d{{2}}:\\d{{2}}:\\d{{2}}(?:[.,]\\d+)?{_OFFSET}$"
)
_ISO_CAST_RE = "^\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2})?)?$"
_ISO_DATE_RE = "^\\d{4}-\\d{2}-\\d{2}$"
_ISO_MINUTES_RE = f"^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]\\d{{2}}:\\d{{2}}{_OFFSET}$"
_YYYYMMDD_RE = "^(?P<Y>\\d{4})(?P<m>\\d{2})(?P<d>\\d{2})$"
_EBAY_MONTH_FIRST_RE = f"^{_MONTH_NAME}-\\d{{1,2}}-{_YEAR}{_LOCAL_TIME}$"
_EBAY_MONTH_FIRST_X = f"^(?P<mon>[^-.]+)\\.?-(?P<d>\\d{{1,2}})-{_YEAR_X}{_LOCAL_TIME_X}"
_EBAY_DAY_FIRST_RE = f"^\\d{{1,2}}-{_MONTH_NAME}-{_YEAR}{_LOCAL_TIME}$"
_EBAY_DAY_FIRST_X = f"^(?P<d>\\d{{1,2}})-(?P<mon>[^-.]+)\\.?-{_YEAR_X}{_LOCAL_TIME_X}"
# Numeric dates with the same separator twice. Which of a/b is the month is
# decided by the style (or, in auto, per column).
_NUMERIC_RE = (
    "^(?:\\d{1,2}/\\d{1,2}/|\\d{1,2}-\\d{1,2}-|\\d{1,2}\\.\\d{1,2}\\.)"
    f"{_YEAR}{_LOCAL_TIME}$"
)
_NUMERIC_X = f"^(?P<a>\\d{{1,2}})(?P<sep>[-/.])(?P<b>\\d{{1,2}})[-/.]{_YEAR_X}{_LOCAL_TIME_X}"

_DATE_EXAMPLES = {
    "iso": "ISO dates like 2024-11-26, 2024-11-26 04:46 or 2025-05-11 09:55:16 -0400",
    "us": "month-first dates like 09/25/2026, 09/25/26 or 9/6/2016 6:29:00",
    "eu": "day-first dates like 16-05-2018 07:32:06, 16/05/2018 or 16.05.2018",
    "ebay": "dates like Jul-25-26 or 10-Dez-25",
    "yyyymmdd": "dates like 20250511",
    "auto": "dates like 2024-11-26 04:46, 20250511, Jul-25-26, 10-Dez-25, 09/25/2026 or 16-05-2018",
}

# For a bad us/eu date: the other order, and the style that reads it.
_OTHER_ORDER = {"us": ("day-first", "eu"), "eu": ("month-first", "us")}

_SECONDS_PER_DAY = 86_400
# Days in each month of a common year, indexed by month number (0 unused).
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_DAYS_BEFORE_MONTH = np.concatenate([[0], np.cumsum(_MONTH_DAYS)[:-1]])


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def parse_money(
    values: pa.Array | pa.ChunkedArray,
    *,
    style: str = "plain",
    file: str | None = None,
    column: str | None = None,
    row_offset: int = 1,
) -> pa.Array:
    """Text -> float64. Blank (after trimming spaces) -> null.

    Any other value that does not parse raises :class:`ValueParseError` naming
    the first bad value's row (index + ``row_offset``), the column, the bad
    value quoted, how many values are bad in all, and a hint of what to do.

    Styles (spaces, NBSP and narrow NBSP around a value are ignored):

    - ``plain``: ``1234.50``, ``-5``, ``+3.1``, ``0.00``. No currency, no
      thousands separator, no exponent, ``inf`` or ``nan``.
    - ``symbol``: an optional currency symbol or code before or after (``$``,
      ``£``, ``€``, ``US$``, ``EUR``), comma thousands, dot decimals:
      ``$1,433.66``, ``-$5.00``, ``$-5.00``, ``EUR 12.00``; ``(5.00)`` is -5.
    - ``comma_decimal``: dot, space, NBSP, narrow NBSP or apostrophe
      thousands and comma decimals: ``116,99 €``, ``1.234,56 €``, ``€ 5``.
    - ``auto``: per value. A value that only one of ``symbol`` and
      ``comma_decimal`` accepts is read that way (``1.234,56``, ``12,00`` and
      ``0,125`` are comma-decimal; ``1,234.56`` is symbol). A value both
      accept is read in ``symbol`` style. So the ambiguous ``1,234`` (a comma,
      then exactly three digits, after a group that does not start with 0)
      is 1234, and ``1.234`` is 1.234; a comma is the decimal mark when the
      digits after it are not exactly three, or when dots or spaces group
      the thousands before it.

    A ``'`` before a leading sign (WooCommerce's CSV-injection guard,
    ``'-5.00``) is ignored in every style.

    Example:
        >>> parse_money(pa.array(["$1,433.66", "", "-$5.00"]), style="symbol").to_pylist()
        [1433.66, None, -5.0]
        >>> parse_money(pa.array(["116,99 €", "1,234"]), style="auto").to_pylist()
        [116.99, 1234.0]
    """
    if style not in MONEY_STYLES:
        raise ValueError(f"unknown money style {style!r}; expected one of {MONEY_STYLES}")
    raw = _as_text(values)
    text = _trim_blank_to_null(raw)

    if style == "plain":
        ok = pc.match_substring_regex(text, _PLAIN_RE)
        _check_money(raw, text, ok, style, file, column, row_offset)
        if pc.any(pc.starts_with(text, "'")).as_py():
            text = pc.utf8_ltrim(text, "'")
        return _within_limit(raw, pc.cast(text, pa.float64()), file, column, row_offset)

    if style == "symbol":
        ok = pc.match_substring_regex(text, _SYMBOL_RE)
        _check_money(raw, text, ok, style, file, column, row_offset)
        digits = _symbol_digits(text)
    elif style == "comma_decimal":
        ok = pc.match_substring_regex(text, _COMMA_DECIMAL_RE)
        _check_money(raw, text, ok, style, file, column, row_offset)
        digits = _comma_decimal_digits(text)
    else:  # auto
        symbol_ok = pc.match_substring_regex(text, _SYMBOL_RE)
        comma_ok = pc.match_substring_regex(text, _COMMA_DECIMAL_RE)
        ok = pc.or_(symbol_ok, comma_ok)
        _check_money(raw, text, ok, style, file, column, row_offset)
        # Read as comma-decimal only what the symbol style cannot read.
        use_comma = pc.and_(comma_ok, pc.invert(symbol_ok))
        if not pc.any(use_comma).as_py():
            digits = _symbol_digits(text)
        elif pc.all(use_comma).as_py():
            digits = _comma_decimal_digits(text)
        else:
            digits = pc.if_else(use_comma, _comma_decimal_digits(text), _symbol_digits(text))
    amount = pc.cast(digits, pa.float64())
    # In a value that passed a money pattern, a minus or an opening
    # parenthesis can only be the sign.
    negative = pc.or_(pc.match_substring(text, "-"), pc.match_substring(text, "("))
    signed = pc.if_else(negative, pc.negate(amount), amount)
    return _within_limit(raw, signed, file, column, row_offset)


#: The largest amount of money one value may hold (less than a trillion, in any
#: currency): sums of amounts are exact in ten-thousandths (64-bit integers) only so far,
#: and no order is worth more.
MONEY_LIMIT = 1e12


def _within_limit(
    raw: pa.Array, amounts: pa.Array, file: str | None, column: str | None, row_offset: int
) -> pa.Array:
    """``amounts``, or :class:`ValueParseError` naming the first row whose amount is
    :data:`MONEY_LIMIT` or more (a misplaced order number or barcode in the column)."""
    big = pc.fill_null(pc.greater_equal(pc.abs(amounts), MONEY_LIMIT), False)
    if not pc.any(big).as_py():
        return amounts
    n_bad = pc.sum(big).as_py() or 0
    first = pc.indices_nonzero(big)[0].as_py()
    raise ValueParseError(
        f"{_quote(raw[first].as_py())} is too large to be an amount of money "
        f"({_count(n_bad)} in all).",
        file=file,
        row=first + row_offset,
        column=column,
        hint="An amount must be under 1,000,000,000,000; check that the column holds money "
        "(not an order number or a barcode) and fix the value in the export.",
    )


def combined(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array: the chunk itself where there is one (``combine_chunks``
    copies even then, a whole column's worth of memory at a time)."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def money_to_units(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """float64 money (nulls allowed) -> int64 numpy array in ten-thousandths.

    Each value becomes ``round(x * 10000)`` and a null becomes 0, so sums of
    the units are exact where sums of floats are not.

    Example:
        >>> int(money_to_units(pa.array([0.1] * 10)).sum())
        10000
        >>> money_to_units(pa.array([1.5, None, -0.25])).tolist()
        [15000, 0, -2500]
    """
    values = combined(values)
    filled = pc.fill_null(pc.cast(values, pa.float64()), 0.0)
    floats = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)
    scaled = np.rint(floats * 10_000)
    if not np.isfinite(scaled).all() or (np.abs(scaled) >= 2.0**63).any():
        raise ValueError("money_to_units needs finite amounts below 9.2e14")
    return scaled.astype(np.int64)


#: Ten-thousandths a sum may reach: 64-bit integers (922 trillion in money).
UNITS_LIMIT = 2.0**63


def whole_units(sums: np.ndarray) -> np.ndarray:
    """Sums of money in ten-thousandths, worked out in float64 (``numpy.bincount``), as
    int64: rounded, or :class:`ValueParseError` where one is too large to hold (casting
    would wrap it round to a wrong, even negative, spend).

    >>> whole_units(np.array([15000.0, -2500.4])).tolist()
    [15000, -2500]
    """
    rounded = np.rint(sums)
    if rounded.size and not (np.abs(rounded) < UNITS_LIMIT).all():  # also catches nan
        raise ValueParseError(
            "a customer's orders add up to more money than can be counted (over "
            "922,337,203,685,477).",
            hint="The totals cannot be right: check the total column of the exports (and "
            "the history) for order numbers or barcodes read as money.",
        )
    result: np.ndarray = rounded.astype(np.int64)
    return result


#: Regions whose people write numeric dates month first (9/25/2026): the United States
#: and its territories, the Philippines, the Micronesian states. Everywhere else writes
#: the day first (25/09/2026). Canada writes both; its sellers' systems mostly follow
#: the US, so it counts as month first.
MONTH_FIRST_REGIONS = frozenset(
    {"US", "CA", "PH", "FM", "MH", "PW", "GU", "PR", "AS", "VI", "MP", "UM"}
)


def date_style_name(style: str) -> str:
    """A date style as people say it: ``eu`` -> ``day-first``, ``us`` -> ``month-first``."""
    return {"eu": "day-first", "us": "month-first"}.get(style, style)


def region_date_style(region: str) -> str:
    """The order numeric dates are written in a region: ``us`` (month first) or ``eu``.

    >>> region_date_style("GB"), region_date_style("us")
    ('eu', 'us')
    """
    return "us" if region.strip().upper() in MONTH_FIRST_REGIONS else "eu"


def numeric_date_order(values: pa.Array | pa.ChunkedArray) -> str | None:
    """What a column's numeric dates (``05/11/2026``) say of their order: ``eu`` (a first
    part above 12), ``us`` (a second part above 12), ``ambiguous`` (every one could be
    either: the data alone cannot tell), ``mixed`` (both happen), or None (no numeric
    dates: ISO, eBay, empty).

    >>> numeric_date_order(pa.array(["05/11/2026", "01/02/2026"]))
    'ambiguous'
    >>> numeric_date_order(pa.array(["25/11/2026", "01/02/2026"]))
    'eu'
    """
    text = _trim_blank_to_null(_as_text(values))
    hit = pc.fill_null(pc.match_substring_regex(text, _NUMERIC_RE), False)
    if not pc.any(hit).as_py():
        return None
    groups = pc.extract_regex(text.filter(hit), _NUMERIC_X)
    a, b = _int_field(groups, "a"), _int_field(groups, "b")
    day = bool(((a > 12) & (b <= 12)).any())
    month = bool(((b > 12) & (a <= 12)).any())
    if day and month:
        return "mixed"
    return "eu" if day else "us" if month else "ambiguous"


def parse_dates(
    values: pa.Array | pa.ChunkedArray,
    *,
    style: str = "auto",
    file: str | None = None,
    column: str | None = None,
    row_offset: int = 1,
) -> pa.Array:
    """Text -> ``pa.timestamp('s')``. Blank -> null.

    The result is naive: the wall-clock time as written. A UTC offset in the
    text (``-0400``, ``+00:00``, ``Z``) is dropped, not applied, and fractional
    seconds are truncated. Two-digit years 00-68 are 20xx and 69-99 are 19xx.
    A value that does not parse raises :class:`ValueParseError` like
    :func:`parse_money`; so does a day that does not exist (``2024-02-30``).

    Styles:

    - ``iso``: ``2025-05-11 09:55:16 -0400``, ``2017-09-23T14:18:23-07:00``,
      ``2024-11-26T10:11:12.123Z``, ``2024-11-26 04:46``, ``2024-11-26``.
    - ``us``: month first: ``09/25/26``, ``09/25/2026``, ``9/6/2016 6:29:00``,
      ``5/31/2016 0:37`` (``/``, ``-`` or ``.`` between the parts; an
      ``AM``/``PM`` suffix is allowed).
    - ``eu``: day first: ``16-05-2018 07:32:06``, ``16/05/2018``,
      ``16.05.2018``, ``16/05/2018 07:32``.
    - ``ebay``: ``Jul-25-26`` (month name first) or ``10-Dez-25`` (day first),
      English or German month abbreviations; which part is the month is
      decided by which part is a name.
    - ``yyyymmdd``: ``20250511``.
    - ``auto``: each value is tried as iso, yyyymmdd and ebay (these layouts
      cannot be confused). Numeric dates with ``/``, ``-`` or ``.`` are decided
      per column: if any value has a first part above 12 the column is
      day-first (eu); if any has a second part above 12 it is month-first
      (us); if both happen the column is rejected; if neither (every value is
      ambiguous) slashed dates are read month-first (us) and dashed or dotted
      dates day-first (eu).

    Example:
        >>> parse_dates(pa.array(["2025-05-11 09:55:16 -0400", "", "Jul-25-26"])).to_pylist()
        [datetime.datetime(2025, 5, 11, 9, 55, 16), None, datetime.datetime(2026, 7, 25, 0, 0)]
        >>> parse_dates(pa.array(["16/05/2018", "01/02/2018"])).to_pylist()  # 16 > 12: eu
        [datetime.datetime(2018, 5, 16, 0, 0), datetime.datetime(2018, 2, 1, 0, 0)]
    """
    if style not in DATE_STYLES:
        raise ValueError(f"unknown date style {style!r}; expected one of {DATE_STYLES}")
    raw = _as_text(values)
    text = _trim_blank_to_null(raw)

    if style in ("iso", "auto") and pc.all(pc.match_substring_regex(text, _ISO_CAST_RE)).as_py():
        # Fast path: Arrow's own ISO 8601 cast (it validates the calendar too)
        # reads offset-free zero-padded ISO in one pass. The regex check comes
        # first because a failing cast is slow: it still parses every value.
        try:
            return pc.cast(text, pa.timestamp("s"))
        except pa.ArrowInvalid:  # a day that does not exist: report it below
            pass

    parser = _DateParser(text)
    if style in ("iso", "auto"):
        parser.apply_prefix(_ISO_SECONDS_RE, 19)
        parser.apply_prefix(_ISO_MINUTES_RE, 16)
        parser.apply_prefix(_ISO_DATE_RE, 10)
        parser.apply(_ISO_RE, _ISO_X, _ymd)
    if style in ("yyyymmdd", "auto"):
        parser.apply(_YYYYMMDD_RE, _YYYYMMDD_RE, _ymd)
    if style in ("ebay", "auto"):
        parser.apply(_EBAY_MONTH_FIRST_RE, _EBAY_MONTH_FIRST_X, _named_month)
        parser.apply(_EBAY_DAY_FIRST_RE, _EBAY_DAY_FIRST_X, _named_month)
    if style in ("us", "eu", "auto"):
        parser.apply_numeric(style, raw, file=file, column=column, row_offset=row_offset)

    if parser.bad_count:
        bad = parser.bad_mask()
        first = int(np.flatnonzero(bad)[0])
        if parser.shape_ok[first]:
            hint = (
                "The layout is right but no such date or time exists "
                "(check the day, month and hour); fix the value in the export."
            )
            if style in _OTHER_ORDER:
                order, other = _OTHER_ORDER[style]
                hint += f' If the column is {order}, read it with date style "{other}".'
        else:
            hint = f"Expected {_DATE_EXAMPLES[style]}."
            if style != "auto":
                hint += ' If the column uses another layout, read it with date style "auto".'
        raise ValueParseError(
            f'{_quote(raw[first].as_py())} is not a valid date in the "{style}" style '
            f"({_count(parser.bad_count)} in all).",
            file=file,
            row=first + row_offset,
            column=column,
            hint=hint,
        )
    return parser.result()


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous string (or large_string) array."""
    values = combined(values)
    if not isinstance(values, pa.Array):
        raise TypeError(f"expected a pyarrow Array or ChunkedArray, got {type(values).__name__}")
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return values
    if pa.types.is_null(kind) or pa.types.is_string_view(kind):
        return values.cast(pa.string())
    raise TypeError(f"expected a text column, got {kind}")


def _trim_blank_to_null(raw: pa.Array) -> pa.Array:
    """Trim spaces (including NBSP) from both ends and turn blank values into nulls."""
    trimmed = pc.utf8_trim(raw, _TRIM)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():
        return trimmed
    return pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)


def _quote(value: str) -> str:
    """Quote a bad value for a message: short, with invisible characters escaped."""
    if len(value) > 40:
        value = value[:37] + "..."
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in value)
    return f'"{shown}"'


def _count(n: int) -> str:
    return f"{n} bad value" if n == 1 else f"{n} bad values"


# ---------------------------------------------------------------------------
# Money helpers
# ---------------------------------------------------------------------------


def _comma_decimal_digits(text: pa.Array) -> pa.Array:
    """``1.234,56 €`` -> ``1234.56``: keep digits and the comma, make it a dot."""
    for separator in _COMMA_DECIMAL_GROUPING:
        text = pc.replace_substring(text, separator, "")
    return pc.utf8_trim(pc.replace_substring(text, ",", "."), _AROUND_NUMBER)


def _symbol_digits(text: pa.Array) -> pa.Array:
    """``-$1,433.66`` -> ``1433.66``: drop thousands commas, trim sign and currency."""
    return pc.utf8_trim(pc.replace_substring(text, ",", ""), _AROUND_NUMBER)


def _check_money(
    raw: pa.Array,
    text: pa.Array,
    ok: pa.Array,
    style: str,
    file: str | None,
    column: str | None,
    row_offset: int,
) -> None:
    """Raise for the first value that failed its pattern (``ok`` is False)."""
    bad = pc.fill_null(pc.invert(ok), False)
    n_bad = pc.sum(bad).as_py() or 0
    if not n_bad:
        return
    first = pc.indices_nonzero(bad)[0].as_py()
    value = text[first]
    raise ValueParseError(
        f'{_quote(raw[first].as_py())} is not valid money in the "{style}" style '
        f"({_count(n_bad)} in all).",
        file=file,
        row=first + row_offset,
        column=column,
        hint=_money_hint(value, style),
    )


def _matches(value: pa.Scalar, pattern: str) -> bool:
    return bool(pc.match_substring_regex(pa.array([value.as_py()]), pattern)[0].as_py())


def _money_hint(value: pa.Scalar, style: str) -> str:
    """What to do about one bad value, given what it looks like."""
    if _matches(value, _EXPONENT_RE):
        return (
            "Numbers in exponent form (1e3), inf and nan are not money; a spreadsheet may "
            f"have reformatted the value. Fix it in the export; {_MONEY_EXAMPLES[style]}."
        )
    symbol_ok = _matches(value, _SYMBOL_RE)
    comma_ok = _matches(value, _COMMA_DECIMAL_RE)
    if style == "plain" and (symbol_ok or comma_ok):
        kind = (
            "a decimal comma"
            if comma_ok and not symbol_ok
            else "a currency symbol or thousands separator"
        )
        return (
            f"The value looks like money with {kind}, but plain numbers like 1234.50 are "
            "expected; run with --money-style auto."
        )
    if style == "symbol" and comma_ok:
        return (
            "The value looks like money with a decimal comma (1.234,56 €), but "
            f"{_MONEY_EXAMPLES[style]}; run with --money-style auto."
        )
    if style == "comma_decimal" and symbol_ok:
        return (
            "The value looks like money with a decimal point ($1,234.56), but "
            f"{_MONEY_EXAMPLES[style]}; run with --money-style auto."
        )
    return f"Only {_MONEY_EXAMPLES[style]}; check that the column holds money or fix the value."


# ---------------------------------------------------------------------------
# Date helpers
# ---------------------------------------------------------------------------

_Parts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Turns the groups a layout extracted into (year, month, day, hour, minute, second).
_Reader = Callable[[pa.StructArray], _Parts]


class _DateParser:
    """Parse the still-unparsed values of a column layout by layout.

    Rows a layout's strict pattern matches are taken out of the pending set, so
    later layouts only see what is left. Rows that matched a layout but name a
    day or time that does not exist stay unparsed and are reported as bad.
    """

    def __init__(self, text: pa.Array) -> None:
        self.text = text
        n = len(text)
        self.seconds = np.zeros(n, dtype=np.int64)
        self.parsed = np.zeros(n, dtype=bool)
        # True where some layout matched the value's shape (even if the day
        # does not exist), to tell "wrong layout" from "impossible date".
        self.shape_ok = np.zeros(n, dtype=bool)
        self.pending = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))

    @property
    def bad_count(self) -> int:
        return int(np.count_nonzero(self.bad_mask()))

    def bad_mask(self) -> np.ndarray:
        present = np.asarray(self.text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        return present & ~self.parsed

    def _match(self, pattern: str) -> tuple[np.ndarray, pa.Array]:
        """Take the pending rows that fully match ``pattern`` out of the pending set."""
        if not len(self.pending):
            return self.pending, self.text.slice(0, 0)
        if len(self.pending) == len(self.text):
            subset = self.text  # no nulls and nothing parsed yet: skip the copy
        else:
            subset = self.text.take(pa.array(self.pending))
        hit = pc.match_substring_regex(subset, pattern).to_numpy(zero_copy_only=False)
        rows = self.pending[hit]
        self.pending = self.pending[~hit]
        return rows, subset.filter(pa.array(hit))

    def _store(self, rows: np.ndarray, parts: _Parts) -> None:
        self.shape_ok[rows] = True
        seconds, ok = _compose(*parts)
        self.seconds[rows[ok]] = seconds[ok]
        self.parsed[rows[ok]] = True

    def apply(self, pattern: str, extract: str, read: _Reader) -> None:
        """Parse the pending rows that match ``pattern`` with ``extract`` and ``read``."""
        rows, matched = self._match(pattern)
        if len(rows):
            self._store(rows, read(pc.extract_regex(matched, extract)))

    def apply_prefix(self, pattern: str, width: int) -> None:
        """Parse rows matching ``pattern`` by casting their first ``width`` characters.

        If any of them is not a real date (2024-02-30) the cast fails as a
        whole and the rows go back to pending for the per-part parse.
        """
        rows, matched = self._match(pattern)
        if not len(rows):
            return
        try:
            stamps = pc.cast(pc.utf8_slice_codeunits(matched, 0, width), pa.timestamp("s"))
        except pa.ArrowInvalid:
            self.pending = np.sort(np.concatenate([self.pending, rows]))
            return
        self.seconds[rows] = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
        self.parsed[rows] = True
        self.shape_ok[rows] = True

    def apply_numeric(
        self,
        style: str,
        raw: pa.Array,
        *,
        file: str | None,
        column: str | None,
        row_offset: int,
    ) -> None:
        """Numeric dates (``09/25/26``, ``16-05-2018``): month first or day first."""
        rows, matched = self._match(_NUMERIC_RE)
        if not len(rows):
            return
        groups = pc.extract_regex(matched, _NUMERIC_X)
        a = _int_field(groups, "a")
        b = _int_field(groups, "b")
        sep = groups.field("sep")
        if style == "us":
            day_first = np.zeros(len(rows), dtype=bool)
        elif style == "eu":
            day_first = np.ones(len(rows), dtype=bool)
        else:
            day_evidence = np.flatnonzero((a > 12) & (b <= 12))
            month_evidence = np.flatnonzero((b > 12) & (a <= 12))
            if len(day_evidence) and len(month_evidence):
                _raise_mixed_order(
                    raw, rows, day_evidence[0], month_evidence[0], file, column, row_offset
                )
            if len(day_evidence):
                day_first = np.ones(len(rows), dtype=bool)
            elif len(month_evidence):
                day_first = np.zeros(len(rows), dtype=bool)
            else:
                day_first = pc.not_equal(sep, "/").to_numpy(zero_copy_only=False)
        month = np.where(day_first, b, a)
        day = np.where(day_first, a, b)
        hour, minute, second = _clock(groups)
        year = _year(groups)
        self._store(rows, (year, month, day, hour, minute, second))

    def result(self) -> pa.Array:
        return pa.array(self.seconds, type=pa.timestamp("s"), mask=~self.parsed)


def _raise_mixed_order(
    raw: pa.Array,
    rows: np.ndarray,
    day_first_at: int,
    month_first_at: int,
    file: str | None,
    column: str | None,
    row_offset: int,
) -> None:
    day_row = int(rows[day_first_at])
    month_row = int(rows[month_first_at])
    raise ValueParseError(
        f"{_quote(raw[month_row].as_py())} can only be month-first, but row "
        f"{day_row + row_offset} ({_quote(raw[day_row].as_py())}) can only be day-first, "
        "so the column has no single date order.",
        file=file,
        row=month_row + row_offset,
        column=column,
        hint='Read the column with date style "us" (month first) or "eu" (day first) '
        "and fix the rows that do not fit.",
    )


def _has_group(groups: pa.StructArray, name: str) -> bool:
    return bool(groups.type.get_field_index(name) >= 0)


def _int_field(groups: pa.StructArray, name: str, missing: int = 0) -> np.ndarray:
    """A digit group as int64; a group that is absent or did not match -> ``missing``."""
    if not _has_group(groups, name):
        return np.full(len(groups), missing, dtype=np.int64)
    field = groups.field(name)
    # An optional group that did not match is "". Test before casting: a
    # failing cast is slow.
    empty = pc.equal(field, "")
    if pc.any(empty).as_py():
        field = pc.if_else(empty, pa.scalar(None, field.type), field)
    ints = pc.fill_null(pc.cast(field, pa.int64()), missing)
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)


def _year(groups: pa.StructArray) -> np.ndarray:
    """Four-digit years as is; two-digit years 00-68 -> 20xx, 69-99 -> 19xx."""
    year = _int_field(groups, "Y")
    short = pc.less(pc.utf8_length(groups.field("Y")), 3).to_numpy(zero_copy_only=False)
    return np.where(short, np.where(year < 69, 2000 + year, 1900 + year), year)


def _clock(groups: pa.StructArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hour, minute, second; a 12-hour clock with AM/PM becomes 24-hour."""
    hour = _int_field(groups, "H")
    minute = _int_field(groups, "M")
    second = _int_field(groups, "S")
    if _has_group(groups, "p"):
        period = pc.utf8_lower(groups.field("p"))
        pm = pc.equal(period, "pm").to_numpy(zero_copy_only=False)
        twelve = pc.not_equal(period, "").to_numpy(zero_copy_only=False)
        # 13:00 PM and 0:30 AM do not exist: push them out of range.
        impossible = twelve & ((hour < 1) | (hour > 12))
        hour = np.where(twelve, hour % 12 + np.where(pm, 12, 0), hour)
        hour = np.where(impossible, 99, hour)
    return hour, minute, second


def _ymd(groups: pa.StructArray) -> _Parts:
    return (
        _year(groups),
        _int_field(groups, "m"),
        _int_field(groups, "d"),
        *_clock(groups),
    )


def _named_month(groups: pa.StructArray) -> _Parts:
    index = pc.index_in(pc.utf8_lower(groups.field("mon")), value_set=_MONTH_KEYS)
    # The regex only admits known names, so every index is set; -1 is a guard.
    position = pc.fill_null(index, -1).to_numpy(zero_copy_only=False)
    month = np.where(position >= 0, _MONTH_NUMBERS[position], 0)
    return (_year(groups), month, _int_field(groups, "d"), *_clock(groups))


def _compose(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    hour: np.ndarray,
    minute: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since 1970 and a validity mask (the day must exist in its month)."""
    ok = (
        (year >= 1)
        & (year <= 9999)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    month = np.where(ok, month, 1)
    year = np.where(ok, year, 1970)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= day <= _MONTH_DAYS[month] + (leap & (month == 2))
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    days = year_start + _DAYS_BEFORE_MONTH[month] + (leap & (month > 2)) + day - 1
    seconds = days * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second
    return np.where(ok, seconds, 0), ok
