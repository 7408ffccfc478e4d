"""Tagging many customers is one edit of the tag book (issue 21: an import of 1,000
customers took a minute, one tag-book write each): ``tag_customers`` works the whole
batch out as one list of changes, written once, the same text as tagging each in turn."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ordertags.base import files
from ordertags.customers.importing import apply_import, plan_import, tag_many
from ordertags.tagbook import TagRequest, load_tagbook, tag_customer, tag_customers
from ordertags.tagbook import store as tagbook_store

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

REQUESTS = [
    TagRequest("new1@example.com", ("VIP",), "first"),
    TagRequest("old.address@example.com", ("FRAUD",)),
    TagRequest("new1@example.com", ("VIP", "REGULAR")),  # again: VIP given above
    TagRequest("+44 7400 123456", ("CLAIMED-NON-RECEIPT",), None, "2027-01-31"),
    TagRequest("ebay:Quinn_Belfast", ("check",)),  # the tag in any case
    TagRequest("new2@example.com", ("NEW",)),
]


def _count_writes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    writes: list[Path] = []
    real = files.atomic_write_bytes

    def counting(path: Path, data: bytes) -> None:
        writes.append(path)
        real(path, data)

    monkeypatch.setattr(tagbook_store, "atomic_write_bytes", counting)
    return writes


@pytest.mark.parametrize("text_edits", [True, False])
def test_a_batch_is_the_same_as_each_in_turn(tmp_path: Path, text_edits: bool) -> None:
    one_by_one, batch = tmp_path / "a.yaml", tmp_path / "b.yaml"
    shutil.copy(ROOT / "tagbook.example.yaml", one_by_one)
    shutil.copy(ROOT / "tagbook.example.yaml", batch)
    singles = [
        tag_customer(one_by_one, r.identity, list(r.tags), note=r.note, expires=r.expires,
                     by="sam", now=NOW, text_edits=text_edits)
        for r in REQUESTS
    ]  # fmt: skip
    together = tag_customers(batch, REQUESTS, by="sam", now=NOW, text_edits=text_edits)
    assert together == singles
    assert batch.read_bytes() == one_by_one.read_bytes()
    assert [c.added for c in together] == [
        ("VIP",), ("FRAUD",), ("REGULAR",), ("CLAIMED-NON-RECEIPT",), ("CHECK",), ("NEW",)
    ]  # fmt: skip
    entries = load_tagbook(batch).entries
    assert sum(1 for e in entries if e.key == "new1@example.com") == 2


def test_import_and_tag_from_write_the_book_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = tmp_path / "tagbook.yaml"
    shutil.copy(ROOT / "tagbook.example.yaml", book)
    listed = tmp_path / "claimers.csv"
    listed.write_text(
        "identity,tag,note,expires\n"
        + "".join(f"buyer{i}@example.com,CLAIMED-NON-RECEIPT,claim {i},\n" for i in range(300)),
        encoding="utf-8",
    )
    writes = _count_writes(monkeypatch)
    done = apply_import(book, plan_import(book, listed), now=NOW)
    assert done.tagged == 300 and len(writes) == 1
    again = apply_import(book, plan_import(book, listed), now=NOW)
    assert again.tagged == 0 and len(writes) == 1  # nothing to change: nothing written
    values = [(i + 1, f"other{i}@example.com") for i in range(200)]
    bulk = tag_many(book, [*values, (201, "buyer7@example.com")], ["VIP"], now=NOW)
    assert (bulk.tagged, bulk.already) == (201, 0) and len(writes) == 2
    entries = load_tagbook(book).entries
    claimers = [e for e in entries if e.key.startswith("buyer") and e.tags != ("VIP",)]
    assert len(claimers) == 300 and all(e.tags == ("CLAIMED-NON-RECEIPT",) for e in claimers)
