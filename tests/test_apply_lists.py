"""``apply --list``: the annotated orders and mailing lists from one run, as a seller's
cron writes both. Each list must be what ``apply`` then ``export --tag`` write."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.api import ListSpec
from ordertags.cli import app
from ordertags.errors import UsageError

from .conftest import AS_OF, ROOT, csv_text, read_rows, shared_path

runner = CliRunner()

HEADER = ["Order Id", "Customer Name", "Email", "Total", "Received Date"]
# Two people buy twice (Jane under two spellings of her gmail), one once, one order
# has no email. By hand: Jane 700.00 + 400.50 = 1100.50 over 2 orders -> BIG; Ann
# 999.99 + 0.02 = 1000.01 over 2 orders -> BIG; Bob 20.00; VIP (tag book) 151.00.
ROWS = [
    ["1", "Jane Doe", " Jane.Doe@gmail.com", "700.00", "2026-03-01 10:00"],
    ["2", "Smith, Ann", "ann@example.org", "999.99", "2026-04-01 10:00"],
    ["3", "Doe, Jane", "janedoe+shop@googlemail.com", "400.50", "2026-05-01 11:00"],
    ["4", "Bob Brown", "bob@example.org", "20.00", "2026-06-01 09:00"],
    ["5", "Vic Vip", "VIP@example.com", "151.00", "2026-07-01 09:00"],
    ["6", "Ann Smith", "ANN@example.org", "0.02", "2026-08-01 09:00"],
    ["7", "No Mail", "", "5000.00", "2026-08-02 09:00"],
]
RULES = """\
version: 1
rules:
  - name: Big spenders
    when: {customer: spend, over: 1000}
    tag: BIG
  - name: Known fraud
    when: {field: email, in: [ann@example.org]}
    tag: FRAUD
  - name: High value
    when: {field: total, over: 150}
    tag: HIGH
