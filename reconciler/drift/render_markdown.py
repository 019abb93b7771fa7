"""The drift report as Markdown for a PR comment or a job summary: at most ``limit``
(65,536) characters, whatever the report.

Worst first: what apply would fix by deleting (extra objects, replacements, folders renamed
by hand), then access and membership, open on the page; moves, changes, and item metadata and
links folded into ``<details>`` with counts. The length bound holds by construction: the
footer is measured first, and every block is built against the budget left (a block that
cannot fit is left out, a listing that cannot fit says how many entries it left out), with a
little kept back for the one-line count of each later section.
"""

from __future__ import annotations

from collections import Counter

from reconciler.drift.checks import failing_checks
from reconciler.drift.lines import detail_lines, headline, unmanaged_count, unmanaged_line
from reconciler.drift.model import Drift, DriftReport
from reconciler.printable import code_span, printable, same_length, table_cell
from reconciler.words import plural

LIMIT = 65_536
MIN_LIMIT = 1_000
_LINE_MAX = 300
_FIELDS_SHOWN = 3
_OPEN_MAX = 50  # entries shown outside a fold in an open section
_LATER_RESERVE = 120  # kept back for each later block's one-line count
_UNMANAGED_MAX = 200
_MORE = "see `reconciler drift --format json`"

# (severity, title, open on the page)
_SECTIONS: tuple[tuple[int, str, bool], ...] = (
    (0, "Fixed by deleting (extra, replaced, renamed by hand)", True),
    (1, "Access and membership", True),
    (2, "Moved or renamed", False),
    (3, "Changed and missing", False),
    (4, "Item metadata and links", False),
)


def _clip(line: str) -> str:
    return line if len(line) <= _LINE_MAX else line[: _LINE_MAX - 1] + "…"


