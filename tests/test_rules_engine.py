"""Comparators with their negations, actions, conflicts, explain, lint and dry runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from ordertags import annotate, load_rules, load_tagbook
from ordertags.cli import app
from ordertags.reports.explain import explain_order, render
from ordertags.reports.lint import lint

from .conftest import ROOT, csv_text, read_csv

AS_OF = dt.date(2026, 11, 26)
HEADER = ["Order Id", "Email", "Total", "Received Date", "Service", "Ship By"]
ROWS = [
    ["1", "a@x.com", "10.00", "2026-11-20 10:00", "Royal Mail 24", "2026-11-27"],
    ["2", "b@x.com", "", "2025-01-01 00:00", "DPD Next Day", ""],
    ["3", "c@x.com", "200.00", "", "", "2026-12-01"],
    ["4", "a@x.com", "55.50", "2026-11-25 23:59", "royal mail 48", "2026-11-26"],
]
runner = CliRunner()


def run_rules(
    tmp_path: Path, tagbook: Path, rules_yaml: str, rows: list[list[str]] = ROWS
) -> tuple[Result, list[dict[str, str]]]:
    orders = tmp_path / "orders.csv"
    orders.write_text(csv_text(HEADER, rows), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "apply",
            str(orders),
            "-t",
            str(tagbook),
            "-r",
            str(rules),
            "--as-of",
            AS_OF.isoformat(),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    return result, read_csv(out)


def one(when: str) -> str:
    return f"rules:\n  - name: r\n    when: {when}\n    tag: CHECK\n"


def checked(rows: list[dict[str, str]]) -> list[str]:
    return [r["Order Id"] for r in rows if "CHECK" in r["Customer Tags"].split("; ")]


# (condition, orders matching it); each is also run negated with not_ and not:.
COMPARISONS = [
    ("{field: Service, equals: ROYAL MAIL 24}", ["1"]),
    ("{field: Service, in: [dpd next day, x]}", ["2"]),
    ("{field: Service, contains: mail}", ["1", "4"]),
    ("{field: Service, starts_with: royal}", ["1", "4"]),
    ("{field: Service, ends_with: '48'}", ["4"]),
    ("{field: Service, matches: '[0-9]{2}$'}", ["1", "4"]),
    ("{field: Service, matches: '^Royal', case_sensitive: true}", ["1"]),
    ("{field: total, equals: 10}", ["1"]),
    ("{field: total, in: [10, 200]}", ["1", "3"]),
    ("{field: total, between: [10, 55.5]}", ["1", "4"]),
    ("{field: date, within_days: 7}", ["1", "4"]),
    ("{field: date, between: [2025-01-01, 2026-11-20]}", ["1", "2"]),
    ("{field: Ship By, between: [2026-11-26, 2026-11-27]}", ["1", "4"]),
]


@pytest.mark.parametrize(("when", "expected"), COMPARISONS)
def test_comparison_and_its_negation(
    tmp_path: Path, tagbook: Path, when: str, expected: list[str]
) -> None:
    _, rows = run_rules(tmp_path, tagbook, one(when))
    assert checked(rows) == expected
    everyone = [r[0] for r in ROWS]
    rest = [i for i in everyone if i not in expected]
    _, rows = run_rules(tmp_path, tagbook, one(f"{{not: {when}}}"))
    assert checked(rows) == rest
    op = next(
        k
        for k in (
            "equals",
            "in",
            "contains",
            "starts_with",
            "ends_with",
            "matches",
            "between",
            "within_days",
        )
        if f" {k}:" in when
    )
    _, rows = run_rules(tmp_path, tagbook, one(when.replace(f" {op}:", f" not_{op}:")))
    assert checked(rows) == rest


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{field: total, over: 10}", ["3", "4"]),
        ("{field: total, under: 55.5}", ["1"]),
        ("{field: total, at_least: 55.5}", ["3", "4"]),
        ("{field: total, at_most: 10}", ["1"]),
        ("{field: date, before: 2026-11-20}", ["2"]),
        ("{field: date, after: 2026-11-20}", ["4"]),
        ("{field: date, after: '2026-11-20 09:00'}", ["1", "4"]),
        ("{field: Service, blank: true}", ["3"]),
        ("{field: total, blank: true}", ["2"]),
        ("{field: date, blank: false}", ["1", "2", "4"]),
        ("{field: email, blank: true}", []),
    ],
)
def test_bounds_and_blanks(tmp_path: Path, tagbook: Path, when: str, expected: list[str]) -> None:
    assert checked(run_rules(tmp_path, tagbook, one(when))[1]) == expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{customer: average_order_value, over: 30}", ["1", "3", "4"]),  # a@: (10 + 55.5) / 2
        ("{customer: days_since_last, at_most: 1}", ["1", "4"]),  # a@ ordered 2026-11-25
        ("{customer: days_since_first, over: 600}", ["2"]),  # b@ 2025-01-01
        ("{customer: first_order}", ["2", "3"]),
        ("{customer: orders, equals: 2}", ["1", "4"]),
        ("{customer: spend, not_between: [0, 100]}", ["3"]),
    ],
)
def test_customer_measures(tmp_path: Path, tagbook: Path, when: str, expected: list[str]) -> None:
    assert checked(run_rules(tmp_path, tagbook, one(when))[1]) == expected


RULES_WITH_ACTIONS = """\
notes_column: Picking Notes
rules:
  - name: Tracked for big orders
    when: {field: total, over: 50}
    set: {Service: Tracked 24, Insured: "yes"}
    note: Insure it
  - name: Cheap service for a@
    when: {field: email, equals: a@x.com}
    set: {Service: Economy}
    priority: -1
  - name: DPD stays DPD
    when: {field: Service, starts_with: dpd}
    set: {Service: DPD Next Day}
    hold: Check the DPD account
    stop: true
  - name: Everyone is high value
    when: {field: Order Id, not_equals: ""}
    tag: HIGH
    note: {text: Checked, column: Service}
