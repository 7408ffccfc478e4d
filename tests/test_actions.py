"""Rule actions as registered kinds (ordertags.actions): the rule file's schema agrees
with the registry, and the ``notify`` kind, added through the registry, on a small
Shopify export whose expected notices are worked out here by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags import annotate, load_rules, load_tagbook
from ordertags.actions import ACTIONS, Action, NotifyAction, register
from ordertags.base.yamlfiles import load_schema
from ordertags.cli import app
from ordertags.errors import RulesError
from ordertags.reports.explain import explain_order, render
from ordertags.reports.views import document_orders, order_views, view_document

from .conftest import csv_text, read_rows

AS_OF = dt.date(2026, 11, 26)
#: The rule keys that are not actions.
NOT_ACTIONS = {"name", "description", "when", "scope", "priority"}


def test_the_schema_has_each_registered_action_as_its_class_says() -> None:
    rule = load_schema("rules")["$defs"]["rule"]["properties"]
    in_schema = {k: v for k, v in rule.items() if k not in NOT_ACTIONS}
    assert set(in_schema) == set(ACTIONS)
    for key, kind in ACTIONS.items():
        assert in_schema[key] == kind.schema, key


def test_a_rule_without_an_action_names_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: r\n    when: {field: total, over: 1}\n", encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert err.value.hint == "Give it an action: tag, untag, set, note, hold, notify, stop."


def test_two_kinds_cannot_share_a_key() -> None:
    class Again(Action):
        key = "notify"

    with pytest.raises(ValueError, match="two action kinds have the key 'notify'"):
        register(Again)
    assert ACTIONS["notify"] is NotifyAction


# --- notify: a watched customer ordered again --------------------------------------------

TAGBOOK = """\
version: 1
tags:
  - name: FRAUD
    colour: red
    label: FRAUD
    priority: 100
  - name: VIP
    colour: gold
    label: VIP
    priority: 50
customers:
  - email: jane.doe@example.com
    tags: [FRAUD]
    note: "chargeback on #0950"
"""
RULES = """\
rules:
  - name: Watched customer
    when: {has_tag: FRAUD}
    notify: "Watched customer ordered again:   check before dispatch"
  - name: Big order
    when: {field: total, over: 500}
    notify: Big order
  - name: Big and watched
    when: {all: [{has_tag: FRAUD}, {field: total, over: 500}]}
    notify: Big order
