"""The `report` page in a real browser (headless Chromium driven by Playwright): badge
colours, chip filtering, search, escaping of a hostile name, and the print layout.

A screenshot of the page and a PDF of its print version are saved under
``benchmarks/artifacts/`` (ignored by git) for a person to look at.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the ``playwright`` package
(the test extra). Outside CI the test skips, saying so, where either is missing; with
``CI`` set it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordertags.cli import app

from .conftest import ROOT
from .test_views import HOSTILE, _args, shop  # noqa: F401  (shop is a fixture)

ARTIFACTS = ROOT / "benchmarks" / "artifacts"
runner = CliRunner()


def _chromium() -> str:
    """The Chromium executable, or skip (outside CI) / fail (in CI) saying what is missing."""
    found = os.environ.get("ORDERTAGS_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found, what = None, "the playwright package (pip install -e '.[test]')"
    else:
        what = "Chromium (apt-get install chromium)"
    if found is None:
        message = f"the report page test needs {what}, which is not installed here"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: .ci/run installs it)")
        pytest.skip(message)
    return found


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def page_file(shop: Path, tmp_path: Path) -> Path:  # noqa: F811
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", *_args(shop), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    return out


def test_report_in_chromium(page_file: Path) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page: Any = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            rows = page.locator("tr.order")
            assert rows.count() == 5

            # Each tag's badge has the tag book's colour, its text the contrasting one.
            expected = {
                "FRAUD": ("#ff0000", "#000000"),
                "CLAIMED": ("#ffa500", "#000000"),
                "VIP": ("#ffd700", "#000000"),
                "BIG": ("#1f77b4", "#ffffff"),
            }
            for tag, (background, text) in expected.items():
                badges = page.locator(f'.badge[data-tag="{tag}"]')
                assert badges.count() >= 1, tag
                for i in range(badges.count()):
                    style = badges.nth(i).evaluate(
                        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
                    )
                    assert style == [_rgb(background), _rgb(text)], tag
            assert page.locator('.badge[data-tag="VIP"]').first.inner_text() == (
                "★ VIP — add a freebie"
            )

            # A chip filters: only that tag's orders stay visible; a second click undoes it.
            def visible() -> list[str]:
                return [
                    rows.nth(i).get_attribute("data-order")
                    for i in range(rows.count())
                    if rows.nth(i).is_visible()
                ]

            chip = page.locator('.chip[data-tag="BIG"]')
            assert chip.inner_text().startswith("◆ BIG")
            assert chip.locator(".n").inner_text() == "2"
            chip.click()
            assert visible() == ["1003", "1004"]
            assert page.locator("#shown").inner_text() == "2 shown"
            chip.click()
            assert len(visible()) == 5
            page.fill("#search", "wholesale")
            assert visible() == ["1001"]
            page.fill("#search", "")

            # The hostile name is text: shown as written, never run.
            name = page.locator('tr[data-order="1003"] .name')
            assert name.inner_text() == HOSTILE
            assert page.title() == "Orders to pack"
            assert page.locator("script").count() == 2  # the data and the page's own
            # The hold and the forced service are bold.
            hold = page.locator('tr[data-order="1003"] .hold')
            assert hold.inner_text() == "HOLD: Check with the owner"
            assert int(hold.evaluate("e => getComputedStyle(e).fontWeight")) >= 700
            service = page.locator('tr[data-order="1002"] .action')
            assert service.inner_text() == "Postal Service: Royal Mail Tracked 24"
            assert page.locator('tr[data-order="1001"] .note').inner_text() == (
                "Note: Wholesale buyer"
            )
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

            # Printed: a symbol before each tagged order, no order split across pages.
            page.emulate_media(media="print")
            first = page.locator('tr[data-order="1001"] .order-id')
            assert first.evaluate("e => getComputedStyle(e, '::before').content") == '"★ "'
            assert (
                page.locator('tr[data-order="1004"] .order-id').evaluate(
                    "e => getComputedStyle(e, '::before').content"
                )
                == '"◆ "'
            )
            assert rows.first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
            assert page.locator(".controls").is_hidden()
            pdf = ARTIFACTS / "report-print.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    assert errors == []
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):  # a picture of the printed page, to look at
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "1",
                str(pdf),
                str(ARTIFACTS / "report-print"),
            ],
            check=True,
        )


def test_a_missing_browser_skips_outside_ci_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ORDERTAGS_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs .*, which is not installed here"):
        _chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI is set: \.ci/run installs it"):
        _chromium()
