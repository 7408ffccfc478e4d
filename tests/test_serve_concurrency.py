"""Twenty sessions of the team screen tagging and untagging at once while ``apply``
runs on the same workspace (what cron does): no entry lost or doubled, every action in
the audit log, the tag book valid YAML throughout."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import yaml

from ordertags.api import apply_files
from ordertags.customers.accounts import audit_entries
from ordertags.customers.workspace import Workspace
from ordertags.tagbook import load_tagbook

from .serve_shop import client, log_in, shop, template_shop  # noqa: F401

CUSTOMERS = ["janedoe@gmail.com", "evil@example.org", "bob@example.org", "rob@example.org"]
TAGS = ["VIP", "REGULAR", "FRAUD", "CLAIMED-NON-RECEIPT", "BIG_SPENDER"]
ROUNDS = 2  # tag, untag, tag: each pair ends tagged


def test_sessions_tagging_while_apply_runs(shop: Path, template_shop: Path) -> None:  # noqa: F811
    pairs = [(c, t) for c in CUSTOMERS for t in TAGS]
    assert len(pairs) == 20  # the twenty sessions, one customer and tag each
    errors: list[str] = []
    stop = threading.Event()
    book_path = shop / "tagbook.yaml"
    sessions = []
    for _ in pairs:
        c = client(shop)
        sessions.append((c, log_in(c, "max")))
    done_actions = [0]
    reads = [0]
    count_lock = threading.Lock()

    def work(i: int) -> None:
        customer, tag = pairs[i]
        c, token = sessions[i]
        for r in range(2 * ROUNDS - 1):
            path = "/customer/tag" if r % 2 == 0 else "/customer/untag"
            resp = c.post(
                path,
                data={"csrf": token, "customer": customer, "identity": customer, "tag": tag},
            )
            if resp.status_code != 303:
                errors.append(f"{path} {customer} {tag}: {resp.status_code}")
            else:
                with count_lock:
                    done_actions[0] += 1

    def cron() -> None:
        n = 0
        while not stop.is_set() and n < 3:
            try:
                apply_files(
                    [template_shop.parent / "today.csv"],
                    tagbook=book_path,
                    rules=shop / "rules.yaml",
                    output=shop.parent / "cron-out.csv",
                    workspace=Workspace(shop),
                    as_of=dt.date(2026, 11, 26),
                )
            except Exception as exc:  # reported by the test
                errors.append(f"apply: {exc}")
            n += 1

    def watch() -> None:
        while not stop.is_set():
            try:
                data = yaml.safe_load(book_path.read_text(encoding="utf-8"))
                assert isinstance(data, dict) and "tags" in data
                reads[0] += 1
            except Exception as exc:  # reported by the test
                errors.append(f"tag book unreadable: {exc}")
            stop.wait(0.01)  # read it often, leaving the sessions the interpreter

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    others = [threading.Thread(target=cron), threading.Thread(target=watch)]
    for t in [*others, *threads]:
        t.start()
    for t in threads:
        t.join()
    others[0].join()
    stop.set()
    others[1].join()
    assert errors == []
    assert reads[0] > 10  # the tag book was read back while the sessions worked
    assert done_actions[0] == len(pairs) * (2 * ROUNDS - 1)
    book = load_tagbook(book_path)
    for customer, tag in pairs:
        holding = [e for e in book.entries if e.key == customer and tag in e.tags]
        assert len(holding) == 1, (customer, tag)
        assert holding[0].by == "max"
    with Workspace(shop).open_history() as h:
        acts = [e for e in audit_entries(h) if e.action in ("tag", "untag")]
    assert len(acts) == done_actions[0]
    assert {(e.customer, e.detail.split(" ")[0]) for e in acts if e.detail} == {
        (c, t) for c, t in pairs
    }
