"""A month of a UK surf shop, second pass (issue 17): mailing lists, segments and the
list files rules read, as a new seller meets them.

The month comes from :mod:`tests.month_shop` (Shopify with multi-row orders, eBay US/DE,
Amazon UK/US, WooCommerce, Etsy, and Linnworks re-listing every order). Every figure
expected here is worked out with ``decimal`` from the generated orders, never read from
ordertags.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.customers.rfm import group_of

from .conftest import csv_text, read_rows
from .month_shop import Month, Order, make_month, write_exports

runner = CliRunner()
SEED = 17
AS_OF = "2026-12-01"

BOOK = """\
version: 1
tags:
  - {name: FRAUD, colour: red, priority: 100, no_marketing: true}
  - {name: VIP, colour: gold, priority: 50}
  - {name: CUSTOMER, colour: teal, priority: 10}
"""
# Every customer with an order carries CUSTOMER: a list by that tag is everyone.
RULES = """\
version: 1
rules:
  - name: Everyone who ordered
    when: {customer: orders, at_least: 1}
    tag: CUSTOMER
"""

Figures = dict[str, tuple[int, dict[str, Decimal]]]


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def month() -> Month:
    return make_month(SEED)


@pytest.fixture(scope="module")
def exports(month: Month, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = write_exports(month, tmp_path_factory.mktemp("month"))
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Month, dict[str, Path]]:
    """A month of twice the customers: eight on the web shops."""
    month = make_month(SEED, customers=28, orders=96)
    paths = write_exports(month, tmp_path_factory.mktemp("bigger"))
    return month, {p.name: p for p in paths}


@pytest.fixture
def books(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "book.yaml").write_text(BOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return ["-t", tmp_path / "book.yaml", "-r", tmp_path / "rules.yaml", "--as-of", AS_OF]


# --- what the files hold, by hand ----------------------------------------------------------

#: Which exports a run gets: the issue's pair (Shopify and Linnworks' copy of every
#: order), and every export of the month.
RUNS = {
    "shopify and linnworks": ["orders_export.csv", "linnworks_open_orders.csv"],
    "every export": [
        "orders_export.csv",
        "woocommerce_orders.csv",
        "amazon_uk.txt",
        "amazon_us.txt",
        "ebay_us.csv",
        "ebay_de.csv",
        "EtsySoldOrders2026-11.csv",
        "linnworks_open_orders.csv",
    ],
}
CHANNEL_FILE = {
    "shopify": "orders_export.csv",
    "woocommerce": "woocommerce_orders.csv",
    "amazon-uk": "amazon_uk.txt",
    "amazon-us": "amazon_us.txt",
    "ebay-us": "ebay_us.csv",
    "ebay-de": "ebay_de.csv",
    "etsy": "EtsySoldOrders2026-11.csv",
}


def order_total(month: Month, o: Order, files: list[str]) -> Decimal:
    """The order's total as the run counts it: the channel's own export where the run
    has it; else Linnworks' copy, which for one Amazon UK order adds the VAT again."""
    if CHANNEL_FILE[o.channel] in files or o.number != month.wrong_in_hub:
        return o.total
    vat = sum((t for _, _, _, t in o.lines), Decimal(0)) + o.shipping_tax
    return o.total + vat


def run_figures(month: Month, files: list[str]) -> tuple[Figures, dict[str, dt.date]]:
    """Per customer of the run: orders and spend per currency, each order once, and
    their last order's day. Linnworks gives an email for web-shop and Amazon orders
    only: an eBay or Etsy order is a customer's only where their own export is given."""
    figures: Figures = {}
    last: dict[str, dt.date] = {}
    for o in month.orders:
        in_run = CHANNEL_FILE[o.channel] in files or (
            "linnworks_open_orders.csv" in files and bool(o.email)
        )
        if not in_run:
            continue
        count, spend = figures.get(o.key, (0, defaultdict(Decimal)))
        spend[o.currency] += order_total(month, o, files)
        figures[o.key] = (count + 1, spend)
        last[o.key] = max(last.get(o.key, o.when.date()), o.when.date())
    return {k: (n, dict(s)) for k, (n, s) in figures.items()}, last


def listed_figures(path: Path) -> Figures:
    """Per address of a list in the default columns: orders, and spend per currency
    (``2408.14 GBP; 45.00 EUR``; a single amount is in the customer's one currency,
    shown here as "?")."""
    out: Figures = {}
    for email, _first, _last, orders, spend, _tags in read_rows(path)[1:]:
        per: dict[str, Decimal] = {}
        for part in spend.split("; "):
            amount, _, currency = part.partition(" ")
            per[currency or "?"] = Decimal(amount)
        out[email] = (int(orders), per)
    return out


