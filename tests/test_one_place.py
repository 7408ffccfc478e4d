"""One of each: a list filtered by tag is a column operation over the customers' tag
columns (no Python loop per customer), and a run's orders are told apart by one key
(``Frame.orders.distinct``) wherever they are counted or recorded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from ordertags.reports.lists import CustomerRows, ListFilter, filter_mask


class Untouchable(Sequence[tuple[str, ...]]):
    """Per-customer tags that must not be read one customer at a time."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> tuple[str, ...]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[str, ...]]: ...

    def __getitem__(self, i: int | slice) -> Any:
        raise AssertionError("a customer's tags were read one customer at a time")

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        raise AssertionError("the customers' tags were looped over")


def _customers(n: int, flags: dict[str, np.ndarray[Any, np.dtype[np.bool_]]]) -> CustomerRows:
    nat = np.full(n, np.datetime64("NaT"), "datetime64[D]")
    return CustomerRows(
        key=[f"c{i}@example.com" for i in range(n)],
        email=[f"c{i}@example.com" for i in range(n)],
        first_name=[""] * n,
        last_name=[""] * n,
        tags=Untouchable(n),  # type: ignore[arg-type]
        orders=np.ones(n, dtype=np.int64),
        spend={},
        consent=np.full(n, -1, dtype=np.int8),
        consent_recorded=False,
        last_order=nat,
        first_order=nat,
        channels=[()] * n,
        country=[""] * n,
        tag_flags=flags,
    )


def test_list_filtered_by_tag_reads_tag_columns_not_each_customer() -> None:
    n = 6
    vip = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    fraud = np.array([0, 0, 1, 0, 0, 1], dtype=bool)
    rows = _customers(n, {"VIP": vip, "FRAUD": fraud})
    keep, taken_out = filter_mask(rows, ListFilter(tags=("vip",), not_tags=("Fraud",)))
    # By hand: VIP customers 0, 2, 4; customer 2 is FRAUD too and is taken out.
    assert keep.tolist() == [True, False, False, False, True, False]
    assert taken_out == 1
    keep_all, _ = filter_mask(rows, ListFilter(tags=("VIP", "FRAUD"), all_tags=True))
    assert keep_all.tolist() == [False, False, True, False, False, False]


def test_tag_columns_made_from_hand_made_tags_and_kept_by_take() -> None:
    nat = np.full(3, np.datetime64("NaT"), "datetime64[D]")
    rows = CustomerRows(
        key=["a", "b", "c"],
        email=["a@x.org", "b@x.org", "c@x.org"],
        first_name=[""] * 3,
        last_name=[""] * 3,
        tags=[("VIP", "GOLD"), (), ("GOLD",)],
        orders=np.ones(3, dtype=np.int64),
        spend={},
        consent=np.full(3, -1, dtype=np.int8),
        consent_recorded=False,
        last_order=nat,
        first_order=nat,
        channels=[()] * 3,
        country=[""] * 3,
    )
    assert {t: f.tolist() for t, f in rows.tag_flags.items()} == {
        "VIP": [True, False, False],
        "GOLD": [True, False, True],
    }
    picked = rows.take(np.array([2, 0], dtype=np.int64))
    assert picked.tags == [("GOLD",), ("VIP", "GOLD")]
    assert {t: f.tolist() for t, f in picked.tag_flags.items()} == {
        "VIP": [False, True],
        "GOLD": [True, True],
    }


def test_recorded_orders_follow_the_frame_order_key() -> None:
    """``run_orders`` keeps one version per order as ``Frame.orders.distinct`` tells
    them apart, not by a key of its own: where the frame says two rows are one order,
    the history is given one."""
    import datetime as dt

    from ordertags.engine.frame import Frame
    from ordertags.engine.resolution import run_orders
    from ordertags.io.readers import parse_orders

    text = (
        "Order Id,Email,Total,Date\r\n"
        "1001,a@example.com,10.00,2026-11-01\r\n"
        "1002,b@example.com,20.00,2026-11-02\r\n"
        "1003,c@example.com,30.00,2026-11-03\r\n"
    )
    frame = Frame([parse_orders(text.encode(), source="o.csv")], as_of=dt.date(2026, 11, 26))
    batch = run_orders(frame)
    assert batch is not None and batch.order_id == ["1001", "1002", "1003"]

    frame = Frame([parse_orders(text.encode(), source="o.csv")], as_of=dt.date(2026, 11, 26))
    # The frame's one key says 1001 and 1003 are copies of one order (the last kept).
    frame.orders.__dict__["distinct"] = np.array([0, 1, 0], dtype=np.int64)
    batch = run_orders(frame)
    assert batch is not None and batch.order_id == ["1002", "1003"]
