#!/usr/bin/env python3
"""A 60-column Shopify-shaped orders export made from a gen_orders.py data set.

Usage: gen_shopify_wide.py DATA_DIR OUT_DIR [--seed S]

Reads DATA_DIR/orders.csv (written by ../shared/bench/gen_orders.py) and writes
OUT_DIR/orders.csv with the same orders (one row per order, so the same customers,
totals and dates) under 60 of the columns of Shopify's Orders > Export header (the
mid-2025 header of ../shared/reference/export-formats.md without the Tax 2-5 pairs,
Duties, the province names, Outstanding Balance, Device ID, Receipt Number, Lineitem
compare at price and the four payment-terms columns: about the 2022 export's shape), the
other columns filled with
realistic text: statuses, timestamps in Shopify's `YYYY-MM-DD HH:MM:SS +0000`, billing
and shipping addresses, product names and SKUs, payment references, multi-line note
attributes. Copies vip_emails.txt and fraud_emails.txt beside it, so the reference rules
run on it unchanged. Values are quoted only where they must be (the delimiter, a quote or
a line break), as the csv module writes them.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,"
    "Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Employee,"
    "Location,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Phone"
).split(",")
assert len(HEADER) == 60, len(HEADER)

PRODUCTS = [
    ("Merino Beanie - Charcoal", "BEAN-CHR", "Northwool"),
    ("Selling Plans Ski Wax", "WAX-SP-01", "Test Cycle Sense App"),
    ('Snowboard "Powder" 152cm', "SB-PWD-152", "Snowboard Vendor"),
    ("Gift Card - £25", "GC-25", "Gift Cards"),
    ("Trail Socks, 3 pack", "SOCK-3PK", "Northwool"),
    ("Enamel Mug — Forest Green", "MUG-ENM-GRN", "Camp & Co"),
    ("Waterproof Jacket - Navy / M", "JKT-WP-NV-M", "Camp & Co"),
    ("Chloé Silk Scarf", "SCF-CHL-01", "Atelier Søren"),
]
PROVINCES = ["England", "Scotland", "Wales", "Northern Ireland", ""]
COUNTRY_CODES = {
    "United Kingdom": "GB",
    "Ireland": "IE",
    "France": "FR",
    "Germany": "DE",
    "United States": "US",
    "Spain": "ES",
    "Italy": "IT",
    "Netherlands": "NL",
    "Poland": "PL",
}
PAYMENTS = ["Shopify Payments", "PayPal Express Checkout", "Shop Pay", "manual"]
NOTE_ATTRIBUTES = [
    "",
    "",
    "",
    "gift_wrap: yes",
    "created_at: 1639983837\nmc_cid: 63c528caa1",
    "delivery_date: 2025-12-20\ndelivery_note: leave with neighbour",
]


def pick(
    rng: np.random.Generator, choices: list[str], n: int, p: list[float] | None = None
) -> list[str]:
    arr = np.array(choices, dtype=object)
    return list(arr[rng.choice(len(choices), size=n, p=p)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    src = a.data / "orders.csv"
    with open(src, newline="", encoding="utf-8") as f:
        names = next(csv.reader(f))
    t = pacsv.read_csv(
        src,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in names}, strings_can_be_null=False
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
    )
    n = t.num_rows
    rng = np.random.default_rng(a.seed)
    col = {c: t.column(c).to_pylist() for c in names}
    created = [
        f"{d}:{s:02d} +0000"
        for d, s in zip(col["Received Date"], rng.integers(0, 60, n), strict=True)
    ]
    fulfilled_flag = rng.random(n) < 0.9
    fulfilled_at = [c if f else "" for c, f in zip(created, fulfilled_flag, strict=True)]
    prod = rng.integers(0, len(PRODUCTS), n)
    subtotal = np.array(col["Subtotal"], dtype=float)
    items = np.maximum(np.array(col["Items"], dtype=np.int64), 1)
    price = [f"{v:.2f}" for v in subtotal / items]
    taxes = [f"{v:.2f}" for v in subtotal / 6]
    country = [COUNTRY_CODES.get(c, "GB") for c in col["Country"]]
    address2 = pick(rng, ["", "", "", "Flat 2", "Unit 14, Riverside Estate", "c/o Reception"], n)
    company = pick(rng, ["", "", "", "", "Acme Ltd", "Hughes & Daughters"], n)
    province = pick(rng, PROVINCES, n)
    discount = rng.random(n) < 0.12
    code = [("WELCOME10" if d else "") for d in discount]
    disc_amt = [
        (f"{s * 0.1:.2f}" if d else "0.00") for s, d in zip(subtotal, discount, strict=True)
    ]
    ref = [f"r{x:024x}"[:25] for x in rng.integers(0, 2**62, n)]
    ids = [str(6634244374859 + 7 * i) for i in range(n)]
    fin = pick(rng, ["paid", "paid", "paid", "paid", "pending", "partially_refunded"], n)
    cols: list[list[str]] = [
        ["#" + x for x in col["Order Id"]],
        col["Email"],
        fin,
        created,
        ["fulfilled" if f else "unfulfilled" for f in fulfilled_flag],
        fulfilled_at,
        pick(rng, ["yes", "no"], n),
        col["Currency"],
        col["Subtotal"],
        col["Shipping Cost"],
        taxes,
        col["Total"],
        code,
        disc_amt,
        col["Postal Service"],
        created,
        col["Items"],
        [PRODUCTS[i][0] for i in prod],
        price,
        [PRODUCTS[i][1] for i in prod],
        ["true"] * n,
        ["true"] * n,
        ["fulfilled" if f else "pending" for f in fulfilled_flag],
        col["Customer Name"],
        col["Address1"],
        col["Address1"],
        address2,
        company,
        col["Town"],
        col["Postcode"],
        province,
        country,
        col["Phone"],
        col["Customer Name"],
        col["Address1"],
        col["Address1"],
        address2,
        company,
        col["Town"],
        col["Postcode"],
        province,
        country,
        col["Phone"],
        col["Notes"],
        pick(rng, NOTE_ATTRIBUTES, n),
        pick(rng, [""] * 49 + ["2025-06-01 10:00:00 +0000"], n),
        pick(rng, PAYMENTS, n),
        ref,
        pick(rng, ["0.00"] * 19 + ["5.00"], n),
        [PRODUCTS[i][2] for i in prod],
        pick(rng, ["", "", "", "Luis Guimaraes"], n),
        pick(rng, ["", "Shop location", "Warehouse 2"], n),
        ids,
        pick(rng, ["", "", "", "wholesale", "repeat, newsletter"], n),
        pick(rng, ["Low"] * 18 + ["Medium", "High"], n),
        pick(rng, ["web", "web", "shopify_draft_order", "580111", "pos"], n),
        ["0.00"] * n,
        ["VAT 20%"] * n,
        taxes,
        col["Phone"],
    ]
    assert len(cols) == len(HEADER)
    a.out.mkdir(parents=True, exist_ok=True)
    with open(a.out / "orders.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(zip(*cols, strict=True))
    for name in ("vip_emails.txt", "fraud_emails.txt"):
        shutil.copyfile(a.data / name, a.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
