"""Organisation groups (and their members): created or patched in ``groups``, deleted
last. Drift reports a description change and a membership change as two entries."""

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
class GroupPayload(Payload):
    """A group as plans show it: ``members`` are sorted emails; ``description`` carries
    the ownership tag when the group is ours."""

    name: str
    description: str
    members: tuple[str, ...]

    def encode(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "members": list(self.members)}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> GroupPayload:
        return cls(str(value["name"]), str(value["description"]), tuple(value["members"]))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> GroupPayload:
        """The payload of a group change (``before`` or ``after``; None reads as empty)."""
        if isinstance(value, GroupPayload):
            return value
        return cls.decode(value) if value else cls("", "", ())


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.DELETE_GROUPS if change.is_delete else Phase.GROUPS, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_org import DeleteGroups, Groups

    return {Phase.GROUPS: Groups, Phase.DELETE_GROUPS: DeleteGroups}


def bundle_key(step: Step) -> BundleKey | None:
    return None


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Groups not declared that prune leaves alone: not tagged ours, or ``prune: never``."""
    prunes = desired.policy.prune != "never"
    return tuple(
        sorted(
            {
                addr.group(g.name)
                for g in live.groups.values()
                if g.name not in desired.groups
                and not (prunes and tagged_by(g.description, desired.ownership.id))
            }
        )
    )


# ``adopt`` and ``release`` write the ownership tag in the description (``Groups`` patches it).
SHAPES = frozenset(
    {(Action.CREATE,), (Action.PATCH,), (Action.DELETE,)}
    | {(*p, c) for p in ((), (Action.PATCH,)) for c in (Action.ADOPT, Action.RELEASE)}
)

SPEC = KindSpec(
    kind=Kind.GROUP,
    display_rank=1,
    delete_rank=2,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    drift_split="members",
    unmanaged=unmanaged,
    decode=GroupPayload.decode,
)
