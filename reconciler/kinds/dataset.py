"""Datasets: only ever created. The API has no call to delete a dataset or to change its
description, so the planner plans neither (``reconciler.plan.shapes``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model import addresses as addr
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.model.desired import DesiredState
    from reconciler.model.live import LiveState
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class DatasetPayload(Payload):
    """A dataset as plans show it; ``description`` carries the ownership tag when ours."""

    title: str
    description: str

    def encode(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> DatasetPayload:
        return cls(str(value["title"]), str(value["description"]))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> DatasetPayload:
        """The payload of a dataset change (None reads as empty)."""
        if isinstance(value, DatasetPayload):
            return value
        return cls.decode(value) if value else cls("", "")


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.DATASETS, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_org import Datasets

    return {Phase.DATASETS: Datasets}


def bundle_key(step: Step) -> BundleKey | None:
    return None


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Datasets not declared (datasets are never pruned), except those a cloud-synced folder
    keeps in step with itself: they follow their folder."""
    synced = {f.synced_dataset_hash for f in live.folders.values() if f.synced_dataset_hash}
    return tuple(
        sorted(
            {
                addr.dataset(d.title)
                for d in live.datasets.values()
                if d.title not in desired.datasets and d.uuid not in synced
            }
        )
    )


# A dataset patch is planned but never kept (``withhold_unsupported``): not a shape.
SHAPES = frozenset({(Action.CREATE,)})

SPEC = KindSpec(
    kind=Kind.DATASET,
    display_rank=5,
    delete_rank=3,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    decode=DatasetPayload.decode,
    unmanaged=unmanaged,
)
