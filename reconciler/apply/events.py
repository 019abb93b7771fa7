"""What the engine tells the world while it works. The engine emits, printers consume.

Every event is a frozen value with a ``to_json()`` for ``--format json`` (one JSON object
per line, ``"event"`` naming the kind). Addresses are always included for failures; done
bundles list theirs too, so automation can follow every object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, **asdict(self)}


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """A sink that drops everything."""


@dataclass(frozen=True, slots=True)
class ApplyStarted(Event):
    kind: ClassVar[str] = "apply_started"
    checksum: str
    target: str
    changes: int
    steps: int
    resumed: bool
    already_done: int  # steps the journal says an earlier run finished


@dataclass(frozen=True, slots=True)
class PhaseStarted(Event):
    kind: ClassVar[str] = "phase_started"
    phase: str
    steps: int
    bundles: int


@dataclass(frozen=True, slots=True)
class BundleDone(Event):
    """A bundle's steps took effect (``addresses``), some found already done (``already``)."""

    kind: ClassVar[str] = "bundle_done"
    phase: str
    addresses: tuple[str, ...]
    already: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepFailed(Event):
    """One change's step was not applied. ``stale``: the object changed since the plan;
    ``skipped``: not attempted because something it depends on failed."""

    kind: ClassVar[str] = "step_failed"
    phase: str
    address: str
    message: str
    stale: bool = False
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class SyncStarted(Event):
    kind: ClassVar[str] = "sync_started"
    address: str
    job: str


@dataclass(frozen=True, slots=True)
class SyncFinished(Event):
    kind: ClassVar[str] = "sync_finished"
    address: str
    status: str
    items: int


@dataclass(frozen=True, slots=True)
class RowFailed(Event):
    """One object of a register change failed on its own (``address``: the item it would
    have been; ``message`` starts with its manifest ``file:line``); the change's other
    objects were registered."""

    kind: ClassVar[str] = "row_failed"
    phase: str
    address: str
    message: str


@dataclass(frozen=True, slots=True)
class RegisterProgress(Event):
    """Objects of one register change: registered (``done``, an earlier run's included),
    failed per object (``errors``), still to do (``pending``), of ``total``."""

    kind: ClassVar[str] = "register_progress"
    address: str
    done: int
    errors: int
    pending: int
    total: int
    jobs_running: int


@dataclass(frozen=True, slots=True)
class DeferredPlanned(Event):
    """Item-level work planned after a sync: ``changes`` join the later phases."""

    kind: ClassVar[str] = "deferred_planned"
    folders: tuple[str, ...]
    changes: int


@dataclass(frozen=True, slots=True)
class PhaseFinished(Event):
    kind: ClassVar[str] = "phase_finished"
    phase: str
    done: int
    failed: int


@dataclass(frozen=True, slots=True)
class VerifyStarted(Event):
    kind: ClassVar[str] = "verify_started"


@dataclass(frozen=True, slots=True)
class VerifyFinished(Event):
    """``remaining``: one line per change a fresh plan still wants of what the plan covered;
    ``withheld``: one line per refusal that withholds changes from it (converged: both
    empty); ``drift``: what it wants elsewhere (edits the plan never touched)."""

    kind: ClassVar[str] = "verify_finished"
    converged: bool
    remaining: tuple[str, ...] = ()
    error: str | None = None
    reread: str = "scope"  # "touched": only the objects apply touched were read again
    drift: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplyFinished(Event):
    kind: ClassVar[str] = "apply_finished"
    ok: bool
    applied: int
    failed: int
    already_done: int
    requests: int
    seconds: float
