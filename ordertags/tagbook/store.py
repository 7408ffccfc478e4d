"""An edit of the tag book file: under its lock, the book read (and checked), the edit
worked out on it as changes (:mod:`ordertags.tagbook.changes`), the changes rendered by
the text writer where the file's layout allows, else by the round trip, and the file
replaced atomically, so hand edits, comments and layout survive and two writers at
once both land. In a shared workspace the customer entries kept in the database are
changed there, in the same edit (:mod:`ordertags.tagbook.shared`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from ordertags.base.files import FILE_MODE, LOCK_TIMEOUT_S, atomic_write_bytes, real_target
from ordertags.base.yamlfiles import read_bytes
from ordertags.base.yamltext import NotPlainText
from ordertags.errors import TagBookError
from ordertags.storage.location import Location
from ordertags.tagbook import roundtrip
from ordertags.tagbook.changes import Change
from ordertags.tagbook.model import TagBook
from ordertags.tagbook.reader import book_of, cache_book
from ordertags.tagbook.shared import database_edit, shared_location
from ordertags.tagbook.textwriter import TextWriter

#: Called with the tag book as read under the edit's lock, before any change: raises to
#: refuse the edit (the team screen: the customer's entries changed since the page).
Guard = Callable[[TagBook], None]

#: What an edit operation reports (see :mod:`ordertags.tagbook.operations`).
Report = TypeVar("Report")


def edit_book(
    path: str | os.PathLike[str],
    plan: Callable[[TagBook], tuple[Report, list[Change]]],  # the edit operation
    *,
    guard: Guard | None = None,
    text_edits: bool = True,
    entries_at: Location | None | Literal["workspace"] = "workspace",
) -> Report:
    """Lock the tag book at ``path``, read it, let ``plan`` work out the edit, make it
    and write the book back; returns what ``plan`` reports. ``text_edits``: render the
    changes as lines of text where the layout allows (a large book's round trip takes
    seconds); False makes every edit by the round trip. ``entries_at``: the database
    holding the book's customer entries (default: the workspace's, when the book is a
    shared workspace's; None: the file holds them all)."""
    from filelock import FileLock, Timeout

    # A tag book that is a symbolic link (one book shared by several workspaces) is
    # edited where it points, under the lock of that file: every link to one book
    # takes the same lock, and the link stays a link.
    shown = Path(path)
    target = real_target(shown)
    lock_path = Path(str(target) + ".lock")
    if os.path.islink(lock_path):
        # Opening it would follow the link (and truncate what it points to).
        raise TagBookError(
            f"the lock file {lock_path} is a symbolic link.",
            file=str(shown),
            hint=f"Delete {lock_path} (it must be a plain file, not a link) and try again.",
        )
    # No book, no lock file: a missing or unreadable book is reported before the lock
    # would create ``BOOK.lock`` beside it (and leave it there).
    read_bytes(target, TagBookError, "tag book")
    lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT_S, mode=FILE_MODE)
    try:
        with lock:
            raw = read_bytes(target, TagBookError, "tag book")
            # Refuse to edit a broken file.
            book, layout = book_of(raw, target, str(target))
            where = shared_location(shown) if entries_at == "workspace" else entries_at
            if where is None:
                return _edit(target, raw, book, layout, plan, guard, text_edits)
            with database_edit(where, book) as (whole, database):

                def in_file(_: TagBook) -> tuple[Report, list[Change]]:
                    report, changes = plan(whole)
                    database.apply([c for c in changes if database.owns(c)])
                    return report, [c for c in changes if not database.owns(c)]

                if guard is not None:
                    guard(whole)
                return _edit(target, raw, book, layout, in_file, None, text_edits)
    except Timeout:
        raise TagBookError(
            f"the tag book is locked by another ordertags for over {LOCK_TIMEOUT_S:.0f} s.",
            file=str(shown),
            hint=f"Try again; if no ordertags is running, delete {lock_path}.",
        ) from None
    except OSError as exc:
        if Path(exc.filename or "") != lock_path:
            raise
        raise TagBookError(
            f"the lock file {lock_path} cannot be used: {exc.strerror}.",
            file=str(shown),
            hint=f"Delete {lock_path} (it must be a plain file, not a link) and try again.",
        ) from None


def _edit(
    target: Path,
    raw: bytes,
    book: TagBook,
    layout: dict[str, Any],
    plan: Callable[[TagBook], tuple[Report, list[Change]]],
    guard: Guard | None,
    text_edits: bool,
) -> Report:
    """The edit of the file (see :func:`edit_book`)."""
    if guard is not None:
        guard(book)
    report, changes = plan(book)
    if text_edits:
        try:
            writer = TextWriter(raw, book, layout)
            writer.render(changes)
        except NotPlainText:
            pass
        else:
            if not changes:
                return report
            new_raw, new_book, new_layout = writer.result()
            atomic_write_bytes(target, new_raw)
            cache_book(new_raw, target, new_book, new_layout)
            return report
    roundtrip.write(target, raw, changes)
    return report
