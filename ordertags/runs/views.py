"""Runs that read exports and change nothing: the orders for people (``show``,
``report``), why an order gets its tags (``explain``), RFM groups and figures per tag
(``segments``), and customers that may be one person (``suspects``)."""

from __future__ import annotations

import datetime as dt
import os

from ordertags.base.keys import check_region
from ordertags.customers.identity import Suspect
from ordertags.customers.workspace import workspace_history
from ordertags.engine.frame import Frame
from ordertags.engine.resolution import suspects_in_frame
from ordertags.errors import UsageError, param
from ordertags.io.readers import read_exports
from ordertags.io.writers import write_output
from ordertags.reports.explain import Explanation, explain_order
from ordertags.reports.html import render_page
from ordertags.reports.lists import customers_of_history, customers_of_run
from ordertags.reports.segments import SegmentTable, TagLine, segment_customers, segment_table
from ordertags.reports.segments import tag_figures as tag_figures_of
from ordertags.reports.views import OrdersView, order_views
from ordertags.rules import load_rules
from ordertags.runs.common import segment_config, tag_orders
from ordertags.runs.requests import (
    SEGMENTS_BY,
    Inputs,
    PathLike,
    SuspectsRequest,
    ViewRequest,
)
from ordertags.tagbook import TagBook, load_tagbook


def view_orders(request: ViewRequest) -> OrdersView:
    """Tag the orders and return what each needs, for ``show`` and ``report``: an
    :class:`ordertags.reports.views.OrdersView`. With a workspace, its history is read
    (a customer merged across channels shows all their tags and notes); nothing is
    recorded."""
    with workspace_history(request.inputs.workspace) as history:
        result = tag_orders(request.inputs, history=history, record=False)
    return order_views(
        result,
        tags=request.tags,
        only_tagged=request.only_tagged,
        columns=request.show_columns,
    )


def write_report(view: OrdersView, output: PathLike, *, title: str = "Orders to pack") -> None:
    """Write ``view`` as the self-contained web page of ``ordertags report`` into
    ``output`` (``-``: standard output), atomically."""
    page = render_page(view, title=title).encode("utf-8")
    write_output(output, lambda fh: fh.write(page))


def explain(order_id: str, inputs: Inputs) -> Explanation:
    """Why order ``order_id`` of ``inputs`` gets its tags: each rule with its
    conditions' values and results, the tag-book entries that matched and the final
    tags. With a workspace, customer conditions read its history (nothing is
    recorded)."""
    given = inputs.tagbook
    book = given if isinstance(given, TagBook) else load_tagbook(given)
    ruleset = load_rules(inputs.rules) if inputs.rules is not None else None
    with workspace_history(inputs.workspace) as history:
        return explain_order(
            order_id,
            [os.fspath(o) for o in inputs.orders],
            tagbook=book,
            rules=ruleset,
            as_of=inputs.as_of,
            read=inputs.read,
            history=history,
            region=inputs.region,
        )


def segment_report(inputs: Inputs, *, by: str = "group") -> SegmentTable | list[TagLine]:
    """The RFM groups of the run's customers (all-time figures from the history in a
    workspace; with a workspace and no exports, every customer of the history) as a
    :class:`ordertags.reports.segments.SegmentTable`; with ``by="tag"``, per tag the
    customers, orders and spend of the last 30, 90 and 365 days."""
    if by not in SEGMENTS_BY:
        raise UsageError(
            f'cannot group segments by "{by}".',
            hint=f"Use {param('by')} group or {param('by')} tag.",
        )
    if not inputs.orders and inputs.workspace is None:
        raise UsageError(
            "give the exports to work segments out from.",
            hint=f"Or, in a workspace ({param('workspace')} DIR), give none to use its history.",
        )
    if not inputs.orders and by == "tag":
        raise UsageError(
            f"{param('by')} tag needs the exports whose orders carry the tags.",
            hint="Give the exports (in a workspace, their customers' history is used too).",
        )
    with workspace_history(inputs.workspace) as history:
        if not inputs.orders:
            assert history is not None
            when = inputs.as_of or dt.date.today()
            given = inputs.tagbook
            book = given if isinstance(given, TagBook) else load_tagbook(given)
            rows, _ = customers_of_history(history, book, when)
        else:
            result = tag_orders(inputs, history=history)
            if by == "tag":
                return tag_figures_of(result)
            when = result.frame.as_of
            rows = customers_of_run(result, history)
    method, cutoffs = segment_config(inputs.rules)
    scores = segment_customers(rows, when, method=method, cutoffs=cutoffs)
    return segment_table(rows, scores)


def suspects(request: SuspectsRequest) -> list[Suspect]:
    """Pairs of customers of the exports that may be one person (the same address, or
    the same phone under another surname), highest-priority tags first."""
    inputs = request.inputs
    when = inputs.as_of or dt.date.today()
    given = inputs.tagbook
    book = given if isinstance(given, TagBook) else load_tagbook(given)
    read = inputs.read
    frame = Frame.of(
        read_exports([os.fspath(o) for o in inputs.orders], read), as_of=when, read=read
    )
    frame.require_field("email")
    return suspects_in_frame(
        frame,
        book,
        as_of=when,
        tag=request.tag,
        limit=request.limit,
        max_sharing=request.max_sharing,
        region=check_region(inputs.region),
    )
