"""Datasets through the official SDK: v2 create/list and groups, v1 get/link/rows/unlink/users."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from encord.constants.enums import DataType
from encord.dataset import Dataset
from encord.exceptions import (
    AuthorisationError,
    InvalidArgumentsError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from encord.orm.dataset import (
    DataLinkDuplicatesBehavior,
    DataRow,
    DatasetAccessSettings,
    DatasetUserRole,
    StorageLocation,
)
from encord.orm.storage import SyncPrivateDataWithCloudSyncedFolderStatus
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import (
    MP4_BYTES,
    IntegrationSpec,
    Sandbox,
    UserSpec,
    png_bytes,
    prepared_sandbox,
    sync,
    synced_folder,
    unique,
)

pytestmark = pytest.mark.sdk

ADMIN = "admin@example.com"
MEMBERS = ("ds.one@example.com", "ds.two@example.com", "ds.three@example.com")
INTEGRATION = "datasets-bucket"
FILES = {
    "img-0.png": png_bytes(2, 2),
    "img-1.png": png_bytes(3, 3),
    "img-2.png": png_bytes(4, 4),
    "clip.mp4": MP4_BYTES,
    "readme.txt": b"read me\n",
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with prepared_sandbox(
        tmp_path_factory.mktemp("sdk-datasets"),
        users=[UserSpec(email) for email in MEMBERS],
        integrations=[IntegrationSpec(INTEGRATION, "s3")],
    ) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


@dataclass
class Fixture:
    folder: StorageFolder
    items: dict[str, StorageItem]
    dataset: Dataset

    def uuids(self, *names: str) -> list[UUID]:
        return [self.items[name].uuid for name in names]


@pytest.fixture
def linked(uc: EncordUserClient, sandbox: Sandbox) -> Fixture:
    """A fresh synced folder (one item per file) and a fresh empty dataset."""
    folder, _ = synced_folder(uc, sandbox, INTEGRATION, f"s3://ds/{unique('p')}/", FILES)
    assert sync(folder).status == SyncPrivateDataWithCloudSyncedFolderStatus.DONE
    items = {item.name: item for item in folder.list_items()}
    assert sorted(items) == sorted(FILES)
    created = uc.create_dataset(
        unique("ds"), StorageLocation.CORD_STORAGE, "for links", create_backing_folder=False
    )
    return Fixture(folder, items, uc.get_dataset(created.dataset_hash))


def backing(rows: list[DataRow]) -> list[UUID]:
    return sorted(row.backing_item_uuid for row in rows)


def listed_dataset(uc: EncordUserClient, title: str) -> dict[str, Any]:
    (entry,) = uc.get_datasets(title_eq=title)
    return entry


# --- create, list, get ----------------------------------------------------------------------------


def test_create_dataset_without_backing_folder(uc: EncordUserClient) -> None:
    title = unique("plain-ds")
    created = uc.create_dataset(
        title, StorageLocation.CORD_STORAGE, "first dataset", create_backing_folder=False
    )
    assert created.backing_folder_uuid is None

    entry = listed_dataset(uc, title)
    info = entry["dataset"]
    assert (info.dataset_hash, info.title, info.description) == (
        created.dataset_hash,
        title,
        "first dataset",
    )
    assert info.backing_folder_uuid is None
    assert entry["user_role"] == DatasetUserRole.ADMIN
    assert info.created_at <= info.last_edited_at

    dataset = uc.get_dataset(created.dataset_hash)
    assert (dataset.dataset_hash, dataset.title, dataset.description) == (
        created.dataset_hash,
        title,
        "first dataset",
    )
    assert dataset.backing_folder_uuid is None
    assert dataset.data_rows == []
    assert dataset.storage_location in set(StorageLocation)  # a legacy type string the SDK knows
    assert uc.get_dataset(created.dataset_hash, include_data_rows=False).title == title


def test_create_mirror_dataset_has_backing_folder(uc: EncordUserClient) -> None:
    title = unique("mirror-ds")
    created = uc.create_dataset(
        title, StorageLocation.AWS
    )  # create_backing_folder defaults to True
    assert created.backing_folder_uuid is not None

    folder = uc.get_storage_folder(created.backing_folder_uuid)
    assert folder._orm_folder.synced_dataset_hash == UUID(created.dataset_hash)
    assert listed_dataset(uc, title)["dataset"].backing_folder_uuid == created.backing_folder_uuid
    assert uc.get_dataset(created.dataset_hash).backing_folder_uuid == created.backing_folder_uuid
    synced = {f.uuid for f in uc.find_storage_folders(search=folder.name, dataset_synced=True)}
    unsynced = {f.uuid for f in uc.find_storage_folders(search=folder.name, dataset_synced=False)}
    assert folder.uuid in synced and folder.uuid not in unsynced


def test_get_datasets_filters(uc: EncordUserClient) -> None:
    tag = unique("flt")
    first = uc.create_dataset(f"{tag}-alpha", StorageLocation.CORD_STORAGE, "the first one", False)
    second = uc.create_dataset(f"{tag}-beta", StorageLocation.CORD_STORAGE, "another", False)
    now = datetime.now(UTC)

    def hashes(**filters: Any) -> set[str]:
        return {entry["dataset"].dataset_hash for entry in uc.get_datasets(**filters)}

    both = {first.dataset_hash, second.dataset_hash}
    assert hashes(title_like=f"%{tag}%") == both
    assert hashes(title_eq=f"{tag}-beta") == {second.dataset_hash}
    assert hashes(title_like=f"{tag}-a%") == {first.dataset_hash}
    assert hashes(desc_eq="the first one") & both == {first.dataset_hash}
    assert hashes(title_like=f"%{tag}%", desc_like="%first%") == {first.dataset_hash}
    assert hashes(title_like=f"%{tag}%", created_after=now - timedelta(hours=1)) == both
    assert hashes(title_like=f"%{tag}%", created_before=now - timedelta(hours=1)) == set()
    assert hashes(title_like=f"%{tag}%", edited_before="2000-01-01 00:00:00") == set()
    assert hashes(title_like=f"%{tag}%", edited_after="2000-01-01 00:00:00") == both
    assert hashes(title_like=f"%{tag}%", include_org_access=True) == both


def test_get_unknown_dataset_is_not_found(uc: EncordUserClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        uc.get_dataset(str(uuid4()))


# --- links and data rows --------------------------------------------------------------------------


def test_link_items_creates_rows_backed_by_items(uc: EncordUserClient, linked: Fixture) -> None:
    names = ["img-0.png", "clip.mp4", "readme.txt"]
    rows = linked.dataset.link_items(linked.uuids(*names))

    assert backing(rows) == sorted(linked.uuids(*names))
    listed = linked.dataset.list_data_rows()
    assert backing(listed) == sorted(linked.uuids(*names))
    assert len({row.uid for row in listed}) == 3
    by_item = {row.backing_item_uuid: row for row in listed}
    expected = {
        "img-0.png": (DataType.IMAGE, "image/png"),
        "clip.mp4": (DataType.VIDEO, "video/mp4"),
        "readme.txt": (DataType.PLAIN_TEXT, "text/plain"),
    }
    for name, (data_type, mime) in expected.items():
        row = by_item[linked.items[name].uuid]
        assert row.title == name
        assert row.data_type == data_type
        assert row.file_type == mime
        assert row.file_size == len(FILES[name])
        assert row.storage_location == StorageLocation.AWS
    fetched = uc.get_dataset(linked.dataset.dataset_hash)
    assert sorted(row.uid for row in fetched.data_rows) == sorted(row.uid for row in listed)
    assert uc.get_storage_item(linked.items["img-0.png"].uuid).backed_data_units_count == 1


def test_link_duplicates_skip_duplicate_fail(linked: Fixture) -> None:
    dataset = linked.dataset
    dataset.link_items(linked.uuids("img-0.png", "img-1.png"))

    skipped = dataset.link_items(linked.uuids("img-0.png", "img-2.png"))  # SKIP is the default
    assert backing(skipped) == linked.uuids("img-2.png")
    assert len(dataset.list_data_rows()) == 3

    duplicated = dataset.link_items(linked.uuids("img-0.png"), DataLinkDuplicatesBehavior.DUPLICATE)
    assert backing(duplicated) == linked.uuids("img-0.png")
    rows = dataset.list_data_rows()
    assert len(rows) == 4
    assert [row.backing_item_uuid for row in rows].count(linked.items["img-0.png"].uuid) == 2

    with pytest.raises(ResourceExistsError):
        dataset.link_items(linked.uuids("img-1.png", "clip.mp4"), DataLinkDuplicatesBehavior.FAIL)
    after = dataset.list_data_rows()
    assert sorted(row.uid for row in after) == sorted(row.uid for row in rows)  # nothing linked

    fresh = dataset.link_items(linked.uuids("clip.mp4"), DataLinkDuplicatesBehavior.FAIL)
    assert backing(fresh) == linked.uuids("clip.mp4")


def test_link_unknown_item_changes_nothing(linked: Fixture) -> None:
    with pytest.raises((ResourceNotFoundError, AuthorisationError, InvalidArgumentsError)):
        linked.dataset.link_items([linked.items["img-0.png"].uuid, uuid4()])
    assert linked.dataset.list_data_rows() == []


def test_list_data_rows_filters(linked: Fixture) -> None:
    dataset = linked.dataset
    rows = dataset.link_items(linked.uuids(*sorted(FILES)))
    by_title = {row.title: row for row in rows}

    assert [r.title for r in dataset.list_data_rows(title_eq="img-1.png")] == ["img-1.png"]
    assert sorted(r.title for r in dataset.list_data_rows(title_like="img-%")) == [
        "img-0.png",
        "img-1.png",
        "img-2.png",
    ]
    videos = dataset.list_data_rows(data_types=[DataType.VIDEO, DataType.PLAIN_TEXT])
    assert sorted(r.title for r in videos) == ["clip.mp4", "readme.txt"]
    wanted = [by_title["img-2.png"].uid, by_title["clip.mp4"].uid]
    assert sorted(r.uid for r in dataset.list_data_rows(data_hashes=wanted)) == sorted(wanted)
    assert len(dataset.list_data_rows(created_after=datetime.now(UTC) - timedelta(hours=1))) == 5
    assert dataset.list_data_rows(created_before="2000-01-01") == []


def test_is_in_dataset_filter_follows_links(linked: Fixture) -> None:
    linked.dataset.link_items(linked.uuids("img-1.png", "readme.txt"))
    folder = linked.folder
    assert [i.name for i in folder.list_items(is_in_dataset=True)] == ["img-1.png", "readme.txt"]
    assert [i.name for i in folder.list_items(is_in_dataset=False)] == [
        "clip.mp4",
        "img-0.png",
        "img-2.png",
    ]


def test_delete_data_unlinks_but_keeps_the_item(uc: EncordUserClient, linked: Fixture) -> None:
    dataset = linked.dataset
    rows = {
        row.title: row
        for row in dataset.link_items(linked.uuids("img-0.png", "img-1.png", "clip.mp4"))
    }

    dataset.delete_data(rows["img-0.png"].uid)
    assert backing(dataset.list_data_rows()) == sorted(linked.uuids("img-1.png", "clip.mp4"))
    dataset.delete_data([rows["img-1.png"].uid, rows["clip.mp4"].uid])
    assert dataset.list_data_rows() == []

    for name in ("img-0.png", "img-1.png", "clip.mp4"):
        item = uc.get_storage_item(linked.items[name].uuid)
        assert item.name == name
        assert item._orm_item.is_tombstone is False
        assert item.backed_data_units_count == 0
    assert len(list(linked.folder.list_items(is_in_dataset=True))) == 0


def test_rows_carry_item_metadata_when_asked(uc: EncordUserClient, linked: Fixture) -> None:
    linked.items["img-2.png"].update(client_metadata={"split": "train", "score": 0.5})
    linked.dataset.link_items(linked.uuids("img-2.png", "readme.txt"))

    plain = uc.get_dataset(linked.dataset.dataset_hash)
    assert all(row.client_metadata is None for row in plain.data_rows)
    settings = DatasetAccessSettings(fetch_client_metadata=True)
    rich = uc.get_dataset(linked.dataset.dataset_hash, dataset_access_settings=settings)
    by_title = {row.title: row.client_metadata for row in rich.data_rows}
    assert by_title["img-2.png"] == {"split": "train", "score": 0.5}
    assert by_title["readme.txt"] in ({}, None)  # an item without metadata
    listed = {row.title: row.client_metadata for row in rich.list_data_rows()}
    assert listed["img-2.png"] == {"split": "train", "score": 0.5}


def test_item_summary_names_linking_datasets(linked: Fixture) -> None:
    (row,) = linked.dataset.link_items(linked.uuids("img-0.png"))

    summary = linked.items["img-0.png"].get_summary()

    assert summary.used_in_datasets == 1
    (info,) = summary.accessible_datasets
    assert (info.dataset_hash, info.title) == (linked.dataset.dataset_hash, linked.dataset.title)
    assert info.data_hashes == [UUID(row.uid)]
    assert info.backing_folder_uuid is None
    assert linked.items["img-1.png"].get_summary().used_in_datasets == 0


def test_mirror_dataset_follows_its_backing_folder(uc: EncordUserClient, linked: Fixture) -> None:
    """SDK docs: a backing folder and its dataset "are synced"; moving items linked to a mirror
    dataset out of it is refused unless ``allow_mirror_dataset_changes``."""
    created = uc.create_dataset(unique("mirror"), StorageLocation.CORD_STORAGE)
    assert created.backing_folder_uuid is not None
    backing_folder = uc.get_storage_folder(created.backing_folder_uuid)

    linked.folder.move_items_to_folder(backing_folder, linked.uuids("img-0.png", "clip.mp4"))
    rows = uc.get_dataset(created.dataset_hash).data_rows
    assert backing(rows) == sorted(linked.uuids("img-0.png", "clip.mp4"))

    with pytest.raises((InvalidArgumentsError, AuthorisationError)):
        backing_folder.move_items_to_folder(linked.folder, linked.uuids("img-0.png"))
    assert (
        uc.get_storage_item(linked.items["img-0.png"].uuid).parent_folder_uuid
        == backing_folder.uuid
    )

    backing_folder.move_items_to_folder(
        linked.folder, linked.uuids("img-0.png"), allow_mirror_dataset_changes=True
    )
    rows = uc.get_dataset(created.dataset_hash).data_rows
    assert backing(rows) == linked.uuids("clip.mp4")


# --- dataset users --------------------------------------------------------------------------------


def user_roles(dataset: Dataset) -> dict[str, DatasetUserRole]:
    return {user.user_email: user.user_role for user in dataset.list_users()}


def test_dataset_users(uc: EncordUserClient) -> None:
    created = uc.create_dataset(unique("users-ds"), StorageLocation.CORD_STORAGE, None, False)
    dataset = uc.get_dataset(created.dataset_hash)
    assert user_roles(dataset) == {ADMIN: DatasetUserRole.ADMIN}  # the creator administers it

    added = dataset.add_users([MEMBERS[0], MEMBERS[1]], DatasetUserRole.USER)
    assert sorted((u.user_email, u.user_role) for u in added) == [
        (MEMBERS[0], DatasetUserRole.USER),
        (MEMBERS[1], DatasetUserRole.USER),
    ]
    assert all(u.dataset_hash == created.dataset_hash for u in added)

    # Adding again keeps the role a user already has (SDK docstring); new users get the role.
    again = dataset.add_users([MEMBERS[0], MEMBERS[2]], DatasetUserRole.ADMIN)
    assert {u.user_email: u.user_role for u in again} == {
        MEMBERS[0]: DatasetUserRole.USER,
        MEMBERS[2]: DatasetUserRole.ADMIN,
    }
    assert user_roles(dataset) == {
        ADMIN: DatasetUserRole.ADMIN,
        MEMBERS[0]: DatasetUserRole.USER,
        MEMBERS[1]: DatasetUserRole.USER,
        MEMBERS[2]: DatasetUserRole.ADMIN,
    }

    dataset.remove_users([MEMBERS[1], "nobody@example.com"])
    assert set(user_roles(uc.get_dataset(created.dataset_hash))) == {ADMIN, MEMBERS[0], MEMBERS[2]}


# --- dataset groups -------------------------------------------------------------------------------


def test_dataset_groups_with_int_roles(uc: EncordUserClient) -> None:
    created = uc.create_dataset(unique("groups-ds"), StorageLocation.CORD_STORAGE, None, False)
    dataset = uc.get_dataset(created.dataset_hash)
    readers = uc.create_group(unique("readers"), "can read")
    owners = uc.create_group(unique("owners"))
    helpers = uc.create_group(unique("helpers"))
    assert list(dataset.list_groups()) == []

    dataset.add_group(readers.group_hash, DatasetUserRole.USER)
    dataset.add_group([owners.group_hash, helpers.group_hash], DatasetUserRole.ADMIN)

    groups = {g.group_hash: g for g in dataset.list_groups()}
    assert {h: g.user_role for h, g in groups.items()} == {
        readers.group_hash: DatasetUserRole.USER,
        owners.group_hash: DatasetUserRole.ADMIN,
        helpers.group_hash: DatasetUserRole.ADMIN,
    }
    assert (groups[readers.group_hash].name, groups[readers.group_hash].description) == (
        readers.name,
        "can read",
    )
    assert groups[owners.group_hash].is_same_organisation is True

    dataset.remove_group(readers.group_hash)
    assert {g.group_hash for g in dataset.list_groups()} == {owners.group_hash, helpers.group_hash}
    dataset.remove_group([owners.group_hash, helpers.group_hash])
    assert list(dataset.list_groups()) == []


def test_deleting_a_group_revokes_its_dataset_grant(uc: EncordUserClient) -> None:
    created = uc.create_dataset(unique("revoke-ds"), StorageLocation.CORD_STORAGE, None, False)
    dataset = uc.get_dataset(created.dataset_hash)
    group = uc.create_group(unique("gone"))
    dataset.add_group(group.group_hash, DatasetUserRole.USER)

    uc.delete_group(group.group_hash)

    assert list(dataset.list_groups()) == []
