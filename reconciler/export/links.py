"""Which item selectors describe a dataset's links under the exported roots.

A folder whose whole subtree is linked becomes ``{folder: F, recursive: true}``; a folder whose
direct items are all linked becomes ``{folder: F}``; any other linked item is listed by path in
a manifest. "All" counts every item the listing returned, tombstones included, so a selector
never selects an item that is not linked, whatever the planner does with tombstones. Folders
under an ambiguous path are left out: their paths cannot be declared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.config.paths import is_path
from reconciler.model.live import LiveFolder, LiveItem


@dataclass(frozen=True, slots=True)
class Selection:
    folders: tuple[tuple[str, bool], ...]  # (folder path, recursive)
    paths: tuple[str, ...]  # item paths for the manifest
    skipped: int  # linked items whose path is not unique in their folder


@dataclass(frozen=True, slots=True)
class TreeIndex:
    """The exported tree, indexed once and shared by every dataset's selection."""

    root_uuids: tuple[str, ...]
    children: Mapping[str, tuple[str, ...]]  # folder uuid -> child folder uuids
    items: Mapping[str, tuple[LiveItem, ...]]  # folder uuid -> direct items
    folders: Mapping[str, LiveFolder]
    duplicate_items: frozenset[str]  # uuids of items no path names (shared, or unholdable)
    blocked: frozenset[str]  # folders under an ambiguous path: never selected, never "full"

    @classmethod
    def build(
        cls,
        folders: Mapping[str, LiveFolder],
        items: Mapping[str, LiveItem],
        roots: list[str],
        blocked: frozenset[str] = frozenset(),
    ) -> TreeIndex:
        children: dict[str, list[str]] = defaultdict(list)
        for folder in folders.values():
            if folder.parent is not None and folder.parent in folders:
                children[folder.parent].append(folder.uuid)
        by_folder: dict[str, list[LiveItem]] = defaultdict(list)
        by_path: dict[str, list[str]] = defaultdict(list)
        for item in items.values():
            if item.parent in folders:
                by_folder[item.parent].append(item)
                by_path[item.path].append(item.uuid)
        # an item no manifest can name: its path is another item's too, or holds a control
        # character a config path cannot
        duplicates = frozenset(
            u for path, same in by_path.items() if len(same) > 1 or not is_path(path) for u in same
        )
        return cls(
            root_uuids=tuple(sorted(u for u in roots if u in folders)),
            children={
                k: tuple(sorted(v, key=lambda u: folders[u].path)) for k, v in children.items()
            },
            items={k: tuple(sorted(v, key=lambda i: i.path)) for k, v in by_folder.items()},
            folders=folders,
            duplicate_items=duplicates,
            blocked=blocked,
        )


def select(index: TreeIndex, linked: set[str]) -> Selection:
    """Selectors covering exactly the linked items of the exported tree (``linked``: uuids)."""
    total, count = _counts(index, linked)
    folders: list[tuple[str, bool]] = []
    paths: list[str] = []
    skipped = 0
    stack = list(reversed(index.root_uuids))
    while stack:
        uuid = stack.pop()
        path = index.folders[uuid].path
        if count[uuid] == 0 or uuid in index.blocked:
            continue
        if count[uuid] == total[uuid]:
            folders.append((path, True))
            continue
        direct = index.items.get(uuid, ())
        if direct and all(i.uuid in linked for i in direct):
            folders.append((path, False))
        else:
            for item in direct:
                if item.uuid not in linked:
                    continue
                if item.uuid in index.duplicate_items:
                    skipped += 1
                else:
                    paths.append(item.path)
        stack.extend(reversed(index.children.get(uuid, ())))
    return Selection(tuple(folders), tuple(paths), skipped)


def _counts(index: TreeIndex, linked: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Items and linked items per subtree, computed children-first without recursion."""
    order: list[str] = []
    stack = list(index.root_uuids)
    while stack:
        uuid = stack.pop()
        order.append(uuid)
        stack.extend(index.children.get(uuid, ()))
    total: dict[str, int] = {}
    count: dict[str, int] = {}
    for uuid in reversed(order):
        direct = index.items.get(uuid, ())
        total[uuid] = len(direct) + sum(total[c] for c in index.children.get(uuid, ()))
        mine = 0 if uuid in index.blocked else sum(1 for i in direct if i.uuid in linked)
        count[uuid] = mine + sum(count[c] for c in index.children.get(uuid, ()))
    return total, count
