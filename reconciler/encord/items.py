"""Storage items: recursive and flat listings, get, get-bulk, patch-bulk, move, delete.

The recursive listing is the SDK's ``find_items`` request (``isRecursive=True`` with every
``itemTypes`` value repeated), the only recursive item query the SDK itself sends. Query keys
follow the SDK's ``ListItemsParams`` field order.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Mapping,
    Sequence,
)
from contextlib import aclosing
from typing import Any, TypeVar
from uuid import UUID

from reconciler.encord.calls import Call, Done, Recovery, V2Call, json_body, uuid_text
from reconciler.encord.dto import Item, ItemBrief, fast_briefs, page_briefs
from reconciler.encord.errors import NotFoundError
from reconciler.encord.options import BUNDLE_SIZE, PAGE_SIZE
from reconciler.encord.paging import (
    ReadAhead,
    answers,
    both_ends,
    ignore,
    in_bundles,
    one_page,
    pages,
    parser,
)
from reconciler.encord.responses import RawJSON, json_value
from reconciler.encord.session import Session
from reconciler.wire.base import Page
from reconciler.wire.enums import StorageItemType
from reconciler.wire.query import Query
from reconciler.wire.storage import (
    ITEM_TYPES_ALL,
    DeleteItemsPayload,
    GetItemsBulkPayload,
    MoveItemsPayload,
    PatchItemPayload,
)

T = TypeVar("T")
_ADMIN = "admin on"


def item_query(
    *,
    search: str | None,
    recursive: bool,
    item_types: Sequence[StorageItemType],
    page_token: str | None,
    page_size: int,
    include_client_metadata: bool | None,
    desc: bool = False,
) -> Query:
    """``ListItemsParams`` in the SDK's field order (``None`` values are left out)."""
    return (
        ("search", search),
        ("isRecursive", recursive),
        ("itemTypes", list(item_types)),
        ("order", "name"),
        ("desc", desc),
        ("pageToken", page_token),
        ("pageSize", page_size),
        ("signUrls", False),
        ("includeClientMetadata", include_client_metadata),
        ("clientMetadataAsSignedUrl", False if include_client_metadata is not None else None),
    )


class ItemsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_recursive(
        self,
        folder: UUID | str,
        *,
        search: str | None = None,
        item_types: Sequence[StorageItemType] = ITEM_TYPES_ALL,
        page_size: int = PAGE_SIZE,
        subject: str | None = None,
    ) -> AsyncIterator[Item]:
        """Every item in ``folder``'s subtree, in one paged listing (``find_items``)."""
        if not search and not item_types:
            raise ValueError("a recursive item listing needs search or item_types (as the SDK)")
        async for page in self._pages(folder, search, True, item_types, page_size, None, subject):
            for item in page:
                yield item

    async def list_pages(
        self,
        folder: UUID | str,
        *,
        recursive: bool,
        page_size: int = PAGE_SIZE,
        subject: str | None = None,
        from_both_ends: bool = False,
    ) -> AsyncIterator[list[Item]]:
        """Page by page, to the end: the recursive listing, or the flat ``list_items`` one.

        Read from one end, the next page is requested while the caller handles one. With
        ``from_both_ends`` the listing is read ascending and descending by name at once until
        the ends meet (``paging.both_ends``): half the chain of pages for about one request
        more; the pages then hold each item once but are not in name order.
        """
        async for page in _from_one_or_both_ends(
            lambda desc, prefetch: self._listing(
                folder, recursive, page_size, subject, desc, prefetch
            ),
            both=from_both_ends,
            identity=_uuid,
            name=_name,
            full=page_size,
        ):
            yield page

    def _listing(
        self,
        folder: UUID | str,
        recursive: bool,
        page_size: int,
        subject: str | None,
        desc: bool,
        prefetch: bool | ReadAhead,
    ) -> AsyncGenerator[list[Item], None]:
        types = ITEM_TYPES_ALL if recursive else ()
        metadata = None if recursive else True
        return self._pages(
            folder, None, recursive, types, page_size, metadata, subject, prefetch, desc
        )

    async def list_briefs(
        self,
        folder: UUID | str,
        *,
        recursive: bool = True,
        page_size: int = PAGE_SIZE,
        subject: str | None = None,
        from_both_ends: bool = False,
    ) -> AsyncIterator[list[ItemBrief]]:
        """As ``list_pages``, each page as ``ItemBrief``s: read straight from the parsed page
        (a listing of millions is not held as 31-field models); a page not in the plain form
        the API sends is validated by the model instead (the same values, the same errors)."""
        async for page in _from_one_or_both_ends(
            lambda desc, prefetch: self._briefs(
                folder, recursive, page_size, subject, desc, prefetch
            ),
            both=from_both_ends,
            identity=_brief_uuid,
            name=_brief_name,
            full=page_size,
        ):
            yield page

    async def _briefs(
        self,
        folder: UUID | str,
        recursive: bool,
        page_size: int,
        subject: str | None,
        desc: bool,
        prefetch: bool | ReadAhead,
    ) -> AsyncGenerator[list[ItemBrief], None]:
        types = ITEM_TYPES_ALL if recursive else ()
        metadata = None if recursive else True
        make = self._call(folder, None, recursive, types, page_size, metadata, subject, desc)
        listing = answers(self._session, make, prefetch=prefetch, read=_brief_page)
        async with aclosing(listing):
            async for call, answer, data in listing:
                yield briefs_of(call, answer, data)

    async def list_direct(
        self, folder: UUID | str, *, page_size: int = PAGE_SIZE, subject: str | None = None
    ) -> AsyncIterator[Item]:
        """Direct children of ``folder`` with their metadata (the SDK's ``list_items``)."""
        async for page in self._pages(folder, None, False, (), page_size, True, subject):
            for item in page:
                yield item

    async def _pages(
        self,
        folder: UUID | str,
        search: str | None,
        recursive: bool,
        item_types: Sequence[StorageItemType],
        page_size: int,
        include_client_metadata: bool | None,
        subject: str | None,
        prefetch: bool | ReadAhead = False,
        desc: bool = False,
    ) -> AsyncGenerator[list[Item], None]:
        make = self._call(
            folder, search, recursive, item_types, page_size, include_client_metadata, subject, desc
        )
        async for page in pages(self._session, make, Item, prefetch=prefetch):
            yield page

    @staticmethod
    def _call(
        folder: UUID | str,
        search: str | None,
        recursive: bool,
        item_types: Sequence[StorageItemType],
        page_size: int,
        include_client_metadata: bool | None,
        subject: str | None,
        desc: bool,
    ) -> Callable[[str | None], V2Call]:
        """The request for one page of a listing, given the page token."""
        fid = uuid_text(folder)

        def make(token: str | None) -> V2Call:
            query = item_query(
                search=search,
                recursive=recursive,
                item_types=item_types,
                page_token=token,
                page_size=page_size,
                include_client_metadata=include_client_metadata,
                desc=desc,
            )
            return V2Call(
                "GET",
                f"storage/folders/{fid}/items",
                "storage/folders/{uuid}/items",
                query=query,
                subject=subject or f"folder {fid}",
            )

        return make

    async def get(self, item: UUID | str, *, subject: str | None = None) -> Item:
        iid = uuid_text(item)
        call = V2Call(
            "GET",
            f"storage/items/{iid}",
            "storage/items/{item_uuid}",
            query=(("signUrl", False),),
            subject=subject or f"item {iid}",
        )
        return await self._session.call(call, parser(Item, call.route))

    async def get_bulk(self, items: Sequence[UUID | str]) -> list[Item]:
        """Items by UUID, in request order, 1000 per request (chunks sent concurrently)."""
        return await in_bundles(
            items, BUNDLE_SIZE, lambda chunk: one_page(self._session, _get_bulk(chunk), Item)
        )

    async def get_bulk_briefs(self, items: Sequence[UUID | str]) -> list[ItemBrief]:
        """As ``get_bulk``, each item as an ``ItemBrief`` (read straight from the parsed
        answer, as ``list_briefs`` reads pages): what apply re-reads before each bundle."""
        return await in_bundles(
            items, BUNDLE_SIZE, lambda chunk: brief_page(self._session, _get_bulk(chunk))
        )

    async def patch_bulk(
        self, patches: Mapping[UUID | str, PatchItemPayload], *, subject: str | None = None
    ) -> list[Item]:
        """Patch many items, 1000 per request; ``clientMetadata`` replaces the whole object."""
        keyed = [(uuid_text(k), v) for k, v in patches.items()]
        return await in_bundles(
            keyed,
            BUNDLE_SIZE,
            lambda chunk: one_page(self._session, _patch_bulk(chunk, subject), Item),
        )

    async def patch_bulk_briefs(
        self, patches: Mapping[UUID | str, PatchItemPayload], *, subject: str | None = None
    ) -> list[ItemBrief]:
        """As ``patch_bulk``, the items the API answers with (as stored after the write) as
        ``ItemBrief``s: an apply of 100,000 patches does not build 100,000 full models."""
        keyed = [(uuid_text(k), v) for k, v in patches.items()]
        return await in_bundles(
            keyed, BUNDLE_SIZE, lambda chunk: brief_page(self._session, _patch_bulk(chunk, subject))
        )

    async def move(
        self,
        source: UUID | str,
        items: Sequence[UUID | str],
        new_parent: UUID | str,
        *,
        allow_synced_dataset_move: bool = False,
        subject: str | None = None,
    ) -> None:
        """Move direct children of ``source`` under ``new_parent``.

        A resend after a lost answer is refused (the items are no longer in ``source``); the
        client then reads the items and treats the move as done when they are all there.
        """
        src, dst = uuid_text(source), uuid_text(new_parent)
        ids = [uuid_text(i) for i in items]
        payload = MoveItemsPayload(
            item_uuids=[UUID(i) for i in ids],
            new_parent_uuid=UUID(dst),
            allow_synced_dataset_move=allow_synced_dataset_move,
        )
        call = V2Call(
            "POST",
            f"storage/folders/{src}/items/move",
            "storage/folders/{uuid}/items/move",
            body=json_body(payload.to_request()),
            subject=subject or f"folder {src}",
            needs=_ADMIN,
        )
        recovery = Recovery(self._all_in(ids, dst), before_resend=False)
        await self._session.call(call, ignore, recovery=recovery)

    async def delete(
        self,
        folder: UUID | str,
        items: Sequence[UUID | str],
        *,
        remove_unused_frames: bool = True,
        subject: str | None = None,
    ) -> None:
        """Delete direct children of ``folder`` (a POST, as the SDK sends it)."""
        fid = uuid_text(folder)
        ids = [uuid_text(i) for i in items]
        payload = DeleteItemsPayload(
            child_uuids=[UUID(i) for i in ids], remove_unused_frames=remove_unused_frames
        )
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/items/delete",
            "storage/folders/{uuid}/items/delete",
            body=json_body(payload.to_request()),
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
        )
        recovery = Recovery(self._none_in(ids, fid), before_resend=False)
        await self._session.call(call, ignore, recovery=recovery)

    def _all_in(self, ids: list[str], folder: str) -> Callable[[], Awaitable[Done[None] | None]]:
        async def check() -> Done[None] | None:
            found = await self.get_bulk(ids)
            moved = len(found) == len(ids) and all(str(i.parent) == folder for i in found)
            return Done(None) if moved else None

        return check

    def _none_in(self, ids: list[str], folder: str) -> Callable[[], Awaitable[Done[None] | None]]:
        async def check() -> Done[None] | None:
            try:
                found = await self.get_bulk(ids)
            except NotFoundError:
                return Done(None)
            remaining = [i for i in found if str(i.parent) == folder and not i.is_tombstone]
            return None if remaining else Done(None)

        return check


