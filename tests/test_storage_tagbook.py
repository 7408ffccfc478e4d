"""The tag book in a shared workspace: the customers tagged by hand live in the
database, so a tag set on one machine is seen by every machine at once; the tag
definitions stay in each machine's tagbook.yaml. ``tagbook export``/``import`` and
``migrate`` carry the entries between the file and the database without losing any.

Which orders carry a tag is worked out here from the exports the test writes (order n
is customer n % customers), never read from ordertags' output.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.workspace import Workspace

from .test_storage_shared import ROOT, machines, ordertags, write_orders

runner = CliRunner()


def cli(*args: str | Path, code: int = 0) -> str:
    done = runner.invoke(app, [str(a) for a in args])
    assert done.exit_code == code, done.stderr
    return done.stdout


def tagged_orders(out: Path) -> dict[str, set[str]]:
    """Order id -> its customer tags, from an annotated CSV."""
    with open(out, encoding="utf-8-sig", newline="") as fh:
        return {
            r["Order Id"]: {t for t in r["Customer Tags"].split("; ") if t}
            for r in csv.DictReader(fh)
        }


def stored(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT identity, tags FROM tagbook_entries ORDER BY id").fetchall()
    return [(r[0], r[1]) for r in rows]


def test_a_tag_set_on_one_machine_is_seen_by_apply_on_the_other_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    a, b = machines(tmp_path, pg_url)
    orders = write_orders(tmp_path / "orders.csv", range(0, 30), customers=10)
    # Customer 3's orders: 3, 13, 23 (order n is customer n % 10).
    mine = {str(100000 + n) for n in (3, 13, 23)}
    ordertags("tag", "c3@example.com", "--tag", "VIP", "-w", a, "--by", "sam")
    assert "c3@example.com" not in (a / "tagbook.yaml").read_text(encoding="utf-8")
    assert stored(pg_url) == [("c3@example.com", '["VIP"]')]
    out = tmp_path / "b1.csv"
    ordertags("apply", orders, "-w", b, "-o", out, "--as-of", "2026-12-31")
    got = tagged_orders(out)
    assert {o for o, tags in got.items() if "VIP" in tags} == mine
    # The other machine's `tags` lists it, with who set it.
    assert "sam" in ordertags("tags", "-w", b).stdout

    ordertags("untag", "c3@example.com", "--tag", "VIP", "-w", a)
    assert stored(pg_url) == []
    out = tmp_path / "b2.csv"
    ordertags("apply", orders, "-w", b, "-o", out, "--as-of", "2026-12-31")
    assert not any("VIP" in tags for tags in tagged_orders(out).values())


def test_an_entry_written_in_the_file_still_counts_and_is_edited_where_it_is(
    tmp_path: Path, pg_url: str
) -> None:
    """A customer written into a shared workspace's tagbook.yaml by hand is read with
    the database's; untagging it edits the file, tagging another goes to the database."""
    a, b = machines(tmp_path, pg_url)
    book = a / "tagbook.yaml"
    text = book.read_text(encoding="utf-8")
    book.write_text(
        text.replace("customers: []", "customers:\n  - email: c1@example.com\n    tags: [VIP]"),
        encoding="utf-8",
    )
    ordertags("tag", "c2@example.com", "--tag", "FRAUD", "-w", a)
    listed = ordertags("tags", "-w", a).stdout
    assert "c1@example.com" in listed and "c2@example.com" in listed
    assert "c1@example.com" not in ordertags("tags", "-w", b).stdout  # b's file has none
    assert "c2@example.com" in ordertags("tags", "-w", b).stdout
    ordertags("untag", "c1@example.com", "--tag", "VIP", "-w", a)
    assert "c1@example.com" not in book.read_text(encoding="utf-8")
    assert [who for who, _ in stored(pg_url)] == ["c2@example.com"]


