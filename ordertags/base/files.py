"""Writing files so that they appear whole or not at all, private by default.

- Whole or not at all: a file is written to a temporary name in its folder and renamed
  over the target; a failure (a full disk, a kill) leaves the old file as it was.
- Private: orders, mailing lists, the tag book and the history hold personal data, so a
  new file is created owner-only (0600; folders 0700) whatever the umask, unless a
  ``mode`` says otherwise; a file that exists keeps its mode.
- Through links: a target that is a symbolic link (a tag book shared by several
  workspaces) is written where the link points, never replaced by a regular file.
- Tidy: a killed run leaves its temporary file behind; the next write into the folder
  removes those of ordertags' own naming whose process is gone.
- Streams: a target that is a character device or a FIFO (``/dev/null``, a named pipe a
  program reads) is written in place as a stream, as a shell's ``>`` would; it is never
  renamed over (as root, that would turn ``/dev/null`` into a file of customer data). A
  block device, a socket or a folder is refused.
- Together: the outputs of one run can be staged (:class:`Staged`): each is written whole
  beside its target, and only once all are written are they put in place, so a full
  disk on the last one leaves every one as it was.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ordertags.errors import OrderTagsError, UsageError, param

#: UTF-8's byte order mark: a file that starts with it is UTF-8, whatever else it holds.
BOM = b"\xef\xbb\xbf"
#: How long a tag book's or a history's lock is waited for before giving up.
LOCK_TIMEOUT_S = 30.0
#: By default, how many seconds a run that records orders in a workspace's history
#: (``apply`` unless --no-record or --dry-run, ``export`` given exports, ``ingest``)
#: waits for the workspace's run lock while another such run holds it; then it gives
#: up with exit 3 (:func:`ordertags.customers.workspace.run_lock`). Runs that only read
#: the history take no lock and never wait.
RUN_WAIT_S = 300.0
#: The longest a run may be told to wait for another (a day: cron runs more often).
MAX_WAIT_S = 24 * 3600.0
#: Files ordertags creates: owner read/write only. Folders: owner only.
FILE_MODE = 0o600
DIR_MODE = 0o700
#: Temporary files: ``.NAME.PID.RANDOM.ordertags-tmp`` next to the target.
TEMP_SUFFIX = ".ordertags-tmp"
TEMP_GLOB = f".*{TEMP_SUFFIX}"
_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX) + "$")
#: A temporary file older than this is stale even if a process with its number runs.
STALE_AFTER_S = 24 * 3600


class OutputError(OrderTagsError):
    """A file cannot be written: no space, no folder, no permission. The old file, if
    any, is kept."""


def parse_mode(text: str) -> int:
    """``"600"``, ``"0640"`` or ``"0o640"`` -> the permission bits; ValueError otherwise."""
    value = int(text.removeprefix("0o"), 8)
    if not 0 <= value <= 0o777:
        raise ValueError(text)
    return value


def check_wait(wait: object) -> float | None:
    """``wait`` as seconds to wait for another run: a number from 0 to
    :data:`MAX_WAIT_S` (None: the default); anything else (negative, inf, nan, text) is
    a :class:`UsageError`."""
    if wait is None:
        return None
    if isinstance(wait, bool) or not isinstance(wait, (int, float)):
        raise UsageError(
            f"the wait must be a number of seconds, not {type(wait).__name__}.",
            hint=f"Give 0 to {MAX_WAIT_S:g} seconds.",
        )
    if not 0 <= wait <= MAX_WAIT_S:  # False for nan
        raise UsageError(
            f"cannot wait {wait:g} seconds for another run.",
            hint=f"Give 0 to {MAX_WAIT_S:g} seconds (a day); cron starts the next run sooner.",
        )
    return float(wait)


def check_mode(mode: object) -> int | None:
    """``mode`` as the permission bits of new files: 0 to 0o777 (None: 0600). A
    set-user-ID, set-group-ID or sticky bit, a negative number or anything but a whole
    number is a :class:`UsageError`."""
    if mode is None:
        return None
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o777:
        raise UsageError(
            f"{mode!r} is not a file mode.",
            hint="Give the permission bits, 0o600 to 0o777 (e.g. 0o640 for a group).",
        )
    return mode


def real_target(path: str | os.PathLike[str]) -> Path:
    """Where writing ``path`` lands: the file a symbolic link points to (followed to
    the end), else ``path`` itself."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def check_output_folder(path: str | os.PathLike[str]) -> None:
    """Refuse an output whose folder does not exist (or is not a folder), before any
    work is done or recorded. ``-`` (standard output) is always fine."""
    if str(path) == "-":
        return
    folder = real_target(path).parent
    if not folder.is_dir():
        raise UsageError(
            f"cannot write {path}: there is no such folder {folder}.",
            hint=f"Create the folder first, or give another {param('output')}.",
        )


