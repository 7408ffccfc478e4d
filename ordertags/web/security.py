"""The team screen's one security layer: every request passes through :class:`Guard`.

In this one place, and in no route: the Host header is checked (a page on another site
cannot reach the screen through a DNS name rebound to this machine), the session is
read from its signed cookie and expired, the log-in is required where the workspace has
accounts, every form that changes anything must carry the session's CSRF token, the
role each route needs (:data:`ROUTE_ROLES`) is enforced, a refusal is written to the
audit log, and every response gets the security headers (:data:`HEADERS`).

Sessions live in the server's memory (a restart logs everyone out); the cookie holds
only a random id, signed, HttpOnly, SameSite=Strict, Secure over TLS.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote

from itsdangerous import BadSignature, Signer

from ordertags.customers.accounts import ROLES, role_rank

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "ordertags_session"
#: A session ends after this long without a request, or this long after log-in.
IDLE_S = 4 * 3600
ABSOLUTE_S = 12 * 3600
#: Failed log-ins (per name, and per address) before a pause, and the pause.
MAX_FAILURES = 5
LOCKOUT_S = 15 * 60
MAX_BODY = 64 * 1024  # a form of the screen is a few hundred bytes
MAX_SESSIONS = 10_000

#: What each changing route needs; a GET of any page needs a viewer. A route missing
#: here cannot be posted to (refused): a new form must be given its role.
ROUTE_ROLES: dict[str, str] = {
    "/login": "",  # anyone (with the log-in form's CSRF token)
    "/logout": "viewer",
    "/customer/note": "packer",
    "/customer/tag": "manager",
    "/customer/entry": "manager",
    "/customer/untag": "manager",
    "/customer/link": "manager",
    "/customer/suppress": "manager",
    "/lists/download": "manager",
    "/users/add": "admin",
    "/users/remove": "admin",
}
#: Pages whose GET needs more than a viewer.
PAGE_ROLES: dict[str, str] = {"/lists": "manager", "/users": "admin"}
#: Reachable without logging in.
PUBLIC = ("/login", "/static/", "/healthz", "/tags.css")  # tags.css: colours by index only

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


@dataclass
class Session:
    id: str
    csrf: str
    created: float
    seen: float
    user: str = ""  # "" before log-in
    role: str = ""


@dataclass
class Throttle:
    """Failed log-ins per name and per address: after :data:`MAX_FAILURES` within
    :data:`LOCKOUT_S`, further attempts are refused until the window passes. An unknown
    name is counted like a known one, so the pause tells nothing about which exist."""

    clock: Callable[[], float] = time.monotonic
    failures: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self.failures.get(key, []) if now - t < LOCKOUT_S]
        if kept:
            self.failures[key] = kept
        else:
            self.failures.pop(key, None)
        return kept

    def locked(self, name: str, address: str) -> bool:
        now = self.clock()
        with self.lock:
            return any(
                len(self._recent(k, now)) >= MAX_FAILURES for k in (f"n:{name}", f"a:{address}")
            )

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self.lock:
            for k in (f"n:{name}", f"a:{address}"):
                self.failures.setdefault(k, []).append(now)
            if len(self.failures) > MAX_SESSIONS:  # bounded: the oldest go
                for k in list(self.failures)[: len(self.failures) // 2]:
                    del self.failures[k]

    def succeeded(self, name: str) -> None:
        with self.lock:
            self.failures.pop(f"n:{name}", None)


class Sessions:
    """The server's sessions, by id."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.by_id: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.signer = Signer(secrets.token_bytes(32), salt="ordertags-session")

    def new(self, user: str = "", role: str = "") -> Session:
        now = self.clock()
        s = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, user, role)
        with self.lock:
            if len(self.by_id) >= MAX_SESSIONS:
                for k in sorted(self.by_id, key=lambda k: self.by_id[k].seen)[: MAX_SESSIONS // 10]:
                    del self.by_id[k]
            self.by_id[s.id] = s
        return s

    def get(self, cookie_value: str | None) -> Session | None:
        if not cookie_value:
            return None
        try:
            sid = self.signer.unsign(cookie_value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        now = self.clock()
        with self.lock:
            s = self.by_id.get(sid)
            if s is None:
                return None
            if now - s.seen > IDLE_S or now - s.created > ABSOLUTE_S:
                del self.by_id[sid]
                return None
            s.seen = now
            return s

    def drop(self, session: Session) -> None:
        with self.lock:
            self.by_id.pop(session.id, None)

    def drop_user(self, user: str) -> None:
        with self.lock:
            for k in [k for k, s in self.by_id.items() if s.user == user]:
                del self.by_id[k]

    def cookie(self, session: Session | None, *, secure: bool) -> bytes:
        """The Set-Cookie header for ``session`` (None: clear it)."""
        value = self.signer.sign(session.id).decode("ascii") if session else ""
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if session is None:
            parts.append("Max-Age=0")
        if secure:
            parts.append("Secure")
        return "; ".join(parts).encode("ascii")


def safe_next(target: str | None) -> str:
    """Where to go after log-in: a path of this site only (no open redirect through
    ``next=``: ``//evil.example``, ``https://...``, ``/\\evil`` all give ``/``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\\\r\n\t\x00") or ":" in target.split("?", 1)[0]:
        return "/"
    return target


def allowed_host(host: str, bound: str) -> bool:
    """Whether a request's Host header names this server: an IP address literal (a
    rebound DNS name never is one), ``localhost``, this machine's own names, or the
    name it was bound to."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8650
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    own = {"localhost", bound.lower(), socket.gethostname().lower()}
    own |= {n + ".local" for n in list(own)}
    return name in own or name.endswith(".localhost")


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", []):
        if k == name:
            return bytes(v).decode("latin-1")
    return ""


class Guard:
    """The ASGI middleware around the whole screen (see the module's text).

    ``accounts`` says whether the workspace has accounts now (without, everyone is a
    read-only viewer); ``role_of`` gives an account's current role (None once removed);
    ``refused`` writes a refusal to the audit log; ``page`` renders an error page.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        bound: str,
        sessions: Sessions,
        accounts: Callable[[], bool],
        role_of: Callable[[str], str | None],
        refused: Callable[[Session | None, str, str, str], None],
        page: Callable[[int, str, Session | None], bytes],
    ) -> None:
        self.app = app
        self.bound = bound
        self.sessions = sessions
        self.accounts = accounts
        self.role_of = role_of
        self.refused = refused
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"
        address = (scope.get("client") or ("?", 0))[0]
        path: str = scope.get("path", "/")
        method: str = scope.get("method", "GET")
        cookie_session: Session | None = None
        new_cookie: list[bytes] = []

        async def send_headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in HEADERS}
                ]
                headers += HEADERS
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                state = scope.get("ordertags.cookie")
                if state is not None:  # the route changed the session (log-in, log-out)
                    headers.append(
                        (b"set-cookie", self.sessions.cookie(state or None, secure=secure))
                    )
                headers += [(b"set-cookie", c) for c in new_cookie]
                message["headers"] = headers
            await send(message)

        async def refuse(status: int, text: str, why: str) -> None:
            if why:
                self.refused(cookie_session, address, f"{method} {path}", why)
            body = self.page(status, text, cookie_session)
            await send_headed(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")],
                }
            )
            await send_headed({"type": "http.response.body", "body": body})

        async def redirect(location: str) -> None:
            await send_headed(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode())],
                }
            )
            await send_headed({"type": "http.response.body", "body": b""})

        if not allowed_host(_header(scope, b"host"), self.bound):
            await refuse(400, "This address is not the team screen's (Host header refused).", "")
            return
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie"))
        except Exception:  # a malformed Cookie header is no cookie
            cookie = SimpleCookie()
        morsel = cookie.get(COOKIE)
        cookie_session = self.sessions.get(morsel.value if morsel else None)
        with_accounts = self.accounts()
        if cookie_session is not None and cookie_session.user:
            role = self.role_of(cookie_session.user) if with_accounts else None
            if role is None:  # the account was removed: its sessions end
                self.sessions.drop_user(cookie_session.user)
                cookie_session = None
            else:
                cookie_session.role = role
        if cookie_session is None and (method == "GET" and path == "/login" or not with_accounts):
            # A session for the log-in form's CSRF token (or the read-only local screen).
            cookie_session = self.sessions.new()
            new_cookie.append(self.sessions.cookie(cookie_session, secure=secure))
        user = cookie_session.user if cookie_session else ""
        role = cookie_session.role if cookie_session and user else ""
        if not with_accounts:
            user, role = "", "viewer"
        public = path == "/login" or path.startswith(PUBLIC[1:])
        if with_accounts and not user and not public:
            if method == "GET":
                await redirect("/login?next=" + quote(safe_next(path + _query(scope)), safe=""))
            else:
                await refuse(401, "Log in first (your session may have expired).", "")
            return
        scope["ordertags.session"] = cookie_session
        scope["ordertags.user"] = user
        scope["ordertags.role"] = role
        scope["ordertags.address"] = address
        if method in ("GET", "HEAD"):
            need = PAGE_ROLES.get(path, "")
            if need and role_rank(role or "viewer") < role_rank(need):
                await refuse(403, f"This page needs the {need} role.", f"needs {need}")
                return
            await self.app(scope, receive, send_headed)
            return
        if method != "POST":
            await refuse(405, "This method is not used here.", "")
            return
        if not with_accounts:
            await refuse(
                403,
                "This screen is read-only: the workspace has no accounts yet. Add one "
                "with `ordertags users add NAME --role manager`.",
                "read-only screen",
            )
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await refuse(413, "The form is too large.", "")
                return
        kind = _header(scope, b"content-type").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            await refuse(415, "Send the form as the page does.", "")
            return
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50))
        except (UnicodeDecodeError, ValueError):
            await refuse(400, "The form could not be read.", "")
            return
        token = form.get("csrf", "")
        if cookie_session is None or not hmac.compare_digest(
            token.encode("utf-8", "replace"), cookie_session.csrf.encode()
        ):
            await refuse(
                403,
                "The form's security token is missing or out of date: reload the page and "
                "try again.",
                "CSRF token missing or wrong",
            )
            return
        wanted = ROUTE_ROLES.get(path)
        if wanted is None or (wanted and (not role or role_rank(role) < role_rank(wanted))):
            await refuse(
                403,
                f"Your role ({role or 'none'}) may not do this"
                + (f": it needs {wanted}." if wanted else "."),
                f"needs {wanted or 'a known form'}",
            )
            return
        scope["ordertags.form"] = form
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send_headed)


def _query(scope: Scope) -> str:
    q = scope.get("query_string", b"")
    return ("?" + q.decode("latin-1")) if q else ""


def rank_at_least(role: str, need: str) -> bool:
    """Whether ``role`` may do what ``need`` may (for templates to hide what is refused)."""
    return bool(role) and role in ROLES and role_rank(role) >= role_rank(need)
