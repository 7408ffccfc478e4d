"""A shared workspace: two machines (two processes, each with its own workspace folder)
on one PostgreSQL database; ``migrate`` both ways; a recording run in one transaction
on either backend.

The figures a seller would check (orders, customers, spend) are worked out here with
``decimal`` from the exports the test writes, never read from ordertags' output.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.store import PG_MIGRATIONS
from ordertags.customers.workspace import Workspace

from .month_shop import make_month, write_exports
from .pg_support import DATABASE

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Order Id", "Source", "Received Date", "Customer Name", "Email", "Currency", "Total"]
runner = CliRunner()


def write_orders(path: Path, numbers: range, customers: int = 700) -> Path:
    """Orders ``numbers``; order n by customer n % customers, total n pence + 10.00."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for n in numbers:
            c = n % customers
            w.writerow(
                [
                    str(100000 + n),
                    "SHOPIFY",
                    f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} 10:00",
                    f"Customer {c}",
                    f"c{c}@example.com",
                    "GBP",
                    str(Decimal(1000 + n) / 100),
                ]
            )
    return path


def truth(numbers: set[int], customers: int = 700) -> tuple[int, int, Decimal]:
    return (
        len(numbers),
        len({n % customers for n in numbers}),
        sum((Decimal(1000 + n) / 100 for n in numbers), Decimal(0)),
    )


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "ORDERTAGS_DATABASE"}
    out["PYTHONPATH"] = str(ROOT)
    return out


def ordertags(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ordertags", *map(str, args)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ordertags", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )


def machines(tmp_path: Path, url: str) -> tuple[Path, Path]:
    a, b = tmp_path / "warehouse", tmp_path / "office"
    for folder in (a, b):
        ordertags("init", folder, "--database", url, "--default-region", "GB")
    return a, b


def figures(url: str) -> tuple[int, int, Decimal]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM customers), "
            "(SELECT COALESCE(SUM(total), 0) FROM orders)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), Decimal(row[2]) / 10_000


def ready(url: str, limit: float = 60) -> None:
    """Wait until a restarted server takes connections."""
    deadline = time.monotonic() + limit
    while True:
        try:
            psycopg.connect(url).close()
            return
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, "the server did not come back"
            time.sleep(0.2)


def in_write(url: str) -> bool:
    """Is some ordertags holding the write lock (in a write transaction) now?"""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).fetchone()
    return bool(row and row[0] >= 2)  # the run lock and the write lock


def wait_for_write(url: str, proc: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not in_write(url):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.05)


def test_the_settings_file_names_the_database_and_never_a_password(
    tmp_path: Path, pg_url: str
) -> None:
    a, _ = machines(tmp_path, pg_url)
    text = (a / "settings.toml").read_text(encoding="utf-8")
    assert f'database = "{pg_url}"' in text
    assert not (a / "history.sqlite").exists()
    done = ordertags(
        "init", tmp_path / "x", "--database", "postgresql://u:s3cret@h/db", check=False
    )
    assert done.returncode == 2
    assert "s3cret" not in done.stderr and "holds a password" in done.stderr
    assert not (tmp_path / "x" / "settings.toml").exists()


def test_two_machines_ingesting_overlapping_exports_record_each_order_once(
    tmp_path: Path, pg_url: str
) -> None:
    a, b = machines(tmp_path, pg_url)
    first = write_orders(tmp_path / "first.csv", range(0, 3000))
    second = write_orders(tmp_path / "second.csv", range(2000, 5000))
    runs = [start("ingest", first, "-w", a), start("ingest", second, "-w", b)]
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert figures(pg_url) == truth(set(range(0, 5000)))
    # Either machine reads the same history.
    one = ordertags("customers", "--limit", "5", "-w", a).stdout
    assert one == ordertags("customers", "--limit", "5", "-w", b).stdout


