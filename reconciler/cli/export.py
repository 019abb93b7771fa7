"""``reconciler export --root /FOLDER [--out DIR]``: write a config directory describing the
live folders, groups, grants, cloud-synced settings, datasets and links under the roots."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from reconciler.cli.main import cli
from reconciler.cli.target_flags import target_flags, target_options
from reconciler.encord import EncordError
from reconciler.export import Export, ExportError, export_live, write
from reconciler.targets import Resolved, TargetError, TargetOptions, connect, resolve


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
        result = asyncio.run(_export(options, paths, _target_document(resolved)))
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


async def _export(options: TargetOptions, roots: tuple[str, ...], target: dict[str, Any]) -> Export:
    async with connect(options) as client:
        return await export_live(client, roots=roots, target=target)


def _root(text: str) -> str:
    path = "/" + "/".join(part for part in text.split("/") if part)
    if not text.startswith("/") or path == "/" or any(p in (".", "..") for p in path.split("/")):
        raise ExportError(f"--root must be an absolute folder path like /curated, got {text!r}")
    return path


def _target_document(resolved: Resolved) -> dict[str, Any]:
    """The ``target`` written into reconciler.yaml: where the export came from, no secrets."""
    if resolved.sandbox is not None:
        sandbox = resolved.sandbox.model_dump(mode="json", exclude_defaults=True)
        return {"sandbox": sandbox}
    return {"encord": {"domain": resolved.label}}
