"""Regressions of issue 9 ("a multi-channel seller's month"), one test per bullet:
dates never guessed silently, encodings detected, the packer sees the customer's
note, the profile columns where packers look."""

from __future__ import annotations

import datetime as dt
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
    base: list[str | Path] = [
        "apply",
        src,
        "-t",
        book,
        "-r",
        rules,
        "-o",
        out,
        "--as-of",
        "2026-11-20",
    ]
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


# --- money by the platform's rules ------------------------------------------------------------

AMAZON_HEADER = (
    "order-id\torder-item-id\tpurchase-date\tbuyer-email\tsku\tquantity-purchased\tcurrency\t"
    "item-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\t"
    "item-promotion-discount\tship-promotion-discount\tsales-channel\n"
)


def test_vat_inclusive_amazon_uk_order_and_tax_exclusive_us(tmp_path: Path) -> None:
    """Amazon.co.uk prices include VAT (item-tax is the VAT inside them): 52.50 + 3.99
    is 56.49, not 65.90; a 1,025 board stays 1,025. Amazon.com adds tax on top;
    promotions come off (their size, whatever the sign), gift wrap is part of the order."""
    from ordertags.engine.frame import Frame
    from ordertags.io.readers import read_orders

    src = tmp_path / "amazon.txt"
    src.write_text(
        AMAZON_HEADER
        + "202-4417730-1180323\t1\t2026-11-05T10:00:00+00:00\ta@marketplace.amazon.co.uk\tWAX\t1\t"
        "GBP\t52.50\t8.75\t3.99\t0.66\t\t\t\t\tAmazon.co.uk\n"
        + "202-0000000-0000001\t1\t2026-11-06T10:00:00+00:00\tb@marketplace.amazon.co.uk\tBRD\t1\t"
        "GBP\t1025.00\t170.83\t0.00\t0.00\t\t\t\t\tAmazon.co.uk\n"
        + "111-0000000-0000002\t1\t2026-11-07T10:00:00+00:00\tc@marketplace.amazon.com\tBRD\t1\t"
        "USD\t100.00\t8.25\t5.00\t0.41\t3.00\t0.25\t-10.00\t5.00\tAmazon.com\n"
        + "306-0000000-0000003\t1\t2026-11-08T10:00:00+00:00\td@marketplace.amazon.de\tFIN\t2\t"
        "EUR\t40.00\t6.39\t4.99\t0.80\t2.50\t0.40\t4.00\t\tAmazon.de\n",
        encoding="utf-8",
    )
    frame = Frame([read_orders(src)], as_of=dt.date(2026, 11, 20))
    # US: 100 + 8.25 + 5 + 0.41 + 3 + 0.25 - 10 - 5 = 101.91; DE: 40 + 4.99 + 2.50 - 4 = 43.49.
    assert frame.money.numbers(field="total").tolist() == [56.49, 1025.0, 101.91, 43.49]


# --- notes go where the platform keeps them --------------------------------------------------

WOO_HEADER = "order_id,order_number,order_date,order_total,order_currency,billing_email,billing_phone,billing_country,order_notes\n"


def test_notes_go_to_the_platforms_own_notes_column(tmp_path: Path) -> None:
    """WooCommerce keeps notes in order_notes: the rule's note is appended there, and
    no copy of the column is added; an export with no notes column gets Order Notes; a
    rule file can name another column."""
    book, rules = files(tmp_path)
    rules.write_text(
        "version: 1\nrules:\n  - name: wax\n    when: {field: total, over: 10}\n"
        "    note: Add free wax\n"
    )
    woo = tmp_path / "woo.csv"
    woo.write_text(
        WOO_HEADER + "1,1001,2026-11-05 10:00:00,25.00,EUR,a@example.com,,DE,paid by card\n"
    )
    out = tmp_path / "out.csv"
    result = run("apply", woo, "-t", book, "-r", rules, "-o", out)
    assert result.exit_code == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == WOO_HEADER.strip() + ",Customer Tags,Customer Profile,Tag Colour"
    assert lines[1].endswith(",paid by card; Add free wax,,,")
    plain = tmp_path / "plain.csv"
    plain.write_text("Order Id,Email,Total\n1,a@example.com,25.00\n")
    assert run("apply", plain, "-t", book, "-r", rules, "-o", out).exit_code == 0
    assert out.read_text().splitlines() == [
        "Order Id,Email,Total,Customer Tags,Customer Profile,Tag Colour,Order Notes",
        "1,a@example.com,25.00,,,,Add free wax",
    ]
    rules.write_text(
        rules.read_text().replace("version: 1\n", "version: 1\nnotes_column: Packer\n")
    )
    assert run("apply", woo, "-t", book, "-r", rules, "-o", out).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0].endswith(",order_notes,Customer Tags,Customer Profile,Tag Colour,Packer")
    assert lines[1].endswith(",paid by card,,,,Add free wax")


