"""The drift report as one self-contained HTML page (the plan report's page). Pure.

The audit verdict on top, a summary bar per drift kind (what apply would fix by deleting in
the red zone), the tree of what drifted, every destructive fix open on the page, and the
filterable list with each entry's fields written live → declared.
"""

from __future__ import annotations

from typing import Any

from reconciler.drift.checks import failing_checks
from reconciler.drift.lines import folded_line, unmanaged_count, unmanaged_line
from reconciler.drift.model import Drift, DriftReport
from reconciler.model import addresses as addr
from reconciler.plan.html_shell import Nodes, categories, page
from reconciler.plan.render_html import refusal_data
from reconciler.plan.render_text import path_text
from reconciler.words import plural

_CATEGORIES = categories(
    (
        ("extra", "extra (prune would delete)", "extra", "−"),
        ("access", "access differs", "access differs", "~"),
        ("membership", "members differ", "members differ", "~"),
        ("moved", "moved or renamed by hand", "moved", "→"),
        ("changed", "changed", "changed", "~"),
        ("missing", "missing", "missing", "+"),
        ("links", "links differ", "links differ", "~"),
        ("metadata", "item metadata differs", "metadata differs", "~"),
    ),
    danger=frozenset({"extra"}),
)

_WORDS = {
    "other": "Other drift",
    "one": "difference",
    "many": "differences",
    "from": "live at",
    "tree": "Tree of what drifted",
    "all": "All drift",
    "danger_title": "Fixed by deleting",
    "danger_hint": "Apply would delete these to match the configuration. Open one for its detail.",
}


def render_html(report: DriftReport) -> str:
    title = f"reconciler drift for {report.target or 'unknown target'}"
    return page(drift_data(report), title=title, fallback=report.summary_line())


def drift_data(report: DriftReport) -> dict[str, Any]:
    nodes = Nodes()
    entries = [_entry(entry, nodes) for entry in report.drift]
    return {
        "report": "drift",
        "title": f"Drift audit of {report.target or 'unknown target'}",
        "meta": _meta(report),
        "verdict": verdict(report),
        "categories": _CATEGORIES,
        "kinds": sorted({str(addr.kind_of(entry.address)) for entry in report.drift}),
        "columns": ["Live", "Declared"],
        "words": _WORDS,
        "nodes": nodes.rows(),
        "entries": entries,
        "refusals": [refusal_data(r) for r in report.refusals],
        "notes": _notes(report),
    }


def verdict(report: DriftReport) -> dict[str, str]:
    """The audit's answer, as ``reconciler drift``'s exit code gives it."""
    if report.problems or report.withheld:
        why = "some reads failed" if report.problems else "the plan withholds changes"
        return {
            "level": "danger",
            "text": f"Cannot vouch: {why} (see below), so part of the drift may be missing.",
        }
    if report.drift:
        failing = len(failing_checks(report))
        return {
            "level": "warn",
            "text": f"Drift: {plural(len(report.drift), 'object differs', 'objects differ')}; "
            f"{failing} of {plural(len(report.checks), 'declared object')} "
            f"{'fails' if failing == 1 else 'fail'}.",
        }
    return {
        "level": "ok",
        "text": f"In sync: {_all(len(report.checks))} the organisation.",
    }


def _all(count: int) -> str:
    if count == 1:
        return "the 1 declared object matches"
    return f"all {count} declared objects match"


def _meta(report: DriftReport) -> list[list[str]]:
    rows = [
        ["Target", report.target or "unknown"],
        ["Ownership", report.ownership_id],
        ["Checked at", report.checked_at or "unknown"],
        ["Tool version", report.tool_version],
        ["Config", report.config_dir],
    ]
    if report.only:
        rows.append(["Only", ", ".join(report.only)])
    return rows


def _entry(entry: Drift, nodes: Nodes) -> dict[str, Any]:
    out: dict[str, Any] = {
        "a": entry.address,
        "c": entry.kind.value,
        "n": nodes.index(entry.address),
    }
    folded = folded_line(entry)
    optional = {
        "d": 1 if entry.is_destructive_fix else 0,
        "p": entry.live_address,
        "s": entry.source,
        "r": entry.summary,
        "x": [str(action) for action in entry.actions],
        "f": [[path_text(f.path), f.op, f.before, f.after] for f in entry.fields],
        "e": [f"Check: {entry.check}", *([folded] if folded else [])],
    }
    out.update({key: value for key, value in optional.items() if value})
    return out


def _notes(report: DriftReport) -> list[dict[str, Any]]:
    notes = []
    if report.unmanaged:
        notes.append(
            {
                "title": f"Unmanaged: {unmanaged_count(report.unmanaged)} (left alone, not drift)",
                "lines": [unmanaged_line(u) for u in report.unmanaged],
            }
        )
    if report.problems:
        notes.append(
            {
                "title": "Incomplete: some of the organisation could not be read",
                "lines": list(report.problems),
            }
        )
    return notes
