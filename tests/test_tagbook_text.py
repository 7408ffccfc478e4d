"""Quick edits of a large tag book: ``tag``/``untag`` change only the lines of the entries
concerned (the rest of the file byte for byte), give the same data as the round trip,
fall back to it for unusual layouts, and a parse cache keyed by the book's bytes is
used only for exactly those bytes."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from ordertags.base.cache import cache_dir
from ordertags.base.yamlfiles import load_schema, load_yaml, load_yaml_nodes
from ordertags.base.yamltext import guess_indent
from ordertags.cli.tables import draw as render_text_table
from ordertags.errors import TagBookError
from ordertags.tagbook import (
    cachefile,
    link_identities,
    load_tagbook,
    reader,
    roundtrip,
    suppress_address,
    tag_customer,
    unlink_identities,
    untag_customer,
)

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
AT = "2026-11-29T10:00:00+00:00"

HEAD = """\
# shop tag book
version: 1
tags:
  - name: VIP
    colour: gold
  - name: REGULAR
    colour: teal
  - name: FRAUD
    colour: red

# customers tagged by hand
customers:
"""
ENTRIES = """\
  - email: ann@example.com   # met at the fair
    tags: [VIP]
    note: Wholesale
  # bob asked for this
  - email: bob@example.com
    tags: [VIP, REGULAR]
    by: sam
"""
TAIL = """\

# end of customers
links:
  - same: [ann@example.com, ann.b@example.com]
"""
BOOK = HEAD + ENTRIES + TAIL


def data_of(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8-sig"), file=str(path), error=TagBookError)


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Counts the edits that went through the round trip instead of the text path."""
    calls: list[Path] = []
    real = roundtrip.write

    def spy(path: Path, *args: Any) -> Any:
        calls.append(path)
        return real(path, *args)

    monkeypatch.setattr(roundtrip, "write", spy)
    return calls


