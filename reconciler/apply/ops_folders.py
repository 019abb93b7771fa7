"""Folder operations: create (plain or cloud-synced), patch, move (and rename), delete.

Each operation reads what it is about to touch (``check``) and then writes (``write``);
the executor decides what to do with the verdicts and journals what was acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from reconciler.apply.adoption import adopt_ours
from reconciler.apply.bundles import delete_path, desired_path
from reconciler.apply.context import RunContext
from reconciler.apply.errors import StepError
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import (
    Checked,
    Expectation,
    Observed,
    check_each,
    metadata_field,
    sort_steps,
)
from reconciler.apply.phases import Step
from reconciler.encord import Folder, NotFoundError
from reconciler.kinds.folder import CloudSync, FolderPayload
from reconciler.model.desired import OWNER_KEY
from reconciler.plan.actions import Action
from reconciler.plan.model import Change
from reconciler.wire.storage import CloudSyncedFolderParams, PatchFolderPayload

T = TypeVar("T")


async def read_folders(ctx: RunContext, uuids: Sequence[str]) -> dict[str, Folder | None]:
    """Each folder by UUID (None when it no longer exists), all reads concurrent."""

    async def one(uuid: str) -> Folder | None:
        try:
            return await ctx.client.folders.get(uuid)
        except NotFoundError:
            return None

    found = await asyncio.gather(*(one(u) for u in uuids))
    return dict(zip(uuids, found, strict=True))


def observe(folder: Folder) -> Observed:
    return Observed(
        fields={
            "parent": str(folder.parent) if folder.parent else None,
            "name": folder.name,
            "description": folder.description,
            **metadata_field(folder.client_metadata, f"folder {folder.uuid}"),
        },
        edited=folder.last_edited_text,
    )


def expectation(ctx: RunContext, step: Step, writes: frozenset[str]) -> Expectation:
    """Planned-against and planned values of the fields a folder change touches."""
    change = step.change
    before, after = FolderPayload.of(change.before), FolderPayload.of(change.after)
    planned = _fields(before)
    planned["parent"] = change.refs.from_parent_uuid
    wanted = {k: v for k, v in _fields(after).items() if k in change.changed_fields()}
    if Action.MOVE in change.actions:
        wanted["parent"] = ctx.parent(change)
    return Expectation(before=planned, after=wanted, writes=writes & wanted.keys())


def _fields(view: FolderPayload | None) -> dict[str, Any]:
    """The fields apply compares with what it reads (``observe``)."""
    if view is None:
        return {}
    return {"name": view.name, "description": view.description, "metadata": view.metadata}


def existing_reads(steps: Sequence[Step]) -> int:
    """``check_existing`` reads each folder once, all at once."""
    return len({s.change.refs.uuid or s.address for s in steps})


async def check_existing(ctx: RunContext, steps: Sequence[Step], writes: frozenset[str]) -> Checked:
    """Verdicts for steps on live folders (patch, move, delete)."""
    uuids = [ctx.object_id(s.change) for s in steps]
    live = await read_folders(ctx, list(dict.fromkeys(uuids)))
    observed = {uuid: observe(folder) for uuid, folder in live.items() if folder is not None}
    return sort_steps(steps, uuids, observed, lambda s: expectation(ctx, s, writes), writes=writes)


# --- create --------------------------------------------------------------------------------


class CreateFolders:
    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """A create under a folder this run made reads nothing first; elsewhere the parent
        is searched by name, and a miss confirmed by an unfiltered listing (two reads)."""
        reads = sum(0 if _parent_made_here(s.change) else 2 for s in steps)
        return Calls(reads=reads, writes=len(steps), read_rounds=reads)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_each(steps, partial(self._check_one, ctx))

    async def _check_one(self, ctx: RunContext, step: Step) -> str:
        """Adopt a folder an unacknowledged attempt created; refuse one somebody else made.
        A folder of that name that the plan itself moves or replaces away is neither."""
        change = step.change
        if change.address in ctx.state.created:
            return "already"
        parent = ctx.parent(change)
        if parent is not None and parent in ctx.state.created.values() and not ctx.resume:
            return "fresh"  # created moments ago by this run: it has no children yet
        name = _after(change).name
        found = await ctx.client.folders.find_children(parent, name)
        # newest first, so of two unacknowledged attempts the later one is taken; a folder
        # the plan moves away is skipped whoever is newer: taking it would leave our own
        # earlier attempt beside it and make a second one
        found.sort(key=lambda f: f.created_at, reverse=True)
        owners = [
            (_owner(f.client_metadata, name), str(f.uuid))
            for f in found
            if str(f.uuid) not in ctx.planned
        ]
        return adopt_ours(ctx, step, owners, adopted="already")

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            change = step.change
            after = _after(change)
            folder = await ctx.client.folders.create(
                after.name,
                parent=ctx.parent(change),
                description=after.description or None,
                metadata=after.metadata,
                cloud_sync=_cloud_params(change.refs.integration_uuid, after.cloud),
                subject=f"folder {desired_path(change)}",
            )
            ctx.record_created(change.address, str(folder.uuid))


def _owner(client_metadata: str | None, name: str) -> str | None:
    owner = metadata_field(client_metadata, name).get("metadata", {}).get(OWNER_KEY)
    return owner if isinstance(owner, str) else None


def _parent_made_here(change: Change) -> bool:
    """Is the parent created by this plan (``RunContext.parent``: a path without a UUID)?"""
    return change.refs.parent_path is not None and change.refs.parent_uuid is None


def _after(change: Change) -> FolderPayload:
    after = FolderPayload.of(change.after)
    if after is None:
        raise ValueError(f"{change.address}: a folder create, patch or move has an after")
    return after


def _cloud_params(
    integration: str | None, cloud: CloudSync | None
) -> CloudSyncedFolderParams | None:
    if cloud is None:
        return None
    if integration is None:
        raise StepError(
            f"cloud integration {cloud.integration!r} is unknown; check the name, then re-run plan"
        )
    return CloudSyncedFolderParams(
        integration_uuid=UUID(integration), remote_url=str(cloud.remote_url)
    )


# --- patch ---------------------------------------------------------------------------------


_PATCHED = frozenset({"description", "metadata"})


class PatchFolders:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(reads=existing_reads(steps), writes=1)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_existing(ctx, steps, _PATCHED)

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        patches: dict[UUID | str, PatchFolderPayload] = {}
        for step in steps:
            fields = step.change.changed_fields()
            after = _after(step.change)
            patches[ctx.object_id(step.change)] = PatchFolderPayload(
                description=after.description if "description" in fields else None,
                client_metadata=dict(after.metadata) if "metadata" in fields else None,
            )
        await ctx.client.folders.patch_bulk(patches, subject=f"{len(patches)} folders")


# --- move ----------------------------------------------------------------------------------


_MOVED = frozenset({"parent", "name"})


class MoveFolders:
    """One target parent per bundle: move those not there yet, then rename those renamed."""

    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        """One move of those changing parent, one patch-bulk of those renamed."""
        moves = any(_changes_parent(s.change) for s in steps)
        renames = any(_renamed(s.change) for s in steps)
        return Calls(reads=existing_reads(steps), writes=int(moves) + int(renames))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_existing(ctx, steps, _MOVED)

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        target = ctx.parent(steps[0].change)
        movers = [
            ctx.object_id(s.change) for s in steps if s.change.refs.from_parent_uuid != target
        ]
        if movers:
            await ctx.client.folders.move(movers, target, subject=f"{len(movers)} folders")
        renames: dict[UUID | str, PatchFolderPayload] = {
            ctx.object_id(s.change): PatchFolderPayload(name=_after(s.change).name)
            for s in steps
            if _renamed(s.change)
        }
        if renames:
            await ctx.client.folders.patch_bulk(renames, subject=f"{len(renames)} folders")


# --- delete --------------------------------------------------------------------------------


class DeleteFolders:
    """One folder per bundle (the API deletes one at a time), never a non-empty one."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """Per folder: one page of its subfolders, one of its items (it must be empty), then
        the delete."""
        return Calls(reads=existing_reads(steps), writes=3 * len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return await check_existing(ctx, steps, frozenset())

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            uuid = ctx.object_id(step.change)
            await _require_empty(ctx, uuid, delete_path(step.change))
            await ctx.client.folders.delete(uuid, subject=f"folder {delete_path(step.change)}")


async def _require_empty(ctx: RunContext, uuid: str, path: str) -> None:
    """Everything the plan deletes inside is gone by now; anything left it did not show."""
    child = await _first(ctx.client.folders.list_subfolders(uuid, page_size=1))
    if child is not None:
        raise StepError(
            f"folder {path} still holds folder {child.name}, which the plan did not show; "
            "nothing was deleted there, re-run plan"
        )
    item = await _first(ctx.client.items.list_direct(uuid, page_size=1))
    if item is not None:
        raise StepError(
            f"folder {path} still holds item {item.name}, which the plan did not show; "
            "nothing was deleted there, re-run plan"
        )


async def _first(listing: AsyncIterator[T]) -> T | None:
    """The first element of a paged listing, reading one page only."""
    try:
        return await anext(listing, None)
    finally:
        close = getattr(listing, "aclose", None)
        if close is not None:
            await close()


def _changes_parent(change: Change) -> bool:
    """``MoveFolders.write``'s test (``from_parent_uuid != ctx.parent``) made before the
    run: a parent this plan creates has no UUID yet and is never the one it leaves."""
    refs = change.refs
    if refs.parent_path is None:  # to the root
        return refs.from_parent_uuid is not None
    return refs.parent_uuid is None or refs.parent_uuid != refs.from_parent_uuid


def _renamed(change: Change) -> bool:
    before = FolderPayload.of(change.before)
    return before is None or _after(change).name != before.name
