"""Issue 23, "the team screen": the promises the route tests do not already pin down,
through the in-process client."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordertags.customers.accounts as accounts
from ordertags.customers.accounts import audit_entries
from ordertags.customers.workspace import Workspace
from ordertags.web.security import ABSOLUTE_S, CSP

from .serve_shop import (
    PASSWORDS,
    client,
    csrf_of,
    log_in,
    screen_app,
    shop,  # noqa: F401
    template_shop,  # noqa: F401
)


def _audit(ws: Path) -> list[tuple[str, str, str | None]]:
    with Workspace(ws).open_history() as h:
        return [(e.who, e.action, e.detail) for e in audit_entries(h)]


def test_a_wrong_name_costs_the_same_argon2_work_as_a_wrong_password(
    shop: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verified: list[str] = []
    hasher = accounts._HASHER
    real = hasher.verify

    def verify(stored: str, password: str) -> bool:
        verified.append(stored.rsplit("$", 2)[0])  # $argon2id$v=19$m=...,t=...,p=...
        return real(stored, password)

    class Spy:
        def __getattr__(self, name: str) -> object:
            return getattr(hasher, name)

        def verify(self, stored: str, password: str) -> bool:
            return verify(stored, password)

    monkeypatch.setattr(accounts, "_HASHER", Spy())
    c = client(shop)
    token = csrf_of(c.get("/login").text)
    c.post("/login", data={"csrf": token, "name": "vic", "password": "nope nope nope"})
    c.post("/login", data={"csrf": token, "name": "nobody", "password": "nope nope nope"})
    assert len(verified) == 2 and verified[0] == verified[1]  # one verify, same cost each


def test_a_session_ends_twelve_hours_after_log_in_however_busy(shop: Path) -> None:  # noqa: F811
    app = screen_app(shop)
    now = [1_000_000.0]
    app.sessions.clock = lambda: now[0]
    c = client(app)
    log_in(c, "vic")
    for _ in range(int(ABSOLUTE_S // 3600)):
        now[0] += 3600 - 1  # a request every hour: never idle
        assert c.get("/").status_code == 200
    now[0] += 3600
    assert c.get("/").status_code == 303  # back to the log-in


def test_a_viewers_forged_post_is_refused_and_audited(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "vic")
    r = c.post(
        "/customer/tag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
        },  # fmt: skip
    )
    assert r.status_code == 403
    assert ("vic", "refused", "POST /customer/tag: needs manager") in _audit(shop)
    assert "bob@example.org" not in (shop / "tagbook.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["/audit/delete", "/audit", "/customer/audit/remove"])
def test_no_form_erases_the_audit_log(shop: Path, path: str) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    before = _audit(shop)
    r = c.post(path, data={"csrf": token, "id": "1", "who": "max"})
    assert r.status_code == 403
    after = _audit(shop)
    assert after[: len(before)] == before  # nothing removed or changed
    assert after[-1] == ("max", "refused", f"POST {path}: needs a known form")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../history.sqlite",
        "/static/%2e%2e/history.sqlite",
        "/static/..%2fhistory.sqlite",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_static_files_reach_nothing_but_the_screens_own(shop: Path, path: str) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "ada")
    r = c.get(path)
    assert r.status_code in (400, 404)
    assert b"SQLite format" not in r.content and b"root:" not in r.content


def test_the_download_takes_no_path_from_the_request(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    for tag in ("../../history.sqlite", "/etc/passwd"):
        r = c.post("/lists/download", data={"csrf": token, "tag": tag, "preset": "mailchimp"})
        assert r.status_code == 400
        assert b"SQLite format" not in r.content and b"root:" not in r.content


@pytest.mark.parametrize(
    "host", ["127.0.0.1.nip.io:8650", "evil.example", "localhost.evil.example", "", "[::1"]
)
def test_a_rebound_name_is_refused(shop: Path, host: str) -> None:  # noqa: F811
    c = client(shop)
    r = c.get("/login", headers={"host": host})
    assert r.status_code == 400
    assert "set-cookie" not in r.headers  # no session for it


def test_the_headers_the_screen_sends(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    for path in ("/", "/login", "/static/screen.js", "/nope"):
        h = c.get(path).headers
        assert h["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
        assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"


def test_a_password_log_in_is_throttled_per_address_too(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = csrf_of(c.get("/login").text)
    for i in range(5):  # five different names from one address
        c.post("/login", data={"csrf": token, "name": f"guess{i}", "password": "wrong wrong"})
    r = c.post("/login", data={"csrf": token, "name": "vic", "password": PASSWORDS["vic"][1]})
    assert r.status_code == 429
