#!/usr/bin/env python3
"""The history benchmark: ingest 1,000,000 orders, then `apply` 5,000 new orders with a
history of 1,000,000 and of 5,000,000 orders.

Every command runs as its own process, measured for wall time and the child's own peak
RSS (os.wait4); the section "History: ingest and incremental apply" of
benchmarks/RESULTS.md is replaced (the other sections are kept).

    python benchmarks/run_history.py                   # 1M + 4M more orders, 3 apply runs
    python benchmarks/run_history.py --orders 20000 --more 80000 --runs 1 --no-results

Data (made with ../shared/bench/gen_orders.py, or reused):
  - the first history: DIR/orders.csv of `--data DIR` (a data set gen_orders.py made,
    such as the one run_reference.py uses), else `gen_orders.py N` (seed 42, order ids
    from 100000);
  - the rest of the larger history: `gen_orders.py M --first-id 10000000 --seed 43`;
  - the new orders: `gen_orders.py 5000 --first-id 5000000 --seed 7`.

Exit status: 0 when every command ran, 1 otherwise, 2 on a usage problem.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_reference import machine, write_results  # the sibling script's

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
GEN = REPO.parent / "shared" / "bench" / "gen_orders.py"
DEFAULT_RESULTS = BENCH_DIR / "RESULTS.md"
SECTION_TITLE = "## History: ingest and incremental apply"
RESULTS_TITLE = "# Benchmark results"
AS_OF = "2026-11-26"


@dataclass
class Run:
    wall: float
    peak_kib: int
    code: int
    stderr: str


@dataclass
class Measured:
    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.code == 0 for r in self.runs)

    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    def peak_mib(self) -> float:
        return max(r.peak_kib for r in self.runs) / 1024


def run_measured(argv: list[str], cwd: Path, timeout: float) -> Run:
    """Run argv as a child; its wall time and its own peak RSS (os.wait4)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    peak = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    return Run(wall, peak, os.waitstatus_to_exitcode(status), text)


def ordertags(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "ordertags", *map(str, args)]


def generate(n: int, out: Path, *extra: str) -> Path:
    if (out / "orders.csv").is_file():
        return out / "orders.csv"
    print(f"generating {n:,} orders into {out} ...", flush=True)
    subprocess.run([sys.executable, str(GEN), str(n), str(out), *extra], check=True)
    return out / "orders.csv"


def warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def size_mb(workspace: Path) -> float:
    return sum(p.stat().st_size for p in workspace.glob("history.sqlite*")) / 1e6


def count_tags(path: Path) -> dict[str, int]:
    import csv

    counts: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for t in filter(None, row["Customer Tags"].split("; ")):
                counts[t] = counts.get(t, 0) + 1
    return counts


def returning_orders(source: Path, target: Path, n: int) -> Path:
    """``n`` orders of returning customers: rows of the first history (a reservoir
    sample, seed 7, so the heavy buyers come back most), with new order ids from
    6,000,000 and dated the day before the as-of date."""
    import csv
    import random

    if target.is_file():
        return target
    rng = random.Random(7)
    sample: list[list[str]] = []
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for i, row in enumerate(reader):
            if len(sample) < n:
                sample.append(row)
            elif (j := rng.randrange(i + 1)) < n:
                sample[j] = row
    oid, date = header.index("Order Id"), header.index("Received Date")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i, row in enumerate(sample):
            row[oid], row[date] = str(6_000_000 + i), "2026-11-25 12:00"
            writer.writerow(row)
    return target


def blank_emails(path: Path) -> set[str]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return {r["Order Id"] for r in csv.DictReader(fh) if not r["Email"].strip()}


