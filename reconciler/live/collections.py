"""Reading Index collections: for each top-level folder in scope, find it by name, list its
collections, and read the members of those the scope wants, all concurrently.

A folder that two top-level folders share a name with is not read (its collections cannot
be told apart by folder path): a problem is recorded. A 403 or 404 on a listing or on a
member read is a problem and makes the read incomplete; a collection whose members could
not be read keeps ``members=None``, so nothing is ever removed from it on that read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.encord import EncordClient, ForbiddenError, NotFoundError
from reconciler.live.scope import Scope
from reconciler.live.tasks import gather_all
from reconciler.model.live import LiveCollection
from reconciler.wire.base import format_datetime
from reconciler.wire.collections import Collection

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class Collections:
    collections: dict[str, LiveCollection] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # path -> uuid ("" when missing)
    problems: list[str] = field(default_factory=list)
    complete: bool = True


class CollectionReader:
    def __init__(self, client: EncordClient, scope: Scope) -> None:
        self._client = client
        self._scope = scope
        self.found = Collections()

    async def read(self) -> Collections:
        await gather_all(self._folder(path) for path in self._scope.collection_folders)
        return self.found

    async def _folder(self, path: str) -> None:
        named = await self._soft(
            self._client.folders.find_children(None, path[1:]), f"top-level folder {path}"
        )
        if named is None:
            return
        if len(named) > 1:
            uuids = ", ".join(sorted(str(f.uuid) for f in named))
            self.found.problems.append(
                f"collections of {path}: several top-level folders have that name ({uuids}); "
                "rename one to manage its collections"
            )
            return
        if not named:
            self.found.folders[path] = ""
            return
        uuid = str(named[0].uuid)
        listed = await self._soft(
            self._client.collections.list_in(uuid, subject=f"folder {path}"),
            f"collections of {path}",
        )
        if listed is None:
            return
        self.found.folders[path] = uuid
        chosen = [c for c in listed if self._scope.wants_collection(c.name)]
        members = await gather_all(self._members(c) for c in chosen)
        read = dict(zip((str(c.uuid) for c in chosen), members, strict=True))
        for collection in listed:
            self.found.collections[str(collection.uuid)] = _live(
                collection, path, read.get(str(collection.uuid))
            )

    async def _members(self, collection: Collection) -> tuple[str, ...] | None:
        subject = f"collection {collection.name}"
        uuids = await self._soft(
            self._client.collections.members(collection.uuid, subject=subject),
            f"items of {subject}",
        )
        return None if uuids is None else tuple(sorted(uuids))

    async def _soft(self, read: Awaitable[T], what: str) -> T | None:
        try:
            return await read
        except (ForbiddenError, NotFoundError) as error:
            logger.warning("live read: %s: %s", what, error)
            self.found.problems.append(f"{what}: {error}")
            self.found.complete = False
            return None


def _live(collection: Collection, folder: str, members: tuple[str, ...] | None) -> LiveCollection:
    edited = collection.last_edited_at
    return LiveCollection(
        uuid=str(collection.uuid),
        folder=folder,
        name=collection.name,
        description=collection.description or "",
        last_edited_at=format_datetime(edited) if edited is not None else "",
        members=members,
    )
