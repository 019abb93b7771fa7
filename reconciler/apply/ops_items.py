"""Item operations: move (one source and one target folder per call), patch (name and
metadata, 1000 per patch-bulk) and delete (one parent folder per call).

Items are re-read with ``get-bulk`` (1000 per request) before each bundle. The API answers
404 for the whole request when one UUID is unknown, so a 404 splits the read in halves until
the missing items are found (a few extra reads per missing item, none when all exist).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from reconciler.apply.bundles import BUNDLE_SIZE
from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import (
    Checked,
    Expectation,
    Observed,
    metadata_field,
    sort_steps,
)
from reconciler.apply.phases import Step, item_renamed, touches
from reconciler.encord import ItemBrief, NotFoundError
from reconciler.kinds.item import ItemPayload
from reconciler.plan.actions import Action
from reconciler.wire.storage import PatchItemPayload


async def read_items(ctx: RunContext, uuids: Sequence[str]) -> dict[str, ItemBrief]:
    """Items by UUID; those that no longer exist (or are tombstones) are left out."""
    unique = list(dict.fromkeys(uuids))
    chunks = [unique[i : i + BUNDLE_SIZE] for i in range(0, len(unique), BUNDLE_SIZE)]
    found: dict[str, ItemBrief] = {}
    for part in await asyncio.gather(*(_read_or_split(ctx, c) for c in chunks)):
        found.update(part)
    return found


async def _read_or_split(ctx: RunContext, uuids: list[str]) -> dict[str, ItemBrief]:
    try:
        items = await ctx.client.items.get_bulk_briefs(uuids)
    except NotFoundError:
        if len(uuids) == 1:
            return {}
        half = len(uuids) // 2
        left, right = await asyncio.gather(
            _read_or_split(ctx, uuids[:half]), _read_or_split(ctx, uuids[half:])
        )
        return {**left, **right}
    return {i.uuid: i for i in items if not i.is_tombstone}


def item_calls(steps: Sequence[Step]) -> Calls:
    """One get-bulk per 1000 items (all at once), then the bundle's one write."""
    unique = len({s.change.refs.uuid or s.address for s in steps})
    return Calls(reads=-(-unique // BUNDLE_SIZE), writes=1)


def observe(item: ItemBrief) -> Observed:
    return Observed(fields=_ItemFields(item), edited=item.last_edited_at)


class _ItemFields(Mapping[str, Any]):
    """An item's fields as ``judge`` compares them, made when first asked for: an item
    untouched since the plan (its ``lastEditedAt`` is the plan's fingerprint, the common
    case) is judged fresh without parsing its ``clientMetadata``."""

    __slots__ = ("_fields", "_item")

    def __init__(self, item: ItemBrief) -> None:
        self._item = item
        self._fields: dict[str, Any] | None = None

    def _all(self) -> dict[str, Any]:
        if self._fields is None:
            item = self._item
            self._fields = {
                "parent": item.parent,
                "name": item.name,
                **metadata_field(item.client_metadata, f"item {item.uuid}"),
            }
        return self._fields

    def __getitem__(self, key: str) -> Any:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def expectation(ctx: RunContext, step: Step, writes: frozenset[str]) -> Expectation:
    change = step.change
    before, after = ItemPayload.of(change.before), ItemPayload.of(change.after)
    planned: dict[str, Any] = {"parent": change.refs.from_parent_uuid, "name": None}
    if before is not None:
        planned["name"] = before.name
        planned["metadata"] = before.metadata
    wanted: dict[str, Any] = {}
    if Action.MOVE in change.actions:
        wanted["parent"] = ctx.parent(change)
    if after is not None and item_renamed(change):
        wanted["name"] = after.name
    if after is not None and touches(change, "metadata"):
        wanted["metadata"] = after.metadata
    return Expectation(before=planned, after=wanted, writes=writes & wanted.keys())


async def check_items(ctx: RunContext, steps: Sequence[Step], writes: frozenset[str]) -> Checked:
    uuids = [ctx.object_id(s.change) for s in steps]
    live = await read_items(ctx, uuids)
    observed = {uuid: observe(item) for uuid, item in live.items()}
    return sort_steps(steps, uuids, observed, lambda s: expectation(ctx, s, writes), writes=writes)


class MoveItems:
    """One (source, target) pair per bundle."""

    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return item_calls(steps)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_items(ctx, steps, frozenset({"parent"}))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        change = steps[0].change
        source = change.refs.from_parent_uuid
        target = ctx.parent(change)
        if source is None or target is None:
            raise ValueError("an item move needs a source and a target folder")
        await ctx.client.items.move(
            source,
            [ctx.object_id(s.change) for s in steps],
            target,
            subject=f"{len(steps)} items into folder {change.refs.parent_path}",
        )


class PatchItems:
    """Up to 1000 items per patch-bulk: metadata (the whole object) and, if renamed, name."""

    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return item_calls(steps)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_items(ctx, steps, frozenset({"name", "metadata"}))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        patches: dict[UUID | str, PatchItemPayload] = {}
        for step in steps:
            change = step.change
            after = ItemPayload.of(change.after)
            assert after is not None  # a patch has an after
            patches[ctx.object_id(change)] = PatchItemPayload(
                name=after.name if item_renamed(change) else None,
                client_metadata=dict(after.metadata) if touches(change, "metadata") else None,
            )
        written = await ctx.client.items.patch_bulk_briefs(patches, subject=f"{len(patches)} items")
        ctx.state.written_items.update((i.uuid, i) for i in written)


class DeleteItems:
    """One parent folder per bundle."""

    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return item_calls(steps)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_items(ctx, steps, frozenset())

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        folder = steps[0].change.refs.from_parent_uuid
        if folder is None:
            raise ValueError("an item delete needs its parent folder")
        await ctx.client.items.delete(
            folder, [ctx.object_id(s.change) for s in steps], subject=f"{len(steps)} items"
        )
