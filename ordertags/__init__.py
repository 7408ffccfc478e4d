"""ordertags: a memory of customers for online sellers.

A tag book (tag definitions and customers tagged by hand) and rules (conditions on
orders and customers) are applied to order exports; every order comes back with its
customer's tags, profile and colour.

>>> import datetime, ordertags
>>> result = ordertags.annotate("examples/orders.csv", tagbook="tagbook.example.yaml",
...     rules="rules.example.yaml", as_of=datetime.date(2026, 11, 26))
>>> [c for c in result.to_pandas().columns if c in ("Customer Tags", "Tag Colour")]
['Customer Tags', 'Tag Colour']

Names are imported on first use, so that ``import ordertags`` stays light (no pyarrow,
no pandas); type checkers see them all through the ``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ordertags.base.version import VERSION as __version__

if TYPE_CHECKING:
    from ordertags.api import (
        Explanation as Explanation,
    )
    from ordertags.api import (
        Inspection as Inspection,
    )
    from ordertags.api import (
        LintReport as LintReport,
    )
    from ordertags.api import (
        ListSpec as ListSpec,
    )
    from ordertags.api import (
        annotate as annotate,
    )
    from ordertags.api import (
        apply_files as apply_files,
    )
    from ordertags.api import (
        explain_files as explain_files,
    )
    from ordertags.api import (
        export_list as export_list,
    )
    from ordertags.api import (
        ingest_files as ingest_files,
    )
    from ordertags.api import (
        inspect_export as inspect_export,
    )
    from ordertags.api import (
        lint_files as lint_files,
    )
    from ordertags.api import (
        mailing_list as mailing_list,
    )
    from ordertags.api import (
        segments_report as segments_report,
    )
    from ordertags.api import (
        suspects_in_files as suspects_in_files,
    )
    from ordertags.base.emails import (
        normalize_email as normalize_email,
    )
    from ordertags.base.keys import (
        address_key as address_key,
    )
    from ordertags.base.keys import (
        normalize_phone as normalize_phone,
    )
    from ordertags.customers.grouping import (
        customer_keys as customer_keys,
    )
    from ordertags.customers.history import (
        History as History,
    )
    from ordertags.customers.history import (
        IngestReport as IngestReport,
    )
    from ordertags.customers.history import (
        open_history as open_history,
    )
    from ordertags.customers.workspace import (
        Workspace as Workspace,
    )
    from ordertags.customers.workspace import (
        find_workspace as find_workspace,
    )
    from ordertags.customers.workspace import (
        init_workspace as init_workspace,
    )
    from ordertags.engine.pipeline import (
        Annotated as Annotated,
    )
    from ordertags.engine.pipeline import (
        Summary as Summary,
    )
    from ordertags.errors import (
        ColumnError as ColumnError,
    )
    from ordertags.errors import (
        HistoryError as HistoryError,
    )
    from ordertags.errors import (
        InputError as InputError,
    )
    from ordertags.errors import (
        OrderTagsError as OrderTagsError,
    )
    from ordertags.errors import (
        RulesError as RulesError,
    )
    from ordertags.errors import (
        TagBookError as TagBookError,
    )
    from ordertags.errors import (
        UsageError as UsageError,
    )
    from ordertags.errors import (
        ValueParseError as ValueParseError,
    )
    from ordertags.errors import (
        WorkspaceError as WorkspaceError,
    )
    from ordertags.io.lookup import (
        find_order_email as find_order_email,
    )
    from ordertags.io.options import (
        ReadOptions as ReadOptions,
    )
    from ordertags.io.readers import (
        OrderSource as OrderSource,
    )
    from ordertags.io.readers import (
        OrderTable as OrderTable,
    )
    from ordertags.io.readers import (
        read_orders as read_orders,
    )
    from ordertags.io.safecsv import (
        neutralise_text as neutralise_text,
    )
    from ordertags.io.values import (
        parse_dates as parse_dates,
    )
    from ordertags.io.values import (
        parse_money as parse_money,
    )
    from ordertags.reports.lists import (
        CustomerRows as CustomerRows,
    )
    from ordertags.reports.lists import (
        ListFilter as ListFilter,
    )
    from ordertags.reports.lists import (
        Selection as Selection,
    )
    from ordertags.reports.lists import (
        customers_of_run as customers_of_run,
    )
    from ordertags.reports.lists import (
        get_preset as get_preset,
    )
    from ordertags.reports.lists import (
        render_list as render_list,
    )
    from ordertags.reports.lists import (
        select as select,
    )
    from ordertags.reports.segments import (
        segment_customers as segment_customers,
    )
    from ordertags.rules import (
        RuleSet as RuleSet,
    )
    from ordertags.rules import (
        load_rules as load_rules,
    )
    from ordertags.tagbook import (
        Entry as Entry,
    )
    from ordertags.tagbook import (
        EntryChange as EntryChange,
    )
    from ordertags.tagbook import (
        Link as Link,
    )
    from ordertags.tagbook import (
        TagBook as TagBook,
    )
    from ordertags.tagbook import (
        TagDef as TagDef,
    )
    from ordertags.tagbook import (
        TagRequest as TagRequest,
    )
    from ordertags.tagbook import (
        change_entry as change_entry,
    )
    from ordertags.tagbook import (
        link_identities as link_identities,
    )
    from ordertags.tagbook import (
        load_tagbook as load_tagbook,
    )
    from ordertags.tagbook import (
        suppress_address as suppress_address,
    )
    from ordertags.tagbook import (
        tag_customer as tag_customer,
    )
    from ordertags.tagbook import (
        tag_customers as tag_customers,
    )
    from ordertags.tagbook import (
        unlink_identities as unlink_identities,
    )
    from ordertags.tagbook import (
        untag_customer as untag_customer,
    )

_EXPORTS = {
    "Annotated": "engine.pipeline",
    "ColumnError": "errors",
    "CustomerRows": "reports.lists",
    "Entry": "tagbook",
    "Explanation": "api",
    "History": "customers.history",
    "HistoryError": "errors",
    "IngestReport": "customers.history",
    "InputError": "errors",
    "Inspection": "api",
    "Link": "tagbook",
    "LintReport": "api",
    "ListFilter": "reports.lists",
    "ListSpec": "api",
    "OrderSource": "io.readers",
    "OrderTable": "io.readers",
    "OrderTagsError": "errors",
    "ReadOptions": "io.options",
    "RuleSet": "rules",
    "RulesError": "errors",
    "Selection": "reports.lists",
    "Summary": "engine.pipeline",
    "TagBook": "tagbook",
    "TagBookError": "errors",
    "TagDef": "tagbook",
    "UsageError": "errors",
    "ValueParseError": "errors",
    "Workspace": "customers.workspace",
    "WorkspaceError": "errors",
    "address_key": "base.keys",
    "annotate": "api",
    "apply_files": "api",
    "customer_keys": "customers.grouping",
    "customers_of_run": "reports.lists",
    "explain_files": "api",
    "export_list": "api",
    "find_order_email": "io.lookup",
    "find_workspace": "customers.workspace",
    "get_preset": "reports.lists",
    "ingest_files": "api",
    "init_workspace": "customers.workspace",
    "inspect_export": "api",
    "link_identities": "tagbook",
    "lint_files": "api",
    "load_rules": "rules",
    "load_tagbook": "tagbook",
    "mailing_list": "api",
    "neutralise_text": "io.safecsv",
    "normalize_email": "base.emails",
    "normalize_phone": "base.keys",
    "open_history": "customers.history",
    "parse_dates": "io.values",
    "parse_money": "io.values",
    "read_orders": "io.readers",
    "render_list": "reports.lists",
    "segment_customers": "reports.segments",
    "segments_report": "api",
    "select": "reports.lists",
    "suppress_address": "tagbook",
    "suspects_in_files": "api",
    "tag_customer": "tagbook",
    "tag_customers": "tagbook",
    "TagRequest": "tagbook",
    "change_entry": "tagbook",
    "EntryChange": "tagbook",
    "unlink_identities": "tagbook",
    "untag_customer": "tagbook",
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
