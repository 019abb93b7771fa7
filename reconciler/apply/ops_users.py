"""Organisation users: add, re-role (remove, then add: the API has no role update), remove.

Each user is one call (the API has no bulk form). The users listing is read once per
bundle check. Writes are idempotent on resume: an add that meets "already a member" (409)
is done when the member holds the planned role and type; a removal of a user already gone
(404) is done; a re-role stopped between its removal and its add only adds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked, describe
from reconciler.apply.phases import Step
from reconciler.encord import ConflictError, NotFoundError
from reconciler.kinds.user import UserPayload, is_rerole
from reconciler.model import addresses as addr
from reconciler.model.live import LiveUser, content_fingerprint
from reconciler.plan.users import user_view


async def _members(ctx: RunContext) -> dict[str, LiveUser]:
    listed = await ctx.client.users.list_all()
    return {u.email.lower(): LiveUser(u.email, u.role_mnemonic_name, u.member_type) for u in listed}


def _holds(live: LiveUser | None, planned: UserPayload | None) -> bool:
    return (
        live is not None
        and planned is not None
        and (live.role, live.member_type) == (planned.role, planned.type)
    )


def _as_planned(step: Step, live: LiveUser) -> bool:
    return content_fingerprint(user_view(live).encode()) == step.change.fingerprint


def _changed(step: Step, live: LiveUser | None) -> str:
    now = "not a member" if live is None else f"{live.role} ({live.member_type})"
    return f"{describe(step.address)} changed since the plan (now {now}); re-run plan"


class AddUsers:
    """Adds and re-roles (``users`` phase, before any group or dataset names the user)."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """The organisation's users, then per user an add (a re-role: a removal first)."""
        return Calls(reads=1, writes=sum(1 + int(is_rerole(s.change)) for s in steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        members = await _members(ctx)
        out = Checked()
        for step in steps:
            live = members.get(_email(step).lower())
            after = UserPayload.of(step.change.after)
            if _holds(live, after):
                out.already.append(step)
            elif live is None or (is_rerole(step.change) and _as_planned(step, live)):
                out.fresh.append(step)  # a re-role stopped after its removal only adds
            else:
                out.stale.append((step, _changed(step, live)))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            if is_rerole(step.change):
                await _remove(ctx, _email(step))
            await _add(ctx, step)


class RemoveUsers:
    """Removals (``remove-users`` phase, last: no group or dataset of the plan names them)."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        members = await _members(ctx)
        out = Checked()
        for step in steps:
            live = members.get(_email(step).lower())
            if live is None:
                out.already.append(step)
            elif _as_planned(step, live):
                out.fresh.append(step)
            else:
                out.stale.append((step, _changed(step, live)))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await _remove(ctx, _email(step))


def _email(step: Step) -> str:
    """The email as the API spells it (the planner always sets it; the address holds it
    lower-cased, which the API matches too)."""
    return step.change.refs.email or addr.key_of(step.address)


async def _remove(ctx: RunContext, email: str) -> None:
    with contextlib.suppress(NotFoundError):  # gone already: an earlier attempt, or someone
        await ctx.client.users.remove(email)


async def _add(ctx: RunContext, step: Step) -> None:
    after = UserPayload.of(step.change.after)
    assert after is not None  # an add or a re-role always has an ``after``
    try:
        await ctx.client.users.add(after.email, role=after.role, member_type=after.type)
    except ConflictError:
        live = (await _members(ctx)).get(after.email.lower())
        if not _holds(live, after):
            raise
