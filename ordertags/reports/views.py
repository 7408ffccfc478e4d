"""What each order needs, for the people packing it: one model behind every view.

The terminal table (``ordertags show``), the web page (``ordertags report``) and the
spreadsheet all show, for a tagged order, the same things worked out here once: the tag
labels (icon first), the customer's own tag-book note, the customer's name and identity,
every field a rule set (the forced tracked service), the notes rules added, and the hold.
The labels and the note are the text of the ``Customer Profile`` column the CSV output
carries (:mod:`ordertags.engine.tagtext`), so no view words them differently.

>>> from ordertags import annotate
>>> view = order_views(annotate(["orders.csv"], tagbook=book))
>>> view.orders[0].needs()
'VIP — handwritten note and a freebie — Wholesale buyer, always add a catalogue.'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ordertags.actions import ACTIONS
from ordertags.base.amounts import money
from ordertags.base.colours import colour_hex, contrast_text, print_colours
from ordertags.engine.arrays import IntArray
from ordertags.engine.frame import Frame
from ordertags.engine.pipeline import Annotated
from ordertags.engine.tagtext import SEPARATOR, entry_notes
from ordertags.errors import OrderTagsError, UsageError

#: The order fields a view shows beside the needs, in this order, with their titles.
FIELD_TITLES = {
    "date": "Date",
    "total": "Total",
    "shipping_service": "Service",
    "country": "Country",
    "channel": "Channel",
}


@dataclass(frozen=True)
class TagStyle:
    """How a tag looks in every view: its label (with icon), colours and count."""

    name: str
    label: str
    icon: str
    display: str  # icon and label, as the Customer Profile column has it
    colour: str  # as written in the tag book
    background: str  # #rrggbb ("" for none)
    text: str  # #000000 or #ffffff, for contrast on the background
    print_background: str  # on paper: the colour, shaded to read in grey too
    print_text: str
    priority: int
    description: str
    orders: int = 0


@dataclass(frozen=True)
class OrderView:
    """One order and everything its packer needs."""

    order: str
    source: str
    row: int  # the row a person sees in the export (1-based, the header is row 1)
    name: str
    identity: str
    tags: tuple[str, ...]  # highest priority first
    profile: str = ""  # the Customer Profile column: the labels, icon first, and the note
    notes: tuple[str, ...] = ()  # the customer's tag-book notes
    set_fields: tuple[tuple[str, str], ...] = ()  # (column, value) a rule set
    order_notes: tuple[str, ...] = ()  # notes rules added to the order
    hold: str = ""  # why the order is held ("" when it is not)
    values: tuple[tuple[str, str], ...] = ()  # (title, text) of the shown fields
    #: What other action kinds show (:meth:`ordertags.actions.Action.show`), e.g.
    #: ``Notify: FRAUD ordered again``.
    action_lines: tuple[str, ...] = ()

    def actions(self) -> str:
        """The fields rules set, the hold and what other actions show, as one line
        (``Postal Service: Tracked 24``)."""
        parts = [f"{c}: {v}" for c, v in self.set_fields]
        if self.hold:
            parts.append(f"HOLD: {self.hold}")
        return SEPARATOR.join([*parts, *self.action_lines])

    def needs(self) -> str:
        """Everything the packer must do for this order, as one line."""
        parts = [self.profile, *self.order_notes, self.actions()]
        return " | ".join(p for p in parts if p)

    def colour(self, styles: dict[str, TagStyle]) -> TagStyle | None:
        """The style of the order's first (highest priority) tag that has a colour."""
        for t in self.tags:
            if t in styles and styles[t].background:
                return styles[t]
        return None


