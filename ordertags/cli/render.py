"""How the command line words what a run did: summaries, warnings, a dry run's
changes, a mailing list's outcome, what recording orders did."""

from __future__ import annotations

from typing import Any

from ordertags.base.amounts import money
from ordertags.cli.tables import draw


def plural(count: int, one: str, many: str | None = None) -> str:
    """``plural(1, "order")`` -> "1 order"; ``plural(2, "order")`` -> "2 orders"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def spend_text(per_currency: list[tuple[str, int]], total: int) -> str:
    """Spend with its currency, per currency where there are several: ``1,050.00 GBP``,
    ``600.00 GBP + 1,000.00 EUR`` (never one sum of two currencies)."""

    named = [(c, t) for c, t in per_currency if c]
    if not named:
        return money(total)
    return " + ".join(f"{money(t)} {c or '(no currency)'}" for c, t in per_currency)


def render_warnings(summary: Any, replaced: int = 0) -> str:
    """What a run must tell even with --quiet (a cron log keeps it): what the rules
    asked to be told (``notify``), dates read by assumption, characters the output
    encoding could not hold."""
    lines = list(getattr(summary, "notices", []))
    lines += [f"warning: {w}" for w in getattr(summary, "warnings", [])]
    left = getattr(summary, "spend_left_out", {})
    if left:
        lines.append(
            f"warning: customer spend is compared in {summary.spend_currency}; "
            + ", ".join(f"{plural(n, 'order')} in {c}" for c, n in sorted(left.items()))
            + " left out (no rate: add one under `rates:` in the rule file)"
        )
    if replaced:
        lines.append(
            f"warning: {plural(replaced, 'character')} of added labels or notes could "
            "not be written in the output's encoding and were written as ? "
            "(--output-encoding utf-8 keeps them)"
        )
    return "\n".join(lines)


def render_summary(summary: Any, written: list[str], lists: dict[str, Any] | None = None) -> str:
    """The summary printed to stderr after apply: what was read, tagged, recorded and
    written (with each of ``lists``' outcome, by path)."""
    lines = []
    for f in summary.files:
        what = f.kind if f.profile == "generic" else f"{f.kind}, {f.title or f.profile}"
        if getattr(f, "encoding", "") and f.encoding != "utf-8":
            what += f", {f.encoding}"
        if f.orders == f.rows:
            lines.append(f"read {plural(f.rows, 'order')} from {f.name} ({what})")
        else:
            lines.append(
                f"read {plural(f.orders, 'order')} ({plural(f.rows, 'row')}) from {f.name} ({what})"
            )
    lines.append(
        f"{plural(summary.orders, 'order')}"
        + (
            f" ({summary.copies:,} seen again in another export, counted once)"
            if getattr(summary, "copies", 0)
            else ""
        )
        + f", {plural(summary.customers, 'customer')}"
        + (
            f", {plural(summary.orders_without_customer, 'order')} without an email"
            if summary.orders_without_customer
            else ""
        )
        + f"; as of {summary.as_of}"
    )
    if summary.orders_per_tag:
        rows_ = [
            (t, f"{summary.orders_per_tag[t]:,}", f"{summary.customers_per_tag[t]:,}")
            for t in summary.orders_per_tag
        ]
        lines.append(draw(rows_, ["tag", "orders", "customers"], align=("left", "right", "right")))
    else:
        lines.append("no order carries a tag")
    for column, count in getattr(summary, "fields_set", {}).items():
        lines.append(f"set {column} on {plural(count, 'order')}")
    changes = getattr(summary, "tag_changes", {})
    if changes:
        lines.append(
            "since the last run: "
            + ", ".join(f"{t} +{g:,} -{lost:,}" for t, (g, lost) in changes.items())
        )
    if getattr(summary, "held", 0):
        lines.append(f"held {plural(summary.held, 'order')}")
    for column, loser, winner, count in getattr(summary, "conflicts", []):
        lines.append(
            f'conflict: rules "{loser}" and "{winner}" set {column} differently on '
            f'{plural(count, "order")}; "{winner}" wins'
        )
    recorded = getattr(summary, "recorded", None)
    if recorded is not None:
        lines.append(render_ingest(recorded, prefix="history: "))

    lines.append(
        f"tag book: {plural(summary.manual_entries, 'entry', 'entries')} in force"
        + (f", {summary.expired_entries} expired (ignored)" if summary.expired_entries else "")
    )
    lists = lists or {}
    for path in written:
        if path in lists:
            lines.append(f"{render_list_outcome(lists[path])}; wrote {path}")
        else:
            lines.append(f"wrote {path}")
    return "\n".join(lines)


def render_dry_run(runs: list[Any]) -> str:
    """What ``apply --dry-run`` found, per output file."""
    lines = []
    for run in runs:
        if not run.previous:
            lines.append(
                f"{run.target}: no previous output; {plural(run.orders, 'order')} would "
                f"be written, {plural(run.changed_orders, 'order')} with tags"
            )
            continue
        lines.append(
            f"{run.target}: {plural(run.changed_orders, 'order')} of {run.orders:,} would change"
        )
        if run.changes:
            rows = [(c.order, c.column, c.before, c.after) for c in run.changes]
            lines.append(draw(rows, ["order", "column", "before", "after"]))
            if run.changed_orders > len({c.order for c in run.changes}):
                lines.append("(first changes only)")
    return "\n".join(lines)


def render_list_outcome(chosen: Any) -> str:
    """A mailing list's line of the summary, the same for ``export`` and ``apply --list``:
    its customers, whom it was asked for, and how many were left out, and why
    (``4 customers with VIP or GOLD (1 with an invalid address; 2 without marketing
    consent left out)``)."""
    from ordertags.runs import REASON_TEXT

    flt = chosen.filter
    left_out = [
        f"{chosen.left_out[r]:,} {REASON_TEXT[r]}" for r in chosen.left_out if chosen.left_out[r]
    ]
    if chosen.excluded_not_tag:
        not_tags = " or ".join(flt.not_tags) if flt is not None else "a --not-tag tag"
        left_out.append(f"{chosen.excluded_not_tag:,} with {not_tags}")
    wanted = ""
    if flt is not None:
        tags = (" and " if flt.all_tags else " or ").join(flt.tags)
        segments = " or ".join(flt.segments)
        wanted = f"{tags}, in {segments}" if tags and segments else tags or segments
    return (
        plural(chosen.count, "customer")
        + (f" with {wanted}" if wanted else "")
        + (f" ({'; '.join(left_out)} left out)" if left_out else "")
    )


def render_ingest(report: Any, prefix: str = "") -> str:
    """One line on what recording orders did."""
    text = (
        f"{prefix}{plural(report.read, 'order')} from {plural(len(report.files), 'export')}: "
        f"{report.new:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged"
    )
    if report.merged:
        text += f"; {plural(report.merged, 'customer')} merged into another"
    if report.skipped:
        text += f"; {plural(report.skipped, 'order')} without an order id not recorded"
    found = getattr(report, "disagreements", [])
    for line in found[:10]:
        text += f"\n{prefix}exports disagree on {line}"
    if len(found) > 10:
        text += f"\n{prefix}... and {len(found) - 10:,} more orders the exports disagree on"
    return text


def tags_as_of_text(stamp: str) -> str:
    """Where the rule tags a history command shows come from."""
    if stamp == "never":
        return "no rule tags yet: `ordertags apply` works them out (tags by hand are shown)"
    return f"rule tags as of the last apply at {stamp}"
