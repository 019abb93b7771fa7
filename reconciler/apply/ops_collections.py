"""Index collections: create, patch (rename, description), delete; add and remove items.

A create adopts what an unacknowledged earlier attempt made (a collection of that name in
the folder, carrying our ownership tag) and refuses to go on when somebody else made one of
that name since the plan. Adding and removing items are set operations, safe to repeat,
so they are not read first; items the API does not take (``failedItems``: gone, moved out
of the folder, deleted) fail alone, each with the selector that chose it, and the rest of
the bundle is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from reconciler.apply.adoption import adopt_ours
from reconciler.apply.context import RunContext
from reconciler.apply.errors import StepError
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import (
    Checked,
    changed_message,
    check_create_or_patch,
    describe,
    gone_message,
)
from reconciler.apply.phases import Step
from reconciler.encord import NotFoundError
from reconciler.kinds.collection import CollectionPayload
from reconciler.kinds.refs import dependency
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner
from reconciler.wire.base import format_datetime
from reconciler.wire.collections import Collection


class Collections:
    """Create a collection, or patch its name and description."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """A create: the folder's collections, then the create; a patch: the collection,
        then the update."""
        return Calls(reads=len(steps), writes=len(steps), read_rounds=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_create_or_patch(
            steps, create=partial(self._check_create, ctx), patch=partial(self._check_patch, ctx)
        )

    async def _check_create(self, ctx: RunContext, step: Step) -> str:
        if step.address in ctx.state.created:
            return "already"
        name = CollectionPayload.of(step.change.after).name
        found = [
            (description_owner(c.description or ""), str(c.uuid))
            for c in await ctx.client.collections.list_in(_folder(ctx, step))
            if c.name == name
        ]
        return adopt_ours(ctx, step, found, adopted="already")

    async def _check_patch(self, ctx: RunContext, step: Step) -> str:
        before = CollectionPayload.of(step.change.before)
        after = CollectionPayload.of(step.change.after)
        try:
            live = await ctx.client.collections.get(ctx.object_id(step.change))
        except NotFoundError:
            return gone_message(step)
        name, description = live.name, live.description or ""
        if (name, description) == (after.name, after.description):
            return "already"
        if name in (before.name, after.name) and description in (
            before.description,
            after.description,
        ):
            return "fresh"
        return changed_message(step, _differ(before, live))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            after = CollectionPayload.of(step.change.after)
            if Action.CREATE in step.actions:
                made = await ctx.client.collections.create(
                    _folder(ctx, step), after.name, after.description
                )
                ctx.record_created(step.address, str(made))
                continue
            before = CollectionPayload.of(step.change.before)
            await ctx.client.collections.update(
                ctx.object_id(step.change),
                name=after.name if after.name != before.name else None,
                description=after.description if after.description != before.description else None,
            )


def _folder(ctx: RunContext, step: Step) -> str:
    """The top-level folder of a create: live, or made by this run."""
    return ctx.ref(
        step.change.refs.folder_uuid, dependency(step.change, addr.Kind.FOLDER), "folder"
    )


def _differ(before: CollectionPayload, live: Collection) -> list[str]:
    return [
        name
        for name, differs in (
            ("name", live.name != before.name),
            ("description", (live.description or "") != before.description),
        )
        if differs
    ]


class DeleteCollections:
    """Collections we own that are no longer declared (their items stay in storage)."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=len(steps), writes=len(steps), read_rounds=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        out = Checked()
        for step in steps:
            try:
                live = await ctx.client.collections.get(ctx.object_id(step.change))
            except NotFoundError:
                out.already.append(step)
                continue
            before = CollectionPayload.of(step.change.before)
            edited = format_datetime(live.last_edited_at) if live.last_edited_at else ""
            same = (live.name, live.description or "") == (before.name, before.description)
            if same or edited == step.change.fingerprint:
                out.fresh.append(step)
            else:
                out.stale.append((step, changed_message(step, _differ(before, live))))
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await ctx.client.collections.delete(ctx.object_id(step.change))


class CollectionItems:
    """Items added to (``collection-add``) or removed from (``collection-remove``) one
    collection, up to 1000 a call."""

    # The API answers per item (failedItems); a call refused whole (a body over a limit the
    # API does not document) is retried in halves by the executor.
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(writes=1)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return Checked(fresh=list(steps))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        collection = ctx.ref(
            change.refs.collection_uuid, dependency(change, addr.Kind.COLLECTION), "collection"
        )
        by_item = {ctx.ref(s.change.refs.item_uuid, None, "item"): s for s in steps}
        api = ctx.client.collections
        send = api.add_items if Action.LINK in change.actions else api.remove_items
        subject = f"collection {addr.Address.parse(change.address).key}"
        failed = await send(collection, list(by_item), subject=subject)
        if failed:
            keys = {by_item[u].key: _failed_message(by_item[u]) for u in failed if u in by_item}
            raise StepError(f"{len(failed)} items failed", failed=keys)


def _failed_message(step: Step) -> str:
    verb = "added to" if Action.LINK in step.actions else "removed from"
    collection = addr.collection(addr.Address.parse(step.address).key)
    return (
        f"{describe(step.address)}: the API did not let the item be {verb} {collection} (it "
        "is gone, outside the collection's top-level folder, or not accessible to this key); "
        f"declared at {step.change.source}"
    )
