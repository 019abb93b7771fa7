"""``reconciler drift [PATH]``: read the organisation, plan, and report the plan as an audit.

Read-only: it reads live state and plans; nothing is ever written to the API.

Exit codes (the same contract as ``plan --detailed-exitcode`` and ``apply``):
0 in sync; 2 drift; 1 error (bad config or flags, unreachable target, an incomplete read, a
refusal that withholds changes from the plan). The report is printed in every case where one
could be made, so a failing CI job still shows what it found.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.cli.common import (
    CommandError,
    check_globs,
    check_selects,
    connect_client,
    load_desired,
    make_plan,
    now_iso,
    read_scope,
    run_async,
    run_command,
)
from reconciler.cli.env_flag import env_option
from reconciler.cli.exit_codes import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ExitCodeCommand
from reconciler.cli.main import cli
from reconciler.cli.read_progress import read_progress
from reconciler.cli.target_flags import target_flags
from reconciler.drift import (
    AuditOptions,
    DriftReport,
    audit,
    dumps,
    render_junit,
    render_markdown,
    render_text,
)
from reconciler.drift.render_html import render_html
from reconciler.model.desired import DesiredState
from reconciler.plan import DiffOptions
from reconciler.words import plural


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    path: Path
    fmt: str
    junit: Path | None
    only: tuple[str, ...]
    target: dict[str, Any]


@cli.command("drift", cls=ExitCodeCommand)
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="json: the document of schemas/drift.schema.json; markdown: at most 65,536 "
    "characters, for a PR comment or a job summary; html: one self-contained page for a "
    "browser.",
)
@click.option(
    "--junit",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write a JUnit XML report: one test case per declared object, failed where it "
    "drifted.",
)
@click.option(
    "--only",
    multiple=True,
    metavar="ADDRESS_GLOB",
    help="Report only objects whose address matches (repeatable), as for plan.",
)
@env_option
@target_flags
def drift_command(
    path: Path, fmt: str, junit: Path | None, only: tuple[str, ...], **target: Any
) -> None:
    """Audit the organisation against the config in PATH (default .). Never writes to Encord.

    For each drifted object it says what differs, field by field (live → declared), and
    which declaration (file:line) it is. Kinds: extra (prune would delete it), changed,
    missing, moved (renamed or moved by hand), access, membership, links, metadata.

    Unmanaged folders (under the declared roots, not declared, and not something prune would
    delete) are listed separately; they are not drift and do not change the exit code.

    Exit code 0 in sync, 2 drift, 1 error (bad config or flags, unreachable target, an
    incomplete read, or a refusal that withholds changes from the plan).
    """
    request = Request(path=path, fmt=fmt, junit=junit, only=only, target=target)
    run_command("drift", lambda: _run(request))


def _run(request: Request) -> int:
    check_globs(request.only)
    desired = load_desired(request.path, environment=request.target.get("environment"))
    report = run_async(_audit(request, desired))
    _write_junit(request.junit, report)
    click.echo(_render(report, request.fmt), nl=False)
    return exit_code(report, err=True)


def exit_code(report: DriftReport, *, err: bool = False) -> int:
    """0 in sync, 2 drift, 1 when the audit cannot vouch for its answer."""
    problems = []
    if report.problems:
        failed = plural(len(report.problems), "read", "reads")
        problems.append(
            f"the organisation could not be read completely ({failed} failed, listed above); "
            "check the key's access and run drift again"
        )
    if report.withheld:
        refusals = plural(len(report.withheld), "refusal", "refusals")
        problems.append(
            f"the plan withholds changes ({refusals}, listed above), so part of the drift "
            "cannot be planned; resolve them and run drift again"
        )
    if err:
        for line in problems:
            click.echo(f"Error: {line}", err=True)
    if problems:
        return EXIT_ERROR
    return EXIT_OK if report.in_sync else EXIT_CHANGES


async def _audit(request: Request, desired: DesiredState) -> DriftReport:
    checked_at = now_iso()
    async with connect_client(request.target, desired) as client:
        with read_progress(request.fmt) as listener:
            live = await read_scope(client, desired, on_progress=listener)
    plan = make_plan(desired, live, DiffOptions(created_at=checked_at, sync_always=False))
    report = audit(
        plan, desired, live, options=AuditOptions(only=request.only, checked_at=checked_at)
    )
    if request.only and not (report.drift or report.unmanaged):
        check_selects(request.only, full=plan, desired=desired, live=live)
    return report


def _render(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return dumps(report)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    return render_text(report)


def _write_junit(path: Path | None, report: DriftReport) -> None:
    if path is None:
        return
    text = render_junit(report, hostname=socket.gethostname())
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            f"cannot write the JUnit report to {path}: {exc.strerror or exc}"
        ) from None
