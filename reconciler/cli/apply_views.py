"""What ``reconciler apply`` shows, one view per output format, so the command never tests it.

* ``TextView`` (``--format text``): the plan as text on stdout, bars per phase on stderr
  when it is a terminal (``apply_progress``), notes and the prompt on stdout, the summary
  at the end (``apply_summary``), errors as "Error: ..." on stderr.
* ``JsonLinesView`` (``--format json``): stdout holds only JSON, one object a line, flushed
  at once: the plan, who applies it, every engine event, and an ``error`` event before the
  error line on stderr. Notes and the prompt go to stderr; there is no summary (the
  ``apply_finished`` event is it).

Both are the engine's ``EventSink`` too.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any, Protocol

import click
from rich.console import Console

from reconciler.apply import ApplyResult, Event
from reconciler.cli.apply_progress import Bars, Quiet
from reconciler.cli.apply_summary import print_summary
from reconciler.cli.common import echo_error, print_rename_notes
from reconciler.errors import ReconcilerError
from reconciler.model.desired import DesiredState
from reconciler.model.live import Caller, LiveState
from reconciler.plan import Plan, plan_document, render_text
from reconciler.plan.render_text import Detail


class ApplyView(Protocol):
    """Everything apply shows, in one format."""

    def __call__(self, event: Event) -> None:
        """An engine event (progress)."""

    def close(self) -> None:
        """Stop any progress display: before a prompt, an error line or the summary."""

    def plan(self, plan: Plan) -> None: ...

    def follow_up(self, plan: Plan) -> None:
        """The plan made after the cloud syncs, before it is approved."""

    def caller(self, caller: Caller) -> None: ...

    def rename_notes(self, plan: Plan, desired: DesiredState, live: LiveState) -> None: ...

    def note(self, line: str) -> None: ...

    def confirm(self, question: str) -> bool:
        """Ask; Ctrl-C or the end of input at the prompt is no."""

    def summary(self, result: ApplyResult) -> None: ...

    def error(self, error: ReconcilerError) -> None: ...


def view_for(fmt: str, *, detail: Detail = "grouped") -> ApplyView:
    """The view of ``--format``; the one place that reads it."""
    if fmt == "json":
        return JsonLinesView()
    return TextView(detail=detail)


def _confirm(question: str, *, err: bool) -> bool:
    try:
        return click.confirm(question, default=False, err=err)
    except click.exceptions.Abort:  # Ctrl-C or end of input at the prompt
        return False


class TextView:
    def __init__(self, *, detail: Detail = "grouped", console: Console | None = None) -> None:
        console = console or Console(stderr=True)
        self._progress: Bars | Quiet = Bars(console) if console.is_terminal else Quiet()
        self._detail = detail

    def __call__(self, event: Event) -> None:
        self._progress(event)

    def close(self) -> None:
        self._progress.close()

    def plan(self, plan: Plan) -> None:
        click.echo(render_text(plan, detail=self._detail), nl=False)

    def follow_up(self, plan: Plan) -> None:
        click.echo("Planned after the cloud syncs and registrations, for the items they brought:")
        click.echo(render_text(plan), nl=False)

    def caller(self, caller: Caller) -> None:
        click.echo(f"Applying as: {caller.text()}")

    def rename_notes(self, plan: Plan, desired: DesiredState, live: LiveState) -> None:
        print_rename_notes(plan, desired, live, "text")

    def note(self, line: str) -> None:
        click.echo(line)

    def confirm(self, question: str) -> bool:
        return _confirm(question, err=False)

    def summary(self, result: ApplyResult) -> None:
        print_summary(result)

    def error(self, error: ReconcilerError) -> None:
        echo_error(error)


class JsonLinesView:
    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self._write(event.to_json())

    def _write(self, document: dict[str, Any]) -> None:
        self._stream.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
        self._stream.flush()  # a consumer sees progress live

    def close(self) -> None:
        """Nothing to stop."""

    def plan(self, plan: Plan) -> None:
        self._write({"event": "plan", "plan": plan_document(plan)})

    def follow_up(self, plan: Plan) -> None:
        self._write({"event": "plan", "after_sync": True, "plan": plan_document(plan)})

    def caller(self, caller: Caller) -> None:
        self._write({"event": "caller", "caller": caller.to_json()})

    def rename_notes(self, plan: Plan, desired: DesiredState, live: LiveState) -> None:
        print_rename_notes(plan, desired, live, "json")  # on stderr: stdout stays JSON

    def note(self, line: str) -> None:
        click.echo(line, err=True)

    def confirm(self, question: str) -> bool:
        return _confirm(question, err=True)

    def summary(self, result: ApplyResult) -> None:
        """The ``apply_finished`` event already said it."""

    def error(self, error: ReconcilerError) -> None:
        self._write({"event": "error", "messages": list(error.lines())})
        echo_error(error)