@dataclass
class OrdersView:
    """The orders of a run as the views show them."""

    as_of: dt.date | None
    generated: dt.datetime
    sources: list[str]
    tags: dict[str, TagStyle]  # every tag of the tag book, highest priority first
    orders: list[OrderView]
    total_orders: int  # before --tag / --only-tagged
    fields: list[str] = field(default_factory=list)  # titles of ``OrderView.values``

    @property
    def tagged(self) -> int:
        return sum(1 for o in self.orders if o.tags)

    def counts_line(self) -> str:
        """``16 orders, 12 tagged: ★ VIP 7, FRAUD 1, ...`` (tags with orders only)."""
        counts = [
            f"{(s.icon + ' ') if s.icon else ''}{s.name} {s.orders:,}"
            for s in self.tags.values()
            if s.orders
        ]
        head = f"{len(self.orders):,} {'order' if len(self.orders) == 1 else 'orders'}"
        if len(self.orders) != self.total_orders:
            head += f" of {self.total_orders:,}"
        head += f", {self.tagged:,} tagged"
        return head + (": " + ", ".join(counts) if counts else "")


def tag_styles(result: Annotated) -> dict[str, TagStyle]:
    """Every tag of the run's tag book, highest priority first, with its order count."""
    book = result.tagbook
    counts = result.summary.orders_per_tag
    out: dict[str, TagStyle] = {}
    for name in book.rank(book.tags):
        t = book.tags[name]
        paper = print_colours(t.colour)
        out[name] = TagStyle(
            name=name,
            label=t.label,
            icon=t.icon,
            display=t.display,
            colour=t.colour,
            background=colour_hex(t.colour),
            text=contrast_text(t.colour),
            print_background=paper[0],
            print_text=paper[1],
            priority=t.priority,
            description=t.description,
            orders=counts.get(name, 0),
        )
    return out


def _at(col: pa.ChunkedArray | pa.Array, rows: np.ndarray[Any, Any]) -> list[str]:
    """The text of ``col`` at ``rows`` ("" for nulls)."""
    taken = col.take(pa.array(rows, pa.int64()))
    if isinstance(taken, pa.ChunkedArray):
        taken = taken.combine_chunks()
    if pa.types.is_dictionary(taken.type):
        taken = taken.cast(pa.string())
    values: list[str] = pc.fill_null(taken, "").to_pylist()
    return values


def _shown_dates(frame: Frame, rows: IntArray) -> list[str] | None:
    """The orders' dates as ordertags read them, in ISO 8601 (``2026-11-02``, with
    ``13:20`` where the export gives a time of day): one layout whatever each export wrote
    (eBay's ``02-Nov-26``, Etsy's month-first ``11/02/26``), so no reader takes one for
    another. None where a date does not parse (the export's text is shown then)."""
    try:
        stamps = frame.dates(field="date", optional=True)[rows]
    except OrderTagsError:
        return None
    # Midnight is a date without a time; no date (NaT) is shown blank.
    midnight = stamps == stamps.astype("datetime64[D]")
    timed = np.char.replace(np.datetime_as_string(stamps, unit="m"), "T", " ")
    dated = np.datetime_as_string(stamps, unit="D")
    shown = np.where(np.isnat(stamps), "", np.where(midnight, dated, timed))
    result: list[str] = shown.tolist()
    return result


def _shown_totals(frame: Frame, rows: IntArray, written: list[str]) -> list[str]:
    """The orders' totals: the export's own text where it has a total column (``$1,433.66``,
    ``116,99 €``), else the total the rules compute (Amazon: its lines' item-price,
    shipping and tax), with two decimals."""
    if all(written):
        return written
    try:
        units = frame.money_units(field="total", optional=True)[rows]
        present = ~np.isnan(frame.numbers(field="total", optional=True)[rows])
    except OrderTagsError:  # a total that does not parse: the export's text, as it is
        return written
    return [
        text or (money(int(u)) if ok else "")
        for text, u, ok in zip(written, units, present, strict=True)
    ]


