"""Access relations: a group's role on a folder, a group's or a user's role on a dataset.

Grants run before revokes, so no folder or dataset passes through a state without an
admin; a role change the API cannot make in place (revoke, grant) is one step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.refs import dataset_key, folder_key
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class RolePayload(Payload):
    """A group's or a user's role on a folder or dataset (``before`` None: no role yet;
    ``after`` None: revoked)."""

    role: str

    def encode(self) -> dict[str, Any]:
        return {"role": self.role}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> RolePayload:
        role = value["role"]
        if not isinstance(role, str):
            raise TypeError(f"a role is {type(role).__name__}, not a string")
        return cls(role)


def role_of(value: Mapping[str, Any] | None) -> str | None:
    """The role a relation's ``before`` or ``after`` holds (None when there is none)."""
    if value is None:
        return None
    return (value if isinstance(value, RolePayload) else RolePayload.decode(value)).role


def role(step: Step) -> str | None:
    return role_of(step.change.after)


def _phases(grants: Phase) -> Callable[[Change, bool], list[PhaseWork]]:
    def phases(change: Change, replaced: bool) -> list[PhaseWork]:
        return [(grants if Action.GRANT in change.actions else Phase.REVOKE, change.actions)]

    return phases


# --- folder-group --------------------------------------------------------------------------


def _folder_operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_access import FolderGrants, FolderRevokes

    return {Phase.GRANTS: FolderGrants, Phase.REVOKE: FolderRevokes}


def _folder_bundle(step: Step) -> BundleKey | None:
    """Grants: one folder and one role per call; revokes: one folder per call."""
    if step.phase == Phase.GRANTS:
        return ("grant", folder_key(step.change), role(step))
    return (step.change.kind, folder_key(step.change))


GRANT_OR_REVOKE = frozenset({(Action.GRANT,), (Action.REVOKE,)})

FOLDER_GROUP = KindSpec(
    kind=Kind.FOLDER_GROUP,
    display_rank=3,
    delete_rank=3,
    phases=_phases(Phase.GRANTS),
    operations=_folder_operations,
    bundle_key=_folder_bundle,
    shapes=GRANT_OR_REVOKE,
    drift="access",
    check="folder",
    decode=RolePayload.decode,
)


# --- dataset-group, dataset-user -----------------------------------------------------------


def _dataset_bundle(step: Step) -> BundleKey | None:
    """Grants: one dataset and one role per call (a role change apart from plain grants);
    revokes: one dataset per call."""
    change = step.change
    if step.phase == Phase.DATASET_GRANTS:
        grant = "role-change" if Action.REVOKE in step.actions else "grant"
        return (change.kind, grant, dataset_key(change), role(step))
    return (change.kind, dataset_key(change))


def _dataset_group_operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_access import DatasetGroupGrants, DatasetGroupRevokes

    return {Phase.DATASET_GRANTS: DatasetGroupGrants, Phase.REVOKE: DatasetGroupRevokes}


def _dataset_user_operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_access import DatasetUserGrants, DatasetUserRevokes

    return {Phase.DATASET_GRANTS: DatasetUserGrants, Phase.REVOKE: DatasetUserRevokes}


DATASET_GROUP = KindSpec(
    kind=Kind.DATASET_GROUP,
    display_rank=6,
    delete_rank=3,
    phases=_phases(Phase.DATASET_GRANTS),
    operations=_dataset_group_operations,
    bundle_key=_dataset_bundle,
    shapes=GRANT_OR_REVOKE,
    drift="access",
    check="dataset",
    decode=RolePayload.decode,
)

DATASET_USER = KindSpec(
    kind=Kind.DATASET_USER,
    display_rank=7,
    delete_rank=3,
    phases=_phases(Phase.DATASET_GRANTS),
    operations=_dataset_user_operations,
    bundle_key=_dataset_bundle,
    # A user's dataset role cannot be updated in place: revoked, then granted.
    shapes=GRANT_OR_REVOKE | {(Action.REVOKE, Action.GRANT)},
    drift="access",
    check="dataset",
    decode=RolePayload.decode,
)
