"""RFM segments worked out in the open: scores and groups on hand-computed sets, the
segments table, per-tag figures over time, segments in rules and export filters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from ordertags.cli import app
from ordertags.customers.rfm import GROUP_NAMES, GROUPS, group_of, group_slug, score

from .conftest import csv_text

runner = CliRunner()
AS_OF = "2026-11-26"


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_every_score_pair_has_exactly_one_group() -> None:
    for r in range(1, 6):
        for fm2 in range(2, 11):  # FM = (F + M) / 2 in halves from 1 to 5
            fm = fm2 / 2
            hits = {s for s, _, (rl, rh), (fl, fh) in GROUPS if rl <= r <= rh and fl <= fm <= fh}
            assert len(hits) == 1, (r, fm, hits)
    assert len(GROUP_NAMES) == 11
    assert {s for s, *_ in GROUPS} | {"prospects"} == set(GROUP_NAMES)
    assert group_slug("Needs Attention") == "needs_attention" and group_slug("at-risk") == "at_risk"


def test_quantile_scores_on_twenty_customers_by_hand() -> None:
    """Customer i (1..20) last ordered i days ago, has i orders and spent 10*i. Fifths:
    customers 1-4 are the most recent (R5) and the fewest orders and least spend (F1,
    M1); 17-20 the reverse."""
    i = np.arange(1, 21)
    s = score(i.astype(float), i.astype(float), (10.0 * i).astype(float))
    assert s.method == "quantiles" and s.reason == ""
    fifth = [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4
    assert s.f.tolist() == fifth and s.m.tolist() == fifth
    assert s.r.tolist() == fifth[::-1]
    # R5 FM1 New; R4 FM2 and R3 FM3 Needs attention; R2 FM4 and R1 FM5 At risk
    assert s.groups == ["new"] * 4 + ["needs_attention"] * 8 + ["at_risk"] * 8
    assert s.thresholds == {
        "recency_days": [4.0, 8.0, 12.0, 16.0],
        "frequency": [5.0, 9.0, 13.0, 17.0],
        "monetary": [50.0, 90.0, 130.0, 170.0],
    }


def test_ties_share_a_score_and_prospects_have_none() -> None:
    # 20 buyers: 12 with one order, 8 with two; then one customer with no order.
    orders = np.array([1.0] * 12 + [2.0] * 8 + [0.0])
    days = np.array([10.0] * 20 + [np.nan])
    s = score(days, orders, orders * 5)
    # 12 of 20 have 1 order: nobody does worse, F1; the 8 with 2 orders have 12 worse:
    # 1 + floor(5 * 12 / 20) = 4.
    assert s.f.tolist() == [1] * 12 + [4] * 8 + [0]
    assert s.r.tolist()[:20] == [1] * 20  # all the same day: nobody is worse
    assert s.groups[-1] == "prospects"


def test_too_few_customers_use_fixed_cutoffs_and_say_so() -> None:
    s = score(np.array([5.0, 200.0]), np.array([8.0, 1.0]), np.array([1000.0, 99.0]))
    assert s.method == "fixed"
    assert s.reason == (
        "2 customers with orders are too few for quantiles (fewer than 20): fixed cut-offs used"
    )
    assert (s.r.tolist(), s.f.tolist(), s.m.tolist()) == ([5, 2], [5, 1], [5, 1])
    assert s.groups == ["champions", "dormant"]
    assert group_of(4, 3.5) == "loyal" and group_of(3, 5.0) == "previously_loyal"


# --- a small shop, by hand ----------------------------------------------------------------

HEADER = ["Order Id", "Email", "Customer Name", "Total", "Currency", "Received Date"]


def orders_rows() -> list[list[str]]:
    rows = []
    # A: 8 monthly orders of 100 (March to October) and 400 on 20 November: 9 orders,
    # 1200, 6 days ago -> R5 F5 M5: Champions.
    for m in range(3, 11):
        rows.append([f"A{m}", "a@example.com", "Ann A", "100.00", "GBP", f"2026-{m:02d}-01"])
    rows.append(["A11", "a@example.com", "Ann A", "400.00", "GBP", "2026-11-20"])
    # B: one order of 20 yesterday -> R5 F1 M1: New.
    rows.append(["B1", "b@example.com", "Bea B", "20.00", "GBP", "2026-11-25"])
    # C: 3 orders of 100, the last 86 days ago -> R4 (<= 90) F3 M3 (>= 250): Needs attention.
    for n, d in enumerate(("2026-06-01", "2026-07-15", "2026-09-01")):
        rows.append([f"C{n}", "c@example.com", "Cal C", "100.00", "GBP", d])
    # D: 5 orders of 120, the last 320 days ago -> R2 F4 (>= 5) M4 (600 >= 500): At risk.
    for n, d in enumerate(("2025-09-10", "2025-10-10", "2025-11-10", "2025-12-10", "2026-01-10")):
        rows.append([f"D{n}", "d@example.com", "Dee D", "120.00", "GBP", d])
    # E: one order of 10, 543 days ago -> R1 F1 M1: Dormant.
    rows.append(["E1", "e@example.com", "Eve E", "10.00", "GBP", "2025-06-01"])
    return rows


TAGBOOK = """\
version: 1
tags:
  - name: BIG
    priority: 20
  - name: WINBACK
    priority: 10
"""
RULES = """\
version: 1
rules:
  - name: big
    when: {customer: spend, over: 500}
    tag: BIG
  - name: win back
    when: {segment: at_risk}
    tag: WINBACK
