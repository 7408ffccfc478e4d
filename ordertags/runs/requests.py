"""What a run is asked to do, and what it did: one typed request per command that
reads exports, one typed result where the run gives more than the library's own
objects.

A request names every input of its run (nothing passes as ``locals()`` or as a bag of
keyword arguments); a result is built once, when the run is done (nothing is set on it
afterwards). A request checks the arguments a Python caller may get wrong when it is
made (:func:`check_arguments`), before anything is read or written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ordertags.base.files import check_mode, check_wait
from ordertags.base.segments import SEGMENTS_BY as SEGMENTS_BY
from ordertags.errors import UsageError, param
from ordertags.io.options import DEFAULT, ReadOptions
from ordertags.io.options import LIST_FORMATS as LIST_FORMATS
from ordertags.io.options import OUTPUT_FORMATS as OUTPUT_FORMATS
from ordertags.io.options import PROFILE_PLACES as PROFILE_PLACES
from ordertags.tagbook import TagBook

if TYPE_CHECKING:
    from ordertags.customers.workspace import Workspace
    from ordertags.engine.pipeline import Annotated, Summary
    from ordertags.reports.dryrun import DryRun
    from ordertags.reports.lists import ListFilter, Selection

PathLike = str | os.PathLike[str]
#: Called with the number of bytes read after each chunk of an export.
Progress = Callable[[int], None]


def check_arguments(
    *,
    tagbook: object = "",
    as_of: object = None,
    mode: object = None,
    wait: object = None,
) -> None:
    """The arguments a Python caller may get wrong, checked before anything is read or
    written: a :class:`UsageError` saying what is expected, never a bare TypeError or
    ValueError from deep inside (or, worse, a run that goes on)."""
    if not isinstance(tagbook, str | os.PathLike | TagBook):
        raise UsageError(
            f"tagbook must be a path or a loaded TagBook, not {type(tagbook).__name__}.",
            hint='Give the tag book\'s path, e.g. tagbook="tagbook.yaml".',
        )
    if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
        raise UsageError(
            f"as_of must be a datetime.date, not {type(as_of).__name__} {as_of!r}.",
            hint="Give e.g. as_of=datetime.date(2026, 1, 1) (or None for today).",
        )
    check_mode(mode)
    check_wait(wait)


@dataclass(frozen=True)
class Inputs:
    """What a run reads: the exports (paths; ``-`` is standard input), the tag book,
    the rule file, the day rules are evaluated on (default today), how to read the
    exports, the workspace whose history customer conditions read, the phone region,
    and a callback following the bytes read."""

    orders: Sequence[PathLike]
    tagbook: TagBook | PathLike
    rules: PathLike | None = None
    as_of: dt.date | None = None
    read: ReadOptions = DEFAULT
    workspace: Workspace | None = None
    region: str | None = None
    progress: Progress | None = None

    def __post_init__(self) -> None:
        check_arguments(tagbook=self.tagbook, as_of=self.as_of)


@dataclass(frozen=True)
class WriteOptions:
    """How annotated exports are written: ``output_format`` (csv, json, ndjson, xlsx;
    None: each export's own), the CSV ``encoding`` (None: each export's own), where
    the added columns go (``profile_columns``: last or first), ``excel_safe`` (cells a
    spreadsheet would run made inert) and the ``mode`` of new files (default 0600)."""

    output_format: str | None = None
    encoding: str | None = None
    profile_columns: str = "last"
    excel_safe: bool = False
    mode: int | None = None

    def __post_init__(self) -> None:
        check_arguments(mode=self.mode)


@dataclass(frozen=True)
class ListSpec:
    """A mailing list that ``apply`` writes beside the annotated orders (``--list``):
    the customers with any of ``tags`` and none of ``not_tags``, into ``path`` (a ``str``
    or any ``os.PathLike``).

    >>> ListSpec.parse("vip.csv:VIP,GOLD,!FRAUD")
    ListSpec(path='vip.csv', tags=('VIP', 'GOLD'), not_tags=('FRAUD',))
    """

    path: str
    tags: tuple[str, ...]
    not_tags: tuple[str, ...] = ()

    def __init__(
        self, path: str | os.PathLike[str], tags: Sequence[str], not_tags: Sequence[str] = ()
    ) -> None:
        # Written out so that ``path`` may be any path (a str, a pathlib.Path).
        object.__setattr__(self, "path", os.fspath(path))
        object.__setattr__(self, "tags", tuple(tags))
        object.__setattr__(self, "not_tags", tuple(not_tags))

    @classmethod
    def parse(cls, text: str) -> ListSpec:
        """``PATH:TAG[,TAG...]``; a tag written ``!TAG`` leaves its customers out. The
        path ends at the last ``:``, so a Windows path (``C:\\lists\\vip.csv:VIP``) works."""
        path, sep, spec = text.rpartition(":")
        names = [t.strip() for t in spec.split(",") if t.strip()]
        tags = tuple(t for t in names if not t.startswith("!"))
        not_tags = tuple(t[1:].strip() for t in names if t.startswith("!") and t[1:].strip())
        if not sep or not path.strip() or not tags:
            raise UsageError(
                f'"{text}" is not a list: write the file, a colon and the tags.',
                hint=f"For example: {param('lists')} vip.csv:VIP or {param('lists')} "
                "'vip.csv:VIP,GOLD,!FRAUD'.",
            )
        if path.strip() == "-":
            raise UsageError(
                "a list cannot go to standard output (-).",
                hint=f"Give a file name, e.g. {param('lists')} vip.csv:VIP.",
            )
        return cls(path, tags, not_tags)

    def named_in(self, book: TagBook) -> ListSpec:
        """The list with its tags in the tag book's spelling (an unknown tag is an
        error: :meth:`ordertags.tagbook.TagBook.tag_named`)."""
        return ListSpec(
            self.path,
            tuple(book.tag_named(t) for t in self.tags),
            tuple(book.tag_named(t) for t in self.not_tags),
        )


@dataclass(frozen=True)
class ApplyRequest:
    """``apply``: tag the orders of ``inputs`` and write each export back annotated
    into ``output`` (one export: a file, ``-`` standard output; several: a folder).

    ``dry_run`` writes nothing and compares with the previous output. With a
    workspace, the run's orders are recorded in its history unless ``record`` is
    false, holding the workspace (waiting up to ``wait`` seconds for another run).
    ``lists`` are mailing lists made from the same run (``consent``: only customers who
    accepted marketing, where any export says)."""

    inputs: Inputs
    output: PathLike
    write: WriteOptions = WriteOptions()
    dry_run: bool = False
    record: bool = True
    lists: Sequence[ListSpec] = ()
    consent: bool = True
    wait: float | None = None

    def __post_init__(self) -> None:
        check_arguments(wait=self.wait)


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply`` did: the ``run`` (tables, tags, summary), the files ``written``
    (the annotated exports, then the lists), on a dry run the changes per output
    (``dry_runs``; nothing written), each list's selection by path, and how many
    characters of added text the output encoding could not hold (written as ?)."""

    run: Annotated
    written: list[str] = field(default_factory=list)
    dry_runs: list[DryRun] = field(default_factory=list)
    lists: dict[str, Selection] = field(default_factory=dict)
    replaced: int = 0

    @property
    def summary(self) -> Summary:
        """The run's summary."""
        return self.run.summary


