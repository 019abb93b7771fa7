"""Datasets on the wire: the v2 endpoints and the legacy v1 RPC envelope at ``POST /public``.

v1 is snake_case throughout and decides success by ``"status": 200`` inside the body; errors
carry a one-element list of an error code. Dataset roles are integers in group and user
payloads but strings in ``datasets/list``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from reconciler.wire.base import WireModel
from reconciler.wire.enums import DatasetUserRole, DuplicatesBehavior


class CreateDatasetPayload(WireModel):
    title: str
    description: str | None = None
    create_backing_folder: bool = True
    legacy_call: bool = False


class CreateDatasetResponse(WireModel):
    dataset_uuid: UUID
    backing_folder_uuid: UUID | None = None


class DatasetWithUserRole(WireModel):
    dataset_uuid: UUID
    title: str
    description: str
    created_at: datetime
    last_edited_at: datetime
    user_role: Literal["admin", "user"] | None
    storage_location: int | None = None
    backing_folder_uuid: UUID | None = None


class DatasetUser(WireModel):
    dataset_uuid: UUID
    user_email: str
    user_role: DatasetUserRole


# --- v1 envelope -------------------------------------------------------------------------------


class V1Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class V1Values(V1Model):
    uid: Any = None
    payload: Any = None


class V1Request(V1Model):
    query_type: str
    query_method: Literal["GET", "POST", "PUT", "DELETE"]
    values: V1Values


class V1Response(V1Model):
    status: int
    response: Any = None
    payload: Any = None


class DataRow(V1Model):
    data_hash: str
    data_title: str
    data_type: str
    created_at: str
    last_edited_at: str
    width: int | None
    height: int | None
    file_link: str | None
    file_size: int | None
    file_type: str | None
    storage_location: int
    frames_per_second: float | None
    duration: float | None
    client_metadata: dict[str, Any] | None = None
    signed_url: str | None = None
    is_optimised_image_group: bool | None = None
    backing_item_uuid: str | None = None
    images_data: list[dict[str, Any]] | None = None


class V1Dataset(V1Model):
    dataset_hash: str
    title: str
    description: str
    dataset_type: str
    backing_folder_uuid: str | None = None
    data_rows: list[DataRow] = []


class LinkItemsPayload(V1Model):
    item_uuids: list[str]
    duplicates_behavior: DuplicatesBehavior = DuplicatesBehavior.SKIP


class AddDatasetUsersPayload(V1Model):
    user_emails: list[str]
    user_role: DatasetUserRole


class DatasetUserRow(V1Model):
    user_email: str
    user_role: DatasetUserRole
    dataset_hash: str


def datarows_payload(
    *, data_hashes: list[str] | None = None, fetch_client_metadata: bool = False
) -> dict[str, Any]:
    """The ``datarows`` GET payload, with every filter key present as the SDK sends it."""
    return {
        "title_eq": None,
        "title_like": None,
        "created_before": None,
        "created_after": None,
        "data_types": None,
        "dataset_access_settings": {
            "fetch_client_metadata": fetch_client_metadata,
            "fetch_rows": True,
        },
        "data_hashes": data_hashes,
    }


def dataset_payload(*, fetch_rows: bool, fetch_client_metadata: bool = False) -> dict[str, Any]:
    return {
        "dataset_access_settings": {
            "fetch_client_metadata": fetch_client_metadata,
            "fetch_rows": fetch_rows,
        }
    }


V1_ERROR_CODES = (
    "AUTHENTICATION_ERROR",
    "AUTHORISATION_ERROR",
    "RESOURCE_NOT_FOUND_ERROR",
    "METHOD_NOT_ALLOWED_ERROR",
    "OPERATION_NOT_ALLOWED",
    "INVALID_ARGUMENTS_ERROR",
    "RESOURCE_EXISTS_ERROR",
    "RATE_LIMIT_ERROR",
    "UNKNOWN_ERROR",
)
