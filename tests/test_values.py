"""Tests for ordertags.io.values: money and date text columns."""

from __future__ import annotations

import doctest
from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordertags.errors import OrderTagsError, ValueParseError
from ordertags.io import values
from ordertags.io.values import (
    DATE_STYLES,
    MONEY_STYLES,
    money_to_units,
    parse_dates,
    parse_money,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


def money(value: str | None, style: str) -> float | None:
    result = parse_money(pa.array([value], type=pa.string()), style=style).to_pylist()
    assert len(result) == 1
    first: float | None = result[0]
    return first


def date(value: str | None, style: str) -> datetime | None:
    result = parse_dates(pa.array([value], type=pa.string()), style=style)
    assert result.type == pa.timestamp("s")
    first: datetime | None = result.to_pylist()[0]
    return first


# ---------------------------------------------------------------------------
# Money: tables per style
# ---------------------------------------------------------------------------

BLANKS = [("", None), ("   ", None), (f" {NBSP}\t", None), (None, None)]

PLAIN = [
    ("1234.50", 1234.5),
    ("1659.95", 1659.95),
    ("-5", -5.0),
    ("0.00", 0.0),
    ("+3.1", 3.1),
    ("1500", 1500.0),
    (".5", 0.5),
    ("  12.5 ", 12.5),
    (f"{NBSP}12.5{NBSP}", 12.5),
    (f"{NNBSP}-7.25\t", -7.25),
    ("'-5.00", -5.0),  # WooCommerce CSV-injection guard
    *BLANKS,
]

SYMBOL = [
    ("$1,433.66", 1433.66),
    ("$45.99", 45.99),
    ("£1,234.50", 1234.5),
    ("-$5.00", -5.0),
    ("$-5.00", -5.0),
    ("$ -5.00", -5.0),
    ("(5.00)", -5.0),
    ("($1,000.00)", -1000.0),
    ("1433.66", 1433.66),
    ("EUR 12.00", 12.0),
    ("12.00 EUR", 12.0),
    ("GBP12", 12.0),
    ("US$1,000", 1000.0),
    ("€5", 5.0),
    ("¥1500", 1500.0),
    ("1,234,567.89", 1234567.89),
    ("-£0.50", -0.5),
    (f"${NBSP}45.99", 45.99),
    ("  $45.99  ", 45.99),
    (f"{NBSP}$1,433.66{NBSP}", 1433.66),
    ("'-$5.00", -5.0),
    *BLANKS,
]

COMMA_DECIMAL = [
    ("116,99 €", 116.99),
    (f"116,99{NBSP}€", 116.99),
    ("1.234,56 €", 1234.56),
    ("12,00", 12.0),
    ("€ 5", 5.0),
    ("-3,5", -3.5),
    ("1 234,56", 1234.56),
    (f"1{NBSP}234,56 €", 1234.56),
    (f"1{NNBSP}234,56", 1234.56),
    ("1'234,50", 1234.5),
    ("-1.234.567,89 EUR", -1234567.89),
    ("(3,50 €)", -3.5),
    ("1.234", 1234.0),
    (" 0,99 ", 0.99),
    *BLANKS,
]

AUTO = [
    ("1234.50", 1234.5),
    ("$1,433.66", 1433.66),
    ("116,99 €", 116.99),
    ("12,00", 12.0),
    ("1,5", 1.5),
    ("1.234,56", 1234.56),
    ("1.234.567", 1234567.0),  # two dots: only comma-decimal can read it
    ("1 234", 1234.0),
    ("1,234", 1234.0),  # comma + exactly three digits: thousands
    ("1.234", 1.234),  # both styles read it: symbol wins
    ("0,125", 0.125),  # a leading 0 is never a thousands group
    ("12,5000", 12.5),  # only comma-decimal can read it
    ("-$5.00", -5.0),
    ("(5.00)", -5.0),
    ("€ 5", 5.0),
    ("-3,5", -3.5),
    *BLANKS,
]


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [(t, "plain", e) for t, e in PLAIN]
    + [(t, "symbol", e) for t, e in SYMBOL]
    + [(t, "comma_decimal", e) for t, e in COMMA_DECIMAL]
    + [(t, "auto", e) for t, e in AUTO],
)
def test_parse_money(text: str | None, style: str, expected: float | None) -> None:
    assert money(text, style) == expected


