"""Finding one order in an export and its customer, for ``ordertags tag --order``.

Standard library only (no pandas, no pyarrow), streaming row by row and stopping at the
first match, so tagging by order number stays quick on a large export. The platform
profile is picked from the header as ``apply`` picks it, so the order number and the
email are found where that platform writes them (``Name`` and ``Email`` in Shopify,
``order-id`` and ``buyer-email`` in Amazon, lines before an eBay header skipped).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordertags.base.files import BOM
from ordertags.base.keys import buyer_key, normalize_phone
from ordertags.errors import InputError, param
from ordertags.io.fields import FieldMap
from ordertags.io.platforms import (
    Profile,
    clean_id,
    find_header,
    get_profile,
    map_profile,
    resolve_profile,
)
from ordertags.io.sniff import (
    OTHER_ENCODING,
    SNIFF_BYTES,
    check_not_binary,
    sniff_delimiter,
    utf16_codec,
    utf16_to_utf8,
)

#: The longest value read (as ``apply`` reads: see ``ordertags.io.readers``); Python's
#: csv module stops at 128 KB by default.
MAX_FIELD_BYTES = 128 << 20


def norm_order_id(value: str) -> str:
    # Shopify writes "#1001", Woo "1001", Shopify prefixes ids with "'" for Excel.
    return clean_id(value)


def _json_rows(path: Path, encoding: str, raw: bytes | None = None) -> Iterator[dict[str, Any]]:
    """The records of a JSON export (``raw``: its bytes, already read)."""
    try:
        text = (path.read_bytes() if raw is None else raw).decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot decode byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start} as "
            f"{encoding}.",
            file=str(path),
            hint=f"Save it as UTF-8, or give {param('read.encoding')}.",
        ) from None
    try:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = [json.loads(ln) for ln in text.split("\n") if ln.strip()]
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (column {exc.colno}): {exc.msg}.",
            file=str(path),
            hint="Fix the JSON, or re-export the file.",
        ) from None
    except RecursionError:
        raise InputError(
            "the JSON is nested too deeply to be an order export.",
            file=str(path),
            hint="An order is an object of values, lists and objects a few levels deep; "
            "check the file.",
        ) from None
    if isinstance(data, dict):
        data = data["orders"] if isinstance(data.get("orders"), list) else [data]
    if not isinstance(data, list):
        raise InputError("JSON, but not a list of orders.", file=str(path))
    for rec in data:
        if isinstance(rec, dict):
            yield rec


@dataclass(frozen=True)
class OrderCustomer:
    """The customer of one order, as ``tag --order`` records them: their best identity
    (an email, else the platform's buyer id ``ebay:NAME``, else a phone number), and
    their name where the order gives one."""

    identity: str
    name: str | None = None
    order: str = ""

    def describe(self) -> str:
        """``Quinn Belfast (ebay:quinn_belfast)``, or the identity alone."""
        return f"{self.name} ({self.identity})" if self.name else self.identity


def find_order_email(
    path: str | os.PathLike[str],
    order_id: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    profile: str | None = None,
    mapping: str | os.PathLike[str] | None = None,
) -> str:
    """The best identity of the customer of order ``order_id`` of an export: their
    email, else their buyer id (``ebay:NAME``), else their phone number (see
    :func:`find_order_customer`).

    >>> find_order_email("examples/orders.csv", "200002")
    'Jane.Doe@gmail.com'
    """
    return find_order_customer(
        path,
        order_id,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        profile=profile,
        mapping=mapping,
    ).identity


def find_order_customer(
    path: str | os.PathLike[str],
    order_id: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    profile: str | None = None,
    mapping: str | os.PathLike[str] | None = None,
) -> OrderCustomer:
    """The customer of order ``order_id`` of an export, found by the platform's order
    number (``#1042`` and ``1042`` alike) or the channel's reference (Linnworks'
    Reference Number): their best identity and name.

    >>> find_order_customer("examples/orders.csv", "200002")
    OrderCustomer(identity='Jane.Doe@gmail.com', name='Jane Doe', order='200002')
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError("no such file.", file=str(p), hint="Check the path.") from None
    except IsADirectoryError:
        raise InputError("this is a folder, not an order export.", file=str(p)) from None
    forced = get_profile(profile) if profile else None
    want = norm_order_id(order_id)
    data: bytes | None = None  # a UTF-16 export, as UTF-8 (as apply reads it)
    wide = utf16_codec(head, encoding) if _known(encoding, p) else None
    if wide is not None:
        data = utf16_to_utf8(p.read_bytes(), *wide, str(p))
        head, encoding = data[:SNIFF_BYTES], "utf-8"
    bom = head.startswith(BOM)
    body = head[len(BOM) :] if bom else head
    if not body.strip():
        raise InputError("the file is empty.", file=str(p), hint="Export the orders again.")
    if encoding is None:
        check_not_binary(body, str(p))  # as apply does: a workbook, NUL bytes, a web page
    if body.lstrip()[:1] in (b"[", b"{") and delimiter is None:
        records = list(_json_rows(p, encoding or "utf-8", data))
        keys = list(dict.fromkeys(k for rec in records for k in rec))
        chosen = resolve_profile(keys, format=forced, mapping=mapping).profile
        fmap = map_profile(keys, chosen, overrides=columns, file=str(p))
        try:
            rows = [[_json_text(rec.get(c)) for c in keys] for rec in records]
        except RecursionError:
            raise InputError(
                "the JSON is nested too deeply to be an order export.", file=str(p)
            ) from None
        return _search(iter(rows), fmap, chosen, want, order_id, p, where=None)
    tries = [encoding] if encoding else ["utf-8"]
    found = find_header(
        body, encoding=tries[0] or "utf-8", delimiter=_delim(delimiter), profile=forced
    )
    if not encoding:
        tries += list(found.detection.profile.encodings)
    for enc in tries:
        try:
            return _search_csv(
                p,
                enc,
                len(BOM) if bom else 0,
                found.start,
                found.line,
                found.delimiter
                or sniff_delimiter(body[found.start :].decode(enc, errors="replace"), delimiter),
                forced or found.detection.profile,
                mapping,
                columns,
                want,
                order_id,
                data,
            )
        except UnicodeDecodeError:
            if enc != tries[-1]:
                continue
            data = p.read_bytes()
            try:
                data.decode(enc)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"cannot decode byte 0x{exc.object[exc.start]:02x} at byte offset "
                    f"{exc.start} as {codecs.lookup(enc).name}.",
                    file=str(p),
                    hint=OTHER_ENCODING,
                ) from None
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _known(encoding: str | None, path: Path) -> bool:
    """Is ``encoding`` (``--encoding``) one Python knows? Else the reading says so."""
    if encoding is None:
        return True
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f'unknown encoding "{encoding}".',
            file=str(path),
            hint="Use utf-8, cp1252, mac_roman, utf-16, latin-1 or cp932.",
        ) from None
    return True