"""


def test_actions_set_note_hold_stop_and_priority(tmp_path: Path, tagbook: Path) -> None:
    result, rows = run_rules(tmp_path, tagbook, RULES_WITH_ACTIONS)
    by_id = {r["Order Id"]: r for r in rows}
    # Order 4 (a@, 55.50): both rules set Service; the first has the higher priority.
    assert by_id["4"]["Service"] == "Tracked 24; Checked"
    assert by_id["1"]["Service"] == "Economy; Checked"
    assert by_id["4"]["Insured"] == "yes" and by_id["1"]["Insured"] == ""
    assert by_id["4"]["Picking Notes"] == "Insure it"
    # Order 2 was stopped: no HIGH, no note in Service, but held.
    assert by_id["2"]["Hold"] == "Check the DPD account"
    assert by_id["2"]["Customer Tags"] == "" and by_id["2"]["Service"] == "DPD Next Day"
    assert by_id["3"]["Customer Tags"] == "HIGH"
    assert list(rows[0])[:9] == [*HEADER, "Customer Tags", "Customer Profile", "Tag Colour"]
    assert list(rows[0])[9:] == ["Insured", "Picking Notes", "Hold"]
    assert (
        'conflict: rules "Cheap service for a@" and "Tracked for big orders" set '
        'Service differently on 1 order; "Tracked for big orders" wins'
    ) in result.stderr
    assert "held 1 order" in result.stderr


def test_equal_priority_later_rule_wins(tmp_path: Path, tagbook: Path) -> None:
    rules = (
        "rules:\n  - name: first\n    when: {field: total, over: 0}\n"
        "    set: {Service: A}\n  - name: second\n    when: {field: total, over: 50}\n"
        "    set: {Service: B}\n"
    )
    result, rows = run_rules(tmp_path, tagbook, rules)
    assert [r["Service"] for r in rows] == ["A", "DPD Next Day", "B", "B"]
    assert 'rules "first" and "second" set Service differently on 2 orders' in result.stderr


def test_notes_are_not_added_twice(tmp_path: Path, tagbook: Path) -> None:
    rules = "rules:\n  - name: n\n    when: {field: total, over: 0}\n    note: {text: Fragile, column: Service}\n"
    _, rows = run_rules(tmp_path, tagbook, rules)
    again = tmp_path / "again.csv"
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "apply",
            str(out),
            "-t",
            str(tagbook),
            "-r",
            str(tmp_path / "rules.yaml"),
            "-o",
            str(again),
            "-q",
        ],
    )
    assert result.exit_code == 0
    assert [r["Service"] for r in read_csv(again)] == [r["Service"] for r in rows]
    assert rows[0]["Service"] == "Royal Mail 24; Fragile"


def test_untag_and_has_tag(tmp_path: Path, tagbook: Path) -> None:
    rules = """\
