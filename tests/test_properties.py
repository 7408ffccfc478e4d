"""Property tests (hypothesis): what goes in comes out, and tagging ignores how it is fed.

- every original column of a CSV or JSON export round-trips unchanged;
- applying is deterministic and idempotent (re-applying refreshes the three columns);
- the order of the rows does not change any order's tags (and the tags match a model);
- the pure-Python and the Arrow customer keys agree;
- the tag book survives ``tag_customer`` / ``untag_customer`` round trips.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypedDict

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ordertags.api import apply_files
from ordertags.base.emails import normalize_email
from ordertags.cli import app
from ordertags.customers.grouping import customer_keys
from ordertags.io.options import ReadOptions
from ordertags.tagbook import load_tagbook, tag_customer, untag_customer

from .conftest import TAGBOOK

AS_OF = dt.date(2026, 11, 26)
# The columns apply adds, as the manual names them (docs/first-run.md).
OUTPUT_COLUMNS = ("Customer Tags", "Customer Profile", "Tag Colour")
NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def files(max_examples: int) -> settings:
    """Settings for a property on files: tmp_path is shared by the examples of one test
    (each example overwrites its files), and no deadline (file I/O varies)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# --- strategies: arbitrary cell text -----------------------------------------------------

# No NUL, no lone CR (a CR only as part of CRLF, below), no surrogates.
_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r")
_SPECIAL = [
    "",
    " ",
    "007",
    "0.00",
    "00123",
    '"',
    '""',
    '"quoted, with comma"',
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "a\r\nb",
    "line\nbreak",
    "  lead",
    "trail  ",
    "Zoë",
    "日本語",
    "€1,234.50",
    "=1+2",
    "'#1001",
    "vip@example.com",
    " VIP@Example.com ",
]
_PIECE = st.one_of(st.text(_CHARS, max_size=6), st.sampled_from(_SPECIAL))
CELL = st.lists(_PIECE, max_size=3).map("".join)
# A name starting with U+FEFF would open the file with the bytes of a BOM: a file that
# starts so is UTF-8 with a BOM, whatever its writer meant.
NAME = CELL.filter(
    lambda s: (
        s != "" and s not in ("Email", "Total", *OUTPUT_COLUMNS) and not s.startswith("\ufeff")
    )
)
# An email column that sometimes holds the tag book's customer, so that tags are not
# always blank; anything else in it is just text.
EMAIL_CELL = st.one_of(
    CELL, st.sampled_from(["vip@example.com", " Vip+x@EXAMPLE.com", "jane@example.com", ""])
)


class Export(NamedTuple):
    header: list[str]
    rows: list[list[str]]
    delimiter: str
    eol: str
    bom: bool


@st.composite
def csv_exports(draw: st.DrawFn, names: st.SearchStrategy[str] = NAME) -> Export:
    """An export with Email and Total columns, as the csv module writes it."""
    picked = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    header = draw(st.permutations([*picked, "Email", "Total"]))
    n = draw(st.integers(0, 20))
    rows = [[draw(EMAIL_CELL) if h == "Email" else draw(CELL) for h in header] for _ in range(n)]
    return Export(
        header,
        rows,
        draw(st.sampled_from([",", ";"])),
        draw(st.sampled_from(["\n", "\r\n"])),
        draw(st.booleans()),
    )


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    eol: str,
    bom: bool = False,
) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator=eol)
        w.writerow(header)
        w.writerows(rows)


def render_csv(
    header: list[str], rows: list[list[str]], delimiter: str, eol: str, bom: bool = False
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=eol)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig" if bom else "utf-8")


