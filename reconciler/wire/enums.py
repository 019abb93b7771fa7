"""Enum values as they appear on the wire (``encord-api/README.md`` section 4).

The SDK validates v2 enums strictly, so an unknown or wrongly cased value fails parsing.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class StorageItemType(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    GROUP = "group"
    IMAGE_GROUP = "imageGroup"
    IMAGE_SEQUENCE = "imageSequence"
    DICOM_FILE = "dicomFile"
    DICOM_SERIES = "dicomSeries"
    AUDIO = "audio"
    TIMESERIES = "timeseries"
    NIFTI = "nifti"
    PLAIN_TEXT = "plainText"
    PDF = "pdf"
    SCENE = "scene"


class StorageUserRole(StrEnum):
    USER = "user"
    ADMIN = "admin"


class StorageLocationName(StrEnum):
    ENCORD = "encord"
    GCP = "gcp"
    S3 = "s3"
    AZURE = "azure"
    OPEN_TELEKOM = "openTelekom"
    DIRECT_ACCESS = "directAccess"
    S3_COMPATIBLE = "s3Compatible"


class FolderType(StrEnum):
    GENERIC = "generic"
    CLOUD_LINKED = "cloudLinked"
    SYNTHETIC = "synthetic"


class FoldersSortBy(StrEnum):
    NAME = "name"
    CREATED_AT = "createdAt"


class SyncStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"


class DuplicatesBehavior(StrEnum):
    """v1 ``datasetlinkitems``: upper case on the wire."""

    DUPLICATE = "DUPLICATE"
    FAIL = "FAIL"
    SKIP = "SKIP"


class DatasetUserRole(IntEnum):
    """Dataset roles in dataset-group and dataset-user payloads: integers."""

    ADMIN = 0
    USER = 1


class LegacyStorageLocation(IntEnum):
    CORD_STORAGE = 0
    AWS = 1
    GCP = 2
    AZURE = 3
    S3_COMPATIBLE = 4


LEGACY_DATASET_TYPE = {
    LegacyStorageLocation.CORD_STORAGE: "CORD_STORAGE",
    LegacyStorageLocation.AWS: "AWS_S3",
    LegacyStorageLocation.GCP: "GCP_STR",
    LegacyStorageLocation.AZURE: "AZURE_STR",
    LegacyStorageLocation.S3_COMPATIBLE: "S3_COMPATIBLE_STR",
}

# v1 data rows carry the item type upper-cased and renamed.
V1_DATA_TYPE = {
    StorageItemType.VIDEO: "VIDEO",
    StorageItemType.IMAGE: "IMAGE",
    StorageItemType.GROUP: "GROUP",
    StorageItemType.IMAGE_GROUP: "IMG_GROUP",
    StorageItemType.IMAGE_SEQUENCE: "IMG_GROUP",
    StorageItemType.DICOM_FILE: "DICOM",
    StorageItemType.DICOM_SERIES: "DICOM",
    StorageItemType.AUDIO: "AUDIO",
    StorageItemType.TIMESERIES: "TIME_SERIES",
    StorageItemType.NIFTI: "NIFTI",
    StorageItemType.PLAIN_TEXT: "PLAIN_TEXT",
    StorageItemType.PDF: "PDF",
    StorageItemType.SCENE: "SCENE",
}

# Organisation roles and member types accepted when adding a user (SDK Literals).
ORGANISATION_ROLES = ("ADMIN", "MEMBER", "TASKER", "WORKFORCE_MANAGER")
MEMBER_TYPES = ("internal", "external")
