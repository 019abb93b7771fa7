"""Live items by their projected path: what item rules, manifests and dataset selectors see.

Built once per plan in one pass over the items (a million is fine). Left out: tombstones and
placeholders (nothing to manage on them), items in folders this plan deletes or replaces,
items under ambiguous folder paths, and items outside ``item_roots`` when given. Items that
share a path (the API allows it) are in ``duplicates`` and out of ``by_path``: a path
that names two items cannot be planned by path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, ValuesView
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.compact import place_values
from reconciler.model.live import LiveItem
from reconciler.plan.context import Context
from reconciler.plan.model import Refusal
from reconciler.plan.tree import Tree

_NAME = attrgetter("name")


@dataclass(slots=True)
class ItemIndex:
    """``by_path`` and ``path_of`` are views, not dicts: a projected path per item (and two
    dict entries for it) cost about 190 bytes an item at ten million items. A path is its
    folder's projected path and the item's name, unless a manifest moved it (``moves``)."""

    live: Mapping[str, LiveItem] = field(default_factory=dict)  # uuid -> item, as read
    by_parent: Mapping[str, list[LiveItem]] = field(default_factory=dict)  # as ``Context``
    by_folder: dict[str, list[LiveItem]] = field(default_factory=dict)  # folder path -> items
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # path -> item uuids
    moved_from: dict[str, str] = field(default_factory=dict)  # item uuid -> previous path
    folder_of: dict[str, str] = field(default_factory=dict)  # parent uuid -> projected path
    moves: dict[str, str] = field(default_factory=dict)  # item uuid -> path it moves to
    dropped: set[str] = field(default_factory=set)  # uuids left out by ``drop``
    names: dict[str, dict[str, LiveItem]] = field(default_factory=dict)  # lookups, as made
    # The folders whose list in ``by_folder`` is the index's own: the others are the lists of
    # ``by_parent`` (8 bytes an item not copied), copied before the index edits them.
    owned: set[str] = field(default_factory=set)

    @property
    def by_path(self) -> Mapping[str, LiveItem]:
        """Projected path -> item, without the paths in ``duplicates``."""
        return _ByPath(self)

    @property
    def path_of(self) -> Mapping[str, str]:
        """Item uuid -> projected path, for every item in the index (duplicates too)."""
        return _PathOf(self)

    def path(self, uuid: str) -> str | None:
        moved = self.moves.get(uuid)
        if moved is not None:
            return None if uuid in self.dropped else moved
        item = self.live.get(uuid)
        if item is None or uuid in self.dropped or item.is_tombstone or item.is_placeholder:
            return None
        folder = self.folder_of.get(item.parent)
        return None if folder is None else f"{folder}/{item.name}"

    def folder_names(self, folder: str) -> dict[str, LiveItem] | None:
        """Name (as projected) -> item of one folder, made on the first lookup there."""
        found = self.names.get(folder)
        if found is None:
            items = self.by_folder.get(folder)
            if items is None:
                return None
            cut = len(folder) + 1
            moves = self.moves
            found = self.names[folder] = {
                (moves[i.uuid][cut:] if i.uuid in moves else i.name): i for i in items
            }
        return found

    def own_list(self, folder: str) -> list[LiveItem]:
        """``by_folder[folder]`` (made if missing), the index's own to edit."""
        if folder not in self.owned:
            self.by_folder[folder] = list(self.by_folder.get(folder, ()))
            self.owned.add(folder)
        return self.by_folder[folder]

    def drop(self, uuids: frozenset[str]) -> None:
        """Leave out items this plan deletes one by one (registered items no row lists)."""
        folders: set[str] = set()
        for uuid in uuids:
            path = self.path(uuid)
            if path is None:
                continue
            self.dropped.add(uuid)
            folders.add(path.rsplit("/", 1)[0])
        for folder_path in folders:
            items = self.own_list(folder_path)
            items[:] = [i for i in items if i.uuid not in uuids]
            self.names.pop(folder_path, None)

    def move(self, item: LiveItem, path: str, previous: str) -> None:
        old = self.path(item.uuid)
        assert old is not None  # only items of the index are moved (``place_items``)
        source, target = old.rsplit("/", 1)[0], path.rsplit("/", 1)[0]
        self.own_list(source).remove(item)
        self.own_list(target).append(item)
        self.moves[item.uuid] = path
        self.moved_from[item.uuid] = previous
        self.names.pop(source, None)
        self.names.pop(target, None)


