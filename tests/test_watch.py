"""The watch list (issue 21): a tag defined with ``alert: true`` makes ``apply`` print
one line per such order on stderr, and post one JSON message per run to the webhooks
the workspace's ``settings.yaml`` names: tested against a local HTTP server (the body,
a retry after a failure, a server too slow, no server at all). A webhook never fails
the run nor holds it up for more than its timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.errors import WorkspaceError
from ordertags.reports.watch import (
    Alert,
    Webhook,
    WebhookSettings,
    message,
    post_alerts,
    webhook_settings,
)

runner = CliRunner()

BOOK = """\
version: 1
tags:
  - {name: FRAUD, colour: red, label: FRAUD, priority: 100, alert: true}
  - {name: CLAIMED-NON-RECEIPT, colour: orange, label: CLAIMED, priority: 90, alert: true}
  - {name: VIP, colour: gold, label: VIP, priority: 50}
customers:
  - email: claimer@example.com
    tags: [CLAIMED-NON-RECEIPT]
  - email: crook@example.com
    tags: [FRAUD, CLAIMED-NON-RECEIPT]
  - email: vip@example.com
    tags: [VIP]
"""
# Shopify: one row per line item; the claimer's order has two rows, and is held in a
# second export again (one order, one line).
ORDERS = """\
Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Billing Name
#3001,claimer@example.com,paid,GBP,20.00,2026-11-20 10:00:00 +0000,1,Mug,15.00,Cara Claim
#3001,claimer@example.com,,,,2026-11-20 10:00:00 +0000,1,Cup,5.00,
#3002,vip@example.com,paid,GBP,30.00,2026-11-21 10:00:00 +0000,1,Mug,30.00,Vic Ip
#3003,crook@example.com,paid,GBP,99.00,2026-11-22 10:00:00 +0000,1,Lamp,99.00,Cole Rook
#3004,Claimer@Example.com,paid,GBP,12.00,2026-11-23 10:00:00 +0000,1,Pen,12.00,Cara Claim
"""


class Hook:
    """A local webhook receiver: records each body; fails the first ``fail`` posts with
    500; sleeps ``delay`` seconds before answering."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.fail = fail
        self.delay = delay
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                time.sleep(hook.delay)
                hook.paths.append(self.path)
                if hook.fail > 0:
                    hook.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.bodies.append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def shop(tmp_path: Path, settings: str | None) -> Path:
    ws = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (ws / "tagbook.yaml").write_text(BOOK, encoding="utf-8")
    (ws / "rules.yaml").unlink()
    if settings is not None:
        (ws / "settings.yaml").write_text(settings, encoding="utf-8")
    (tmp_path / "orders_export.csv").write_text(ORDERS, encoding="utf-8")
    return ws


def apply(tmp_path: Path, ws: Path, *extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "apply",
            str(tmp_path / "orders_export.csv"),
            "-w",
            str(ws),
            "-o",
            str(tmp_path / "out.csv"),
            "--as-of",
            "2026-11-26",
            *extra,
        ],
    )


ALERT_LINES = [
    "alert: order #3001 (Cara Claim): CLAIMED-NON-RECEIPT",
    "alert: order #3003 (Cole Rook): FRAUD, CLAIMED-NON-RECEIPT",
    "alert: order #3004 (Cara Claim): CLAIMED-NON-RECEIPT",
]


