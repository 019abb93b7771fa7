"""Progress of apply in text: rich bars per phase on a terminal, nothing otherwise.

The engine emits events; ``TextView`` (``apply_views``) hands them to one of these. ``Bars``
draws on stderr, and only when stderr is a terminal (logs and CI output stay clean);
``Quiet`` draws nothing and leaves it to the summary. JSON lines are ``JsonLinesView``.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from reconciler.apply import (
    BundleDone,
    Event,
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
from reconciler.printable import printable
from reconciler.words import plural


def _shown(text: object) -> str:
    """Live text for the console: one line, and no rich markup it could smuggle in."""
    return escape(printable(str(text)))


class Bars:
    """One bar per phase (steps done of steps planned); failures printed above the bars."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def __call__(self, event: Event) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        if isinstance(event, PhaseStarted):
            self._tasks[event.phase] = self._progress.add_task(event.phase, total=event.steps)
        elif isinstance(event, BundleDone):
            self._advance(event.phase, len(event.addresses) + len(event.already))
        elif isinstance(event, RowFailed):
            self._progress.console.print(
                f"[red]! {_shown(event.address)}: {_shown(event.message)}[/red]"
            )
        elif isinstance(event, RegisterProgress):
            self._register(event)
        elif isinstance(event, StepFailed):
            self._advance(event.phase, 1)
            self._progress.console.print(
                f"[red]! {_shown(event.address)}: {_shown(event.message)}[/red]"
            )
        elif isinstance(event, PhaseFinished):
            task = self._tasks.get(event.phase)
            if task is not None:
                self._progress.update(task, completed=event.done + event.failed)
        else:
            self._note(event)

    def _register(self, event: RegisterProgress) -> None:
        """A bar of objects per register change (its phase's bar counts changes)."""
        key = f"objects {event.address}"
        if key not in self._tasks:
            self._progress.console.print(f"registering {_shown(event.address)}")
            self._tasks[key] = self._progress.add_task("  objects", total=event.total)
        self._progress.update(self._tasks[key], completed=event.done + event.errors)

    def _note(self, event: Event) -> None:
        if isinstance(event, SyncStarted):
            self._progress.console.print(f"syncing {_shown(event.address)} (job {event.job})")
        elif isinstance(event, SyncFinished):
            self._progress.console.print(
                f"sync of {_shown(event.address)} {event.status}: {plural(event.items, 'item')}"
            )
        elif isinstance(event, VerifyStarted):
            self._tasks["verify"] = self._progress.add_task("verify", total=None)
        elif isinstance(event, VerifyFinished) and "verify" in self._tasks:
            self._progress.update(self._tasks["verify"], total=1, completed=1)

    def _advance(self, phase: str, count: int) -> None:
        task = self._tasks.get(phase)
        if task is not None:
            self._progress.advance(task, count)

    def close(self) -> None:
        if self._started:
            self._progress.stop()
            self._started = False


class Quiet:
    """No progress (stderr is not a terminal); the summary says what happened."""

    def __call__(self, event: Event) -> None:
        """Nothing while running."""

    def close(self) -> None:
        """Nothing to release."""
