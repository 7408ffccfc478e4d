"""The text writer: the changes of an edit (:mod:`ordertags.tagbook.changes`) made to
the lines of the tag book's text, everything else in the file kept byte for byte. An
entry is appended after the last one in the same layout, an entry's lines removed, its
tags or one value rewritten. Each change is checked by parsing the changed lines; a
change the layout does not allow raises :class:`NotPlainText`, and the caller renders
the whole edit by the round trip instead (:mod:`ordertags.tagbook.roundtrip`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import yaml

from ordertags.base.emails import normalize_email
from ordertags.base.yamlfiles import load_schema, load_yaml_nodes
from ordertags.base.yamltext import DASH, NotPlainText, TextLines, flow_list, scalar
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
from ordertags.tagbook.model import IDENTITY_FIELDS, Entry, Link, Suppression, TagBook, entry_key
from ordertags.tagbook.reader import entry_fits

__all__ = ["NotPlainText", "TextWriter", "fits_schema"]


def _shift_tail(items: list[Any], after: int, moved: Callable[[int | None], int | None]) -> None:
    """The items of ``items`` (in file order) on lines after ``after``, moved."""
    i = len(items)
    while i and (items[i - 1].line is None or items[i - 1].line > after):
        i -= 1
    items[i:] = [replace(x, line=moved(x.line)) for x in items[i:]]


class TextWriter:
    """A tag book's lines, and the book and layout they hold, as changes are made to
    them (see the module's docstring)."""

    def __init__(self, raw: bytes, book: TagBook, layout: dict[str, Any]) -> None:
        self.doc = TextLines(raw)
        self.book = book
        self.entries = list(book.entries)
        self.ends: list[int] = list(layout["ends"])
        self.customers_ok = bool(layout["edit"])
        self.lists: dict[str, list[Any]] = {k: list(v) for k, v in layout["lists"].items()}
        self.links = list(book.links)
        self.suppressed = list(book.suppressed)
        self.changed = False
        #: Entries from here on were appended by this writer (their lines are its own).
        self._appended_after = len(self.entries)

    def render(self, changes: list[Change]) -> None:
        """Make ``changes`` to the lines, in order (raises :class:`NotPlainText` at the
        first the layout does not allow)."""
        for change in changes:
            if isinstance(change, AppendEntry):
                self.append(change.record)
            elif isinstance(change, RemoveEntry):
                self.remove(change.index)
            elif isinstance(change, SetTags):
                self.set_tags(change.index, list(change.tags))
            elif isinstance(change, SetValue):
                self.set_value(change.index, change.key, change.value)
            elif isinstance(change, AppendItem):
                self.append_item(change.list_key, change.record)
            elif isinstance(change, RemoveItem):
                raise NotPlainText("removing an item is left to the round trip")

    def result(self) -> tuple[bytes, TagBook, dict[str, Any]]:
        """The new bytes, and the book and layout a full parse of them gives."""
        book = TagBook(
            path=self.book.path,
            tags=self.book.tags,
            entries=self.entries,
            links=self.links,
            suppressed=self.suppressed,
        )
        layout = {
            "ends": self.ends,
            "edit": self.customers_ok and bool(self.entries),
            "lists": self.lists,
        }
        return self.doc.to_bytes(), book, layout

    def _shift(self, after: int, by: int) -> None:
        """Lines after line ``after`` moved by ``by``."""

        def moved(line: int | None) -> int | None:
            return line + by if line is not None and line > after else line

        # Each list is in file order: only its tail after ``after`` moves (an append at
        # the end moves nothing, so a batch of appends costs no pass over the book).
        _shift_tail(self.entries, after, moved)
        _shift_tail(self.links, after, moved)
        _shift_tail(self.suppressed, after, moved)
        i = len(self.ends)
        while i and self.ends[i - 1] > after:
            i -= 1
        self.ends[i:] = [end + by for end in self.ends[i:]]
        for item in self.lists.values():
            item[1] += by if item[1] > after else 0

    def _node(self, i: int) -> tuple[Any, int]:
        """Entry ``i``'s mapping node, parsed from its own lines (their line numbers
        counted from the returned first line), after checking they hold what the book
        says."""
        entry, first, last = self.entries[i], self.entries[i].line, self.ends[i]
        if not self.customers_ok or first is None or not 0 < first <= last <= len(self.doc):
            raise NotPlainText("entry lines")
        data, root = snippet(self.doc.snippet(first, last))
        raw = data[0]
        if (
            not isinstance(raw.get("tags"), list)
            or raw.get(entry.kind) != entry.identity
            or tuple(raw["tags"]) != entry.tags
            or raw.get("note") != entry.note
        ):
            raise NotPlainText("the lines do not hold the entry")
        return root.value[0], first

    def _item_lines(self, first: int, record: dict[str, Any]) -> tuple[list[str], Any]:
        """The lines of a new list item ``record``, laid out as the item starting on line
        ``first`` is (its dash and indent), and what they read back as."""
        dash = DASH.match(self.doc.line(first))
        if dash is None:
            raise NotPlainText("no dash")
        pad = " " * len(dash.group(0))
        texts: list[str] = []
        for k, v in record.items():
            value = flow_list(v) if isinstance(v, list) else scalar(v)
            texts.append(f"{dash.group(0) if not texts else pad}{k}: {value}")
        data, _ = snippet("".join(t + "\n" for t in texts))
        return texts, data

    def append(self, record: dict[str, Any]) -> None:
        """Add ``record`` (a new entry) after the last entry, in its layout."""
        if not self.entries or not self.customers_ok:
            raise NotPlainText("no entry to follow")
        if len(self.entries) > self._appended_after:  # an entry of the file: checked
            self._node(len(self.entries) - 1)
        last = self.entries[-1]
        first, end = last.line or 0, self.ends[-1]
        texts, data = self._item_lines(first, record)
        kind = next(k for k in IDENTITY_FIELDS if k in record)
        key = entry_key(kind, record[kind])
        if data != [record] or not entry_fits(record) or key is None:
            raise NotPlainText("the new entry does not read back")
        self.doc.insert(end, texts)
        self._shift(end, len(texts))
        expires = record.get("expires")
        self.entries.append(
            Entry(
                identity=record[kind],
                kind=kind,
                key=key,
                tags=tuple(record["tags"]),
                note=record.get("note"),
                by=record.get("by"),
                at=record.get("at"),
                expires=dt.date.fromisoformat(expires[:10]) if expires else None,
                line=end + 1,
            )
        )
        self.ends.append(end + len(texts))
        self.changed = True

    def append_item(self, key: str, record: dict[str, Any]) -> None:
        """Add ``record`` after the last item of the ``suppressed`` or ``links`` list, in
        its layout (the same checks as :meth:`append`)."""
        if key not in ("suppressed", "links"):
            raise NotPlainText("a tag definition is added by the round trip")
        ok, end = self.lists.get(key) or (False, 0)
        items: list[Any] = self.suppressed if key == "suppressed" else self.links
        first = items[-1].line if items else None
        if not ok or first is None or not 0 < first <= end <= len(self.doc):
            raise NotPlainText("no item to follow")
        data, _ = snippet(self.doc.snippet(first, last=end))
        last = items[-1]
        held = (
            data[0].get("email")
            if key == "suppressed"
            else data[0].get("same" if last.same else "different")
        )
        if held != (last.email if key == "suppressed" else [last.a, last.b]):
            raise NotPlainText("the lines do not hold the item")
        texts, data = self._item_lines(first, record)
        if data != [record] or not fits_schema(key, record):
            raise NotPlainText("the new item does not read back")
        self.doc.insert(end, texts)
        self._shift(end, len(texts))
        if key == "suppressed":
            email = record["email"]
            self.suppressed.append(
                Suppression(
                    email=email,
                    key=normalize_email(email) or email,
                    reason=record.get("reason"),
                    by=record.get("by"),
                    at=record.get("at"),
                    line=end + 1,
                )
            )
        else:
            same = "same" in record
            a, b = record["same" if same else "different"]
            self.links.append(
                Link(
                    a=a,
                    b=b,
                    same=same,
                    note=record.get("note"),
                    by=record.get("by"),
                    at=record.get("at"),
                    line=end + 1,
                )
            )
        self.lists[key][1] = end + len(texts)
        self.changed = True

    def remove(self, i: int) -> None:
        """Delete entry ``i``'s lines (the last one left too: ``customers:`` with no
        entry reads as an empty list)."""
        _, first = self._node(i)
        last = self.ends[i]
        self.doc.delete(first, last)
        del self.entries[i], self.ends[i]
        if i < self._appended_after:
            self._appended_after -= 1
        self._shift(last, first - last - 1)
        self.changed = True

    def _value(self, i: int, key: str) -> tuple[Any, int] | None:
        """Entry ``i``'s value node for ``key`` (None when absent), and its line."""
        node, first = self._node(i)
        found = [v for k, v in node.value if k.value == key]
        if len(found) > 1:
            raise NotPlainText("a key given twice")
        if not found:
            return None
        value = found[0]
        if value.start_mark.line != value.end_mark.line:
            raise NotPlainText("a value over several lines")
        return value, first + value.start_mark.line

    def _put(self, value: Any, line: int, text: str) -> None:
        """Put ``text`` in place of the one-line ``value`` on ``line``."""
        old = self.doc.line(line)
        start, end = value.start_mark.column, value.end_mark.column
        self.doc.replace(line, old[:start] + text + old[end:])

    def set_tags(self, i: int, tags: list[str]) -> None:
        """Rewrite entry ``i``'s tags (a flow list on one line, ``[VIP, REGULAR]``)."""
        found = self._value(i, "tags")
        if found is None or not isinstance(found[0], yaml.SequenceNode) or not found[0].flow_style:
            raise NotPlainText("tags not a flow list")
        self._put(found[0], found[1], flow_list(tags))
        self.entries[i] = replace(self.entries[i], tags=tuple(tags))
        self._node(i)  # the lines read back as the changed entry
        self.changed = True

    def set_value(self, i: int, key: str, value: str | None) -> None:
        """Set entry ``i``'s ``note`` or ``expires`` to ``value`` (its one-line value
        rewritten, or a line added at the entry's end), or remove its line (``None``);
        the lines are read back and checked."""
        if key == "note":
            entry = replace(self.entries[i], note=value)
        elif key == "expires":
            day = dt.date.fromisoformat(value) if value is not None else None
            entry = replace(self.entries[i], expires=day)
        else:
            raise NotPlainText(f"no value {key}")
        text = None if value is None else scalar(value)
        node, first = self._node(i)
        if node.flow_style:
            raise NotPlainText("a flow mapping")
        found = self._value(i, key)
        if found is None and text is not None:
            end = self.ends[i]
            self.doc.insert(end, [f"{' ' * node.start_mark.column}{key}: {text}"])
            self._shift(end, 1)
            self.ends[i] = end + 1
        elif found is not None:
            value, line = found
            if not isinstance(value, yaml.ScalarNode) or value.style not in (None, "", '"', "'"):
                raise NotPlainText("not a one-line scalar")
            if text is not None:
                self._put(value, line, text)
            else:
                if line == first or not self.doc.line(line).lstrip().startswith(f"{key}:"):
                    raise NotPlainText("the value shares its line")
                last = self.ends[i] == line
                self.doc.delete(line, line)
                self._shift(line, -1)
                if last:
                    self.ends[i] = line - 1
        self.entries[i] = replace(entry, line=self.entries[i].line)
        self._node(i)
        raw = snippet(self.doc.snippet(self.entries[i].line or 0, self.ends[i]))[0][0]
        held = raw.get("expires")
        if (str(held)[:10] if held else None) != (
            entry.expires.isoformat() if entry.expires else None
        ):
            raise NotPlainText("the expiry does not read back")
        self.changed = True


def snippet(text: str) -> tuple[Any, Any]:
    """One entry's lines parsed on their own: (``[entry]``, the list's node)."""
    try:
        data, root = load_yaml_nodes(text, file="", error=TagBookError)
    except TagBookError:
        raise NotPlainText("the lines do not parse") from None
    if (
        not isinstance(root, yaml.SequenceNode)
        or len(root.value) != 1
        or not isinstance(root.value[0], yaml.MappingNode)
        or not isinstance(data, list)
        or not isinstance(data[0], dict)
    ):
        raise NotPlainText("not one entry")
    return data, root


def fits_schema(key: str, record: dict[str, Any]) -> bool:
    """Does one new item of the list ``key`` satisfy the tag book's schema?"""
    import jsonschema

    schema = load_schema("tagbook")
    validator = jsonschema.validators.validator_for(schema)(schema)
    return bool(validator.is_valid({"tags": [], key: [record]}))
