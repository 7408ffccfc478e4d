#!/usr/bin/env python3
"""The reference benchmark: ordertags against DuckDB and the pyarrow floor.

Generates an order export with ../shared/bench/gen_orders.py (or reuses one),
runs each command several times as a separate process measuring wall time and
the child's own peak RSS, checks ordertags' output against DuckDB's, and writes
a section of benchmarks/RESULTS.md. See benchmarks/README.md.

    python benchmarks/run_reference.py                    # 1,000,000 orders, 3 runs
    python benchmarks/run_reference.py --orders 2000 --runs 1
    python benchmarks/run_reference.py --data DIR         # reuse a generated data set
    python benchmarks/run_reference.py --skip-ordertags   # harness only: floor and DuckDB

Exit status: 0 when every command ran and every check passed, 1 otherwise,
2 on a usage problem (no ../shared, no ordertags, bad --data).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BENCH_DIR = Path(__file__).resolve().parent
REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = REPO.parent / "shared" / "bench"
REFERENCE_DIR = BENCH_DIR / "reference"
DEFAULT_RESULTS = BENCH_DIR / "RESULTS.md"

SECTION_TITLE = "## Reference job: ordertags vs DuckDB vs the pyarrow floor"
RESULTS_TITLE = "# Benchmark results"
TAG_ORDER = ["FRAUD", "VIP", "BIG_SPENDER", "REGULAR", "HIGH_VALUE"]
TAGS_COLUMN = "Customer Tags"
ORDER_ID = "Order Id"
EXAMPLES = 5
BIG_SPENDER_CENTS = 100_000
HIGH_VALUE_CENTS = 15_000


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    wall: float
    peak_kib: int
    code: int
    timed_out: bool
    stderr_tail: str


@dataclass
class Command:
    key: str
    label: str
    argv: list[str]
    outputs: list[Path]
    runs: list[Run] = field(default_factory=list)
    skipped: str = ""

    @property
    def failed(self) -> Run | None:
        return next((r for r in self.runs if r.code != 0), None)

    @property
    def ok(self) -> bool:
        return not self.skipped and bool(self.runs) and self.failed is None

    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    def peak_mib(self) -> float:
        return max(r.peak_kib for r in self.runs) / 1024


def run_measured(argv: list[str], log_stem: Path, timeout: float) -> Run:
    """Run argv as a child process; return its wall time and its own peak RSS (wait4)."""
    timed_out = threading.Event()
    with open(f"{log_stem}.stdout", "wb") as out, open(f"{log_stem}.stderr", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=err)

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss
    if sys.platform == "darwin":  # bytes there, KiB on Linux
        peak //= 1024
    tail = ""
    if proc.returncode != 0:
        lines = Path(f"{log_stem}.stderr").read_text(errors="replace").strip().splitlines()
        tail = "\n".join(lines[-15:])
    return Run(wall, peak, proc.returncode, timed_out.is_set(), tail)


def ordertags_argv(baseline: Path | None = None) -> list[str]:
    """The command that runs ordertags: this repository's, or with ``baseline`` another
    copy of the package (the code before a change, for a side-by-side figure)."""
    if baseline is None:
        return [sys.executable, "-m", "ordertags"]
    # `python -m` would import the package beside the working directory (this
    # repository): the other copy goes first on the path instead.
    start = (
        f"import sys; sys.path.insert(0, {str(baseline.resolve())!r}); "
        "from ordertags.cli import main; main()"
    )
    return [sys.executable, "-c", start]


def reference_data(work: Path, orders: int, seed: int) -> Path:
    """``work/data-ORDERS-SEED``: an export of ``gen_orders.py ORDERS --seed SEED`` (made
    once, reused after) with the reference job's rule file and tag book beside it."""
    data = work / f"data-{orders}-{seed}"
    if not (data / "orders.csv").exists():
        gen = [sys.executable, str(SHARED_BENCH / "gen_orders.py"), str(orders), str(data)]
        subprocess.run([*gen, "--seed", str(seed)], check=True)
    for name in ("rules.yaml", "tagbook.yaml"):
        shutil.copyfile(REFERENCE_DIR / name, data / name)
    return data


