"""Cloud integrations and cloud-synced folders through the official SDK.

The sandbox's integrations map a remote URL onto a local directory (``s3://bucket/prefix/`` onto
``ROOT/bucket/prefix/``); tests change files there and sync again, then read the storage state
back through the SDK.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from encord.exceptions import InvalidArgumentsError, ResourceNotFoundError
from encord.orm.storage import (
    CloudSyncedFolderParams,
    StorageFolderType,
    StorageItemType,
    StorageLocationName,
    SyncPrivateDataWithCloudSyncedFolderGetResultResponse,
    SyncPrivateDataWithCloudSyncedFolderStatus,
)
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import (
    JPEG_BYTES,
    MP4_BYTES,
    IntegrationSpec,
    Sandbox,
    png_bytes,
    prepared_sandbox,
    sync,
    synced_folder,
    unique,
    write_files,
)

pytestmark = pytest.mark.sdk

S3 = IntegrationSpec("cloud-s3-main", "s3")
GCP = IntegrationSpec("cloud-gcp-other", "gcp")
AZURE = IntegrationSpec("cloud-azure-third", "azure")
DONE = SyncPrivateDataWithCloudSyncedFolderStatus.DONE

NESTED_FILES = {
    "top.png": png_bytes(3, 2),
    "notes.txt": b"some notes\n",
    "sub/inner.jpg": JPEG_BYTES,
    "sub/deeper/clip.mp4": MP4_BYTES,
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir = tmp_path_factory.mktemp("sdk-cloud")
    with prepared_sandbox(workdir, integrations=[S3, GCP, AZURE]) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


@pytest.fixture(scope="module")
def integrations(uc: EncordUserClient) -> dict[str, UUID]:
    return {i.title: UUID(i.id) for i in uc.get_cloud_integrations()}


def all_items(folder: StorageFolder) -> dict[str, StorageItem]:
    """Every live item under ``folder`` at any depth, keyed by its URL."""
    found = list(folder.find_items(search="."))  # every test file name has an extension
    assert len({item.uuid for item in found}) == len(found)
    return {str(item.url): item for item in found}


def assert_clean(result: SyncPrivateDataWithCloudSyncedFolderGetResultResponse) -> None:
    assert result.status == DONE
    assert result.scan_pages_processing_pending == result.scan_pages_processing_error == 0
    assert result.scan_pages_processing_cancelled == 0
    assert result.scan_pages_processing_done >= 1
    assert result.upload_jobs_pending == result.upload_jobs_error == 0
    assert result.upload_jobs_units_pending == result.upload_jobs_units_error == 0
    assert result.upload_jobs_units_cancelled == 0


# --- integrations -------------------------------------------------------------------------------


def test_list_integrations_with_filters(
    uc: EncordUserClient, integrations: dict[str, UUID]
) -> None:
    assert sorted(integrations) == sorted([S3.title, GCP.title, AZURE.title])
    assert len(set(integrations.values())) == 3

    by_title = uc.get_cloud_integrations(filter_integration_titles=[S3.title, "no-such-title"])
    assert [(i.title, UUID(i.id)) for i in by_title] == [(S3.title, integrations[S3.title])]
    by_uuid = uc.get_cloud_integrations(filter_integration_uuids=[integrations[GCP.title], uuid4()])
    assert [i.title for i in by_uuid] == [GCP.title]
    by_str_uuid = uc.get_cloud_integrations(
        filter_integration_uuids=[str(integrations[AZURE.title])]
    )
    assert [i.title for i in by_str_uuid] == [AZURE.title]
    both = uc.get_cloud_integrations(
        filter_integration_uuids=[integrations[GCP.title]], filter_integration_titles=[S3.title]
    )
    assert both == []  # both filters must match
    org = uc.get_cloud_integrations(include_org_access=True)
    assert sorted(i.title for i in org) == sorted(integrations)


# --- cloud-synced folders -------------------------------------------------------------------------


def test_create_cloud_synced_folder_reads_back(
    uc: EncordUserClient, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://create-only/{unique('prefix')}/"
    params = CloudSyncedFolderParams(integration_uuid=integrations[S3.title], remote_url=remote_url)
    created = uc.create_storage_folder(
        unique("cloud"), description="synced", cloud_synced_folder_params=params
    )

    for folder in (created, uc.get_storage_folder(created.uuid)):
        assert folder.folder_type == StorageFolderType.CLOUD_LINKED
        assert folder.is_cloud_synced
        assert folder.integration_hash == integrations[S3.title]
        assert folder.remote_url == remote_url
        assert folder.description == "synced"
        assert folder.parent_uuid is None
    assert list(created.list_items()) == []  # nothing until a sync runs


def test_sync_creates_items_for_every_file_under_the_prefix(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://bucket-a/{unique('nested')}/"
    folder, bucket = synced_folder(uc, sandbox, S3.title, remote_url, NESTED_FILES)
    # A sibling prefix in the same bucket must not leak into this folder.
    write_files(bucket.parent / (bucket.name + "-sibling"), {"stray.png": png_bytes()})

    result = sync(folder)

    assert_clean(result)
    assert result.upload_jobs_units_done == len(NESTED_FILES)
    items = all_items(folder)
    assert sorted(items) == sorted(remote_url + path for path in NESTED_FILES)
    inside = {folder.uuid} | {sub.uuid for sub in folder.find_subfolders()}
    kinds = {
        "top.png": (StorageItemType.IMAGE, "image/png"),
        "notes.txt": (StorageItemType.PLAIN_TEXT, "text/plain"),
        "sub/inner.jpg": (StorageItemType.IMAGE, "image/jpeg"),
        "sub/deeper/clip.mp4": (StorageItemType.VIDEO, "video/mp4"),
    }
    for path, data in NESTED_FILES.items():
        item = items[remote_url + path]
        assert item.name == path.rsplit("/", 1)[-1]
        assert (item.item_type, item.mime_type) == kinds[path]
        assert item.file_size == len(data)
        assert item.storage_location == StorageLocationName.S3
        assert item.integration_hash == integrations[S3.title]
        assert item.parent_folder_uuid in inside


def test_resync_tombstones_restores_and_updates(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://bucket-b/{unique('life')}/"
    files = {"keep.png": png_bytes(), "gone.txt": b"soon gone\n", "grow.jpg": JPEG_BYTES}
    folder, bucket = synced_folder(uc, sandbox, S3.title, remote_url, files)
    assert_clean(sync(folder))
    first = {item.name: item.uuid for item in folder.list_items()}
    assert sorted(first) == sorted(files)

    (bucket / "gone.txt").unlink()
    assert_clean(sync(folder))
    gone = uc.get_storage_item(first["gone.txt"])
    assert gone._orm_item.is_tombstone is True
    assert uc.get_storage_item(first["keep.png"])._orm_item.is_tombstone is False
    summary = folder.get_summary()
    assert summary.tombstones == 1

    (bucket / "gone.txt").write_bytes(b"back again\n")
    (bucket / "grow.jpg").write_bytes(JPEG_BYTES + b"\x00" * 100)
    write_files(bucket, {"new.mp4": MP4_BYTES})
    assert_clean(sync(folder))

    restored = uc.get_storage_item(first["gone.txt"])
    assert restored._orm_item.is_tombstone is False
    assert restored.file_size == len(b"back again\n")
    assert uc.get_storage_item(first["grow.jpg"]).file_size == len(JPEG_BYTES) + 100
    after = {item.name: item.uuid for item in folder.list_items()}
    assert sorted(after) == ["gone.txt", "grow.jpg", "keep.png", "new.mp4"]
    assert {name: after[name] for name in first} == first  # same items, not re-created
    assert folder.get_summary().tombstones == 0


def test_changed_image_content_updates_dimensions(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://bucket-f/{unique('dims')}/"
    folder, bucket = synced_folder(uc, sandbox, S3.title, remote_url, {"pic.png": png_bytes(3, 2)})
    assert_clean(sync(folder))
    (item,) = folder.list_items()
    assert (item.width, item.height, item.file_size) == (3, 2, len(png_bytes(3, 2)))

    (bucket / "pic.png").write_bytes(png_bytes(5, 7))
    assert_clean(sync(folder))

    fetched = uc.get_storage_item(item.uuid)
    assert (fetched.width, fetched.height, fetched.file_size) == (5, 7, len(png_bytes(5, 7)))
    assert fetched.last_edited_at >= item.last_edited_at


def test_sync_without_changes_keeps_everything(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://bucket-c/{unique('steady')}/"
    folder, _ = synced_folder(uc, sandbox, S3.title, remote_url, {"one.png": png_bytes()})
    assert_clean(sync(folder))
    (before,) = folder.list_items()
    before.update(client_metadata={"note": "set by a person"})

    assert_clean(sync(folder))

    (after,) = folder.list_items()
    assert after.uuid == before.uuid
    assert after.client_metadata == {"note": "set by a person"}  # a sync keeps metadata


def test_gcp_integration_sync(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"gs://gcp-bucket/{unique('g')}/"
    folder, _ = synced_folder(uc, sandbox, GCP.title, remote_url, {"pic.png": png_bytes()})

    assert_clean(sync(folder))

    (item,) = folder.list_items()
    assert (item.name, item.url) == ("pic.png", remote_url + "pic.png")
    assert item.storage_location == StorageLocationName.GCP
    assert item.integration_hash == integrations[GCP.title]


def test_sync_of_generic_folder_is_invalid(uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("not-synced"))
    with pytest.raises(InvalidArgumentsError):
        folder.sync_private_data_with_cloud_synced_folder_start()


def test_poll_of_unknown_job_fails(uc: EncordUserClient, integrations: dict[str, UUID]) -> None:
    params = CloudSyncedFolderParams(
        integration_uuid=integrations[S3.title], remote_url=f"s3://nojob/{unique('p')}/"
    )
    folder = uc.create_storage_folder(unique("nojob"), cloud_synced_folder_params=params)
    # The SDK documents InvalidArgumentsError; a 404 is the other reasonable answer.
    with pytest.raises((InvalidArgumentsError, ResourceNotFoundError)):
        folder.sync_private_data_with_cloud_synced_folder_get_result(uuid4(), timeout_seconds=5)


def test_create_with_unknown_integration_fails(uc: EncordUserClient) -> None:
    tag = unique("badint")
    params = CloudSyncedFolderParams(integration_uuid=uuid4(), remote_url="s3://x/y/")
    with pytest.raises((InvalidArgumentsError, ResourceNotFoundError)):
        uc.create_storage_folder(tag, cloud_synced_folder_params=params)
    assert list(uc.list_storage_folders(search=tag)) == []


def test_emptied_prefix_tombstones_every_item(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    remote_url = f"s3://bucket-d/{unique('empty')}/"
    files = {"a.png": png_bytes(), "sub/b.txt": b"b\n"}
    folder, bucket = synced_folder(uc, sandbox, S3.title, remote_url, files)
    assert_clean(sync(folder))
    uuids = sorted(item.uuid for item in all_items(folder).values())

    (bucket / "a.png").unlink()
    (bucket / "sub" / "b.txt").unlink()
    assert_clean(sync(folder))

    assert [uc.get_storage_item(u)._orm_item.is_tombstone for u in uuids] == [True, True]


def test_removed_prefix_directory_is_an_empty_prefix(
    uc: EncordUserClient, sandbox: Sandbox, integrations: dict[str, UUID]
) -> None:
    """Object stores have no directories: once the last object under a prefix is gone the
    prefix lists empty, so a sync succeeds and tombstones everything. Here the bucket
    (``ROOT/bucket-e``) still exists; only the prefix's directory was removed."""
    remote_url = f"s3://bucket-e/{unique('wipe')}/"
    files = {"a.png": png_bytes(), "b.txt": b"b\n"}
    folder, bucket = synced_folder(uc, sandbox, S3.title, remote_url, files)
    assert_clean(sync(folder))
    uuids = [item.uuid for item in folder.list_items()]

    shutil.rmtree(bucket)
    assert bucket.parent.is_dir()
    assert_clean(sync(folder))

    assert [uc.get_storage_item(u)._orm_item.is_tombstone for u in uuids] == [True, True]
    assert folder.get_summary().tombstones == 2
