"""Storage items: patched (metadata, name) through patch-bulk, moved per source and target
folder, deleted per parent folder. There are often a hundred thousand of them: keep this fast."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import target_parent
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class ItemPayload(Payload):
    """An item as plans show it: its path and its whole client metadata (canonical)."""

    path: str
    metadata: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def encode(self) -> dict[str, Any]:
        return {"path": self.path, "metadata": self.metadata}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> ItemPayload:
        metadata = value["metadata"]
        if not isinstance(metadata, dict):
            raise TypeError(f"an item's metadata is {type(metadata).__name__}, not an object")
        return cls(str(value["path"]), metadata)

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> ItemPayload | None:
        """The payload of an item change's ``before`` or ``after`` (None stays None)."""
        if value is None or isinstance(value, ItemPayload):
            return value
        return cls.decode(value)


def item_renamed(change: Change) -> bool:
    """An item whose name changes (moved under another name by a manifest)."""
    before, after = ItemPayload.of(change.before), ItemPayload.of(change.after)
    return before is not None and after is not None and before.name != after.name


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    acts = change.actions
    if acts == (Action.PATCH,):  # by far the most common change: answer it at once
        return [(Phase.PATCH_ITEMS, acts)]
    if change.is_delete:
        return [(Phase.REPLACE if replaced else Phase.DELETE_ITEMS, acts)]
    out: list[PhaseWork] = []
    if Action.MOVE in acts:
        out.append((Phase.MOVE_ITEMS, (Action.MOVE,)))
    if Action.PATCH in acts or (Action.MOVE in acts and item_renamed(change)):
        # A rename travels in the item patch (one patch-bulk sets name and metadata).
        out.append((Phase.PATCH_ITEMS, (Action.PATCH,)))
    return out


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_items import DeleteItems, MoveItems, PatchItems

    return {
        Phase.REPLACE: DeleteItems,
        Phase.MOVE_ITEMS: MoveItems,
        Phase.PATCH_ITEMS: PatchItems,
        Phase.DELETE_ITEMS: DeleteItems,
    }


def bundle_key(step: Step) -> BundleKey | None:
    """The API moves items from one source folder to one target folder per call, and
    deletes them from one parent folder per call."""
    change = step.change
    if step.phase == Phase.PATCH_ITEMS:
        return ("patch-bulk",)
    if step.phase == Phase.MOVE_ITEMS:
        return ("move-items", change.refs.from_parent_uuid, target_parent(change))
    return ("delete-items", change.refs.from_parent_uuid)


SHAPES = frozenset({(Action.PATCH,), (Action.MOVE,), (Action.MOVE, Action.PATCH), (Action.DELETE,)})

SPEC = KindSpec(
    kind=Kind.ITEM,
    display_rank=4,
    delete_rank=0,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    drift="metadata",
    check="item",
    decode=ItemPayload.decode,
)
