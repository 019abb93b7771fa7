"""Every client operation against the real sandbox, in-process (ASGITransport) and over a
loopback socket: the sandbox accepts each request, and what each call did is read back.

The sandbox's own per-route counters must equal the client's: same routes, same counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from encord_data.kit import INTEGRATION, MEMBERS, Sandboxed, embedded, over_socket, served

from reconciler.encord import ConflictError, EncordClient, Folder, Item, ItemBrief, NotFoundError
from reconciler.wire.enums import DatasetUserRole, StorageUserRole, SyncStatus
from reconciler.wire.storage import CloudSyncedFolderParams, PatchFolderPayload, PatchItemPayload


async def _folders(c: EncordClient) -> dict[str, Folder]:
    root = await c.folders.create("recon-root", description="root", metadata={"team": "ml"})
    child = await c.folders.create("child", parent=root.uuid)
    grand = await c.folders.create("grand", parent=child.uuid, description="g")
    assert root.metadata() == {"team": "ml"} and str(child.parent) == str(root.uuid)
    got = await c.folders.get(root.uuid)
    assert (got.name, got.description, got.metadata()) == ("recon-root", "root", {"team": "ml"})
    assert [f.uuid async for f in c.folders.list_root(search="recon-root")] == [root.uuid]
    assert [f.name async for f in c.folders.list_subfolders(root.uuid)] == ["child"]
    found = await c.folders.find_child(root.uuid, "child")
    assert found is not None and found.uuid == child.uuid
    assert await c.folders.find_child(None, "no-such-folder") is None
    assert [f.uuid for f in await c.folders.find_children(root.uuid, "child")] == [child.uuid]
    subtree = {f.name async for f in c.folders.list_subfolders(root.uuid, recursive=True)}
    assert subtree == {"child", "grand"}
    assert grand.uuid in [f.uuid async for f in c.folders.search("gran")]
    patched = await c.folders.patch_bulk(
        {child.uuid: PatchFolderPayload(description="d2", client_metadata={"k": 1})}
    )
    assert [(f.description, f.metadata()) for f in patched] == [("d2", {"k": 1})]
    one = await c.folders.patch(child.uuid, PatchFolderPayload(description="d3"))
    assert (one.uuid, one.description) == (child.uuid, "d3")
    await c.folders.move([grand.uuid], None)
    assert (await c.folders.get(grand.uuid)).parent is None
    await c.folders.move([grand.uuid], child.uuid)
    assert str((await c.folders.get(grand.uuid)).parent) == str(child.uuid)
    return {"root": root, "child": child, "grand": grand}


async def _synced_items(c: EncordClient, root: Folder) -> tuple[Folder, dict[str, Item]]:
    integrations = {i.title: i for i in await c.integrations.list_all()}
    params = CloudSyncedFolderParams(
        integration_uuid=integrations[INTEGRATION].integration_uuid,
        remote_url="s3://acme-raw/cams/",
    )
    cams = await c.folders.create("cams", parent=root.uuid, cloud_sync=params)
    assert cams.folder_type == "cloudLinked" and cams.remote_url == "s3://acme-raw/cams/"
    job = await c.folders.start_sync(cams.uuid)
    result = await c.folders.wait_for_sync(cams.uuid, job, timeout_seconds=30)
    assert result.status == SyncStatus.DONE
    again = await c.folders.poll_sync(cams.uuid, job, timeout_seconds=5)
    assert (again.status, again.upload_jobs_units_done) == (
        SyncStatus.DONE,
        result.upload_jobs_units_done,
    )
    items = {i.name: i async for i in c.items.list_recursive(cams.uuid)}
    assert sorted(items) == ["a.jpg", "b.jpg", "c.png", "d.txt"]
    assert sorted([i.name async for i in c.items.list_direct(cams.uuid)]) == ["a.jpg", "b.jpg"]
    pages = [page async for page in c.items.list_pages(cams.uuid, recursive=True, page_size=3)]
    assert [len(p) for p in pages] == [3, 1]
    briefs = [page async for page in c.items.list_briefs(cams.uuid, page_size=3)]
    # read straight from the page, they hold what the model does
    assert briefs == [[ItemBrief.of(i) for i in page] for page in pages]
    assert (await c.items.get(items["a.jpg"].uuid)).name == "a.jpg"
    order = [items[n].uuid for n in ("d.txt", "a.jpg", "c.png")]
    bulk = await c.items.get_bulk(order)
    assert [i.uuid for i in bulk] == order
    # as briefs: what the full models hold, in request order
    assert await c.items.get_bulk_briefs(order) == [ItemBrief.of(i) for i in bulk]
    await c.items.patch_bulk({items["a.jpg"].uuid: PatchItemPayload(client_metadata={"s": "t"})})
    assert (await c.items.get(items["a.jpg"].uuid)).metadata() == {"s": "t"}
    patched = await c.items.patch_bulk_briefs(
        {items["b.jpg"].uuid: PatchItemPayload(client_metadata={"s": "u"})}
    )
    assert patched == [ItemBrief.of(await c.items.get(items["b.jpg"].uuid))]
    assert json.loads(patched[0].client_metadata) == {"s": "u"}
    return cams, items


async def _move_and_delete_items(c: EncordClient, cams: Folder, child: Folder, item: Item) -> None:
    await c.items.move(cams.uuid, [item.uuid], child.uuid, allow_synced_dataset_move=True)
    assert str((await c.items.get(item.uuid)).parent) == str(child.uuid)
    await c.items.delete(child.uuid, [item.uuid])
    with pytest.raises(NotFoundError):
        await c.items.get(item.uuid)


async def _groups(c: EncordClient, root: Folder) -> UUID:
    group = await c.groups.create("recon-annotators", "people")
    assert (await c.groups.get(group.group_hash)).description == "people"
    renamed = await c.groups.update(group.group_hash, description="people who annotate")
    assert renamed.description == "people who annotate"
    assert set(MEMBERS) <= set(await c.groups.add_members(group.group_hash, list(MEMBERS)))
    await c.groups.remove_members(group.group_hash, ["bob@example.com", "nobody@example.com"])
    members = await c.groups.list_members(group.group_hash)
    assert "alice@example.com" in members and "bob@example.com" not in members
    assert group.group_hash in [g.group_hash for g in await c.groups.list_all()]
    for role in (StorageUserRole.USER, StorageUserRole.ADMIN):
        await c.folders.add_groups(root.uuid, [group.group_hash], role)
        grants = await c.folders.list_groups(root.uuid)
        assert [(g.group_hash, g.user_role) for g in grants] == [(group.group_hash, role)]
    await c.folders.remove_groups(root.uuid, [group.group_hash])
    assert await c.folders.list_groups(root.uuid) == []
    return group.group_hash


async def _users(c: EncordClient, admin: str) -> None:
    me = await c.users.current()  # who these credentials act as: the sandbox's admin
    assert me.user_email == admin and me.user_hash
    await c.users.add("carol+x@example.com", role="MEMBER", member_type="external")
    users = {u.email: u for u in await c.users.list_all()}
    assert (
        users["carol+x@example.com"].role_mnemonic_name,
        users["carol+x@example.com"].member_type,
    ) == (
        "MEMBER",
        "external",
    )
    with pytest.raises(ConflictError):
        await c.users.add("carol+x@example.com", role="MEMBER")
    await c.users.remove("carol+x@example.com")
    assert "carol+x@example.com" not in {u.email for u in await c.users.list_all()}


async def _datasets(c: EncordClient, items: dict[str, Item], group: UUID, admin: str) -> None:
    created = await c.datasets.create("recon-ds", description="links")
    assert created.backing_folder_uuid is None
    listed = await c.datasets.list_all(title_eq="recon-ds")
    assert [(d.dataset_uuid, d.user_role) for d in listed] == [(created.dataset_uuid, "admin")]
    ds = created.dataset_uuid
    assert (await c.datasets.get(ds)).title == "recon-ds"
    wanted = [str(items["b.jpg"].uuid), str(items["c.png"].uuid)]
    rows = await c.datasets.link_items(ds, wanted)
    assert sorted(r.backing_item_uuid or "" for r in rows) == sorted(wanted)
    assert await c.datasets.link_items(ds, wanted) == []  # SKIP: nothing new
    await c.datasets.unlink(ds, [rows[0].data_hash])
    left = await c.datasets.data_rows(ds)
    assert [r.backing_item_uuid for r in left] == [rows[1].backing_item_uuid]
    await c.datasets.add_users(ds, ["alice@example.com"], DatasetUserRole.USER)
    users = {u.user_email: u.user_role for u in await c.datasets.list_users(ds)}
    assert users == {admin: DatasetUserRole.ADMIN, "alice@example.com": DatasetUserRole.USER}
    await c.datasets.remove_users(ds, ["alice@example.com"])
    assert [u.user_email for u in await c.datasets.list_users(ds)] == [admin]
    await c.datasets.add_groups(ds, [group], DatasetUserRole.ADMIN)
    assert [(g.group_hash, g.user_role) for g in await c.datasets.list_groups(ds)] == [
        (group, DatasetUserRole.ADMIN)
    ]
    await c.datasets.remove_groups(ds, [group])
    assert await c.datasets.list_groups(ds) == []


async def _schema(c: EncordClient) -> None:
    assert await c.metadata_schema.get() is None
    schema: dict[str, dict[str, Any]] = {
        "split": {"ty": "enum", "values": ["train", "val"]},
        "score": {"ty": "number", "format": "F64"},
    }
    await c.metadata_schema.set(schema)
    assert await c.metadata_schema.get() == schema


async def scenario(s: Sandboxed) -> None:
    c = s.client
    folders = await _folders(c)
    cams, items = await _synced_items(c, folders["root"])
    await _move_and_delete_items(c, cams, folders["child"], items["a.jpg"])
    group = await _groups(c, folders["root"])
    await _users(c, s.admin_email)
    await _datasets(c, items, group, s.admin_email)
    await _schema(c)
    await c.groups.delete(group)
    with pytest.raises(NotFoundError):
        await c.groups.get(group)
    await c.folders.delete(folders["grand"].uuid)
    with pytest.raises(NotFoundError):
        await c.folders.get(folders["grand"].uuid)
    theirs = await s.stats()
    assert theirs.pop("total") == c.stats.total
    assert theirs == dict(c.stats.by_route)


def test_the_scenario_calls_every_client_operation() -> None:
    from reconciler.encord import datasets, folders, items, org

    methods = {
        name
        for module in (folders, items, org, datasets)
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__name__.endswith("API")
        for name in vars(cls)
        if not name.startswith("_")
    }
    source = Path(__file__).read_text()
    assert [m for m in sorted(methods) if f".{m}(" not in source] == []


@pytest.mark.anyio
async def test_every_operation_in_process(tmp_path: Path) -> None:
    async with embedded(tmp_path) as sandbox:
        await scenario(sandbox)


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_operation_over_a_socket(tmp_path: Path) -> None:
    with served(tmp_path) as server:

        async def go() -> None:
            async with over_socket(server) as sandbox:
                await scenario(sandbox)

        await go()
