"""``reconciler schema``: print the config JSON Schema this version validates against, so an
editor can use it (``reconciler schema > config.schema.json``, as ``export`` writes)."""

from __future__ import annotations

import click

from reconciler.cli.main import cli
from reconciler.export.render import schema_text


@cli.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of config files (for editors)."""
    click.echo(schema_text(), nl=False)
