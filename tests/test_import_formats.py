"""``ordertags import``: each customer export recognised by its header, its tags and
unsubscribes brought into the tag book, a diff first, and nothing changed the second
time (issue 21).

The files are header-exact (the headers of ``shared/reference/customer-exports.md``);
what each should bring in is written out by hand from the rows.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.io.customer_exports import read_customer_files, split_tags
from ordertags.tagbook import load_tagbook

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "customer_exports"

BOOK = """\
version: 1
# Our tags.
tags:
  - {name: FRAUD, colour: red, label: FRAUD, priority: 100, no_marketing: true}
  - {name: CLAIMED-NON-RECEIPT, colour: orange, label: CLAIMED, priority: 90}
  - {name: VIP, colour: gold, label: VIP, priority: 50}
  - {name: GOLD, colour: gold, label: GOLD, priority: 40}
customers:
  - email: lena.nguyen@example.org
    tags: [VIP]
    note: Tagged by hand.
    by: sam
    at: 2026-09-14
"""

SHOPIFY_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags"
)
KLAVIYO_HEADER = (
    "Email,Klaviyo ID,First Name,Last Name,Organization,Title,Phone Number,Address,Address 2,"
    "City,State / Region,Country,Zip Code,Email Marketing Consent,First Active,Last Active,"
    "Profile Created On,Historic Customer Lifetime Value,Historic Number Of Orders,"
    "Accepts Marketing,Shopify Tags"
)
MAILCHIMP_CORE = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,"
    "NOTES,TAGS"
)
MAILCHIMP_CLEANED = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,CLEAN_TIME,"
    "CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID,LEID,EUID,NOTES,TAGS"
)


def run(*args: str | Path, input: str | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    return path


def entries(book: Path) -> dict[str, tuple[str, ...]]:
    return {e.key: e.tags for e in load_tagbook(book).entries}


# --- the Shopify customers export -----------------------------------------------------------


def test_shopify_tags_quoted_with_commas_and_spaces_are_read_as_tags() -> None:
    files = read_customer_files(DATA / "shopify_customers_export.csv")
    assert [f.format for f in files] == ["shopify"]
    rows = {r.identity: r for r in files[0].records}
    assert rows["lena.nguyen@example.org"].tags == ("vip", "Wholesale buyer")
    assert rows["lena.nguyen@example.org"].consent is True
    assert rows["Mo.Brown@Example.net"].tags == ("claimed", "newsletter")
    assert rows["Mo.Brown@Example.net"].consent is False
    # No email: the phone, without the apostrophe Shopify adds for Excel.
    assert rows["+1 617 555 0100"].tags == ("VIP",)
    assert rows["+1 617 555 0100"].note == "Phone orders only"


def test_shopify_import_dry_run_diff_then_import_then_nothing(book: Path) -> None:
    before = book.read_bytes()
    dry = run(
        "import",
        DATA / "shopify_customers_export.csv",
        "-t",
        book,
        "--map",
        "claimed=CLAIMED-NON-RECEIPT,Wholesale buyer=GOLD",
        "--by",
        "sam",
        "--dry-run",
    )
    assert dry.exit_code == 0, dry.stderr
    assert book.read_bytes() == before  # a dry run changes nothing
    # Lena has VIP by hand: only GOLD (Wholesale buyer) is new. Mo gets CLAIMED; the
    # phone-only customer VIP. "newsletter" is no tag of ours (Mo and Jo: 2).
    assert dry.stdout.splitlines() == [
        "+ lena.nguyen@example.org: GOLD (has VIP)",
        "+ Mo.Brown@Example.net: CLAIMED-NON-RECEIPT",
        "+ +1 617 555 0100: VIP",
    ]
    assert "would tag 3 customers" in dry.stderr
    assert "left out: newsletter (2)" in dry.stderr

    done = run(
        "import",
        DATA / "shopify_customers_export.csv",
        "-t",
        book,
        "--map",
        "claimed=CLAIMED-NON-RECEIPT,Wholesale buyer=GOLD",
        "--by",
        "sam",
    )
    assert done.exit_code == 0, done.stderr
    assert entries(book) == {
        "lena.nguyen@example.org": ("GOLD",),
        "mo.brown@example.net": ("CLAIMED-NON-RECEIPT",),
        "+16175550100": ("VIP",),
    }  # (the last entry of each: Lena's VIP by hand comes first)
    held: dict[str, set[str]] = {}
    for e in load_tagbook(book).entries:
        held.setdefault(e.key, set()).update(e.tags)
    assert held["lena.nguyen@example.org"] == {"VIP", "GOLD"}
    new = [e for e in load_tagbook(book).entries if e.by == "sam" and e.at != "2026-09-14"]
    assert len(new) == 3
    assert all((e.note or "").startswith("Imported from shopify_customers_export.csv") for e in new)
    assert book.read_text(encoding="utf-8").startswith("version: 1\n# Our tags.\n")

    # A second import changes nothing, byte for byte.
    after = book.read_bytes()
    again = run(
        "import",
        DATA / "shopify_customers_export.csv",
        "-t",
        book,
        "--map",
        "claimed=CLAIMED-NON-RECEIPT,Wholesale buyer=GOLD",
    )
    assert again.exit_code == 0, again.stderr
    assert book.read_bytes() == after
    assert "tag 0 customers, suppress 0 addresses; 3 already in the tag book" in again.stderr


def test_unknown_tags_are_created_with_create_tags(book: Path) -> None:
    result = run("import", DATA / "shopify_customers_export.csv", "-t", book, "--create-tags")
    assert result.exit_code == 0, result.stderr
    tb = load_tagbook(book)
    assert {"CLAIMED", "NEWSLETTER", "WHOLESALE-BUYER"} <= set(tb.tags)
    assert tb.tags["WHOLESALE-BUYER"].label == "Wholesale buyer"
    held: dict[str, set[str]] = {}
    for e in tb.entries:
        held.setdefault(e.key, set()).update(e.tags)
    assert held["jo.park@example.com"] == {"NEWSLETTER"}
    assert held["mo.brown@example.net"] == {"CLAIMED", "NEWSLETTER"}


# --- Mailchimp: unsubscribed and cleaned become suppressions -----------------------------------


def test_mailchimp_unsubscribed_file_suppresses_its_members(book: Path) -> None:
    result = run("import", DATA / "mailchimp_unsubscribed.csv", "-t", book, "--by", "ops")
    assert result.exit_code == 0, result.stderr
    sup = {s.key: s for s in load_tagbook(book).suppressed}
    assert set(sup) == {"gone@example.com", "lena.nguyen@example.org"}
    assert sup["gone@example.com"].reason == "unsubscribed (mailchimp_unsubscribed.csv)"
    assert sup["gone@example.com"].by == "ops"
    again = run("import", DATA / "mailchimp_unsubscribed.csv", "-t", book)
    assert "suppress 0 addresses; 2 already in the tag book" in again.stderr


def test_mailchimp_zip_of_three_files(book: Path, tmp_path: Path) -> None:
    subscribed = f'{MAILCHIMP_CORE}\nann@example.com,Ann,Lee,3,,,,,,,,,,GB,,,1,e1,,"""VIP"""\n'
    cleaned = (
        f"{MAILCHIMP_CLEANED}\nbounced@example.com,Bo,Unce,1,,,,,,,,,,GB,,2026-01-01,x,y,2,e2,,\n"
    )
    unsub = (DATA / "mailchimp_unsubscribed.csv").read_text(encoding="utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_members_export_1a2b.csv", subscribed)
        zf.writestr("cleaned_members_export_1a2b.csv", cleaned)
        zf.writestr("unsubscribed_members_export_1a2b.csv", unsub)
    path = tmp_path / "members_export_1a2b.zip"
    path.write_bytes(buf.getvalue())
    files = read_customer_files(path)
    assert [(f.format, len(f.records)) for f in files] == [
        ("mailchimp", 1),
        ("mailchimp", 1),
        ("mailchimp", 2),
    ]
    result = run("import", path, "-t", book)
    assert result.exit_code == 0, result.stderr
    tb = load_tagbook(book)
    assert {s.key: s.reason for s in tb.suppressed} == {
        "bounced@example.com": "cleaned (members_export_1a2b.zip)",
        "gone@example.com": "unsubscribed (members_export_1a2b.zip)",
        "lena.nguyen@example.org": "unsubscribed (members_export_1a2b.zip)",
    }
    assert entries(book)["ann@example.com"] == ("VIP",)


# --- Klaviyo, Brevo, the plain list --------------------------------------------------------


def test_klaviyo_profiles(book: Path, tmp_path: Path) -> None:
    path = tmp_path / "klaviyo_profiles.csv"
    path.write_text(
        f"{KLAVIYO_HEADER}\n"
        'kay@example.com,01ABC,Kay,Ode,,,+447400123456,,,,,,,Subscribed,,,,,,True,"vip, repeat"\n'
        "quit@example.com,01ABD,Qu,It,,,,,,,,,,Unsubscribed,,,,,,False,\n",
        encoding="utf-8",
    )
    assert [f.format for f in read_customer_files(path)] == ["klaviyo"]
    result = run("import", path, "-t", book)
    assert result.exit_code == 0, result.stderr
    tb = load_tagbook(book)
    assert entries(book)["kay@example.com"] == ("VIP",)
    assert [s.key for s in tb.suppressed] == ["quit@example.com"]
    assert "left out: repeat (1)" in result.stderr


def test_brevo_semicolons_in_windows_1252(book: Path, tmp_path: Path) -> None:
    path = tmp_path / "brevo_contacts.csv"
    path.write_bytes(
        "EMAIL;FIRSTNAME;LASTNAME;SMS;EMAIL_BLACKLISTED;TAGS\n"
        "zoe@example.fr;Zoé;Müller;+33612345678;no;VIP\n"
        "noway@example.fr;Rémi;Roux;;yes;\n".encode("cp1252")
    )
    files = read_customer_files(path)
    assert files[0].format == "brevo"
    assert files[0].records[0].name == "Zoé Müller"
    result = run("import", path, "-t", book)
    assert result.exit_code == 0, result.stderr
    assert entries(book)["zoe@example.fr"] == ("VIP",)
    assert {s.key: s.reason for s in load_tagbook(book).suppressed} == {
        "noway@example.fr": "blocklisted (brevo_contacts.csv)"
    }


def test_plain_list_with_expiry_notes_and_bad_rows(book: Path, tmp_path: Path) -> None:
    path = tmp_path / "claimers.csv"
    path.write_text(
        "identity,tag,note,expires\n"
        "claim.one@example.com,CLAIMED-NON-RECEIPT,PayPal dispute 2026-03,2099-01-31\n"
        "ebay:Quinn_Belfast,claimed-non-receipt,,\n"
        "07400 123456,FRAUD,Chargeback,\n"
        "not an identity,FRAUD,,\n"
        "late@example.com,FRAUD,,2001-01-01\n",
        encoding="utf-8",
    )
    result = run("import", path, "-t", book, "--by", "priya")
    assert result.exit_code == 0, result.stderr
    tb = load_tagbook(book)
    got = {e.key: (e.tags, e.expires and e.expires.isoformat(), e.note) for e in tb.entries}
    assert got["claim.one@example.com"] == (
        ("CLAIMED-NON-RECEIPT",),
        "2099-01-31",
        "Imported from claimers.csv: PayPal dispute 2026-03",
    )
    assert got["ebay:quinn_belfast"][0] == ("CLAIMED-NON-RECEIPT",)
    assert got["+447400123456"][0] == ("FRAUD",)
    assert "late@example.com" not in got
    assert "skipped claimers.csv, line 5: not an email, phone number or buyer id" in result.stderr
    assert "skipped claimers.csv, line 6: expired on 2001-01-01" in result.stderr


def test_format_forced_and_unknown_files(book: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("Foo,Bar\n1,2\n", encoding="utf-8")
    result = run("import", odd, "-t", book)
    assert result.exit_code == 1
    assert result.stderr.startswith("ordertags: odd.csv, line 1: is not a customer export")
    forced = run("import", DATA / "shopify_customers_export.csv", "-t", book, "--format", "brevo")
    assert forced.exit_code == 1
    assert "is not a Brevo contacts file" in forced.stderr
    bad = run("import", odd, "-t", book, "--format", "excel")
    assert bad.exit_code == 2
    assert 'no customer file format "excel"' in bad.stderr
    badmap = run("import", DATA / "shopify_customers_export.csv", "-t", book, "--map", "vip")
    assert badmap.exit_code == 2
    assert '"vip" is not THEIRS=OURS.' in badmap.stderr


def test_split_tags_spellings() -> None:
    assert split_tags('"VIP", "Wholesale buyer"') == ("VIP", "Wholesale buyer")
    assert split_tags("") == ()


def test_imported_book_reads_back_as_yaml(book: Path) -> None:
    run("import", DATA / "shopify_customers_export.csv", "-t", book, "--map", "claimed=FRAUD")
    data = yaml.safe_load(book.read_text(encoding="utf-8"))
    assert [c.get("email") or c.get("phone") for c in data["customers"]] == [
        "lena.nguyen@example.org",
        "Mo.Brown@Example.net",
        "+16175550100",
    ]
