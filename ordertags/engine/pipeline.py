"""The pipeline behind ``ordertags apply``: read, evaluate rules and the tag book, annotate.

>>> from ordertags import annotate, load_tagbook, load_rules
>>> import datetime as dt
>>> result = annotate(["orders.csv"], tagbook=load_tagbook("tagbook.yaml"),
...                   rules=load_rules("rules.yaml"), as_of=dt.date(2026, 11, 26))
>>> result.summary.orders_per_tag["VIP"], result.summary.orders_per_tag["FRAUD"]
(7, 1)
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa

from ordertags.actions import ACTIONS
from ordertags.base.sidework import SideWork, side_work
from ordertags.customers.grouping import Customers
from ordertags.customers.history import History, IngestReport
from ordertags.engine.addresses import address_rows
from ordertags.engine.arrays import combined
from ordertags.engine.evaluate import Outcome, RuleHook, field_columns, run_rules
from ordertags.engine.frame import Frame
from ordertags.engine.resolution import (
    Memory,
    remember_tags,
    resolve_customers,
    run_customers,
    tag_history,
)
from ordertags.engine.tagtext import (
    COLOUR_COLUMN,
    PROFILE_COLUMN,
    TAGS_COLUMN,
    add_notes,
    entry_notes,
    render_tags,
)
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.readers import OrderSource, OrderTable, read_exports
from ordertags.rules import CustomerCondition, RuleSet
from ordertags.tagbook import TagBook

if TYPE_CHECKING:
    import pandas


class FileSummary(NamedTuple):
    """One export of a run: its name, format (csv, json, ndjson), rows, the platform
    profile it was read with (``generic`` when none was recognised) and its orders."""

    name: str
    kind: str
    rows: int
    profile: str = "generic"
    orders: int = 0
    title: str = ""
    encoding: str = ""  # "cp1252 (detected)"; "" for JSON


@dataclass
class Summary:
    """What a run did, for the person or the cron log reading it."""

    files: list[FileSummary] = field(default_factory=list)
    orders: int = 0
    customers: int = 0
    orders_without_customer: int = 0
    #: Copies of the run's orders beyond the first, in other exports (counted once).
    copies: int = 0
    orders_per_tag: dict[str, int] = field(default_factory=dict)
    customers_per_tag: dict[str, int] = field(default_factory=dict)
    manual_entries: int = 0
    expired_entries: int = 0
    as_of: dt.date | None = None
    conflicts: list[tuple[str, str, str, int]] = field(default_factory=list)
    held: int = 0
    fields_set: dict[str, int] = field(default_factory=dict)
    # With a workspace: per customer tag, (gained, lost) since the last run that saw them.
    tag_changes: dict[str, tuple[int, int]] = field(default_factory=dict)
    recorded: IngestReport | None = None  # when apply recorded its orders in a history
    #: What the reader should know: dates read by assumption, ...
    warnings: list[str] = field(default_factory=list)
    #: The currency customer spend was compared in (None: the orders' own), and per
    #: other currency the orders left out of it for want of a rate.
    spend_currency: str | None = None
    spend_left_out: dict[str, int] = field(default_factory=dict)
    #: What action kinds tell (``notify``: the orders it names), in registry order
    #: (:meth:`ordertags.actions.Action.report`); told even with ``--quiet``.
    notices: list[str] = field(default_factory=list)


@dataclass
class Annotated:
    """The result of :func:`annotate`: the tables as read, the run's customers, the tag
    columns for every row (in frame order), the per-tag row masks, and the summary."""

    frame: Frame
    tagbook: TagBook
    tag_masks: dict[str, np.ndarray[Any, np.dtype[np.bool_]]]
    tags: pa.ChunkedArray
    profile: pa.ChunkedArray
    colour: pa.ChunkedArray
    summary: Summary
    customers: Customers
    memory: Memory | None = None  # links, phones and the history, where the run has them
    outcome: Outcome | None = None  # what each rule did, for explain
    fields: dict[str, pa.Array] = field(default_factory=dict)  # set/notes/hold columns

    @property
    def tables(self) -> list[OrderTable]:
        return self.frame.tables

    def columns_for(self, index: int) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.ChunkedArray]:
        """The three added columns for the rows of table ``index``."""
        start = int(self.frame.offsets[index])
        length = self.frame.tables[index].num_rows
        return (
            self.tags.slice(start, length),
            self.profile.slice(start, length),
            self.colour.slice(start, length),
        )

    def output_columns(self, index: int) -> dict[str, pa.ChunkedArray]:
        """Every column ``apply`` writes into table ``index`` beside its own: the three
        tag columns, then the columns rule actions set (name -> values)."""
        tags, profile, colour = self.columns_for(index)
        out = {TAGS_COLUMN: tags, PROFILE_COLUMN: profile, COLOUR_COLUMN: colour}
        start = int(self.frame.offsets[index])
        length = self.frame.tables[index].num_rows
        for name, values in self.fields.items():
            # Each export's own column for what the rule names (an order field, or a
            # column found by a looser spelling): written there, never added as a copy.
            out[self.written_column(index, name)] = pa.chunked_array(
                [values.slice(start, length)], type=pa.string()
            )
        return out

    def written_column(self, index: int, name: str) -> str:
        """The column of table ``index`` that an action on ``name`` (``set:
        {shipping_service: ...}``, a notes column) writes (:meth:`Frame.action_column`)."""
        return self.frame.action_column(index, name)[1]

    def to_arrow(self, index: int = 0) -> pa.Table:
        """Input ``index`` (in the order given) with every original column, then the
        columns ``apply`` adds (a column of the input with the same name is replaced in
        place). Data handed in as a DataFrame or an Arrow table keeps its column types;
        an export read from a file has its columns as text, as read.

        >>> import pyarrow as pa
        >>> from ordertags import annotate
        >>> orders = pa.table({"Order Id": ["1"], "Email": ["a@example.com"], "Total": [5.0]})
        >>> annotate(orders, tagbook="tagbook.example.yaml").to_arrow().column_names[-3:]
        ['Customer Tags', 'Customer Profile', 'Tag Colour']
        """
        table = self.frame.tables[index]
        base = (
            table.original
            if table.original is not None
            else table.table.rename_columns(_unique(table.columns))
        )
        for name, values in self.output_columns(index).items():
            column = values.cast(pa.string())
            at = base.column_names.index(name) if name in base.column_names else -1
            base = (
                base.set_column(at, name, column) if at >= 0 else base.append_column(name, column)
            )
        return base

    def to_pandas(self, index: int = 0) -> pandas.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame (pandas is imported here, and only
        here)."""
        frame: pandas.DataFrame = self.to_arrow(index).to_pandas()
        return frame


