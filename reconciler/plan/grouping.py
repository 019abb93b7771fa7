"""Grouping a plan's changes for display: many changes with one cause and one shape read as one.

Two changes share a *cause* when the same ``file:line`` made them (a rule, a selector), or
the same manifest file (each row has its own line), or, without a source, the same parent
folder. They share a *shape* when they have the same kind, the same actions, the same
changed fields with the same operations (and, for creates, the same shown keys). A group
shows the field diff its members share (values that differ show as ``VARIES``), the first
few addresses and a count.

Nothing destructive is ever grouped: deletes, replacements, unlinks and revokes (role
changes included) are always listed one by one. Groups smaller than ``GROUP_AT`` are not
formed either, so a small plan reads exactly as it always did. Display only: apply never
looks at groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model import addresses as addr
from reconciler.model.desired import ENTRY_MARK
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, FieldDiff

GROUP_AT = 5
SHOWN = 3
_MANIFEST_SUFFIXES = (".jsonl", ".csv", ".json", ".tsv")
_HIDDEN_KEYS = ("path", "name", "title")


class _Varies:
    """The value of a shared field that differs between the members of a group."""

    def __repr__(self) -> str:
        return "VARIES"


VARIES: Any = _Varies()


@dataclass(frozen=True, slots=True)
class Group:
    """Changes with one cause and one shape, in plan order. ``cause`` is what the header
    names (``items.yaml:3``, ``manifests/a.jsonl:1-900``, ``under /raw``)."""

    cause: str
    changes: tuple[Change, ...]
    diff: tuple[FieldDiff, ...]
    created: tuple[tuple[str, Any], ...]

    @property
    def first(self) -> Change:
        return self.changes[0]

    def __len__(self) -> int:
        return len(self.changes)


Entry = Change | Group


def groupable(change: Change) -> bool:
    return not change.is_destructive


def shown_after(change: Change) -> tuple[tuple[str, Any], ...]:
    """The keys of a create's ``after`` that the text shows (not the name, not empties)."""
    if change.diff or Action.CREATE not in change.actions or not change.after:
        return ()
    return tuple(
        (key, value)
        for key, value in change.after.items()
        if key not in _HIDDEN_KEYS and value not in (None, "", {}, [])
    )


def cause_key(change: Change) -> tuple[str, str]:
    source = change.source
    if source is None:
        return ("subtree", _parent(change.address))
    file, _, line = source.rpartition(":")
    if file.lower().endswith(_MANIFEST_SUFFIXES) and line.isdigit():
        return ("manifest", file)
    # what one template line made for each of its entries is one cause: the template's
    return ("source", source.split(ENTRY_MARK, 1)[0])


def _parent(address: str) -> str:
    parsed = addr.Address.parse(address)
    where = parsed.key if parsed.path is None else parsed.path
    return where.rsplit("/", 1)[0] or "/"


def shape_key(change: Change) -> tuple[object, ...]:
    return (
        change.kind,
        change.actions,
        change.previous_address is not None,
        tuple((d.path, d.op) for d in change.diff if not _hidden(d)),
        tuple(key for key, _ in shown_after(change)),
    )


def _hidden(entry: FieldDiff) -> bool:
    return entry.path[:1] in (("path",), ("name",))


def group_changes(changes: Sequence[Change], *, at: int = GROUP_AT) -> list[Entry]:
    """The changes in plan order, with each large enough set of alike changes folded into a
    ``Group`` at the place of its first member."""
    buckets: dict[tuple[object, ...], list[Change]] = {}
    for change in changes:
        if groupable(change):
            buckets.setdefault((cause_key(change), shape_key(change)), []).append(change)
    big = {id(members[0]): members for members in buckets.values() if len(members) >= at}
    folded = {id(c) for members in big.values() for c in members}
    out: list[Entry] = []
    for change in changes:
        if id(change) in big:
            out.append(_group(big[id(change)]))
        elif id(change) not in folded:
            out.append(change)
    return out


def _group(members: list[Change]) -> Group:
    diffs = [[d for d in c.diff if not _hidden(d)] for c in members]
    afters = [shown_after(c) for c in members]
    return Group(
        cause=_cause_text(members),
        changes=tuple(members),
        diff=tuple(
            FieldDiff(
                entry.path,
                entry.op,
                _shared(d[index].before for d in diffs),
                _shared(d[index].after for d in diffs),
            )
            for index, entry in enumerate(diffs[0])
        ),
        created=tuple(
            (key, _shared(a[index][1] for a in afters)) for index, (key, _) in enumerate(afters[0])
        ),
    )


def _shared(values: Iterable[Any]) -> Any:
    it = iter(values)
    first = next(it)
    return first if all(v == first for v in it) else VARIES


def _cause_text(members: list[Change]) -> str:
    kind, key = cause_key(members[0])
    if kind == "subtree":
        return f"under {key}"
    if kind == "manifest":
        lines = [int(str(c.source).rpartition(":")[2]) for c in members]
        return f"{key}:{min(lines)}-{max(lines)}"
    return key
