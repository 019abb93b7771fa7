"""Ctrl-C and SIGTERM during ``apply``: one behaviour for both, and the truth about what was done.

* Before anything is written (reading, planning, at the prompt) either signal stops the
  command at once: "interrupted; nothing was changed", exit 1.
* While applying, the first signal asks the engine to stop (``ApplyOptions.stop``): the
  bundles in flight finish and are journaled, no new one starts, and the summary says what
  was applied and how to finish (``reconciler apply PATH --resume``), exit 1. A second
  signal stops at once; what was acknowledged is journaled all the same.

A CI runner cancelling a job sends SIGTERM: without this it ended with "Terminated" and
143, with the bundle in flight neither finished nor journaled.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import click

from reconciler.apply import ApplyStarted, BundleDone, Event, EventSink


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt``, as Ctrl-C does, while the block runs."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def graceful_stop(*, to_stderr: bool = True) -> Iterator[asyncio.Event]:
    """An event the first Ctrl-C or SIGTERM sets (and says so); a second one interrupts at
    once. Only in a running event loop, around ``apply_plan``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def restore() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)  # SIGINT: back to KeyboardInterrupt
        signal.signal(signal.SIGTERM, _interrupt)

    def on_signal() -> None:
        stop.set()
        restore()
        click.echo(
            "Stopping: the bundles in flight finish and are journaled, no new one starts "
            "(press Ctrl-C again to stop at once).",
            err=to_stderr,
        )

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        yield stop
    finally:
        if not stop.is_set():
            restore()


@dataclass(slots=True)
class Progress:
    """What the run got to, from its events: for the message when it is interrupted."""

    sink: EventSink
    started: bool = False
    acknowledged: int = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, ApplyStarted):
            self.started = True
        elif isinstance(event, BundleDone):
            self.acknowledged += len(event.addresses) + len(event.already)
        self.sink(event)


def resume_command(path: Path, environment: str | None = None) -> str:
    """The command that finishes the run (in its environment: each has its own journal)."""
    env = "" if environment is None else f" --env {shlex.quote(environment)}"
    return f"reconciler apply {shlex.quote(str(path))}{env} --resume"


def interrupted_message(progress: Progress, path: Path, environment: str | None = None) -> str:
    """One line: what an interrupted apply did, and what to do about it."""
    if not progress.started:
        return "interrupted; nothing was changed"
    return (
        f"interrupted while applying; {progress.acknowledged} steps were acknowledged and "
        f"journaled (the one in flight may have gone through); finish the run with "
        f"`{resume_command(path, environment)}`"
    )
