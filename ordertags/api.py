"""Whole operations, as the CLI runs them: load, evaluate, write.

>>> from ordertags import apply_files
>>> result, written = apply_files(["orders.csv"], tagbook="tagbook.yaml",
...                               rules="rules.yaml", output="annotated.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import UsageError
from .mailing import LIST_COLUMNS, MailingList, mailing_list
from .pipeline import Annotated, annotate
from .readers import Dialect
from .rules import load_rules
from .tags import load_tagbook
from .writers import write_csv_table, write_output, write_table

PathLike = str | os.PathLike[str]


def _run(orders: Sequence[PathLike], tagbook: PathLike, rules: PathLike | None,
         as_of: dt.date | None, columns: Mapping[str, str | None] | None,
         encoding: str | None, delimiter: str | None, money_style: str) -> Annotated:
    book = load_tagbook(tagbook)
    ruleset = load_rules(rules) if rules is not None else None
    return annotate([str(o) for o in orders], tagbook=book, rules=ruleset, as_of=as_of,
                    columns=columns, encoding=encoding, delimiter=delimiter,
                    money_style=money_style)


def _targets(orders: Sequence[PathLike], output: PathLike,
             output_format: str | None) -> list[str]:
    if len(orders) == 1:
        return [str(output)]
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; with several exports, --output is a folder.",
                         hint="Give a folder (it is created if missing).")
    names = [Path(str(o)).name for o in orders]
    if len(set(names)) != len(names):
        raise UsageError("two exports have the same file name, so their outputs would clash.",
                         hint="Apply them in separate runs, or rename one.")
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"json": ".json", "ndjson": ".ndjson", "csv": ".csv"}.get(output_format or "")
    return [str(folder / (Path(n).stem + suffix if suffix else n)) for n in names]


def apply_files(orders: Sequence[PathLike], *, tagbook: PathLike, output: PathLike,
                rules: PathLike | None = None, as_of: dt.date | None = None,
                columns: Mapping[str, str | None] | None = None, encoding: str | None = None,
                delimiter: str | None = None, output_format: str | None = None,
                money_style: str = "plain", dry_run: bool = False) -> tuple[Annotated, list[Any]]:
    """Tag the orders of ``orders`` and write each export back annotated.

    With one export, ``output`` is a file (``-``: standard output); with several, a folder
    that receives each under its own name. Returns the result and the paths written;
    with ``dry_run``, writes nothing and returns, per output, a
    :class:`ordertags.dryrun.DryRun` of what would change.
    """
    targets = _targets(orders, output, output_format)
    result = _run(orders, tagbook, rules, as_of, columns, encoding, delimiter, money_style)
    if dry_run:
        from .dryrun import compare

        return result, [compare(result, i, t, encoding=encoding)
                        for i, t in enumerate(targets)]
    for index, (table, target) in enumerate(zip(result.tables, targets, strict=True)):
        extra = result.output_columns(index)
        write_output(target, lambda fh, t=table, e=extra: write_table(
            fh, t, e, output_format=output_format))
    return result, [t for t in targets if t != "-"]


def export_list(orders: Sequence[PathLike], *, tagbook: PathLike, output: PathLike,
                tags: Sequence[str], not_tags: Sequence[str] = (), rules: PathLike | None = None,
                as_of: dt.date | None = None, columns: Mapping[str, str | None] | None = None,
                encoding: str | None = None, delimiter: str | None = None,
                money_style: str = "plain") -> tuple[Annotated, MailingList]:
    """Write the mailing list of customers with any of ``tags`` and none of ``not_tags``."""
    if not tags:
        raise UsageError("name at least one tag with --tag.", hint="For example: --tag VIP.")
    result = _run(orders, tagbook, rules, as_of, columns, encoding, delimiter, money_style)
    ml = mailing_list(result, tags=tags, not_tags=not_tags)
    cols = [ml.columns[c] for c in LIST_COLUMNS]
    import pyarrow as pa

    chunked = [pa.chunked_array([c]) for c in cols]
    write_output(output, lambda fh: write_csv_table(fh, LIST_COLUMNS, chunked, Dialect()))
    return result, ml
