"""The team screen in Debian's Chromium (Playwright), served by uvicorn on a free port:
log in, find a customer by phone, tag them and see their row take the tag's colour,
mark a suspect pair as different people, download a Mailchimp list, hostile values
inert, the print view. Screenshots at 1366x768 and a tablet's size are saved under
``benchmarks/artifacts/`` (ignored by git) for a person to look at."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ordertags.customers.workspace import Workspace
from ordertags.tagbook import load_tagbook
from ordertags.web import create_app

from .serve_shop import HOSTILE, PASSWORDS, shop, template_shop  # noqa: F401
from .test_report_browser import ARTIFACTS, _chromium, _rgb


@pytest.fixture
def server(shop: Path) -> Iterator[str]:  # noqa: F811
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    screen = create_app(Workspace(shop))
    screen.fail_delay = 0.0
    config = uvicorn.Config(screen, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


def test_team_screen_in_chromium(server: str, shop: Path) -> None:  # noqa: F811
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            ctx = browser.new_context(
                viewport={"width": 1366, "height": 768}, accept_downloads=True
            )
            page: Any = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            def dialog(d: Any) -> None:
                dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", dialog)

            page.goto(server + "/")
            assert page.url.startswith(server + "/login")
            page.fill('input[name="name"]', "max")
            page.fill('input[name="password"]', PASSWORDS["max"][1])
            page.click('form.login button[type="submit"]')
            page.wait_for_url(server + "/")
            assert page.title() == "Today's orders · ordertags"

            # Find Jane by her phone, written another way than the export did.
            page.fill('header input[name="q"]', "+44 (0)7700-900456")
            page.press('header input[name="q"]', "Enter")
            page.wait_for_url("**/customer?key=janedoe%40gmail.com")
            page.screenshot(path=str(ARTIFACTS / "serve-customer-1366x768.png"), full_page=False)
            page.select_option('#tag-form select[name="tag"]', "VIP")
            page.fill('#tag-form input[name="note"]', "Wholesale buyer")
            page.click("#tag-form button[type=submit]")
            page.wait_for_selector(".done")
            assert page.locator(".done").inner_text() == "Tagged with VIP."

            # Her row on today's orders takes the VIP colour (gold), the highest tag.
            page.goto(server + "/")
            row = page.locator("tr", has_text="jane.doe@gmail.com").first
            border = row.locator("td").first.evaluate("e => getComputedStyle(e).borderLeftColor")
            assert border == _rgb("#ffd700")
            badge = row.locator(".badge").first
            assert badge.inner_text() == "VIP — handwritten note and a freebie"
            assert badge.evaluate("b => getComputedStyle(b).backgroundColor") == _rgb("#ffd700")
            # The hostile name and label are text, never run.
            evil = page.locator("tr", has_text="evil@example.org").first
            assert evil.locator("a").first.inner_text() == HOSTILE
            assert page.title() == "Today's orders · ordertags"
            page.screenshot(path=str(ARTIFACTS / "serve-orders-1366x768.png"), full_page=False)

            # The tag filter, kept across the automatic refresh after an edit elsewhere.
            page.click('.chip:has-text("VIP")')
            page.wait_for_url("**/?tag=VIP*")
            assert page.locator("tbody tr").count() == 1
            from ordertags.tagbook import tag_customer

            tag_customer(shop / "tagbook.yaml", "bob@example.org", ["VIP"], by="cron")
            deadline = time.monotonic() + 15  # the page polls every 5 s (CSP: no eval here)
            while page.locator("tbody tr").count() != 2 and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert page.locator("tbody tr").count() == 2
            assert "tag=VIP" in page.url

            # A suspect pair marked as different people.
            page.goto(server + "/customer?key=bob%40example.org")
            page.click('form[action="/customer/link"]:has(input[name="same"][value="0"]) button')
            page.wait_for_selector(".done")
            assert page.locator(".done").inner_text() == "Recorded as different people."
            book = load_tagbook(shop / "tagbook.yaml")
            assert [(x.a, x.b, x.same, x.by) for x in book.links] == [
                ("bob@example.org", "rob@example.org", False, "max")
            ]

            # A Mailchimp list of the VIPs.
            page.goto(server + "/lists")
            page.select_option('select[name="tag"]', "VIP")
            page.select_option('select[name="preset"]', "mailchimp")
            with page.expect_download() as info:
                page.click('form[action="/lists/download"] button')
            download = info.value
            assert download.suggested_filename.startswith("vip-mailchimp-")
            text = Path(download.path()).read_text(encoding="utf-8-sig")
            emails = sorted(line.split(",")[0] for line in text.splitlines()[1:])
            assert emails == ["bob@example.org", "jane.doe@gmail.com"]

            # A tablet, and the print view.
            page.set_viewport_size({"width": 820, "height": 1180})
            page.goto(server + "/")
            page.screenshot(path=str(ARTIFACTS / "serve-orders-tablet.png"), full_page=False)
            page.emulate_media(media="print")
            assert not page.locator("header.bar").is_visible()
            page.screenshot(path=str(ARTIFACTS / "serve-orders-print.png"), full_page=False)
            assert errors == [] and dialogs == []
        finally:
            browser.close()
