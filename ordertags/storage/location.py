"""Where a workspace's history lives, and opening it there.

A workspace's history is its ``history.sqlite`` file unless its settings file
(``settings.toml``, written by ``ordertags init --database`` and ``ordertags migrate``)
names a PostgreSQL database; the ``ORDERTAGS_DATABASE`` environment variable overrides
both. The settings file never holds a password: libpq's own ``PGPASSWORD``,
``~/.pgpass`` and ``sslmode`` settings apply. This module imports nothing heavy, and the
PostgreSQL driver only when a workspace uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ordertags.base.files import atomic_write_bytes
from ordertags.errors import UsageError, WorkspaceError
from ordertags.storage.base import Database
from ordertags.storage.sqlite import open_sqlite
from ordertags.storage.urls import password_of, redact, without_password

__all__ = [
    "DATABASE_VAR",
    "SETTINGS_NAME",
    "Location",
    "check_url",
    "database_run_lock",
    "locate",
    "open_database",
    "password_of",
    "read_settings",
    "redact",
    "without_password",
    "write_settings",
]

SETTINGS_NAME = "settings.toml"
DATABASE_VAR = "ORDERTAGS_DATABASE"
SCHEMES = ("postgresql://", "postgres://")


def is_postgresql(text: str) -> bool:
    return text.strip().lower().startswith(SCHEMES)


def check_url(url: str) -> str:
    """A database URL fit for the settings file: PostgreSQL's, without a password."""
    url = url.strip()
    if not is_postgresql(url):
        raise UsageError(
            f"{url!r} is not a PostgreSQL URL.",
            hint="Give one like postgresql://USER@HOST/DBNAME (options such as "
            "?sslmode=require may follow).",
        )
    if password_of(url) is not None:
        raise UsageError(
            "the database URL holds a password; ordertags never writes one into the workspace.",
            hint="Give the URL without it and keep the password in ~/.pgpass (or the "
            "PGPASSWORD environment variable), as every PostgreSQL client does.",
        )
    return url


def read_settings(root: Path) -> dict[str, object]:
    path = root / SETTINGS_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(
            f"{path} is not valid TOML: {exc}.",
            hint='It holds one line: database = "postgresql://USER@HOST/DBNAME".',
        ) from None


SETTINGS_HEAD = """\
# ordertags workspace settings. `database`: where the order history lives (a PostgreSQL
# URL shared by every machine of the business; without it, history.sqlite here). Never
# a password: libpq reads it from ~/.pgpass or PGPASSWORD. ORDERTAGS_DATABASE overrides.
"""


def write_settings(root: Path, database: str | None, mode: int | None = None) -> None:
    """Write (``database`` None: take out) the workspace's database setting."""
    settings = read_settings(root)
    if database is None:
        settings.pop("database", None)
    else:
        settings["database"] = check_url(database)
    lines = [SETTINGS_HEAD]
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}\n")
    atomic_write_bytes(root / SETTINGS_NAME, "".join(lines).encode("utf-8"), mode=mode)


@dataclass(frozen=True)
class Location:
    """A history's place: a PostgreSQL URL (``url``) or a SQLite file (``path``)."""

    path: Path | None = None
    url: str | None = None
    #: What set it: "ORDERTAGS_DATABASE", "settings.toml" or "" (the workspace's file).
    source: str = ""

    @property
    def kind(self) -> str:
        return "postgresql" if self.url else "sqlite"

    @property
    def shown(self) -> str:
        return redact(self.url) if self.url else str(self.path)


def locate(root: Path, sqlite_name: str, env: Mapping[str, str] | None = None) -> Location:
    """Where the workspace at ``root`` keeps its history (see the module's docstring)."""
    environ = os.environ if env is None else env
    named = environ.get(DATABASE_VAR, "").strip()
    if named:
        if not is_postgresql(named):
            raise WorkspaceError(
                f"{DATABASE_VAR} is not a PostgreSQL URL.",
                hint="Set it to postgresql://USER@HOST/DBNAME, or unset it to use the "
                "workspace's own setting.",
            )
        return Location(url=named, source=DATABASE_VAR)
    setting = read_settings(root).get("database")
    if isinstance(setting, str) and setting.strip():
        return Location(url=setting.strip(), source=SETTINGS_NAME)
    return Location(path=root / sqlite_name)


def open_database(
    location: Location,
    *,
    create: bool = False,
    lock_timeout: float,
    mode: int | None = None,
    read_only: bool = False,
) -> Database:
    """Open the history at ``location`` (its schema not yet checked: see
    :func:`ordertags.customers.store.prepare_store`)."""
    if location.url:
        from ordertags.storage.postgresql import open_postgresql

        return open_postgresql(location.url, location.shown, lock_timeout=lock_timeout)
    assert location.path is not None
    return open_sqlite(
        location.path, create=create, lock_timeout=lock_timeout, mode=mode, read_only=read_only
    )


@contextlib.contextmanager
def database_run_lock(location: Location, wait: float, where: str) -> Iterator[None]:
    """The run lock of a history in a database server (an advisory lock)."""
    assert location.url is not None
    from ordertags.storage.postgresql import run_lock

    with run_lock(location.url, location.shown, wait, where):
        yield
