"""The team screen: ``ordertags serve``, a local web application over a workspace.

Today's orders in their tags' colours, customer look-up, and tagging with a click for
the people logged in, through the same library calls, locks and validation as the
command line. Nothing in ordertags imports this package but the ``serve`` command.

>>> from ordertags.customers.accounts import add_user
>>> _ = add_user(ws, "sam", "admin", "a long passphrase", by="owner")
>>> app, line = prepare(ws, host="0.0.0.0")
>>> type(app).__name__
'ScreenApp'

``serve(app, host="0.0.0.0", port=8650)`` then runs it until stopped (a screen beyond
this machine needs accounts, as here).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence

import uvicorn

from ordertags.customers.workspace import Workspace
from ordertags.web.app import ScreenApp
from ordertags.web.screen import Screen

__all__ = ["ScreenApp", "ServeError", "create_app", "prepare", "serve"]


class ServeError(Exception):
    """The screen cannot be served as asked (bad usage: exit 2)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(
    ws: Workspace,
    *,
    exports: Sequence[str] = (),
    rules: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
) -> ScreenApp:
    """The ASGI application of the team screen for ``ws``."""
    return ScreenApp(Screen(ws, exports=exports, rules=rules), bound=host)


def prepare(
    ws: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 8650,
    exports: Sequence[str] = (),
    rules: str | os.PathLike[str] | None = None,
) -> tuple[ScreenApp, str]:
    """The application and the line to tell the person starting it; a screen beyond
    this machine without accounts is refused (:class:`ServeError`): without accounts,
    the screen is read-only and for 127.0.0.1 only."""
    app = create_app(ws, exports=exports, rules=rules, host=host)
    accounts = app.screen.has_accounts()
    if not is_loopback(host) and not accounts:
        raise ServeError(
            f"--host {host} opens the screen to other machines, and the workspace has no "
            "accounts: anyone on the network could read the customers. Add one first with "
            "`ordertags users add NAME --role manager`, or serve on 127.0.0.1 (read-only "
            "without accounts)."
        )
    where = f"[{host}]" if ":" in host else host
    line = f"the team screen is at http://{where}:{port}/ (Ctrl+C stops it)" + (
        "" if accounts else "; read-only until an account is added (ordertags users add)"
    )
    return app, line


def serve(app: ScreenApp, *, host: str = "127.0.0.1", port: int = 8650) -> None:
    """Serve ``app`` until interrupted."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # an access log would hold customers' emails in its URLs
        server_header=False,
        proxy_headers=False,
    )
