"""Authentication and role enforcement, seen through the official SDK.

The admin builds a small organisation: a generic folder tree ``P/C/G`` and a cloud-synced
folder ``S`` with items, a dataset ``D`` with rows, and two groups: ``viewers`` (role ``user``
on P, S and D) and ``editors`` (role ``admin`` on P, S and D). Every refused call is followed by
an admin read showing that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
from encord.dataset import Dataset
from encord.exceptions import AuthenticationError, AuthorisationError, ResourceNotFoundError
from encord.group import Group
from encord.http.bundle import Bundle
from encord.orm.dataset import DatasetUserRole, StorageLocation
from encord.orm.storage import StorageUserRole, SyncPrivateDataWithCloudSyncedFolderStatus
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import (
    IntegrationSpec,
    Sandbox,
    UserSpec,
    bearer_client,
    folder_as,
    item_as,
    png_bytes,
    prepared_sandbox,
    ssh_client,
    sync,
    synced_folder,
    unique,
    unregistered_key_text,
)

pytestmark = pytest.mark.sdk

ADMIN = "admin@example.com"
OUTSIDER = "outsider@example.com"
VIEWER = "viewer@example.com"
EDITOR = "editor@example.com"
BEARER = "bearer.admin@example.com"
LEAVER = "leaver@example.com"
INTEGRATION = "auth-bucket"


@dataclass
class World:
    sandbox: Sandbox
    admin: EncordUserClient
    p: StorageFolder
    c: StorageFolder
    g: StorageFolder
    s: StorageFolder
    items: list[StorageItem]
    dataset: Dataset

    def client(self, email: str) -> EncordUserClient:
        return self.sandbox.client(email)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    users = [UserSpec(e) for e in (OUTSIDER, VIEWER, EDITOR, LEAVER)]
    users.append(UserSpec(BEARER, org_role="admin", token=True))
    with prepared_sandbox(
        tmp_path_factory.mktemp("sdk-auth"),
        users=users,
        integrations=[IntegrationSpec(INTEGRATION, "s3")],
    ) as sandbox:
        yield build_world(sandbox)


def build_world(sandbox: Sandbox) -> World:
    uc = sandbox.admin()
    p = uc.create_storage_folder("auth-p", description="granted root")
    c = p.create_subfolder("auth-c", description="child")
    g = c.create_subfolder("auth-g")
    files = {"one.png": png_bytes(), "two.png": png_bytes(3, 3)}
    s, _ = synced_folder(uc, sandbox, INTEGRATION, "s3://auth/data/", files)
    assert sync(s).status == SyncPrivateDataWithCloudSyncedFolderStatus.DONE
    items = list(s.list_items())
    created = uc.create_dataset("auth-d", StorageLocation.CORD_STORAGE, "guarded", False)
    dataset = uc.get_dataset(created.dataset_hash)
    dataset.link_items([items[0].uuid])

    viewers = uc.create_group("viewers")
    viewers.add_users([VIEWER])
    editors = uc.create_group("editors")
    editors.add_users([EDITOR])
    for folder in (p, s):
        folder.add_group(viewers.group_hash, StorageUserRole.USER)
        folder.add_group(editors.group_hash, StorageUserRole.ADMIN)
    dataset.add_group(viewers.group_hash, DatasetUserRole.USER)
    dataset.add_group(editors.group_hash, DatasetUserRole.ADMIN)
    return World(sandbox, uc, p, c, g, s, items, uc.get_dataset(created.dataset_hash))


def snapshot(world: World) -> tuple[object, ...]:
    """What the refused calls below would have changed, read as admin."""
    uc = world.admin
    folders = [uc.get_storage_folder(f.uuid) for f in (world.p, world.c, world.g, world.s)]
    items = uc.get_storage_items([i.uuid for i in world.items])
    rows = uc.get_dataset(world.dataset.dataset_hash).data_rows
    return (
        [(f.name, f.description, f.parent_uuid, f.client_metadata) for f in folders],
        [(i.name, i.parent_folder_uuid, i.client_metadata) for i in items],
        sorted(row.uid for row in rows),
        sorted(g.group_hash for g in world.p.list_groups()),
        sorted(u.user_email for u in world.dataset.list_users()),
    )


# --- authentication -----------------------------------------------------------------------------


def test_unregistered_key_is_rejected_on_v2_and_v1(world: World) -> None:
    stranger = ssh_client(unregistered_key_text(), world.sandbox.url)
    with pytest.raises(AuthenticationError):
        list(stranger.list_storage_folders())
    with pytest.raises(AuthenticationError):
        stranger.get_storage_folder(world.p.uuid)
    with pytest.raises(AuthenticationError):
        stranger.get_dataset(world.dataset.dataset_hash)


def test_wrong_bearer_token_is_rejected(world: World) -> None:
    forged = bearer_client("not-a-real-token", world.sandbox.url)
    with pytest.raises(AuthenticationError):
        list(forged.list_storage_folders())
    with pytest.raises(AuthenticationError):
        forged.get_dataset(world.dataset.dataset_hash)


def test_bearer_token_client_reads_and_writes(world: World) -> None:
    token = world.sandbox.accounts[BEARER].token
    assert token
    bearer = bearer_client(token, world.sandbox.url)

    assert "auth-p" in [f.name for f in bearer.list_storage_folders(org_access=True)]
    assert bearer.get_dataset(world.dataset.dataset_hash).title == "auth-d"  # v1 with a bearer
    name = unique("bearer-folder")
    created = bearer.create_storage_folder(name)

    fetched = world.admin.get_storage_folder(created.uuid)
    assert fetched.name == name
    assert fetched._orm_folder.owner == BEARER


def test_bearer_token_fetched_through_the_sdk_carries_the_users_roles(world: World) -> None:
    token = world.client(VIEWER).get_bearer_token()  # GET user/bearer-token, signed with the key
    viewer = bearer_client(token, world.sandbox.url)

    fetched = viewer.get_storage_folder(world.p.uuid)
    assert fetched._orm_folder.user_role == StorageUserRole.USER
    with pytest.raises(AuthorisationError):
        fetched.update(description="bearer viewer was here")
    assert world.admin.get_storage_folder(world.p.uuid).description == "granted root"


# --- a member with no grants -----------------------------------------------------------------------


def test_outsider_sees_nothing(world: World) -> None:
    outsider = world.client(OUTSIDER)
    visible = {f.uuid for f in outsider.list_storage_folders()}
    assert not visible & {world.p.uuid, world.s.uuid}
    for folder in (world.p, world.c):
        with pytest.raises(AuthorisationError):
            outsider.get_storage_folder(folder.uuid)
    with pytest.raises(AuthorisationError):
        outsider.get_storage_item(world.items[0].uuid)
    with pytest.raises(AuthorisationError):
        outsider.get_storage_items([world.items[0].uuid])
    with pytest.raises(AuthorisationError):
        outsider.get_dataset(world.dataset.dataset_hash)
    assert world.dataset.dataset_hash not in {
        d["dataset"].dataset_hash for d in outsider.get_datasets()
    }
    with pytest.raises(AuthorisationError):
        list(outsider.list_storage_folders(org_access=True))  # org access is for org admins


def test_search_is_scoped_to_what_the_caller_sees(world: World) -> None:
    wanted = {world.p.uuid, world.c.uuid, world.g.uuid}
    assert {f.uuid for f in world.admin.find_storage_folders(search="auth-")} == wanted
    assert {f.uuid for f in world.client(VIEWER).find_storage_folders(search="auth-")} == wanted
    assert list(world.client(OUTSIDER).find_storage_folders(search="auth-")) == []


def test_outsider_changes_nothing(world: World) -> None:
    before = snapshot(world)
    outsider = world.client(OUTSIDER)
    p, c, s = (folder_as(outsider, f) for f in (world.p, world.c, world.s))
    item = item_as(outsider, world.items[0])
    attempts: list[Callable[[], object]] = [
        lambda: p.update(name="hijacked", client_metadata={"x": 1}),
        lambda: c.move_to_folder(None),
        lambda: c.delete(),
        lambda: p.add_group(uuid4(), StorageUserRole.ADMIN),
        lambda: item.update(name="stolen.png"),
        lambda: s.delete_storage_items([item.uuid]),
        lambda: s.move_items_to_folder(world.p.uuid, [item.uuid]),
    ]
    for attempt in attempts:
        with pytest.raises(AuthorisationError):
            attempt()
    assert snapshot(world) == before


def test_member_owns_what_they_create(world: World) -> None:
    outsider = world.client(OUTSIDER)
    name = unique("own")
    own = outsider.create_storage_folder(name)
    own.update(description="mine")
    fetched = world.admin.get_storage_folder(own.uuid)
    assert (fetched.name, fetched.description, fetched._orm_folder.owner) == (
        name,
        "mine",
        OUTSIDER,
    )
    assert outsider.get_storage_folder(own.uuid)._orm_folder.user_role == StorageUserRole.ADMIN
    title = unique("own-ds")
    created = outsider.create_dataset(title, StorageLocation.CORD_STORAGE, None, False)
    (entry,) = outsider.get_datasets(title_eq=title)
    assert entry["user_role"] == DatasetUserRole.ADMIN
    mine = outsider.get_dataset(created.dataset_hash)
    assert {u.user_email: u.user_role for u in mine.list_users()} == {
        OUTSIDER: DatasetUserRole.ADMIN
    }


def test_members_cannot_change_groups(world: World) -> None:
    admin = world.admin
    group = admin.create_group(unique("guarded"), "as made")
    outsider = world.client(OUTSIDER)
    theirs = Group(outsider._api_client, group._group_instance)  # the SDK object, their client

    for attempt in (
        lambda: theirs.update_group(name="taken over"),
        lambda: theirs.add_users([OUTSIDER]),
        lambda: theirs.remove_users([ADMIN]),
        lambda: outsider.delete_group(group.group_hash),
    ):
        with pytest.raises(AuthorisationError):
            attempt()

    fetched = admin.get_group(group.group_hash)
    assert (fetched.name, fetched.description) == (group.name, "as made")
    assert [u.user_email for u in fetched.list_users()] == [ADMIN]


def test_org_admin_lists_others_folders_and_datasets_only_with_org_access(world: World) -> None:
    """SDK docs: with ``org_access``/``include_org_access`` an organisation admin gets "the folders
    belonging to the organization, instead of those accessible to the user", and all datasets,
    "some of [them] with a None user_role". Without it, listings show the admin's own access."""
    outsider = world.client(OUTSIDER)
    name = unique("private")
    folder = outsider.create_storage_folder(name)
    outsider.create_dataset(name, StorageLocation.CORD_STORAGE, None, False)
    admin = world.admin

    assert [f.uuid for f in admin.list_storage_folders(search=name, org_access=True)] == [
        folder.uuid
    ]
    assert [f.uuid for f in admin.find_storage_folders(search=name, org_access=True)] == [
        folder.uuid
    ]
    (entry,) = admin.get_datasets(title_eq=name, include_org_access=True)
    assert entry["user_role"] is None  # the admin holds no role on it
    assert list(admin.list_storage_folders(search=name)) == []
    assert admin.get_datasets(title_eq=name) == []
    assert admin.get_storage_folder(folder.uuid).name == name  # direct reads stay allowed


