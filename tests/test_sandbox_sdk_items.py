"""Storage items through the official SDK against ``reconciler sandbox serve``.

Items come from a cloud sync of a directory-backed s3 integration: each test writes its own
"bucket prefix", creates a cloud-synced folder on it and syncs, so tests never share items.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from encord.exceptions import AuthorisationError, InvalidArgumentsError, ResourceNotFoundError
from encord.http.bundle import Bundle
from encord.orm.storage import (
    FoldersSortBy,
    StorageItemType,
    StorageLocationName,
    SyncPrivateDataWithCloudSyncedFolderStatus,
)
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import (
    JPEG_BYTES,
    MP4_BYTES,
    IntegrationSpec,
    Sandbox,
    WireLog,
    assert_paged,
    png_bytes,
    prepared_sandbox,
    sync,
    synced_folder,
    unique,
)

pytestmark = pytest.mark.sdk

INTEGRATION = "items-bucket"
FILES = {
    "a-cat.png": png_bytes(2, 3),
    "b-dog.jpg": JPEG_BYTES,
    "c-clip.mp4": MP4_BYTES,
    "d-notes.txt": b"hello, items\n",
    "e-bird.png": png_bytes(4, 4),
}
KINDS = {
    "a-cat.png": (StorageItemType.IMAGE, "image/png"),
    "b-dog.jpg": (StorageItemType.IMAGE, "image/jpeg"),
    "c-clip.mp4": (StorageItemType.VIDEO, "video/mp4"),
    "d-notes.txt": (StorageItemType.PLAIN_TEXT, "text/plain"),
    "e-bird.png": (StorageItemType.IMAGE, "image/png"),
}
NAMES = sorted(FILES)
# ``sandbox seed``: /seeded/deep with folder-00000..00002 and 2501 items spread round-robin.
SEED_ITEMS = 2501
SEED_ARGS = ("--under", "/seeded/deep", "--folders", "3", "--items", str(SEED_ITEMS))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir = tmp_path_factory.mktemp("sdk-items")
    with prepared_sandbox(
        workdir,
        integrations=[IntegrationSpec(INTEGRATION, "s3")],
        seed_args=[SEED_ARGS],
    ) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


@pytest.fixture(scope="module")
def integration_uuid(uc: EncordUserClient) -> UUID:
    (integration,) = uc.get_cloud_integrations(filter_integration_titles=[INTEGRATION])
    return UUID(integration.id)


@dataclass
class Synced:
    folder: StorageFolder
    items: dict[str, StorageItem]  # by name
    remote_url: str

    def uuids(self, *names: str) -> list[UUID]:
        return [self.items[name].uuid for name in names]


@pytest.fixture
def synced(uc: EncordUserClient, sandbox: Sandbox) -> Synced:
    """A fresh cloud-synced folder holding one item per file in ``FILES``."""
    remote_url = f"s3://media/{unique('items')}/"
    folder, _ = synced_folder(uc, sandbox, INTEGRATION, remote_url, FILES)
    result = sync(folder)
    assert result.status == SyncPrivateDataWithCloudSyncedFolderStatus.DONE
    items = {item.name: item for item in folder.list_items()}
    assert sorted(items) == NAMES
    return Synced(folder, items, remote_url)


def names(items: Iterable[StorageItem | StorageFolder]) -> list[str]:
    return [item.name for item in items]


# --- what a sync creates, read back ---------------------------------------------------------------


def test_synced_items_carry_file_facts(
    uc: EncordUserClient, synced: Synced, integration_uuid: UUID
) -> None:
    for name, item in synced.items.items():
        fetched = uc.get_storage_item(item.uuid)
        kind, mime = KINDS[name]
        assert fetched.uuid == item.uuid
        assert fetched.name == name
        assert fetched.item_type == kind
        assert fetched.mime_type == mime
        assert fetched.file_size == len(FILES[name])
        assert fetched.parent_folder_uuid == synced.folder.uuid
        assert fetched.storage_location == StorageLocationName.S3
        assert fetched.integration_hash == integration_uuid
        assert fetched.url == synced.remote_url + name
        assert fetched.client_metadata == {}
        assert fetched.backed_data_units_count == 0
        assert fetched._orm_item.is_tombstone is False
        assert fetched._orm_item.is_placeholder is False


def test_get_unknown_item_is_not_found(uc: EncordUserClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        uc.get_storage_item(uuid4())


def test_get_storage_items_keeps_request_order(uc: EncordUserClient, synced: Synced) -> None:
    order = ["e-bird.png", "a-cat.png", "d-notes.txt", "b-dog.jpg"]
    fetched = uc.get_storage_items(synced.uuids(*order))
    assert names(fetched) == order
    as_strings = uc.get_storage_items([str(u) for u in reversed(synced.uuids(*order))])
    assert names(as_strings) == list(reversed(order))


def test_get_storage_items_with_an_unknown_uuid_fails(uc: EncordUserClient, synced: Synced) -> None:
    # SDK docs: AuthorisationError when some items "do not exist or the user does not have access".
    with pytest.raises((AuthorisationError, ResourceNotFoundError)):
        uc.get_storage_items([synced.items["a-cat.png"].uuid, uuid4()])


# --- listing ------------------------------------------------------------------------------------


def test_list_items_pages(synced: Synced, caplog: pytest.LogCaptureFixture) -> None:
    wire = WireLog(caplog)
    listed = list(synced.folder.list_items(page_size=2))
    assert names(listed) == NAMES
    assert all(item.parent_folder_uuid == synced.folder.uuid for item in listed)
    assert_paged(wire.matching("GET", f"/{synced.folder.uuid}/items"), total=5, page_size=2)


def test_list_items_filters_and_order(synced: Synced) -> None:
    folder = synced.folder
    images = names(folder.list_items(item_types=[StorageItemType.IMAGE]))
    assert images == ["a-cat.png", "b-dog.jpg", "e-bird.png"]
    mixed = names(folder.list_items(item_types=[StorageItemType.VIDEO, StorageItemType.PLAIN_TEXT]))
    assert mixed == ["c-clip.mp4", "d-notes.txt"]
    assert names(folder.list_items(search="dog")) == ["b-dog.jpg"]
    assert names(folder.list_items(desc=True)) == list(reversed(NAMES))
    assert sorted(names(folder.list_items(order=FoldersSortBy.CREATED_AT))) == NAMES
    assert names(folder.list_items(search="no-such-name")) == []


def test_find_items_is_recursive(uc: EncordUserClient, synced: Synced) -> None:
    root = uc.create_storage_folder(unique("find-root"))
    sub = root.create_subfolder("sub")
    subsub = sub.create_subfolder("subsub")
    synced.folder.move_items_to_folder(root, synced.uuids("a-cat.png", "d-notes.txt"))
    synced.folder.move_items_to_folder(sub, synced.uuids("b-dog.jpg"))
    synced.folder.move_items_to_folder(subsub, synced.uuids("e-bird.png", "c-clip.mp4"))

    assert names(root.list_items()) == ["a-cat.png", "d-notes.txt"]  # not recursive
    images = list(root.find_items(item_types=[StorageItemType.IMAGE]))
    assert names(images) == ["a-cat.png", "b-dog.jpg", "e-bird.png"]
    parents = {item.name: item.parent_folder_uuid for item in images}
    assert parents == {"a-cat.png": root.uuid, "b-dog.jpg": sub.uuid, "e-bird.png": subsub.uuid}
    assert names(root.find_items(search="clip")) == ["c-clip.mp4"]
    assert names(sub.find_items(search="-")) == ["b-dog.jpg", "c-clip.mp4", "e-bird.png"]
    assert names(root.find_items(search="-", page_size=2)) == NAMES
    # Every type the SDK knows, sent as repeated itemTypes keys, must be accepted.
    assert names(root.find_items(item_types=list(StorageItemType))) == NAMES


# --- updates ------------------------------------------------------------------------------------


def test_item_update_name_and_metadata(uc: EncordUserClient, synced: Synced) -> None:
    item = synced.items["a-cat.png"]
    item.update(name="cat-renamed.png", client_metadata={"x": 1, "tags": ["a", "b"]})
    assert (item.name, item.client_metadata) == ("cat-renamed.png", {"x": 1, "tags": ["a", "b"]})
    fetched = uc.get_storage_item(item.uuid)
    assert (fetched.name, fetched.client_metadata) == (
        "cat-renamed.png",
        {"x": 1, "tags": ["a", "b"]},
    )
    assert fetched.file_size == len(FILES["a-cat.png"])  # file facts untouched

    item.update(client_metadata={"y": None})  # the patch carries the whole mapping
    fetched = uc.get_storage_item(item.uuid)
    assert (fetched.name, fetched.client_metadata) == ("cat-renamed.png", {"y": None})


def test_bundle_item_updates(
    uc: EncordUserClient, synced: Synced, caplog: pytest.LogCaptureFixture
) -> None:
    wire = WireLog(caplog)
    with Bundle() as bundle:
        synced.items["a-cat.png"].update(name="bulk-cat.png", bundle=bundle)
        synced.items["b-dog.jpg"].update(client_metadata={"score": 0.5}, bundle=bundle)
        synced.items["c-clip.mp4"].update(
            name="bulk-clip.mp4", client_metadata={"k": "v"}, bundle=bundle
        )
    assert len(wire.matching("PATCH", "/storage/items/patch-bulk")) == 1

    fetched = uc.get_storage_items(synced.uuids("a-cat.png", "b-dog.jpg", "c-clip.mp4"))
    assert [(i.name, i.client_metadata) for i in fetched] == [
        ("bulk-cat.png", {}),
        ("b-dog.jpg", {"score": 0.5}),
        ("bulk-clip.mp4", {"k": "v"}),
    ]
    assert synced.items["c-clip.mp4"].name == "bulk-clip.mp4"  # mapped back by uuid


def test_bundle_item_updates_split_by_bundle_size(
    uc: EncordUserClient, synced: Synced, caplog: pytest.LogCaptureFixture
) -> None:
    wire = WireLog(caplog)
    with Bundle(bundle_size=2) as bundle:
        for n, name in enumerate(NAMES):
            synced.items[name].update(client_metadata={"n": n}, bundle=bundle)
    assert len(wire.matching("PATCH", "/storage/items/patch-bulk")) == 3  # 2 + 2 + 1

    fetched = uc.get_storage_items(synced.uuids(*NAMES))
    assert [i.client_metadata for i in fetched] == [{"n": n} for n in range(5)]


# --- moves and deletes ----------------------------------------------------------------------------


def test_move_items_to_folder(uc: EncordUserClient, synced: Synced) -> None:
    target = uc.create_storage_folder(unique("item-target"))
    cat, dog = synced.items["a-cat.png"], synced.items["b-dog.jpg"]

    synced.folder.move_items_to_folder(target, [cat, dog.uuid])

    assert names(target.list_items()) == ["a-cat.png", "b-dog.jpg"]
    assert names(synced.folder.list_items()) == ["c-clip.mp4", "d-notes.txt", "e-bird.png"]
    moved = uc.get_storage_items([cat.uuid, dog.uuid])
    assert [i.parent_folder_uuid for i in moved] == [target.uuid, target.uuid]
    assert [i.file_size for i in moved] == [len(FILES["a-cat.png"]), len(JPEG_BYTES)]


def test_item_move_to_folder_refetches(uc: EncordUserClient, synced: Synced) -> None:
    target = uc.create_storage_folder(unique("item-move"))
    item = synced.items["d-notes.txt"]

    item.move_to_folder(target)

    assert item.parent_folder_uuid == target.uuid
    assert uc.get_storage_item(item.uuid).parent_folder_uuid == target.uuid
    assert names(target.list_items()) == ["d-notes.txt"]
    item.move_to_folder(synced.folder.uuid)
    assert names(synced.folder.list_items()) == NAMES


def test_delete_storage_items(uc: EncordUserClient, synced: Synced) -> None:
    doomed = synced.uuids("a-cat.png", "c-clip.mp4")
    synced.folder.delete_storage_items(doomed, remove_unused_frames=False)
    synced.items["e-bird.png"].delete()

    for uuid in [*doomed, synced.items["e-bird.png"].uuid]:
        with pytest.raises(ResourceNotFoundError):
            uc.get_storage_item(uuid)
    assert names(synced.folder.list_items()) == ["b-dog.jpg", "d-notes.txt"]
    assert synced.folder.get_summary().files == 2


def test_move_and_delete_need_direct_children(uc: EncordUserClient, synced: Synced) -> None:
    # "All the items should be immediate children of the current folder" (SDK docs).
    other = uc.create_storage_folder(unique("not-the-parent"))
    cat = synced.items["a-cat.png"].uuid

    with pytest.raises(InvalidArgumentsError):
        other.delete_storage_items([cat])
    with pytest.raises(InvalidArgumentsError):
        other.move_items_to_folder(other, [cat])

    assert uc.get_storage_item(cat).parent_folder_uuid == synced.folder.uuid
    assert names(synced.folder.list_items()) == NAMES


# --- summary ----------------------------------------------------------------------------------


def test_folder_summary_counts_items(synced: Synced) -> None:
    summary = synced.folder.get_summary()
    assert summary.files == 5
    assert summary.images == 3
    assert summary.videos == 1
    assert summary.plain_texts == 1
    assert summary.folders == 0
    assert summary.tombstones == 0
    assert summary.image_groups == summary.dicom_files == summary.audios == summary.pdfs == 0
    assert summary.total_size == sum(len(data) for data in FILES.values())


# --- URLs, metadata delivery, explicit resets ---------------------------------------------------


def test_signed_urls_on_request(uc: EncordUserClient, synced: Synced) -> None:
    uuid = synced.items["a-cat.png"].uuid
    assert uc.get_storage_item(uuid)._orm_item.signed_url is None  # signUrl=False
    signed = uc.get_storage_item(uuid, sign_url=True)._orm_item.signed_url
    assert isinstance(signed, str) and signed
    assert uc.get_storage_item(uuid).get_signed_url()  # refetches with signUrl=True
    listed = list(synced.folder.list_items(get_signed_urls=True))
    assert all(isinstance(i._orm_item.signed_url, str) and i._orm_item.signed_url for i in listed)
    (bulk,) = uc.get_storage_items([uuid], sign_url=True)
    assert bulk._orm_item.signed_url


def test_metadata_delivery_options(synced: Synced) -> None:
    synced.items["b-dog.jpg"].update(client_metadata={"breed": "collie", "n": [1, 2]})
    folder = synced.folder

    resolved = {
        i.name: i.client_metadata for i in folder.list_items(resolve_client_metadata_locally=True)
    }
    assert resolved["b-dog.jpg"] == {"breed": "collie", "n": [1, 2]}
    assert resolved["a-cat.png"] == {}
    without = list(folder.list_items(include_client_metadata=False))
    assert names(without) == NAMES  # metadata may be left out, the items may not


def test_explicit_null_reset_is_accepted(uc: EncordUserClient, synced: Synced) -> None:
    item = synced.items["c-clip.mp4"]
    item.update(client_metadata={"kept": True})
    item.update(timeseries_settings=None)  # sends {"timeseriesSettings": null}: "restore defaults"
    fetched = uc.get_storage_item(item.uuid)
    assert (fetched.name, fetched.client_metadata) == ("c-clip.mp4", {"kept": True})


# --- many items from ``sandbox seed`` ---------------------------------------------------------------


def test_seeded_items_page_through_every_item(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    (seeded,) = uc.list_storage_folders(search="seeded")
    (deep,) = seeded.list_subfolders()
    assert deep.name == "deep"
    leaves = list(deep.list_subfolders())
    assert names(leaves) == ["folder-00000", "folder-00001", "folder-00002"]

    wire = WireLog(caplog)
    first = list(leaves[0].list_items(page_size=300))
    assert len(first) == 834  # 2501 round-robin over three folders: 834, 834, 833
    assert len({i.uuid for i in first}) == 834
    assert names(first) == sorted(names(first))
    assert_paged(wire.matching("GET", f"/{leaves[0].uuid}/items"), total=834, page_size=300)

    wire.mark()
    everything = list(deep.find_items(item_types=[StorageItemType.IMAGE], page_size=1000))
    assert len({i.uuid for i in everything}) == SEED_ITEMS
    assert sorted(i.name for i in everything) == [f"item-{n:07d}.jpg" for n in range(SEED_ITEMS)]
    assert {i.parent_folder_uuid for i in everything} == {f.uuid for f in leaves}
    assert_paged(wire.matching("GET", f"/{deep.uuid}/items"), total=SEED_ITEMS, page_size=1000)

    fetched = uc.get_storage_items([i.uuid for i in everything[:1000]])
    assert [i.uuid for i in fetched] == [i.uuid for i in everything[:1000]]
