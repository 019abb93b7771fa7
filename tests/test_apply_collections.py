"""Collections through the real client, reader and engine against an embedded sandbox
(in-process): create, rename, prune, what changed since the plan, adoption after a lost
answer, and the reader's edges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.desired import folder, select, src
from helpers.embedded import OWNER, Sandbox, ensure_created, make_sandbox, plan_and_apply, plan_for

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.encord import EncordClient, NotFoundError
from reconciler.live import Scope, read_live
from reconciler.model.desired import DesiredCollection, DesiredState, ItemSelector, ownership_tag

FIRST_THREE = select("/raw", name="item-000000[0-2].jpg")


def collection(name: str, *selectors: ItemSelector, **fields: Any) -> DesiredCollection:
    return DesiredCollection(
        name=name, folder="/raw", items=selectors, source=src(60, "curation.yaml"), **fields
    )


def desired(sandbox: Sandbox, *collections: DesiredCollection) -> DesiredState:
    return sandbox.desired(collections={c.name: c for c in collections})


async def raw_uuid(client: EncordClient) -> str:
    (raw,) = await client.folders.find_children(None, "raw")
    return str(raw.uuid)


async def named(client: EncordClient, name: str) -> str:
    listed = await client.collections.list_in(await raw_uuid(client))
    (found,) = [c for c in listed if c.name == name]
    return str(found.uuid)


@pytest.fixture
async def sandbox(tmp_path: Path) -> Sandbox:
    made = make_sandbox(tmp_path)
    await ensure_created(made)
    made.seed("/raw", items=6)
    return made


@pytest.mark.anyio
async def test_create_rename_and_prune(sandbox: Sandbox) -> None:
    plan, result = await plan_and_apply(sandbox, desired(sandbox, collection("night", FIRST_THREE)))
    assert result.ok and result.failures == ()
    async with sandbox.connect() as client:
        uuid = await named(client, "night")
        assert len(await client.collections.members(uuid)) == 3
        live = await read_live(client, Scope.from_desired(desired(sandbox, collection("x"))))
        assert live.collection_folders == {"/raw": await raw_uuid(client)}

    renamed = collection("nights", FIRST_THREE, previously=("night",), description="dark")
    _, result = await plan_and_apply(sandbox, desired(sandbox, renamed))
    assert result.ok
    async with sandbox.connect() as client:
        got = await client.collections.get(uuid)
        assert (got.name, got.description) == ("nights", "dark " + ownership_tag(OWNER))

    # no longer declared, ours, in a folder still in scope: pruned
    plan, result = await plan_and_apply(sandbox, sandbox.desired(folders={"/raw": folder("/raw")}))
    assert [c.address for c in plan.changes] == ["collection:nights"]
    assert result.ok
    async with sandbox.connect() as client:
        with pytest.raises(NotFoundError):
            await client.collections.get(uuid)


@pytest.mark.anyio
async def test_what_changed_since_the_plan_is_refused(sandbox: Sandbox) -> None:
    await plan_and_apply(sandbox, desired(sandbox, collection("a"), collection("b")))
    wanted = desired(sandbox, collection("a", description="new words"))  # b is pruned
    async with sandbox.connect() as client:
        plan = await plan_for(client, wanted)
        assert {c.address for c in plan.changes} == {"collection:a", "collection:b"}
        await client.collections.update(await named(client, "a"), description="by hand")
        await client.collections.update(await named(client, "b"), name="b-renamed")
        result = await apply_plan(plan, client=client, options=ApplyOptions(verify=False))
    stale = sorted(f.message for f in result.failures)
    assert len(stale) == 2
    assert "collection a changed since the plan: description differ; re-run plan" in stale[0]
    assert "collection b changed since the plan: name differ; re-run plan" in stale[1]


@pytest.mark.anyio
async def test_gone_or_already_done_since_the_plan(sandbox: Sandbox) -> None:
    await plan_and_apply(sandbox, desired(sandbox, collection("a"), collection("b")))
    wanted = desired(sandbox, collection("a", description="new words"))
    async with sandbox.connect() as client:
        plan = await plan_for(client, wanted)
        a, b = await named(client, "a"), await named(client, "b")
        await client.collections.update(a, description="new words " + ownership_tag(OWNER))
        await client.collections.delete(b)
        result = await apply_plan(plan, client=client, options=ApplyOptions(verify=False))
        assert result.failures == ()
        gone = await plan_for(client, wanted)
        assert gone.changes == ()
        await client.collections.delete(a)
        again = await apply_plan(plan, client=client, options=ApplyOptions(verify=False))
    (failure,) = again.failures
    assert "collection a no longer exists (deleted since the plan)" in failure.message


@pytest.mark.anyio
async def test_a_create_adopts_ours_and_refuses_a_stranger(sandbox: Sandbox) -> None:
    wanted = desired(sandbox, collection("mine"), collection("clash"))
    async with sandbox.connect() as client:
        plan = await plan_for(client, wanted)
        raw = await raw_uuid(client)
        await client.collections.create(raw, "mine", ownership_tag(OWNER))  # a lost answer
        await client.collections.create(raw, "clash", "made by hand")
        result = await apply_plan(plan, client=client, options=ApplyOptions(verify=False))
        (failure,) = result.failures
        assert failure.address == "collection:clash"
        assert "appeared since the plan" in failure.message
        mine = [c for c in await client.collections.list_in(raw) if c.name == "mine"]
    assert len(mine) == 1


@pytest.mark.anyio
async def test_the_reader_records_what_it_cannot_tell_apart(sandbox: Sandbox) -> None:
    async with sandbox.connect() as client:
        await client.folders.create("twin")
        await client.folders.create("twin")
        scope = Scope(roots=("/raw",), collection_folders=("/nope", "/raw", "/twin"))
        live = await read_live(client, scope)
    assert live.collection_folders["/nope"] == ""
    assert "/twin" not in live.collection_folders
    assert any("several top-level folders have that name" in p for p in live.problems)


@pytest.mark.anyio
async def test_an_item_the_api_refuses_fails_alone_with_its_selector(sandbox: Sandbox) -> None:
    wanted = desired(sandbox, collection("night", FIRST_THREE))
    async with sandbox.connect() as client:
        plan = await plan_for(client, wanted)
        raw = await raw_uuid(client)
        (gone,) = [i async for i in client.items.list_direct(raw) if i.name == "item-0000001.jpg"]
        await client.items.delete(raw, [gone.uuid])  # between the plan and the apply
        result = await apply_plan(plan, client=client, options=ApplyOptions(verify=False))
        members = await client.collections.members(await named(client, "night"))
    (failure,) = result.failures
    assert failure.address == "collection-item:night#/raw/item-0000001.jpg"
    assert failure.message.endswith("declared at datasets.yaml:41")
    assert len(members) == 2 and str(gone.uuid) not in members
