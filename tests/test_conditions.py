"""Each kind of condition, evaluated through the library on small hand-made orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ordertags import annotate, load_rules, load_tagbook
from ordertags.errors import ColumnError, RulesError

from .conftest import csv_text

HEADER = ["Order Id", "Email", "Total", "Received Date", "Country", "Postal Service", "Postcode"]
ORDERS = [
    [
        "1",
        "Jane.Doe@gmail.com",
        "420.00",
        "2026-01-10 10:00",
        "United Kingdom",
        "Royal Mail 1st Class",
        "EH2 2PR",
    ],
    [
        "2",
        "janedoe+shop@googlemail.com",
        "600.00",
        "2025-11-26 00:00",
        "United Kingdom",
        "DPD Next Day",
        "EH2 2PR",
    ],
    ["3", "bob@example.org", "99.99", "2026-11-25 23:59", "France", "Evri Standard", "75002"],
    ["4", "", "150.01", "2026-06-01 12:00", "Germany", "Royal Mail Tracked 24", "01067"],
    [
        "5",
        "ann@Mailinator.com",
        "",
        "2025-11-25 23:59",
        "Ireland",
        "royal mail 2nd class",
        "D02 X285",
    ],
    [
        "6",
        "BOB@example.org ",
        "0.00",
        "2026-11-26 00:00",
        "Northern Ireland",
        "Evri Standard",
        "BT1 3NQ",
    ],
]
AS_OF = dt.date(2026, 11, 26)


def tags_for(
    tmp_path: Path,
    tagbook: Path,
    rules_yaml: str,
    rows: list[list[str]] = ORDERS,
    header: list[str] = HEADER,
) -> dict[str, str]:
    orders = tmp_path / "orders.csv"
    orders.write_text(csv_text(header, rows), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml, encoding="utf-8")
    result = annotate([orders], tagbook=load_tagbook(tagbook), rules=load_rules(rules), as_of=AS_OF)
    ids = result.frame.text(column="Order Id").to_pylist()
    return dict(zip(ids, result.tags.to_pylist(), strict=True))


def rule(when: str, tag: str = "CHECK") -> str:
    return f"version: 1\nrules:\n  - name: r\n    when: {when}\n    tag: {tag}\n"


def matching(tags: dict[str, str], tag: str) -> list[str]:
    return [i for i, t in tags.items() if tag in t.split("; ")]


CASES = [
    # (condition, tag, orders that carry the tag)
    ("{field: Country, equals: united kingdom}", "CHECK", ["1", "2"]),
    ("{field: Country, equals: united kingdom, case_sensitive: true}", "CHECK", []),
    ("{field: Country, in: [France, germany]}", "CHECK", ["3", "4"]),
    ("{field: Postal Service, contains: MAIL}", "CHECK", ["1", "4", "5"]),
    ("{field: Postal Service, starts_with: royal mail}", "CHECK", ["1", "4", "5"]),
    ("{field: Postal Service, starts_with: Royal, case_sensitive: true}", "CHECK", ["1", "4"]),
    ("{field: Postal Service, ends_with: class}", "CHECK", ["1", "5"]),
    ("{field: Postcode, matches: '^BT[0-9]'}", "CHECK", ["6"]),
    ("{field: Postcode, matches: '^bt[0-9]', case_sensitive: true}", "CHECK", []),
    ("{field: total, over: 150}", "CHECK", ["1", "2", "4"]),
    ("{field: total, under: 100}", "CHECK", ["3", "6"]),
    ("{field: total, at_least: 99.99}", "CHECK", ["1", "2", "3", "4"]),
    ("{field: total, at_most: 99.99}", "CHECK", ["3", "6"]),
    ("{field: total, between: [99.99, 420]}", "CHECK", ["1", "3", "4"]),
    ("{field: total, over: 100, under: 500}", "CHECK", ["1", "4"]),
    ("{field: Total, equals: 0}", "CHECK", ["6"]),
    ("{field: email_domain, in: [mailinator.com]}", "CHECK", ["5"]),
    ("{field: email, in: [JANEDOE@gmail.com]}", "VIP", ["1", "2"]),
    ("{field: email, equals: ' bob@EXAMPLE.org'}", "VIP", ["3", "6"]),
    ("{field: email, ends_with: '@example.org'}", "VIP", ["3", "6"]),
    ("{not: {field: Country, equals: United Kingdom}}", "CHECK", ["3", "4", "5", "6"]),
    ("{all: [{field: total, over: 100}, {field: Country, equals: Germany}]}", "CHECK", ["4"]),
    ("{any: [{field: total, over: 500}, {field: Country, equals: France}]}", "CHECK", ["2", "3"]),
    (
        "{not: {any: [{field: total, over: 100}, {field: email, in: [bob@example.org]}]}}",
        "CHECK",
        ["5"],
    ),
    # Customer conditions: Jane (orders 1, 2) spent 1020.00; Bob (3, 6) 99.99.
    ("{customer: spend, over: 1000}", "BIG", ["1", "2"]),
    ("{customer: spend, over: 1020}", "BIG", []),
    ("{customer: spend, at_least: 1020}", "BIG", ["1", "2"]),
    # Window: from 2025-11-26 (inclusive): order 2 counts, 5 does not; the run's own
    # orders count whatever their date after that, so order 6 (on the as-of date) is
    # Bob's second order in the window.
    ("{customer: spend, over: 1000, within_days: 365}", "BIG", ["1", "2"]),
    ("{customer: orders, at_least: 2}", "REGULAR", ["1", "2", "3", "6"]),
    ("{customer: orders, at_least: 2, within_days: 365}", "REGULAR", ["1", "2", "3", "6"]),
    ("{customer: orders, at_least: 1, within_days: 1}", "REGULAR", ["3", "6"]),
    ("{customer: orders, between: [1, 1]}", "REGULAR", ["5"]),
]


@pytest.mark.parametrize(("when", "tag", "expected"), CASES)
def test_condition(tmp_path: Path, tagbook: Path, when: str, tag: str, expected: list[str]) -> None:
    tags = tags_for(tmp_path, tagbook, rule(when, tag))
    assert matching(tags, tag) == expected


def test_customer_tag_marks_every_order_of_the_customer(tmp_path: Path, tagbook: Path) -> None:
    # The rule matches order 1 only; VIP is a customer tag, so Jane's order 2 has it too.
    tags = tags_for(tmp_path, tagbook, rule("{field: Order Id, equals: '1'}", "VIP"))
    assert matching(tags, "VIP") == ["1", "2"]


def test_rule_scope_overrides_the_tag_book(tmp_path: Path, tagbook: Path) -> None:
    rules = (
        "rules:\n  - name: r\n    when: {field: Order Id, equals: '1'}\n"
        "    tag: {name: VIP, scope: order}\n"
    )
    assert matching(tags_for(tmp_path, tagbook, rules), "VIP") == ["1"]


def test_order_without_email_gets_order_tags_only(tmp_path: Path, tagbook: Path) -> None:
    rules = (
        "rules:\n  - name: all orders\n    when: {field: total, at_least: 0}\n"
        "    tag: [HIGH, VIP]\n"
    )
    tags = tags_for(tmp_path, tagbook, rules)
    assert tags["4"] == "HIGH"
    assert tags["1"] == "VIP; HIGH"


def test_in_file_list_relative_to_rule_file(tmp_path: Path, tagbook: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "fraud.txt").write_text(
        "# chargebacks\n\n  JANE.DOE+x@gmail.com \nnobody@example.com\n", encoding="utf-8"
    )
    tags = tags_for(tmp_path, tagbook, rule("{field: email, in_file: lists/fraud.txt}", "FRAUD"))
    assert matching(tags, "FRAUD") == ["1", "2"]


def test_manual_tags_and_priority_order(tmp_path: Path, tagbook: Path) -> None:
    rows = [*ORDERS, ["7", "Vip@Example.com", "10.00", "2026-01-01", "UK", "x", "y"]]
    rules = rule("{field: total, at_least: 0}", "FRAUD")
    tags = tags_for(tmp_path, tagbook, rules, rows)
    assert tags["7"] == "FRAUD; VIP"  # FRAUD (priority 100) before VIP (50)


def test_unknown_field_names_the_rule(tmp_path: Path, tagbook: Path) -> None:
    with pytest.raises(RulesError) as err:
        tags_for(tmp_path, tagbook, rule("{field: Colour, equals: red}"))
    assert str(err.value).startswith(
        f'{tmp_path / "rules.yaml"}, line 4, key $.rules[0].when.field: unknown field "Colour"'
    )


def test_number_condition_on_bad_value(tmp_path: Path, tagbook: Path) -> None:
    rows = [["1", "a@b.com", "12 pounds", "2026-01-01", "UK", "x", "y"]]
    with pytest.raises(ColumnError) as err:
        tags_for(tmp_path, tagbook, rule("{field: total, over: 5}"), rows)
    assert 'row 2, column "Total": "12 pounds"' in str(err.value)


def test_bad_value_in_unused_column_is_no_error(tmp_path: Path, tagbook: Path) -> None:
    rows = [["1", "a@b.com", "12 pounds", "not a date", "UK", "x", "y"]]
    tags = tags_for(tmp_path, tagbook, rule("{field: Country, equals: UK}"), rows)
    assert tags == {"1": "CHECK"}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{field: total}", 'the condition on "total" has no comparison.'),
        (
            "{field: total, over: 1, customer: spend}",
            "a condition needs exactly one of all, any, not, field, customer, segment, has_tag, "
            "had_tag, any_item, all_items, no_item (found field, customer).",
        ),
        ("{customer: spend, contains: x}", '"contains" cannot stand beside "customer"'),
        ("{field: total, between: [5, 1]}", "between [5, 1]: the low bound is above the high one."),
        ("{field: Postcode, matches: '(?=a)b'}", "the regular expression '(?=a)b' cannot be used"),
        ("{field: email, in_file: missing.txt}", "does not exist."),
        ("{field: total, within_days: 3, over: 1}", '"over" does not apply to a date comparison.'),
    ],
)
def test_rule_file_errors(tmp_path: Path, tagbook: Path, when: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(rule(when), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}, line 4")


def test_regex_runs_in_linear_time(tmp_path: Path, tagbook: Path) -> None:
    import time

    rows = [
        [str(i), f"c{i}@x.com", "1.00", "2026-01-01", "a" * 5000 + "!", "s", "p"]
        for i in range(200)
    ]
    start = time.perf_counter()
    tags = tags_for(tmp_path, tagbook, rule("{field: Country, matches: '(a+)+$'}"), rows)
    assert time.perf_counter() - start < 5
    assert matching(tags, "CHECK") == []