def order_views(
    result: Annotated,
    *,
    tags: Sequence[str] = (),
    only_tagged: bool = False,
    columns: Sequence[str] = (),
    generated: dt.datetime | None = None,
) -> OrdersView:
    """The orders of ``result`` with what each needs, in file order.

    ``tags`` keeps the orders carrying any of them, ``only_tagged`` those carrying any
    tag; ``columns`` names export columns to show instead of the usual fields (date,
    total, service, country, channel, where the exports have them).
    """
    frame = result.frame
    book = result.tagbook
    tags = [book.tag_named(t) for t in tags]  # in any case; an unknown one is an error
    rows = frame.order_rows
    total = len(rows)
    keep = np.ones(len(rows), dtype=bool)
    if tags:
        keep = np.zeros(len(rows), dtype=bool)
        for t in tags:
            if t in result.tag_masks:
                keep |= result.tag_masks[t][rows]
    if only_tagged:
        any_tag = np.zeros(frame.n, dtype=bool)
        for m in result.tag_masks.values():
            any_tag |= m
        keep &= any_tag[rows]
    rows = rows[keep]
    styles = tag_styles(result)
    if tags or only_tagged:
        # Counts of the orders shown, so that the counts line matches the table.
        styles = {
            n: _with_orders(s, int(result.tag_masks[n][rows].sum()) if n in result.tag_masks else 0)
            for n, s in styles.items()
        }

    def text_of(field_name: str) -> list[str]:
        if not frame.has_field(field_name):
            return [""] * len(rows)
        return _at(frame.text(field=field_name), rows)

    order_ids = text_of("order_id")
    names = [n.strip() for n in text_of("name")]
    identities = [i.strip() for i in _at(frame.identity_text(), rows)]
    tag_texts = _at(result.tags, rows)
    active, _ = result.tagbook.active_entries(result.summary.as_of or dt.date.today())
    noted = entry_notes(active, result.customers, frame.n)
    notes = _at(noted, rows) if noted is not None else [""] * len(rows)
    profiles = _at(result.profile, rows)
    table_of = np.searchsorted(frame.offsets, rows, side="right") - 1

    # What rules set, per order: (the column written, its new value).
    set_fields: list[list[tuple[str, str]]] = [[] for _ in rows]
    order_notes: list[list[str]] = [[] for _ in rows]
    holds: list[list[str]] = [[] for _ in rows]
    outcome = result.outcome
    if outcome is not None:
        for column, fs in outcome.fields.items():
            idx = fs.index[rows]
            for k in np.flatnonzero(idx >= 0):
                title = result.written_column(int(table_of[k]), column)
                set_fields[int(k)].append((title, fs.values[int(idx[k])]))
        for texts in outcome.notes.values():
            for text, mask in texts:
                for k in np.flatnonzero(mask[rows]):
                    if text not in order_notes[int(k)]:
                        order_notes[int(k)].append(text)
        for text, mask in outcome.holds:
            for k in np.flatnonzero(mask[rows]):
                if text not in holds[int(k)]:
                    holds[int(k)].append(text)
    # What the other action kinds show, each its own way.
    shown_rows = _ShownRows(rows)
    action_lines: list[list[str]] = [[] for _ in rows]
    for key, kind in ACTIONS.items():
        lines = kind.show(outcome.kept.get(key), shown_rows, len(rows)) if outcome else None
        for at, more in enumerate(lines or []):
            action_lines[at] += more

    # Each shown field or column: its title, its text per order, and per export the
    # column it is read from (None: none), so that a value a rule set shows as set.
    shown: list[tuple[str, list[str], list[str | None]]] = []
    tables = frame.tables
    if columns:
        for c in columns:
            if not frame.has_column(c):
                raise UsageError(
                    f'no export has a column "{c}".',
                    hint="Name columns as the export's header does (see `ordertags inspect`).",
                )
            found = [m.find_column(c) for m in frame.maps]
            sources = [
                None if i is None else t.columns[i] for t, i in zip(tables, found, strict=True)
            ]
            shown.append((c, _at(frame.text(column=c), rows), sources))
    else:
        for f, title in FIELD_TITLES.items():
            if frame.has_field(f):
                values = text_of(f)
                if f == "date":
                    values = _shown_dates(frame, rows) or values
                elif f == "total":
                    values = _shown_totals(frame, rows, values)
                if any(values):
                    sources = [
                        t.columns[m.sources(f)[0]] if m.sources(f) else None
                        for t, m in zip(tables, frame.maps, strict=True)
                    ]
                    shown.append((title, values, sources))
    for _, values, sources in shown:  # the value after the rules (a forced service)
        for k in np.flatnonzero([bool(s) for s in set_fields]):
            source = sources[int(table_of[k])]
            for column, value in set_fields[k]:
                if column == source:
                    values[k] = value

    orders = []
    for i, row in enumerate(rows):
        table, seen = frame.locate(int(row))
        orders.append(
            OrderView(
                order=order_ids[i] or f"row {seen}",
                source=Path(table.source).name,
                row=seen,
                name=names[i],
                identity=identities[i],
                tags=tuple(t for t in tag_texts[i].split(SEPARATOR) if t),
                profile=profiles[i],
                notes=(notes[i],) if notes[i] else (),
                set_fields=tuple(set_fields[i]),
                order_notes=tuple(order_notes[i]),
                hold=SEPARATOR.join(holds[i]),
                values=tuple((title, values[i]) for title, values, _ in shown),
                action_lines=tuple(action_lines[i]),
            )
        )
    return OrdersView(
        as_of=result.summary.as_of,
        generated=generated or dt.datetime.now().astimezone().replace(microsecond=0),
        sources=[Path(t.source).name for t in frame.tables],
        tags=styles,
        orders=orders,
        total_orders=total,
        fields=[title for title, _, _ in shown],
    )


