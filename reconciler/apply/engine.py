"""``apply_plan``: a plan made real, phase by phase, journaled, then verified.

    result = await apply_plan(plan, client=client, options=ApplyOptions(...), emit=printer)

The engine never prints and never asks: confirmation, plan display and refusals
(``can_apply``) are the caller's. It emits events (``reconciler.apply.events``) and returns
an ``ApplyResult``; ``result.ok`` is True when every step took effect and a fresh plan is
empty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reconciler.apply.context import RunContext, RunState
from reconciler.apply.deferred import plan_deferred
from reconciler.apply.events import (
    ApplyFinished,
    ApplyStarted,
    EventSink,
    ignore,
)
from reconciler.apply.executor import Executor, Failure
from reconciler.apply.operations import Operations
from reconciler.apply.phases import PHASES, Phase, Step, by_phase, steps_of
from reconciler.apply.recorder import Recorder
from reconciler.apply.resume import open_journal
from reconciler.apply.verify import Verification, verify
from reconciler.collector import collector_frozen
from reconciler.encord import EncordClient, EncordError
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredState
from reconciler.model.live import LiveState
from reconciler.plan import Plan, PlanError


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    """How to apply.

    * ``journal``: the journal file (``None``: no journal, nothing to resume from);
    * ``resume``: continue the run the journal records (it must exist and be unfinished);
      without it an existing journal for this plan is refused;
    * ``desired``: the configuration, needed to plan deferred items after cloud syncs and
      to verify; without it neither happens (and the result is not ``ok``);
    * ``live``: the live state this process read before applying (the plan's own read, or a
      saved plan's re-check): then a plan that only patches and moves items is verified by
      reading back just those items;
    * ``read_at``: when (``time.monotonic()``) that live state was read. For
      ``trust_seconds`` after it, bundles trust that read and are not read again before
      writing; after that (a slow confirmation, a long run), and without ``read_at``, every
      bundle re-reads what it touches;
    * ``trusted_changes``: the addresses of the changes that read vouches for (None: all,
      the plan was made from it). A saved plan's re-check names the changes its read saw
      as the saved plan did (``plan/recheck.py``); the others are read again;
    * ``verify``: plan again after applying (the default);
    * ``approve_deferred``: shown the plan made after the cloud syncs (the items they
      brought), says whether to apply it; it is not applied when it answers False
      (``None``: applied, as the main plan was);
    * ``stop``: once set (Ctrl-C, SIGTERM), no new bundle starts; those in flight finish and
      are journaled, the journal stays open for ``--resume``, and nothing is verified.
    * ``before_phase``: awaited before each phase that has work, with the phase's name; it
      stops the run by raising ``ApplyError`` (the organisation lock checks it still holds).
    """

    journal: Path | None = None
    resume: bool = False
    desired: DesiredState | None = None
    live: LiveState | None = None
    read_at: float | None = None
    trusted_changes: frozenset[str] | None = None
    trust_seconds: float = 60.0
    verify: bool = True
    sync_timeout_seconds: int = 3600
    clock: Callable[[], str] = now_text
    stop: asyncio.Event | None = None
    approve_deferred: Callable[[Plan], bool] | None = None
    before_phase: Callable[[str], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    applied: int  # changes whose every step took effect (in this run or, resumed, before)
    failures: tuple[Failure, ...]
    already_done: int  # steps an earlier run had finished (``--resume``)
    verification: Verification | None
    requests: int
    seconds: float
    deferred: int = 0
    notes: tuple[str, ...] = field(default=())
    interrupted: bool = False  # stopped before the end (``ApplyOptions.stop``); resumable
    # each phase's wall time, by phase name: what the next plan's cost learns from
    phase_seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return self.verification is not None and self.verification.converged

    @property
    def ok(self) -> bool:
        return not self.failures and self.converged and not self.interrupted


async def apply_plan(
    plan: Plan, *, client: EncordClient, options: ApplyOptions, emit: EventSink = ignore
) -> ApplyResult:
    """Apply ``plan`` through ``client``. Raises ``ApplyError`` only when it cannot start."""
    state, recorder = _open(plan, client, options, emit)
    try:
        with collector_frozen():  # the plan, the live state: alive to the end of the run
            return await _Run(plan, client, options, state, recorder).run()
    finally:
        recorder.close()


def _open(
    plan: Plan, client: EncordClient, options: ApplyOptions, emit: EventSink
) -> tuple[RunState, Recorder]:
    """The run's state, seeded from the run it resumes (``resume.py`` decides), and its
    recorder, its journal started."""
    state = RunState()
    recorded, journal = open_journal(options.journal, plan.checksum, resume=options.resume)
    if recorded is not None:
        state.done = set(recorded.done)
        state.created = dict(recorded.created)
        state.sync_jobs = dict(recorded.sync_jobs)
        state.uploads = dict(recorded.uploads)
    recorder = Recorder(journal, emit)
    recorder.open(
        checksum=plan.checksum, target=client.target, at=options.clock(), resume=options.resume
    )
    return state, recorder


class _Run:
    def __init__(
        self,
        plan: Plan,
        client: EncordClient,
        options: ApplyOptions,
        state: RunState,
        recorder: Recorder,
    ) -> None:
        self.plan = plan
        self.client = client
        self.options = options
        self.ctx = RunContext(
            client=client,
            state=state,
            ownership_id=plan.ownership_id,
            resume=options.resume,
            recorder=recorder,
            sync_timeout_seconds=options.sync_timeout_seconds,
            trusted_until=None
            if options.read_at is None or options.resume
            else options.read_at + options.trust_seconds,
            trusted_changes=options.trusted_changes,
            stop=options.stop,
            planned=frozenset(c.refs.uuid for c in plan.changes if c.refs.uuid),
        )
        self.executor = Executor(self.ctx, Operations())
        self.record = self.executor.recorder
        self.notes: list[str] = []
        self.deferred_changes = 0
        self.phase_seconds: dict[str, float] = {}

    async def run(self) -> ApplyResult:
        started, requests_before = time.monotonic(), self.client.stats.total
        steps = steps_of(self.plan.changes)
        self.record.started(
            ApplyStarted(
                checksum=self.plan.checksum,
                target=self.client.target,
                changes=len(self.plan.changes),
                steps=len(steps),
                resumed=self.options.resume,
                already_done=sum(1 for s in steps if s.key in self.ctx.state.done),
            )
        )
        all_steps = await self._phases(steps)
        tally = self.executor.tally
        interrupted = self.ctx.stopping()
        if not interrupted:  # an open journal is resumable
            failed = tally.failures or self.ctx.state.row_failures
            self.record.phases_done(ok=not failed, at=self.options.clock())
        verification = None if interrupted else await self._verify(all_steps)
        result = ApplyResult(
            applied=_applied(all_steps, self.ctx.state.done),
            failures=(*tally.failures, *(Failure(*f) for f in self.ctx.state.row_failures)),
            already_done=tally.resumed,
            verification=verification,
            requests=self.client.stats.total - requests_before,
            seconds=time.monotonic() - started,
            deferred=self.deferred_changes,
            notes=tuple(self.notes),
            interrupted=interrupted,
            phase_seconds=dict(self.phase_seconds),
        )
        self.record.finished(
            ApplyFinished(
                ok=result.ok,
                applied=result.applied,
                failed=len({f.address for f in result.failures}),
                already_done=result.already_done,
                requests=result.requests,
                seconds=round(result.seconds, 3),
            )
        )
        return result

    async def _phases(self, steps: list[Step]) -> list[Step]:
        """Run every phase; deferred steps planned after the syncs and moves join the later
        ones (item patches, links)."""
        pending = by_phase(steps)
        all_steps = list(steps)
        for phase in PHASES:
            if self.ctx.stopping():
                break
            if pending.get(phase):
                if self.options.before_phase is not None:
                    await self.options.before_phase(phase.value)
                began = time.monotonic()
                await self.executor.run_phase(phase, pending[phase])
                self.phase_seconds[phase.value] = time.monotonic() - began
            # After the moves, not right after the syncs: a folder this plan both moves and
            # fills (a sync, a registration) is re-read where the plan puts it.
            if phase == Phase.MOVE_ITEMS and self.plan.deferred and not self.ctx.stopping():
                extra = await self._deferred()
                all_steps.extend(extra)
                for step in extra:
                    pending.setdefault(step.phase, []).append(step)
        return all_steps

    async def _deferred(self) -> list[Step]:
        """Plan the items of synced folders whose sync (and creation) succeeded; apply that
        plan only once ``approve_deferred`` says so."""
        failed = self.ctx.state.failed_addresses
        ready = [d for d in self.plan.deferred if addr.folder(d.folder) not in failed]
        if not ready:
            return []
        desired = self.options.desired
        if desired is None:
            self.notes.append(
                "items of newly synced folders were not planned (no configuration given); "
                "run plan and apply again"
            )
            return []
        try:
            follow_up, unplanned = await plan_deferred(self.client, desired, self.plan, ready)
        except (EncordError, PlanError) as error:
            self.notes.append(f"items of newly synced folders were not planned: {error}")
            return []
        self.notes.extend(f"items of newly synced folders were not planned: {u}" for u in unplanned)
        folders = tuple(d.folder for d in ready)
        self.record.deferred_planned(folders, changes=len(follow_up.changes))
        approve = self.options.approve_deferred
        if follow_up.changes and approve is not None and not approve(follow_up):
            self.notes.append(
                f"the {len(follow_up.changes)} changes planned after the cloud syncs were not "
                "applied (not approved); run plan and apply again"
            )
            return []
        self.deferred_changes = len(follow_up.changes)
        return steps_of(follow_up.changes, prefix="d")

    async def _verify(self, steps: list[Step]) -> Verification | None:
        desired = self.options.desired
        if not self.options.verify or desired is None:
            return None
        self.record.verify_started()
        verification = await verify(
            self.ctx, desired, self.plan, steps=steps, live=self.options.live
        )
        self.record.verified(verification)
        return verification


def _applied(steps: list[Step], done: set[str]) -> int:
    """Changes all of whose steps are done."""
    status: dict[str, bool] = {}
    for step in steps:
        status[step.change_key] = status.get(step.change_key, True) and step.key in done
    return sum(1 for ok in status.values() if ok)