def _delim(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    return "\t" if delimiter in ("\\t", "tab", "TAB") else delimiter


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


def _search_csv(
    path: Path,
    encoding: str,
    skip: int,
    start: int,
    line: int,
    delimiter: str,
    profile: Profile,
    mapping: str | os.PathLike[str] | None,
    columns: Mapping[str, str | None] | None,
    want: str,
    order_id: str,
    data: bytes | None = None,
) -> OrderCustomer:
    if csv.field_size_limit() < MAX_FIELD_BYTES:
        csv.field_size_limit(MAX_FIELD_BYTES)
    with path.open("rb") if data is None else io.BytesIO(data) as raw:
        raw.seek(skip + start)
        fh = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InputError("the file is empty.", file=str(path))
        chosen = resolve_profile(header, format=profile, mapping=mapping).profile
        fmap = map_profile(header, chosen, overrides=columns, file=str(path))
        rows = iter(reader)
        try:
            return _search(
                rows, fmap, chosen, want, order_id, path, where=lambda: reader.line_num + line
            )
        except csv.Error as exc:
            raise InputError(
                f"this is not a readable CSV file ({exc}).",
                file=str(path),
                line=reader.line_num + line,
                hint="Check the quotes around that line, or re-export the file.",
            ) from None


def _first(row: Sequence[str], cols: Sequence[int]) -> str:
    for i in cols:
        if i < len(row) and row[i].strip():
            return row[i].strip()
    return ""


def _search(
    rows: Iterator[list[str]],
    fmap: FieldMap,
    profile: Profile,
    want: str,
    order_id: str,
    path: Path,
    where: Any,
) -> OrderCustomer:
    ids = fmap.sources("order_id")
    if not ids:
        fmap.require("order_id", file=str(path))
    refs = [i for i in fmap.sources("reference") if i not in ids[:1]]
    emails = fmap.sources("email") if "email" in profile.customer else ()
    buyers = fmap.sources("customer_id") if "customer_id" in profile.customer else ()
    phones = fmap.sources("phone")
    names = fmap.sources("name")
    parts = fmap.sources("first_name")[:1] + fmap.sources("last_name")[:1]
    current = ""
    found_at: int | None = None
    email = buyer = phone = name = ""
    for row in rows:
        # A row with a blank order id continues the order above it (one row per item);
        # rows of one order need not be adjacent, and a later row may hold the email
        # (Shopify leaves it blank after an order's first row in some exports).
        current = _first(row, ids) or (current if profile.grouped else "")
        if norm_order_id(current) != want and norm_order_id(_first(row, refs)) != want:
            continue
        if found_at is None:
            found_at = where() if where is not None else 0
        email = email or _first(row, emails)
        buyer = buyer or _first(row, buyers)
        phone = phone or _first(row, phones)
        name = name or _first(row, names) or " ".join(_first(row, [i]) for i in parts)
        if email:
            break
    if found_at is None:
        raise InputError(
            f'no order "{order_id}" in this export.',
            file=str(path),
            hint="Check the order number, or the file.",
        )
    identity = email
    if not identity and buyer:
        keyed = profile.key_prefix + clean_id(buyer)
        identity = buyer_key(keyed) or keyed
    if not identity and phone:
        identity = normalize_phone(phone) or phone
    if not identity:
        raise InputError(
            f'order "{order_id}" has no customer email, buyer id or phone number.',
            file=str(path),
            line=found_at or None,
            hint="Tag the customer by another order of theirs, or by an identity "
            "(email, phone number, CHANNEL:ID).",
        )
    if not identity.isprintable():
        # NUL or another control character: never written into the tag book (every
        # other command refuses such a file).
        raise InputError(
            f'order "{order_id}" has an email with a NUL or control character.',
            file=str(path),
            line=found_at or None,
            hint="The export is damaged: export it again, or tag by email.",
        )
    return OrderCustomer(identity, name.strip() or None, order_id.strip())
