"""Deletes of undeclared folders, by the ``prune`` policy, and of a folder's contents.

A live folder in scope is *kept* when a declaration refers to it or to something below it
(declared folders, rule and selector folders, manifest rows, ``previously`` targets) and
*sync-owned* when it lies below a cloud-synced folder. Everything else in scope is a
candidate: ``prune: owned`` deletes candidates carrying our marker, ``prune: all`` those
carrying no other id, ``never`` nothing. A folder is deleted only with its whole subtree
(the API will not delete a non-empty folder), so the delete of a candidate holding something
we may not delete is withheld (``not-prunable``), never half-made. Candidates left alone are reported as unmanaged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.kinds.item import ItemPayload
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, join_path, parent_path
from reconciler.model.globs import glob_match
from reconciler.model.live import LiveFolder, LiveItem
from reconciler.plan import halfmoved
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.model import Change, Refs, Refusal
from reconciler.plan.tree import Tree
from reconciler.plan.views import live_folder_view


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What ``plan_prune`` decided: the deletes, the refusals to prune (``not-prunable``),
    the undeclared folders left alone, and the live folder UUIDs the deletes remove."""

    changes: tuple[Change, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    unmanaged: tuple[str, ...] = ()
    deleted: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Draft:
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)


def deleted_folders(changes: Iterable[Change]) -> frozenset[str]:
    """The live folders these changes delete (outright, or to create them again)."""
    return frozenset(
        c.refs.uuid
        for c in changes
        if c.kind == addr.Kind.FOLDER and Action.DELETE in c.actions and c.refs.uuid
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def item_address(folder_path: str, item: LiveItem, duplicates: Counter[str]) -> str:
    """``item:/a/b.jpg``; items sharing a path get ``#<uuid>`` so each address is unique."""
    path = join_path(folder_path, item.name)
    return addr.item(path) + (f"#{item.uuid}" if duplicates[item.name] > 1 else "")


def subtree_deletes(
    ctx: Context, tree: Tree, uuid: str, *, include_root: bool, reason: str, why: str = "deleted"
) -> list[Change]:
    """Delete changes for everything in a folder's subtree, children before parents."""
    out: list[Change] = []
    for folder_uuid in reversed(tree.subtree(uuid)):
        folder = ctx.live.folders[folder_uuid]
        path = tree.path_of[folder_uuid]
        item_changes = _item_deletes(ctx, folder, path, why)
        out.extend(item_changes)
        if folder_uuid == uuid and not include_root:
            continue
        children = [
            _folder_address(ctx, tree, c)
            for c in sorted(tree.children.get(folder_uuid, ()))
            if c not in tree.moves
        ]
        before = live_folder_view(folder, with_cloud=False, titles=ctx.resolved.integration_titles)
        out.append(
            Change(
                address=_folder_address(ctx, tree, folder_uuid),
                kind=addr.Kind.FOLDER,
                actions=(Action.DELETE,),
                before=before,
                source=None,
                reason=reason
                if folder_uuid == uuid
                else f"inside {tree.path_of[uuid]}, which is {why}",
                fingerprint=fingerprint_of(folder.last_edited_at, before),
                depends_on=tuple(children) + tuple(c.address for c in item_changes),
                refs=Refs(uuid=folder.uuid, from_parent_uuid=folder.parent),
            )
        )
    return out


def _folder_address(ctx: Context, tree: Tree, uuid: str) -> str:
    """``folder:/a/b``; ``#<uuid>`` is added when a declared folder will take that path again
    (the content of a replaced folder), so each address in a plan names one thing."""
    path = tree.path_of[uuid]
    return addr.folder(path) + (f"#{uuid}" if path in ctx.desired.folders else "")


def _item_deletes(ctx: Context, folder: LiveFolder, path: str, why: str) -> list[Change]:
    items = sorted(ctx.items_by_parent.get(folder.uuid, ()), key=lambda i: (i.name, i.uuid))
    duplicates = Counter(i.name for i in items)
    out = []
    for item in items:
        before = ItemPayload(join_path(path, item.name), canonical(dict(item.metadata)))
        out.append(
            Change(
                address=item_address(path, item, duplicates),
                kind=addr.Kind.ITEM,
                actions=(Action.DELETE,),
                before=before,
                reason=f"inside folder {path}, which is {why}",
                fingerprint=fingerprint_of(item.last_edited_at, before),
                refs=Refs(uuid=item.uuid, from_parent_uuid=folder.uuid),
            )
        )
    return out


def _referenced_paths(ctx: Context) -> set[str]:
    desired = ctx.desired
    paths = set(desired.folders) | set(ctx.roots)
    paths.update(rule.folder for rule in desired.rules)
    for ds in desired.datasets.values():
        for sel in ds.items:
            if sel.folder is not None:
                paths.add(sel.folder)
            paths.update(p.rsplit("/", 1)[0] or "/" for p in sel.paths)
    for manifest in desired.manifests:
        paths.update(p.rsplit("/", 1)[0] or "/" for p in manifest.entries.rows)
    return paths


def _kept(ctx: Context, tree: Tree) -> set[str]:
    kept: set[str] = set(tree.moves)
    for path in _referenced_paths(ctx):
        current: str | None = path
        while current is not None:
            uuid = tree.index.get(current)
            if uuid is not None:
                kept.add(uuid)
            current = parent_path(current)
    return kept


def plan_prune(ctx: Context, tree: Tree) -> PrunePlan:
    """Deletes of undeclared folders in scope, judged against the projected ``tree``."""
    live = ctx.live
    kept = _kept(ctx, tree)
    ambiguous = tuple(live.ambiguous)
    candidates = {
        uuid
        for uuid, path in tree.path_of.items()
        if uuid not in kept
        and uuid not in tree.gone
        and any(is_under(path, root) for root in ctx.roots)
        and not any(is_under(live.folders[uuid].path, a) for a in ambiguous)
        and not tree.is_sync_owned(uuid)
    }
    tops = sorted(
        (u for u in candidates if live.folders[u].parent not in candidates),
        key=lambda u: tree.path_of[u],
    )
    out = _Draft()
    for uuid in tops:
        _consider(ctx, tree, uuid, candidates, out)
    return PrunePlan(
        changes=tuple(out.changes),
        refusals=tuple(out.refusals),
        unmanaged=tuple(out.unmanaged),
        deleted=deleted_folders(out.changes),
    )


def _allowed(ctx: Context, folder: LiveFolder) -> bool:
    owner = ctx.folder_owner(folder)
    prune = ctx.desired.policy.prune
    if prune == "owned":
        return owner == ctx.owner
    if prune == "all":
        return owner is None or owner == ctx.owner
    return False


def _in_the_way(ctx: Context, tree: Tree, uuid: str, candidates: set[str]) -> list[str]:
    """Folders below ``uuid`` that stop its deletion (not ours to delete, or ambiguous)."""
    out = []
    for child in tree.subtree(uuid)[1:]:
        folder = ctx.live.folders[child]
        if child in candidates and _allowed(ctx, folder):
            continue
        if child not in candidates and tree.is_sync_owned(child):
            continue
        out.append(tree.path_of[child])
    return out


def _consider(ctx: Context, tree: Tree, uuid: str, candidates: set[str], out: _Draft) -> None:
    folder = ctx.live.folders[uuid]
    path = tree.path_of[uuid]
    if not _allowed(ctx, folder):
        out.unmanaged.append(addr.folder(path))
        for child in sorted(tree.children.get(uuid, ())):
            if child in candidates:
                _consider(ctx, tree, child, candidates, out)
        return
    moving = _maybe_moving(ctx, tree, uuid)
    if moving is not None:
        out.refusals.append(moving)
        return
    in_the_way = _in_the_way(ctx, tree, uuid, candidates)
    if in_the_way:
        shown = ", ".join(f"folder:{b}" for b in in_the_way[:5])
        more = f" and {len(in_the_way) - 5} more" if len(in_the_way) > 5 else ""
        out.refusals.append(
            Refusal(
                code="not-prunable",
                message=(
                    f"folder:{path} is not declared and may be pruned, but it holds {shown}{more}, "
                    "which this config may not delete; remove those by hand, declare "
                    f"{path}, or change policy.prune"
                ),
                addresses=(addr.folder(path),),
            )
        )
        return
    reason = _delete_reason(ctx, tree, uuid)
    out.changes.extend(subtree_deletes(ctx, tree, uuid, include_root=True, reason=reason))


def _maybe_moving(ctx: Context, tree: Tree, uuid: str) -> Refusal | None:
    """Why not to delete a folder a ``previously:`` may mean (at its old path, or half-way
    after a stopped run): it may be the declared folder itself, with everything in it."""
    referred = halfmoved.referred(ctx.desired.folders, ctx.live.paths)
    by_uuid = {u: p for p, u in halfmoved.journaled_moves(ctx).items()}
    for inside in tree.subtree(uuid):
        live_path = ctx.live.folders[inside].path
        declared = by_uuid.get(inside) or referred.get(live_path)
        if declared is None or _protected(ctx, live_path):
            continue  # a protected folder's delete is withheld by policy.protect, saying so
        path = tree.path_of[uuid]
        return Refusal(
            code="not-prunable",
            message=(
                f"folder:{path} is not declared, but folder:{live_path} may be "
                f"folder:{declared} (a previously path of it, or half-way there after a run "
                "that stopped, or named by its journal), so nothing there is deleted; move "
                "what it holds into "
                f"{declared} and delete it by hand, or fix previously of {declared}"
            ),
            addresses=(addr.folder(path),),
        )
    return None


def _protected(ctx: Context, path: str) -> bool:
    return any(glob_match(p, path) for p in ctx.desired.policy.protect)


def _delete_reason(ctx: Context, tree: Tree, uuid: str) -> str:
    folders = tree.subtree(uuid)
    items = {i.uuid for f in folders for i in ctx.items_by_parent.get(f, ())}
    links = ctx.links_to(items)
    mode = ctx.desired.policy.prune
    why = "carries our ownership marker" if mode == "owned" else "is not owned by another config"
    lost = (
        f"; lost with it: {plural(len(folders) - 1, 'subfolder')}, {plural(len(items), 'item')}, "
        f"{plural(links, 'dataset link')}"
    )
    return f"not declared; prune: {mode} and it {why}{lost}"
