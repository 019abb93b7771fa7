"""Deterministic order of changes, and ``--only``.

Order: replacements, then deletes (by the kind's delete rank: items, folders children before
parents, groups), then relations removed outright (unlinks, revokes), then everything else
by the kind's display rank (schema, groups, folders parents first, folder grants, items,
datasets, dataset grants, links) and path. Equal inputs give byte-equal plans.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

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
    # Which list a change goes to depends on its actions and kind alone (``is_replace``,
    # ``is_delete``, ``is_removal``), and a plan holds a handful of those pairs: each is
    # judged once, not a few sets of actions made per change.
    places: dict[tuple[object, ...], list[Change]] = {}
    for change in changes:
        key = (change.actions, change.kind)
        place = places.get(key)
        if place is None:
            place = places[key] = _place(change, replaces, deletes, removals, rest)
        place.append(change)
    out = _sorted(replaces)
    for rank in sorted(deletes):
        # Reverse tree order: every child sorts after its parent, so reversed it comes first.
        out.extend(
            sorted(deletes[rank], key=lambda c: (sort_text(c.address), c.address), reverse=True)
        )
    out.extend(_sorted(removals))
    out.extend(_sorted(rest))
    return tuple(out)


def _sorted(changes: list[Change]) -> list[Change]:
    """``sorted(changes, key=_key)``, a display rank at a time, by the key string alone
    where the rank holds one kind (every rank does today): within a kind ``sort_text`` is
    one-to-one, so the address never decides, and the key tuple (64 bytes a change, at the
    plan's peak) is not needed."""
    by_rank: dict[int, list[Change]] = {}
    for change in changes:
        by_rank.setdefault(spec_of(change.kind).display_rank, []).append(change)
    out: list[Change] = []
    for rank in sorted(by_rank):
        group = by_rank[rank]
        one_kind = len({change.kind for change in group}) == 1
        out.extend(_by_text(group) if one_kind else sorted(group, key=_key))
    return out


def _by_text(changes: list[Change]) -> list[Change]:
    """``sorted(changes, key=_text)`` for changes of one kind, sorted first by the address
    itself, which needs no key string made (about 85 bytes a change at the plan's peak).
    The key strings are distinct within a kind, so if that order is strictly increasing in
    them too (checked pair by pair, one key string at a time) it is the only such order;
    otherwise (a segment that sorts before "/" where one is a prefix of another, as "a"
    and "a-b") the changes are sorted by their key strings."""
    found = sorted(changes, key=_ADDRESS)
    texts = map(_text, found)
    previous = next(texts, None)
    for text in texts:
        if not previous < text:  # type: ignore[operator]
            return sorted(changes, key=_text)
        previous = text
    return found


def _text(change: Change) -> str:
    return sort_text(change.address)


_ADDRESS = attrgetter("address")


def _place(
    change: Change,
    replaces: list[Change],
    deletes: dict[int, list[Change]],
    removals: list[Change],
    rest: list[Change],
) -> list[Change]:
    if change.is_replace:
        return replaces
    if change.is_delete:
        return deletes.setdefault(spec_of(change.kind).delete_rank, [])
    return removals if change.is_removal else rest


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