class _Counts:
    """What action kinds count a run's orders with (:class:`ordertags.actions.Counts`)."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def orders(self, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> int:
        return self.frame.orders.count_distinct(mask)

    def numbers(self, mask: np.ndarray[Any, np.dtype[np.bool_]], limit: int) -> list[str]:
        frame = self.frame
        if not frame.has_field("order_id"):
            return []
        rows = np.flatnonzero(mask)
        if frame.orders.grouped:  # an order of several rows (line items) once, by its first
            _, first = np.unique(frame.orders.codes[rows], return_index=True)
            rows = rows[np.sort(first)]
        text = combined(frame.text(field="order_id")).take(pa.array(rows[: limit * 4]))
        # The same order in two exports (a channel's and Linnworks') is named once.
        numbers = dict.fromkeys(t.strip() for t in text.to_pylist() if t and t.strip())
        return list(numbers)[:limit]


def _unique(names: Sequence[str]) -> list[str]:
    """Column names made unique for a table (``Note``, ``Note``: ``Note``, ``Note.1``)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def _warm_up(frame: Frame, rules: RuleSet, side: SideWork) -> Future[None] | None:
    """Read, on the run's pool, the money and dates the rules' customer conditions
    will ask the frame for (it keeps them). A value that does not read is left for the
    rule to report, as it would have without this."""
    measures = [c for r in rules.rules for c in r.when.walk() if isinstance(c, CustomerCondition)]
    if not measures:
        return None

    def read() -> None:
        # Whatever goes wrong here is found again, and reported, where the rule asks.
        with contextlib.suppress(Exception):
            frame.orders.counted  # noqa: B018 - a cached property: worked out and kept
            if frame.has_field("total") and any(
                c.measure in ("spend", "average_order_value") for c in measures
            ):
                frame.money.spend_units()
            if frame.has_field("date") and any(
                c.within_days is not None or c.measure.startswith("days_since") for c in measures
            ):
                frame.dates.stamps(optional=True)

    return side.submit(read)


def annotate(
    orders: Sequence[OrderSource],
    *,
    tagbook: TagBook,
    rules: RuleSet | None = None,
    as_of: dt.date | None = None,
    read: ReadOptions = DEFAULT,
    on_rule: RuleHook | None = None,
    history: History | None = None,
    record: bool = False,
    region: str | None = None,
    progress: Callable[[int], None] | None = None,
    side: SideWork | None = None,
) -> Annotated:
    """Tag every order of the given exports.

    ``orders`` are paths (``-`` is stdin) or tables already read; ``read`` says how to
    read them (:class:`ordertags.io.options.ReadOptions`: encoding, delimiter, platform
    profile, mapping file, columns named by hand, money and date styles).

    ``history`` (an open :class:`ordertags.customers.history.History`) gives customer
    conditions the customers' past orders and merges customers by phone too; with
    ``record``, the run's orders are recorded in it first. ``region`` is the default
    region of phone numbers (default: the history's, else GB); it also says whether
    numeric dates such as ``05/11/2026`` are day-first or month-first where the export's
    platform and the dates themselves do not (``read.date_style``, ``day-first`` or
    ``month-first``, says it for every export). ``progress`` is called with the bytes
    read as the exports are read (see :func:`ordertags.io.readers.read_orders`).
    ``side`` is the run's pool of threads (:mod:`ordertags.base.sidework`; default: one
    for this call).
    """
    with side_work(side, 2) as work:
        return _annotate(
            orders, tagbook, rules, as_of, read, on_rule, history, record, region, progress, work
        )


