"""The tag book from the command line: tag/untag edit it minimally and safely, apply
honours expiry, tags lists it, and the quick commands stay free of pandas and pyarrow."""

from __future__ import annotations

import difflib
import gc
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.errors import OrderTagsError
from ordertags.io.lookup import find_order_email
from ordertags.tagbook import load_tagbook

from .conftest import AS_OF, ROOT, TAGBOOK, csv_text, read_csv

runner = CliRunner()
DEFINED = "FRAUD, VIP, BIG, REGULAR, HIGH, CHECK"  # the conftest tag book, in file order


def run(*args: str | Path, catch: bool = True) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=catch)


@pytest.fixture
def example_book(tmp_path: Path) -> Path:
    path = tmp_path / "tagbook.yaml"
    shutil.copyfile(ROOT / "tagbook.example.yaml", path)
    return path


@pytest.fixture
def orders_copy(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    shutil.copyfile(ROOT / "examples" / "orders.csv", path)
    return path


# --- tag / untag edit only what they must ----------------------------------------------------


def test_tag_only_appends_to_the_customers_list_and_untag_restores(example_book: Path) -> None:
    original = example_book.read_bytes()
    before = original.decode("utf-8").splitlines(keepends=True)
    # The customers list is the file's last top-level key: its end is the end of the file.
    top_level = [line for line in before if line[:1].isalpha()]
    assert top_level[-1] == "customers:\n"

    result = run(
        "tag",
        "new.customer@example.com",
        "--tag",
        "VIP",
        "--tag",
        "REGULAR",
        "--note",
        "Wholesale: 10% off, #1 fan",
        "--by",
        "tester",
        "-t",
        example_book,
        catch=False,
    )

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "tagged new.customer@example.com with VIP, REGULAR\n"
    after = example_book.read_text(encoding="utf-8").splitlines(keepends=True)
    diff = list(difflib.ndiff(before, after))
    assert not [d for d in diff if d.startswith(("- ", "? "))], "".join(diff)
    added = [d[2:] for d in diff if d.startswith("+ ")]
    assert after[len(before) :] == added  # every added line is after the last old line
    assert added[0] == "  - email: new.customer@example.com\n"  # an item of customers:
    assert all(line.startswith("    ") for line in added[1:])
    entry = load_tagbook(example_book).entries[-1]
    assert (entry.email, entry.tags, entry.note, entry.by) == (
        "new.customer@example.com",
        ("VIP", "REGULAR"),
        "Wholesale: 10% off, #1 fan",
        "tester",
    )

    result = run(
        "untag",
        "New.Customer+x@Example.com",
        "--tag",
        "VIP",
        "--tag",
        "REGULAR",
        "-t",
        example_book,
        catch=False,
    )

    assert result.exit_code == 0
    assert result.stderr == "removed VIP, REGULAR from New.Customer+x@Example.com\n"
    assert example_book.read_bytes() == original


# Regression: the tag book was written back with LF and no BOM whatever it was saved with,
# so a CRLF or BOM tag book showed every line (or the first) changed in `git diff`.
@pytest.mark.parametrize("style", ["crlf", "bom"])
def test_tag_keeps_crlf_and_bom_of_the_tag_book(style: str, example_book: Path) -> None:
    text = example_book.read_text(encoding="utf-8")
    original = (
        text.replace("\n", "\r\n").encode("utf-8")
        if style == "crlf"
        else b"\xef\xbb\xbf" + text.encode("utf-8")
    )
    example_book.write_bytes(original)

    result = run("tag", "new@example.com", "--tag", "VIP", "--by", "t", "-t", example_book)

    assert result.exit_code == 0, result.stderr
    assert load_tagbook(example_book).entries[-1].email == "new@example.com"
    assert example_book.read_bytes().startswith(original)
    assert run("untag", "new@example.com", "--tag", "VIP", "-t", example_book).exit_code == 0
    assert example_book.read_bytes() == original


def test_concurrent_tag_processes_all_land(tmp_path: Path, tagbook: Path) -> None:
    emails = [f"buyer{i}@example.com" for i in range(6)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ordertags",
                "tag",
                email,
                "--tag",
                "VIP",
                "--by",
                f"p{i}",
                "-t",
                str(tagbook),
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, email in enumerate(emails)
    ]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in procs]

    assert [o[0] for o in outcomes] == [0] * len(emails), outcomes
    assert [o[2] for o in outcomes] == [f"tagged {e} with VIP\n" for e in emails]
    book = load_tagbook(tagbook)  # parses and validates
    assert [e.email for e in book.entries][0] == "vip@example.com"
    assert sorted(e.email for e in book.entries[1:]) == emails  # each once, none lost
    assert not list(tmp_path.glob(".tagbook.yaml.*"))  # no temporary files left


