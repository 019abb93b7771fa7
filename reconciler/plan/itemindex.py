"""Live items by their projected path: what item rules, manifests and dataset selectors see.

Built once per plan in one pass over the items (a million is fine). Left out: tombstones and
placeholders (nothing to manage on them), items in folders this plan deletes or replaces,
items under ambiguous folder paths, and items outside ``item_roots`` when given. Items that
share a path (the API allows it) are in ``duplicates`` and out of ``by_path``: a path
that names two items cannot be planned by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.live import LiveItem
from reconciler.plan.context import Context
from reconciler.plan.model import Refusal
from reconciler.plan.tree import Tree

_UUID, _NAME = attrgetter("uuid"), attrgetter("name")
_TOMBSTONE, _PLACEHOLDER = attrgetter("is_tombstone"), attrgetter("is_placeholder")


@dataclass(slots=True)
class ItemIndex:
    by_path: dict[str, LiveItem] = field(default_factory=dict)
    path_of: dict[str, str] = field(default_factory=dict)  # item uuid -> projected path
    by_folder: dict[str, list[LiveItem]] = field(default_factory=dict)  # folder path -> items
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # path -> item uuids
    moved_from: dict[str, str] = field(default_factory=dict)  # item uuid -> previous path

    def drop(self, uuids: frozenset[str]) -> None:
        """Leave out items this plan deletes one by one (registered items no row lists)."""
        folders: set[str] = set()
        for uuid in uuids:
            path = self.path_of.pop(uuid, None)
            if path is None:
                continue
            found = self.by_path.get(path)
            if found is not None and found.uuid == uuid:
                del self.by_path[path]
            folders.add(path.rsplit("/", 1)[0])
        for folder_path in folders:
            items = self.by_folder[folder_path]
            items[:] = [i for i in items if i.uuid not in uuids]

    def move(self, item: LiveItem, path: str, previous: str) -> None:
        old = self.path_of[item.uuid]
        self.by_path.pop(old, None)
        self.by_folder[old.rsplit("/", 1)[0]].remove(item)
        self.by_path[path] = item
        self.path_of[item.uuid] = path
        self.by_folder.setdefault(path.rsplit("/", 1)[0], []).append(item)
        self.moved_from[item.uuid] = previous


def build_index(ctx: Context, tree: Tree, excluded: frozenset[str]) -> ItemIndex:
    """Items by projected path, leaving out those in the ``excluded`` folders (deleted or
    replaced by this plan)."""
    live = ctx.live
    roots = ctx.options.item_roots
    ambiguous = tuple(live.ambiguous)
    index = ItemIndex()
    by_path, path_of, dups = index.by_path, index.path_of, index.duplicates
    for parent, items in ctx.items_by_parent.items():
        if parent in excluded:
            continue
        folder_path = tree.path_of.get(parent) or items[0].folder_path
        if ambiguous and _under_ambiguous(ctx, parent, items[0].folder_path, ambiguous):
            continue
        if roots is not None and not any(is_under(folder_path, r) for r in roots):
            continue
        if any(map(_TOMBSTONE, items)) or any(map(_PLACEHOLDER, items)):
            planned = [i for i in items if not (i.is_tombstone or i.is_placeholder)]
        else:  # the usual folder: all of them (a copy: the index edits its lists)
            planned = list(items)
        if not planned:
            continue
        index.by_folder[folder_path] = planned
        paths = list(map(f"{folder_path}/".__add__, map(_NAME, planned)))
        path_of.update(zip(map(_UUID, planned), paths, strict=True))
        fresh = set(paths)
        if (
            len(fresh) == len(paths)
            and by_path.keys().isdisjoint(fresh)
            and dups.keys().isdisjoint(fresh)
        ):  # no path shared: the whole folder at once, as the loop below would add it
            by_path.update(zip(paths, planned, strict=True))
            continue
        for item, path in zip(planned, paths, strict=True):
            other = by_path.pop(path, None)
            if other is not None:
                dups[path] = [other.uuid, item.uuid]
            elif path in dups:
                dups[path].append(item.uuid)
            else:
                by_path[path] = item
    for path, uuids in dups.items():
        uuids.sort()
        folder = index.by_folder[path.rsplit("/", 1)[0]]
        folder[:] = [i for i in folder if path_of[i.uuid] != path]
    return index


def _under_ambiguous(
    ctx: Context, parent: str, folder_path: str, ambiguous: tuple[str, ...]
) -> bool:
    folder = ctx.live.folders.get(parent)
    path = folder.path if folder is not None else folder_path
    return any(is_under(path, a) for a in ambiguous)


def _covered(ctx: Context, path: str) -> bool:
    folder = path.rsplit("/", 1)[0]
    desired = ctx.desired
    if any(
        r.folder == folder or (r.recursive and is_under(folder, r.folder)) for r in desired.rules
    ):
        return True
    if any(path in m.entries.rows for m in desired.manifests):
        return True
    for ds in desired.datasets.values():
        for sel in ds.items:
            if path in sel.paths:
                return True
            if sel.folder is not None and (
                sel.folder == folder or (sel.recursive and is_under(folder, sel.folder))
            ):
                return True
    return False


def duplicate_paths(ctx: Context, index: ItemIndex) -> tuple[Refusal, ...]:
    """``ambiguous-item``: item paths the config refers to that several items share; their
    metadata and links are not planned (the index leaves them out), and this says so."""
    hits = sorted(p for p in index.duplicates if _covered(ctx, p))
    if not hits:
        return ()
    first = hits[0]
    return (
        Refusal(
            code="ambiguous-item",
            message=(
                f"{len(hits)} item paths are shared by several items (e.g. {first}: "
                f"{', '.join(index.duplicates[first])}); their metadata and dataset links are "
                "not planned. Rename or remove the duplicates in Encord, then plan again"
            ),
            addresses=tuple(addr.item(p) for p in hits),
            count=sum(len(index.duplicates[p]) for p in hits),
        ),
    )
