"""``reconciler validate [PATH]``: every problem in a config, as ``file:line:col: message``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler.cli.env_flag import env_option
from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.running import InternalError, run_command
from reconciler.config import ConfigError
from reconciler.config.each_environment import load_each_environment
from reconciler.config.names import name_problems, sandbox_names
from reconciler.errors import Diagnostic, ReconcilerError, cwd_relative
from reconciler.model.desired import DesiredState

JSON_FORMAT_VERSION = 1


@cli.command("validate")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one problem a line; json: a versioned document.",
)
@env_option
def validate_command(path: Path, fmt: str, environment: str | None) -> None:
    """Check the config in PATH (default: .) against the schema and the semantic rules.

    Exit code 0 when valid, 1 when there are problems.
    """
    run_command(
        "validate",
        lambda: _run(path, fmt, environment),
        report=lambda error: _report_error(error, path, fmt),
        interrupted=None,  # Ctrl-C: click's "Aborted!", as before
    )


def _run(path: Path, fmt: str, environment: str | None) -> int:
    """Without ``--env``, a config with ``environments:`` is validated in every one of them
    (what a pre-commit hook needs), and its problems are reported together."""
    states = load_each_environment(path, environment, _check_names)
    if fmt == "json":
        click.echo(json.dumps(_document(None, summary=_summaries(states)), indent=2))
    else:
        for desired in states:
            click.echo(f"valid: {_summary(desired)}")
    return EXIT_OK


def _summaries(states: list[DesiredState]) -> dict[str, Any]:
    """The counts; per environment (by name) for a config with environments."""
    if len(states) == 1 and states[0].environment is None:
        return dict(_counts(states[0]))
    return {str(s.environment): _counts(s) for s in states}


def _report_error(error: ReconcilerError, path: Path, fmt: str) -> None:
    """Problems are validate's answer, in its format; anything else (never a traceback for
    any input) is one problem of its own at the top of the config."""
    if not isinstance(error, ConfigError):
        cause = error.cause if isinstance(error, InternalError) else error
        message = f"internal error while validating {path}: {type(cause).__name__}: {cause}"
        error = ConfigError([Diagnostic(str(path), 1, 1, message)])
    _report(error, fmt)


def _check_names(desired: DesiredState) -> None:
    """Names that can be checked offline: those of an embedded sandbox (a local file)."""
    sandbox = desired.target.sandbox
    known = None if sandbox is None else sandbox_names(sandbox)
    if known is None:
        return
    problems = name_problems(desired, known)
    if problems:
        raise ConfigError(problems, root=desired.root_dir)


def _report(error: ConfigError, fmt: str) -> None:
    """Text: the count first (on stderr), then one problem a line, its file relative to the
    working directory so that editors and CI annotators can open it."""
    if fmt == "json":
        click.echo(json.dumps(_document(error, summary=None), indent=2))
        return
    count = error.total
    click.echo(f"{count:,} problem{'s' if count != 1 else ''} found:", err=True)
    for diagnostic in error.diagnostics:
        click.echo(diagnostic.shown(error.root))


def _document(error: ConfigError | None, *, summary: dict[str, Any] | None) -> dict[str, object]:
    """``file`` is relative to the config directory, ``path`` to the working directory."""
    diagnostics = [] if error is None else error.diagnostics
    root = None if error is None else error.root
    return {
        "format_version": JSON_FORMAT_VERSION,
        "valid": not diagnostics,
        "diagnostics": [
            {
                "file": d.file,
                "path": d.file if root is None else cwd_relative(root, d.file),
                "line": d.line,
                "col": d.col,
                "message": d.message,
            }
            for d in diagnostics
        ],
        "summary": summary,
    }


def _counts(desired: DesiredState) -> dict[str, int]:
    registrations = [f.registration for f in desired.folders.values() if f.registration]
    return {
        "folders": len(desired.folders),
        "groups": len(desired.groups),
        "users": len(desired.users),
        "rules": len(desired.rules),
        "manifests": len(desired.manifests),
        "manifest_rows": sum(len(m.entries) for m in desired.manifests),
        "registrations": len(registrations),
        "registration_rows": sum(len(r.rows) for r in registrations),
        "datasets": len(desired.datasets),
        "metadata_keys": len(desired.metadata_schema.keys) if desired.metadata_schema else 0,
    }


def _plural(count: int, noun_plural: str) -> str:
    if count == 1:
        noun_plural = noun_plural.removesuffix("s")
    return f"{count} {noun_plural}"


def _summary(desired: DesiredState) -> str:
    counts = _counts(desired)
    target = "sandbox" if desired.target.sandbox is not None else "encord"
    parts = [_plural(n, name.replace("_", " ")) for name, n in counts.items()]
    where = cwd_relative(desired.root_dir, ".")
    if desired.environment is not None:
        target += f" target, environment {desired.environment}"
    else:
        target += " target"
    return f"{where} ({target}): " + ", ".join(parts)
