"""Register operation: a register change's objects become items of its folder.

One step per register change (one folder, one manifest); the jobs that carry it are in
``registration``. Nothing is read first: every job skips URLs the folder already has, so a
step found half done (a crash, ``--resume``) is simply sent again. An object that fails on
its own (missing from the bucket, of another type) fails only its row: it is reported with
its manifest ``file:line`` and the run is not ok, but the step is done and what depends on
it goes on. A stopped run fails the step as interrupted, resumable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from reconciler.apply.context import RunContext
from reconciler.apply.errors import StepError
from reconciler.apply.events import RowFailed
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked
from reconciler.apply.phases import Step
from reconciler.apply.registration import JOB_ROWS, RegisterWork, RowLike, register_rows
from reconciler.model import addresses as addr
from reconciler.words import plural


class RegisterPayloadLike(Protocol):
    """What this operation reads of the register payload (``kinds/register.py``)."""

    @property
    def rows(self) -> Sequence[RowLike]: ...
    @property
    def upsert_metadata(self) -> bool: ...


class RegisterObjects:
    splittable = False  # a step is one folder's jobs; there is no bulk call to split

    def calls(self, steps: Sequence[Step]) -> Calls:
        """Per job (``JOB_ROWS`` rows): start it, then one status read when it is done by
        then (a longer job polls for as long as the server works: the least is shown)."""
        jobs = 0
        for step in steps:
            payload: RegisterPayloadLike | None = step.change.after  # type: ignore[assignment]
            rows = 0 if payload is None else len(payload.rows)
            jobs += -(-rows // JOB_ROWS)
        return Calls(writes=2 * jobs, read_rounds=0)

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return Checked(fresh=list(steps))  # skipDuplicateUrls makes a re-send harmless

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            await self._one(ctx, step)

    async def _one(self, ctx: RunContext, step: Step) -> None:
        change = step.change
        payload: RegisterPayloadLike | None = change.after  # type: ignore[assignment]
        integration = change.refs.integration_uuid
        if payload is None or integration is None:
            raise StepError("a register change needs its rows and its integration; re-run plan")
        work = RegisterWork(
            address=change.address,
            folder=ctx.folder_of(change),
            integration=integration,
            rows=payload.rows,
            upsert_metadata=payload.upsert_metadata,
        )
        outcome = await register_rows(ctx, work)
        report_failed_rows(ctx, step, work.rows, outcome.failed)
        if outcome.cancelled:
            raise StepError(
                f"interrupted: {plural(len(outcome.registered), 'object')} of {len(work.rows)} "
                f"registered, {len(outcome.cancelled)} not yet (apply --resume registers the rest)"
            )


def report_failed_rows(
    ctx: RunContext, step: Step, rows: Sequence[RowLike], failed: Mapping[int, str]
) -> None:
    """One failure per object, named by its item address, with its manifest ``file:line``."""
    folder = addr.key_of(step.change.address)
    for n in sorted(failed):
        row = rows[n]
        address = addr.item(addr.join_path(folder, row.name))
        message = f"{row.source}: {row.url}: {failed[n]}"
        ctx.state.row_failures.append((address, str(step.phase), message))
        ctx.recorder.failed(RowFailed(phase=str(step.phase), address=address, message=message))
