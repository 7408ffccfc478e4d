"""Squarespace (Orders > Download CSV), added by following docs/contributing.md
("Adding a platform"): the figures a seller would check, worked out here by hand from
the fixture with the csv module and decimal."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from ordertags import annotate, load_rules, load_tagbook
from ordertags.io.platforms import detect_profile, normalise_channel

FIX = Path(__file__).parent / "fixtures" / "squarespace_orders.csv"
AS_OF = dt.date(2026, 11, 26)


def _orders() -> dict[str, dict[str, str]]:
    """Each order by its Order ID, from its first row (the order's fields are there)."""
    with open(FIX, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first: dict[str, dict[str, str]] = {}
    for row in rows:
        first.setdefault(row["Order ID"], row)
    return first


def test_squarespace_is_recognised_not_taken_for_shopify() -> None:
    with open(FIX, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    found = detect_profile(header)
    assert found.profile.name == "squarespace"
    assert normalise_channel("Squarespace") == ("squarespace", "")


def test_spend_and_orders_per_customer_by_hand(tmp_path: Path) -> None:
    orders = _orders()
    # By hand: an order counts unless refunded in full; spend is its total less refunds.
    spend: dict[str, Decimal] = {}
    counted: dict[str, int] = {}
    for row in orders.values():
        who = row["Email"].strip().lower()
        net = Decimal(row["Total"]) - Decimal(row["Amount Refunded"] or "0")
        spend[who] = spend.get(who, Decimal(0)) + net
        counted[who] = counted.get(who, 0) + (net > 0)
    assert spend == {"mara.quill@example.com": Decimal(40), "tobin.reyes@example.org": 120}
    book = tmp_path / "tagbook.yaml"
    book.write_text(
        "version: 1\ntags:\n  - {name: REGULAR, colour: teal}\n  - {name: BIG, colour: gold}\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {name: big, when: {customer: spend, at_least: 100}, tag: BIG}\n"
        "  - {name: regular, when: {customer: orders, at_least: 1}, tag: REGULAR}\n"
        "  - name: november\n"
        "    when: {field: date, between: ['2026-11-21', '2026-11-30']}\n"
        "    note: late November\n",
        encoding="utf-8",
    )
    result = annotate([FIX], tagbook=load_tagbook(book), rules=load_rules(rules), as_of=AS_OF)
    big = {w for w, s in spend.items() if s >= 100}
    regular = {w for w, c in counted.items() if c >= 1}
    assert result.summary.customers_per_tag == {"BIG": len(big), "REGULAR": len(regular)}
    # Month first: 11/21/2026 and 11/22/2026 are in late November, 11/20 is not.
    late = [
        i for i, r in orders.items() if r["Created at"].split()[0] in ("11/21/2026", "11/22/2026")
    ]
    notes = result.to_arrow().column("Private Notes").to_pylist()
    ids = result.to_arrow().column("Order ID").to_pylist()
    noted = sorted({i for i, n in zip(ids, notes, strict=True) if n and "late November" in n})
    assert noted == late == ["1002", "1003"]
    # The order's own note stays, the rule's note after it.
    assert notes[2] == "Gift, wrap it; late November"