@pytest.mark.usefixtures("backend")
def test_tagbook_export_and_import_round_trip(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    cli("init", shop, "--default-region", "GB")
    cli("tag", "jane@example.com", "--tag", "VIP", "--note", "wholesale", "--by", "sam", "-w", shop)
    cli("tag", "ebay:quinn_b", "--tag", "FRAUD", "--expires", "2027-03-01", "-w", shop)
    cli("tag", "+447123000999", "--tag", "REGULAR", "-w", shop)
    before = cli("tags", "-w", shop)
    exported = cli("tagbook", "export", "-w", shop)
    assert exported.count("\n- ") == 3  # three entries
    (tmp_path / "book.yaml").write_text(exported, encoding="utf-8")

    # The same file again: nothing to do.
    done = runner.invoke(app, ["tagbook", "import", str(tmp_path / "book.yaml"), "-w", str(shop)])
    assert done.exit_code == 0, done.stderr
    assert done.stdout == "" and "already holds these entries" in done.stderr

    # Emptied, then imported back: the very same tags output.
    cli("untag", "jane@example.com", "--tag", "VIP", "-w", shop)
    cli("untag", "ebay:quinn_b", "--tag", "FRAUD", "-w", shop)
    cli("untag", "+447123000999", "--tag", "REGULAR", "-w", shop)
    assert "jane@example.com" not in cli("tags", "-w", shop)
    dry = cli("tagbook", "import", tmp_path / "book.yaml", "--dry-run", "-w", shop)
    assert dry.count("\n") == 3 and all(line.startswith("+ ") for line in dry.splitlines())
    assert "jane@example.com" not in cli("tags", "-w", shop)  # a dry run changes nothing
    cli("tagbook", "import", tmp_path / "book.yaml", "-w", shop)
    assert cli("tags", "-w", shop) == before
    assert cli("tagbook", "export", "-w", shop) == exported

    # A changed entry is one line out and one in.
    (tmp_path / "book.yaml").write_text(
        exported.replace("note: wholesale", "note: retail"), encoding="utf-8"
    )
    diff = cli("tagbook", "import", tmp_path / "book.yaml", "-w", shop).splitlines()
    assert [line[:2] for line in diff] == ["- ", "+ "]
    assert "wholesale" in diff[0] and "retail" in diff[1]


@pytest.mark.usefixtures("backend")
def test_an_import_naming_an_unknown_tag_is_refused_with_its_line(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    cli("init", shop)
    bad = tmp_path / "bad.yaml"
    bad.write_text("customers:\n- email: a@example.com\n  tags: [GOLDD]\n", encoding="utf-8")
    done = runner.invoke(app, ["tagbook", "import", str(bad), "-w", str(shop)])
    assert done.exit_code == 1
    assert "bad.yaml" in done.stderr and "line 3" in done.stderr and "GOLDD" in done.stderr
    assert "a@example.com" not in cli("tags", "-w", shop)


def test_migrate_both_ways_keeps_the_entries(tmp_path: Path, pg_url: str) -> None:
    shop = tmp_path / "shop"
    cli("init", shop, "--default-region", "GB")
    cli("tag", "ann@shop.example", "--tag", "VIP", "--note", "wholesale", "-w", shop)
    cli("tag", "bob@shop.example", "--tag", "FRAUD", "--expires", "2027-03-01", "-w", shop)
    before = cli("tags", "-w", shop)
    moved = runner.invoke(app, ["migrate", "--to", pg_url, "-w", str(shop)])
    assert moved.exit_code == 0, moved.stderr
    assert "2 customer entries" in moved.stderr
    assert [who for who, _ in stored(pg_url)] == ["ann@shop.example", "bob@shop.example"]
    assert "ann@shop.example" not in (shop / "tagbook.yaml").read_text(encoding="utf-8")
    assert Workspace(shop).shared
    assert cli("tags", "-w", shop) == before
    # A tag set while shared, then back to the file: all three in tagbook.yaml.
    cli("tag", "cy@shop.example", "--tag", "REGULAR", "-w", shop)
    after = cli("tags", "-w", shop)
    cli("migrate", "--to", "sqlite", "-w", shop)
    text = (shop / "tagbook.yaml").read_text(encoding="utf-8")
    assert all(f"email: {who}" in text for who in ("ann@", "bob@", "cy@"))
    assert cli("tags", "-w", shop) == after


QUICK = (  # the command ends the process itself (os._exit): look just before
    "import os, sys\n"
    "end = os._exit\n"
    "def leave(status):\n"
    "    loaded = sorted(m for m in ('pyarrow', 'pandas', 'psycopg') if m in sys.modules)\n"
    "    print('LOADED', loaded, flush=True)\n"
    "    end(status)\n"
    "os._exit = leave\n"
    "from ordertags.cli import main\n"
    "sys.argv = ['ordertags', *sys.argv[1:]]\n"
    "main()\n"
)


def loaded_by(*args: str | Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", QUICK, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "ORDERTAGS_DATABASE"}
        | {"PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_quick_commands_of_a_shared_workspace_load_no_array_library(
    tmp_path: Path, pg_url: str
) -> None:
    a, _ = machines(tmp_path, pg_url)
    shared = "LOADED ['psycopg']"  # the driver, as the workspace names PostgreSQL
    assert loaded_by("tag", "c1@example.com", "--tag", "VIP", "-w", a) == shared
    assert loaded_by("tags", "-w", a) == shared
    assert loaded_by("untag", "c1@example.com", "--tag", "VIP", "-w", a) == shared
    assert loaded_by("tagbook", "export", "-w", a) == shared
    local = tmp_path / "local"
    ordertags("init", local)
    assert loaded_by("tag", "c1@example.com", "--tag", "VIP", "-w", local) == "LOADED []"
    assert loaded_by("tags", "-w", local) == "LOADED []"
