"""Why an order carries its tags: ``ordertags explain``.

For one order: the tag-book entries that matched it and through which identity, every
rule with each condition's value and result (as the rule saw it, in file order), what
each matching rule did, and the final tags, fields and colour.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ordertags.engine.addresses import address_rows
from ordertags.engine.arrays import BoolArray
from ordertags.engine.conditions import Context, Explained, explain
from ordertags.engine.frame import Frame
from ordertags.engine.pipeline import annotate
from ordertags.engine.tagtext import COLOUR_COLUMN, PROFILE_COLUMN, TAGS_COLUMN
from ordertags.errors import InputError
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.readers import read_exports
from ordertags.rules import Rule, RuleSet
from ordertags.tagbook import Entry, TagBook


@dataclass
class RuleTrace:
    """One rule, as it went for the order."""

    name: str
    line: int | None
    matched: bool
    skipped_by: str | None = None  # the earlier rule whose stop kept this one out
    conditions: list[Explained] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    order_id: str
    source: str
    row: int
    email: str
    customer_key: str | None
    entries: list[tuple[Entry, str]]  # (entry, the identity it matched through)
    rules: list[RuleTrace]
    tags: str
    profile: str
    colour: str
    fields: dict[str, str]
    conflicts: list[str]


def _actions(rule: Rule) -> list[str]:
    return [a.describe() for a in rule.actions]


def explain_order(
    order_id: str,
    orders: Sequence[str | os.PathLike[str]],
    *,
    tagbook: TagBook,
    rules: RuleSet | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    history: Any = None,
    region: str | None = None,
) -> Explanation:
    """Explain the tags of order ``order_id`` (its number as in the export).

    >>> ex = explain_order("200002", ["examples/orders.csv"], tagbook=book,
    ...                    rules=rules)
    >>> ex.tags
    'VIP; BIG_SPENDER; REGULAR; HIGH_VALUE'
    """
    tables = read_exports(orders, read)
    probe = Frame.of(tables, as_of=as_of or dt.date.today(), read=read)
    probe.require_field("order_id")
    # Any of the order's numbers: the channel's (Linnworks' Reference Num) or the
    # export's own (Linnworks' Order Id).
    row = probe.find_order(order_id)
    if row < 0 and history is not None:
        # A number these exports do not write (Linnworks' Order Id of an order given in
        # the Amazon report): the history knows the order's other numbers.
        for other in history.order_numbers(order_id):
            row = probe.find_order(other)
            if row >= 0:
                break
    if row < 0:
        names = ", ".join(t.source for t in tables)
        raise InputError(
            f'no order "{order_id}" in {names}.',
            hint="Give the order number as the export writes it.",
        ) from None
    traces: list[RuleTrace] = []

    def on_rule(rule: Rule, ctx: Context, matched: BoolArray) -> None:
        traces.append(
            RuleTrace(
                rule.name,
                rule.line,
                bool(matched[row]),
                conditions=explain(rule.when, ctx, row),
                actions=_actions(rule) if matched[row] else [],
            )
        )

    # With a workspace's history, customer measures and tags read it as apply does
    # (nothing is recorded: explaining changes nothing).
    result = annotate(
        tables,
        tagbook=tagbook,
        rules=rules,
        as_of=as_of,
        read=read,
        on_rule=on_rule,
        history=history,
        record=False,
        region=region,
    )
    outcome = result.outcome
    stopped_by = (
        int(outcome.stopped_by[row])
        if outcome is not None and outcome.stopped_by is not None
        else -1
    )
    if rules is not None and stopped_by >= 0:
        stopper = rules.rules[stopped_by].name
        for trace, rule in zip(traces, rules.rules, strict=True):
            if rule.index > stopped_by:
                trace.skipped_by = stopper
    frame = result.frame
    code = int(result.customers.codes[row])
    key = result.customers.keys[code].as_py() if code >= 0 else None
    email = frame.text(field="email")[row].as_py() or ""
    entries = []
    if code >= 0:
        # The identities of this order's customer, as the run resolved them: the keys of
        # their codes and (merged by the order's identities, a link or the history) the
        # other identities they are known by.
        customers = result.customers
        known = {key} if key is not None else set()
        if customers.groups is not None:
            person = customers.groups[code]
            mine = np.flatnonzero(customers.groups == person)
            known |= {k for k in customers.keys.take(pa.array(mine)).to_pylist() if k}
            if customers.alias_keys is not None and customers.alias_people is not None:
                at = np.flatnonzero(customers.alias_people == person)
                known |= {k for k in customers.alias_keys.take(pa.array(at)).to_pylist() if k}
        region = result.memory.links.region if result.memory is not None else None
        for entry in tagbook.entries:
            entry_key = entry.key_in(region)
            if entry_key not in known:
                continue
            state = " (expired)" if entry.expired(frame.as_of) else ""
            how = f"{entry.kind} {entry.identity}"
            how += f" = {key}" if entry_key == key else f", one customer with {key or 'this order'}"
            entries.append((entry, how + state))
    # Address entries: the order is shipped to that door, whoever bought it.
    doors = [e for e in tagbook.entries if e.kind == "address"]
    region = result.memory.links.region if result.memory is not None else None
    for entry in doors:
        if frame.order_first(address_rows(frame, [entry.identity], region))[row]:
            state = " (expired)" if entry.expired(frame.as_of) else ""
            entries.append((entry, f"address {entry.identity}: the order is shipped there{state}"))
    table, person_row = frame.locate(row)
    index = frame.tables.index(table)
    columns = result.output_columns(index)
    start = int(frame.offsets[index])
    fields = {
        name: values[row - start].as_py()
        for name, values in columns.items()
        if name not in (TAGS_COLUMN, PROFILE_COLUMN, COLOUR_COLUMN)
    }
    conflicts = []
    if outcome is not None:
        for column, fs in outcome.fields.items():
            if fs.loser[row] >= 0 and rules is not None:
                loser = rules.rules[int(fs.loser[row])]
                winner = rules.rules[int(fs.rule[row])]
                conflicts.append(
                    f'{column}: rule "{loser.name}" would set '
                    f'{loser.set[column]!r}, but "{winner.name}" sets '
                    f"{winner.set[column]!r} and wins"
                )
    return Explanation(
        order_id=order_id,
        source=table.source,
        row=person_row,
        email=email,
        customer_key=key,
        entries=entries,
        rules=traces,
        tags=result.tags[row].as_py(),
        profile=result.profile[row].as_py(),
        colour=result.colour[row].as_py(),
        fields=fields,
        conflicts=conflicts,
    )


def render(ex: Explanation) -> str:
    """The explanation as text for a person."""
    lines = [f"order {ex.order_id} ({ex.source}, row {ex.row})"]
    if ex.customer_key:
        lines.append(f"customer: {ex.customer_key} (email as written: {ex.email.strip()})")
    else:
        lines.append("customer: none (no email): only order tags apply")
    lines.append("tag book:" if ex.entries else "tag book: no entry for this customer")
    for entry, how in ex.entries:
        detail = ", ".join(
            x
            for x in (
                f"by {entry.by}" if entry.by else "",
                f"at {entry.at}" if entry.at else "",
                f"expires {entry.expires}" if entry.expires else "",
                f"note: {entry.note}" if entry.note else "",
            )
            if x
        )
        lines.append(
            f"  {', '.join(entry.tags)} (line {entry.line}) through {how}"
            + (f"; {detail}" if detail else "")
        )
    lines.append("rules:" if ex.rules else "rules: none")
    for i, t in enumerate(ex.rules, start=1):
        where = f" (line {t.line})" if t.line else ""
        if t.skipped_by:
            lines.append(f'  {i}. {t.name}{where}: skipped, stopped by "{t.skipped_by}"')
            continue
        verdict = "yes -> " + "; ".join(t.actions) if t.matched else "no"
        lines.append(f"  {i}. {t.name}{where}: {verdict}")
        for c in t.conditions:
            value = f" (value {c.value})" if c.value else ""
            lines.append(f"       {'  ' * c.depth}{c.text}{value}: {'yes' if c.result else 'no'}")
    lines.append("result:")
    lines.append(f"  tags: {ex.tags or '(none)'}")
    if ex.profile:
        lines.append(f"  profile: {ex.profile}")
    if ex.colour:
        lines.append(f"  colour: {ex.colour}")
    for name, value in ex.fields.items():
        lines.append(f"  {name}: {value}")
    for conflict in ex.conflicts:
        lines.append(f"  conflict: {conflict}")
    return "\n".join(lines)
