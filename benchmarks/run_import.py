#!/usr/bin/env python3
"""``ordertags import`` of a plain list of many customers into a tag book: one edit of
the tag book for the whole file (``tag_customers``). Prints the seconds of
``plan_import`` + ``apply_import`` per size, on a fresh copy of the example tag book.

    python benchmarks/run_import.py                     # 1,000 and 10,000 customers
    python benchmarks/run_import.py --customers 500
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from ordertags.customers.importing import apply_import, plan_import

REPO = Path(__file__).resolve().parent.parent


def run(customers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "tagbook.yaml"
        shutil.copy(REPO / "tagbook.example.yaml", book)
        listed = Path(tmp) / "claimers.csv"
        rows = ["identity,tag,note,expires"]
        rows += [f"buyer{i}@example.com,CLAIMED-NON-RECEIPT,claim {i}," for i in range(customers)]
        listed.write_text("\n".join(rows) + "\n", encoding="utf-8")
        start = time.perf_counter()
        plan = plan_import(book, listed)
        done = apply_import(book, plan)
        took = time.perf_counter() - start
        assert done.tagged == customers, done
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, action="append")
    args = parser.parse_args()
    for n in args.customers or [1_000, 10_000]:
        print(f"{n:,} customers: {run(n):.2f} s")


if __name__ == "__main__":
    main()