def test_auto_accepts_everything_plain_and_symbol_accept() -> None:
    for text, expected in PLAIN + SYMBOL:
        assert money(text, "auto") == expected, text


def test_parse_money_whole_column() -> None:
    column = pa.array(["$1,433.66", "", "116,99 €", None, "-5"])
    result = parse_money(column, style="auto")
    assert result.type == pa.float64()
    assert result.to_pylist() == [1433.66, None, 116.99, None, -5.0]


def test_parse_money_chunked_large_string_and_null_type() -> None:
    chunked = pa.chunked_array([pa.array(["1.50"]), pa.array(["2", ""])])
    assert parse_money(chunked).to_pylist() == [1.5, 2.0, None]
    large = pa.array(["$1,000.25"], type=pa.large_string())
    assert parse_money(large, style="symbol").to_pylist() == [1000.25]
    assert parse_money(pa.nulls(2)).to_pylist() == [None, None]
    assert parse_money(pa.array([], type=pa.string())).to_pylist() == []


@pytest.mark.parametrize(
    ("text", "style"),
    [
        (bad, "plain")
        for bad in ["£1,234.50", "1,234", "$5", "1 234", "12,00", "1e3", "inf", "nan", "--5", "5-"]
    ]
    + [
        (bad, "symbol")
        for bad in ["abc", "1.234,56 €", "1,23.45", "1.2.3", "$$5", "(5", "5)", "$", "-", "0,125"]
    ]
    + [
        (bad, "comma_decimal")
        for bad in ["$1,234.56", "1.23,45", "1,2,3", "abc", "12,00,", "€", "0.125", "1e3"]
    ]
    + [(bad, "auto") for bad in ["abc", "1,23.45", "1.234,56.78", "5 5 5", "1E+3", "N/A"]],
)
def test_parse_money_rejects(text: str, style: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_money(pa.array(["1", text]), style=style)
    assert info.value.row == 2


def test_money_error_message_plain_with_symbol() -> None:
    column = pa.array(["10.00", "£1,234.50", "", "$5", "2.00"])
    with pytest.raises(ValueParseError) as info:
        parse_money(column, style="plain", file="orders.csv", column="Total", row_offset=2)
    err = info.value
    assert isinstance(err, OrderTagsError)
    assert (err.file, err.row, err.column) == ("orders.csv", 3, "Total")
    assert str(err) == (
        'orders.csv, row 3, column "Total": "£1,234.50" is not valid money in the "plain" '
        "style (2 bad values in all). The value looks like money with a currency symbol or "
        "thousands separator, but plain numbers like 1234.50 are expected; run with "
        "--money-style auto."
    )
    assert err.hint is not None
    assert "plain numbers like 1234.50 are expected" in err.hint


@pytest.mark.parametrize(
    ("column", "style", "message"),
    [
        (
            ["1", "12,00"],
            "plain",
            'row 2, column "Total": "12,00" is not valid money in the "plain" style '
            "(1 bad value in all). The value looks like money with a decimal comma, but plain "
            "numbers like 1234.50 are expected; run with --money-style auto.",
        ),
        (
            ["9.23225E+11"],
            "plain",
            'row 1, column "Total": "9.23225E+11" is not valid money in the "plain" style '
            "(1 bad value in all). Numbers in exponent form (1e3), inf and nan are not money; "
            "a spreadsheet may have reformatted the value. Fix it in the export; plain numbers "
            "like 1234.50 or -5 are expected.",
        ),
        (
            ["abc", "x", "$1"],
            "symbol",
            'row 1, column "Total": "abc" is not valid money in the "symbol" style '
            "(2 bad values in all). Only amounts like $1,234.56, -$5.00, (5.00) or EUR 12.00 "
            "are expected; check that the column holds money or fix the value.",
        ),
        (
            ["116,99 €"],
            "symbol",
            'row 1, column "Total": "116,99 €" is not valid money in the "symbol" style '
            "(1 bad value in all). The value looks like money with a decimal comma "
            "(1.234,56 €), but amounts like $1,234.56, -$5.00, (5.00) or EUR 12.00 are "
            "expected; run with --money-style auto.",
        ),
        (
            ["$1,234.56"],
            "comma_decimal",
            'row 1, column "Total": "$1,234.56" is not valid money in the "comma_decimal" '
            "style (1 bad value in all). The value looks like money with a decimal point "
            "($1,234.56), but amounts like 1.234,56 €, 12,00 or € 5 are expected; run with "
            "--money-style auto.",
        ),
        (
            ["1", "2", f" 12{NBSP}abc "],
            "auto",
            'row 3, column "Total": " 12\\xa0abc " is not valid money in the "auto" style '
            "(1 bad value in all). Only amounts like 1234.50, $1,234.56, (5.00) or "
            "1.234,56 € are expected; check that the column holds money or fix the value.",
        ),
    ],
)
def test_money_error_messages(column: list[str], style: str, message: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_money(pa.array(column), style=style, column="Total")
    assert str(info.value) == message


def test_money_error_row_counts_across_chunks() -> None:
    chunked = pa.chunked_array([pa.array(["1", "2"]), pa.array(["3", "x"])])
    with pytest.raises(ValueParseError) as info:
        parse_money(chunked, row_offset=10)
    assert info.value.row == 13
    assert info.value.file is None


def test_money_long_value_is_shortened_in_message() -> None:
    with pytest.raises(ValueParseError) as info:
        parse_money(pa.array(["x" * 100]))
    assert f'"{"x" * 37}..."' in str(info.value)


def test_money_bad_style_and_type() -> None:
    with pytest.raises(ValueError, match="unknown money style 'euro'"):
        parse_money(pa.array(["1"]), style="euro")
    with pytest.raises(TypeError, match="expected a text column"):
        parse_money(pa.array([1, 2]))


# ---------------------------------------------------------------------------
# Money: round trips
# ---------------------------------------------------------------------------


def _grouped(amount: Decimal) -> str:
    return f"{abs(amount):,.2f}"


MONEY_FORMATS = {
    "plain": lambda d: f"{d:.2f}",
    "dollar": lambda d: ("-" if d < 0 else "") + "$" + _grouped(d),
    "dollar_sign_after_symbol": lambda d: "$" + ("-" if d < 0 else "") + _grouped(d),
    "euro_comma": lambda d: (
        ("-" if d < 0 else "")
        + _grouped(d).replace(",", "_").replace(".", ",").replace("_", ".")
        + " €"
    ),
}
MONEY_FORMAT_STYLES = {
    "plain": ("plain", "symbol", "auto"),
    "dollar": ("symbol", "auto"),
    "dollar_sign_after_symbol": ("symbol", "auto"),
    "euro_comma": ("comma_decimal", "auto"),
}
AMOUNTS = st.decimals(
    min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False
)


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(sorted(MONEY_FORMATS)), amounts=st.lists(AMOUNTS, min_size=1))
def test_money_round_trip(fmt: str, amounts: list[Decimal]) -> None:
    texts = [MONEY_FORMATS[fmt](a) for a in amounts]
    for style in MONEY_FORMAT_STYLES[fmt]:
        parsed = parse_money(pa.array(texts), style=style)
        assert [round(p, 2) for p in parsed.to_pylist()] == [float(a) for a in amounts], (
            style,
            texts,
        )
        assert money_to_units(parsed).tolist() == [int(a * 10_000) for a in amounts]


def test_money_formatters_look_like_exports() -> None:
    amount = Decimal("-1234.56")
    assert MONEY_FORMATS["plain"](amount) == "-1234.56"
    assert MONEY_FORMATS["dollar"](amount) == "-$1,234.56"
    assert MONEY_FORMATS["euro_comma"](amount) == "-1.234,56 €"


# ---------------------------------------------------------------------------
# money_to_units
# ---------------------------------------------------------------------------


def test_money_to_units_sums_exactly() -> None:
    tenths = pa.array([0.1] * 10)
    assert sum([0.1] * 10) != 1.0  # the float sum is off ...
    units = money_to_units(tenths)
    assert units.dtype == np.int64
    assert int(units.sum()) == 10_000  # ... the unit sum is not


def test_money_to_units_nulls_signs_and_chunks() -> None:
    parsed = parse_money(pa.array(["0.10", "", "-2.5", "1234.5678", "0.29", "-0.29"]))
    # 0.29 * 10000 is 2899.9999999999995 in floats: rounding, not truncation.
    assert money_to_units(parsed).tolist() == [1000, 0, -25000, 12345678, 2900, -2900]
    chunked = pa.chunked_array([pa.array([1.0, None]), pa.array([0.0001])])
    assert money_to_units(chunked).tolist() == [10000, 0, 1]
    assert money_to_units(pa.array([], type=pa.float64())).tolist() == []


def test_money_to_units_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        money_to_units(pa.array([float("nan")]))


# ---------------------------------------------------------------------------
# Dates: tables per style
# ---------------------------------------------------------------------------

DT = datetime

ISO = [
    ("2025-05-11 09:55:16 -0400", DT(2025, 5, 11, 9, 55, 16)),
    ("2017-09-23T14:18:23-07:00", DT(2017, 9, 23, 14, 18, 23)),
    ("2017-09-23T14:18:23+00:00", DT(2017, 9, 23, 14, 18, 23)),
    ("2024-11-26 04:46", DT(2024, 11, 26, 4, 46)),
    ("2024-11-26", DT(2024, 11, 26)),
    ("2024-11-26T10:11:12Z", DT(2024, 11, 26, 10, 11, 12)),
    ("2024-11-26T10:11:12.123+00:00", DT(2024, 11, 26, 10, 11, 12)),
    ("2024-11-26T10:11:12.999999", DT(2024, 11, 26, 10, 11, 12)),
    ("2020-03-19 06:40:32", DT(2020, 3, 19, 6, 40, 32)),
    ("2024-11-26 4:46:00", DT(2024, 11, 26, 4, 46)),  # WooCommerce "G" hour
    ("2024-11-26 04:46+0530", DT(2024, 11, 26, 4, 46)),
    ("2024-02-29", DT(2024, 2, 29)),
    ("  2024-11-26 04:46 ", DT(2024, 11, 26, 4, 46)),
    (f"{NBSP}2024-11-26{NBSP}", DT(2024, 11, 26)),
    *BLANKS,
]

US = [
    ("09/25/26", DT(2026, 9, 25)),
    ("09/25/70", DT(1970, 9, 25)),
    ("01/01/68", DT(2068, 1, 1)),
    ("01/01/69", DT(1969, 1, 1)),
    ("9/6/2016 6:29:00", DT(2016, 9, 6, 6, 29)),
    ("5/31/2016 0:37", DT(2016, 5, 31, 0, 37)),
    ("09/25/2026", DT(2026, 9, 25)),
    ("1/2/2020 1:05 PM", DT(2020, 1, 2, 13, 5)),
    ("1/2/2020 12:05 am", DT(2020, 1, 2, 0, 5)),
    ("02-03-2020", DT(2020, 2, 3)),
    (" 09/25/26 ", DT(2026, 9, 25)),
    *BLANKS,
]

EU = [
    ("16-05-2018 07:32:06", DT(2018, 5, 16, 7, 32, 6)),
    ("16/05/2018", DT(2018, 5, 16)),
    ("16.05.2018", DT(2018, 5, 16)),
    ("16/05/2018 07:32", DT(2018, 5, 16, 7, 32)),
    ("02/03/2020", DT(2020, 3, 2)),
    ("1.2.99", DT(1999, 2, 1)),
    (f"{NBSP}16.05.2018", DT(2018, 5, 16)),
    *BLANKS,
]

EBAY = [
    ("Jul-25-26", DT(2026, 7, 25)),
    ("Dec-01-99", DT(1999, 12, 1)),
    ("10-Dez-25", DT(2025, 12, 10)),
    ("03-Mär-24", DT(2024, 3, 3)),
    ("03-Mrz-24", DT(2024, 3, 3)),
    ("1-Mai-25", DT(2025, 5, 1)),
    ("15-Okt-25", DT(2025, 10, 15)),
    ("10-Jul-25", DT(2025, 7, 10)),
    ("Okt-15-25", DT(2025, 10, 15)),
    ("jul-25-2026", DT(2026, 7, 25)),
    ("Sept-5-25", DT(2025, 9, 5)),
    ("Jul-25-26 14:05:09", DT(2026, 7, 25, 14, 5, 9)),
    *BLANKS,
]

YYYYMMDD = [
    ("20250511", DT(2025, 5, 11)),
    ("19700101", DT(1970, 1, 1)),
    (" 20240229 ", DT(2024, 2, 29)),
    *BLANKS,
]

AUTO_DATES = [
    ("2025-05-11 09:55:16 -0400", DT(2025, 5, 11, 9, 55, 16)),
    ("20250511", DT(2025, 5, 11)),
    ("Jul-25-26", DT(2026, 7, 25)),
    ("10-Dez-25", DT(2025, 12, 10)),
    ("09/25/26", DT(2026, 9, 25)),
    ("16-05-2018 07:32:06", DT(2018, 5, 16, 7, 32, 6)),
    ("01/02/2020", DT(2020, 1, 2)),  # ambiguous slash: month first
    ("01-02-2020", DT(2020, 2, 1)),  # ambiguous dash: day first
    ("01.02.2020", DT(2020, 2, 1)),  # ambiguous dot: day first
    *BLANKS,
]


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [(t, "iso", e) for t, e in ISO]
    + [(t, "us", e) for t, e in US]
    + [(t, "eu", e) for t, e in EU]
    + [(t, "ebay", e) for t, e in EBAY]
    + [(t, "yyyymmdd", e) for t, e in YYYYMMDD]
    + [(t, "auto", e) for t, e in AUTO_DATES],
)
def test_parse_dates(text: str | None, style: str, expected: datetime | None) -> None:
    assert date(text, style) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        # A first part above 12 makes the whole column day-first.
        (["01/02/2020", "16/05/2018"], [DT(2020, 2, 1), DT(2018, 5, 16)]),
        # A second part above 12 makes it month-first, dashes included.
        (["01-02-2020", "05-16-2018"], [DT(2020, 1, 2), DT(2018, 5, 16)]),
        # No evidence: each value by its separator.
        (["01/02/2020", "01.02.2020"], [DT(2020, 1, 2), DT(2020, 2, 1)]),
        # Other layouts do not count as evidence.
        (["2020-01-31", "01/02/2020"], [DT(2020, 1, 31), DT(2020, 1, 2)]),
    ],
)
def test_auto_numeric_order_is_decided_per_column(
    column: list[str], expected: list[datetime]
) -> None:
    assert parse_dates(pa.array(column)).to_pylist() == expected


