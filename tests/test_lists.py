"""Mailing lists a marketer uploads as they are: presets byte for byte and through each
tool's reader, filters, every exclusion with its count, consent across channels,
formula cells, merged customers, determinism; the suppress command."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.reports.lists import CustomerRows, get_preset, render_list
from ordertags.tagbook import load_tagbook

from .conftest import csv_text

runner = CliRunner()
AS_OF = "2026-11-26"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# --- presets, byte for byte, on customers made by hand ---------------------------------------


def chloe() -> CustomerRows:
    """One customer: accents, two tags, spend in one currency, consent yes."""
    return CustomerRows(
        key=["chloe.garcia@orange.fr"],
        email=["Chloe.Garcia@orange.fr"],
        first_name=["Chloé"],
        last_name=["García"],
        tags=[("VIP", "GOLD")],
        orders=np.array([3], dtype=np.int64),
        spend={"EUR": np.array([1_234_500], dtype=np.int64)},  # 123.45
        consent=np.array([1], dtype=np.int8),
        consent_recorded=True,
        last_order=np.array(["2026-11-02"], dtype="datetime64[D]"),
        first_order=np.array(["2026-01-15"], dtype="datetime64[D]"),
        channels=[("ebay", "shopify")],
        country=["FR"],
        phone=["+33612345678"],
    )


EXPECTED = {
    "mailchimp": (
        "Email Address,First Name,Last Name,Tags\r\n"
        'Chloe.Garcia@orange.fr,Chloé,García,"VIP,GOLD"\r\n'
    ),
    "klaviyo": (
        "Email,First Name,Last Name,Email Marketing Consent,Tags\r\n"
        'Chloe.Garcia@orange.fr,Chloé,García,Subscribed,"[""VIP"", ""GOLD""]"\r\n'
    ),
    "shopify-customers": (
        "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,"
        "Country,Country Code,Zip,Phone,Accepts Email Marketing,Accepts SMS Marketing,"
        "Total Spent,Total Orders,Tags,Note,Tax Exempt\r\n"
        # a phone starts with +: quoted as Shopify's own export does
        "Chloé,García,Chloe.Garcia@orange.fr,,,,,,,,FR,,'+33612345678,yes,,123.45,3,"
        '"VIP, GOLD",,\r\n'
    ),
    "brevo": "EMAIL;FIRSTNAME;LASTNAME\r\nChloe.Garcia@orange.fr;Chloé;García\r\n",
    "linnworks-list": "chloe.garcia@orange.fr\r\n",
    "generic": (
        "\ufeffEmail,First Name,Last Name,Customer Key,Tags,Orders,Spend,Currency,All Spend,"
        "First Order,Last Order,Channels,Country,Phone,Marketing Consent,Segment\r\n"
        "Chloe.Garcia@orange.fr,Chloé,García,chloe.garcia@orange.fr,VIP; GOLD,3,123.45,EUR,"
        "123.45 EUR,2026-01-15,2026-11-02,ebay; shopify,FR,'+33612345678,yes,\r\n"
    ),
}


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_preset_header_and_row_byte_for_byte(preset: str) -> None:
    assert render_list(chloe(), get_preset(preset)) == EXPECTED[preset].encode("utf-8")


def test_presets_read_back_as_each_tool_reads_them() -> None:
    """Each file through a CSV reader set up as the tool documents: the tags arrive as two
    tags, accents intact."""
    rows = chloe()

    def read(preset: str, delimiter: str = ",") -> list[dict[str, str]]:
        text = render_list(rows, get_preset(preset)).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))

    # Mailchimp: comma-separated, a tag list split on commas.
    (mc,) = read("mailchimp")
    assert [t.strip() for t in mc["Tags"].split(",")] == ["VIP", "GOLD"]
    assert mc["First Name"] == "Chloé"
    # Klaviyo: the first column is Email; the tags are a list property.
    (kl,) = read("klaviyo")
    assert list(kl)[0] == "Email" and json.loads(kl["Tags"]) == ["VIP", "GOLD"]
    assert kl["Email Marketing Consent"] == "Subscribed"
    # Shopify: case-exact headers, tags comma-separated.
    (sh,) = read("shopify-customers")
    assert [t.strip() for t in sh["Tags"].split(",")] == ["VIP", "GOLD"]
    assert sh["Email"] == "Chloe.Garcia@orange.fr" and sh["Accepts Email Marketing"] == "yes"
    # Brevo: semicolon-separated.
    (br,) = read("brevo", delimiter=";")
    assert br == {"EMAIL": "Chloe.Garcia@orange.fr", "FIRSTNAME": "Chloé", "LASTNAME": "García"}
    # generic: for a spreadsheet (BOM), tags "; "-separated
    (ge,) = read("generic")
    assert ge["Tags"].split("; ") == ["VIP", "GOLD"] and ge["Spend"] == "123.45"


def test_excel_flag_adds_a_bom_and_no_excel_removes_it() -> None:
    assert render_list(chloe(), get_preset("mailchimp"), excel=True).startswith(b"\xef\xbb\xbf")
    assert not render_list(chloe(), get_preset("generic"), excel=False).startswith(b"\xef")


def test_leading_tab_and_formulas_inert_in_every_preset() -> None:
    rows = chloe()
    rows.first_name = ["\t=1+1"]
    rows.last_name = ["@SUM(A1:A9)"]
    for preset in ("mailchimp", "klaviyo", "shopify-customers", "brevo", "generic"):
        p = get_preset(preset)
        text = render_list(rows, p).decode("utf-8-sig")
        data = list(csv.reader(io.StringIO(text, newline=""), delimiter=p.delimiter))
        row = dict(zip(data[0], data[1], strict=True))
        first = row.get("First Name", row.get("FIRSTNAME"))
        last = row.get("Last Name", row.get("LASTNAME"))
        assert (first, last) == ("'\t=1+1", "'@SUM(A1:A9)"), preset


# --- a scenario: two channels, every exclusion ------------------------------------------------

TAGBOOK = """\
version: 1
tags:
  - name: FRAUD
    colour: red
    priority: 100
    no_marketing: true
  - name: VIP
    colour: gold
    priority: 50
  - name: CUST
    colour: teal
    priority: 10
  - name: HIGH
    colour: purple
    priority: 5
    scope: order
