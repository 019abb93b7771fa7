"""Organisation-level operations: the metadata schema, groups (and members), datasets.

Creates adopt what an unacknowledged earlier attempt made (same name, carrying our
ownership tag) instead of making a second one, and refuse to go on when somebody else
made an object of that name since the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from reconciler.apply.adoption import adopt_ours
from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import (
    Checked,
    changed_message,
    check_create_or_patch,
    check_each,
    gone_message,
)
from reconciler.apply.phases import Step
from reconciler.encord import NotFoundError
from reconciler.kinds.dataset import DatasetPayload
from reconciler.kinds.group import GroupPayload
from reconciler.kinds.schema import SchemaPayload
from reconciler.model.live import LiveGroup, content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical_descriptor, description_owner, equivalent
from reconciler.plan.groups import group_view

# --- metadata schema -----------------------------------------------------------------------


class SetSchema:
    """The schema is one shared object: the plan's ``after`` is the live schema with our keys
    set, so it may be written only while the live schema is still the one planned against."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        out = Checked()
        raw = await ctx.client.metadata_schema.get()
        live = {k: canonical_descriptor(v) for k, v in (raw or {}).items()}
        for step in steps:
            out.add(step, _schema_verdict(step, raw, live))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await ctx.client.metadata_schema.set(_descriptors(step.change.after))


def _descriptors(value: Mapping[str, Any] | None) -> dict[str, Any]:
    schema = SchemaPayload.of(value)
    return {} if schema is None else dict(schema.descriptors)


def _schema_verdict(step: Step, raw: Any, live: dict[str, Any]) -> str:
    after = _descriptors(step.change.after)
    if all(k in live and equivalent(live[k], v) for k, v in after.items()):
        return "already"
    if step.change.before is None:
        planned_absent = raw is None
    else:
        planned_absent = content_fingerprint(dict(sorted(live.items()))) == step.change.fingerprint
    if planned_absent:
        return "fresh"
    return (
        "metadata-schema organisation changed since the plan (keys were added or changed "
        "by someone else); re-run plan"
    )


# --- groups --------------------------------------------------------------------------------


class Groups:
    """Create (then add members) or patch (description, members added and removed)."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """A create: the organisation's groups, the create, its members; a patch: the group
        and its members, then the description and each direction of the members."""
        reads = writes = 0
        for step in steps:
            before, after = GroupPayload.of(step.change.before), GroupPayload.of(step.change.after)
            if Action.CREATE in step.actions or before is None:
                reads, writes = reads + 1, writes + 1 + int(bool(after.members))
                continue
            planned, wanted = set(before.members), set(after.members)
            reads += 2
            writes += int(after.description != before.description)
            writes += int(bool(wanted - planned)) + int(bool(planned - wanted))
        return Calls(reads=reads, writes=writes, read_rounds=reads)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_create_or_patch(
            steps, create=partial(self._check_create, ctx), patch=partial(self._check_patch, ctx)
        )

    async def _check_create(self, ctx: RunContext, step: Step) -> str:
        if step.address in ctx.state.created:
            return "already"
        name = GroupPayload.of(step.change.after).name
        found = [
            (description_owner(g.description), str(g.group_hash))
            for g in await ctx.client.groups.list_all()
            if g.name == name
        ]
        # adopted: "fresh", members may still be missing (adding them is idempotent)
        return adopt_ours(ctx, step, found, adopted="fresh")

    async def _check_patch(self, ctx: RunContext, step: Step) -> str:
        before, after = GroupPayload.of(step.change.before), GroupPayload.of(step.change.after)
        group_hash = ctx.object_id(step.change)
        try:
            group = await ctx.client.groups.get(group_hash)
        except NotFoundError:
            return gone_message(step)
        members = set(await ctx.client.groups.list_members(group_hash))
        planned, wanted = set(before.members), set(after.members)
        if group.description == after.description and members == wanted:
            return "already"
        changed = []
        if group.description not in (before.description, after.description):
            changed.append("description")
        if not (planned & wanted) <= members or not members <= planned | wanted:
            changed.append("members")
        if group.name != before.name:
            changed.append("name")
        return changed_message(step, changed) if changed else "fresh"

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            after = GroupPayload.of(step.change.after)
            if Action.CREATE in step.actions:
                group_hash = ctx.state.created.get(step.address)
                if group_hash is None:
                    group = await ctx.client.groups.create(after.name, after.description)
                    group_hash = str(group.group_hash)
                    ctx.record_created(step.address, group_hash)
                if after.members:
                    await ctx.client.groups.add_members(group_hash, list(after.members))
            else:
                await self._patch(ctx, step)

    async def _patch(self, ctx: RunContext, step: Step) -> None:
        before, after = GroupPayload.of(step.change.before), GroupPayload.of(step.change.after)
        group_hash = ctx.object_id(step.change)
        if after.description != before.description:
            await ctx.client.groups.update(group_hash, description=after.description)
        planned, wanted = set(before.members), set(after.members)
        if wanted - planned:
            await ctx.client.groups.add_members(group_hash, sorted(wanted - planned))
        if planned - wanted:
            await ctx.client.groups.remove_members(group_hash, sorted(planned - wanted))


class DeleteGroups:
    """Groups (with their grants)."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=2 * len(steps), writes=len(steps), read_rounds=2 * len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        out = Checked()
        for step in steps:
            try:
                group = await ctx.client.groups.get(ctx.object_id(step.change))
            except NotFoundError:
                out.already.append(step)
                continue
            members = await ctx.client.groups.list_members(str(group.group_hash))
            # The very view the planner fingerprinted (``group_view``), from what is read now.
            view = group_view(
                LiveGroup(
                    hash=str(group.group_hash),
                    name=group.name,
                    description=group.description,
                    members=tuple(sorted(members)),
                )
            )
            if content_fingerprint(view.encode()) == step.change.fingerprint:
                out.fresh.append(step)
            else:
                out.stale.append((step, _group_changed(step, view)))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await ctx.client.groups.delete(ctx.object_id(step.change))


def _group_changed(step: Step, view: GroupPayload) -> str:
    before = GroupPayload.of(step.change.before)
    differ = {
        "name": before.name != view.name,
        "description": before.description != view.description,
        "members": before.members != view.members,
    }
    return changed_message(step, [name for name, differs in differ.items() if differs])


# --- datasets ------------------------------------------------------------------------------


class Datasets:
    """Create datasets (without a backing folder). The only dataset change a plan holds:
    the API has no call to change a description or to delete a dataset."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=len(steps), writes=len(steps), read_rounds=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_each(steps, partial(self._check_one, ctx))

    async def _check_one(self, ctx: RunContext, step: Step) -> str:
        title = DatasetPayload.of(step.change.after).title
        if step.address in ctx.state.created:
            return "already"
        found = [
            (description_owner(d.description), str(d.dataset_uuid))
            for d in await ctx.client.datasets.list_all(title_eq=title)
            if d.title == title
        ]
        return adopt_ours(ctx, step, found, adopted="already")

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            after = DatasetPayload.of(step.change.after)
            created = await ctx.client.datasets.create(
                after.title, description=after.description or None
            )
            ctx.record_created(step.address, str(created.dataset_uuid))
