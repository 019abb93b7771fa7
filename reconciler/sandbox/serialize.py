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
from reconciler.wire.enums import V1_DATA_TYPE

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


# StorageItem, field by field in the SDK model's order, as SQLite expressions over the aliases
# of ``store.items.ITEM_FROM``: SQLite writes each item's JSON itself (``json_object``), which is
# several times faster than building and encoding a thousand dicts in Python.
_ITEM_FIELDS = (
    ("uuid", "it.uuid"),
    ("parent", "pf.uuid"),
    ("itemType", "it.item_type"),
    ("name", "it.name"),
    ("description", "it.description"),
    ("clientMetadata", "{metadata}"),
    ("owner", "u.email"),
    ("createdAt", "it.created_at"),
    ("lastEditedAt", "it.last_edited_at"),
    ("isTombstone", "json(CASE WHEN it.is_tombstone THEN 'true' ELSE 'false' END)"),
    ("isPlaceholder", "json(CASE WHEN it.is_placeholder THEN 'true' ELSE 'false' END)"),
    ("backedDataUnitsCount", "(SELECT count(*) FROM data_rows dr WHERE dr.item_id = it.id)"),
    ("storageLocation", "it.storage_location"),
    ("integrationHash", "ig.uuid"),
    ("url", "it.url"),
    ("signedUrl", "{signed}"),
    ("fileSize", "it.file_size"),
    ("mimeType", "it.mime_type"),
    ("duration", "it.duration"),
    ("fps", "it.fps"),
    ("height", "it.height"),
    ("width", "it.width"),
    ("dicomInstanceUid", "it.dicom_instance_uid"),
    ("dicomStudyUid", "it.dicom_study_uid"),
    ("dicomSeriesUid", "it.dicom_series_uid"),
    ("frameCount", "it.frame_count"),
    ("audioSampleRate", "it.audio_sample_rate"),
    ("audioBitDepth", "it.audio_bit_depth"),
    ("audioCodec", "it.audio_codec"),
    ("audioNumChannels", "it.audio_num_channels"),
)
_ITEM_JSON = "json_object(" + ", ".join(f"'{key}', {sql}" for key, sql in _ITEM_FIELDS) + ")"


def item_json_columns(*, sign_urls: bool = False, metadata: bool = True) -> str:
    """Select list giving ``json`` (the item's wire JSON text), ``uuid`` and the sort keys.

    ``signedUrl`` is the item's URL when signing is asked for (the sandbox has nothing to
    sign); without ``metadata`` the client metadata reads ``"{}"``.
    """
    expression = _ITEM_JSON.format(
        metadata="it.client_metadata" if metadata else "'{}'",
        signed="it.url" if sign_urls else "NULL",
    )
    return f"{expression} AS json, it.uuid AS uuid, it.name AS name, it.created_at AS created_at"


def page_text(json_texts: list[str], next_token: str | None) -> str:
    """A page whose results are already JSON text."""
    return f'{{"results":[{",".join(json_texts)}],"nextPageToken":{json.dumps(next_token)}}}'


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


def dataset_json(dataset: sqlite3.Row, role: int | None) -> dict[str, Any]:
    """DatasetWithUserRole: here the role is a string (null where the caller holds none)."""
    return {
        "datasetUuid": dataset["uuid"],
        "title": dataset["title"],
        "description": dataset["description"],
        "createdAt": dataset["created_at"],
        "lastEditedAt": dataset["last_edited_at"],
        "userRole": None if role is None else "admin" if role == 0 else "user",
        "storageLocation": dataset["storage_location"],
        "backingFolderUuid": dataset["backing_folder_uuid"],
    }


def _case(column: str, mapping: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN '{key}' THEN {value}" for key, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


_DATA_TYPE_SQL = _case(
    "it.item_type", {t.value: f"'{v}'" for t, v in V1_DATA_TYPE.items()}, "'GROUP'"
)
_LOCATION_SQL = _case("it.storage_location", {k: str(v) for k, v in LEGACY_LOCATION.items()}, "0")

# A v1 data row (snake_case) joined with its item, as SQLite expressions over ``data_rows d``
# and ``items it`` (see ``store.datasets.data_rows``), in the SDK's ``DataRow`` key order.
_DATA_ROW_FIELDS = (
    ("data_hash", "d.data_hash"),
    ("data_title", "it.name"),
    ("data_type", _DATA_TYPE_SQL),
    ("created_at", "d.created_at"),
    ("last_edited_at", "d.last_edited_at"),
    ("width", "it.width"),
    ("height", "it.height"),
    ("file_link", "coalesce(it.url, 'sandbox://items/' || it.uuid)"),
    ("file_size", "it.file_size"),
    ("file_type", "it.mime_type"),
    ("storage_location", _LOCATION_SQL),
    ("frames_per_second", "it.fps"),
    ("duration", "it.duration"),
    ("client_metadata", "{metadata}"),
    ("signed_url", "NULL"),
    ("is_optimised_image_group", "NULL"),
    ("backing_item_uuid", "it.uuid"),
    ("images_data", "NULL"),
)
_DATA_ROW_JSON = "json_object(" + ", ".join(f"'{k}', {v}" for k, v in _DATA_ROW_FIELDS) + ")"


def data_row_json_column(*, client_metadata: bool) -> str:
    """The select expression giving a data row's v1 JSON text (metadata as an object or null)."""
    return _DATA_ROW_JSON.format(metadata="json(it.client_metadata)" if client_metadata else "NULL")


def json_array_text(json_texts: list[str]) -> str:
    return f"[{','.join(json_texts)}]"
