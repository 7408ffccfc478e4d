"""Where the lists of a tag book lie in its text: the line each item ends on, and
whether a list is laid out so that it can be edited as lines of text (see
:mod:`ordertags.tagbook.textwriter`)."""

from __future__ import annotations

from typing import Any

import yaml

from ordertags.base.yamlfiles import has_anchors
from ordertags.base.yamltext import DASH

#: Characters the line reader and the text writer leave to the YAML parser: tabs, and
#: every line break but LF (YAML 1.1 also breaks lines at CR, NEL, U+2028 and U+2029),
#: and a BOM.
NOT_QUICK = ("\t", "\r", "\x85", "\u2028", "\u2029", "\ufeff")


def end_line(node: Any) -> int:
    """The 1-based last line holding ``node``'s text (a block scalar's end mark sits at
    the start of the line after it)."""
    end = node.end_mark
    line: int = end.line + 1
    if end.column == 0 and end.line > node.start_mark.line:
        line -= 1
    return line


def node_under(root: Any, key: str) -> Any:
    """The node under the top-level ``key`` (the last one, as the loader reads it)."""
    found = None
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = v
    return found


def layout_of(text: str, root: Any, count: int) -> dict[str, Any]:
    """Where each ``customers`` entry ends (its last line) and whether the list can be
    edited as text (``edit``); for ``suppressed`` and ``links``, whether they can be
    and where their last item ends (``lists``). A list can be edited as text when it is
    a block list whose every item is a block mapping starting on its dash line, in a
    file without anchors."""
    # Line numbers are the YAML parser's: they are those of a split at LF only when the
    # text has no other line break.
    plain = not has_anchors(text) and not any(c in text for c in NOT_QUICK[1:5])
    lines = text.split("\n") if plain else []
    editable, ends = block_list(lines, node_under(root, "customers"), plain)
    if len(ends) != count:
        ends, editable = [0] * count, False
    lists = {}
    for key in ("suppressed", "links"):
        ok, item_ends = block_list(lines, node_under(root, key), plain)
        lists[key] = [ok, item_ends[-1] if item_ends else 0]
    return {"ends": ends, "edit": editable and count > 0, "lists": lists}


def block_list(lines: list[str], seq: Any, plain: bool) -> tuple[bool, list[int]]:
    """(can the list be edited as text, the last line of each item)."""
    if not isinstance(seq, yaml.SequenceNode):
        return False, []
    ends: list[int] = []
    editable = plain and not seq.flow_style and bool(seq.value)
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            return False, []
        ends.append(max((end_line(v) for _, v in item.value), default=0))
        if editable:
            start = item.start_mark
            dash = DASH.match(lines[start.line])
            editable = (
                not item.flow_style and dash is not None and len(dash.group(0)) == start.column
            )
    return editable, ends
