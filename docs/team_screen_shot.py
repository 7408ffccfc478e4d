#!/usr/bin/env python3
"""Make docs/team-screen.png, the picture of the team screen in the README and the manual
(docs/team-screen.md): a demo workspace of made-up customers (example.com addresses,
Ofcom's drama phone numbers), an apply of today's orders, `ordertags serve` on a free port,
and Chromium at 1366x768 logged in as a manager on today's orders.

    python docs/team_screen_shot.py            # writes docs/team-screen.png
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
CHROMIUM = "/usr/bin/chromium"
HEADER = (
    "Order Id,Source,Received Date,Customer Name,Email,Phone,Address1,Town,Postcode,"
    "Country,Postal Service,Currency,Total,Items"
)
PAST = [
    "9001,SHOPIFY,2026-03-02 10:00,Ada Fenwick,ada.fenwick@example.com,07700 900101,"
    "4 Mill Lane,Leeds,LS1 4AP,United Kingdom,Royal Mail 1st Class,GBP,640.00,3",
    "9002,SHOPIFY,2026-07-19 12:00,Ada Fenwick,ada.fenwick@example.com,07700 900101,"
    "4 Mill Lane,Leeds,LS1 4AP,United Kingdom,Royal Mail 1st Class,GBP,512.00,2",
    "9003,EBAY,2026-09-01 09:00,Rex Tolland,rex.tolland@example.net,07700 900202,"
    "9 Dock Road,Hull,HU1 1AA,United Kingdom,Evri Standard,GBP,89.00,1",
]
TODAY = [
    "10401,SHOPIFY,2026-11-25 08:02,Ada Fenwick,ada.fenwick@example.com,07700 900101,"
    "4 Mill Lane,Leeds,LS1 4AP,United Kingdom,Royal Mail 1st Class,GBP,129.00,2",
    "10402,EBAY,2026-11-25 08:15,Rex Tolland,rex.tolland@example.net,07700 900202,"
    "9 Dock Road,Hull,HU1 1AA,United Kingdom,Evri Standard,GBP,310.00,1",
    "10403,SHOPIFY,2026-11-25 08:40,Mina Okafor,mina.okafor@example.org,07700 900303,"
    "22 Elm Row,Bristol,BS1 5TT,United Kingdom,DPD Next Day,GBP,58.50,1",
    "10404,WOOCOMMERCE,2026-11-25 09:05,Tom Achterberg,tom.a@example.com,07700 900404,"
    "1 Quay St,Cardiff,CF10 1EP,United Kingdom,Royal Mail 2nd Class,GBP,24.99,1",
    "10405,AMAZON,2026-11-25 09:30,Lucía Ferrer,lucia.ferrer@example.com,07700 900505,"
    "8 Park Ave,London,N1 9GU,United Kingdom,Amazon Standard,GBP,212.00,3",
    "10406,SHOPIFY,2026-11-25 10:12,Oskar Lind,oskar.lind@example.org,07700 900606,"
    "3 Hill Top,York,YO1 7HH,United Kingdom,Royal Mail Tracked 24,GBP,45.00,1",
    "10407,ETSY,2026-11-25 10:48,Priya Sen,priya.sen@example.net,07700 900707,"
    "15 Canal Walk,Manchester,M3 3BW,United Kingdom,Royal Mail 2nd Class,GBP,17.50,1",
    "10408,SHOPIFY,2026-11-25 11:20,Ben Carraway,ben.carraway@example.com,07700 900808,"
    "6 Bank St,Glasgow,G1 1AA,United Kingdom,DPD Next Day,GBP,99.00,2",
]
TAGS = [
    ("rex.tolland@example.net", "FRAUD", "Chargeback on 9003"),
    ("lucia.ferrer@example.com", "VIP", "Trade buyer"),
    ("oskar.lind@example.org", "CLAIMED-NON-RECEIPT", "Send tracked only"),
]
USER, PASSWORD = "sam", "a long demo password"


def ordertags(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "ordertags", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)


def main() -> int:
    sys.path.insert(0, str(REPO))
    from ordertags.customers.accounts import add_user
    from ordertags.customers.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="ordertags-demo-"))
    ws = root / "shop"
    ordertags("init", str(ws))
    (root / "past.csv").write_text("\n".join([HEADER, *PAST]) + "\n", encoding="utf-8")
    (root / "today.csv").write_text("\n".join([HEADER, *TODAY]) + "\n", encoding="utf-8")
    ordertags("ingest", str(root / "past.csv"), "-w", str(ws))
    for who, tag, note in TAGS:
        ordertags("tag", who, "--tag", tag, "--note", note, "--by", "sam", "-w", str(ws))
    out = root / "out.csv"
    ordertags(
        "apply", str(root / "today.csv"), "-o", str(out), "-w", str(ws), "--as-of", "2026-11-26"
    )
    add_user(Workspace(ws), USER, "manager", PASSWORD, by="demo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ordertags", "serve", "-w", str(ws), "--port", str(port)], env=env
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.goto(base + "/login")
            page.fill('input[name="name"]', USER)
            page.fill('input[name="password"]', PASSWORD)
            page.click('form.login button[type="submit"]')
            page.wait_for_url(base + "/")
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS / "team-screen.png"))
            page.goto(base + "/customer?key=" + "ada.fenwick%40example.com")
            found = re.search(r"ada\.fenwick", page.content())
            assert found
            page.screenshot(path=str(root / "customer.png"))
            print(root / "customer.png")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
