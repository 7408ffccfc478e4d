#!/usr/bin/env python3
"""The report page of 50,000 orders in Chromium: how soon its first rows show, and how
fast a filter answers.

Writes `ordertags report` of generated orders (the reference job's data shape, tag book
and rules), then opens the page in Debian's headless Chromium (Playwright) `--runs`
times, each in a fresh page, and measures:
- first rows: from the start of navigation to the page's own `ordertags:rows` mark
  (set once the first rows are in the table), and Chromium's first contentful paint;
- a search (typing an email's start into the search box) and a tag chip's click: from
  the event to the next frame after the table is redrawn.
Goals (issue "speed past the floor"): first rows under 1 s, each filter under 100 ms.

Check: the page's "N shown" equals the document's orders; the chip's count and the rows
it leaves equal the orders of that tag in the document (read here with json); the
search's count equals the orders whose email holds the text.

Usage: python benchmarks/run_report.py [--orders 50000] [--runs 5] [--no-results]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_reference import machine, ordertags_argv, reference_data, write_results

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
SECTION_TITLE = "## The report page of 50,000 orders in Chromium"
CHROMIUM = os.environ.get("ORDERTAGS_CHROMIUM", "/usr/bin/chromium")
# As the machine's notes say: without the background-networking flags, Chromium's own
# connections are refused by a closed network, many at a time.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AS_OF = "2026-11-26"
TAG = "VIP"

# From the event to the frame after the redraw (the reader sees the new rows then).
FILTER_JS = """([kind, arg]) => new Promise((done) => {
  const t0 = performance.now();
  if (kind === "search") {
    const s = document.getElementById("search");
    s.value = arg;
    s.dispatchEvent(new Event("input"));
  } else {
    document.querySelector(`.chip[data-tag="${arg}"]`).click();
  }
  requestAnimationFrame(() => setTimeout(() => done([performance.now() - t0,
    document.getElementById("shown").textContent]), 0));
})"""


def document(page: Path) -> dict[str, Any]:
    found = re.search(r'id="ordertags-data">(.*?)</script>', page.read_text("utf-8"), re.S)
    assert found, "no document in the page"
    doc: dict[str, Any] = json.loads(found.group(1))
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=BENCH_DIR / "work" / "report")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    data = reference_data(args.work, args.orders, args.seed)
    page_file = data / "report.html"
    t0 = time.perf_counter()
    subprocess.run(
        [
            *ordertags_argv(),
            "report",
            str(data / "orders.csv"),
            "--tagbook",
            str(data / "tagbook.yaml"),
            "--rules",
            str(data / "rules.yaml"),
            "--as-of",
            AS_OF,
            "-o",
            str(page_file),
            "-q",
        ],
        check=True,
    )
    write_s = time.perf_counter() - t0
    doc = document(page_file)
    columns = doc["orders"]["columns"]
    rows = [dict(zip(columns, r, strict=True)) for r in doc["orders"]["rows"]]
    needle = rows[len(rows) // 2]["identity"].split("@")[0] + "@"
    want = {
        "all": len(rows),
        "tag": sum(TAG in r["tags"] for r in rows),
        "search": sum(
            needle
            in " ".join(
                [r["order"], r["name"], r["identity"], r["profile"], r["needs"], *r["values"]]
            ).lower()
            for r in rows
        ),
    }
    firsts: list[float] = []
    paints: list[float] = []
    searches: list[float] = []
    chips: list[float] = []
    loads: list[float] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for _ in range(args.runs):
                loads.append(os.getloadavg()[0])
                page: Any = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(page_file.as_uri(), wait_until="load")
                page.wait_for_function("performance.getEntriesByName('ordertags:rows').length")
                firsts.append(
                    page.evaluate("performance.getEntriesByName('ordertags:rows')[0].startTime")
                )
                paint = "performance.getEntriesByName('first-contentful-paint')[0]"
                paints.append(page.evaluate(f"({paint} || {{}}).startTime || 0"))
                shown = page.locator("#shown").inner_text()
                if shown != f"{want['all']} shown":
                    problems.append(f"the page says {shown!r}, the document has {want['all']}")
                page.wait_for_timeout(300)  # the search text is made just after the first rows
                ms, shown = page.evaluate(FILTER_JS, ["search", needle])
                searches.append(ms)
                if shown != f"{want['search']} shown":
                    problems.append(f"search {needle!r}: {shown!r}, want {want['search']}")
                page.evaluate(FILTER_JS, ["search", ""])
                ms, shown = page.evaluate(FILTER_JS, ["chip", TAG])
                chips.append(ms)
                if shown != f"{want['tag']} shown":
                    problems.append(f"chip {TAG}: {shown!r}, want {want['tag']}")
                page.close()
        finally:
            browser.close()
    med = statistics.median
    size_mb = page_file.stat().st_size / 1e6
    first_ok = max(firsts) < 1000
    filter_ok = max(searches + chips) < 100
    lines = [
        SECTION_TITLE,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python benchmarks/run_report.py --orders {args.orders} --runs {args.runs}`.",
        "",
        f"- Machine: {machine()}",
        f"- Load (1-minute average) before each round: {', '.join(f'{x:.2f}' for x in loads)}",
        f"- Data: `gen_orders.py {args.orders} --seed {args.seed}`, the reference tag book and "
        f"rules; the page: {size_mb:.1f} MB, written in {write_s:.1f} s; Debian's Chromium, "
        "headless, 1366×768, a fresh page each round.",
        "",
        "| measure | median ms | slowest ms | every round |",
        "|---|---|---|---|",
        *(
            f"| {name} | {med(v):.0f} | {max(v):.0f} | {', '.join(f'{x:.0f}' for x in v)} |"
            for name, v in (
                ("first rows (navigation start → `ordertags:rows`)", firsts),
                ("first contentful paint", paints),
                (f"search `{needle}` → redrawn", searches),
                (f"chip {TAG} → redrawn", chips),
            )
        ),
        "",
        f"**First rows under 1 s in every round: {'met' if first_ok else 'not met'}; "
        f"every filter under 100 ms: {'met' if filter_ok else 'not met'}.**",
        "",
        "### Check",
        "",
        f"- The page's count, the {TAG} chip's and the search's against the document read "
        f"here: {'; '.join(sorted(set(problems))) if problems else 'all equal'}.",
        "",
    ]
    if not args.no_results:
        write_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
