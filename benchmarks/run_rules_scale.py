#!/usr/bin/env python3
"""How `ordertags apply` scales with the number of rules.

Runs `ordertags apply` on the reference data (1,000,000 orders by default) with the 5
reference rules and with N generated rules (500 by default) of every kind (text
equals/in/contains/starts_with/matches on low- and high-cardinality columns, numbers,
dates, customer spend and order counts over several windows, email lists, nesting,
actions), and writes both wall times, peak memory and their ratio to RESULTS.md.
The goal: N = 500 rules take under twice as long as the 5 reference rules.

Usage: python benchmarks/run_rules_scale.py [--data DIR] [--orders N] [--rules 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_reference import (  # the sibling script's helpers
    REFERENCE_DIR,
    SHARED_BENCH,
    Run,
    machine,
    run_measured,
    warm_cache,
    write_results,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
SECTION_TITLE = "## Rule count: 5 reference rules vs many generated rules"
TAGS = [f"R{i:02d}" for i in range(20)]
COUNTRIES = [
    "United Kingdom",
    "Ireland",
    "France",
    "Germany",
    "United States",
    "Spain",
    "Italy",
    "Netherlands",
    "Poland",
]
SERVICES = [
    "Royal Mail 2nd Class",
    "Royal Mail 1st Class",
    "Royal Mail Tracked 24",
    "Evri Standard",
    "DPD Next Day",
    "Amazon Standard",
]
SOURCES = ["EBAY", "AMAZON", "SHOPIFY", "WOOCOMMERCE", "DIRECT", "ETSY"]


def tagbook_text() -> str:
    lines = ["version: 1", "tags:"]
    for name in ["FRAUD", "VIP", "BIG_SPENDER", "REGULAR", "HIGH_VALUE"]:
        scope = "order" if name == "HIGH_VALUE" else "customer"
        lines += [
            f"  - name: {name}",
            "    colour: red",
            f"    scope: {scope}",
            "    priority: 100",
        ]
    for i, name in enumerate(TAGS):
        lines += [
            f"  - name: {name}",
            "    colour: teal",
            f"    priority: {i}",
            f"    scope: {'order' if i % 2 else 'customer'}",
        ]
    return "\n".join(lines) + "\ncustomers: []\n"


FIRST = ["Ann", "Bob", "Dev", "Eve", "Fatima", "George", "Hana", "Ivan", "Kai", "Lena"]
LAST = ["Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson"]


def condition(i: int) -> str:
    """The i-th generated condition: every kind, with varying values. Like a seller's
    own rules, each picks out a small share of the orders (a country, a postcode area,
    a price band, a name, a spend level), not half of them."""
    kind = i % 12
    c, s, src = (
        COUNTRIES[1 + i % (len(COUNTRIES) - 1)],
        SERVICES[i % len(SERVICES)],
        SOURCES[i % len(SOURCES)],
    )
    if kind == 0:
        return f"{{field: Country, equals: '{c}'}}"
    if kind == 1:
        return (
            f"{{all: [{{field: Postal Service, in: ['{s}']}}, {{field: Country, equals: '{c}'}}]}}"
        )
    if kind == 2:
        return f"{{field: Customer Name, starts_with: '{FIRST[i % 10]} {LAST[i % 8]}'}}"
    if kind == 3:
        return f"{{field: Postcode, matches: '^SW{i % 20} {i % 9}AB$'}}"
    if kind == 4:
        return f"{{field: total, between: [{i % 200}, {i % 200 + 5}]}}"
    if kind == 5:
        return (
            f"{{customer: spend, over: {2000 + 10 * i}, within_days: {[30, 90, 180, 365][i % 4]}}}"
        )
    if kind == 6:
        return f"{{customer: orders, at_least: {20 + i % 30}}}"
    if kind == 7:
        days = 1 + i % 3
        return f"{{all: [{{field: date, within_days: {days}}}, {{field: Source, equals: {src}}}]}}"
    if kind == 8:
        vip = "{field: email, in_file: vip_emails.txt}"
        return f"{{all: [{vip}, {{field: Country, equals: '{c}'}}]}}"
    if kind == 9:
        return (
            f"{{all: [{{field: Source, equals: {src}}}, {{not: {{field: Currency, "
            f"equals: EUR}}}}, {{field: total, over: {300 + i % 300}}}]}}"
        )
    if kind == 10:
        return (
            f"{{any: [{{field: Postcode, starts_with: '0{i % 10}{i % 7}'}}, "
            f"{{all: [{{field: Items, equals: 5}}, {{field: total, over: {400 + i}}}]}}]}}"
        )
    return f"{{customer: average_order_value, at_least: {150 + i % 80}}}"


def rules_text(n: int) -> str:
    lines = ["version: 1", "rules:"]
    for i in range(n):
        lines += [
            f"  - name: generated rule {i}",
            f"    when: {condition(i)}",
            f"    tag: {TAGS[i % len(TAGS)]}",
        ]
        if i % 50 == 7:
            lines.append(f"    set: {{Postal Service: Tracked {i}}}")
            lines.append(f"    priority: {i % 3}")
        if i % 50 == 9:
            lines.append(f"    note: checked by rule {i}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="a data set made by gen_orders.py")
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--as-of", default="2026-11-26")
    ap.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ordertags-rules-"))
    try:
        data = a.data
        if data is None:
            if not SHARED_BENCH.exists():
                print("../shared/bench is absent: pass --data DIR", file=sys.stderr)
                return 2
            data = work / "data"
            subprocess.run(
                [sys.executable, str(SHARED_BENCH / "gen_orders.py"), str(a.orders), str(data)],
                check=True,
            )
        for name in ("vip_emails.txt", "fraud_emails.txt"):
            shutil.copy(data / name, work / name)
        shutil.copy(REFERENCE_DIR / "rules.yaml", work / "reference.yaml")
        (work / "many.yaml").write_text(rules_text(a.rules), encoding="utf-8")
        (work / "tagbook.yaml").write_text(tagbook_text(), encoding="utf-8")
        warm_cache(data / "orders.csv")
        results: dict[str, list[Run]] = {"reference": [], "many": []}
        for round_ in range(a.runs):
            for key in results:
                argv = [
                    sys.executable,
                    "-m",
                    "ordertags",
                    "apply",
                    str(data / "orders.csv"),
                    "--tagbook",
                    str(work / "tagbook.yaml"),
                    "--rules",
                    str(work / f"{key}.yaml"),
                    "--as-of",
                    a.as_of,
                    "--output",
                    str(work / f"{key}.csv"),
                    "--quiet",
                ]
                run = run_measured(argv, work / f"{key}-{round_}", timeout=1800)
                if run.code != 0:
                    print(f"{key} failed:\n{run.stderr_tail}", file=sys.stderr)
                    return 1
                results[key].append(run)
                print(
                    f"{key} round {round_ + 1}: {run.wall:.2f} s, {run.peak_kib / 1024:.0f} MiB",
                    file=sys.stderr,
                )
        wall = {k: statistics.median(r.wall for r in v) for k, v in results.items()}
        peak = {k: max(r.peak_kib for r in v) / 1024 for k, v in results.items()}
        ratio = wall["many"] / wall["reference"]
        size_mb = (data / "orders.csv").stat().st_size / 1e6
        section = "\n".join(
            [
                SECTION_TITLE,
                "",
                f"Measured {date.today().isoformat()} with `python benchmarks/run_rules_scale.py"
                f" --rules {a.rules} --runs {a.runs}` on `gen_orders.py` data "
                f"(`orders.csv`, {size_mb:.0f} MB).",
                "",
                f"Machine: {machine()}",
                "",
                "| rules | wall s (median) | peak MiB |",
                "|---|---|---|",
                f"| 5 reference rules | {wall['reference']:.2f} | {peak['reference']:.0f} |",
                f"| {a.rules} generated rules | {wall['many']:.2f} | {peak['many']:.0f} |",
                "",
                f"Ratio: {ratio:.2f}× (goal: under 2×). "
                + ("Goal met." if ratio < 2 else "Goal NOT met."),
                "",
            ]
        )
        print(section)
        if not a.no_results:
            write_results(RESULTS, section)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
