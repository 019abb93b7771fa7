"""``reconciler fmt [PATH] [--check]``: the config's YAML files in canonical form (key order
and quoting from the JSON Schema, comments kept; ``reconciler.config.fmt`` says what the
form is). ``--check`` writes nothing, lists the files that would change and exits 2 (for
pre-commit and CI); a file that cannot be formatted is an error (exit 1)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.exit_codes import EXIT_CHANGES, EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.running import run_command
from reconciler.config import ConfigError
from reconciler.config.loader import config_files
from reconciler.errors import cwd_relative


@cli.command("fmt")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; list the files that would change and exit 2 if any would.",
)
def fmt_command(path: Path, check: bool) -> None:
    """Rewrite the config's YAML in PATH (default .) in canonical form, comments kept."""
    run_command("fmt", lambda: _run(path, check))


def _run(path: Path, check: bool) -> int:
    from reconciler.config.fmt import format_files  # ruamel.yaml: only this command needs it

    root, files = config_files(path)
    result = format_files(root, files, write=not check)
    for file in result.changed:
        shown = cwd_relative(root, file.relative_to(root).as_posix())
        click.echo(f"would reformat {shown}" if check else f"reformatted {shown}")
    if result.problems:
        raise ConfigError(result.problems, root=root)
    return EXIT_CHANGES if check and result.changed else EXIT_OK