"""


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def job(tmp_path: Path, tagbook: Path) -> list[str | Path]:
    src = tmp_path / "orders.csv"
    src.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return [src, "-t", tagbook, "-r", rules, "--as-of", AS_OF]


def test_one_run_writes_orders_and_lists(job: list[str | Path], tmp_path: Path) -> None:
    out, big, clean = tmp_path / "out.csv", tmp_path / "big.csv", tmp_path / "clean.csv"
    result = run(
        "apply", *job, "-o", out, "--list", f"{big}:BIG,VIP", "--list", f"{clean}:BIG,VIP,!FRAUD"
    )
    assert result.exit_code == 0, result.stderr
    header = ["Email Address", "First Name", "Last Name", "Orders", "Spend", "Tags"]
    # Highest spend first; the email and name as last used (trimmed); order tags (HIGH)
    # count for the customer; tags comma-separated for the email tools.
    assert read_rows(big) == [
        header,
        ["janedoe+shop@googlemail.com", "Jane", "Doe", "2", "1100.50", "BIG,HIGH"],
        ["ANN@example.org", "Ann", "Smith", "2", "1000.01", "FRAUD,BIG,HIGH"],
        ["VIP@example.com", "Vic", "Vip", "1", "151.00", "VIP,HIGH"],
    ]
    assert read_rows(clean) == [header, read_rows(big)[1], read_rows(big)[3]]
    assert [r[-3] for r in read_rows(out)[1:]] == [
        "BIG; HIGH",
        "FRAUD; BIG; HIGH",
        "BIG; HIGH",
        "",
        "VIP; HIGH",
        "FRAUD; BIG",
        "HIGH",
    ]
    lines = result.stderr.strip().splitlines()
    assert lines[-3:] == [
        f"wrote {out}",
        f"3 customers with BIG or VIP; wrote {big}",
        f"2 customers with BIG or VIP (1 with FRAUD left out); wrote {clean}",
    ]


def _same_as_apply_then_export(
    common: list[str | Path],
    tmp_path: Path,
    tags: list[str],
    not_tags: list[str],
    consent: list[str] | None = None,
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    spec = ",".join([*tags, *(f"!{t}" for t in not_tags)])
    more = consent or []
    got = run(
        "apply", *common, *more, "-o", one / "out.csv", "--list", f"{one / 'list.csv'}:{spec}"
    )
    assert got.exit_code == 0, got.stderr
    first = run("apply", *common, "-o", two / "out.csv")
    assert first.exit_code == 0, first.stderr
    options = [x for t in tags for x in ("--tag", t)] + [
        x for t in not_tags for x in ("--not-tag", t)
    ]
    second = run("export", *common, *more, *options, "-o", two / "list.csv")
    assert second.exit_code == 0, second.stderr
    assert (one / "out.csv").read_bytes() == (two / "out.csv").read_bytes()
    assert (one / "list.csv").read_bytes() == (two / "list.csv").read_bytes()
    assert len(read_rows(one / "list.csv")) > 1  # the list is not empty


def test_same_as_apply_then_export_on_the_example(tmp_path: Path) -> None:
    common: list[str | Path] = [
        ROOT / "examples" / "orders.csv",
        "-t",
        ROOT / "tagbook.example.yaml",
        "-r",
        ROOT / "rules.example.yaml",
        "--as-of",
        AS_OF,
    ]
    _same_as_apply_then_export(common, tmp_path, ["VIP", "BIG_SPENDER"], ["FRAUD"])


def test_same_as_apply_then_export_on_a_shopify_export(
    tmp_path: Path, tagbook: Path, write: object
) -> None:
    src = shared_path("data", "real", "shopify", "orders_export.csv")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: any buyer\n    when: {customer: orders, at_least: 1}\n"
        "    tag: REGULAR\n",
        encoding="utf-8",
    )
    common: list[str | Path] = [src, "-t", tagbook, "-r", rules, "--as-of", AS_OF]
    # Nobody in the sample accepted marketing: the list is compared without consent.
    _same_as_apply_then_export(
        common, tmp_path, ["REGULAR"], [], consent=["--include-without-consent"]
    )


def test_same_as_apply_then_export_on_the_reference_job(tmp_path: Path) -> None:
    bench = ROOT / "benchmarks" / "reference"
    data = shared_path("bench", "gen_orders.py")
    pytest.importorskip("numpy")
    import subprocess
    import sys

    subprocess.run([sys.executable, str(data), "3000", str(tmp_path), "--seed", "5"], check=True)
    rules = tmp_path / "rules.yaml"
    rules.write_bytes((bench / "rules.yaml").read_bytes())
    common: list[str | Path] = [
        tmp_path / "orders.csv",
        "-t",
        bench / "tagbook.yaml",
        "-r",
        rules,
        "--as-of",
        AS_OF,
    ]
    _same_as_apply_then_export(common, tmp_path, ["VIP"], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vip.csv:VIP", ListSpec("vip.csv", ("VIP",))),
        ("out/vip.csv:VIP, GOLD ,!FRAUD", ListSpec("out/vip.csv", ("VIP", "GOLD"), ("FRAUD",))),
        (r"C:\lists\vip.csv:VIP", ListSpec(r"C:\lists\vip.csv", ("VIP",))),
    ],
)
def test_list_spec(text: str, expected: ListSpec) -> None:
    assert ListSpec.parse(text) == expected


@pytest.mark.parametrize("text", ["VIP", "vip.csv:", ":VIP", "vip.csv:!FRAUD", "-:VIP"])
def test_bad_list_spec(text: str) -> None:
    with pytest.raises(UsageError):
        ListSpec.parse(text)


def test_bad_list_option_writes_nothing(job: list[str | Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run("apply", *job, "-o", out, "--list", "vip.csv")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        'ordertags: "vip.csv" is not a list: write the file, a colon and the tags. '
        "For example: --list vip.csv:VIP or --list 'vip.csv:VIP,GOLD,!FRAUD'."
    )
    assert not out.exists()


def test_unknown_list_tag_writes_nothing(job: list[str | Path], tmp_path: Path) -> None:
    out, listed = tmp_path / "out.csv", tmp_path / "gold.csv"
    result = run("apply", *job, "-o", out, "--list", f"{listed}:GOLD")
    assert result.exit_code == 2  # a name on the command line: bad usage
    assert 'tag "GOLD" is not in the tag book' in result.stderr
    assert not out.exists() and not listed.exists()


def test_list_with_dry_run_or_onto_the_output(job: list[str | Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run("apply", *job, "-o", out, "--dry-run", "--list", f"{tmp_path / 'l.csv'}:BIG")
    assert result.exit_code == 2
    assert "a dry run writes nothing, so it cannot write lists." in result.stderr
    result = run("apply", *job, "-o", out, "--list", f"{out}:BIG")
    assert result.exit_code == 2
    assert "would overwrite the annotated output" in result.stderr
    assert not out.exists()
