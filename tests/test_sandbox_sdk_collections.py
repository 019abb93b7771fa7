"""Index collections through the official SDK: create, get, list (paged), update, delete,
add and remove items with ``failedItems``, list items, and who may do it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from encord.collection import Collection
from encord.exceptions import AuthorisationError, InvalidArgumentsError
from encord.orm.storage import StorageItemType, StorageUserRole
from encord.storage import StorageFolder, StorageItem, StorageItemInaccessible
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, UserSpec, WireLog, assert_paged, prepared_sandbox, unique

pytestmark = pytest.mark.sdk

MEMBER = "curator@example.com"
OUTSIDER = "outsider@example.com"
SEED = [
    ("--under", "/curated", "--folders", "2", "--items", "12"),
    ("--under", "/elsewhere", "--items", "2"),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    users = [UserSpec(MEMBER), UserSpec(OUTSIDER)]
    with prepared_sandbox(
        tmp_path_factory.mktemp("sdk-collections"), users=users, seed_args=SEED
    ) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


def top(uc: EncordUserClient, name: str) -> StorageFolder:
    (folder,) = [f for f in uc.list_storage_folders(search=name) if f.name == name]
    return folder


def items_under(folder: StorageFolder) -> list[StorageItem]:
    found = folder.find_items(item_types=list(StorageItemType))
    return sorted(found, key=lambda item: item.name)


@pytest.fixture(scope="module")
def curated(uc: EncordUserClient) -> StorageFolder:
    return top(uc, "curated")


@pytest.fixture(scope="module")
def member(sandbox: Sandbox, uc: EncordUserClient, curated: StorageFolder) -> EncordUserClient:
    """A member with the user role on /curated (through a group)."""
    group = uc.create_group(unique("curators"))
    group.add_users([MEMBER])
    curated.add_group(group.group_hash, StorageUserRole.USER)
    return sandbox.client(MEMBER)


def member_uuids(collection: Collection) -> set[UUID]:
    return {item.uuid for item in collection.list_items()}


def test_create_reads_back_by_get_and_list(uc: EncordUserClient, curated: StorageFolder) -> None:
    name = unique("night")
    created = uc.create_collection(curated.uuid, name, "frames at night")

    assert (created.name, created.description) == (name, "frames at night")
    assert created.top_level_folder_uuid == curated.uuid
    fetched = uc.get_collection(str(created.uuid))
    assert (fetched.uuid, fetched.name, fetched.last_edited_at) == (
        created.uuid,
        name,
        created.last_edited_at,
    )
    listed = {c.uuid: c.name for c in uc.list_collections(top_level_folder_uuid=curated.uuid)}
    assert listed[created.uuid] == name
    assert uc.create_collection(curated.uuid, unique("plain")).description == ""


def test_list_pages_and_filters(
    uc: EncordUserClient, curated: StorageFolder, caplog: pytest.LogCaptureFixture
) -> None:
    other = uc.create_storage_folder(unique("other-top"))
    made = [uc.create_collection(other.uuid, f"page-{n}") for n in range(5)]
    elsewhere = uc.create_collection(curated.uuid, unique("not-in-other"))
    wire = WireLog(caplog)

    listed = list(uc.list_collections(top_level_folder_uuid=other.uuid, page_size=2))

    assert [c.name for c in listed] == [f"page-{n}" for n in range(5)]
    assert_paged(wire.matching("GET", "/index/collections"), total=5, page_size=2)
    both = uc.list_collections(
        top_level_folder_uuid=other.uuid, collection_uuids=[made[1].uuid, elsewhere.uuid]
    )
    assert [c.uuid for c in both] == [made[1].uuid]
    by_uuid = uc.list_collections(collection_uuids=[made[3].uuid, elsewhere.uuid])
    assert {c.uuid for c in by_uuid} == {made[3].uuid, elsewhere.uuid}


def test_update_and_delete(uc: EncordUserClient, curated: StorageFolder) -> None:
    collection = uc.create_collection(curated.uuid, unique("upd"), "before")
    renamed = unique("renamed")

    collection.update_collection(name=renamed)
    fetched = uc.get_collection(collection.uuid)
    assert (fetched.name, fetched.description) == (renamed, "before")
    assert fetched.last_edited_at is not None and collection.last_edited_at is not None
    assert fetched.last_edited_at > collection.last_edited_at
    fetched.update_collection(description="after")
    assert uc.get_collection(collection.uuid).description == "after"

    uc.delete_collection(collection.uuid)
    with pytest.raises(AuthorisationError):
        uc.get_collection(collection.uuid)


def test_add_and_remove_items_report_failed_items(
    uc: EncordUserClient, curated: StorageFolder, caplog: pytest.LogCaptureFixture
) -> None:
    inside = items_under(curated)
    (outside, *_) = items_under(top(uc, "elsewhere"))
    collection = uc.create_collection(curated.uuid, unique("members"))
    unknown = uuid4()

    added = collection.add_items([*(i.uuid for i in inside[:5]), outside.uuid, unknown])

    assert set(added.failed_items) == {outside.uuid, unknown}
    assert member_uuids(collection) == {i.uuid for i in inside[:5]}
    again = collection.add_items([str(inside[0].uuid), inside[5].uuid])
    assert again.failed_items == []
    assert member_uuids(collection) == {i.uuid for i in inside[:6]}

    removed = collection.remove_items([inside[0].uuid, inside[1].uuid, outside.uuid, unknown])
    assert removed.failed_items == [unknown]  # not a member: nothing to do, not a failure
    assert member_uuids(collection) == {i.uuid for i in inside[2:6]}

    wire = WireLog(caplog)
    paged = list(collection.list_items(page_size=3))
    assert {i.uuid for i in paged} == {i.uuid for i in inside[2:6]}
    assert_paged(wire.matching("GET", "/accessible-items"), total=4, page_size=3)


def test_a_deleted_member_is_inaccessible(
    sandbox: Sandbox, uc: EncordUserClient, curated: StorageFolder
) -> None:
    inside = items_under(curated)
    collection = uc.create_collection(curated.uuid, unique("tomb"))
    collection.add_items([inside[6].uuid, inside[7].uuid])
    db = sqlite3.connect(sandbox.workdir / "sandbox.sqlite")
    with db:  # what a cloud sync does to an item whose file left the bucket
        db.execute("UPDATE items SET is_tombstone = 1 WHERE uuid = ?", (str(inside[7].uuid),))
    db.close()

    assert member_uuids(collection) == {inside[6].uuid}
    every = list(collection.list_items_include_inaccessible())
    gone = [i for i in every if isinstance(i, StorageItemInaccessible)]
    assert [i.uuid for i in gone] == [inside[7].uuid]
    assert collection.add_items([inside[7].uuid]).failed_items == [inside[7].uuid]


def test_not_top_level_is_refused(uc: EncordUserClient, curated: StorageFolder) -> None:
    (child, *_) = curated.list_subfolders()
    with pytest.raises(InvalidArgumentsError):
        uc.create_collection(child.uuid, unique("deep"))


def test_access_to_the_top_level_folder_decides(
    sandbox: Sandbox, uc: EncordUserClient, member: EncordUserClient, curated: StorageFolder
) -> None:
    collection = uc.create_collection(curated.uuid, unique("shared"))
    collection.add_items([items_under(curated)[8].uuid])

    seen = member.get_collection(collection.uuid)
    assert member_uuids(seen) == {items_under(curated)[8].uuid}
    own = member.create_collection(curated.uuid, unique("by-member"))
    assert own.top_level_folder_uuid == curated.uuid
    listed = {c.uuid for c in member.list_collections()}
    assert {collection.uuid, own.uuid} <= listed

    outsider = sandbox.client(OUTSIDER)
    with pytest.raises(AuthorisationError):
        outsider.get_collection(collection.uuid)
    with pytest.raises(AuthorisationError):
        list(outsider.list_collections(top_level_folder_uuid=curated.uuid))
    with pytest.raises(AuthorisationError):
        outsider.create_collection(curated.uuid, unique("nope"))
    assert list(outsider.list_collections()) == []
