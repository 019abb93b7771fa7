"""A cloud-synced folder's config: metadata sidecar ingestion (``cloud_sync.metadata_sidecars``).

Address ``folder-config:/folder``, action ``patch``: apply reads the whole folder config,
sets ``metadataIngestion`` and writes it back, so keys reconciler does not model are kept
(``reconciler.apply.ops_register.FolderConfigs``). It runs before the sync, so sidecars attach
on the folder's first sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class FolderConfigPayload(Payload):
    """Sidecar ingestion as plans show it: the suffix (None: ingestion off) and ``paused``."""

    suffix: str | None
    paused: bool = False

    def encode(self) -> dict[str, Any]:
        return {"sidecar_suffix": self.suffix, "sidecars_paused": self.paused}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> FolderConfigPayload:
        suffix = value["sidecar_suffix"]
        return cls(None if suffix is None else str(suffix), bool(value["sidecars_paused"]))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> FolderConfigPayload | None:
        if value is None or isinstance(value, FolderConfigPayload):
            return value
        return cls.decode(value)


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.FOLDER_CONFIG, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_folder_config import FolderConfigs

    return {Phase.FOLDER_CONFIG: FolderConfigs}


def bundle_key(step: Step) -> BundleKey | None:
    return None  # one read-modify-write per folder


SHAPES = frozenset({(Action.PATCH,)})

SPEC = KindSpec(
    kind=Kind.FOLDER_CONFIG,
    display_rank=13,
    delete_rank=5,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    check="folder",
    decode=FolderConfigPayload.decode,
)
