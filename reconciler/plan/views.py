"""Canonical views of folders and the desired metadata of folders and items.

A view is the plain-JSON picture of an object that a change shows as ``before``/``after``;
both sides go through the same functions here and in ``canonical``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from reconciler.kinds.folder import OMITTED, CloudSync, FolderPayload, Omitted
from reconciler.model.desired import OWNER_KEY, DesiredFolder
from reconciler.model.globs import GlobSet
from reconciler.model.live import LiveFolder
from reconciler.plan.canonical import canonical


@lru_cache(maxsize=1024)
def owned_pattern(globs: tuple[str, ...]) -> GlobSet | None:
    """The set of ``owned_keys`` globs (None when there are none). Cached: every changed
    item a manifest row reaches folds its rules' and its manifest's globs again."""
    return GlobSet(globs) if globs else None


def merged_metadata(
    live: Mapping[str, Any],
    declared: Mapping[str, Any],
    *,
    replace: bool,
    owned: GlobSet | None,
) -> dict[str, Any]:
    """Declared keys set; in merge mode other keys kept unless they match ``owned`` (and are
    not declared); in replace mode only declared keys survive. Our ownership marker is never
    removed by either rule."""
    out = {k: v for k, v in live.items() if k == OWNER_KEY} if replace else dict(live)
    out.update(declared)
    if owned is not None:
        for key in [k for k in out if k not in declared and k != OWNER_KEY]:
            if owned.match(key):
                del out[key]
    return out


def cloud_view(
    integration_uuid: str | None, remote_url: str | None, titles: Mapping[str, str]
) -> CloudSync:
    return CloudSync(
        titles.get(integration_uuid or "", integration_uuid), integration_uuid, remote_url
    )


def live_folder_view(
    folder: LiveFolder, *, with_cloud: bool, titles: Mapping[str, str]
) -> FolderPayload:
    cloud: CloudSync | Omitted | None = OMITTED
    if with_cloud:
        cloud = None
        if folder.folder_type == "cloudLinked":
            cloud = cloud_view(folder.integration_uuid, folder.remote_url, titles)
    return FolderPayload(
        folder.path, folder.name, folder.description, canonical(dict(folder.metadata)), cloud
    )


def desired_folder_metadata(folder: DesiredFolder, live: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata a live folder should end up with (equal to ``live`` when unmanaged)."""
    if folder.metadata is None and not folder.owned_keys:
        return dict(live)
    return merged_metadata(
        live,
        folder.metadata or {},
        replace=folder.metadata_mode == "replace" and folder.metadata is not None,
        owned=owned_pattern(folder.owned_keys),
    )