def test_parse_dates_mixed_layouts_in_one_column() -> None:
    column = pa.array(["2024-11-26 04:46", "", "Jul-25-26", None, "20250511", "2024-11-26"])
    result = parse_dates(column)
    assert result.type == pa.timestamp("s")
    assert result.type.tz is None
    assert result.to_pylist() == [
        DT(2024, 11, 26, 4, 46),
        None,
        DT(2026, 7, 25),
        None,
        DT(2025, 5, 11),
        DT(2024, 11, 26),
    ]


def test_parse_dates_offset_is_dropped_not_applied() -> None:
    column = pa.array(["2025-05-11 09:55:16 -0400", "2025-05-11T09:55:16+09:00"])
    assert parse_dates(column, style="iso").to_pylist() == [DT(2025, 5, 11, 9, 55, 16)] * 2


def test_parse_dates_chunked_and_null_type() -> None:
    chunked = pa.chunked_array([pa.array(["Jul-25-26"]), pa.array(["", "Aug-01-26"])])
    assert parse_dates(chunked).to_pylist() == [DT(2026, 7, 25), None, DT(2026, 8, 1)]
    assert parse_dates(pa.nulls(3)).to_pylist() == [None, None, None]
    assert parse_dates(pa.array([], type=pa.string())).to_pylist() == []
    assert parse_dates(pa.array(["", " "])).to_pylist() == [None, None]


