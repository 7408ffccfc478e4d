"""The team screen's pages: each route reads the request, makes one call of
:class:`ordertags.web.screen.Screen` and renders a template (Jinja2, autoescaped).
Security (Host check, sessions, CSRF, roles, headers) is :mod:`ordertags.web.security`,
around all of them."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ordertags.base.amounts import money
from ordertags.base.colours import colour_hex, contrast_text
from ordertags.customers.accounts import (
    ROLES,
    add_user,
    check_login,
    list_users,
    remove_user,
)
from ordertags.errors import EditConflictError, OrderTagsError
from ordertags.reports.lists import PRESET_NAMES
from ordertags.web.screen import Actor, Screen, Today, order_matches
from ordertags.web.security import Guard, Session, Sessions, Throttle, rank_at_least, safe_next

log = logging.getLogger("ordertags.web")

#: Added to every failed log-in (on top of Argon2's own work), so that guessing is slow.
FAIL_DELAY_S = 0.5
ROWS_KEPT = 32  # the pages of today's orders whose rows are kept (some 80 KB each)
#: Orders on one page of today's orders ("All" shows every one, to print).
PAGE_ROWS = 200


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("ordertags.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.globals["may"] = rank_at_least
    return env


def _page_number(text: str, pages: int) -> int:
    """The page asked for in ``?page=``, within 1..pages (anything else: the first)."""
    ok = text.isascii() and text.isdigit() and 0 < len(text) < 7 and int(text) > 0
    return min(int(text), pages) if ok else 1


class ScreenApp:
    """The application: a :class:`Screen`, its sessions, and the routes."""

    def __init__(
        self,
        screen: Screen,
        *,
        bound: str = "127.0.0.1",
        sessions: Sessions | None = None,
        throttle: Throttle | None = None,
        fail_delay: float = FAIL_DELAY_S,
    ) -> None:
        self.screen = screen
        self.sessions = sessions or Sessions()
        self.throttle = throttle or Throttle()
        self.fail_delay = fail_delay
        self.env = _env()
        self._rows: OrderedDict[tuple[int, str, str, tuple[int, int]], tuple[Today, Markup]] = (
            OrderedDict()
        )
        self._rows_lock = threading.Lock()
        static = resources.files("ordertags.web") / "static"
        routes = [
            Route("/", self.orders),
            Route("/changes", self.changes),
            Route("/tags.css", self.tags_css),
            Route("/healthz", self.healthz),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/customers", self.customers),
            Route("/customer", self.customer),
            Route("/customer/tag", self.tag, methods=["POST"]),
            Route("/customer/untag", self.untag, methods=["POST"]),
            Route("/customer/note", self.note, methods=["POST"]),
            Route("/customer/entry", self.entry, methods=["POST"]),
            Route("/customer/link", self.link, methods=["POST"]),
            Route("/customer/suppress", self.suppress, methods=["POST"]),
            Route("/lists", self.lists),
            Route("/lists/download", self.download, methods=["POST"]),
            Route("/users", self.users),
            Route("/users/add", self.users_add, methods=["POST"]),
            Route("/users/remove", self.users_remove, methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ]
        handlers: dict[Any, Callable[..., Any]] = {
            HTTPException: self.http_error,
            OrderTagsError: self.crash,
            OSError: self.crash,
            Exception: self.crash,
        }
        self.starlette = Starlette(routes=routes, exception_handlers=handlers)
        self.app = Guard(
            self.starlette,
            bound=bound,
            sessions=self.sessions,
            accounts=screen.has_accounts,
            role_of=screen.role_of,
            refused=self.refused,
            page=self.error_bytes,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # --- rendering --------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(self.page(request.scope, name, **ctx), status_code=status)

    def page(self, scope: Any, name: str, **ctx: Any) -> str:
        session: Session | None = scope.get("ordertags.session")
        role = scope.get("ordertags.role", "")
        book, problem = self.screen.book()
        ctx.setdefault("book_problem", problem)
        return self.env.get_template(name).render(
            user=scope.get("ordertags.user", ""),
            role=role,
            csrf=session.csrf if session else "",
            accounts=self.screen.has_accounts(),
            **ctx,
        )

    def error_bytes(self, status: int, message: str, session: Session | None) -> bytes:
        text = self.env.get_template("error.html").render(
            user=session.user if session else "",
            role=session.role if session else "",
            csrf=session.csrf if session else "",
            accounts=True,
            status=status,
            message=message,
            book_problem="",
        )
        return text.encode("utf-8")

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.render(request, "error.html", status=status, message=message)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        text = {404: "There is no such page.", 405: "This method is not used here."}.get(
            exc.status_code, str(exc.detail)
        )
        return HTMLResponse(
            self.error_bytes(exc.status_code, text, request.scope.get("ordertags.session")),
            status_code=exc.status_code,
        )

    async def crash(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, OrderTagsError):
            status = 409 if isinstance(exc, EditConflictError) else 400
            message = str(exc)
        elif isinstance(exc, OSError):
            status, message = (
                500,
                (
                    f"the server could not use a file: {exc.strerror or exc}"
                    + (f" ({exc.filename})" if exc.filename else "")
                    + ". Nothing was changed; check the disk (space, permissions) and try again."
                ),
            )
        else:
            log.exception("the team screen failed on %s", request.url.path)
            status, message = 500, "Something went wrong on the server; nothing was changed."
        return HTMLResponse(
            self.error_bytes(status, message, request.scope.get("ordertags.session")),
            status_code=status,
        )

    def refused(self, session: Session | None, address: str, what: str, why: str) -> None:
        who = session.user if session and session.user else "(not logged in)"
        try:
            self.screen.audit(Actor(who, address), "refused", detail=f"{what}: {why}")
        except OrderTagsError:
            log.warning("could not audit a refusal of %s", what)

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def form(request: Request) -> dict[str, str]:
        form: dict[str, str] = request.scope.get("ordertags.form", {})
        return form

    @staticmethod
    def actor(request: Request) -> Actor:
        return Actor(request.scope["ordertags.user"], request.scope["ordertags.address"])

    @staticmethod
    def back(customer: str, said: str) -> RedirectResponse:
        return RedirectResponse(
            f"/customer?key={quote(customer, safe='')}&done={quote(said, safe='')}", 303
        )

    # --- pages ------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        return Response("ok", media_type="text/plain")

    def orders(self, request: Request) -> Response:
        today = self.screen.today()
        tag = request.query_params.get("tag", "")
        q = request.query_params.get("q", "")[:200]
        everything = request.query_params.get("all", "") == "1"
        view = today.view
        shown = []
        if view is not None:
            shown = [o for o in view.orders if (not tag or tag in o.tags) and order_matches(o, q)]
        pages = max(1, -(-len(shown) // PAGE_ROWS))
        number = 1 if everything else _page_number(request.query_params.get("page", ""), pages)
        first, last = (
            (0, len(shown))
            if everything
            else (
                (number - 1) * PAGE_ROWS,
                min(len(shown), number * PAGE_ROWS),
            )
        )
        index = {name: i for i, name in enumerate(view.tags)} if view else {}
        return self.render(
            request,
            "orders.html",
            today=today,
            view=view,
            shown=shown,
            rows=self.order_rows(today, tag, q, shown[first:last], index, (first, last)),
            tag=tag,
            q=q,
            index=index,
            paging_rows=PAGE_ROWS,
            paging={
                "page": number,
                "pages": 1 if everything else pages,
                "first": first,
                "last": last,
                "all": everything,
            },
            token=self.screen.change_token(),
            sources=[Path(s).name for s in today.sources],
        )

    def order_rows(
        self,
        today: Today,
        tag: str,
        q: str,
        shown: list[Any],
        index: dict[str, int],
        span: tuple[int, int],
    ) -> Markup:
        """The table rows of one page of today's orders for a filter: rendered once for
        each view (a new apply, a tag-book edit... makes a new one), filter and page, and
        kept for the next sessions (20 tablets refreshing at once would otherwise each
        render the same rows)."""
        key = (id(today), tag, q, span)
        with self._rows_lock:
            held = self._rows.get(key)
            if held is not None and held[0] is today:
                self._rows.move_to_end(key)
                return held[1]
        view = today.view
        html = Markup(
            self.env.get_template("order_rows.html").render(shown=shown, view=view, index=index)
        )
        with self._rows_lock:
            self._rows[key] = (today, html)
            while len(self._rows) > ROWS_KEPT:
                self._rows.popitem(last=False)
        return html

    def changes(self, request: Request) -> Response:
        return JSONResponse({"token": self.screen.change_token()})

    def tags_css(self, request: Request) -> Response:
        """The tags' colours as classes (no inline style: the CSP allows none). Colours
        come through the views' model as #rrggbb only, so a hostile colour is inert."""
        book, _ = self.screen.book()
        lines = []
        if book is not None:
            for i, name in enumerate(book.rank(book.tags)):
                t = book.tags[name]
                bg = colour_hex(t.colour)
                if bg:
                    lines.append(f".tag-{i}{{background:{bg};color:{contrast_text(t.colour)}}}")
                    lines.append(f"tr.row-{i} td:first-child{{border-left:8px solid {bg}}}")
                    lines.append(f"tr.row-{i}{{background:{bg}22}}")
        return Response("\n".join(lines) + "\n", media_type="text/css")

    def login_page(self, request: Request) -> Response:
        nxt = safe_next(request.query_params.get("next"))
        if not self.screen.has_accounts():
            return self.render(request, "login.html", next=nxt, no_accounts=True)
        return self.render(request, "login.html", next=nxt, no_accounts=False)

    async def login(self, request: Request) -> Response:
        form = self.form(request)
        name = form.get("name", "")[:100]
        password = form.get("password", "")
        nxt = safe_next(form.get("next"))
        address = request.scope["ordertags.address"]
        if not self.screen.has_accounts():
            return self.render(request, "login.html", 400, next=nxt, no_accounts=True)
        if self.throttle.locked(name, address):
            await asyncio.sleep(self.fail_delay)
            return self.render(
                request,
                "login.html",
                429,
                next=nxt,
                no_accounts=False,
                failed="Too many failed log-ins: wait 15 minutes and try again.",
            )
        user = await asyncio.to_thread(check_login, self.screen.ws, name, password)
        if user is None:
            self.throttle.failed(name, address)
            await asyncio.sleep(self.fail_delay)
            return self.render(
                request,
                "login.html",
                401,
                next=nxt,
                no_accounts=False,
                failed="That name and password do not match an account.",
            )
        self.throttle.succeeded(name)
        old: Session | None = request.scope.get("ordertags.session")
        if old is not None:
            self.sessions.drop(old)  # a new id at log-in (no session fixation)
        request.scope["ordertags.cookie"] = self.sessions.new(user.name, user.role)
        self.screen.audit(Actor(user.name, address), "log in")
        return RedirectResponse(nxt, 303)

    def logout(self, request: Request) -> Response:
        old: Session | None = request.scope.get("ordertags.session")
        if old is not None:
            self.sessions.drop(old)
        request.scope["ordertags.cookie"] = False
        return RedirectResponse("/login", 303)

    def customers(self, request: Request) -> Response:
        q = request.query_params.get("q", "")[:200]
        key, rows = self.screen.find(q) if q else (None, [])
        if key is not None:
            return RedirectResponse(f"/customer?key={quote(key, safe='')}", 303)
        return self.render(request, "customers.html", q=q, rows=rows)

    def customer(self, request: Request) -> Response:
        key = request.query_params.get("key", "")[:300]
        if not key.strip():
            return self.error(request, 400, "Say which customer (search for them first).")
        c = self.screen.customer(key)
        book, _ = self.screen.book()
        return self.render(
            request,
            "customer.html",
            c=c,
            key=c.report.row.key,
            done=request.query_params.get("done", "")[:300],
            tags=list(book.tags.values()) if book else [],
            index={n: i for i, n in enumerate(book.rank(book.tags))} if book else {},
        )

    def tag(self, request: Request) -> Response:
        f = self.form(request)
        customer = f.get("customer", "")
        change = self.screen.tag(
            self.actor(request),
            customer,
            f.get("identity", ""),
            f.get("tag", ""),
            note=f.get("note", ""),
            expires=f.get("expires", ""),
            version=f.get("version", ""),
        )
        said = (
            f"Tagged with {', '.join(change.added)}."
            if change.added
            else "Already tagged" + ("; note updated." if change.note_updated else ".")
        )
        return self.back(customer, said)

    def untag(self, request: Request) -> Response:
        f = self.form(request)
        customer = f.get("customer", "")
        change = self.screen.untag(
            self.actor(request),
            customer,
            f.get("identity", ""),
            f.get("tag", ""),
            f.get("version", ""),
        )
        said = f"Removed {', '.join(change.removed)}." if change.removed else "Nothing to remove."
        return self.back(customer, said)

    def note(self, request: Request) -> Response:
        f = self.form(request)
        customer = f.get("customer", "")
        self.screen.note(
            self.actor(request),
            customer,
            f.get("identity", ""),
            f.get("tags", ""),
            f.get("note", ""),
            f.get("version", ""),
        )
        return self.back(customer, "Note saved.")

    def entry(self, request: Request) -> Response:
        """A manager's change of an entry's note and expiry (the two fields as sent;
        an empty one removes it)."""
        f = self.form(request)
        customer = f.get("customer", "")
        change = self.screen.change(
            self.actor(request),
            customer,
            f.get("identity", ""),
            f.get("tag", ""),
            note=f.get("note", ""),
            expires=f.get("expires", ""),
            version=f.get("version", ""),
        )
        if not change.changed:
            return self.back(customer, "Nothing changed.")
        until = change.after.expires.isoformat() if change.after.expires else "no end date"
        return self.back(customer, f"{change.tag}: saved (until {until}).")

    def link(self, request: Request) -> Response:
        f = self.form(request)
        customer = f.get("customer", "")
        same = f.get("same", "") == "1"
        change = self.screen.link(
            self.actor(request),
            customer,
            f.get("a", ""),
            f.get("b", ""),
            same,
            f.get("note", ""),
            f.get("version", ""),
        )
        what = "the same person" if same else "different people"
        said = f"Recorded as {what}." if change.added else f"Already {what}."
        return self.back(customer, said)

    def suppress(self, request: Request) -> Response:
        f = self.form(request)
        customer = f.get("customer", "")
        remove = f.get("remove", "") == "1"
        self.screen.suppress(
            self.actor(request),
            customer,
            f.get("email", ""),
            f.get("reason", ""),
            remove,
            f.get("version", ""),
        )
        return self.back(customer, "No longer suppressed." if remove else "Kept off mailing lists.")

    def lists(self, request: Request) -> Response:
        book, _ = self.screen.book()
        return self.render(
            request,
            "lists.html",
            tags=list(book.tags.values()) if book else [],
            presets=PRESET_NAMES,
        )

    def download(self, request: Request) -> Response:
        f = self.form(request)
        name, data, _ = self.screen.mailing_list(
            self.actor(request), f.get("tag", ""), f.get("preset", "mailchimp")
        )
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{safe}"'},
        )

    def users(self, request: Request) -> Response:
        return self.render(request, "users.html", users=list_users(self.screen.ws), roles=ROLES)

    def users_add(self, request: Request) -> Response:
        f = self.form(request)
        actor = self.actor(request)
        add_user(
            self.screen.ws,
            f.get("name", ""),
            f.get("role", "viewer"),
            f.get("password", ""),
            by=f"{actor.name} ({actor.address})",
        )
        return RedirectResponse("/users", 303)

    def users_remove(self, request: Request) -> Response:
        f = self.form(request)
        actor = self.actor(request)
        name = f.get("name", "")
        if name == actor.name:
            return self.error(request, 400, "You cannot remove your own account here.")
        remove_user(self.screen.ws, name, by=f"{actor.name} ({actor.address})")
        self.sessions.drop_user(name)
        return RedirectResponse("/users", 303)
