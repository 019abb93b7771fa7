"""``reconciler render [PATH] [--env NAME]``: the config as the planner reads it.

Every file once it is valid, as YAML: ``reconciler.yaml`` with the chosen environment's
target, ownership and policy in place (and no ``environments:``), every other file with its
``templates:`` written out, ``${...}`` resolved, and what the planner ignores (``x-`` keys,
``in_environments``) left out. Files another environment uses are not shown. Reads nothing
from Encord.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from reconciler.cli.env_flag import env_option
from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.running import CommandError, run_command
from reconciler.config.environments import IN_ENVIRONMENTS
from reconciler.config.loader import render_config


@cli.command("render")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@env_option
def render_command(path: Path, environment: str | None) -> None:
    """Print the config in PATH (default .) fully expanded: what `plan` reads."""
    run_command("render", lambda: _run(path, environment), interrupted=None)


def _run(path: Path, environment: str | None) -> int:
    if not path.exists():
        raise CommandError(f"{path}: no such file or directory; pass the config directory")
    files = render_config(path, environment=environment)
    for index, (name, data) in enumerate(files):
        if index:
            click.echo("---")
        click.echo(f"# {name}")
        shown = _planned(data)
        if shown:
            click.echo(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True), nl=False)
    return EXIT_OK


def _planned(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if not key.startswith("x-") and key != IN_ENVIRONMENTS and value is not None
    }
