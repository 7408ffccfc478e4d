"""Telling how a delimited export is laid out, with the standard library only."""

from __future__ import annotations

import codecs
import csv
import unicodedata

from ordertags.errors import InputError, param

#: The hint of an export that is not in the encoding it was read in.
OTHER_ENCODING = (
    f"The file is in another encoding: try {param('read.encoding')} cp1252 (Excel on "
    f"Windows), {param('read.encoding')} mac_roman (Excel for Mac), "
    f"{param('read.encoding')} latin-1 or {param('read.encoding')} cp932 (Japanese)."
)

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"


def sniff_delimiter(sample: str, delimiter: str | None = None) -> str:
    """The delimiter of a CSV sample: ``delimiter`` if given (``tab`` or ``\\t`` for a
    tab), else what :class:`csv.Sniffer` finds among ``, ; TAB |``, else the one the
    header line holds most of, else a comma.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n")
    ';'
    """
    if delimiter is not None:
        return "\t" if delimiter in ("\\t", "tab", "TAB") else delimiter
    header = sample.split("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in header:
        return sniffed
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


#: The byte order marks of UTF-16 ("Unicode Text" from Excel: UTF-16 little-endian
#: with a BOM, tab-separated), and the codec each says the rest is in.
UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_UTF16_NAMES = ("utf-16", "utf-16-le", "utf-16-be")


def utf16_codec(sample: bytes, encoding: str | None = None) -> tuple[str, int] | None:
    """(codec, length of its byte order mark) where ``sample``, the first bytes of a
    file, is UTF-16 text; None where it is not (or ``encoding`` names another).

    A BOM says so. Without one, the bytes make it certain when every other byte is NUL
    in at least half of the first code units (the ASCII of a header: no 8-bit text has
    a NUL byte) and they read as UTF-16 text with no NUL or other control character but
    tab and line ends. ``encoding`` (``--encoding utf-16``,
    ``utf-16-le``, ``utf-16-be``) forces it, its byte order taken from a BOM, else from
    the bytes, else little-endian (what Windows and Excel write).

    >>> utf16_codec("Name\\tEmail\\r\\n".encode("utf-16"))
    ('utf-16-le', 2)
    >>> utf16_codec("Name\\tEmail\\r\\n".encode("utf-16-be"))
    ('utf-16-be', 0)
    >>> utf16_codec(b"Name,Email\\n") is None
    True
    """
    given = codecs.lookup(encoding).name if encoding else None
    if given is not None and given not in _UTF16_NAMES:
        return None
    for bom, codec in UTF16_BOMS:
        if sample.startswith(bom) and given in (None, "utf-16", codec):
            return codec, len(bom)
    sniffed = _utf16_without_bom(sample)
    if given is None:
        return None if sniffed is None else (sniffed, 0)
    if given == "utf-16":
        return sniffed or "utf-16-le", 0
    return given, 0


def _utf16_without_bom(sample: bytes) -> str | None:
    head = sample[:4096]
    n = len(head) - len(head) % 2
    if n < 8:
        return None
    units = n // 2
    for codec, high in (("utf-16-le", head[1:n:2]), ("utf-16-be", head[0:n:2])):
        if high.count(0) * 2 < units:
            continue
        try:
            text = head[:n].decode(codec)
        except UnicodeDecodeError as exc:
            if exc.start < n - 4:  # only a character cut at the end of the sample may fail
                continue
            text = head[: exc.start].decode(codec)
        if text and all(c in "\t\r\n" or unicodedata.category(c) != "Cc" for c in text):
            return codec
    return None


def utf16_to_utf8(data: bytes, codec: str, skip: int, source: str) -> bytes:
    """A UTF-16 file (``codec``, with ``skip`` bytes of BOM) as UTF-8 bytes, read as any
    UTF-8 export is; a byte that is not UTF-16 is named with its offset."""
    try:
        return data[skip:].decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot decode byte 0x{exc.object[exc.start]:02x} at byte offset "
            f"{exc.start + skip} as {codec}.",
            file=source,
            hint="The file is not whole UTF-16 text: save it again from the spreadsheet "
            f"(as Unicode Text or CSV UTF-8), or give {param('read.encoding')}.",
        ) from None


_MAGIC = (
    (
        b"PK\x03\x04",
        "a zip archive or an Excel workbook (.xlsx)",
        "In Excel: File > Save As > CSV UTF-8; or unzip it first.",
    ),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)", "In Excel: File > Save As > CSV UTF-8."),
    (b"%PDF", "a PDF document", "Download the orders as CSV instead."),
    (b"\x1f\x8b", "a gzip-compressed file", "Decompress it first (gunzip)."),
)


def check_not_binary(sample: bytes, source: str) -> None:
    """Refuse what is not text: a workbook, a PDF, an archive (a CSV has no NUL byte)."""
    for magic, what, hint in _MAGIC:
        if sample.startswith(magic):
            raise InputError(
                f"this is not a CSV or JSON file: it looks like {what}.", file=source, hint=hint
            )
    if b"\x00" in sample:
        raise InputError(
            "this is not a CSV or JSON file: it holds binary data.",
            file=source,
            hint="Export the orders as CSV or JSON.",
        )
    first = sample.lstrip().split(b"\n", 1)[0]
    if first[:1] == b"<" and not any(d in first for d in (b",", b";", b"\t", b"|")):
        # A web page or XML (``<!DOCTYPE html>``, ``<?xml ...?>``); a CSV header whose
        # first column is named ``<`` has its delimiter on that line.
        raise InputError(
            "this is not a CSV or JSON file: it looks like a web page or XML.",
            file=source,
            hint="Export the orders as CSV or JSON.",
        )