class _ByPath(Mapping[str, LiveItem]):
    __slots__ = ("_index",)

    def __init__(self, index: ItemIndex) -> None:
        self._index = index

    def __getitem__(self, path: str) -> LiveItem:
        # An item name may hold "/": try each split, the last one first (the usual case).
        end = len(path)
        while (cut := path.rfind("/", 0, end)) > 0:
            names = self._index.folder_names(path[:cut])
            if names is not None:
                found = names.get(path[cut + 1 :])
                if found is not None:
                    return found
            end = cut
        raise KeyError(path)

    def __iter__(self) -> Iterator[str]:
        path = self._index.path
        for item in self.values():
            found = path(item.uuid)
            assert found is not None
            yield found

    def __len__(self) -> int:
        return sum(map(len, self._index.by_folder.values()))

    def values(self) -> ValuesView[LiveItem]:
        return _Values(self)


class _Values(ValuesView[LiveItem]):
    def __init__(self, by_path: _ByPath) -> None:
        super().__init__(by_path)
        self._index = by_path._index

    def __iter__(self) -> Iterator[LiveItem]:
        return chain.from_iterable(self._index.by_folder.values())

    def __len__(self) -> int:
        return sum(map(len, self._index.by_folder.values()))


class _PathOf(Mapping[str, str]):
    __slots__ = ("_index", "_path")

    def __init__(self, index: ItemIndex) -> None:
        self._index = index
        self._path = index.path

    def __getitem__(self, uuid: str) -> str:
        found = self._path(uuid)
        if found is None:
            raise KeyError(uuid)
        return found

    def get(self, uuid: str, default: str | None = None) -> str | None:  # type: ignore[override]
        found = self._path(uuid)
        return default if found is None else found

    def __contains__(self, uuid: object) -> bool:
        return isinstance(uuid, str) and self._path(uuid) is not None

    def __iter__(self) -> Iterator[str]:
        index = self._index
        for parent in index.folder_of:
            for item in index.by_parent.get(parent, ()):
                if self._path(item.uuid) is not None:
                    yield item.uuid

    def __len__(self) -> int:
        return sum(1 for _ in self)


def build_index(ctx: Context, tree: Tree, excluded: frozenset[str]) -> ItemIndex:
    """Items by projected path, leaving out those in the ``excluded`` folders (deleted or
    replaced by this plan)."""
    live = ctx.live
    roots = ctx.options.item_roots
    ambiguous = tuple(live.ambiguous)
    index = ItemIndex(live=live.items, by_parent=ctx.items_by_parent)
    for parent, items in ctx.items_by_parent.items():
        if parent in excluded:
            continue
        folder_path = tree.path_of.get(parent) or items[0].folder_path
        if ambiguous and _under_ambiguous(ctx, parent, items[0].folder_path, ambiguous):
            continue
        if roots is not None and not any(is_under(folder_path, r) for r in roots):
            continue
        if True in place_values(items, "is_tombstone") or True in place_values(
            items, "is_placeholder"
        ):
            planned = [i for i in items if not (i.is_tombstone or i.is_placeholder)]
        else:  # the usual folder: all of them, in ``by_parent``'s list (see ``owned``)
            planned = items
        if not planned:
            continue
        index.folder_of[parent] = folder_path
        if folder_path in index.by_folder:
            # Two parents at one projected path (not in a plan the tree allows): one folder.
            index.own_list(folder_path).extend(planned)
            continue
        index.by_folder[folder_path] = planned
        if planned is not items:
            index.owned.add(folder_path)
    for folder_path, planned in list(index.by_folder.items()):
        names = list(map(_NAME, planned))
        if len(set(names)) < len(names):
            _set_duplicates(index, folder_path, planned)
    return index


def _set_duplicates(index: ItemIndex, folder_path: str, planned: list[LiveItem]) -> None:
    """Names several items share: their paths go to ``duplicates``, their items out of
    ``by_folder``."""
    seen: dict[str, list[str]] = {}
    for item in planned:
        seen.setdefault(item.name, []).append(item.uuid)
    shared = {name for name, uuids in seen.items() if len(uuids) > 1}
    for name in sorted(shared):
        index.duplicates[f"{folder_path}/{name}"] = sorted(seen[name])
    index.own_list(folder_path)[:] = [i for i in planned if i.name not in shared]


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