"""
HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Currency",
    "Total",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
]
# Shopify: one row per line item, the order's fields on its first row only.
ROWS = [
    ["#1001", "sam@example.org", "paid", "GBP", "20.00", "Royal Mail 48",
     "2026-11-25 09:00:00 +0000", "1", "Socks", "20.00", "SOCK-1"],
    ["#1002", " Jane.Doe@Example.com", "paid", "GBP", "640.00", "Royal Mail 24",
     "2026-11-25 10:00:00 +0000", "2", "Coat", "300.00", "COAT-1"],
    ["#1002", "", "", "", "", "", "2026-11-25 10:00:00 +0000", "1", "Scarf", "40.00", "SCARF-1"],
    ["#1003", "ali@example.net", "paid", "GBP", "980.00", "DPD",
     "2026-11-25 11:00:00 +0000", "1", "Sofa cover", "980.00", "SOFA-1"],
    ["#1004", "JANE.DOE@EXAMPLE.COM", "paid", "GBP", "15.00", "Royal Mail 48",
     "2026-11-25 12:00:00 +0000", "1", "Socks", "15.00", "SOCK-1"],
]  # fmt: skip


def _expected() -> tuple[list[str], list[str]]:
    """By hand from ROWS: the orders of the watched email (any case, spaces) and those
    over 500, each order once, in file order."""
    watched, big = [], []
    for name, email, _, _, total, *_ in ROWS:
        if email and email.strip().lower() == "jane.doe@example.com" and name not in watched:
            watched.append(name)
        if total and float(total) > 500 and name not in big:
            big.append(name)
    return watched, big


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    orders = tmp_path / "orders_export.csv"
    orders.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    book = tmp_path / "tagbook.yaml"
    book.write_text(TAGBOOK, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return orders, book, rules


def test_notify_names_the_orders_in_the_summary_and_leaves_the_export(tmp_path: Path) -> None:
    orders, book, rules = _files(tmp_path)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        ["apply", str(orders), "-t", str(book), "-r", str(rules), "--as-of", "2026-11-26"]
        + ["-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    watched, big = _expected()
    assert watched == ["#1002", "#1004"] and big == ["#1002", "#1003"]
    notices = [line for line in result.stderr.splitlines() if line.startswith("notify:")]
    assert notices == [
        f"notify: Watched customer ordered again: check before dispatch "
        f"({len(watched)} orders: {', '.join(watched)})",
        f"notify: Big order ({len(big)} orders: {', '.join(big)})",
    ]
    # The export comes back as it was, with only the three tag columns added.
    written = read_rows(out)
    assert written[0] == [*HEADER, "Customer Tags", "Customer Profile", "Tag Colour"]
    assert [row[: len(HEADER)] for row in written[1:]] == ROWS


def test_notify_is_told_even_with_quiet(tmp_path: Path) -> None:
    """A cron job runs with --quiet: what the rules ask to be told is still told."""
    orders, book, rules = _files(tmp_path)
    result = CliRunner().invoke(
        app,
        ["apply", str(orders), "-t", str(book), "-r", str(rules), "--as-of", "2026-11-26"]
        + ["-o", str(tmp_path / "out.csv"), "--quiet"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    watched, big = _expected()
    assert result.stderr.splitlines() == [
        f"notify: Watched customer ordered again: check before dispatch "
        f"({len(watched)} orders: {', '.join(watched)})",
        f"notify: Big order ({len(big)} orders: {', '.join(big)})",
    ]
    assert result.stdout == ""


def test_notify_is_explained_and_shown_to_the_packer(tmp_path: Path) -> None:
    orders, book, rules = _files(tmp_path)
    tagbook, ruleset = load_tagbook(book), load_rules(rules)
    ex = explain_order("#1002", [orders], tagbook=tagbook, rules=ruleset, as_of=AS_OF)
    assert [t.actions for t in ex.rules] == [
        ["notify 'Watched customer ordered again: check before dispatch'"],
        ["notify 'Big order'"],
        ["notify 'Big order'"],
    ]
    assert (
        "  1. Watched customer (line 2): yes -> "
        "notify 'Watched customer ordered again: check before dispatch'"
    ) in render(ex).splitlines()[3:]
    view = order_views(annotate([orders], tagbook=tagbook, rules=ruleset, as_of=AS_OF))
    lines = {o.order: o.action_lines for o in view.orders}
    assert lines == {
        "#1001": (),
        "#1002": ("Notify: Watched customer ordered again: check before dispatch", "Notify: Big order"),
        "#1003": ("Notify: Big order",),
        "#1004": ("Notify: Watched customer ordered again: check before dispatch",),
    }  # fmt: skip
    # The terminal table's Action column and every view's "what it needs" line.
    shown = {o.order: o for o in view.orders}
    assert shown["#1003"].actions() == "Notify: Big order"
    assert shown["#1001"].needs() == ""
    doc = view_document(view)
    listed = document_orders(doc)
    assert listed[2]["actions"] == ["Notify: Big order"]
    assert listed[2]["needs"].endswith("Notify: Big order")
    json.dumps(doc)  # the page embeds it


def test_notify_lists_ten_orders_then_counts_the_rest(tmp_path: Path) -> None:
    rows = [
        [f"#{2000 + i}", f"c{i}@example.com", "paid", "GBP", "600.00", "DPD"]
        + ["2026-11-25 09:00:00 +0000", "1", "Lamp", "600.00", "LAMP-1"]
        for i in range(13)
    ]
    _, book, rules = _files(tmp_path)
    orders = tmp_path / "busy_day.csv"
    orders.write_text(csv_text(HEADER, rows), encoding="utf-8")
    result = annotate([orders], tagbook=load_tagbook(book), rules=load_rules(rules), as_of=AS_OF)
    first_ten = ", ".join(f"#{2000 + i}" for i in range(10))
    assert result.summary.notices == [f"notify: Big order (13 orders: {first_ten} and 3 more)"]


def test_a_blank_notify_is_refused_where_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - name: r\n    when: {field: total, over: 1}\n    notify: '  '\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert (err.value.message, err.value.line, err.value.key) == (
        "notify needs a text.",
        4,
        "$.rules[0].notify",
    )
