"""A pure in-memory Encord organisation, and its live state as ``read_live`` would return it.

What is left of the simulator that once applied plans too: applying is the real engine's
(``tests/test_plan_properties.py`` applies to this organisation made real in an embedded
sandbox, ``helpers.provision``). What stays is what the real engine cannot give:

* a ``LiveState`` with no I/O (``Org.live_state(roots)``), so the planner-only tests and
  properties plan for hundreds of organisations a second;
* the description of an organisation that ``helpers.strategies`` generates and
  ``helpers.provision`` writes into a sandbox (``buckets`` become the integration's files).

``tests/test_plan_properties.py::test_the_fake_reads_back_like_the_sandbox`` checks that
``live_state`` agrees with the real reader on the same organisation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.live.scope import Scope
from reconciler.model.addresses import is_under, join_path
from reconciler.model.live import (
    LiveCollection,
    LiveDataRow,
    LiveDataset,
    LiveFolder,
    LiveFolderConfig,
    LiveGroup,
    LiveIntegration,
    LiveItem,
    LiveState,
    LiveTag,
    LiveUser,
)

CALLER = "tool@example.com"


@dataclass
class Folder:
    uuid: str
    parent: str | None
    name: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    folder_type: str = "generic"
    integration_uuid: str | None = None
    remote_url: str | None = None
    edited: str = ""


@dataclass
class Item:
    uuid: str
    parent: str
    name: str
    item_type: str = "image"
    metadata: dict[str, Any] = field(default_factory=dict)
    edited: str = ""
    url: str | None = None


@dataclass
class Group:
    hash: str
    name: str
    description: str = ""
    members: set[str] = field(default_factory=set)


@dataclass
class Dataset:
    uuid: str
    title: str
    description: str = ""
    groups: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)  # data hash -> item uuid
    edited: str = ""


@dataclass
class Collection:
    uuid: str
    folder: str  # the top-level folder's uuid
    name: str
    description: str = ""
    members: set[str] = field(default_factory=set)  # item uuids
    edited: str = ""


@dataclass
class Org:
    folders: dict[str, Folder] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    folder_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    integrations: dict[str, str] = field(default_factory=dict)  # uuid -> title
    users: dict[str, str] = field(default_factory=lambda: {CALLER: "ADMIN"})
    schema: dict[str, Any] | None = None
    buckets: dict[str, list[str]] = field(default_factory=dict)  # remote url -> file paths
    folder_configs: dict[str, LiveFolderConfig] = field(default_factory=dict)  # folder uuid ->
    tags: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # uuid -> name, text
    collections: dict[str, Collection] = field(default_factory=dict)
    clock: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- building -------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids):04d}"

    def tick(self) -> str:
        return f"2026-01-01T00:00:00.{next(self.clock):06d}+00:00"

    def add_folder(self, parent: str | None, name: str, **fields: Any) -> str:
        uuid = self.new_id("f")
        self.folders[uuid] = Folder(uuid, parent, name, edited=self.tick(), **fields)
        return uuid

    def add_item(self, parent: str, name: str, **fields: Any) -> str:
        uuid = self.new_id("i")
        self.items[uuid] = Item(uuid, parent, name, edited=self.tick(), **fields)
        return uuid

    def path_of(self, uuid: str) -> str:
        folder = self.folders[uuid]
        if folder.parent is None:
            return "/" + folder.name
        return join_path(self.path_of(folder.parent), folder.name)

    # --- reading (what read_live returns) ----------------------------------------------------

    def live_state(
        self, roots: Iterable[str], *, target: str = "simulator", scope: Scope | None = None
    ) -> LiveState:
        """``scope``: which top-level folders' collections are listed and whose members are
        read, as ``read_live`` under that scope (none without one)."""
        roots = tuple(roots)
        collections, collection_folders = self._collections(scope)
        paths = {uuid: self.path_of(uuid) for uuid in self.folders}
        in_scope = {u for u, p in paths.items() if any(is_under(p, r) for r in roots)}
        # Like the reader: every folder at each root path's ancestor paths, found or not.
        prefixes = {p for r in roots for p in _prefixes(r)}
        ancestors = {u for u, p in paths.items() if p in prefixes}
        read = in_scope | ancestors
        folders = {u: self._live_folder(u, paths[u]) for u in sorted(read)}
        ambiguous = self._ambiguous(read, paths, roots)
        items = {
            i.uuid: self._live_item(i, paths[i.parent])
            for i in self.items.values()
            if i.parent in in_scope
        }
        return LiveState(
            target=target,
            scope=roots,
            missing_roots=tuple(r for r in roots if r not in paths.values()),
            folders=folders,
            paths={
                f.path: f.uuid
                for f in folders.values()
                if not any(is_under(f.path, a) for a in ambiguous)
            },
            ambiguous=ambiguous,
            items=items,
            folder_groups={u: dict(self.folder_groups.get(u, {})) for u in sorted(in_scope)},
            groups={
                g.hash: LiveGroup(g.hash, g.name, g.description, tuple(sorted(g.members)))
                for g in self.groups.values()
            },
            datasets={d.uuid: self._live_dataset(d) for d in self.datasets.values()},
            integrations={u: LiveIntegration(u, t) for u, t in self.integrations.items()},
            users={e: LiveUser(e, r) for e, r in self.users.items()},
            metadata_schema=None if self.schema is None else dict(self.schema),
            organisation_tags={u: LiveTag(u, n, d) for u, (n, d) in self.tags.items()},
            listing_counts={r: self._listed(r, in_scope, paths) for r in roots},
            folder_configs={u: c for u, c in self.folder_configs.items() if u in in_scope},
            collections=collections,
            collection_folders=collection_folders,
        )

    def _collections(self, scope: Scope | None) -> tuple[dict[str, LiveCollection], dict[str, str]]:
        """As ``live.collections`` reads them: each top-level folder of the scope found by
        name (a name two top-level folders share is not read), its collections listed, the
        members read of those the scope wants."""
        collections: dict[str, LiveCollection] = {}
        folders: dict[str, str] = {}
        for path in scope.collection_folders if scope is not None else ():
            named = [
                u for u, f in self.folders.items() if f.parent is None and "/" + f.name == path
            ]
            if len(named) > 1:
                continue
            folders[path] = named[0] if named else ""
            for c in self.collections.values():
                if named and c.folder == named[0]:
                    wanted = scope is not None and scope.wants_collection(c.name)
                    members = tuple(sorted(c.members & self.items.keys())) if wanted else None
                    collections[c.uuid] = LiveCollection(
                        c.uuid, path, c.name, c.description, c.edited, members
                    )
        return collections, folders

    def _listed(self, root: str, in_scope: set[str], paths: dict[str, str]) -> int:
        """What the reader's listing of ``root`` returns: the folders below each folder at
        that path (not those folders themselves) and every item under them."""
        below = sum(1 for u in in_scope if paths[u] != root and is_under(paths[u], root))
        items = sum(1 for i in self.items.values() if is_under(paths[i.parent], root))
        return below + items

    def _ambiguous(
        self, read: set[str], paths: dict[str, str], roots: tuple[str, ...]
    ) -> dict[str, tuple[str, ...]]:
        """As the reader finds them: a root or an ancestor of one that names several folders
        (it resolves those path by path), and below a root, siblings sharing a name."""
        resolved = {p for r in roots for p in (*_prefixes(r), r)}
        groups: dict[tuple[str, str | None], set[str]] = {}
        for uuid in read:
            path = paths[uuid]
            key = (path, None) if path in resolved else (path, self.folders[uuid].parent)
            groups.setdefault(key, set()).add(uuid)
        out: dict[str, set[str]] = {}
        for (path, _), uuids in groups.items():
            if len(uuids) > 1:
                out.setdefault(path, set()).update(uuids)
        return {p: tuple(sorted(u)) for p, u in sorted(out.items())}

    def _live_folder(self, uuid: str, path: str) -> LiveFolder:
        f = self.folders[uuid]
        return LiveFolder(
            uuid=uuid,
            parent=f.parent,
            name=f.name,
            path=path,
            description=f.description,
            metadata=dict(f.metadata),
            last_edited_at=f.edited,
            folder_type=f.folder_type,
            integration_uuid=f.integration_uuid,
            remote_url=f.remote_url,
        )

    def _live_item(self, item: Item, folder_path: str) -> LiveItem:
        return LiveItem(
            uuid=item.uuid,
            parent=item.parent,
            folder_path=folder_path,
            name=item.name,
            item_type=item.item_type,
            metadata=dict(item.metadata),
            last_edited_at=item.edited,
            url=item.url,
        )

    def _live_dataset(self, d: Dataset) -> LiveDataset:
        return LiveDataset(
            uuid=d.uuid,
            title=d.title,
            description=d.description,
            last_edited_at=d.edited,
            groups=dict(d.groups),
            users=dict(d.users),
            rows=tuple(LiveDataRow(h, i) for h, i in sorted(d.rows.items())),
        )


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(1, len(parts))]
