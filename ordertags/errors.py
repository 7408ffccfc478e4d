"""The one error family of ordertags.

Every error the library raises on bad input subclasses :class:`OrderTagsError`
and carries the context a person needs to fix it: the file, the 1-based row or
line, the column or key, and a hint. The CLI catches only this base class.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: A parameter named in a message, as :func:`param` marks it.
_PARAM = re.compile("\x1f([^\x1f]+)\x1f")


def param(name: str) -> str:
    """A parameter of the library named in a message (``read.date_style``, ``everyone``):
    a Python caller reads its name, the command line its flag (``--date-style``,
    ``--all``), through :meth:`OrderTagsError.render`.

    >>> str(UsageError(f"name the column with {param('read.columns')}."))
    'name the column with read.columns.'
    """
    return f"\x1f{name}\x1f"


class OrderTagsError(Exception):
    """Base class: bad data, rules or tag book. The CLI exits 1 on it.

    ``str(err)`` is the whole message: where, what, and what to do.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.key = key
        self.hint = hint
        super().__init__(self.render())

    def render(self, spell: Callable[[str], str] | None = None) -> str:
        """The whole message; ``spell`` writes each parameter it names (:func:`param`)
        as its caller knows it (the command line: as a flag). By default, as the
        parameter's name."""
        where = self.location()
        text = (f"{where}: " if where else "") + self.detail()
        return _PARAM.sub(lambda m: (spell or str)(m.group(1)), text)

    def location(self) -> str:
        """Where: ``orders.csv, row 12, column "Total"`` ("" where nothing is known)."""
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
            if self.line is not None and self.line != self.row:
                where.append(f"line {self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        if self.key is not None:
            where.append(f"key {self.key}")
        return ", ".join(where)

    def detail(self) -> str:
        """What failed and what to do, without where (:meth:`location`)."""
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(OrderTagsError):
    """An order export that cannot be read: encoding, shape, empty file."""


class ColumnError(OrderTagsError):
    """A column the run needs is missing, or a value in it cannot be parsed."""


class ValueParseError(ColumnError):
    """A value (money, date, number) in a column the run computes on is not valid."""


class TagBookError(OrderTagsError):
    """The tag book is malformed, or an operation on it is not possible."""


class RulesError(OrderTagsError):
    """The rule file is malformed or refers to something that does not exist."""


class UsageError(OrderTagsError):
    """The call itself is wrong (options that do not fit together). Exit 2."""

    exit_code = 2


class HistoryError(OrderTagsError):
    """The order history cannot be used: locked, from a newer ordertags, not a history."""


class WorkspaceError(OrderTagsError):
    """No workspace where one was named, or one that cannot be created. Exit 2."""

    exit_code = 2


class BusyError(OrderTagsError):
    """Another ordertags run held the workspace for longer than the run would wait (two
    cron runs overlapping). Exit 3, so that cron can tell "try again" from bad data."""

    exit_code = 3


class AccountError(OrderTagsError):
    """An account of the team screen cannot be added, changed or used (``ordertags users``)."""


class EditConflictError(OrderTagsError):
    """A change made from a page that is out of date: someone changed the same customer's
    entries in the tag book after the page was shown. Nothing was changed."""
