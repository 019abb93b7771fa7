"""Typed payloads for changes built by hand: a folder or an item with the fields a test does
not care about set to neutral values (an empty description and metadata, the cloud sync not
compared), so tests build ``Change.before``/``after`` as the planner does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.folder import OMITTED, CloudSync, FolderPayload, Omitted
from reconciler.kinds.item import ItemPayload


def folder(
    path: str,
    *,
    name: str | None = None,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    cloud_sync: CloudSync | Omitted | None = OMITTED,
) -> FolderPayload:
    """A folder at ``path``, named after its last segment unless ``name`` says otherwise."""
    return FolderPayload(
        path=path,
        name=path.rsplit("/", 1)[-1] if name is None else name,
        description=description,
        metadata={} if metadata is None else metadata,
        cloud_sync=cloud_sync,
    )


def item(path: str, metadata: Mapping[str, Any] | None = None) -> ItemPayload:
    """An item at ``path`` with ``metadata`` (none by default)."""
    return ItemPayload(path=path, metadata={} if metadata is None else metadata)
