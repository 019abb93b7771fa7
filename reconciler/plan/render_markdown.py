"""Markdown for a pull-request comment: at most 65,536 characters, whatever the plan.

Deletes and replacements come first, then unlinks and revokes, outside any fold, each with
its ``file:line``, its reason and what it takes with it, and every one stays visible (see
``markdown_destructive`` for how they degrade to counted groups when they do not fit).
Everything else is folded into ``<details>`` sections with counts; alike changes (see
``grouping``) fold once more into one nested ``<details>`` per group. Sections are filled
until the budget runs out, and each then says how many it left out.
"""

from __future__ import annotations

import html

from reconciler.plan.grouping import SHOWN, Group, group_changes
from reconciler.plan.markdown_destructive import (
    change_line,
    deletes_block,
    fence,
    relations_block,
    removes_relation,
)
from reconciler.plan.model import Change, Plan, Refusal, category, cost_line, no_changes_line
from reconciler.plan.render_text import (
    caller_line,
    group_detail_lines,
    group_headline,
    member_line,
)
from reconciler.printable import code_span, markdown_text, printable, same_length
from reconciler.words import plural

LIMIT = 65_536
_FOOTER_RESERVE = 600
_REFUSALS_BUDGET = 16_000
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("create", "Creates"),
    ("change", "Changes"),
    ("move", "Moves"),
    ("link", "Links"),
    ("grant", "Grants"),
)


def render_markdown(plan: Plan, *, limit: int = LIMIT) -> str:
    head = _header(plan)
    out = head + deletes_block(list(plan.changes), limit - len(head) - _FOOTER_RESERVE)
    out += relations_block(list(plan.changes), limit - len(out) - _FOOTER_RESERVE)
    for key, title in _SECTIONS:
        changes = [c for c in plan.changes if category(c) == key and not removes_relation(c)]
        if changes:
            out += _section(title, changes, limit - len(out) - _FOOTER_RESERVE)
    out += _extras(plan, limit - len(out) - 200)
    out += "\n_Full plan: `reconciler plan --format json`; apply runs exactly what was reviewed._\n"
    return same_length(out if len(out) <= limit else out[: limit - 2] + "\n")


def _header(plan: Plan) -> str:
    lines = [
        f"### reconciler plan for `{plan.target or 'unknown target'}`"
        + ("" if plan.environment is None else f" (environment `{plan.environment}`)"),
        "",
        caller_line(plan),
        "",
        f"**{plan.summary.line()}**",
        "",
    ]
    cost = cost_line(plan)
    if cost is not None:
        lines += [cost, ""]
    if plan.warnings:
        lines += ["> [!WARNING]", f"> **{plural(len(plan.warnings), 'warning')}**:"]
        lines += [f"> - {markdown_text(warning)[:600]}" for warning in plan.warnings[:50]]
        if len(plan.warnings) > 50:
            lines.append(f"> - … and {len(plan.warnings) - 50} more (see the JSON plan)")
        lines.append("")
    if not plan.changes:
        lines += [no_changes_line(plan), ""]
    if plan.refusals:
        state = (
            "overridden with `--force`" if plan.forced else "this plan is refused unless `--force`"
        )
        lines += ["> [!CAUTION]", f"> **{plural(len(plan.refusals), 'refusal')}**, {state}:"]
        used = 0
        for index, refusal in enumerate(plan.refusals):
            line = _refusal_line(refusal)
            if used + len(line) > _REFUSALS_BUDGET:
                lines.append(
                    f"> - … and {plural(len(plan.refusals) - index, 'more refusal')} "
                    "(see the JSON plan)"
                )
                break
            lines.append(line)
            used += len(line)
        lines.append("")
    return "\n".join(lines) + "\n"


def _refusal_line(refusal: Refusal) -> str:
    shown = ", ".join(code_span(a) for a in refusal.addresses[:10])
    more = f" and {len(refusal.addresses) - 10} more" if len(refusal.addresses) > 10 else ""
    line = f"> - **{refusal.code}**: {markdown_text(refusal.message)[:600]}"
    return line + (f" ({shown}{more})" if shown else "")


def _section(title: str, changes: list[Change], budget: int) -> str:
    """A fold of single lines, then one nested fold per group, filled until the budget."""
    head = f"<details><summary>{title} ({len(changes)})</summary>\n\n"
    tail = "\n</details>\n\n"
    entries = group_changes(changes)
    used = len(head) + len(tail) + 40
    lines: list[str] = []
    left = 0
    for change in (e for e in entries if not isinstance(e, Group)):
        shown = _lines(change)
        size = sum(len(line) + 1 for line in shown)
        if used + size + 80 > budget:
            left += 1
            continue
        lines.extend(shown)
        used += size
    folds = ""
    for group in (e for e in entries if isinstance(e, Group)):
        fold = _group_fold(group)
        if used + len(folds) + len(fold) + 80 > budget:
            left += len(group)
            continue
        folds += fold
    if not lines and not folds:
        return f"{title}: {len(changes)} (not shown, see the JSON plan)\n\n" if budget > 80 else ""
    if left:
        lines.append(f"… and {left} more (see the JSON plan)")
    body = "\n".join(fence(lines)) + "\n" if lines else ""
    return head + body + folds + tail


def _lines(change: Change) -> list[str]:
    """A role changed by revoke-then-grant removes access for a moment: it says why."""
    if change.is_destructive and change.reason:
        return [change_line(change), f"#   {change.reason[:400]}"]
    return [change_line(change)]


def _group_fold(group: Group) -> str:
    summary = html.escape(printable(group_headline(group)))
    lines = [line[:300] for line in group_detail_lines(group)]
    lines += [f"  {member_line(c)}"[:300] for c in group.changes[:SHOWN]]
    if len(group) > SHOWN:
        lines.append(f"  … and {len(group) - SHOWN} more")
    return (
        f"<details><summary><code>{summary}</code></summary>\n\n"
        + "\n".join(fence(lines))
        + "\n</details>\n"
    )


def _extras(plan: Plan, budget: int) -> str:
    out = ""
    if plan.deferred:
        lines = [
            f"- {code_span(f'folder:{d.folder}')}: rules {markdown_text(', '.join(d.rules)) or '–'}; "
            f"datasets {markdown_text(', '.join(d.datasets)) or '–'}"
            for d in plan.deferred
        ]
        block = (
            f"<details><summary>Deferred until cloud syncs and registrations finish ({len(lines)})</summary>\n\n"
            + "\n".join(lines)
            + "\n</details>\n\n"
        )
        if len(block) <= budget:
            out += block
    if plan.unmanaged:
        lines = [f"- {code_span(a)}" for a in plan.unmanaged[:200]]
        if len(plan.unmanaged) > 200:
            lines.append(f"- … and {len(plan.unmanaged) - 200} more")
        block = (
            f"<details><summary>Unmanaged, left alone ({len(plan.unmanaged)})</summary>\n\n"
            + "\n".join(lines)
            + "\n</details>\n\n"
        )
        if len(out) + len(block) <= budget:
            out += block
    return out
