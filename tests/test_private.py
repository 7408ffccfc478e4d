"""Issue 12, items 5, 7, 8 and 9 and the cron lock: files private by default, a symlinked
tag book written through, write failures as messages with the old file kept, temp
files of killed runs cleaned, two overlapping runs on one workspace, SIGKILL at
random moments."""

from __future__ import annotations

import fnmatch
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.customers.workspace import GITIGNORE, init_workspace, run_lock

from .conftest import ROOT
from .hostile import TAGBOOK, _orders

runner = CliRunner()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


# --- item 7: owner-only by default --------------------------------------------------------


def test_workspace_files_are_owner_only(tmp_path: Path, umask022: None) -> None:
    ws = init_workspace(tmp_path / "shop").workspace
    assert mode_of(ws.root) == 0o700
    for name in ("tagbook.yaml", "rules.yaml", "history.sqlite", ".gitignore"):
        assert mode_of(ws.root / name) == 0o600, name
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    # While a connection is open, the -wal and -shm files exist: owner-only too.
    with ws.open_history() as h:
        h.remember_tags([1], ["VIP"], __import__("datetime").date(2026, 11, 26))
        h.stats()
        for suffix in ("-wal", "-shm"):
            side = Path(f"{ws.history_path}{suffix}")
            assert side.exists() and mode_of(side) == 0o600, suffix


def test_outputs_lists_and_edited_tag_book_are_owner_only(tmp_path: Path, umask022: None) -> None:
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    book = tmp_path / "tb.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    os.chmod(book, 0o644)  # written by hand: its mode is kept on rewrite
    out, lst = tmp_path / "out.csv", tmp_path / "list.csv"
    assert _invoke("apply", tmp_path / "o.csv", "-t", book, "-o", out).exit_code == 0
    assert (
        _invoke("export", tmp_path / "o.csv", "--tag", "VIP", "-t", book, "-o", lst).exit_code == 0
    )
    assert _invoke("tag", "a@example.com", "--tag", "VIP", "-t", book).exit_code == 0
    assert (mode_of(out), mode_of(lst), mode_of(book)) == (0o600, 0o600, 0o644)
    # Rewritten, an output keeps the mode it was given.
    os.chmod(out, 0o640)
    assert _invoke("apply", tmp_path / "o.csv", "-t", book, "-o", out).exit_code == 0
    assert mode_of(out) == 0o640