rules:
  - name: all big
    when: {field: total, at_least: 0}
    tag: BIG
  - name: small spenders are not big
    when: {customer: spend, under: 100}
    untag: BIG
  - name: big ones get checked
    when: {has_tag: BIG}
    tag: CHECK
  - name: manual VIP cannot be untagged by rules
    when: {field: total, at_least: 0}
    untag: VIP
"""
    rows = [*ROWS, ["5", "vip@example.com", "1.00", "2026-01-01", "x", ""]]
    _, out = run_rules(tmp_path, tagbook, rules, rows)
    assert [r["Customer Tags"] for r in out] == ["", "", "BIG; CHECK", "", "VIP"]


def test_demotion_across_two_runs_and_dry_run(tmp_path: Path, tagbook: Path) -> None:
    rules = "rules:\n  - name: big\n    when: {customer: spend, over: 60, within_days: 30}\n    tag: BIG\n"
    _, first = run_rules(tmp_path, tagbook, rules)
    assert [r["Customer Tags"] for r in first] == ["BIG", "", "", "BIG"]
    # A week later a@'s first order has left the 30-day window... not yet; in 40 days both.
    later = runner.invoke(
        app,
        [
            "apply",
            str(tmp_path / "orders.csv"),
            "-t",
            str(tagbook),
            "-r",
            str(tmp_path / "rules.yaml"),
            "--as-of",
            "2027-01-05",
            "-o",
            str(tmp_path / "out.csv"),
            "--dry-run",
        ],
    )
    assert later.exit_code == 0, later.stderr
    assert later.stdout.splitlines()[0] == f"{tmp_path / 'out.csv'}: 2 orders of 4 would change"
    assert "BIG" in later.stdout and "Customer Tags" in later.stdout
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "out.csv")] == [
        "BIG",
        "",
        "",
        "BIG",
    ]  # a dry run writes nothing
    run = runner.invoke(
        app,
        [
            "apply",
            str(tmp_path / "orders.csv"),
            "-t",
            str(tagbook),
            "-r",
            str(tmp_path / "rules.yaml"),
            "--as-of",
            "2027-01-05",
            "-o",
            str(tmp_path / "out.csv"),
            "-q",
        ],
    )
    assert run.exit_code == 0
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "out.csv")] == ["", "", "", ""]


def test_dry_run_without_previous_output(tmp_path: Path, tagbook: Path) -> None:
    orders = tmp_path / "o.csv"
    orders.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "apply",
            str(orders),
            "-t",
            str(tagbook),
            "-o",
            str(tmp_path / "new.csv"),
            "--dry-run",
            "-q",
        ],
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        f"{tmp_path / 'new.csv'}: no previous output; 4 orders would be written, 0 orders with tags"
    )
    assert not (tmp_path / "new.csv").exists()


def test_explain_order(tmp_path: Path) -> None:
    book = load_tagbook(ROOT / "tagbook.example.yaml")
    rules = load_rules(ROOT / "rules.example.yaml")
    ex = explain_order(
        "200005", [ROOT / "examples" / "orders.csv"], tagbook=book, rules=rules, as_of=AS_OF
    )
    text = render(ex)
    lines = text.splitlines()
    assert lines[0] == f"order 200005 ({ROOT / 'examples' / 'orders.csv'}, row 6)"
    assert lines[1] == "customer: mo.brown@example.net (email as written: mo.brown@example.net)"
    assert lines[3].startswith("  CLAIMED-NON-RECEIPT (line ")
    assert "through email mo.brown@example.net = mo.brown@example.net" in lines[3]
    assert any(
        ln.startswith("  11. Past non-receipt claim ships tracked (line ")
        and ln.endswith(
            "yes -> set shipping_service = 'Royal Mail Tracked 24'; "
            "note 'Past claim — tracked, photo at the door' in the export's notes column"
        )
        for ln in lines
    )
    assert "       has tag CLAIMED-NON-RECEIPT: yes" in lines
    assert "  Postal Service: Royal Mail Tracked 24" in lines
    assert ex.tags == "CLAIMED-NON-RECEIPT; NEW"
    fraud = render(
        explain_order(
            "200011", [ROOT / "examples" / "orders.csv"], tagbook=book, rules=rules, as_of=AS_OF
        )
    )
    assert "  3. VIP list (line " in fraud and 'skipped, stopped by "Known fraudsters"' in fraud


def test_explain_cli_unknown_order(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "explain",
            "999",
            str(ROOT / "examples" / "orders.csv"),
            "-t",
            str(ROOT / "tagbook.example.yaml"),
        ],
    )
    assert result.exit_code == 1
    assert 'no order "999" in' in result.stderr


def test_lint_findings(tmp_path: Path, tagbook: Path) -> None:
    (tmp_path / "empty.txt").write_text("# nobody yet\n", encoding="utf-8")
    (tmp_path / "list.txt").write_text("ok@example.com\nnot an email\nx@y\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        """\