def read_back(path: Path, delimiter: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


def apply(
    tmp_path: Path, src: Path, out: Path, rules: Path | None = None, delimiter: str | None = None
) -> bytes:
    apply_files(
        [src],
        tagbook=tmp_path / "tagbook.yaml",
        rules=rules,
        output=out,
        as_of=AS_OF,
        read=ReadOptions(delimiter=delimiter),
    )
    return out.read_bytes()


# --- original columns round-trip --------------------------------------------------------


@files(60)
@given(export=csv_exports())
def test_csv_columns_round_trip(tmp_path: Path, tagbook: Path, export: Export) -> None:
    header, rows, delimiter, eol, bom = export
    src, out = tmp_path / "orders.csv", tmp_path / "out.csv"
    write_csv(src, header, rows, delimiter, eol, bom)

    data = apply(tmp_path, src, out, delimiter=delimiter)

    got = read_back(out, delimiter)
    assert got[0] == [*header, *OUTPUT_COLUMNS]
    assert len(got) == len(rows) + 1
    assert [r[: len(header)] for r in got[1:]] == rows
    assert all(len(r) == len(header) + 3 for r in got[1:])
    # Byte for byte what the csv module writes for the same table: a diff of input and
    # output shows only the added columns (same delimiter, line ends, BOM and quoting).
    assert data == render_csv(got[0], got[1:], delimiter, eol, bom)


# Regression: the line end was taken from the first LF of the file, even inside a quoted
# header name, so a CRLF file with a line break in a header name came back with LF ends.
@pytest.mark.parametrize("eol, inner", [("\r\n", "\n"), ("\n", "\r\n")])
def test_line_break_in_header_name_keeps_line_ends(
    tmp_path: Path, tagbook: Path, eol: str, inner: str
) -> None:
    header, rows = [f"Notes{inner}(internal)", "Email", "Total"], [["a", "b@c.de", "1"]]
    src, out = tmp_path / "orders.csv", tmp_path / "out.csv"
    write_csv(src, header, rows, ",", eol)
    data = apply(tmp_path, src, out)
    assert read_back(out, ",")[1][:3] == rows[0]
    assert data == render_csv([*header, *OUTPUT_COLUMNS], [[*rows[0], "", "", ""]], ",", eol)


# Column names free of delimiters, quotes and line breaks, so that the header line alone
# tells the delimiter (the values are as arbitrary as above).
PLAIN_NAME = st.one_of(
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters='\x00\r\n,;\t|"'),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from(["007", "0.00", "  lead", "trail  ", "Zoë", "日本語", "Order Id", "e-mail"]),
).filter(lambda s: s not in ("Email", "Total", *OUTPUT_COLUMNS))


