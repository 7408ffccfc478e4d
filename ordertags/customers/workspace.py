"""A workspace: one folder with the tag book, the rules and the order history.

``ordertags init DIR`` creates one. Commands find it in the current directory, or where
``--workspace DIR`` or the ``ORDERTAGS_WORKSPACE`` environment variable says, so a cron
line needs no other path. A folder is a workspace when it holds ``history.sqlite``, or a
``settings.toml`` naming the database that holds its history (a shared workspace, see
:mod:`ordertags.storage.location`).

This module imports nothing heavy: the quick commands (``tag``, ``link``) use it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordertags.base import keys as K
from ordertags.base.files import (
    DIR_MODE,
    FILE_MODE,
    RUN_WAIT_S,
    atomic_write_bytes,
    check_wait,
    dir_mode,
    make_private_dir,
)
from ordertags.base.keys import check_region
from ordertags.errors import BusyError, HistoryError, UsageError, WorkspaceError, param
from ordertags.io.lookup import OrderCustomer, norm_order_id
from ordertags.storage.base import Database
from ordertags.storage.location import (
    SETTINGS_NAME,
    Location,
    check_url,
    database_run_lock,
    locate,
    open_database,
    read_settings,
    without_password,
    write_settings,
)

if TYPE_CHECKING:
    from ordertags.customers.history import History

TAGBOOK_NAME = "tagbook.yaml"
RUN_LOCK_NAME = ".ordertags-run.lock"
RULES_NAME = "rules.yaml"
HISTORY_NAME = "history.sqlite"
ENV_VAR = "ORDERTAGS_WORKSPACE"

STARTER_TAGBOOK = """\
# ordertags tag book: the tags your customers and orders can carry, the customers
# tagged by hand, and links between identities of one person. Keep it in version
# control; ordertags edits it without touching your comments or layout
# (`ordertags tag`, `untag`, `link`, `unlink`). Schema: `ordertags schema tagbook`.
version: 1

tags:
  # priority: higher wins; its colour is shown and it is listed first.
  # scope: customer (every order of the customer) or order (only that order).
  # no_marketing: true keeps customers with the tag off every mailing list.
  - name: FRAUD
    colour: red
    label: "FRAUD — hold, do not ship"
    description: Chargebacks or proven fraud. Hold every order for a check.
    priority: 100
    no_marketing: true   # never on a mailing list, whatever other tags they have
  - name: CLAIMED-NON-RECEIPT
    colour: orange
    label: "CLAIMED — ship tracked, signature"
    description: Has claimed an item was not received.
    priority: 90
  - name: VIP
    colour: gold
    label: "VIP — handwritten note and a freebie"
    description: Our best customers, picked by hand.
    priority: 50
  - name: BIG_SPENDER
    colour: "#1f77b4"
    label: "BIG SPENDER — add a freebie"
    description: Spent over 1000 in the last year.
    priority: 40
  - name: REGULAR
    colour: teal
    label: "REGULAR — thank-you card"
    description: Five or more orders in the last year.
    priority: 30
  - name: HIGH_VALUE
    colour: purple
    label: "HIGH VALUE — pack with care"
    description: This order is over 150.
    priority: 20
    scope: order

# Customers tagged by hand, e.g.
#   - email: jane@example.com
#     tags: [VIP]
#     note: Wholesale buyer
#     by: sam
#     at: 2026-09-14
#     expires: 2027-09-14
customers: []

# Identities of one person (same) or of different people (different): emails or
# phone numbers. Links beat every automatic match, e.g.
#   - same: [jane.doe@gmail.com, "+447700900456"]
#   - different: [bob@example.com, bob.smith@example.com]
links: []
"""

STARTER_RULES = """\
# ordertags rules: each rule has a name, a condition (`when`) and the tag(s) it adds.
# Rules apply in file order; derived tags are worked out afresh on every run.
# In a workspace, customer conditions read the whole order history.
# Schema: `ordertags schema rules`.
version: 1

rules:
  - name: Big spenders
    when: {customer: spend, over: 1000, within_days: 365}
    tag: BIG_SPENDER

  - name: Regulars
    when: {customer: orders, at_least: 5, within_days: 365}
    tag: REGULAR

  - name: High value order
    when: {field: total, over: 150}
    tag: HIGH_VALUE
