"""Text from the data made safe to show on a terminal.

A customer's name, a note or a tag's label can hold control characters: ``ESC ] 0;…
BEL`` sets the terminal's title, ``ESC [ 2J`` clears the screen, ``ESC ] 8`` makes a
link, and ``U+009B`` (C1 CSI) does what ``ESC [`` does. Shown raw, they act on the
terminal of whoever looks; piped, they reach the next terminal. Every value a command
shows passes through :func:`printable`, which writes each such character as its escape
(``\\x1b``), visible and inert, as the error messages quote bad values.
"""

from __future__ import annotations

import re

#: C0 controls, DEL and C1 controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` written as its
    escape.

    >>> printable("Jane\\x1b]0;owned\\x07 Doe\\x9b2J")
    'Jane\\\\x1b]0;owned\\\\x07 Doe\\\\x9b2J'
    >>> printable("a\\tb\\nc", keep="\\n")
    'a\\\\tb\\nc'
    """
    if text.isprintable():  # the usual case, quickly
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def _escape(char: str) -> str:
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")
