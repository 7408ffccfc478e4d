"""The team screen in-process (Starlette's test client): every route and role, allowed
and refused actions, CSRF, sessions, bad input, security headers, the Host check, open
redirects and escaping."""

from __future__ import annotations

import re
import sqlite3
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.accounts import audit_entries
from ordertags.customers.workspace import Workspace
from ordertags.tagbook import load_tagbook, tag_customer
from ordertags.web.security import CSP, IDLE_S, MAX_FAILURES, Sessions

from .serve_shop import (
    BASE,
    HOSTILE,
    PASSWORDS,
    build_shop,
    client,
    csrf_of,
    log_in,
    screen_app,
    shop,  # noqa: F401
    template_shop,  # noqa: F401
)

runner = CliRunner()


def audit(ws: Path) -> list[tuple[str, str, str | None]]:
    with Workspace(ws).open_history() as h:
        return [(e.who, e.action, e.detail) for e in audit_entries(h)]


def manual_tags(ws: Path, key: str) -> list[str]:
    book = load_tagbook(ws / "tagbook.yaml")
    return sorted(t for e in book.entries if e.key == key for t in e.tags)


def page_version(html: str) -> str:
    found = re.search(r'name="version" value="([^"]*)"', html)
    return found.group(1) if found else ""


# --- log-in, sessions --------------------------------------------------------------------


def test_pages_need_a_log_in_and_come_back_after_it(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    r = c.get("/customer?key=bob%40example.org")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcustomer%3Fkey%3Dbob%2540example.org"
    token = csrf_of(c.get(r.headers["location"]).text)
    r = c.post(
        "/login",
        data={
            "csrf": token,
            "name": "vic",
            "password": PASSWORDS["vic"][1],
            "next": "/customer?key=bob%40example.org",
        },
    )
    assert (r.status_code, r.headers["location"]) == (303, "/customer?key=bob%40example.org")
    assert c.get(r.headers["location"]).status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_next_cannot_lead_off_the_site(shop: Path, target: str) -> None:  # noqa: F811
    c = client(shop)
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login",
        data={"csrf": token, "name": "vic", "password": PASSWORDS["vic"][1], "next": target},
    )
    assert (r.status_code, r.headers["location"]) == (303, "/")