@files(40)
@given(export=csv_exports(names=PLAIN_NAME))
def test_csv_round_trip_with_sniffed_delimiter(
    tmp_path: Path, tagbook: Path, export: Export
) -> None:
    """The same through the CLI, with the delimiter sniffed rather than given."""
    header, rows, delimiter, eol, bom = export
    src, out = tmp_path / "orders.csv", tmp_path / "out.csv"
    write_csv(src, header, rows, delimiter, eol, bom)

    result = CliRunner().invoke(
        app,
        ["apply", str(src), "-t", str(tagbook), "-o", str(out), "--as-of", AS_OF.isoformat(), "-q"],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    got = read_back(out, delimiter)
    assert got[0] == [*header, *OUTPUT_COLUMNS]
    assert [r[: len(header)] for r in got[1:]] == rows


_JSON_NUMBERS = st.one_of(
    st.sampled_from(["12.50", "0.00", "0", "-0.5", "100", "1e3", "1.0E+2", "99.999", "-7"]),
    st.integers(-(10**12), 10**12).map(str),
    st.decimals(
        min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False
    ).map(str),
)
# str.splitlines() breaks lines at these too; JSON strings may hold them unescaped.
NOT_LINE_BREAKS = str.maketrans({"\x85": "_", "\u2028": "_", "\u2029": "_"})
JSON_VALUE = st.one_of(CELL.map(lambda s: ("str", s)), _JSON_NUMBERS.map(lambda s: ("num", s)))


def _raw(text: str) -> tuple[str, str]:
    return ("num", text)


def load_raw_json(text: str) -> object:
    """JSON with numbers kept as ("num", their exact text)."""
    return json.loads(text, parse_float=_raw, parse_int=_raw)


@st.composite
def json_exports(draw: st.DrawFn) -> tuple[str, str]:
    """(shape, text): an array of objects, an object with an "orders" list, or NDJSON
    (two objects or more: one line alone is an xfail below; no U+0085, U+2028, U+2029
    in NDJSON values, which the writer leaves raw: another xfail below)."""
    shape = draw(st.sampled_from(["array", "orders", "ndjson"]))
    # NDJSON keys and values: see the note above.
    plain: Callable[[str], str] = (
        (lambda s: s.translate(NOT_LINE_BREAKS)) if shape == "ndjson" else (lambda s: s)
    )
    keys = draw(st.lists(NAME, min_size=1, max_size=5, unique=True))
    keys = draw(st.permutations([*dict.fromkeys(plain(k) for k in keys), "Email", "Total"]))
    objects = []
    for _ in range(draw(st.integers(2 if shape == "ndjson" else 1, 15))):
        parts = []
        for k in keys:
            kind, value = ("str", draw(EMAIL_CELL)) if k == "Email" else draw(JSON_VALUE)
            value = plain(value) if kind == "str" else value
            parts.append(f"{json.dumps(k)}: {json.dumps(value) if kind == 'str' else value}")
        objects.append("{" + ", ".join(parts) + "}")
    if shape == "ndjson":
        return shape, "\n".join(objects) + "\n"
    array = "[" + ",\n ".join(objects) + "]"
    return shape, (array if shape == "array" else '{"orders": ' + array + "}") + "\n"


def json_orders(shape: str, text: str) -> list[dict[str, object]]:
    if shape == "ndjson":
        # Split at LF only: str.splitlines() also splits at U+0085, U+2028, ... which
        # JSON strings may hold as they are.
        return [load_raw_json(line) for line in text.split("\n") if line]  # type: ignore[misc]
    data = load_raw_json(text)
    if shape == "orders":
        assert isinstance(data, dict) and list(data) == ["orders"]
        data = data["orders"]
    assert isinstance(data, list)
    return data


@files(50)
@given(export=json_exports())
def test_json_keys_and_values_round_trip(
    tmp_path: Path, tagbook: Path, export: tuple[str, str]
) -> None:
    shape, text = export
    src, out, again = tmp_path / "orders.json", tmp_path / "out.json", tmp_path / "again.json"
    src.write_text(text, encoding="utf-8")
    original = json_orders(shape, text)

    data = apply(tmp_path, src, out)

    got = json_orders(shape, data.decode("utf-8"))  # written back in the same shape
    assert len(got) == len(original)
    for before, after in zip(original, got, strict=True):
        assert list(after) == [*before, *OUTPUT_COLUMNS]
        # Numbers keep their text (12.50 stays 12.50), strings their value.
        assert {k: after[k] for k in before} == before
        assert all(isinstance(after[c], str) for c in OUTPUT_COLUMNS)
    # Re-applying to the output refreshes the three keys in place: same bytes.
    assert apply(tmp_path, out, again) == data


@pytest.mark.parametrize(
    "line",
    [
        '{"Email": "vip@example.com", "Total": 12.50}',
        '{"Email": "vip@example.com", "Total": 12.50, "Items": [{"sku": "A1"}]}',
    ],
)
def test_one_line_ndjson_is_one_order(tmp_path: Path, tagbook: Path, line: str) -> None:
    src, out = tmp_path / "orders.ndjson", tmp_path / "out.ndjson"
    src.write_text(line + "\n", encoding="utf-8")
    text = apply(tmp_path, src, out).decode("utf-8")
    assert (
        text == line[:-1] + ', "Customer Tags": "VIP", "Customer Profile": '
        '"VIP — add a note — picked by hand", "Tag Colour": "gold"}\n'
    )


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_ndjson_value_with_unicode_line_separator(tmp_path: Path, tagbook: Path, char: str) -> None:
    src, out = tmp_path / "orders.ndjson", tmp_path / "out.ndjson"
    src.write_text(
        json.dumps({"Email": "vip@example.com", "Note": "a" + char + "b"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"Email": "x@example.com", "Note": "c"})
        + "\n",
        encoding="utf-8",
    )
    text = apply(tmp_path, src, out).decode("utf-8")
    assert json.loads(text.split("\n")[0])["Note"] == "a" + char + "b"
    assert apply(tmp_path, out, tmp_path / "again.ndjson") == text.encode("utf-8")


# Regression: a wrapped export was written back as {"orders": [...]} only, dropping every
# other key of the wrapping object (paging, counts, metadata).
def test_wrapped_json_keeps_its_other_keys(tmp_path: Path, tagbook: Path) -> None:
    src, out = tmp_path / "orders.json", tmp_path / "out.json"
    src.write_text(
        '{"page": 1, "orders": [{"Email": "a@b.co", "Total": 1.50}], "count": 1}\n',
        encoding="utf-8",
    )
    data = load_raw_json(apply(tmp_path, src, out).decode("utf-8"))
    assert isinstance(data, dict)
    assert list(data) == ["page", "orders", "count"]
    assert data["page"] == ("num", "1") and data["count"] == ("num", "1")


def test_json_number_text_is_kept_exactly(tmp_path: Path, tagbook: Path) -> None:
    src, out = tmp_path / "o.json", tmp_path / "out.json"
    src.write_text('[{"Email": "vip@example.com", "Total": 12.50, "Qty": 3, "Zip": "007"}]')
    text = apply(tmp_path, src, out).decode("utf-8")
    assert '"Total": 12.50,' in text
    assert '"Qty": 3,' in text
    assert '"Zip": "007"' in text
    assert '"Customer Tags": "VIP"' in text


# --- deterministic and idempotent ---------------------------------------------------------


@files(40)
@given(export=csv_exports())
def test_apply_is_deterministic_and_idempotent(
    tmp_path: Path, tagbook: Path, export: Export
) -> None:
    header, rows, delimiter, eol, bom = export
    src = tmp_path / "orders.csv"
    write_csv(src, header, rows, delimiter, eol, bom)

    first = apply(tmp_path, src, tmp_path / "out1.csv", delimiter=delimiter)
    second = apply(tmp_path, src, tmp_path / "out2.csv", delimiter=delimiter)
    again = apply(tmp_path, tmp_path / "out1.csv", tmp_path / "out3.csv", delimiter=delimiter)

    assert second == first
    assert again == first  # the three columns refreshed in place, not added twice
    assert read_back(tmp_path / "out3.csv", delimiter)[0].count("Customer Tags") == 1


def test_reapply_refreshes_stale_tag_columns(tmp_path: Path, tagbook: Path) -> None:
    src, out = tmp_path / "o.csv", tmp_path / "out.csv"
    src.write_text(
        "Email,Customer Tags,Total,Tag Colour,Customer Profile\n"
        "vip@example.com,OLD,1.00,black,old\nnobody@example.com,OLD,2.00,black,old\n"
    )
    apply(tmp_path, src, out)
    assert read_back(out, ",") == [
        ["Email", "Customer Tags", "Total", "Tag Colour", "Customer Profile"],
        ["vip@example.com", "VIP", "1.00", "gold", "VIP — add a note — picked by hand"],
        ["nobody@example.com", "", "2.00", "", ""],
    ]


# --- row order does not matter --------------------------------------------------------------

_CUSTOMERS = [
    "jane.doe@gmail.com",
    "bob@example.com",
    "vip@example.com",
    "eve@bad.example",
    "li@googlemail.com",
]


@st.composite
def email_spellings(draw: st.DrawFn) -> str:
    """One of a few customers, spelled in any of the ways that name the same customer."""
    base = draw(st.sampled_from(_CUSTOMERS))
    local, domain = base.split("@")
    if domain in ("gmail.com", "googlemail.com"):
        domain = draw(st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]))
        letters = local.replace(".", "")
        cut = draw(st.integers(0, len(letters)))
        local = letters[:cut] + draw(st.sampled_from(["", ".", ".."])) + letters[cut:]
    if draw(st.booleans()):
        local += "+" + draw(st.sampled_from(["shop", "x", "a.b", ""]))
    text = f"{local}@{domain}"
    text = (
        "".join(c.upper() if draw(st.booleans()) else c for c in text)
        if draw(st.booleans())
        else text
    )
    return draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " "]))


