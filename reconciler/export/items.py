"""Item metadata as the config declares it: rules for what a folder's items share, manifest
rows for the rest (``--items rules``), a row per item (``manifest``), or nothing (``none``).

A rule ``{folder: F, metadata: M}`` (``recursive: true`` for a subtree) is written only when
every item it selects already carries every key-value of ``M``, so it plans no change. The
planner leaves tombstones, placeholders and items under ambiguous paths alone, so they are
not considered; a subtree holding an ambiguous folder gets no recursive rule (its items would
be selected once the ambiguity is resolved). Rules nest without overlap: a rule below another
declares only keys the one above does not, and a row lists only what no rule covers (rows
win over rules anyway). A rule also applies to items added to its folder later: that is
what ``rules`` means, and why ``manifest`` exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.export.links import TreeIndex
from reconciler.export.ownership import declarable_metadata
from reconciler.model.live import LiveItem
from reconciler.plan.canonical import equivalent

ItemsMode = Literal["rules", "manifest", "none"]
ITEMS_MODES: tuple[ItemsMode, ...] = ("rules", "manifest", "none")
MIN_ITEMS_PER_RULE = 2  # one item is better said by its own row

# key -> value shared; None: no items seen yet (the neutral element)
_Common = dict[str, Any] | None


@dataclass(slots=True)
class ItemMetadata:
    rules: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    items: int = 0  # items whose metadata is declared (by a rule or a row)
    undeclared: int = 0  # items sharing a path whose metadata no rule covers


def item_metadata(index: TreeIndex, mode: ItemsMode) -> ItemMetadata:
    out = ItemMetadata()
    if mode == "none":
        return out
    subtree = _subtree_commons(index) if mode == "rules" else {}
    stack: list[tuple[str, dict[str, Any]]] = [(u, {}) for u in reversed(index.root_uuids)]
    while stack:
        uuid, covered = stack.pop()
        if uuid in index.blocked:
            continue
        children = index.children.get(uuid, ())
        if mode == "rules":
            covered = _rule(out, index, uuid, subtree.get(uuid), covered, recursive=True)
        _direct(out, index, uuid, covered, rules=mode == "rules")
        stack.extend((c, covered) for c in reversed(children))
    out.rows.sort(key=lambda row: row["path"])
    return out


def _direct(
    out: ItemMetadata,
    index: TreeIndex,
    uuid: str,
    covered: dict[str, Any],
    *,
    rules: bool,
) -> None:
    items = _planned(index.items.get(uuid, ()))
    if rules:
        common = _common_of(items) if len(items) >= MIN_ITEMS_PER_RULE else None
        covered = _rule(out, index, uuid, (len(items), common), covered, recursive=False)
    for item in items:
        rest = {k: v for k, v in declarable_metadata(item.metadata).items() if k not in covered}
        if covered or rest:
            out.items += 1
        if not rest:
            continue
        if item.uuid in index.duplicate_items:
            out.undeclared += 1
        else:
            out.rows.append({"path": item.path, "metadata": rest})


def _rule(
    out: ItemMetadata,
    index: TreeIndex,
    uuid: str,
    found: tuple[int, _Common] | None,
    covered: dict[str, Any],
    *,
    recursive: bool,
) -> dict[str, Any]:
    """Write a rule for the keys ``found`` adds to ``covered``; returns what is covered now."""
    if found is None or found[0] < MIN_ITEMS_PER_RULE or not found[1]:
        return covered
    extra = {k: v for k, v in found[1].items() if k not in covered}
    if not extra:
        return covered
    rule: dict[str, Any] = {"folder": index.folders[uuid].path}
    if recursive:
        rule["recursive"] = True
    rule["metadata"] = dict(sorted(extra.items()))
    out.rules.append(rule)
    return {**covered, **extra}


def _subtree_commons(index: TreeIndex) -> dict[str, tuple[int, _Common]]:
    """Per folder whose items are spread over its subtree: (items in the subtree, key-values
    all of them share)."""
    order: list[str] = []
    stack = list(index.root_uuids)
    while stack:
        uuid = stack.pop()
        order.append(uuid)
        stack.extend(index.children.get(uuid, ()))
    counts: dict[str, int] = {}
    commons: dict[str, _Common] = {}
    blocked: set[str] = set()
    for uuid in reversed(order):  # children first
        children = index.children.get(uuid, ())
        direct = _planned(index.items.get(uuid, ()))
        counts[uuid] = len(direct) + sum(counts[c] for c in children)
        common = _common_of(direct)
        for child in children:
            common = _intersect(common, commons[child])
        commons[uuid] = common
        if uuid in index.blocked or any(c in blocked for c in children):
            blocked.add(uuid)
    return {
        uuid: (counts[uuid], commons[uuid])
        for uuid in order
        if uuid not in blocked and _spread(index, uuid, counts)
    }


def _spread(index: TreeIndex, uuid: str, counts: Mapping[str, int]) -> bool:
    """Items in more than one place among the folder itself and its child subtrees: else the
    rule belongs further down, on the narrowest folder that holds them all."""
    direct = len(_planned(index.items.get(uuid, ())))
    places = (direct > 0) + sum(1 for c in index.children.get(uuid, ()) if counts[c] > 0)
    return places > 1


def _planned(items: tuple[LiveItem, ...]) -> list[LiveItem]:
    return [i for i in items if not (i.is_tombstone or i.is_placeholder)]


def _common_of(items: list[LiveItem]) -> _Common:
    common: _Common = None
    for item in items:
        common = _intersect(common, item.metadata)
        if not common:
            break
    return common


def _intersect(common: _Common, metadata: Mapping[str, Any] | None) -> _Common:
    """The key-values both share, compared as the planner compares them (``1`` and ``1.0``
    are one value, ``True`` and ``1`` are not)."""
    if metadata is None:
        return common
    if common is None:
        return declarable_metadata(metadata)
    return {k: v for k, v in common.items() if k in metadata and equivalent(metadata[k], v)}
