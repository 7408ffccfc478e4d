"""How to read exports: one value for every option that says so.

>>> ReadOptions(encoding="cp1252", columns={"email": "Buyer"}).column("email")
'Buyer'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ordertags.io.platforms import DATE_STYLE_ALIASES, DATE_STYLES
from ordertags.io.platforms import MONEY_STYLES as MONEY_STYLES  # for the command line
from ordertags.io.platforms import PROFILE_NAMES as PROFILE_NAMES  # for the command line

#: What annotated exports can be written as (``output_format``; None keeps each
#: export's own), and a mailing list.
OUTPUT_FORMATS = ("csv", "json", "ndjson", "xlsx")
LIST_FORMATS = ("csv", "xlsx")
#: Where the added columns go in a written export (``profile_columns``).
PROFILE_PLACES = ("first", "last")


@dataclass(frozen=True)
class ReadOptions:
    """How to read order exports. Every field's default lets the export speak for
    itself: the encoding is UTF-8 (a BOM is dropped), the delimiter is sniffed, the
    platform is picked from the header, money and dates are read as the platform
    writes them, and each field's column is found by its usual names.

    - ``encoding``: the exports' text encoding (``cp1252``, ``latin-1`` ...);
    - ``delimiter``: the CSV delimiter (``,`` ``;`` ``tab`` ``|``);
    - ``profile``: the platform profile by name (``shopify``, ``amazon`` ...; ``--format``);
    - ``mapping``: a mapping file naming the columns of another export (``--mapping``);
    - ``columns``: field -> column, where the usual names do not find it
      (``{"email": "Buyer"}``);
    - ``money_style``: one of :data:`MONEY_STYLES`;
    - ``date_style``: ``dmy`` or ``mdy`` where the platform's cannot be told.
    """

    encoding: str | None = None
    delimiter: str | None = None
    profile: str | None = None
    mapping: str | os.PathLike[str] | None = None
    columns: Mapping[str, str | None] = field(default_factory=dict)
    money_style: str | None = None
    date_style: str | None = None

    def column(self, name: str) -> str | None:
        """The column named by hand for field ``name`` (None: found by its names)."""
        return self.columns.get(name)

    @property
    def mapping_path(self) -> str | None:
        """The mapping file as a string path (None: no mapping)."""
        return os.fspath(self.mapping) if self.mapping is not None else None


def date_style_named(text: str) -> str | None:
    """The date style ``text`` names (``day-first`` -> ``eu``), None for no style.

    >>> date_style_named("Day-First"), date_style_named("sometimes")
    ('eu', None)
    """
    style = DATE_STYLE_ALIASES.get(text.strip().lower(), text.strip().lower())
    return style if style in DATE_STYLES else None


#: Reading as each export says: the default everywhere.
DEFAULT = ReadOptions()
