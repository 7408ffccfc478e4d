"""The customer page's suspects: one customer's pairs, read from the orders sharing their
phones and addresses alone, are the whole history's pairs that name them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from ordertags.customers.workspace import Workspace
from ordertags.tagbook import load_tagbook, tag_customer, unlink_identities

from .test_history import export, ingest, order, ws  # noqa: F401  (fixtures)

AS_OF = dt.date(2026, 11, 26)


def _shop(ws: Workspace, export: Callable[..., Path]) -> None:  # noqa: F811
    rows = [
        # Ann and her new email: the same address; Ann's phone is also Bob's.
        order("1", "ann@example.com", name="Ann Lee", address="12 Rose St", postcode="EH2 2PR"),
        order("2", "new@example.com", name="Ann Lee", address="12, Rose St", postcode="eh22pr"),
        order("3", "ann@example.com", name="Ann Lee", phone="07700 900777"),
        order("4", "bob@example.com", name="Bob Stone", phone="07700900777"),
        # Bob also shares an address with Cat (not Ann's: Ann's page must not list it).
        order("5", "bob@example.com", name="Bob Stone", address="1 Mill Rd", postcode="G1 1AA"),
        order("6", "cat@example.com", name="Cat Moss", address="1 Mill Rd", postcode="G11AA"),
        # Dan and Eve, dismissed as different people.
        order("7", "dan@example.com", name="Dan Roe", phone="07700 900222"),
        order("8", "eve@example.com", name="Eve Poe", phone="07700900222"),
    ]
    # A parcel locker used by seven customers, Ann among them: no evidence about anyone.
    for i in range(7):
        who = "ann@example.com" if i == 0 else f"locker{i}@example.com"
        rows.append(order(f"L{i}", who, name=f"Pat Kay{i}", address="Locker 5", postcode="M1 1AE"))
    ingest(ws, export("a.csv", rows))
    tag_customer(ws.tagbook, "bob@example.com", ["FRAUD"])
    unlink_identities(ws.tagbook, "dan@example.com", "eve@example.com")
    ingest(ws)  # syncs the links


def _seen(found: list) -> list[tuple]:  # type: ignore[type-arg]
    return [(s.a, s.b, s.evidence, s.tags_a, s.tags_b, s.priority) for s in found]


def test_one_customers_suspects_are_the_whole_historys_that_name_them(
    ws: Workspace,  # noqa: F811
    export: Callable[..., Path],  # noqa: F811
) -> None:
    _shop(ws, export)
    book = load_tagbook(ws.tagbook)
    with ws.open_history() as h:
        everyone = h.suspects(tagbook=book, as_of=AS_OF, limit=None)
        keys = sorted({s.a for s in everyone} | {s.b for s in everyone} | {"dan@example.com"})
        for key in keys:
            mine = h.suspects_of(key, tagbook=book, as_of=AS_OF, limit=None)
            assert _seen(mine) == _seen([s for s in everyone if key in (s.a, s.b)]), key
        ann = h.suspects_of("ann@example.com", tagbook=book, as_of=AS_OF, limit=None)
        dan = h.suspects_of("dan@example.com", tagbook=book, as_of=AS_OF, limit=None)
    # Written out by hand: Bob (FRAUD) first, then the new email; not the locker, not Cat.
    assert [(s.a, s.b) for s in ann] == [
        ("ann@example.com", "bob@example.com"),
        ("ann@example.com", "new@example.com"),
    ]
    assert dan == []
    # Every customer of a pair appears in the whole list at least once.
    assert {("bob@example.com", "cat@example.com")} <= {(s.a, s.b) for s in everyone}


def test_one_customers_suspects_read_the_indexed_orders(
    ws: Workspace,  # noqa: F811
    export: Callable[..., Path],  # noqa: F811
) -> None:
    _shop(ws, export)
    with ws.open_history() as h:
        plan = " ".join(
            str(r[3])
            for r in h.conn.execute(
                "EXPLAIN QUERY PLAN SELECT customer FROM orders WHERE customer IS NOT NULL AND ("
                "phone IN (SELECT phone FROM orders WHERE customer = ?1 AND phone IS NOT NULL) "
                "OR address IN (SELECT address FROM orders WHERE customer = ?1 "
                "AND address IS NOT NULL))",
                (1,),
            )
        )
    assert "orders_phone" in plan and "orders_address" in plan, plan
