"""Index collections on the wire (SDK 0.1.211, ``encord.collection``): a named set of storage
items inside one top-level folder.

Created with ``POST index/collections?topLevelFolderUuid=…`` (the answer is the new UUID as a
bare JSON string), read with ``GET index/collections`` (paged; by ``uuids`` or by
``topLevelFolderUuid``), renamed or re-described with ``PATCH``, deleted with ``DELETE``.
Items are added and removed by UUID in bulk; an item the server will not take (unknown,
outside the collection's folder, not accessible to the caller) comes back in
``failedItems`` while the rest of the call succeeds.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from reconciler.wire.base import WireModel

COLLECTIONS = "index/collections"


class Collection(WireModel):
    uuid: UUID
    top_level_folder_uuid: UUID
    name: str
    description: str | None = None  # the API may answer null
    created_at: datetime | None = None
    last_edited_at: datetime | None = None


class CreateCollectionPayload(WireModel):
    name: str
    description: str = ""  # the SDK always sends it, "" by default


class UpdateCollectionPayload(WireModel):
    name: str | None = None
    description: str | None = None


class CollectionItemsPayload(WireModel):
    item_uuids: list[UUID]


class CollectionItemsResponse(WireModel):
    failed_items: list[UUID] = Field(default_factory=list)


class CollectionMember(WireModel):
    """A member as ``accessible-items`` lists it: a full storage item, of which only the
    UUID is read (validating 1000 whole items a page is most of a listing's cost)."""

    uuid: UUID
