"""Sidecar settings of cloud-synced folders (``cloud_sync.metadata_sidecars``): a patch of
the folder config when the live one differs, or when the folder is created by this plan.

Only what is declared is compared: a folder without ``metadata_sidecars`` has its config
left alone, and the patch sets ``metadataIngestion`` only (apply keeps every other key of
the live config). A folder whose config could not be read plans nothing (the read's
problem is in the plan): an unread config is not an empty one. The API cannot switch
ingestion off, so declaring it is the one way to manage it.
"""

from __future__ import annotations

from reconciler.kinds.folder_config import FolderConfigPayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredFolder
from reconciler.plan.actions import Action
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change, Refs
from reconciler.plan.tree import Tree


def plan_folder_configs(ctx: Context, tree: Tree) -> tuple[Change, ...]:
    if ctx.options.item_roots is not None:
        return ()
    out: list[Change] = []
    for path in sorted(ctx.desired.folders):
        folder = ctx.desired.folders[path]
        cloud = folder.cloud_sync
        if cloud is None or cloud.metadata_sidecars is None:
            continue
        change = _change(ctx, tree, folder)
        if change is not None:
            out.append(change)
    return tuple(out)


def _change(ctx: Context, tree: Tree, folder: DesiredFolder) -> Change | None:
    assert folder.cloud_sync is not None and folder.cloud_sync.metadata_sidecars is not None
    sidecars = folder.cloud_sync.metadata_sidecars
    after = FolderConfigPayload(sidecars.suffix, sidecars.paused)
    uuid = tree.index.get(folder.path)
    created = tree.created.get(folder.path)
    if created is not None:
        before = None
    elif uuid is None:
        return None  # neither live nor created: withheld with its folder
    else:
        live = ctx.live.folder_configs.get(uuid)
        if live is None:
            return None  # not read (a failed read is a listing problem of the plan)
        before = FolderConfigPayload(live.sidecar_suffix, live.sidecars_paused)
        if before == after:
            return None
    return Change(
        address=addr.folder_config(folder.path),
        kind=addr.Kind.FOLDER_CONFIG,
        actions=(Action.PATCH,),
        before=before,
        after=after,
        diff=field_diff(before or FolderConfigPayload(None), after),
        source=str(folder.cloud_sync.source),
        reason="metadata_sidecars differ" if before else "metadata_sidecars of a new folder",
        depends_on=(created,) if created else (),
        refs=Refs(folder_uuid=None if created else uuid),
    )
