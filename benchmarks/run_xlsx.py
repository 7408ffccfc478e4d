#!/usr/bin/env python3
"""The spreadsheet output beside the CSV of the same run.

Runs `ordertags apply` on 50,000 generated orders (the reference job's data shape and
rules) with the CSV output and with `--output-format xlsx`, in paired rounds (each its own
process, CSV then xlsx), and reports wall medians and the median of the per-round ratios.
Goal: the spreadsheet in at most 3x the CSV's time. `--baseline DIR` adds a third command
per round: the same xlsx run with another copy of the package (DIR holds `ordertags/`),
for before/after figures.

Check: the workbook read back with openpyxl holds the CSV's header and every cell's text
(the columns the spreadsheet leads with moved first), the header row frozen, an
autofilter over every row, every row of a tagged order filled and every other row not.

Usage: python benchmarks/run_xlsx.py [--orders 50000] [--runs 5] [--baseline DIR] [--no-results]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_reference import (
    machine,
    ordertags_argv,
    reference_data,
    run_measured,
    warm_cache,
    write_results,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
SECTION_TITLE = "## Spreadsheet output: xlsx beside the CSV of the same run"
AS_OF = "2026-11-26"


def apply_argv(data: Path, out: Path, xlsx: bool) -> list[str]:
    argv = [
        *ordertags_argv(),
        "apply",
        str(data / "orders.csv"),
        "--tagbook",
        str(data / "tagbook.yaml"),
        "--rules",
        str(data / "rules.yaml"),
        "--as-of",
        AS_OF,
        "--output",
        str(out),
        "--quiet",
    ]
    return [*argv, "--output-format", "xlsx"] if xlsx else argv


def check(csv_path: Path, xlsx_path: Path) -> list[str]:
    """What differs between the workbook and the CSV of the same run (empty: nothing)."""
    from openpyxl import load_workbook

    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    wb = load_workbook(xlsx_path, read_only=True)
    ws = wb.active
    problems = []
    got_header = [c.value for c in next(ws.iter_rows(max_row=1))]
    if sorted(got_header) != sorted(header):
        problems.append(f"header {got_header} is not the CSV's {header}")
        return problems
    where = [header.index(h) for h in got_header]
    colour_at = got_header.index("Tag Colour")
    filled = unfilled = 0
    for i, cells in enumerate(ws.iter_rows(min_row=2), start=1):
        want = [rows[i][j] for j in where]
        got = [c.value if c.value is not None else "" for c in cells]
        got += [""] * (len(want) - len(got))
        if got != want:
            problems.append(f"row {i + 1} differs")
            if len(problems) > 5:
                break
        first = cells[0]
        if want[colour_at]:
            filled += first.fill.fill_type == "solid"
        else:
            unfilled += first.fill.fill_type is None
    if len(rows) - 1 != ws.max_row - 1:
        problems.append(f"{ws.max_row - 1} rows, the CSV has {len(rows) - 1}")
    wb.close()
    tagged = sum(1 for r in rows[1:] if r[header.index("Tag Colour")])
    if filled != tagged:
        problems.append(f"{filled} rows filled, {tagged} tagged")
    if unfilled != len(rows) - 1 - tagged:
        problems.append(f"{unfilled} untagged rows unfilled of {len(rows) - 1 - tagged}")
    import zipfile

    with zipfile.ZipFile(xlsx_path) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    if 'state="frozen"' not in sheet_xml or 'ySplit="1"' not in sheet_xml:
        problems.append("header row not frozen")
    last = sheet_xml.split("<dimension ref=")[1].split('"')[1].split(":")[1]
    if f'<autoFilter ref="A1:{last}"/>' not in sheet_xml:
        problems.append("no autofilter over every row")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--baseline", type=Path, help="a directory holding another ordertags/")
    ap.add_argument("--work", type=Path, default=BENCH_DIR / "work" / "xlsx")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()

    data = reference_data(args.work, args.orders, args.seed)
    out = args.work / "out"
    logs = args.work / "logs"
    out.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    warm_cache(data / "orders.csv")
    jobs = {
        "csv": apply_argv(data, out / "annotated.csv", False),
        "xlsx": apply_argv(data, out / "annotated.xlsx", True),
    }
    if args.baseline:
        jobs["xlsx before"] = [
            *ordertags_argv(args.baseline),
            *apply_argv(data, out / "before.xlsx", True)[len(ordertags_argv()) :],
        ]
    loads = [os.getloadavg()[0]]
    walls: dict[str, list[float]] = {k: [] for k in jobs}
    for i in range(args.runs):
        for name, argv in jobs.items():
            run = run_measured(argv, logs / f"{name.replace(' ', '-')}-{i}", timeout=600)
            if run.code != 0:
                print(f"{name} failed:\n{run.stderr_tail}", file=sys.stderr)
                return 1
            walls[name].append(run.wall)
        loads.append(os.getloadavg()[0])
        print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items()))
    ratios = [x / c for x, c in zip(walls["xlsx"], walls["csv"], strict=True)]
    t0 = time.perf_counter()
    problems = check(out / "annotated.csv", out / "annotated.xlsx")
    print(f"check took {time.perf_counter() - t0:.1f} s: {problems or 'ok'}")
    med = {k: statistics.median(v) for k, v in walls.items()}
    ratio = statistics.median(ratios)
    lines = [
        SECTION_TITLE,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python benchmarks/run_xlsx.py --orders {args.orders} --runs {args.runs}"
        f"{' --baseline …' if args.baseline else ''}`.",
        "",
        f"- Machine: {machine()}",
        f"- Load (1-minute average) before and after each round: "
        f"{', '.join(f'{x:.2f}' for x in loads)} (the 2 cores are shared)",
        f"- Data: `gen_orders.py {args.orders} --seed {args.seed}`, the reference rules; "
        f"each command its own process, rounds paired (CSV, then xlsx"
        f"{', then xlsx with the code before' if args.baseline else ''}).",
        "",
        "| command | wall s (median) | every round |",
        "|---|---|---|",
        *(
            f"| apply, {k} | {med[k]:.2f} | {', '.join(f'{w:.2f}' for w in v)} |"
            for k, v in walls.items()
        ),
        "",
        f"**xlsx / CSV: {ratio:.2f}× (median of the per-round ratios "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; goal ≤ 3×: "
        f"{'met' if ratio <= 3 else 'not met'}).**",
    ]
    if args.baseline:
        before = [b / c for b, c in zip(walls["xlsx before"], walls["csv"], strict=True)]
        lines.append(f"Before (openpyxl, cell by cell): {statistics.median(before):.2f}× the CSV.")
    lines += [
        "",
        "### Check",
        "",
        "- The workbook read back with openpyxl: the CSV's header and every cell's text, "
        "the tagged rows filled and the others not, the header row frozen, an autofilter "
        f"over every row: {'; '.join(problems) if problems else 'all hold'}.",
        "",
    ]
    if not args.no_results:
        write_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
