"""What the team screen shows and does, through the same library calls as the command
line: the orders view of ``show``/``report``, the history's customer look-up and
report, the tag book's edits (same lock, same validation), ``export``'s lists.
The routes (:mod:`ordertags.web.app`) only render what these return.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordertags.api import OrdersView, export_list, view_files
from ordertags.base.keys import DEFAULT_REGION, identity_of
from ordertags.customers.accounts import (
    AuditEntry,
    append_audit,
    audit_entries,
    has_users,
    user_role,
)
from ordertags.customers.applied import applied_exports, last_applied
from ordertags.customers.history import History
from ordertags.customers.identity import Suspect
from ordertags.customers.queries import CustomerReport, CustomerRow
from ordertags.customers.workspace import Workspace
from ordertags.errors import EditConflictError, OrderTagsError, UsageError
from ordertags.reports.lists import PRESET_NAMES
from ordertags.reports.views import OrderView
from ordertags.tagbook import (
    EntryChange,
    TagBook,
    change_entry,
    customer_version,
    link_identities,
    load_tagbook,
    suppress_address,
    tag_customer,
    unlink_identities,
    untag_customer,
)

#: The page cache of each of the server's connections to the history, KiB.
HISTORY_CACHE_KIB = 8192


@dataclass
class Today:
    """Today's orders: the view (None when there is nothing to show), and what could
    not be read (one message per export)."""

    view: OrdersView | None
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class Customer:
    report: CustomerReport
    keys: list[str]  # the identity keys a tag-book entry can name them by
    version: str
    suspects: list[Suspect]
    audit: list[AuditEntry]


@dataclass(frozen=True)
class Actor:
    """Who acts from the screen, and from where (for ``by:`` and the audit log)."""

    name: str
    address: str


TAGGABLE_KINDS = ("email", "relay email", "buyer id", "phone")


class Screen:
    """One workspace, as the team screen sees it. Thread-safe: the routes run on a
    thread pool."""

    def __init__(
        self,
        ws: Workspace,
        *,
        exports: Sequence[str] = (),
        rules: str | os.PathLike[str] | None = None,
    ) -> None:
        self.ws = ws
        self.exports = [os.path.abspath(e) for e in exports]
        self.rules = Path(rules) if rules is not None else ws.rules
        self._today: tuple[str, Today] | None = None
        self._as_of: dt.date | None = None  # the latest apply's as-of date
        self._lock = threading.Lock()

    # --- reading ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _history(self) -> Iterator[History]:
        """The history, with a small page cache: a request reads a few pages (a search by
        name reads the whole orders table once, through the system's file cache), and
        the server keeps one connection per request thread; the command line's 256 MiB
        per connection would make the server's memory grow with its threads."""
        with self.ws.open_history() as history:
            history.conn.execute(f"PRAGMA cache_size = -{HISTORY_CACHE_KIB}")
            yield history

    @property
    def region(self) -> str:
        with self._history() as history:
            return history.region or DEFAULT_REGION

    def has_accounts(self) -> bool:
        return has_users(self.ws)

    def role_of(self, name: str) -> str | None:
        return user_role(self.ws, name)

    def book(self) -> tuple[TagBook | None, str]:
        """The tag book, or None and the message saying what is wrong with it (the
        screen shows it and refuses edits until it is fixed)."""
        try:
            return load_tagbook(self.ws.tagbook), ""
        except OrderTagsError as exc:
            return None, str(exc)

    def sources(self) -> list[str]:
        with self._history() as history:
            applied = [a.source for a in applied_exports(history)]
        return list(dict.fromkeys([*applied, *self.exports]))

    def change_token(self) -> str:
        """Changes when anything the orders page shows may have: a new apply, an edit
        of the tag book or the rules, an export rewritten. Cheap: a stat per file."""
        with self._history() as history:
            parts = [last_applied(history)]
            parts += [a.source for a in applied_exports(history)]
        for p in [str(self.ws.tagbook), str(self.rules), *parts[1:], *self.exports]:
            try:
                st = os.stat(p)
                parts.append(f"{p}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                parts.append(f"{p}:-")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def today(self) -> Today:
        """The orders of the latest apply of each export (and the exports given to
        ``serve``), as ``show`` and ``report`` see them; cached until something changes."""
        token = self.change_token()
        with self._lock:
            if self._today is not None and self._today[0] == token:
                return self._today[1]
            sources = self.sources()
            with self._history() as history:
                days = [a.as_of for a in applied_exports(history) if a.as_of]
            self._as_of = dt.date.fromisoformat(max(days)) if days else None
            result = self._view(sources)
            self._today = (token, result)
            return result

    def _view(self, sources: list[str]) -> Today:
        if not sources:
            return Today(None, [], [])
        rules = self.rules if self.rules.is_file() else None
        try:
            return Today(self._run(sources, rules), [], sources)
        except OrderTagsError as exc:
            whole = str(exc)
        except OSError as exc:
            whole = f"{exc.filename or ''}: {exc.strerror or exc}"
        # One export (or the tag book) is the problem: show what can be shown.
        problems: list[str] = []
        good: list[str] = []
        for s in sources:
            try:
                self._run([s], rules)
                good.append(s)
            except OrderTagsError as exc:
                problems.append(str(exc))
            except OSError as exc:
                problems.append(f"{s}: {exc.strerror or exc}")
        if not good:
            return Today(None, problems or [whole], sources)
        try:
            return Today(self._run(good, rules), problems, good)
        except (OrderTagsError, OSError) as exc:
            return Today(None, [*problems, str(exc)], sources)

    def _run(self, sources: list[str], rules: Path | None) -> OrdersView:
        return view_files(
            sources, tagbook=self.ws.tagbook, rules=rules, workspace=self.ws, as_of=self._as_of
        )

    def find(self, query: str) -> tuple[str | None, list[CustomerRow]]:
        """The customer a person means (their key), else those whose identities or
        names contain the text: by email, phone in any spelling, name, CHANNEL:ID or
        any order number (``ordertags customer`` and ``customers --search``)."""
        text = query.strip()
        if not text:
            return None, []
        book, _ = self.book()
        with self._history() as history:
            try:
                cid = history.find_customer(text)
            except OrderTagsError:
                cid = None
            if cid is not None:
                return str(history.fetch_keys([cid])[0]), []
            rows = history.list_customers(search=text, limit=50, tagbook=book)
        return None, rows

    def customer(self, key: str) -> Customer:
        book, problem = self.book()
        with self._history() as history:
            report = history.customer_report(key, tagbook=book, recent=500)
            keys = _keys_of(report)
            suspects = history.suspects_of(report.row.key, tagbook=book, limit=None)
            audit = audit_entries(history, customer=key, limit=200)
        version = customer_version(book, keys, self.region) if book else ""
        return Customer(report, keys, version, suspects, audit)

    def keys_of(self, key: str) -> list[str]:
        book, _ = self.book()
        with self._history() as history:
            return _keys_of(history.customer_report(key, tagbook=book, recent=0))

    def audit(self, actor: Actor, action: str, **what: str | None) -> None:
        with self._history() as history:
            append_audit(history, who=actor.name, address=actor.address, action=action, **what)

    # --- acting -----------------------------------------------------------------------

    def act(
        self,
        actor: Actor,
        action: str,
        customer: str,
        version: str,
        edit: Callable[[Callable[[TagBook], None]], Any],
        detail: str,
    ) -> Any:
        """Run ``edit`` (a tag-book edit, given the guard to pass it) for the customer
        page of ``customer`` shown at ``version``: refused if their entries changed
        meanwhile; audited with the entries before and after."""
        keys = self.keys_of(customer)
        region = self.region
        seen: dict[str, str] = {}

        def guard(book: TagBook) -> None:
            now = customer_version(book, keys, region)
            if version and now != version:
                raise EditConflictError(
                    "someone changed this customer's tags, notes or links after your page "
                    "was shown; nothing was changed.",
                    hint="Look at the page again (it shows the change) and try again.",
                )
            seen["before"] = _entries_text(book, keys, region)

        try:
            result = edit(guard)
        except OrderTagsError as exc:
            self.audit(
                actor,
                f"{action} refused",
                customer=_key(customer, region),
                detail=f"{detail}: {exc.message}",
            )
            raise
        book, _ = self.book()
        after = _entries_text(book, keys, region) if book else ""
        self.audit(
            actor,
            action,
            customer=_key(customer, region),
            before=seen.get("before", ""),
            after=after,
            detail=detail,
        )
        return result

    def tag(
        self,
        actor: Actor,
        customer: str,
        identity: str,
        tag: str,
        *,
        note: str,
        expires: str,
        version: str,
    ) -> Any:
        self._check_identity(customer, identity)
        book, _ = self.book()
        tag = (book.spelling(tag) if book else None) or tag
        return self.act(
            actor,
            "tag",
            customer,
            version,
            lambda guard: tag_customer(
                self.ws.tagbook,
                identity,
                [tag],
                note=note or None,
                by=actor.name,
                expires=expires or None,
                region=self.region,
                guard=guard,
            ),
            f"{tag} on {identity}" + (f" (expires {expires})" if expires else ""),
        )

    def untag(self, actor: Actor, customer: str, identity: str, tag: str, version: str) -> Any:
        self._check_identity(customer, identity)
        book, _ = self.book()
        tag = (book.spelling(tag) if book else None) or tag
        return self.act(
            actor,
            "untag",
            customer,
            version,
            lambda guard: untag_customer(
                self.ws.tagbook, identity, [tag], region=self.region, guard=guard
            ),
            f"{tag} from {identity}",
        )

    def note(
        self, actor: Actor, customer: str, identity: str, tags: str, note: str, version: str
    ) -> Any:
        """Change the note of the customer's entry holding ``tags`` (the first of them
        names the entry; an empty note removes it)."""
        names = [t.strip() for t in tags.split(",") if t.strip()]
        if not names:
            raise UsageError("say which entry's note to change.", hint="Use the page's form.")
        return self.change(
            actor,
            customer,
            identity,
            names[0],
            note=note,
            expires=None,
            version=version,
            action="note",
        )

    def change(
        self,
        actor: Actor,
        customer: str,
        identity: str,
        tag: str,
        *,
        note: str | None,
        expires: str | None,
        version: str,
        action: str = "change",
    ) -> EntryChange:
        """Change the note or the expiry (``""``: none) of the customer's entry holding
        ``tag`` (:func:`ordertags.tagbook.change_entry`); ``None`` leaves one as it is."""
        self._check_identity(customer, identity)
        book, _ = self.book()
        tag = (book.spelling(tag) if book else None) or tag
        said = [] if note is None else [f"note {note!r}" if note.strip() else "no note"]
        if expires is not None:
            said.append(f"until {expires}" if expires.strip() else "no end date")
        result: EntryChange = self.act(
            actor,
            action,
            customer,
            version,
            lambda guard: change_entry(
                self.ws.tagbook,
                identity,
                tag,
                note=note,
                expires=expires,
                region=self.region,
                guard=guard,
            ),
            f"{tag} of {identity}: {', '.join(said)}",
        )
        return result

    def link(
        self, actor: Actor, customer: str, a: str, b: str, same: bool, note: str, version: str
    ) -> Any:
        edit = link_identities if same else unlink_identities
        return self.act(
            actor,
            "link" if same else "mark different",
            customer,
            version,
            lambda guard: edit(
                self.ws.tagbook,
                a,
                b,
                note=note or None,
                by=actor.name,
                region=self.region,
                guard=guard,
            ),
            f"{a} and {b} " + ("same person" if same else "different people"),
        )

    def suppress(
        self, actor: Actor, customer: str, email: str, reason: str, remove: bool, version: str
    ) -> Any:
        return self.act(
            actor,
            "unsuppress" if remove else "suppress",
            customer,
            version,
            lambda guard: suppress_address(
                self.ws.tagbook,
                email,
                reason=reason or None,
                by=actor.name,
                remove=remove,
                guard=guard,
            ),
            email + (f" ({reason})" if reason else ""),
        )

    def mailing_list(self, actor: Actor, tag: str, preset: str) -> tuple[str, bytes, int]:
        """(file name, bytes, customers) of the mailing list of ``tag`` in ``preset``:
        ``export``'s list of the history's customers, with its consent and exclusion
        rules. Made in a private temporary folder; no path comes from the request."""
        if preset not in (*PRESET_NAMES, "list"):
            raise UsageError(
                f'"{preset}" is not a list preset.', hint=f"Use one of {', '.join(PRESET_NAMES)}."
            )
        folder = tempfile.mkdtemp(prefix="ordertags-list-")
        try:
            out = Path(folder) / "list.csv"
            _, chosen = export_list(
                [],
                tagbook=self.ws.tagbook,
                output=out,
                tags=[tag],
                workspace=self.ws,
                preset=preset,
            )
            data = out.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        book, _ = self.book()
        name = book.tag_named(tag) if book else "list"
        self.audit(actor, "download list", detail=f"{name} ({preset}): {chosen.count} customers")
        day = dt.date.today().isoformat()
        return f"{name.lower()}-{preset}-{day}.csv", data, int(chosen.count)

    def _check_identity(self, customer: str, identity: str) -> None:
        keys = self.keys_of(customer)
        if _key(identity, self.region) not in keys:
            raise UsageError(
                f'"{identity}" is not an identity of this customer.',
                hint="Pick one of the identities the page lists.",
            )


def _key(text: str, region: str) -> str:
    try:
        return identity_of(text, region)[1]
    except OrderTagsError:
        return text.strip()


def _keys_of(report: CustomerReport) -> list[str]:
    out = [report.row.key]
    out += [key for kind, key, _ in report.identities if kind in TAGGABLE_KINDS]
    return list(dict.fromkeys(out))


def _entries_text(book: TagBook, keys: Sequence[str], region: str) -> str:
    """The customer's entries, links and suppressions, as the audit log keeps them."""
    wanted = set(keys)
    parts = [
        f"{e.identity}: {', '.join(e.tags)}"
        + (f" ({e.note})" if e.note else "")
        + (f" until {e.expires}" if e.expires else "")
        for e in book.entries
        if e.key_in(region) in wanted
    ]
    parts += [f"suppressed {s.email}" for s in book.suppressed if s.key in wanted]
    return "; ".join(parts)


def order_matches(order: OrderView, text: str) -> bool:
    """Whether the orders page's search finds ``order`` (any shown text, any case)."""
    needle = text.strip().lower()
    if not needle:
        return True
    hay = " ".join(
        [order.order, order.name, order.identity, order.profile, order.source]
        + [v for _, v in order.values]
    ).lower()
    return needle in hay
