"""Where declared folders come from: ``previously`` moves and cloud-synced replacements.

The first half of ``plan_folders`` (see ``folders``): it decides which live folder goes
where, on the ``Tree`` it owns, before any change is written. Moves come first (shallow
folders first, so a child's ``previously`` is looked up in a tree where its parent already
moved), then replacements (a cloud-synced folder whose integration or remote URL changed is
deleted and created again, so its subtree leaves the projection). A move or replacement
that cannot be made safely is not made: its subtree is withheld (``Withheld``), so nothing
else is planned as if it had happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.errors import Diagnostic
from reconciler.model.addresses import is_under, split_path
from reconciler.model.desired import DesiredFolder
from reconciler.model.globs import glob_match
from reconciler.model.live import LiveFolder
from reconciler.plan.context import Context
from reconciler.plan.halfmoved import candidate, half_moved
from reconciler.plan.model import Change, RefusalCode
from reconciler.plan.tree import Tree


@dataclass(frozen=True, slots=True)
class Withheld:
    """A declared folder's subtree that nothing may be planned in: a ``previously`` move or a
    replacement that cannot be made safely. The withholding filter explains it."""

    path: str
    code: RefusalCode
    message: str


@dataclass(slots=True)
class FolderDraft:
    """The folder stage's working state; only ``plan_folders`` and its helpers see it."""

    ctx: Context
    tree: Tree
    changes: list[Change] = field(default_factory=list)
    withheld: dict[str, Withheld] = field(default_factory=dict)  # declared path ->
    problems: list[Diagnostic] = field(default_factory=list)
    synced_on_create: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)  # desired path -> old folder uuid
    resumed_moves: dict[str, str] = field(default_factory=dict)  # half-moved uuid -> previously

    def withhold(self, path: str, code: RefusalCode, message: str) -> None:
        self.withheld[path] = Withheld(path, code, message)


def _depth_levels(ctx: Context) -> list[list[DesiredFolder]]:
    levels: dict[int, list[DesiredFolder]] = {}
    for path in sorted(ctx.desired.folders):
        levels.setdefault(len(split_path(path)), []).append(ctx.desired.folders[path])
    return [levels[d] for d in sorted(levels)]


def plan_moves(d: FolderDraft) -> None:
    tree = d.tree
    declared = set(d.ctx.desired.folders)
    for level in _depth_levels(d.ctx):
        tree.project()
        for folder in level:
            if folder.previously and folder.path not in tree.index:
                _choose_move(d, folder, declared)


def _choose_move(d: FolderDraft, folder: DesiredFolder, declared: set[str]) -> None:
    """Pick the live folder to move here: at a ``previously`` path, else half-way there (a
    run stopped between the move and the rename). A move the safety filters would withhold is not
    made at all (and its subtree is withheld), so nothing else is planned as if it had
    happened."""
    tree, live = d.tree, d.ctx.live
    if any(is_under(folder.path, root) for root in tree.ambiguous):
        return  # the declared path itself is ambiguous: withheld by the ambiguity filter
    for previous in folder.previously:
        ambiguous = [root for root in live.ambiguous if is_under(previous, root)]
        if ambiguous:
            uuids = sorted(u for root in ambiguous for u in live.ambiguous[root])
            d.withhold(
                folder.path,
                "ambiguous-path",
                f"folder:{folder.path} was previously {previous}, but {ambiguous[0]} is "
                f"ambiguous (folders {', '.join(uuids)} share that path); rename or remove the "
                "duplicates in Encord, then plan again",
            )
            return
        uuid = candidate(tree, live.paths.get(previous), declared)
        if uuid is not None:
            _take(d, folder, previous, uuid)
            return
    uuid, previous = half_moved(d.ctx, tree, folder, declared)
    if uuid is not None:
        d.resumed_moves[uuid] = previous
        _take(d, folder, live.folders[uuid].path, uuid)


def _take(d: FolderDraft, folder: DesiredFolder, previous: str, uuid: str) -> None:
    tree = d.tree
    if _unmovable(d, folder, previous, d.ctx.live.folders[uuid]):
        return
    if is_under(folder.path, tree.path_of[uuid]):
        source = folder.field_sources.get("previously", folder.source)
        d.problems.append(
            Diagnostic(
                source.file,
                source.line,
                source.col,
                f"cannot move {previous} to {folder.path}: a folder cannot move into itself",
            )
        )
        return
    tree.moves[uuid] = folder.path


def _unmovable(d: FolderDraft, folder: DesiredFolder, previous: str, live: LiveFolder) -> bool:
    ctx = d.ctx
    owner = ctx.folder_owner(live)
    if owner is not None and owner != ctx.owner:
        d.withhold(
            folder.path,
            "foreign-owned",
            f"folder:{previous} is managed by another config ('{owner}'); it cannot be moved to "
            f"{folder.path} from here. Remove 'previously' or have '{owner}' give it up",
        )
        return True
    protect = ctx.desired.policy.protect
    if any(glob_match(p, previous) for p in protect):
        d.withhold(
            folder.path,
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


def find_replacements(d: FolderDraft) -> None:
    ctx, tree = d.ctx, d.tree
    tree.project()
    for path in sorted(ctx.desired.folders):
        folder = ctx.desired.folders[path]
        uuid = tree.index.get(path)
        if uuid is None or uuid in tree.gone:
            continue  # absent, or inside a folder replaced already: created fresh
        if not _cloud_differs(ctx, folder, ctx.live.folders[uuid]):
            continue
        for moved in [u for u in tree.moves if below(ctx, u, uuid)]:
            if is_under(tree.moves[moved], path):
                del tree.moves[moved]  # cannot outlive its replaced parent: created afresh
        inside = [ctx.live.folders[u].path for u in tree.subtree(uuid)]
        ambiguous = sorted(a for a in ctx.live.ambiguous if any(is_under(p, a) for p in inside))
        if ambiguous:
            d.withhold(
                path,
                "ambiguous-path",
                f"folder:{path} must be replaced, but {ambiguous[0]} inside it is ambiguous "
                f"(folders {', '.join(ctx.live.ambiguous[ambiguous[0]])} share that path), so its "
                "contents cannot be deleted one by one; remove the duplicates in Encord first",
            )
            continue
        d.replaced[path] = uuid
        tree.gone.update(tree.subtree(uuid))


def below(ctx: Context, uuid: str, ancestor: str) -> bool:
    parent = ctx.live.folders[uuid].parent
    while parent is not None and parent in ctx.live.folders:
        if parent == ancestor:
            return True
        parent = ctx.live.folders[parent].parent
    return False
