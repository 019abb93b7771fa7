"""What the commands that read Encord share: one way to stop with an error, one way to run a
command body so that nothing ever ends in a traceback (``run_command``, the one place where
the CLI catches a ``ReconcilerError``), and the steps from a config directory to a plan
(load, connect, read, diff), each raising errors whose lines a user can act on.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.cli.only import selects_nothing
from reconciler.cli.target_flags import target_options
from reconciler.config import load_config
from reconciler.drift.renames import rename_notes
from reconciler.encord import EncordClient, EncordError
from reconciler.errors import ReconcilerError, within
from reconciler.live import ReadListener, Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.model.globs import GlobError, compile_glob
from reconciler.model.live import LiveState
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.printable import printable
from reconciler.targets import connect

logger = logging.getLogger(__name__)


class CommandError(ReconcilerError):
    """Stop the command with exit code 1; each line is printed as it is (one problem a line)."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self._lines = lines

    def lines(self) -> tuple[str, ...]:
        return self._lines


class InternalError(ReconcilerError):
    """Anything else that reached a command: a bug, said in one line (``-vv`` logs it)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(
            f"internal error: {type(cause).__name__}: {cause} (run with -vv for details)"
        )
        self.cause = cause


Report = Callable[[ReconcilerError], None]


def echo_error(error: ReconcilerError) -> None:
    lines = error.lines()
    for line in map(printable, lines):  # a live name in a message must not forge a line
        click.echo(f"Error: {line}" if len(lines) == 1 else line, err=True)


def run_command(
    name: str,
    body: Callable[[], int],
    *,
    report: Report = echo_error,
    interrupted: str | None = "interrupted; nothing was changed",
) -> NoReturn:
    """Run ``body`` and exit with its code. The one place where the CLI catches errors: a
    ``ReconcilerError`` is printed as its ``lines()`` by ``report``, exit 1; anything else
    is an ``InternalError`` (never a traceback). Ctrl-C says ``interrupted`` (None: click's
    own "Aborted!")."""
    try:
        code = body()
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        report(CommandError(interrupted))
        code = EXIT_ERROR
    except ReconcilerError as failed:
        report(failed)
        code = EXIT_ERROR
    except Exception as exc:  # never a traceback; -vv logs it
        logger.debug("%s failed", name, exc_info=True)
        report(InternalError(exc))
        code = EXIT_ERROR
    sys.exit(code)


detail_option = click.option(
    "--detail",
    type=click.Choice(["grouped", "full", "summary"]),
    default="grouped",
    show_default=True,
    help="Text: grouped folds many alike changes into one block (never deletes, unlinks or "
    "revokes); full lists every change; summary prints only the counts.",
)


def check_globs(patterns: tuple[str, ...], flag: str = "--only") -> None:
    for pattern in patterns:
        with within(f"{flag} {pattern!r}", GlobError):
            compile_glob(pattern)


def load_desired(path: Path, *, hint: str = "; pass the config directory") -> DesiredState:
    if not path.exists():
        raise CommandError(f"{path}: no such file or directory{hint}")
    return load_config(path)


def connect_client(target: Mapping[str, Any], desired: DesiredState) -> EncordClient:
    """A client for the target the flags, the environment or the config name (in that order)."""
    return connect(target_options(target, config=desired.target))


async def read_scope(
    client: EncordClient, desired: DesiredState, *, on_progress: ReadListener | None = None
) -> LiveState:
    with within(f"cannot read the organisation at {client.target}", EncordError):
        return await read_live(client, Scope.from_desired(desired), on_progress=on_progress)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_plan(desired: DesiredState, live: LiveState, options: DiffOptions) -> Plan:
    """The plan; an empty one narrowed by ``--only`` globs that name nothing is an error."""
    plan = diff(desired, live, options=options)
    if options.only and not plan.changes:
        full = diff(desired, live, options=replace(options, only=()))
        check_selects(options.only, full=full, desired=desired, live=live)
    return plan


def check_selects(
    patterns: tuple[str, ...], *, full: Plan, desired: DesiredState, live: LiveState
) -> None:
    """Stop when the ``--only`` globs match no address at all (``cli/only.py``)."""
    problem = selects_nothing(patterns, full=full, desired=desired, live=live)
    if problem is not None:
        raise CommandError(problem)


def print_rename_notes(plan: Plan, desired: DesiredState, live: LiveState, fmt: str) -> None:
    """Declared folders the plan would create anew although they are live at another path
    (renamed or moved by hand), with drift's advice: after a text plan, or on stderr beside a
    document (json, markdown, html) so that the document stays exactly what it is."""
    notes = rename_notes(plan, desired, live)
    if notes and fmt == "text":
        click.echo("")
    for note in notes:
        click.echo(f"Note: {printable(note)}", err=fmt != "text")  # live paths: one line