"""

GITIGNORE = """\
# The order history holds customers' personal data: keep it out of version control.
# (settings.toml holds no password and may be kept.)
history.sqlite
history.sqlite-*
*.lock
.ordertags-run.lock
# What a killed run leaves behind (removed by the next run).
.*.ordertags-tmp
"""


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and the files in it; ``root`` is a ``str`` or any
    ``os.PathLike`` (kept as a :class:`pathlib.Path`).

    >>> Workspace("shop").tagbook.as_posix()
    'shop/tagbook.yaml'
    """

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def tagbook(self) -> Path:
        return self.root / TAGBOOK_NAME

    @property
    def rules(self) -> Path:
        return self.root / RULES_NAME

    @property
    def history_path(self) -> Path:
        """The workspace's own history file (used when no database is named)."""
        return self.root / HISTORY_NAME

    @property
    def location(self) -> Location:
        """Where the history is: ``ORDERTAGS_DATABASE``, else the database the settings
        file names, else :attr:`history_path`."""
        return locate(self.root, HISTORY_NAME)

    @property
    def shared(self) -> bool:
        """Is the history in a database server (shared by several machines)?"""
        return self.location.url is not None

    def has_history(self) -> bool:
        return self.shared or self.history_path.exists()

    def open_history(self, *, lock_timeout: float | None = None) -> History:
        """Open the workspace's history (the caller closes it)."""
        # Imported here: the quick commands find their workspace through this module
        # and must not load the history store (numpy, pyarrow).
        from ordertags.customers.history import LOCK_TIMEOUT_S, open_history

        return open_history(self.location, lock_timeout=lock_timeout or LOCK_TIMEOUT_S)


def is_workspace(path: str | os.PathLike[str]) -> bool:
    root = Path(path)
    if (root / HISTORY_NAME).is_file():
        return True
    return (root / SETTINGS_NAME).is_file() and bool(read_settings(root).get("database"))


