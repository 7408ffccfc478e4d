"""A month of a UK surf shop (issue 17) as the packers see it: ``show`` in an 80-90
column terminal and the ``report`` page on a 1366 x 768 screen and on paper.

The shop sells on Shopify, WooCommerce, Amazon UK and US, eBay US and DE and Etsy, and
Linnworks holds every order again (:mod:`tests.month_shop`). One eBay buyer is a
fraudster (held), one Amazon buyer has claimed non-receipt (a rule forces a tracked
service), one Shopify customer is a VIP. Expected figures come from the generator
(``decimal``), not from ordertags.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.reports.terminal import columns_of, fit_columns

from .conftest import ROOT
from .month_shop import Month, Order, make_month, write_exports
from .test_report_browser import _chromium

runner = CliRunner()
ARTIFACTS = ROOT / "benchmarks" / "artifacts"
SEED = 17
HOLD = "Check with the owner"
TRACKED = "Royal Mail Tracked 24"
#: The Amazon marketplaces (their reports' ship-service-level: each order's own service).
AMAZON = ("amazon-uk", "amazon-us")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Shop:
    """The month's exports, tag book and rules, and who is who in them."""

    def __init__(self, folder: Path) -> None:
        self.month: Month = make_month(SEED)
        self.paths = write_exports(self.month, folder / "exports")
        first = {o.channel: o for o in reversed(self.month.orders)}
        self.fraud = first["ebay-de"].key  # ebay:buyer_...
        self.claimed = first["amazon-us"].key  # a relay address
        self.vip = first["shopify"].key
        (folder / "tagbook.yaml").write_text(
            f"""\
version: 1
tags:
  - {{name: FRAUD, colour: red, label: "FRAUD — hold, do not ship", icon: "⚠", priority: 100}}
  - {{name: CLAIMED, colour: orange, label: "CLAIMED — ship tracked", priority: 90}}
  - {{name: VIP, colour: gold, label: "VIP — add a freebie", icon: "★", priority: 50}}
  - {{name: BIG, colour: "#1f77b4", label: "BIG — pack with care", priority: 40, scope: order}}
customers:
  - {{id: "{self.fraud}", tags: [FRAUD], note: Two chargebacks in 2026}}
  - {{email: "{self.claimed}", tags: [CLAIMED], note: Claimed non-receipt 2026-10-02}}
  - {{email: "{self.vip}", tags: [VIP], note: Wholesale buyer}}
""",
            encoding="utf-8",
        )
        (folder / "rules.yaml").write_text(
            f"""\
version: 1
rules:
  - name: Big order
    when: {{field: total, over: 500}}
    tag: BIG
  - name: Claimers ship tracked
    when: {{has_tag: CLAIMED}}
    set: {{shipping_service: {TRACKED}}}
  - name: Fraud held
    when: {{has_tag: FRAUD}}
    hold: {HOLD}
""",
            encoding="utf-8",
        )
        self.folder = folder

    def args(self, *, channels: bool = False) -> list[str]:
        """The command's arguments: every export (or, with ``channels``, the channels'
        own exports without Linnworks' copies), the tag book and the rules."""
        paths = [p for p in self.paths if not (channels and "linnworks" in p.name)]
        return [
            *map(str, paths),
            "-t",
            str(self.folder / "tagbook.yaml"),
            "-r",
            str(self.folder / "rules.yaml"),
            "--as-of",
            "2026-11-29",
            "--default-region",
            "GB",
        ]

    def orders(self, channel: str) -> list[Order]:
        return [o for o in self.month.orders if o.channel == channel]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return Shop(tmp_path_factory.mktemp("month17"))


