"""Markdown for a pull-request comment: at most 65,536 characters, whatever the plan.

Deletes and replacements come first, outside any fold, and every one stays visible: an item
deleted with its folder is counted on that folder's line, and when even the folder lines do
not fit, folders are grouped under their deleted ancestor, then under their parent path,
each group with its counts. Everything else is folded into ``<details>`` sections with
counts, filled until the budget runs out (each section then says how many it left out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from reconciler.model import addresses as addr
from reconciler.model.addresses import parent_path
from reconciler.plan.model import Change, Plan, Refusal, category
from reconciler.plan.render_text import diff_line, symbol

LIMIT = 65_536
_FOOTER_RESERVE = 600
_REFUSALS_BUDGET = 16_000
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("create", "Creates"),
    ("change", "Changes"),
    ("move", "Moves"),
    ("link", "Links"),
    ("unlink", "Unlinks"),
    ("grant", "Grants"),
    ("revoke", "Revokes"),
)


def _fence(lines: list[str]) -> list[str]:
    longest = max((_run(line) for line in lines), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", *lines, fence]


def _run(text: str) -> int:
    best = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        best = max(best, current)
    return best


def _line(change: Change) -> str:
    text = f"{symbol(change)} {change.address}"
    if change.previous_address:
        text += f" (from {change.previous_address})"
    details = [diff_line(d) for d in change.diff if d.path[:1] != ("path",)][:2]
    if details and not change.is_replace:
        text += "  " + "; ".join(details)
    return text[:300]


def render_markdown(plan: Plan, *, limit: int = LIMIT) -> str:
    head = _header(plan)
    budget = limit - len(head) - _FOOTER_RESERVE
    deletes = _deletes_block(plan, budget)
    out = head + deletes
    for key, title in _SECTIONS:
        changes = [c for c in plan.changes if category(c) == key]
        if changes:
            out += _section(title, changes, limit - len(out) - _FOOTER_RESERVE)
    out += _extras(plan, limit - len(out) - 200)
    out += "\n_Full plan: `reconciler plan --format json`; apply runs exactly what was reviewed._\n"
    return out if len(out) <= limit else out[: limit - 2] + "\n"


def _header(plan: Plan) -> str:
    lines = [
        f"### reconciler plan for `{plan.target or 'unknown target'}`",
        "",
        f"**{plan.summary.line()}**",
        "",
    ]
    if not plan.changes:
        matches = "" if plan.refusals else " The organisation matches the configuration."
        lines += ["No changes." + matches, ""]
    if plan.refusals:
        state = (
            "overridden with `--force`" if plan.forced else "this plan is refused unless `--force`"
        )
        lines += ["> [!CAUTION]", f"> **{len(plan.refusals)} refusal(s)**, {state}:"]
        used = 0
        for index, refusal in enumerate(plan.refusals):
            line = _refusal_line(refusal)
            if used + len(line) > _REFUSALS_BUDGET:
                lines.append(
                    f"> - … and {len(plan.refusals) - index} more refusals (see the JSON plan)"
                )
                break
            lines.append(line)
            used += len(line)
        lines.append("")
    return "\n".join(lines) + "\n"


def _refusal_line(refusal: Refusal) -> str:
    shown = ", ".join(f"`{a}`" for a in refusal.addresses[:10])
    more = f" and {len(refusal.addresses) - 10} more" if len(refusal.addresses) > 10 else ""
    line = f"> - **{refusal.code}**: {refusal.message[:600]}"
    return line + (f" ({shown}{more})" if shown else "")


def _deletes_block(plan: Plan, budget: int) -> str:
    destructive = [c for c in plan.changes if c.is_delete or c.is_replace]
    if not destructive:
        return ""
    title = f"#### Deletes and replacements ({len(destructive)})\n\n"
    for level in (_every_folder, _top_folders, _by_parent, _by_root):
        body = "\n".join(_fence(level(destructive))) + "\n\n"
        if len(title) + len(body) <= budget:
            return title + body
    counts = Counter(category(c) for c in destructive)
    return (
        title
        + f"{counts['delete']} deletes and {counts['replace']} replacements; too many to list here: see the JSON plan.\n\n"
    )


def _deleted_folders(changes: list[Change]) -> dict[str, Change]:
    return {addr.key_of(c.address): c for c in changes if c.kind == addr.Kind.FOLDER}


def _items_in(changes: list[Change]) -> Counter[str]:
    """Deleted items per folder path (the folder whose delete they come with)."""
    counts: Counter[str] = Counter()
    for change in changes:
        if change.kind == addr.Kind.ITEM and change.is_delete:
            path = addr.key_of(change.address).split("#", 1)[0]
            counts[path.rsplit("/", 1)[0]] += 1
    return counts


def _loose(changes: list[Change], folders: dict[str, Change]) -> list[str]:
    """Lines for deletes that are not folders, and items whose folder is not deleted."""
    out = []
    for change in changes:
        if change.kind == addr.Kind.FOLDER:
            continue
        if change.kind == addr.Kind.ITEM:
            folder = addr.key_of(change.address).split("#", 1)[0].rsplit("/", 1)[0]
            if folder in folders:
                continue
        out.append(_line(change))
    return out


def _every_folder(changes: list[Change]) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    lines = []
    for path, change in folders.items():
        extra = f"  (and {items[path]} items inside)" if items[path] else ""
        lines.append(_line(change) + extra)
    return lines + _loose(changes, folders)


def _top(folders: dict[str, Change]) -> dict[str, list[str]]:
    """Top-most deleted folders, each with the deleted folders below it."""
    tops: dict[str, list[str]] = {}
    for path in sorted(folders):
        parent = parent_path(path)
        owner = None
        while parent is not None:
            if parent in folders:
                owner = parent
            parent = parent_path(parent)
        if owner is None:
            tops.setdefault(path, [])
        else:
            tops.setdefault(owner, []).append(path)
    return tops


def _top_folders(changes: list[Change]) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    lines = []
    for path, below in _top(folders).items():
        inside = items[path] + sum(items[b] for b in below)
        lines.append(
            f"{_line(folders[path])}  (and {len(below)} subfolders, {inside} items inside)"
        )
    return lines + _loose(changes, folders)


def _grouped(changes: list[Change], key: Callable[[str], str]) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    groups: dict[str, list[str]] = {}
    for path, below in _top(folders).items():
        groups.setdefault(key(path), []).extend([path, *below])
    lines = []
    for where, paths in sorted(groups.items()):
        count = sum(items[p] for p in paths)
        lines.append(f"- {len(paths)} folders under {where}/ (with {count} items inside)")
    others = [c for c in changes if c.kind not in (addr.Kind.FOLDER, addr.Kind.ITEM)]
    return lines + [_line(c) for c in others]


def _by_parent(changes: list[Change]) -> list[str]:
    return _grouped(changes, lambda path: parent_path(path) or "")


def _by_root(changes: list[Change]) -> list[str]:
    return _grouped(changes, lambda path: "/" + path.split("/")[1] if path.count("/") > 1 else "")


def _section(title: str, changes: list[Change], budget: int) -> str:
    head = f"<details><summary>{title} ({len(changes)})</summary>\n\n"
    tail = "\n</details>\n\n"
    lines: list[str] = []
    used = len(head) + len(tail) + 20
    for change in changes:
        line = _line(change)
        if used + len(line) + 1 + 80 > budget:
            break
        lines.append(line)
        used += len(line) + 1
    if not lines:
        return f"{title}: {len(changes)} (not shown, see the JSON plan)\n\n" if budget > 80 else ""
    left = len(changes) - len(lines)
    if left:
        lines.append(f"… and {left} more (see the JSON plan)")
    return head + "\n".join(_fence(lines)) + tail


def _extras(plan: Plan, budget: int) -> str:
    out = ""
    if plan.deferred:
        lines = [
            f"- `folder:{d.folder}`: rules {', '.join(d.rules) or '–'}; datasets {', '.join(d.datasets) or '–'}"
            for d in plan.deferred
        ]
        block = (
            f"<details><summary>Deferred until cloud syncs finish ({len(lines)})</summary>\n\n"
            + "\n".join(lines)
            + "\n</details>\n\n"
        )
        if len(block) <= budget:
            out += block
    if plan.unmanaged:
        lines = [f"- `{a}`" for a in plan.unmanaged[:200]]
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
