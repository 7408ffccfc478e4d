"""A private cache of what ordertags worked out from a file, keyed by the file's bytes.

Parsing and checking a large tag book takes seconds; the quick commands (``tag``,
``untag``, ``tags``) must answer in a fraction of one. What a full parse found is kept
as JSON in the user's cache folder (``$ORDERTAGS_CACHE_DIR``, else
``$XDG_CACHE_HOME/ordertags``, else ``~/.cache/ordertags``), one file per source
file, and used only while the source holds exactly the same bytes: the entry records
the SHA-256 of those bytes and the cache format, and anything else (a missing,
unreadable, corrupt or foreign file, another version of ordertags, a file edited by
hand even within the same second and at the same size) is ignored and rewritten.
``ORDERTAGS_NO_CACHE=1`` turns it off.

The cache holds what the source holds (a tag book's customer emails), so its folder is
owner-only (0700) and its files 0600, written whole (temp + rename). Failing to read
or write the cache never fails a command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ordertags.base.files import DIR_MODE, FILE_MODE, atomic_writer
from ordertags.base.version import VERSION
from ordertags.errors import OrderTagsError


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off (``ORDERTAGS_NO_CACHE`` set to
    anything but empty or ``0``) or no folder can be named."""
    if os.environ.get("ORDERTAGS_NO_CACHE", "") not in ("", "0"):
        return None
    named = os.environ.get("ORDERTAGS_CACHE_DIR")
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    if base and os.path.isabs(base):
        return Path(base) / "ordertags"
    try:
        return Path.home() / ".cache" / "ordertags"
    except (RuntimeError, KeyError):  # no home folder
        return None


def digest(data: bytes) -> str:
    """The key of a source: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _slot(kind: str, source: Path) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        where = os.path.realpath(source)
    except OSError:
        return None
    name = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return folder / kind / f"{name}.json"


def _stamp(kind: str, fmt: int) -> str:
    return f"ordertags {VERSION} {kind} cache format {fmt}"


def read_cached(kind: str, fmt: int, source: Path, key: str) -> Any:
    """What :func:`write_cached` stored for ``source`` when its bytes had the digest
    ``key`` (and the same ordertags version and format ``fmt``), else None."""
    slot = _slot(kind, source)
    if slot is None:
        return None
    try:
        with open(slot, "rb") as fh:
            record = json.loads(fh.read())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(record, dict)
        or record.get("stamp") != _stamp(kind, fmt)
        or record.get("sha256") != key
    ):
        return None
    return record.get("data")


def write_cached(kind: str, fmt: int, source: Path, key: str, data: Any) -> None:
    """Store ``data`` (JSON-ready) for ``source`` whose bytes have the digest ``key``.
    Best effort: a folder that cannot be written leaves things as they were."""
    slot = _slot(kind, source)
    if slot is None:
        return
    payload = json.dumps(
        {"stamp": _stamp(kind, fmt), "sha256": key, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    with contextlib.suppress(OSError, OrderTagsError):
        for folder in (slot.parent.parent, slot.parent):
            if not folder.is_dir():
                folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                os.chmod(folder, DIR_MODE)
        with atomic_writer(slot, durable=False, mode=FILE_MODE) as fh:
            fh.write(payload)