@dataclass(frozen=True)
class ExportRequest:
    """``export``: the mailing list of the customers ``list_filter`` asks for, from
    ``inputs`` (with a workspace and no exports: every customer of its history), in
    the columns of ``preset``, into ``output`` (csv or xlsx: ``output_format``).

    Left out: addresses no list may carry (suppressed by the tag book or a
    ``suppress`` file, invalid, relay), customers with a no_marketing tag and, with
    ``consent``, those who did not accept marketing. ``suppression_out`` receives the
    addresses left out and why. ``excel`` writes a BOM (None: for the generic preset
    only); new files get ``mode``; recording a run's orders holds the workspace,
    waiting up to ``wait`` seconds."""

    inputs: Inputs
    output: PathLike
    list_filter: ListFilter
    preset: str | None = None
    excel: bool | None = None
    output_format: str | None = None
    suppress: Sequence[PathLike] = ()
    suppression_out: PathLike | None = None
    consent: bool = True
    mode: int | None = None
    wait: float | None = None

    def __post_init__(self) -> None:
        check_arguments(mode=self.mode, wait=self.wait)


@dataclass(frozen=True)
class ExportResult:
    """What ``export`` did: the run (None when the list came from the history alone),
    the list's ``selection`` (its customers, those left out and why), and, from the
    history, when its rule tags were worked out (``tags_as_of``)."""

    run: Annotated | None
    selection: Selection
    tags_as_of: str | None = None


@dataclass(frozen=True)
class ViewRequest:
    """``show`` and ``report``: the orders of ``inputs`` with what each needs, those
    carrying any of ``tags`` (or every tagged one with ``only_tagged``), with the
    export columns ``show_columns`` beside."""

    inputs: Inputs
    tags: Sequence[str] = ()
    only_tagged: bool = False
    show_columns: Sequence[str] = ()


@dataclass(frozen=True)
class IngestRequest:
    """``ingest``: record the orders of ``orders`` in the ``workspace``'s history,
    holding the workspace (waiting up to ``wait`` seconds for another run)."""

    orders: Sequence[PathLike]
    workspace: Workspace
    read: ReadOptions = DEFAULT
    region: str | None = None
    wait: float | None = None
    progress: Progress | None = None

    def __post_init__(self) -> None:
        check_arguments(wait=self.wait)


@dataclass(frozen=True)
class SuspectsRequest:
    """``suspects`` in exports: pairs of customers of ``inputs`` that may be one person
    (one of them with ``tag``, when given), at most ``limit``; an address or phone shared
    by more than ``max_sharing`` customers is no evidence."""

    inputs: Inputs
    tag: str | None = None
    limit: int | None = 50
    max_sharing: int = 5
