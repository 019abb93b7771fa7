"""Storage folders and items on the wire (``encord-api/README.md`` sections 5 and 6).

Field order follows the SDK's models, and every ``X | None`` field without a default is
required on input, as the SDK requires it. ``client_metadata`` travels as JSON *text* in
responses and in folder create, and as a JSON *object* in patches.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from reconciler.wire.base import WireModel
from reconciler.wire.enums import (
    FolderType,
    StorageItemType,
    StorageLocationName,
    StorageUserRole,
    SyncStatus,
)


class PathElement(WireModel):
    uuid: UUID
    parent_uuid: UUID | None
    name: str
    synced_dataset_hash: UUID | None


class StorageFolder(WireModel):
    uuid: UUID
    parent: UUID | None
    name: str
    description: str
    client_metadata: str | None
    owner: str
    created_at: datetime
    last_edited_at: datetime
    user_role: StorageUserRole
    synced_dataset_hash: UUID | None
    folder_type: FolderType = FolderType.GENERIC
    integration_hash: UUID | None = None
    remote_url: str | None = None
    path_to_root: list[PathElement]

    def metadata(self) -> dict[str, Any]:
        return json.loads(self.client_metadata) if self.client_metadata else {}


class StorageItem(WireModel):
    uuid: UUID
    parent: UUID
    item_type: StorageItemType
    name: str
    description: str = ""
    client_metadata: str
    owner: str
    created_at: datetime
    last_edited_at: datetime
    is_tombstone: bool = False
    is_placeholder: bool = False
    backed_data_units_count: int
    storage_location: StorageLocationName
    integration_hash: UUID | None
    url: str | None
    signed_url: str | None
    file_size: int | None
    mime_type: str | None
    duration: float | None
    fps: float | None
    height: int | None
    width: int | None
    dicom_instance_uid: str | None
    dicom_study_uid: str | None
    dicom_series_uid: str | None
    frame_count: int | None
    audio_sample_rate: int | None
    audio_bit_depth: int | None
    audio_codec: str | None
    audio_num_channels: int | None

    def metadata(self) -> dict[str, Any]:
        return json.loads(self.client_metadata) if self.client_metadata else {}


class StorageFolderSummary(WireModel):
    files: int
    folders: int
    videos: int
    images: int
    image_groups: int
    image_sequences: int
    dicom_files: int
    dicom_series: int
    niftis: int
    audios: int
    pdfs: int
    plain_texts: int
    tombstones: int
    upload_jobs: int
    total_size: float


class ItemShortInfo(WireModel):
    uuid: UUID
    name: str
    parent_uuid: UUID
    parent_name: str
    item_type: StorageItemType


class DatasetShortInfo(WireModel):
    dataset_hash: str
    backing_folder_uuid: UUID | None
    title: str
    data_hashes: list[UUID]
    data_units_created_at: datetime


class StorageItemSummary(WireModel):
    frame_in_groups: int
    accessible_group_items: list[ItemShortInfo]
    used_in_datasets: int
    accessible_datasets: list[DatasetShortInfo]


# --- request bodies ----------------------------------------------------------------------------


class CloudSyncedFolderParams(WireModel):
    integration_uuid: UUID
    remote_url: str


class CreateFolderPayload(WireModel):
    name: str
    description: str | None = None
    parent: UUID | None = None
    client_metadata: str | None = None  # JSON text on create, unlike patches
    cloud_synced_folder_params: CloudSyncedFolderParams | None = None


class PatchFolderPayload(WireModel):
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class FoldersPatchBulkPayload(WireModel):
    folder_patches: dict[str, PatchFolderPayload]  # keys are folder UUIDs, not aliased


class MoveFoldersPayload(WireModel):
    folder_uuids: list[UUID]
    new_parent_uuid: UUID | None = None  # omitted, not null, for "move to root"


class PatchItemPayload(WireModel):
    name: str | None = None
    description: str | None = None
    client_metadata: dict[str, Any] | None = None


class ItemsPatchBulkPayload(WireModel):
    item_patches: dict[str, PatchItemPayload]


class GetItemsBulkPayload(WireModel):
    item_uuids: list[UUID]
    sign_urls: bool = False


class MoveItemsPayload(WireModel):
    item_uuids: list[UUID]
    new_parent_uuid: UUID
    allow_synced_dataset_move: bool = False


class DeleteItemsPayload(WireModel):
    child_uuids: list[UUID]
    remove_unused_frames: bool = True


class DeleteItemsResponse(WireModel):
    removed_items_count: int
    removed_folders_count: int


class SyncResult(WireModel):
    """Long-poll answer of a cloud-synced folder sync job; every counter is required."""

    status: SyncStatus
    scan_pages_processing_pending: int
    scan_pages_processing_done: int
    scan_pages_processing_error: int
    scan_pages_processing_cancelled: int
    upload_jobs_pending: int
    upload_jobs_done: int
    upload_jobs_error: int
    upload_jobs_units_pending: int
    upload_jobs_units_done: int
    upload_jobs_units_error: int
    upload_jobs_units_cancelled: int


ITEM_TYPES_ALL = tuple(StorageItemType)