class Staged:
    """Outputs of one run put in place together (see the module's text): pass it to
    :func:`atomic_writer` as ``stage``; :meth:`commit` renames every written file over
    its target, in the order written; leaving the ``with`` block without committing
    removes them. Streams (devices, FIFOs, standard output) cannot wait: they are
    written as they come."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, Path, str]] = []  # (temp file, target, as named)
        self.done: list[str] = []

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def discard(self) -> None:
        for tmp, _, _ in self.pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.pending = []

    def commit(self) -> None:
        """Put every staged file in place. A rename that fails (it does not need space)
        is an :class:`OutputError` that says which outputs were put in place."""
        while self.pending:
            tmp, target, named = self.pending[0]
            try:
                os.replace(tmp, target)
            except OSError as exc:
                error = _output_error(exc, named)
                left = [n for _, _, n in self.pending]
                done = ", ".join(self.done) if self.done else "none"
                raise OutputError(
                    f"{error.message.split(':')[0]}: put in place before it: {done}; "
                    f"not written: {', '.join(left)} (each kept as it was).",
                    file=named,
                    hint=error.hint,
                ) from None
            self.pending.pop(0)
            self.done.append(named)


def _stream_kind(target: Path) -> str | None:
    """``"stream"`` for a character device or FIFO, a word for another file that is not
    a regular file or a folder (refused), None for a regular file or nothing there."""
    try:
        info = os.stat(target)
    except OSError:
        return None
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return "stream"
    if stat.S_ISDIR(info.st_mode):
        return "a folder"
    if stat.S_ISBLK(info.st_mode):
        return "a block device"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket"
    return None


@contextlib.contextmanager
def atomic_writer(
    path: str | os.PathLike[str],
    *,
    durable: bool = True,
    mode: int | None = None,
    stage: Staged | None = None,
) -> Iterator[BinaryIO]:
    """Yield a binary file in the target's folder; on success it is renamed over ``path``
    (an existing file keeps its permissions; a new one gets ``mode``, default 0600);
    on error it is removed, so ``path`` is always whole. A symbolic link is written
    through to its target. ``durable`` also syncs it to disk first, so that it survives
    a power cut: on for the tag book, which holds work nobody can redo; off for
    annotated exports and lists, which a rerun rewrites and whose sync would cost more
    than the whole run. A character device or FIFO is written as a stream; with
    ``stage``, the rename waits for :meth:`Staged.commit`."""
    mode = check_mode(mode)
    target = real_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    kind = _stream_kind(target)
    if kind == "stream":
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NOCTTY)
        except OSError as exc:
            raise _output_error(exc, path) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
        except OSError as exc:
            raise _output_error(exc, path) from None
        return
    if kind is not None:
        raise OutputError(
            f"cannot write here: it is {kind}, not a file.",
            file=str(path),
            hint="Give the path of a file (or - for standard output).",
        )
    remove_stale_temp_files(folder)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder
        )
    except OSError as exc:
        raise _output_error(exc, path) from None
    try:
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
            try:
                keep = os.stat(target).st_mode & 0o7777
            except FileNotFoundError:
                keep = FILE_MODE if mode is None else mode
            os.chmod(tmp, keep)
            if stage is not None:
                stage.pending.append((tmp, target, str(path)))
                return
            os.replace(tmp, target)
        except OSError as exc:
            raise _output_error(exc, path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _output_error(exc: OSError, path: str | os.PathLike[str]) -> OutputError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return OutputError(
            "the disk is full (no space left): nothing was written and the old file, if "
            "any, is kept.",
            file=str(path),
            hint="Free some space and run again.",
        )
    if isinstance(exc, FileNotFoundError):
        return OutputError(
            f"cannot write here: there is no such folder {Path(path).parent}.",
            file=str(path),
            hint="Create the folder first, or give another path.",
        )
    if isinstance(exc, PermissionError):
        return OutputError(
            "cannot write here: permission denied. The old file, if any, is kept.",
            file=str(path),
            hint="Check the folder's permissions.",
        )
    return OutputError(
        f"cannot write the file: {exc.strerror or exc}. The old file, if any, is kept.",
        file=str(path),
        hint="Check the disk and the path.",
    )


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


def remove_stale_temp_files(folder: Path, name: str | None = None) -> list[Path]:
    """Remove ordertags' temporary files in ``folder`` (of the target ``name``, or all)
    whose process no longer runs, or that are older than a day: what a killed run left
    behind. Files of other programs are never touched (only this naming matches)."""
    removed: list[Path] = []
    pattern = f".{glob.escape(name)}.*{TEMP_SUFFIX}" if name else TEMP_GLOB
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return removed
    now = time.time()
    for p in candidates:
        m = _TEMP.match(p.name)
        if not m:
            continue
        try:
            info = p.lstat()
        except OSError:
            continue
        if _alive(int(m.group(1))) and now - info.st_mtime < STALE_AFTER_S:
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def make_private_dir(path: Path, mode: int | None = None) -> None:
    """Create a folder (and its parents) owner-only, or with ``mode``."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE if mode is None else mode)


def private_mode(mode: int | None) -> int:
    """The mode a new file gets: ``mode``, else 0600."""
    mode = check_mode(mode)
    return FILE_MODE if mode is None else mode


def dir_mode(mode: int | None) -> int | None:
    """The folder mode that goes with a file mode: search where read is allowed
    (0600 -> 0700, 0640 -> 0750); None stays None (0700)."""
    return None if mode is None else mode | (mode & 0o444) >> 2


def create_private(path: Path, mode: int | None = None) -> None:
    """Create an empty file with ``mode`` (default 0600) unless it exists, so that a
    program that then opens it (SQLite) keeps that mode, and gives it to the files it
    makes beside it (``-wal``, ``-shm``)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private_mode(mode))
        os.fchmod(fd, private_mode(mode))  # whatever the umask
        os.close(fd)