# --- expiry ------------------------------------------------------------------------------------


def test_expired_entry_is_ignored_and_counted(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        TAGBOOK
        + """\
  - email: old@example.com
    tags: [FRAUD]
    expires: 2026-11-25
  - email: last.day@example.com
    tags: [BIG]
    expires: 2026-11-26
""",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        csv_text(
            ["Order Id", "Email", "Total"],
            [
                ["1", "vip@example.com", "1.00"],
                ["2", "Old@Example.com", "2.00"],
                ["3", "last.day@example.com", "3.00"],
            ],
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"

    result = run("apply", orders, "-t", book, "--as-of", AS_OF, "-o", out, catch=False)

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        f"read 3 orders from {orders} (csv)\n"
        f"3 orders, 3 customers; as of {AS_OF}\n"
        "tag      orders    customers\n"
        "-----  --------  -----------\n"
        "VIP           1            1\n"
        "BIG           1            1\n"
        "tag book: 2 entries in force, 1 expired (ignored)\n"
        f"wrote {out}\n"
    )
    # Expired the day before the as-of date: ignored. Expiring on it: still in force.
    assert [r["Customer Tags"] for r in read_csv(out)] == ["VIP", "", "BIG"]


# --- mistakes --------------------------------------------------------------------------------


def test_tag_with_an_undefined_tag_lists_the_defined_ones(tagbook: Path) -> None:
    original = tagbook.read_bytes()

    result = run("tag", "jane@example.com", "--tag", "GOLD", "-t", tagbook)

    assert result.exit_code == 2  # a name on the command line: bad usage
    assert result.stdout == ""
    assert result.stderr == (
        f'ordertags: tag "GOLD" is not in the tag book {tagbook} (it defines {DEFINED}). '
        "Use a tag the tag book defines (`ordertags tags` lists them), or add it under "
        "`tags:` there.\n"
    )
    assert tagbook.read_bytes() == original


# --- tag --order ---------------------------------------------------------------------------------


def test_tag_by_order_tags_that_orders_customer(tagbook: Path, orders_copy: Path) -> None:
    result = run(
        "tag",
        "--order",
        "200011",
        "--in",
        orders_copy,
        "--tag",
        "FRAUD",
        "--by",
        "sam",
        "-t",
        tagbook,
        catch=False,
    )

    assert result.exit_code == 0
    assert result.stderr == "tagged Zoë Evans (zoe.evans@mailinator.com) with FRAUD\n"
    entry = load_tagbook(tagbook).entries[-1]
    assert (entry.email, entry.tags, entry.by) == ("zoe.evans@mailinator.com", ("FRAUD",), "sam")


def test_tag_by_unknown_order_names_the_file(tagbook: Path, orders_copy: Path) -> None:
    original = tagbook.read_bytes()

    result = run("tag", "--order", "999999", "--in", orders_copy, "--tag", "FRAUD", "-t", tagbook)

    assert result.exit_code == 1
    assert result.stderr == (
        f'ordertags: {orders_copy}: no order "999999" in this export. '
        "Check the order number, or the file.\n"
    )
    assert tagbook.read_bytes() == original


# Regression: find_order_email read its sniff sample with p.open("rb").read(...) and never
# closed the file (a ResourceWarning on every tag --order).
@pytest.mark.parametrize("order", ["200011", "999999"])
def test_tag_by_order_closes_the_export(order: str, orders_copy: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            find_order_email(orders_copy, order)
        except OrderTagsError:
            pass
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_tag_by_order_without_in_is_a_usage_error(tagbook: Path) -> None:
    original = tagbook.read_bytes()

    result = run("tag", "--order", "200011", "--tag", "FRAUD", "-t", tagbook)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Usage: ordertags tag [OPTIONS] [customer]\n"
        "Try 'ordertags tag --help' for help.\n\n"
        "Error: Invalid value for --in: --order needs --in EXPORT (the export holding the "
        "order).\n"
    )
    assert tagbook.read_bytes() == original


# --- tags ------------------------------------------------------------------------------------------


def test_tags_lists_definitions_and_entries_and_marks_expired(tmp_path: Path) -> None:
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        TAGBOOK
        + """\
  - email: old@example.com
    tags: [FRAUD, BIG]
    note: chargeback in 2025
    by: priya
    at: 2025-03-01
    expires: 2026-01-31
""",
        encoding="utf-8",
    )

    result = run("tags", "-t", book, "--as-of", AS_OF, catch=False)

    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    defs = yaml.safe_load(TAGBOOK)["tags"]
    for tag in defs:
        line = next(x for x in lines if x.startswith(tag["name"] + " "))
        assert tag["label"] in line and str(tag["priority"]) in line
    # Highest priority first.
    assert [x.split()[0] for x in lines[2 : 2 + len(defs)]] == [
        t["name"] for t in sorted(defs, key=lambda t: -t["priority"])
    ]
    vip = next(x for x in lines if x.startswith("vip@example.com"))
    old = next(x for x in lines if x.startswith("old@example.com"))
    assert "picked by hand" in vip and "VIP" in vip and "sam" in vip
    assert not vip.rstrip().endswith("expired")
    assert "chargeback in 2025" in old and "FRAUD, BIG" in old and "2026-01-31" in old
    assert old.rstrip().endswith("2026-01-31 (expired)")
    # No unnamed column: the header rule has one dash run per named column (issue 9).
    rule = [x for x in lines if x.startswith("---")][1]
    header = lines[lines.index(rule) - 1]
    assert len(rule.split()) == len(header.split()) == 6


