"""Organisation users: the guards on removing and re-roling members.

* ``min-admins`` (withholds): a plan never leaves fewer organisation admins than
  ``policy.min_admins``; the removals and demotions that would are held back.
* ``require-self`` (withholds): the caller is never removed or re-roled (a re-role is a
  removal first: the key would be locked out half-way). When the caller's email is not
  known (``user/current`` not served and several admins that the listings cannot tell
  apart, see ``reconciler.live.identity``), every removal or re-role of a member who may be the caller
  (of the caller's role; an admin when the role is unknown) is withheld.
* ``user-removal-threshold`` (refuses): removing more than ``policy.max_user_removal_ratio``
  of the organisation's users needs ``--force``.
* ``user-rerole`` (refuses): a re-role unassigns the user's work, so it needs
  ``policy.allow_user_rerole: true`` or ``--force``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.kinds.user import UserPayload, is_rerole
from reconciler.model import addresses as addr
from reconciler.model.live import Caller
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict

ADMIN = "ADMIN"


def _users(changes: Sequence[Change]) -> list[Change]:
    return [c for c in changes if c.kind == addr.Kind.USER]


def _removed(change: Change) -> UserPayload | None:
    """The live member a removal or re-role takes out of the organisation (None: an add)."""
    return UserPayload.of(change.before) if Action.REVOKE in change.actions else None


def withhold_self(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    caller = facts.ctx.live.caller
    out = []
    for change in _users(changes):
        member = _removed(change)
        if member is None:
            continue
        if caller is not None and caller.email is not None:
            if member.email.lower() == caller.email.lower():
                out.append(_self(change, member))
        elif _may_be(caller, member):
            out.append(_maybe_self(change, caller))
    return out


def _may_be(caller: Caller | None, member: UserPayload) -> bool:
    role = caller.role if caller is not None and caller.role is not None else ADMIN
    return member.role.upper() == role.upper()


def _self(change: Change, member: UserPayload) -> Verdict:
    refusal = Refusal(
        code="require-self",
        message=(
            f"{change.address} is the caller (the key this plan runs as): removing or "
            "re-roling it would lock the key out of the organisation; declare it under "
            f"'users:' as it is live ({member.role.lower()}, {member.type})"
        ),
        addresses=(change.address,),
    )
    return Verdict(refusal, (change.address,))


def _maybe_self(change: Change, caller: Caller | None) -> Verdict:
    who = "is not known" if caller is None else f"is not known ({caller.text()})"
    refusal = Refusal(
        code="require-self",
        message=(
            f"{change.address} may be the caller: the key's email {who}, as it cannot be "
            "told apart from the other organisation admins', and removing or re-roling the "
            "caller locks the key out; remove or re-role this user in the Encord app"
        ),
        addresses=(change.address,),
    )
    return Verdict(refusal, (change.address,))


def withhold_min_admins(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    live = facts.ctx.live
    minimum = facts.ctx.desired.policy.min_admins
    users = _users(changes)
    losing = [c for c in users if _is_admin(c.before) and not _is_admin(c.after)]
    if not losing:
        return []
    gaining = sum(1 for c in users if _is_admin(c.after) and not _is_admin(c.before))
    admins = sum(1 for u in live.users.values() if u.role.upper() == ADMIN)
    left = admins - len(losing) + gaining
    if left >= minimum:
        return []
    addresses = tuple(sorted(c.address for c in losing))
    refusal = Refusal(
        code="min-admins",
        message=(
            f"this plan would leave {left} organisation admin{'s' if left != 1 else ''} of "
            f"{admins}, fewer than policy.min_admins {minimum}; these removals and re-roles "
            "are held back. Declare more admins under 'users:' or lower policy.min_admins"
        ),
        addresses=addresses,
    )
    return [Verdict(refusal, addresses)]


def _is_admin(value: Mapping[str, Any] | None) -> bool:
    user = UserPayload.of(value)
    return user is not None and user.role.upper() == ADMIN


def refuse_user_removals(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    policy = facts.ctx.desired.policy
    total = len(facts.ctx.live.users)
    removals = [c for c in _users(changes) if c.actions == (Action.REVOKE,)]
    if not removals or total == 0 or len(removals) / total <= policy.max_user_removal_ratio:
        return []
    refusal = Refusal(
        code="user-removal-threshold",
        message=(
            f"this plan would remove {len(removals)} of the organisation's {total} users "
            f"({len(removals) / total:.0%}), more than policy.max_user_removal_ratio "
            f"{policy.max_user_removal_ratio:.0%}; review them and use --force if intended"
        ),
        addresses=tuple(sorted(c.address for c in removals)),
        withheld=False,
        count=len(removals),
    )
    return [Verdict(refusal)]


def refuse_reroles(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    if facts.ctx.desired.policy.allow_user_rerole:
        return []
    reroles = [c for c in _users(changes) if is_rerole(c)]
    if not reroles:
        return []
    refusal = Refusal(
        code="user-rerole",
        message=(
            f"this plan re-roles {len(reroles)} user{'s' if len(reroles) != 1 else ''}: the "
            "Encord API cannot change a member's role or type, so apply removes each from the "
            "organisation and adds them again, which unassigns their work; set "
            "policy.allow_user_rerole: true or use --force if intended"
        ),
        addresses=tuple(sorted(c.address for c in reroles)),
        withheld=False,
        count=len(reroles),
    )
    return [Verdict(refusal)]
