"""The plan as one self-contained HTML page, for a reviewer who never used a terminal. Pure.

A summary bar (destructive counts in a red zone), the folder tree with a marker on each
changed node and items rolled up per folder, every destructive change listed open on the
page, and the full list of changes with a filter and a link per change. The page itself is
``html_shell``; this module only turns a ``Plan`` into its data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.payload import encoded
from reconciler.plan.html_shell import Nodes, categories, page
from reconciler.plan.model import Change, Plan, Refusal, category, cost_line, no_changes_line
from reconciler.plan.render_text import path_text
from reconciler.words import plural

_CATEGORIES = categories(
    (
        ("delete", "to delete", "deleted", "−"),
        ("replace", "to replace", "replaced", "−/+"),
        ("unlink", "to unlink", "unlinked", "−"),
        ("revoke", "to revoke", "access revoked", "−"),
        ("create", "to create", "created", "+"),
        ("change", "to change", "patched", "~"),
        ("move", "to move", "moved", "→"),
        ("link", "to link", "linked", "+"),
        ("grant", "to grant", "access granted", "+"),
    ),
    danger=frozenset({"delete", "replace", "unlink", "revoke"}),
)

WORDS = {
    "other": "Other changes",
    "one": "change",
    "many": "changes",
    "from": "from",
    "tree": "Folder tree",
    "all": "All changes",
    "danger_title": "Destructive changes",
    "danger_hint": "Each of these removes data, a link or access. Open one for its detail.",
}

# What a reviewer can do about each refusal (the message says what was found).
TODO: dict[str, str] = {
    "ambiguous-path": "Make the paths unique in Encord (rename or remove the duplicates), then plan again.",
    "ambiguous-item": "Give the items unique names in their folder, then plan again.",
    "foreign-owned": "Remove the object from this config, or have its owner give it up.",
    "protected": "Change the config so these stay, or narrow policy.protect if this is intended.",
    "not-prunable": "Remove what is inside by hand, or declare the folder so it is kept.",
    "unsupported": "Make the change in the Encord app, or declare the live value.",
    "replace": "Set policy.allow_replace: true, or plan with --force to accept the replacement.",
    "delete-threshold": "Check the deletes are intended, then plan with --force (or raise policy.max_delete_ratio).",
    "change-threshold": "Check the changes are intended, then plan with --force (or raise policy.max_change_ratio).",
    "listing-guard": "Check the API key can list everything in scope, then plan again.",
    "no-admin": "Declare at least one admin group or user for it.",
    "collections-inside": "Delete or empty the folder's collections first, then plan again.",
}


def render_html(plan: Plan) -> str:
    title = f"reconciler plan for {plan.target or 'unknown target'}"
    return page(plan_data(plan), title=title, fallback=plan.summary.line())


def plan_data(plan: Plan) -> dict[str, Any]:
    notes, nodes = _refusal_notes(plan.refusals), Nodes()
    entries = [_entry(change, nodes, notes.get(change.address)) for change in plan.changes]
    return {
        "report": "plan",
        "title": f"Plan for {plan.target or 'unknown target'}",
        "meta": _meta(plan),
        "verdict": _verdict(plan),
        "categories": _CATEGORIES,
        "kinds": sorted({change.kind for change in plan.changes}),
        "columns": ["Before (live)", "After (desired)"],
        "words": WORDS,
        "nodes": nodes.rows(),
        "entries": entries,
        "refusals": [refusal_data(r) for r in plan.refusals],
        "notes": _notes(plan),
    }


def _meta(plan: Plan) -> list[list[str]]:
    rows = [
        ["Target", plan.target or "unknown"],
        ["Ownership", plan.ownership_id],
        ["Planned at", plan.created_at or "unknown"],
        ["Tool version", plan.tool_version],
        ["Checksum", plan.checksum],
    ]
    cost = cost_line(plan)
    if cost is not None:
        rows.append(["Cost", cost])
    if plan.only:
        rows.append(["Only", ", ".join(plan.only)])
    if plan.forced:
        rows.append(["Forced", "yes: refusals were accepted with --force"])
    return rows


def _verdict(plan: Plan) -> dict[str, str]:
    if plan.refusals and not plan.forced:
        text = (
            f"Refused: {plural(len(plan.refusals), 'refusal')} below; apply will not run this plan "
            "unless forced."
        )
        return {"level": "danger", "text": text}
    destructive = sum(1 for change in plan.changes if change.is_destructive)
    if not plan.changes:
        return {"level": "ok", "text": no_changes_line(plan)}
    text = plural(len(plan.changes), "change")
    if destructive:
        return {"level": "danger", "text": f"{text}, {destructive} of them destructive (in red)."}
    return {"level": "ok", "text": f"{text}, none destructive."}


def _refusal_notes(refusals: tuple[Refusal, ...]) -> dict[str, list[str]]:
    """Refusals that keep changes in the plan (``--force``), by the address they concern."""
    notes: dict[str, list[str]] = {}
    for refusal in refusals:
        if refusal.withheld:
            continue
        for address in refusal.addresses:
            notes.setdefault(address, []).append(
                f"Needs --force ({refusal.code}): {TODO.get(refusal.code, refusal.message)}"
            )
    return notes


def _entry(change: Change, nodes: Nodes, warnings: list[str] | None) -> dict[str, Any]:
    view = change.after if change.after is not None else change.before
    entry: dict[str, Any] = {
        "a": change.address,
        "c": category(change),
        "n": nodes.index(change.address, _path(view)),
        "x": [str(action) for action in change.actions],
    }
    optional = {
        "d": 1 if change.is_destructive else 0,
        "p": change.previous_address,
        "s": change.source,
        "r": change.reason,
        "f": [_diff_row(d.path, d.op, d.before, d.after) for d in change.diff],
        "b": encoded(change.before),
        "af": encoded(change.after),
        "w": warnings,
    }
    entry.update({key: value for key, value in optional.items() if value})
    return entry


def _path(view: Mapping[str, Any] | None) -> str | None:
    path = None if view is None else view.get("path")
    return path if isinstance(path, str) else None


def _diff_row(path: tuple[str | int, ...], op: str, before: Any, after: Any) -> list[Any]:
    return [path_text(path), op, before, after]


def refusal_data(refusal: Refusal) -> dict[str, Any]:
    return {
        "code": refusal.code,
        "message": refusal.message,
        "addresses": list(refusal.addresses),
        "withheld": refusal.withheld,
        "count": refusal.count,
        "todo": TODO.get(refusal.code, ""),
    }


def _notes(plan: Plan) -> list[dict[str, Any]]:
    notes = []
    if plan.deferred:
        lines = [
            f"folder:{d.folder}: rules {', '.join(d.rules) or '–'}; "
            f"datasets {', '.join(d.datasets) or '–'}"
            for d in plan.deferred
        ]
        notes.append(
            {
                "title": "Deferred until cloud syncs and registrations finish (apply plans these then)",
                "lines": lines,
            }
        )
    if plan.unmanaged:
        notes.append(
            {
                "title": "Unmanaged (in scope, not declared, left alone)",
                "lines": list(plan.unmanaged),
            }
        )
    return notes
