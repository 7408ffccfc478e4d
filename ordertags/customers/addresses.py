"""Postal addresses compared as column operations: one key per row for the door an
order is shipped to (see :mod:`ordertags.base.addresses` for what counts as the same
door, and its tables).

:func:`postal_keys` is the one definition: the engine applies it to the orders of a
run and to the tag book's ``address:`` entries alike, so both are read the same way.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ordertags.base.addresses import COUNTRIES, HOUSE_PATTERN, STREET_WORDS, UNIT_PATTERN
from ordertags.base.keys import DEFAULT_REGION

PREFIX = "address:"
_NULL = pa.scalar(None, pa.string())


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    filled: pa.Array = pc.fill_null(array.cast(pa.string()), "")
    return filled


def fold_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Lower case, accents dropped, ``ß`` as ``ss``, punctuation as one space, trimmed:
    ``"Hauptstraße 5a,"`` -> ``"hauptstrasse 5a"`` (``#`` is kept: ``#4B``)."""
    text = pc.utf8_normalize(_text(values), "NFKD")
    text = pc.replace_substring_regex(text, r"\p{Mn}+", "")
    text = pc.utf8_lower(pc.replace_substring(text, "ß", "ss"))
    text = pc.replace_substring_regex(text, r"[^\p{L}\p{Nd}#]+", " ")
    folded: pa.Array = pc.utf8_trim(text, " ")
    return folded


def country_codes(values: pa.Array | pa.ChunkedArray, default: str) -> pa.Array:
    """ISO alpha-2 of each country as written (``United Kingdom`` -> ``GB``); other text
    upper-cased, letters only; ``default`` where blank."""
    letters = pc.replace_substring_regex(fold_text(values), r"[^\p{L}]", "")
    names = pa.array(list(COUNTRIES), pa.string())
    known = pc.take(pa.array(list(COUNTRIES.values()), pa.string()), pc.index_in(letters, names))
    code = pc.coalesce(known, pc.utf8_upper(letters))
    out: pa.Array = pc.if_else(pc.equal(letters, ""), pa.scalar(default or ""), code)
    return out


def postcode_keys(values: pa.Array | pa.ChunkedArray, countries: pa.Array) -> pa.Array:
    """Postcodes as compared: letters and digits, upper case; a US ZIP+4 as its ZIP."""
    code = pc.replace_substring_regex(pc.utf8_upper(_text(values)), r"[^\p{L}\p{Nd}]", "")
    zip4 = pc.and_(pc.equal(countries, "US"), pc.match_substring_regex(code, r"^[0-9]{5}"))
    out: pa.Array = pc.if_else(zip4, pc.utf8_slice_codeunits(code, 0, 5), code)
    return out


def _first(text: pa.Array, pattern: str) -> tuple[pa.Array, pa.StructArray]:
    """``text`` without the first match of ``pattern`` (one space in its place), and
    the match's named groups (null where none)."""
    groups = pc.extract_regex(text, pattern)
    rest = pc.replace_substring_regex(text, pattern, " ", max_replacements=1)
    return rest, groups


def postal_keys(
    countries: pa.Array | pa.ChunkedArray,
    postcodes: pa.Array | pa.ChunkedArray,
    lines: pa.Array | pa.ChunkedArray,
    default_country: str = DEFAULT_REGION,
) -> pa.Array:
    """Per row, the key of the door: ``address:CC POSTCODE HOUSE/FLAT street`` (``-``
    for no house number or no flat; the street's words in one spelling, run together);
    null without a postcode or a line.

    >>> postal_keys(pa.array(["United Kingdom", "GB"]), pa.array(["eh2 2pr", "EH2 2PR"]),
    ...             pa.array(["Flat 2, 10 Rose St", "10 Rose Street, Flat 2"])).to_pylist()
    ['address:GB EH22PR 10/2 rosestreet', 'address:GB EH22PR 10/2 rosestreet']
    """
    cc = country_codes(countries, default_country)
    code = postcode_keys(postcodes, cc)
    line = pc.binary_join_element_wise(" ", fold_text(lines), " ", "")
    line, unit_of = _first(line, UNIT_PATTERN)
    unit = pc.coalesce(pc.struct_field(unit_of, "u"), "-")
    for country, words in STREET_WORDS.items():
        here = pc.equal(cc, country)
        if not pc.any(here).as_py():
            continue
        spelled = line
        for _ in range(2):  # twice: a match takes the space the next one starts with
            for short, full in words.items():
                spelled = pc.replace_substring(spelled, f" {short} ", f" {full} ")
        if country == "DE":
            # Hauptstr -> Hauptstrasse, run together or not; Mueller is Müller (ü, ö,
            # ä written out): both read as Muller.
            spelled = pc.replace_substring_regex(spelled, r"str ", "strasse ")
            spelled = pc.replace_substring_regex(spelled, r"([aou])e", r"\1")
        line = pc.if_else(here, spelled, line)
    # The house number after the street words (a French "3 r de..." is "3 rue de...",
    # not house 3r).
    line, house_of = _first(line, HOUSE_PATTERN)
    house = pc.coalesce(
        pc.binary_join_element_wise(
            pc.struct_field(house_of, "h"), pc.fill_null(pc.struct_field(house_of, "s"), ""), ""
        ),
        "-",
    )
    street = pc.replace_substring(line, " ", "")
    key = pc.binary_join_element_wise(PREFIX, cc, " ", code, " ", house, "/", unit, " ", street, "")
    blank = pc.or_(
        pc.equal(code, ""), pc.equal(pc.binary_join_element_wise(house, street, ""), "-")
    )
    out: pa.Array = pc.if_else(blank, _NULL, key)
    return out
