"""Risk as a rule condition (issue 21): ``{field: risk_level, ...}`` reads Shopify's
``Risk Level`` (given on an order's first row only), so risky orders are tagged and held
as whole orders."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from ordertags.cli import app

runner = CliRunner()

BOOK = """\
version: 1
tags:
  - {name: CHECK, colour: red, label: CHECK, priority: 60, scope: order, alert: true}
"""
RULES = """\
version: 1
rules:
  - name: Shopify rates the order risky
    when: {field: risk_level, in: [high, medium]}
    tag: CHECK
    hold: Shopify rates this order's fraud risk high
"""
ORDERS = """\
Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Billing Name,Risk Level
#1,a@example.com,paid,GBP,20.00,2026-11-20 10:00:00 +0000,1,Mug,15.00,Ann A,Low
#1,a@example.com,,,,2026-11-20 10:00:00 +0000,1,Cup,5.00,,
#2,b@example.com,paid,GBP,30.00,2026-11-20 11:00:00 +0000,1,Mug,25.00,Bob B,High
#2,b@example.com,,,,2026-11-20 11:00:00 +0000,1,Cup,5.00,,
#3,c@example.com,paid,GBP,30.00,2026-11-20 12:00:00 +0000,1,Mug,30.00,Cy C,Medium
#4,d@example.com,paid,GBP,30.00,2026-11-20 13:00:00 +0000,1,Mug,30.00,Di D,
"""


def test_risk_level_holds_whole_orders(tmp_path: Path) -> None:
    (tmp_path / "tagbook.yaml").write_text(BOOK, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "orders_export.csv").write_text(ORDERS, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "apply",
            str(tmp_path / "orders_export.csv"),
            "-t",
            str(tmp_path / "tagbook.yaml"),
            "-r",
            str(tmp_path / "rules.yaml"),
            "-o",
            str(out),
            "--as-of",
            "2026-11-26",
        ],
    )
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as f:
        rows = [(r["Name"], r["Customer Tags"], r["Hold"]) for r in csv.DictReader(f)]
    held = "Shopify rates this order's fraud risk high"
    # Both rows of #2 (the level is on its first row only); #3 Medium; not #1 Low nor #4.
    assert rows == [
        ("#1", "", ""),
        ("#1", "", ""),
        ("#2", "CHECK", held),
        ("#2", "CHECK", held),
        ("#3", "CHECK", held),
        ("#4", "", ""),
    ]
    assert "held 2 orders" in result.stderr.splitlines()
    assert [ln for ln in result.stderr.splitlines() if ln.startswith("alert:")] == [
        "alert: order #2 (Bob B): CHECK",
        "alert: order #3 (Cy C): CHECK",
    ]