def find_workspace(
    explicit: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Workspace | None:
    """The workspace to use: ``explicit`` (``--workspace``), else ``$ORDERTAGS_WORKSPACE``,
    else the current directory when it is one; None when there is none.

    A folder named explicitly or by the environment that is not a workspace is an error
    (a cron line with a typo should fail, not run without its history).

    >>> find_workspace("shop")
    Workspace(root=PosixPath('.../shop'))
    """
    environ = os.environ if env is None else env
    # "--workspace" as written, not a parameter: find_workspace's callers (the command
    # line, the team screen) name the folder that way, and tests/test_history.py checks it.
    named, how = (explicit, "--workspace") if explicit else (environ.get(ENV_VAR), ENV_VAR)
    if named:
        root = Path(named).expanduser()
        if not is_workspace(root):
            why = "does not exist" if not root.exists() else f"has no {HISTORY_NAME}"
            raise WorkspaceError(
                f"{root} ({how}) is not an ordertags workspace: it {why}.",
                hint=f"Create one with `ordertags init {root}`, or fix the path.",
            )
        return Workspace(root.resolve())
    here = Path(cwd) if cwd is not None else Path.cwd()
    return Workspace(here.resolve()) if is_workspace(here) else None


@dataclass
class InitReport:
    workspace: Workspace
    created: list[str]
    kept: list[str]
    #: What was done to (or is wrong with) the folder's own permissions, if anything.
    folder_note: str = ""


def init_workspace(
    directory: str | os.PathLike[str] = ".",
    *,
    region: str | None = None,
    mode: int | None = None,
    database: str | None = None,
) -> InitReport:
    """Create a workspace in ``directory`` (made if missing): a starter tag book and rule
    file (commented, valid as written), the history database and a ``.gitignore`` that
    keeps the history out of version control. Files already there are kept, so running
    it again is harmless. What it creates is owner-only (files 0600, the folder 0700),
    or ``mode`` (the folder gets the matching search bits). With ``database`` (a
    PostgreSQL URL, no password), the history lives in that database, shared by every
    machine whose workspace names it; the settings file says so.

    >>> init_workspace("new-shop", region="GB").created
    ['tagbook.yaml', 'rules.yaml', 'history.sqlite', '.gitignore']
    """
    from ordertags.customers.history import open_history  # (see Workspace.open_history)

    root = Path(directory).expanduser()
    if root.exists() and not root.is_dir():
        raise WorkspaceError(
            f"{root} is a file, not a folder.", hint="Give a folder for the workspace."
        )
    try:
        make_private_dir(root, dir_mode(mode))
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create the folder {root}: {exc.strerror}.",
            hint="Check the path and its permissions.",
        ) from None
    folder_note = _tighten_folder(root, dir_mode(mode))
    code = check_region(region) if region else None
    if database is not None:
        database = check_url(database)
        if (root / HISTORY_NAME).exists():
            raise UsageError(
                f"{root} already keeps its history in {HISTORY_NAME}.",
                hint=f"Move it to the database with `ordertags migrate --to {database} "
                f"--workspace {root}`.",
            )
    created, kept = [], []
    for name, text in ((TAGBOOK_NAME, STARTER_TAGBOOK), (RULES_NAME, STARTER_RULES)):
        if (root / name).exists():
            kept.append(name)
        else:
            atomic_write_bytes(root / name, text.encode("utf-8"), mode=mode)
            created.append(name)
    if database is not None:
        existed = (root / SETTINGS_NAME).exists()
        # The schema is made (or checked) first: a settings file never names a database
        # that cannot be used.
        with open_history(Location(url=database), create=True, region=code):
            pass
        write_settings(root, database, mode)
        (kept if existed else created).append(SETTINGS_NAME)
    else:
        location = locate(root, HISTORY_NAME)
        existed = location.url is not None or (root / HISTORY_NAME).exists()
        with open_history(location, create=True, region=code, mode=mode):
            pass
        name = SETTINGS_NAME if location.url else HISTORY_NAME
        if location.url is not None and not (root / SETTINGS_NAME).exists():
            # Made under ORDERTAGS_DATABASE: the workspace names its database itself
            # (never with a password), so it stays one when the variable is unset.
            write_settings(root, without_password(location.url), mode)
        (kept if existed else created).append(name)
    if not (root / ".gitignore").exists():
        atomic_write_bytes(root / ".gitignore", GITIGNORE.encode("utf-8"), mode=mode)
        created.append(".gitignore")
    return InitReport(Workspace(root.resolve()), created, kept, folder_note)


def _tighten_folder(root: Path, mode: int | None) -> str:
    """A folder that existed before ``init`` and lets others in more than ``mode``
    (default 0700) allows: made that mode where it is ours (the history in it holds
    every customer's details), said so otherwise."""
    want = DIR_MODE if mode is None else mode
    try:
        info = root.stat()
    except OSError:
        return ""
    have = info.st_mode & 0o777
    if not have & 0o077 & ~want:
        return ""
    if info.st_uid != os.geteuid():
        return (
            f"the folder {root} is {have:04o} and not yours: others may read the workspace "
            "(ask its owner to make it owner-only)"
        )
    try:
        os.chmod(root, want)
    except OSError as exc:
        return f"the folder {root} is {have:04o} and could not be made {want:04o}: {exc.strerror}"
    return f"made the folder {root} {want:04o} (it was {have:04o}: others could read it)"


@contextlib.contextmanager
def workspace_history(workspace: Workspace | None) -> Iterator[History | None]:
    """The workspace's history, open for the block (None without a workspace)."""
    if workspace is None:
        yield None
        return
    history = workspace.open_history()
    try:
        yield history
    finally:
        history.close()


