"""``reconciler plan [PATH]``: read the organisation, diff it against the config, show the plan.

Read-only: only listings are sent to the API. Exit codes: 0 (with ``--detailed-exitcode``: 0
no changes, 2 changes); 1 for any error (bad config or flags, unreachable target, names that
do not resolve), an incomplete read, or a plan with refusals unless ``--force``. The plan is
printed (and written with ``--out``) whenever one could be made, so a failing CI job still
shows what it found and why it is refused.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reconciler.cli.main import cli
from reconciler.cli.target_flags import target_flags, target_options
from reconciler.config import ConfigError, load_config
from reconciler.encord import EncordError
from reconciler.live import Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.model.globs import GlobError, compile_glob
from reconciler.model.live import LiveState
from reconciler.plan import (
    DiffOptions,
    Plan,
    PlanError,
    can_apply,
    diff,
    render_markdown,
    render_text,
)
from reconciler.plan.planfile import iter_dumps
from reconciler.targets import TargetError, connect

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class Failed(Exception):
    """Stop with exit code 1; each line is printed as it is."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = lines


class PlanCommand(click.Command):
    """Usage errors exit 1, not click's 2: with ``--detailed-exitcode`` 2 means "changes"."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR  # type: ignore[misc]  # click reads it per instance
            raise


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    path: Path
    out: Path | None
    fmt: str
    detailed: bool
    only: tuple[str, ...]
    force: bool
    target: dict[str, Any]


@cli.command("plan", cls=PlanCommand)
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the plan document (JSON) to FILE, for `reconciler apply FILE`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="json: the document of schemas/plan.schema.json; markdown: at most 65,536 "
    "characters, for a pull-request comment.",
)
@click.option(
    "--detailed-exitcode",
    "detailed",
    is_flag=True,
    help="Exit 2 when there are changes (0 when there are none, 1 on errors).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="ADDRESS_GLOB",
    help="Keep only changes whose address matches (repeatable), and what they depend on.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Accept refusals that keep changes in the plan (thresholds, replacements).",
)
@target_flags
def plan_command(
    path: Path,
    out: Path | None,
    fmt: str,
    detailed: bool,
    only: tuple[str, ...],
    force: bool,
    **target: Any,
) -> None:
    """Show what `reconciler apply` would change to make Encord match PATH (default .).

    Never writes to Encord. Deletes and replacements are listed first; refusals say what is
    held back and why.
    """
    request = Request(
        path=path, out=out, fmt=fmt, detailed=detailed, only=only, force=force, target=target
    )
    try:
        code = _run(request)
    except Failed as failed:
        for line in failed.lines:
            click.echo(f"Error: {line}" if len(failed.lines) == 1 else line, err=True)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Error: interrupted; nothing was changed", err=True)
        code = EXIT_ERROR
    except Exception as exc:  # never a traceback; -vv logs it
        logger.debug("plan failed", exc_info=True)
        click.echo(
            f"Error: internal error: {type(exc).__name__}: {exc} (run with -vv for details)",
            err=True,
        )
        code = EXIT_ERROR
    sys.exit(code)


def _run(request: Request) -> int:
    for pattern in request.only:
        try:
            compile_glob(pattern)
        except GlobError as exc:
            raise Failed(f"--only {pattern!r}: {exc}") from None
    desired = _load(request.path)
    plan, live = asyncio.run(_plan(request, desired))
    if request.out is not None:
        _write(request.out, plan)
    _print(plan, request.fmt)
    return _exit_code(plan, live, request)


def _print(plan: Plan, fmt: str) -> None:
    if fmt == "json":  # in pieces: a plan over a million items is a large document
        for piece in iter_dumps(plan):
            sys.stdout.write(piece)
        sys.stdout.flush()
    elif fmt == "markdown":
        click.echo(render_markdown(plan), nl=False)
    else:
        click.echo(render_text(plan), nl=False)


def _load(path: Path) -> DesiredState:
    if not path.exists():
        raise Failed(f"{path}: no such file or directory; pass the config directory")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise Failed(*(str(d) for d in exc.diagnostics)) from None


async def _plan(request: Request, desired: DesiredState) -> tuple[Plan, LiveState]:
    try:
        client = connect(target_options(request.target, config=desired.target))
    except TargetError as exc:
        raise Failed(str(exc)) from None
    async with client:
        try:
            live = await read_live(client, Scope.from_desired(desired))
        except EncordError as exc:
            raise Failed(f"cannot read the organisation at {client.target}: {exc}") from None
    options = DiffOptions(
        force=request.force,
        only=request.only,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    try:
        return diff(desired, live, options=options), live
    except PlanError as exc:
        raise Failed(*(str(d) for d in exc.diagnostics)) from None


def _write(path: Path, plan: Plan) -> None:
    try:
        with path.open("w", encoding="utf-8") as handle:
            for piece in iter_dumps(plan):
                handle.write(piece)
    except OSError as exc:
        raise Failed(f"cannot write the plan to {path}: {exc.strerror or exc}") from None


def _exit_code(plan: Plan, live: LiveState, request: Request) -> int:
    problems = []
    if live.problems:
        click.echo("Warning: some reads failed; the plan may be incomplete:", err=True)
        for line in live.problems:
            click.echo(f"  {line}", err=True)
    if not live.complete and not request.force:
        problems.append(
            "the organisation could not be read completely (see the warnings); check the "
            "key's access and plan again, or pass --force to accept this plan"
        )
    if not can_apply(plan, force=request.force):
        problems.append(
            f"the plan has {len(plan.refusals)} refusal(s), listed with the plan; resolve "
            "them, or pass --force to accept what the plan holds"
        )
    for line in problems:
        click.echo(f"Error: {line}", err=True)
    if problems:
        return EXIT_ERROR
    if request.detailed and plan.changes:
        return EXIT_CHANGES
    return EXIT_OK
