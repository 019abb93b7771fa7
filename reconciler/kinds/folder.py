"""Storage folders: created parents first, moved shallow targets first, deleted children
first; a cloud-synced folder re-pointed is replaced (deleted, created, synced)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import depth, target_parent
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Address, Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


class Omitted(Enum):
    """A field the view leaves out: a folder's cloud sync is shown only when it is compared
    (a replacement, a create), not for a patch or a move."""

    OMITTED = "omitted"


OMITTED = Omitted.OMITTED


@dataclass(frozen=True, slots=True)
class CloudSync:
    """A folder's cloud sync as plans show it. ``integration`` is the integration's title
    (its UUID when the title is unknown); ``sync`` is what apply does once, so only the
    desired side has it."""

    integration: str | None
    integration_uuid: str | None
    remote_url: str | None
    sync: str | None = None

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "integration": self.integration,
            "integration_uuid": self.integration_uuid,
            "remote_url": self.remote_url,
        }
        if self.sync is not None:
            out["sync"] = self.sync
        return out

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> CloudSync:
        return cls(
            value["integration"], value["integration_uuid"], value["remote_url"], value.get("sync")
        )


@dataclass(frozen=True, slots=True)
class FolderPayload(Payload):
    """A folder as plans show it (``metadata`` canonical, with our ownership marker when
    ours). ``cloud_sync`` is None for a generic folder and ``OMITTED`` when not compared."""

    path: str
    name: str
    description: str
    metadata: Mapping[str, Any]
    cloud_sync: CloudSync | Omitted | None = OMITTED

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "name": self.name,
            "description": self.description,
            "metadata": self.metadata,
        }
        if self.cloud_sync is not OMITTED:
            out["cloud_sync"] = None if self.cloud_sync is None else self.cloud_sync.encode()
        return out

    @property
    def cloud(self) -> CloudSync | None:
        """The cloud sync when the view shows one."""
        return self.cloud_sync if isinstance(self.cloud_sync, CloudSync) else None

    def without_sync(self) -> FolderPayload:
        """The view as the live folder could show it (``sync`` is not a property)."""
        if self.cloud is None:
            return self
        return replace(self, cloud_sync=replace(self.cloud, sync=None))

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> FolderPayload:
        metadata = value["metadata"]
        if not isinstance(metadata, dict):
            raise TypeError(f"a folder's metadata is {type(metadata).__name__}, not an object")
        cloud: CloudSync | Omitted | None = OMITTED
        if "cloud_sync" in value:
            raw = value["cloud_sync"]
            cloud = None if raw is None else CloudSync.decode(raw)
        return cls(
            str(value["path"]), str(value["name"]), str(value["description"]), metadata, cloud
        )

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> FolderPayload | None:
        """The payload of a folder change's ``before`` or ``after`` (None stays None)."""
        if value is None or isinstance(value, FolderPayload):
            return value
        return cls.decode(value)


def delete_path(change: Change) -> str:
    """The live path of a folder being deleted (for a replacement, its old path)."""
    if isinstance(change.before, FolderPayload):
        return change.before.path
    return Address.parse(change.previous_address or change.address).key


def desired_path(change: Change) -> str:
    if isinstance(change.after, FolderPayload):
        return change.after.path
    return Address.parse(change.address).key


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    acts = change.actions
    out: list[PhaseWork] = []
    if change.is_replace:
        out.append((Phase.REPLACE, (Action.DELETE,)))
    elif change.is_delete:
        return [(Phase.REPLACE if replaced else Phase.DELETE_FOLDERS, acts)]
    if Action.CREATE in acts:  # where a folder leaving a replaced one goes: before it leaves
        out.append((Phase.CREATE_AHEAD if replaced else Phase.CREATE_FOLDERS, (Action.CREATE,)))
        if Action.SYNC in acts:
            out.append((Phase.SYNC, (Action.SYNC,)))
        return out
    if Action.SYNC in acts:  # a folder a stopped run created and never synced
        out.append((Phase.SYNC, (Action.SYNC,)))
    patched = tuple(a for a in acts if a in _PATCHED_BY)
    if patched:  # the marker is metadata: adopt and release are written by the patch
        out.append((Phase.PATCH_FOLDERS, patched))
    if Action.MOVE in acts:  # out of a replaced folder: before the replacement deletes it
        out.append((Phase.MOVE_OUT if replaced else Phase.MOVE_FOLDERS, (Action.MOVE,)))
    return out


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_folders import CreateFolders, DeleteFolders, MoveFolders, PatchFolders
    from reconciler.apply.ops_links import Syncs

    return {
        Phase.CREATE_AHEAD: CreateFolders,
        Phase.MOVE_OUT: MoveFolders,
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
    if step.phase in (Phase.MOVE_OUT, Phase.MOVE_FOLDERS):
        return ("move-folders", target_parent(step.change))
    return None


def wave(step: Step) -> tuple[int, ...]:
    """Creates parents first; moves shallow targets first (moving ``/x/y`` to ``/y`` must
    precede moving ``/x`` into it); deletes children first."""
    if step.phase in _PARENTS_FIRST:
        return (depth(desired_path(step.change)),)
    if step.phase in (Phase.REPLACE, Phase.DELETE_FOLDERS):
        return (-depth(delete_path(step.change)),)
    return ()


_PARENTS_FIRST = (Phase.CREATE_AHEAD, Phase.CREATE_FOLDERS, Phase.MOVE_OUT, Phase.MOVE_FOLDERS)
_PATCHED_BY = (Action.PATCH, Action.ADOPT, Action.RELEASE)
_C, _P, _M, _D, _S = Action.CREATE, Action.PATCH, Action.MOVE, Action.DELETE, Action.SYNC
SHAPES = frozenset(
    {(_C,), (_C, _S), (_P,), (_M,), (_M, _P), (_D,), (_D, _C), (_D, _C, _S)}
    # a folder a stopped run created and never synced: synced now (``plan.folders``)
    | {(_S,), (_P, _S), (_M, _S), (_M, _P, _S)}
    # adopted or released (``adopt:``, ``release:``), alone or with a patch or a move
    | {
        (*m, *p, c)
        for m in ((), (_M,))
        for p in ((), (_P,))
        for c in (Action.ADOPT, Action.RELEASE)
    }
)

SPEC = KindSpec(
    kind=Kind.FOLDER,
    display_rank=2,
    delete_rank=1,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    wave=wave,
    check="folder",
    decode=FolderPayload.decode,
)