# --- role `user` through a group -------------------------------------------------------------------


def test_viewer_reads_granted_tree_with_user_role(world: World) -> None:
    viewer = world.client(VIEWER)
    for folder in (world.p, world.c, world.g):  # the grant on P is inherited down the tree
        fetched = viewer.get_storage_folder(folder.uuid)
        assert fetched.name == folder.name
        assert fetched._orm_folder.user_role == StorageUserRole.USER
    roots = {f.uuid for f in viewer.list_storage_folders()}
    assert {world.p.uuid, world.s.uuid} <= roots
    assert [f.uuid for f in viewer.get_storage_folder(world.p.uuid).list_subfolders()] == [
        world.c.uuid
    ]
    assert sorted(i.uuid for i in viewer.get_storage_folder(world.s.uuid).list_items()) == sorted(
        i.uuid for i in world.items
    )
    assert viewer.get_storage_item(world.items[1].uuid).name == world.items[1].name


def test_viewer_reads_dataset_but_cannot_change_it(world: World) -> None:
    viewer = world.client(VIEWER)
    (entry,) = [
        d for d in viewer.get_datasets() if d["dataset"].dataset_hash == world.dataset.dataset_hash
    ]
    assert entry["user_role"] == DatasetUserRole.USER
    dataset = viewer.get_dataset(world.dataset.dataset_hash)
    rows = dataset.list_data_rows()
    assert [row.backing_item_uuid for row in rows] == [world.items[0].uuid]

    before = snapshot(world)
    attempts: list[Callable[[], object]] = [
        lambda: dataset.link_items([world.items[1].uuid]),
        lambda: dataset.delete_data([rows[0].uid]),
        lambda: dataset.add_users([OUTSIDER], DatasetUserRole.ADMIN),
        lambda: dataset.add_group(uuid4(), DatasetUserRole.ADMIN),
    ]
    for attempt in attempts:
        with pytest.raises(AuthorisationError):
            attempt()
    assert snapshot(world) == before