# --- quick commands stay quick ------------------------------------------------------------------

QUICK = """
import json, sys
from typer.testing import CliRunner, Result
from ordertags.cli import app
from ordertags.errors import OrderTagsError
from ordertags.io.lookup import find_order_email
result = CliRunner().invoke(app, json.loads(sys.argv[1]))
assert result.exit_code == 0, (result.exit_code, result.output)
assert 'pandas' not in sys.modules, 'pandas'
assert 'pyarrow' not in sys.modules, 'pyarrow'
print("light")
"""


@pytest.mark.parametrize(
    "args",
    [
        ["tag", "new@example.com", "--tag", "VIP", "--by", "x", "-t", "tagbook.yaml"],
        ["untag", "vip@example.com", "--tag", "VIP", "-t", "tagbook.yaml"],
        ["tags", "-t", "tagbook.yaml"],
        ["suppress", "gone@example.com", "--reason", "unsubscribed", "-t", "tagbook.yaml"],
        ["--help"],
        [
            "tag",
            "--order",
            "200011",
            "--in",
            "orders.csv",
            "--tag",
            "FRAUD",
            "--by",
            "x",
            "-t",
            "tagbook.yaml",
        ],
    ],
    ids=["tag", "untag", "tags", "suppress", "help", "tag-order"],
)
def test_quick_commands_do_not_import_pandas_or_pyarrow(
    args: list[str], tmp_path: Path, tagbook: Path, orders_copy: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", QUICK, json.dumps(args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "light\n"


def test_help_smoke_in_a_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ordertags", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: " in proc.stdout
    for command in ("apply", "tag", "untag", "tags", "export", "schema"):
        assert f" {command} " in proc.stdout


def test_tag_book_rows_keep_their_order_after_untag_of_a_middle_entry(tagbook: Path) -> None:
    """untag removes an entry from the middle without reordering the others."""
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert run("tag", email, "--tag", "BIG", "--by", "t", "-t", tagbook).exit_code == 0
    assert run("untag", "b@example.com", "--tag", "BIG", "-t", tagbook).exit_code == 0
    assert [e.email for e in load_tagbook(tagbook).entries] == [
        "vip@example.com",
        "a@example.com",
        "c@example.com",
    ]
