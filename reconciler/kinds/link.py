"""Items linked into datasets: links per dataset; unlinks per dataset by data hash, up to
the bundle size (one item may back several rows, and its hashes never split)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import dataset_key
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class LinkPayload(Payload):
    """The linked item's path; an unlink's ``before`` also names the data hashes the item
    backs in the dataset (None: not shown)."""

    item: str
    data_hashes: tuple[str, ...] | None = None

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"item": self.item}
        if self.data_hashes is not None:
            out["data_hashes"] = list(self.data_hashes)
        return out

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> LinkPayload:
        hashes = value.get("data_hashes")
        return cls(str(value["item"]), None if hashes is None else tuple(hashes))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> LinkPayload | None:
        if value is None or isinstance(value, LinkPayload):
            return value
        return cls.decode(value)


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.LINK if Action.LINK in change.actions else Phase.UNLINK, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_links import Links, Unlinks

    return {Phase.LINK: Links, Phase.UNLINK: Unlinks}


def bundle_key(step: Step) -> BundleKey | None:
    return (str(step.phase), dataset_key(step.change))


def weight(step: Step) -> int:
    """An unlink weighs its data hashes (the API's limit counts rows, not items)."""
    if step.phase == Phase.UNLINK:
        return max(1, len(step.change.refs.data_hashes))
    return 1


SHAPES = frozenset({(Action.LINK,), (Action.UNLINK,)})

SPEC = KindSpec(
    kind=Kind.LINK,
    display_rank=8,
    delete_rank=3,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    weight=weight,
    drift="links",
    drift_field="linked",
    check="links",
    decode=LinkPayload.decode,
)