def test_mode_option_sets_new_files(tmp_path: Path, umask022: None) -> None:
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    (tmp_path / "tb.yaml").write_text(TAGBOOK, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = _invoke(
        "apply", tmp_path / "o.csv", "-t", tmp_path / "tb.yaml", "-o", out, "--mode", "640"
    )
    assert result.exit_code == 0, result.stderr
    assert mode_of(out) == 0o640
    assert _invoke("init", tmp_path / "shop", "--mode", "0640").exit_code == 0
    assert mode_of(tmp_path / "shop") == 0o750
    assert mode_of(tmp_path / "shop" / "history.sqlite") == 0o640
    bad = _invoke(
        "apply", tmp_path / "o.csv", "-t", tmp_path / "tb.yaml", "-o", out, "--mode", "rw"
    )
    assert bad.exit_code == 2
    assert '"rw" is not a file mode; write it in octal, e.g. 600 or 640.' in bad.stderr


# --- item 5: a symlinked tag book -----------------------------------------------------------


def test_tagging_through_a_symlink_writes_the_target(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "tagbook.yaml"
    shared.parent.mkdir()
    shared.write_text(TAGBOOK, encoding="utf-8")
    link = tmp_path / "tb.yaml"
    link.symlink_to(shared)
    result = _invoke("tag", "jane@example.com", "--tag", "VIP", "-t", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == shared
    assert "jane@example.com" in shared.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("tb.yaml.lock"))  # the lock is the target's
    assert (shared.parent / "tagbook.yaml.lock").exists()


def test_concurrent_tags_through_two_links_all_land(tmp_path: Path) -> None:
    shared = tmp_path / "book.yaml"
    shared.write_text(TAGBOOK, encoding="utf-8")
    links = []
    for i in range(2):
        (tmp_path / f"ws{i}").mkdir()
        link = tmp_path / f"ws{i}" / "tagbook.yaml"
        link.symlink_to(shared)
        links.append(link)
    script = textwrap.dedent("""
        import sys
        from ordertags.tagbook import tag_customer
        tag_customer(sys.argv[1], sys.argv[2], ["VIP"])
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(links[i % 2]), f"p{i}@example.com"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    from ordertags.tagbook import load_tagbook

    emails = {e.email for e in load_tagbook(shared).entries}
    assert {f"p{i}@example.com" for i in range(8)} <= emails
    assert all(link.is_symlink() for link in links)


def test_a_lock_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "tb.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "tb.yaml.lock").symlink_to(victim)
    result = _invoke("tag", "a@example.com", "--tag", "VIP", "-t", book)
    assert result.exit_code == 1
    assert result.stderr == (
        f"ordertags: {book}: the lock file {book}.lock is a symbolic link. Delete "
        f"{book}.lock (it must be a plain file, not a link) and try again.\n"
    )
    assert victim.read_text() == "keep me"


# --- item 8: write failures -------------------------------------------------------------


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every temp file ordertags writes is /dev/full: writing it fails with ENOSPC."""
    real = tempfile.mkstemp

    def mkstemp(
        suffix: str | None = None,
        prefix: str | None = None,
        dir: str | os.PathLike[str] | None = None,
        text: bool = False,
    ) -> tuple[int, str]:
        fd, name = real(suffix=suffix, prefix=prefix, dir=dir, text=text)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    monkeypatch.setattr("ordertags.base.files.tempfile.mkstemp", mkstemp)


@pytest.mark.parametrize("command", ["apply", "export", "tag"])
def test_a_full_disk_is_a_message_and_the_old_file_is_kept(
    tmp_path: Path, disk_full: None, command: str
) -> None:
    big = tmp_path / "o.csv"
    big.write_text(_orders(3000), encoding="utf-8")
    book = tmp_path / "tb.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    target = {"apply": tmp_path / "out.csv", "export": tmp_path / "l.csv", "tag": book}[command]
    if command != "tag":
        target.write_text("old\n")
    before = target.read_bytes()
    args = {
        "apply": ["apply", big, "-t", book, "-o", target],
        "export": ["export", big, "--tag", "VIP", "-t", book, "-o", target],
        "tag": ["tag", "a@example.com", "--tag", "VIP", "-t", book],
    }[command]
    result = _invoke(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"ordertags: {target}: the disk is full (no space left)")
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".ordertags-tmp")]


def test_a_missing_output_folder_is_refused_before_recording(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "shop").workspace
    ws.rules.write_text("version: 1\nrules: []\n", encoding="utf-8")
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    result = _invoke("apply", tmp_path / "o.csv", "-w", ws.root, "-o", tmp_path / "no" / "out.csv")
    assert result.exit_code == 2
    assert f"there is no such folder {tmp_path / 'no'}" in result.stderr
    with ws.open_history() as h:
        assert h.stats().orders == 0  # nothing recorded


def test_other_os_errors_end_with_one_line_from_the_console_script(tmp_path: Path) -> None:
    # The last guard in main(): an OSError that escapes the library is one line.
    script = textwrap.dedent("""
        import sys
        from ordertags import cli
        def boom(*a, **k):
            raise OSError(5, "Input/output error", "disk.bin")
        cli.app = boom
        sys.argv = ["ordertags", "tags"]
        cli.main()
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        "ordertags: disk.bin: Input/output error. Nothing was written; run again with "
        "--verbose for the details.\n"
    )


# --- item 9: temp files of killed runs ------------------------------------------------------


def test_stale_temp_files_are_removed_and_ignored(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    (tmp_path / "tb.yaml").write_text(TAGBOOK, encoding="utf-8")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.csv.{dead_pid}.abcd1234.ordertags-tmp"
    live = tmp_path / f".out.csv.{os.getpid()}.efgh5678.ordertags-tmp"
    other = tmp_path / ".out.csv.123.tmp"  # not ordertags' naming: never touched
    for p in (stale, live, other):
        p.write_text("partial")
    result = _invoke(
        "apply", tmp_path / "o.csv", "-t", tmp_path / "tb.yaml", "-o", tmp_path / "out.csv"
    )
    assert result.exit_code == 0, result.stderr
    assert (stale.exists(), live.exists(), other.exists()) == (False, True, True)
    patterns = [ln for ln in GITIGNORE.splitlines() if ln and not ln.startswith("#")]
    assert any(fnmatch.fnmatch(stale.name, p) for p in patterns)


# --- two cron runs on one workspace --------------------------------------------------------


def test_a_second_run_waits_then_exits_3(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "shop").workspace
    ws.rules.write_text("version: 1\nrules: []\n", encoding="utf-8")
    (tmp_path / "o.csv").write_text(_orders(), encoding="utf-8")
    with run_lock(ws):
        started = time.perf_counter()
        result = _invoke(
            "apply", tmp_path / "o.csv", "-w", ws.root, "-o", tmp_path / "out.csv", "--wait", "0.3"
        )
        waited = time.perf_counter() - started
        ingest = _invoke("ingest", tmp_path / "o.csv", "-w", ws.root, "--wait", "0")
        # Reading runs do not wait: export and apply --no-record read a snapshot.
        reader = _invoke(
            "apply", tmp_path / "o.csv", "-w", ws.root, "-o", tmp_path / "r.csv", "--no-record"
        )
    assert result.exit_code == 3 and ingest.exit_code == 3
    assert waited >= 0.3
    assert result.stderr == (
        f"ordertags: another ordertags run is using the workspace {ws.root} (waited 0.3 s); "
        "this run did nothing. It will be done by the next run; if this happens every "
        "time, runs take longer than the cron interval: run less often, or give --wait "
        "more seconds.\n"
    )
    assert not (tmp_path / "out.csv").exists()
    assert reader.exit_code == 0, reader.stderr
    again = _invoke("apply", tmp_path / "o.csv", "-w", ws.root, "-o", tmp_path / "out.csv")
    assert again.exit_code == 0, again.stderr


# --- SIGKILL at random moments ----------------------------------------------------------------


def sigkill_rounds(tmp_path: Path, rounds: int, orders: int, seed: int = 7) -> dict[str, int]:
    """Kill ``apply`` (overwriting an output) and ``tag`` at random moments; the output is
    always the old or the complete new file, the tag book always valid with every
    acknowledged entry. Shared with benchmarks/run_hostile.py (more rounds, more orders)."""
    from ordertags.tagbook import load_tagbook

    rng = random.Random(seed)
    export = tmp_path / "o.csv"
    export.write_text(_orders(orders), encoding="utf-8")
    book = tmp_path / "tb.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    out = tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "ordertags"]
    subprocess.run(
        [*base, "apply", str(export), "-t", str(book), "-o", str(out), "-q"], env=env, check=True
    )
    old = out.read_bytes()
    (tmp_path / "other.csv").write_text(
        _orders(orders).replace(",ok\n", ",changed\n"), encoding="utf-8"
    )
    new_cmd = [*base, "apply", str(tmp_path / "other.csv"), "-t", str(book), "-o", str(out), "-q"]
    started = time.perf_counter()
    subprocess.run(new_cmd, env=env, check=True)
    apply_s = time.perf_counter() - started  # kill within the run, mostly its second half
    new = out.read_bytes()
    started = time.perf_counter()
    subprocess.run(
        [*base, "tag", "first@example.com", "--tag", "VIP", "-t", str(book)],
        env=env,
        check=True,
        capture_output=True,
    )
    tag_s = time.perf_counter() - started
    out.write_bytes(old)
    counts = {"apply_killed": 0, "apply_bad": 0, "tag_killed": 0, "tag_lost": 0, "invalid_yaml": 0}
    acknowledged: set[str] = {"first@example.com"}
    for i in range(rounds):
        proc = subprocess.Popen(new_cmd, env=env, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4 * apply_s, 1.0 * apply_s))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            counts["apply_killed"] += 1
        proc.wait()
        if out.read_bytes() not in (old, new):
            counts["apply_bad"] += 1
        out.write_bytes(old)
        email = f"k{i}@example.com"
        tag = subprocess.Popen(
            [*base, "tag", email, "--tag", "VIP", "-t", str(book)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.4 * tag_s, 1.0 * tag_s))
        if tag.poll() is None:
            tag.send_signal(signal.SIGKILL)
            counts["tag_killed"] += 1
        if tag.wait() == 0:
            acknowledged.add(email)
        try:
            emails = {e.email for e in load_tagbook(book).entries}
        except Exception:  # counted
            counts["invalid_yaml"] += 1
            continue
        counts["tag_lost"] += len(acknowledged - emails)
    # The next run cleans what the killed ones left.
    subprocess.run(new_cmd, env=env, check=True)
    counts["temp_left"] = len([p for p in tmp_path.iterdir() if p.name.endswith(".ordertags-tmp")])
    return counts


def test_sigkill_never_leaves_a_torn_output_or_tag_book(tmp_path: Path) -> None:
    counts = sigkill_rounds(tmp_path, rounds=2, orders=10_000)
    assert counts["apply_bad"] == 0
    assert counts["invalid_yaml"] == 0
    assert counts["tag_lost"] == 0
    assert counts["temp_left"] == 0
