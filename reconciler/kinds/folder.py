"""Storage folders: created parents first, moved shallow targets first, deleted children
first; a cloud-synced folder re-pointed is replaced (deleted, created, synced)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from reconciler.kinds.actions import Action
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import delete_path, depth, desired_path, target_parent
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    acts = change.actions
    out: list[PhaseWork] = []
    if change.is_replace:
        out.append((Phase.REPLACE, (Action.DELETE,)))
    elif change.is_delete:
        return [(Phase.REPLACE if replaced else Phase.DELETE_FOLDERS, acts)]
    if Action.CREATE in acts:
        out.append((Phase.CREATE_FOLDERS, (Action.CREATE,)))
        if Action.SYNC in acts:
            out.append((Phase.SYNC, (Action.SYNC,)))
        return out
    if Action.PATCH in acts:
        out.append((Phase.PATCH_FOLDERS, (Action.PATCH,)))
    if Action.MOVE in acts:
        out.append((Phase.MOVE_FOLDERS, (Action.MOVE,)))
    return out


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_folders import CreateFolders, DeleteFolders, MoveFolders, PatchFolders
    from reconciler.apply.ops_links import Syncs

    return {
        Phase.REPLACE: DeleteFolders,
        Phase.CREATE_FOLDERS: CreateFolders,
        Phase.SYNC: Syncs,
        Phase.PATCH_FOLDERS: PatchFolders,
        Phase.MOVE_FOLDERS: MoveFolders,
        Phase.DELETE_FOLDERS: DeleteFolders,
    }


def bundle_key(step: Step) -> BundleKey | None:
    """Patches share patch-bulk; moves share their target parent; the rest (creates, syncs,
    deletes) is one folder per call."""
    if step.phase == Phase.PATCH_FOLDERS:
        return ("patch-bulk",)
    if step.phase == Phase.MOVE_FOLDERS:
        return ("move-folders", target_parent(step.change))
    return None


def wave(step: Step) -> tuple[int, ...]:
    """Creates parents first; moves shallow targets first (moving ``/x/y`` to ``/y`` must
    precede moving ``/x`` into it); deletes children first."""
    if step.phase in (Phase.CREATE_FOLDERS, Phase.MOVE_FOLDERS):
        return (depth(desired_path(step.change)),)
    if step.phase in (Phase.REPLACE, Phase.DELETE_FOLDERS):
        return (-depth(delete_path(step.change)),)
    return ()


SPEC = KindSpec(
    kind=Kind.FOLDER,
    display_rank=2,
    delete_rank=1,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    wave=wave,
    check="folder",
)
