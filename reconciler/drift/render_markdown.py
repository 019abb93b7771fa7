"""The drift report as Markdown for a PR comment or a job summary: at most ``limit``
(65,536) characters, whatever the report.

Worst first: deletes and replacements, then access and membership, open on the page; moves,
changes, and item metadata and links folded into ``<details>`` with counts. Every block is
measured before it is added; a section that does not fit lists what it can and says how many
it left out, so the length bound holds by construction (the last line of ``render_markdown``
only guards it).
"""

from __future__ import annotations

from collections import Counter

from reconciler.drift.checks import failing_checks
from reconciler.drift.lines import detail_lines, headline, unmanaged_line
from reconciler.drift.model import Drift, DriftReport

LIMIT = 65_536
_LINE_MAX = 300
_FIELDS_SHOWN = 3
_OPEN_MAX = 50  # entries shown outside a fold in an open section
_RESERVE = 400  # kept back for the footer
_SECTION_HEAD_RESERVE = 160  # kept back for each later section's one-line count
_REFUSALS_BUDGET = 12_000
_UNMANAGED_MAX = 200
_MORE = "see `reconciler drift --format json`"

# (severities, title, open on the page)
_SECTIONS: tuple[tuple[frozenset[int], str, bool], ...] = (
    (frozenset({0}), "Fixed by deleting (extra, replaced, renamed by hand)", True),
    (frozenset({1}), "Access and membership", True),
    (frozenset({2}), "Moved or renamed", False),
    (frozenset({3}), "Changed and missing", False),
    (frozenset({4}), "Item metadata and links", False),
)


def _clip(line: str) -> str:
    return line if len(line) <= _LINE_MAX else line[: _LINE_MAX - 1] + "…"


def _fence(lines: list[str]) -> str:
    longest = max((_backticks(line) for line in lines), default=0)
    fence = "`" * max(3, longest + 1)
    return "\n".join([f"{fence}diff", *lines, fence]) + "\n"


def _backticks(text: str) -> int:
    best = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        best = max(best, run)
    return best


def _entry_lines(entry: Drift) -> list[str]:
    lines = [_clip(headline(entry))]
    lines.extend(_clip(f"    {line}") for line in detail_lines(entry, max_fields=_FIELDS_SHOWN))
    return lines


def _listing(entries: list[Drift], budget: int) -> tuple[str, int]:
    """A fenced listing of as many entries as fit in ``budget``; returns it and the count."""
    lines: list[str] = []
    used = 20  # fences and the "… and N more" line's share
    shown = 0
    for entry in entries:
        block = _entry_lines(entry)
        cost = sum(len(line) + 1 for line in block)
        if used + cost + 90 > budget:
            break
        lines.extend(block)
        used += cost
        shown += 1
    if shown < len(entries):
        lines.append(f"… and {len(entries) - shown} more ({_MORE})")
    text = _fence(lines) if lines else ""
    return (text, shown) if len(text) <= budget else ("", 0)


def _folded(title: str, entries: list[Drift], budget: int, extra: str = "") -> str:
    head = f"<details><summary>{title} ({len(entries)})</summary>\n\n{extra}"
    tail = "\n</details>\n\n"
    body, _ = _listing(entries, budget - len(head) - len(tail))
    if not body and not extra:
        line = f"**{title}: {len(entries)}** (not listed here; {_MORE})\n\n"
        return line if len(line) <= budget else ""
    block = head + body + tail
    return block if len(block) <= budget else ""


