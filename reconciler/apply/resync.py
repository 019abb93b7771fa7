"""Syncing declared cloud-synced folders again, now (``reconciler sync``): each folder is
found by its path and synced on its own, so that one folder's failure is its own line and
never stops the others'."""

from __future__ import annotations

import asyncio

from reconciler.encord import EncordClient, EncordError
from reconciler.model import addresses as addr
from reconciler.wire.enums import SyncStatus


async def sync_all(
    client: EncordClient, folders: list[str], timeout: int
) -> list[tuple[bool, str]]:
    """For each folder path, in order: whether its sync finished DONE, and its line."""
    async with client:
        return list(await asyncio.gather(*(_sync(client, p, timeout) for p in folders)))


async def _sync(client: EncordClient, path: str, timeout: int) -> tuple[bool, str]:
    try:
        uuid, problem = await _find(client, path)
        if uuid is None:
            return False, f"{path}: {problem}; not synced"
        api = client.folders
        job = await api.start_sync(uuid, resend_if_ambiguous=True, subject=f"folder {path}")
        result = await api.wait_for_sync(uuid, job, timeout_seconds=timeout)
    except EncordError as error:
        return False, f"{path}: sync failed: {error}"
    done = result.status == SyncStatus.DONE
    counts = f"{result.upload_jobs_units_done} items done, {result.upload_jobs_units_error} failed"
    return done, f"{path}: sync {str(result.status).lower()} ({counts})"


async def _find(client: EncordClient, path: str) -> tuple[str | None, str]:
    """The folder's UUID, walking the path from the root, or why there is none to sync."""
    parent: str | None = None
    for depth, name in enumerate(addr.split_path(path)):
        found = await client.folders.find_children(parent, name)
        where = "/" + "/".join(addr.split_path(path)[: depth + 1])
        if not found:
            return None, f"no folder at {where} (apply creates it)"
        if len(found) > 1:
            return None, f"{len(found)} folders are named {where}"
        parent = str(found[0].uuid)
        folder = found[0]
    if folder.remote_url is None:
        return None, "not a cloud-synced folder in Encord"
    return parent, ""
