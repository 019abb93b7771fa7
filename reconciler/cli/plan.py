"""``reconciler plan [PATH]``: read the organisation, diff it against the config, show the plan.

Read-only: only listings are sent to the API. Exit codes: 0 (with ``--detailed-exitcode``: 0
no changes, 2 changes); 1 for any error (bad config or flags, unreachable target, names that
do not resolve), an incomplete read, or a plan with refusals unless ``--force``. The plan is
printed (and written with ``--out``) whenever one could be made, so a failing CI job still
shows what it found and why it is refused.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from reconciler.apply.cost import with_cost
from reconciler.apply.cost_record import record_path
from reconciler.apply.journal import in_flight, unfinished_journals, unsynced
from reconciler.cli.common import (
    CommandError,
    check_globs,
    connect_client,
    detail_option,
    load_desired,
    make_plan,
    now_iso,
    print_rename_notes,
    read_scope,
    run_async,
    run_command,
)
from reconciler.cli.env_flag import env_option
from reconciler.cli.exit_codes import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ExitCodeCommand
from reconciler.cli.main import cli
from reconciler.cli.read_progress import read_progress
from reconciler.cli.target_flags import target_flags
from reconciler.model.desired import DesiredState
from reconciler.model.live import LiveState
from reconciler.plan import DiffOptions, Plan, can_apply, render_markdown, render_text
from reconciler.plan.document import sealed
from reconciler.plan.planfile import iter_dumps
from reconciler.plan.render_html import render_html
from reconciler.plan.render_text import Detail
from reconciler.plan.signature import plan_key, sign, signature_path
from reconciler.printable import printable
from reconciler.words import plural


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    path: Path
    out: Path | None
    fmt: str
    detail: Detail
    detailed: bool
    only: tuple[str, ...]
    force: bool
    takeover: bool
    target: dict[str, Any]


@cli.command("plan", cls=ExitCodeCommand)
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
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="json: the document of schemas/plan.schema.json; markdown: at most 65,536 "
    "characters, for a pull-request comment; html: one self-contained page for a browser.",
)
@detail_option
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
@click.option(
    "--takeover",
    is_flag=True,
    help="Let adopt: true take objects that another ownership id manages.",
)
@env_option
@target_flags
def plan_command(
    path: Path,
    out: Path | None,
    fmt: str,
    detail: Detail,
    detailed: bool,
    only: tuple[str, ...],
    force: bool,
    takeover: bool,
    **target: Any,
) -> None:
    """Show what `reconciler apply` would change to make Encord match PATH (default .).

    Never writes to Encord. Deletes and replacements are listed first; refusals say what is
    held back and why.
    """
    request = Request(
        path=path,
        out=out,
        fmt=fmt,
        detail=detail,
        detailed=detailed,
        only=only,
        force=force,
        takeover=takeover,
        target=target,
    )
    run_command("plan", lambda: _run(request))


def _run(request: Request) -> int:
    check_globs(request.only)
    desired = load_desired(request.path, environment=request.target.get("environment"))
    plan, live = run_async(_plan(request, desired))
    if request.out is not None:
        plan = _as_saved(plan, request.out)
        _write(request.out, plan)
    _print(plan, request.fmt, request.detail)
    print_rename_notes(plan, desired, live, request.fmt)
    return _exit_code(plan, live, request)


def _print(plan: Plan, fmt: str, detail: Detail) -> None:
    if fmt == "json":  # in pieces: a plan over a million items is a large document
        for piece in iter_dumps(plan):
            sys.stdout.write(piece)
        sys.stdout.flush()
    elif fmt == "markdown":
        click.echo(render_markdown(plan), nl=False)
    elif fmt == "html":
        click.echo(render_html(plan), nl=False)
    else:
        click.echo(render_text(plan, detail=detail), nl=False)


async def _plan(request: Request, desired: DesiredState) -> tuple[Plan, LiveState]:
    async with connect_client(request.target, desired) as client:
        with read_progress(request.fmt) as listener:
            live = await read_scope(client, desired, on_progress=listener)
    # A run that stopped mid-move left the UUIDs it was changing: plan them as those folders;
    # and one that stopped before a folder it created was synced: plan that sync.
    stopped = unfinished_journals(Path(desired.root_dir), environment=desired.environment)
    options = DiffOptions(
        force=request.force,
        takeover=request.takeover,
        only=request.only,
        created_at=now_iso(),
        in_flight=in_flight(stopped),
        unsynced=unsynced(stopped),
    )
    # what applying will cost, at the latency this read measured and the write factor past
    # applies to this target showed (outside the checksum)
    record = record_path(Path(desired.root_dir))
    return with_cost(make_plan(desired, live, options), client, record=record), live


def _as_saved(plan: Plan, out: Path) -> Plan:
    """The plan as ``--out`` saves it: its config directory relative to the plan file, so
    that it applies in any checkout where the two sit as they did here (and nowhere else)."""
    where = os.path.relpath(Path(plan.config_dir).resolve(), out.resolve().parent)
    return sealed(replace(plan, config_dir=Path(where).as_posix()))


def _write(path: Path, plan: Plan) -> None:
    key = plan_key(os.environ)
    try:
        with path.open("w", encoding="utf-8") as handle:
            for piece in iter_dumps(plan):
                handle.write(piece)
        if key is not None:
            signature_path(path).write_text(sign(plan.checksum, key) + "\n", encoding="ascii")
    except OSError as exc:
        raise CommandError(f"cannot write the plan to {path}: {exc.strerror or exc}") from None


def _exit_code(plan: Plan, live: LiveState, request: Request) -> int:
    problems = []
    if live.problems:
        click.echo("Warning: some reads failed; the plan may be incomplete:", err=True)
        for line in live.problems:
            click.echo(f"  {printable(line)}", err=True)
    if not live.complete and not request.force:
        problems.append(
            "the organisation could not be read completely (see the warnings); check the "
            "key's access and plan again, or pass --force to accept this plan"
        )
    if not can_apply(plan, force=request.force):
        problems.append(
            f"the plan has {plural(len(plan.refusals), 'refusal')}, listed with the plan; resolve "
            "them, or pass --force to accept what the plan holds"
        )
    for line in problems:
        click.echo(f"Error: {line}", err=True)
    if problems:
        return EXIT_ERROR
    if request.detailed and plan.changes:
        return EXIT_CHANGES
    return EXIT_OK
