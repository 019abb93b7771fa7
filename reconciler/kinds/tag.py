"""Organisation tags: created in ``tags`` (before anything else is written), deleted last.

The API has no call to change a tag, so a description that differs is planned as a patch
that ``withhold_unsupported`` holds back (not a shape). A tag is ours when its description
ends in our ownership tag; only ours are ever deleted.
"""

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
from reconciler.model.desired import tagged_by

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.model.desired import DesiredState
    from reconciler.model.live import LiveState
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class TagPayload(Payload):
    """A tag as plans show it; ``description`` carries the ownership tag when ours, and is
    None when the live listing did not say."""

    name: str
    description: str | None

    def encode(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> TagPayload:
        description = value["description"]
        return cls(str(value["name"]), None if description is None else str(description))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> TagPayload:
        """The payload of a tag change (None reads as empty)."""
        if isinstance(value, TagPayload):
            return value
        return cls.decode(value) if value else cls("", None)


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.DELETE_TAGS if change.is_delete else Phase.TAGS, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_tags import CreateTags, DeleteTags

    return {Phase.TAGS: CreateTags, Phase.DELETE_TAGS: DeleteTags}


def bundle_key(step: Step) -> BundleKey | None:
    return None


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Tags not declared that prune leaves alone (not proven ours, or ``prune: never``);
    none when the config does not manage tags (they are not read)."""
    declared, tags = desired.organisation_tags, live.organisation_tags
    if declared is None or tags is None:
        return ()
    prunes = desired.policy.prune != "never"
    return tuple(
        sorted(
            {
                addr.organisation_tag(t.name)
                for t in tags.values()
                if t.name not in declared
                and not (prunes and tagged_by(t.description, desired.ownership.id))
            }
        )
    )


# A tag patch is planned but never kept (``withhold_unsupported``): not a shape.
SHAPES = frozenset({(Action.CREATE,), (Action.DELETE,)})

SPEC = KindSpec(
    kind=Kind.ORGANISATION_TAG,
    display_rank=9,
    delete_rank=4,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    decode=TagPayload.decode,
    unmanaged=unmanaged,
)
