"""Storage folders: create (plain or cloud-synced), get, list, search, patch, move, delete,
group roles on folders, and cloud-sync jobs.

Query strings follow the SDK's ``ListFoldersParams`` field order; listings ask for 1000 per
page. Creating a folder is not idempotent: after an ambiguous failure the client looks for a
fresh folder of that name under that parent before it creates again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from reconciler.encord.calls import Done, Recovery, V2Call, json_body, uuid_text
from reconciler.encord.dto import Folder
from reconciler.encord.errors import NotFoundError
from reconciler.encord.options import BUNDLE_SIZE, PAGE_SIZE
from reconciler.encord.orgwide import AUTO, org_wide
from reconciler.encord.paging import (
    collect,
    ignore,
    in_bundles,
    one_page,
    pages,
    parser,
    uuid_parser,
)
from reconciler.encord.session import Session
from reconciler.wire.enums import StorageUserRole, SyncStatus
from reconciler.wire.org import AddStorageFolderGroupsPayload, StorageFolderGroup
from reconciler.wire.query import Query
from reconciler.wire.storage import (
    CloudSyncedFolderParams,
    CreateFolderPayload,
    FoldersPatchBulkPayload,
    MoveFoldersPayload,
    PatchFolderPayload,
    SyncResult,
)

# How far the server's clock may be behind ours when recognising a folder we just created.
CLOCK_TOLERANCE = timedelta(minutes=5)
_ADMIN = "admin on"


def folder_query(
    *,
    search: str | None,
    recursive: bool,
    page_token: str | None,
    page_size: int,
    org_access: bool | None = None,
) -> Query:
    """``ListFoldersParams`` in the SDK's field order (``None`` values are left out)."""
    return (
        ("search", search),
        ("isRecursive", recursive),
        ("includeOrgAccess", org_access),
        ("order", "name"),
        ("desc", False),
        ("pageToken", page_token),
        ("pageSize", page_size),
    )


class FoldersAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def create(
        self,
        name: str,
        *,
        parent: UUID | str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        cloud_sync: CloudSyncedFolderParams | None = None,
        subject: str | None = None,
    ) -> Folder:
        """Create a folder (at the root when ``parent`` is None); metadata travels as JSON text."""
        parent_id = uuid_text(parent) if parent is not None else None
        payload = CreateFolderPayload(
            name=name,
            description=description,
            parent=UUID(parent_id) if parent_id else None,
            client_metadata=json.dumps(dict(metadata)) if metadata is not None else None,
            cloud_synced_folder_params=cloud_sync,
        )
        call = V2Call(
            "POST",
            "storage/folders",
            "storage/folders",
            body=json_body(payload.to_request()),
            subject=subject or (f"folder {parent_id}" if parent_id else "the storage root"),
            needs=_ADMIN,
            idempotent=False,
        )
        since = datetime.now(UTC) - CLOCK_TOLERANCE

        async def check() -> Done[Folder] | None:
            found = await self.find_child(parent_id, name, created_since=since)
            return Done(found) if found is not None else None

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(call, parser(Folder, call.route), recovery=recovery)

    async def find_children(self, parent: UUID | str | None, name: str) -> list[Folder]:
        """Every folder named exactly ``name`` under ``parent`` (the root when None).

        At the root it asks for organisation-wide access when the caller may have it (see
        ``orgwide``). It asks with ``search=name`` first. The server's search semantics are not
        documented (the sandbox matches substrings), so "none found" is confirmed with an
        unfiltered listing before it is believed: a missed folder would otherwise be created
        a second time.
        """
        for search in (name, None):
            if parent is None:

                async def named(org: bool | None, search: str | None = search) -> list[Folder]:
                    listing = self.list_root(search=search, include_org_access=org)
                    return [f async for f in listing if f.name == name]

                matches = await org_wide(self._session, AUTO, "storage/folders", named)
            else:
                listing = self.list_subfolders(parent, search=search)
                matches = [f async for f in listing if f.name == name]
            if matches:
                return matches
        return []

    async def find_child(
        self, parent: UUID | str | None, name: str, *, created_since: datetime | None = None
    ) -> Folder | None:
        """The newest folder named exactly ``name`` under ``parent`` (the root when None)."""
        matches = await self.find_children(parent, name)
        if created_since is not None:
            matches = [f for f in matches if f.created_at >= created_since]
        return max(matches, key=lambda f: f.created_at, default=None)

    async def get(self, folder: UUID | str, *, subject: str | None = None) -> Folder:
        fid = uuid_text(folder)
        call = V2Call(
            "GET",
            f"storage/folders/{fid}",
            "storage/folders/{uuid}",
            subject=subject or f"folder {fid}",
        )
        return await self._session.call(call, parser(Folder, call.route))

    async def list_root(
        self,
        *,
        search: str | None = None,
        page_size: int = PAGE_SIZE,
        include_org_access: bool | None = None,
    ) -> AsyncIterator[Folder]:
        """Top-level folders (``GET storage/folders``), optionally filtered by name substring;
        an organisation admin sees others' folders only with ``include_org_access``."""

        def make(token: str | None) -> V2Call:
            query = folder_query(
                search=search,
                recursive=False,
                page_token=token,
                page_size=page_size,
                org_access=include_org_access,
            )
            return V2Call(
                "GET", "storage/folders", "storage/folders", query=query, subject="the storage root"
            )

        async for page in pages(self._session, make, Folder):
            for folder in page:
                yield folder

    async def list_subfolders(
        self,
        folder: UUID | str,
        *,
        search: str | None = None,
        recursive: bool = False,
        page_size: int = PAGE_SIZE,
        subject: str | None = None,
    ) -> AsyncIterator[Folder]:
        """Children of ``folder``; with ``recursive`` the whole subtree in one paged listing."""
        fid = uuid_text(folder)

        def make(token: str | None) -> V2Call:
            query = folder_query(
                search=search, recursive=recursive, page_token=token, page_size=page_size
            )
            return V2Call(
                "GET",
                f"storage/folders/{fid}/folders",
                "storage/folders/{uuid}/folders",
                query=query,
                subject=subject or f"folder {fid}",
            )

        async for page in pages(self._session, make, Folder):
            for child in page:
                yield child

    async def search(
        self,
        search: str | None,
        *,
        page_size: int = PAGE_SIZE,
        include_org_access: bool | None = None,
        organisation_tags: tuple[str, ...] = (),
    ) -> AsyncIterator[Folder]:
        """Folders anywhere in the visible tree whose name contains ``search`` (any name when
        None) and that carry every one of ``organisation_tags``."""

        def make(token: str | None) -> V2Call:
            query = folder_query(
                search=search,
                recursive=False,
                page_token=token,
                page_size=page_size,
                org_access=include_org_access,
            )
            if organisation_tags:  # after isRecursive, as the SDK's params model orders it
                query = (
                    *query[:2],
                    ("organisationTagNamesAllof", list(organisation_tags)),
                    *query[2:],
                )
            return V2Call("GET", "storage/search/folders", "storage/search/folders", query=query)

        async for page in pages(self._session, make, Folder):
            for folder in page:
                yield folder

    async def patch(
        self,
        folder: UUID | str,
        payload: PatchFolderPayload,
        *,
        timeout_seconds: float | None = None,
        subject: str | None = None,
    ) -> Folder:
        """Patch one folder, sent once: a write whose answer was lost is an
        ``AmbiguousOperationError``, never resent, so a caller that times its writes (the
        organisation lock) knows that an acknowledged write landed before the answer came."""
        fid = uuid_text(folder)
        call = V2Call(
            "PATCH",
            f"storage/folders/{fid}",
            "storage/folders/{uuid}",
            body=json_body(payload.to_request()),
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
            idempotent=False,
            timeout_seconds=timeout_seconds,
        )
        return await self._session.call(call, parser(Folder, call.route))

    async def patch_bulk(
        self, patches: Mapping[UUID | str, PatchFolderPayload], *, subject: str | None = None
    ) -> list[Folder]:
        """Patch many folders, 1000 per request (chunks sent concurrently); idempotent."""
        keyed = {uuid_text(k): v for k, v in patches.items()}

        async def send(chunk: list[tuple[str, PatchFolderPayload]]) -> list[Folder]:
            body = FoldersPatchBulkPayload(folder_patches=dict(chunk)).to_request()
            call = V2Call(
                "PATCH",
                "storage/folders/patch-bulk",
                "storage/folders/patch-bulk",
                body=json_body(body),
                subject=subject or f"{len(chunk)} folders",
                needs=_ADMIN,
            )
            return await one_page(self._session, call, Folder)

        return await in_bundles(list(keyed.items()), BUNDLE_SIZE, send)

    async def move(
        self,
        folders: Sequence[UUID | str],
        new_parent: UUID | str | None,
        *,
        subject: str | None = None,
    ) -> None:
        """Move folders under ``new_parent``; None moves them to the root (key omitted)."""
        payload = MoveFoldersPayload(
            folder_uuids=[UUID(uuid_text(f)) for f in folders],
            new_parent_uuid=UUID(uuid_text(new_parent)) if new_parent is not None else None,
        )
        call = V2Call(
            "POST",
            "storage/folders/move",
            "storage/folders/move",
            body=json_body(payload.to_request()),
            subject=subject or f"{len(folders)} folders",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    async def delete(self, folder: UUID | str, *, subject: str | None = None) -> None:
        """Delete an (empty) folder. A resend refused with 404 after a lost answer is success."""
        fid = uuid_text(folder)
        call = V2Call(
            "DELETE",
            f"storage/folders/{fid}",
            "storage/folders/{uuid}",
            body=b"",
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
        )
        await self._session.call(
            call, ignore, recovery=Recovery(self._gone(fid), before_resend=False)
        )

    def _gone(self, fid: str) -> Callable[[], Awaitable[Done[None] | None]]:
        async def check() -> Done[None] | None:
            try:
                await self.get(fid)
            except NotFoundError:
                return Done(None)
            return None

        return check

    # --- group roles on folders ------------------------------------------------------------

    async def list_groups(
        self, folder: UUID | str, *, subject: str | None = None
    ) -> list[StorageFolderGroup]:
        """Groups holding a direct role on ``folder``."""
        fid = uuid_text(folder)

        def make(token: str | None) -> V2Call:
            return V2Call(
                "GET",
                f"storage/folders/{fid}/groups",
                "storage/folders/{uuid}/groups",
                query=(("pageToken", token),),
                subject=subject or f"folder {fid}",
            )

        return await collect(self._session, make, StorageFolderGroup)

    async def add_groups(
        self,
        folder: UUID | str,
        groups: Iterable[UUID | str],
        role: StorageUserRole | str,
        *,
        subject: str | None = None,
    ) -> None:
        """Grant ``role`` to groups; granting again overwrites the role, so this is idempotent."""
        fid = uuid_text(folder)
        payload = AddStorageFolderGroupsPayload(
            group_hash_list=[UUID(uuid_text(g)) for g in groups], user_role=StorageUserRole(role)
        )
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/groups",
            "storage/folders/{uuid}/groups",
            body=json_body(payload.to_request()),
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    async def remove_groups(
        self, folder: UUID | str, groups: Iterable[UUID | str], *, subject: str | None = None
    ) -> None:
        fid = uuid_text(folder)
        call = V2Call(
            "DELETE",
            f"storage/folders/{fid}/groups",
            "storage/folders/{uuid}/groups",
            query=(("groupHashList", [uuid_text(g) for g in groups]),),
            body=b"",
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    # --- cloud sync --------------------------------------------------------------------------

    async def start_sync(
        self, folder: UUID | str, *, resend_if_ambiguous: bool = False, subject: str | None = None
    ) -> UUID:
        """Start syncing a cloud-synced folder; returns the job UUID.

        Nothing can be read to learn whether a lost start took effect, so an ambiguous failure
        raises ``AmbiguousOperationError`` unless ``resend_if_ambiguous`` (a second sync of
        the same bucket is harmless, but that is the caller's call to make).
        """
        fid = uuid_text(folder)
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/cloud-synced-folder-syncs",
            "storage/folders/{uuid}/cloud-synced-folder-syncs",
            body=b"",
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
            idempotent=False,
            resend_if_ambiguous=resend_if_ambiguous,
        )
        return await self._session.call(call, uuid_parser(call.route))

    async def poll_sync(
        self, folder: UUID | str, job: UUID | str, *, timeout_seconds: int
    ) -> SyncResult:
        """One long poll; the server answers when the job ends or its own wait cap is reached."""
        fid, jid = uuid_text(folder), uuid_text(job)
        call = V2Call(
            "GET",
            f"storage/folders/{fid}/cloud-linked-folder-syncs/{jid}/long-polling",
            "storage/folders/{uuid}/cloud-linked-folder-syncs/{job_uuid}/long-polling",
            query=(("timeoutSeconds", timeout_seconds),),
            subject=f"folder {fid}",
            timeout_seconds=min(timeout_seconds, 120) + 30.0,
        )
        return await self._session.call(call, parser(SyncResult, call.route))

    async def wait_for_sync(
        self, folder: UUID | str, job: UUID | str, *, timeout_seconds: int = 3600
    ) -> SyncResult:
        """Poll until the job is no longer pending or ``timeout_seconds`` have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while True:
            result = await self.poll_sync(folder, job, timeout_seconds=timeout_seconds)
            if result.status != SyncStatus.PENDING or loop.time() >= deadline:
                return result
