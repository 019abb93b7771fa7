"""``reconciler whoami [PATH]``: who the credentials act as, on which target. One line.

The identity is read the way a plan reads it (``reconciler.live.identity``): the
organisation-wide listing settles whether the caller is an organisation admin, and the
organisation users listing names the caller when exactly one member fits. The config in
PATH supplies the target only when no flag or environment variable does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from reconciler.cli.common import connect_client, load_desired, run_command
from reconciler.cli.env_flag import env_option
from reconciler.cli.main import cli
from reconciler.cli.target_flags import target_flags, target_options
from reconciler.encord import EncordClient, EncordError
from reconciler.errors import within
from reconciler.live.identity import read_caller
from reconciler.model.desired import DesiredState
from reconciler.model.live import Caller
from reconciler.targets import connect


@cli.command("whoami")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: {email, role, admin, target} on one line.",
)
@env_option
@target_flags
def whoami_command(path: Path, fmt: str, **target: Any) -> None:
    """Print the caller's email, organisation role and the target, on one line."""
    run_command("whoami", lambda: _run(path, fmt, target))


def _run(path: Path, fmt: str, target: dict[str, Any]) -> int:
    environment = target.get("environment")
    desired = (
        load_desired(path, environment=environment)
        if (path / "reconciler.yaml").is_file()
        else None
    )
    caller, where = asyncio.run(_read(_client(target, desired)))
    if fmt == "json":
        click.echo(json.dumps({**caller.to_json(), "target": where}, ensure_ascii=False))
    else:
        click.echo(f"{caller.text()} on {where}")
    return 0


def _client(target: dict[str, Any], desired: DesiredState | None) -> EncordClient:
    if desired is not None:
        return connect_client(target, desired)
    return connect(target_options(target))


async def _read(client: EncordClient) -> tuple[Caller, str]:
    async with client:
        with within(f"cannot read the caller at {client.target}", EncordError):
            return await read_caller(client), client.target
