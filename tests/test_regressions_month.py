"""Regressions of issue 9 ("a multi-channel seller's month"), one test per bullet:
dates never guessed silently, encodings detected, the packer sees the customer's
note, the profile columns where packers look."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from ordertags.cli import app

from .conftest import read_csv

runner = CliRunner()

TAGBOOK = """\
version: 1
tags:
  - name: VIP
    colour: gold
    label: VIP
    priority: 50
  - name: RECENT
    colour: teal
    label: RECENT
    priority: 10
customers:
  - email: surfer@example.com
    tags: [VIP]
    note: Buys a board every season; add free wax
"""
RECENT = """\
version: 1
rules:
  - name: Ordered in the last month
    when: {field: date, within_days: 31}
    tag: RECENT
"""


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def files(tmp_path: Path) -> tuple[Path, Path]:
    book, rules = tmp_path / "tagbook.yaml", tmp_path / "rules.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    rules.write_text(RECENT, encoding="utf-8")
    return book, rules


# --- dates never guessed silently -------------------------------------------------------------

LINNWORKS_DAY_FIRST = (
    "Order Id,Reference Num,Source,Received Date,Customer Name,Email,Total,Currency\n"
    "10451,202-4417730-1180323,AMAZON,05/11/2026,Sam Surf,surfer@example.com,56.49,GBP\n"
    "10452,#1042,SHOPIFY,01/03/2026,Kim Lee,kim@example.com,20.00,GBP\n"
)


def test_day_first_file_with_only_ambiguous_dates(tmp_path: Path) -> None:
    """Every day is 12 or less: the data cannot tell. Without a region the run says
    which style it assumed, naming the file; the region (GB: day first) or --date-style
    decides, and inspect prints the style and where it came from."""
    book, rules = files(tmp_path)
    src = tmp_path / "linnworks.csv"
    src.write_text(LINNWORKS_DAY_FIRST, encoding="utf-8")
    out = tmp_path / "out.csv"
    base = ["apply", src, "-t", book, "-r", rules, "-o", out, "--as-of", "2026-11-20"]
    # 05/11/2026 is 5 November in the UK: within 31 days of 20 November.
    for extra in (["--default-region", "GB"], ["--date-style", "day-first"]):
        result = run(*base, *extra)
        assert result.exit_code == 0, result.stderr
        assert "warning" not in result.stderr
        assert "RECENT" in read_csv(out)[0]["Customer Tags"]
    # Nothing says: read month first (slashes), with one warning naming file and style.
    result = run(*base)
    assert result.exit_code == 0
    assert result.stderr.count("warning:") == 1
    assert (
        f"warning: {src} (Received Date): every date could be day-first or month-first; "
        "read as month-first." in result.stderr
    )
    assert "RECENT" not in read_csv(out)[0]["Customer Tags"]
    shown = run("inspect", src, "--default-region", "GB")
    assert "date style: day-first (region GB)" in shown.stdout
    assert "2026-11-05 00:00:00" in shown.stdout
    shown = run("inspect", src)
    assert "date style: month-first (assumed)" in shown.stdout
    assert "warning:" in shown.stdout


def test_the_dates_themselves_and_a_mapping_decide(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Order Id,Email,Date,Total\n1,a@b.com,25/11/2026,1\n2,c@d.com,01/02/2026,2\n")
    shown = run("inspect", src)
    assert "date style: day-first (the dates themselves)" in shown.stdout
    assert "warning" not in shown.stdout
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns: {Date: date}\ndates: month-first\n")
    src.write_text("Order Id,Email,Date,Total\n1,a@b.com,05/11/2026,1\n")
    shown = run("inspect", src, "--mapping", mapping)
    assert "date style: month-first (mapping file map.yaml)" in shown.stdout


def test_bad_date_style_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("Email,Date\na@b.com,05/11/2026\n")
    result = run("inspect", src, "--date-style", "sideways")
    assert result.exit_code == 2
    assert "use day-first or month-first" in result.stderr


# --- encodings ----------------------------------------------------------------------------------

EBAY_DE = (
    "Verkaufsprotokollnummer;Bestellnummer;Nutzername des Käufers;Name des Käufers;"
    "Gesamtbetrag;Verkauft am\n"
    "1;12-34567-89012;brett_k;Jörg Müller;116,99 €;10-Dez-25\n"
    "2;12-34567-89013;anna_s;Anna Größe;12,00 €;11-Dez-25\n"
)


def test_windows_1252_ebay_de_export_applied_with_no_flags(tmp_path: Path) -> None:
    """The platform always writes Windows-1252: read, named in the summary and in
    inspect, and written back in it, byte for byte."""
    book, rules = files(tmp_path)
    rules.write_text(
        "version: 1\nrules:\n  - name: big\n    when: {field: total, over: 100}\n    tag: VIP\n"
    )
    src = tmp_path / "ebay_de.csv"
    raw = EBAY_DE.encode("cp1252")
    src.write_bytes(raw)
    out = tmp_path / "out.csv"
    result = run("apply", src, "-t", book, "-r", rules, "-o", out, "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.stderr
    assert (
        f"read 2 orders from {src} (csv, eBay orders report (German), "
        "cp1252 (ebay-de writes it))" in result.stderr
    )
    written = out.read_bytes()
    in_lines, out_lines = raw.split(b"\n"), written.split(b"\n")
    assert out_lines[0] == in_lines[0] + b";Customer Tags;Customer Profile;Tag Colour"
    assert out_lines[1] == in_lines[1] + b";VIP;VIP;gold"
    assert out_lines[2] == in_lines[2] + b";;;"
    shown = run("inspect", src)
    assert "cp1252 (ebay-de writes it)" in shown.stdout
    forced = run("apply", src, "-t", book, "-o", out, "--encoding", "latin-1")
    assert forced.exit_code == 0 and "latin-1" not in forced.stderr.split("(csv")[0]


def test_an_unknown_platform_in_a_legacy_encoding_is_detected(tmp_path: Path) -> None:
    book, _ = files(tmp_path)
    src = tmp_path / "o.csv"
    src.write_bytes("Order Id,Email,Name\n1,surfer@example.com,Zoë Faß\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    result = run("apply", src, "-t", book, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "(csv, cp1252 (detected))" in result.stderr
    assert out.read_bytes().split(b"\n")[1] == (
        b"1,surfer@example.com,Zo\xeb Fa\xdf,VIP,VIP \x97 Buys a board every season; "
        b"add free wax,gold"
    )


# --- the packer sees what matters ---------------------------------------------------------------


def test_profile_carries_the_note_and_columns_can_come_first(tmp_path: Path) -> None:
    book, _ = files(tmp_path)
    src = tmp_path / "shopify.csv"
    src.write_text(
        "Name,Email,Financial Status,Total,Lineitem name,Lineitem quantity,Lineitem price,Notes\n"
        "#1042,surfer@example.com,paid,420.00,Board,1,420.00,\n"
        "#1042,surfer@example.com,,,Wax,1,0.00,\n"
        "#1043,kim@example.com,paid,10.00,Wax,1,10.00,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = run("apply", src, "-t", book, "-o", out, "--profile-columns", "first")
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "Name,Customer Tags,Customer Profile,Tag Colour,Email,Financial Status,Total,"
        "Lineitem name,Lineitem quantity,Lineitem price,Notes"
    )
    profile = "VIP — Buys a board every season; add free wax"
    assert lines[1] == f"#1042,VIP,{profile},gold,surfer@example.com,paid,420.00,Board,1,420.00,"
    assert lines[2].startswith(f"#1042,VIP,{profile},gold,")
    assert lines[3].startswith("#1043,,,,kim@example.com")
    # The default keeps them last (safe to re-import); a second run refreshes them in place.
    again = run("apply", out, "-t", book, "-o", tmp_path / "again.csv")
    assert again.exit_code == 0
    assert (tmp_path / "again.csv").read_text().splitlines()[0] == lines[0]
    last = run("apply", src, "-t", book, "-o", out)
    assert last.exit_code == 0
    assert (
        out.read_text().splitlines()[0].endswith(",Notes,Customer Tags,Customer Profile,Tag Colour")
    )
    bad = run("apply", src, "-t", book, "-o", out, "--profile-columns", "middle")
    assert bad.exit_code == 2
