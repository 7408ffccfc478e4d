"""The runs the command line makes: each reads exports (or a workspace's history),
works out what a command asks for and writes or returns it, driven by a typed request
(:mod:`ordertags.runs.requests`) and returning a typed result.

Layer: above ``reports`` (what runs make for people), below ``api`` (the small public
surface for people, which calls these runs) and ``cli`` (which parses options into
requests and renders the results).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ordertags.customers.accounts import (
    ROLES,
    AuditEntry,
    User,
    add_user,
    audit_entries,
    list_users,
    remove_user,
    set_password,
)
from ordertags.customers.migration import MigrateReport, migrate_workspace
from ordertags.customers.workspace import Workspace, workspace_history
from ordertags.reports.explain import Explanation
from ordertags.reports.explain import render as explanation_text
from ordertags.reports.inspection import Inspection, inspect_orders
from ordertags.reports.lint import LintReport, lint
from ordertags.reports.lists import REASON_TEXT, ListFilter, Money, Selection
from ordertags.reports.segments import (
    SegmentTable,
    TagLine,
    segment_table_csv,
    segment_table_json,
    tag_figures_csv,
    tag_figures_json,
    thresholds_text,
)
from ordertags.reports.views import OrdersView
from ordertags.reports.watch import (
    Alert,
    new_alerts,
    post_alerts,
    untold_alerts,
    watch_alerts,
    webhook_settings,
)
from ordertags.runs.apply import apply_orders
from ordertags.runs.history import INGEST_SLICE, ingest
from ordertags.runs.lists import export_list, make_list, write_list_xlsx
from ordertags.runs.requests import (
    LIST_FORMATS,
    OUTPUT_FORMATS,
    PROFILE_PLACES,
    SEGMENTS_BY,
    ApplyRequest,
    ApplyResult,
    ExportRequest,
    ExportResult,
    IngestRequest,
    Inputs,
    ListSpec,
    PathLike,
    Progress,
    SuspectsRequest,
    ViewRequest,
    WriteOptions,
    check_arguments,
)
from ordertags.runs.views import explain, segment_report, suspects, view_orders, write_report

if TYPE_CHECKING:
    from ordertags.reports.terminal import (
        progress_bar,
        render_counts,
        render_plain,
        render_table,
    )

__all__ = [
    "INGEST_SLICE",
    "LIST_FORMATS",
    "OUTPUT_FORMATS",
    "PROFILE_PLACES",
    "REASON_TEXT",
    "ROLES",
    "SEGMENTS_BY",
    "Alert",
    "ApplyRequest",
    "ApplyResult",
    "AuditEntry",
    "ExportRequest",
    "ExportResult",
    "Explanation",
    "IngestRequest",
    "Inputs",
    "Inspection",
    "LintReport",
    "ListFilter",
    "ListSpec",
    "Money",
    "OrdersView",
    "PathLike",
    "Progress",
    "SegmentTable",
    "Selection",
    "SuspectsRequest",
    "TagLine",
    "User",
    "ViewRequest",
    "WriteOptions",
    "MigrateReport",
    "add_user",
    "migrate_workspace",
    "apply_orders",
    "audit_log",
    "check_arguments",
    "explain",
    "explanation_text",
    "export_list",
    "ingest",
    "inspect_orders",
    "lint",
    "list_users",
    "make_list",
    "new_alerts",
    "post_alerts",
    "untold_alerts",
    "progress_bar",
    "remove_user",
    "render_counts",
    "render_plain",
    "render_table",
    "segment_report",
    "segment_table_csv",
    "segment_table_json",
    "set_password",
    "suspects",
    "tag_figures_csv",
    "tag_figures_json",
    "thresholds_text",
    "view_orders",
    "watch_alerts",
    "webhook_settings",
    "write_list_xlsx",
    "write_report",
]

#: Drawn on a terminal only (rich takes a while to import): loaded when first asked for.
_TERMINAL = ("progress_bar", "render_counts", "render_plain", "render_table")


def __getattr__(name: str) -> Any:
    if name in _TERMINAL:
        from ordertags.reports import terminal

        return getattr(terminal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def audit_log(
    workspace: Workspace, *, customer: str | None = None, since: dt.date | None = None
) -> list[AuditEntry]:
    """The workspace's audit log, oldest first: every change made from the team screen
    or by ``ordertags users`` (of the customer ``customer`` names, from ``since`` on)."""
    with workspace_history(workspace) as history:
        assert history is not None
        return audit_entries(history, customer=customer, since=since)
