"""``reconciler sync [PATH] [--only GLOB…]``: sync the declared cloud-synced folders again now.

Each declared folder with ``cloud_sync`` (those whose ``folder:/path`` address or path
matches an ``--only`` glob, when given) is found by its path, one level at a time, and
synced; the syncs run at once, each waited for, and each reported on one line. A folder
that does not exist, is not cloud-synced, or whose path names several folders is reported
and not synced. Nothing else changes: rules and dataset links over the new items are the
next ``plan``/``apply``'s business (``sync: always`` does both on every apply).
Exit code: 0 when every sync finished DONE, 1 otherwise.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from reconciler.apply.resync import sync_all
from reconciler.cli.common import CommandError, connect_client, load_desired, run_command
from reconciler.cli.main import cli
from reconciler.cli.target_flags import target_flags
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredState
from reconciler.model.globs import compile_glob


@cli.command("sync")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="GLOB",
    help="Sync only folders whose address (folder:/path) or path matches; repeatable.",
)
@click.option("--timeout", default=3600, show_default=True, help="Seconds to wait for each sync.")
@target_flags
def sync_command(path: Path, only: tuple[str, ...], timeout: int, **target: Any) -> None:
    """Sync the declared cloud-synced folders in PATH (default .) again, now."""
    run_command("sync", lambda: _run(path, only, timeout, target))


def _run(path: Path, only: tuple[str, ...], timeout: int, target: dict[str, Any]) -> int:
    desired = load_desired(path)
    folders = chosen_folders(desired, only)
    if not folders:
        what = f" matching {', '.join(only)}" if only else ""
        raise CommandError(f"no declared cloud-synced folder{what} in {path}; nothing to sync")
    lines = asyncio.run(sync_all(connect_client(target, desired), folders, timeout))
    for ok, line in lines:
        click.echo(line, err=not ok)
    return 0 if all(ok for ok, _ in lines) else 1


def chosen_folders(desired: DesiredState, only: tuple[str, ...]) -> list[str]:
    globs = [compile_glob(g) for g in only]
    return [
        p
        for p, f in sorted(desired.folders.items())
        if f.cloud_sync is not None
        and (not globs or any(g.match(addr.folder(p)) or g.match(p) for g in globs))
    ]