# --- the smaller things -----------------------------------------------------------------------


def test_linnworks_customer_phone_and_inspect_lists_the_phone_missing(tmp_path: Path) -> None:
    src = tmp_path / "linnworks.csv"
    src.write_text(
        "Order Id,Reference Num,Source,SubSource,Customer email address,Customer Phone,Total\n"
        "10451,202-4417730-1180323,AMAZON,Amazon UK,a@example.com,07700 900456,56.49\n"
    )
    shown = run("inspect", src).stdout
    assert "  phone" in shown and "Customer Phone" in shown
    bare = tmp_path / "bare.csv"
    bare.write_text("Order Id,Email,Total\n1,a@example.com,1.00\n")
    assert "not found: order date, customer name, phone, country, currency" in (
        run("inspect", bare).stdout
    )


def test_tag_and_explain_find_an_order_by_any_of_its_numbers(tmp_path: Path) -> None:
    book, _ = files(tmp_path)
    src = tmp_path / "linnworks.csv"
    src.write_text(LINNWORKS_DAY_FIRST)
    for number, email in (("#1042", "kim@example.com"), ("10451", "surfer@example.com")):
        result = run("tag", "--order", number, "--in", src, "--tag", "RECENT", "-t", book)
        assert result.exit_code == 0, result.stderr
        assert f"({email}) with RECENT" in result.stderr
    for number in ("1042", "202-4417730-1180323", "10451"):
        shown = run("explain", number, src, "-t", book, "--date-style", "day-first")
        assert shown.exit_code == 0, shown.stderr
        assert shown.stdout.startswith(f"order {number} ({src}, row ")


def test_lint_finds_the_workspace_files(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    assert run("init", shop).exit_code == 0
    (shop / "rules.yaml").write_text(
        "version: 1\nrules:\n  - name: big\n    when: {customer: spend, over: 1,000}\n    tag: VIP\n"
    )
    result = run("lint", "-w", shop)
    assert result.exit_code == 1
    assert "Write numbers without a thousands separator (over: 1000)" in result.stdout


def test_a_thousands_separator_is_read_where_yaml_keeps_it(tmp_path: Path) -> None:
    from ordertags.rules import load_rules

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: big\n    when:\n      customer: spend\n"
        "      over: 1,000\n    tag: VIP\n"
    )
    loaded = load_rules(rules)
    assert loaded.rules[0].when.ops == {"over": 1000}  # type: ignore[attr-defined]


