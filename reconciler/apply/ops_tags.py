"""Organisation tags: create, and delete ours. Each check lists the tags once.

A create finds a tag of its name already there either because an unacknowledged earlier
attempt made it (it carries our ownership tag: adopted, nothing to do) or because somebody
else made it since the plan (refused: names are unique, the create would answer 409).
A delete goes ahead only while the tag is as the plan saw it (its fingerprint).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.adoption import adopt_ours
from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked, changed_message
from reconciler.apply.phases import Step
from reconciler.kinds.tag import TagPayload
from reconciler.model.live import content_fingerprint
from reconciler.plan.canonical import description_owner
from reconciler.wire.tags import OrganisationTag


class CreateTags:
    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=len(steps))  # the organisation's tags, then one each

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        out = Checked()
        by_name = {t.name: t for t in await ctx.client.organisation_tags.list_all()}
        for step in steps:
            if step.address in ctx.state.created:
                out.already.append(step)
                continue
            found = by_name.get(TagPayload.of(step.change.after).name)
            owners = (
                []
                if found is None
                else [(description_owner(found.description or ""), str(found.uuid))]
            )
            out.add(step, adopt_ours(ctx, step, owners, adopted="already"))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            if step.address in ctx.state.created:
                continue
            after = TagPayload.of(step.change.after)
            tag = await ctx.client.organisation_tags.create(after.name, after.description)
            ctx.record_created(step.address, str(tag.uuid))


class DeleteTags:
    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=1, writes=len(steps))  # the organisation's tags, then one each

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        out = Checked()
        by_uuid = {str(t.uuid): t for t in await ctx.client.organisation_tags.list_all()}
        for step in steps:
            found = by_uuid.get(ctx.object_id(step.change))
            if found is None:
                out.already.append(step)
            elif content_fingerprint(_view(found).encode()) == step.change.fingerprint:
                out.fresh.append(step)
            else:
                out.stale.append((step, _changed(step, _view(found))))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await ctx.client.organisation_tags.delete(ctx.object_id(step.change))


def _view(tag: OrganisationTag) -> TagPayload:
    """The very view the planner fingerprinted (``plan.tags.tag_view``), from what is read."""
    return TagPayload(tag.name, tag.description)


def _changed(step: Step, view: TagPayload) -> str:
    before = TagPayload.of(step.change.before)
    return changed_message(
        step, [f for f in ("name", "description") if getattr(before, f) != getattr(view, f)]
    )