def tags_by_order(path: Path) -> dict[str, str]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return {r["Order Id"]: r["Customer Tags"] for r in csv.DictReader(fh)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000, help="orders in the first history")
    ap.add_argument(
        "--data",
        type=Path,
        help="reuse DIR/orders.csv (made by gen_orders.py) as the first history",
    )
    ap.add_argument(
        "--more",
        type=int,
        default=4_000_000,
        help="orders added for the larger history (default 4,000,000: 5M in all)",
    )
    ap.add_argument("--new", type=int, default=5_000, help="new orders to apply")
    ap.add_argument("--runs", type=int, default=3, help="runs of each apply (median wall)")
    ap.add_argument("--work-dir", type=Path, help="keep data and workspaces here")
    ap.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    ap.add_argument("--no-results", action="store_true", help="print the section only")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    if not GEN.is_file():
        print(f"error: {GEN} is not there (../shared/bench beside the repository)", file=sys.stderr)
        return 2
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ordertags-history-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir: {work}")
    try:
        return run(args, work)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    first = (
        args.data / "orders.csv"
        if args.data is not None
        else generate(args.orders, work / "first", "--seed", "42")
    )
    more = generate(args.more, work / "more", "--first-id", "10000000", "--seed", "43")
    new = generate(args.new, work / "new", "--first-id", "5000000", "--seed", "7")
    if new.name == first.name:  # one run over both writes each under its own name
        shutil.copyfile(new, new.with_name("new_orders.csv"))
        new = new.with_name("new_orders.csv")
    returning = returning_orders(first, work / "returning" / "orders.csv", args.new)
    total = args.orders + args.more
    results: dict[str, Measured] = {}
    sizes: dict[str, float] = {}

    def measure(key: str, label: str, argv: list[str], cwd: Path = REPO) -> Run:
        m = results.setdefault(key, Measured(label))
        print(f"{label} ...", end=" ", flush=True)
        r = run_measured(argv, cwd, args.timeout)
        m.runs.append(r)
        print(
            f"{r.wall:.2f} s, {r.peak_kib / 1024:.0f} MiB"
            if r.code == 0
            else f"FAILED (exit {r.code})\n{r.stderr[-2000:]}",
            flush=True,
        )
        return r

    # 1. The first history: ingest into a new workspace, then ingest the same file again.
    ws1 = work / "ws1"
    shutil.rmtree(ws1, ignore_errors=True)
    subprocess.run(ordertags("init", ws1), check=True, capture_output=True)
    warm(first)
    measure(
        "ingest1",
        f"ingest {args.orders:,} orders into a new history",
        ordertags("ingest", first, "-w", ws1, "--quiet"),
    )
    sizes["ws1"] = size_mb(ws1)
    measure(
        "reingest1",
        f"ingest the same {args.orders:,} again (all unchanged)",
        ordertags("ingest", first, "-w", ws1, "--quiet"),
    )
    # 2. The larger history: a copy of the first, plus more orders.
    ws5 = work / "ws5"
    shutil.rmtree(ws5, ignore_errors=True)
    shutil.copytree(ws1, ws5)
    os.sync()
    warm(more)
    measure(
        "ingest5",
        f"ingest {args.more:,} more orders into the {args.orders:,} history",
        ordertags("ingest", more, "-w", ws5, "--quiet"),
    )
    sizes["ws5"] = size_mb(ws5)
    # 3. apply the new orders, each run on a fresh copy of the history (so the orders are
    #    new to it every time, and recorded by the run as a cron run would).
    out = work / "out"
    out.mkdir(exist_ok=True)
    scratch = work / "scratch"
    plain = work / "plain"
    plain.mkdir(exist_ok=True)
    for name in ("tagbook.yaml", "rules.yaml"):
        shutil.copyfile(ws1 / name, plain / name)
    for _ in range(args.runs):
        for key, ws, n in (("apply1", ws1, args.orders), ("apply5", ws5, total)):
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(ws, scratch)
            # Flush the copy to disk first: else the run's own fsync (SQLite's checkpoint)
            # pays for writing the whole copied file, which grows with the history.
            os.sync()
            warm(scratch / "history.sqlite")
            measure(
                key,
                f"apply {args.new:,} new orders, history of {n:,}",
                ordertags(
                    "apply",
                    new,
                    "-o",
                    out / f"{key}.csv",
                    "-w",
                    scratch,
                    "--as-of",
                    AS_OF,
                    "--quiet",
                ),
            )
            measure(
                key + "nr",
                f"the same with --no-record, history of {n:,}",
                ordertags(
                    "apply",
                    new,
                    "-o",
                    out / f"{key}nr.csv",
                    "-w",
                    scratch,
                    "--as-of",
                    AS_OF,
                    "--quiet",
                    "--no-record",
                ),
            )
            measure(
                key + "ret",
                f"apply {args.new:,} orders of returning customers, history of {n:,}",
                ordertags(
                    "apply",
                    returning,
                    "-o",
                    out / f"{key}ret.csv",
                    "-w",
                    scratch,
                    "--as-of",
                    AS_OF,
                    "--quiet",
                ),
            )
        measure(
            "plain",
            f"apply {args.new:,} new orders without a workspace (no history)",
            ordertags(
                "apply",
                new,
                "-o",
                out / "plain.csv",
                "-t",
                plain / "tagbook.yaml",
                "-r",
                plain / "rules.yaml",
                "--as-of",
                AS_OF,
                "--quiet",
            ),
        )
    shutil.rmtree(scratch, ignore_errors=True)
    # 4. A cross-check: the new orders' tags from the 1M history against a run over the
    #    first export and the new orders together, without a history.
    both = work / "both"
    both.mkdir(exist_ok=True)
    measure(
        "together",
        f"check: apply {args.orders:,} + {args.new:,} orders in one run, no history",
        ordertags(
            "apply",
            first,
            new,
            "-o",
            both,
            "-t",
            plain / "tagbook.yaml",
            "-r",
            plain / "rules.yaml",
            "--as-of",
            AS_OF,
            "--quiet",
        ),
    )
    check = []
    ok = all(m.ok for m in results.values())
    with_history = tags_by_order(out / "apply1.csv") if ok else {}
    together = tags_by_order(both / new.name) if ok and (both / new.name).exists() else {}
    differ = [k for k, v in with_history.items() if together.get(k) != v]
    blank = blank_emails(new)
    known = [k for k in differ if k in blank]
    check.append(
        f"{len(with_history):,} new orders; their tags with the "
        f"{args.orders:,}-order history equal those of one run over that export "
        f"and the new orders together on {len(with_history) - len(differ):,}"
    )
    if differ:
        check.append(
            f"{len(known):,} of the {len(differ):,} others have no email: the "
            "history knows their customer by phone and surname (a run without "
            "a history gives them no customer)"
            + (
                f"; unexplained: {', '.join(sorted(set(differ) - set(known))[:5])}"
                if len(known) < len(differ)
                else ""
            )
        )
    if ok:
        check.append(
            "tags given to the new orders (1M history): "
            + ", ".join(f"{t} {n:,}" for t, n in sorted(count_tags(out / "apply1.csv").items()))
        )
    section = render(args, results, sizes, check, total)
    print()
    print(section)
    if not args.no_results:
        write_results(args.results, section)
        print(f"updated {args.results}")
    return 0 if ok else 1