def _plain(shop: Shop, *more: str) -> list[dict[str, str]]:
    """``show`` piped (the channels' exports and ``more``): its tab-separated lines as
    dicts by header."""
    result = runner.invoke(
        app, ["show", *more, *shop.args(channels=True), "-q"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]


# --- show: the Service after the rules, the Amazon total, the dates -----------------------


def test_the_service_column_shows_the_service_the_rules_set(shop: Shop) -> None:
    by_order = {r["Order"]: r for r in _plain(shop)}
    checked = 0
    for channel in AMAZON:
        for o in shop.orders(channel):
            row = by_order[o.number]
            expected = TRACKED if o.key == shop.claimed else o.service
            assert row["Service"] == expected, o.number
            checked += o.key == shop.claimed
    assert checked >= 1  # the claimer has Amazon orders whose service the rule changed
    claimed = [by_order[o.number] for o in shop.orders("amazon-us") if o.key == shop.claimed]
    assert {r["Action"] for r in claimed} == {f"ship-service-level: {TRACKED}"}


def test_amazon_orders_show_their_total_as_the_rules_compute_it(shop: Shop) -> None:
    by_order = {r["Order"]: r for r in _plain(shop)}
    amazon = shop.orders("amazon-uk") + shop.orders("amazon-us")
    assert amazon
    for o in amazon:
        # Worked out by the generator with decimal: UK prices include VAT; the US adds
        # the tax of the lines and the shipping.
        assert by_order[o.number]["Total"] == f"{o.total:,.2f}", o.number
    # The rules see the same total: BIG is tagged on exactly the orders over 500.
    for o in amazon:
        assert ("BIG" in by_order[o.number]["Customer Profile"]) == (o.total > Decimal(500))


def test_dates_are_shown_in_iso_8601_whatever_each_export_wrote(shop: Shop) -> None:
    by_order = {r["Order"]: r for r in _plain(shop)}
    # eBay (Nov-02-26, 02-Nov-26) and Etsy (11/02/26, month first) give the day only.
    day_only = {"ebay-us", "ebay-de", "etsy"}
    for o in shop.month.orders:
        layout = "%Y-%m-%d" if o.channel in day_only else "%Y-%m-%d %H:%M"
        assert by_order[o.number]["Date"] == o.when.strftime(layout), (o.channel, o.number)


def test_dates_are_iso_beside_an_export_without_dates(shop: Shop) -> None:
    plain = shop.folder / "no_dates.csv"
    plain.write_text("Order Id,Email,Total\n9100,kim@example.com,5.00\n", encoding="utf-8")
    rows = {r["Order"]: r for r in _plain(shop, str(plain))}
    assert rows["9100"]["Date"] == ""
    o = shop.orders("amazon-uk")[0]
    assert rows[o.number]["Date"] == o.when.strftime("%Y-%m-%d %H:%M")


# --- show: what the packer must act on is the last to go ----------------------------------


def _table(shop: Shop, width: int) -> list[str]:
    result = runner.invoke(
        app,
        ["show", *shop.args(), "--colour", "always", "-q"],
        env={"COLUMNS": str(width)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return [ANSI.sub("", line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("width", [80, 85, 90])
def test_show_keeps_the_hold_and_the_forced_service_on_an_80_to_90_column_terminal(
    shop: Shop, width: int
) -> None:
    lines = _table(shop, width)
    header = re.split(r"\s{2,}", lines[0].strip())
    assert "Action" in header
    assert max(len(line) for line in lines) <= width  # nothing wrapped or cut off
    held = [o.number for o in shop.orders("ebay-de") if o.key == shop.fraud]
    forced = [o.number for o in shop.orders("amazon-us") if o.key == shop.claimed]
    assert held and forced
    for number in held:
        (line,) = [x for x in lines if x.startswith(number + " ")]
        assert line.rstrip().endswith(f"HOLD: {HOLD}"), line  # whole, not cut
    for number in forced:
        (line,) = [x for x in lines if x.startswith(number + " ")]
        assert line.rstrip().endswith(f"ship-service-level: {TRACKED}"), line


def test_a_column_to_act_on_outranks_total_at_every_width(shop: Shop) -> None:
    from ordertags.api import view_files

    args = shop.args()
    exports = args[: args.index("-t")]
    view = view_files(
        exports,
        tagbook=shop.folder / "tagbook.yaml",
        rules=shop.folder / "rules.yaml",
        region="GB",
    )
    cols = columns_of(view)
    title = [c.title for c in cols]
    action, total, order = title.index("Action"), title.index("Total"), title.index("Order")
    action_text = max(len(o.actions()) for o in view.orders)
    order_text = max(len(o.order) for o in view.orders)
    for width in range(40, 201):
        kept = dict(fit_columns(view, width))
        assert sum(kept.values()) + 2 * (len(kept) - 1) <= width
        if total in kept:
            assert action in kept, width
        if width >= order_text + 2 + action_text:  # the action fits whole: it is whole
            assert kept.get(action) == action_text, width
        assert order in kept


# --- the report page in Chromium --------------------------------------------------------------


@pytest.fixture(scope="module")
def report_page(shop: Shop) -> Path:
    out = shop.folder / "report.html"
    result = runner.invoke(app, ["report", *shop.args(), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser: Any, page_file: Path, **context: Any) -> Any:
    errors: list[str] = []
    page = browser.new_context(**context).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("tr.order")
    assert errors == []
    return page


def _document(page_file: Path) -> dict[str, Any]:
    text = page_file.read_text(encoding="utf-8")
    found = re.search(r'id="ordertags-data">(.*?)</script>', text, re.S)
    assert found
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_the_page_fits_a_1366_screen(browser: Any, report_page: Path) -> None:
    page = _open(browser, report_page, viewport={"width": 1366, "height": 768})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366
    # The search box shows its whole placeholder: the text, measured in the box's own
    # font, fits inside the box's padding.
    room, needed = page.evaluate(
        """() => {
          const box = document.getElementById("search");
          const s = getComputedStyle(box);
          const ctx = document.createElement("canvas").getContext("2d");
          ctx.font = s.font;
          return [box.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight),
                  ctx.measureText(box.placeholder).width];
        }"""
    )
    assert needed <= room, (needed, room)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-month-1366.png"))


def test_a_part_too_long_for_any_column_breaks_rather_than_widen_the_page(
    browser: Any, shop: Shop
) -> None:
    long = shop.folder / "long.csv"
    local = "averyveryverylongaddresswithoutanydotsatall1234567890"
    long.write_text(
        "Order Id,Customer Name,Email,Total\n"
        f"9001,Ann Smith,{local}@examplemailprovider.com,10.00\n"
        f"9002,{'Bartholomew' * 6} Brown,bob@example.com,12.00\n",
        encoding="utf-8",
    )
    out = shop.folder / "long.html"
    result = runner.invoke(app, ["report", str(long), *shop.args(), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    page = _open(browser, out, viewport={"width": 1366, "height": 768})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    # Only the overlong parts broke; the domain and every other part stayed whole.
    broken = page.evaluate(WRAPPED_INSIDE_A_PART)
    assert set(broken) == {local + "@", "Bartholomew" * 6}


WRAPPED_INSIDE_A_PART = """() => {
  // The words of names, emails and file names, split where an email may wrap (after
  // @ . _ - +), that were broken across two lines.
  const broken = [];
  for (const box of document.querySelectorAll(".name, .identity, .where, td.value")) {
    const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      for (const word of node.textContent.matchAll(/[^ ]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


def test_emails_wrap_between_their_parts_only(browser: Any, report_page: Path) -> None:
    for width in (1366, 1024):
        page = _open(browser, report_page, viewport={"width": width, "height": 768})
        assert page.evaluate(WRAPPED_INSIDE_A_PART) == []
        # Some did wrap (the test looks at wrapped emails), after their @.
        assert page.evaluate(
            """() => [...document.querySelectorAll(".identity")].some(
                 (e) => e.getClientRects()[0].height > 20)"""
        )


@pytest.mark.parametrize(
    ("locale", "zone"), [("en-US", "America/New_York"), ("de-DE", "Asia/Tokyo")]
)
def test_the_date_made_reads_the_same_in_every_browser(
    browser: Any, report_page: Path, locale: str, zone: str
) -> None:
    generated = _document(report_page)["generated"]  # 2026-12-06T00:15:31+00:00
    day, clock, offset = generated[:10], generated[11:16], generated[19:]
    zone_text = "UTC" if offset in ("+00:00", "Z") else "UTC" + offset
    page = _open(browser, report_page, locale=locale, timezone_id=zone)
    meta = page.locator("#meta").inner_text()
    assert meta.endswith(f" · made {day} {clock} {zone_text}"), meta
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) and re.fullmatch(r"\d{2}:\d{2}", clock)


def test_amazon_orders_have_their_total_on_the_page(
    browser: Any, report_page: Path, shop: Shop
) -> None:
    page = _open(browser, report_page)
    fields = _document(report_page)["fields"]
    column = fields.index("Total") + 5  # after Order, Customer, Tags, What it needs
    for o in shop.orders("amazon-uk") + shop.orders("amazon-us"):
        row = page.locator(f'tr[data-order="{o.number}"]').filter(
            has=page.locator(".where", has_text="amazon_")
        )
        cell = row.locator(f"td:nth-child({column})")
        assert cell.inner_text() == f"{o.total:,.2f}", o.number


# The printable width of a landscape page with the style sheet's 10 mm margins, in CSS px.
PAPER = {"A4": (297 - 20) / 25.4 * 96, "Letter": (279.4 - 20) / 25.4 * 96}


def _grey(rgb: tuple[float, ...], weights: tuple[float, float, float]) -> tuple[float, ...]:
    y = sum(w * c for w, c in zip(weights, rgb, strict=True))
    return (y, y, y)


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG 2.1 contrast ratio, from its definition."""

    def lum(rgb: tuple[float, ...]) -> float:
        lin = [
            (c / 255) / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
            for c in rgb
        ]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rgb(css: str) -> tuple[float, ...]:
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", css)
    assert found, css
    return tuple(float(x) for x in found.groups())


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_printed_landscape_nothing_overprints_and_badges_read_in_grey(
    browser: Any, report_page: Path, paper: str
) -> None:
    width = round(PAPER[paper])
    page = _open(browser, report_page, viewport={"width": width, "height": 700})
    page.emulate_media(media="print")
    # Every order number (with its printed mark) stays inside its cell, left of the name.
    overlaps = page.evaluate(
        """() => {
          const out = [];
          for (const tr of document.querySelectorAll("tr.order")) {
            const id = tr.querySelector(".order-id");
            const name = tr.querySelector(".name");
            const range = document.createRange();
            range.selectNodeContents(id);
            const text = range.getBoundingClientRect();
            const cell = id.parentElement.getBoundingClientRect();
            if (id.scrollWidth > id.clientWidth || text.right > cell.right ||
                text.right > name.getBoundingClientRect().left) out.push(tr.dataset.order);
          }
          return out;
        }"""
    )
    assert overlaps == []
    longest = max(
        page.evaluate("[...document.querySelectorAll('.order-id')].map(e => e.textContent)"),
        key=len,
    )
    assert len(longest) >= 19  # an Amazon number (202-1234567-1234567) was on the page
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # Each badge's text on its fill, once printed in grey (PDF's luma and the CSS
    # grayscale filter's): WCAG AA, 4.5:1, as in colour.
    badges = page.evaluate(
        """() => [...document.querySelectorAll(".badge")].map((b) => {
          const s = getComputedStyle(b);
          return [b.dataset.tag, s.backgroundColor, s.color];
        })"""
    )
    seen = set()
    for tag, fill, ink in badges:
        seen.add(tag)
        for weights in ((0.30, 0.59, 0.11), (0.2126, 0.7152, 0.0722)):
            ratio = _contrast(_grey(_rgb(fill), weights), _grey(_rgb(ink), weights))
            assert ratio >= 4.5, (tag, fill, ink, weights, round(ratio, 2))
        assert _contrast(_rgb(fill), _rgb(ink)) >= 4.5, (tag, fill, ink)
    assert {"FRAUD", "CLAIMED", "VIP", "BIG"} <= seen

    # The printed PDF, and its pages as pictures (in grey too) for a person to look at.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"report-month-{paper}.pdf"
    page.pdf(path=str(pdf), format=paper, landscape=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        for grey in ((), ("-gray",)):
            stem = ARTIFACTS / f"report-month-{paper}{'-grey' if grey else ''}"
            subprocess.run(
                ["pdftoppm", "-png", *grey, "-r", "70", "-f", "1", "-l", "2", str(pdf), str(stem)],
                check=True,
            )
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout)
        assert size and float(size.group(1)) > float(size.group(2))  # landscape