class OrderSet(TypedDict):
    """Orders and the figures the rule file below is filled in with."""

    orders: list[dict[str, str]]
    spend_over: int
    spend_days: int
    orders_at_least: int
    orders_days: int
    total_over: int
    listed: str
    seed: int


@st.composite
def order_sets(draw: st.DrawFn) -> OrderSet:
    n = draw(st.integers(1, 30))
    orders: list[dict[str, str]] = []
    for i in range(n):
        email = draw(st.one_of(email_spellings(), st.just("")) if i % 7 == 6 else email_spellings())
        cents = draw(st.integers(0, 99_999))
        when = dt.datetime(2025, 1, 1) + dt.timedelta(
            minutes=draw(st.integers(0, 730 * 24 * 60 - 1))
        )
        orders.append(
            {
                "Order Id": str(100000 + i),
                "Email": email,
                "Total": f"{cents // 100}.{cents % 100:02d}",
                "Received Date": when.strftime("%Y-%m-%d %H:%M"),
            }
        )
    return OrderSet(
        orders=orders,
        spend_over=draw(st.integers(0, 2000)),
        spend_days=draw(st.integers(1, 700)),
        orders_at_least=draw(st.integers(1, 6)),
        orders_days=draw(st.integers(1, 700)),
        total_over=draw(st.integers(0, 999)),
        listed=draw(email_spellings()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


RULES = """\
version: 1
rules:
  - name: Listed
    when: {{field: email, in: [{listed}]}}
    tag: FRAUD
  - name: Spenders
    when: {{customer: spend, over: {spend_over}, within_days: {spend_days}}}
    tag: BIG
  - name: Regulars
    when: {{customer: orders, at_least: {orders_at_least}, within_days: {orders_days}}}
    tag: REGULAR
  - name: High
    when: {{field: total, over: {total_over}}}
    tag: HIGH
"""


def write_orders(path: Path, orders: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(orders[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(orders)


def tags_by_order(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["Order Id"]: r["Customer Tags"] for r in csv.DictReader(fh)}


def model_tags(case: OrderSet) -> dict[str, str]:
    """The tags each order should get, worked out row by row in plain Python."""
    orders = case["orders"]
    end = dt.datetime.combine(AS_OF, dt.time())

    def in_window(o: dict[str, str], days: int) -> bool:
        # A customer window counts the run's own orders from its start on, whatever
        # their date after it (the as-of day's too).
        stamp = dt.datetime.strptime(o["Received Date"], "%Y-%m-%d %H:%M")
        return end - dt.timedelta(days=days) <= stamp

    def cents(o: dict[str, str]) -> int:
        return int(o["Total"].replace(".", ""))

    spend: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for o in orders:
        key = normalize_email(o["Email"])
        if key is None:
            continue
        if in_window(o, case["spend_days"]):
            spend[key] += cents(o)
        if in_window(o, case["orders_days"]):
            count[key] += 1
    listed = normalize_email(case["listed"])
    out = {}
    for o in orders:
        key = normalize_email(o["Email"])
        tags = []
        if key is not None and key == listed:
            tags.append("FRAUD")
        if key == "vip@example.com":
            tags.append("VIP")
        if key is not None and spend[key] > 100 * case["spend_over"]:
            tags.append("BIG")
        if key is not None and count[key] >= case["orders_at_least"]:
            tags.append("REGULAR")
        if cents(o) > 100 * case["total_over"]:
            tags.append("HIGH")
        out[o["Order Id"]] = "; ".join(tags)
    return out


@files(40)
@given(case=order_sets())
def test_row_order_does_not_change_tags(tmp_path: Path, tagbook: Path, case: OrderSet) -> None:
    orders = case["orders"]
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        RULES.format(**{k: json.dumps(v) for k, v in case.items() if k != "orders"}),
        encoding="utf-8",
    )
    shuffled = list(orders)
    random.Random(case["seed"]).shuffle(shuffled)
    write_orders(tmp_path / "a.csv", orders)
    write_orders(tmp_path / "b.csv", shuffled)

    apply(tmp_path, tmp_path / "a.csv", tmp_path / "a.out.csv", rules=rules)
    apply(tmp_path, tmp_path / "b.csv", tmp_path / "b.out.csv", rules=rules)

    tags_a = tags_by_order(tmp_path / "a.out.csv")
    tags_b = tags_by_order(tmp_path / "b.out.csv")
    assert len(tags_a) == len(orders)
    assert tags_b == tags_a
    assert tags_a == model_tags(case)


# --- customer keys: pure Python and Arrow agree -------------------------------------------

# ASCII letters and digits plus common Latin-1 letters (the addresses shops see), and
# below any assigned code point.
_LATIN = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "àáâäçèéêëìíîïñòóôöøùúûüýÿßÀÁÂÄÇÈÉÊËÌÍÎÏÑÒÓÔÖØÙÚÛÜÝÆæÐðÞþ"
)
_LOCAL = st.text(st.sampled_from(list(_LATIN) + list(".+-_")), max_size=12)
_DOMAIN = st.one_of(
    st.sampled_from(
        [
            "gmail.com",
            "googlemail.com",
            "GMail.com",
            "GoogleMail.COM",
            "example.com",
            "Example.ORG",
            "shop.co.uk",
            "gmail.com.evil.test",
            "",
        ]
    ),
    st.text(st.sampled_from(list(_LATIN) + list(".-")), min_size=1, max_size=10),
)
_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n", " \t "])
EMAILS = st.one_of(
    st.builds(
        lambda a, local, ats, d, b: f"{a}{local}{ats}{d}{b}",
        _SPACE,
        _LOCAL,
        st.sampled_from(["@", "@", "@@", "@x@"]),
        _DOMAIN,
        _SPACE,
    ),
    st.builds(lambda a, t, b: f"{a}{t}{b}", _SPACE, _LOCAL, _SPACE),  # no "@"
    _SPACE,  # blank
)


@settings(max_examples=300, deadline=None)
@given(emails=st.lists(EMAILS, min_size=1, max_size=20))
def test_normalize_email_and_customer_keys_agree(emails: list[str]) -> None:
    arrow = customer_keys(pa.array(emails, pa.string())).to_pylist()
    assert arrow == [normalize_email(e) for e in emails]


def test_customer_keys_examples() -> None:
    emails = [
        " Jane.Doe+shop@GoogleMail.com ",
        "j.a.n.e.doe@gmail.com",
        "x@y.org",
        "",
        "  ",
        "no-at-sign",
        "A+B@Example.COM",
    ]
    expected = [
        "janedoe@gmail.com",
        "janedoe@gmail.com",
        "x@y.org",
        None,
        None,
        "no-at-sign",
        "a@example.com",
    ]
    assert [normalize_email(e) for e in emails] == expected
    assert customer_keys(pa.array(emails)).to_pylist() == expected


# Any code point this Python's Unicode database assigns. Code points it leaves unassigned
# (Cn) are excluded: Arrow's utf8proc knows a newer Unicode and lower-cases 75 letters
# added since (U+1C89, U+A7CB, U+10D50, ...) that str.lower() leaves alone.
_ANY = st.characters(exclude_categories=("Cs", "Cn"), exclude_characters="\x00")


@settings(max_examples=200, deadline=None)
@given(
    emails=st.lists(
        st.one_of(
            st.builds(
                lambda a, b: f"{a}@{b}", st.text(_ANY, max_size=8), st.text(_ANY, max_size=8)
            ),
            st.text(_ANY, max_size=10),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_customer_keys_agree_on_any_assigned_character(emails: list[str]) -> None:
    arrow = customer_keys(pa.array(emails, pa.string())).to_pylist()
    assert arrow == [normalize_email(e) for e in emails]


# Regression: str.lower() maps İ to i + combining dot and a word-final Σ to ς, while
# Arrow's utf8_lower gives i and σ, so the two keys of one address differed.
@pytest.mark.parametrize(
    "email, key",
    [("İNCE@example.com", "ince@example.com"), ("ΟΔΥΣ@example.com", "οδυσ@example.com")],
)
def test_customer_keys_agree_on_special_case_mappings(email: str, key: str) -> None:
    assert normalize_email(email) == key
    assert customer_keys(pa.array([email])).to_pylist() == [key]


# --- tag book round trip --------------------------------------------------------------------

_PRINTABLE = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
NOTE_PIECES = st.one_of(
    st.text(_PRINTABLE, min_size=1, max_size=10),
    st.sampled_from(
        [
            ":",
            ": ",
            " #",
            "# ",
            "'",
            '"',
            "- ",
            "? ",
            "&a",
            "*a",
            "!x",
            "%",
            "@",
            "`",
            "{",
            "}",
            "[",
            "]",
            "|",
            ">",
            "—",
            "é",
            "null",
            "~",
            "2026-01-01",
            "0x1F",
            "  ",
            "yes",
            "No",
            "on",
            "1:20",
            "=",
            "<<",
        ]
    ),
)
# Including what YAML 1.1 reads as something else than text (yes, on, 1:20, 1_000).
YAML11_WORDS = ["yes", "No", "on", "OFF", "y", "true", "null", "1_000", "1.5", "0x1F", "1e3", "017"]
NOTES = st.lists(NOTE_PIECES, min_size=1, max_size=4).map("".join).filter(lambda s: s.strip() != "")
TAG_NAMES = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,11}\Z"), st.sampled_from(YAML11_WORDS)
)
LOCALS = st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,10}\Z")


def tagbook_with(names: list[str]) -> str:
    defs = "".join(
        f"  - name: {json.dumps(n)}  # defined by hand\n    priority: {i}\n"
        for i, n in enumerate(names)
    )
    return (
        "# a tag book: comments must survive\nversion: 1\ntags:\n"
        + defs
        + "customers:\n  - email: old@example.com  # kept as is\n    tags: "
        + f'[{json.dumps(names[0])}]\n    note: "first"\n'
    )


@files(40)
@given(
    names=st.lists(TAG_NAMES, min_size=1, max_size=4, unique_by=str.lower),
    data=st.data(),
    note=NOTES,
    local=LOCALS,
)
def test_tag_then_load_then_untag_round_trips(
    tmp_path: Path, names: list[str], data: st.DataObject, note: str, local: str
) -> None:
    path = tmp_path / "book.yaml"
    original = tagbook_with(names).encode("utf-8")
    path.write_bytes(original)
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    email = f"{local}@shop.example"

    change = tag_customer(path, email, chosen, note=note, by="tester", now=NOW)

    assert change.added == tuple(chosen)
    book = load_tagbook(path)
    entry = book.entries[-1]
    assert (entry.email, entry.tags, entry.note, entry.by) == (email, tuple(chosen), note, "tester")
    assert book.entries[0].email == "old@example.com"
    assert path.read_bytes().startswith(original)  # only lines added, at the end

    removed = untag_customer(path, email, chosen)

    assert set(removed.removed) == set(chosen)
    assert path.read_bytes() == original


# Regression: ruamel.yaml (YAML 1.2) wrote yes/No/on/OFF/1:20 unquoted, the YAML 1.1
# reader read them back as booleans or numbers, and tag_customer refused to write.
@pytest.mark.parametrize(
    "where, text",
    [
        *[("note", t) for t in ["yes", "No", "on", "OFF", "1:20", "1_000"]],
        *[("tag", t) for t in ["yes", "No", "on", "OFF", "1_000"]],  # "1:20" is no tag name
    ],
)
def test_yaml11_lookalike_note_or_tag_round_trips(tmp_path: Path, where: str, text: str) -> None:
    path = tmp_path / "book.yaml"
    names = [text if where == "tag" else "VIP"]
    path.write_text(tagbook_with(names), encoding="utf-8")
    tag_customer(path, "jane@example.com", names, note=text if where == "note" else "n", now=NOW)
    entry = load_tagbook(path).entries[-1]
    assert entry.tags == tuple(names)
    assert entry.note == (text if where == "note" else "n")


def test_fixture_tagbook_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(TAGBOOK, encoding="utf-8")
    note = 'Said: "it\'s #1" — dépôt: 50% off'
    tag_customer(
        path,
        "Jane.Doe+x@GMail.com",
        ["FRAUD", "BIG"],
        note=note,
        by="sam",
        expires="2027-01-31",
        now=NOW,
    )
    entry = load_tagbook(path).entries[-1]
    assert (entry.email, entry.key, entry.tags, entry.note) == (
        "Jane.Doe+x@GMail.com",
        "janedoe@gmail.com",
        ("FRAUD", "BIG"),
        note,
    )
    assert entry.expires == dt.date(2027, 1, 31)
    assert entry.at == NOW.isoformat()
    untag_customer(path, "janedoe@googlemail.com", ["FRAUD", "BIG"])
    assert path.read_text(encoding="utf-8") == TAGBOOK


def test_customer_keys_of_many_addresses_a_slice_at_a_time() -> None:
    """Over the slice size, the keys are worked out a slice at a time: the same keys,
    in the same order, across the slices' edges."""
    from ordertags.customers import grouping

    n = grouping._SLICE + 1000
    emails = [f" User.{i}+tag@GoogleMail.com" if i % 3 else f"u{i}@Example.org" for i in range(n)]
    emails[grouping._SLICE - 1] = ""
    got = customer_keys(pa.array(emails)).to_pylist()
    assert len(got) == n
    assert got[grouping._SLICE - 1] is None
    assert got[grouping._SLICE] == normalize_email(emails[grouping._SLICE])
    assert got[1] == "user1@gmail.com" and got[n - 1] == normalize_email(emails[n - 1])
    assert got == [normalize_email(e) for e in emails]
