"""The team screen's accounts and the workspace's audit log, kept in the history.

An account is a name, a role and an Argon2id hash of its password (argon2-cffi's
defaults: memory-hard, salted); the history file is owner-only. Roles rank
viewer < packer < manager < admin: a viewer reads, a packer also changes the notes
shown on orders, a manager also tags, links, suppresses and downloads lists, an admin
also manages accounts.

The audit log records every change made from the screen or by ``ordertags users``:
who, what, the state before and after, when and from which address. It is append-only:
the history's triggers refuse to update or delete an entry.

>>> add_user(ws, "sam", "manager", "a long passphrase", by="owner")
User(name='sam', role='manager', created='...')
>>> check_login(ws, "sam", "a long passphrase").role
'manager'
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ordertags.base.keys import DEFAULT_REGION, identity_of
from ordertags.customers.history import History
from ordertags.customers.workspace import Workspace
from ordertags.errors import AccountError, HistoryError, OrderTagsError, UsageError

#: Lowest first: each role may do what those before it may.
ROLES = ("viewer", "packer", "manager", "admin")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte of "password" is a denial of service

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so that a wrong name and a wrong
    password take the same time (no finding out which names exist). Made on first use,
    not on import: every command imports this module (through the API), and a hash
    costs about a sixth of a second."""
    return _HASHER.hash("no such account: the same work as a wrong password")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created: str


@dataclass(frozen=True)
class AuditEntry:
    """One change, as ``ordertags audit`` and the customer page show it."""

    id: int
    at: str
    who: str
    address: str
    action: str
    customer: str | None
    before: str | None
    after: str | None
    detail: str | None