def test_viewer_cannot_patch_move_or_delete(world: World) -> None:
    before = snapshot(world)
    viewer = world.client(VIEWER)
    p = viewer.get_storage_folder(world.p.uuid)
    c = viewer.get_storage_folder(world.c.uuid)
    g = viewer.get_storage_folder(world.g.uuid)
    s = viewer.get_storage_folder(world.s.uuid)
    item = viewer.get_storage_item(world.items[0].uuid)
    attempts: list[Callable[[], object]] = [
        lambda: p.update(description="viewer was here"),
        lambda: c.update(client_metadata={"viewer": True}),
        lambda: g.move_to_folder(p),
        lambda: c.move_to_folder(None),
        lambda: g.delete(),
        lambda: p.add_group(uuid4(), StorageUserRole.ADMIN),
        lambda: item.update(name="renamed-by-viewer.png"),
        lambda: s.delete_storage_items([item.uuid]),
        lambda: s.move_items_to_folder(p, [item]),
    ]
    for attempt in attempts:
        with pytest.raises(AuthorisationError):
            attempt()
    with pytest.raises(AuthorisationError):
        s.sync_private_data_with_cloud_synced_folder_start()  # a sync changes the folder
    listed = list(s.list_items())
    with pytest.raises(AuthorisationError), Bundle() as bundle:
        for each in listed:
            each.update(client_metadata={"bulk": "viewer"}, bundle=bundle)
    assert snapshot(world) == before


