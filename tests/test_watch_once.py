"""The watch list tells each order once: the history keeps the orders it has told of
(issue 21), so a cron job that reads the same open-orders export every few minutes says
nothing new of an order still in it; an order that gains another alert tag is told of
that tag. On each storage backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_watch import ALERT_LINES, Hook, apply, hook, shop

__all__ = ["hook"]  # the fixture, used by name

pytestmark = pytest.mark.usefixtures("backend")


def _alerts(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("alert:")]


def test_each_order_alerts_once_across_runs(tmp_path: Path, hook: Hook) -> None:
    ws = shop(tmp_path, f"webhooks:\n  - {hook.url}\n")
    first = apply(tmp_path, ws, "--quiet")
    assert first.exit_code == 0, first.stderr
    assert _alerts(first.stderr) == ALERT_LINES
    second = apply(tmp_path, ws, "--quiet")  # the same export: the orders still open
    assert second.exit_code == 0, second.stderr
    assert _alerts(second.stderr) == []
    assert len(hook.bodies) == 1  # no message for a run with nothing new
    # A new order of the claimer, and a new alert tag on one told before.
    book = (ws / "tagbook.yaml").read_text(encoding="utf-8")
    (ws / "tagbook.yaml").write_text(
        book.replace("    tags: [VIP]\n", "    tags: [VIP, FRAUD]\n").replace(
            "  - email: claimer@example.com\n    tags: [CLAIMED-NON-RECEIPT]\n",
            "  - email: claimer@example.com\n    tags: [CLAIMED-NON-RECEIPT, FRAUD]\n",
        ),
        encoding="utf-8",
    )
    orders = tmp_path / "orders_export.csv"
    orders.write_text(
        orders.read_text(encoding="utf-8")
        + "#3005,claimer@example.com,paid,GBP,8.00,2026-11-25 10:00:00 +0000,1,Pen,8.00,"
        "Cara Claim\n",
        encoding="utf-8",
    )
    third = apply(tmp_path, ws, "--quiet")
    assert third.exit_code == 0, third.stderr
    assert _alerts(third.stderr) == [
        "alert: order #3001 (Cara Claim): FRAUD",
        "alert: order #3002 (Vic Ip): FRAUD",
        "alert: order #3004 (Cara Claim): FRAUD",
        "alert: order #3005 (Cara Claim): FRAUD, CLAIMED-NON-RECEIPT",
    ]
    assert len(hook.bodies) == 2


def test_dry_run_and_no_record_tell_again(tmp_path: Path) -> None:
    ws = shop(tmp_path, None)
    dry = apply(tmp_path, ws, "--quiet", "--dry-run")
    assert _alerts(dry.stderr) == ALERT_LINES
    unrecorded = apply(tmp_path, ws, "--quiet", "--no-record")
    assert _alerts(unrecorded.stderr) == ALERT_LINES  # nothing kept: told again
    kept = apply(tmp_path, ws, "--quiet")
    assert _alerts(kept.stderr) == ALERT_LINES
    assert _alerts(apply(tmp_path, ws, "--quiet").stderr) == []
