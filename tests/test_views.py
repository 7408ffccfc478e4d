"""The fulfilment team's views: `show` in a terminal, the `report` page's document, the
xlsx spreadsheet, tag icons, the progress bar, and what an order needs (labels, the
customer's note, name, identity, set fields, hold) shown alike in each."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.reports.views import document_orders

from .conftest import ROOT, csv_text, read_csv

runner = CliRunner()

BOOK = """\
version: 1
tags:
  - name: FRAUD
    colour: red
    label: "FRAUD — hold"
    icon: "⚠"
    priority: 100
  - name: CLAIMED
    colour: orange
    label: "CLAIMED — ship tracked"
    priority: 90
  - name: VIP
    colour: gold
    label: "VIP — add a freebie"
    icon: "★"
    priority: 50
  - name: BIG
    colour: "#1f77b4"
    label: "BIG — pack with care"
    priority: 40
    scope: order
customers:
  - email: vip@example.com
    tags: [VIP]
    note: Wholesale buyer
  - email: mo@example.net
    tags: [CLAIMED]
    note: Claimed 2026-10-02
  - email: bad@example.org
    tags: [FRAUD]
"""
RULES = """\
version: 1
rules:
  - name: Big order
    when: {field: total, over: 150}
    tag: BIG
  - name: Claimers ship tracked
    when: {has_tag: CLAIMED}
    set: {shipping_service: Royal Mail Tracked 24}
  - name: Fraud held
    when: {has_tag: FRAUD}
    hold: Check with the owner