def _get_bulk(chunk: Sequence[UUID | str]) -> V2Call:
    payload = GetItemsBulkPayload(item_uuids=[UUID(uuid_text(i)) for i in chunk])
    return V2Call(
        "POST",
        "storage/items/get-bulk",
        "storage/items/get-bulk",
        body=json_body(payload.to_request()),
        subject=f"{len(chunk)} items",
    )


def _patch_bulk(chunk: Sequence[tuple[str, PatchItemPayload]], subject: str | None) -> V2Call:
    return V2Call(
        "PATCH",
        "storage/items/patch-bulk",
        "storage/items/patch-bulk",
        body=json_body(patch_bulk_request(chunk)),
        subject=subject or f"{len(chunk)} items",
        needs=_ADMIN,
    )


def patch_bulk_request(chunk: Sequence[tuple[str, PatchItemPayload]]) -> dict[str, Any]:
    """``ItemsPatchBulkPayload(item_patches=dict(chunk)).to_request()``, the same object built
    directly: pydantic's dump of 1000 patches was a tenth of a bulk apply's client CPU. The
    patches are already validated models, so only ``None`` fields are left out (values inside
    ``clientMetadata`` are kept as they are, ``None`` included, as the dump keeps them)."""
    return {"itemPatches": {uuid: _patch_request(patch) for uuid, patch in chunk}}


