"""Index collections (``index/collections``, SDK 0.1.211 ``encord.collection``).

A collection belongs to one top-level folder. Creating one is not idempotent: after an
ambiguous failure the folder's collections are listed and the call is resent only when no
collection of that name appeared since. Adding and removing items are set operations, safe
to resend; items the server will not take come back in ``failedItems`` (``failed`` below),
and the rest of the call is done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from reconciler.encord.calls import Done, Recovery, V2Call, json_body, uuid_text
from reconciler.encord.errors import NotFoundError
from reconciler.encord.options import BUNDLE_SIZE, PAGE_SIZE
from reconciler.encord.paging import chunks, collect, ignore, pages, parser, uuid_parser
from reconciler.encord.session import Session
from reconciler.wire.collections import (
    COLLECTIONS,
    Collection,
    CollectionItemsPayload,
    CollectionItemsResponse,
    CollectionMember,
    CreateCollectionPayload,
    UpdateCollectionPayload,
)

CLOCK_TOLERANCE = timedelta(minutes=5)
Check = Callable[[], Awaitable[Done[None] | None]]


class CollectionsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_in(self, folder: UUID | str, *, subject: str | None = None) -> list[Collection]:
        """Every collection of one top-level folder (1000 a page)."""
        fid = uuid_text(folder)

        def make(token: str | None) -> V2Call:
            query = (("topLevelFolderUuid", fid), ("pageToken", token), ("pageSize", PAGE_SIZE))
            return V2Call(
                "GET", COLLECTIONS, COLLECTIONS, query=query, subject=subject or f"folder {fid}"
            )

        return await collect(self._session, make, Collection)

    async def get(self, collection: UUID | str) -> Collection:
        """One collection; ``NotFoundError`` when it is gone (or hidden from the caller, which
        the API does not tell apart)."""
        cid = uuid_text(collection)
        call = V2Call(
            "GET", COLLECTIONS, COLLECTIONS, query=(("uuids", cid),), subject=f"collection {cid}"
        )

        def make(token: str | None) -> V2Call:
            return call

        found = await collect(self._session, make, Collection)
        if not found:
            raise NotFoundError(f"not found: collection {cid}")
        return found[0]

    async def create(
        self, folder: UUID | str, name: str, description: str, *, subject: str | None = None
    ) -> UUID:
        fid = uuid_text(folder)
        call = V2Call(
            "POST",
            COLLECTIONS,
            COLLECTIONS,
            query=(("topLevelFolderUuid", fid),),
            body=json_body(
                CreateCollectionPayload(name=name, description=description).to_request()
            ),
            subject=subject or f"folder {fid}",
            idempotent=False,
        )
        since = datetime.now(UTC) - CLOCK_TOLERANCE

        async def check() -> Done[UUID] | None:
            made = [
                c
                for c in await self.list_in(fid)
                if c.name == name and c.created_at is not None and c.created_at >= since
            ]
            newest = max(made, key=lambda c: c.created_at or since, default=None)
            return None if newest is None else Done(newest.uuid)

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(call, uuid_parser(call.route), recovery=recovery)

    async def update(
        self, collection: UUID | str, *, name: str | None = None, description: str | None = None
    ) -> None:
        cid = uuid_text(collection)
        payload = UpdateCollectionPayload(name=name, description=description)
        call = V2Call(
            "PATCH",
            f"{COLLECTIONS}/{cid}",
            f"{COLLECTIONS}/{{uuid}}",
            body=json_body(payload.to_request()),
            subject=f"collection {cid}",
        )
        await self._session.call(call, ignore)

    async def delete(self, collection: UUID | str) -> None:
        cid = uuid_text(collection)
        call = V2Call(
            "DELETE",
            f"{COLLECTIONS}/{cid}",
            f"{COLLECTIONS}/{{uuid}}",
            body=b"",
            subject=f"collection {cid}",
        )
        recovery = Recovery(self._gone(cid), before_resend=False)
        await self._session.call(call, ignore, recovery=recovery)

    def _gone(self, cid: str) -> Check:
        async def check() -> Done[None] | None:
            try:
                await self.get(cid)
            except NotFoundError:
                return Done(None)
            return None

        return check

    async def add_items(
        self, collection: UUID | str, items: Sequence[UUID | str], *, subject: str | None = None
    ) -> list[str]:
        """Add items, 1000 a request; the UUIDs the server did not take (``failedItems``)."""
        return await self._change(collection, "add-items", items, subject)

    async def remove_items(
        self, collection: UUID | str, items: Sequence[UUID | str], *, subject: str | None = None
    ) -> list[str]:
        """Remove items, 1000 a request; the UUIDs the server did not take."""
        return await self._change(collection, "remove-items", items, subject)

    async def _change(
        self, collection: UUID | str, verb: str, items: Sequence[UUID | str], subject: str | None
    ) -> list[str]:
        cid = uuid_text(collection)
        failed: list[str] = []
        for chunk in chunks([UUID(uuid_text(i)) for i in items], BUNDLE_SIZE):
            call = V2Call(
                "POST",
                f"{COLLECTIONS}/{cid}/{verb}",
                f"{COLLECTIONS}/{{uuid}}/{verb}",
                body=json_body(CollectionItemsPayload(item_uuids=chunk).to_request()),
                subject=subject or f"collection {cid}",
            )
            answer = await self._session.call(call, parser(CollectionItemsResponse, call.route))
            failed.extend(str(u) for u in answer.failed_items)
        return failed

    async def members(self, collection: UUID | str, *, subject: str | None = None) -> list[str]:
        """The UUIDs of the collection's (accessible) items, 1000 a page, without metadata."""
        cid = uuid_text(collection)

        def make(token: str | None) -> V2Call:
            query = (
                ("includeClientMetadata", False),
                ("pageToken", token),
                ("pageSize", PAGE_SIZE),
            )
            return V2Call(
                "GET",
                f"{COLLECTIONS}/{cid}/accessible-items",
                f"{COLLECTIONS}/{{uuid}}/accessible-items",
                query=query,
                subject=subject or f"collection {cid}",
            )

        out: list[str] = []
        async for page in pages(self._session, make, CollectionMember, prefetch=True):
            out.extend(str(member.uuid) for member in page)
        return out
