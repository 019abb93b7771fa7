"""Data-upload jobs and folder configs through the official SDK (issue 14).

Objects live under the integration's directory (``s3://bucket/key`` is ``ROOT/bucket/key``);
the SDK registers them into plain folders, polls, cancels, and reads the items back. Folder
configs and metadata sidecars go through ``get_folder_config`` / ``enable_metadata_ingestion``
and a cloud sync.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from encord.exceptions import InvalidArgumentsError, ResourceNotFoundError
from encord.orm.dataset import LongPollingStatus
from encord.orm.storage import (
    DataUploadImage,
    DataUploadItems,
    DataUploadText,
    DataUploadVideo,
    SidecarMatcherSuffix,
    StorageItemType,
    UploadLongPollingState,
)
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import (
    JPEG_BYTES,
    MP4_BYTES,
    IntegrationSpec,
    Sandbox,
    bucket_dir,
    png_bytes,
    prepared_sandbox,
    sync,
    synced_folder,
    unique,
    write_files,
)

from reconciler.encord import ClientOptions, EncordClient, key_auth_from_text
from reconciler.wire.uploads import FolderConfig

pytestmark = pytest.mark.sdk

S3 = IntegrationSpec("uploads-s3", "s3")
BUCKET = "s3://acme-raw/"
UNIT_MS = 5  # a 400-unit job takes 2 s: long enough to cancel, short for the rest
FILES = {
    "b7/a.png": png_bytes(4, 3),
    "b7/b.jpg": JPEG_BYTES,
    "b7/c.mp4": MP4_BYTES,
    "b7/d.txt": b"hello\n",
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir = tmp_path_factory.mktemp("sdk-uploads")
    with prepared_sandbox(
        workdir, integrations=[S3], serve_args=("--upload-unit-ms", str(UNIT_MS))
    ) as served:
        write_files(bucket_dir(served.bucket_roots[S3.title], BUCKET), FILES)
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


@pytest.fixture(scope="module")
def integration(uc: EncordUserClient) -> str:
    (found,) = uc.get_cloud_integrations(filter_integration_titles=[S3.title])
    return str(found.id)


def register(
    folder: StorageFolder, integration: str, spec: DataUploadItems | dict[str, object], **kw: bool
) -> UploadLongPollingState:
    job = folder.add_private_data_to_folder_start(integration, spec, **kw)
    return folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)


def by_url(folder: StorageFolder) -> dict[str, list[StorageItem]]:
    found: dict[str, list[StorageItem]] = {}
    for item in folder.list_items():
        found.setdefault(str(item.url), []).append(item)
    return found


def test_registers_each_type_with_type_and_mime_from_the_file(
    uc: EncordUserClient, integration: str
) -> None:
    folder = uc.create_storage_folder(unique("reg"))
    spec = DataUploadItems(
        images=[
            DataUploadImage(object_url=f"{BUCKET}b7/a.png", client_metadata={"split": "train"}),
            DataUploadImage(object_url=f"{BUCKET}b7/b.jpg", title="bee.jpg"),
        ],
        videos=[DataUploadVideo(object_url=f"{BUCKET}b7/c.mp4")],
        text=[DataUploadText(object_url=f"{BUCKET}b7/d.txt")],
    )
    result = register(folder, integration, spec)

    assert result.status == LongPollingStatus.DONE
    assert (result.units_done_count, result.units_error_count) == (4, 0)
    assert result.units_pending_count == result.units_cancelled_count == 0
    assert sorted(i.name for i in result.items_with_names) == ["a.png", "bee.jpg", "c.mp4", "d.txt"]
    items = {i.name: i for i in folder.list_items()}
    assert {i.uuid for i in items.values()} == {i.item_uuid for i in result.items_with_names}
    png = items["a.png"]
    assert png.item_type == StorageItemType.IMAGE
    assert (png.mime_type, png.width, png.height) == ("image/png", 4, 3)
    assert png.url == f"{BUCKET}b7/a.png"
    assert png.client_metadata == {"split": "train"}
    assert png.file_size == len(FILES["b7/a.png"])
    assert items["bee.jpg"].mime_type == "image/jpeg"
    assert items["c.mp4"].item_type == StorageItemType.VIDEO
    assert items["d.txt"].item_type == StorageItemType.PLAIN_TEXT


def test_a_missing_or_mistyped_object_fails_only_its_unit(
    uc: EncordUserClient, integration: str
) -> None:
    folder = uc.create_storage_folder(unique("errors"))
    spec = DataUploadItems(
        images=[
            DataUploadImage(object_url=f"{BUCKET}b7/a.png"),
            DataUploadImage(object_url=f"{BUCKET}b7/nope.jpg"),
            DataUploadImage(object_url=f"{BUCKET}b7/c.mp4"),  # a video listed as an image
            DataUploadImage(object_url="s3://other-bucket/../escape.jpg"),
        ]
    )
    ignored = register(folder, integration, spec, ignore_errors=True)
    assert ignored.status == LongPollingStatus.DONE
    assert (ignored.units_done_count, ignored.units_error_count) == (1, 3)
    failed = {url for e in ignored.unit_errors for url in e.object_urls}
    assert failed == {
        f"{BUCKET}b7/nope.jpg",
        f"{BUCKET}b7/c.mp4",
        "s3://other-bucket/../escape.jpg",
    }
    assert all(e.error and e.action_description for e in ignored.unit_errors)
    assert [i.name for i in folder.list_items()] == ["a.png"]

    strict = uc.create_storage_folder(unique("strict"))
    result = register(strict, integration, spec, ignore_errors=False)
    assert result.status == LongPollingStatus.ERROR
    assert result.errors and result.units_error_count == 3


def test_skip_duplicate_urls_and_upsert_metadata_as_documented(
    uc: EncordUserClient, integration: str
) -> None:
    folder = uc.create_storage_folder(unique("dups"))
    url = f"{BUCKET}b7/b.jpg"

    def spec(meta: dict[str, object], *, skip: bool, upsert: bool) -> DataUploadItems:
        image = DataUploadImage(object_url=url, client_metadata=meta)
        return DataUploadItems(images=[image], skip_duplicate_urls=skip, upsert_metadata=upsert)

    register(folder, integration, spec({"v": 1}, skip=False, upsert=False))
    register(folder, integration, spec({"v": 2}, skip=False, upsert=True))  # upsert needs skip
    assert sorted((i.client_metadata or {})["v"] for i in by_url(folder)[url]) == [1, 2]

    other = uc.create_storage_folder(unique("dups2"))
    first = register(other, integration, spec({"v": 1}, skip=True, upsert=False))
    (made,) = first.items_with_names
    skipped = register(other, integration, spec({"v": 9}, skip=True, upsert=False))
    assert skipped.status == LongPollingStatus.DONE and skipped.items_with_names == []
    assert skipped.units_done_count == 1
    upserted = register(other, integration, spec({"v": 3}, skip=True, upsert=True))
    assert [i.item_uuid for i in upserted.items_with_names] == [made.item_uuid]
    (only,) = by_url(other)[url]
    assert only.client_metadata == {"v": 3}


def test_the_json_upload_format_is_accepted_as_a_dict(
    uc: EncordUserClient, integration: str
) -> None:
    folder = uc.create_storage_folder(unique("json"))
    files = {
        "images": [{"objectUrl": f"{BUCKET}b7/a.png", "clientMetadata": {"k": "v"}}],
        "skip_duplicate_urls": True,
    }
    register(folder, integration, files)
    again = register(folder, integration, files)
    assert again.items_with_names == []
    (item,) = folder.list_items()
    assert item.client_metadata == {"k": "v"}


def test_cancel_stops_a_job_between_units(
    uc: EncordUserClient, sandbox: Sandbox, integration: str
) -> None:
    base = bucket_dir(sandbox.bucket_roots[S3.title], BUCKET) / "many"
    write_files(base, {f"{n:04d}.txt": b"x" for n in range(400)})
    folder = uc.create_storage_folder(unique("cancel"))
    spec = DataUploadItems(
        text=[DataUploadText(object_url=f"{BUCKET}many/{n:04d}.txt") for n in range(400)]
    )
    job = folder.add_private_data_to_folder_start(integration, spec)
    cancelled = folder.add_data_to_folder_job_cancel(job)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=30)

    assert result.status == LongPollingStatus.CANCELLED
    assert cancelled.units_cancelled_count == result.units_cancelled_count > 0
    assert result.units_done_count + result.units_cancelled_count == 400
    assert len(list(folder.list_items())) == result.units_done_count
    assert folder.add_data_to_folder_job_cancel(job).units_cancelled_count == 0


def test_bad_requests_are_refused_with_one_clear_message(
    uc: EncordUserClient, sandbox: Sandbox, integration: str
) -> None:
    folder = uc.create_storage_folder(unique("bad"))
    image = DataUploadItems(images=[DataUploadImage(object_url=f"{BUCKET}b7/a.png")])
    with pytest.raises(ResourceNotFoundError):
        folder.add_private_data_to_folder_start("00000000-0000-0000-0000-00000000abcd", image)
    with pytest.raises(ResourceNotFoundError):
        folder.add_private_data_to_folder_get_result(UUID(int=7), timeout_seconds=1)
    synced, _ = synced_folder(uc, sandbox, S3.title, f"{BUCKET}synced-x/", {})
    with pytest.raises(InvalidArgumentsError, match="cloud-synced"):
        synced.add_private_data_to_folder_start(integration, image)


def test_folder_config_round_trip_keeps_unknown_keys(
    uc: EncordUserClient, sandbox: Sandbox
) -> None:
    folder = uc.create_storage_folder(unique("config"))
    assert folder.get_folder_config().metadata_ingestion is None
    # Another client (here reconciler's) stored a setting the SDK does not model.
    asyncio.run(_set_config(sandbox, folder.uuid, {"indexSettings": {"embeddings": True}}))
    folder.enable_metadata_ingestion(SidecarMatcherSuffix(suffix=".meta.json"), paused=True)
    config = folder.get_folder_config()
    assert config.metadata_ingestion is not None
    assert config.metadata_ingestion.matcher.suffix == ".meta.json"
    assert config.metadata_ingestion.paused is True
    assert config.model_dump(by_alias=True)["indexSettings"] == {"embeddings": True}


async def _set_config(sandbox: Sandbox, folder: UUID, config: dict[str, object]) -> None:
    options = ClientOptions(
        domain=sandbox.url, auth=key_auth_from_text(sandbox.server.key_text, source="test")
    )
    async with EncordClient(options) as client:
        await client.uploads.set_config(folder, FolderConfig.model_validate(config))


def test_sidecars_attach_metadata_on_sync_and_paused_ones_do_not(
    uc: EncordUserClient, sandbox: Sandbox
) -> None:
    files = {
        "x.jpg": JPEG_BYTES,
        "x.jpg.metadata.json": json.dumps({"camera": "north"}).encode(),
        "y.jpg": JPEG_BYTES,
    }
    folder, bucket = synced_folder(uc, sandbox, S3.title, f"{BUCKET}{unique('side')}/", files)
    folder.enable_metadata_ingestion()
    sync(folder)
    items = {i.name: i for i in folder.list_items()}
    assert sorted(items) == ["x.jpg", "y.jpg"]  # the sidecar is not an item
    assert items["x.jpg"].client_metadata == {"camera": "north"}
    assert items["y.jpg"].client_metadata == {}

    items["x.jpg"].update(client_metadata={"camera": "edited"})
    sync(folder)  # the sidecar did not change: the edit stays
    assert _meta(folder, "x.jpg") == {"camera": "edited"}

    folder.enable_metadata_ingestion(paused=True)
    _rewrite(bucket / "y.jpg.metadata.json", {"camera": "south"})
    sync(folder)
    assert _meta(folder, "y.jpg") == {}
    assert sorted(i.name for i in folder.list_items()) == ["x.jpg", "y.jpg"]

    folder.enable_metadata_ingestion(paused=False)
    sync(folder)
    assert _meta(folder, "y.jpg") == {"camera": "south"}


def _meta(folder: StorageFolder, name: str) -> dict[str, object]:
    (item,) = [i for i in folder.list_items() if i.name == name]
    return dict(item.client_metadata or {})


def _rewrite(path: Path, value: dict[str, object]) -> None:
    path.write_text(json.dumps(value))
