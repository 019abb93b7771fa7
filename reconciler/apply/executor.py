"""Running one phase: waves one after another, the bundles of a wave concurrently.

For each bundle the executor

1. drops steps already done (``--resume``), steps of changes that already failed, and fails
   steps whose dependencies failed (with a message naming the dependency);
2. asks the bundle's operation to ``check`` what it will touch: stale steps fail, steps
   found already in effect are done. Skipped for a step while a read of seconds ago
   vouches for it (``RunContext.trusted``): a plan made by this process from that read, or
   a saved plan's change that the re-check's read saw as the plan did;
3. asks it to ``write`` the rest. A refused bulk call (404/400/409: one bad object spoils
   the whole call) is split in halves until the bad objects are isolated, within a budget;
4. journals what was acknowledged, before anything else happens.

Nothing here raises for one bundle's trouble: failures are recorded and reported, and
independent bundles go on. All requests share the client's concurrency limit and its
429 pause, however many bundles are in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.apply.bundles import Bundle, bundle_phase
from reconciler.apply.context import RunContext
from reconciler.apply.errors import StepError
from reconciler.apply.events import StepFailed
from reconciler.apply.freshness import Checked, describe
from reconciler.apply.phases import Phase, Step
from reconciler.encord import (
    ConflictError,
    EncordError,
    InvalidRequestError,
    NotFoundError,
)

logger = logging.getLogger(__name__)

# Extra calls one bundle may spend isolating objects that make a bulk call fail.
SPLIT_BUDGET = 64
_SPLITTABLE_ERRORS = (NotFoundError, InvalidRequestError, ConflictError)


@dataclass(frozen=True, slots=True)
class Calls:
    """The requests one bundle sends when every call succeeds the first time: ``reads``
    (the ``check``; none when the plan's own read is trusted) in ``read_rounds`` round trips
    one after another, then ``writes``, sent one after another. Counted by the operation
    beside the code that sends them; ``reconciler.apply.cost`` adds them up for the plan."""

    reads: int = 0
    writes: int = 0
    read_rounds: int = 1

    @property
    def rounds(self) -> int:
        """Round trips the bundle takes end to end (its reads, then its writes)."""
        return (min(self.read_rounds, self.reads) if self.reads else 0) + self.writes


class Operation(Protocol):
    """What one kind of bundle does. ``splittable``: a refused call may be retried in halves.
    ``calls``: what ``check`` and ``write`` will send for these steps (``Calls``)."""

    splittable: bool

    def calls(self, steps: Sequence[Step]) -> Calls: ...

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked: ...

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None: ...


class OperationFor(Protocol):
    def __call__(self, step: Step) -> Operation: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """A step not applied. ``stale``: changed since the plan; ``skipped``: not attempted."""

    address: str
    phase: str
    message: str
    stale: bool = False
    skipped: bool = False


@dataclass(slots=True)
class Tally:
    done: int = 0
    failed: int = 0
    resumed: int = 0
    failures: list[Failure] = field(default_factory=list)


class Executor:
    def __init__(self, ctx: RunContext, operation_for: OperationFor) -> None:
        self._ctx = ctx
        self._operation_for = operation_for
        self.recorder = ctx.recorder  # the run's journal and events: through here only
        self.tally = Tally()
        # Bulk bundles that re-read before writing hold a slot from their re-check to their
        # write: with every bundle of a wave started at once, all the re-reads would queue
        # ahead of all the writes, and a bundle's objects would be written long after they
        # were checked. Held, the next bundle is re-read while this one is written.
        self._rechecking = asyncio.Semaphore(ctx.client.options.concurrency)

    async def run_phase(self, phase: Phase, steps: Sequence[Step]) -> None:
        waves = bundle_phase(phase, steps)
        done_before, failed_before = self.tally.done, self.tally.failed
        self.recorder.phase_started(
            str(phase), steps=len(steps), bundles=sum(len(w) for w in waves)
        )
        for wave in waves:
            await asyncio.gather(*(self._run_bundle(b) for b in wave))
        self.recorder.phase_finished(
            str(phase),
            done=self.tally.done - done_before,
            failed=self.tally.failed - failed_before,
        )

    # --- one bundle ----------------------------------------------------------------------

    async def _run_bundle(self, bundle: Bundle) -> None:
        try:
            await self._bundle(bundle)
        except Exception as error:  # a bug must not stop independent work; it is reported
            logger.debug("internal error in a %s bundle", bundle.phase, exc_info=True)
            pending = [s for s in bundle.steps if s.key not in self._ctx.state.done]
            self._fail_all(
                [s for s in pending if s.change_key not in self._ctx.state.failed],
                f"internal error: {type(error).__name__}: {error}",
            )

    async def _bundle(self, bundle: Bundle) -> None:
        if self._ctx.stopping():
            return  # asked to stop: bundles in flight finish and are journaled, no new one
        steps = self._runnable(bundle.steps)
        if not steps:
            return
        operation = self._operation_for(steps[0])
        trusted = self._ctx.trusted(steps)
        if len(trusted) == len(steps):
            await self._checked_and_written(bundle, operation, steps, trusted)
        elif operation.splittable:  # one bulk call: no long wait (a sync, an upload) holds it
            async with self._rechecking:
                if self._ctx.stopping():
                    return  # asked to stop while it waited for a slot: not started
                await self._checked_and_written(bundle, operation, steps, trusted)
        else:
            await self._checked_and_written(bundle, operation, steps, trusted)

    async def _checked_and_written(
        self, bundle: Bundle, operation: Operation, steps: list[Step], trusted: list[Step]
    ) -> None:
        """Check the steps not ``trusted`` (``RunContext.trusted``), then write the fresh
        ones with the trusted, in the bundle's order, in one write."""
        checked = Checked(fresh=list(trusted))
        if len(trusted) < len(steps):
            vouched = {id(s) for s in trusted}
            unvouched = [s for s in steps if id(s) not in vouched]
            try:
                checked.extend(await operation.check(self._ctx, unvouched))
            except (EncordError, StepError) as error:
                self._fail_all(unvouched, _message(error))  # the trusted need no read
            if trusted and len(checked.fresh) > len(trusted):  # keep the bundle's order
                order = {id(s): n for n, s in enumerate(steps)}
                checked.fresh.sort(key=lambda s: order[id(s)])
        for step, message in checked.stale:
            self._fail(step, message, stale=True)
        self._acknowledge(bundle.phase, [], checked.already)
        if checked.fresh:
            budget = [SPLIT_BUDGET]
            await self._write(operation, bundle.phase, checked.fresh, budget)

    def _runnable(self, steps: Sequence[Step]) -> list[Step]:
        state = self._ctx.state
        out: list[Step] = []
        for step in steps:
            if step.key in state.done:
                self.tally.resumed += 1
                continue
            if step.change_key in state.failed:
                continue  # an earlier step of this change failed and was reported
            blocked = next((d for d in step.change.depends_on if d in state.failed_addresses), None)
            if blocked is not None:
                self._fail(
                    step,
                    f"not applied: it depends on {describe(blocked)}, which failed",
                    skipped=True,
                )
                continue
            out.append(step)
        return out

    async def _write(
        self, operation: Operation, phase: Phase, steps: list[Step], budget: list[int]
    ) -> None:
        self.recorder.intent(phase, steps)
        try:
            await operation.write(self._ctx, steps)
        except StepError as error:
            if error.failed is None:
                self._fail_all(steps, str(error))
                return
            for step in steps:
                if step.key in error.failed:
                    self._fail(step, error.failed[step.key])
            self._acknowledge(phase, [s for s in steps if s.key not in error.failed], [])
            return
        except EncordError as error:
            if _splittable(operation, steps, error, budget):
                budget[0] -= 2
                logger.info("splitting a refused %s bundle of %d: %s", phase, len(steps), error)
                half = len(steps) // 2
                await asyncio.gather(
                    self._write(operation, phase, steps[:half], budget),
                    self._write(operation, phase, steps[half:], budget),
                )
                return
            self._fail_all(steps, _message(error))
            return
        self._acknowledge(phase, steps, [])

    # --- bookkeeping ---------------------------------------------------------------------

    def _acknowledge(self, phase: Phase, written: Sequence[Step], already: Sequence[Step]) -> None:
        if not written and not already:
            return
        keys = [s.key for s in (*written, *already)]
        self.recorder.acknowledged(str(phase), written, already)  # journaled before it counts
        self._ctx.state.done.update(keys)
        self.tally.done += len(keys)

    def _fail_all(self, steps: Sequence[Step], message: str) -> None:
        for step in steps:
            self._fail(step, message)

    def _fail(
        self, step: Step, message: str, *, stale: bool = False, skipped: bool = False
    ) -> None:
        state = self._ctx.state
        state.failed[step.change_key] = message
        state.failed_addresses.setdefault(step.address, message)
        failure = Failure(step.address, str(step.phase), message, stale=stale, skipped=skipped)
        self.tally.failed += 1
        self.tally.failures.append(failure)
        self.recorder.failed(
            StepFailed(
                phase=failure.phase,
                address=failure.address,
                message=message,
                stale=stale,
                skipped=skipped,
            )
        )


def _splittable(
    operation: Operation, steps: Sequence[Step], error: EncordError, budget: list[int]
) -> bool:
    """Split a refused bulk call only for per-object refusals, and within the budget."""
    return (
        operation.splittable
        and len(steps) > 1
        and isinstance(error, _SPLITTABLE_ERRORS)
        and budget[0] >= 2
    )


def _message(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return " ".join(text.split())  # one line, whatever the server sent
