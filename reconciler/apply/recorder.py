"""The one place a run writes down what happened: the journal first, then the event.

Every fact of a run passes through one ``Recorder``: the engine records the run's start and
end, the executor its phases, bundles and failures, the operations what they created and
the syncs they started. Each fact that ``--resume`` needs is journaled (written, flushed,
fsynced) before it is announced, so a printer never shows as done what a crash could still
lose; facts only people need (a phase started, a step failed) are only announced. Nothing
else in the engine touches the journal or emits.

The executor owns the recorder of its run; operations reach it through ``RunContext``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.apply.errors import JournalError
from reconciler.apply.events import (
    ApplyFinished,
    ApplyStarted,
    BundleDone,
    DeferredPlanned,
    EventSink,
    PhaseFinished,
    PhaseStarted,
    RegisterProgress,
    RowFailed,
    StepFailed,
    SyncFinished,
    SyncStarted,
    VerifyFinished,
    VerifyStarted,
    ignore,
)
from reconciler.apply.journal import Journal
from reconciler.kinds import Phase

if TYPE_CHECKING:  # verify.py reaches this module through context.py
    from reconciler.apply.phases import Step
    from reconciler.apply.verify import Verification


class Recorder:
    """Journals (when a journal is kept) and emits one run's facts, in that order."""

    def __init__(self, journal: Journal | None = None, emit: EventSink = ignore) -> None:
        self._journal = journal
        self._emit = emit

    # --- the run -------------------------------------------------------------------------

    def open(self, *, checksum: str, target: str, at: str, resume: bool) -> None:
        """The journal's ``start`` record; a journal that cannot take it is closed."""
        if self._journal is None:
            return
        try:
            self._journal.start(checksum=checksum, target=target, at=at, resume=resume)
        except JournalError:
            self._journal.close()
            raise

    def started(self, event: ApplyStarted) -> None:
        self._emit(event)

    def phases_done(self, *, ok: bool, at: str) -> None:
        """Every phase ran: the journal is finished before verification (a crash while
        verifying leaves nothing to resume). Not called for an interrupted run, whose
        journal stays open for ``--resume``."""
        if self._journal is not None:
            self._journal.finish(ok=ok, at=at)

    def finished(self, event: ApplyFinished) -> None:
        self._emit(event)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()

    # --- phases and bundles --------------------------------------------------------------

    def phase_started(self, phase: str, *, steps: int, bundles: int) -> None:
        self._emit(PhaseStarted(phase=phase, steps=steps, bundles=bundles))

    def phase_finished(self, phase: str, *, done: int, failed: int) -> None:
        self._emit(PhaseFinished(phase=phase, done=done, failed=failed))

    def intent(self, phase: Phase, steps: Iterable[Step]) -> None:
        """What is about to be sent, so that a run stopped mid-bundle (or between the requests
        of one step, like a move and its rename) leaves the UUIDs it was changing, and the
        folders it was creating (no UUID yet: a cloud-synced one may be made and never
        synced, ``JournalState.unsynced``)."""
        if self._journal is not None:
            self._journal.intent(
                str(phase),
                (
                    (s.key, s.address, s.change.refs.uuid or "")
                    for s in steps
                    if s.change.refs.uuid or phase in (Phase.CREATE_AHEAD, Phase.CREATE_FOLDERS)
                ),
            )

    def acknowledged(self, phase: str, written: Sequence[Step], already: Sequence[Step]) -> None:
        """Steps that took effect (``written``) or were found in effect (``already``)."""
        if self._journal is not None:
            self._journal.bundle(phase, [s.key for s in (*written, *already)])
        self._emit(
            BundleDone(
                phase=phase,
                addresses=tuple(s.address for s in written),
                already=tuple(s.address for s in already),
            )
        )

    def failed(self, event: StepFailed | RowFailed) -> None:
        self._emit(event)

    # --- what operations learn -----------------------------------------------------------

    def created(self, address: str, uuid: str) -> None:
        """A new id, durably at once: a crash right after must not create it twice."""
        if self._journal is not None:
            self._journal.created(address, uuid)

    def sync_started(self, address: str, job: str) -> None:
        if self._journal is not None:
            self._journal.sync_started(address, job)
        self._emit(SyncStarted(address=address, job=job))

    def upload_started(self, address: str, job: str, folder: str, rows: Iterable[int]) -> None:
        """A data-upload job was started for these rows (journaled before it is polled)."""
        if self._journal is not None:
            self._journal.upload_started(address, job, folder, rows)

    def upload_done(self, address: str, job: str, status: str, rows: Iterable[int]) -> None:
        """A data-upload job ended and registered these rows."""
        if self._journal is not None:
            self._journal.upload_done(address, job, status, rows)

    def register_progress(self, event: RegisterProgress) -> None:
        self._emit(event)

    def sync_finished(self, address: str, *, status: str, items: int) -> None:
        self._emit(SyncFinished(address=address, status=status, items=items))

    # --- after the phases ----------------------------------------------------------------

    def deferred_planned(self, folders: tuple[str, ...], *, changes: int) -> None:
        self._emit(DeferredPlanned(folders=folders, changes=changes))

    def verify_started(self) -> None:
        self._emit(VerifyStarted())

    def verified(self, verification: Verification) -> None:
        self._emit(
            VerifyFinished(
                converged=verification.converged,
                remaining=verification.remaining,
                withheld=verification.withheld,
                error=verification.error,
                reread=verification.reread,
                drift=verification.drift,
            )
        )