def role_rank(role: str) -> int:
    """The rank of ``role`` (viewer 0 ... admin 3); an unknown role is a usage error."""
    try:
        return ROLES.index(role)
    except ValueError:
        raise UsageError(
            f'"{role}" is not a role.', hint=f"Give one of {', '.join(ROLES)}."
        ) from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError(
            f'"{name}" is not a usable account name.',
            hint="Use 1 to 40 letters, digits, dots, dashes or underscores, starting with a "
            "letter or digit.",
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"the password is too short ({len(password)} characters).",
            hint=f"Use at least {MIN_PASSWORD} characters (a few words make a good one).",
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError(
            f"the password is too long ({len(password)} characters).",
            hint=f"Use at most {MAX_PASSWORD} characters.",
        )


def _locked(history: History, exc: Exception) -> OrderTagsError:
    if history.db.is_backend_error(exc):
        return history.db.failure(exc)
    return HistoryError(f"the history cannot be used: {exc}.", file=history.where)


def append_audit(
    history: History,
    *,
    who: str,
    action: str,
    address: str = "command line",
    customer: str | None = None,
    before: str | None = None,
    after: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one entry to the audit log (its own transaction, or the caller's)."""
    with history.writing() as conn:
        conn.execute(
            "INSERT INTO audit (at, who, address, action, customer, before, after, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), who, address, action, customer, before, after, detail),
        )


def add_user(ws: Workspace, name: str, role: str, password: str, *, by: str) -> User:
    """Add an account (an existing name is an error: change its password with
    :func:`set_password`)."""
    _check_name(name)
    role_rank(role)
    _check_password(password)
    hashed = _HASHER.hash(password)
    with ws.open_history() as history:
        try:
            with history.writing() as conn:
                if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                    raise AccountError(
                        f'there is already an account "{name}".',
                        hint=f"Change its password with `ordertags users passwd {name}`, or "
                        f"remove it first with `ordertags users remove {name}`.",
                    )
                created = _now()
                conn.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, hashed, created))
                append_audit(history, who=by, action="add user", detail=f"{name} ({role})")
        except OrderTagsError:
            raise
        except Exception as exc:
            if not history.db.is_backend_error(exc):
                raise
            raise _locked(history, exc) from None
    return User(name, role, created)


def remove_user(ws: Workspace, name: str, *, by: str) -> None:
    """Remove an account (its entries in the audit log stay)."""
    with ws.open_history() as history:
        with history.writing() as conn:
            row = conn.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise AccountError(
                    f'there is no account "{name}".', hint="`ordertags users list` lists them."
                )
            conn.execute("DELETE FROM users WHERE name = ?", (name,))
            append_audit(history, who=by, action="remove user", detail=f"{name} ({row[0]})")


def set_password(
    ws: Workspace, name: str, password: str, *, by: str, role: str | None = None
) -> None:
    """Give an account a new password (and, with ``role``, a new role)."""
    _check_password(password)
    if role is not None:
        role_rank(role)
    hashed = _HASHER.hash(password)
    with ws.open_history() as history:
        with history.writing() as conn:
            row = conn.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise AccountError(
                    f'there is no account "{name}".',
                    hint=f"Add it with `ordertags users add {name} --role viewer`.",
                )
            conn.execute(
                "UPDATE users SET hash = ?, role = ? WHERE name = ?", (hashed, role or row[0], name)
            )
            append_audit(
                history,
                who=by,
                action="change password",
                before=row[0],
                after=role or row[0],
                detail=name,
            )


def list_users(ws: Workspace) -> list[User]:
    """Every account, by name."""
    with ws.open_history() as history:
        rows = history.fetch("SELECT name, role, created FROM users ORDER BY name")
    return [User(*r) for r in rows]


def has_users(ws: Workspace) -> bool:
    with ws.open_history() as history:
        return bool(history.fetch("SELECT 1 FROM users LIMIT 1"))


def check_login(ws: Workspace, name: str, password: str) -> User | None:
    """The account when ``password`` is its password, else None. A wrong name costs the
    same Argon2 work as a wrong password. Hashes made with older parameters are
    upgraded on the next good log-in."""
    dummy = _dummy_hash()  # made before the look-up: the first wrong name costs no more
    with ws.open_history() as history:
        row = history.fetch(
            "SELECT name, role, created, hash FROM users WHERE name = ?", (name[:100],)
        )
        stored = row[0][3] if row else dummy
        try:
            _HASHER.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if not row:
            return None
        if _HASHER.check_needs_rehash(stored):
            with history.writing() as conn:
                conn.execute(
                    "UPDATE users SET hash = ? WHERE name = ?", (_HASHER.hash(password), name)
                )
        return User(row[0][0], row[0][1], row[0][2])


def user_role(ws: Workspace, name: str) -> str | None:
    """The account's role now (None once it is removed): a session follows a change."""
    with ws.open_history() as history:
        row = history.fetch("SELECT role FROM users WHERE name = ?", (name,))
    return str(row[0][0]) if row else None


def customer_keys(history: History, text: str, region: str | None = None) -> set[str]:
    """The identity keys ``text`` names in the audit log: its own key, and every
    identity of the history customer it names."""
    code = region or history.region or DEFAULT_REGION
    out: set[str] = set()
    try:
        out.add(identity_of(text, code)[1])
    except OrderTagsError:
        out.add(text.strip())
    try:
        cid = history.find_customer(text, code)
    except OrderTagsError:
        return out
    out.update(r[0] for r in history.fetch("SELECT key FROM identities WHERE customer = ?", (cid,)))
    out.update(
        r[0]
        for r in history.fetch(
            # The phones of their orders, kept per customer (not every order of theirs).
            "SELECT value FROM customer_facts WHERE customer = ? AND kind = 'phone'",
            (cid,),
        )
    )
    return out


def audit_entries(
    history: History,
    *,
    customer: str | None = None,
    since: dt.date | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """The audit log, oldest first: of the customer ``customer`` names (any identity
    of theirs), from ``since`` on; the last ``limit`` entries."""
    where: list[str] = []
    params: list[object] = []
    if customer is not None:
        keys = sorted(customer_keys(history, customer))
        where.append(f"customer IN ({', '.join('?' for _ in keys)})")
        params += keys
    if since is not None:
        where.append("at >= ?")
        params.append(since.isoformat())
    sql = (
        "SELECT id, at, who, address, action, customer, before, after, detail FROM audit"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY id DESC"
        + (" LIMIT ?" if limit else "")
    )
    if limit:
        params.append(int(limit))
    rows = history.fetch(sql, params)
    return [AuditEntry(*r) for r in reversed(rows)]
