"""Store rows to wire JSON, with every key the SDK requires and in the SDK models' field order.

Built as plain dicts rather than through the pydantic wire models because a page holds up to
1000 items; ``tests/test_sandbox_serialize.py`` pins each shape to ``reconciler.wire``'s models
(``Model.model_validate(d).to_response() == d``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.sandbox.store.common import RANK_ROLE, path_ids
from reconciler.sandbox.store.org import role_uuid
from reconciler.wire.enums import V1_DATA_TYPE, StorageItemType

# StorageLocationName on items → legacy StorageLocation int of v1 data rows.
LEGACY_LOCATION = {"encord": 0, "s3": 1, "gcp": 2, "azure": 3, "s3Compatible": 4}


def page(results: list[Any], next_token: str | None) -> dict[str, Any]:
    return {"results": results, "nextPageToken": next_token}


def folder_json(
    folder: sqlite3.Row, ancestors: dict[int, sqlite3.Row], rank: int
) -> dict[str, Any]:
    return {
        "uuid": folder["uuid"],
        "parent": ancestors[folder["parent_id"]]["uuid"] if folder["parent_id"] else None,
        "name": folder["name"],
        "description": folder["description"],
        "clientMetadata": folder["client_metadata"],
        "owner": folder["owner_email"],
        "createdAt": folder["created_at"],
        "lastEditedAt": folder["last_edited_at"],
        "userRole": RANK_ROLE[rank],
        "syncedDatasetHash": folder["synced_dataset_uuid"],
        "folderType": folder["folder_type"],
        "integrationHash": folder["integration_uuid"],
        "remoteUrl": folder["remote_url"],
        "pathToRoot": path_to_root(folder["path"], ancestors),
    }


def path_to_root(path: str, ancestors: dict[int, sqlite3.Row]) -> list[dict[str, Any]]:
    """The folder itself first, then each ancestor up to the root."""
    ids = path_ids(path)
    elements = []
    for index in range(len(ids) - 1, -1, -1):
        row = ancestors[ids[index]]
        elements.append(
            {
                "uuid": row["uuid"],
                "parentUuid": ancestors[ids[index - 1]]["uuid"] if index else None,
                "name": row["name"],
                "syncedDatasetHash": row["synced_dataset_uuid"],
            }
        )
    return elements


def item_json(
    item: sqlite3.Row, *, sign_urls: bool = False, metadata: bool = True
) -> dict[str, Any]:
    url = item["url"]
    return {
        "uuid": item["uuid"],
        "parent": item["folder_uuid"],
        "itemType": item["item_type"],
        "name": item["name"],
        "description": item["description"],
        "clientMetadata": item["client_metadata"] if metadata else "{}",
        "owner": item["owner_email"],
        "createdAt": item["created_at"],
        "lastEditedAt": item["last_edited_at"],
        "isTombstone": bool(item["is_tombstone"]),
        "isPlaceholder": bool(item["is_placeholder"]),
        "backedDataUnitsCount": item["data_units"],
        "storageLocation": item["storage_location"],
        "integrationHash": item["integration_uuid"],
        "url": url,
        "signedUrl": url if sign_urls and url else None,
        "fileSize": item["file_size"],
        "mimeType": item["mime_type"],
        "duration": item["duration"],
        "fps": item["fps"],
        "height": item["height"],
        "width": item["width"],
        "dicomInstanceUid": item["dicom_instance_uid"],
        "dicomStudyUid": item["dicom_study_uid"],
        "dicomSeriesUid": item["dicom_series_uid"],
        "frameCount": item["frame_count"],
        "audioSampleRate": item["audio_sample_rate"],
        "audioBitDepth": item["audio_bit_depth"],
        "audioCodec": item["audio_codec"],
        "audioNumChannels": item["audio_num_channels"],
    }


def group_json(group: sqlite3.Row) -> dict[str, Any]:
    return {
        "groupHash": group["uuid"],
        "name": group["name"],
        "description": group["description"],
        "createdAt": group["created_at"],
    }


def role_group_json(group: sqlite3.Row, role: str | int) -> dict[str, Any]:
    """StorageFolderGroup (string role) or DatasetGroup (integer role)."""
    return {**group_json(group), "isSameOrganisation": True, "userRole": role}


def org_user_json(user: sqlite3.Row) -> dict[str, Any]:
    return {
        "email": user["email"],
        "roleMnemonicName": user["org_role"],
        "roleUuid": role_uuid(user["org_role"]),
        "memberType": user["member_type"],
        "createdAt": user["created_at"],
        "lastEditedAt": user["last_edited_at"],
    }


def dataset_json(dataset: sqlite3.Row, role: int) -> dict[str, Any]:
    """DatasetWithUserRole: here the role is a string."""
    return {
        "datasetUuid": dataset["uuid"],
        "title": dataset["title"],
        "description": dataset["description"],
        "createdAt": dataset["created_at"],
        "lastEditedAt": dataset["last_edited_at"],
        "userRole": "admin" if role == 0 else "user",
        "storageLocation": dataset["storage_location"],
        "backingFolderUuid": dataset["backing_folder_uuid"],
    }


def data_row_json(row: sqlite3.Row, *, client_metadata: bool) -> dict[str, Any]:
    """A v1 data row (snake_case) joined with its item's fields."""
    out: dict[str, Any] = {
        "data_hash": row["data_hash"],
        "data_title": row["name"],
        "data_type": V1_DATA_TYPE[StorageItemType(row["item_type"])],
        "created_at": row["row_created_at"],
        "last_edited_at": row["row_edited_at"],
        "width": row["width"],
        "height": row["height"],
        "file_link": row["url"] or f"sandbox://items/{row['uuid']}",
        "file_size": row["file_size"],
        "file_type": row["mime_type"],
        "storage_location": LEGACY_LOCATION.get(row["storage_location"], 0),
        "frames_per_second": row["fps"],
        "duration": row["duration"],
        "client_metadata": json.loads(row["client_metadata"]) if client_metadata else None,
        "signed_url": None,
        "is_optimised_image_group": None,
        "backing_item_uuid": row["uuid"],
        "images_data": None,
    }
    return out
