"""Which operation carries out which step: one instance of each per run (some remember what
they read for the rest of the run, such as a dataset's rows)."""

from __future__ import annotations

from reconciler.apply.executor import Operation
from reconciler.apply.ops_access import (
    DatasetGroupGrants,
    DatasetGroupRevokes,
    DatasetUserGrants,
    DatasetUserRevokes,
    FolderGrants,
    FolderRevokes,
)
from reconciler.apply.ops_folders import CreateFolders, DeleteFolders, MoveFolders, PatchFolders
from reconciler.apply.ops_items import DeleteItems, MoveItems, PatchItems
from reconciler.apply.ops_links import Links, Syncs, Unlinks
from reconciler.apply.ops_org import Datasets, DeleteGroups, Groups, SetSchema
from reconciler.apply.phases import Phase, Step
from reconciler.model import addresses as addr

_BY_PHASE: dict[Phase, type] = {
    Phase.SCHEMA: SetSchema,
    Phase.CREATE_FOLDERS: CreateFolders,
    Phase.SYNC: Syncs,
    Phase.PATCH_FOLDERS: PatchFolders,
    Phase.MOVE_FOLDERS: MoveFolders,
    Phase.MOVE_ITEMS: MoveItems,
    Phase.PATCH_ITEMS: PatchItems,
    Phase.GROUPS: Groups,
    Phase.GRANTS: FolderGrants,
    Phase.DATASETS: Datasets,
    Phase.LINK: Links,
    Phase.UNLINK: Unlinks,
    Phase.DELETE_ITEMS: DeleteItems,
    Phase.DELETE_FOLDERS: DeleteFolders,
    Phase.DELETE_GROUPS: DeleteGroups,
}

_BY_KIND: dict[tuple[Phase, str], type] = {
    (Phase.REPLACE, addr.Kind.ITEM): DeleteItems,
    (Phase.REPLACE, addr.Kind.FOLDER): DeleteFolders,
    (Phase.DATASET_GRANTS, addr.Kind.DATASET_GROUP): DatasetGroupGrants,
    (Phase.DATASET_GRANTS, addr.Kind.DATASET_USER): DatasetUserGrants,
    (Phase.REVOKE, addr.Kind.FOLDER_GROUP): FolderRevokes,
    (Phase.REVOKE, addr.Kind.DATASET_GROUP): DatasetGroupRevokes,
    (Phase.REVOKE, addr.Kind.DATASET_USER): DatasetUserRevokes,
}


class Operations:
    """``operations(step)`` is the operation for ``step``; instances live for one run."""

    def __init__(self) -> None:
        self._made: dict[type, Operation] = {}

    def __call__(self, step: Step) -> Operation:
        cls = _BY_KIND.get((step.phase, step.change.kind)) or _BY_PHASE.get(step.phase)
        if cls is None:
            raise ValueError(f"no operation for {step.change.kind} in phase {step.phase}")
        if cls not in self._made:
            self._made[cls] = cls()
        return self._made[cls]