def both_ways(tmp_path: Path, text: str | bytes, edit: Any) -> tuple[Path, Path]:
    """The same edit on two copies: by text, and (text edits off) by the round trip."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    by_text, by_yaml = tmp_path / "text.yaml", tmp_path / "yaml.yaml"
    by_text.write_bytes(raw)
    by_yaml.write_bytes(raw)
    edit(by_text, True)
    edit(by_yaml, False)
    return by_text, by_yaml


def tag(
    path: Path, who: str, tags: list[str], note: str | None = None, text_edits: bool = True
) -> Any:
    return tag_customer(path, who, tags, note=note, by="sam", now=NOW, text_edits=text_edits)


# --- tag: one entry appended after the last one ----------------------------------------


@pytest.mark.parametrize(
    ("note", "written"),
    [
        ("Big order", "Big order"),
        ("yes", '"yes"'),
        ("1:20", '"1:20"'),
        ("#hash", '"#hash"'),
        ("ask: twice", '"ask: twice"'),
        ('say "hi"', 'say "hi"'),
        ("2027-01-01", "2027-01-01"),  # dates are read as text
        (" padded", '" padded"'),
        ("tab\there", '"tab\\there"'),
    ],
)
def test_tag_appends_the_entry_lines_and_nothing_else(
    tmp_path: Path, round_trips: list[Path], note: str, written: str
) -> None:
    by_text, by_yaml = both_ways(
        tmp_path, BOOK, lambda p, t: tag(p, "Cat@Example.com", ["VIP"], note, t)
    )

    added = (
        "  - email: Cat@Example.com\n"
        "    tags: [VIP]\n"
        f"    note: {written}\n"
        "    by: sam\n"
        f"    at: {AT}\n"
    )
    assert by_text.read_text(encoding="utf-8") == HEAD + ENTRIES + added + TAIL
    assert data_of(by_text) == data_of(by_yaml)
    assert data_of(by_text)["customers"][-1]["note"] == note
    assert round_trips == [by_yaml]  # the text path did the first


def test_tag_keeps_crlf_bom_and_a_sequence_without_indent(
    tmp_path: Path, round_trips: list[Path]
) -> None:
    flat_entries = (
        ENTRIES.replace("  - email:", "- email:").replace("    ", "  ").replace("  # bob", "# bob")
    )
    assert flat_entries.startswith("- email: ann@example.com   # met at the fair\n  tags: [VIP]\n")
    raw = b"\xef\xbb\xbf" + (HEAD + flat_entries + TAIL).replace("\n", "\r\n").encode("utf-8")
    by_text, by_yaml = both_ways(
        tmp_path, raw, lambda p, t: tag(p, "cat@example.com", ["FRAUD"], text_edits=t)
    )

    added = f"- email: cat@example.com\n  tags: [FRAUD]\n  by: sam\n  at: {AT}\n"
    expected = b"\xef\xbb\xbf" + (HEAD + flat_entries + added + TAIL).replace("\n", "\r\n").encode(
        "utf-8"
    )
    assert by_text.read_bytes() == expected
    assert data_of(by_text) == data_of(by_yaml)
    assert round_trips == [by_yaml]


def test_retag_with_a_new_note_rewrites_that_note_only(
    tmp_path: Path, round_trips: list[Path]
) -> None:
    def edit(p: Path, t: bool) -> None:
        assert tag(p, "ann@example.com", ["VIP"], "no: more wholesale", t).note_updated
        assert tag(p, "bob@example.com", ["REGULAR"], "Trade #2", t).note_updated

    by_text, by_yaml = both_ways(tmp_path, BOOK, edit)

    expected = BOOK.replace("    note: Wholesale\n", '    note: "no: more wholesale"\n').replace(
        "    by: sam\n", '    by: sam\n    note: "Trade #2"\n'
    )
    assert by_text.read_text(encoding="utf-8") == expected  # the comments are all there
    assert data_of(by_text) == data_of(by_yaml)
    assert round_trips == [by_yaml, by_yaml]


# --- untag: the entry's lines removed, or its tags rewritten ---------------------------


def test_untag_removes_or_rewrites_the_entries_lines(
    tmp_path: Path, round_trips: list[Path]
) -> None:
    def edit(p: Path, t: bool) -> None:
        assert untag_customer(p, "ANN@example.com", ["VIP"], text_edits=t).removed == ("VIP",)
        assert untag_customer(p, "bob@example.com", ["VIP"], text_edits=t).removed == ("VIP",)

    by_text, by_yaml = both_ways(tmp_path, BOOK, edit)

    expected = (
        HEAD
        + ("  # bob asked for this\n  - email: bob@example.com\n    tags: [REGULAR]\n    by: sam\n")
        + TAIL
    )
    assert by_text.read_text(encoding="utf-8") == expected
    assert data_of(by_text) == data_of(by_yaml)
    assert round_trips == [by_yaml, by_yaml]


def test_tag_then_untag_gives_back_the_same_bytes(tmp_path: Path, round_trips: list[Path]) -> None:
    path = tmp_path / "tagbook.yaml"
    raw = b"\xef\xbb\xbf" + BOOK.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(raw)
    tag(path, "dee@example.com", ["VIP", "FRAUD"], "yes")
    assert untag_customer(path, "dee@example.com", ["VIP", "FRAUD"]).removed == ("VIP", "FRAUD")
    assert path.read_bytes() == raw
    assert round_trips == []


# --- suppress and link: an item appended to their lists --------------------------------

SUPPRESSED = """\
suppressed:   # never on a list
  - email: old@example.com
    reason: unsubscribed