@pytest.mark.parametrize(
    ("text", "style"),
    [
        (bad, "iso")
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-11-26 24:00",
            "2024-11-26 10:60",
            "2024-11-26 10:11:61",
            "2024/11/26",
            "26-11-2024",
            "2024-11-26 04:46 PDT",
            "20250511",
        ]
    ]
    + [(bad, "us") for bad in ["13/01/2020", "02/30/2020", "1/2/2020 13:00 PM", "1/2-2020"]]
    + [(bad, "eu") for bad in ["05/16/2018", "31.04.2018", "16/05/218", "2018-05-16"]]
    + [(bad, "ebay") for bad in ["Foo-25-26", "Feb-30-26", "25-Jul", "Jul/25/26", "07-25-26"]]
    + [(bad, "yyyymmdd") for bad in ["20251301", "2025051", "2025-05-11", "20250230"]]
    + [(bad, "auto") for bad in ["hello", "13/13/2020", "2024-02-30", "Jul-25", "1/2/3/4"]],
)
def test_parse_dates_rejects(text: str, style: str) -> None:
    column = pa.array([GOOD_DATE[style], text])
    with pytest.raises(ValueParseError) as info:
        parse_dates(column, style=style)
    assert info.value.row == 2


GOOD_DATE = {
    "iso": "2024-01-01",
    "us": "01/31/2024",
    "eu": "31/01/2024",
    "ebay": "Jan-31-24",
    "yyyymmdd": "20240131",
    "auto": "2024-01-31",
}


