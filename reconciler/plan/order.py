"""Deterministic order of changes, and ``--only``.

Order: replacements, then deletes (by the kind's delete rank: items, folders children before
parents, groups), then relations removed outright (unlinks, revokes), then everything else
by the kind's display rank (schema, groups, folders parents first, folder grants, items,
datasets, dataset grants, links) and path. Equal inputs give byte-equal plans.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.kinds import spec_of
from reconciler.model.addresses import sort_text
from reconciler.model.globs import compile_glob
from reconciler.plan.model import Change, dependencies


def _key(change: Change) -> tuple[object, ...]:
    return (spec_of(change.kind).display_rank, sort_text(change.address), change.address)


def ordered(changes: Iterable[Change]) -> tuple[Change, ...]:
    replaces: list[Change] = []
    deletes: dict[int, list[Change]] = {}
    removals: list[Change] = []
    rest: list[Change] = []
    for change in changes:
        if change.is_replace:
            replaces.append(change)
        elif change.is_delete:
            deletes.setdefault(spec_of(change.kind).delete_rank, []).append(change)
        elif change.is_removal:
            removals.append(change)
        else:
            rest.append(change)
    out = sorted(replaces, key=_key)
    for rank in sorted(deletes):
        # Reverse tree order: every child sorts after its parent, so reversed it comes first.
        out.extend(
            sorted(deletes[rank], key=lambda c: (sort_text(c.address), c.address), reverse=True)
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
    matched = (
        c.address
        for c in changes
        if any(
            g.match(c.address) or (c.previous_address and g.match(c.previous_address))
            for g in globs
        )
    )
    keep = dependencies(matched, by_address)
    return [c for c in changes if c.address in keep]