def _annotate(
    orders: Sequence[OrderSource],
    tagbook: TagBook,
    rules: RuleSet | None,
    as_of: dt.date | None,
    read: ReadOptions,
    on_rule: RuleHook | None,
    history: History | None,
    record: bool,
    region: str | None,
    progress: Callable[[int], None] | None,
    side: SideWork,
) -> Annotated:
    as_of = as_of or dt.date.today()
    if rules is not None:
        rules.check_tags(tagbook)
    tables = read_exports(orders, read, progress)
    frame = Frame.of(
        tables,
        as_of=as_of,
        read=read,
        region=region or (history.region if history is not None else None),
    )
    if rules is not None:
        frame.money.compare_spend_in(rules.currency, rules.rates)
    frame.require_field("email")
    # The totals and dates customer conditions sum and count are read on a second
    # thread while the customers are told apart here (both are column kernels).
    warm = _warm_up(frame, rules, side) if history is None and rules is not None else None
    # Links in the tag book and, with a history, phones and past orders.
    memory = resolve_customers(frame, tagbook, history=history, record=record, region=region)
    customers = run_customers(frame, memory)
    manual: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}

    # Manual tags: every order of a customer in the tag book, whichever identity the
    # entry names (email, phone, buyer id) and whichever the order carries.
    active, expired = tagbook.active_entries(as_of)
    region = memory.links.region if memory is not None else None
    by_tag: dict[str, list[str]] = {}
    for entry in active:
        for t in entry.tags:
            by_tag.setdefault(t, []).append(entry.key_in(region))
    for t, keys in by_tag.items():
        manual[t] = customers.per_row(customers.match_keys(pa.array(keys, pa.string())))
        # ``address:`` entries: the orders shipped there, whoever buys them.
        doors = [e.identity for e in active if e.kind == "address" and t in e.tags]
        if doors:
            manual[t] = manual[t] | address_rows(frame, doors, region)

    # Derived tags and the other actions.
    history_of_tags = (
        tag_history(memory) if memory is not None and memory.history is not None else None
    )
    if warm is not None:
        warm.result()
    outcome = run_rules(
        frame,
        tagbook,
        rules,
        manual,
        customers=customers,
        memory=memory,
        on_rule=on_rule,
        tag_history=history_of_tags,
        side=side,
    )
    # An order's rows carry its tags as its first row has them (Shopify, Amazon: one
    # row per line item; line items are judged by any_item / all_items / no_item).
    masks = {t: frame.orders.at_first(m) for t, m in outcome.masks.items()}
    fields = field_columns(outcome, frame, rules)

    ranked = tagbook.rank(masks)
    changes: dict[str, tuple[int, int]] = {}
    if memory is not None and memory.recorded is not None:
        changes = remember_tags(memory, masks, tagbook, as_of)
    tags_col, profile_col, colour_col = render_tags(ranked, masks, tagbook, frame.n)
    profile_col = add_notes(profile_col, entry_notes(active, customers, frame.n))
    summary = Summary(
        files=[
            FileSummary(
                t.source,
                t.kind,
                t.num_rows,
                t.profile.name,
                int(frame.orders.offsets[i + 1] - frame.orders.offsets[i]),
                t.profile.title,
                t.dialect.describe_encoding() if t.kind == "csv" else "",
            )
            for i, t in enumerate(tables)
        ],
        # Orders, each once: an order that several exports hold (a channel's and
        # Linnworks') is one order; ``copies`` says how many more copies there were.
        orders=frame.orders.count_distinct(frame.orders.starts),
        copies=frame.orders.count - frame.orders.count_distinct(frame.orders.starts),
        customers=customers.people,
        orders_without_customer=frame.orders.count_distinct(
            frame.orders.starts & ~customers.has_customer
        ),
        orders_per_tag={t: frame.orders.count_distinct(masks[t]) for t in ranked},
        customers_per_tag={
            t: customers.count_people(customers.reduce_any(masks[t])) for t in ranked
        },
        manual_entries=len(active),
        expired_entries=expired,
        as_of=as_of,
        conflicts=[(c.column, c.loser, c.winner, c.orders) for c in outcome.conflicts],
        # Orders, not rows: a Shopify order of three line items is held or set once.
        held=frame.orders.count_distinct(np.logical_or.reduce([m for _, m in outcome.holds]))
        if outcome.holds
        else 0,
        fields_set={
            c: frame.orders.count_distinct(fs.index >= 0) for c, fs in outcome.fields.items()
        },
        tag_changes=changes,
        recorded=memory.recorded if memory is not None else None,
        warnings=frame.warnings,
        spend_currency=frame.money.currency,
        spend_left_out=frame.money.left_out,
        notices=[
            line
            for key, kind in ACTIONS.items()
            for line in kind.report(outcome.kept.get(key), _Counts(frame))
        ],
    )
    return Annotated(
        frame,
        tagbook,
        masks,
        tags_col,
        profile_col,
        colour_col,
        summary,
        customers=customers,
        memory=memory,
        outcome=outcome,
        fields=fields,
    )
