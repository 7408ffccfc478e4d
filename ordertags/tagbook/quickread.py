"""The ``customers`` list of a tag book read line by line, without the YAML parser,
in the layout ordertags writes and people keep. :func:`ordertags.tagbook.reader.parse_text`
builds the book from what it reads through the very checks a YAML parse goes through;
tests/test_tagbook_text.py checks by a property test that both reads give the same
book, and the reader falls back to the YAML parser for anything this reader is not
sure of."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ordertags.base.yamlfiles import NON_PRINTABLE, ScalarResolver, has_anchors, load_yaml_nodes
from ordertags.base.yamltext import DASH
from ordertags.errors import TagBookError
from ordertags.tagbook.layout import NOT_QUICK, node_under

#: A top-level ``customers:`` line, and the lines of a block list's entries as
#: :func:`read_customers` reads them.
_CUSTOMERS_LINE = re.compile(r"^customers:[ \t]*(?:#.*)?$")
_SKIP = re.compile(r"^[ \t]*(?:#.*)?$")
_KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?:[ ]+(.*))?$")
_DOUBLE = re.compile(r'"([^"\\]*)"(?:[ \t]+#.*)?$')
_SINGLE = re.compile(r"'([^']*)'(?:[ \t]+#.*)?$")
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_FLOW = re.compile(rf"\[[ ]*((?:{_NAME})(?:[ ]*,[ ]*{_NAME})*)?[ ]*\](?:[ \t]+#.*)?$")
_PLAIN_START = re.compile(r"[A-Za-z0-9_+.(/$]")
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class QuickRead:
    """What :func:`read_customers` read: the book's data (its ``customers`` entries as
    the YAML parser would give them), the node tree of the rest, the first and last line
    of each entry, and the text with the entries' lines left blank."""

    data: dict[str, Any]
    root: Any
    lines: list[int]
    ends: list[int]
    rest: str


class _Quick(Exception):
    """Not a layout :func:`read_customers` reads: the YAML parser reads the book."""


def _plain_value(text: str, resolve: Any) -> str | None:
    """The value of a plain scalar written as ``text`` (a trailing comment dropped),
    when it is certainly a string as the YAML parser would read it."""
    for mark in (" #", "\t#"):
        cut = text.find(mark)
        if cut >= 0:
            text = text[:cut]
    text = text.rstrip(" \t")
    if not text:
        return None
    if (
        not _PLAIN_START.match(text)
        or ": " in text
        or ":\t" in text
        or text.endswith(":")
        or "\t" in text
        or resolve(text) != _STR
    ):
        raise _Quick
    return text


def read_customers(text: str, *, file: str) -> QuickRead | None:
    """The book read without the YAML parser for its ``customers`` list, in the layout
    ordertags writes and people keep (``- email: ...`` then ``  tags: [...]``, one value
    a line, plain or quoted without escapes, comments and blank lines anywhere), or None
    for anything else. The rest of the book (tags, links, suppressed) is parsed as
    usual. A book of 10,000 entries reads in a tenth of the time. Nothing is checked
    here: the caller builds the book from what was read as from a YAML parse."""
    if (
        has_anchors(text)
        or any(c in text for c in NOT_QUICK)
        or NON_PRINTABLE.search(text) is not None
    ):
        return None
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("customers")]
    if len(starts) != 1 or not _CUSTOMERS_LINE.match(lines[starts[0]]):
        return None
    top = starts[0]
    resolver = ScalarResolver()

    def resolve(value: str) -> Any:
        return resolver.resolve(yaml.ScalarNode, value, (True, False))

    entries: list[dict[str, Any]] = []
    entry_lines: list[int] = []
    ends: list[int] = []
    dash = key_col = -1
    current: dict[str, Any] = {}
    end = top + 1
    try:
        for i in range(top + 1, len(lines)):
            line = lines[i]
            if _SKIP.match(line):
                continue
            indent = len(line) - len(line.lstrip(" "))
            if dash < 0:
                first = DASH.match(line)
                if first is None:
                    break  # no entry: not a block list (or an empty one)
                dash = len(first.group(1))
            if indent < dash or (indent == dash and not line.startswith("- ", dash)):
                end = i
                break
            if indent == dash:
                first = DASH.match(line)
                if first is None or len(first.group(1)) != dash:
                    raise _Quick
                if key_col >= 0 and len(first.group(0)) != key_col:
                    raise _Quick
                key_col = len(first.group(0))
                current = {}
                entries.append(current)
                entry_lines.append(i + 1)
                ends.append(i + 1)
            elif indent != key_col or not entries:
                raise _Quick
            found = _KEY_VALUE.match(line, key_col)
            if found is None or found.group(1) in current:
                raise _Quick
            key, raw = found.group(1), found.group(2) or ""
            if raw.startswith("["):
                names = _FLOW.match(raw)
                if names is None:
                    raise _Quick
                items = [n.strip() for n in names.group(1).split(",")] if names.group(1) else []
                if any(resolve(n) != _STR for n in items):
                    raise _Quick
                value: Any = items
            elif raw.startswith('"') or raw.startswith("'"):
                quoted_value = (_DOUBLE if raw[0] == '"' else _SINGLE).match(raw)
                if quoted_value is None:
                    raise _Quick
                value = quoted_value.group(1)
            elif raw.startswith("#"):
                value = None
            else:
                value = _plain_value(raw, resolve)
            current[key] = value
            ends[-1] = i + 1
        else:
            end = len(lines)
    except _Quick:
        return None
    if not entries:
        return None
    # The rest of the book, with the list's lines left blank (so every line keeps its
    # number) and an empty list in its place.
    rest = "\n".join(lines[:top] + ["customers: []"] + [""] * (end - top - 1) + lines[end:])
    try:
        data, root = load_yaml_nodes(rest, file=file, error=TagBookError)
    except TagBookError:
        return None
    listed = node_under(root, "customers")
    if (
        not isinstance(data, dict)
        or data.get("customers") != []
        or not isinstance(listed, yaml.SequenceNode)
        or listed.start_mark.line != top
    ):
        return None
    data["customers"] = entries
    return QuickRead(data, root, entry_lines, ends, rest)
