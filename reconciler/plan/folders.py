"""Declared folders: moves via ``previously``, creates (parents first), patches, and
cloud-synced replacements. Undeclared folders are ``prune``'s business.

Order of decisions: which live folder goes where (moves, then replacements: see
``folder_moves``), then one pass over declared folders, parents first, writing the changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.errors import Diagnostic
from reconciler.kinds.folder import CloudSync, FolderPayload
from reconciler.model import addresses as addr
from reconciler.model.addresses import split_path
from reconciler.model.desired import OWNER_KEY, DesiredFolder
from reconciler.model.live import LiveFolder
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical
from reconciler.plan.claims import claim_action, claim_reason, claimed_metadata
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.describe import field_diff
from reconciler.plan.folder_moves import (
    FolderDraft,
    Withheld,
    below,
    find_replacements,
    plan_moves,
)
from reconciler.plan.model import Change, Refs
from reconciler.plan.prune import deleted_folders, plural, subtree_deletes
from reconciler.plan.tree import Tree
from reconciler.plan.views import cloud_view, desired_folder_metadata, live_folder_view


@dataclass(frozen=True, slots=True)
class FolderPlan:
    """What ``plan_folders`` decided; later stages read ``tree`` and never change it.

    * ``tree``: the projection after this plan's moves, replacements and creates.
    * ``withheld``: subtrees whose move or replacement was not made (see ``Withheld``).
    * ``replaced``: desired path -> UUID of the live folder deleted and created again.
    * ``synced_on_create``: folders created with ``sync: on_create`` (their items are
      planned after the sync: deferrals).
    * ``deleted``: live folder UUIDs this plan's replacements delete.
    * ``problems``: what cannot be planned at all (a folder moved into itself).
    """

    changes: tuple[Change, ...]
    tree: Tree
    withheld: tuple[Withheld, ...] = ()
    replaced: Mapping[str, str] = field(default_factory=dict)
    synced_on_create: tuple[str, ...] = ()
    deleted: frozenset[str] = frozenset()
    problems: tuple[Diagnostic, ...] = ()


def plan_folders(ctx: Context) -> FolderPlan:
    d = FolderDraft(ctx, Tree(ctx.live))
    plan_moves(d)
    find_replacements(d)
    d.tree.project()
    for path in sorted(ctx.desired.folders, key=lambda p: (len(split_path(p)), p)):
        _plan_declared(d, ctx.desired.folders[path])
    return FolderPlan(
        changes=tuple(d.changes),
        tree=d.tree,
        withheld=tuple(d.withheld[p] for p in sorted(d.withheld)),
        replaced=d.replaced,
        synced_on_create=tuple(d.synced_on_create),
        deleted=deleted_folders(d.changes),
        problems=tuple(d.problems),
    )


def _ensure_ancestors(d: FolderDraft, path: str, source: str | None = None) -> None:
    """Create undeclared ancestors that do not exist yet (declared ones come first anyway);
    they cite the declaration that needs them."""
    parts = split_path(path)
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        if d.tree.exists(ancestor) or ancestor in d.ctx.desired.folders:
            continue
        after = FolderPayload(ancestor, parts[depth - 1], "", {OWNER_KEY: d.ctx.owner}, None)
        _add_create(d, ancestor, after, source=source, reason=f"parent of {path}")


def _add_create(
    d: FolderDraft, path: str, after: FolderPayload, *, source: str | None, reason: str
) -> None:
    parent_uuid, parent, dep = d.tree.parent_ref(path)
    actions = [Action.CREATE]
    cloud = after.cloud
    if cloud is not None and cloud.sync in _SYNC_ON_CREATE:
        actions.append(Action.SYNC)
        d.synced_on_create.append(path)
    address = addr.folder(path)
    vacated = _vacated_by(d, path)
    d.changes.append(
        Change(
            address=address,
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            after=after,
            source=source,
            reason=reason,
            depends_on=tuple(dict.fromkeys(a for a in (dep, vacated) if a)),
            refs=Refs(
                parent_uuid=parent_uuid,
                parent_path=parent,
                integration_uuid=cloud.integration_uuid if cloud else None,
            ),
        )
    )
    d.tree.created[path] = address


def _vacated_by(d: FolderDraft, path: str) -> str | None:
    """The change that moves or replaces away the live folder at ``path`` now (it, or a
    folder above it). A folder created there waits for it: were that change withheld, the
    new folder would stand beside the old one at one path."""
    uuid = d.ctx.live.paths.get(path)
    replacing = {old: new for new, old in d.replaced.items()}
    while uuid is not None:
        if uuid in d.tree.moves:
            return addr.folder(d.tree.moves[uuid])
        if uuid in replacing:
            return addr.folder(replacing[uuid])
        folder = d.ctx.live.folders.get(uuid)  # a root's parent may lie outside the read
        uuid = None if folder is None else folder.parent
    return None


def _create_view(ctx: Context, folder: DesiredFolder) -> FolderPayload:
    cloud: CloudSync | None = None
    if folder.cloud_sync is not None:
        uuid = ctx.resolved.integrations.get(folder.cloud_sync.integration)
        cloud = cloud_view(uuid, folder.cloud_sync.remote_url, ctx.resolved.integration_titles)
        cloud = replace(cloud, sync=folder.cloud_sync.sync)
    return FolderPayload(
        folder.path,
        folder.name,
        folder.description or "",
        canonical(_created_metadata(ctx, folder)),
        cloud,
    )


def _created_metadata(ctx: Context, folder: DesiredFolder) -> dict[str, Any]:
    """Declared metadata and our marker, unless the folder is declared released."""
    metadata = dict(folder.metadata or {})
    if folder.claim != "release":
        metadata[OWNER_KEY] = ctx.owner
    return metadata


def _plan_declared(d: FolderDraft, folder: DesiredFolder) -> None:
    if folder.path in d.replaced:
        _plan_replacement(d, folder, d.ctx.live.folders[d.replaced[folder.path]])
        return
    live = d.tree.folder_at(folder.path)
    if live is None:
        _ensure_ancestors(d, folder.path, str(folder.source))
        _add_create(
            d,
            folder.path,
            _create_view(d.ctx, folder),
            source=str(folder.source),
            reason="declared, not in Encord",
        )
        return
    _plan_existing(d, folder, live)


def _plan_existing(d: FolderDraft, folder: DesiredFolder, live: LiveFolder) -> None:
    ctx = d.ctx
    before = live_folder_view(live, with_cloud=False, titles=ctx.resolved.integration_titles)
    sync, claim = _sync_or_claim(ctx, folder, live)
    metadata = desired_folder_metadata(folder, live.metadata)
    after = replace(
        before,
        path=folder.path,
        name=folder.name,
        description=before.description if folder.description is None else folder.description,
        metadata=canonical(claimed_metadata(metadata, claim, ctx.owner)),
    )
    diff = field_diff(before, after)
    moved = d.tree.moves.get(live.uuid) == folder.path
    if not moved and all(f.path[0] == "path" for f in diff):
        diff = ()  # a new path alone comes from an ancestor's move, which that change makes
    if not diff and not sync:
        return
    actions: list[Action] = [Action.MOVE] if moved else []
    if any(_patched(f.path) for f in diff):
        actions.append(Action.PATCH)
    if claim is not None:
        actions.append(claim)
    if sync:
        actions.append(Action.SYNC)
        d.synced_on_create.append(folder.path)
    refs = Refs(uuid=live.uuid, from_parent_uuid=live.parent)
    dep = None
    if moved:
        _ensure_ancestors(d, folder.path, str(folder.source))
        parent_uuid, parent, dep = d.tree.parent_ref(folder.path)
        refs = Refs(
            uuid=live.uuid,
            parent_uuid=parent_uuid,
            parent_path=parent,
            from_parent_uuid=live.parent,
        )
    d.changes.append(
        Change(
            address=addr.folder(folder.path),
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            previous_address=addr.folder(live.path) if moved else None,
            before=before,
            after=after,
            diff=diff,
            source=str(_source_of(folder, diff, moved)),
            reason=_existing_reason(d, folder, live, moved, diff, claim),
            fingerprint=fingerprint_of(live.last_edited_at, before),
            depends_on=(dep,) if dep else (),
            refs=refs,
        )
    )


_SYNC_ON_CREATE = ("on_create", "always")


def _never_synced(ctx: Context, folder: DesiredFolder) -> bool:
    """A ``sync: always`` folder (unless the options leave routine syncs out), or a
    ``sync: on_create`` folder that a stopped run created (or was creating) and never saw
    the sync of started: sync it now, once, as its creation would have."""
    cloud = folder.cloud_sync
    if cloud is not None and cloud.sync == "always":
        return ctx.options.sync_always
    if cloud is None or cloud.sync != "on_create":
        return False
    # Created where the stopped run put it: the folder may since be declared moved.
    return any(addr.folder(p) in ctx.options.unsynced for p in (folder.path, *folder.previously))


def _sync_or_claim(
    ctx: Context, folder: DesiredFolder, live: LiveFolder
) -> tuple[bool, Action | None]:
    """Whether to sync, and the claim's action: never both in one change (no such shape).
    A routine ``sync: always`` waits for the next plan; a folder a stopped run created and
    never synced is ours already, so its claim waits instead."""
    sync = _never_synced(ctx, folder)
    claim = claim_action(folder.claim, ctx.folder_owner(live), ctx.owner)
    if sync and claim is not None:
        cloud = folder.cloud_sync
        if cloud is not None and cloud.sync == "always":
            return False, claim
        return True, None
    return sync, claim


def _patched(path: tuple[Any, ...]) -> bool:
    """A declared field differs (our marker alone is the claim's, not a patch)."""
    return path[0] in ("description", "metadata") and path[:2] != ("metadata", OWNER_KEY)


def _existing_reason(
    d: FolderDraft,
    folder: DesiredFolder,
    live: LiveFolder,
    moved: bool,
    diff: tuple[Any, ...],
    claim: Action | None,
) -> str:
    if moved:
        return _move_reason(d, live)
    if claim is not None and not any(_patched(f.path) for f in diff):
        return claim_reason(claim, d.ctx.folder_owner(live))
    return _patch_reason(folder, diff)


def _patch_reason(folder: DesiredFolder, diff: tuple[Any, ...]) -> str:
    if diff:
        return "declared fields differ"
    if folder.cloud_sync is not None and folder.cloud_sync.sync == "always":
        return "sync: always (synced again on every apply)"
    return "a run that stopped created it and never started its cloud sync (journal)"


def _move_reason(d: FolderDraft, live: LiveFolder) -> str:
    origin = d.resumed_moves.get(live.uuid)
    if origin is None:
        return f"moved from {live.path} (previously)"
    return (
        f"moved from {live.path}, where a stopped run left it on its way from {origin} "
        "(previously); this finishes that move"
    )


def _source_of(folder: DesiredFolder, diff: tuple[Any, ...], moved: bool) -> object:
    if moved:
        return folder.field_sources.get("previously", folder.source)
    for entry in diff:
        field = str(entry.path[0])
        if entry.path[:2] == ("metadata", OWNER_KEY) and folder.claim is not None:
            field = folder.claim  # the adopt: or release: line
        if field in folder.field_sources:
            return folder.field_sources[field]
    return folder.source


def _plan_replacement(d: FolderDraft, folder: DesiredFolder, live: LiveFolder) -> None:
    ctx = d.ctx
    titles = ctx.resolved.integration_titles
    before = live_folder_view(live, with_cloud=True, titles=titles)
    after = _create_view(ctx, folder)
    contents = subtree_deletes(
        ctx, d.tree, live.uuid, include_root=False, reason="", why="replaced"
    )
    _ensure_ancestors(d, folder.path, str(folder.source))
    parent_uuid, parent, dep = d.tree.parent_ref(folder.path)
    actions = [Action.DELETE, Action.CREATE]
    if folder.cloud_sync is not None and folder.cloud_sync.sync in _SYNC_ON_CREATE:
        actions.append(Action.SYNC)
        d.synced_on_create.append(folder.path)
    reason = _replacement_reason(ctx, before, after, contents)
    address = addr.folder(folder.path)
    d.changes.extend(contents)
    d.changes.append(
        Change(
            address=address,
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            previous_address=addr.folder(live.path) if live.path != folder.path else None,
            before=before,
            after=after,
            diff=field_diff(before, after.without_sync()),
            source=str(folder.cloud_sync.source if folder.cloud_sync else folder.source),
            reason=reason,
            fingerprint=fingerprint_of(live.last_edited_at, before),
            depends_on=tuple(sorted(_replacement_deps(d, live, contents, dep))),
            refs=Refs(
                uuid=live.uuid,
                parent_uuid=parent_uuid,
                parent_path=parent,
                from_parent_uuid=live.parent,
                integration_uuid=after.cloud.integration_uuid if after.cloud else None,
            ),
        )
    )
    d.tree.created[folder.path] = address


def _replacement_reason(
    ctx: Context, before: FolderPayload, after: FolderPayload, contents: list[Change]
) -> str:
    """Why the folder cannot be patched, and what is lost by deleting it."""
    items = [c.refs.uuid for c in contents if c.kind == addr.Kind.ITEM]
    what = "a generic folder cannot become cloud-synced"
    old, new = before.cloud, after.cloud
    if old is not None and new is not None:
        changed = "integration" if old.integration_uuid != new.integration_uuid else "remote URL"
        what = f"{changed} changed and a cloud-synced folder cannot be re-pointed"
    return (
        f"{what}: it is deleted and created again; lost: the folder's UUID, "
        f"{plural(len(items), 'item')}, {plural(ctx.links_to(items), 'dataset link')}, its "
        "group grants (re-granted) and item metadata (re-applied after the sync)"
    )


def _replacement_deps(
    d: FolderDraft, live: LiveFolder, contents: list[Change], parent_dep: str | None
) -> set[str]:
    """Direct content deletes, folders moving out first, and the new parent's creation."""
    deps = {c.address for c in contents if _is_child(c, live)}
    deps.update(addr.folder(p) for u, p in d.tree.moves.items() if below(d.ctx, u, live.uuid))
    if parent_dep:
        deps.add(parent_dep)
    return deps


def _is_child(change: Change, parent: LiveFolder) -> bool:
    return change.refs.from_parent_uuid == parent.uuid