def one_currency_shown_bare(figures: Figures) -> Figures:
    """``figures`` as a list shows them: one currency's amount without its code."""
    return {
        k: (n, {"?": next(iter(s.values()))} if len(s) == 1 else s) for k, (n, s) in figures.items()
    }


# --- 1. one order, one record, on lists and segments ---------------------------------------


@pytest.mark.parametrize("which", sorted(RUNS))
def test_lists_count_each_order_once_without_a_workspace(
    month: Month, exports: dict[str, Path], books: list[str | Path], tmp_path: Path, which: str
) -> None:
    files = RUNS[which]
    truth, _ = run_figures(month, files)
    # On a list: the customers with a mailbox (web shops; Amazon's relay addresses and
    # the marketplaces' buyer ids are left out).
    expected = one_currency_shown_bare({k: v for k, v in truth.items() if "@example.com" in k})
    assert len(expected) >= 3 and any(n >= 3 for n, _ in expected.values())
    paths = [exports[f] for f in files]
    listed = tmp_path / "export.csv"
    result = run("export", *paths, *books, "--tag", "CUSTOMER", "-o", listed)
    assert result.exit_code == 0, result.stderr
    assert listed_figures(listed) == expected
    # apply --list: the same list from the same run.
    written = tmp_path / "apply.csv"
    result = run("apply", *paths, *books, "-o", tmp_path / "out", "--list", f"{written}:CUSTOMER")
    assert result.exit_code == 0, result.stderr
    assert listed_figures(written) == expected


#: Fixed RFM cut-offs (the defaults in docs/segments.md; a run of fewer than 20 customers uses them):
#: recency 5 within 30 days, 4 within 90, ...; frequency and monetary 2, 3, 4, 5 from
#: these orders and this spend (in the customer's main currency) on.
RECENCY = (30, 90, 180, 365)
FREQUENCY = (2, 3, 5, 8)
MONETARY = (100, 250, 500, 1000)


def expected_segments(
    truth: Figures, last: dict[str, dt.date], as_of: dt.date
) -> dict[str, tuple[int, dict[str, str]]]:
    """Per RFM group: customers and spend per currency, scored by hand."""
    out: dict[str, tuple[int, dict[str, Decimal]]] = {}
    for key, (orders, spend) in truth.items():
        days = (as_of - last[key]).days
        r = 5 - sum(1 for cut in RECENCY if cut < days)
        f = 1 + sum(1 for cut in FREQUENCY if cut <= orders)
        ranked = sorted(spend.values(), reverse=True)
        assert len(ranked) < 2 or ranked[0] != ranked[1]  # one main currency
        m = 1 + sum(1 for cut in MONETARY if cut <= ranked[0])
        group = group_of(r, (f + m) / 2)  # the published table of groups
        count, sums = out.get(group, (0, defaultdict(Decimal)))
        for cur, amount in spend.items():
            sums[cur] += amount
        out[group] = (count + 1, sums)
    return {g: (n, {c: f"{v:.2f}" for c, v in s.items()}) for g, (n, s) in out.items()}


