"""A small shop workspace for the team screen's tests: a history of past orders, one
apply of today's export, a tag book with a hostile tag, and one account per role."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.accounts import add_user
from ordertags.customers.workspace import Workspace
from ordertags.tagbook import tag_customer
from ordertags.web import ScreenApp, create_app

from .conftest import AS_OF, csv_text

HEADER = [
    "Order Id",
    "Source",
    "Received Date",
    "Customer Name",
    "Email",
    "Phone",
    "Address1",
    "Postcode",
    "Total",
]
HOSTILE = "<script>document.title='pwned'</script>"
PAST = [
    [
        "1",
        "SHOPIFY",
        "2026-01-10 10:00",
        "Jane Doe",
        "Jane.Doe@gmail.com",
        "07700 900456",
        "12 Rose Street",
        "EH2 2PR",
        "700.00",
    ],
    [
        "2",
        "SHOPIFY",
        "2026-03-01 10:00",
        "Jane Doe",
        "jane.doe@gmail.com",
        "07700 900456",
        "12 Rose Street",
        "EH2 2PR",
        "350.00",
    ],
]
TODAY = [
    [
        "101",
        "SHOPIFY",
        "2026-11-25 09:00",
        "Jane Doe",
        "jane.doe@gmail.com",
        "07700 900456",
        "12 Rose Street",
        "EH2 2PR",
        "25.00",
    ],
    [
        "102",
        "SHOPIFY",
        "2026-11-25 09:30",
        HOSTILE,
        "evil@example.org",
        "07700 900999",
        "1 Bad Road",
        "M1 1AA",
        "40.00",
    ],
    [
        "103",
        "SHOPIFY",
        "2026-11-25 10:00",
        "Bob Brown",
        "bob@example.org",
        "07700 900111",
        "1 Mill Lane",
        "LS1 4AP",
        "20.00",
    ],
    [
        "104",
        "SHOPIFY",
        "2026-11-25 11:00",
        "Rob Marsh",
        "rob@example.org",
        "07700 900111",
        "9 Oak Road",
        "M1 1AB",
        "30.00",
    ],
]
RULES = """\
version: 1
rules:
  - name: Big spenders
    when: {customer: spend, over: 1000, within_days: 365}
    tag: BIG_SPENDER
"""
#: A tag whose colour and label are hostile: the schema takes a colour of letters
#: only, and the views turn it into #rrggbb or nothing; the label is any text.
EVIL_TAG = """\
  - name: EVIL
    colour: purple
    label: "<img src=x onerror=document.title='pwned'>"
    priority: 5
"""
PASSWORDS = {
    "ada": ("admin", "ada's long password"),
    "max": ("manager", "max's long password"),
    "pat": ("packer", "pat's long password"),
    "vic": ("viewer", "vic's long password"),
}
BASE = "http://127.0.0.1:8650"
runner = CliRunner()


def build_shop(root: Path, *, accounts: bool = True) -> Path:
    """The workspace ``root/shop`` (returned), its exports beside it."""
    ws = root / "shop"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    (ws / "rules.yaml").write_text(RULES, encoding="utf-8")
    book = ws / "tagbook.yaml"
    text = book.read_text(encoding="utf-8").replace(
        "    scope: order\n", "    scope: order\n" + EVIL_TAG, 1
    )
    book.write_text(text, encoding="utf-8")
    (root / "past.csv").write_text(csv_text(HEADER, PAST), encoding="utf-8")
    (root / "today.csv").write_text(csv_text(HEADER, TODAY), encoding="utf-8")
    done = runner.invoke(app, ["ingest", str(root / "past.csv"), "-w", str(ws)])
    assert done.exit_code == 0, done.stderr
    tag_customer(book, "evil@example.org", ["EVIL"], note=HOSTILE, by="owner")
    done = runner.invoke(
        app,
        [
            "apply",
            str(root / "today.csv"),
            "-o",
            str(root / "out.csv"),
            "-w",
            str(ws),
            "--as-of",
            AS_OF,
        ],
    )
    assert done.exit_code == 0, done.stderr
    if accounts:
        for name, (role, password) in PASSWORDS.items():
            add_user(Workspace(ws), name, role, password, by="owner")
    return ws


@pytest.fixture(scope="session")
def template_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop(tmp_path_factory.mktemp("serve"))


@pytest.fixture
def shop(template_shop: Path, tmp_path: Path) -> Path:
    """A fresh copy of the shop for one test (the exports stay where the apply read them)."""
    ws = tmp_path / "shop"
    shutil.copytree(template_shop, ws)
    return ws


def screen_app(ws: Path) -> ScreenApp:
    screen = create_app(Workspace(ws))
    screen.fail_delay = 0.0
    return screen


def client(ws: Path | ScreenApp) -> TestClient:
    target = ws if isinstance(ws, ScreenApp) else screen_app(ws)
    return TestClient(target, base_url=BASE, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(c: TestClient, name: str) -> str:
    """Log ``name`` in; the CSRF token of the new session."""
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "name": name, "password": PASSWORDS[name][1]})
    assert r.status_code == 303, r.text
    return csrf_of(c.get("/customers").text)
