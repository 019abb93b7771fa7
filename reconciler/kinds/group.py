"""Organisation groups (and their members): created or patched in ``groups``, deleted
last. Drift reports a description change and a membership change as two entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from reconciler.kinds.phase import Phase
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.DELETE_GROUPS if change.is_delete else Phase.GROUPS, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_org import DeleteGroups, Groups

    return {Phase.GROUPS: Groups, Phase.DELETE_GROUPS: DeleteGroups}


def bundle_key(step: Step) -> BundleKey | None:
    return None


SPEC = KindSpec(
    kind=Kind.GROUP,
    display_rank=1,
    delete_rank=2,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    drift_split="members",
)
