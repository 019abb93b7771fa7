"""Registering private cloud data into folders (data-upload jobs) and folder configs on the
wire (``encord-api/more-operations.md`` sections 1 and 2, SDK 0.1.211).

Field order follows the SDK's models, so that a request dumps to the bytes the SDK sends:
``DataUploadItems`` sends every list (empty ones as ``[]``), every entry sends
``clientMetadata`` (``{}`` by default) and its ``externalFileType``; ``None`` is left out.
A folder config keeps the keys it does not model (the SDK's ``BaseDTOWithExtra``), so that a
read-modify-write never drops the server's other settings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from reconciler.wire.base import WireModel


class UploadJobStatus(StrEnum):
    """Upper case on the wire, unlike the sync job's statuses."""

    PENDING = "PENDING"
    DONE = "DONE"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"


_Meta = dict[str, Any]


class UploadImage(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    external_file_type: Literal["IMAGE"] = "IMAGE"
    image_metadata: _Meta | None = None
    placeholder_item_uuid: UUID | None = None


class UploadVideo(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    external_file_type: Literal["VIDEO"] = "VIDEO"
    video_metadata: _Meta | None = None
    placeholder_item_uuid: UUID | None = None


class UploadNifti(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    external_file_type: Literal["NIFTI"] = "NIFTI"
    placeholder_item_uuid: UUID | None = None


class GroupImage(WireModel):
    url: str
    title: str | None = None
    image_metadata: _Meta | None = None
    placeholder_item_uuid: UUID | None = None


class UploadImageGroup(WireModel):
    images: list[GroupImage]
    title: str | None = None  # required with an integration; omitted on the wire when None
    client_metadata: _Meta = Field(default_factory=dict)
    create_video: bool = False
    external_file_type: Literal["IMG_GROUP"] = "IMG_GROUP"


class DicomFile(WireModel):
    url: str
    title: str | None = None
    dicom_metadata: _Meta | None = None
    placeholder_item_uuid: UUID | None = None


class UploadDicomSeries(WireModel):
    dicom_files: list[DicomFile]
    title: str | None = None  # as an image group's
    client_metadata: _Meta = Field(default_factory=dict)
    external_file_type: Literal["DICOM"] = "DICOM"


class UploadText(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    external_file_type: Literal["PLAIN_TEXT"] = "PLAIN_TEXT"
    text_metadata: _Meta | None = None
    placeholder_item_uuid: UUID | None = None


class UploadPdf(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    pdf_metadata: _Meta | None = None  # before the file type, as in the SDK
    external_file_type: Literal["PDF"] = "PDF"
    placeholder_item_uuid: UUID | None = None


class UploadAudio(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    audio_metadata: _Meta | None = None
    external_file_type: Literal["AUDIO"] = "AUDIO"
    placeholder_item_uuid: UUID | None = None


class UploadTimeSeries(WireModel):
    object_url: str
    title: str | None = None
    client_metadata: _Meta = Field(default_factory=dict)
    settings: _Meta | None = None
    external_file_type: Literal["TIMESERIES"] = "TIMESERIES"


class DataUploadItems(WireModel):
    """What one job registers. ``skip_duplicate_urls``: skip objects whose URL an item of the
    folder already has (else a duplicate item is made); ``upsert_metadata``: then also update
    those items' metadata (no effect without ``skip_duplicate_urls``)."""

    videos: list[UploadVideo] = Field(default_factory=list)
    image_groups: list[UploadImageGroup] = Field(default_factory=list)
    dicom_series: list[UploadDicomSeries] = Field(default_factory=list)
    images: list[UploadImage] = Field(default_factory=list)
    image_groups_from_items: list[_Meta] = Field(default_factory=list)
    audio: list[UploadAudio] = Field(default_factory=list)
    time_series: list[UploadTimeSeries] = Field(default_factory=list)
    nifti: list[UploadNifti] = Field(default_factory=list)
    text: list[UploadText] = Field(default_factory=list)
    pdf: list[UploadPdf] = Field(default_factory=list)
    scenes: list[_Meta] = Field(default_factory=list)
    skip_duplicate_urls: bool = False
    upsert_metadata: bool = False


class PostUploadJobParams(WireModel):
    data_items: DataUploadItems | None = None
    external_files: _Meta | None = None
    integration_hash: UUID | None = None
    ignore_errors: bool = False
    file_name: str | None = None


class ItemWithName(WireModel):
    item_uuid: UUID
    name: str


class UnitError(WireModel):
    """One unit that failed: its object URLs (one, or a group's frames) and why."""

    object_urls: list[str]
    error: str
    subtask_uuid: UUID
    action_description: str


class UploadJobResult(WireModel):
    """Long-poll answer of a data-upload job; every key but ``file_name`` is required."""

    status: UploadJobStatus
    items_with_names: list[ItemWithName]
    errors: list[str]
    units_pending_count: int
    units_done_count: int
    units_error_count: int
    units_cancelled_count: int
    unit_errors: list[UnitError]
    file_name: str | None = None


class CancelUploadJobResponse(WireModel):
    units_cancelled_count: int


class SidecarMatcher(WireModel):
    mode: Literal["suffix"] = "suffix"
    suffix: str = Field(default=".metadata.json", min_length=1, max_length=128)


class MetadataIngestion(WireModel):
    """Files matched as sidecars attach their JSON to the data file of the same path minus
    the suffix on sync; ``paused`` still claims them as sidecars but attaches nothing."""

    matcher: SidecarMatcher = Field(default_factory=SidecarMatcher)
    paused: bool = False


class FolderConfig(WireModel):
    """A folder's config; keys not modelled here are kept and sent back verbatim."""

    model_config = ConfigDict(extra="allow")

    metadata_ingestion: MetadataIngestion | None = None

    def with_ingestion(self, ingestion: MetadataIngestion) -> FolderConfig:
        """This config with ``ingestion`` set, every other key as it was."""
        return self.model_copy(update={"metadata_ingestion": ingestion})


# A row's declared type -> the DataUploadItems list it goes in, and that list's entry model.
ENTRY_LISTS: dict[str, tuple[str, type[WireModel]]] = {
    "image": ("images", UploadImage),
    "video": ("videos", UploadVideo),
    "audio": ("audio", UploadAudio),
    "text": ("text", UploadText),
    "plainText": ("text", UploadText),
    "pdf": ("pdf", UploadPdf),
    "nifti": ("nifti", UploadNifti),
    "timeseries": ("time_series", UploadTimeSeries),
}