def _patch_request(patch: PatchItemPayload) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if patch.name is not None:
        out["name"] = patch.name
    if patch.description is not None:
        out["description"] = patch.description
    if patch.client_metadata is not None:
        out["clientMetadata"] = patch.client_metadata
    return out


async def brief_page(session: Session, call: V2Call) -> list[ItemBrief]:
    """The items of a single-page answer (get-bulk, patch-bulk) as ``ItemBrief``s."""
    return await session.call(call, lambda answer: briefs_of(call, answer, _brief_page(answer)))


def briefs_of(call: Call, answer: object, data: object) -> list[ItemBrief]:
    """A page's items as ``ItemBrief``s: straight from ``data`` (the page as ``_brief_page``
    read it) when it is in the plain form the API sends, else validated by the model (same
    values, same errors)."""
    if type(data) is _BriefPage:  # read from the page's bytes already
        results: list[ItemBrief] = data["results"]
        return results
    briefs = fast_briefs(data.get("results")) if isinstance(data, dict) else None
    if briefs is None:
        page = parser(Page[Item], call.route)(answer)
        briefs = [ItemBrief.of(item) for item in page.results]
    return briefs


class _BriefPage(dict[str, Any]):
    """A page ``dto.page_briefs`` read: ``results`` are ``ItemBrief``s already."""


def _brief_page(answer: Any) -> Any:
    """A page (of a listing, or a bulk answer): read straight into briefs from its bytes when
    it is in the plain form the API sends, else its JSON value (read as before)."""
    if isinstance(answer, RawJSON):
        read = page_briefs(answer.content)
        if read is not None:
            return _BriefPage(results=read[0], nextPageToken=read[1])
    return json_value(answer)


def _uuid(item: Item) -> UUID:
    return item.uuid


def _name(item: Item) -> str:
    return item.name


def _brief_uuid(item: ItemBrief) -> str:
    return item.uuid


def _brief_name(item: ItemBrief) -> str:
    return item.name


def _from_one_or_both_ends(
    listing: Callable[[bool, bool | ReadAhead], AsyncGenerator[list[T], None]],
    *,
    both: bool,
    identity: Callable[[T], Hashable],
    name: Callable[[T], str],
    full: int,
) -> AsyncIterator[list[T]]:
    """The pages of ``listing(desc, prefetch)``: from one end, the next page requested while
    the caller handles one; or with ``both``, ascending and descending at once until the ends
    meet (``paging.both_ends``: each object once)."""
    if not both:
        return listing(False, True)
    ahead = ReadAhead()  # both ends read under it; ``both_ends`` turns it on
    return both_ends(
        listing(False, ahead),
        lambda: listing(True, ahead),
        identity=identity,
        name=name,
        full=full,
        read_ahead=ahead,
    )
