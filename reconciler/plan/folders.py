"""Declared folders: moves via ``previously``, creates (parents first), patches, and
cloud-synced replacements. Undeclared folders are ``prune``'s business.

Order of decisions: moves (shallow folders first, so a child's ``previously`` is looked up in
a tree where its parent already moved), then replacements (a cloud-synced folder whose
integration or remote URL changed is deleted and created again, so its subtree leaves the
projection), then one pass over declared folders, parents first.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import Diagnostic
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, split_path
from reconciler.model.desired import OWNER_KEY, DesiredFolder
from reconciler.model.globs import glob_match
from reconciler.model.live import LiveFolder
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.describe import field_diff
from reconciler.plan.halfmoved import candidate, half_moved
from reconciler.plan.model import Change, Refs
from reconciler.plan.prune import plural, subtree_deletes
from reconciler.plan.views import cloud_view, desired_folder_metadata, live_folder_view


def plan_folders(ctx: Context) -> None:
    _plan_moves(ctx)
    _find_replacements(ctx)
    ctx.tree.project()
    for path in sorted(ctx.desired.folders, key=lambda p: (len(split_path(p)), p)):
        _plan_declared(ctx, ctx.desired.folders[path])


def _depth_levels(ctx: Context) -> list[list[DesiredFolder]]:
    levels: dict[int, list[DesiredFolder]] = {}
    for path in sorted(ctx.desired.folders):
        levels.setdefault(len(split_path(path)), []).append(ctx.desired.folders[path])
    return [levels[d] for d in sorted(levels)]


def _plan_moves(ctx: Context) -> None:
    tree = ctx.tree
    declared = set(ctx.desired.folders)
    for level in _depth_levels(ctx):
        tree.project()
        for folder in level:
            if folder.previously and folder.path not in tree.index:
                _choose_move(ctx, folder, declared)


def _choose_move(ctx: Context, folder: DesiredFolder, declared: set[str]) -> None:
    """Pick the live folder to move here: at a ``previously`` path, else half-way there (a
    run stopped between the move and the rename). A move that safety would hold back is not
    made at all (and its subtree is blocked), so nothing else is planned as if it had
    happened."""
    tree, live = ctx.tree, ctx.live
    if any(is_under(folder.path, root) for root in tree.ambiguous):
        return  # the declared path itself is ambiguous: refused by the ambiguity check
    for previous in folder.previously:
        ambiguous = [root for root in live.ambiguous if is_under(previous, root)]
        if ambiguous:
            uuids = sorted(u for root in ambiguous for u in live.ambiguous[root])
            ctx.blocked[folder.path] = (
                "ambiguous-path",
                f"folder:{folder.path} was previously {previous}, but {ambiguous[0]} is "
                f"ambiguous (folders {', '.join(uuids)} share that path); rename or remove the "
                "duplicates in Encord, then plan again",
            )
            return
        uuid = candidate(ctx, live.paths.get(previous), declared)
        if uuid is not None:
            _take(ctx, folder, previous, uuid)
            return
    uuid, previous = half_moved(ctx, folder, declared)
    if uuid is not None:
        ctx.resumed_moves[uuid] = previous
        _take(ctx, folder, live.folders[uuid].path, uuid)


def _take(ctx: Context, folder: DesiredFolder, previous: str, uuid: str) -> None:
    tree = ctx.tree
    if _unmovable(ctx, folder, previous, ctx.live.folders[uuid]):
        return
    if is_under(folder.path, tree.path_of[uuid]):
        source = folder.field_sources.get("previously", folder.source)
        ctx.problems.append(
            Diagnostic(
                source.file,
                source.line,
                source.col,
                f"cannot move {previous} to {folder.path}: a folder cannot move into itself",
            )
        )
        return
    tree.moves[uuid] = folder.path


def _unmovable(ctx: Context, folder: DesiredFolder, previous: str, live: LiveFolder) -> bool:
    owner = ctx.folder_owner(live)
    if owner is not None and owner != ctx.owner:
        ctx.blocked[folder.path] = (
            "foreign-owned",
            f"folder:{previous} is managed by another config ('{owner}'); it cannot be moved to "
            f"{folder.path} from here. Remove 'previously' or have '{owner}' give it up",
        )
        return True
    protect = ctx.desired.policy.protect
    if any(glob_match(p, previous) for p in protect):
        ctx.blocked[folder.path] = (
            "protected",
            f"folder:{previous} matches policy.protect ({', '.join(protect)}) and may not move "
            f"to {folder.path}; remove 'previously' or narrow policy.protect",
        )
        return True
    return False


def _cloud_differs(ctx: Context, folder: DesiredFolder, live: LiveFolder) -> bool:
    sync = folder.cloud_sync
    if sync is None:
        return False
    if live.folder_type != "cloudLinked":
        return True
    wanted = ctx.resolved.integrations.get(sync.integration)
    return live.integration_uuid != wanted or (live.remote_url or "") != sync.remote_url


def _find_replacements(ctx: Context) -> None:
    tree = ctx.tree
    tree.project()
    for path in sorted(ctx.desired.folders):
        folder = ctx.desired.folders[path]
        uuid = tree.index.get(path)
        if uuid is None or uuid in tree.gone:
            continue  # absent, or inside a folder replaced already: created fresh
        if not _cloud_differs(ctx, folder, ctx.live.folders[uuid]):
            continue
        for moved in [u for u in tree.moves if _below(ctx, u, uuid)]:
            if is_under(tree.moves[moved], path):
                del tree.moves[moved]  # cannot outlive its replaced parent: created afresh
        inside = [ctx.live.folders[u].path for u in tree.subtree(uuid)]
        ambiguous = sorted(a for a in ctx.live.ambiguous if any(is_under(p, a) for p in inside))
        if ambiguous:
            ctx.blocked[path] = (
                "ambiguous-path",
                f"folder:{path} must be replaced, but {ambiguous[0]} inside it is ambiguous "
                f"(folders {', '.join(ctx.live.ambiguous[ambiguous[0]])} share that path), so its "
                "contents cannot be deleted one by one; remove the duplicates in Encord first",
            )
            continue
        ctx.replaced[path] = uuid
        tree.gone.update(tree.subtree(uuid))


def _below(ctx: Context, uuid: str, ancestor: str) -> bool:
    parent = ctx.live.folders[uuid].parent
    while parent is not None and parent in ctx.live.folders:
        if parent == ancestor:
            return True
        parent = ctx.live.folders[parent].parent
    return False


def _ensure_ancestors(ctx: Context, path: str, source: str | None = None) -> None:
    """Create undeclared ancestors that do not exist yet (declared ones come first anyway);
    they cite the declaration that needs them."""
    parts = split_path(path)
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        if ctx.tree.exists(ancestor) or ancestor in ctx.desired.folders:
            continue
        after = {
            "path": ancestor,
            "name": parts[depth - 1],
            "description": "",
            "metadata": {OWNER_KEY: ctx.owner},
            "cloud_sync": None,
        }
        _add_create(ctx, ancestor, after, source=source, reason=f"parent of {path}")


def _add_create(
    ctx: Context, path: str, after: dict[str, Any], *, source: str | None, reason: str
) -> None:
    parent_uuid, parent, dep = ctx.tree.parent_ref(path)
    actions = [Action.CREATE]
    cloud = after.get("cloud_sync")
    if cloud is not None and cloud.get("sync") == "on_create":
        actions.append(Action.SYNC)
        ctx.synced_on_create.append(path)
    address = addr.folder(path)
    ctx.changes.append(
        Change(
            address=address,
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            after=after,
            source=source,
            reason=reason,
            depends_on=(dep,) if dep else (),
            refs=Refs(
                parent_uuid=parent_uuid,
                parent_path=parent,
                integration_uuid=cloud.get("integration_uuid") if cloud else None,
            ),
        )
    )
    ctx.tree.created[path] = address


def _create_view(ctx: Context, folder: DesiredFolder) -> dict[str, Any]:
    cloud: dict[str, Any] | None = None
    if folder.cloud_sync is not None:
        uuid = ctx.resolved.integrations.get(folder.cloud_sync.integration)
        cloud = cloud_view(uuid, folder.cloud_sync.remote_url, ctx.resolved.integration_titles)
        cloud["sync"] = folder.cloud_sync.sync
    return {
        "path": folder.path,
        "name": folder.name,
        "description": folder.description or "",
        "metadata": canonical({**(folder.metadata or {}), OWNER_KEY: ctx.owner}),
        "cloud_sync": cloud,
    }


def _plan_declared(ctx: Context, folder: DesiredFolder) -> None:
    if folder.path in ctx.replaced:
        _plan_replacement(ctx, folder, ctx.live.folders[ctx.replaced[folder.path]])
        return
    live = ctx.tree.folder_at(folder.path)
    if live is None:
        _ensure_ancestors(ctx, folder.path, str(folder.source))
        _add_create(
            ctx,
            folder.path,
            _create_view(ctx, folder),
            source=str(folder.source),
            reason="declared, not in Encord",
        )
        return
    _plan_existing(ctx, folder, live)


def _plan_existing(ctx: Context, folder: DesiredFolder, live: LiveFolder) -> None:
    before = live_folder_view(live, with_cloud=False, titles=ctx.resolved.integration_titles)
    after = dict(before)
    after["path"] = folder.path
    after["name"] = folder.name
    if folder.description is not None:
        after["description"] = folder.description
    after["metadata"] = canonical(desired_folder_metadata(folder, live.metadata))
    diff = field_diff(before, after)
    if not diff:
        return
    moved = ctx.tree.moves.get(live.uuid) == folder.path
    actions: list[Action] = [Action.MOVE] if moved else []
    if any(d.path[0] in ("description", "metadata") for d in diff):
        actions.append(Action.PATCH)
    refs = Refs(uuid=live.uuid, from_parent_uuid=live.parent)
    dep = None
    if moved:
        _ensure_ancestors(ctx, folder.path, str(folder.source))
        parent_uuid, parent, dep = ctx.tree.parent_ref(folder.path)
        refs = Refs(
            uuid=live.uuid,
            parent_uuid=parent_uuid,
            parent_path=parent,
            from_parent_uuid=live.parent,
        )
    ctx.changes.append(
        Change(
            address=addr.folder(folder.path),
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            previous_address=addr.folder(live.path) if moved else None,
            before=before,
            after=after,
            diff=diff,
            source=str(_source_of(folder, diff, moved)),
            reason=_move_reason(ctx, live) if moved else "declared fields differ",
            fingerprint=fingerprint_of(live.last_edited_at, before),
            depends_on=(dep,) if dep else (),
            refs=refs,
        )
    )


def _move_reason(ctx: Context, live: LiveFolder) -> str:
    origin = ctx.resumed_moves.get(live.uuid)
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
        if field in folder.field_sources:
            return folder.field_sources[field]
    return folder.source


def _plan_replacement(ctx: Context, folder: DesiredFolder, live: LiveFolder) -> None:
    titles = ctx.resolved.integration_titles
    before = live_folder_view(live, with_cloud=True, titles=titles)
    after = _create_view(ctx, folder)
    contents = subtree_deletes(ctx, live.uuid, include_root=False, reason="", why="replaced")
    _ensure_ancestors(ctx, folder.path, str(folder.source))
    parent_uuid, parent, dep = ctx.tree.parent_ref(folder.path)
    actions = [Action.DELETE, Action.CREATE]
    if folder.cloud_sync is not None and folder.cloud_sync.sync == "on_create":
        actions.append(Action.SYNC)
        ctx.synced_on_create.append(folder.path)
    reason = _replacement_reason(ctx, before, after, contents)
    address = addr.folder(folder.path)
    ctx.changes.extend(contents)
    ctx.changes.append(
        Change(
            address=address,
            kind=addr.Kind.FOLDER,
            actions=tuple(actions),
            previous_address=addr.folder(live.path) if live.path != folder.path else None,
            before=before,
            after=after,
            diff=field_diff(before, _without_sync(after)),
            source=str(folder.cloud_sync.source if folder.cloud_sync else folder.source),
            reason=reason,
            fingerprint=fingerprint_of(live.last_edited_at, before),
            depends_on=tuple(sorted(_replacement_deps(ctx, live, contents, dep))),
            refs=Refs(
                uuid=live.uuid,
                parent_uuid=parent_uuid,
                parent_path=parent,
                from_parent_uuid=live.parent,
                integration_uuid=after["cloud_sync"]["integration_uuid"]
                if after["cloud_sync"]
                else None,
            ),
        )
    )
    ctx.tree.created[folder.path] = address


def _replacement_reason(
    ctx: Context, before: dict[str, Any], after: dict[str, Any], contents: list[Change]
) -> str:
    """Why the folder cannot be patched, and what is lost by deleting it."""
    items = [c.refs.uuid for c in contents if c.kind == addr.Kind.ITEM]
    what = "a generic folder cannot become cloud-synced"
    if before.get("cloud_sync") and after["cloud_sync"]:
        old, new = before["cloud_sync"], after["cloud_sync"]
        changed = (
            "integration" if old["integration_uuid"] != new["integration_uuid"] else "remote URL"
        )
        what = f"{changed} changed and a cloud-synced folder cannot be re-pointed"
    return (
        f"{what}: it is deleted and created again; lost: the folder's UUID, "
        f"{plural(len(items), 'item')}, {plural(ctx.links_to(items), 'dataset link')}, its "
        "group grants (re-granted) and item metadata (re-applied after the sync)"
    )


def _without_sync(view: dict[str, Any]) -> dict[str, Any]:
    """``sync`` is what apply does once, not a property the live folder shows."""
    cloud = view.get("cloud_sync")
    if not cloud:
        return view
    return {**view, "cloud_sync": {k: v for k, v in cloud.items() if k != "sync"}}


def _replacement_deps(
    ctx: Context, live: LiveFolder, contents: list[Change], parent_dep: str | None
) -> set[str]:
    """Direct content deletes, folders moving out first, and the new parent's creation."""
    deps = {c.address for c in contents if _is_child(c, live)}
    deps.update(addr.folder(p) for u, p in ctx.tree.moves.items() if _below(ctx, u, live.uuid))
    if parent_dep:
        deps.add(parent_dep)
    return deps


def _is_child(change: Change, parent: LiveFolder) -> bool:
    return change.refs.from_parent_uuid == parent.uuid