suppressed:
  - email: Sue@Example.com
    reason: unsubscribed
customers:
  - email: fred@example.com
    tags: [FRAUD]
  - email: jane.doe@gmail.com
    tags: [VIP]
links:
  - same: [neg@example.com, neg.other@example.net]
"""
RULES = """\
version: 1
rules:
  - name: everyone
    when: {customer: orders, at_least: 1}
    tag: CUST
  - name: high
    when: {field: total, over: 75}
    tag: HIGH
"""
SHOP_HEADER = [
    "Order Id",
    "Channel",
    "Received Date",
    "First Name",
    "Last Name",
    "Email",
    "Total",
    "Currency",
    "Country",
    "Accepts Marketing",
]
SHOP = [
    [
        "S1",
        "SHOPIFY",
        "2026-10-01",
        "Jane",
        "Doe",
        "jane.doe@gmail.com",
        "100.00",
        "GBP",
        "GB",
        "yes",
    ],
    [
        "S2",
        "SHOPIFY",
        "2026-10-02",
        "Priya",
        "Shah",
        "priya@example.com",
        "200.00",
        "GBP",
        "GB",
        "no",
    ],
    ["S3", "SHOPIFY", "2026-10-03", "In", "Valid", "=1+1@example.com", "20.00", "GBP", "GB", "yes"],
    ["S4", "SHOPIFY", "2026-10-04", "Sue", "Gone", "sue@example.com", "60.00", "GBP", "GB", "yes"],
    ["S5", "SHOPIFY", "2026-10-05", "Tom", "Gone", "tom@example.com", "70.00", "GBP", "GB", "yes"],
    [
        "S6",
        "SHOPIFY",
        "2026-10-06",
        "Fred",
        "Fraud",
        "fred@example.com",
        "500.00",
        "GBP",
        "GB",
        "yes",
    ],
    [
        "S7",
        "SHOPIFY",
        "2026-10-07",
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "hy@example.com",
        "80.00",
        "GBP",
        "GB",
        "yes",
    ],
    [
        "S8",
        "SHOPIFY",
        "2026-10-08",
        "@SUM(A1)",
        "-2+3",
        "at@example.com",
        "90.00",
        "GBP",
        "FR",
        "yes",
    ],
    ["S9", "SHOPIFY", "2026-09-01", "Nat", "Neg", "neg@example.com", "-5.00", "GBP", "GB", "yes"],
]
LW_HEADER = [
    "Order Id",
    "Channel",
    "Received Date",
    "Customer Name",
    "Email",
    "Total",
    "Currency",
    "Country",
]
LW = [
    ["L1", "EBAY", "2026-11-20", "Jane Doe", "Jane.Doe+lw@gmail.com", "50.00", "GBP", "GB"],
    ["L2", "EBAY", "2026-11-21", "Bob Brown", "bob@example.org", "30.00", "GBP", "GB"],
    ["L3", "EBAY", "2026-11-22", "Priya Shah", "priya@example.com", "10.00", "GBP", "GB"],
    [
        "L4",
        "AMAZON",
        "2026-11-23",
        "Relay Buyer",
        "x1@marketplace.amazon.co.uk",
        "40.00",
        "GBP",
        "GB",
    ],
    ["L5", "EBAY", "2026-11-24", "Nat Neg", "neg.other@example.net", "-30.00", "GBP", "GB"],
]


@pytest.fixture
def scene(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "book": tmp_path / "tagbook.yaml",
        "rules": tmp_path / "rules.yaml",
        "shop": tmp_path / "shop.csv",
        "lw": tmp_path / "lw.csv",
        "supp": tmp_path / "unsubscribed.csv",
    }
    paths["book"].write_text(TAGBOOK, encoding="utf-8")
    paths["rules"].write_text(RULES, encoding="utf-8")
    paths["shop"].write_text(csv_text(SHOP_HEADER, SHOP), encoding="utf-8")
    paths["lw"].write_text(csv_text(LW_HEADER, LW), encoding="utf-8")
    # Mailchimp's export of unsubscribed contacts: an Email Address column.
    paths["supp"].write_text(
        "Email Address,Reason\nTOM@example.com,unsubscribed\n", encoding="utf-8"
    )
    return paths


def export(scene: dict[str, Path], out: Path, *args: str) -> Result:
    return run(
        "export",
        scene["shop"],
        scene["lw"],
        "-t",
        scene["book"],
        "-r",
        scene["rules"],
        "--as-of",
        AS_OF,
        "--suppress",
        scene["supp"],
        "-o",
        out,
        *args,
    )


def test_every_exclusion_counted_and_written_out(scene: dict[str, Path], tmp_path: Path) -> None:
    out, gone = tmp_path / "list.csv", tmp_path / "suppress.csv"
    result = export(scene, out, "--tag", "CUST", "--suppression-out", str(gone))
    assert result.exit_code == 0, result.stderr
    # Counted by hand: =1+1@... is invalid; x1@marketplace... a relay; Sue (tag book) and
    # Tom (--suppress file) suppressed; Fred has FRAUD (no_marketing); Bob never answered
    # and Priya said no on Shopify (her later eBay order records nothing).
    assert result.stderr.strip() == (
        "4 customers with CUST (1 with an invalid address; 1 with marketplace relay "
        "addresses; 2 suppressed; 1 with a no-marketing tag; 2 without marketing consent "
        f"left out); wrote {out}; left-out addresses in {gone}"
    )
    assert out.read_bytes() == (
        b"Email Address,First Name,Last Name,Orders,Spend,Tags\r\n"
        # Jane: one customer over two spellings and channels, under the address used
        # last; Shopify's yes applies to the eBay order's address
        b'Jane.Doe+lw@gmail.com,Jane,Doe,2,150.00,"VIP,CUST,HIGH"\r\n'
        # formulas inert; the cell with quotes and commas quoted as CSV wants
        b"at@example.com,'@SUM(A1),'-2+3,1,90.00,\"CUST,HIGH\"\r\n"
        b'hy@example.com,"\'=HYPERLINK(""http://x"",""y"")",\'+cmd|\' /C calc\'!A0,1,'
        b'80.00,"CUST,HIGH"\r\n'
        # a linked pair is one customer: -5.00 + -30.00, a plain negative number stays
        b"neg.other@example.net,Nat,Neg,2,-35.00,CUST\r\n"
    )
    assert gone.read_text(encoding="utf-8").splitlines() == [
        "Email,Reason",
        "'=1+1@example.com,invalid",
        "x1@marketplace.amazon.co.uk,relay",
        "sue@example.com,suppressed",
        "tom@example.com,suppressed",
        "fred@example.com,no-marketing",
        "bob@example.org,no-consent",
        "priya@example.com,no-consent",
    ]


def test_include_without_consent_warns(scene: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    result = export(scene, out, "--tag", "CUST", "--include-without-consent")
    assert result.exit_code == 0
    assert result.stderr.startswith(
        "warning: 2 customers listed without marketing consent (--include-without-consent)"
    )
    emails = [r[0] for r in csv.reader(io.StringIO(out.read_text(encoding="utf-8")))][1:]
    assert "priya@example.com" in emails and "bob@example.org" in emails
    assert "fred@example.com" not in emails  # no_marketing still applies


def test_consent_from_one_channel_applies_to_a_list_from_another(
    scene: dict[str, Path], tmp_path: Path
) -> None:
    """A list of eBay buyers only: Jane answered yes on Shopify, Priya no."""
    out = tmp_path / "list.csv"
    result = export(scene, out, "--tag", "CUST", "--channel", "ebay", "--preset", "klaviyo")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["Email"], r["Email Marketing Consent"]) for r in rows] == [
        ("Jane.Doe+lw@gmail.com", "Subscribed"),
        ("neg.other@example.net", "Subscribed"),
    ]
    assert "2 without marketing consent" in result.stderr  # Bob and Priya


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tag", "CUST", "--tag", "VIP", "--all-tags"], ["Jane.Doe+lw@gmail.com"]),
        (
            ["--tag", "CUST", "--not-tag", "VIP"],
            ["at@example.com", "hy@example.com", "neg.other@example.net"],
        ),
        (["--tag", "HIGH"], ["Jane.Doe+lw@gmail.com", "at@example.com", "hy@example.com"]),
        (["--tag", "CUST", "--min-spend", "85"], ["Jane.Doe+lw@gmail.com", "at@example.com"]),
        (["--tag", "CUST", "--min-spend", "85 EUR"], []),
        (
            ["--tag", "CUST", "--min-orders", "2"],
            ["Jane.Doe+lw@gmail.com", "neg.other@example.net"],
        ),
        (
            ["--tag", "CUST", "--ordered-since", "2026-11-01"],
            ["Jane.Doe+lw@gmail.com", "neg.other@example.net"],
        ),
        (
            ["--tag", "CUST", "--not-ordered-since", "2026-11-01"],
            ["at@example.com", "hy@example.com"],
        ),
        (["--tag", "CUST", "--country", "fr"], ["at@example.com"]),
        (
            ["--tag", "CUST", "--channel", "SHOPIFY", "--country", "GB"],
            ["Jane.Doe+lw@gmail.com", "hy@example.com", "neg.other@example.net"],
        ),
    ],
)
def test_filters(
    scene: dict[str, Path], tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    out = tmp_path / "list.csv"
    result = export(scene, out, *args)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r[0] for r in rows[1:]] == expected


def test_linnworks_list_has_every_spelling(scene: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "list.txt"
    result = export(scene, out, "--tag", "VIP", "--preset", "linnworks-list")
    assert result.exit_code == 0, result.stderr
    # Jane wrote her address two ways: a "matches one of" rule needs both.
    assert out.read_bytes() == b"jane.doe+lw@gmail.com\r\njane.doe@gmail.com\r\n"


def test_list_is_deterministic_whatever_the_row_order(
    scene: dict[str, Path], tmp_path: Path
) -> None:
    first = tmp_path / "a.csv"
    assert export(scene, first, "--tag", "CUST", "--preset", "generic").exit_code == 0
    shuffled = SHOP[:]
    random.Random(7).shuffle(shuffled)
    scene["shop"].write_text(csv_text(SHOP_HEADER, shuffled), encoding="utf-8")
    second = tmp_path / "b.csv"
    assert export(scene, second, "--tag", "CUST", "--preset", "generic").exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_bad_preset_and_amount(scene: dict[str, Path], tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        [
            "export",
            str(scene["shop"]),
            "-t",
            str(scene["book"]),
            "--tag",
            "CUST",
            "--preset",
            "hubspot",
            "-o",
            "-",
        ],
    )
    assert r.exit_code == 2
    assert 'there is no list preset "hubspot"' in r.stderr
    r = runner.invoke(
        app,
        [
            "export",
            str(scene["shop"]),
            "-t",
            str(scene["book"]),
            "--tag",
            "CUST",
            "--min-spend",
            "lots",
            "-o",
            "-",
        ],
    )
    assert r.exit_code == 2 and '"lots" is not an amount' in r.stderr


# --- suppress ----------------------------------------------------------------------------


def test_suppress_command_edits_the_tag_book_keeping_comments(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text("# my tags\nversion: 1\ntags:\n  - name: VIP  # best\n", encoding="utf-8")
    r = run("suppress", "Gone@Example.com", "--reason", "complained", "--by", "sam", "-t", book)
    assert (
        r.exit_code == 0 and r.stderr == "suppressed Gone@Example.com: it goes on no mailing list\n"
    )
    text = book.read_text(encoding="utf-8")
    assert text.startswith("# my tags\nversion: 1\ntags:\n  - name: VIP  # best\n")
    (entry,) = load_tagbook(book).suppressed
    assert (entry.email, entry.key, entry.reason, entry.by) == (
        "Gone@Example.com",
        "gone@example.com",
        "complained",
        "sam",
    )
    again = run("suppress", "gone@example.com", "-t", book)
    assert again.stderr == "gone@example.com was already suppressed; nothing changed\n"
    assert book.read_text(encoding="utf-8") == text
    removed = run("suppress", "GONE@example.com", "--remove", "-t", book)
    assert removed.stderr == "GONE@example.com is no longer suppressed\n"
    assert load_tagbook(book).suppressed == []
    bad = run("suppress", "not-an-address", "-t", book)
    assert bad.exit_code == 1 and '"not-an-address" is not an email address.' in bad.stderr


def test_example_tag_book_keeps_fraud_off_lists() -> None:
    from .conftest import ROOT

    book = load_tagbook(ROOT / "tagbook.example.yaml")
    assert book.no_marketing_tags() == ["FRAUD"]


# --- in a workspace: the history's figures and consent -------------------------------------


@pytest.fixture
def workspace(scene: dict[str, Path], tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert run("init", ws).exit_code == 0
    (ws / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (ws / "rules.yaml").write_text(RULES, encoding="utf-8")
    ingested = run("ingest", scene["shop"], "-w", ws)
    assert ingested.exit_code == 0, ingested.stderr
    return ws


def test_consent_in_the_history_applies_to_a_list_from_another_channel(
    scene: dict[str, Path], workspace: Path, tmp_path: Path
) -> None:
    """The Shopify export (with the answers) is in the history; the list is made from the
    eBay/Linnworks export alone, which records no consent."""
    out = tmp_path / "list.csv"
    result = run(
        "export", scene["lw"], "--tag", "CUST", "-w", workspace, "--as-of", AS_OF, "-o", out
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    # Jane: yes on Shopify, 2 orders all time (100 + 50); Nat: yes, -5 + -30. Priya said
    # no on Shopify; Bob never answered; the relay address is left out.
    assert rows[1:] == [
        ["Jane.Doe+lw@gmail.com", "Jane", "Doe", "2", "150.00", "VIP,CUST"],
        ["neg.other@example.net", "Nat", "Neg", "2", "-35.00", "CUST"],
    ]
    assert "2 without marketing consent" in result.stderr
    assert "1 with marketplace relay addresses" in result.stderr


def test_list_and_segments_from_the_history_alone(
    scene: dict[str, Path], workspace: Path, tmp_path: Path
) -> None:
    assert run("ingest", scene["lw"], "-w", workspace).exit_code == 0
    out = tmp_path / "list.csv"
    result = run(
        "export",
        "--tag",
        "VIP",
        "--preset",
        "klaviyo",
        "-w",
        workspace,
        "--as-of",
        AS_OF,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["Email"], r["Email Marketing Consent"]) for r in rows] == [
        ("Jane.Doe+lw@gmail.com", "Subscribed")
    ]
    assert "rule tags" in result.stderr  # says where the rule tags come from
    seg = run("segments", "-w", workspace, "--as-of", AS_OF, "--output-format", "json")
    assert seg.exit_code == 0, seg.stderr
    data = json.loads(seg.stdout)
    assert data["method"] == "fixed" and data["total"] >= 10
    # Jane: last order 2026-11-20 (6 days: R5), 2 orders (F2), 150 (M2) -> Active.
    assert {g["group"]: g["customers"] for g in data["lines"]}["active"] >= 1


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("jane@example.com", True),
        ("Jane.Doe+news@example.co.uk", True),
        ("o'neil@example.ie", True),
        ("chloé.jones0@example.org", True),  # RFC 6531: accented letters
        ("ünïcode@bücher.de", True),
        ("=1+1@example.com", False),  # would run in a spreadsheet
        ("+cmd@example.com", False),
        ("-2+3@example.com", False),
        ("@SUM@example.com", False),
        ("mo..taylor4@gmail.com", False),  # two dots in a row
        ("jane.@example.com", False),
        ("jane@example", False),
        ("jane@example.c", False),
        ("jane@-example.com", False),
        ("jane doe@example.com", False),
        ("not-an-email", False),
    ],
)
def test_valid_addresses_one_value_and_whole_column_agree(address: str, valid: bool) -> None:
    import pyarrow as pa

    from ordertags.reports.lists import is_valid_email, valid_email_mask

    assert is_valid_email(address) is valid
    assert valid_email_mask(pa.array([address, None])).tolist() == [valid, False]


def test_no_address_and_relay_only_counted_apart() -> None:
    """A marketplace buyer known by a buyer id alone, and one known only by a relay
    address, are each counted under their own reason."""
    from ordertags.reports.lists import ListFilter, select

    rows = chloe()
    two = rows.take(np.array([0, 0, 0]))
    two.key = ["ebay:quinn_belfast", "amazon:A1B2", "chloe.garcia@orange.fr"]
    two.email = ["", "", "Chloe.Garcia@orange.fr"]
    two.relay_only = [False, True, False]
    chosen = select(two, ListFilter(tags=("VIP",)))
    assert chosen.rows.key == ["chloe.garcia@orange.fr"]
    assert (chosen.left_out["no_address"], chosen.left_out["relay"]) == (1, 1)
    assert chosen.suppressed_out == []  # neither has an address to suppress


def test_tags_lists_no_marketing_tags_and_suppressed_addresses(scene: dict[str, Path]) -> None:
    result = run("tags", "-t", scene["book"], "--as-of", AS_OF)
    assert result.exit_code == 0
    tail = result.stdout.splitlines()[-5:]
    assert tail == [
        "on no mailing list: customers with FRAUD",
        "",
        "suppressed address    reason        by    at",
        "--------------------  ------------  ----  ----",
        "Sue@Example.com       unsubscribed",
    ]
