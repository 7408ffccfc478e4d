"""The parse cache under attack (issue 23): a cache folder another user prepared or may
write to, links, FIFOs and devices in a cache slot, oversized and forged entries, an
unusable cache path. The cache is believed only where it is the user's own, and any
doubt is a miss: the book is parsed (and an invalid book refused) as if there were no
cache. And a tag command on a missing tag book leaves no lock file behind."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ordertags.base.cache import cache_dir, digest
from ordertags.errors import TagBookError
from ordertags.tagbook import load_tagbook

from .conftest import ROOT

HEAD = """\
version: 1
tags:
  - name: VIP
    colour: gold
  - name: REGULAR
    colour: teal
customers:
"""
COUNT = 300  # entries: the book is over the size the cache starts at (16 KB)


def book_text(count: int = COUNT) -> str:
    return HEAD + "".join(
        f"  - email: buyer{i:04d}@example.com\n    tags: [VIP]\n    note: order {i}\n"
        for i in range(count)
    )


#: Invalid in a way only a parse sees: the cached entries would still match its lines.
BAD_COLOUR = book_text().replace("colour: gold", "colour: notacolour")
#: Invalid: an entry names a tag the book does not define.
BAD_TAG = book_text().replace(
    "buyer0007@example.com\n    tags: [VIP]", "buyer0007@example.com\n    tags: [NOPE]"
)


def only_slot() -> Path:
    folder = cache_dir()
    assert folder is not None
    (slot,) = sorted((folder / "tagbooks").glob("*.json"))
    return slot


def forge(path: Path, invalid: str) -> tuple[Path, bytes]:
    """Cache the valid book at ``path``, then put the invalid text there and, in the
    cache, the valid book's parse stamped as that of the invalid text's bytes (what a
    forger who can write the cache folder can make). Returns the slot and the entry."""
    path.write_text(book_text(), encoding="utf-8")
    load_tagbook(path)
    slot = only_slot()
    record = json.loads(slot.read_bytes())
    path.write_text(invalid, encoding="utf-8")
    record["sha256"] = digest(path.read_bytes())
    forged = json.dumps(record).encode("utf-8")
    slot.write_bytes(forged)
    return slot, forged


def refused(path: Path, match: str) -> None:
    with pytest.raises(TagBookError, match=match):
        load_tagbook(path)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a file of another user")


@needs_root
def test_a_cache_folder_of_another_user_is_neither_read_nor_written(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, forged = forge(path, BAD_COLOUR)
    folder = slot.parent.parent
    for p in (folder, slot.parent, slot):
        os.chown(p, 65534, 65534)  # nobody's
    refused(path, "notacolour")
    path.write_text(book_text(), encoding="utf-8")
    assert len(load_tagbook(path).entries) == COUNT
    assert slot.read_bytes() == forged  # nothing of the book written into their folder
    assert sorted(p.name for p in (folder / "tagbooks").iterdir()) == [slot.name]


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_cache_folder_others_may_write_to_is_neither_read_nor_written(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, forged = forge(path, BAD_COLOUR)
    os.chmod(slot.parent.parent, mode)
    refused(path, "notacolour")
    path.write_text(book_text(), encoding="utf-8")
    load_tagbook(path)
    assert slot.read_bytes() == forged


def test_a_cache_file_others_may_write_to_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, _ = forge(path, BAD_COLOUR)
    os.chmod(slot, 0o666)
    refused(path, "notacolour")


def test_a_link_in_a_cache_slot_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, forged = forge(path, BAD_COLOUR)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(forged)
    slot.unlink()
    slot.symlink_to(elsewhere)
    refused(path, "notacolour")
    # Nor written through: a valid book's parse replaces the link, not what it names.
    path.write_text(book_text(), encoding="utf-8")
    load_tagbook(path)
    assert elsewhere.read_bytes() == forged
    assert not slot.is_symlink() and stat.S_IMODE(slot.stat().st_mode) == 0o600


def test_an_oversized_cache_entry_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, forged = forge(path, BAD_COLOUR)
    slot.write_bytes(forged + b" " * (4 << 20))  # valid JSON, 4 MB of it
    refused(path, "notacolour")


@pytest.mark.parametrize(
    ("invalid", "message"),
    [(BAD_TAG, "NOPE"), (book_text().replace("buyer0009@example.com", "buyer0009"), "buyer0009")],
    ids=["a tag the entry does not have", "an identity that is not one"],
)
def test_a_forged_valid_entry_does_not_make_an_invalid_book_load(
    tmp_path: Path, invalid: str, message: str
) -> None:
    path = tmp_path / "tagbook.yaml"
    slot, _ = forge(path, invalid)
    if "buyer0009@" not in invalid:
        # The forger copies the book's entry as it is, and calls it valid.
        record = json.loads(slot.read_bytes())
        for entry in record["data"]["entries"]:
            if entry[0] == "buyer0009@example.com":
                entry[0] = "buyer0009"
        slot.write_text(json.dumps(record), encoding="utf-8")
    refused(path, message)


def run_tags(path: Path, env: dict[str, str], **limits: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        for name, value in limits.items():
            resource.setrlimit(getattr(resource, name), (value, value))

    return subprocess.run(
        [sys.executable, "-m", "ordertags", "tags", "-t", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        preexec_fn=limit,
        check=False,
    )


def test_a_fifo_in_a_cache_slot_does_not_hang_the_command(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(book_text(), encoding="utf-8")
    load_tagbook(path)
    slot = only_slot()
    slot.unlink()
    os.mkfifo(slot, 0o600)
    done = run_tags(path, {})
    assert (done.returncode, done.stderr) == (0, "")
    assert "buyer0299@example.com" in done.stdout
    assert stat.S_ISREG(slot.lstat().st_mode)  # a miss, and the parse written in its place


@needs_root
def test_a_device_in_a_cache_slot_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(book_text(), encoding="utf-8")
    load_tagbook(path)
    slot = only_slot()
    slot.unlink()
    os.mknod(slot, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
    done = run_tags(path, {}, RLIMIT_AS=1 << 30)
    assert (done.returncode, done.stderr) == (0, "")
    assert "buyer0299@example.com" in done.stdout


@pytest.mark.parametrize("folder", ["~no-such-user-of-ordertags/cache"])
def test_an_unusable_cache_path_does_not_fail_the_command(tmp_path: Path, folder: str) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(book_text(), encoding="utf-8")
    done = run_tags(path, {"ORDERTAGS_CACHE_DIR": folder})
    assert (done.returncode, done.stderr) == (0, "")
    assert "buyer0299@example.com" in done.stdout


def test_tag_on_a_missing_book_leaves_no_lock_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ordertags", "tag", "a@example.com", "--tag", "VIP"]
        + ["-t", "missing.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 1
    assert "missing.yaml: no such tag book." in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
