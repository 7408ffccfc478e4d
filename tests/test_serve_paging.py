"""Today's orders in pages: a big apply is shown 200 orders a page, each order on exactly
one page, the tag filter and the search kept from page to page, a page number out of
range or not a number taken as the nearest page, and every order on one page to print.

The expected figures are worked out here from the rows the test writes."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.web.app import PAGE_ROWS

from .conftest import AS_OF, csv_text
from .serve_shop import HEADER, TODAY, client, log_in, shop, template_shop  # noqa: F401

runner = CliRunner()
BIG = 450


def _row(i: int) -> list[str]:
    c = i % 90  # 90 customers, 5 orders each
    total = Decimal("300.00") if c < 12 else Decimal("20.00")  # 12 reach 1,500 in spend
    return [
        str(700000 + i),
        "SHOPIFY",
        f"2026-11-25 {8 + i % 10:02d}:{i % 60:02d}",
        f"Paging Customer {c:02d}",
        f"paging{c:02d}@example.org",
        "",
        f"{c + 1} Long Lane",
        "LS1 4AP",
        f"{total:.2f}",
    ]


def _big_shop(ws: Path) -> None:
    export = ws.parent / "big.csv"
    export.write_text(csv_text(HEADER, [_row(i) for i in range(BIG)]), encoding="utf-8")
    done = runner.invoke(
        app,
        [
            "apply",
            str(export),
            "-o",
            str(ws.parent / "big.out.csv"),
            "-w",
            str(ws),
            "--as-of",
            AS_OF,
        ],
    )
    assert done.exit_code == 0, done.stderr


def _orders_on(html: str) -> list[str]:
    return re.findall(r"<tr[^>]*>\s*<td>([^<]+)<br>", html)


def test_todays_orders_come_in_pages_each_order_once(shop: Path) -> None:  # noqa: F811
    _big_shop(shop)
    c = client(shop)
    log_in(c, "vic")
    everyone = [r[0] for r in TODAY] + [str(700000 + i) for i in range(BIG)]
    pages = -(-len(everyone) // PAGE_ROWS)
    seen: list[str] = []
    for n in range(1, pages + 1):
        r = c.get(f"/?page={n}")
        assert r.status_code == 200
        on_page = _orders_on(r.text)
        assert len(on_page) == min(PAGE_ROWS, len(everyone) - (n - 1) * PAGE_ROWS)
        assert f"page {n} of {pages}" in r.text
        assert ("Next →" in r.text) == (n < pages)
        assert ("← Previous" in r.text) == (n > 1)
        seen += on_page
    assert sorted(seen) == sorted(everyone)  # each order on exactly one page
    # Out of range or not a number: the nearest page, never an error.
    assert _orders_on(c.get("/?page=999").text) == _orders_on(c.get(f"/?page={pages}").text)
    for bad in ("0", "-1", "abc", "²", "1e3", "9" * 40):
        r = c.get("/", params={"page": bad})
        assert r.status_code == 200, bad
        assert _orders_on(r.text) == seen[:PAGE_ROWS], bad
    # Every order on one page, to print.
    r = c.get("/?all=1")
    assert sorted(_orders_on(r.text)) == sorted(everyone)
    assert f"{len(everyone)} shown" in r.text


def test_the_filter_and_search_stay_from_page_to_page(shop: Path) -> None:  # noqa: F811
    _big_shop(shop)
    c = client(shop)
    log_in(c, "vic")
    # Twelve customers spent 5 x 300 = 1,500 (over the rule's 1,000): 60 orders today.
    # Jane Doe of the small shop too: 700 + 350 earlier this year, and today's 101.
    big_spenders = ["101"] + [str(700000 + i) for i in range(BIG) if i % 90 < 12]
    r = c.get("/?tag=BIG_SPENDER")
    assert sorted(_orders_on(r.text)) == sorted(big_spenders)
    assert f"{len(big_spenders)} shown" in r.text and "Next →" not in r.text
    # A search matching more than a page: the links carry the search and the page.
    r = c.get("/?q=paging")
    assert f"{BIG} shown" in r.text
    assert 'href="/?page=2&amp;q=paging"' in r.text
    second = c.get("/?page=2&q=paging")
    assert _orders_on(second.text) == [str(700000 + i) for i in range(PAGE_ROWS, 2 * PAGE_ROWS)]
    # A hostile search term in the links stays a value of the address.
    r = c.get("/", params={"q": '"><script>x</script>', "page": "1"})
    assert "<script>x" not in r.text
