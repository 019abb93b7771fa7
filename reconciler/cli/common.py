"""What the commands that read Encord share: one way to stop with an error, one way to run a
command body so that nothing ever ends in a traceback, and the steps from a config directory
to a plan (load, connect, read, diff) with their errors turned into lines a user can act on.
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
from reconciler.config import ConfigError, load_config
from reconciler.config.errors import cwd_relative
from reconciler.drift.renames import rename_notes
from reconciler.encord import EncordClient, EncordError
from reconciler.errors import ReconcilerError
from reconciler.live import ReadListener, Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.model.globs import GlobError, compile_glob
from reconciler.model.live import LiveState
from reconciler.plan import DiffOptions, Plan, PlanError, diff
from reconciler.printable import printable
from reconciler.targets import TargetError, connect

logger = logging.getLogger(__name__)


class CommandError(ReconcilerError):
    """Stop the command with exit code 1; each line is printed as it is (one problem a line)."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self._lines = lines

    def lines(self) -> tuple[str, ...]:
        return self._lines


def echo_error(lines: tuple[str, ...]) -> None:
    for line in map(printable, lines):  # a live name in a message must not forge a line
        click.echo(f"Error: {line}" if len(lines) == 1 else line, err=True)


def run_command(
    name: str,
    body: Callable[[], int],
    *,
    report: Callable[[tuple[str, ...]], None] = echo_error,
    interrupted: str = "interrupted; nothing was changed",
) -> NoReturn:
    """Run ``body`` and exit with its code; every failure becomes lines on stderr and exit 1."""
    try:
        code = body()
    except CommandError as failed:
        report(failed.lines())
        code = EXIT_ERROR
    except KeyboardInterrupt:
        report((interrupted,))
        code = EXIT_ERROR
    except Exception as exc:  # never a traceback; -vv logs it
        logger.debug("%s failed", name, exc_info=True)
        report((f"internal error: {type(exc).__name__}: {exc} (run with -vv for details)",))
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
        try:
            compile_glob(pattern)
        except GlobError as exc:
            raise CommandError(f"{flag} {pattern!r}: {exc}") from None


def load_desired(path: Path, *, hint: str = "; pass the config directory") -> DesiredState:
    if not path.exists():
        raise CommandError(f"{path}: no such file or directory{hint}")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise CommandError(*exc.lines()) from None


def connect_client(target: Mapping[str, Any], desired: DesiredState) -> EncordClient:
    """A client for the target the flags, the environment or the config name (in that order)."""
    try:
        return connect(target_options(target, config=desired.target))
    except TargetError as exc:
        raise CommandError(str(exc)) from None


async def read_scope(
    client: EncordClient, desired: DesiredState, *, on_progress: ReadListener | None = None
) -> LiveState:
    try:
        return await read_live(client, Scope.from_desired(desired), on_progress=on_progress)
    except EncordError as exc:
        raise CommandError(f"cannot read the organisation at {client.target}: {exc}") from None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_plan(desired: DesiredState, live: LiveState, options: DiffOptions) -> Plan:
    """The plan; an empty one narrowed by ``--only`` globs that name nothing is an error."""
    plan = _diff(desired, live, options)
    if options.only and not plan.changes:
        full = _diff(desired, live, replace(options, only=()))
        check_selects(options.only, full=full, desired=desired, live=live)
    return plan


def check_selects(
    patterns: tuple[str, ...], *, full: Plan, desired: DesiredState, live: LiveState
) -> None:
    """Stop when the ``--only`` globs match no address at all (``cli/only.py``)."""
    problem = selects_nothing(patterns, full=full, desired=desired, live=live)
    if problem is not None:
        raise CommandError(problem)


def _diff(desired: DesiredState, live: LiveState, options: DiffOptions) -> Plan:
    try:
        return diff(desired, live, options=options)
    except PlanError as exc:
        lines = [
            f"{cwd_relative(desired.root_dir, d.file)}:{d.line}:{d.col}: {d.message}"
            for d in exc.diagnostics
        ]
        if len(lines) > 1:
            lines.insert(0, f"{len(lines):,} problems in the config:")
        raise CommandError(*lines) from None


def print_rename_notes(plan: Plan, desired: DesiredState, live: LiveState, fmt: str) -> None:
    """Declared folders the plan would create anew although they are live at another path
    (renamed or moved by hand), with drift's advice: after a text plan, or on stderr beside a
    document (json, markdown, html) so that the document stays exactly what it is."""
    notes = rename_notes(plan, desired, live)
    if notes and fmt == "text":
        click.echo("")
    for note in notes:
        click.echo(f"Note: {note}", err=fmt != "text")
