"""Telling how a delimited export is laid out, with the standard library only."""

from __future__ import annotations

import csv

from ordertags.errors import InputError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
BOM = b"\xef\xbb\xbf"


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


_MAGIC = (
    (
        b"PK\x03\x04",
        "a zip archive or an Excel workbook (.xlsx)",
        "In Excel: File > Save As > CSV UTF-8; or unzip it first.",
    ),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)", "In Excel: File > Save As > CSV UTF-8."),
    (b"%PDF", "a PDF document", "Download the orders as CSV instead."),
    (b"\x1f\x8b", "a gzip-compressed file", "Decompress it first (gunzip)."),
    (b"\xff\xfe", "UTF-16 text", "Save it as CSV UTF-8."),
    (b"\xfe\xff", "UTF-16 text", "Save it as CSV UTF-8."),
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