def render(
    args: argparse.Namespace,
    results: dict[str, Measured],
    sizes: dict[str, float],
    check: list[str],
    total: int,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    argv = " ".join(["python", "benchmarks/run_history.py", *sys.argv[1:]])
    lines = [
        SECTION_TITLE,
        "",
        f"Measured {now} with `{argv}`.",
        "",
        f"- Machine: {machine((f'SQLite {sqlite3.sqlite_version}',))}",
        f"- Data: `gen_orders.py` — the first history {args.orders:,} orders (seed 42), "
        f"{args.more:,} more for the larger one (seed 43, ids from 10,000,000), "
        f"{args.new:,} new orders (seed 7, ids from 5,000,000: mostly new customers), and "
        f"{args.new:,} orders of returning customers (rows of the first history sampled "
        f"at random, so heavy buyers most, re-dated and with new ids); the workspace's "
        f"starter "
        f"tag book and rules (spend over 1000 and 5+ orders in the last 365 days, "
        f"order over 150); as-of {AS_OF}",
        "- Each command is its own process: wall time around it, peak = its own "
        "`ru_maxrss` (os.wait4). Each apply ran on a fresh copy of the history, "
        "flushed to disk (`sync`) and read once (page cache warm), so that the 5,000 "
        f"orders are new to it; {args.runs} times: wall = median, peak = the largest.",
        "",
        "| command | wall s | peak MiB |",
        "|---|---|---|",
    ]
    for m in results.values():
        lines.append(
            f"| {m.label} | {m.wall():.2f} | {m.peak_mib():.0f} |"
            if m.ok
            else f"| {m.label} | failed | |"
        )
    lines += [
        "",
        f"History size: {sizes.get('ws1', 0):,.0f} MB with {args.orders:,} orders, "
        f"{sizes.get('ws5', 0):,.0f} MB with {total:,}.",
    ]
    a1, a5 = results.get("apply1"), results.get("apply5")
    if a1 and a5 and a1.ok and a5.ok:
        ratio = a5.wall() / a1.wall()
        lines += [
            "",
            f"**Incremental apply: {a1.wall():.2f} s with a history of "
            f"{args.orders:,}, {a5.wall():.2f} s with {total:,}: ratio {ratio:.2f}** "
            f"(goal: under 1.3, and under 2 s).",
        ]
        nr1, nr5 = results.get("apply1nr"), results.get("apply5nr")
        if nr1 and nr5 and nr1.ok and nr5.ok:
            lines.append(
                f"With --no-record: {nr1.wall():.2f} s and {nr5.wall():.2f} s "
                f"(ratio {nr5.wall() / nr1.wall():.2f})."
            )
        r1, r5 = results.get("apply1ret"), results.get("apply5ret")
        if r1 and r5 and r1.ok and r5.ok:
            lines.append(
                f"Returning customers (windows read their past orders): "
                f"{r1.wall():.2f} s and {r5.wall():.2f} s (ratio "
                f"{r5.wall() / r1.wall():.2f})."
            )
        lines.append(
            "Every run's wall seconds: "
            + "; ".join(
                f"{k} " + ", ".join(f"{r.wall:.2f}" for r in results[k].runs)
                for k in (
                    "apply1",
                    "apply5",
                    "apply1nr",
                    "apply5nr",
                    "apply1ret",
                    "apply5ret",
                    "plain",
                )
                if k in results
            )
        )
    lines += ["", "### Check", ""] + [f"- {c}" for c in check]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
