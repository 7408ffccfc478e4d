"""The tag book: tag definitions, the customers tagged by hand, identity links and
suppressed addresses (one YAML file people edit and keep in version control).

- :mod:`~ordertags.tagbook.model`: the book (:class:`TagBook` and its parts) and the
  rules names and identities are matched by.
- :mod:`~ordertags.tagbook.reader`: reading and checking a book (:func:`load_tagbook`),
  with :mod:`~ordertags.tagbook.quickread` (the ``customers`` list read line by line)
  and :mod:`~ordertags.tagbook.cachefile` (what a parse found, cached and checked).
- :mod:`~ordertags.tagbook.operations`: the edits (tag, untag, the note and expiry of an
  entry, suppress, link, unlink), each worked out once as
  :mod:`~ordertags.tagbook.changes` and written by :mod:`~ordertags.tagbook.store`
  under the book's lock: by the text writer (:mod:`~ordertags.tagbook.textwriter`,
  only the lines concerned) where the file's layout allows, else by the comment-keeping
  round trip (:mod:`~ordertags.tagbook.roundtrip`).

This package must stay free of pandas and pyarrow: the quick commands use it.
"""

from ordertags.tagbook.model import (
    IDENTITY_FIELDS,
    Entry,
    Link,
    Suppression,
    TagBook,
    TagDef,
    customer_version,
    entry_key,
    is_icon,
    parse_date,
    tag_key,
)
from ordertags.tagbook.operations import (
    EntryChange,
    LinkChange,
    SuppressChange,
    TagChange,
    TagRequest,
    change_entry,
    default_author,
    define_tag,
    link_identities,
    suppress_address,
    tag_customer,
    tag_customers,
    unlink_identities,
    untag_customer,
)
from ordertags.tagbook.reader import load_tagbook, parse_tagbook
from ordertags.tagbook.store import Guard
from ordertags.tagbook.transfer import ImportReport, export_entries, import_entries

__all__ = [
    "IDENTITY_FIELDS",
    "Entry",
    "EntryChange",
    "Guard",
    "ImportReport",
    "Link",
    "LinkChange",
    "SuppressChange",
    "Suppression",
    "TagBook",
    "TagChange",
    "TagRequest",
    "TagDef",
    "change_entry",
    "customer_version",
    "default_author",
    "entry_key",
    "export_entries",
    "import_entries",
    "is_icon",
    "define_tag",
    "link_identities",
    "load_tagbook",
    "parse_date",
    "parse_tagbook",
    "suppress_address",
    "tag_customer",
    "tag_customers",
    "tag_key",
    "unlink_identities",
    "untag_customer",
]