"""


def test_suppress_and_link_append_their_items_by_text(
    tmp_path: Path, round_trips: list[Path]
) -> None:
    def edit(p: Path, t: bool) -> None:
        assert suppress_address(
            p, "Eve@Example.com", reason="yes", by="sam", now=NOW, text_edits=t
        ).added
        assert not suppress_address(p, "eve@example.com", by="sam", now=NOW, text_edits=t).added
        assert link_identities(
            p, "dee@example.com", "07700 900123", by="sam", now=NOW, text_edits=t
        ).added

    by_text, by_yaml = both_ways(tmp_path, BOOK + SUPPRESSED, edit)

    expected = (
        BOOK.replace(
            "ann.b@example.com]\n",
            "ann.b@example.com]\n"
            f"  - same: [dee@example.com, 07700 900123]\n    by: sam\n    at: {AT}\n",
        )
        + SUPPRESSED
        + f'  - email: Eve@Example.com\n    reason: "yes"\n    by: sam\n    at: {AT}\n'
    )
    assert by_text.read_text(encoding="utf-8") == expected
    assert data_of(by_text) == data_of(by_yaml)
    assert round_trips == [by_yaml] * 3
    book = load_tagbook(by_text)
    assert [s.key for s in book.suppressed] == ["old@example.com", "eve@example.com"]
    assert [(x.a, x.b, x.same) for x in book.links][-1] == (
        "dee@example.com",
        "07700 900123",
        True,
    )


def test_suppress_without_a_list_and_unlink_of_a_link_take_the_round_trip(
    tmp_path: Path, round_trips: list[Path]
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    assert suppress_address(path, "eve@example.com", by="sam", now=NOW).added
    change = unlink_identities(path, "ann@example.com", "ann.b@example.com", by="sam", now=NOW)
    assert (change.added, change.removed) == (True, 1)
    assert round_trips == [path, path]
    book = load_tagbook(path)
    assert [s.email for s in book.suppressed] == ["eve@example.com"]
    assert [x.same for x in book.links] == [False]
    assert "# bob asked for this" in path.read_text(encoding="utf-8")


# --- the round trip for everything else ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "edit"),
    [
        pytest.param(
            HEAD.replace("customers:\n", "customers: [{email: ann@example.com, tags: [VIP]}]\n"),
            "tag",
            id="flow-style list",
        ),
        pytest.param(HEAD.replace("customers:\n", "") + "customers:\n", "tag", id="empty list"),
        pytest.param(HEAD.replace("customers:\n", ""), "tag", id="no customers key"),
        pytest.param(
            BOOK.replace("colour: gold", "colour: &gold gold"), "tag", id="an anchor in the file"
        ),
        pytest.param(
            BOOK.replace("tags: [VIP, REGULAR]", "tags:\n      - VIP\n      - REGULAR"),
            "untag",
            id="block-style tags",
        ),
        pytest.param(HEAD + ENTRIES.rstrip("\n"), "tag", id="no line end at the end"),
        pytest.param(BOOK.replace("\n# end of", "\r# end of"), "tag", id="a line end that is CR"),
        pytest.param(BOOK.replace("\n# end of", "\u2028# end of"), "tag", id="a line separator"),
        pytest.param(
            BOOK.replace("note: Wholesale", 'note: "Whole\u2028sale"'),
            "tag",
            id="a line separator in a quoted note",
        ),
        pytest.param(
            BOOK.replace("    note: Wholesale\n", "    note: >\n      Wholesale\n"),
            "note",
            id="a folded note",
        ),
        pytest.param(
            BOOK.replace("  - email: bob", "  -\n    email: bob"),
            "untag",
            id="dash on its own line",
        ),
    ],
)
def test_unusual_layouts_take_the_round_trip(
    tmp_path: Path, round_trips: list[Path], text: str, edit: str
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(text, encoding="utf-8")
    if edit == "tag":
        tag(path, "cat@example.com", ["VIP"])
    elif edit == "note":
        tag(path, "ann@example.com", ["VIP"], "new note")
    else:
        untag_customer(path, "bob@example.com", ["VIP"])
    assert round_trips == [path]
    book = load_tagbook(path)
    if edit == "tag":
        assert book.entries[-1].identity == "cat@example.com"
    elif edit == "note":
        assert book.entries[0].note == "new note"
    else:
        assert [e.tags for e in book.entries if e.identity == "bob@example.com"] == [("REGULAR",)]
    assert "# shop tag book" in path.read_text(encoding="utf-8")


def test_guess_indent_agrees_with_ruamel() -> None:
    from ruamel.yaml.util import load_yaml_guess_indent

    for text in (BOOK, BOOK.replace("\n  - ", "\n- ").replace("\n    ", "\n  ")):
        _, indent, offset = load_yaml_guess_indent(text)
        assert guess_indent(text) == (indent, offset)


# --- the parse cache -------------------------------------------------------------------


def big_book(count: int) -> str:
    lines = [HEAD]
    for i in range(count):
        lines.append(f"  - email: buyer{i:04d}@example.com\n    tags: [VIP]\n    note: order {i}\n")
    return "".join(lines) + TAIL


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CACHE_MIN_BYTES", 0)


def cache_files() -> list[Path]:
    """The cached parses of tag books (not the marks of files found valid)."""
    folder = cache_dir()
    assert folder is not None
    return sorted(folder.glob("tagbooks/*.json"))


def test_the_cache_is_private_and_used_for_the_same_bytes_only(
    tmp_path: Path, cached: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    assert [e.note for e in load_tagbook(path).entries] == ["Wholesale", None]
    (slot,) = cache_files()
    assert stat.S_IMODE(slot.stat().st_mode) == 0o600
    assert stat.S_IMODE(slot.parent.stat().st_mode) == 0o700

    # The cache is used: a parse that would fail is never reached.
    def no_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed again")

    real_parse = reader.parse_text
    monkeypatch.setattr(reader, "parse_text", no_parse)
    assert [e.note for e in load_tagbook(path).entries] == ["Wholesale", None]
    monkeypatch.setattr(reader, "parse_text", real_parse)

    # Edited by hand: same size, same modification time; the cache is not used.
    info = path.stat()
    path.write_text(BOOK.replace("Wholesale", "Retailers"), encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    assert [e.note for e in load_tagbook(path).entries] == ["Retailers", None]


@pytest.mark.parametrize(
    "junk",
    [b"", b"not json", b'{"stamp": 1}', b"[1, 2]", None],
    ids=["empty", "garbage", "foreign", "a list", "right key, wrong shape"],
)
def test_a_corrupt_cache_is_ignored_and_rewritten(
    tmp_path: Path, cached: None, junk: bytes | None
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    load_tagbook(path)
    (slot,) = cache_files()
    if junk is None:  # the stamp and the digest match, what they hold does not
        junk = slot.read_bytes().replace(b'"entries":[', b'"entries":[[1],')
    slot.write_bytes(junk)
    assert [e.identity for e in load_tagbook(path).entries] == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert b"bob@example.com" in slot.read_bytes()  # written again


def test_after_text_edits_the_cache_holds_what_a_full_parse_gives(
    tmp_path: Path, cached: None, round_trips: list[Path]
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(big_book(30), encoding="utf-8")
    load_tagbook(path)
    tag(path, "new@example.com", ["VIP"], "yes")
    untag_customer(path, "buyer0003@example.com", ["VIP"])
    tag(path, "buyer0007@example.com", ["REGULAR"])
    untag_customer(path, "buyer0007@example.com", ["VIP"])
    tag(path, "buyer0009@example.com", ["VIP"], "no")
    assert round_trips == []

    raw = path.read_bytes()
    from_cache = reader.book_of(raw, path, str(path))
    parsed = reader.parse_text(raw.decode("utf-8"), file=str(path))
    assert cachefile.book_to_json(*from_cache) == cachefile.book_to_json(*parsed)
    assert len(from_cache[0].entries) == 30  # 30 + new - buyer0003 + buyer0007 - buyer0007


def test_concurrent_tag_processes_on_a_cached_book_all_land(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(big_book(400), encoding="utf-8")
    assert path.stat().st_size > reader.CACHE_MIN_BYTES
    emails = [f"new{i}@example.com" for i in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ordertags", "tag", email, "--tag", "VIP", "-t", str(path)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for email in emails
    ]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [o[0] for o in outcomes] == [0] * len(emails), outcomes
    book = load_tagbook(path)
    assert sorted(e.identity for e in book.entries[400:]) == emails
    parsed = reader.parse_text(path.read_text(encoding="utf-8"), file=str(path))[0]
    assert [e.identity for e in parsed.entries] == [e.identity for e in book.entries]


def test_no_cache_when_turned_off(
    tmp_path: Path, cached: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERTAGS_NO_CACHE", "1")
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    load_tagbook(path)
    monkeypatch.delenv("ORDERTAGS_NO_CACHE")
    assert cache_files() == []


# --- the quick entry check agrees with the schema --------------------------------------

ENTRY_SAMPLES: list[Any] = [
    {"email": "a@example.com", "tags": ["VIP"]},
    {"email": "a@example.com", "tags": ["VIP"], "note": None, "by": "sam", "at": "2026-01-01"},
    {"phone": "+447700900123", "tags": ["VIP", "X.1-2_3"], "expires": "2027-01-01T10:00"},
    {"id": "ebay:quinn", "tags": ["VIP"]},
    {"id": "9bay:quinn", "tags": ["VIP"]},
    {"id": "ebay", "tags": ["VIP"]},
    {"address": "GB; EH2 2PR; 10 Rose St", "tags": ["VIP"]},
    {"address": "ab", "tags": ["VIP"]},
    {"address": "abcd", "tags": ["VIP"]},  # the schema's length; the text is read later
    {"email": "a@example.com", "tags": []},
    {"email": "a@example.com", "tags": "VIP"},
    {"email": "a@example.com", "tags": ["-VIP"]},
    {"email": "a@example.com", "tags": ["VIP"], "extra": 1},
    {"email": "a@example.com", "phone": "+447700900123", "tags": ["VIP"]},
    {"tags": ["VIP"]},
    {"email": "ab", "tags": ["VIP"]},
    {"phone": "12345", "tags": ["VIP"]},
    {"email": 12345, "tags": ["VIP"]},
    {"email": "a@example.com", "tags": ["VIP"], "note": 5},
    {"email": "a@example.com", "tags": ["VIP"], "at": "yesterday"},
    {"email": "a@example.com", "tags": ["VIP"], "at": None},
    {"email": "a@example.com", "tags": ["VIP"], "by": True},
    {"email": "a@example.com", "tags": [True]},
    ["email", "a@example.com"],
    None,
]


@pytest.mark.parametrize("entry", ENTRY_SAMPLES)
def test_the_quick_entry_check_never_passes_what_the_schema_refuses(entry: Any) -> None:
    schema = load_schema("tagbook")
    book = {"tags": [{"name": "VIP"}], "customers": [entry]}
    valid = jsonschema.validators.validator_for(schema)(schema).is_valid(book)
    if reader.entry_fits(entry):
        assert valid
    assert reader.entry_fits(entry) == valid  # and here, agrees both ways


# --- tags: the list of a large book ----------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [("a@example.com", "VIP", " padded ", "sam", "2026-01-01", "")],
        [("ü@example.com", "VIP, REGULAR", "漢字 ★ note", "", "", "2027-01-01 (expired)")],
        [
            ("a@example.com", "VIP", "123", "", "", ""),
            ("b@example.com", "VIP", "1,000", "", "", ""),
        ],
        [("a@example.com", "VIP", "line\nbreak", "", "", "")],
        [("FRAUD", 100, "customer", "red", "★ FRAUD — hold", ""), ("VIP", -5, "", "", "", "x")],
    ],
)
def test_the_text_table_is_drawn_as_tabulate_draws_it(rows: list[tuple[Any, ...]]) -> None:
    headers = ["customer", "tags", "note", "by", "at", "expires"]
    assert render_text_table(rows, headers) == tabulate(rows, headers=headers)


def test_the_benchmark_builds_a_book_that_reads_back(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from run_quick import build_book
    finally:
        sys.path.pop(0)
    path = tmp_path / "tagbook.yaml"
    build_book(path, 12)
    book = load_tagbook(path)
    assert len(book.entries) == 12
    assert len({e.key for e in book.entries}) == 12


# --- property: any sequence of edits gives the round trip's data ------------------------

_NOTE_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r")
_NOTES = st.one_of(
    st.none(),
    st.sampled_from(["yes", "no", "1:20", "#1", "a: b", "~", "null", "[x]", "'q'", '"d"', "-"]),
    st.text(_NOTE_CHARS, min_size=1, max_size=12),
)
_WHO = st.sampled_from(["ann@example.com", "Bob@Example.com", "cat@example.com", "ebay:quinn"])
_TAGS = st.lists(st.sampled_from(["VIP", "REGULAR", "FRAUD"]), min_size=1, max_size=2)
_EDITS = st.lists(
    st.tuples(st.sampled_from(["tag", "untag"]), _WHO, _TAGS, _NOTES), min_size=1, max_size=5
)


def normal(data: Any) -> Any:
    """No customers written as ``customers:`` (text) or ``customers: []`` (round trip)."""
    return {**data, "customers": data.get("customers") or []}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=_EDITS, crlf=st.booleans())
def test_any_edits_by_text_give_the_round_trips_data(
    tmp_path: Path, edits: list[tuple[str, str, list[str], str | None]], crlf: bool
) -> None:
    text = BOOK.replace("\n", "\r\n") if crlf else BOOK

    def edit(path: Path, text_edits: bool) -> None:
        for op, who, names, note in edits:
            if op == "tag":
                tag(path, who, names, note, text_edits)
            else:
                untag_customer(path, who, names, text_edits=text_edits)

    try:
        by_text, by_yaml = both_ways(tmp_path, text, edit)
    except TagBookError as exc:
        # The round trip can write YAML that does not read back (ruamel, removing the
        # only entry after a comment); it then refuses to save. The text path must not.
        assert "the edit was not saved" in exc.message
        by_text = tmp_path / "text.yaml"
        by_text.write_text(text, encoding="utf-8", newline="")
        edit(by_text, True)
        assert load_tagbook(by_text).entries is not None
    else:
        assert normal(data_of(by_text)) == normal(data_of(by_yaml))
    assert "# bob asked for this" in by_text.read_text(encoding="utf-8")
    assert by_text.read_bytes().count(b"\r\n") == (by_text.read_bytes().count(b"\n") if crlf else 0)


# --- property: the quick read of the customers list is the YAML parser's ----------------

_TRICKY = [
    "Big order",
    "yes",
    "No",
    "on",
    "1:20",
    "12:30:00",
    "#x",
    "a #b",
    "a#b",
    "a: b",
    "x:",
    "[x]",
    "{y}",
    "-",
    "- x",
    "-5",
    "?x",
    "? x",
    "! x",
    "!x",
    "&a",
    "*b",
    "@x",
    "`x",
    "%x",
    "|",
    ">",
    "~",
    "null",
    "Null",
    "1e3",
    "0x1F",
    "0o17",
    "1_000",
    ".inf",
    ".NaN",
    "2026-01-01",
    "é — ü",
    "漢字",
    "'quoted' inside",
    'say "hi"',
    "a,b",
    "a]",
    "a, b: c",
    "+44 7700",
    "(x)",
    "/path",
    "$5",
    "_u",
    ".dot",
    "a\\\\b",
    "",
    " ",
    "a  b",
    "=x",
    "<x",
    "x y #",
    "a\u2028b",
    "a\x85b",
    "a\u2029",
    "a\ufeffb",
    "a\rb",
    "a\u00a0",
    "\u00a0a",
]
_WRITTEN = st.tuples(st.sampled_from(_TRICKY), st.sampled_from(["plain", "double", "single"]))
_ENTRY = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["ann@example.com", "B.o.b@Example.com", "cat@x.org"]),
        "tags": st.lists(st.sampled_from(["VIP", "REGULAR", "FRAUD"]), min_size=1, max_size=3),
    },
    optional={
        "note": _WRITTEN,
        "by": _WRITTEN,
        "at": st.sampled_from(["2026-01-01", "2026-01-01T10:00:00+00:00"]),
        "comment": st.sampled_from(["  # a comment", "", "\n", "\n# col 0 comment", "\n    #"]),
    },
)


def _written(value: str, how: str) -> str:
    return value if how == "plain" else f'"{value}"' if how == "double" else f"'{value}'"


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(_ENTRY, min_size=1, max_size=4),
    broken=st.sampled_from(["", "", "", "  - email: ab\n    tags: [VIP]\n", "    tags: [NOPE]\n"]),
    style=st.sampled_from([("  - ", "    "), ("- ", "  "), ("  -   ", "      ")]),
    spaced=st.booleans(),
    tail=st.booleans(),
)
def test_the_quick_read_is_the_yaml_parsers(
    entries: list[dict[str, Any]], style: tuple[str, str], broken: str, spaced: bool, tail: bool
) -> None:
    dash, pad = style
    lines = [HEAD]
    for e in entries:
        sep = ", " if spaced else ","
        lines.append(f"{dash}email: {e['email']}{e.get('comment', '')}\n")
        lines.append(f"{pad}tags: [{sep.join(e['tags'])}]\n")
        for key in ("note", "by"):
            if key in e:
                lines.append(f"{pad}{key}: {_written(*e[key])}\n")
        if "at" in e:
            lines.append(f"{pad}at: {e['at']}\n")
    text = "".join(lines) + broken.replace("  ", dash[:-2], 1) + (TAIL if tail else "")
    quick = reader.parse_quickly(text, file="book.yaml")
    try:
        full = reader.build(
            text, "book.yaml", *load_yaml_nodes(text, file="book.yaml", error=TagBookError), None
        )
    except TagBookError:
        assert quick is None
        return
    if quick is not None:
        assert cachefile.book_to_json(*quick) == cachefile.book_to_json(*full)


def test_a_hand_edit_of_an_entry_does_not_check_the_tag_definitions_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(big_book(5), encoding="utf-8")
    assert load_tagbook(path).entries[2].note == "order 2"

    def no_check(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the JSON Schema check ran again")

    monkeypatch.setattr(jsonschema.validators, "validator_for", no_check)
    path.write_text(big_book(5).replace("order 2\n", "order 2, by phone\n"), encoding="utf-8")
    assert load_tagbook(path).entries[2].note == "order 2, by phone"
    # A change to the tag definitions is checked.
    path.write_text(big_book(5).replace("colour: gold", "colour: 5"), encoding="utf-8")
    with pytest.raises(AssertionError, match="ran again"):
        load_tagbook(path)
