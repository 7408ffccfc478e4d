"""ordertags: a memory of customers for online sellers.

A tag book (tag definitions and customers tagged by hand) and rules (conditions on
orders and customers) are applied to order exports; every order comes back with its
customer's tags, profile and colour.

>>> import ordertags
>>> book = ordertags.load_tagbook("tagbook.example.yaml")  # doctest: +SKIP
>>> result = ordertags.annotate(["examples/orders.csv"], tagbook=book,
...     rules=ordertags.load_rules("rules.example.yaml"))  # doctest: +SKIP

Names are imported on first use, so that ``import ordertags`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ordertags.base.version import VERSION as __version__

_EXPORTS = {
    "annotate": "engine.pipeline",
    "Annotated": "engine.pipeline",
    "Summary": "engine.pipeline",
    "apply_files": "api",
    "export_list": "api",
    "ListSpec": "api",
    "customer_keys": "customers.grouping",
    "normalize_email": "base.emails",
    "OrderTagsError": "errors",
    "InputError": "errors",
    "ColumnError": "errors",
    "ValueParseError": "errors",
    "TagBookError": "errors",
    "RulesError": "errors",
    "UsageError": "errors",
    "find_order_email": "io.lookup",
    "mailing_list": "reports.lists",
    "Selection": "reports.lists",
    "read_orders": "io.readers",
    "OrderTable": "io.readers",
    "load_rules": "rules",
    "RuleSet": "rules",
    "load_tagbook": "tags",
    "tag_customer": "tags",
    "untag_customer": "tags",
    "TagBook": "tags",
    "TagDef": "tags",
    "Entry": "tags",
    "parse_money": "io.values",
    "parse_dates": "io.values",
    # Customer memory: workspace, history, identity (issue 4).
    "ingest_files": "api",
    "HistoryError": "errors",
    "WorkspaceError": "errors",
    "History": "customers.history",
    "open_history": "customers.history",
    "IngestReport": "customers.history",
    "normalize_phone": "base.keys",
    "address_key": "base.keys",
    "link_identities": "tags",
    "unlink_identities": "tags",
    "Link": "tags",
    "Workspace": "customers.workspace",
    # Mailing lists and segments (issue 11).
    "customers_of_run": "reports.lists",
    "CustomerRows": "reports.lists",
    "ListFilter": "reports.lists",
    "select": "reports.lists",
    "get_preset": "reports.lists",
    "render_list": "reports.lists",
    "segments_report": "api",
    "segment_customers": "reports.segments",
    "suppress_address": "tags",
    "neutralise_text": "io.safecsv",
    "find_workspace": "customers.workspace",
    "init_workspace": "customers.workspace",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ordertags' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
