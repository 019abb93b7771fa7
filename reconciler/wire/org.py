"""Organisation-level objects on the wire: groups, members, users, integrations, schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from reconciler.wire.base import WireModel
from reconciler.wire.enums import DatasetUserRole, StorageUserRole


class Group(WireModel):
    group_hash: UUID
    name: str
    description: str
    created_at: datetime


class StorageFolderGroup(Group):
    is_same_organisation: bool
    user_role: StorageUserRole


class DatasetGroup(Group):
    is_same_organisation: bool
    user_role: DatasetUserRole  # an integer here: 0 admin, 1 user


class GroupUser(WireModel):
    user_email: str


class CurrentUser(WireModel):
    """``GET user/current``: who the credentials act as (the SDK's generated
    ``ApiResponseGetCurrentUser``; not called by SDK 0.1.211's public methods)."""

    user_email: str
    user_hash: str


class OrganisationUser(WireModel):
    email: str
    role_mnemonic_name: str
    role_uuid: UUID
    member_type: str
    created_at: datetime
    last_edited_at: datetime


class CloudIntegration(WireModel):
    integration_uuid: UUID
    title: str


# --- request bodies ----------------------------------------------------------------------------


class CreateGroupPayload(WireModel):
    name: str
    description: str = ""  # the SDK always sends it, "" by default


class UpdateGroupPayload(WireModel):
    name: str | None = None
    description: str | None = None


class GroupUsersPayload(WireModel):
    user_emails: list[str]


class AddStorageFolderGroupsPayload(WireModel):
    group_hash_list: list[UUID]
    user_role: StorageUserRole


class AddDatasetGroupsPayload(WireModel):
    group_hash_list: list[UUID]
    user_role: DatasetUserRole


class AddOrganisationUserPayload(WireModel):
    email: str
    role_mnemonic_name: str
    member_type: str


# The v2 metadata schema is a map of key to a snake_case descriptor discriminated by ``ty``
# (plain pydantic on the SDK side, not BaseDTO): kept as plain JSON here, validated in one place.
MetadataSchemaV2 = dict[str, dict[str, Any]]

METADATA_TYPES = (
    "number",
    "boolean",
    "geospatial",
    "text",
    "uuid",
    "user",
    "varchar",
    "datetime",
    "enum",
    "embedding",
    "variant",
    "tombstone",
)
