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

The cache holds what the source holds (a tag book's customer emails), and what it
holds is believed, so it is trusted only as far as it is the user's own: a folder not
owned by the user, or that others may write to, is not used at all (nothing read from
it, nothing written into it); its files are opened without following links, read only
when they are regular files of the user's that others cannot write to, and only up to
the size the caller allows. Its folders are created owner-only (0700) and its files
0600, written whole (temp + rename). Reading or writing the cache never fails a
command: any doubt or error is a miss. The callers check what they read as well
(:mod:`ordertags.tagbook.cachefile`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ordertags.base.files import DIR_MODE, FILE_MODE
from ordertags.base.version import VERSION

#: Read no more than this of a cache file unless the caller says otherwise.
DEFAULT_LIMIT = 1 << 20
#: Permission bits that let someone else change a folder's or a file's content.
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off (``ORDERTAGS_NO_CACHE`` set to
    anything but empty or ``0``) or no folder can be named."""
    if os.environ.get("ORDERTAGS_NO_CACHE", "") not in ("", "0"):
        return None
    try:
        named = os.environ.get("ORDERTAGS_CACHE_DIR")
        if named:
            return Path(named).expanduser()
        base = os.environ.get("XDG_CACHE_HOME")
        if base and os.path.isabs(base):
            return Path(base) / "ordertags"
        return Path.home() / ".cache" / "ordertags"
    except (RuntimeError, KeyError, ValueError, OSError):  # no home folder (~user unknown)
        return None


def digest(data: bytes) -> str:
    """The key of a source: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _trusted(info: os.stat_result) -> bool:
    """The user's own, and nobody else may change it."""
    return info.st_uid == os.geteuid() and not info.st_mode & _OTHERS_WRITE


def _open_folder(path: str, dir_fd: int | None, *, create: bool) -> int:
    """A descriptor of the folder ``path`` (not followed if it is a link), made when
    ``create`` and it is missing; raises OSError when it is not one the user may trust."""
    try:
        fd = os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        if not create:
            raise
        if dir_fd is None:
            os.makedirs(path, mode=DIR_MODE, exist_ok=True)
        else:
            os.mkdir(path, mode=DIR_MODE, dir_fd=dir_fd)
        fd = os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    if not _trusted(os.fstat(fd)):
        os.close(fd)
        raise PermissionError(f"the cache folder {path} is not the user's own")
    return fd


@contextlib.contextmanager
def _folder(kind: str, *, create: bool) -> Iterator[int]:
    """The cache's folder for ``kind``, opened (see :func:`_open_folder`)."""
    root = cache_dir()
    if root is None:
        raise FileNotFoundError("no cache folder")
    top = _open_folder(os.fspath(root), None, create=create)
    try:
        fd = _open_folder(kind, top, create=create)
    finally:
        os.close(top)
    try:
        yield fd
    finally:
        os.close(fd)


def _slot(source: Path) -> str:
    where = os.path.realpath(source)
    return hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".json"


def _stamp(kind: str, fmt: int) -> str:
    return f"ordertags {VERSION} {kind} cache format {fmt}"


def read_cached(kind: str, fmt: int, source: Path, key: str, *, limit: int = DEFAULT_LIMIT) -> Any:
    """What :func:`write_cached` stored for ``source`` when its bytes had the digest
    ``key`` (and the same ordertags version and format ``fmt``), else None. A cache
    file over ``limit`` bytes, or one the user cannot trust, is not read."""
    try:
        with _folder(kind, create=False) as folder:
            fd = os.open(_slot(source), _READ_FLAGS, dir_fd=folder)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > limit:
                    return None
                chunks: list[bytes] = []
                size = 0
                while size <= limit:
                    chunk = os.read(fd, min(1 << 20, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            finally:
                os.close(fd)
        if size > limit:
            return None
        record = json.loads(b"".join(chunks))
    except Exception:  # the cache never fails a command: any error is a miss
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
    Best effort: a folder that cannot be written, or is not the user's own, leaves
    things as they were."""
    try:
        payload = json.dumps(
            {"stamp": _stamp(kind, fmt), "sha256": key, "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        name = _slot(source)
        with _folder(kind, create=True) as folder:
            temp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            fd = os.open(
                temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE, dir_fd=folder
            )
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(payload)
                os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp, dir_fd=folder)
                raise
    except Exception:  # the cache never fails a command
        return
