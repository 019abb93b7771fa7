"""Deterministic order of changes, and ``--only``.

Order: replacements, then deletes (items, folders children before parents, groups), then
relations removed outright (unlinks, revokes), then everything else by kind (schema, groups, folders parents first, folder grants, items,
datasets, dataset grants, links) and path. Equal inputs give byte-equal plans.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model import addresses as addr
from reconciler.model.globs import compile_glob
from reconciler.plan.model import Change

_KIND_RANK: dict[str, int] = {
    addr.Kind.METADATA_SCHEMA: 0,
    addr.Kind.GROUP: 1,
    addr.Kind.FOLDER: 2,
    addr.Kind.FOLDER_GROUP: 3,
    addr.Kind.ITEM: 4,
    addr.Kind.DATASET: 5,
    addr.Kind.DATASET_GROUP: 6,
    addr.Kind.DATASET_USER: 7,
    addr.Kind.LINK: 8,
}
_DELETE_RANK: dict[str, int] = {addr.Kind.ITEM: 0, addr.Kind.FOLDER: 1, addr.Kind.GROUP: 2}


def _segments(address: str) -> tuple[str, ...]:
    key = address.partition(":")[2]
    return tuple(key.replace("#", "/#").split("/"))


def _key(change: Change) -> tuple[object, ...]:
    return (_KIND_RANK.get(change.kind, 9), _segments(change.address), change.address)


def ordered(changes: Iterable[Change]) -> tuple[Change, ...]:
    replaces: list[Change] = []
    deletes: dict[int, list[Change]] = {}
    removals: list[Change] = []
    rest: list[Change] = []
    for change in changes:
        if change.is_replace:
            replaces.append(change)
        elif change.is_delete:
            deletes.setdefault(_DELETE_RANK.get(change.kind, 3), []).append(change)
        elif change.is_removal:
            removals.append(change)
        else:
            rest.append(change)
    out = sorted(replaces, key=_key)
    for rank in sorted(deletes):
        # Reverse tree order: every child sorts after its parent, so reversed it comes first.
        out.extend(
            sorted(deletes[rank], key=lambda c: (_segments(c.address), c.address), reverse=True)
        )
    out.extend(sorted(removals, key=_key))
    out.extend(sorted(rest, key=_key))
    return tuple(out)


def only(changes: list[Change], patterns: tuple[str, ...]) -> list[Change]:
    """Changes matching any glob (on address or previous address) and what they depend on."""
    if not patterns:
        return changes
    globs = [compile_glob(p) for p in patterns]
    by_address = {c.address: c for c in changes}
    keep: set[str] = set()
    stack = [
        c.address
        for c in changes
        if any(
            g.match(c.address) or (c.previous_address and g.match(c.previous_address))
            for g in globs
        )
    ]
    while stack:
        address = stack.pop()
        if address in keep or address not in by_address:
            continue
        keep.add(address)
        stack.extend(by_address[address].depends_on)
    return [c for c in changes if c.address in keep]
