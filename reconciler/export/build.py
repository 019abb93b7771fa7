"""From a live snapshot to the documents of a config directory (pure: values in, values out).

The contract: planning the exported directory against the same organisation changes nothing.
So every declared value is the live value, undeclared fields stay undeclared (absent means
unmanaged), dataset links outside the roots are kept (``unlink: never``), nothing may be
pruned (``prune: never``), and what cannot be declared exactly (ambiguous paths, duplicate
group or dataset names, a metadata schema the config cannot spell) is left out with a warning.
Reconciler's own ownership marks are never declared; the id they carry goes into
``reconciler.yaml`` (see ``ownership``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.paths import is_path
from reconciler.export import schema as schema_spelling
from reconciler.export.collections import export_collections, exported_collections
from reconciler.export.items import ItemsMode, item_metadata
from reconciler.export.links import TreeIndex, select
from reconciler.export.ownership import (
    choose_id,
    count_ids,
    declarable_metadata,
    plain_description,
)
from reconciler.model.addresses import is_under
from reconciler.model.live import LiveDataset, LiveFolder, LiveState
from reconciler.plan.canonical import description_owner
from reconciler.printable import printable


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """``roots``: absolute folder paths; ``target``: the ``target`` of ``reconciler.yaml``;
    ``ownership_id``: the config's id when the user chose one; ``items``: how item metadata
    is declared (``export.items``)."""

    roots: tuple[str, ...]
    target: Mapping[str, Any]
    ownership_id: str | None = None
    items: ItemsMode = "rules"


@dataclass(slots=True)
class Documents:
    """The content of each file, as plain data; ``render`` turns it into text."""

    settings: dict[str, Any]
    folders: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, Any] = field(default_factory=dict)
    metadata_rules: list[dict[str, Any]] = field(default_factory=list)
    metadata_rows: list[dict[str, Any]] = field(default_factory=list)
    link_manifests: dict[str, list[str]] = field(default_factory=dict)  # file -> item paths
    metadata_schema: dict[str, Any] | None = None
    organisation_tags: dict[str, str | None] = field(default_factory=dict)
    folder_tags: dict[str, list[str]] = field(default_factory=dict)  # path -> tags (shown only)
    collections: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)  # email -> role, or {role, type}
    warnings: list[str] = field(default_factory=list)
    items_with_metadata: int = 0


def build(live: LiveState, options: ExportOptions) -> Documents:
    docs = Documents(settings={})
    exported = _Exported(live, options.roots, docs.warnings)
    names = _group_names(live, docs.warnings)
    granted: set[str] = set()
    docs.folders = _folders(exported, names, granted, docs.warnings)
    docs.datasets, docs.link_manifests = _datasets(exported, names, granted, docs.warnings)
    docs.groups = _groups(live, granted, names)
    _item_metadata(docs, exported, options.items)
    docs.metadata_schema = _schema(live, docs.warnings)
    docs.users = _users(live, docs.warnings)
    owner = choose_id(_found_ids(exported, granted, docs), options.ownership_id, docs.warnings)
    docs.organisation_tags = _tags(live, owner, docs.warnings)
    docs.folder_tags = {
        f.path: sorted(live.folder_tags[f.uuid])
        for f in exported.declarable()
        if f.path in docs.folders and f.uuid in live.folder_tags
    }
    found = export_collections(
        live,
        options.roots,
        exported.index,
        exported.items,
        docs.link_manifests,
        owner,
        docs.warnings,
    )
    docs.collections = found.collections
    docs.link_manifests.update(found.manifests)
    docs.settings = {
        "version": 1,
        "target": dict(options.target),
        "ownership": {"id": owner},
        "policy": {"prune": "never"},
    }
    return docs


_ROLES = frozenset({"ADMIN", "MEMBER", "TASKER", "WORKFORCE_MANAGER"})
_TYPES = frozenset({"internal", "external"})


def _users(live: LiveState, warnings: list[str]) -> dict[str, Any]:
    """Every organisation user: ``email: role``, or ``{role, type}`` for an external one.
    A role or type the config cannot spell (the API lists any string) is left out."""
    if not live.users_complete:
        warnings.append("the organisation users listing could not be read: users are left out")
        return {}
    out: dict[str, Any] = {}
    for email in sorted(live.users, key=str.lower):
        user = live.users[email]
        if user.role not in _ROLES or user.member_type not in _TYPES:
            warnings.append(
                f"user {printable(email)} is left out: its role {printable(user.role)} or "
                f"type {printable(user.member_type)} cannot be declared"
            )
            continue
        role = user.role.lower()
        out[email] = role if user.member_type == "internal" else {"role": role, "type": "external"}
    return out


def _found_ids(exported: _Exported, granted: set[str], docs: Documents) -> Counter[str]:
    """Ids on the objects the export declares (dataset titles there are unique)."""
    live = exported.live
    return count_ids(
        (f.metadata for f in exported.declarable() if f.path in docs.folders),
        [live.groups[h].description for h in granted]
        + [d.description for d in live.datasets.values() if d.title in docs.datasets]
        + [c.description for c in exported_collections(live, exported.roots)],
    )


def _item_metadata(docs: Documents, exported: _Exported, mode: ItemsMode) -> None:
    found = item_metadata(exported.index, mode)
    docs.metadata_rules, docs.metadata_rows = found.rules, found.rows
    docs.items_with_metadata = found.items
    if found.undeclared:
        docs.warnings.append(
            f"{found.undeclared} items share their path with another item, or hold a control "
            "character a config path cannot: their metadata is left out"
        )


class _Exported:
    """The folders and items under the roots, with the ambiguous parts set aside."""

    def __init__(self, live: LiveState, roots: tuple[str, ...], warnings: list[str]) -> None:
        self.live = live
        self.roots = roots
        self.folders = {
            u: f for u, f in live.folders.items() if any(is_under(f.path, r) for r in roots)
        }
        self.items = {u: i for u, i in live.items.items() if i.parent in self.folders}
        unholdable = _unholdable_folders(self.folders.values(), warnings)
        self.blocked = frozenset(
            u
            for u, f in self.folders.items()
            if any(is_under(f.path, a) for a in (*live.ambiguous, *unholdable))
        )
        for path, uuids in sorted(live.ambiguous.items()):
            if any(is_under(path, r) for r in roots):
                warnings.append(
                    f"{path} names {len(uuids)} folders ({', '.join(uuids)}): left out; "
                    "rename one so every path is unique, then export again"
                )
        # a root inside another root is walked from the outer one only, or its items would be
        # selected (and their metadata declared) twice
        outer = {r for r in roots if not any(o != r and is_under(r, o) for o in roots)}
        root_uuids = [u for u, f in self.folders.items() if f.path in outer]
        self.index = TreeIndex.build(self.folders, self.items, root_uuids, self.blocked)

    def declarable(self) -> list[LiveFolder]:
        return sorted(
            (f for u, f in self.folders.items() if u not in self.blocked), key=lambda f: f.path
        )

    def synced_by_cloud(self, folder: LiveFolder) -> bool:
        """A generic folder below a cloud-synced one: the sync made it and owns it."""
        parent = self.folders.get(folder.parent or "")
        while parent is not None:
            if parent.folder_type == "cloudLinked":
                return folder.folder_type != "cloudLinked"
            parent = self.folders.get(parent.parent or "")
        return False


def _unholdable_folders(folders: Iterable[LiveFolder], warnings: list[str]) -> list[str]:
    """The top-most folders whose path the config cannot write (a control character in a
    name): each is left out with its subtree, in one line (``prune: never`` keeps them)."""
    bad = sorted(f.path for f in folders if not is_path(f.path))
    tops = [p for p in bad if not any(o != p and is_under(p, o) for o in bad)]
    warnings.extend(
        f"folder {printable(p)}: left out with everything under it: a config path cannot hold "
        "a control character; rename it in Encord, then export again"
        for p in tops
    )
    return tops


def _group_names(live: LiveState, warnings: list[str]) -> dict[str, str]:
    """Group hash -> name, for names that identify one group only and that a config can
    write (the grants of any other group are left unmanaged)."""
    counts = Counter(g.name for g in live.groups.values())
    for name, count in sorted(counts.items()):
        if count > 1:
            warnings.append(f"{count} groups are named {name!r}: their grants are left out")
        elif not is_declarable_name(name):
            warnings.append(f"group {printable(name)}: left out, and its grants: {_UNNAMEABLE}")
    return {
        h: g.name
        for h, g in live.groups.items()
        if counts[g.name] == 1 and is_declarable_name(g.name)
    }


_NAME = re.compile(r"[^\x00-\x1f]{1,255}")  # the config schema's $defs/name
_UNNAMEABLE = (
    "a config name cannot hold a control character or more than 255 characters; rename it "
    "in Encord, then export again"
)


def is_declarable_name(name: str) -> bool:
    """A group name or dataset title the config can write (``$defs/name`` of its schema)."""
    return _NAME.fullmatch(name) is not None


def _grants(
    roles: Mapping[str, str],
    names: Mapping[str, str],
    granted: set[str],
    where: str,
    warn: list[str],
) -> dict[str, str] | None:
    """Grants by group name, or None (left unmanaged) when one of them has no unique name:
    declared grants are authoritative, so a partial list would revoke the missing one."""
    unnamed = sorted(h for h in roles if h not in names)
    if unnamed:
        warn.append(
            f"{where}: grants left unmanaged; group {', '.join(unnamed)} has no unique name"
        )
        return None
    granted.update(roles)
    return {names[h]: role for h, role in sorted(roles.items(), key=lambda kv: names[kv[0]])}


def _folders(
    exported: _Exported, names: Mapping[str, str], granted: set[str], warnings: list[str]
) -> dict[str, Any]:
    live = exported.live
    out: dict[str, Any] = {}
    for folder in exported.declarable():
        entry: dict[str, Any] = {}
        if folder.description:
            entry["description"] = folder.description
        metadata = declarable_metadata(folder.metadata)
        if metadata:  # never an empty mapping: it would not validate
            entry["metadata"] = metadata
        roles = live.folder_groups.get(folder.uuid, {})
        grants = _grants(roles, names, granted, f"folder {folder.path}", warnings)
        if roles and grants is not None:
            entry["groups"] = grants
        if folder.folder_type == "cloudLinked":
            integration = live.integrations.get(folder.integration_uuid or "")
            entry["cloud_sync"] = {
                "integration": integration.title if integration else folder.integration_uuid,
                "remote_url": folder.remote_url,
                "sync": "never",
            }
        if not entry and exported.synced_by_cloud(folder):
            continue
        out[folder.path] = entry
    return out


def _datasets(
    exported: _Exported, names: Mapping[str, str], granted: set[str], warnings: list[str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    titles = Counter(d.title for d in exported.live.datasets.values())
    datasets: dict[str, Any] = {}
    manifests: dict[str, list[str]] = {}
    for dataset in sorted(exported.live.datasets.values(), key=lambda d: (d.title, d.uuid)):
        linked = {r.item_uuid for r in dataset.rows if r.item_uuid in exported.items}
        if not linked:
            continue
        if not is_declarable_name(dataset.title):
            warnings.append(f"dataset {printable(dataset.title)}: left out: {_UNNAMEABLE}")
            continue
        if titles[dataset.title] > 1:
            warnings.append(
                f"{titles[dataset.title]} datasets are titled {dataset.title!r}: left out"
            )
            continue
        selection = select(exported.index, {u for u in linked if u is not None})
        if selection.skipped:
            warnings.append(
                f"dataset {dataset.title}: {selection.skipped} linked items share their path "
                "with another item, or hold a control character a config path cannot, and are "
                "left out"
            )
        items: list[dict[str, Any]] = [
            {"folder": path, "recursive": True} if recursive else {"folder": path}
            for path, recursive in selection.folders
        ]
        if selection.paths:
            file = _manifest_name(dataset.title, manifests)
            manifests[file] = sorted(selection.paths)
            items.append({"manifest": file})
        datasets[dataset.title] = _dataset_entry(dataset, items, names, granted, warnings)
    return datasets, manifests


def _dataset_entry(
    dataset: LiveDataset,
    items: list[dict[str, Any]],
    names: Mapping[str, str],
    granted: set[str],
    warnings: list[str],
) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    description = plain_description(dataset.description)
    if description:
        entry["description"] = description
    where = f"dataset {dataset.title}"
    grants = _grants(dataset.groups, names, granted, where, warnings)
    if dataset.groups and grants is not None:
        entry["groups"] = grants
    if dataset.users:
        entry["users"] = dict(sorted(dataset.users.items()))
    entry["items"] = items
    entry["unlink"] = "never"  # links to items outside the exported roots stay
    return entry


def _groups(live: LiveState, granted: set[str], names: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group_hash in sorted(granted, key=lambda h: names[h]):
        group = live.groups[group_hash]
        entry: dict[str, Any] = {}
        description = plain_description(group.description)
        if description:
            entry["description"] = description
        entry["members"] = sorted(group.members)
        out[group.name] = entry
    return out


def _tags(live: LiveState, owner: str, warnings: list[str]) -> dict[str, str | None]:
    """Every tag of the organisation but another config's (declaring those would fight that
    config), by name; a description the listing did not give stays unmanaged (null)."""
    out: dict[str, str | None] = {}
    for tag in sorted((live.organisation_tags or {}).values(), key=lambda t: t.name):
        found = None if tag.description is None else description_owner(tag.description)
        if found is not None and found != owner:
            warnings.append(
                f"organisation tag {tag.name!r} carries ownership id {found!r}, not {owner!r}: "
                "left out"
            )
            continue
        out[tag.name] = None if tag.description is None else plain_description(tag.description)
    return out


def _schema(live: LiveState, warnings: list[str]) -> dict[str, Any] | None:
    if not live.metadata_schema:
        return None
    spelled, reasons = schema_spelling.to_config(live.metadata_schema)
    if spelled is None:
        warnings.append("metadata schema left out: the config cannot express " + "; ".join(reasons))
    return spelled


def _manifest_name(title: str, taken: Mapping[str, Any]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "dataset"
    name, n = f"manifests/links-{slug}.jsonl", 2
    while name in taken:
        name, n = f"manifests/links-{slug}-{n}.jsonl", n + 1
    return name