def test_a_run_recorded_on_one_machine_is_seen_on_the_other_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    """The customer tags an apply on the warehouse PC gives (a hand tag of its tag book
    among them) are what the office PC lists the moment the run ends (the hand tag is
    in the database too: tests/test_storage_tagbook.py)."""
    a, b = machines(tmp_path, pg_url)
    orders = write_orders(tmp_path / "orders.csv", range(0, 50), customers=10)
    ordertags("tag", "c3@example.com", "--tag", "VIP", "-w", a, "--by", "sam")
    ordertags("apply", orders, "-w", a, "-o", tmp_path / "out.csv", "--as-of", "2026-12-31")
    listed = ordertags("customers", "--tag", "VIP", "-w", b).stdout
    assert "c3@example.com" in listed
    assert "c4@example.com" not in listed


def test_a_machine_killed_mid_ingest_records_nothing_and_the_other_carries_on(
    tmp_path: Path, pg_url: str
) -> None:
    a, b = machines(tmp_path, pg_url)
    big = write_orders(tmp_path / "big.csv", range(0, 40_000), customers=8_000)
    proc = start("ingest", big, "-w", a)
    wait_for_write(pg_url, proc)
    assert proc.poll() is None  # killed while writing
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert figures(pg_url) == (0, 0, Decimal(0))  # nothing half-recorded
    small = write_orders(tmp_path / "small.csv", range(0, 100))
    ordertags("ingest", small, "-w", b, "--wait", "30")  # the lock went with the process
    assert figures(pg_url) == truth(set(range(0, 100)))


def test_the_database_restarted_mid_run_is_one_clear_error_and_the_next_run_works(
    tmp_path: Path, pg_url: str, request: pytest.FixtureRequest
) -> None:
    server: Any = request.getfixturevalue("postgresql_server")
    a, _ = machines(tmp_path, pg_url)
    big = write_orders(tmp_path / "big.csv", range(0, 40_000), customers=8_000)
    proc = start("ingest", big, "-w", a)
    wait_for_write(pg_url, proc)
    server.stop()
    server.start()
    ready(pg_url)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "the connection to the database was lost" in lines[0]
    assert "nothing of this run was recorded" in lines[0]
    assert figures(pg_url) == (0, 0, Decimal(0))
    ordertags("ingest", big, "-w", a)
    assert figures(pg_url) == truth(set(range(0, 40_000)), customers=8_000)


# --- migrate, both ways -----------------------------------------------------------------

MONTH_BOOK = """\
version: 1
tags:
  - {name: VIP, colour: gold, label: VIP, priority: 50}
  - {name: REGULAR, colour: teal, label: REGULAR, priority: 30}
customers: []
"""
MONTH_RULES = """\
version: 1
rules:
  - name: Three orders or more
    when: {customer: orders, at_least: 3}
    tag: REGULAR
"""


def cli(*args: str | Path) -> str:
    """A command in this process (quicker than a new one); its standard output."""
    done = runner.invoke(app, [str(a) for a in args])
    assert done.exit_code == 0, done.stderr
    return done.stdout


def views(shop: Path, keys: list[str]) -> list[str]:
    """What a seller reads: customers, each customer, a list, the tags."""
    out = [
        cli("customers", "--limit", "0", "-w", shop),
        cli("customers", "--tag", "REGULAR", "--limit", "0", "-w", shop),
        cli("export", "--tag", "REGULAR", "--as-of", "2026-12-01", "-o", "-", "-w", shop),
        cli("tags", "-w", shop),
        cli("history", "stats", "-w", shop).split("\n", 1)[1],
    ]
    out += [cli("customer", key, "-w", shop) for key in keys]
    return out


