"""PostgreSQL for the tests: Debian's server, started once per test session by
pytest-postgresql's process fixture in a temporary folder; a fresh schema per test (or
per module), named in ``ORDERTAGS_DATABASE`` so that every workspace a test makes keeps
its history there.

PostgreSQL refuses to run as root (CI may run as root): there, ``pg_ctl`` runs as the
``postgres`` user through a small wrapper, with the data folder and log it is given
mapped into a folder that user owns.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

DATABASE = "ordertags_tests"
_schemas = itertools.count(1)


def pg_ctl() -> str | None:
    """Debian's pg_ctl (newest version installed), else the one pg_config names."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return found[-1]
    try:
        bindir = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = os.path.join(bindir, "pg_ctl")
    return path if os.access(path, os.X_OK) else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


WRAPPER = '''#!{python}
"""pg_ctl as the postgres user (PostgreSQL refuses root), its folders mapped."""
import hashlib, os, sys
real, base = {real!r}, {base!r}
args, out, mapped = sys.argv[1:], [], False
for i, arg in enumerate(args):
    if i and args[i - 1] in ("-D", "--pgdata", "-l", "--log"):
        os.makedirs(arg if args[i - 1] in ("-D", "--pgdata") else base, exist_ok=True)
        arg = os.path.join(base, hashlib.sha1(arg.encode()).hexdigest()[:16])
    out.append(arg)
os.execvp("runuser", ["runuser", "-u", "postgres", "--", real, *out])
'''


def executable(real: str) -> tuple[str, str | None]:
    """The pg_ctl to give pytest-postgresql, and a folder to remove at the end."""
    if os.geteuid() != 0:
        return real, None
    base = tempfile.mkdtemp(prefix="ordertags-pg-")
    owner = subprocess.check_output(["id", "-u", "postgres"], text=True).strip()
    os.chown(base, int(owner), -1)
    folder = tempfile.mkdtemp(prefix="ordertags-pgctl-")
    os.chmod(folder, 0o755)
    script = Path(folder) / "pg_ctl"
    script.write_text(WRAPPER.format(python=sys.executable, real=real, base=base))
    script.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return str(script), base + os.pathsep + folder


def remove(folders: str | None) -> None:
    for folder in (folders or "").split(os.pathsep):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def server_url(proc: Any) -> str:
    return f"postgresql://{proc.user}@{proc.host}:{proc.port}"


def ensure_database(base_url: str) -> None:
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")


def fresh_schema(base_url: str) -> str:
    """A URL whose tables live in a new, empty schema of the tests' database."""
    import psycopg

    name = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(f"{base_url}/{DATABASE}", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{base_url}/{DATABASE}?options=-csearch_path%3D{name}"


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("ORDERTAGS_DATABASE", url)