"""


@pytest.fixture
def shop(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "orders": tmp_path / "orders.csv",
        "book": tmp_path / "tagbook.yaml",
        "rules": tmp_path / "rules.yaml",
    }
    paths["orders"].write_text(csv_text(HEADER, orders_rows()), encoding="utf-8")
    paths["book"].write_text(TAGBOOK, encoding="utf-8")
    paths["rules"].write_text(RULES, encoding="utf-8")
    return paths


def segments(shop: dict[str, Path], *args: str) -> Result:
    return run(
        "segments", shop["orders"], "-t", shop["book"], "-r", shop["rules"], "--as-of", AS_OF, *args
    )


def test_segments_table(shop: dict[str, Path]) -> None:
    result = segments(shop)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:13] == [
        "group               customers    share    spend GBP",
        "----------------  -----------  -------  -----------",
        "Champions                   1    20.0%      1200.00",
        "Loyal                       0     0.0%         0.00",
        "Active                      0     0.0%         0.00",
        "New                         1    20.0%        20.00",
        "Promising                   0     0.0%         0.00",
        "Needs attention             1    20.0%       300.00",
        "Almost lost                 0     0.0%         0.00",
        "Previously loyal            0     0.0%         0.00",
        "At risk                     1    20.0%       600.00",
        "Dormant                     1    20.0%        10.00",
        "Prospects                   0     0.0%         0.00",
    ]
    assert "recency: R5 <= 30 days, R4 <= 90 days, R3 <= 180 days, R2 <= 365 days" in result.stdout
    assert result.stderr == (
        "note: 5 customers with orders are too few for quantiles (fewer than 20): fixed "
        "cut-offs used\n"
    )


def test_segments_csv_and_json(shop: dict[str, Path]) -> None:
    as_csv = segments(shop, "--output-format", "csv")
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["Group", "Customers", "Share", "Spend GBP"]
    assert rows[1] == ["Champions", "1", "20.0", "1200.00"]
    as_json = json.loads(segments(shop, "--output-format", "json").stdout)
    assert as_json["method"] == "fixed" and as_json["total"] == 5
    assert [(g["group"], g["customers"]) for g in as_json["lines"] if g["customers"]] == [
        ("champions", 1),
        ("new", 1),
        ("needs_attention", 1),
        ("at_risk", 1),
        ("dormant", 1),
    ]


def test_fixed_cutoffs_from_the_rule_file(shop: dict[str, Path]) -> None:
    """With recency cut-offs of 1/2/3/400 days, D (320 days) is R2 -> still at risk, and
    C (86 days) becomes R2 with FM 3: Almost lost; A (6 days) R2 FM 5: Previously loyal."""
    shop["rules"].write_text(
        RULES + "segments:\n  method: fixed\n  recency_days: [1, 2, 3, 400]\n", encoding="utf-8"
    )
    data = json.loads(segments(shop, "--output-format", "json").stdout)
    got = {g["group"]: g["customers"] for g in data["lines"] if g["customers"]}
    assert got == {"previously_loyal": 1, "new": 1, "almost_lost": 1, "at_risk": 1, "dormant": 1}
    assert data["reason"] == "" and data["thresholds"]["recency_days"] == [1, 2, 3, 400]


def test_segments_by_tag_over_time(shop: dict[str, Path]) -> None:
    result = segments(shop, "--by", "tag", "--output-format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    # BIG: A (1200) and D (600). Last 30 days: A's 400 on 11-20. Last 90 (from 08-28):
    # A's 09-01, 10-01, 11-20 = 600. Last 365 (from 2025-11-26): A's 9 orders (1200)
    # and D's 12-10 and 01-10 (240). WINBACK: D only, the 2 orders within a year.
    assert rows == [
        ["Tag", "Days", "Customers", "Orders", "Spend GBP"],
        ["BIG", "30", "1", "1", "400.00"],
        ["BIG", "90", "1", "3", "600.00"],
        ["BIG", "365", "2", "11", "1440.00"],
        ["WINBACK", "30", "0", "0", "0.00"],
        ["WINBACK", "90", "0", "0", "0.00"],
        ["WINBACK", "365", "1", "2", "240.00"],
    ]


def test_segment_in_a_rule_tags_the_group(shop: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run(
        "apply",
        shop["orders"],
        "-t",
        shop["book"],
        "-r",
        shop["rules"],
        "--as-of",
        AS_OF,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        tagged = {r["Email"] for r in csv.DictReader(fh) if "WINBACK" in r["Customer Tags"]}
    assert tagged == {"d@example.com"}


def test_unknown_segment_in_a_rule(shop: dict[str, Path]) -> None:
    shop["rules"].write_text(RULES.replace("at_risk", "whales"), encoding="utf-8")
    result = runner.invoke(
        app, ["segments", str(shop["orders"]), "-t", str(shop["book"]), "-r", str(shop["rules"])]
    )
    assert result.exit_code == 1
    assert '"whales" is not an RFM group.' in result.stderr and "at_risk" in result.stderr


def test_export_by_segment(shop: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "list.csv"
    result = run(
        "export",
        shop["orders"],
        "-t",
        shop["book"],
        "-r",
        shop["rules"],
        "--as-of",
        AS_OF,
        "--segment",
        "Champions",
        "--segment",
        "new",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [
        "Email Address,First Name,Last Name,Orders,Spend,Tags",
        "a@example.com,Ann,A,9,1200.00,BIG",
        "b@example.com,Bea,B,1,20.00,",
    ]
    bad = runner.invoke(
        app, ["export", str(shop["orders"]), "-t", str(shop["book"]), "--segment", "vip", "-o", "-"]
    )
    assert bad.exit_code == 2 and '"vip" is not an RFM group' in bad.stderr
