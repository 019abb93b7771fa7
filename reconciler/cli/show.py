"""``reconciler show PLAN.json`` and ``reconciler show --drift REPORT.json``: render a saved
plan or drift report again, offline.

A reviewer downloads the CI artifact and reads it in any format without credentials and
without touching the network. A plan's checksum is verified first and the result is said on
stderr (stdout stays the rendering alone); a plan edited after it was made is refused in one
line, exit 1. Drift reports carry no checksum; they are checked against their schema.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.common import CommandError, detail_option, run_command
from reconciler.cli.exit_codes import EXIT_OK, ExitCodeCommand
from reconciler.cli.main import cli
from reconciler.drift import DriftReport
from reconciler.drift import dumps as drift_dumps
from reconciler.drift import render_markdown as drift_markdown
from reconciler.drift import render_text as drift_text
from reconciler.drift.errors import DriftFileError
from reconciler.drift.render_html import render_html as drift_html
from reconciler.drift.reportfile import loads as load_report
from reconciler.errors import within
from reconciler.plan import Plan, PlanFileError, loads, render_markdown, render_text
from reconciler.plan.planfile import iter_dumps
from reconciler.plan.render_html import render_html
from reconciler.plan.render_text import Detail


@cli.command("show", cls=ExitCodeCommand)
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--drift",
    "report_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="REPORT.json",
    help="Show a saved drift report (`reconciler drift --format json`) instead of a plan.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="The same renderings as `plan` and `drift` make.",
)
@detail_option
def show_command(
    plan_file: Path | None, report_file: Path | None, fmt: str, detail: Detail
) -> None:
    """Render a saved plan (PLAN_FILE, from `plan --out`) or drift report again, offline.

    Verifies the plan's checksum and says so on stderr; refuses a file edited since.
    """
    run_command("show", lambda: _run(plan_file, report_file, fmt, detail))


def _run(plan_file: Path | None, report_file: Path | None, fmt: str, detail: Detail) -> int:
    if report_file is not None and plan_file is None:
        _show_report(_read_report(report_file), fmt)
        return EXIT_OK
    if plan_file is None or report_file is not None:
        raise CommandError(
            "name one file: `reconciler show PLAN.json` or `reconciler show --drift REPORT.json`"
        )
    plan = _read_plan(plan_file)
    click.echo(
        f"{plan_file}: checksum verified ({plan.checksum[:19]}…): the plan as made for "
        f"{plan.target}" + (f" at {plan.created_at}" if plan.created_at else ""),
        err=True,
    )
    _show_plan(plan, fmt, detail)
    return EXIT_OK


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CommandError(f"cannot read {path}: {reason}") from None


def _read_plan(path: Path) -> Plan:
    with within(str(path), PlanFileError):
        return loads(_text(path))


def _read_report(path: Path) -> DriftReport:
    with within(str(path), DriftFileError):
        return load_report(_text(path))


def _show_plan(plan: Plan, fmt: str, detail: Detail) -> None:
    if fmt == "json":
        for piece in iter_dumps(plan):
            sys.stdout.write(piece)
        sys.stdout.flush()
    elif fmt == "markdown":
        click.echo(render_markdown(plan), nl=False)
    elif fmt == "html":
        click.echo(render_html(plan), nl=False)
    else:
        click.echo(render_text(plan, detail=detail), nl=False)


def _show_report(report: DriftReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(drift_dumps(report), nl=False)
    elif fmt == "markdown":
        click.echo(drift_markdown(report), nl=False)
    elif fmt == "html":
        click.echo(drift_html(report), nl=False)
    else:
        click.echo(drift_text(report), nl=False)