def _fence(lines: list[str]) -> str:
    lines = [printable(line) for line in lines]  # no live name starts a line of its own
    longest = max((_backticks(line) for line in lines), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([f"{fence}diff", *lines, fence]) + "\n"


def _backticks(text: str) -> int:
    best = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        best = max(best, run)
    return best


def _fits(text: str, budget: int) -> str:
    return text if len(text) <= budget else ""


# --- listings ------------------------------------------------------------------------------


def _entry_lines(entry: Drift) -> list[str]:
    lines = [_clip(headline(entry))]
    lines.extend(_clip(f"    {line}") for line in detail_lines(entry, max_fields=_FIELDS_SHOWN))
    return lines


def _listing(entries: list[Drift], budget: int, *, say_more: bool = True) -> tuple[str, int]:
    """A fenced listing of as many entries as fit in ``budget``, and how many it shows."""
    more = f"… and {len(entries)} more ({_MORE})"
    # fences may grow to the longest backtick run of a line (at most _LINE_MAX each)
    overhead = 2 * (_LINE_MAX + 8) + len(more) + 2
    lines: list[str] = []
    used = overhead
    shown = 0
    for entry in entries:
        block = _entry_lines(entry)
        cost = sum(len(line) + 1 for line in block)
        if used + cost > budget:
            break
        lines.extend(block)
        used += cost
        shown += 1
    if say_more and shown < len(entries):
        lines.append(f"… and {len(entries) - shown} more ({_MORE})")
    if not shown:
        return "", 0
    text = _fence(lines)
    return (text, shown) if len(text) <= budget else ("", 0)


def _count_line(title: str, count: int, budget: int) -> str:
    return _fits(f"**{title}: {count}** (not listed here; {_MORE})\n\n", budget)


def _folded(title: str, entries: list[Drift], budget: int, table: str = "") -> str:
    head = f"<details><summary>{title} ({len(entries)})</summary>\n\n"
    tail = "\n</details>\n\n"
    if len(head) + len(table) + len(tail) > budget:
        table = ""
    body, _ = _listing(entries, budget - len(head) - len(table) - len(tail))
    if not body and not table:
        return _count_line(title, len(entries), budget)
    return _fits(head + table + body + tail, budget)


def _per_check(entries: list[Drift]) -> str:
    """How many entries each declared object has (one rule may account for thousands)."""
    counts = Counter(e.check for e in entries)
    rows = [
        f"| {table_cell(code_span(_clip(check)))} | {n} |" for check, n in counts.most_common(20)
    ]
    if len(counts) > 20:
        rows.append(f"| … {len(counts) - 20} more | |")
    return "| declared object | drifted |\n|---|---|\n" + "\n".join(rows) + "\n\n"


def _section(title: str, entries: list[Drift], is_open: bool, budget: int) -> str:
    if not is_open:
        table = _per_check(entries) if len(entries) > _OPEN_MAX else ""
        return _folded(title, entries, budget, table if len(table) < budget // 4 else "")
    heading = f"#### {title} ({len(entries)})\n\n"
    first = entries[:_OPEN_MAX]
    body, shown = _listing(first, budget - len(heading) - _LATER_RESERVE, say_more=False)
    if not body:
        return _count_line(title, len(entries), budget)
    out = heading + body + "\n"
    if shown < len(entries):
        out += _folded(f"{title}, the rest", entries[shown:], budget - len(out))
    return _fits(out, budget)


# --- the head ------------------------------------------------------------------------------


def _status(report: DriftReport) -> str:
    caller = report.caller.text() if report.caller else "unknown"
    lines = [
        f"### reconciler drift for `{_clip(report.target or 'unknown target')}`"
        + ("" if report.environment is None else f" (environment `{report.environment}`)"),
        "",
        _clip(f"Caller: {caller}"),
        "",
    ]
    if report.drift:
        counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
        failing = len(failing_checks(report))
        lines += [
            "> [!WARNING]",
            f"> **{len(report.drift)} drifted** ({counts}); {failing} of "
            f"{plural(len(report.checks), 'declared object')} "
            f"{'fails' if failing == 1 else 'fail'}.",
            "",
        ]
    elif report.in_sync:
        declared = plural(len(report.checks), "declared object matches", "declared objects match")
        lines += [
            f"**In sync.** {'All ' if len(report.checks) > 1 else ''}{declared} the organisation.",
            "",
        ]
    else:  # no drift entry, and yet not in sync: one verdict, the exit code's
        lines += ["> [!CAUTION]", f"> **{report.summary_line()}**", ""]
    if report.unmanaged:
        lines += [f"Unmanaged: {unmanaged_count(report.unmanaged)} (not drift).", ""]
    if report.only:
        lines += [_clip(f"Only: {', '.join(code_span(o) for o in report.only)}"), ""]
    return "\n".join(lines) + "\n"


def _block(title: str, lines: list[str], budget: int) -> str:
    """A titled fenced block of as many of ``lines`` as fit."""
    head = f"**{title}:**\n\n"
    kept = [_clip(line) for line in lines]
    while kept:
        left = len(lines) - len(kept)
        more = [f"… and {left} more ({_MORE})"] if left else []
        text = head + _fence(kept + more) + "\n"
        if len(text) <= budget:
            return text
        kept = kept[: len(kept) // 2]
    return ""


def _refusals(report: DriftReport, budget: int) -> str:
    if not report.refusals:
        return ""
    lines = [f"! [{r.code}] {r.message}" for r in report.refusals]
    title = f"{plural(len(report.refusals), 'refusal', 'refusals')} (held back by the plan)"
    return _block(title, lines, budget) or _fits(f"**{title}.**\n\n", budget)


def _warnings(report: DriftReport, budget: int) -> str:
    if not report.warnings:
        return ""
    title = plural(len(report.warnings), "warning")
    return _block(title, list(report.warnings), budget) or _fits(f"**{title}.**\n\n", budget)


def _problems(report: DriftReport, budget: int) -> str:
    if not report.problems:
        return ""
    title = "Incomplete read: the audit could not see everything"
    return _block(title, list(report.problems), budget) or _fits(f"**{title}.**\n\n", budget)


def _unmanaged(report: DriftReport, budget: int) -> str:
    if not report.unmanaged:
        return ""
    lines = [_clip(unmanaged_line(u)) for u in report.unmanaged[:_UNMANAGED_MAX]]
    head = f"<details><summary>Unmanaged, left alone ({len(report.unmanaged)})</summary>\n\n"
    while lines:
        left = len(report.unmanaged) - len(lines)
        more = [f"… and {left} more ({_MORE})"] if left else []
        block = head + _fence(lines + more) + "\n</details>\n\n"
        if len(block) <= budget:
            return block
        lines = lines[: len(lines) // 2]
    return ""


# --- the whole -----------------------------------------------------------------------------


def render_markdown(report: DriftReport, *, limit: int = LIMIT) -> str:
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT} characters")
    footer = f"\n_Full report: `reconciler drift --format json`. {report.summary_line()}_\n"
    budget = limit - len(footer)
    groups = [
        (title, [e for e in report.drift if e.severity == severity], is_open)
        for severity, title, is_open in _SECTIONS
    ]
    groups = [g for g in groups if g[1]]
    later = (len(groups) + 1) * _LATER_RESERVE  # every section and the unmanaged list
    out = _fits(_status(report), budget - later)
    out += _refusals(report, min(12_000, (budget - later - len(out)) // 4))
    out += _problems(report, min(6_000, (budget - later - len(out)) // 4))
    out += _warnings(report, min(6_000, (budget - later - len(out)) // 4))
    for position, (title, entries, is_open) in enumerate(groups):
        later = (len(groups) - position) * _LATER_RESERVE  # the rest and the unmanaged list
        out += _section(title, entries, is_open, budget - len(out) - later)
    out += _unmanaged(report, budget - len(out))
    return same_length(out + footer)
