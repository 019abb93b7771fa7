"""Terraform-style text rendering of a plan. Pure: returns a string; the CLI prints it.

Symbols: ``+`` create/link/grant, ``~`` patch/role change, ``-`` delete/unlink/revoke,
``→`` move (with the previous address), ``-/+`` replace. The header names the target and
the caller. Deletes, replacements, unlinks and revokes come first and are never elided;
refusals, warnings, deferrals and the summary line follow.

Detail levels: ``grouped`` (the default) folds many alike changes into one block (see
``grouping``: never anything destructive, never fewer than ``GROUP_AT``), ``full`` lists
every change, ``summary`` prints only the counts.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from reconciler.plan.actions import Action
from reconciler.plan.grouping import SHOWN, VARIES, Group, group_changes
from reconciler.plan.model import (
    SUMMARY_KEYS,
    Change,
    FieldDiff,
    Plan,
    cost_line,
    no_changes_line,
)
from reconciler.printable import printable, printable_lines

Detail = Literal["grouped", "full", "summary"]
DETAILS: tuple[Detail, ...] = ("grouped", "full", "summary")

_PLAIN = re.compile(r"[A-Za-z0-9_\-]+\Z")
_VALUE_LIMIT = 160


def symbol(change: Change) -> str:
    acts = change.actions
    if change.is_replace:
        return "-/+"
    if change.is_delete or acts == (Action.UNLINK,) or acts == (Action.REVOKE,):
        return "-"
    if Action.MOVE in acts:
        return "→"
    if Action.CREATE in acts or acts == (Action.LINK,):
        return "+"
    if acts == (Action.GRANT,) and change.before is None:
        return "+"
    return "~"


def value_text(value: Any) -> str:
    if value is VARIES:
        return "(varies)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


def path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            piece = part if _PLAIN.match(part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + piece
    return out


def diff_line(entry: FieldDiff) -> str:
    where = path_text(entry.path)
    if entry.op == "add":
        return f"{where}: + {value_text(entry.after)}"
    if entry.op == "remove":
        return f"{where}: - {value_text(entry.before)}"
    return f"{where}: {value_text(entry.before)} → {value_text(entry.after)}"


def headline(change: Change) -> str:
    line = f"{symbol(change)} {printable(change.address)}"
    if change.previous_address is not None:
        line += f" (from {printable(change.previous_address)})"
    if Action.SYNC in change.actions:
        line += " (then sync)"
    line += claim_note(change.actions)
    if change.source:
        line += f"  [{change.source}]"
    return line


def detail_lines(change: Change) -> list[str]:
    lines: list[str] = []
    if change.is_delete or change.is_replace:
        lines.append(f"# {printable(change.reason)}")
    if change.diff:
        lines.extend(diff_line(d) for d in change.diff if d.path[:1] not in (("path",), ("name",)))
    elif Action.CREATE in change.actions and change.after:
        for key, value in change.after.items():
            if key not in ("path", "name", "title") and value not in (None, "", {}, []):
                lines.append(f"{key}: {value_text(value)}")
    return lines


def _change_block(change: Change) -> list[str]:
    return [f"  {headline(change)}"] + [f"        {line}" for line in detail_lines(change)]


def claim_note(actions: tuple[Action, ...]) -> str:
    """Adopt and release said in words: ``~`` alone would read as an edit."""
    if Action.ADOPT in actions:
        return " (adopt: becomes ours)"
    if Action.RELEASE in actions:
        return " (release: stops being ours)"
    return ""


def group_headline(group: Group) -> str:
    then = " (then sync)" if Action.SYNC in group.first.actions else ""
    then += claim_note(group.first.actions)
    cause = printable(group.cause)
    return f"{symbol(group.first)} {len(group)} × {group.first.kind}{then}  [{cause}]"


def group_detail_lines(group: Group) -> list[str]:
    """The field diff the members share (``(varies)`` where their values differ)."""
    if group.diff:
        return [diff_line(d) for d in group.diff]
    return [f"{key}: {value_text(value)}" for key, value in group.created]


def member_line(change: Change) -> str:
    line = printable(change.address)
    if change.previous_address is not None:
        line += f" (from {printable(change.previous_address)})"
    return line


def _group_block(group: Group) -> list[str]:
    lines = [f"  {group_headline(group)}"]
    lines += [f"        {line}" for line in group_detail_lines(group)]
    lines += [f"      {member_line(c)}" for c in group.changes[:SHOWN]]
    if len(group) > SHOWN:
        lines.append(f"      … and {len(group) - SHOWN} more")
    return lines


def _blocks(changes: list[Change], detail: Detail) -> list[str]:
    if detail == "full":
        return [line for change in changes for line in _change_block(change)]
    lines: list[str] = []
    for entry in group_changes(changes):
        lines += _group_block(entry) if isinstance(entry, Group) else _change_block(entry)
    return lines


def caller_line(plan: Plan) -> str:
    """``Caller: alice@example.com (MEMBER)``: who read the live state this plan is from."""
    return f"Caller: {plan.caller.text() if plan.caller else 'unknown'}"


def removals_title(changes: list[Change]) -> str:
    """What the first section holds: "Deletes and replacements", plus unlinks and revokes."""
    relations = any(not (c.is_delete or c.is_replace) for c in changes)
    return "Deletes, replacements, unlinks and revokes" if relations else "Deletes and replacements"


def _environment(plan: Plan) -> str:
    """Which of the config's environments the plan is for (a reviewer must not mistake it)."""
    return "" if plan.environment is None else f"environment: {plan.environment}, "


