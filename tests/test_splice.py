"""A column of a big export that rules change (``set:`` on a middle column) is spliced
into each record's own bytes: the output is the very bytes re-writing every value gives,
and the records are still copied (not re-written a batch at a time)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordertags.io.readers import Dialect, read_orders_lazily
from ordertags.io.writers import _cells, _splice, copy_plan, write_table

CELLS = st.text(alphabet='ab ,"\n\\é;', max_size=6)


def _line(row: list[str], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(row)
    return buf.getvalue()[:-1]


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(2, 6),  # one column: csv writes an empty record as ""
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_a_spliced_record_is_the_record_written_with_the_new_value(
    width: int, data: st.DataObject, delimiter: str
) -> None:
    rows = data.draw(
        st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=1, max_size=8)
    )
    pos = data.draw(st.integers(0, width - 1))
    new = data.draw(st.lists(CELLS, min_size=len(rows), max_size=len(rows)))
    # As raw_blocks hands them over: every record but the first starts with the line
    # end before it.
    records = [("\n" if i else "") + _line(r, delimiter) for i, r in enumerate(rows)]
    values = pa.array([r.encode() for r in records], pa.binary())
    cells = _cells(pa.array(new, pa.string()), "[" + delimiter + '"\r\n]')
    got = _splice(values, pos, width, cells, Dialect(delimiter=delimiter))
    expected = [
        ("\n" if i else "") + _line([*r[:pos], v, *r[pos + 1 :]], delimiter)
        for i, (r, v) in enumerate(zip(rows, new, strict=True))
    ]
    assert [b.decode() for b in got.to_pylist()] == expected


def test_set_on_a_middle_column_copies_the_records_and_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "orders.csv"
    body = (
        "Order Id,Name,Service,Notes,Total\n"
        '1,"Ann, A",Post,"two\nlines",1.00\n'
        '2,"Bo ""B""",Post,,2.00\n'
        "3,Cy,Courier,x,3.00\n"
    )
    src.write_bytes(body.encode())
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
    monkeypatch.setenv("ORDERTAGS_BATCH_BYTES", "4096")
    table = read_orders_lazily(src, prefetch=lambda t: [0], scan=True)
    assert table is not None
    service = pa.chunked_array([pa.array(['Tracked, "fast"', "Post", "Courier"])])
    tags = pa.chunked_array([pa.array(["VIP", "", "VIP"])])
    plan = [0, 1, service, 3, 4, tags]
    chosen = copy_plan(
        None,
        None,
        profile_first=False,
        excel_safe=False,
        table=table,
        plan=plan,
        dialect=Dialect(),
    )
    assert chosen.reason == "" and chosen.records is not None
    out = io.BytesIO()
    write_table(out, table, {"Service": service, "Customer Tags": tags})
    assert out.getvalue().decode() == (
        "Order Id,Name,Service,Notes,Total,Customer Tags\n"
        '1,"Ann, A","Tracked, ""fast""","two\nlines",1.00,VIP\n'
        '2,"Bo ""B""",Post,,2.00,\n'
        "3,Cy,Courier,x,3.00,VIP\n"
    )


def test_a_moved_column_is_never_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "orders.csv"
    src.write_bytes(b"Order Id,Name,Total\n1,Ann,1.00\n")
    monkeypatch.setenv("ORDERTAGS_STREAM_ABOVE", "0")
    table = read_orders_lazily(src, prefetch=lambda t: [0], scan=True)
    assert table is not None
    tags = pa.chunked_array([pa.array(["VIP"])])
    moved = copy_plan(
        None,
        None,
        profile_first=False,
        excel_safe=False,
        table=table,
        plan=[1, 0, 2, tags],
        dialect=Dialect(),
    )
    assert moved.reason == "a column of the export is moved"