def test_apply_prints_one_line_per_watched_order_even_quiet(tmp_path: Path) -> None:
    ws = shop(tmp_path, None)
    result = apply(tmp_path, ws, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert [ln for ln in result.stderr.splitlines() if ln.startswith("alert:")] == ALERT_LINES


def test_webhook_gets_one_message_per_run_without_emails(tmp_path: Path, hook: Hook) -> None:
    ws = shop(tmp_path, f"webhooks:\n  - {hook.url}\n")
    result = apply(tmp_path, ws, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert len(hook.bodies) == 1
    text = hook.bodies[0]["text"]
    assert text.splitlines() == [
        "ordertags: 3 watched orders",
        "order #3001 (Cara Claim): CLAIMED-NON-RECEIPT",
        "order #3003 (Cole Rook): FRAUD, CLAIMED-NON-RECEIPT",
        "order #3004 (Cara Claim): CLAIMED-NON-RECEIPT",
    ]
    assert "@" not in json.dumps(hook.bodies[0])  # no email unless asked for
    assert "warning" not in result.stderr


def test_webhook_details_full_and_ntfy_and_json_shapes(hook: Hook) -> None:
    alerts = [Alert("#1", ("FRAUD",), "Cole Rook", "crook@example.com")]
    url, body = message(alerts, Webhook("https://ntfy.example/shop-alerts", "ntfy", full=True))
    assert url == "https://ntfy.example/"
    assert json.loads(body) == {
        "topic": "shop-alerts",
        "title": "ordertags: 1 watched order",
        "message": "order #1 (Cole Rook): FRAUD <crook@example.com>",
        "tags": ["warning"],
    }
    _, plain = message(alerts, Webhook("https://x.example/h", "json"))
    assert json.loads(plain) == {
        "title": "ordertags: 1 watched order",
        "alerts": [{"order": "#1", "tags": ["FRAUD"], "name": "Cole Rook"}],
    }


def test_webhook_is_retried_after_a_failure(hook: Hook) -> None:
    hook.fail = 2
    alerts = [Alert("#1", ("FRAUD",), "Cole Rook")]
    done = post_alerts(alerts, WebhookSettings((Webhook(hook.url),), 5.0), retry_wait=0.05)
    assert done.sent == ["127.0.0.1:" + hook.url.split(":")[2].split("/")[0]]
    assert done.failed == []
    assert len(hook.paths) == 3  # two 500s, then delivered
    assert len(hook.bodies) == 1


def test_a_slow_webhook_costs_at_most_the_timeout() -> None:
    slow = Hook(delay=3.0)
    try:
        alerts = [Alert("#1", ("FRAUD",), "Cole Rook")]
        start = time.monotonic()
        done = post_alerts(alerts, WebhookSettings((Webhook(slow.url),), 0.5), retry_wait=0.05)
        took = time.monotonic() - start
    finally:
        slow.close()
    assert took < 1.5
    assert done.sent == []
    assert [why for _, why in done.failed] == ["timed out"]


def test_server_down_warns_and_the_run_succeeds(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    ws = shop(tmp_path, f"webhooks:\n  - {url}\nwebhook_timeout: 1\n")
    start = time.monotonic()
    result = apply(tmp_path, ws, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - start < 15  # the run itself, plus at most the second
    assert result.stderr.splitlines()[-1].startswith(
        f"warning: the webhook at 127.0.0.1:{url.split(':')[2].split('/')[0]} was not reached"
    )
    assert (tmp_path / "out.csv").exists()


def test_no_alert_tags_no_post(tmp_path: Path, hook: Hook) -> None:
    ws = shop(tmp_path, f"webhooks: [{hook.url}]\n")
    book = (ws / "tagbook.yaml").read_text(encoding="utf-8").replace(", alert: true", "")
    (ws / "tagbook.yaml").write_text(book, encoding="utf-8")
    result = apply(tmp_path, ws, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "alert:" not in result.stderr
    assert hook.bodies == []


def test_settings_are_checked(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("webhooks:\n  - ftp://x\n", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="is not an http"):
        webhook_settings(tmp_path)
    (tmp_path / "settings.yaml").write_text(
        "database: sqlite\nwebhooks:\n  - url: https://h.example/x\n    format: teams\n"
        "webhook_timeout: 2\n",
        encoding="utf-8",
    )
    assert webhook_settings(tmp_path) == WebhookSettings(
        (Webhook("https://h.example/x", "teams"),), 2.0
    )
    (tmp_path / "settings.yaml").write_text("webhooks: !!python/object:os.system x\n")
    with pytest.raises(WorkspaceError, match="cannot read the settings"):
        webhook_settings(tmp_path)


def test_alert_survives_the_tag_book_cache(tmp_path: Path) -> None:
    # A book over 16 KB is read from its cached parse the second time: the watch list
    # must be read from it too.
    from ordertags.tagbook import load_tagbook

    padding = "".join(
        f"  - email: c{i}@example.com\n    tags: [VIP]\n    note: padding for the cache\n"
        for i in range(400)
    )
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK + padding, encoding="utf-8")
    assert path.stat().st_size > 16 * 1024
    first, second = load_tagbook(path), load_tagbook(path)
    for book in (first, second):
        assert [t.name for t in book.tags.values() if t.alert] == ["FRAUD", "CLAIMED-NON-RECEIPT"]
