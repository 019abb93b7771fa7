"""A pure in-memory Encord organisation that applies a ``Plan`` the way the real API would.

It is the reference executor of the ``Change`` contract (``reconciler.plan.model``): it uses
nothing but each change's ``actions``, ``refs``, ``after``/``before`` and ``depends_on``, and
it behaves like the API where that matters for convergence:

* creating a group makes the caller its first member; creating a dataset makes the caller an
  admin user of it; adding an existing dataset user keeps the old role;
* PATCH metadata replaces the whole object; a folder that is not empty cannot be deleted;
* deleting an item removes the dataset rows it backs; a cloud sync creates sub-folders and
  items from the "bucket" (``Org.buckets``), which carry no ownership marker;
* every write bumps ``lastEditedAt``; apply refuses a change whose fingerprint is stale.

``Org.live_state(roots)`` reads it back like ``reconciler.live.read_live`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, join_path
from reconciler.model.desired import DesiredState
from reconciler.model.live import (
    LiveDataRow,
    LiveDataset,
    LiveFolder,
    LiveGroup,
    LiveIntegration,
    LiveItem,
    LiveState,
    LiveUser,
    content_fingerprint,
)
from reconciler.plan import Action, Change, DiffOptions, Plan, diff

CALLER = "tool@example.com"
_EXTENSIONS = {"jpg": "image", "png": "image", "mp4": "video", "txt": "plainText", "wav": "audio"}


class StaleError(AssertionError):
    """A change's fingerprint does not match the object any more."""


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

    def live_state(self, roots: Iterable[str], *, target: str = "simulator") -> LiveState:
        roots = tuple(roots)
        paths = {uuid: self.path_of(uuid) for uuid in self.folders}
        in_scope = {u for u, p in paths.items() if any(is_under(p, r) for r in roots)}
        # Like the reader: every folder at each root path's ancestor paths, found or not.
        prefixes = {p for r in roots for p in _prefixes(r)}
        ancestors = {u for u, p in paths.items() if p in prefixes}
        read = in_scope | ancestors
        folders = {u: self._live_folder(u, paths[u]) for u in sorted(read)}
        ambiguous = self._ambiguous(read, paths)
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
            listing_counts={r: sum(1 for u in in_scope if is_under(paths[u], r)) for r in roots},
        )

    def _ambiguous(self, read: set[str], paths: dict[str, str]) -> dict[str, tuple[str, ...]]:
        by_path: dict[str, list[str]] = {}
        for uuid in read:
            by_path.setdefault(paths[uuid], []).append(uuid)
        return {p: tuple(sorted(u)) for p, u in sorted(by_path.items()) if len(u) > 1}

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

    # --- applying ---------------------------------------------------------------------------

    def apply(self, plan: Plan, desired: DesiredState | None = None) -> None:
        """Execute every change (phases, dependencies first), then re-plan deferred folders."""
        Executor(self, plan).run()
        if plan.deferred and desired is not None:
            roots = tuple(d.folder for d in plan.deferred)
            live = self.live_state(desired.roots())
            again = diff(desired, live, options=DiffOptions(item_roots=roots, force=True))
            Executor(self, again).run()


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(1, len(parts))]


_PHASES = (
    "schema", "group", "folder-create", "folder-patch", "folder-move", "item-move", "item-patch",
    "dataset", "grant", "link", "unlink", "revoke", "item-delete", "folder-delete", "group-delete",
)  # fmt: skip


def phase_of(change: Change) -> str:
    kind, acts = change.kind, set(change.actions)
    if kind == addr.Kind.METADATA_SCHEMA:
        return "schema"
    if kind == addr.Kind.GROUP:
        return "group-delete" if change.is_delete else "group"
    if kind == addr.Kind.FOLDER:
        if change.is_delete:
            return "folder-delete"
        if Action.CREATE in acts:
            return "folder-create"
        return "folder-move" if Action.MOVE in acts else "folder-patch"
    if kind == addr.Kind.ITEM:
        if change.is_delete:
            return "item-delete"
        return "item-move" if Action.MOVE in acts else "item-patch"
    if kind == addr.Kind.DATASET:
        return "dataset"
    if kind == addr.Kind.LINK:
        return "link" if Action.LINK in acts else "unlink"
    return "revoke" if acts == {Action.REVOKE} else "grant"


