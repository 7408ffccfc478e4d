#!/usr/bin/env python3
"""The hostile-input harness at full size, each case in its own process under a limit
of 1 GB of address space, plus larger SIGKILL and race rounds than the test suite runs.

    python benchmarks/run_hostile.py                 # every case at full size
    python benchmarks/run_hostile.py --size 10       # smaller (a 10 MB field...)
    python benchmarks/run_hostile.py --sigkill 30 --race 20
    python benchmarks/run_hostile.py --only "a big field" --only "many columns"

The default size (50) gives the issue's figures: a 50 MB field, 100,000 columns, a regex
subject of a million characters. Each line shows the case, its exit code, seconds, peak
RSS and the last line of its message.

Exit status: 0 when every case ended as promised (exit 0/1/2, a message, no traceback,
under 10 s and 1 GB), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import CASES, run  # noqa: E402 - the suite's cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=50, help="scale of the cases (default 50)")
    ap.add_argument("--only", action="append", default=[], help="run only this case")
    ap.add_argument("--sigkill", type=int, default=0, help="SIGKILL rounds (apply and tag)")
    ap.add_argument("--race", type=int, default=0, help="rounds of runs racing an ingest")
    args = ap.parse_args(argv)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for i, case in enumerate(CASES):
            if args.only and case.name not in args.only:
                continue
            out = run(case, base / f"case{i}", args.size)
            problems = out.problems(case)
            bad += bool(problems)
            last = (out.stderr.strip().splitlines() or [""])[-1][:100]
            print(
                f"{'ok ' if not problems else 'BAD'} {case.name:40s} exit {out.code:>2} "
                f"{out.seconds:6.2f} s {out.max_rss >> 20:6d} MiB  {'; '.join(problems) or last}",
                flush=True,
            )
        if args.sigkill:
            from tests.test_private import sigkill_rounds

            (base / "sigkill").mkdir()
            counts = sigkill_rounds(base / "sigkill", args.sigkill, orders=200_000)
            print(f"SIGKILL x{args.sigkill}: {counts}")
            bad += counts["apply_bad"] + counts["invalid_yaml"] + counts["tag_lost"]
        if args.race:
            bad += race(base / "race", args.race)
    return 1 if bad else 0


def race(folder: Path, rounds: int) -> int:
    """Export, apply --no-record and apply while an ingest of the run's orders loops;
    every answer must be the one worked out by hand (tests/test_race.py)."""
    import subprocess

    from tests import test_race as R

    folder.mkdir(parents=True)
    ws = R.init_workspace(folder / "shop").workspace
    ws.tagbook.write_text(R.TAGBOOK, encoding="utf-8")
    ws.rules.write_text(R.RULES, encoding="utf-8")
    past = folder / "past.csv"
    past.write_text(R.csv_text(R.HEADER, R._past()), encoding="utf-8")
    R.ingest_files([past], workspace=ws)
    run_file = folder / "open.csv"
    run_file.write_text(R.csv_text(R.HEADER, R._run_orders()), encoding="utf-8")
    code = (
        "import sys\nfrom ordertags.api import ingest_files\n"
        "from ordertags.customers.workspace import find_workspace\n"
        f"ws = find_workspace({str(ws.root)!r})\n"
        f"for _ in range(int(sys.argv[1])): ingest_files([{str(run_file)!r}], workspace=ws)\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ingester = subprocess.Popen([sys.executable, "-c", code, str(rounds * 3)], env=env)
    wrong = 0
    for i in range(rounds):
        for kind in ("export", "apply-no-record", "apply"):
            out = folder / f"{kind}{i}.csv"
            cmd = [sys.executable, "-m", "ordertags"]
            cmd += ["export", str(run_file), "--tag", "BIG"] if kind == "export" else [
                "apply", str(run_file)]  # fmt: skip
            cmd += ["-w", str(ws.root), "-o", str(out), "--as-of", "2026-11-26", "-q"]
            if kind == "apply-no-record":
                cmd.append("--no-record")
            subprocess.run(cmd, env=env, check=True)
            rows = R.read_csv(out)
            got = (
                {r["Email Address"] for r in rows}
                if kind == "export"
                else {r["Email"] for r in rows if r["Customer Tags"] == "BIG"}
            )
            wrong += got != R.EXPECTED_BIG
    ingester.wait()
    print(f"race x{rounds} (export, apply --no-record, apply vs ingest): {wrong} wrong answers")
    return wrong


if __name__ == "__main__":
    sys.exit(main())
