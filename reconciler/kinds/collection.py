"""Index collections and their members.

``collection``: created, patched (description; a rename is a patch of ``name`` whose change
has the old name as ``previous_address``) in ``collections``, deleted in
``delete-collections``, one call each. ``collection-item``: an item added (``link``) or
removed (``unlink``) from a collection, bundled per collection and phase up to the bundle
size (``add-items``/``remove-items`` take 1000 UUIDs a call). A removal is destructive: it
is listed with deletes and counts toward ``policy.max_unlink_ratio``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import dependency
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model import addresses as addr
from reconciler.model.addresses import Kind
from reconciler.model.desired import tagged_by

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.model.desired import DesiredState
    from reconciler.model.live import LiveState
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class CollectionPayload(Payload):
    """A collection as plans show it: its top-level folder's path, its name, and its
    description (carrying the ownership tag when the collection is ours)."""

    name: str
    folder: str
    description: str

    def encode(self) -> dict[str, Any]:
        return {"name": self.name, "folder": self.folder, "description": self.description}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> CollectionPayload:
        return cls(str(value["name"]), str(value["folder"]), str(value["description"]))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> CollectionPayload:
        if isinstance(value, CollectionPayload):
            return value
        return cls.decode(value) if value else cls("", "", "")


@dataclass(frozen=True, slots=True)
class CollectionItemPayload(Payload):
    """The member item's path."""

    item: str

    def encode(self) -> dict[str, Any]:
        return {"item": self.item}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> CollectionItemPayload:
        return cls(str(value["item"]))


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.DELETE_COLLECTIONS if change.is_delete else Phase.COLLECTIONS, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_collections import Collections, DeleteCollections

    return {Phase.COLLECTIONS: Collections, Phase.DELETE_COLLECTIONS: DeleteCollections}


def no_bundle(step: Step) -> BundleKey | None:
    return None


def item_phases(change: Change, replaced: bool) -> list[PhaseWork]:
    adds = Action.LINK in change.actions
    return [(Phase.COLLECTION_ADD if adds else Phase.COLLECTION_REMOVE, change.actions)]


def item_operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_collections import CollectionItems

    return {Phase.COLLECTION_ADD: CollectionItems, Phase.COLLECTION_REMOVE: CollectionItems}


def collection_key(change: Change) -> Hashable:
    return change.refs.collection_uuid or dependency(change, Kind.COLLECTION)


def item_bundle_key(step: Step) -> BundleKey | None:
    return (str(step.phase), collection_key(step.change))


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Collections in a listed folder that no declaration names (nor its ``previously``)
    and that prune leaves alone: not tagged ours, or ``prune: never``."""
    named = {(c.folder, n) for c in desired.collections.values() for n in (c.name, *c.previously)}
    prunes = desired.policy.prune != "never"
    return tuple(
        sorted(
            {
                addr.collection(c.name)
                for c in live.collections.values()
                if c.folder in live.collection_folders
                and (c.folder, c.name) not in named
                and not (prunes and tagged_by(c.description, desired.ownership.id))
            }
        )
    )


SPEC = KindSpec(
    kind=Kind.COLLECTION,
    display_rank=10,
    delete_rank=3,
    phases=phases,
    operations=operations,
    bundle_key=no_bundle,
    shapes=frozenset({(Action.CREATE,), (Action.PATCH,), (Action.DELETE,)}),
    decode=CollectionPayload.decode,
    unmanaged=unmanaged,
)

ITEM_SPEC = KindSpec(
    kind=Kind.COLLECTION_ITEM,
    display_rank=11,
    delete_rank=3,
    phases=item_phases,
    operations=item_operations,
    bundle_key=item_bundle_key,
    shapes=frozenset({(Action.LINK,), (Action.UNLINK,)}),
    drift="membership",
    drift_field="member",
    check="members",
    decode=CollectionItemPayload.decode,
)