class _ShownRows:
    """The rows a view shows (:class:`ordertags.actions.Shown`)."""

    def __init__(self, rows: IntArray) -> None:
        self.rows = rows

    def each(self, mask: np.ndarray[Any, Any]) -> list[int]:
        at: list[int] = np.flatnonzero(mask[self.rows]).tolist()
        return at


def _with_orders(style: TagStyle, orders: int) -> TagStyle:
    return replace(style, orders=orders)


#: What each order's row of the document holds, in order (``orders.columns``): one array
#: per order rather than one object, so that a page of 50,000 orders does not repeat the
#: names 50,000 times.
ORDER_COLUMNS = (
    "order",
    "source",
    "row",
    "name",
    "identity",
    "tags",
    "profile",
    "notes",
    "set",
    "order_notes",
    "hold",
    "actions",
    "needs",
    "values",
)


def view_document(view: OrdersView) -> dict[str, Any]:
    """The view as one JSON document (the shape ``ordertags schema report`` prints): what
    the report page embeds and renders, and what a local web screen can serve."""
    return {
        "version": 2,
        "generated": view.generated.isoformat(),
        "as_of": view.as_of.isoformat() if view.as_of else None,
        "sources": view.sources,
        "counts": {"orders": len(view.orders), "tagged": view.tagged, "all": view.total_orders},
        "fields": view.fields,
        "tags": [
            {
                "name": s.name,
                "label": s.label,
                "icon": s.icon,
                "display": s.display,
                "colour": s.colour,
                "background": s.background,
                "text": s.text,
                "print_background": s.print_background,
                "print_text": s.print_text,
                "priority": s.priority,
                "description": s.description,
                "orders": s.orders,
            }
            for s in view.tags.values()
        ],
        "orders": {
            "columns": list(ORDER_COLUMNS),
            "rows": [
                [
                    o.order,
                    o.source,
                    o.row,
                    o.name,
                    o.identity,
                    list(o.tags),
                    o.profile,
                    list(o.notes),
                    [[c, v] for c, v in o.set_fields],
                    list(o.order_notes),
                    o.hold,
                    list(o.action_lines),
                    o.needs(),
                    [v for _, v in o.values],
                ]
                for o in view.orders
            ],
        },
    }


def document_orders(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders of a :func:`view_document` as one dictionary each (keyed by
    ``orders.columns``), for a program reading the document.

    >>> document_orders(view_document(view))[0]["order"]
    '200001'
    """
    columns = document["orders"]["columns"]
    return [dict(zip(columns, row, strict=True)) for row in document["orders"]["rows"]]
