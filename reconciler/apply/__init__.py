"""Apply: a plan made real in the fewest API calls, journaled, resumable and verified.

    from reconciler.apply import ApplyOptions, apply_plan

    result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))

Pure parts (``phases``: which step runs when; ``bundles``: which steps share a call) are
separate from the I/O (``executor`` and the ``ops_*`` modules). Journal writes and events
go through one ``Recorder`` (``recorder``) that the executor owns; what a run does with
the journal of one that stopped (resume it, supersede it, refuse) is decided in ``resume``.
The engine emits events (``events``) and never prints; ``reconciler.cli`` turns them into
progress and summaries.
"""

from reconciler.apply.bundles import BUNDLE_SIZE, Bundle, bundle_phase
from reconciler.apply.engine import ApplyOptions, ApplyResult, apply_plan
from reconciler.apply.errors import ApplyError, JournalError, StepError, TargetMismatchError
from reconciler.apply.events import (
    ApplyFinished,
    ApplyStarted,
    BundleDone,
    DeferredPlanned,
    Event,
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
)
from reconciler.apply.executor import Failure
from reconciler.apply.journal import Journal, JournalState, journal_path, read_journal
from reconciler.apply.phases import PHASES, Phase, Step, steps_of
from reconciler.apply.verify import Verification

__all__ = [
    "BUNDLE_SIZE",
    "PHASES",
    "ApplyError",
    "ApplyFinished",
    "ApplyOptions",
    "ApplyResult",
    "ApplyStarted",
    "Bundle",
    "BundleDone",
    "DeferredPlanned",
    "Event",
    "EventSink",
    "Failure",
    "Journal",
    "JournalError",
    "JournalState",
    "Phase",
    "PhaseFinished",
    "PhaseStarted",
    "RegisterProgress",
    "RowFailed",
    "Step",
    "StepError",
    "StepFailed",
    "SyncFinished",
    "SyncStarted",
    "TargetMismatchError",
    "Verification",
    "VerifyFinished",
    "VerifyStarted",
    "apply_plan",
    "bundle_phase",
    "journal_path",
    "read_journal",
    "steps_of",
]
