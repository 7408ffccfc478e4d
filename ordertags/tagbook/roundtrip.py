"""The round-trip writer: the changes of an edit (:mod:`ordertags.tagbook.changes`) made
to the tag book loaded by ruamel.yaml in round-trip mode, so that comments, key order
and untouched entries survive whatever the layout. Slower than the text writer
(:mod:`ordertags.tagbook.textwriter`) on a large book, it takes every edit that one
cannot make. What it writes must read back as a valid tag book, or nothing is saved.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ordertags.base.files import atomic_write_bytes
from ordertags.base.yamlfiles import decode_text
from ordertags.base.yamltext import BOM, guess_indent, reads_back_plain
from ordertags.errors import TagBookError
from ordertags.tagbook.changes import (
    AppendEntry,
    AppendItem,
    Change,
    RemoveEntry,
    RemoveItem,
    SetTags,
    SetValue,
)
from ordertags.tagbook.model import TagBook, tag_key
from ordertags.tagbook.reader import cache_book, parse_text

#: Keys whose values are written as they are (ISO dates and times): every other string
#: is quoted where a YAML 1.1 reader would read it as something else.
_AS_IS = ("at", "expires")


def write(path: Path, raw: bytes, changes: list[Change]) -> TagBook | None:
    """Make ``changes`` to the tag book at ``path`` whose bytes are ``raw`` (under the
    caller's lock) and write it back atomically, in its own line ends and BOM. Returns
    the book as written (None when nothing changed)."""
    text = decode_text(raw, file=str(path), error=TagBookError)
    yaml_rt = _round_trip()
    # The guess gives the sequence indent and the dash offset ("  - name:" is 4 and 2);
    # the mapping indent is what is left once the dash is placed.
    indent, block_seq_indent = guess_indent(text)
    yaml_rt.indent(
        mapping=max(2, indent - block_seq_indent), sequence=indent, offset=block_seq_indent
    )
    data = yaml_rt.load(text)
    render(data, changes)
    out = io.StringIO()
    yaml_rt.dump(data, out)
    new_text = out.getvalue()
    # Never write a tag book we cannot read.
    try:
        new_book, new_layout = parse_text(new_text, file=str(path))
    except TagBookError as exc:
        raise TagBookError(
            f"the edit was not saved: the YAML library wrote a tag book that does not read "
            f"back ({exc.message})",
            file=str(path),
            hint="The tag book is unchanged. Make the change by hand, or move the comments "
            "next to the entry to another place and try again.",
        ) from None
    if new_text == text:
        return None
    # Keep the file's own line ends and BOM, so a diff shows only the change.
    crlf = b"\r\n" in raw[:4096] or raw.count(b"\r\n") * 2 > raw.count(b"\n")
    body = new_text.replace("\n", "\r\n") if crlf else new_text
    bom = BOM if raw.startswith(BOM) else b""
    new_raw = bom + body.encode("utf-8")
    atomic_write_bytes(path, new_raw)
    cache_book(new_raw, path, new_book, new_layout)
    return new_book


def render(data: Any, changes: list[Change]) -> None:
    """Make ``changes`` to ``data``, a tag book as ruamel.yaml's round trip loads it."""
    for change in changes:
        if isinstance(change, AppendEntry):
            _list(data, "customers").append(_mapping(change.record))
        elif isinstance(change, RemoveEntry):
            del data["customers"][change.index]
        elif isinstance(change, SetTags):
            # Only the dropped tags go: the others keep the file's spelling and comments.
            keep = {tag_key(t) for t in change.tags}
            tags = data["customers"][change.index]["tags"]
            for j in reversed(range(len(tags))):
                if tag_key(str(tags[j])) not in keep:
                    del tags[j]
        elif isinstance(change, SetValue):
            entry = data["customers"][change.index]
            if change.value is None:
                entry.pop(change.key, None)
            else:
                entry[change.key] = _value(change.key, change.value)
        elif isinstance(change, AppendItem):
            _list(data, change.list_key).append(_mapping(change.record))
        elif isinstance(change, RemoveItem):
            del data[change.list_key][change.index]


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")  # round-trip: only plain data and comments, never objects
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _list(data: Any, key: str) -> Any:
    """The block list under ``key``, made when there is none (or an empty ``[]``)."""
    from ruamel.yaml.comments import CommentedSeq

    seq = data.get(key)
    if seq is None or (not seq and seq.fa.flow_style()):
        seq = CommentedSeq()
        data[key] = seq
    return seq


def _mapping(record: dict[str, Any]) -> Any:
    """A new list item: lists in flow style (``[VIP, REGULAR]``), strings quoted where
    they must be."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    item = CommentedMap()
    for k, v in record.items():
        if isinstance(v, list):
            seq = CommentedSeq([_plain(t) for t in v])
            seq.fa.set_flow_style()
            item[k] = seq
        else:
            item[k] = _value(k, v)
    return item


def _value(key: str, value: str) -> Any:
    return value if key in _AS_IS else _plain(value)


def _plain(value: str) -> Any:
    """A string as ruamel should write it: quoted when a YAML 1.1 reader (ours) would
    read it back as something else (``yes``, ``on``, ``1:20``, ``2026-01-01``...)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return value if reads_back_plain(value) else DoubleQuotedScalarString(value)
