"""Telling how a delimited export is laid out, with the standard library only."""

from __future__ import annotations

import csv

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
