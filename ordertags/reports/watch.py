"""The watch list: orders that carry a tag defined with ``alert: true``.

``apply`` prints one line per such order on stderr (cron mails what a job prints, so
the seller hears of a watched customer's new order without opening anything) and,
where the workspace's ``settings.yaml`` names webhooks, posts one short JSON message
per run to each (Slack, Microsoft Teams and ntfy take it).

A webhook never fails the run and never holds it up for more than its timeout: the
posts run on their own threads, each retried until the timeout is spent, and the run
waits for them at most that long. A message says the order number, the tags and the
customer's name, nothing else, unless a webhook's ``details: full`` asks for the email
too.

``settings.yaml`` (in the workspace folder, read with a safe loader)::

    webhooks:
      - https://hooks.slack.com/services/T000/B000/XXXX      # Slack or Teams
      - url: https://ntfy.sh/my-shop-alerts                  # ntfy: topic in the URL
        format: ntfy
        details: full                                        # also the email
    webhook_timeout: 5   # seconds, for all posts of a run together (default 5)
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ordertags.customers.history import History
from ordertags.customers.workspace import Workspace, workspace_history
from ordertags.engine.pipeline import Annotated
from ordertags.errors import WorkspaceError

SETTINGS_FILE = "settings.yaml"
DEFAULT_TIMEOUT_S = 5.0
FORMATS = ("slack", "teams", "ntfy", "json")


@dataclass(frozen=True)
class Alert:
    """One order of the run with alert tags: its number, the tags (highest first), the
    customer's name and email as the order gives them ("" where it does not)."""

    order: str
    tags: tuple[str, ...]
    name: str = ""
    email: str = ""
    #: The order as the history keys it (its channel and number; "" where it has none).
    channel: str = ""
    number: str = ""

    def line(self) -> str:
        """The line ``apply`` prints: ``alert: order #1042 (Jane Doe): FRAUD``."""
        who = f" ({self.name})" if self.name else ""
        return f"alert: order {self.order}{who}: {', '.join(self.tags)}"


def watch_alerts(result: Annotated) -> list[Alert]:
    """The run's orders with a tag whose definition has ``alert: true``, each once
    (an order that two exports hold is one order), in the run's order.

    >>> watch_alerts(result)  # the example tag book has no alert: true
    []
    >>> Alert("#1042", ("FRAUD",), "Mo Brown").line()
    'alert: order #1042 (Mo Brown): FRAUD'
    """
    book = result.tagbook
    watched = [t for t in book.rank(result.tag_masks) if book.tags[t].alert]
    if not watched:
        return []
    frame = result.frame
    hit = np.zeros(frame.n, dtype=bool)
    for t in watched:
        hit |= result.tag_masks[t]
    rows = np.flatnonzero(hit & frame.orders.starts)
    if not len(rows):
        return []
    take = pa.array(rows, pa.int64())

    def texts(name: str) -> list[str]:
        if not frame.has_field(name):
            return [""] * len(rows)
        values = pc.utf8_trim_whitespace(frame.text(field=name).take(take))
        return [str(v or "") for v in values.to_pylist()]

    orders, names, emails = texts("order_id"), texts("name"), texts("email")
    channels = [str(c or "") for c in frame.orders.channels.take(take).to_pylist()]
    numbers = [str(n or "") for n in frame.orders.numbers.take(take).to_pylist()]
    # One line per order, however many exports hold it (a channel's and an order hub's
    # copy are one order: the first met is shown).
    code = frame.orders.distinct[rows] if len(frame.tables) > 1 else rows
    out: list[Alert] = []
    seen: set[int] = set()
    for i, r in enumerate(rows.tolist()):
        if int(code[i]) in seen:
            continue
        seen.add(int(code[i]))
        key = orders[i] or f"row {r + 1}"
        tags = tuple(t for t in watched if result.tag_masks[t][r])
        out.append(Alert(key, tags, names[i], emails[i], channels[i], numbers[i]))
    return out


def new_alerts(result: Annotated, workspace: Workspace | None, *, remember: bool) -> list[Alert]:
    """:func:`watch_alerts` of the run less those the workspace's history has told
    already (:func:`untold_alerts`); with ``remember``, the rest are kept as told."""
    alerts = watch_alerts(result)
    if workspace is None or not alerts:
        return alerts
    with workspace_history(workspace) as history:
        return untold_alerts(alerts, history, remember=remember)


def untold_alerts(
    alerts: Sequence[Alert], history: History | None, *, remember: bool
) -> list[Alert]:
    """The alerts the workspace's history has not told yet, each with the tags not told
    for its order (an order told for FRAUD tells again when it gains
    CLAIMED-NON-RECEIPT, of that tag only); with ``remember``, those are kept as told,
    so that the next run (cron every few minutes, the order still open) says nothing
    of them. Without a history, every alert is new.

    >>> untold_alerts([Alert("#1042", ("FRAUD",))], None, remember=True)
    [Alert(order='#1042', tags=('FRAUD',), name='', email='', channel='', number='')]
    """
    if history is None or not alerts:
        return list(alerts)
    told = history.alerted([a.channel for a in alerts], [a.number for a in alerts])
    out: list[Alert] = []
    for i, alert in enumerate(alerts):
        tags = tuple(t for t in alert.tags if (i, t) not in told)
        if tags:
            out.append(replace(alert, tags=tags))
    if remember and out:
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        history.remember_alerted(
            [(a.channel, a.number, t) for a in out if a.number for t in a.tags], at
        )
    return out