# --- role `admin` through a group ------------------------------------------------------------------


def test_editor_can_change_what_the_group_administers(world: World) -> None:
    editor = world.client(EDITOR)
    c = editor.get_storage_folder(world.c.uuid)
    assert c._orm_folder.user_role == StorageUserRole.ADMIN
    scratch = c.create_subfolder(unique("editor-scratch"))
    scratch.update(description="by editor", client_metadata={"e": 1})
    scratch.move_to_folder(world.p.uuid)
    item = editor.get_storage_item(world.items[1].uuid)
    item.update(client_metadata={"edited": True})

    admin = world.admin
    fetched = admin.get_storage_folder(scratch.uuid)
    assert (fetched.description, fetched.client_metadata, fetched.parent_uuid) == (
        "by editor",
        {"e": 1},
        world.p.uuid,
    )
    assert admin.get_storage_item(world.items[1].uuid).client_metadata == {"edited": True}
    dataset = editor.get_dataset(world.dataset.dataset_hash)
    (row,) = dataset.link_items([world.items[1].uuid])
    assert row.backing_item_uuid == world.items[1].uuid
    dataset.delete_data([row.uid])
    assert [
        r.backing_item_uuid for r in admin.get_dataset(world.dataset.dataset_hash).data_rows
    ] == [world.items[0].uuid]


def test_dataset_admin_cannot_link_items_it_cannot_see(world: World) -> None:
    admin = world.admin
    hidden, _ = synced_folder(
        admin, world.sandbox, INTEGRATION, "s3://auth/hidden/", {"h.png": png_bytes()}
    )
    assert sync(hidden).status == SyncPrivateDataWithCloudSyncedFolderStatus.DONE
    (secret,) = hidden.list_items()
    dataset = world.client(EDITOR).get_dataset(world.dataset.dataset_hash)
    before = snapshot(world)

    with pytest.raises(AuthorisationError):
        dataset.link_items([secret.uuid])

    assert snapshot(world) == before


# --- access follows group membership ---------------------------------------------------------------


def test_leaving_the_group_revokes_access(world: World) -> None:
    admin = world.admin
    folder = admin.create_storage_folder(unique("temp-share"))
    group = admin.create_group(unique("temp"))
    group.add_users([LEAVER])
    folder.add_group(group.group_hash, StorageUserRole.USER)
    leaver = world.client(LEAVER)
    assert leaver.get_storage_folder(folder.uuid).uuid == folder.uuid

    group.remove_users([LEAVER])

    with pytest.raises(AuthorisationError):
        leaver.get_storage_folder(folder.uuid)


def test_unknown_uuids_are_not_found(world: World) -> None:
    admin = world.admin
    with pytest.raises(ResourceNotFoundError):
        admin.get_storage_folder(uuid4())
    with pytest.raises(ResourceNotFoundError):
        admin.get_storage_item(uuid4())
    with pytest.raises(ResourceNotFoundError):
        admin.get_group(uuid4())
    with pytest.raises(ResourceNotFoundError):
        admin.get_dataset(str(uuid4()))