def test_customers_search_by_any_spelling_of_a_phone_and_us_phones(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    assert run("init", shop, "--default-region", "GB").exit_code == 0
    woo = tmp_path / "woo.csv"
    woo.write_text(
        WOO_HEADER
        + "1,1001,2026-11-05 10:00:00,25.00,GBP,uk@example.com,07700 900456,GB,\n"
        + "2,1002,2026-11-05 11:00:00,30.00,USD,us@example.com,(201) 555-0123,US,\n"
    )
    assert run("ingest", woo, "-w", shop).exit_code == 0
    for spelling in ("7700 900456", "07700-900456", "+44 7700 900456"):
        found = run("customers", "--search", spelling, "-w", shop)
        assert "uk@example.com" in found.stdout, spelling
        assert "us@example.com" not in found.stdout
    found = run("customers", "--search", "201 555 0123", "-w", shop)
    assert "us@example.com" in found.stdout
    shown = run("customer", "us@example.com", "-w", shop).stdout
    assert "+12015550123" in shown and "+442015550123" not in shown


def test_export_by_an_order_tag_shows_it_and_counts_are_worded(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "version: 1\ntags:\n  - {name: BIG_ORDER, colour: red, label: big, scope: order}\n"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: big\n    when: {field: total, over: 100}\n"
        "    tag: BIG_ORDER\n"
    )
    src = tmp_path / "o.csv"
    src.write_text("Order Id,Email,Total\n1,a@example.com,150.00\n2,b@example.com,5.00\n")
    out = tmp_path / "list.csv"
    result = run("export", src, "--tag", "BIG_ORDER", "-t", book, "-r", rules, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "1 customer with BIG_ORDER" in result.stderr
    rows = read_csv(out)
    assert [(r["Email Address"], r["Tags"]) for r in rows] == [("a@example.com", "BIG_ORDER")]


def test_untag_help_says_untag() -> None:
    shown = run("untag", "--help").stdout
    assert "Untag the customer of this order" in shown
    assert "Tag the customer of this order" not in shown


# --- spend per currency -------------------------------------------------------------------------

SPEND_BOOK = "version: 1\ntags:\n  - {name: BIG, colour: gold, label: BIG}\n"
MIXED = (
    "Order Id,Email,Total,Currency,Date\n"
    "1,eu@example.com,600.00,GBP,2026-11-01\n"
    "2,eu@example.com,1000.00,EUR,2026-11-02\n"
    "3,gb@example.com,1200.00,GBP,2026-11-03\n"
)


def spend_rules(extra: str = "") -> str:
    return (
        f"version: 1\n{extra}rules:\n  - name: big\n"
        "    when: {customer: spend, over: 1000}\n    tag: BIG\n"
    )


def test_customer_spend_is_compared_in_one_currency(tmp_path: Path) -> None:
    """600 GBP + 1,000 EUR is not 1,600 of anything: with `currency: GBP` and a rate,
    it is 1,100 GBP; without a rate the EUR order is left out and counted; without a
    currency the sum is kept as it was, with a warning naming the currencies."""
    book, rules = tmp_path / "tagbook.yaml", tmp_path / "rules.yaml"
    book.write_text(SPEND_BOOK)
    src = tmp_path / "o.csv"
    src.write_text(MIXED)
    out = tmp_path / "out.csv"

    def tags(extra: str) -> tuple[dict[str, str], str]:
        rules.write_text(spend_rules(extra))
        result = run("apply", src, "-t", book, "-r", rules, "-o", out, "-q")
        assert result.exit_code == 0, result.stderr
        return {r["Order Id"]: r["Customer Tags"] for r in read_csv(out)}, result.stderr

    got, err = tags("currency: GBP\nrates: {EUR: 0.5}\n")
    assert got == {"1": "BIG", "2": "BIG", "3": "BIG"} and err == ""
    got, err = tags("currency: GBP\nrates: {EUR: 0.3}\n")  # 600 + 300 = 900
    assert got == {"1": "", "2": "", "3": "BIG"}
    got, err = tags("currency: GBP\n")
    assert got == {"1": "", "2": "", "3": "BIG"}
    assert err == (
        "warning: customer spend is compared in GBP; 1 order in EUR left out (no rate: "
        "add one under `rates:` in the rule file)\n"
    )
    got, err = tags("")
    assert got == {"1": "BIG", "2": "BIG", "3": "BIG"}
    assert "warning: customer spend adds up orders in EUR, GBP as they are" in err


def test_history_spend_is_converted_too(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    assert run("init", shop).exit_code == 0
    (shop / "tagbook.yaml").write_text(SPEND_BOOK)
    (shop / "rules.yaml").write_text(spend_rules("currency: GBP\nrates: {EUR: 0.3}\n"))
    past = tmp_path / "past.csv"
    past.write_text("Order Id,Email,Total,Currency,Date\n2,eu@example.com,1000.00,EUR,2026-10-02\n")
    assert run("ingest", past, "-w", shop).exit_code == 0
    today = tmp_path / "today.csv"
    today.write_text("Order Id,Email,Total,Currency,Date\n1,eu@example.com,600.00,GBP,2026-11-01\n")
    out = tmp_path / "out.csv"
    result = run("apply", today, "-w", shop, "-o", out, "--as-of", "2026-11-20")
    assert result.exit_code == 0, result.stderr
    assert read_csv(out)[0]["Customer Tags"] == ""  # 600 + 300 GBP
    (shop / "rules.yaml").write_text(spend_rules("currency: GBP\nrates: {EUR: 0.5}\n"))
    result = run("apply", today, "-w", shop, "-o", out, "--as-of", "2026-11-20")
    assert read_csv(out)[0]["Customer Tags"] == "BIG"  # 600 + 500 GBP
    # The customer shows spend per currency, never one sum of two.
    shown = run("customer", "eu@example.com", "-w", shop).stdout
    assert "orders 2, spend 1,000.00 EUR + 600.00 GBP," in shown
    assert "600.00 GBP" in shown.splitlines()[-1] or "1,000.00 EUR" in shown