class Executor:
    def __init__(self, org: Org, plan: Plan) -> None:
        self.org = org
        self.plan = plan
        self.by_address = {c.address: c for c in plan.changes}
        self.created: dict[str, str] = {}  # address -> new uuid/hash
        self.done: set[str] = set()

    def run(self) -> None:
        for phase in _PHASES:
            for change in self.plan.changes:
                if phase_of(change) == phase:
                    self._run(change)

    def _run(self, change: Change) -> None:
        if change.address in self.done:
            return
        self.done.add(change.address)
        for dep in change.depends_on:
            if dep in self.by_address:
                self._run(self.by_address[dep])
        self._check_fresh(change)
        getattr(self, "_" + change.kind.replace("-", "_"))(change)

    # fingerprints -----------------------------------------------------------------------------

    def _check_fresh(self, change: Change) -> None:
        if change.fingerprint is None or change.refs.uuid is None:
            return
        org, uuid = self.org, change.refs.uuid
        now: str | None = None
        if change.kind == addr.Kind.FOLDER and uuid in org.folders:
            now = org.folders[uuid].edited
        elif change.kind == addr.Kind.ITEM and uuid in org.items:
            now = org.items[uuid].edited
        elif change.kind == addr.Kind.DATASET and uuid in org.datasets:
            now = org.datasets[uuid].edited
        elif change.kind == addr.Kind.GROUP and uuid in org.groups:
            g = org.groups[uuid]
            now = content_fingerprint(
                {"name": g.name, "description": g.description, "members": sorted(g.members)}
            )
        if now is not None and now != change.fingerprint:
            raise StaleError(f"{change.address}: fingerprint {change.fingerprint} != {now}")

    def _ref(self, uuid: str | None, address: str | None) -> str | None:
        if uuid is not None:
            return uuid
        if address is None:
            return None
        return self.created[address]

    def _parent(self, change: Change) -> str | None:
        if change.refs.parent_path is None:
            return None
        return self._ref(change.refs.parent_uuid, addr.folder(change.refs.parent_path))

    # kinds ------------------------------------------------------------------------------------

    def _metadata_schema(self, change: Change) -> None:
        self.org.schema = dict(change.after or {})

    def _folder(self, change: Change) -> None:
        org, after = self.org, change.after or {}
        acts = change.actions
        if Action.DELETE in acts:
            uuid = change.refs.uuid
            assert uuid is not None
            assert not any(f.parent == uuid for f in org.folders.values()), (
                f"{change.address}: not empty"
            )
            assert not any(i.parent == uuid for i in org.items.values()), (
                f"{change.address}: has items"
            )
            del org.folders[uuid]
            org.folder_groups.pop(uuid, None)
        if Action.CREATE in acts:
            cloud = after.get("cloud_sync")
            uuid = org.add_folder(
                self._parent(change),
                after["name"],
                description=after.get("description", ""),
                metadata=dict(after.get("metadata", {})),
                folder_type="cloudLinked" if cloud else "generic",
                integration_uuid=cloud["integration_uuid"] if cloud else None,
                remote_url=cloud["remote_url"] if cloud else None,
            )
            self.created[change.address] = uuid
            if Action.SYNC in acts:
                self._sync(uuid)
            return
        if Action.DELETE in acts:
            return
        folder = org.folders[change.refs.uuid or ""]
        fields = change.changed_fields()
        if Action.MOVE in acts:
            folder.parent = self._parent(change)
            folder.name = after["name"]
        if "description" in fields:
            folder.description = after["description"]
        if "metadata" in fields:
            folder.metadata = dict(after["metadata"])
        folder.edited = org.tick()

    def _sync(self, folder_uuid: str) -> None:
        org = self.org
        url = org.folders[folder_uuid].remote_url or ""
        for relative in org.buckets.get(url, ()):
            *dirs, name = relative.split("/")
            parent = folder_uuid
            for part in dirs:
                found = [
                    f.uuid for f in org.folders.values() if f.parent == parent and f.name == part
                ]
                parent = found[0] if found else org.add_folder(parent, part)
            ext = name.rsplit(".", 1)[-1]
            if not any(i.parent == parent and i.name == name for i in org.items.values()):
                org.add_item(parent, name, item_type=_EXTENSIONS.get(ext, "image"))

    def _item(self, change: Change) -> None:
        org, after = self.org, change.after or {}
        uuid = change.refs.uuid or ""
        if change.is_delete:
            assert org.items[uuid].parent == change.refs.from_parent_uuid
            del org.items[uuid]
            for d in org.datasets.values():
                d.rows = {h: i for h, i in d.rows.items() if i != uuid}
            return
        item = org.items[uuid]
        if Action.MOVE in change.actions:
            assert item.parent == change.refs.from_parent_uuid
            target = self._parent(change)
            assert target is not None
            item.parent = target
            item.name = after["path"].rsplit("/", 1)[1]
        if "metadata" in change.changed_fields():
            item.metadata = dict(after["metadata"])
        item.edited = org.tick()

    def _group(self, change: Change) -> None:
        org, after, before = self.org, change.after or {}, change.before or {}
        if change.is_delete:
            uuid = change.refs.uuid or ""
            del org.groups[uuid]
            for grants in org.folder_groups.values():
                grants.pop(uuid, None)
            for d in org.datasets.values():
                d.groups.pop(uuid, None)
            return
        if Action.CREATE in change.actions:
            uuid = org.new_id("g")
            org.groups[uuid] = Group(
                uuid, after["name"], after["description"], {CALLER, *after["members"]}
            )
            self.created[change.address] = uuid
            return
        group = org.groups[change.refs.uuid or ""]
        group.description = after["description"]
        group.members |= set(after["members"]) - set(before["members"])
        group.members -= set(before["members"]) - set(after["members"])

    def _folder_group(self, change: Change) -> None:
        path, name = addr.key_of(change.address).split("#", 1)
        folder = self._ref(change.refs.folder_uuid, addr.folder(path)) or ""
        group = self._ref(change.refs.group_hash, addr.group(name)) or ""
        grants = self.org.folder_groups.setdefault(folder, {})
        if Action.REVOKE in change.actions:
            grants.pop(group, None)
        if Action.GRANT in change.actions:
            grants[group] = (change.after or {})["role"]

    def _dataset(self, change: Change) -> None:
        org, after = self.org, change.after or {}
        if Action.CREATE in change.actions:
            uuid = org.new_id("d")
            org.datasets[uuid] = Dataset(
                uuid,
                after["title"],
                after["description"],
                users={CALLER: "admin"},
                edited=org.tick(),
            )
            self.created[change.address] = uuid
            return
        dataset = org.datasets[change.refs.uuid or ""]
        dataset.description = after["description"]
        dataset.edited = org.tick()

    def _dataset_of(self, change: Change) -> Dataset:
        title = addr.key_of(change.address).split("#", 1)[0]
        return self.org.datasets[self._ref(change.refs.dataset_uuid, addr.dataset(title)) or ""]

    def _dataset_group(self, change: Change) -> None:
        dataset = self._dataset_of(change)
        name = addr.key_of(change.address).split("#", 1)[1]
        group = self._ref(change.refs.group_hash, addr.group(name)) or ""
        if Action.REVOKE in change.actions:
            dataset.groups.pop(group, None)
        if Action.GRANT in change.actions:
            dataset.groups[group] = (change.after or {})["role"]

    def _dataset_user(self, change: Change) -> None:
        dataset = self._dataset_of(change)
        email = change.refs.email or ""
        if Action.REVOKE in change.actions:
            dataset.users.pop(email, None)
        if Action.GRANT in change.actions:
            dataset.users.setdefault(email, (change.after or {})["role"])  # keeps an old role

    def _link(self, change: Change) -> None:
        dataset = self._dataset_of(change)
        if Action.UNLINK in change.actions:
            for data_hash in change.refs.data_hashes:
                dataset.rows.pop(data_hash)
            return
        item = change.refs.item_uuid or ""
        assert item in self.org.items
        if item not in dataset.rows.values():
            dataset.rows[self.org.new_id("h")] = item
