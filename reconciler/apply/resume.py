"""When an apply carries on from a run that stopped, and how: the resume policy, in one place.

A run that stopped (killed, interrupted, a lost lock) leaves its journal open
(``journal.py``). What the next apply does with it:

* ``apply PATH`` (a plan made now): every stopped run of the config is found
  (``stopped_runs``); a run whose process is still alive is not stopped (wait for it). The
  fresh plan, made from what is live now, holds what they left, so they are closed
  (``carry_on``): a stopped run of this very plan (same checksum) is resumed step by step,
  any other is superseded. Their unacknowledged steps are the plan's ``in_flight``.
  ``--resume`` with no stopped run is refused.
* ``apply PLANFILE``: only ``--resume`` carries on, and only from the journal of that plan;
  a saved plan already applied, partly applied (without ``--resume``) or with a journal of
  another plan is refused (``recorded_run``). Steps that journal shows done are not judged
  again against a fresh plan (``done_indices``). The stopped runs of the config that the
  saved plan was made after (``planned_after``) are closed like a fresh plan's: the plan
  holds what they left (their in-flight steps, their unsynced folders), and a run left open
  would have its unsynced folders synced again by every later plan.

Every refusal is a ``JournalError`` whose one line says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from reconciler.apply.errors import JournalError
from reconciler.apply.journal import (
    Journal,
    JournalState,
    journal_dir,
    read_journal,
    supersede,
    unfinished_journals,
)
from reconciler.apply.owner import is_running, running_message
from reconciler.words import plural


def stopped_runs(
    directory: Path, *, resume: bool, environment: str | None = None
) -> list[JournalState]:
    """Runs of the config in ``directory`` that stopped before the end, newest first;
    ``resume`` (``--resume``) needs one. A run that is still going is refused: wait for it."""
    stopped = unfinished_journals(directory, environment=environment)
    for state in stopped:
        if is_running(state.owner, state.path):
            raise JournalError(running_message(state))
    if resume and not stopped:
        raise JournalError(
            f"nothing to resume in {journal_dir(directory, environment)}: no run stopped "
            "before the end; run `reconciler apply` without --resume"
        )
    return stopped


def carry_on(
    stopped: list[JournalState], checksum: str, *, at: str, say: Callable[[str], None]
) -> bool:
    """Close the stopped runs a fresh plan (``checksum``) carries on from, saying so; True
    when one of them ran this very plan (then its journal is resumed step by step)."""
    exact = False
    for state in stopped:
        if state.checksum == checksum:
            exact = True
            continue
        acknowledged = len(state.done) + len(state.created)
        say(
            f"Carrying on from a run that stopped ({state.path.name}): "
            f"{plural(len(state.done), 'step')} and {plural(len(state.created), 'create')} "
            f"{'was' if acknowledged == 1 else 'were'} acknowledged; "
            "this plan holds what is left."
        )
        supersede(state, at=at)
    return exact


def planned_after(
    directory: Path, created_at: str | None, *, environment: str | None = None
) -> list[JournalState]:
    """The stopped runs of the config in ``directory`` whose journals were last written
    before a saved plan was made at ``created_at``: the planner read them (``reconciler
    plan`` reads the config's stopped runs), so the plan carries on from them. A run that
    stopped after the plan was made is left open for the next plan; so is every run when
    the plan does not say when it was made."""
    if created_at is None:
        return []
    try:
        made = datetime.fromisoformat(created_at).timestamp()
    except ValueError:
        return []
    stopped = stopped_runs(directory, resume=False, environment=environment)
    return [s for s in stopped if _written_at(s.path) < made]


def _written_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone meanwhile: nothing to close


def resumes(*, saved: bool, requested: bool, exact: bool) -> bool:
    """Whether apply continues a journal: a saved plan only when asked (``--resume``), a
    fresh plan when a stopped run ran exactly it."""
    return requested if saved else exact


def done_indices(journal: Path) -> set[int]:
    """Indices of the saved plan's changes its journal shows finished (none: no journal)."""
    if not journal.is_file():
        return set()
    keys = read_journal(journal).done
    return {int(key.split(":", 1)[0]) for key in keys if key.split(":", 1)[0].isdigit()}


def recorded_run(path: Path, checksum: str, *, resume: bool) -> JournalState | None:
    """What the journal at ``path`` says an earlier run of the plan ``checksum`` did, when
    this run resumes it; None for a fresh start. Refuses every other case."""
    if not path.exists():
        if resume:
            raise JournalError(
                f"nothing to resume: no journal for this plan at {path}; apply without --resume"
            )
        return None
    recorded = read_journal(path)
    if is_running(recorded.owner, path):
        raise JournalError(running_message(recorded))
    if recorded.checksum and recorded.checksum != checksum:
        raise JournalError(f"journal {path} belongs to another plan ({recorded.checksum})")
    if recorded.finished:
        raise JournalError(
            f"this plan was already applied (journal {path}); make a new plan and apply that"
        )
    if not resume:
        raise JournalError(
            f"this plan was partly applied by a run that stopped (journal {path}); "
            "finish it with --resume, or make a new plan"
        )
    return recorded


def open_journal(
    path: Path | None, checksum: str, *, resume: bool
) -> tuple[JournalState | None, Journal | None]:
    """The earlier run this one resumes (or None) and the journal opened for this run (None:
    no journal kept, and then nothing can be resumed)."""
    if path is None:
        if resume:
            raise JournalError("--resume needs a journal, and none is kept for this run")
        return None, None
    recorded = recorded_run(path, checksum, resume=resume)
    return recorded, Journal.open(path)