def warm_cache(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def ordertags_available() -> tuple[bool, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ordertags", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return True, ""
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return False, lines[-1] if lines else f"exit {proc.returncode}"


# --------------------------------------------------------------------------- reading


def read_text_csv(path: Path) -> tuple[pa.Table, bool]:
    """Read a CSV with every column as text (empty stays empty, newlines in values allowed).

    Returns the table and whether the file starts with a UTF-8 BOM.
    """
    with open(path, "rb") as fb:
        bom = fb.read(3) == b"\xef\xbb\xbf"
    with open(path, newline="", encoding="utf-8-sig") as f:
        names = next(csv.reader(f))
    # Names are given explicitly so that duplicate or odd header names cannot confuse typing.
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 26),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    return table, bom


def customer_key(email: str | None) -> str | None:
    """The customer key of the reference job, mirroring reference_duckdb.customer_key."""
    e = (email or "").strip().lower()
    if not e:
        return None
    parts = e.split("@")
    local = parts[0].split("+")[0]
    domain = parts[1] if len(parts) > 1 else ""
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def cents(text: str) -> int:
    return int((Decimal(text.strip()) * 100).to_integral_value())


def tag_set(text: str | None) -> frozenset[str]:
    return frozenset(t.strip() for t in (text or "").split("; ") if t.strip())


def fmt_tags(tags: frozenset[str] | set[str]) -> str:
    known = [t for t in TAG_ORDER if t in tags]
    return ", ".join(known + sorted(tags - set(TAG_ORDER))) or "(none)"


# --------------------------------------------------------------------------- checks


@dataclass
class Check:
    name: str
    passed: bool
    lines: list[str] = field(default_factory=list)


def check_columns(orders: pa.Table, out_path: Path, who: str, id_column: str = ORDER_ID) -> Check:
    """Every input column must be in the output with its text unchanged, rows in input order
    (a difference is shown by the row's ``id_column``)."""
    check = Check(f"{who}: input columns unchanged", True)
    if not out_path.exists():
        return Check(check.name, False, [f"{out_path.name} was not written"])
    out, bom = read_text_csv(out_path)
    if bom:
        check.lines.append("the file starts with a UTF-8 byte-order mark")
    if out.num_rows != orders.num_rows:
        check.passed = False
        check.lines.append(f"{out.num_rows} rows, input has {orders.num_rows}")
    extra = [c for c in out.column_names if c not in orders.column_names]
    missing = [c for c in orders.column_names if c not in out.column_names]
    if missing:
        check.passed = False
        check.lines.append(f"missing input columns: {missing}")
    prefix = out.column_names[: orders.num_columns]
    if not missing and prefix != orders.column_names:
        check.lines.append("input columns are not first and in the input's order")
    if extra:
        check.lines.append(f"columns added: {extra}")
    if out.num_rows != orders.num_rows:
        return check
    ids = orders.column(id_column)
    for name in orders.column_names:
        if name in missing:
            continue
        a = orders.column(name).combine_chunks()
        b = out.column(name).combine_chunks()
        differs = pc.invert(pc.equal(a, b))
        n = pc.sum(differs).as_py() or 0
        if n:
            check.passed = False
            where = pc.indices_nonzero(differs).to_pylist()[:3]
            shown = ", ".join(
                f"{id_column} {ids[i].as_py()}: {short(a[i].as_py())} -> {short(b[i].as_py())}"
                for i in where
            )
            check.lines.append(f'column "{name}": {n} values differ, e.g. {shown}')
    if check.passed:
        check.lines.insert(
            0, f"all {orders.num_columns} input columns equal on all {orders.num_rows:,} rows"
        )
    return check


def short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class Judge:
    """The reference job computed exactly in Python (integer cents), as a third opinion."""

    tags: dict[str, frozenset[str]]
    key_of: dict[str, str | None]
    spend: dict[str, int]
    n_orders: dict[str, int]
    first_email: dict[str, str]
    vip: set[str]
    at_1000: int


def judge(orders: pa.Table, data: Path, as_of: date) -> Judge:
    def keys(path: Path) -> set[str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return {k for k in map(customer_key, lines) if k}

    fraud, vip = keys(data / "fraud_emails.txt"), keys(data / "vip_emails.txt")
    end = datetime.combine(as_of, datetime.min.time())
    start = end - timedelta(days=365)
    ids = orders.column(ORDER_ID).to_pylist()
    emails = orders.column("Email").to_pylist()
    totals = [cents(t) for t in orders.column("Total").to_pylist()]
    stamps = orders.column("Received Date").to_pylist()
    key_of: dict[str, str | None] = {}
    spend: Counter[str] = Counter()
    n_orders: Counter[str] = Counter()
    recent: Counter[str] = Counter()
    first_email: dict[str, str] = {}
    for oid, email, total, stamp in zip(ids, emails, totals, stamps, strict=True):
        k = customer_key(email)
        key_of[oid] = k
        if k is None:
            continue
        spend[k] += total
        n_orders[k] += 1
        first_email.setdefault(k, email.strip())
        if start <= datetime.fromisoformat(stamp) < end:
            recent[k] += 1
    tags: dict[str, frozenset[str]] = {}
    for oid, total in zip(ids, totals, strict=True):
        k = key_of[oid]
        t = set()
        if k is not None:
            if k in fraud:
                t.add("FRAUD")
            if k in vip:
                t.add("VIP")
            if spend[k] > BIG_SPENDER_CENTS:
                t.add("BIG_SPENDER")
            if recent[k] >= 5:
                t.add("REGULAR")
        if total > HIGH_VALUE_CENTS:
            t.add("HIGH_VALUE")
        tags[oid] = frozenset(t)
    at_1000 = sum(1 for v in spend.values() if v == BIG_SPENDER_CENTS)
    return Judge(tags, key_of, dict(spend), dict(n_orders), first_email, vip, at_1000)


def read_tags(path: Path) -> tuple[dict[str, frozenset[str]], list[str], str]:
    """Order Id -> tag set, the raw tag texts in row order, and a problem if any."""
    table, _ = read_text_csv(path)
    for col in (ORDER_ID, TAGS_COLUMN):
        if col not in table.column_names:
            return {}, [], f'no "{col}" column (columns: {table.column_names})'
    ids = table.column(ORDER_ID).to_pylist()
    raw = table.column(TAGS_COLUMN).to_pylist()
    tags = {oid: tag_set(t) for oid, t in zip(ids, raw, strict=True)}
    problem = "" if len(tags) == len(ids) else f"{len(ids) - len(tags)} duplicate {ORDER_ID}s"
    return tags, raw, problem


def duckdb_double_spend(data: Path, keys: list[str]) -> dict[str, float]:
    """DuckDB's DOUBLE sum of Total for some customer keys, with the reference script's SQL."""
    try:
        import duckdb

        spec = importlib.util.spec_from_file_location(
            "reference_duckdb", SHARED_BENCH / "reference_duckdb.py"
        )
        assert spec and spec.loader
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
        key_sql = ref.customer_key("coalesce(\"Email\", '')")
        con = duckdb.connect()
        rows = con.execute(
            f'SELECT ck, sum(CAST("Total" AS DOUBLE)) FROM (SELECT {key_sql} AS ck, "Total" '
            f"FROM read_csv(?, all_varchar=true, header=true)) WHERE ck IN (SELECT unnest(?)) "
            f"GROUP BY ck",
            [str(data / "orders.csv"), keys],
        ).fetchall()
        return {k: float(v) for k, v in rows}
    except Exception as exc:  # only an illustration; never fail the run on it
        print(f"  (could not query DuckDB for its DOUBLE sums: {exc})")
        return {}


def check_tags(ot_path: Path, dk_path: Path, jd: Judge, data: Path) -> list[Check]:
    checks: list[Check] = []
    dk, _, dk_problem = read_tags(dk_path)
    ot, ot_raw, ot_problem = read_tags(ot_path) if ot_path.exists() else ({}, [], "not written")
    main = Check("tags: ordertags vs DuckDB, as sets per order", True)
    checks.append(main)
    if dk_problem or ot_problem:
        main.passed = False
        main.lines += [f"DuckDB annotated.csv: {dk_problem}"] if dk_problem else []
        main.lines += [f"ordertags annotated.csv: {ot_problem}"] if ot_problem else []
        if not ot or not dk:
            return checks
    explained = True  # every difference is explained by DuckDB's float summation
    only_dk = dk.keys() - ot.keys()
    only_ot = ot.keys() - dk.keys()
    if only_dk or only_ot:
        main.passed = explained = False
        main.lines.append(
            f"{len(only_dk)} orders only in DuckDB's output, {len(only_ot)} only in ordertags'"
            f" (e.g. {sorted(only_dk)[:3]} / {sorted(only_ot)[:3]})"
        )
    diffs = [oid for oid in dk if oid in ot and dk[oid] != ot[oid]]
    per_tag: Counter[str] = Counter()
    for oid in diffs:
        for t in ot[oid] - dk[oid]:
            per_tag[f"{t} only in ordertags"] += 1
        for t in dk[oid] - ot[oid]:
            per_tag[f"{t} only in DuckDB"] += 1
    tagged = Counter(t for s in dk.values() for t in s)
    main.lines.append(
        f"{len(dk):,} orders compared; DuckDB tags: "
        + ", ".join(f"{t} {tagged[t]:,}" for t in TAG_ORDER)
    )
    if not diffs:
        main.lines.append("the tag sets agree on every order")
    else:
        main.passed = False
        main.lines.append(
            f"{len(diffs):,} orders differ: "
            + ", ".join(f"{k}: {v:,}" for k, v in sorted(per_tag.items()))
        )
        # Classify each difference against the exact judge.
        kinds: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        boundary_keys: set[str] = set()
        for oid in diffs:
            exact = jd.tags.get(oid)
            k = jd.key_of.get(oid)
            sym = ot[oid] ^ dk[oid]
            if (
                exact == ot[oid]
                and sym == {"BIG_SPENDER"}
                and k is not None
                and (jd.spend.get(k) == BIG_SPENDER_CENTS)
            ):
                kind = "DuckDB float sum at the 1000 boundary (exact spend is 1000.00)"
                boundary_keys.add(k)
            elif exact == ot[oid]:
                kind = "ordertags matches the exact definition, DuckDB does not"
            elif exact == dk[oid]:
                kind = "ordertags differs from the definition (DuckDB and the exact check agree)"
            else:
                kind = "neither matches the exact check"
            kinds[kind] += 1
            ex = examples.setdefault(kind, [])
            if len(ex) < EXAMPLES:
                detail = (
                    f"{ORDER_ID} {oid}: ordertags [{fmt_tags(ot[oid])}], "
                    f"DuckDB [{fmt_tags(dk[oid])}], exact [{fmt_tags(exact or frozenset())}]"
                )
                if k is not None and "BIG_SPENDER" in sym:
                    detail += f", customer spend {Decimal(jd.spend[k]) / 100:.2f} exactly"
                ex.append(detail)
        for kind, n in kinds.most_common():
            main.lines.append(f"{kind}: {n:,} orders")
            main.lines += [f"  {e}" for e in examples[kind]]
        only_float = set(kinds) == {
            "DuckDB float sum at the 1000 boundary (exact spend is 1000.00)"
        }
        if boundary_keys:
            sums = duckdb_double_spend(data, sorted(boundary_keys)[:EXAMPLES])
            main.lines += [f"DuckDB's DOUBLE sum for such a customer: {v!r}" for v in sums.values()]
        main.lines.append(
            "all differences come from DuckDB's float summation at the 1000 boundary"
            if only_float
            else "NOT all differences are explained by float summation at the 1000 boundary"
        )
        if only_float and explained:
            main.passed = True  # ordertags agrees with the exact definition everywhere
            main.name += " (differences only from DuckDB's float summation)"
    # Order of tags inside Customer Tags: informational.
    rank = {t: i for i, t in enumerate(TAG_ORDER)}
    out_of_order = sum(
        1
        for text in ot_raw
        if [rank.get(t, 99) for t in (text or "").split("; ") if t]
        != sorted(rank.get(t, 99) for t in (text or "").split("; ") if t)
    )
    dupes = sum(
        1
        for text in ot_raw
        if len([t for t in (text or "").split("; ") if t]) != len(tag_set(text))
    )
    order_check = Check("tags: order inside ordertags' Customer Tags (priority order)", True)
    order_check.lines.append(
        f"{out_of_order:,} orders list their tags out of priority order, {dupes:,} list a tag twice"
    )
    order_check.passed = out_of_order == 0 and dupes == 0
    checks.append(order_check)
    return checks


def check_judge_vs_duckdb(dk_path: Path, jd: Judge) -> Check:
    """How the DuckDB reference itself compares with the exact definition (context)."""
    dk, _, problem = read_tags(dk_path)
    check = Check("tags: DuckDB vs this script's exact check (context)", True)
    if problem:
        return Check(check.name, False, [problem])
    diffs = [oid for oid, t in dk.items() if jd.tags.get(oid) != t]
    boundary = [
        oid
        for oid in diffs
        if dk[oid] ^ jd.tags.get(oid, frozenset()) == {"BIG_SPENDER"}
        and jd.spend.get(jd.key_of.get(oid) or "") == BIG_SPENDER_CENTS
    ]
    check.lines.append(
        f"{jd.at_1000} customers spend exactly 1000.00 (where a DOUBLE sum can flip BIG_SPENDER)"
    )
    if not diffs:
        check.lines.append("DuckDB agrees with the exact check on every order")
    else:
        check.lines.append(
            f"DuckDB differs from the exact check on {len(diffs):,} orders, "
            f"{len(boundary):,} of them BIG_SPENDER at exactly 1000.00"
        )
        for oid in diffs[:EXAMPLES]:
            check.lines.append(
                f"  {ORDER_ID} {oid}: DuckDB [{fmt_tags(dk[oid])}], "
                f"exact [{fmt_tags(jd.tags.get(oid, frozenset()))}]"
            )
        check.passed = len(boundary) == len(diffs)
    return check


def check_vip(ot_path: Path, dk_path: Path) -> Check:
    check = Check("VIP list: ordertags vs DuckDB (customer, orders, spend to 0.005)", True)
    if not ot_path.exists():
        return Check(check.name, False, ["ordertags vip_list.csv was not written"])
    tables = {}
    for who, path in (("ordertags", ot_path), ("DuckDB", dk_path)):
        table, _ = read_text_csv(path)
        missing = [c for c in ("Email Address", "Orders", "Spend") if c not in table.column_names]
        if missing:
            return Check(
                check.name,
                False,
                [f"{who} vip_list.csv lacks {missing} (columns: {table.column_names})"],
            )
        tables[who] = table

    def by_key(table: pa.Table) -> tuple[dict[str | None, dict[str, str]], list[str | None]]:
        rows = table.select(["Email Address", "Orders", "Spend"]).to_pylist()
        keys = [customer_key(r["Email Address"]) for r in rows]
        return dict(zip(keys, rows, strict=True)), keys

    ot, ot_keys = by_key(tables["ordertags"])
    dk, dk_keys = by_key(tables["DuckDB"])
    check.lines.append(
        f"{len(dk_keys):,} VIP customers in DuckDB's list, {len(ot_keys):,} in ordertags'"
    )
    if len(ot) != len(ot_keys):
        check.passed = False
        check.lines.append(f"ordertags lists {len(ot_keys) - len(ot)} customers twice")
    for who, a, b in (("DuckDB", dk, ot), ("ordertags", ot, dk)):
        only = [r["Email Address"] for k, r in a.items() if k not in b]
        if only:
            check.passed = False
            check.lines.append(f"{len(only)} customers only in {who}'s list, e.g. {only[:3]}")
    problems: Counter[str] = Counter()
    shown: list[str] = []
    respelled = 0
    for k, d in dk.items():
        o = ot.get(k)
        if o is None:
            continue
        what = []
        if o["Email Address"] != d["Email Address"]:
            # ordertags lists a customer under the address they used last (a mailing list
            # should reach them where they are now); the reference keeps the first seen.
            # Another spelling of the same customer key is that, not an error.
            if customer_key(o["Email Address"]) == k:
                respelled += 1
            else:
                what.append(f"email {o['Email Address']!r} vs {d['Email Address']!r}")
        try:
            if int(o["Orders"]) != int(d["Orders"]):
                what.append(f"orders {o['Orders']} vs {d['Orders']}")
        except ValueError:
            what.append(f"orders {o['Orders']!r} vs {d['Orders']!r}")
        try:
            if abs(Decimal(o["Spend"]) - Decimal(d["Spend"])) > Decimal("0.005"):
                what.append(f"spend {o['Spend']} vs {d['Spend']}")
        except InvalidOperation:
            what.append(f"spend {o['Spend']!r} vs {d['Spend']!r}")
        for w in what:
            problems[w.split()[0]] += 1
        if what and len(shown) < EXAMPLES:
            shown.append(f"  {d['Email Address']}: ordertags vs DuckDB: " + "; ".join(what))
    if problems:
        check.passed = False
        check.lines.append("differences: " + ", ".join(f"{k} {v}" for k, v in problems.items()))
        check.lines += shown
    elif check.passed:
        check.lines.append("customer, orders and spend agree for every VIP customer")
    if respelled:
        check.lines.append(
            f"{respelled:,} customers listed under the address they used last, another "
            "spelling of the reference's first-seen one (same customer key)"
        )
    same_order = ot_keys == dk_keys
    check.lines.append(
        "row order (highest spend first): "
        + ("identical" if same_order else "differs (ties may be ordered apart)")
    )
    return check


# --------------------------------------------------------------------------- results


def machine(extra: tuple[str, ...] = ()) -> str:
    """The machine and the versions that matter, for RESULTS.md (``extra``: more text
    to list after Python, such as the SQLite version)."""
    nproc = os.cpu_count()
    if shutil.which("nproc"):
        out = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout
        nproc = int(out.strip() or 0) or nproc
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        ram_text = f", {ram:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        ram_text = ""
    versions = [f"Python {platform.python_version()}", *extra, f"pyarrow {pa.__version__}"]
    for mod in ("duckdb", "numpy", "ordertags"):
        try:
            from importlib.metadata import version

            versions.append(f"{mod} {version(mod)}")
        except Exception:
            versions.append(f"{mod} (not installed)")
    return (
        f"`nproc` {nproc} ({cpu}){ram_text}, {platform.system()} {platform.machine()}; "
        + ", ".join(versions)
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def render_section(
    args: argparse.Namespace,
    commands: list[Command],
    checks: list[Check],
    n_orders: int,
    data_info: str,
    command_line: str,
) -> str:
    r = args.runs
    lines = [SECTION_TITLE, ""]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"Measured {now} with `{command_line}`.")
    lines.append("")
    lines.append(f"- Machine: {machine()}")
    lines.append(f"- Data: {n_orders:,} orders; {data_info}; as-of {args.as_of}")
    lines.append(
        f"- Each command ran {r} time{'s' if r != 1 else ''} as its own process, rounds "
        "interleaved, after one read of orders.csv to warm the page cache; wall = median, "
        "peak = the largest `ru_maxrss` of the child (os.wait4)"
    )
    lines.append("")
    lines.append(f"| command | wall s (median of {r}) | peak MiB |")
    lines.append("|---|---|---|")
    for c in commands:
        if c.skipped:
            lines.append(f"| {c.label} | {c.skipped} | |")
        elif c.failed:
            f = c.failed
            why = "timed out" if f.timed_out else f"failed, exit {f.code}"
            lines.append(f"| {c.label} | {why} | |")
        else:
            lines.append(f"| {c.label} | {c.wall():.2f} | {c.peak_mib():.0f} |")
    lines.append("")
    by = {c.key: c for c in commands}
    floor, duck = by["floor"], by["duckdb"]
    measured = [c for c in commands if c.ok]
    if floor.ok and duck.ok:
        lines.append("| command | wall ÷ DuckDB | wall ÷ floor | peak ÷ DuckDB | peak ÷ floor |")
        lines.append("|---|---|---|---|---|")
        for c in measured:
            lines.append(
                f"| {c.label} | {ratio(c.wall(), duck.wall())} | {ratio(c.wall(), floor.wall())}"
                f" | {ratio(c.peak_mib(), duck.peak_mib())}"
                f" | {ratio(c.peak_mib(), floor.peak_mib())} |"
            )
        lines.append("")
        apply_, export = by.get("apply"), by.get("export")
        if apply_ and export and apply_.ok and export.ok:
            both = apply_.wall() + export.wall()
            lines.append(
                f"DuckDB writes annotated.csv and vip_list.csv in one run; ordertags needs two "
                f"(apply + export): {both:.2f} s together, {ratio(both, duck.wall())} DuckDB's."
            )
            lines.append("")
    runs = "; ".join(f"{c.key} " + ", ".join(f"{x.wall:.2f}" for x in c.runs) for c in measured)
    if runs:
        lines.append(f"Every run's wall seconds: {runs}.")
        lines.append("")
    lines.append("### Correctness")
    lines.append("")
    if not checks:
        lines.append("- not checked")
    for ch in checks:
        lines.append(f"- **{'PASS' if ch.passed else 'FAIL'}** {ch.name}")
        for ln in ch.lines:
            indent = "    " if ln.startswith("  ") else "  "
            lines.append(f"{indent}- {ln.strip()}")
    lines.append("")
    return "\n".join(lines)


def write_results(path: Path, section: str) -> None:
    """Replace a benchmark's section of RESULTS.md (from the section's own first line, its
    '## ' title, up to the next '## '), keep the rest. Every benchmark script uses this."""
    title = section.splitlines()[0]
    text = path.read_text(encoding="utf-8") if path.exists() else f"{RESULTS_TITLE}\n\n"
    lines = text.splitlines()
    try:
        start = lines.index(title)
    except ValueError:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        before = "\n".join(lines[:start]).rstrip("\n")
        after = "\n".join(lines[end:]).strip("\n")
        body = (before + "\n\n" if before else "") + section
        if after:
            body = body.rstrip("\n") + "\n\n" + after + "\n"
    path.write_text(body.rstrip("\n") + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000, help="orders to generate")
    ap.add_argument("--data", type=Path, help="reuse a data set written by gen_orders.py")
    ap.add_argument("--seed", type=int, default=42, help="gen_orders.py seed")
    ap.add_argument("--runs", type=int, default=3, help="runs of each command")
    ap.add_argument("--as-of", default="2026-11-26", help="as-of date, YYYY-MM-DD")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--work-dir", type=Path, help="work directory (default: a new temp dir)")
    ap.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help="results file to update (default: benchmarks/RESULTS.md)",
    )
    ap.add_argument("--no-results", action="store_true", help="do not write the results file")
    ap.add_argument(
        "--skip-ordertags",
        action="store_true",
        help="run only the floor and DuckDB (to check the harness)",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per run")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        a.as_of_date = date.fromisoformat(a.as_of)
    except ValueError:
        ap.error(f"--as-of {a.as_of!r} is not YYYY-MM-DD")
    return a


def main() -> int:
    args = parse_args()
    # Absolute paths are left out: they say nothing about the result and differ per machine.
    shown_args = ["…" if Path(a).is_absolute() else a for a in sys.argv[1:]]
    command_line = " ".join(["python benchmarks/run_reference.py", *shown_args])
    scripts = {
        n: SHARED_BENCH / n for n in ("gen_orders.py", "reference_duckdb.py", "floor_pyarrow.py")
    }
    absent = [n for n, p in scripts.items() if not p.is_file()]
    if absent:
        print(
            f"error: the shared benchmark scripts are not there: expected {', '.join(absent)} "
            f"in ../shared/bench beside the repository ({SHARED_BENCH}).",
            file=sys.stderr,
        )
        return 2
    if not args.skip_ordertags:
        ok, why = ordertags_available()
        if not ok:
            print(
                f"error: `{Path(sys.executable).name} -m ordertags --help` fails ({why}).\n"
                "Install it with `pip install -e '.[bench]'`, or pass --skip-ordertags to "
                "check only the harness.",
                file=sys.stderr,
            )
            return 2

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ordertags-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work dir: {work}")
    try:
        return run(args, scripts, work, command_line)
    finally:
        if args.keep:
            print(f"kept the work dir: {work}")
        elif args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, scripts: dict[str, Path], work: Path, command_line: str) -> int:
    py = sys.executable
    if args.data:
        data = args.data.resolve()
        missing = [
            n
            for n in ("orders.csv", "vip_emails.txt", "fraud_emails.txt")
            if not (data / n).is_file()
        ]
        if missing:
            print(f"error: --data {data} lacks {missing}", file=sys.stderr)
            return 2
        data_info = "an existing data set (--data)"
    else:
        data = work / "data"
        print(f"generating {args.orders:,} orders ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [
                py,
                str(scripts["gen_orders.py"]),
                str(args.orders),
                str(data),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
        print(f"  generated in {time.perf_counter() - t0:.1f} s")
        data_info = f"generated by gen_orders.py --seed {args.seed}"
    orders_csv = data / "orders.csv"
    size_mb = orders_csv.stat().st_size / 1e6
    n_vip = sum(1 for line in open(data / "vip_emails.txt", encoding="utf-8") if line.strip())
    n_fraud = sum(1 for line in open(data / "fraud_emails.txt", encoding="utf-8") if line.strip())
    data_info += f"; orders.csv {size_mb:.1f} MB; {n_vip:,} VIP and {n_fraud:,} fraud emails"

    # The rule file goes next to copies of the lists, so its relative in_file paths resolve.
    # The tag book is copied too, so that nothing a run might write lands in the repository.
    rules_dir = work / "rules"
    rules_dir.mkdir(exist_ok=True)
    for name in ("vip_emails.txt", "fraud_emails.txt"):
        shutil.copyfile(data / name, rules_dir / name)
    rules = rules_dir / "rules.yaml"
    tagbook = rules_dir / "tagbook.yaml"
    shutil.copyfile(REFERENCE_DIR / "rules.yaml", rules)
    shutil.copyfile(REFERENCE_DIR / "tagbook.yaml", tagbook)

    outs = {k: work / "out" / k for k in ("floor", "duckdb", "ordertags")}
    for d in outs.values():
        d.mkdir(parents=True, exist_ok=True)
    common = [
        str(orders_csv),
        "--tagbook",
        str(tagbook),
        "--rules",
        str(rules),
        "--as-of",
        args.as_of,
    ]
    commands = [
        Command(
            "floor",
            "floor: pyarrow read + write, all text (`floor_pyarrow.py`)",
            [py, str(scripts["floor_pyarrow.py"]), str(data), str(outs["floor"])],
            [outs["floor"] / "annotated.csv"],
        ),
        Command(
            "duckdb",
            "DuckDB, whole job: annotated + VIP list (`reference_duckdb.py`)",
            [
                py,
                str(scripts["reference_duckdb.py"]),
                str(data),
                str(outs["duckdb"]),
                "--as-of",
                args.as_of,
            ],
            [outs["duckdb"] / "annotated.csv", outs["duckdb"] / "vip_list.csv"],
        ),
        Command(
            "apply",
            "ordertags apply (annotated.csv)",
            [
                py,
                "-m",
                "ordertags",
                "apply",
                *common,
                "--output",
                str(outs["ordertags"] / "annotated.csv"),
                "--quiet",
            ],
            [outs["ordertags"] / "annotated.csv"],
        ),
        Command(
            "export",
            "ordertags export --tag VIP (vip_list.csv)",
            [
                py,
                "-m",
                "ordertags",
                "export",
                "--tag",
                "VIP",
                *common,
                "--output",
                str(outs["ordertags"] / "vip_list.csv"),
                "--quiet",
            ],
            [outs["ordertags"] / "vip_list.csv"],
        ),
    ]
    if args.skip_ordertags:
        for c in commands[2:]:
            c.skipped = "skipped (--skip-ordertags)"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    warm_cache(orders_csv)
    for i in range(1, args.runs + 1):
        for c in commands:
            if c.skipped or c.failed:
                continue
            for p in c.outputs:
                p.unlink(missing_ok=True)
            print(f"run {i}/{args.runs} {c.key} ...", end=" ", flush=True)
            res = run_measured(c.argv, logs / f"{c.key}.{i}", args.timeout)
            c.runs.append(res)
            if res.code != 0:
                why = "timed out" if res.timed_out else f"exit {res.code}"
                print(f"FAILED ({why})\n  $ {' '.join(c.argv)}\n{res.stderr_tail}")
            else:
                print(f"{res.wall:.2f} s, {res.peak_kib / 1024:.0f} MiB", flush=True)
    if not (commands[0].ok and commands[1].ok):
        print("error: the floor or DuckDB failed; nothing to compare against", file=sys.stderr)
        return 1

    print("checking correctness ...", flush=True)
    t0 = time.perf_counter()
    orders, _ = read_text_csv(orders_csv)
    checks = [
        check_columns(orders, outs["floor"] / "annotated.csv", "floor"),
        check_columns(orders, outs["duckdb"] / "annotated.csv", "DuckDB"),
    ]
    jd = judge(orders, data, args.as_of_date)
    n_orders = orders.num_rows
    if commands[2].ok:
        checks.append(check_columns(orders, outs["ordertags"] / "annotated.csv", "ordertags"))
    del orders
    if commands[2].ok:
        checks += check_tags(
            outs["ordertags"] / "annotated.csv", outs["duckdb"] / "annotated.csv", jd, data
        )
    checks.append(check_judge_vs_duckdb(outs["duckdb"] / "annotated.csv", jd))
    if commands[3].ok:
        checks.append(
            check_vip(outs["ordertags"] / "vip_list.csv", outs["duckdb"] / "vip_list.csv")
        )
    print(f"  checked in {time.perf_counter() - t0:.1f} s")

    section = render_section(args, commands, checks, n_orders, data_info, command_line)
    print()
    print(section)
    if not args.no_results:
        write_results(args.results, section)
        print(f"updated {args.results}")
    failed = any(not c.skipped and not c.ok for c in commands) or any(
        not ch.passed for ch in checks
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
