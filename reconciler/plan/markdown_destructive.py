"""The markdown blocks for what a plan removes: deletes and replacements, then unlinks and
revokes. Both sit outside any fold, and every one stays visible whatever the budget.

Each line carries the change's ``file:line`` (when something declared caused it) and, on the
line below, its reason, which names the impact (the items, links and grants lost with it).
When the lines do not fit, the block degrades level by level: without the reason lines,
then deleted folders under their top-most deleted ancestor, their parent path, their root;
unlinks and revokes counted per cause and reason. Items deleted with their folder are
counted on the folder's line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from reconciler.model import addresses as addr
from reconciler.model.addresses import parent_path
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, category
from reconciler.plan.render_text import claim_note, diff_line, symbol
from reconciler.printable import printable
from reconciler.words import plural

Level = Callable[[list[Change]], list[str]]


def fence(lines: list[str]) -> list[str]:
    """``lines`` in a diff fence no line can close; each shown ``printable``, so that a live
    name cannot start a line of its own (a forged ``- folder:`` line) either."""
    lines = [printable(line) for line in lines]
    longest = max((_run(line) for line in lines), default=0)
    mark = "`" * max(3, longest + 1)
    return [f"{mark}diff", *lines, mark]


def _run(text: str) -> int:
    best = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        best = max(best, current)
    return best


def change_line(change: Change, extra: str = "") -> str:
    """One change on one line (at most 300 characters): symbol, address, a little diff."""
    text = f"{symbol(change)} {printable(change.address)}"
    if change.previous_address:
        text += f" (from {printable(change.previous_address)})"
    text += claim_note(change.actions)
    details = [diff_line(d) for d in change.diff if d.path[:1] != ("path",)][:2]
    if details and not change.is_replace:
        text += "  " + "; ".join(details)
    text += extra
    if change.source:
        text += f"  [{change.source}]"
    return text[:300]


def _with_reason(change: Change, extra: str = "") -> list[str]:
    lines = [change_line(change, extra)]
    if change.reason:
        lines.append(f"#   {printable(change.reason)[:400]}")
    return lines


def removes_relation(change: Change) -> bool:
    """Unlinks and revokes: relations removed, no data (role changes stay with changes,
    but for an organisation user's, which removes the user first: ``Change.is_removal``)."""
    return category(change) in ("unlink", "revoke") or (
        change.is_removal and not (change.is_delete or change.is_replace)
    )


def block(title: str, changes: list[Change], levels: tuple[Level, ...], budget: int) -> str:
    """The first level whose block fits the budget (the last one always, as counts)."""
    if not changes:
        return ""
    head = f"#### {title} ({len(changes)})\n\n"
    for level in levels:
        body = "\n".join(fence(level(changes))) + "\n\n"
        if len(head) + len(body) <= budget:
            return head + body
    counts = Counter(category(c) for c in changes)
    parts = ", ".join(f"{n} to {key}" for key, n in sorted(counts.items()))
    return head + f"{parts}; too many to list here: see the JSON plan.\n\n"


def deletes_block(changes: list[Change], budget: int) -> str:
    destructive = [c for c in changes if c.is_delete or c.is_replace]
    levels: tuple[Level, ...] = (
        lambda cs: _every_folder(cs, reasons=True),
        lambda cs: _every_folder(cs, reasons=False),
        lambda cs: _top_folders(cs, reasons=True),
        lambda cs: _top_folders(cs, reasons=False),
        _by_parent,
        _by_root,
    )
    return block("Deletes and replacements", destructive, levels, budget)


def relations_block(changes: list[Change], budget: int) -> str:
    removed = [c for c in changes if removes_relation(c)]
    levels: tuple[Level, ...] = (
        lambda cs: [line for c in cs for line in _with_reason(c)],
        lambda cs: [change_line(c) for c in cs],
        _relations_counted,
    )
    return block("Unlinks and revokes", removed, levels, budget)


def _relations_counted(changes: list[Change]) -> list[str]:
    groups: Counter[tuple[str, str, str]] = Counter()
    for change in changes:
        verb = "unlinked" if Action.UNLINK in change.actions else "revoked"
        groups[(f"{change.kind} {verb}", change.source or "", change.reason)] += 1
    lines = []
    for (what, source, reason), count in groups.items():
        where = f"  [{source}]" if source else ""
        lines += [f"- {count} × {what}{where}", f"#   {reason[:400]}"]
    return lines


def _line(change: Change, extra: str, reasons: bool) -> list[str]:
    return _with_reason(change, extra) if reasons else [change_line(change, extra)]


def _deleted_folders(changes: list[Change]) -> dict[str, Change]:
    return {addr.key_of(c.address): c for c in changes if c.kind == addr.Kind.FOLDER}


def _folder_of(change: Change) -> str:
    return (addr.Address.parse(change.address).path or "").rsplit("/", 1)[0]


def _items_in(changes: list[Change]) -> Counter[str]:
    """Deleted items per folder path (the folder whose delete they come with)."""
    return Counter(_folder_of(c) for c in changes if c.kind == addr.Kind.ITEM and c.is_delete)


def _loose(changes: list[Change], folders: dict[str, Change], reasons: bool) -> list[str]:
    """Lines for deletes that are not folders, and items whose folder is not deleted."""
    out = []
    for change in changes:
        if change.kind == addr.Kind.FOLDER:
            continue
        if change.kind == addr.Kind.ITEM and _folder_of(change) in folders:
            continue
        out.extend(_line(change, "", reasons))
    return out


def _every_folder(changes: list[Change], *, reasons: bool) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    lines = []
    for path, change in folders.items():
        extra = f"  (and {plural(items[path], 'item')} inside)" if items[path] else ""
        lines.extend(_line(change, extra, reasons))
    return lines + _loose(changes, folders, reasons)


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


def _top_folders(changes: list[Change], *, reasons: bool) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    lines = []
    for path, below in _top(folders).items():
        inside = items[path] + sum(items[b] for b in below)
        extra = f"  (and {plural(len(below), 'subfolder')}, {plural(inside, 'item')} inside)"
        lines.extend(_line(folders[path], extra, reasons))
    return lines + _loose(changes, folders, reasons)


def _grouped(changes: list[Change], key: Callable[[str], str]) -> list[str]:
    folders, items = _deleted_folders(changes), _items_in(changes)
    groups: dict[str, list[str]] = {}
    for path, below in _top(folders).items():
        groups.setdefault(key(path), []).extend([path, *below])
    lines = []
    for where, paths in sorted(groups.items()):
        count = sum(items[p] for p in paths)
        lines.append(
            f"- {plural(len(paths), 'folder')} under {where}/ (with {plural(count, 'item')} inside)"
        )
    loose = Counter(
        _folder_of(c) for c in changes if c.kind == addr.Kind.ITEM and _folder_of(c) not in folders
    )
    lines += [
        f"- {plural(n, 'item')} in {where}/ (the folder stays)"
        for where, n in sorted(loose.items())
    ]
    others = [c for c in changes if c.kind not in (addr.Kind.FOLDER, addr.Kind.ITEM)]
    return lines + [change_line(c) for c in others]


def _by_parent(changes: list[Change]) -> list[str]:
    return _grouped(changes, lambda path: parent_path(path) or "")


def _by_root(changes: list[Change]) -> list[str]:
    return _grouped(changes, lambda path: "/" + path.split("/")[1] if path.count("/") > 1 else "")
