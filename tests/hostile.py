"""Hostile inputs for ordertags, as cases a harness runs one process each.

Every case makes its files in a folder and names the command to run; the harness runs
it with a memory limit and checks that it ends with exit 0, 1 or 2, a message and no
traceback, within a time and memory budget. ``tests/test_hostile.py`` runs them at a
small size; ``benchmarks/run_hostile.py`` at full size (a 50 MB field, 100,000
columns, a million-character regex subject...).
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT_S = 10.0
MEMORY_LIMIT = 1 << 30  # bytes of address space for the child

TAGBOOK = """\
version: 1
tags:
  - name: FRAUD
    colour: red
    priority: 100
  - name: VIP
    colour: gold
    priority: 50
customers:
  - email: fraud@example.com
    tags: [FRAUD]
"""
RULES = """\
version: 1
rules:
  - name: Big
    when: {field: total, over: 30}
    tag: VIP
"""
HEADER = "Order Id,Email,Name,Total,Notes\n"


def _orders(n: int = 6) -> str:
    return HEADER + "".join(
        f"{i},c{i}@example.com,Name {i},{10 * i}.00,ok\n" for i in range(1, n + 1)
    )


@dataclass
class Case:
    """One hostile input: ``make(folder, size)`` writes the files and returns the
    ordertags arguments; ``codes`` are the exit codes that are right for it; ``says``
    a piece of text the message (or the report on stdout) must hold (empty: any
    message)."""

    name: str
    make: Callable[[Path, int], list[str]]
    codes: tuple[int, ...] = (1,)
    says: str = ""
    never: str = ""  # text no output may hold


@dataclass
class Outcome:
    case: str
    code: int
    seconds: float
    max_rss: int  # bytes
    stderr: str
    stdout: str = ""

    def problems(self, case: Case) -> list[str]:
        out = []
        if self.code not in case.codes:
            out.append(f"exit {self.code}, expected {case.codes}")
        if "Traceback" in self.stderr:
            out.append("a traceback")
        if self.code != 0 and not self.stderr.strip():
            out.append("no message")
        if case.says and case.says not in self.stderr + self.stdout:
            out.append(f"message lacks {case.says!r}")
        if case.never and case.never in self.stderr + self.stdout:
            out.append(f"output shows {case.never!r}")
        if self.seconds > TIME_LIMIT_S:
            out.append(f"took {self.seconds:.1f} s")
        if self.max_rss > MEMORY_LIMIT:
            out.append(f"used {self.max_rss >> 20} MiB")
        return out


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(case: Case, folder: Path, size: int) -> Outcome:
    """Run one case in ``folder`` as its own process under the limits."""
    folder.mkdir(parents=True, exist_ok=True)
    args = case.make(folder, size)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORDERTAGS_USER": "test"}
    env.pop("ORDERTAGS_WORKSPACE", None)
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ordertags", *args],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=_limit,  # only sets a resource limit
        )
        deadline = start + TIME_LIMIT_S * 3
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        out.seek(0)
        printed = out.read(1 << 20).decode("utf-8", "replace")
    return Outcome(case.name, proc.returncode, seconds, usage.ru_maxrss * 1024, text, printed)


def run_inline(case: Case, folder: Path, size: int) -> Outcome:
    """Run one case in this process (the CLI through Typer's test runner), under an
    alarm of three times the time limit; memory is the process's limit (see
    :func:`main`)."""
    import signal

    from typer.testing import CliRunner

    from ordertags.cli import app

    folder.mkdir(parents=True, exist_ok=True)
    here = os.getcwd()
    os.chdir(folder)
    try:
        args = case.make(folder, size)

        def alarm(*_: object) -> None:
            raise TimeoutError(f"over {TIME_LIMIT_S * 3:g} s")

        signal.signal(signal.SIGALRM, alarm)
        signal.alarm(int(TIME_LIMIT_S * 3))
        start = time.perf_counter()
        try:
            result = CliRunner().invoke(app, args)
        finally:
            signal.alarm(0)
        seconds = time.perf_counter() - start
    finally:
        os.chdir(here)
    text = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += "Traceback: " + type(result.exception).__name__ + f": {result.exception}"
        code = 1 if code in (0, 1, 2) else code
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return Outcome(case.name, code, seconds, rss, text, result.stdout)


def main(argv: list[str]) -> None:
    """``python -m tests.hostile SIZE FOLDER``: run every case in this process under a
    limit of :data:`MEMORY_LIMIT` bytes of address space; one JSON line per case."""
    import json

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    size, folder = int(argv[0]), Path(argv[1])
    only = set(argv[2:])
    for i, case in enumerate(CASES):
        if only and case.name not in only:
            continue
        out = run_inline(case, folder / f"case{i}", size)
        print(json.dumps({**out.__dict__, "problems": out.problems(case)}), flush=True)


# --- the cases --------------------------------------------------------------------------


def _books(d: Path) -> None:
    (d / "tb.yaml").write_text(TAGBOOK, encoding="utf-8")
    (d / "rules.yaml").write_text(RULES, encoding="utf-8")


def _apply(d: Path, export: str, *extra: str) -> list[str]:
    _books(d)
    return ["apply", export, "-t", "tb.yaml", "-r", "rules.yaml", "-o", "out.csv", *extra]


def random_bytes(d: Path, size: int) -> list[str]:
    rng = random.Random(12)
    (d / "r.csv").write_bytes(bytes(rng.randrange(256) for _ in range(1000 * size)))
    return _apply(d, "r.csv")


def nul_in_csv(d: Path, size: int) -> list[str]:
    (d / "n.csv").write_text(
        HEADER + "1,bob@exa\0mple.com,Bob,10.00,ok\n", encoding="utf-8", newline=""
    )
    return _apply(d, "n.csv")


def nul_tag_order(d: Path, size: int) -> list[str]:
    nul_in_csv(d, size)
    return ["tag", "--order", "1", "--in", "n.csv", "--tag", "VIP", "-t", "tb.yaml"]


def utf16(d: Path, size: int) -> list[str]:
    (d / "u.csv").write_bytes(_orders().encode("utf-16"))
    return _apply(d, "u.csv")


def empty(d: Path, size: int) -> list[str]:
    (d / "e.csv").write_bytes(b"")
    return _apply(d, "e.csv")


def unbalanced_quote(d: Path, size: int) -> list[str]:
    text = _orders().replace("2,c2@example.com,Name 2", '2,c2@example.com,"Name 2')
    text = text.replace("4,c4@example.com", "4,fraud@example.com")
    (d / "q.csv").write_text(text, encoding="utf-8")
    return _apply(d, "q.csv")


def big_field(d: Path, size: int) -> list[str]:
    # A value of size MB (50 in the benchmark) in the notes column.
    note = "x" * (size << 20)
    (d / "big.csv").write_text(
        HEADER + f"1,a@example.com,Ann,10.00,{note}\n2,b@example.com,Bob,40.00,ok\n",
        encoding="utf-8",
    )
    return _apply(d, "big.csv")


def big_field_tag_order(d: Path, size: int) -> list[str]:
    note = "y" * (200 << 10)  # over the 128 KB of Python's csv module
    (d / "big.csv").write_text(
        HEADER + f"1,a@example.com,Ann,10.00,{note}\n2,b@example.com,Bob,40.00,ok\n",
        encoding="utf-8",
    )
    _books(d)
    return ["tag", "--order", "2", "--in", "big.csv", "--tag", "VIP", "-t", "tb.yaml"]


def long_header(d: Path, size: int) -> list[str]:
    # A header over 64 KB: many long column names.
    names = [f"Column number {i} with a long name" for i in range(3000)]
    header = ",".join(["Order Id", "Email", "Total", *names])
    row = ",".join(["1", "a@example.com", "10.00", *([""] * len(names))])
    (d / "h.csv").write_text(header + "\n" + row + "\n", encoding="utf-8")
    return _apply(d, "h.csv")


def many_columns(d: Path, size: int) -> list[str]:
    n = 2000 * size  # 100,000 in the benchmark (size 50)
    header = ",".join(["Order Id", "Email", "Total", *(f"c{i}" for i in range(n))])
    row = ",".join(["1", "a@example.com", "10.00", *(["v"] * n)])
    (d / "w.csv").write_text(header + "\n" + row + "\n", encoding="utf-8")
    return _apply(d, "w.csv")


def _nested_json(depth: int) -> str:
    return '[{"Order Id": "1", "Email": "a@example.com", "Total": "1", "x": ' + (
        "[" * depth + "]" * depth + "}]"
    )


def nested_json_apply(d: Path, size: int) -> list[str]:
    (d / "n.json").write_text(_nested_json(100_000), encoding="utf-8")
    return _apply(d, "n.json")


def nested_json_export(d: Path, size: int) -> list[str]:
    (d / "n.json").write_text(_nested_json(100_000), encoding="utf-8")
    _books(d)
    return ["export", "n.json", "--tag", "VIP", "-t", "tb.yaml", "-o", "list.csv"]


def nested_json_inspect(d: Path, size: int) -> list[str]:
    (d / "n.json").write_text(_nested_json(100_000), encoding="utf-8")
    return ["inspect", "n.json"]


def nested_json_tag_order(d: Path, size: int) -> list[str]:
    (d / "n.json").write_text(_nested_json(100_000), encoding="utf-8")
    _books(d)
    return ["tag", "--order", "1", "--in", "n.json", "--tag", "VIP", "-t", "tb.yaml"]


def nested_json_explain(d: Path, size: int) -> list[str]:
    (d / "n.json").write_text(_nested_json(100_000), encoding="utf-8")
    _books(d)
    return ["explain", "1", "n.json", "-t", "tb.yaml", "-r", "rules.yaml"]


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def alias_bomb_tagbook(d: Path, size: int) -> list[str]:
    _books(d)
    (d / "tb.yaml").write_text(TAGBOOK + _bomb(9) + "x: *a8\n", encoding="utf-8")
    return ["tag", "a@example.com", "--tag", "VIP", "-t", "tb.yaml"]


def alias_bomb_rules_lint(d: Path, size: int) -> list[str]:
    _books(d)
    bomb = _bomb(9) + "rules:\n  - name: x\n    when: *a8\n    tag: VIP\n"
    (d / "rules.yaml").write_text("version: 1\n" + bomb, encoding="utf-8")
    return ["lint", "-t", "tb.yaml", "-r", "rules.yaml"]


def alias_bomb_apply(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    (d / "tb.yaml").write_text(TAGBOOK + _bomb(9) + "x: *a8\n", encoding="utf-8")
    return args


def object_tag(d: Path, size: int) -> list[str]:
    _books(d)
    (d / "tb.yaml").write_text(
        TAGBOOK + 'x: !!python/object/apply:os.system ["touch pwned"]\n', encoding="utf-8"
    )
    return ["tags", "-t", "tb.yaml"]


def deep_yaml(d: Path, size: int) -> list[str]:
    _books(d)
    (d / "tb.yaml").write_text(TAGBOOK + "x: " + "[" * 10_000 + "]" * 10_000 + "\n")
    return ["tags", "-t", "tb.yaml"]


def _nested_not(depth: int) -> str:
    cond = "{field: email, equals: x}"
    for _ in range(depth):
        cond = "{not: " + cond + "}"
    return f"version: 1\nrules:\n  - name: deep\n    when: {cond}\n    tag: VIP\n"


def nested_not_apply(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    (d / "rules.yaml").write_text(_nested_not(400), encoding="utf-8")
    return args


def nested_not_lint(d: Path, size: int) -> list[str]:
    _books(d)
    (d / "rules.yaml").write_text(_nested_not(400), encoding="utf-8")
    return ["lint", "-t", "tb.yaml", "-r", "rules.yaml"]


def _in_file_rules(target: str) -> str:
    return (
        "version: 1\nrules:\n  - name: list\n"
        f"    when: {{field: email, in_file: {target!r}}}\n    tag: VIP\n"
    )


def in_file_dev_zero(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    (d / "rules.yaml").write_text(_in_file_rules("/dev/zero"), encoding="utf-8")
    return args


def in_file_secret(d: Path, size: int) -> list[str]:
    # A file of secrets (like /etc/shadow): lint must not print its lines.
    (d / "secret.txt").write_text("root:$6$SECRETHASH$abcdef:19000:0:99999:7:::\n" * 3)
    _books(d)
    (d / "rules.yaml").write_text(_in_file_rules("secret.txt"), encoding="utf-8")
    return ["lint", "-t", "tb.yaml", "-r", "rules.yaml"]


def in_file_fifo(d: Path, size: int) -> list[str]:
    os.mkfifo(d / "pipe")
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    (d / "rules.yaml").write_text(_in_file_rules("pipe"), encoding="utf-8")
    return args


def regex_redos(d: Path, size: int) -> list[str]:
    subject = "a" * (20_000 * size) + "!"  # a million characters in the benchmark
    (d / "r.csv").write_text(HEADER + f"1,a@example.com,{subject},10.00,ok\n", encoding="utf-8")
    args = _apply(d, "r.csv")
    (d / "rules.yaml").write_text(
        'version: 1\nrules:\n  - name: r\n    when: {field: Name, matches: "(a+)+$"}\n'
        "    tag: VIP\n",
        encoding="utf-8",
    )
    return args


def missing_output_folder(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    args[args.index("out.csv")] = "no/such/folder/out.csv"
    return args


def lock_symlink(d: Path, size: int) -> list[str]:
    _books(d)
    os.symlink(d / "elsewhere", d / "tb.yaml.lock")
    os.symlink(d / "tb.yaml.lock", d / "elsewhere")  # a loop: ELOOP
    return ["tag", "a@example.com", "--tag", "VIP", "-t", "tb.yaml"]


def output_dev_null(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    args = _apply(d, "o.csv")
    args[args.index("out.csv")] = "/dev/null"
    return args


def money_trillion(d: Path, size: int) -> list[str]:
    (d / "m.csv").write_text(HEADER + "1,a@example.com,A,920000000000000.00,ok\n")
    return _apply(d, "m.csv")


def spend_overflow(d: Path, size: int) -> list[str]:
    rows = "".join(f"{i},a@example.com,A,999999999999.00,ok\n" for i in range(1000))
    (d / "m.csv").write_text(HEADER + rows, encoding="utf-8")
    args = _apply(d, "m.csv")
    (d / "rules.yaml").write_text(
        "version: 1\nrules:\n  - name: s\n    when: {customer: spend, over: 1000}\n    tag: VIP\n",
        encoding="utf-8",
    )
    return args


def in_file_folder(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    (d / "adir").mkdir()
    args = _apply(d, "o.csv")
    (d / "rules.yaml").write_text(_in_file_rules("adir"), encoding="utf-8")
    return args


def short_row_open_quote(d: Path, size: int) -> list[str]:
    (d / "q.csv").write_text(
        'Order Id,Total,Name,Email\n1,10.00,"Ann\n2,20.00,Bob",bob@example.com\n'
        "3,30.00,Cy,c@example.com\n",
        encoding="utf-8",
    )
    return _apply(d, "q.csv")


def nul_past_sample(d: Path, size: int) -> list[str]:
    rows = "".join(f"{i},c{i}@example.com,Name {i},10.00,ok\n" for i in range(1, 3000 * size))
    (d / "n.csv").write_text(HEADER + rows + "0,z@example.com,Ze\x00d,1.00,ok\n")
    return _apply(d, "n.csv")


def wait_nan(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    return [*_apply(d, "o.csv"), "--wait", "nan"]


def lint_bad_regex(d: Path, size: int) -> list[str]:
    _books(d)
    (d / "rules.yaml").write_text(
        'version: 1\nrules:\n  - name: r\n    when: {field: Name, matches: "a{1001}"}\n'
        "    tag: VIP\n",
        encoding="utf-8",
    )
    return ["lint", "-r", "rules.yaml", "-t", "tb.yaml"]


def title_placeholders(d: Path, size: int) -> list[str]:
    (d / "o.csv").write_text(_orders(), encoding="utf-8")
    _books(d)
    return ["report", "o.csv", "-t", "tb.yaml", "-r", "rules.yaml", "-o", "r.html",
            "--title", "{{data}}{{script}}"]  # fmt: skip


CASES = [
    Case("random bytes", random_bytes, says="not a CSV or JSON file"),
    Case("NUL in an export", nul_in_csv),
    Case("NUL, tag --order --in", nul_tag_order, says="binary data"),
    # Excel's "Unicode Text": read (issue 17), as the summary says.
    Case("UTF-16", utf16, codes=(0,), says="utf-16-le (its byte order mark)"),
    Case("empty file", empty, says="empty"),
    Case("unbalanced quote", unbalanced_quote, says="row 3: a double quote"),
    Case("a big field", big_field, codes=(0,)),
    Case("a field over 128 KB, tag --order --in", big_field_tag_order, codes=(0,)),
    Case("a header over 64 KB", long_header, codes=(0,)),
    # 2,000 columns are read; 100,000 (the benchmark) are refused: over 10,000.
    Case("many columns", many_columns, codes=(0, 1)),
    Case("nested JSON, apply", nested_json_apply, says="nested"),
    Case("nested JSON, export", nested_json_export, says="nested"),
    Case("nested JSON, inspect", nested_json_inspect, says="nested"),
    Case("nested JSON, tag --order --in", nested_json_tag_order, says="nested"),
    Case("nested JSON, explain", nested_json_explain, says="nested"),
    Case("alias bomb, tag", alias_bomb_tagbook, says="aliases"),
    Case("alias bomb, lint", alias_bomb_rules_lint, says="aliases"),
    Case("alias bomb, apply", alias_bomb_apply, says="aliases"),
    Case("python object tag", object_tag),
    Case("10,000-level YAML", deep_yaml),
    Case("400 nested not, apply", nested_not_apply, says="nested"),
    Case("400 nested not, lint", nested_not_lint, says="nested"),
    Case("in_file /dev/zero", in_file_dev_zero, says="not a regular file"),
    Case("in_file FIFO", in_file_fifo, says="not a regular file"),
    Case("in_file of secrets, lint", in_file_secret, codes=(0, 1), never="SECRETHASH"),
    Case("(a+)+$ regex", regex_redos, codes=(0,)),
    Case("missing output folder", missing_output_folder, codes=(2,), says="no such folder"),
    Case("lock file is a symlink", lock_symlink, says="lock"),
    # Issue 23's probe.
    Case("output /dev/null", output_dev_null, codes=(0,)),
    Case("a total of 9.2e14", money_trillion, says="too large to be an amount of money"),
    Case("spend over int64", spend_overflow, says="more money than can be counted"),
    Case("in_file a folder", in_file_folder, says="is a folder"),
    Case("short row, open quote", short_row_open_quote, says="row 2: a double quote"),
    Case("NUL past 64 KB", nul_past_sample, says="holds a NUL byte"),
    Case("--wait nan", wait_nan, codes=(2,), says="--wait"),
    Case("lint a{1001}", lint_bad_regex, says="cannot be used"),
    Case("report --title {{data}}", title_placeholders, codes=(0,)),
]


if __name__ == "__main__":
    main(sys.argv[1:])