@contextlib.contextmanager
def run_lock(workspace: Workspace | None, wait: float | None = None) -> Iterator[None]:
    """Hold the workspace for one recording run (``apply``, ``export``, ``ingest``): a
    second run (cron starting again before the first ended) waits up to ``wait`` seconds (default
    :data:`RUN_WAIT_S`), then gives up with :class:`ordertags.errors.BusyError` (exit 3).
    Without a workspace, nothing is held. The lock is released when the process ends,
    however it ends (an advisory lock on an open file)."""
    wait = check_wait(wait)
    if workspace is None:
        yield
        return
    limit = RUN_WAIT_S if wait is None else wait
    location = workspace.location
    if location.url is not None:
        # A shared workspace: the lock is in the database, so two machines' runs (each
        # with its own folder) hold each other.
        with database_run_lock(location, limit, str(workspace.root)):
            yield
        return
    from filelock import FileLock, Timeout

    path = workspace.root / RUN_LOCK_NAME
    if path.is_symlink():
        raise WorkspaceError(
            f"the lock file {path} is a symbolic link.",
            hint=f"Delete {path} (it must be a plain file) and run again.",
        )
    lock = FileLock(str(path), timeout=limit, mode=FILE_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(
            f"another ordertags run is using the workspace {workspace.root} (waited "
            f"{limit:g} s); this run did nothing.",
            hint="It will be done by the next run; if this happens every time, runs take "
            f"longer than the cron interval: run less often, or give {param('wait')} more "
            "seconds.",
        ) from None
    except OSError as exc:
        raise WorkspaceError(
            f"the lock file {path} cannot be used: {exc.strerror}.",
            hint=f"Delete {path} and run again.",
        ) from None
    try:
        yield
    finally:
        lock.release()


def _read_only(ws: Workspace) -> Database:
    """A quick read-only look at the history, without numpy or pyarrow, for the quick
    commands. Its queries share one snapshot, as those of
    :class:`ordertags.customers.history.History` do."""
    location = ws.location
    return open_database(location, lock_timeout=5, read_only=True)


def _one(db: Database, sql: str, params: tuple[Any, ...] = ()) -> Any:
    rows = db.fetch(sql, params)
    return rows[0] if rows else None


def workspace_region(ws: Workspace | None) -> str | None:
    """The default phone region stored in the workspace (None without one)."""
    if ws is None:
        return None
    db = _read_only(ws)
    try:
        row = _one(db, "SELECT value FROM meta WHERE key = 'region'")
    except HistoryError:
        row = None
    finally:
        db.close()
    return str(row[0]) if row else None


def order_customer(ws: Workspace, order_id: str) -> OrderCustomer:
    """The customer of an order in the workspace's history (by any number it is known
    by: the platform's, ``#1042`` and ``1042`` alike, or an order hub's own), for ``ordertags
    tag --order ID`` without an export: the customer's best identity (an email, else a
    buyer id, else a relay address, else the order's phone number) and name."""
    wanted = norm_order_id(order_id)
    shown = ws.location.shown
    db = _read_only(ws)
    try:
        rows = _orders_numbered(db, wanted)
        customers = sorted({r[1] for r in rows if r[1] is not None})
        idents = (
            db.fetch(
                "SELECT i.kind, i.key, (SELECT COUNT(*) FROM orders o WHERE o.email = i.id "
                "OR o.buyer = i.id) FROM identities i WHERE i.customer = ? AND i.kind <= ?",
                (customers[0], K.BUYER),
            )
            if len(customers) == 1
            else []
        )
        names = (
            db.fetch(
                "SELECT name FROM orders WHERE customer = ? AND name IS NOT NULL "
                "GROUP BY name ORDER BY COUNT(*) DESC, name LIMIT 1",
                (customers[0],),
            )
            if len(customers) == 1
            else []
        )
    except HistoryError as exc:
        raise HistoryError(
            f"cannot read the history: {exc.message}",
            file=shown,
            hint="Check the workspace, or use --in EXPORT.",
        ) from None
    finally:
        db.close()
    if not rows:
        raise HistoryError(
            f'no order "{order_id}" in the history.',
            file=shown,
            hint="Check the order number, or give the export with --in.",
        )
    if len(customers) > 1:
        channels = ", ".join(sorted({c or "(none)" for c, *_ in rows}))
        raise HistoryError(
            f'{len(rows)} orders "{order_id}" ({channels}) have different customers.',
            file=shown,
            hint="Give the export with --in, or tag the customer by an identity.",
        )
    # An email, else a buyer id, else a relay address; of those, the one on most orders.
    rank = {K.EMAIL: 0, K.BUYER: 1, K.RELAY: 2}
    best = sorted((rank[k], -n, key) for k, key, n in idents if k in rank)
    name = names[0][0] if names else next((r[3] for r in rows if r[3]), None)
    if best:
        return OrderCustomer(_as_written(conn_path=ws, key=best[0][2]), name, wanted)
    phones = sorted({r[2] for r in rows if r[2]})
    if phones:
        return OrderCustomer(phones[0], name, wanted)
    raise HistoryError(
        f'order "{order_id}" has no customer email, buyer id or phone number in the history.',
        file=shown,
        hint="Tag the customer by an identity (email, phone number, CHANNEL:ID) instead.",
    )


def _orders_numbered(db: Database, number: str) -> list[Any]:
    """(channel, customer, phone, name) of the orders known by ``number``: their number
    on their channel, or another (an order hub's own id, kept in ``order_aliases``)."""
    select = "SELECT channel, customer, phone, name FROM orders WHERE "
    # A history not yet migrated (the quick commands read it as it is) kept one other
    # number per order, in ``reference``; before that, none.
    for other in ("id IN (SELECT id FROM order_aliases WHERE alias = ?)", "reference = ?"):
        try:
            return db.fetch(f"{select}order_id = ? UNION {select}{other}", (number, number))
        except HistoryError:
            continue
    return db.fetch(f"{select}order_id = ?", (number,))


def _as_written(conn_path: Workspace, key: str) -> str:
    """An email key as the customer last wrote it on an order (``Jane.Doe@gmail.com``
    for ``janedoe@gmail.com``); the key itself where the history has no spelling."""
    if "@" not in key:
        return key
    db = _read_only(conn_path)
    try:
        row = _one(
            db,
            "SELECT o.email_text FROM identities i JOIN orders o ON o.email = i.id "
            "WHERE i.key = ? AND o.email_text IS NOT NULL "
            "ORDER BY o.at IS NULL, o.at DESC, o.id DESC LIMIT 1",
            (key,),
        )
    except HistoryError:  # a history from before spellings were kept
        row = None
    finally:
        db.close()
    return str(row[0]) if row else key


def identity_seen(ws: Workspace | None, key: str) -> bool | None:
    """Has the workspace's history an order of this identity key (an email, a relay
    address or a buyer id of a customer with orders, or a phone on an order)? None
    without a workspace history, or where it cannot be read.

    >>> identity_seen(find_workspace("shop"), "new@example.com")
    False
    """
    if ws is None or not ws.has_history():
        return None
    try:
        db = _read_only(ws)
    except HistoryError:
        return None
    try:
        row = _one(
            db,
            "SELECT 1 FROM identities i JOIN orders o ON o.customer = i.customer "
            "WHERE i.key = ? LIMIT 1",
            (key,),
        )
        if row is None and key.startswith("+"):  # a phone: orders are not indexed by it
            row = _one(db, "SELECT 1 FROM orders WHERE phone = ? LIMIT 1", (key,))
    except HistoryError:
        return None
    finally:
        db.close()
    return row is not None


def customer_name(ws: Workspace | None, key: str) -> str | None:
    """The name the history knows a customer by (the one on most of their orders), from
    any identity key of theirs; None without a workspace or when unknown."""
    if ws is None or not ws.has_history():
        return None
    try:
        db = _read_only(ws)
    except HistoryError:
        return None
    try:
        row = _one(
            db,
            "SELECT o.name FROM identities i JOIN orders o ON o.customer = i.customer "
            "WHERE i.key = ? AND o.name IS NOT NULL GROUP BY o.name "
            "ORDER BY COUNT(*) DESC, o.name LIMIT 1",
            (key,),
        )
        if row is None and key.startswith("+"):  # a phone: the name on its orders
            row = _one(
                db,
                "SELECT name FROM orders WHERE phone = ? AND name IS NOT NULL "
                "GROUP BY name ORDER BY COUNT(*) DESC, name LIMIT 1",
                (key,),
            )
    except HistoryError:
        row = None
    finally:
        db.close()
    return str(row[0]) if row else None