@pytest.mark.parametrize(
    ("column", "style", "message"),
    [
        (
            ["2024-11-26", "2024-02-30", "x"],
            "iso",
            'orders.csv, row 3, column "Created at": "2024-02-30" is not a valid date in the '
            '"iso" style (2 bad values in all). The layout is right but no such date or time '
            "exists (check the day, month and hour); fix the value in the export.",
        ),
        (
            ["2024-11-26", "26.11.2024"],
            "iso",
            'orders.csv, row 3, column "Created at": "26.11.2024" is not a valid date in the '
            '"iso" style (1 bad value in all). Expected ISO dates like 2024-11-26, '
            "2024-11-26 04:46 or 2025-05-11 09:55:16 -0400. If the column uses another "
            'layout, read it with date style "auto".',
        ),
        (
            ["hello", "", "soon"],
            "auto",
            'orders.csv, row 2, column "Created at": "hello" is not a valid date in the '
            '"auto" style (2 bad values in all). Expected dates like 2024-11-26 04:46, '
            "20250511, Jul-25-26, 10-Dez-25, 09/25/2026 or 16-05-2018.",
        ),
        (
            ["09/25/26", "16/05/2018"],
            "us",
            'orders.csv, row 3, column "Created at": "16/05/2018" is not a valid date in the '
            '"us" style (1 bad value in all). The layout is right but no such date or time '
            "exists (check the day, month and hour); fix the value in the export. If the "
            'column is day-first, read it with date style "eu".',
        ),
        (
            ["01/02/2020", "16/05/2018", "05/16/2018"],
            "auto",
            'orders.csv, row 4, column "Created at": "05/16/2018" can only be month-first, '
            'but row 3 ("16/05/2018") can only be day-first, so the column has no single date '
            'order. Read the column with date style "us" (month first) or "eu" (day first) '
            "and fix the rows that do not fit.",
        ),
    ],
)
def test_date_error_messages(column: list[str], style: str, message: str) -> None:
    with pytest.raises(ValueParseError) as info:
        parse_dates(
            pa.array(column), style=style, file="orders.csv", column="Created at", row_offset=2
        )
    assert str(info.value) == message
    assert info.value.column == "Created at"


