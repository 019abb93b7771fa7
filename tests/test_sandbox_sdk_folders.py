"""Storage folders through the official SDK against ``reconciler sandbox serve``.

One sandbox serves the whole module; each test works under root folders with names no other
test uses, and searches by that name, so tests do not see each other's folders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from uuid import UUID, uuid4

import pytest
from encord.exceptions import InvalidArgumentsError, ResourceNotFoundError
from encord.http.bundle import Bundle
from encord.orm.storage import FoldersSortBy, StorageFolderType
from encord.storage import StorageFolder
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, WireLog, assert_paged, prepared_sandbox, ssh_client, unique

pytestmark = pytest.mark.sdk


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with prepared_sandbox(tmp_path_factory.mktemp("sdk-folders")) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


def names(folders: Iterable[StorageFolder]) -> list[str]:
    return [folder.name for folder in folders]


def path_uuids(folder: StorageFolder) -> set[UUID]:
    return {element.uuid for element in folder.path_to_root}


def assert_path_consistent(folder: StorageFolder, chain: list[StorageFolder]) -> None:
    """``path_to_root`` holds exactly ``chain`` (self up to the root), each linked to its parent.

    The SDK does not fix the order of ``pathToRoot``, so only membership and links are checked.
    """
    assert path_uuids(folder) == {f.uuid for f in chain}
    by_uuid = {element.uuid: element for element in folder.path_to_root}
    for child, parent in zip(chain, [*chain[1:], None], strict=True):
        element = by_uuid[child.uuid]
        assert element.name == child.name
        assert element.parent_uuid == (parent.uuid if parent else None)
        assert element.synced_dataset_hash is None


# --- create and get -----------------------------------------------------------------------------


def test_create_plain_folder_reads_back(uc: EncordUserClient, sandbox: Sandbox) -> None:
    name = unique("plain")
    created = uc.create_storage_folder(name, description="first root")

    assert created.name == name
    assert created.description == "first root"
    assert created.parent_uuid is None
    assert created.client_metadata is None
    assert created.folder_type == StorageFolderType.GENERIC
    assert not created.is_cloud_synced
    assert created.integration_hash is None
    assert created.remote_url is None
    assert_path_consistent(created, [created])

    fetched = uc.get_storage_folder(created.uuid)
    assert fetched.uuid == created.uuid
    assert (fetched.name, fetched.description, fetched.parent_uuid) == (name, "first root", None)
    assert fetched.client_metadata is None
    orm = fetched._orm_folder  # fields the SDK parses but does not expose as properties
    assert orm.owner == sandbox.server.admin_email
    assert orm.user_role.value == "admin"
    assert orm.synced_dataset_hash is None
    assert orm.created_at <= orm.last_edited_at


def test_create_without_description_gives_empty_description(uc: EncordUserClient) -> None:
    created = uc.create_storage_folder(unique("nodesc"))
    assert created.description == ""
    assert uc.get_storage_folder(str(created.uuid)).description == ""


def test_create_with_non_ascii_name_round_trips(uc: EncordUserClient) -> None:
    # The SDK sends "\u00fc"-style escapes (ensure_ascii); the server must decode them.
    name = unique("Prüfer – QA ✓")
    created = uc.create_storage_folder(name, description="ü")
    fetched = uc.get_storage_folder(created.uuid)
    assert (fetched.name, fetched.description) == (name, "ü")


def test_create_with_parent_in_three_spellings(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("tree"))
    by_object = uc.create_storage_folder("child-a", description="child", parent_folder=root)
    by_uuid = uc.create_storage_folder("child-b", parent_folder=root.uuid)
    by_method = root.create_subfolder("child-c", description="sub", client_metadata={"k": 1})
    grandchild = by_object.create_subfolder("grandchild")

    for child in (by_object, by_uuid, by_method):
        assert child.parent_uuid == root.uuid
        assert_path_consistent(uc.get_storage_folder(child.uuid), [child, root])
    assert by_method.client_metadata == {"k": 1}
    assert by_method.description == "sub"
    assert grandchild.parent_uuid == by_object.uuid
    assert_path_consistent(uc.get_storage_folder(grandchild.uuid), [grandchild, by_object, root])
    parent = grandchild.parent  # a lazy GET of the parent folder
    assert parent is not None and parent.uuid == by_object.uuid and parent.name == "child-a"


def test_create_with_client_metadata(uc: EncordUserClient) -> None:
    metadata = {"project": "x", "n": 1, "nested": {"a": [1, 2]}, "none": None, "t": True}
    created = uc.create_storage_folder(unique("meta"), client_metadata=metadata)
    assert created.client_metadata == metadata
    assert uc.get_storage_folder(created.uuid).client_metadata == metadata


def test_get_unknown_folder_is_not_found(uc: EncordUserClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        uc.get_storage_folder(uuid4())


# --- listing and searching --------------------------------------------------------------------


def test_list_root_shows_top_level_folders_only(uc: EncordUserClient) -> None:
    tag = unique("rootlist")
    top = [uc.create_storage_folder(f"{tag}-{n}") for n in ("b", "a", "c")]
    top[0].create_subfolder(f"{tag}-nested")

    listed = list(uc.list_storage_folders(search=tag))
    assert names(listed) == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]
    assert all(folder.parent_uuid is None for folder in listed)
    assert {f.uuid for f in listed} == {f.uuid for f in top}

    everything = {f.uuid for f in uc.list_storage_folders()}
    assert {f.uuid for f in top} <= everything
    descending = names(uc.list_storage_folders(search=tag, desc=True))
    assert descending == [f"{tag}-c", f"{tag}-b", f"{tag}-a"]


def test_list_root_pages_with_small_page_size(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    tag = unique("rootpages")
    for n in range(5):
        uc.create_storage_folder(f"{tag}-{n}")
    wire = WireLog(caplog)

    listed = names(uc.list_storage_folders(search=tag, page_size=2))

    assert listed == [f"{tag}-{n}" for n in range(5)]
    assert_paged(wire.matching("GET", "/v2/public/storage/folders"), total=5, page_size=2)


def test_unknown_organisation_tag_is_reported_by_the_sdk(uc: EncordUserClient) -> None:
    # The SDK first lists the organisation's tags (GET organisation/organisation-tags) and
    # raises before listing folders when a name is unknown.
    with pytest.raises(ResourceNotFoundError):
        list(uc.list_storage_folders(organisation_tags_allof=["no-such-tag"]))
    assert isinstance(uc.list_organisation_tags(), list)


def test_trailing_slash_on_domain_is_harmless(sandbox: Sandbox) -> None:
    client = ssh_client(sandbox.server.key_text, sandbox.url + "/")
    created = client.create_storage_folder(unique("slash"))
    assert client.get_storage_folder(created.uuid).name == created.name


def test_list_subfolders_direct_children_sorted_and_paged(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    root = uc.create_storage_folder(unique("subs"))
    children = [root.create_subfolder(f"child-{n}") for n in (3, 1, 4, 0, 2)]
    children[0].create_subfolder("child-9-grandchild")

    assert names(root.list_subfolders()) == [f"child-{n}" for n in range(5)]
    assert names(root.list_subfolders(desc=True)) == [f"child-{n}" for n in (4, 3, 2, 1, 0)]
    assert names(root.list_subfolders(search="child-4")) == ["child-4"]

    wire = WireLog(caplog)
    paged = list(root.list_subfolders(page_size=2))
    assert names(paged) == [f"child-{n}" for n in range(5)]
    assert all(f.parent_uuid == root.uuid for f in paged)
    assert_paged(wire.matching("GET", f"/{root.uuid}/folders"), total=5, page_size=2)


def test_list_subfolders_order_by_created_at(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("bycreated"))
    created = [root.create_subfolder(name).uuid for name in ("zeta", "alpha", "mid")]
    listed = list(root.list_subfolders(order=FoldersSortBy.CREATED_AT))
    # Creation timestamps may tie within a second; ties are not ordered by the contract.
    stamps = [f._orm_folder.created_at for f in listed]
    assert stamps == sorted(stamps)
    assert {f.uuid for f in listed} == set(created)


def test_find_subfolders_is_recursive(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("deep"))
    a = root.create_subfolder("a")
    b = a.create_subfolder("b")
    c = b.create_subfolder("c-target")
    d = root.create_subfolder("d-target")
    other_root = uc.create_storage_folder(unique("deep-other"))
    other_root.create_subfolder("x-target")

    found = list(root.find_subfolders())
    assert {f.uuid for f in found} == {a.uuid, b.uuid, c.uuid, d.uuid}
    by_search = list(root.find_subfolders(search="target"))
    assert {f.uuid for f in by_search} == {c.uuid, d.uuid}
    assert names(root.find_subfolders(search="target")) == ["c-target", "d-target"]
    paged = list(root.find_subfolders(page_size=1))
    assert sorted(f.uuid for f in paged) == sorted(f.uuid for f in found)


def test_find_storage_folders_searches_every_depth_across_pages(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    tag = unique("needle")
    root = uc.create_storage_folder(f"{tag}-0")
    level1 = root.create_subfolder(f"{tag}-1")
    level2 = level1.create_subfolder(f"{tag}-2")
    other = uc.create_storage_folder(unique("haystack"))
    level3 = other.create_subfolder(f"{tag}-3")
    other.create_subfolder("unrelated")
    wire = WireLog(caplog)

    found = list(uc.find_storage_folders(search=tag, page_size=1))

    assert names(found) == [f"{tag}-{n}" for n in range(4)]
    assert [f.uuid for f in found] == [root.uuid, level1.uuid, level2.uuid, level3.uuid]
    assert_paged(wire.matching("GET", "/storage/search/folders"), total=4, page_size=1)


# --- updates ------------------------------------------------------------------------------------


def test_single_update_changes_only_given_fields(uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("upd"), description="old", client_metadata={"a": 1})
    new_name = unique("upd-renamed")

    folder.update(name=new_name, description="new desc", client_metadata={"k": "v"})
    assert (folder.name, folder.description, folder.client_metadata) == (
        new_name,
        "new desc",
        {"k": "v"},
    )
    fetched = uc.get_storage_folder(folder.uuid)
    assert (fetched.name, fetched.description, fetched.client_metadata) == (
        new_name,
        "new desc",
        {"k": "v"},
    )

    folder.update(description="only desc")
    fetched = uc.get_storage_folder(folder.uuid)
    assert (fetched.name, fetched.description, fetched.client_metadata) == (
        new_name,
        "only desc",
        {"k": "v"},
    )


def test_update_metadata_replaces_the_whole_mapping(uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("updmeta"), client_metadata={"keep": 1, "drop": 2})
    folder.update(client_metadata={"keep": 1, "new": [1, 2]})
    assert uc.get_storage_folder(folder.uuid).client_metadata == {"keep": 1, "new": [1, 2]}


def test_bundle_update_sends_one_patch_bulk(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    root = uc.create_storage_folder(unique("bulk"))
    one, two, three = (root.create_subfolder(f"f{n}", description="d") for n in range(3))
    wire = WireLog(caplog)

    with Bundle() as bundle:
        one.update(name="f0-renamed", bundle=bundle)
        two.update(description="bulk desc", bundle=bundle)
        three.update(client_metadata={"bulk": 1}, bundle=bundle)

    assert len(wire.matching("PATCH", "/storage/folders/patch-bulk")) == 1
    # The SDK maps the response back onto each object by uuid.
    assert (one.name, two.description, three.client_metadata) == (
        "f0-renamed",
        "bulk desc",
        {"bulk": 1},
    )
    fetched = {f.uuid: f for f in root.list_subfolders()}
    assert (fetched[one.uuid].name, fetched[one.uuid].description) == ("f0-renamed", "d")
    assert (fetched[two.uuid].name, fetched[two.uuid].description) == ("f1", "bulk desc")
    assert fetched[three.uuid].client_metadata == {"bulk": 1}
    assert fetched[three.uuid].description == "d"


def test_bundle_update_splits_by_bundle_size(
    uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    root = uc.create_storage_folder(unique("bulksplit"))
    folders = [root.create_subfolder(f"s{n}") for n in range(5)]
    wire = WireLog(caplog)

    with Bundle(bundle_size=2) as bundle:
        for n, folder in enumerate(folders):
            folder.update(description=f"split {n}", client_metadata={"n": n}, bundle=bundle)

    assert len(wire.matching("PATCH", "/storage/folders/patch-bulk")) == 3  # 2 + 2 + 1
    fetched = {f.uuid: f for f in root.list_subfolders()}
    for n, folder in enumerate(folders):
        assert folder.description == f"split {n}"
        assert fetched[folder.uuid].description == f"split {n}"
        assert fetched[folder.uuid].client_metadata == {"n": n}


# --- moves, delete, summary ---------------------------------------------------------------------


def test_move_folder_into_folder_and_back_to_root(uc: EncordUserClient) -> None:
    tag = unique("mover")
    source = uc.create_storage_folder(f"{tag}-source")
    target = uc.create_storage_folder(f"{tag}-target")
    moving = source.create_subfolder(f"{tag}-moving")
    inner = moving.create_subfolder("inner")

    moving.move_to_folder(target)
    assert moving.parent_uuid == target.uuid  # the SDK refetched after the POST
    assert [f.uuid for f in target.list_subfolders()] == [moving.uuid]
    assert list(source.list_subfolders()) == []
    assert_path_consistent(uc.get_storage_folder(inner.uuid), [inner, moving, target])

    moving.move_to_folder(None)
    assert moving.parent_uuid is None
    assert uc.get_storage_folder(moving.uuid).parent_uuid is None
    assert list(target.list_subfolders()) == []
    roots = names(uc.list_storage_folders(search=tag))
    assert roots == [f"{tag}-moving", f"{tag}-source", f"{tag}-target"]
    assert_path_consistent(uc.get_storage_folder(inner.uuid), [inner, moving])

    moving.move_to_folder(source.uuid)
    assert uc.get_storage_folder(moving.uuid).parent_uuid == source.uuid


def test_move_into_own_subtree_is_refused(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("cycle"))
    child = root.create_subfolder("child")
    grandchild = child.create_subfolder("grandchild")

    for moving, target in ((root, grandchild), (root, child), (child, child)):
        with pytest.raises(InvalidArgumentsError):
            moving.move_to_folder(target)

    assert uc.get_storage_folder(root.uuid).parent_uuid is None
    assert uc.get_storage_folder(child.uuid).parent_uuid == root.uuid
    assert uc.get_storage_folder(grandchild.uuid).parent_uuid == child.uuid


def test_search_is_literal_and_survives_query_encoding(uc: EncordUserClient) -> None:
    tag = unique("enc")
    special = uc.create_storage_folder(f"{tag} 50%_off & more+plus=?é")
    uc.create_storage_folder(f"{tag} 50xxoff")
    uc.create_storage_folder(f"{tag} 50%XoffZ")

    assert [f.uuid for f in uc.list_storage_folders(search=f"{tag} 50%_off")] == [special.uuid]
    assert [f.uuid for f in uc.list_storage_folders(search="& more+plus=?é")] == [special.uuid]
    assert [f.uuid for f in uc.find_storage_folders(search=f"{tag} 50%_OFF")] == [special.uuid]


def test_delete_folder(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("del"))
    doomed = root.create_subfolder("doomed")
    kept = root.create_subfolder("kept")

    doomed.delete()

    with pytest.raises(ResourceNotFoundError):
        uc.get_storage_folder(doomed.uuid)
    assert [f.uuid for f in root.list_subfolders()] == [kept.uuid]


def test_summary_of_folder_without_items(uc: EncordUserClient) -> None:
    root = uc.create_storage_folder(unique("summary"))
    root.create_subfolder("one")
    root.create_subfolder("two")

    summary = root.get_summary()

    assert summary.folders == 2
    assert summary.files == 0
    assert summary.images == summary.videos == summary.plain_texts == summary.tombstones == 0
    assert summary.total_size == 0
