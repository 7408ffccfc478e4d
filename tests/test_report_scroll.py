"""A report page of many orders in a real browser: rows are drawn as the reader scrolls
(the page does not build every row up front), yet the counts, the tag chips, the search
and the printed page cover every order of the document, not only those drawn.

The figures are worked out here from the rows the test writes, not by ordertags.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordertags.cli import app

from .test_report_browser import _chromium

runner = CliRunner()
ORDERS = 3000
CUSTOMERS = 700
HEADER = [
    "Order Id",
    "Received Date",
    "Customer Name",
    "Email",
    "Postal Service",
    "Currency",
    "Total",
]


def _customer(i: int) -> int:
    return (i * 13) % CUSTOMERS


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("big")
    export = folder / "orders.csv"
    with export.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(ORDERS):
            c = _customer(i)
            out.writerow(
                [
                    str(500000 + i),
                    f"2026-11-{1 + i % 25:02d} 10:{i % 60:02d}",
                    f"Customer {c:04d}",
                    f"c{c:04d}@example.org",
                    "Royal Mail 2nd Class",
                    "GBP",
                    f"{10 + i % 90}.00",
                ]
            )
    vips = [c for c in range(CUSTOMERS) if c % 10 == 3]  # 70 customers tagged by hand
    book = folder / "tagbook.yaml"
    entries = "".join(f"  - {{email: c{c:04d}@example.org, tags: [VIP]}}\n" for c in vips)
    book.write_text(
        "version: 1\ntags:\n  - name: VIP\n    colour: gold\n    label: VIP\n"
        f"customers:\n{entries}",
        encoding="utf-8",
    )
    page = folder / "report.html"
    result = runner.invoke(
        app,
        ["report", str(export), "-t", str(book), "-o", str(page), "-q", "--as-of", "2026-11-30"],
    )
    assert result.exit_code == 0, result.stderr
    vip_orders = sum(1 for i in range(ORDERS) if _customer(i) % 10 == 3)
    # "c0123@" is one customer's email: their orders are the ones to find by search.
    one = sum(1 for i in range(ORDERS) if _customer(i) == 123)
    return page, {"vip": vip_orders, "c0123": one}


def _drawn(page: Any) -> int:
    return int(page.locator("#rows tr.order").count())


def test_a_big_page_draws_as_it_scrolls_and_filters_every_order(
    big_page: tuple[Path, dict[str, int]],
) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    path, want = big_page
    assert want["vip"] > 200 and want["c0123"] > 1  # more than one screenful each way
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page: Any = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.wait_for_selector("tr.order")
            # Every order counted, a few screens of them drawn.
            assert page.locator("#shown").inner_text() == f"{ORDERS} shown"
            first = _drawn(page)
            assert 10 <= first < 1000, first
            # Scrolling to the end of what is drawn draws more, in order.
            page.mouse.wheel(0, 200_000)
            page.wait_for_function(f"document.querySelectorAll('#rows tr.order').length > {first}")
            ids = page.locator("#rows tr.order").evaluate_all(
                "rows => rows.map(r => r.dataset.order)"
            )
            assert ids == [str(500000 + i) for i in range(len(ids))]
            # The chip counts and filters every order of the tag, drawn or not.
            chip = page.locator('.chip[data-tag="VIP"]')
            assert chip.locator(".n").inner_text() == str(want["vip"])
            chip.click()
            assert page.locator("#shown").inner_text() == f"{want['vip']} shown"
            tags = page.locator("#rows tr.order").evaluate_all(
                "rows => rows.map(r => r.dataset.tags)"
            )
            assert tags and set(tags) == {"VIP"}
            chip.click()
            # A search finds one customer's orders wherever they are in the file.
            page.fill("#search", "c0123@")
            assert page.locator("#shown").inner_text() == f"{want['c0123']} shown"
            assert _drawn(page) == want["c0123"]
            page.fill("#search", "")
            # On paper, every order is there.
            page.emulate_media(media="print")
            page.wait_for_function(
                f"document.querySelectorAll('#rows tr.order').length === {ORDERS}"
            )
        finally:
            browser.close()
    assert errors == []
