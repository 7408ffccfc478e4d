"""Issue 23, "what the probe found in what exists": each item's regression test.

Expected figures are worked out here by hand (or with ``decimal``), never copied from
ordertags' output."""

from __future__ import annotations

import datetime as dt
import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.errors import InputError, OrderTagsError, UsageError

from .hostile import HEADER, RULES, TAGBOOK, _orders

runner = CliRunner()
CONTROLS = "\x1b]0;PWNED\x07\x1b[2J\x9b6n\x1b]8;;http://evil.example\x07"


def _invoke(*args: object, color: bool = False) -> Result:
    return runner.invoke(app, [str(a) for a in args], color=color)


def _books(d: Path) -> tuple[Path, Path]:
    (d / "tb.yaml").write_text(TAGBOOK, encoding="utf-8")
    (d / "rules.yaml").write_text(RULES, encoding="utf-8")
    return d / "tb.yaml", d / "rules.yaml"


def _export(d: Path, n: int = 6) -> Path:
    (d / "o.csv").write_text(_orders(n), encoding="utf-8")
    return d / "o.csv"


# --- outputs naming a device or a FIFO: written as a stream, never renamed over ------------


def test_a_fifo_output_is_written_as_a_stream_not_replaced(tmp_path: Path) -> None:
    book, rules = _books(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = _invoke("apply", _export(tmp_path), "-t", book, "-r", rules, "-o", fifo, "-q")
    reader.join(10)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO
    lines = got[0].decode("utf-8").splitlines()
    assert len(lines) == 7 and lines[0].startswith("Order Id,Email,Name,Total,Notes")


@pytest.mark.parametrize("command", ["apply", "list", "report"])
def test_dev_null_stays_a_device(tmp_path: Path, command: str) -> None:
    book, rules = _books(tmp_path)
    export = _export(tmp_path)
    before = os.stat("/dev/null")
    args = {
        "apply": ["apply", export, "-t", book, "-r", rules, "-o", "/dev/null"],
        "list": [
            "apply",
            export,
            "-t",
            book,
            "-r",
            rules,
            "-o",
            tmp_path / "a.csv",
            "--list",
            "/dev/null:VIP",
        ],  # fmt: skip
        "report": ["report", export, "-t", book, "-r", rules, "-o", "/dev/null"],
    }[command]
    result = _invoke(*args, "-q")
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


def test_a_folder_as_the_output_is_refused(tmp_path: Path) -> None:
    book, rules = _books(tmp_path)
    (tmp_path / "out").mkdir()
    result = _invoke("apply", _export(tmp_path), "-t", book, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "it is a folder, not a file" in result.stderr


# --- temp files of a killed write: removed by the next write into the folder -----------


def test_a_killed_writes_temp_file_goes_with_the_next_write_of_another_file(
    tmp_path: Path,
) -> None:
    book, rules = _books(tmp_path)
    # What a write of yesterday's dated output, killed, left behind (a process gone).
    stale = tmp_path / ".2026-01-01.csv.999999999.abc123.ordertags-tmp"
    stale.write_text("half")
    other = tmp_path / "notes.ordertags-tmp"  # not of ordertags' naming: kept
    other.write_text("mine")
    result = _invoke("apply", _export(tmp_path), "-t", book, "-o", tmp_path / "2026-01-02.csv")
    assert result.exit_code == 0, result.stderr
    assert not stale.exists()
    assert other.exists()


# --- terminal escape sequences from the data --------------------------------------------


def _hostile_workspace(tmp_path: Path) -> tuple[Path, Path]:
    ws = tmp_path / "ws"
    assert _invoke("init", ws).exit_code == 0
    export = tmp_path / "e.csv"
    export.write_text(
        "Order Id,Date,Email,Name,Total,Notes\n"
        f'1,2026-01-02,a@example.com,"Ann{CONTROLS}",10.00,"note{CONTROLS}"\n',
        encoding="utf-8",
    )
    book = ws / "tagbook.yaml"
    text = book.read_text(encoding="utf-8")
    text = text.replace(
        'label: "VIP — handwritten note and a freebie"', 'label: "VIP\\e]0;LABEL\\a\\x9b2J"'
    )
    book.write_text(text, encoding="utf-8")
    tagged = _invoke("tag", "a@example.com", "--tag", "VIP", "--note", "hand\x1b]0;NOTE\x07\x1b[2J",
                     "-w", ws)  # fmt: skip
    assert tagged.exit_code == 0, tagged.stderr
    done = _invoke("ingest", export, "-w", ws)
    assert done.exit_code == 0, done.stderr
    return ws, export


@pytest.mark.parametrize("color", [True, False], ids=["terminal", "piped"])
@pytest.mark.parametrize(
    "command",
    ["show", "show-colour", "tags", "customer", "explain", "customers", "inspect"],
)
def test_no_control_character_of_the_data_reaches_the_terminal(
    tmp_path: Path, command: str, color: bool
) -> None:
    ws, export = _hostile_workspace(tmp_path)
    args = {
        "show": ["show", export, "-w", ws],
        "show-colour": ["show", export, "-w", ws, "--colour", "always"],
        "tags": ["tags", "-w", ws],
        "customer": ["customer", "a@example.com", "-w", ws],
        "explain": ["explain", "1", export, "-w", ws],
        "customers": ["customers", "-w", ws],
        "inspect": ["inspect", export],
    }[command]
    result = _invoke(*args, color=color)
    assert result.exit_code == 0, result.stderr
    shown = result.stdout + result.stderr
    for bad in ("\x1b]", "\x07", "\x9b", "\x1b[2J"):
        assert bad not in shown, (command, bad)
    if command in ("tags", "customer", "explain"):
        assert "\\x1b]0;" in shown  # shown as an escape: the seller sees what is there


# --- money too large for a sum -----------------------------------------------------------


def test_an_amount_of_a_trillion_is_a_message_naming_its_row(tmp_path: Path) -> None:
    book, rules = _books(tmp_path)
    export = tmp_path / "m.csv"
    export.write_text(
        HEADER + "1,a@example.com,A,12.00,ok\n2,b@example.com,B,920000000000000.00,ok\n"
    )
    result = _invoke("apply", export, "-t", book, "-r", rules, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert 'm.csv, row 3, column "Total": "920000000000000.00" is too large' in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.csv").exists()


def test_a_spend_too_large_to_count_is_a_message_not_a_wrong_tag(tmp_path: Path) -> None:
    book, _ = _books(tmp_path)
    spend = tmp_path / "spend.yaml"
    spend.write_text(
        "version: 1\nrules:\n  - name: big\n    when: {customer: spend, over: 1000}\n    tag: VIP\n"
    )
    amount = "999999999999.00"  # under the bound; 1,000 of them are not countable
    export = tmp_path / "m.csv"
    export.write_text(
        HEADER + "".join(f"{i},a@example.com,A,{amount},ok\n" for i in range(1000)),
        encoding="utf-8",
    )
    from decimal import Decimal

    assert Decimal(amount) * 1000 * 10_000 > 2**63  # ten-thousandths overflow int64
    result = _invoke("apply", export, "-t", book, "-r", spend, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "add up to more money than can be counted" in result.stderr
    # Twelve near the bound still add up, exactly, and tag.
    export.write_text(
        HEADER + "".join(f"{i},a@example.com,A,{amount},ok\n" for i in range(12)),
        encoding="utf-8",
    )
    result = _invoke("apply", export, "-t", book, "-r", spend, "-o", tmp_path / "x.csv")
    assert result.exit_code == 0, result.stderr
    rows = (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 12 and all(",VIP," in r for r in rows)


# --- in_file naming a folder; the last-resort handler ----------------------------------


def test_in_file_naming_a_folder_is_a_clear_message(tmp_path: Path) -> None:
    book, _ = _books(tmp_path)
    (tmp_path / "adir").mkdir()
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: r\n    when: {field: email, in_file: adir}\n    tag: VIP\n"
    )
    result = _invoke("apply", _export(tmp_path), "-t", book, "-r", rules, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "adir is a folder. Give a text file" in result.stderr


def test_the_last_resort_handler_takes_a_numeric_filename(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ordertags.cli as cli

    def boom() -> None:
        raise IsADirectoryError(21, "Is a directory", 7)  # an fd as the filename

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.setattr(os, "_exit", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 1
    assert capsys.readouterr().err.startswith("ordertags: 7: Is a directory. Nothing was written")


# --- a short row ending in an open quote -------------------------------------------------


def test_a_short_row_with_an_open_quote_does_not_swallow_the_next_order(tmp_path: Path) -> None:
    book, _ = _books(tmp_path)
    export = tmp_path / "q.csv"
    export.write_text(
        "Order Id,Total,Name,Email\n"
        '1,10.00,"Ann\n'  # a field short, and its quote never closed...
        '2,20.00,Bob",bob@example.com\n'  # ...until a stray quote in the next order
        "3,30.00,Cy,c@example.com\n",
        encoding="utf-8",
    )
    result = _invoke("apply", export, "-t", book, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "q.csv, row 2: a double quote opened a value in this row" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_an_address_over_two_lines_is_still_read(tmp_path: Path) -> None:
    book, _ = _books(tmp_path)
    export = tmp_path / "q.csv"
    export.write_text(
        HEADER + '1,a@example.com,Ann,10.00,"Flat 2\n12 Rose St, Leeds, LS1 4AP"\n'
        "2,b@example.com,Bob,20.00,ok\n",
        encoding="utf-8",
    )
    result = _invoke("apply", export, "-t", book, "-o", tmp_path / "x.csv")
    assert result.exit_code == 0, result.stderr
    assert "read 2 orders" in result.stderr


# --- lint refuses what apply refuses ---------------------------------------------------


@pytest.mark.parametrize("pattern", ["(", "[", "a{1001}", "\\\\Z"])
def test_lint_refuses_the_regexes_apply_refuses(tmp_path: Path, pattern: str) -> None:
    book, _ = _books(tmp_path)
    rules = tmp_path / "r.yaml"
    rules.write_text(
        f'version: 1\nrules:\n  - name: r\n    when: {{field: Name, matches: "{pattern}"}}\n'
        "    tag: VIP\n"
    )
    linted = _invoke("lint", "-r", rules, "-t", book)
    applied = _invoke("apply", _export(tmp_path), "-t", book, "-r", rules, "-o", tmp_path / "x.csv")
    assert applied.exit_code == 1 and "cannot be used" in applied.stderr
    assert linted.exit_code == 1
    assert "cannot be used" in linted.stdout + linted.stderr


# --- the Python API's arguments ----------------------------------------------------------


def test_the_api_refuses_bad_arguments_with_its_own_errors(tmp_path: Path) -> None:
    import pandas as pd
    import pyarrow as pa

    from ordertags.api import annotate, apply_files, export_list

    book, rules = _books(tmp_path)
    export = _export(tmp_path)
    out = tmp_path / "x.csv"
    with pytest.raises(UsageError, match="not a file mode"):
        apply_files([export], tagbook=book, output=out, mode=-1)
    with pytest.raises(UsageError, match="not a file mode"):
        apply_files([export], tagbook=book, output=out, mode=0o4777)
    with pytest.raises(UsageError, match="not a file mode"):
        export_list([export], tagbook=book, output=out, tags=["VIP"], mode=-1)
    assert not out.exists()
    with pytest.raises(UsageError, match="tagbook must be a path"):
        apply_files([export], tagbook=None, output=out)  # type: ignore[arg-type]
    table = pa.table({"Order Id": ["1"], "Email": ["a@example.com"], "Total": [5.0]})
    with pytest.raises(UsageError, match="tagbook must be a path"):
        annotate(table, tagbook=None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="as_of must be a datetime.date"):
        annotate(table, tagbook=book, as_of="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="as_of must be a datetime.date"):
        apply_files([export], tagbook=book, output=out, as_of=dt.datetime(2026, 1, 1))
    frame = pd.DataFrame([["1", "a@example.com", "b@example.com", 5.0]])
    frame.columns = ["Order Id", "Email", "Email", "Total"]
    with pytest.raises(InputError, match="more than one column named 'Email'"):
        annotate(frame, tagbook=book)
    with pytest.raises(UsageError, match="cannot wait"):
        apply_files([export], tagbook=book, output=out, wait=float("nan"))


# --- --wait --------------------------------------------------------------------------------


@pytest.mark.parametrize("wait", ["-1", "inf", "1e12", "nan"])
def test_wait_is_bounded(tmp_path: Path, wait: str) -> None:
    book, _ = _books(tmp_path)
    result = _invoke("apply", _export(tmp_path), "-t", book, "-o", tmp_path / "x.csv",
                     "--wait", wait)  # fmt: skip
    assert result.exit_code == 2
    assert "--wait" in result.stderr and "Give 0 to 86400 seconds" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.csv").exists()


# --- a full disk on a --list: nothing in place, as the message says ---------------------


def test_a_full_disk_on_a_list_leaves_every_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempfile.mkstemp

    def mkstemp(
        suffix: str | None = None,
        prefix: str | None = None,
        dir: str | os.PathLike[str] | None = None,
        text: bool = False,
    ) -> tuple[int, str]:
        fd, name = real(suffix=suffix, prefix=prefix, dir=dir, text=text)
        if prefix and prefix.startswith(".vips.csv."):  # only the list's disk is full
            os.close(fd)
            return os.open("/dev/full", os.O_WRONLY), name
        return fd, name

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    monkeypatch.setattr("ordertags.base.files.tempfile.mkstemp", mkstemp)
    book, rules = _books(tmp_path)
    out, vips = tmp_path / "a.csv", tmp_path / "vips.csv"
    out.write_text("old annotated\n")
    result = _invoke("apply", _export(tmp_path), "-t", book, "-r", rules, "-o", out,
                     "--list", f"{vips}:VIP")  # fmt: skip
    assert result.exit_code == 1
    assert "the disk is full (no space left): nothing was written" in result.stderr
    assert out.read_text() == "old annotated\n"  # as the message says
    assert not vips.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".ordertags-tmp")]


# --- report --title, init, NUL past the sample ---------------------------------------------


def test_report_title_is_not_read_for_the_pages_placeholders(tmp_path: Path) -> None:
    book, rules = _books(tmp_path)
    page = tmp_path / "r.html"
    title = "Packing {{data}} {{style}} {{script}}"
    result = _invoke("report", _export(tmp_path), "-t", book, "-r", rules, "-o", page,
                     "--title", title)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in html
    assert html.count("<style>") == 1 and html.count('<script type="application/json"') <= 1


def test_init_makes_an_existing_open_folder_owner_only(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    shop.chmod(0o755)
    result = _invoke("init", shop)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(shop.stat().st_mode) == 0o700
    assert "made the folder" in result.stderr and "it was 0755" in result.stderr


@pytest.mark.parametrize("command", ["apply", "ingest"])
def test_a_nul_byte_past_the_first_64_kb_is_refused(tmp_path: Path, command: str) -> None:
    book, _ = _books(tmp_path)
    rows = [f"{i},c{i}@example.com,Name {i},10.00,ok\n" for i in range(1, 3001)]
    rows.append("3001,z@example.com,Ze\x00d,10.00,ok\n")
    text = HEADER + "".join(rows)
    assert text.index("\x00") > 64 * 1024
    export = tmp_path / "nul.csv"
    export.write_text(text, encoding="utf-8")
    if command == "apply":
        result = _invoke("apply", export, "-t", book, "-o", tmp_path / "x.csv")
        assert not (tmp_path / "x.csv").exists()
    else:
        assert _invoke("init", tmp_path / "ws").exit_code == 0
        result = _invoke("ingest", export, "-w", tmp_path / "ws")
    assert result.exit_code == 1
    assert "nul.csv, row 3002: a value in this row holds a NUL byte" in result.stderr


def test_errors_stay_order_tags_errors() -> None:
    assert issubclass(InputError, OrderTagsError) and issubclass(UsageError, OrderTagsError)
