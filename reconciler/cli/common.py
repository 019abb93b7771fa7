"""What the commands that read Encord share: the steps from a config directory to a plan
(load, connect, read, diff), each raising errors whose lines a user can act on. How a command
runs and stops (``run_command``, ``CommandError``) is ``cli/running.py``'s, re-exported here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.cli.only import selects_nothing
from reconciler.cli.running import CommandError as CommandError
from reconciler.cli.running import InternalError as InternalError
from reconciler.cli.running import Report as Report
from reconciler.cli.running import echo_error as echo_error
from reconciler.cli.running import run_command as run_command
from reconciler.cli.target_flags import target_options
from reconciler.config import load_config
from reconciler.drift.renames import rename_notes
from reconciler.encord import EncordClient, EncordError
from reconciler.errors import within
from reconciler.live import ReadListener, Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.model.globs import GlobError, compile_glob
from reconciler.model.live import LiveState
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.printable import printable
from reconciler.targets import connect

detail_option = click.option(
    "--detail",
    type=click.Choice(["grouped", "full", "summary"]),
    default="grouped",
    show_default=True,
    help="Text: grouped folds many alike changes into one block (never deletes, unlinks or "
    "revokes); full lists every change; summary prints only the counts.",
)


T = TypeVar("T")


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, without the main task holding the result: on Python 3.11 the
    end of ``asyncio.run`` formats the main task (restoring the SIGINT handler), and a
    done task's repr includes its result; a result holding the live state of 100,000 items
    cost about a second of CPU to format, for nothing."""
    result: list[T] = []

    async def main() -> None:
        result.append(await work)

    asyncio.run(main())
    return result[0]


def check_globs(patterns: tuple[str, ...], flag: str = "--only") -> None:
    for pattern in patterns:
        with within(f"{flag} {pattern!r}", GlobError):
            compile_glob(pattern)


def load_desired(
    path: Path, *, hint: str = "; pass the config directory", environment: str | None = None
) -> DesiredState:
    if not path.exists():
        raise CommandError(f"{path}: no such file or directory{hint}")
    return load_config(path, environment=environment)


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
