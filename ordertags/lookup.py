"""Finding one order in an export, for ``ordertags tag --order``.

Standard library only (no pandas, no pyarrow), streaming row by row and stopping at the
first match, so tagging by order number stays quick on a large export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import InputError
from .fields import map_fields
from .sniff import BOM, SNIFF_BYTES, sniff_delimiter


def _norm_id(value: str) -> str:
    # Shopify writes "#1001", Woo "1001", Shopify prefixes ids with "'" for Excel.
    return value.strip().lstrip("'#").strip()


def _json_rows(path: Path) -> Iterator[tuple[list[str], dict[str, Any], int]]:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict):
        data = data.get("orders", [])
    if not isinstance(data, list):
        raise InputError("JSON, but not a list of orders.", file=str(path))
    for i, rec in enumerate(data, start=1):
        if isinstance(rec, dict):
            yield list(rec), rec, i


def find_order_email(path: str | Path, order_id: str, *, encoding: str | None = None,
                     delimiter: str | None = None,
                     columns: Mapping[str, str | None] | None = None) -> str:
    """The customer email on order ``order_id`` of an export.

    >>> find_order_email("examples/orders.csv", "100004")  # doctest: +SKIP
    'lena.nguyen@example.org'
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError("no such file.", file=str(p), hint="Check the path.") from None
    want = _norm_id(order_id)
    if head.lstrip(BOM).lstrip()[:1] in (b"[", b"{") and delimiter is None:
        rows: Iterator[Any] = ((cols, [str(rec.get(c, "") or "") for c in cols], n)
                               for cols, rec, n in _json_rows(p))
        return _search(rows, want, order_id, p, columns, json_rows=True)
    enc = encoding or "utf-8-sig"
    sample = head.decode(enc, errors="replace")
    delim = sniff_delimiter(sample, delimiter)
    try:
        with p.open(encoding=enc, newline="") as fh:
            reader = csv.reader(fh, delimiter=delim)
            header = next(reader, None)
            if header is None:
                raise InputError("the file is empty.", file=str(p))
            gen = ((header, row, reader.line_num) for row in reader)
            return _search(gen, want, order_id, p, columns, json_rows=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode byte at offset {exc.start} as {enc}.", file=str(p),
                         hint="Try --encoding cp1252 or --encoding latin-1.") from None


def _search(rows: Iterator[tuple[list[str], list[str], int]], want: str, order_id: str,
            path: Path, columns: Mapping[str, str | None] | None, *, json_rows: bool) -> str:
    fmap = None
    id_col = email_col = -1
    for header, row, where in rows:
        if fmap is None or json_rows:
            fmap = map_fields(header, overrides=columns, file=str(path))
            id_col = fmap.require("order_id", file=str(path))
            email_col = fmap.require("email", file=str(path))
        if id_col < len(row) and _norm_id(row[id_col]) == want:
            email = row[email_col].strip() if email_col < len(row) else ""
            if email:
                return email
            # Shopify's later rows of an order may leave the email blank: keep looking.
            blank_at = where
            for _header, later, _where in rows:
                if id_col < len(later) and _norm_id(later[id_col]) == want and \
                        email_col < len(later) and later[email_col].strip():
                    return later[email_col].strip()
            raise InputError(f'order "{order_id}" has no customer email.', file=str(path),
                             line=None if json_rows else blank_at,
                             hint="Tag the customer by email instead.")
    raise InputError(f'no order "{order_id}" in this export.', file=str(path),
                     hint="Check the order number, or the file.")
