"""Roles: group grants on folders and datasets, dataset users, and their revokes.

One bundle is one object (folder or dataset) and, for grants, one role: one read of the
object's grants judges every step, one call grants (or revokes) them all. Re-granting a
group overwrites its role, so a group's role change is a grant; a dataset user's role
cannot be updated, so it is removed and added again in one step (never via ``revoke``
phase, which would leave the user out in between).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked, describe
from reconciler.apply.phases import Step
from reconciler.kinds.access import role_of
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical_role
from reconciler.wire.enums import DatasetUserRole

_DATASET_ROLE = {"admin": DatasetUserRole.ADMIN, "user": DatasetUserRole.USER}


def _role(value: Mapping[str, Any] | None) -> str | None:
    role = role_of(value)
    return None if role is None else canonical_role(role)


def judge_roles(
    steps: Sequence[Step], live: Mapping[str, str], member: Callable[[Step], str]
) -> Checked:
    """Verdicts on relation steps given the live role of each member (absent: none)."""
    out = Checked()
    for step in steps:
        change = step.change
        before, after = _role(change.before), _role(change.after)
        now = live.get(member(step))
        role_change = Action.REVOKE in step.actions and Action.GRANT in step.actions
        if now == after:
            out.already.append(step)
        elif now == before or (role_change and now is None):
            out.fresh.append(step)  # a role change interrupted after its removal is fresh
        else:
            out.stale.append(
                (
                    step,
                    f"{describe(change.address)} changed since the plan: role "
                    f"{before or 'none'} → {now or 'none'}; re-run plan",
                )
            )
    return out


# --- folders -------------------------------------------------------------------------------


async def _folder_roles(ctx: RunContext, folder: str) -> dict[str, str]:
    groups = await ctx.client.folders.list_groups(folder)
    return {str(g.group_hash): canonical_role(g.user_role) for g in groups}


class FolderGrants:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=1)  # the object's roles, then one call for the bundle

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _folder_roles(ctx, ctx.folder_of(steps[0].change))
        return judge_roles(steps, live, lambda s: ctx.group_of(s.change))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        role = _role(change.after)
        assert role is not None
        await ctx.client.folders.add_groups(
            ctx.folder_of(change),
            [ctx.group_of(s.change) for s in steps],
            role,
            subject=f"folder {addr.Address.parse(change.address).key}",
        )


class FolderRevokes:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=1)  # the object's roles, then one call for the bundle

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _folder_roles(ctx, ctx.folder_of(steps[0].change))
        return judge_roles(steps, live, lambda s: ctx.group_of(s.change))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        await ctx.client.folders.remove_groups(
            ctx.folder_of(change), [ctx.group_of(s.change) for s in steps]
        )


# --- datasets ------------------------------------------------------------------------------


def _dataset_role(step: Step) -> DatasetUserRole:
    role = _role(step.change.after)
    assert role is not None
    return _DATASET_ROLE[role]


async def _dataset_group_roles(ctx: RunContext, dataset: str) -> dict[str, str]:
    groups = await ctx.client.datasets.list_groups(dataset)
    return {str(g.group_hash): canonical_role(int(g.user_role)) for g in groups}


async def _dataset_user_roles(ctx: RunContext, dataset: str) -> dict[str, str]:
    users = await ctx.client.datasets.list_users(dataset)
    return {u.user_email.lower(): canonical_role(int(u.user_role)) for u in users}


def _email(step: Step) -> str:
    return step.change.refs.email or str(addr.Address.parse(step.address).member)


def _email_key(step: Step) -> str:
    """Emails compare without case (the API's rule for addresses)."""
    return _email(step).lower()


class DatasetGroupGrants:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=1)  # the object's roles, then one call for the bundle

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _dataset_group_roles(ctx, ctx.dataset_of(steps[0].change))
        return judge_roles(steps, live, lambda s: ctx.group_of(s.change))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        await ctx.client.datasets.add_groups(
            ctx.dataset_of(change), [ctx.group_of(s.change) for s in steps], _dataset_role(steps[0])
        )


class DatasetGroupRevokes:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=1)  # the object's roles, then one call for the bundle

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _dataset_group_roles(ctx, ctx.dataset_of(steps[0].change))
        return judge_roles(steps, live, lambda s: ctx.group_of(s.change))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        await ctx.client.datasets.remove_groups(
            ctx.dataset_of(change), [ctx.group_of(s.change) for s in steps]
        )


class DatasetUserGrants:
    """Grants, and role changes (remove, then add: the API keeps a present user's role)."""

    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        """The dataset's users, then (a role change) a removal, then the add."""
        return Calls(reads=1, writes=1 + int(Action.REVOKE in steps[0].actions))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _dataset_user_roles(ctx, ctx.dataset_of(steps[0].change))
        return judge_roles(steps, live, _email_key)

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        dataset = ctx.dataset_of(steps[0].change)
        emails = [_email(s) for s in steps]
        if Action.REVOKE in steps[0].actions:
            await ctx.client.datasets.remove_users(dataset, emails)
        await ctx.client.datasets.add_users(dataset, emails, _dataset_role(steps[0]))


class DatasetUserRevokes:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=1)  # the object's roles, then one call for the bundle

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        live = await _dataset_user_roles(ctx, ctx.dataset_of(steps[0].change))
        return judge_roles(steps, live, _email_key)

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        dataset = ctx.dataset_of(steps[0].change)
        await ctx.client.datasets.remove_users(dataset, [_email(s) for s in steps])
