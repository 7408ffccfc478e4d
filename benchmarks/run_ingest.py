#!/usr/bin/env python3
"""`ingest` beside `apply` of the same file.

Generates N orders (`gen_orders.py`, the reference job's data shape; 200,000 by default),
then in paired rounds, each command its own process: `apply` of the file (the reference
rules, no workspace), and `ingest` of the same file into a new workspace's empty history.
`--baseline DIR` adds the same ingest with another copy of the package (DIR holds
`ordertags/`), for before/after figures. Goal (issue 22): ingest of 1,000,000 orders in
at most 4x apply's time.

Check: `PRAGMA integrity_check` of every history written; with `--baseline`, the
`customers` listing and every table of the history (rows sorted) the same from both
copies of the package.

Usage: python benchmarks/run_ingest.py [--orders 200000] [--runs 5] [--baseline DIR] [--no-results]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_reference import (
    REFERENCE_DIR,
    SHARED_BENCH,
    machine,
    ordertags_argv,
    run_measured,
    warm_cache,
    write_results,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
AS_OF = "2026-11-26"
TABLES = ("identities", "orders", "customers", "order_aliases", "links", "meta")


def fresh_workspace(ws: Path) -> None:
    shutil.rmtree(ws, ignore_errors=True)
    subprocess.run([*ordertags_argv(None), "init", str(ws)], check=True, capture_output=True)


def table_rows(history: Path) -> dict[str, list[str]]:
    with sqlite3.connect(history) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchall()
        if ok != [("ok",)]:
            raise SystemExit(f"{history}: integrity_check says {ok[:3]}")
        rows = {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in TABLES}
        rows["meta"] = [r for r in rows["meta"] if "last_" not in r]
        return rows


def customers_listing(ws: Path) -> str:
    done = subprocess.run(
        [*ordertags_argv(None), "customers", "-w", str(ws), "--limit", "10000000"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--baseline", type=Path, help="a directory holding another ordertags/")
    ap.add_argument("--work", type=Path, default=BENCH_DIR / "work" / "ingest")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()

    data = args.work / f"data-{args.orders}-{args.seed}"
    if not (data / "orders.csv").exists():
        subprocess.run(
            [sys.executable, str(SHARED_BENCH / "gen_orders.py"), str(args.orders), str(data),
             "--seed", str(args.seed)],
            check=True,
        )  # fmt: skip
    for name in ("rules.yaml", "tagbook.yaml"):
        shutil.copyfile(REFERENCE_DIR / name, data / name)
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    orders = str(data / "orders.csv")
    warm_cache(data / "orders.csv")
    apply = [
        *ordertags_argv(None), "apply", orders, "--tagbook", str(data / "tagbook.yaml"),
        "--rules", str(data / "rules.yaml"), "--as-of", AS_OF,
        "--output", str(args.work / "annotated.csv"), "--quiet",
    ]  # fmt: skip
    workspaces = {"ingest": args.work / "ws-new"}
    if args.baseline:
        workspaces["ingest before"] = args.work / "ws-before"
    walls: dict[str, list[float]] = {"apply": [], **{k: [] for k in workspaces}}
    loads = [os.getloadavg()[0]]
    for i in range(args.runs):
        run = run_measured(apply, logs / f"apply-{i}", timeout=3600)
        if run.code != 0:
            print(f"apply failed:\n{run.stderr_tail}", file=sys.stderr)
            return 1
        walls["apply"].append(run.wall)
        for name, ws in workspaces.items():
            fresh_workspace(ws)
            argv = [*ordertags_argv(args.baseline if name != "ingest" else None), "ingest", orders,
                    "-w", str(ws), "--quiet"]  # fmt: skip
            run = run_measured(argv, logs / f"{name.replace(' ', '-')}-{i}", timeout=3600)
            if run.code != 0:
                print(f"{name} failed:\n{run.stderr_tail}", file=sys.stderr)
                return 1
            walls[name].append(run.wall)
        loads.append(os.getloadavg()[0])
        print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items()))

    t0 = time.perf_counter()
    checks = []
    new_rows = table_rows(workspaces["ingest"] / "history.sqlite")
    checks.append("integrity_check ok on the history written")
    if args.baseline:
        old_rows = table_rows(workspaces["ingest before"] / "history.sqlite")
        differ = [t for t in TABLES if new_rows[t] != old_rows[t]]
        same_list = customers_listing(workspaces["ingest"]) == customers_listing(
            workspaces["ingest before"]
        )
        checks.append(
            "every table the same as the code before's: "
            + ("yes" if not differ else f"NO, differs: {', '.join(differ)}")
        )
        checks.append(f"`customers` the same as the code before's: {'yes' if same_list else 'NO'}")
        bad = bool(differ) or not same_list
    else:
        bad = False
    print(f"checks took {time.perf_counter() - t0:.1f} s")
    med = {k: statistics.median(v) for k, v in walls.items()}
    ratios = {
        k: [w / a for w, a in zip(v, walls["apply"], strict=True)]
        for k, v in walls.items()
        if k != "apply"
    }
    size = f"{args.orders:,}"
    title = f"## Ingest beside apply ({size} orders, `benchmarks/run_ingest.py`)"
    lines = [
        title,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python benchmarks/run_ingest.py --orders {args.orders} --runs {args.runs}"
        f"{' --baseline …' if args.baseline else ''}`.",
        "",
        f"- Machine: {machine((f'SQLite {sqlite3.sqlite_version}',))}",
        f"- Load (1-minute average) before and after each round: "
        f"{', '.join(f'{x:.2f}' for x in loads)} (the 2 cores are shared)",
        f"- Data: `gen_orders.py {args.orders} --seed {args.seed}` "
        f"({(data / 'orders.csv').stat().st_size / 1e6:.1f} MB); apply with the reference "
        "rules and no workspace; ingest into a new workspace's empty history; rounds paired, "
        "each command its own process.",
        "",
        "| command | wall s (median) | × apply (median of rounds) | every round |",
        "|---|---|---|---|",
        *(
            f"| {k} | {med[k]:.2f} | "
            f"{statistics.median(ratios[k]) if k in ratios else 1:.2f} | "
            f"{', '.join(f'{w:.2f}' for w in v)} |"
            for k, v in walls.items()
        ),
        "",
        f"**ingest / apply: {statistics.median(ratios['ingest']):.2f}× "
        f"(goal at 1,000,000 orders: ≤ 4×).**",
        "",
        "### Check",
        "",
        *(f"- {c}" for c in checks),
        "",
    ]
    if not args.no_results:
        write_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
