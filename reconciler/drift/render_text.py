"""The drift report as text for a terminal or a log. Pure: returns a string.

Worst first, every entry with its ``file:line`` and its fields written ``live → declared``;
then unmanaged folders (reported, not drift), the plan's refusals, incomplete reads, and a
summary line.
"""

from __future__ import annotations

from reconciler.drift.lines import detail_lines, headline, unmanaged_count, unmanaged_line
from reconciler.drift.model import DriftReport
from reconciler.printable import printable, printable_lines


def render_text(report: DriftReport) -> str:
    lines = [
        f"reconciler drift for {report.target or 'unknown target'} ("
        + ("" if report.environment is None else f"environment: {report.environment}, ")
        + f"ownership: {report.ownership_id})",
        f"Caller: {report.caller.text() if report.caller else 'unknown'}",
        "",
    ]
    if report.only:
        lines += [f"Only: {', '.join(report.only)}", ""]
    if report.drift:
        lines.append("Drift, worst first (fields are live → declared):")
        for entry in report.drift:
            lines.append(f"  {headline(entry)}")
            lines.extend(f"        {line}" for line in detail_lines(entry))
        lines.append("")
    else:
        lines += [report.no_drift_line(), ""]
    lines.extend(_trailer(report))
    return printable_lines("\n".join(lines) + "\n")


def _trailer(report: DriftReport) -> list[str]:
    lines: list[str] = []
    if report.unmanaged:
        are = "is" if len(report.unmanaged) == 1 else "are"
        lines.append(
            f"Unmanaged: {unmanaged_count(report.unmanaged)} {are} not declared and left alone "
            "(not drift):"
        )
        lines.extend(f"  ? {unmanaged_line(u)}" for u in report.unmanaged)
        lines.append("")
    if report.refusals:
        lines.append("Refusals (the plan holds these back; apply cannot fix them as is):")
        for refusal in report.refusals:
            kind = "withheld" if refusal.withheld else "needs --force"
            lines.append(f"  ! [{refusal.code}, {kind}] {printable(refusal.message)}")
            lines.extend(f"      {printable(a)}" for a in refusal.addresses)
        lines.append("")
    if report.warnings:
        lines.append(f"Warnings ({len(report.warnings)}):")
        lines.extend(f"  ! {printable(w)}" for w in report.warnings)
        lines.append("")
    if report.problems:
        lines.append("Incomplete: some of the organisation could not be read:")
        lines.extend(f"  ! {printable(p)}" for p in report.problems)
        lines.append("")
    lines.append(report.summary_line())
    return lines