rules:
  - name: impossible
    when: {field: total, over: 100, under: 50}
    tag: CHECK
  - name: impossible together
    when:
      all:
        - {customer: spend, at_least: 500}
        - {customer: spend, at_most: 100}
    tag: CHECK
  - name: stopper
    when: {field: total, over: 10}
    tag: CHECK
    stop: true
  - name: shadowed
    when:
      all:
        - {field: total, over: 10}
        - {field: Colour, equals: red}
    tag: BIG
  - name: lists
    when:
      any:
        - {field: email, in_file: empty.txt}
        - {field: email, in_file: list.txt}
    tag: VIP
""",
        encoding="utf-8",
    )
    book = tmp_path / "book.yaml"
    book.write_text(
        tagbook.read_text(encoding="utf-8")
        + "  - email: old@example.com\n    tags: [VIP]\n    expires: 2020-01-01\n",
        encoding="utf-8",
    )
    orders = tmp_path / "o.csv"
    orders.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    report = lint(rules, book, orders=[orders], as_of=AS_OF)
    messages = [f"{f.level}: {f.message}" for f in report.findings]
    places = [f.where for f in report.findings]
    assert (
        'warning: rule "impossible" can never match: the bounds on "total" leave no '
        "number (total over 100, under 50)" in messages
    )
    assert (
        'warning: rule "impossible together" can never match: the conditions on '
        '"customer spend" together leave no number' in messages
    )
    assert any(
        m.startswith(
            'warning: rule "shadowed" is shadowed: every order it matches '
            'was already stopped by "stopper"'
        )
        for m in messages
    )
    assert (
        f"warning: the list file {tmp_path / 'empty.txt'} is empty: in_file matches "
        "nothing" in messages
    )
    # A redacted sample: the list might be a file of secrets named by mistake.
    assert (
        'warning: 2 lines hold no email address, so they match nobody ("no…" (12 characters), '
        '"…" (3 characters)); write an address a line, or name a CSV\'s address column with '
        "`column:`" in messages
    )
    assert f"{tmp_path / 'list.txt'}, lines 2, 3" in places
    assert any(
        m.startswith("warning: the entry for old@example.com (VIP) expired on 2020-01-01")
        for m in messages
    )
    assert any(m.startswith('error: rule "shadowed" uses the field "Colour"') for m in messages)
    assert len(report.errors) == 1
    cli = runner.invoke(
        app, ["lint", "-r", str(rules), "-t", str(book), str(orders), "--as-of", AS_OF.isoformat()]
    )
    assert cli.exit_code == 1
    assert cli.stderr.strip() == "1 error, 6 warnings"
    clean = runner.invoke(
        app,
        [
            "lint",
            "-r",
            str(ROOT / "rules.example.yaml"),
            "-t",
            str(ROOT / "tagbook.example.yaml"),
            str(ROOT / "examples" / "orders.csv"),
        ],
    )
    assert clean.exit_code == 0, clean.stdout
    assert clean.stderr.strip() == "0 errors, 0 warnings"


def test_rules_example_is_valid_and_every_rule_matches() -> None:
    rules = load_rules(ROOT / "rules.example.yaml")
    result = annotate(
        [ROOT / "examples" / "orders.csv", ROOT / "examples" / "shopify_orders.csv"],
        tagbook=load_tagbook(ROOT / "tagbook.example.yaml"),
        rules=rules,
        as_of=AS_OF,
    )
    assert result.outcome is not None
    unmatched = [r.name for r in rules.rules if not result.outcome.acted[r.index]]
    assert unmatched == []
    forms = {c.__class__.__name__ for r in rules.rules for c in r.when.walk()}
    assert {"FieldCondition", "CustomerCondition", "TagCondition", "AllOf", "AnyOf"} <= forms
    actions = {
        "tag": any(r.tags for r in rules.rules),
        "untag": any(r.untag for r in rules.rules),
        "set": any(r.set for r in rules.rules),
        "note": any(r.note for r in rules.rules),
        "hold": any(r.hold for r in rules.rules),
        "stop": any(r.stop for r in rules.rules),
    }
    assert all(actions.values()), actions


# --- properties -------------------------------------------------------------------------

VALUES = st.sampled_from(["", "a", "B", "ab", "10", "10.5", "-3", "abc"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=12), seed=st.integers(0, 2**16)
)
def test_not_all_any_and_row_order(
    tmp_path: Path, tagbook: Path, rows: list[tuple[str, str]], seed: int
) -> None:
    """``not`` inverts, ``all``/``any`` are Python's all/any row by row, and a rule's
    result follows its order, not its position."""
    from ordertags.engine.conditions import Context
    from ordertags.engine.conditions import evaluate as evaluate_condition
    from ordertags.engine.frame import Frame
    from ordertags.io.readers import parse_orders
    from ordertags.rules import parse_rules

    data = csv_text(
        ["Id", "Email", "A", "B"], [[str(i), f"c{i}@x.com", a, b] for i, (a, b) in enumerate(rows)]
    )
    base = [
        {"field": "A", "contains": "a"},
        {"field": "B", "in": ["10", "b"]},
        {"field": "A", "starts_with": "1"},
    ]
    yaml_conds = [
        "{field: A, contains: a}",
        "{field: B, in: ['10', b]}",
        "{field: A, starts_with: '1'}",
    ]
    text = "rules:\n" + "".join(
        f"  - name: r{i}\n    when: {w}\n    tag: CHECK\n"
        for i, w in enumerate(
            [
                *yaml_conds,
                f"{{not: {yaml_conds[0]}}}",
                f"{{all: [{', '.join(yaml_conds)}]}}",
                f"{{any: [{', '.join(yaml_conds)}]}}",
            ]
        )
    )
    ruleset = parse_rules(text, file="r.yaml", base=tmp_path)

    def evaluate(csv: str) -> dict[str, list[bool]]:
        frame = Frame([parse_orders(csv.encode(), source="o.csv")], as_of=AS_OF)
        ids = frame.text(column="Id").to_pylist()
        ctx = Context.of(frame)
        masks = [evaluate_condition(r.when, ctx) for r in ruleset.rules]
        return {ids[j]: [bool(m[j]) for m in masks] for j in range(frame.n)}

    got = evaluate(data)
    for values in got.values():
        parts = values[:3]
        assert values[3] is (not parts[0])
        assert values[4] is all(parts)
        assert values[5] is any(parts)
    del base
    lines = data.splitlines()
    rng = np.random.default_rng(seed)
    body = lines[1:]
    rng.shuffle(body)
    assert evaluate("\n".join([lines[0], *body]) + "\n") == got


# --- line items on a multi-row Shopify order ------------------------------------------------

SHOPIFY = ROOT / "tests" / "fixtures" / "shopify_orders_export.csv"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # #1001: SOCK-01 x2 at 25.25, BOX-L x1 at 60.00; #1002: a gift card (no sku);
        # #1003: SB-H, SB-O (row 6, after #1004), WAX; #1004: STK.
        ("{any_item: {field: sku, starts_with: box}}", {"#1001"}),
        ("{any_item: {field: sku, equals: SB-O}}", {"#1003"}),
        ("{all_items: {field: sku, starts_with: SB}}", set()),
        ("{all_items: {field: price, at_least: 30}}", {"#1002", "#1003"}),
        ("{no_item: {field: sku, blank: true}}", {"#1001", "#1003", "#1004"}),
        (
            "{any_item: {all: [{field: quantity, at_least: 2}, {field: name, contains: wool}]}}",
            {"#1001"},
        ),
        ("{no_item: {field: name, matches: '(?i)gift'}}", {"#1003", "#1004"}),
    ],
)
def test_line_item_quantifiers(
    tmp_path: Path, tagbook: Path, when: str, expected: set[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(one(when), encoding="utf-8")
    result = annotate(
        [SHOPIFY], tagbook=load_tagbook(tagbook), rules=load_rules(rules), as_of=AS_OF
    )
    names = result.frame.text(column="Name").to_pylist()
    tags = result.tags.to_pylist()
    tagged = {n for n, t in zip(names, tags, strict=True) if "CHECK" in t.split("; ")}
    assert tagged == expected
    # Every row of an order carries the order's tags, continuation rows included.
    by_order: dict[str, set[str]] = {}
    for n, t in zip(names, tags, strict=True):
        by_order.setdefault(n, set()).add(t)
    assert all(len(v) == 1 for v in by_order.values())


def test_customer_refunds(tmp_path: Path, tagbook: Path) -> None:
    header = ["Order Id", "Email", "Total", "Received Date", "Refunded Amount"]
    rows = [
        ["1", "a@x.com", "50.00", "2026-11-01", "20.00"],
        ["2", "a@x.com", "30.00", "2026-06-01", "15.50"],
        ["3", "b@x.com", "80.00", "2026-11-02", ""],
        ["4", "c@x.com", "10.00", "2024-01-01", "40.00"],
    ]
    orders = tmp_path / "orders.csv"
    orders.write_text(csv_text(header, rows), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    for when, expected in [
        ("{customer: refunds, over: 35}", ["1", "2", "4"]),
        ("{customer: refunds, over: 30, within_days: 365}", ["1", "2"]),
        ("{customer: refunds, over: 10, within_days: 100}", ["1", "2"]),
    ]:
        rules.write_text(one(when), encoding="utf-8")
        result = annotate(
            [orders], tagbook=load_tagbook(tagbook), rules=load_rules(rules), as_of=AS_OF
        )
        tags = dict(
            zip(
                result.frame.text(column="Order Id").to_pylist(),
                result.tags.to_pylist(),
                strict=True,
            )
        )
        assert [i for i, t in tags.items() if t == "CHECK"] == expected, when


def test_workspace_reports_tags_gained_and_lost_since_the_last_run(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(shop)]).exit_code == 0
    from .conftest import TAGBOOK

    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(
        "rules:\n  - name: big\n    when: {customer: spend, over: 60, within_days: 30}\n"
        "    tag: BIG\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(csv_text(HEADER, ROWS), encoding="utf-8")

    def apply(as_of: str) -> str:
        result = runner.invoke(
            app,
            [
                "apply",
                str(orders),
                "--workspace",
                str(shop),
                "--as-of",
                as_of,
                "-o",
                str(tmp_path / "out.csv"),
            ],
        )
        assert result.exit_code == 0, result.stderr
        return result.stderr

    first = apply("2026-11-26")
    assert "since the last run: BIG +1 -0" in first  # a@ (two orders, 65.50) is new
    assert "since the last run" not in apply("2026-11-26")  # nothing changed
    later = apply("2027-01-05")  # a@'s orders have left the 30-day window
    assert "since the last run: BIG +0 -1" in later
    assert [r["Customer Tags"] for r in read_csv(tmp_path / "out.csv")] == ["", "", "", ""]


def test_had_tag_reads_the_workspace_tag_log(tmp_path: Path) -> None:
    from .conftest import TAGBOOK

    shop = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(shop)]).exit_code == 0
    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(
        "rules:\n  - name: big\n    when: {customer: spend, over: 60, within_days: 30}\n"
        "    tag: BIG\n  - name: was big lately\n    when: {had_tag: BIG, within_days: 60}\n"
        "    tag: CHECK\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(csv_text(HEADER, ROWS), encoding="utf-8")
    out = tmp_path / "out.csv"

    def apply(as_of: str) -> list[str]:
        result = runner.invoke(
            app,
            [
                "apply",
                str(orders),
                "--workspace",
                str(shop),
                "--as-of",
                as_of,
                "-o",
                str(out),
                "-q",
            ],
        )
        assert result.exit_code == 0, result.stderr
        return [r["Customer Tags"] for r in read_csv(out)]

    assert apply("2026-11-26") == ["BIG; CHECK", "", "", "BIG; CHECK"]  # has it now
    assert apply("2027-01-05") == ["CHECK", "", "", "CHECK"]  # lost BIG, had it 40 days ago
    assert apply("2027-03-10") == ["", "", "", ""]  # gone since 2027-01-05: over 60 days
    without = runner.invoke(
        app,
        [
            "apply",
            str(orders),
            "-t",
            str(shop / "tagbook.yaml"),
            "-r",
            str(shop / "rules.yaml"),
            "-o",
            str(out),
        ],
    )
    assert without.exit_code == 1
    assert "had_tag needs the tag history of a workspace" in without.stderr


def test_explain_in_a_workspace_reads_the_history(tmp_path: Path) -> None:
    from .conftest import TAGBOOK

    shop = tmp_path / "shop"
    assert runner.invoke(app, ["init", str(shop)]).exit_code == 0
    (shop / "tagbook.yaml").write_text(TAGBOOK, encoding="utf-8")
    (shop / "rules.yaml").write_text(
        "rules:\n  - name: big\n    when: {customer: spend, over: 60}\n    tag: BIG\n",
        encoding="utf-8",
    )
    old = tmp_path / "old.csv"
    old.write_text(csv_text(HEADER, ROWS[3:]), encoding="utf-8")  # a@: 55.50
    new = tmp_path / "new.csv"
    new.write_text(csv_text(HEADER, ROWS[:1]), encoding="utf-8")  # a@: 10.00
    assert runner.invoke(app, ["ingest", str(old), "--workspace", str(shop)]).exit_code == 0
    result = runner.invoke(
        app, ["explain", "1", str(new), "--workspace", str(shop), "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.stderr
    assert "       customer spend over 60 (value 65.5): yes" in result.stdout.splitlines()
    assert "  tags: BIG" in result.stdout.splitlines()


@pytest.mark.parametrize("count", [1, 7, 8, 9, 16, 17, 32, 33, 63, 64, 70])
def test_tag_text_for_any_number_of_tags(count: int) -> None:
    """Each row's tags in rank order, whatever integer holds the combinations (a byte
    for up to 8 tags, wider beyond, a bit matrix past 63)."""
    import numpy as np

    from ordertags.engine.tagtext import render_tags
    from ordertags.tagbook import TagBook, TagDef

    ranked = [f"T{i}" for i in range(count)]
    book = TagBook(path="")
    for i, t in enumerate(ranked):
        book.tags[t] = TagDef(name=t, colour="red" if i % 2 else "", label=f"L{i}", index=i)
    rng = np.random.default_rng(count)
    masks = {t: rng.random(200) < 0.2 for t in ranked}
    masks[ranked[-1]][:3] = True  # the highest bit is set somewhere
    tags, labels, colours = render_tags(ranked, masks, book, 200)
    expected = ["; ".join(t for t in ranked if masks[t][r]) for r in range(200)]
    assert tags.to_pylist() == expected
    first = [next((t for t in ranked if masks[t][r]), None) for r in range(200)]
    assert colours.to_pylist() == [book.tags[f].colour if f else "" for f in first]


def test_each_date_and_money_column_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window (orders in the last 365 days) and a measure over all dates ask for the
    same dates, with and without "optional": one reading of the column serves both."""
    from ordertags.engine import frame as frame_module

    calls = {"dates": 0, "money": 0}
    real_dates = getattr(frame_module, "parse_dates")  # noqa: B009 - imported there
    real_money = getattr(frame_module, "parse_money")  # noqa: B009

    def dates(*args: object, **kwargs: object) -> object:
        calls["dates"] += 1
        return real_dates(*args, **kwargs)

    def money(*args: object, **kwargs: object) -> object:
        calls["money"] += 1
        return real_money(*args, **kwargs)

    monkeypatch.setattr(frame_module, "parse_dates", dates)
    monkeypatch.setattr(frame_module, "parse_money", money)
    src = tmp_path / "orders.csv"
    src.write_text(
        "Order Id,Email,Total,Date\n"
        "1,a@x.org,600.00,2026-10-01\n2,a@x.org,500.00,2026-11-01\n3,b@x.org,20.00,2024-01-05\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n"
        "  - name: recent\n    when: {customer: orders, at_least: 2, within_days: 365}\n"
        "    tag: REGULAR\n"
        "  - name: lapsed\n    when: {customer: days_since_last, over: 300}\n    tag: LAPSED\n"
        "  - name: big\n    when: {customer: spend, over: 1000}\n    tag: BIG\n"
        "  - name: order\n    when: {field: total, over: 550}\n    tag: HIGH\n",
        encoding="utf-8",
    )
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "tags:\n  - {name: REGULAR}\n  - {name: LAPSED}\n  - {name: BIG}\n"
        "  - {name: HIGH, scope: order}\n",
        encoding="utf-8",
    )
    result = annotate([src], tagbook=book, rules=rules, as_of=dt.date(2026, 11, 26))
    tags = result.to_arrow(0).column("Customer Tags").to_pylist()
    # a: 2 orders in the window, 1100.00 spent, last order 25 days ago; b: one old order.
    assert tags == ["REGULAR; BIG; HIGH", "REGULAR; BIG", "LAPSED"]
    assert calls == {"dates": 1, "money": 1}
