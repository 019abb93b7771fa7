"""Organisation users (members of the organisation, with a role and a member type).

Membership is a relation between a user and the organisation: adding a user is a grant,
removing one a revoke (listed with deletes, first, in every rendering). The API cannot
change a member's role or type, so a re-role is one change ``("revoke", "grant")`` that
apply performs as a removal then an add; it unassigns the user's work, which is why the
plan warns about it and the safety filters refuse it unless allowed. Adds and re-roles run
in ``users`` (before any group or dataset names the user), removals in ``remove-users``
(last).
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

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.model.desired import DesiredState
    from reconciler.model.live import LiveState
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class UserPayload(Payload):
    """A member as plans show it: the email as the API spells it, the organisation role
    mnemonic (``ADMIN``, ``MEMBER``, ``TASKER``, ``WORKFORCE_MANAGER``) and the member
    type (``internal``, ``external``)."""

    email: str
    role: str
    type: str

    def encode(self) -> dict[str, Any]:
        return {"email": self.email, "role": self.role, "type": self.type}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> UserPayload:
        return cls(str(value["email"]), str(value["role"]), str(value["type"]))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> UserPayload | None:
        """The payload of a user change's ``before`` or ``after`` (None stays None)."""
        if value is None or isinstance(value, UserPayload):
            return value
        return cls.decode(value)


def is_rerole(change: Change) -> bool:
    return change.actions == (Action.REVOKE, Action.GRANT)


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    phase = Phase.USERS if Action.GRANT in change.actions else Phase.REMOVE_USERS
    return [(phase, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_users import AddUsers, RemoveUsers

    return {Phase.USERS: AddUsers, Phase.REMOVE_USERS: RemoveUsers}


def bundle_key(step: Step) -> BundleKey | None:
    return None  # one call per user: the API has no bulk form


def unmanaged(desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Members not declared, when the config declares users and ``policy.users`` is
    additive (authoritative removes them; without ``users:`` nobody is managed)."""
    if not desired.users or desired.policy.users == "authoritative" or not live.users_complete:
        return ()
    declared = {email.lower() for email in desired.users}
    return tuple(sorted({addr.user(e) for e in live.users if e.lower() not in declared}))


SHAPES = frozenset({(Action.GRANT,), (Action.REVOKE,), (Action.REVOKE, Action.GRANT)})

SPEC = KindSpec(
    kind=Kind.USER,
    display_rank=-1,  # first: who is in the organisation reads before what they get
    delete_rank=4,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    drift="membership",
    decode=UserPayload.decode,
    unmanaged=unmanaged,
)
