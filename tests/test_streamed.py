"""Big exports are read in two passes (the columns rules need, then every column a batch
at a time while writing): the bytes written must be those of one whole read, and memory
must stay that of a batch. Small files are forced through that path here with
``ORDERTAGS_STREAM_ABOVE=0`` and tiny batches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.io.readers import read_orders_lazily

from .conftest import AS_OF, ROOT, csv_text, read_rows, shared_path

runner = CliRunner()
BENCH = ROOT / "benchmarks" / "reference"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def both_ways(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str | Path], batch: int = 4096
) -> tuple[bytes, bytes]:
    """apply read whole, and in two passes with batches of ``batch`` bytes."""
    outs = []
    for name, above in (("whole", str(1 << 50)), ("streamed", "0")):
        monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", above)
        monkeypatch.setenv("ORDERTAGS_BATCH_BYTES", str(batch))
        out = tmp_path / f"{name}.csv"
        result = run("apply", *args, "-o", out)
        assert result.exit_code == 0, result.stderr
        outs.append(out.read_bytes())
    return outs[0], outs[1]


@pytest.fixture(scope="module")
def reference_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 orders of the reference job (embedded newlines, quotes, commas, CRLF)."""
    gen = shared_path("bench", "gen_orders.py")
    pytest.importorskip("numpy")
    folder = tmp_path_factory.mktemp("bench")
    subprocess.run([sys.executable, str(gen), "3000", str(folder), "--seed", "3"], check=True)
    for name in ("rules.yaml", "tagbook.yaml"):
        (folder / name).write_bytes((BENCH / name).read_bytes())
    return folder


def test_reference_job_same_bytes_in_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reference_data: Path
) -> None:
    d = reference_data
    args: list[str | Path] = [d / "orders.csv", "-t", d / "tagbook.yaml", "-r", d / "rules.yaml"]
    whole, streamed = both_ways(monkeypatch, tmp_path, [*args, "--as-of", AS_OF])
    assert whole == streamed
    # The file is long enough for many batches, and the tags are not all blank.
    assert len(whole) > 100 * 4096
    assert b"VIP" in whole and b"BIG_SPENDER" in whole


def test_reference_job_list_in_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reference_data: Path
) -> None:
    d = reference_data
    lists = []
    for name, above in (("whole", str(1 << 50)), ("streamed", "0")):
        monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", above)
        monkeypatch.setenv("ORDERTAGS_BATCH_BYTES", "8192")
        listed = tmp_path / f"{name}-vip.csv"
        result = run(
            "apply",
            d / "orders.csv",
            "-t",
            d / "tagbook.yaml",
            "-r",
            d / "rules.yaml",
            "--as-of",
            AS_OF,
            "-o",
            tmp_path / f"{name}.csv",
            "--list",
            f"{listed}:VIP",
        )
        assert result.exit_code == 0, result.stderr
        lists.append(listed.read_bytes())
    assert lists[0] == lists[1] and len(read_rows(tmp_path / "streamed-vip.csv")) > 1


@pytest.mark.parametrize(
    "parts",
    [
        ("shopify", "orders_export.csv"),
        ("woocommerce", "webtoffee_sample_order.csv"),
        ("uci-online-retail", "online_retail_sample.csv"),
    ],
)
def test_real_exports_same_bytes_in_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tagbook: Path, parts: tuple[str, str]
) -> None:
    src = shared_path("data", "real", *parts)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: buyers\n    when: {customer: orders, at_least: 2}\n"
        "    tag: REGULAR\n  - name: big\n    when: {field: total, over: 50}\n    tag: HIGH\n",
        encoding="utf-8",
    )
    whole, streamed = both_ways(monkeypatch, tmp_path, [src, "-t", tagbook, "-r", rules])
    assert whole == streamed


def test_a_rule_on_another_column_reads_it_when_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tagbook: Path
) -> None:
    """Country is not read on the first pass; a rule on it reads it then."""
    src = tmp_path / "o.csv"
    rows = [
        [str(i), f"c{i % 7}@example.com", f"{i}.50", "FR" if i % 3 else "DE", "x,y"]
        for i in range(400)
    ]
    src.write_text(
        csv_text(["Order Id", "Email", "Total", "Country", "Notes"], rows), encoding="utf-8"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: de\n    when: {field: country, equals: DE}\n    tag: CHECK\n",
        encoding="utf-8",
    )
    whole, streamed = both_ways(monkeypatch, tmp_path, [src, "-t", tagbook, "-r", rules])
    assert whole == streamed
    # By hand: every third order (i = 0, 3, ...) is in DE: 134 of 400.
    assert streamed.count(b",CHECK,CHECK,orange") == 134


def test_bad_utf8_in_a_column_not_read_first_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tagbook: Path
) -> None:
    """A cp1252 byte in the notes, a column the first pass does not read: the second
    pass fails, and the whole read (which finds the export's encoding) writes it."""
    src = tmp_path / "o.csv"
    body = "".join(f"{i},a{i % 5}@example.com,{i}.00,caf\xe9 note\r\n" for i in range(300))
    src.write_bytes(("Order Id,Email,Total,Notes\r\n" + body).encode("cp1252"))
    whole, streamed = both_ways(monkeypatch, tmp_path, [src, "-t", tagbook])
    assert whole == streamed
    assert "café note".encode("cp1252") in streamed


def test_small_or_odd_exports_are_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", str(1 << 20))
    small = tmp_path / "small.csv"
    small.write_text("Order Id,Email\n1,a@b.com\n", encoding="utf-8")
    assert read_orders_lazily(small, prefetch=lambda t: [1]) is None
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
    js = tmp_path / "o.json"
    js.write_text('[{"Email": "a@b.com"}]', encoding="utf-8")
    assert read_orders_lazily(js, prefetch=lambda t: [0]) is None
    assert read_orders_lazily("-", prefetch=lambda t: [0]) is None
    lazy = read_orders_lazily(small, prefetch=lambda t: [1])
    assert lazy is not None and lazy.num_rows == 1
    assert lazy.table.column_names == ["c1"]  # only what was asked for
    assert lazy.column(0).to_pylist() == ["1"]  # the rest when first asked for
