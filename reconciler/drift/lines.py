"""Lines shared by the drift renderers: an entry's symbol and headline, a field's
``live → declared`` line, and an unmanaged folder's line."""

from __future__ import annotations

from reconciler.drift.model import Drift, DriftKind, Unmanaged
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import FieldDiff
from reconciler.plan.render_text import path_text, value_text
from reconciler.printable import printable
from reconciler.words import plural

ABSENT = "(absent)"
_SYMBOLS = {
    DriftKind.EXTRA: "-",
    DriftKind.MISSING: "+",
    DriftKind.MOVED: "→",
    DriftKind.CHANGED: "~",
    DriftKind.ACCESS: "~",
    DriftKind.MEMBERSHIP: "~",
    DriftKind.METADATA: "~",
}


def symbol(entry: Drift) -> str:
    if entry.kind is DriftKind.MOVED:
        return "→"
    if entry.kind is DriftKind.LINKS:
        return "+" if Action.LINK in entry.actions else "-"
    if Action.DELETE in entry.actions and Action.CREATE in entry.actions:
        return "-/+"
    return _SYMBOLS[entry.kind]


def headline(entry: Drift, *, with_source: bool = True) -> str:
    line = f"{symbol(entry)} {entry.kind.value:<10} {printable(entry.address)}"
    if entry.live_address is not None:
        line += f" (live at {printable(entry.live_address)})"
    if with_source and entry.source:
        line += f"  [{entry.source}]"
    return line


def field_line(entry: FieldDiff) -> str:
    """``where: live → declared``; an absent side is written ``(absent)``."""
    live = ABSENT if entry.op == "add" else value_text(entry.before)
    declared = ABSENT if entry.op == "remove" else value_text(entry.after)
    return f"{path_text(entry.path)}: {live} → {declared}"


def folded_line(entry: Drift) -> str | None:
    if not entry.related:
        return None
    kinds: dict[str, int] = {}
    for address in entry.related:
        kind = str(addr.kind_of(address))
        kinds[kind] = kinds.get(kind, 0) + 1
    what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    count = len(entry.related)
    return f"also covers {count} planned change{'s' if count != 1 else ''} ({what})"


def detail_lines(entry: Drift, *, max_fields: int | None = None) -> list[str]:
    """The entry's summary, its fields (live → declared) and what was folded into it."""
    lines = [entry.summary] if entry.summary else []
    fields = entry.fields if max_fields is None else entry.fields[:max_fields]
    lines.extend(field_line(f) for f in fields)
    if max_fields is not None and len(entry.fields) > max_fields:
        lines.append(f"… and {plural(len(entry.fields) - max_fields, 'more field')}")
    folded = folded_line(entry)
    if folded:
        lines.append(folded)
    return lines


def unmanaged_line(entry: Unmanaged) -> str:
    if not entry.root:
        return printable(entry.address)
    items = f", {entry.items} item{'s' if entry.items != 1 else ''} inside" if entry.items else ""
    return f"{printable(entry.address)} (under {printable(entry.root)}{items})"


def unmanaged_count(entries: tuple[Unmanaged, ...]) -> str:
    """``2 folders under the declared roots, 1 group`` (per kind, in order of appearance)."""
    counts: dict[str, int] = {}
    for entry in entries:
        kind = entry.address.split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    parts = [plural(n, kind) for kind, n in counts.items()]
    if "folder" in counts:
        parts[0] += " under the declared roots"
    return ", ".join(parts)
