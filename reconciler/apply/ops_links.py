"""Dataset links (v1 link with SKIP, up to 1000 items per call) and unlinks (v1 row delete
by data hash, up to 1000 hashes per call), and cloud syncs.

Linking with SKIP is safe to repeat, so links are not read first; an item gone since the
plan makes the API refuse its whole call, and the executor splits the bundle to find it.
Unlinks read the dataset's rows once per run and dataset, and delete only rows still there:
a row linked again since the plan (another hash for the same item) makes the unlink stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from reconciler.apply.context import RunContext
from reconciler.apply.errors import StepError
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked, describe
from reconciler.apply.phases import Step
from reconciler.encord import NotFoundError
from reconciler.plan.actions import Action
from reconciler.wire.enums import DuplicatesBehavior, SyncStatus


class Links:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(writes=1)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return Checked(fresh=list(steps))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        dataset = ctx.dataset_of(steps[0].change)
        items = [ctx.ref(s.change.refs.item_uuid, None, "item") for s in steps]
        await ctx.client.datasets.link_items(
            dataset, items, duplicates=DuplicatesBehavior.SKIP, subject=_subject(steps[0])
        )


def _subject(step: Step) -> str:
    return f"dataset {step.address.split(':', 1)[1].split('#', 1)[0]}"


class Unlinks:
    splittable = True

    def calls(self, steps: Sequence[Step]) -> Calls:
        """The dataset's rows are read once per run (``_rows_of``): counted for the first
        bundle of each dataset this instance is asked about, as ``check`` reads them."""
        dataset = steps[0].change.refs.dataset_uuid or steps[0].address
        first = dataset not in self._counted
        self._counted.add(dataset)
        return Calls(reads=int(first), writes=1)

    def __init__(self) -> None:
        self._rows: dict[str, asyncio.Task[dict[str, set[str]]]] = {}
        self._remove: dict[str, tuple[str, ...]] = {}  # step key -> hashes still linked
        self._counted: set[str] = set()  # datasets whose rows ``calls`` has counted

    async def _rows_of(self, ctx: RunContext, dataset: str) -> dict[str, set[str]]:
        """Item UUID -> data hashes linked, read once per dataset (bundles touch disjoint items)."""
        if dataset not in self._rows:
            self._rows[dataset] = asyncio.ensure_future(self._read(ctx, dataset))
        return await asyncio.shield(self._rows[dataset])

    async def _read(self, ctx: RunContext, dataset: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for row in await ctx.client.datasets.data_rows(dataset):
            if row.backing_item_uuid is not None:
                out.setdefault(str(row.backing_item_uuid), set()).add(row.data_hash)
        return out

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        try:
            rows = await self._rows_of(ctx, ctx.dataset_of(steps[0].change))
        except NotFoundError:
            return Checked(
                stale=[(s, f"{describe(s.address)}: the dataset no longer exists") for s in steps]
            )
        out = Checked()
        for step in steps:
            planned = set(step.change.refs.data_hashes)
            live = rows.get(step.change.refs.item_uuid or "", set())
            if not live:
                out.already.append(step)
            elif live <= planned:
                self._remove[step.key] = tuple(sorted(live))
                out.fresh.append(step)
            else:
                out.stale.append(
                    (
                        step,
                        f"{describe(step.address)} changed since the plan: the item was linked "
                        "again; re-run plan",
                    )
                )
        return out

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        dataset = ctx.dataset_of(steps[0].change)
        hashes = [h for s in steps for h in self._remove.get(s.key, s.change.refs.data_hashes)]
        await ctx.client.datasets.unlink(dataset, hashes, subject=_subject(steps[0]))


class Syncs:
    """Start a cloud sync of a folder this plan created (or one a stopped run created and
    never synced), and wait for it to finish."""

    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        """Start, then wait: one status read when the sync is done by then; a longer sync
        polls for as long as the server works, which no plan can know (the least is shown)."""
        return Calls(writes=2 * len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return Checked(fresh=list(steps))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await self._sync(ctx, step)

    async def _sync(self, ctx: RunContext, step: Step) -> None:
        if Action.CREATE in step.change.actions:
            folder = ctx.created_id(step.address)
        else:
            folder = ctx.ref(step.change.refs.uuid, step.address, "folder")
        folders = ctx.client.folders
        job = ctx.state.sync_jobs.get(step.address)
        result = None
        if job is not None:
            try:  # resuming: the job an earlier run started may still be running
                result = await folders.wait_for_sync(
                    folder, job, timeout_seconds=ctx.sync_timeout_seconds
                )
            except NotFoundError:
                result = None
        if result is None:
            job = str(await folders.start_sync(folder, resend_if_ambiguous=True))
            ctx.state.sync_jobs[step.address] = job
            ctx.recorder.sync_started(step.address, job)
            result = await folders.wait_for_sync(
                folder, job, timeout_seconds=ctx.sync_timeout_seconds
            )
        ctx.recorder.sync_finished(
            step.address, status=str(result.status), items=result.upload_jobs_units_done
        )
        if result.status != SyncStatus.DONE:
            raise StepError(
                f"cloud sync of {describe(step.address)} ended {result.status} "
                f"({result.upload_jobs_units_error} items failed); check the integration and "
                "bucket, then apply again"
            )
