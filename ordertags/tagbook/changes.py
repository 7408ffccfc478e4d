"""The changes an edit of the tag book is made of, in the terms of the model.

Each edit operation (:mod:`ordertags.tagbook.operations`: tag, untag, note, link,
unlink, suppress, the entry change of the team screen) is worked out once, from the
book, as a list of these changes; a writer renders them: the text writer
(:mod:`ordertags.tagbook.textwriter`) where the file's layout allows, else the
comment-keeping round trip (:mod:`ordertags.tagbook.roundtrip`). Indexes are those of
the book as read; the changes of one edit are listed in an order that keeps every
later index valid (removals last entry first, appends at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The lists of the tag book that items are appended to or removed from by
#: :class:`AppendItem` and :class:`RemoveItem` (``tags``: a tag defined, appended only).
ITEM_LISTS = ("suppressed", "links", "tags")


@dataclass(frozen=True)
class AppendEntry:
    """A new ``customers`` entry (its keys in the order to write them)."""

    record: dict[str, Any]


@dataclass(frozen=True)
class RemoveEntry:
    """The ``customers`` entry ``index`` removed, with its lines."""

    index: int


@dataclass(frozen=True)
class SetTags:
    """The ``customers`` entry ``index`` left with ``tags`` (some of those it holds,
    in the tag book's spelling)."""

    index: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SetValue:
    """The ``customers`` entry ``index`` given ``value`` under ``key`` (``note`` or
    ``expires``, a ``YYYY-MM-DD`` text), or that key removed (``None``)."""

    index: int
    key: str
    value: str | None


@dataclass(frozen=True)
class AppendItem:
    """A new item of the list ``list_key`` (one of :data:`ITEM_LISTS`)."""

    list_key: str
    record: dict[str, Any]


@dataclass(frozen=True)
class RemoveItem:
    """Item ``index`` of the list ``list_key`` removed."""

    list_key: str
    index: int


Change = AppendEntry | RemoveEntry | SetTags | SetValue | AppendItem | RemoveItem