"""
HEADER = ["Order Id", "Customer Name", "Email", "Postcode", "Postal Service", "Total"]
HOSTILE = "<script>document.title='pwned'</script>"
ROWS = [
    ["1001", "Vera Ip", "VIP@example.com", "01067", "Royal Mail 2nd Class", "89.00"],
    ["1002", "Mo Brown", "mo@example.net", "SW3 4NX", "Evri Standard", "0.00"],
    ["1003", HOSTILE, "bad@example.org", "EH2 2PR", "Evri Standard", "640.00"],
    ["1004", "Ann Other", "ann@example.com", "LS1 4AP", "Royal Mail 1st Class", "200.00"],
    ["1005", "Pat Plain", "pat@example.com", "M1 1AA", "Royal Mail 2nd Class", "15.00"],
]
# Worked out by hand from the tag book and rules above (the Service as the rules left it).
PLAIN = (
    "Order\tCustomer Profile\tCustomer\tIdentity\tTotal\tService\tOrder Notes\tAction\n"
    "1001\t★ VIP — add a freebie — Wholesale buyer\tVera Ip\tVIP@example.com\t89.00"
    "\tRoyal Mail 2nd Class\t\t\n"
    "1002\tCLAIMED — ship tracked — Claimed 2026-10-02\tMo Brown\tmo@example.net\t0.00"
    "\tRoyal Mail Tracked 24\t\tPostal Service: Royal Mail Tracked 24\n"
    f"1003\t⚠ FRAUD — hold; BIG — pack with care\t{HOSTILE}\tbad@example.org\t640.00"
    "\tEvri Standard\t\tHOLD: Check with the owner\n"
    "1004\tBIG — pack with care\tAnn Other\tann@example.com\t200.00\tRoyal Mail 1st Class\t\t\n"
    "1005\t\tPat Plain\tpat@example.com\t15.00\tRoyal Mail 2nd Class\t\t\n"
)
COUNTS = "5 orders, 4 tagged: ⚠ FRAUD 1, CLAIMED 1, ★ VIP 1, BIG 2\n"
# The tag book's colours as 24-bit ANSI backgrounds (gold, orange, red, #1f77b4).
BACKGROUND = {
    "VIP": "48;2;255;215;0",
    "CLAIMED": "48;2;255;165;0",
    "FRAUD": "48;2;255;0;0",
    "BIG": "48;2;31;119;180",
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "tagbook.yaml").write_text(BOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    return tmp_path


def _args(shop: Path) -> list[str]:
    return [
        str(shop / "orders.csv"),
        "-t",
        str(shop / "tagbook.yaml"),
        "-r",
        str(shop / "rules.yaml"),
        "--as-of",
        "2026-11-26",
    ]


# --- show --------------------------------------------------------------------------------


def test_show_plain_on_a_pipe_is_exact(shop: Path) -> None:
    result = runner.invoke(app, ["show", *_args(shop)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == PLAIN
    assert result.stderr == COUNTS


def test_show_filters_by_tag_and_only_tagged(shop: Path) -> None:
    big = runner.invoke(app, ["show", *_args(shop), "--tag", "BIG"], catch_exceptions=False)
    assert [line.split("\t")[0] for line in big.stdout.splitlines()[1:]] == ["1003", "1004"]
    assert big.stderr == "2 orders of 5, 2 tagged: ⚠ FRAUD 1, BIG 2\n"
    tagged = runner.invoke(app, ["show", *_args(shop), "--only-tagged", "-q"])
    assert [line.split("\t")[0] for line in tagged.stdout.splitlines()[1:]] == [
        "1001",
        "1002",
        "1003",
        "1004",
    ]
    assert tagged.stderr == ""
    cols = runner.invoke(app, ["show", *_args(shop), "--columns", "Postcode,Total", "-q"])
    assert cols.stdout.splitlines()[0].split("\t")[4:6] == ["Postcode", "Total"]
    assert cols.stdout.splitlines()[1].split("\t")[4:6] == ["01067", "89.00"]
    unknown = runner.invoke(app, ["show", *_args(shop), "--tag", "NOPE"])
    assert unknown.exit_code == 2  # a name on the command line: bad usage
    assert 'tag "NOPE" is not in the tag book' in unknown.stderr


def test_show_with_colour_forced_paints_rows_in_the_tag_book_colours(shop: Path) -> None:
    result = runner.invoke(
        app, ["show", *_args(shop), "--colour", "always"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
        if plain[:4].isdigit():
            rows[plain[:4]] = line
    # Each tagged row's cells carry its first tag's colour, in contrasting text.
    assert BACKGROUND["VIP"] in rows["1001"] and "38;2;0;0;0" in rows["1001"]
    assert BACKGROUND["CLAIMED"] in rows["1002"]
    assert BACKGROUND["FRAUD"] in rows["1003"] and BACKGROUND["BIG"] not in rows["1003"]
    assert BACKGROUND["BIG"] in rows["1004"] and "38;2;255;255;255" in rows["1004"]
    assert "48;2" not in rows["1005"]
    # The hold and the forced service are bold (SGR 1).
    assert re.search(r"\x1b\[1;[0-9;]*mHOLD: Check with the owner", rows["1003"])
    assert re.search(r"\x1b\[1;[0-9;]*mPostal Service: Royal Mail Tracked 24", rows["1002"])


def test_show_fits_the_width_by_dropping_columns(shop: Path) -> None:
    from rich.cells import cell_len

    # Widths by hand: Order 5 (its title), Customer Profile 43 (CLAIMED's label and note),
    # Customer 20 (the long name, cut), Identity 15, Total 6, Service 20 (Royal Mail
    # Tracked 24, cut), Action 37; Order Notes is empty, left out; 2 between columns.
    # Taken by priority: Order, Action, Profile, Customer, Identity, Service, Total; one
    # that does not fit whole is cut to the room left if that is at least its least
    # (Profile 12, Customer 10), else dropped.
    for width, kept, dropped in (
        # 5+2+37 = 44; Profile gets the 14 left (cut); nothing else fits.
        (60, ["Order", "Customer Prof…", "Action"], ["Customer", "Identity", "Total"]),
        # 44+2+43 = 89; Customer (9 left, under its least 10), Identity, Service do not
        # fit, Total (+8) does.
        (100, ["Order", "Customer Profile", "Action", "Total"], ["Customer", "Identity"]),
        (200, ["Customer", "Identity", "Total", "Service", "Action"], ["Order Notes"]),
    ):
        result = runner.invoke(
            app, ["show", *_args(shop), "--colour", "always"], env={"COLUMNS": str(width)}
        )
        plain = [re.sub(r"\x1b\[[0-9;]*m", "", x) for x in result.stdout.splitlines()]
        # One line per order, a header and its rule: no row wrapped onto a second line.
        assert len(plain) == 2 + len(ROWS), plain
        assert max(cell_len(x) for x in plain) <= width
        header = re.split(r"\s{2,}", plain[0].strip())
        for title in kept:
            assert title in header, (width, title)
        for title in dropped:
            assert title not in header, (width, title)


def test_colour_mode_respects_no_color_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from ordertags.cli import views as cli

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._colour_mode("auto") == (True, "truecolor")
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._colour_mode("auto") == (True, None)
    assert cli._colour_mode("never") == (True, None)
    assert cli._colour_mode("always") == (True, "truecolor")


# --- the one model of what an order needs --------------------------------------------------


def test_every_view_says_the_same_about_an_order(shop: Path, tmp_path: Path) -> None:
    from ordertags.api import view_files
    from ordertags.reports.views import document_orders, view_document

    view = view_files(
        [shop / "orders.csv"],
        tagbook=shop / "tagbook.yaml",
        rules=shop / "rules.yaml",
    )
    orders = document_orders(view_document(view))
    by_id = {o["order"]: o for o in orders}
    assert by_id["1002"]["needs"] == (
        "CLAIMED — ship tracked — Claimed 2026-10-02 | Postal Service: Royal Mail Tracked 24"
    )
    assert by_id["1003"]["hold"] == "Check with the owner"
    assert by_id["1001"]["notes"] == ["Wholesale buyer"]
    assert by_id["1001"]["profile"] == "★ VIP — add a freebie — Wholesale buyer"
    # The CSV written by apply carries the same labels, icon first.
    out = tmp_path / "out.csv"
    runner.invoke(app, ["apply", *_args(shop), "-o", str(out), "-q"], catch_exceptions=False)
    profile = {r["Order Id"]: r["Customer Profile"] for r in read_csv(out)}
    assert profile == {o["order"]: o["profile"] for o in orders}
    assert profile["1003"] == "⚠ FRAUD — hold; BIG — pack with care"


def test_report_document_follows_its_schema_and_escapes(shop: Path, tmp_path: Path) -> None:
    import jsonschema

    page = tmp_path / "report.html"
    result = runner.invoke(app, ["report", *_args(shop), "-o", str(page)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == COUNTS.rstrip("\n") + f"; wrote {page}\n"
    text = page.read_text(encoding="utf-8")
    # Self-contained: nothing fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text
    # The hostile name is never markup: only its escaped form is in the page.
    assert "<script>document.title" not in text
    assert "\\u003cscript\\u003edocument.title" in text
    data = re.search(
        r'<script type="application/json" id="ordertags-data">(.*?)</script>', text, re.S
    )
    assert data is not None
    doc = json.loads(data.group(1))
    schema = json.loads(runner.invoke(app, ["schema", "report"]).stdout)
    jsonschema.validate(doc, schema)
    assert [o["name"] for o in document_orders(doc)][2] == HOSTILE
    assert {t["name"]: (t["background"], t["text"], t["orders"]) for t in doc["tags"]} == {
        "FRAUD": ("#ff0000", "#000000", 1),
        "CLAIMED": ("#ffa500", "#000000", 1),
        "VIP": ("#ffd700", "#000000", 1),
        "BIG": ("#1f77b4", "#ffffff", 2),
    }


# --- tag icons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("icon", "ok"), [("★", True), ("🎁", True), ("⚠️", True), ("VIP", False), ("* *", False)]
)
def test_tag_icon_is_a_short_symbol(tmp_path: Path, icon: str, ok: bool) -> None:
    from ordertags.errors import TagBookError
    from ordertags.tagbook import load_tagbook

    path = tmp_path / "book.yaml"
    path.write_text(
        f'version: 1\ntags:\n  - name: VIP\n    label: "VIP — freebie"\n    icon: "{icon}"\n',
        encoding="utf-8",
    )
    if ok:
        assert load_tagbook(path).tags["VIP"].display == f"{icon} VIP — freebie"
        return
    with pytest.raises(TagBookError) as err:
        load_tagbook(path)
    assert str(err.value) == (
        f'{path}, line 5, key tags[0].icon: "{icon}" is not an icon. Use one emoji or '
        "symbol, such as ★, ⚠ or 🎁 (words go in the label)."
    )


def test_tags_lists_icons(shop: Path) -> None:
    result = runner.invoke(app, ["tags", "-t", str(shop / "tagbook.yaml")])
    assert "★ VIP — add a freebie" in result.stdout


# --- xlsx ----------------------------------------------------------------------------------


def test_apply_xlsx_fills_freezes_and_keeps_values(shop: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "out.xlsx"
    result = runner.invoke(
        app,
        ["apply", *_args(shop), "-o", str(out), "--output-format", "xlsx", "-q"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:J6"
    rows = [[c.value if c.value is not None else "" for c in r] for r in ws.iter_rows()]
    # Order id first, then the profile; every other column in its own order, as text.
    assert rows[0] == [
        "Order Id",
        "Customer Profile",
        "Customer Name",
        "Email",
        "Postcode",
        "Postal Service",
        "Total",
        "Customer Tags",
        "Tag Colour",
        "Hold",
    ]
    assert rows[1][:7] == [
        "1001",
        "★ VIP — add a freebie — Wholesale buyer",
        "Vera Ip",
        "VIP@example.com",
        "01067",
        "Royal Mail 2nd Class",
        "89.00",
    ]
    assert rows[2][5] == "Royal Mail Tracked 24"  # set by the rule
    assert rows[3][2] == HOSTILE and rows[3][9] == "Check with the owner"
    assert all(isinstance(v, str) for r in rows for v in r)
    fills = {r[0].value: (r[0].fill.fgColor.rgb, r[0].font.color) for r in ws.iter_rows(min_row=2)}
    assert fills["1001"][0] == "FFFFD700" and fills["1001"][1].rgb == "FF000000"
    assert fills["1003"][0] == "FFFF0000"
    assert fills["1004"][0] == "FF1F77B4" and fills["1004"][1].rgb == "FFFFFFFF"
    assert ws["A6"].fill.fill_type is None  # 1005: no tag, no fill
    # Every cell of a tagged row is filled, not only the first.
    assert {c.fill.fgColor.rgb for c in ws[2]} == {"FFFFD700"}

    # Widths in characters (the longest text and 2 more), stored as Excel stores them:
    # ECMA-376 18.3.1.13, truncate((chars * 7 + 5 pixels of padding) / 7 * 256) / 256,
    # 7 pixels being the widest digit of the default font (Calibri 11).
    def stored(chars: int) -> float:
        return int((chars * 7 + 5) / 7 * 256) / 256

    claimed = len("CLAIMED — ship tracked — Claimed 2026-10-02") + 2
    assert ws.column_dimensions["B"].width == stored(claimed)
    assert ws.column_dimensions["E"].width == stored(len("Postcode") + 2)


def test_export_xlsx_colours_each_customer(shop: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "list.xlsx"
    result = runner.invoke(
        app,
        ["export", *_args(shop), "--tag", "BIG", "-o", str(out), "--output-format", "xlsx"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[0] == "Email Address" and header[-1] == "Tag Colour"
    # The customers with a BIG order, each in their highest priority tag's colour.
    emails = {r[0].value: r[0].fill.fgColor.rgb for r in ws.iter_rows(min_row=2)}
    assert emails == {"bad@example.org": "FFFF0000", "ann@example.com": "FF1F77B4"}


def test_xlsx_is_refused_for_dry_run_and_unknown_formats(shop: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.xlsx")
    dry = runner.invoke(
        app, ["apply", *_args(shop), "-o", out, "--output-format", "xlsx", "--dry-run"]
    )
    assert dry.exit_code == 2
    bad = runner.invoke(
        app, ["export", *_args(shop), "--tag", "VIP", "-o", out, "--output-format", "json"]
    )
    assert bad.exit_code == 2


# --- a workspace: the history merges the customer across channels ---------------------------


def test_show_reads_the_workspace_history(tmp_path: Path) -> None:
    from .test_workspace_cli import HEADER as WH
    from .test_workspace_cli import PAST, TODAY

    assert runner.invoke(app, ["init", str(tmp_path / "ws")]).exit_code == 0
    ws = tmp_path / "ws"
    (tmp_path / "past.csv").write_text(csv_text(WH, PAST), encoding="utf-8")
    (tmp_path / "today.csv").write_text(csv_text(WH, TODAY), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "past.csv"), "-w", str(ws)]).exit_code == 0
    tagged = runner.invoke(
        app, ["tag", "jdoe@work.example", "--tag", "VIP", "--note", "Wholesale", "-w", str(ws)]
    )
    assert tagged.exit_code == 0, tagged.stderr
    today = str(tmp_path / "today.csv")
    # Order 9 is janedoe+x@gmail.com: the history knows her as jdoe@work.example too (the
    # same phone), who is the VIP with the note.
    result = runner.invoke(app, ["show", today, "-w", str(ws), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    row = result.stdout.splitlines()[1].split("\t")
    # Her spend across the history (700 + 350 + 5) makes her a big spender too.
    assert row[:4] == [
        "9",
        "VIP — handwritten note and a freebie; BIG SPENDER — add a freebie — Wholesale",
        "Jane Doe",
        "janedoe+x@gmail.com",
    ]
    # Without the workspace the order is a stranger's.
    alone = runner.invoke(app, ["show", today, "-t", str(ws / "tagbook.yaml"), "-q"])
    assert alone.stdout.splitlines()[1].split("\t")[1] == ""
    # Reading is all: nothing was recorded.
    assert (
        "9"
        not in runner.invoke(app, ["customer", "janedoe@gmail.com", "-w", str(ws)]).stdout.split()
    )


# --- progress ----------------------------------------------------------------------------


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """Run ordertags with stderr on a pseudo-terminal; what the terminal showed."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    proc = subprocess.run(
        [sys.executable, "-m", "ordertags", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_only(shop: Path, tmp_path: Path) -> None:
    args = ["apply", *_args(shop), "-o", str(tmp_path / "o.csv")]
    shown = _on_a_terminal(args, tmp_path)
    assert "reading" in shown and "bytes" in shown
    assert "read 5 orders" in shown  # the summary follows
    quiet = _on_a_terminal([*args, "--quiet"], tmp_path)
    assert quiet == ""
    piped = runner.invoke(app, args)  # stderr is no terminal: the summary alone
    assert piped.stderr.startswith("read 5 orders from")
    assert "reading" not in piped.stderr


def test_xlsx_cells_are_text_never_formulas() -> None:
    import io

    import pyarrow as pa
    from openpyxl import load_workbook

    from ordertags.io.xlsx import write_xlsx

    buf = io.BytesIO()
    write_xlsx(
        buf, ["Name", "Zip"], [pa.array(['=HYPERLINK("x","y")', "-1"]), pa.array(["0012", "1e5"])]
    )
    buf.seek(0)
    ws = load_workbook(buf).active
    cells = [(c.value, c.data_type) for row in ws.iter_rows(min_row=2) for c in row]
    assert cells == [('=HYPERLINK("x","y")', "s"), ("0012", "s"), ("-1", "s"), ("1e5", "s")]