def test_migrate_moves_the_month_both_ways_and_nothing_a_seller_reads_changes(
    tmp_path: Path, pg_url: str
) -> None:
    month = make_month(9)
    exports = write_exports(month, tmp_path / "exports")
    shop = tmp_path / "shop"
    cli("init", shop, "--default-region", "GB")
    (shop / "tagbook.yaml").write_text(MONTH_BOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(MONTH_RULES, encoding="utf-8")
    cli("ingest", *exports, "-w", shop)
    cli("tag", sorted(month.truth())[0], "--tag", "VIP", "-w", shop, "--by", "sam")
    cli("apply", exports[0], "-w", shop, "-o", tmp_path / "out.csv", "--as-of", "2026-12-01")
    keys = sorted(month.truth())[:3]
    before = views(shop, keys)
    moved = runner.invoke(app, ["migrate", "--to", pg_url, "-w", str(shop)])
    assert moved.exit_code == 0, moved.stderr
    assert "counts checked" in moved.stderr
    assert (shop / "history.sqlite-migrated").exists() and not (shop / "history.sqlite").exists()
    assert Workspace(shop).location.url == pg_url
    assert views(shop, keys) == before
    cli("migrate", "--to", "sqlite", "-w", shop)
    assert Workspace(shop).location.url is None and (shop / "history.sqlite").exists()
    assert views(shop, keys) == before


def test_migrate_refuses_a_database_that_already_holds_a_history(
    tmp_path: Path, pg_url: str
) -> None:
    a, _ = machines(tmp_path, pg_url)
    ordertags("ingest", write_orders(tmp_path / "o.csv", range(0, 10)), "-w", a)
    shop = tmp_path / "shop"
    ordertags("init", shop)
    done = ordertags("migrate", "--to", pg_url, "-w", shop, check=False)
    assert done.returncode == 1
    assert "the target already holds a history" in done.stderr
    assert Workspace(shop).location.url is None and (shop / "history.sqlite").exists()


# --- a recording run is one transaction (issue 23: export racing apply) ---------------


@pytest.mark.usefixtures("backend")
def test_an_apply_that_fails_after_recording_its_orders_leaves_the_history_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply records the run's orders, then its customers' tags, then the tag log: a
    reader (a cron ``export``) between those would see orders without their tags. One
    transaction: a run stopped after its orders were recorded leaves nothing."""
    import ordertags.engine.pipeline as pipeline
    from ordertags import apply_files

    shop = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(shop)]).exit_code == 0
    first = write_orders(tmp_path / "first.csv", range(0, 20), customers=5)
    book = shop / "tagbook.yaml"
    apply_files([str(first)], tagbook=book, workspace=Workspace(shop), output=tmp_path / "a.csv")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stopped between the orders and the tags")

    monkeypatch.setattr(pipeline, "remember_tags", fail)
    second = write_orders(tmp_path / "second.csv", range(20, 40), customers=5)
    with pytest.raises(RuntimeError):
        apply_files([second], tagbook=book, workspace=Workspace(shop), output=tmp_path / "b.csv")
    with Workspace(shop).open_history() as history:
        assert history.fetch("SELECT COUNT(*) FROM orders")[0][0] == 20


def test_two_machines_starting_on_a_new_database_at_once_migrate_it_once(
    tmp_path: Path, pg_url: str
) -> None:
    runs = [start("init", tmp_path / name, "--database", pg_url) for name in ("a", "b", "c")]
    for proc in runs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with psycopg.connect(pg_url) as conn:
        steps = conn.execute("SELECT version FROM ordertags_schema ORDER BY version").fetchall()
    # Each step once (the first writes version 8 at once; later ones are steps of their own).
    assert steps == [(v,) for v, _ in PG_MIGRATIONS]


def test_a_command_reads_one_snapshot_while_another_machine_commits(
    tmp_path: Path, pg_url: str
) -> None:
    a, b = machines(tmp_path, pg_url)
    ordertags("ingest", write_orders(tmp_path / "one.csv", range(0, 10)), "-w", a)
    with Workspace(b).open_history() as reader:
        assert reader.fetch("SELECT COUNT(*) FROM orders")[0][0] == 10
        ordertags("ingest", write_orders(tmp_path / "two.csv", range(10, 30)), "-w", a)
        # Within the command's snapshot: the history as its first read found it.
        assert reader.fetch("SELECT COUNT(*) FROM customers")[0][0] == 10
        assert reader.fetch("SELECT COUNT(*) FROM orders")[0][0] == 10
        reader.end_snapshot()
        assert reader.fetch("SELECT COUNT(*) FROM orders")[0][0] == 30


def test_a_password_in_ordertags_database_is_never_shown(tmp_path: Path, pg_url: str) -> None:
    shop = tmp_path / "shop"
    ordertags("init", shop)
    environ = env()
    environ["ORDERTAGS_DATABASE"] = "postgresql://shop:s3cret@127.0.0.1:1/shop?connect_timeout=2"
    done = subprocess.run(
        [sys.executable, "-m", "ordertags", "customers", "-w", str(shop)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )
    assert done.returncode == 1
    assert "s3cret" not in done.stderr + done.stdout
    assert "postgresql://shop:***@127.0.0.1:1/shop" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_statement_timeout_is_one_clear_error_and_the_next_run_works(
    tmp_path: Path, pg_url: str
) -> None:
    """The server cancels a statement that runs too long (a DBA's statement_timeout,
    here set for the session through the URL's libpq ``options``): the command says so
    in one line and exits 1, nothing of the run is recorded, and the next run works."""
    a, _ = machines(tmp_path, pg_url)
    big = write_orders(tmp_path / "big.csv", range(0, 20_000), customers=4_000)
    assert "options=" in pg_url  # the schema's search_path: add the timeout beside it
    slow = env() | {"ORDERTAGS_DATABASE": pg_url + "%20-cstatement_timeout%3D1"}
    done = subprocess.run(
        [sys.executable, "-m", "ordertags", "ingest", str(big), "-w", str(a)],
        capture_output=True,
        text=True,
        env=slow,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "timeout" in lines[0].lower(), lines[0]
    assert figures(pg_url) == (0, 0, Decimal(0))
    ordertags("ingest", big, "-w", a)
    assert figures(pg_url) == truth(set(range(0, 20_000)), customers=4_000)


def _mount_small(folder: Path, size: str) -> bool:
    """A tmpfs of ``size`` at ``folder`` (root only); False where mounting is not allowed."""
    if os.geteuid() != 0:
        return False
    option = f"size={size}"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", option, "tmpfs", str(folder)], check=False)
    return done.returncode == 0


def test_the_servers_disk_full_is_one_clear_error_and_the_next_run_works(
    tmp_path: Path, pg_url: str, pg_base_url: str
) -> None:
    """The database server runs out of disk mid-ingest (its tables on a tablespace of
    a 2 MB file system): one line, exit 1, nothing recorded; once there is room again,
    the same command records every order."""
    # Beside the server's own folders (the server's user cannot enter pytest's).
    disk = Path(tempfile.mkdtemp(prefix="ordertags-pgdisk-"))
    disk.chmod(0o755)
    if not _mount_small(disk, "2m"):
        disk.rmdir()
        pytest.skip("filling a server's disk needs root and tmpfs (mount -t tmpfs)")
    name = f"full_{os.getpid()}"
    admin = f"{pg_base_url}/{DATABASE}"
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    try:
        owner = int(subprocess.check_output(["id", "-u", "postgres"], text=True).strip())
        os.chown(disk, owner, -1)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE {name} LOCATION '{disk}'")
        url = pg_url + f"%20-cdefault_tablespace%3D{name}"
        (a,) = [tmp_path / "warehouse"]
        ordertags("init", a, "--database", url, "--default-region", "GB")
        big = write_orders(tmp_path / "big.csv", range(0, 40_000), customers=8_000)
        done = ordertags("ingest", big, "-w", a, check=False)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert "out of space" in lines[0] and "nothing of it was recorded" in lines[0]
        assert figures(pg_url) == (0, 0, Decimal(0))
        subprocess.run(["mount", "-o", "remount,size=300m", str(disk)], check=True)
        ordertags("ingest", big, "-w", a)
        assert figures(pg_url) == truth(set(range(0, 40_000)), customers=8_000)
    finally:
        from ordertags.storage.postgresql import close_pools

        close_pools()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"DROP TABLESPACE IF EXISTS {name}")
        subprocess.run(["umount", str(disk)], check=False)
        disk.rmdir()