def render_text(plan: Plan, *, detail: Detail = "grouped") -> str:
    lines = [
        f"reconciler plan for {plan.target or 'unknown target'} ({_environment(plan)}"
        f"ownership: {plan.ownership_id})",
        caller_line(plan),
        "",
    ]
    if detail == "summary":
        tail = ["", plan.summary.line(), *_cost(plan)]
        return "\n".join(lines + _counts_table(plan) + tail) + "\n"
    destructive = [c for c in plan.changes if c.is_removal]
    rest = [c for c in plan.changes if not c.is_removal]
    if not plan.changes:
        lines += [no_changes_line(plan), ""]
    if destructive:
        lines.append(removals_title(destructive) + ":")
        lines.extend(_blocks(destructive, detail))
        lines.append("")
    if rest:
        lines.append("Changes:")
        lines.extend(_blocks(rest, detail))
        lines.append("")
    lines.extend(_trailer(plan))
    return printable_lines("\n".join(lines) + "\n")


def _trailer(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.refusals:
        state = "overridden by --force" if plan.forced else "the plan is refused unless --force"
        lines.append(f"Refusals ({state}):")
        for refusal in plan.refusals:
            kind = "withheld" if refusal.withheld else "needs --force"
            lines.append(f"  ! [{refusal.code}, {kind}] {printable(refusal.message)}")
            lines.extend(f"      {printable(a)}" for a in refusal.addresses)
        lines.append("")
    if plan.warnings:
        lines.append(f"Warnings ({len(plan.warnings)}):")
        lines.extend(f"  ! {printable(warning)}" for warning in plan.warnings)
        lines.append("")
    if plan.deferred:
        lines.append(
            "Deferred until cloud syncs and registrations finish (apply re-plans these folders):"
        )
        for d in plan.deferred:
            parts = [
                f"rules {', '.join(d.rules)}" if d.rules else "",
                f"datasets {', '.join(d.datasets)}" if d.datasets else "",
            ]
            lines.append(f"  folder:{d.folder}: " + "; ".join(p for p in parts if p))
        lines.append("")
    if plan.unmanaged:
        lines.append(f"Unmanaged (in scope, not declared, left alone): {len(plan.unmanaged)}")
        lines.extend(f"  {printable(a)}" for a in plan.unmanaged)
        lines.append("")
    lines.append(plan.summary.line())
    lines.extend(_cost(plan))
    return lines


def _cost(plan: Plan) -> list[str]:
    line = cost_line(plan)
    return [] if line is None else [line]


def _counts_table(plan: Plan) -> list[str]:
    counts = plan.summary.as_dict()
    rows = [(key, counts[key]) for key in SUMMARY_KEYS if counts[key]]
    if plan.refusals:
        state = "overridden by --force" if plan.forced else "refused unless --force"
        rows.append((f"refusals ({state})", len(plan.refusals)))
    if plan.deferred:
        rows.append(("deferred folders", len(plan.deferred)))
    if not rows:
        return ["No changes."]
    width = max(len(name) for name, _ in rows)
    digits = max(len(str(n)) for _, n in rows)
    return [f"  {name:<{width}}  {n:>{digits}}" for name, n in rows]