def test_date_bad_style_and_type() -> None:
    with pytest.raises(ValueError, match="unknown date style 'uk'"):
        parse_dates(pa.array(["1"]), style="uk")
    with pytest.raises(TypeError, match="expected a text column"):
        parse_dates(pa.array([20250511]))


# ---------------------------------------------------------------------------
# Dates: round trips
# ---------------------------------------------------------------------------

ENGLISH = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
GERMAN = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]


def _iso_offset(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S") + " -0400"


# name -> (formatter, resolution, styles that must read it back)
DATE_FORMATS = {
    "iso_offset": (_iso_offset, "second", ("iso", "auto")),
    "iso_t": (lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.123+00:00"), "second", ("iso", "auto")),
    "iso_z": (lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"), "second", ("iso", "auto")),
    "iso_plain": (lambda d: d.strftime("%Y-%m-%d %H:%M:%S"), "second", ("iso", "auto")),
    "iso_minutes": (lambda d: d.strftime("%Y-%m-%d %H:%M"), "minute", ("iso", "auto")),
    "iso_day": (lambda d: d.strftime("%Y-%m-%d"), "day", ("iso", "auto")),
    "us_short": (lambda d: d.strftime("%m/%d/%y"), "day", ("us", "auto")),
    "us_long": (
        lambda d: f"{d.month}/{d.day}/{d.year} {d.hour}:{d:%M:%S}",
        "second",
        ("us", "auto"),
    ),
    "us_minutes": (lambda d: f"{d.month}/{d.day}/{d.year} {d.hour}:{d:%M}", "minute", ("us",)),
    "eu_dash": (lambda d: d.strftime("%d-%m-%Y %H:%M:%S"), "second", ("eu", "auto")),
    "eu_dot": (lambda d: d.strftime("%d.%m.%Y"), "day", ("eu", "auto")),
    "eu_slash": (lambda d: d.strftime("%d/%m/%Y %H:%M"), "minute", ("eu",)),
    "ebay": (lambda d: f"{ENGLISH[d.month - 1]}-{d:%d-%y}", "day", ("ebay", "auto")),
    "ebay_de": (lambda d: f"{d:%d}-{GERMAN[d.month - 1]}-{d:%y}", "day", ("ebay", "auto")),
    "yyyymmdd": (lambda d: d.strftime("%Y%m%d"), "day", ("yyyymmdd", "auto")),
}

DATETIMES = st.datetimes(min_value=DT(1970, 1, 1), max_value=DT(2068, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0)
)


def _truncate(d: datetime, resolution: str) -> datetime:
    if resolution == "minute":
        return d.replace(second=0)
    if resolution == "day":
        return d.replace(hour=0, minute=0, second=0)
    return d


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(sorted(DATE_FORMATS)), stamps=st.lists(DATETIMES, min_size=1))
def test_dates_round_trip(fmt: str, stamps: list[datetime]) -> None:
    formatter, resolution, styles = DATE_FORMATS[fmt]
    texts = [formatter(d) for d in stamps]
    expected = [_truncate(d, resolution) for d in stamps]
    for style in styles:
        assert parse_dates(pa.array(texts), style=style).to_pylist() == expected, (style, texts)


@settings(max_examples=100, deadline=None)
@given(stamps=st.lists(DATETIMES, min_size=1))
def test_auto_reads_day_first_slashes_only_with_evidence(stamps: list[datetime]) -> None:
    texts = [d.strftime("%d/%m/%Y") for d in stamps]
    parsed = parse_dates(pa.array(texts)).to_pylist()
    days = [_truncate(d, "day") for d in stamps]
    if any(d.day > 12 for d in stamps):
        assert parsed == days
    else:  # all ambiguous: slashes read month first
        assert parsed == [d.replace(month=d.day, day=d.month) for d in days]


def test_round_trip_formatters_look_like_exports() -> None:
    d = DT(2026, 12, 10, 6, 29, 5)
    assert DATE_FORMATS["ebay_de"][0](d) == "10-Dez-26"
    assert DATE_FORMATS["ebay"][0](d) == "Dec-10-26"
    assert DATE_FORMATS["us_long"][0](d) == "12/10/2026 6:29:05"
    assert DATE_FORMATS["iso_offset"][0](d) == "2026-12-10 06:29:05 -0400"


# ---------------------------------------------------------------------------
# Module surface
# ---------------------------------------------------------------------------


def test_styles_and_exports() -> None:
    assert MONEY_STYLES == ("plain", "symbol", "comma_decimal", "auto")
    assert DATE_STYLES == ("iso", "us", "eu", "ebay", "yyyymmdd", "auto")
    assert set(values.__all__) == {
        "DATE_STYLES",
        "MONEY_STYLES",
        "money_to_units",
        "parse_dates",
        "parse_money",
    }


def test_docstring_examples() -> None:
    result = doctest.testmod(values, extraglobs={"pa": pa}, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6
    assert result.failed == 0