@dataclass(frozen=True)
class Webhook:
    """Where to post: the URL, the body's shape (``slack``/``teams``: ``{"text": ...}``;
    ``ntfy``: ntfy's JSON publish to the server's root with the URL's topic; ``json``:
    the alerts as a list), and whether to add the customer's email (``full``)."""

    url: str
    format: str = "slack"
    full: bool = False


@dataclass(frozen=True)
class WebhookSettings:
    webhooks: tuple[Webhook, ...] = ()
    timeout: float = DEFAULT_TIMEOUT_S


def webhook_settings(folder: str | Path | None) -> WebhookSettings:
    """The webhooks a workspace's ``settings.yaml`` names (none without the file or
    the key). A key that is not as documented is a :class:`WorkspaceError`."""
    if folder is None:
        return WebhookSettings()
    path = Path(folder) / SETTINGS_FILE
    if not path.exists():
        return WebhookSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WorkspaceError(
            f"cannot read the settings: {exc}.".replace("\n", " "),
            file=str(path),
            hint="Fix the YAML, or move the file away.",
        ) from None
    if not isinstance(data, dict) or not data.get("webhooks"):
        return WebhookSettings()
    listed = data["webhooks"]
    hooks = []
    for i, item in enumerate(listed if isinstance(listed, list) else [listed]):
        raw = {"url": item} if isinstance(item, str) else item
        url = raw.get("url") if isinstance(raw, dict) else None
        fmt = str(raw.get("format", "slack")).lower() if isinstance(raw, dict) else ""
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise WorkspaceError(
                "a webhook is not an http(s) URL.",
                file=str(path),
                key=f"webhooks[{i}]",
                hint="Write each webhook as a URL, or as url: URL with format: slack, "
                "teams, ntfy or json.",
            )
        if fmt not in FORMATS:
            raise WorkspaceError(
                f'"{fmt}" is not a webhook format.',
                file=str(path),
                key=f"webhooks[{i}].format",
                hint=f"Use one of {', '.join(FORMATS)}.",
            )
        assert isinstance(raw, dict)
        hooks.append(Webhook(url, fmt, str(raw.get("details", "")).lower() == "full"))
    timeout = data.get("webhook_timeout", DEFAULT_TIMEOUT_S)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise WorkspaceError(
            "webhook_timeout is not a number of seconds.",
            file=str(path),
            key="webhook_timeout",
            hint="Write e.g. webhook_timeout: 5",
        )
    return WebhookSettings(tuple(hooks), float(timeout))


def message(alerts: Sequence[Alert], hook: Webhook) -> tuple[str, bytes]:
    """(URL to post to, JSON body) of one run's alerts for ``hook``."""
    first = alerts[:20]
    lines = [a.line().removeprefix("alert: ") for a in first]
    if hook.full:
        lines = [
            line + (f" <{a.email}>" if a.email else "")
            for line, a in zip(lines, first, strict=True)
        ]
    if len(alerts) > len(first):
        lines.append(f"... and {len(alerts) - len(first)} more")
    title = f"ordertags: {len(alerts)} watched order{'s' if len(alerts) != 1 else ''}"
    text = "\n".join([title, *lines])
    url = hook.url
    body: dict[str, Any]
    if hook.format == "ntfy":
        parts = urllib.parse.urlsplit(hook.url)
        topic = parts.path.strip("/")
        url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        body = {"topic": topic, "title": title, "message": "\n".join(lines), "tags": ["warning"]}
    elif hook.format == "json":
        body = {
            "title": title,
            "alerts": [
                {"order": a.order, "tags": list(a.tags), "name": a.name}
                | ({"email": a.email} if hook.full else {})
                for a in alerts
            ],
        }
    else:
        body = {"text": text}
    return url, json.dumps(body, ensure_ascii=False).encode("utf-8")


@dataclass
class Delivery:
    """What became of the posts: per webhook (its host, never the whole URL: it is a
    secret), delivered or why not."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or "webhook"


def post_alerts(
    alerts: Sequence[Alert], settings: WebhookSettings, *, retry_wait: float = 0.5
) -> Delivery:
    """Post ``alerts`` to every webhook of ``settings``, on threads, each retried (after
    ``retry_wait`` seconds, doubling) until it is delivered or the timeout is spent;
    returns within the timeout, whatever the servers do. Nothing to post, no post.

    >>> post_alerts([Alert("#1042", ("FRAUD",), "Mo Brown")], webhook_settings("shop"))
    Delivery(sent=[], failed=[])
    """
    done = Delivery()
    if not alerts or not settings.webhooks:
        return done
    deadline = time.monotonic() + settings.timeout
    lock = threading.Lock()

    def send(hook: Webhook) -> None:
        url, body = message(alerts, hook)
        wait, why = retry_wait, "timed out"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "ordertags"},
            )
            try:
                with urllib.request.urlopen(request, timeout=left) as response:
                    response.read(1024)
                with lock:
                    done.sent.append(_host(hook.url))
                return
            except urllib.error.HTTPError as exc:
                why = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break  # the server refuses this message: sending it again won't help
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                why = "timed out" if isinstance(reason, TimeoutError) else str(reason)
            pause = min(wait, deadline - time.monotonic())
            if pause <= 0:
                break
            time.sleep(pause)
            wait *= 2
        with lock:
            done.failed.append((_host(hook.url), why))

    threads = [threading.Thread(target=send, args=(h,), daemon=True) for h in settings.webhooks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 0.05)
    with lock:
        late = {h for h, _ in done.failed} | set(done.sent)
        for hook in settings.webhooks:
            if _host(hook.url) not in late:
                done.failed.append((_host(hook.url), "timed out"))
        return Delivery(list(done.sent), list(done.failed))
