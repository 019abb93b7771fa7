"""``reconciler export --root /FOLDER [--out DIR] [--items rules|manifest|none]
[--ownership-id ID] [--merge]``: write a config directory describing the live folders, groups,
grants, cloud-synced settings, datasets, links and item metadata under the roots; with
``--merge``, add what the config in ``--out`` does not declare yet to it instead
(``reconciler.export.merge``)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import click

from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.read_progress import read_progress
from reconciler.cli.running import run_command
from reconciler.cli.target_flags import target_flags, target_options
from reconciler.config.schema import config_schema
from reconciler.export import (
    ITEMS_MODES,
    Export,
    ExportError,
    ExportOptions,
    ItemsMode,
    export_live,
    write,
)
from reconciler.export.ownership import PLACEHOLDER
from reconciler.printable import printable
from reconciler.targets import (
    Resolved,
    TargetOptions,
    connect,
    resolve,
    sandbox_integrations,
)
from reconciler.words import plural


@cli.command("export")
@click.option(
    "--root",
    "roots",
    multiple=True,
    metavar="FOLDER_PATH",
    help="Absolute folder path to export (repeatable), e.g. /curated. Required unless "
    "--merge (default: the config's roots).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory to write the config into.",
)
@click.option(
    "--items",
    "items",
    type=click.Choice(ITEMS_MODES),
    default="rules",
    show_default=True,
    help="Item metadata: a rule per folder for what its items share plus a manifest for the "
    "rest, a manifest row per item, or none (left unmanaged).",
)
@click.option(
    "--ownership-id",
    metavar="ID",
    help="The config's ownership id (default: the one found on the exported objects).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist in --out.")
@click.option(
    "--merge",
    is_flag=True,
    help="--out is a config: add the live objects it does not declare yet, changing nothing "
    "that is there.",
)
@target_flags
def export_command(
    roots: tuple[str, ...],
    out: Path,
    items: ItemsMode,
    ownership_id: str | None,
    force: bool,
    merge: bool,
    **target: Any,
) -> None:
    """Write YAML describing live storage under --root, so it can be brought under management."""
    options = target_options(target)
    body = (
        partial(_merge, roots, out, items, options)
        if merge
        else partial(_run, roots, out, items, ownership_id, force, options)
    )
    run_command(
        "export",
        body,
        interrupted=None,  # click's "Aborted!", as before: export writes nothing to Encord
    )


def _merge(roots: tuple[str, ...], out: Path, items: ItemsMode, options: TargetOptions) -> int:
    """Export the config's roots (or --root) with its ownership id; add what it lacks."""
    from reconciler.config import load_config
    from reconciler.export.merge import merge

    desired = load_config(out)
    paths = tuple(_root(r) for r in roots) or desired.roots()
    if not paths:
        raise ExportError(f"the config in {out} declares no folder; pass --root /FOLDER")
    options = replace(options, config=options.config or desired.target)
    exported = asyncio.run(
        _export(
            options,
            lambda: ExportOptions(
                roots=paths, target={}, ownership_id=desired.ownership.id, items=items
            ),
        )
    )
    assert exported.documents is not None
    merged = merge(desired, exported.documents, Path(desired.root_dir))
    for warning in [*exported.warnings, *merged.warnings]:
        click.echo(f"warning: {printable(warning)}", err=True)
    for rel, text in merged.files.items():
        target = Path(desired.root_dir) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    added = ", ".join(plural(len(names), _NOUN[s]) for s, names in merged.added.items())
    click.echo(f"merged into {out}: {added or 'nothing new'}")
    if merged.files:
        click.echo("changed: " + ", ".join(sorted(merged.files)))
    return EXIT_OK


_NOUN = {
    "folders": "folder",
    "groups": "group",
    "datasets": "dataset",
    "organisation_tags": "organisation tag",
    "metadata_schema": "metadata key",
}


