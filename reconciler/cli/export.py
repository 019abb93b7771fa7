"""``reconciler export --root /FOLDER [--out DIR]``: write a config directory describing the
live folders, groups, grants, cloud-synced settings, datasets and links under the roots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler.cli.main import cli
from reconciler.cli.read_progress import read_progress
from reconciler.cli.target_flags import target_flags, target_options
from reconciler.encord import EncordError
from reconciler.export import Export, ExportError, export_live, write
from reconciler.targets import (
    Resolved,
    TargetError,
    TargetOptions,
    connect,
    resolve,
    sandbox_integrations,
)


@cli.command("export")
@click.option(
    "--root",
    "roots",
    multiple=True,
    required=True,
    metavar="FOLDER_PATH",
    help="Absolute folder path to export (repeatable), e.g. /curated.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory to write the config into.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist in --out.")
@target_flags
def export_command(roots: tuple[str, ...], out: Path, force: bool, **target: Any) -> None:
    """Write YAML describing live storage under --root, so it can be brought under management."""
    options = target_options(target)
    try:
        paths = tuple(_root(r) for r in roots)
        resolved = resolve(options)
        if resolved.sandbox is not None and not Path(resolved.sandbox.path).is_file():
            raise ExportError(f"no sandbox database at {resolved.sandbox.path}")
        result = asyncio.run(_export(options, paths, lambda: _target_document(resolved)))
        written = write(result.files, out, force=force)
    except (TargetError, EncordError, ExportError) as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = result.counts
    click.echo(
        f"exported {', '.join(paths)} from {resolved.label}: {counts['folders']} folders, "
        f"{counts['groups']} groups, {counts['datasets']} datasets, "
        f"metadata of {counts['item_metadata']} items"
    )
    click.echo(f"wrote {len(written)} files to {out}: " + ", ".join(sorted(result.files)))
    click.echo("next: set ownership.id in reconciler.yaml, then run `reconciler plan` (0 changes)")


async def _export(
    options: TargetOptions, roots: tuple[str, ...], target: Callable[[], dict[str, Any]]
) -> Export:
    async with connect(options) as client:
        with read_progress("text") as listener:
            return await export_live(client, roots=roots, target=target(), on_progress=listener)


def _root(text: str) -> str:
    path = "/" + "/".join(part for part in text.split("/") if part)
    if not text.startswith("/") or path == "/" or any(p in (".", "..") for p in path.split("/")):
        raise ExportError(f"--root must be an absolute folder path like /curated, got {text!r}")
    return path


def _target_document(resolved: Resolved) -> dict[str, Any]:
    """The ``target`` of reconciler.yaml, in the config's spelling, without secrets. A sandbox
    declares its integrations as fixtures, so exported cloud-synced folders validate."""
    if resolved.sandbox is None:
        return {"encord": {"domain": resolved.label}}
    sandbox: dict[str, Any] = {"path": resolved.sandbox.path}
    fixtures = {i.title: i for i in resolved.sandbox.integrations}
    fixtures.update({i.title: i for i in sandbox_integrations(resolved.sandbox.path)})
    if fixtures:
        sandbox["integrations"] = {
            title: {"provider": i.provider, "root": i.root} for title, i in sorted(fixtures.items())
        }
    if resolved.sandbox.users:
        sandbox["users"] = [{"email": u.email, "role": u.role} for u in resolved.sandbox.users]
    return {"sandbox": sandbox}
