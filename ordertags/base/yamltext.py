"""Editing a YAML file as text: a few lines changed, every other byte kept.

A round trip through a YAML library rewrites the whole document and, for a file of
thousands of entries, takes seconds. The tag book's common edits (append an entry to
a list, drop an entry, rewrite one value) touch a few lines; :class:`TextLines` holds
the file as lines with their own line ends (and BOM) so those lines can be replaced and
the rest written back unchanged. The callers check what they wrote by parsing the lines
they changed.
"""

from __future__ import annotations

import re

from ordertags.base.files import BOM as BOM  # the tag book's editor takes it from here
from ordertags.base.yamlfiles import load_yaml
from ordertags.errors import OrderTagsError

#: Characters YAML also reads as line breaks: a file holding one is not edited as text.
_ODD_BREAKS = ("\x85", "\u2028", "\u2029")
#: A list item's first line: the indentation, the dash and the spaces after it.
DASH = re.compile(r"^( *)-( +)(?=[^\s#])")


class NotPlainText(Exception):
    """The file or the edit is not one the text path handles: use the round trip."""


class _Probe(OrderTagsError):
    """A plain scalar that does not read back (never leaves this module)."""


def reads_back_plain(value: str) -> bool:
    """Would ``value`` written without quotes be read back as the same text (ours is a
    YAML 1.1 reader: ``yes``, ``on``, ``1:20``, ``#x``, ``a: b`` are not)?

    >>> reads_back_plain("Big order"), reads_back_plain("yes"), reads_back_plain("1:20")
    (True, False, False)
    """
    if not value or value != value.strip() or not value.isprintable():
        return False
    try:
        return bool(load_yaml(f"v: {value}", file="", error=_Probe) == {"v": value})
    except _Probe:
        return False


def quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (every character that is not printable
    written as an escape).

    >>> print(quoted('say "hi"\\n'))
    "say \\"hi\\"\\n"
    """
    out = ['"']
    for ch in value:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def scalar(value: str) -> str:
    """``value`` as a block-context YAML scalar: plain where it reads back the same,
    else double-quoted.

    >>> scalar("Big order"), scalar("yes"), scalar("#1042"), scalar("1:20")
    ('Big order', '"yes"', '"#1042"', '"1:20"')
    """
    return value if reads_back_plain(value) else quoted(value)


def flow_list(values: list[str] | tuple[str, ...]) -> str:
    """Texts as a flow sequence, ``[VIP, REGULAR]`` (each quoted when it must be).

    >>> flow_list(["VIP", "jane@example.com", "+447700900123", "a, b"])
    '[VIP, jane@example.com, "+447700900123", "a, b"]'
    """
    return "[" + ", ".join(v if _reads_back_in_flow(v) else quoted(v) for v in values) + "]"


def _reads_back_in_flow(value: str) -> bool:
    if _FLOW_SAFE.match(value):
        return True
    if not value or value != value.strip() or not value.isprintable():
        return False
    try:
        return bool(load_yaml(f"v: [{value}]", file="", error=_Probe) == {"v": [value]})
    except _Probe:
        return False


_FLOW_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class TextLines:
    """A text file as lines that can be replaced, inserted and deleted; the lines not
    touched, their line ends and the BOM come back byte for byte.

    >>> doc = TextLines(b"a: 1\\r\\nb: 2\\r\\n")
    >>> doc.insert(1, ["c: 3"])
    >>> doc.to_bytes()
    b'a: 1\\r\\nc: 3\\r\\nb: 2\\r\\n'
    """

    def __init__(self, raw: bytes) -> None:
        self.bom = raw.startswith(BOM)
        try:
            text = raw[len(BOM) if self.bom else 0 :].decode("utf-8")
        except UnicodeDecodeError:
            raise NotPlainText("not UTF-8") from None
        if any(c in text for c in _ODD_BREAKS) or (
            "\r" in text and text.count("\r") != text.count("\r\n")
        ):
            raise NotPlainText("line breaks other than LF and CRLF")
        # The last item is what follows the last line end ("" for a file that ends
        # with one).
        self.lines = text.split("\n")

    def __len__(self) -> int:
        """The number of lines (a last line without a line end counts)."""
        return len(self.lines) - (1 if self.lines[-1] == "" else 0)

    def line(self, number: int) -> str:
        """Line ``number`` (1-based) without its line end."""
        return self.lines[number - 1].removesuffix("\r")

    def ended(self, number: int) -> bool:
        """Does line ``number`` have a line end (only the file's last line may not)?"""
        return number < len(self.lines)

    def _eol(self, number: int) -> str:
        return "\r" if self.lines[number - 1].endswith("\r") else ""

    def replace(self, number: int, text: str) -> None:
        """Put ``text`` in place of line ``number``, keeping its line end."""
        self.lines[number - 1] = text + self._eol(number)

    def insert(self, after: int, texts: list[str]) -> None:
        """Insert lines after line ``after`` (ended like it; it must have a line end)."""
        if not self.ended(after):
            raise NotPlainText("no line end to insert after")
        if after < 1:
            raise NotPlainText("nothing to insert after")
        eol = self._eol(after)
        self.lines[after:after] = [t + eol for t in texts]

    def delete(self, first: int, last: int) -> None:
        """Delete lines ``first`` to ``last`` (1-based, inclusive)."""
        if not self.ended(last):
            raise NotPlainText("no line end after the lines to delete")
        del self.lines[first - 1 : last]

    def snippet(self, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` as text with LF line ends."""
        return "".join(self.line(n) + "\n" for n in range(first, last + 1))

    def to_bytes(self) -> bytes:
        """The whole file, BOM and line ends as they were."""
        return (BOM if self.bom else b"") + "\n".join(self.lines).encode("utf-8")


_KEY_LINE = re.compile(r"^( *)[^\s#\-][^\n]*:[ \t]*(?:#[^\n]*)?$")
_SKIP_LINE = re.compile(r"^[ \t]*(?:#.*)?$")


def guess_indent(text: str) -> tuple[int, int]:
    """(sequence indent, dash offset) of the first block list under a key: ``tags:``
    then ``  - name:`` is (4, 2); ``- name:`` right under the key is (2, 0). A layout
    hint for the round trip; (2, 0) when there is no list.

    >>> guess_indent("tags:\\n  - name: VIP\\n")
    (4, 2)
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        key = _KEY_LINE.match(line.rstrip("\r"))
        if not key:
            continue
        for nxt in lines[i + 1 :]:
            nxt = nxt.rstrip("\r")
            if _SKIP_LINE.match(nxt):
                continue
            dash = DASH.match(nxt)
            if dash and len(dash.group(1)) >= len(key.group(1)):
                base = len(key.group(1))
                return len(dash.group(0)) - base, len(dash.group(1)) - base
            break
    return 2, 0