def test_a_wrong_name_and_a_wrong_password_read_the_same(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = csrf_of(c.get("/login").text)
    wrong_pw = c.post("/login", data={"csrf": token, "name": "vic", "password": "nope nope nope"})
    wrong_name = c.post(
        "/login", data={"csrf": token, "name": "nobody", "password": "nope nope nope"}
    )
    assert wrong_pw.status_code == wrong_name.status_code == 401
    msg = "That name and password do not match an account."
    assert msg in wrong_pw.text and msg in wrong_name.text
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", wrong_pw.text) == strip.sub("", wrong_name.text)


def test_repeated_failures_lock_the_name_out(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = csrf_of(c.get("/login").text)
    for _ in range(MAX_FAILURES):
        c.post("/login", data={"csrf": token, "name": "vic", "password": "wrong wrong"})
    r = c.post("/login", data={"csrf": token, "name": "vic", "password": PASSWORDS["vic"][1]})
    assert r.status_code == 429
    assert "Too many failed log-ins" in r.text


def test_log_in_renews_the_session_and_log_out_ends_it(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    c.get("/login")
    before = c.cookies.get("ordertags_session")
    log_in(c, "vic")
    after = c.cookies.get("ordertags_session")
    assert before and after and before != after
    r = c.get("/")
    cookie = c.cookies.get("ordertags_session")
    token = csrf_of(r.text)
    r = c.post("/logout", data={"csrf": token})
    assert r.status_code == 303
    assert "Max-Age=0" in r.headers["set-cookie"]
    # The old cookie is worth nothing now.
    c.cookies.set("ordertags_session", cookie or "")
    assert c.get("/").status_code == 303


def test_cookie_flags(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    r = c.get("/login")
    flags = r.headers["set-cookie"]
    assert "HttpOnly" in flags and "SameSite=Strict" in flags and "Path=/" in flags
    assert "Secure" not in flags  # plain http on the shop's PC
    tls = client(shop)
    tls.base_url = tls.base_url.copy_with(scheme="https")
    assert "Secure" in tls.get("/login").headers["set-cookie"]


def test_a_session_expires_when_idle(shop: Path) -> None:  # noqa: F811
    now = [1_000_000.0]
    screen = screen_app(shop)
    screen.sessions = Sessions(clock=lambda: now[0])
    screen.app.sessions = screen.sessions
    c = client(screen)
    log_in(c, "vic")
    assert c.get("/").status_code == 200
    now[0] += IDLE_S + 1
    assert c.get("/").status_code == 303


def test_a_forged_cookie_is_no_session(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    c.cookies.set("ordertags_session", "abc.def")
    assert c.get("/").status_code == 303


# --- security headers, Host, CSRF ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/static/screen.css", "/nowhere", "/tags.css"])
def test_security_headers_on_every_response(shop: Path, path: str) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    r = c.get(path)
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_no_page_has_inline_script(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "ada")
    for path in ["/", "/customers?q=bob", "/customer?key=evil%40example.org", "/lists", "/users"]:
        html = c.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert not re.search(r"<[a-z][^>]*\son[a-z]+=", html), path
        assert "style=" not in html, path


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1:8650", True),
        ("localhost:8650", True),
        ("[::1]:8650", True),
        ("192.168.1.20:8650", True),
        ("evil.example:8650", False),
        ("rebind.attacker.test", False),
        ("", False),
    ],
)
def test_host_header_is_checked(shop: Path, host: str, ok: bool) -> None:  # noqa: F811
    c = client(shop)
    r = c.get("/login", headers={"host": host})
    assert (r.status_code == 200) is ok
    if not ok:
        assert r.status_code == 400
        assert "Host header refused" in r.text


def test_csrf_missing_or_wrong_is_refused_and_audited(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "max")
    version = page_version(c.get("/customer?key=bob%40example.org").text)
    form = {
        "customer": "bob@example.org",
        "identity": "bob@example.org",
        "tag": "VIP",
        "version": version,
    }
    for token in (None, "wrong"):
        data = dict(form, **({"csrf": token} if token else {}))
        r = c.post("/customer/tag", data=data)
        assert r.status_code == 403
        assert "security token is missing or out of date" in r.text
    assert manual_tags(shop, "bob@example.org") == []
    refusals = [a for a in audit(shop) if a[1] == "refused"]
    assert (
        refusals[-2:] == [("max", "refused", "POST /customer/tag: CSRF token missing or wrong")] * 2
    )


def test_a_form_from_another_session_is_refused(shop: Path) -> None:  # noqa: F811
    a, b = client(shop), client(shop)
    token_a = log_in(a, "max")
    log_in(b, "max")
    r = b.post(
        "/customer/tag",
        data={
            "csrf": token_a,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
        },
    )
    assert r.status_code == 403


def test_only_forms_are_taken(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    r = c.post("/customer/tag", json={"csrf": token, "tag": "VIP"})
    assert r.status_code == 415
    r = c.post("/customer/tag", data={"csrf": token, "note": "x" * 70_000})
    assert r.status_code == 413
    assert c.put("/customer/tag").status_code == 405


# --- roles -----------------------------------------------------------------------------

ACTIONS = {
    # path: (the role it needs, the customer, the form beyond csrf/version)
    "/customer/note": (
        "packer",
        "evil@example.org",
        {"identity": "evil@example.org", "tags": "EVIL", "note": "Checked"},
    ),
    "/customer/tag": (
        "manager",
        "evil@example.org",
        {"identity": "evil@example.org", "tag": "VIP"},
    ),
    "/customer/untag": (
        "manager",
        "evil@example.org",
        {"identity": "evil@example.org", "tag": "EVIL"},
    ),
    "/customer/link": (
        "manager",
        "bob@example.org",
        {"a": "bob@example.org", "b": "rob@example.org", "same": "0"},
    ),
    "/customer/suppress": (
        "manager",
        "evil@example.org",
        {"email": "evil@example.org", "reason": "asked"},
    ),
}
RANK = ["viewer", "packer", "manager", "admin"]


@pytest.mark.parametrize("user", ["vic", "pat", "max", "ada"])
@pytest.mark.parametrize("path", list(ACTIONS))
def test_each_action_by_each_role(shop: Path, user: str, path: str) -> None:  # noqa: F811
    need, customer, fields = ACTIONS[path]
    role = PASSWORDS[user][0]
    c = client(shop)
    token = log_in(c, user)
    page = c.get("/customer", params={"key": customer})
    assert page.status_code == 200
    before = (shop / "tagbook.yaml").read_bytes()
    data = {"csrf": token, "customer": customer, "version": page_version(page.text), **fields}
    r = c.post(path, data=data)
    allowed = RANK.index(role) >= RANK.index(need)
    if allowed:
        assert r.status_code == 303, r.text
        assert (shop / "tagbook.yaml").read_bytes() != before
        assert audit(shop)[-1][:2] == (
            user,
            path.rsplit("/", 1)[1].replace("link", "mark different"),
        )
        done = c.get(r.headers["location"])
        assert "role" not in done.text or done.status_code == 200
    else:
        assert r.status_code == 403
        assert f"it needs {need}" in r.text
        assert (shop / "tagbook.yaml").read_bytes() == before
        assert audit(shop)[-1] == (user, "refused", f"POST {path}: needs {need}")
    # Forms a role may not use are not shown to it.
    shows = f'action="{path}"' in page.text
    assert shows is allowed


def test_pages_by_role(shop: Path) -> None:  # noqa: F811
    for user, lists, users in [
        ("vic", 403, 403),
        ("pat", 403, 403),
        ("max", 200, 403),
        ("ada", 200, 200),
    ]:
        c = client(shop)
        log_in(c, user)
        assert c.get("/lists").status_code == lists
        assert c.get("/users").status_code == users
        assert c.get("/").status_code == 200


def test_tagging_records_by_and_shows_on_orders(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    page = c.get("/customer?key=bob%40example.org")
    r = c.post(
        "/customer/tag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "vip",
            "note": "Wholesale",
            "expires": "2099-01-01",
            "version": page_version(page.text),
        },
    )
    assert r.status_code == 303
    book = load_tagbook(shop / "tagbook.yaml")
    entry = [e for e in book.entries if e.key == "bob@example.org"][0]
    assert (entry.tags, entry.note, entry.by, str(entry.expires)) == (
        ("VIP",),
        "Wholesale",
        "max",
        "2099-01-01",
    )
    # `ordertags tags` sees it at once.
    out = runner.invoke(app, ["tags", "-t", str(shop / "tagbook.yaml")])
    assert "bob@example.org" in out.stdout
    # The orders page gives Bob's row the VIP colour class.
    html = c.get("/").text
    vip = list(load_tagbook(shop / "tagbook.yaml").rank(book.tags)).index("VIP")
    row = re.search(r'<tr class="([^"]*)" data-tags="VIP">\s*<td>103', html)
    assert row and row.group(1) == f"row-{vip}"
    who = audit(shop)[-1]
    assert who == ("max", "tag", "VIP on bob@example.org (expires 2099-01-01)")
    with Workspace(shop).open_history() as h:
        last = audit_entries(h)[-1]
    assert (last.before, last.after, last.address) == (
        "",
        "bob@example.org: VIP (Wholesale) until 2099-01-01",
        "testclient",
    )


def test_a_conflicting_edit_is_refused(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    version = page_version(c.get("/customer?key=bob%40example.org").text)
    # Meanwhile, someone tags Bob from the command line.
    tag_customer(shop / "tagbook.yaml", "bob@example.org", ["REGULAR"], by="cron")
    r = c.post(
        "/customer/untag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "REGULAR",
            "version": version,
        },
    )
    assert r.status_code == 409
    assert "someone changed this customer's tags" in unescape(r.text)
    assert manual_tags(shop, "bob@example.org") == ["REGULAR"]
    assert audit(shop)[-1][1] == "untag refused"


def test_an_edit_of_another_customer_is_no_conflict(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    version = page_version(c.get("/customer?key=bob%40example.org").text)
    tag_customer(shop / "tagbook.yaml", "rob@example.org", ["REGULAR"], by="cron")
    r = c.post(
        "/customer/tag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
            "version": version,
        },
    )
    assert r.status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tag": "NOPE"}, 'tag "NOPE" is not in the tag book'),
        ({"tag": "VIP", "expires": "2020-01-01"}, "--expires 2020-01-01 is in the past"),
        ({"tag": "VIP", "expires": "tomorrow"}, "tomorrow"),
        ({"tag": "VIP", "identity": "rob@example.org"}, "is not an identity of this customer"),
    ],
)
def test_bad_input_gives_a_page_with_the_message(
    shop: Path,  # noqa: F811
    fields: dict[str, str],
    message: str,
) -> None:
    c = client(shop)
    token = log_in(c, "max")
    data = {"csrf": token, "customer": "bob@example.org", "identity": "bob@example.org", **fields}
    r = c.post("/customer/tag", data=data)
    assert r.status_code == 400
    assert message in unescape(r.text)
    assert "Traceback" not in r.text
    assert manual_tags(shop, "bob@example.org") == []


def test_unknown_customer_and_page(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    r = c.get("/customer?key=nobody%40example.org")
    assert r.status_code == 400
    assert 'no customer "nobody@example.org" in the history' in unescape(r.text)
    assert c.get("/customer").status_code == 400
    assert c.get("/nowhere").status_code == 404


# --- finding, escaping, lists ----------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "+44 7700 900456",
        "07700900456",
        "(07700) 900-456",
        "JANE.DOE@gmail.com",
        "shopify:101",
        "#101",
        "1",
    ],
)
def test_find_a_customer_any_way(shop: Path, query: str) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    r = c.get("/customers", params={"q": query})
    if query == "shopify:101":  # not a buyer id of anyone: a search that finds nobody
        assert r.status_code == 200
        return
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/customer?key=janedoe%40gmail.com"


def test_find_by_name_lists_matches(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    r = c.get("/customers", params={"q": "marsh"})
    assert r.status_code == 200
    assert "rob@example.org" in r.text and "bob@example.org" not in r.text


def test_customer_page_shows_everything(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    html = c.get("/customer?key=janedoe%40gmail.com").text
    assert "3 orders" in html  # two past, one today
    assert "1,075.00" in html  # 700 + 350 + 25
    assert "BIG_SPENDER" in html and "+447700900456" in html
    bob = c.get("/customer?key=bob%40example.org").text
    assert "rob@example.org" in bob  # a suspect: the same phone


def test_hostile_values_are_escaped(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "max")
    for path in ["/", "/customer?key=evil%40example.org", "/customers?q=" + "%3Cscript"]:
        html = c.get(path).text
        assert HOSTILE not in html
        assert "<img src=x" not in html
    html = c.get("/customer?key=evil%40example.org").text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    r = c.get("/?q=%22%3E%3Cscript%3Ex%3C/script%3E&tag=%22%3E%3Cb%3E")
    assert "<script>x" not in r.text and '"><b>' not in r.text


def test_tag_colours_are_a_stylesheet_of_hex_colours(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    css = c.get("/tags.css")
    assert css.headers["content-type"].startswith("text/css")
    for line in css.text.splitlines():
        assert re.fullmatch(r"[a-z.\-0-9 :{}]+\{[a-z\-:#0-9;, ]+\}", line), line


def test_download_a_mailchimp_list(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    r = c.post("/lists/download", data={"csrf": token, "tag": "BIG_SPENDER", "preset": "mailchimp"})
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith(
        'attachment; filename="big_spender-mailchimp-'
    )
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Email Address")
    assert [line.split(",")[0] for line in lines[1:]] == ["jane.doe@gmail.com"]
    assert audit(shop)[-1][:2] == ("max", "download list")
    bad = c.post(
        "/lists/download", data={"csrf": token, "tag": "BIG_SPENDER", "preset": "../../etc/passwd"}
    )
    assert bad.status_code == 400 and "is not a list preset" in bad.text


def test_the_audit_log_is_append_only(shop: Path) -> None:  # noqa: F811
    conn = sqlite3.connect(shop / "history.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET who = 'x'")


def test_admin_adds_and_removes_an_account(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "ada")
    r = c.post(
        "/users/add",
        data={"csrf": token, "name": "new", "role": "viewer", "password": "new long password"},
    )
    assert r.status_code == 303
    vic = client(shop)
    log_in(vic, "vic")
    r = c.post("/users/remove", data={"csrf": token, "name": "vic"})
    assert r.status_code == 303
    assert vic.get("/").status_code == 303  # the removed account's session ended
    assert c.post("/users/remove", data={"csrf": token, "name": "ada"}).status_code == 400


# --- the tag book broken, no accounts, the command ------------------------------------


def test_a_broken_tag_book_is_shown_and_edits_refused(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    book = shop / "tagbook.yaml"
    book.write_text(book.read_text(encoding="utf-8") + "\n  bad: [\n", encoding="utf-8")
    html = c.get("/customer?key=bob%40example.org").text
    assert "The tag book cannot be read" in html and "tagbook.yaml" in html and "line" in html
    assert 'action="/customer/tag"' not in html
    r = c.post(
        "/customer/tag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
        },
    )
    assert r.status_code == 400 and "tagbook.yaml" in r.text
    assert c.get("/").status_code == 200  # still serving


def test_an_unreadable_export_is_reported_and_the_rest_shown(shop: Path, tmp_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    from ordertags.web import create_app

    screen = create_app(Workspace(shop), exports=[str(bad)])
    c = client(screen)
    log_in(c, "vic")
    html = c.get("/").text
    assert "bad.csv" in html and "101" in html


def test_without_accounts_the_screen_is_read_only(tmp_path: Path) -> None:
    ws = build_shop(tmp_path, accounts=False)
    c = client(ws)
    r = c.get("/")
    assert r.status_code == 200 and "read-only" in r.text
    page = c.get("/customer?key=bob%40example.org")
    assert 'action="/customer/tag"' not in page.text
    r = c.post(
        "/customer/tag",
        data={
            "csrf": "any",
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
        },
    )
    assert r.status_code == 403 and "ordertags users add NAME --role manager" in r.text


def test_serve_refuses_a_network_host_without_accounts(tmp_path: Path) -> None:
    ws = tmp_path / "w"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    r = runner.invoke(app, ["serve", "--host", "0.0.0.0", "-w", str(ws)])
    assert r.exit_code == 2
    assert "ordertags users add NAME --role manager" in r.stderr


def test_users_commands(tmp_path: Path) -> None:
    ws = tmp_path / "w"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    r = runner.invoke(
        app, ["users", "add", "sam", "--role", "manager", "-w", str(ws)], input="a long password\n"
    )
    assert r.exit_code == 0 and r.stderr == "added sam (manager)\n"
    r = runner.invoke(app, ["users", "add", "sam", "-w", str(ws)], input="a long password\n")
    assert r.exit_code == 1 and 'there is already an account "sam"' in r.stderr
    r = runner.invoke(app, ["users", "add", "bo", "-w", str(ws)], input="short\n")
    assert r.exit_code == 1 and "too short" in r.stderr
    r = runner.invoke(app, ["users", "add", "bo", "--role", "boss", "-w", str(ws)], input="x\n")
    assert r.exit_code == 2
    r = runner.invoke(app, ["users", "list", "-w", str(ws)])
    assert "sam" in r.stdout and "manager" in r.stdout
    r = runner.invoke(
        app,
        ["users", "passwd", "sam", "--role", "viewer", "-w", str(ws)],
        input="another long one\n",
    )
    assert r.exit_code == 0
    r = runner.invoke(app, ["users", "remove", "sam", "-w", str(ws)])
    assert r.exit_code == 0
    r = runner.invoke(app, ["audit", "-w", str(ws)])
    assert [line.split()[5:7] for line in r.stdout.splitlines()[2:]] == [
        ["add", "user"],
        ["change", "password"],
        ["remove", "user"],
    ]
    mode = (ws / "history.sqlite").stat().st_mode & 0o777
    assert mode == 0o600
    with sqlite3.connect(ws / "history.sqlite") as conn:
        hashes = [r[0] for r in conn.execute("SELECT hash FROM users")]
    assert hashes == []


def test_audit_command_filters_by_customer_and_day(shop: Path) -> None:  # noqa: F811
    c = client(shop)
    token = log_in(c, "max")
    version = page_version(c.get("/customer?key=bob%40example.org").text)
    c.post(
        "/customer/tag",
        data={
            "csrf": token,
            "customer": "bob@example.org",
            "identity": "bob@example.org",
            "tag": "VIP",
            "version": version,
        },
    )
    r = runner.invoke(app, ["audit", "--customer", "BOB@example.org", "-w", str(shop)])
    assert r.exit_code == 0, r.stderr
    rows = r.stdout.splitlines()[2:]
    assert len(rows) == 1 and "max" in rows[0] and "VIP on bob@example.org" in rows[0]
    r = runner.invoke(app, ["audit", "--since", "2999-01-01", "-w", str(shop)])
    assert r.stdout == "" and r.stderr == "0 changes\n"
    assert runner.invoke(app, ["audit", "--since", "soon", "-w", str(shop)]).exit_code == 2


def test_changes_token_moves_with_an_apply(shop: Path, template_shop: Path) -> None:  # noqa: F811
    c = client(shop)
    log_in(c, "vic")
    first = c.get("/changes").json()["token"]
    assert c.get("/changes").json()["token"] == first
    out = shop.parent / "out2.csv"
    r = runner.invoke(
        app,
        [
            "apply",
            str(template_shop.parent / "today.csv"),
            "-o",
            str(out),
            "-w",
            str(shop),
            "--as-of",
            "2026-11-26",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert c.get("/changes").json()["token"] != first


def test_base_url_is_loopback() -> None:
    assert BASE.startswith("http://127.0.0.1")