def _run(
    roots: tuple[str, ...],
    out: Path,
    items: ItemsMode,
    ownership_id: str | None,
    force: bool,
    options: TargetOptions,
) -> int:
    paths = tuple(_root(r) for r in roots)
    if not paths:
        raise ExportError("--root is required (or --merge into an existing config)")
    if ownership_id is not None:
        _check_id(ownership_id)
    resolved = resolve(options)
    if resolved.sandbox is not None and not Path(resolved.sandbox.path).is_file():
        raise ExportError(f"no sandbox database at {resolved.sandbox.path}")

    def export_options() -> ExportOptions:
        document = _target_document(resolved, out)
        return ExportOptions(roots=paths, target=document, ownership_id=ownership_id, items=items)

    result = asyncio.run(_export(options, export_options))
    written = write(result.files, out, force=force)
    for warning in result.warnings:
        click.echo(f"warning: {printable(warning)}", err=True)  # live names, one line each
    c = result.counts
    click.echo(
        f"exported {', '.join(paths)} from {resolved.label}: {plural(c['folders'], 'folder')}, "
        f"{plural(c['groups'], 'group')}, {plural(c['users'], 'user')}, "
        f"{plural(c['datasets'], 'dataset')}, metadata of "
        f"{plural(c['item_metadata'], 'item')} ({plural(c['metadata_rules'], 'rule')}, "
        f"{plural(c['metadata_rows'], 'manifest row')})"
    )
    click.echo(f"wrote {plural(len(written), 'file')} to {out}: " + ", ".join(sorted(result.files)))
    if result.ownership_id == PLACEHOLDER:
        click.echo(
            "next: set ownership.id in reconciler.yaml, then run `reconciler plan` (0 changes)"
        )
    else:
        click.echo(
            f"ownership id: {result.ownership_id}; next: run `reconciler plan {out}` (0 changes)"
        )
    return EXIT_OK


async def _export(options: TargetOptions, export_options: Callable[[], ExportOptions]) -> Export:
    async with connect(options) as client:
        with read_progress("text") as listener:
            return await export_live(client, export_options(), on_progress=listener)


def _root(text: str) -> str:
    path = "/" + "/".join(part for part in text.split("/") if part)
    if not text.startswith("/") or path == "/" or any(p in (".", "..") for p in path.split("/")):
        raise ExportError(f"--root must be an absolute folder path like /curated, got {text!r}")
    return path


def _check_id(ownership_id: str) -> None:
    """The pattern ``reconciler.yaml`` accepts, so the export never writes an id that fails."""
    spec = config_schema()["$defs"]["ownership"]["properties"]["id"]
    if re.fullmatch(spec["pattern"], ownership_id) is None:
        raise ExportError(f"--ownership-id {ownership_id!r}: {spec['patternErrorMessage']}")


def _target_document(resolved: Resolved, out: Path) -> dict[str, Any]:
    """The ``target`` of reconciler.yaml, in the config's spelling, without secrets. A sandbox
    declares its integrations as fixtures, so exported cloud-synced folders validate. Paths
    are relative to ``out`` (the config resolves them from its directory): the directory is
    meant for git, where a path of this machine means nothing."""
    if resolved.sandbox is None:
        return {"encord": {"domain": resolved.label}}
    sandbox: dict[str, Any] = {"path": _relative(resolved.sandbox.path, out)}
    fixtures = {i.title: i for i in resolved.sandbox.integrations}
    fixtures.update({i.title: i for i in sandbox_integrations(resolved.sandbox.path)})
    if fixtures:
        sandbox["integrations"] = {
            title: {"provider": i.provider, "root": _relative(i.root, out)}
            for title, i in sorted(fixtures.items())
        }
    if resolved.sandbox.users:
        sandbox["users"] = [{"email": u.email, "role": u.role} for u in resolved.sandbox.users]
    return {"sandbox": sandbox}


def _relative(path: str, out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), out.resolve())).as_posix()
