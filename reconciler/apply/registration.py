"""Registering a register change's objects: data-upload jobs, chunked, concurrent, resumable.

The rows are cut into jobs of ``JOB_ROWS`` (measured: ``bench/README.md``), at most
``job_slots`` of them running at once across the run (each holds a long poll). Every job is
started with ``skipDuplicateUrls`` (a row whose object the folder already has is never
registered twice, whoever sent it) and ``ignoreErrors`` (a unit error fails its own row, not
the job). Each start and each end is journaled before anything else happens, so

* ``--resume`` first waits for the jobs an earlier run started and never saw end (never
  starting their rows again while they may still run), skips rows registered by jobs that
  ended, and sends the rest;
* the first Ctrl-C starts no new job and cancels the running ones through the cancel call;
  what they registered before stopping is journaled, the rest is left to ``--resume``.

A registered row is one its job reported in ``itemsWithNames`` or, for a job that ran to its
end, any row without a unit error (a row skipped as a duplicate is registered already).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.apply.context import RunContext
from reconciler.apply.events import RegisterProgress
from reconciler.apply.journal import JournalState, UploadJobs, from_ranges, to_ranges
from reconciler.encord import EncordClient, EncordError
from reconciler.wire.uploads import (
    ENTRY_LISTS,
    DataUploadItems,
    UploadJobResult,
    UploadJobStatus,
)

JOB_ROWS = 1000  # rows per data-upload job (bench/bench_register.py measures the choice)
POLL_SECONDS = 60  # one long poll's budget; the server answers sooner when the job ends
JOB_TIMEOUT_SECONDS = 6 * 3600  # a job still pending after this fails its rows


class RowLike(Protocol):
    """One manifest row, as the register change's payload carries it."""

    @property
    def url(self) -> str: ...
    @property
    def item_type(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def source(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterWork:
    """One register step: ``rows`` into ``folder`` from ``integration`` (UUIDs)."""

    address: str
    folder: str
    integration: str
    rows: Sequence[RowLike]
    upsert_metadata: bool


@dataclass(slots=True)
class RegisterOutcome:
    """Row numbers registered (-> item UUID, "" when the job did not name it), failed on
    their own (-> one-line reason), and not attempted because the run was stopped."""

    registered: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)


def job_slots(ctx: RunContext) -> asyncio.Semaphore:
    """The run's one limit on jobs in flight: a quarter of the client's request limit, so
    long polls never crowd out the requests of the other phases' bundles."""
    if ctx.state.job_slots is None:
        ctx.state.job_slots = asyncio.Semaphore(max(1, ctx.client.options.concurrency // 4))
    return ctx.state.job_slots


def upload_items(rows: Sequence[RowLike], *, upsert_metadata: bool) -> DataUploadItems:
    lists: dict[str, list[Any]] = {}
    for row in rows:
        key, model = ENTRY_LISTS[row.item_type]
        entry = model(object_url=row.url, title=row.title, client_metadata=dict(row.metadata))
        lists.setdefault(key, []).append(entry)
    return DataUploadItems(**lists, skip_duplicate_urls=True, upsert_metadata=upsert_metadata)


async def register_rows(ctx: RunContext, work: RegisterWork) -> RegisterOutcome:
    """Register ``work.rows``; never raises for a row's or a job's trouble (see outcome)."""
    run = _Registration(ctx, work)
    await run.adopt_earlier_jobs()
    todo = [n for n in range(len(work.rows)) if n not in run.outcome.registered]
    unknown = [n for n in todo if work.rows[n].item_type not in ENTRY_LISTS]
    for n in unknown:  # the config refuses these; a hand-edited saved plan may not
        run.outcome.failed[n] = f"items of type {work.rows[n].item_type!r} cannot be registered"
    todo = [n for n in todo if n not in run.outcome.failed]
    chunks = [todo[i : i + JOB_ROWS] for i in range(0, len(todo), JOB_ROWS)]
    await asyncio.gather(*(run.chunk(c) for c in chunks))
    return run.outcome


class _Registration:
    def __init__(self, ctx: RunContext, work: RegisterWork) -> None:
        self.ctx, self.work = ctx, work
        self.outcome = RegisterOutcome()
        self.jobs = ctx.state.uploads.setdefault(work.address, UploadJobs())
        self.running = 0
        self.partial: dict[str, int] = {}  # running job -> units it reported done so far
        for n in self.jobs.registered:
            self.outcome.registered[n] = ""

    async def adopt_earlier_jobs(self) -> None:
        """Jobs an earlier run started and never saw end: wait for them (or cancel them,
        when this run is stopping) before anything of theirs is sent again."""
        earlier = list(self.jobs.open.items())
        await asyncio.gather(*(self._follow(job, from_ranges(rows)) for job, rows in earlier))

    async def chunk(self, rows: list[int]) -> None:
        async with job_slots(self.ctx):
            if self.ctx.stopping():
                self.outcome.cancelled.update(rows)
                return
            items = upload_items(
                [self.work.rows[n] for n in rows], upsert_metadata=self.work.upsert_metadata
            )
            try:
                job = await self.ctx.client.uploads.start(
                    self.work.folder,
                    items,
                    integration=self.work.integration,
                    ignore_errors=True,
                    subject=f"{self.work.address} ({len(rows)} objects)",
                )
            except EncordError as error:
                self._fail(rows, _one_line(error))
                return
            self.jobs.open[str(job)] = to_ranges(rows)
            self.ctx.recorder.upload_started(self.work.address, str(job), self.work.folder, rows)
            await self._follow(str(job), rows)

    async def _follow(self, job: str, rows: list[int]) -> None:
        self.running += 1
        try:
            result = await self._wait(job)
        except EncordError as error:
            self._fail(rows, f"data-upload job {job}: {_one_line(error)}")
            return
        finally:
            self.running -= 1
        self._absorb(job, rows, result)

    async def _wait(self, job: str) -> UploadJobResult:
        """Long-poll until the job ends; a stop cancels it (once) and waits for its end."""
        uploads, folder = self.ctx.client.uploads, self.work.folder
        cancelled = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOB_TIMEOUT_SECONDS
        while True:
            if self.ctx.stopping() and not cancelled:
                await uploads.cancel(folder, job)
                cancelled = True
            result = await self._poll_or_stop(job, stop_matters=not cancelled)
            if result is not None:
                if result.status != UploadJobStatus.PENDING:
                    return result
                self.partial[job] = result.units_done_count
                self._progress()
                if loop.time() >= deadline:
                    raise EncordError(f"still pending after {JOB_TIMEOUT_SECONDS} s")

    async def _poll_or_stop(self, job: str, *, stop_matters: bool) -> UploadJobResult | None:
        """One long poll, abandoned (None) as soon as the run is asked to stop."""
        poll = asyncio.ensure_future(
            self.ctx.client.uploads.poll(self.work.folder, job, timeout_seconds=POLL_SECONDS)
        )
        stop = self.ctx.stop
        if not stop_matters or stop is None:
            return await poll
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({poll, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if poll.done():
            return poll.result()
        poll.cancel()
        with contextlib.suppress(asyncio.CancelledError, EncordError):
            await poll
        return None

    def _absorb(self, job: str, rows: list[int], result: UploadJobResult) -> None:
        failed = self._unit_errors(rows, result)
        by_name = {self.work.rows[n].name: n for n in rows}
        made = {
            by_name[i.name]: str(i.item_uuid) for i in result.items_with_names if i.name in by_name
        }
        if result.status == UploadJobStatus.DONE:
            registered = {n: made.get(n, "") for n in rows if n not in failed}
        else:  # cancelled (or failed as a whole): only what it named is known to be there
            registered = {n: uuid for n, uuid in made.items() if n not in failed}
        if result.status == UploadJobStatus.ERROR:
            reason = "the job failed: " + ("; ".join(result.errors) or "no reason given")
            failed.update({n: reason for n in rows if n not in registered and n not in failed})
        self.ctx.recorder.upload_done(self.work.address, job, str(result.status), registered)
        self.jobs.open.pop(job, None)
        self.partial.pop(job, None)
        self.jobs.registered.update(registered)
        self.outcome.registered.update(registered)
        urls = self.ctx.state.registered.setdefault(self.work.address, {})
        urls.update({self.work.rows[n].url: uuid for n, uuid in registered.items() if uuid})
        self.outcome.failed.update(failed)
        self.outcome.cancelled.update(n for n in rows if n not in registered and n not in failed)
        self._progress()

    def _unit_errors(self, rows: list[int], result: UploadJobResult) -> dict[int, str]:
        by_url = {self.work.rows[n].url: n for n in rows}
        failed: dict[int, str] = {}
        for error in result.unit_errors:
            for url in error.object_urls:
                if url in by_url:
                    failed[by_url[url]] = " ".join(error.error.split())
        return failed

    def _fail(self, rows: list[int], message: str) -> None:
        for n in rows:
            self.outcome.failed[n] = message
        self._progress()

    def _progress(self) -> None:
        total = len(self.work.rows)
        done = len(self.outcome.registered) + sum(self.partial.values())
        errors = len(self.outcome.failed)
        self.ctx.recorder.register_progress(
            RegisterProgress(
                address=self.work.address,
                done=min(done, total),
                errors=errors,
                pending=max(0, total - done - errors - len(self.outcome.cancelled)),
                total=total,
                jobs_running=self.running,
            )
        )


async def settle_stopped_jobs(
    client: EncordClient, stopped: Iterable[JournalState], *, timeout_seconds: int = 3600
) -> int:
    """Wait for the data-upload jobs that stopped runs started and never saw end, so that a
    fresh plan sees what they registered instead of sending it again while they still run.
    Returns how many were waited for; one that cannot be read (gone) is not waited for."""
    jobs = [
        (uploads.folders[job], job)
        for state in stopped
        for uploads in state.uploads.values()
        for job in uploads.open
        if uploads.folders.get(job)
    ]

    async def settle(folder: str, job: str) -> None:
        with contextlib.suppress(EncordError):
            await client.uploads.wait(folder, job, timeout_seconds=timeout_seconds)

    await asyncio.gather(*(settle(folder, job) for folder, job in jobs))
    return len(jobs)


def _one_line(error: BaseException) -> str:
    return " ".join((str(error) or type(error).__name__).split())
