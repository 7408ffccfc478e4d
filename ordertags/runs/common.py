"""What every run that reads exports does first: load the tag book and the rules,
read the exports (a big one in two passes) and tag the orders."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from ordertags.base.sidework import SideWork
from ordertags.customers.history import History
from ordertags.customers.rfm import Cutoffs
from ordertags.engine.columns import VIRTUAL_FIELDS
from ordertags.engine.conditions import check_patterns
from ordertags.engine.pipeline import Annotated, annotate
from ordertags.io.options import ReadOptions
from ordertags.io.platforms import map_profile
from ordertags.io.readers import OrderTable, read_orders_lazily
from ordertags.rules import FieldCondition, RuleSet, load_rules
from ordertags.runs.requests import Inputs, PathLike
from ordertags.tagbook import TagBook, load_tagbook


def tag_orders(
    inputs: Inputs,
    *,
    history: History | None = None,
    record: bool = False,
    streamed: bool = False,
    for_lists: bool = False,
    scan: bool = False,
    side: SideWork | None = None,
) -> Annotated:
    """Tag the orders of ``inputs`` (customer conditions reading ``history``, where the
    run's orders are recorded with ``record``). ``streamed``: a big export is read in
    two passes, here the columns the run needs (those of mailing lists too with
    ``for_lists``), the rest a batch at a time while it is written; ``scan`` finds each
    record's bytes alongside the first pass (:func:`ordertags.io.readers.read_orders_lazily`).
    ``side`` is the run's pool of threads for its side-by-side work
    (:mod:`ordertags.base.sidework`; default: one of the call's own).
    """
    book = inputs.tagbook if isinstance(inputs.tagbook, TagBook) else load_tagbook(inputs.tagbook)
    ruleset = load_rules(inputs.rules) if inputs.rules is not None else None
    for rule in ruleset.rules if ruleset is not None else ():
        check_patterns(rule.when.walk())  # what lint refuses, before anything is read
    read, progress = inputs.read, inputs.progress
    given: list[Any] = [os.fspath(o) for o in inputs.orders]
    if streamed and history is None:
        # A big export is read in two passes: here the columns the run needs, the rest
        # a batch at a time while it is written (read_orders_lazily).
        given = [
            read_orders_lazily(
                o,
                prefetch=prefetch(read, names=for_lists, rules=ruleset),
                encoding=read.encoding,
                delimiter=read.delimiter,
                profile=read.profile,
                mapping=read.mapping_path,
                scan=scan,
                side=side,
            )
            or o
            for o in given
        ]
        if progress is not None:
            # The first pass has read the files (the bar then follows the tagging).
            for o in given:
                if isinstance(o, OrderTable):
                    progress(os.path.getsize(o.source))
    return annotate(
        given,
        tagbook=book,
        rules=ruleset,
        as_of=inputs.as_of,
        read=read,
        history=history,
        record=record,
        region=inputs.region,
        progress=progress,
        side=side,
    )


def prefetch(read: ReadOptions, names: bool, rules: RuleSet | None = None) -> Any:
    """What to read of a big export on the first pass (:func:`read_orders_lazily`): the
    columns of the fields a run reads on every order (who the customer is, the total,
    the date, the order number where rows are grouped; with ``names``, what mailing
    lists show of a customer), and those the ``rules`` name. Any other column (line items,
    say) is read when first asked for, a pass over the file each."""
    named: list[str] = []
    written: list[str] = []
    if rules is not None:
        for rule in rules.rules:
            named += [c.field for c in rule.when.walk() if isinstance(c, FieldCondition)]
        written = rules.written_columns

    def pick(table: OrderTable) -> list[int]:
        fmap = map_profile(table.columns, table.profile, overrides=read.columns, file=table.source)
        # The currency too: customer spend is summed per currency; and net of refunds
        # (the refund column, or a status saying "refunded").
        fields = [*table.profile.customer, "email", "total", "currency", "date"]
        fields += ["refunds", "status"]
        fields += ["quantity", "price"]
        if names:  # what apply's lists show of each customer (reports.lists)
            fields += ["name", "first_name", "last_name", "marketing_consent"]
        if table.profile.grouped:
            fields.append("order_id")
        found = [i for f in fields for i in fmap.sources(f)]
        for name in named:
            found += fmap.sources(name) or [i for i in (fmap.find_column(name),) if i is not None]
        for name in written:  # the column each action writes in this export
            at, _ = fmap.action_column(name, field=name in VIRTUAL_FIELDS)
            found += [] if at is None else [at]
        lines = [*table.profile.total_lines, *table.profile.total_once]
        found += [i for n in lines if (i := fmap.find_column(n)) is not None]
        return found

    return pick


def segment_config(rules: PathLike | None) -> tuple[str, Any]:
    """RFM method and fixed cut-offs from the rule file's ``segments:`` (defaults without)."""
    if rules is None:
        return "quantiles", None
    ruleset = load_rules(rules)
    cuts = ruleset.segment_cutoffs
    cutoffs = (
        Cutoffs(
            tuple(int(x) for x in cuts[0]),  # type: ignore[arg-type]
            tuple(cuts[1]),  # type: ignore[arg-type]
            tuple(cuts[2]),  # type: ignore[arg-type]
        )
        if cuts
        else None
    )
    return ruleset.segment_method, cutoffs


def recording_run(
    history: History | None, recording: bool
) -> contextlib.AbstractContextManager[object]:
    """Everything a recording run writes to the history (its orders, its customers'
    tags, the tag log, the exports it read) in one transaction: a command reading the
    history meanwhile (a cron ``export``) sees the run's whole record or none of it, and
    a run that fails or is killed leaves nothing half-recorded."""
    if history is None or not recording:
        return contextlib.nullcontext()
    return history.transaction()