@pytest.mark.parametrize("which", sorted(RUNS))
def test_segments_count_each_order_once_without_a_workspace(
    month: Month, exports: dict[str, Path], books: list[str | Path], which: str
) -> None:
    files = RUNS[which]
    truth, last = run_figures(month, files)
    expected = expected_segments(truth, last, dt.date.fromisoformat(AS_OF))
    assert len(expected) >= 2  # customers in several groups
    paths = [exports[f] for f in files]
    result = run("segments", *paths, *books, "--output-format", "json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert table["method"] == "fixed" and table["total"] == len(truth)
    got = {
        line["group"]: (line["customers"], line["spend"])
        for line in table["lines"]
        if line["customers"]
    }
    assert got == expected


# --- 4 and 6: everyone who may be mailed; why customers were left out ------------------------


def web_shop_people(truth: Figures) -> list[str]:
    """The customers with a mailbox (the web shops'), by address."""
    return sorted(k for k in truth if k.endswith("@example.com"))


def book_marking(fraud: str, suppressed: str, vip: str) -> str:
    return BOOK + (
        f"customers:\n  - email: {fraud}\n    tags: [FRAUD]\n  - email: {vip}\n    tags: [VIP]\n"
        f"suppressed:\n  - email: {suppressed}\n    reason: unsubscribed\n"
    )


def test_apply_list_says_who_was_left_out_as_export_does(
    bigger: tuple[Month, dict[str, Path]], books: list[str | Path], tmp_path: Path
) -> None:
    month, exports = bigger
    files = RUNS["every export"]
    truth, _ = run_figures(month, files)
    people = web_shop_people(truth)
    assert len(people) >= 6
    fraud, suppressed, vip = people[:3]
    (tmp_path / "book.yaml").write_text(book_marking(fraud, suppressed, vip), encoding="utf-8")
    paths = [exports[f] for f in files]
    listed = tmp_path / "list.csv"
    applied = run(
        "apply", *paths, *books, "-o", tmp_path / "out", "--list", f"{listed}:CUSTOMER,!VIP"
    )
    assert applied.exit_code == 0, applied.stderr
    # By hand: Amazon's buyers have relay addresses, eBay's and Etsy's a buyer id only;
    # of the web shops' people, one is suppressed, one FRAUD (no_marketing) and one VIP.
    relay = sum(1 for k in truth if "@marketplace.amazon." in k)
    no_email = sum(1 for k in truth if k.startswith(("ebay:", "etsy:")))
    assert relay and no_email
    line = (
        f"{len(people) - 3} customers with CUSTOMER ({no_email} with no email (buyer id only); "
        f"{relay} with marketplace relay addresses; 1 suppressed; 1 with a no-marketing tag; "
        f"1 with VIP left out)"
    )
    assert f"{line}; wrote {listed}" in applied.stderr.splitlines()
    exported = tmp_path / "export.csv"
    result = run("export", *paths, *books, "--tag", "CUSTOMER", "--not-tag", "VIP", "-o", exported)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [f"{line}; wrote {exported}"]
    assert exported.read_bytes() == listed.read_bytes()


def test_export_all_lists_everyone_who_may_be_mailed(
    bigger: tuple[Month, dict[str, Path]], books: list[str | Path], tmp_path: Path
) -> None:
    month, exports = bigger
    files = RUNS["every export"]
    truth, _ = run_figures(month, files)
    people = web_shop_people(truth)
    fraud, suppressed, vip = people[:3]
    (tmp_path / "book.yaml").write_text(book_marking(fraud, suppressed, vip), encoding="utf-8")
    paths = [exports[f] for f in files]
    everyone = tmp_path / "everyone.csv"
    result = run("export", *paths, *books, "--all", "-o", everyone)
    assert result.exit_code == 0, result.stderr
    # Everyone with a mailbox but the suppressed and FRAUD customers (no tag is needed:
    # the book's tags are only the exclusions').
    assert sorted(r[0] for r in read_rows(everyone)[1:]) == sorted(
        set(people) - {fraud, suppressed}
    )
    relay = sum(1 for k in truth if "@marketplace.amazon." in k)
    no_email = sum(1 for k in truth if k.startswith(("ebay:", "etsy:")))
    assert result.stderr.splitlines() == [
        f"{len(people) - 2} customers ({no_email} with no email (buyer id only); {relay} with "
        f"marketplace relay addresses; 1 suppressed; 1 with a no-marketing tag left out); "
        f"wrote {everyone}"
    ]
    # The filters narrow it as they narrow a tag's list.
    narrowed = tmp_path / "narrowed.csv"
    result = run(
        "export", *paths, *books, "--all", "--not-tag", "VIP", "--min-orders", "2", "-o", narrowed
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(r[0] for r in read_rows(narrowed)[1:]) == sorted(
        k for k in set(people) - {fraud, suppressed, vip} if truth[k][0] >= 2
    )


SHOP_HEADER = ["Name", "Email", "Accepts Marketing", "Currency", "Total", "Created at"]


def test_export_all_keeps_to_the_consent_rules(books: list[str | Path], tmp_path: Path) -> None:
    """Shopify records each buyer's answer: --all lists those whose latest answer is yes,
    and --include-without-consent the others too, with its warning."""
    rows = [
        ["#1001", "yes@example.com", "yes", "GBP", "10.00", "2026-11-02 10:00:00 +0000"],
        ["#1002", "no@example.com", "no", "GBP", "20.00", "2026-11-03 10:00:00 +0000"],
        ["#1003", "changed@example.com", "yes", "GBP", "30.00", "2026-11-04 10:00:00 +0000"],
        ["#1004", "changed@example.com", "no", "GBP", "40.00", "2026-11-05 10:00:00 +0000"],
        ["#1005", "later@example.com", "no", "GBP", "50.00", "2026-11-06 10:00:00 +0000"],
        ["#1006", "later@example.com", "yes", "GBP", "60.00", "2026-11-07 10:00:00 +0000"],
    ]
    shop = tmp_path / "orders_export.csv"
    shop.write_text(csv_text(SHOP_HEADER, rows), encoding="utf-8")
    out = tmp_path / "all.csv"
    result = run("export", shop, *books, "--all", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert [r[0] for r in read_rows(out)[1:]] == ["later@example.com", "yes@example.com"]
    assert result.stderr.splitlines() == [
        f"2 customers (2 without marketing consent left out); wrote {out}"
    ]
    result = run("export", shop, *books, "--all", "--include-without-consent", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert len(read_rows(out)) == 5
    assert "warning: 2 customers listed without marketing consent" in result.stderr


def test_export_says_whom_to_list(books: list[str | Path], tmp_path: Path) -> None:
    shop = tmp_path / "orders_export.csv"
    shop.write_text(
        csv_text(SHOP_HEADER, [["#1", "a@example.com", "yes", "GBP", "1.00", "2026-11-02"]]),
        encoding="utf-8",
    )
    nobody = run("export", shop, *books, "-o", tmp_path / "l.csv")
    assert nobody.exit_code == 2
    assert nobody.stderr.strip() == (
        "ordertags: say whom to list: a tag with --tag, a segment with --segment, or --all for "
        "every customer. For example: --tag VIP, --segment champions, or --all --min-orders 2."
    )
    both = run("export", shop, *books, "--all", "--tag", "VIP", "-o", tmp_path / "l.csv")
    assert both.exit_code == 2
    assert "--all lists every customer: it does not go with --tag or --segment." in both.stderr
    assert not (tmp_path / "l.csv").exists()


# --- 3. --min-spend compares the total the rules compare ------------------------------------

EUR_IN_GBP = Decimal("0.86")
CONVERTING = """\
version: 1
currency: GBP
rates: {EUR: 0.86}
rules:
  - name: Everyone who ordered
    when: {customer: orders, at_least: 1}
    tag: CUSTOMER
  - name: Big spenders
    when: {customer: spend, at_least: THRESHOLD}
    tag: VIP
"""


def in_gbp(spend: dict[str, Decimal]) -> Decimal:
    """Spend in GBP as the rule file says: EUR at 0.86; USD has no rate (left out)."""
    return spend.get("GBP", Decimal(0)) + spend.get("EUR", Decimal(0)) * EUR_IN_GBP


def test_min_spend_compares_the_converted_total_as_the_rules_do(
    bigger: tuple[Month, dict[str, Path]], books: list[str | Path], tmp_path: Path
) -> None:
    month, exports = bigger
    files = RUNS["every export"]
    truth, _ = run_figures(month, files)
    people = web_shop_people(truth)
    totals = sorted({in_gbp(truth[k][1]) for k in people})
    # A threshold between two customers' totals that someone reaches only with both of
    # their currencies together (neither alone): per currency, they would be left out.
    threshold = next(
        (a + b) / 2
        for a, b in zip(totals, totals[1:], strict=False)
        if any(in_gbp(truth[k][1]) >= (a + b) / 2 > max(truth[k][1].values()) for k in people)
    ).quantize(Decimal("0.01"))
    expected = sorted(k for k in people if in_gbp(truth[k][1]) >= threshold)
    (tmp_path / "rules.yaml").write_text(
        CONVERTING.replace("THRESHOLD", str(threshold)), encoding="utf-8"
    )
    paths = [exports[f] for f in files]
    usd = sum(1 for _, spend in truth.values() if "USD" in spend)
    assert usd
    out = tmp_path / "spent.csv"
    for amount in (f"{threshold}", f"{threshold} GBP", f"EUR {threshold / EUR_IN_GBP:.4f}"):
        result = run(
            "export", *paths, *books, "--tag", "CUSTOMER", "--min-spend", amount, "-o", out
        )
        assert result.exit_code == 0, result.stderr
        assert sorted(r[0] for r in read_rows(out)[1:]) == expected, amount
        # The spend it cannot convert is left out, as the rules leave it out, and said so.
        assert (
            f"warning: --min-spend compares spend in GBP: the USD spend of {usd} customers is "
            "left out of it (no rate: add one under `rates:` in the rule file)."
        ) in result.stderr.splitlines()
    # The rules' own comparison (VIP: spend at least the threshold) chooses the same people.
    result = run("export", *paths, *books, "--tag", "VIP", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(r[0] for r in read_rows(out)[1:]) == expected
    # An amount in a currency with no rate into GBP cannot be compared.
    result = run("export", *paths, *books, "--tag", "CUSTOMER", "--min-spend", "100 USD", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "ordertags: --min-spend 100.00 USD: customer spend is compared in GBP (the rule "
        "file's currency:), and there is no rate for USD. Give the amount in GBP, or add USD "
        "under `rates:` in the rule file."
    )


def test_without_a_currency_min_spend_is_per_currency(
    books: list[str | Path], tmp_path: Path
) -> None:
    """No `currency:` in the rule file: nothing says how to add pounds and euros, so an
    amount is in one of the customer's currencies, as before."""
    rows = [
        ["#1", "both@example.com", "yes", "GBP", "80.00", "2026-11-02 10:00:00 +0000"],
        ["#2", "both@example.com", "yes", "EUR", "50.00", "2026-11-03 10:00:00 +0000"],
        ["#3", "euro@example.com", "yes", "EUR", "120.00", "2026-11-04 10:00:00 +0000"],
    ]
    shop = tmp_path / "orders_export.csv"
    shop.write_text(csv_text(SHOP_HEADER, rows), encoding="utf-8")
    out = tmp_path / "l.csv"
    for amount, who in (
        ("100", ["euro@example.com"]),
        ("100 GBP", []),
        ("75 GBP", ["both@example.com"]),
    ):
        result = run("export", shop, *books, "--tag", "CUSTOMER", "--min-spend", amount, "-o", out)
        assert result.exit_code == 0, result.stderr
        assert [r[0] for r in read_rows(out)[1:]] == who, amount


# --- 2. list files as people write them --------------------------------------------------------

LIST_RULES = """\
version: 1
rules:
  - name: VIP list
    when:
      any:
        - {field: email, in_file: vip.txt}
        - {field: email, in_file: mailchimp.csv}
        - {field: email, in_file: contacts.csv, column: Contact}
    tag: VIP
"""


def test_list_files_are_read_as_people_write_them(
    bigger: tuple[Month, dict[str, Path]], books: list[str | Path], tmp_path: Path
) -> None:
    month, exports = bigger
    truth, _ = run_figures(month, RUNS["every export"])
    people = web_shop_people(truth)
    assert len(people) >= 8
    a, b, c, d, e, f, g, h = people[:8]
    # A list pasted together from a spreadsheet, an email client and a web page, with
    # a name where an address should be (line 8) and another customer's address in
    # capitals (addresses compare as customer keys).
    (tmp_path / "vip.txt").write_text(
        f'# my VIPs\n{a},\n"{b}"\n{c};\n{d}\tGOLD\nmailto:{e.upper()}\n\nJane Doe\n',
        encoding="utf-8",
    )
    # Mailchimp's audience export: its email column found by its header.
    (tmp_path / "mailchimp.csv").write_text(
        f'Email Address,First Name,Last Name,TAGS\n{f},Ann,Lee,"VIP,GOLD"\n', encoding="utf-8"
    )
    # A semicolon-separated sheet whose address column has no usual name: named in the
    # rule (column: Contact); a row with a blank address and one with a phone instead.
    (tmp_path / "contacts.csv").write_text(
        f"Name;Contact;Notes\nGina;<{g}>;met at a fair\nNo Mail;;\nHal;+44 7700 900123;\n",
        encoding="utf-8",
    )
    (tmp_path / "rules.yaml").write_text(
        RULES + LIST_RULES.removeprefix("version: 1\nrules:\n"), encoding="utf-8"
    )
    paths = [exports[name] for name in RUNS["every export"]]
    out = tmp_path / "vip_list.csv"
    result = run("export", *paths, *books, "--tag", "VIP", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(r[0] for r in read_rows(out)[1:]) == sorted([a, b, c, d, e, f, g])
    # lint: only the lines that hold no address, by line number; nothing about the rest.
    lint = run("lint", "-r", tmp_path / "rules.yaml", "-t", tmp_path / "book.yaml")
    assert lint.exit_code == 0, lint.stdout
    assert lint.stdout.splitlines() == [
        f"warning: {tmp_path / 'vip.txt'}, line 8: 1 line holds no email address, so it "
        'matches nobody ("Ja…" (8 characters)); write an address a line, or name a CSV\'s '
        "address column with `column:`",
        f"warning: {tmp_path / 'contacts.csv'}, line 4: 1 line holds no email address, so "
        'it matches nobody ("+4…" (15 characters)); check that column "Contact" is the '
        "one holding the addresses",
    ]
    assert lint.stderr.strip() == "0 errors, 2 warnings"


def test_a_column_the_list_file_lacks_is_an_error_at_the_rule(
    books: list[str | Path], tmp_path: Path
) -> None:
    (tmp_path / "contacts.csv").write_text("Name,E-mail\nAnn,ann@example.com\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: VIP list\n"
        "    when: {field: email, in_file: contacts.csv, column: Email Address}\n"
        "    tag: VIP\n",
        encoding="utf-8",
    )
    result = run("lint", "-r", rules, "-t", tmp_path / "book.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"error: {rules}, line 4, key $.rules[0].when.column: the list file "
        f'{tmp_path / "contacts.csv"} has no column "Email Address" (its header row, line 1: '
        "Name, E-mail). Name one of its columns in `column:`, or leave `column:` out for one "
        "value a line."
    ]
    # Without column:, E-mail is a usual name of an email column.
    rules.write_text(
        "version: 1\nrules:\n  - name: VIP list\n"
        "    when: {field: email, in_file: contacts.csv}\n    tag: VIP\n",
        encoding="utf-8",
    )
    assert run("lint", "-r", rules, "-t", tmp_path / "book.yaml").stdout == ""
    rules.write_text(
        "version: 1\nrules:\n  - name: VIP\n    when: {field: email, equals: a@b.co, column: X}\n"
        "    tag: VIP\n",
        encoding="utf-8",
    )
    result = run("lint", "-r", rules, "-t", tmp_path / "book.yaml")
    assert result.stdout.startswith(
        f"error: {rules}, line 4, key $.rules[0].when.column: column names the column of an "
        "in_file or not_in_file list file; this condition reads none."
    )


def test_a_suppression_file_is_read_as_a_list_of_emails(
    books: list[str | Path], tmp_path: Path
) -> None:
    rows = [
        ["#1", "ann@example.com", "yes", "GBP", "10.00", "2026-11-02 10:00:00 +0000"],
        ["#2", "bob@example.com", "yes", "GBP", "20.00", "2026-11-03 10:00:00 +0000"],
        ["#3", "cy@example.com", "yes", "GBP", "30.00", "2026-11-04 10:00:00 +0000"],
    ]
    shop = tmp_path / "orders_export.csv"
    shop.write_text(csv_text(SHOP_HEADER, rows), encoding="utf-8")
    gone = tmp_path / "gone.txt"
    gone.write_text('"Ann@Example.com";\nmailto:bob@example.com\n', encoding="utf-8")
    out = tmp_path / "l.csv"
    result = run("export", shop, *books, "--tag", "CUSTOMER", "--suppress", gone, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert [r[0] for r in read_rows(out)[1:]] == ["cy@example.com"]
    gone.write_text("Name,Phone\nAnn,0123\n", encoding="utf-8")
    result = run("export", shop, *books, "--tag", "CUSTOMER", "--suppress", gone, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"ordertags: {gone}, line 1: the suppression file holds no email address (nor a "
        "column named like Email). Name the address column Email, or give one address a line."
    )


# --- 5. lint names each file once --------------------------------------------------------------


def test_lint_names_each_file_once(tmp_path: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text("version: 1\ntags:\n  - {name: VIP, colour: nocolour}\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: x\n    when: {field: total, over: 1}\n    tag: NOPE\n",
        encoding="utf-8",
    )
    missing = tmp_path / "missing.csv"
    result = run("lint", "-r", rules, "-t", book, missing)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f'error: {book}, line 3, key tags[0].colour: "nocolour" is not a colour. Use a CSS '
        "colour name (red, gold, teal) or #rrggbb.",
        f"error: {missing}: no such file. Check the path.",
    ]
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\ntags:\n  - {name: VIP, colour: gold}\n", encoding="utf-8")
    result = run("lint", "-r", rules, "-t", good)
    assert result.stdout.splitlines() == [
        f'error: {rules}, line 3, key $.rules[0].tag: rule "x" adds tag "NOPE", which is not '
        f"in the tag book {good} (it defines VIP). Use a tag the tag book defines (`ordertags "
        "tags` lists them), or add it under `tags:` there."
    ]
