"""``ordertags inspect``: what ordertags sees in an export, before any rule runs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.reports.inspection import inspect_orders

from .conftest import shared_path

FIX = Path(__file__).parent / "fixtures"


def inspect(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["inspect", *[str(a) for a in args]], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_inspect_a_shopify_export() -> None:
    src = FIX / "shopify_orders_export.csv"
    code, out, err = inspect(src, "--rows", "3")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        f"file:      {src} (CSV, delimiter comma, LF line ends, utf-8, no BOM)",
        "profile:   shopify (Shopify orders export; detected from Name, Financial Status, "
        "Lineitem name)",
        "rows:      one row per line item, grouped into orders by the order id; money plain, "
        "dates iso",
        "note:      order fields (Total, Email, addresses) on an order's first row only; draft "
        "orders have no email",
    ]
    assert "  order id            Name" in lines
    assert "  phone               Phone (else Billing Phone, Shipping Phone)" in lines
    assert "  line item SKU       Lineitem sku" in lines
    at = lines.index("counts:    7 rows, 4 orders, 2 customers (1 order without one), 7 line items")
    assert lines[at + 1 : at + 5] == [
        "dates:     2022-01-10 09:55:16 to 2022-01-13 12:30:00",
        "date style: iso (shopify exports write it)",
        "totals:    1,815.45 SEK over 4 orders",
        "first 3 orders:",
    ]
    table = lines[at + 5 :]
    assert table[0].split() == [
        "order",
        "id",
        "customer",
        "name",
        "date",
        "total",
        "currency",
        "country",
        "channel",
        "items",
    ]
    assert table[2].split() == [
        "#1001",
        "jane.doe@example.com",
        "Jane",
        "Doe",
        "2022-01-10",
        "09:55:16",
        "120.50",
        "SEK",
        "SE",
        "web",
        "2",
    ]
    assert table[3].split() == [
        "#1002",
        "2022-01-11",
        "10:00:00",
        "35.00",
        "SEK",
        "shopify_draft_order",
        "1",
    ]
    assert len(table) == 5  # header, rule, three orders; no problems


def test_inspect_lists_problems_instead_of_stopping(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text(
        "Order Id,Mail,Total,Date\n1,a@b.co,£1.50,2026-01-02\n2,c@d.co,2,someday\n",
        encoding="utf-8",
    )
    code, out, err = inspect(src)
    assert (code, err) == (0, "")
    problems = out.split("problems:\n", 1)[1].splitlines()
    assert problems == [
        f"  customers: {src}: no customer email column (looked for: Email, E-mail, Email "
        "Address, Customer Email, Customer email address, customer_email, billing_email, "
        "Email (Billing), Buyer Email, buyer-email, cEmailAddress). Name the column with "
        "--email-column (the file's columns: Order Id, Mail, Total, Date).",
        f'  dates: {src}, row 3, column "Date": "someday" is not a valid date in the "auto" '
        "style (1 bad value in all). Expected dates like 2024-11-26 04:46, 20250511, "
        "Jul-25-26, 10-Dez-25, 09/25/2026 or 16-05-2018.",
        f'  totals: {src}, row 2, column "Total": "£1.50" is not valid money in the "plain" '
        "style (1 bad value in all). The value looks like money with a currency symbol or "
        "thousands separator, but plain numbers like 1234.50 are expected; run with "
        "--money-style auto.",
    ]
    assert "counts:    2 rows, 2 orders\n" in out
    # With the column named and the money style given, only the date is left to fix.
    code, out, _ = inspect(src, "--email-column", "Mail", "--money-style", "auto")
    assert code == 0
    assert "counts:    2 rows, 2 orders, 2 customers\n" in out
    assert "totals:    3.50 over 2 orders\n" in out
    assert [p.split(":")[0] for p in out.split("problems:\n", 1)[1].splitlines()] == ["  dates"]


def test_inspect_with_a_mapping_and_from_stdin() -> None:
    src = FIX / "linnworks_custom.csv"
    code, out, _ = inspect(
        "-",
        "--mapping",
        FIX / "linnworks_custom.mapping.yaml",
        stdin=src.read_text(encoding="utf-8"),
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "file:      <stdin> (CSV, delimiter semicolon, LF line ends, utf-8, no BOM)"
    assert lines[1] == "profile:   linnworks (Linnworks orders export; forced)"
    assert lines[2] == f"mapping:   {FIX / 'linnworks_custom.mapping.yaml'}"
    assert "  customer email  Buyer mail" in lines
    assert "counts:    3 rows, 3 orders, 2 customers" in lines
    assert "totals:    1,344.40 over 3 orders" in lines


def test_inspect_an_ebay_report_shows_the_lines_around_the_data() -> None:
    code, out, _ = inspect(FIX / "ebay_orders_report.csv", "--rows", "0")
    assert code == 0
    assert out.splitlines()[0].endswith(
        "(CSV, delimiter comma, CRLF line ends, utf-8, no BOM, "
        "2 line(s) before the header, 3 trailer line(s))"
    )
    assert "first" not in out


def test_inspect_an_unreadable_file_fails_with_one_message(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_bytes(b"")
    code, out, err = inspect(src)
    assert (code, out) == (1, "")
    assert err == (
        f"ordertags: {src}: the file is empty. Export the orders again; the file "
        "has no header and no rows.\n"
    )
    code, _, err = inspect(src, "--format", "woo")
    assert code == 2 and 'unknown format "woo"' in err


def test_inspect_the_real_uci_sample() -> None:
    report = inspect_orders(
        shared_path("data", "real", "uci-online-retail", "online_retail_sample.csv")
    )
    assert report.profile.name == "online-retail"
    assert (report.rows, report.orders, report.customers, report.items) == (4792, 2093, 875, 4792)
    assert (report.first_date, report.last_date) == ("2010-12-01 08:26:00", "2011-12-09 09:15:00")
    assert report.problems == []
    assert report.sample[0][:2] == ["536365", "online-retail:17850"]
