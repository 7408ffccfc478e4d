"""Changing the note and the expiry of an existing tag-book entry: the library edit
(text path and round trip give the same book, the rest of the file byte for byte), the
command line (``tag --expires`` on a tag the customer has), and the team screen's form
(manager only, audited with the entry before and after, refused on a conflicting edit)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertags.cli import app
from ordertags.customers.accounts import audit_entries
from ordertags.customers.workspace import Workspace
from ordertags.errors import OrderTagsError, TagBookError, UsageError
from ordertags.tagbook import change_entry, load_tagbook, tag_customer

from .serve_shop import client, log_in, shop, template_shop
from .test_serve_routes import page_version
from .test_tagbook_text import BOOK, ENTRIES, HEAD, NOW, TAIL, both_ways, data_of, round_trips

__all__ = ["round_trips", "shop", "template_shop"]  # fixtures, used by name

runner = CliRunner()


def entry(path: Path, key: str) -> tuple[tuple[str, ...], str | None, str | None]:
    [e] = [e for e in load_tagbook(path).entries if e.key == key]
    return e.tags, e.note, e.expires.isoformat() if e.expires else None


def test_expiry_and_note_set_changed_and_removed_by_text_and_round_trip(
    tmp_path: Path,
    round_trips: list[Path],
) -> None:
    def edit(path: Path, text_edits: bool) -> None:
        t = text_edits
        # Bob's entry has no note and no expiry: both lines are added.
        change_entry(
            path,
            "BOB@example.com",
            "regular",
            note="Trade",
            expires="2027-01-31",
            now=NOW,
            text_edits=t,
        )
        # Then the date changes, then the note and the date go.
        change_entry(path, "bob@example.com", "VIP", expires="2027-02-28", now=NOW, text_edits=t)
        change_entry(
            path, "bob@example.com", "VIP", note="", expires="never", now=NOW, text_edits=t
        )
        change_entry(
            path, "ann@example.com", "VIP", expires=dt.date(2026, 12, 24), now=NOW, text_edits=t
        )

    by_text, by_yaml = both_ways(tmp_path, BOOK, edit)
    assert round_trips == [by_yaml] * 4  # the text path did all of the first copy's edits
    assert data_of(by_text) == data_of(by_yaml)
    assert entry(by_text, "bob@example.com") == (("VIP", "REGULAR"), None, None)
    assert entry(by_text, "ann@example.com") == (("VIP",), "Wholesale", "2026-12-24")
    ann, bob = ENTRIES.split("  # bob asked for this\n")
    # Bob's lines are back as they were; Ann's entry gained one line.
    assert by_text.read_text(encoding="utf-8") == (
        HEAD + ann + "    expires: 2026-12-24\n" + "  # bob asked for this\n" + bob + TAIL
    )


def test_a_set_expiry_reads_back_and_the_rest_stays(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    change = change_entry(
        path, "bob@example.com", "VIP", note="Trade buyer", expires="2027-01-31", now=NOW
    )
    assert change.changed and change.before.note is None and change.before.expires is None
    assert (change.after.note, change.after.expires) == ("Trade buyer", dt.date(2027, 1, 31))
    assert entry(path, "bob@example.com") == (("VIP", "REGULAR"), "Trade buyer", "2027-01-31")
    book = load_tagbook(path)
    [bob] = [e for e in book.entries if e.key == "bob@example.com"]
    assert bob.by == "sam"  # who made the entry stays
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEAD + ENTRIES.split("  # bob")[0]) and text.endswith(TAIL)
    again = change_entry(path, "bob@example.com", "VIP", expires="2027-01-31", now=NOW)
    assert not again.changed


def test_bad_changes_are_refused_and_the_book_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    with pytest.raises(TagBookError, match="has no entry with FRAUD"):
        change_entry(path, "bob@example.com", "FRAUD", note="x", now=NOW)
    with pytest.raises(TagBookError, match="has no entry with VIP"):
        change_entry(path, "carol@example.com", "VIP", note="x", now=NOW)
    with pytest.raises(TagBookError, match="in the past"):
        change_entry(path, "bob@example.com", "VIP", expires="2026-11-28", now=NOW)
    with pytest.raises(UsageError, match="say what to change"):
        change_entry(path, "bob@example.com", "VIP", now=NOW)
    with pytest.raises(UsageError):
        change_entry(path, "bob@example.com", "NOSUCH", note="x", now=NOW)
    with pytest.raises(OrderTagsError):
        change_entry(path, "bob@example.com", "VIP", expires="31 Febtember", now=NOW)
    assert path.read_text(encoding="utf-8") == BOOK


def test_tag_expires_on_a_tag_they_have_changes_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    args = ["tag", "bob@example.com", "--tag", "VIP", "-t", str(path)]
    r = runner.invoke(app, [*args, "--expires", "2099-03-01"])
    assert r.exit_code == 0, r.stderr
    assert "VIP now until 2099-03-01" in r.stderr and "nothing changed" not in r.stderr
    assert entry(path, "bob@example.com") == (("VIP", "REGULAR"), None, "2099-03-01")
    r = runner.invoke(app, [*args, "--expires", "never"])
    assert r.exit_code == 0 and "VIP now until no end date" in r.stderr
    assert entry(path, "bob@example.com") == (("VIP", "REGULAR"), None, None)
    r = runner.invoke(app, [*args, "--expires", "2001-01-01"])
    assert r.exit_code == 1 and "in the past" in r.stderr
    # A new tag with --expires is still a new entry with that date.
    r = runner.invoke(
        app, ["tag", "dan@example.com", "--tag", "VIP", "-t", str(path), "--expires", "2099-03-01"]
    )
    assert r.exit_code == 0 and entry(path, "dan@example.com")[2] == "2099-03-01"


def post_entry(shop: Path, user: str, **fields: str) -> tuple[int, str]:
    c = client(shop)
    token = log_in(c, user)
    page = c.get("/customer", params={"key": "evil@example.org"})
    assert page.status_code == 200
    data = {
        "csrf": token,
        "customer": "evil@example.org",
        "version": page_version(page.text),
        "identity": "evil@example.org",
        "tag": "EVIL",
        **fields,
    }
    r = c.post("/customer/entry", data=data)
    return r.status_code, r.headers.get("location", "") or r.text


def test_the_screen_changes_an_entry_and_audits_before_and_after(shop: Path) -> None:
    c = client(shop)
    log_in(c, "max")
    page = c.get("/customer", params={"key": "evil@example.org"}).text
    assert 'action="/customer/entry"' in page
    status, where = post_entry(shop, "max", note="Checked by phone", expires="2099-06-30")
    assert status == 303, where
    tags, note, expires = entry(shop / "tagbook.yaml", "evil@example.org")
    assert (tags, note, expires) == (("EVIL",), "Checked by phone", "2099-06-30")
    with Workspace(shop).open_history() as h:
        last = audit_entries(h)[-1]
    assert (last.who, last.action, last.customer) == ("max", "change", "evil@example.org")
    assert (last.before or "").startswith("evil@example.org: EVIL (") and "until" not in (
        last.before or ""
    )
    assert last.after == "evil@example.org: EVIL (Checked by phone) until 2099-06-30"
    # `ordertags tags` sees the date at once.
    out = runner.invoke(app, ["tags", "-t", str(shop / "tagbook.yaml")])
    assert "2099-06-30" in out.stdout


def test_the_screen_form_is_a_managers(shop: Path) -> None:
    before = (shop / "tagbook.yaml").read_bytes()
    for user in ("vic", "pat"):
        status, _ = post_entry(shop, user, note="x", expires="2099-06-30")
        assert status == 403
        c = client(shop)
        log_in(c, user)
        page = c.get("/customer", params={"key": "evil@example.org"}).text
        assert 'action="/customer/entry"' not in page
    assert (shop / "tagbook.yaml").read_bytes() == before


def test_the_screen_refuses_a_bad_date_and_a_conflicting_edit(shop: Path) -> None:
    before = (shop / "tagbook.yaml").read_bytes()
    status, text = post_entry(shop, "max", note="x", expires="2001-01-01")
    assert status == 400 and "in the past" in text
    assert (shop / "tagbook.yaml").read_bytes() == before
    c = client(shop)
    token = log_in(c, "max")
    version = page_version(c.get("/customer", params={"key": "evil@example.org"}).text)
    # Meanwhile, cron or a colleague changes the entry's note.
    change_entry(shop / "tagbook.yaml", "evil@example.org", "EVIL", note="Meanwhile")
    r = c.post(
        "/customer/entry",
        data={
            "csrf": token,
            "customer": "evil@example.org",
            "version": version,
            "identity": "evil@example.org",
            "tag": "EVIL",
            "note": "Mine",
            "expires": "",
        },
    )
    assert r.status_code == 409 and "nothing was changed" in r.text
    assert entry(shop / "tagbook.yaml", "evil@example.org")[1] == "Meanwhile"
    with Workspace(shop).open_history() as h:
        assert audit_entries(h)[-1].action == "change refused"


def test_tag_customer_still_appends(tmp_path: Path) -> None:
    path = tmp_path / "tagbook.yaml"
    path.write_text(BOOK, encoding="utf-8")
    tag_customer(path, "eve@example.com", ["FRAUD"], by="sam", now=NOW)
    change_entry(path, "eve@example.com", "FRAUD", note="Chargeback", now=NOW)
    assert entry(path, "eve@example.com") == (("FRAUD",), "Chargeback", None)


def test_the_kept_order_rows_follow_a_change_of_the_view(shop: Path) -> None:
    # The rows of today's orders are rendered once and kept for every session: a tag set
    # meanwhile (a new view) shows at the next load of any session, and a filter has
    # its own rows.
    first, second = client(shop), client(shop)
    log_in(first, "max")
    log_in(second, "vic")
    before = first.get("/").text
    assert 'data-tags="VIP"' not in before
    assert second.get("/").text.count("<tr class=") == before.count("<tr class=")
    tag_customer(shop / "tagbook.yaml", "bob@example.org", ["VIP"], by="cron")
    after = second.get("/").text
    assert after.count('data-tags="VIP"') == 1
    assert 'data-tags="VIP"' in first.get("/").text
    only = first.get("/", params={"tag": "VIP"}).text
    assert only.count("<tr class=") == 1 and "bob@example.org" in only