def _section(title: str, entries: list[Drift], is_open: bool, budget: int) -> str:
    if not is_open:
        extra = _per_check(entries) if len(entries) > _OPEN_MAX else ""
        block = _folded(title, entries, budget, extra if len(extra) < budget // 4 else "")
        return block or _folded(title, entries, budget)
    heading = f"#### {title} ({len(entries)})\n\n"
    first = entries[:_OPEN_MAX]
    body, shown = _listing(first, budget - len(heading) - _SECTION_HEAD_RESERVE)
    out = heading + body + ("\n" if body else "")
    rest = entries[shown:]
    if rest:
        out += _folded(f"{title}: the rest", rest, budget - len(out))
    return out if len(out) <= budget else ""


def _per_check(entries: list[Drift]) -> str:
    """How many entries each declared object has (a rule may account for thousands)."""
    counts = Counter(e.check for e in entries)
    rows = [f"| `{check}` | {n} |" for check, n in counts.most_common(20)]
    if len(counts) > 20:
        rows.append(f"| … {len(counts) - 20} more | |")
    return "| declared object | drifted |\n|---|---|\n" + "\n".join(rows) + "\n\n"


def _header(report: DriftReport) -> str:
    lines = [f"### reconciler drift for `{report.target or 'unknown target'}`", ""]
    if report.drift:
        counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
        failing = len(failing_checks(report))
        lines += [
            f"> [!WARNING]\n> **{len(report.drift)} drifted** ({counts}); "
            f"{failing} of {len(report.checks)} declared objects fail.",
            "",
        ]
    else:
        lines += [
            f"**In sync.** All {len(report.checks)} declared objects match the organisation.",
            "",
        ]
    if report.unmanaged:
        lines += [
            f"{len(report.unmanaged)} unmanaged folders under the declared roots (not drift).",
            "",
        ]
    if report.only:
        lines += [f"Only: `{'`, `'.join(report.only)}`", ""]
    return "\n".join(lines) + "\n" + _refusals(report) + _problems(report)


def _refusals(report: DriftReport) -> str:
    if not report.refusals:
        return ""
    lines, used = [], 0
    for index, refusal in enumerate(report.refusals):
        line = _clip(f"! [{refusal.code}] {refusal.message}")
        if used + len(line) > _REFUSALS_BUDGET:
            lines.append(f"… and {len(report.refusals) - index} more refusals ({_MORE})")
            break
        lines.append(line)
        used += len(line) + 1
    return (
        f"**{len(report.refusals)} refusals** (held back by the plan):\n\n" + _fence(lines) + "\n"
    )


def _problems(report: DriftReport) -> str:
    if not report.problems:
        return ""
    lines = [_clip(p) for p in report.problems[:20]]
    return "**Incomplete read:** the audit could not see everything.\n\n" + _fence(lines) + "\n"


def _unmanaged(report: DriftReport, budget: int) -> str:
    if not report.unmanaged:
        return ""
    lines = [_clip(unmanaged_line(u)) for u in report.unmanaged[:_UNMANAGED_MAX]]
    left = len(report.unmanaged) - len(lines)
    while lines:
        more = [f"… and {left} more ({_MORE})"] if left else []
        block = (
            f"<details><summary>Unmanaged, left alone ({len(report.unmanaged)})</summary>\n\n"
            + _fence(lines + more)
            + "\n</details>\n\n"
        )
        if len(block) <= budget:
            return block
        drop = max(1, len(lines) // 2)
        lines, left = lines[:-drop], left + drop
    return ""


def render_markdown(report: DriftReport, *, limit: int = LIMIT) -> str:
    out = _header(report)  # bounded: refusals and problems have budgets of their own
    groups = [
        (title, [e for e in report.drift if e.severity in severities], is_open)
        for severities, title, is_open in _SECTIONS
    ]
    groups = [g for g in groups if g[1]]
    for position, (title, entries, is_open) in enumerate(groups):
        later = (len(groups) - position - 1) * _SECTION_HEAD_RESERVE
        out += _section(title, entries, is_open, limit - len(out) - _RESERVE - later)
    out += _unmanaged(report, limit - len(out) - _RESERVE)
    out += f"\n_Full report: `reconciler drift --format json`; {report.summary_line()}_\n"
    return out if len(out) <= limit else out[: limit - 1] + "\n"
