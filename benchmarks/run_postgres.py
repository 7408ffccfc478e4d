#!/usr/bin/env python3
"""The shared-workspace benchmark: the history benchmark's figures on PostgreSQL, with
SQLite's beside them: ingest 1,000,000 orders into a new history, then a cron `apply`
of 5,000 new orders with a history of 1,000,000 (and, with ``--more``, of 1M + more).

PostgreSQL: the server given by ``--url`` (postgresql://USER@HOST:PORT, a role that may
create databases), else a temporary one started here from Debian's package (as the
postgres user when run as root). Each apply runs on a fresh copy of the history (a
SQLite file copied; a database made from the history's as a template), so its orders
are new to it every time, as a cron run's are. Every command is its own process,
measured for wall time and peak RSS; the section "Shared workspace: PostgreSQL beside
SQLite" of benchmarks/RESULTS.md is replaced.

    python benchmarks/run_postgres.py                      # 1M, 3 apply runs
    python benchmarks/run_postgres.py --more 4000000       # and a 5M history
    python benchmarks/run_postgres.py --orders 20000 --runs 1 --no-results

Exit status: 0 when every command ran, 1 otherwise.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_history import Measured, generate, ordertags, run_measured, warm
from run_reference import machine, write_results

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SECTION_TITLE = "## Shared workspace: PostgreSQL beside SQLite"
AS_OF = "2026-11-26"


@contextmanager
def temporary_server(work: Path) -> Iterator[str]:
    """A PostgreSQL server of Debian's package in ``work`` (port 55999), stopped after."""
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    data = work / "pgdata"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses root
        as_user = ["runuser", "-u", "postgres", "--"]
        work.chmod(0o755)
        data.mkdir(exist_ok=True)
        shutil.chown(data, "postgres")
    subprocess.run(
        [*as_user, f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    port = 55999
    options = f"-p {port} -c unix_socket_directories=/tmp -c max_wal_size=4GB"
    subprocess.run(
        [*as_user, f"{bindir}/pg_ctl", "-D", str(data), "-o", options, "-l", str(data / "log"),
         "-w", "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_user, f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )


def sql(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def pg_workspace(folder: Path, url: str, database: str, template: str | None = None) -> Path:
    """A workspace folder whose history is the database ``database`` (made afresh)."""
    sql(url, f"DROP DATABASE IF EXISTS {database}")
    sql(url, f"CREATE DATABASE {database}" + (f" TEMPLATE {template}" if template else ""))
    shutil.rmtree(folder, ignore_errors=True)
    argv = ordertags("init", folder, "--database", f"{url}/{database}")
    subprocess.run(argv, check=True, capture_output=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--more", type=int, default=0, help="orders added for a larger history")
    parser.add_argument("--new", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL server (default: a temporary one)")
    parser.add_argument("--work", type=Path, help="a folder for data (kept; default: temp)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ordertags-pg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.url:
        return run(args, work, args.url)
    with temporary_server(work) as url:
        return run(args, work, url)


def run(args: argparse.Namespace, work: Path, url: str) -> int:
    first = generate(args.orders, work / "first", "--seed", "42")
    more = (
        generate(args.more, work / "more", "--first-id", "10000000", "--seed", "43")
        if args.more
        else None
    )
    new = generate(args.new, work / "new", "--first-id", "5000000", "--seed", "7")
    results: dict[str, Measured] = {}

    def measure(key: str, label: str, argv: list[str]) -> None:
        m = results.setdefault(key, Measured(label))
        print(f"{label} ...", end=" ", flush=True)
        r = run_measured(argv, REPO, args.timeout)
        m.runs.append(r)
        print(f"{r.wall:.2f} s" if r.code == 0 else f"FAILED\n{r.stderr[-2000:]}", flush=True)

    histories = [("1", args.orders)] + ([("5", args.orders + args.more)] if more else [])
    # SQLite
    s1 = work / "sqlite1"
    shutil.rmtree(s1, ignore_errors=True)
    subprocess.run(ordertags("init", s1), check=True, capture_output=True)
    warm(first)
    measure(
        "sqlite ingest",
        f"ingest {args.orders:,} orders",
        ordertags("ingest", first, "-w", s1, "--quiet"),
    )
    if more:
        s5 = work / "sqlite5"
        shutil.rmtree(s5, ignore_errors=True)
        shutil.copytree(s1, s5)
        measure(
            "sqlite more",
            f"ingest {args.more:,} more",
            ordertags("ingest", more, "-w", s5, "--quiet"),
        )
    # PostgreSQL
    p1 = pg_workspace(work / "pg1", url, "history1")
    measure(
        "pg ingest",
        f"ingest {args.orders:,} orders",
        ordertags("ingest", first, "-w", p1, "--quiet"),
    )
    if more:
        sql(url, "CREATE DATABASE history5 TEMPLATE history1")
        p5 = pg_workspace(work / "pg5", url, "history5x", template="history5")
        measure(
            "pg more", f"ingest {args.more:,} more", ordertags("ingest", more, "-w", p5, "--quiet")
        )
    out = work / "out"
    out.mkdir(exist_ok=True)
    for _ in range(args.runs):
        for suffix, n in histories:
            scratch = work / "scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(work / f"sqlite{suffix}", scratch)
            os.sync()
            warm(scratch / "history.sqlite")
            apply = ["apply", new, "-o", out / "a.csv", "--as-of", AS_OF, "--quiet"]
            measure(
                f"sqlite apply{suffix}",
                f"apply {args.new:,}, history {n:,}",
                ordertags(*apply, "-w", scratch),
            )
            template = "history1" if suffix == "1" else "history5x"
            pscratch = pg_workspace(work / "pgscratch", url, "scratch", template=template)
            measure(
                f"pg apply{suffix}",
                f"apply {args.new:,}, history {n:,}",
                ordertags(*apply, "-w", pscratch),
            )
    ok = all(m.ok for m in results.values())
    text = render(args, results, histories)
    print(text)
    if not args.no_results:
        write_results(BENCH_DIR / "RESULTS.md", text)
    return 0 if ok else 1


def render(
    args: argparse.Namespace, results: dict[str, Measured], histories: list[tuple[str, int]]
) -> str:
    def cell(key: str) -> str:
        m = results.get(key)
        return f"{m.wall():.2f} s" if m and m.ok else "—"

    rows = [
        (f"ingest {args.orders:,} orders into a new history", "ingest"),
    ]
    if args.more:
        rows.append((f"ingest {args.more:,} more orders", "more"))
    for suffix, n in histories:
        rows.append((f"cron apply of {args.new:,} new orders, history of {n:,}", f"apply{suffix}"))
    lines = [
        SECTION_TITLE,
        "",
        f"`python benchmarks/run_postgres.py` ({datetime.now(UTC):%Y-%m-%d}, {machine()}; "
        f"median of {args.runs} apply run(s); PostgreSQL on the same machine, over TCP "
        "to 127.0.0.1).",
        "",
        "| | SQLite | PostgreSQL |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {cell('sqlite ' + key)} | {cell('pg ' + key)} |" for label, key in rows]
    if len(histories) == 2:
        for name in ("sqlite", "pg"):
            a, b = results.get(f"{name} apply1"), results.get(f"{name} apply5")
            if a and b and a.ok and b.ok:
                lines.append(
                    f"\n{name}: apply with 5M history / with 1M = {b.wall() / a.wall():.2f}"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
