"""The engine end to end through the real client and an embedded sandbox (in-process)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from helpers.desired import dataset, folder, group, rule, select, src
from helpers.embedded import (
    OWNER,
    Sandbox,
    ensure_created,
    make_sandbox,
    plan_and_apply,
    plan_for,
)

from reconciler.apply import (
    ApplyOptions,
    ApplyResult,
    BundleDone,
    Event,
    JournalError,
    PhaseStarted,
    SyncFinished,
    apply_plan,
    ops_items,
    read_journal,
)
from reconciler.apply.freshness import metadata_field
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredState,
    ItemMatch,
    Policy,
    SandboxIntegration,
    SandboxUser,
)
from reconciler.model.live import LiveState
from reconciler.plan import Plan
from reconciler.targets import TargetOptions, connect
from reconciler.wire.storage import PatchFolderPayload, PatchItemPayload


@pytest.mark.anyio
async def test_a_broad_plan_applies_and_converges(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/data", folders=2, items=10)
    desired = sandbox.desired(
        folders={
            "/data": folder("/data"),
            "/data/folder-00000": folder(
                "/data/folder-00000", description="first", metadata={"team": "a"}
            ),
            "/moved": folder("/moved", previously=("/data/folder-00001",)),
            "/curated/sub": folder("/curated/sub", groups={"annotators": "user"}),
        },
        groups={"annotators": group("annotators", description="people")},
        rules=(rule("/data/folder-00000", {"split": "train"}, match=ItemMatch(name="*.jpg")),),
        datasets={"train": dataset("train", select("/data/folder-00000"))},
    )

    async with sandbox.connect() as client:
        live = await read_live(client, Scope.from_desired(desired))
        moved_uuid = live.paths["/data/folder-00001"]
        moved_items = {i.uuid for i in live.items.values() if i.parent == moved_uuid}
    plan, result = await plan_and_apply(sandbox, desired)
    assert plan.summary.total > 0
    assert result.failures == ()
    assert result.verification is not None and result.verification.remaining == ()
    assert result.ok
    async with sandbox.connect() as client:
        again = await plan_for(client, desired)
        assert again.changes == ()
        live = await read_live(client, Scope.from_desired(desired))
        # the moved folder kept its UUID and its items
        assert live.paths["/moved"] == moved_uuid
        assert {i.uuid for i in live.items.values() if i.parent == moved_uuid} == moved_items
        first = live.folders[live.paths["/data/folder-00000"]]
        assert first.description == "first"
        assert first.metadata["team"] == "a"
        created = live.folders[live.paths["/curated"]]
        assert created.metadata[OWNER_KEY] == OWNER
        items = [i for i in live.items.values() if i.folder_path == "/data/folder-00000"]
        assert items and all(i.metadata["split"] == "train" for i in items)
        (train,) = [d for d in live.datasets.values() if d.title == "train"]
        assert {r.item_uuid for r in train.rows} == {i.uuid for i in items}
        sub = live.paths["/curated/sub"]
        (annotators,) = [g for g in live.groups.values() if g.name == "annotators"]
        assert live.folder_groups[sub] == {annotators.hash: "user"}
    phases = [e.phase for e in sandbox.events if isinstance(e, PhaseStarted)]
    assert phases == [
        "create-folders",
        "patch-folders",
        "move-folders",
        "patch-items",
        "groups",
        "grants",
        "datasets",
        "link",
    ]
    done = {a for e in sandbox.events if isinstance(e, BundleDone) for a in e.addresses}
    assert "folder:/moved" in done and "group:annotators" in done


@pytest.mark.anyio
async def test_an_object_changed_since_the_plan_fails_alone(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/data", items=5)
    desired = sandbox.desired(
        folders={"/data": folder("/data", description="declared")},
        rules=(rule("/data", {"split": "train"}),),
    )

    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        live = await read_live(client, Scope.from_desired(desired))
        by_name = {i.name: i for i in live.items.values()}
        # out of band, between plan and apply: one item's metadata (managed: stale),
        # another's description (not managed: still fresh), the folder's metadata
        await client.items.patch_bulk(
            {
                by_name["item-0000000.jpg"].uuid: PatchItemPayload(
                    client_metadata={"owner": "someone"}
                ),
                by_name["item-0000001.jpg"].uuid: PatchItemPayload(description="note"),
            }
        )
        await client.folders.patch_bulk(
            {live.paths["/data"]: PatchFolderPayload(client_metadata={"x": 1})}
        )
        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(desired=desired),
            emit=sandbox.events.append,
        )
        stale = {f.address: f for f in result.failures}
        assert set(stale) == {"item:/data/item-0000000.jpg", "folder:/data"}
        assert all(f.stale for f in stale.values())
        message = stale["item:/data/item-0000000.jpg"].message
        assert message.startswith("item /data/item-0000000.jpg changed since the plan: ")
        assert "lastEditedAt " in message and "metadata differ; re-run plan" in message
        assert not result.ok
        after = await read_live(client, Scope.from_desired(desired))
        items = {i.name: i for i in after.items.values()}
        assert items["item-0000000.jpg"].metadata == {"owner": "someone"}  # untouched
        for name in ("item-0000001.jpg", "item-0000002.jpg", "item-0000004.jpg"):
            assert items[name].metadata == {"split": "train"}
        assert after.folders[after.paths["/data"]].description == ""
        assert result.verification is not None
        remaining = "\n".join(result.verification.remaining)
        assert "item:/data/item-0000000.jpg" in remaining and "folder:/data" in remaining


@pytest.mark.anyio
async def test_a_recheck_parses_the_metadata_only_of_items_edited_since_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item whose ``lastEditedAt`` is still the plan's fingerprint is fresh as read; only
    one edited since is judged field by field (100,000 re-read items, 100,000 JSON parses)."""
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/few", items=12)
    desired = sandbox.desired(rules=(rule("/few", {"v": 1}),))
    parsed: list[str] = []

    def counted(text: str | None, where: str) -> dict[str, object]:
        parsed.append(where)
        return metadata_field(text, where)

    monkeypatch.setattr(ops_items, "metadata_field", counted)
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        live = await read_live(client, Scope.from_desired(desired))
        edited = next(i for i in live.items.values() if i.name == "item-0000003.jpg")
        await client.items.patch_bulk({edited.uuid: PatchItemPayload(description="note")})
        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
    assert result.ok, result.failures  # a description is not managed: still fresh
    assert result.applied == 12
    assert parsed == [f"item {edited.uuid}"]


@pytest.mark.anyio
async def test_the_plan_is_kept_out_of_the_cycle_collectors_walks_during_the_run(
    tmp_path: Path,
) -> None:
    """A plan of 100,000 changes lives to the end of the run: each full collection walked all
    of it again (``gc.freeze``); afterwards the collector has it back."""
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/few", items=12)
    desired = sandbox.desired(rules=(rule("/few", {"v": 1}),))
    during: list[tuple[int, bool]] = []

    def seen(event: Event) -> None:
        if isinstance(event, PhaseStarted):
            tracked = any(o is plan.changes for o in gc.get_objects(generation=2))
            during.append((gc.get_freeze_count(), tracked))

    gc.unfreeze()  # a test before may have run the command line's entry point (it freezes)
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        gc.collect()  # the plan's containers reach the oldest generation, as a long run's do
        result = await apply_plan(
            plan, client=client, options=ApplyOptions(desired=desired), emit=seen
        )
    assert result.ok and result.applied == 12
    assert during and all(count > 0 and not tracked for count, tracked in during)
    assert gc.get_freeze_count() == 0
    assert any(o is plan.changes for o in gc.get_objects())


@pytest.mark.anyio
async def test_each_bulk_bundle_is_written_right_after_its_recheck(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Bundles re-read before writing hold a slot (one per request the client may have in
    flight) from their re-check to their write: the next bundle is re-read while this one is
    written, not every re-read first and every write long after its check."""
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/three", folders=3, items=2100)  # three patch bundles (1000, 1000, 100)
    desired = sandbox.desired(rules=(rule("/three", {"v": 1}, recursive=True),))
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
    one_at_a_time = TargetOptions(config=sandbox.target, concurrency=1)
    async with connect(one_at_a_time) as client:
        with caplog.at_level(logging.INFO, logger="reconciler.encord.session"):
            result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
    assert result.ok, result.failures
    calls = [r.getMessage().split()[1].rsplit("/", 1)[1] for r in caplog.records]
    bulk = [c for c in calls if c in ("get-bulk", "patch-bulk")]
    assert bulk[:6] == ["get-bulk", "patch-bulk"] * 3


@pytest.mark.anyio
async def test_a_bundle_waiting_for_its_recheck_slot_does_not_start_after_a_stop(
    tmp_path: Path,
) -> None:
    """Asked to stop (Ctrl-C) while bundles wait for a slot: the one in flight finishes and
    is journaled, the waiting ones are not started (resumable, as any stopped run)."""
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/three", folders=3, items=2100)
    desired = sandbox.desired(rules=(rule("/three", {"v": 2}, recursive=True),))
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
    stop = asyncio.Event()

    def emit(event: Event) -> None:
        if isinstance(event, BundleDone) and event.addresses:
            stop.set()

    one_at_a_time = TargetOptions(config=sandbox.target, concurrency=1)
    async with connect(one_at_a_time) as client:
        options = ApplyOptions(desired=desired, stop=stop, journal=tmp_path / "j.jsonl")
        result = await apply_plan(plan, client=client, options=options, emit=emit)
    assert result.interrupted and not result.failures
    assert result.applied == 1000  # the first bundle only


@pytest.mark.anyio
async def test_an_edit_of_an_object_the_plan_never_touched_is_drift_not_a_failure(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/data", items=3)
    folders = {
        "/data": folder("/data", description="declared"),
        "/other": folder("/other", description="kept"),
    }
    _, first = await plan_and_apply(sandbox, sandbox.desired(folders=folders))
    assert first.ok
    desired = sandbox.desired(folders=folders, rules=(rule("/data", {"split": "train"}),))

    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)  # saved: apply gets no live state
        assert {c.kind for c in plan.changes} == {"item"}
        live = await read_live(client, Scope.from_desired(desired))
        await client.folders.patch_bulk(
            {live.paths["/other"]: PatchFolderPayload(description="edited by hand")}
        )
        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
        assert result.failures == () and result.ok
        verification = result.verification
        assert verification is not None and verification.remaining == ()
        assert [line.split()[:2] for line in verification.drift] == [["~", "folder:/other"]]
        after = await read_live(client, Scope.from_desired(desired))
        assert all(i.metadata == {"split": "train"} for i in after.items.values())
        assert after.folders[after.paths["/other"]].description == "edited by hand"


@pytest.mark.anyio
async def test_prune_deletes_only_what_the_plan_showed(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    first = sandbox.desired(folders={"/work/a": folder("/work/a"), "/work/b": folder("/work/b")})
    _, result = await plan_and_apply(sandbox, first)
    assert result.ok
    sandbox.seed("/work/a", items=3)
    sandbox.seed("/work/b", items=2)
    second = sandbox.desired(folders={"/work": folder("/work")})

    async def scenario() -> None:
        async with sandbox.connect() as client:
            plan = await plan_for(client, second)
            deletes = sorted(c.address for c in plan.changes if c.is_delete)
            assert deletes == [
                "folder:/work/a",
                "folder:/work/b",
                "item:/work/a/item-0000000.jpg",
                "item:/work/a/item-0000001.jpg",
                "item:/work/a/item-0000002.jpg",
                "item:/work/b/item-0000000.jpg",
                "item:/work/b/item-0000001.jpg",
            ]
            sandbox.seed("/work/a", items=1)  # appears after the plan: must survive
            result = await apply_plan(plan, client=client, options=ApplyOptions(desired=second))
            assert [(f.address, f.phase) for f in result.failures] == [
                ("folder:/work/a", "delete-folders")
            ]
            assert "still holds item item-0000000.jpg, which the plan did not show" in (
                result.failures[0].message
            )
            live = await read_live(client, Scope.from_desired(second))
            assert "/work/b" not in live.paths
            left = [i.path for i in live.items.values()]
            assert left == ["/work/a/item-0000000.jpg"]  # the newcomer, nothing else

    await scenario()


@pytest.mark.anyio
async def test_an_interrupted_run_resumes_from_its_journal(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/big", items=2500)
    desired = sandbox.desired(
        folders={"/big": folder("/big"), "/new/one": folder("/new/one")},
        rules=(rule("/big", {"batch": 7}),),
    )
    journal = tmp_path / "journal.jsonl"

    async def interrupted() -> Plan:
        async with sandbox.connect() as client:
            plan = await plan_for(client, desired)
            bundles = asyncio.Event()
            seen: list[Event] = []

            def emit(event: Event) -> None:
                seen.append(event)
                if isinstance(event, BundleDone) and event.phase == "patch-items":
                    bundles.set()

            task = asyncio.create_task(
                apply_plan(
                    plan,
                    client=client,
                    options=ApplyOptions(desired=desired, journal=journal),
                    emit=emit,
                )
            )
            await asyncio.wait_for(bundles.wait(), timeout=120)  # bounded if none comes
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return plan

    plan = await interrupted()
    recorded = read_journal(journal)
    assert not recorded.finished
    assert set(recorded.created) == {"folder:/new", "folder:/new/one"}
    patched = {k for k in recorded.done if k.endswith(":patch-items")}
    assert 0 < len(patched) < 2500

    async with sandbox.connect() as client:
        with pytest.raises(JournalError, match=r"partly applied.*--resume"):
            await apply_plan(plan, client=client, options=ApplyOptions(journal=journal))
        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(desired=desired, journal=journal, resume=True),
        )
        assert result.ok, result.failures
        assert result.already_done == len(recorded.done)
        live = await read_live(client, Scope.from_desired(desired))
        assert all(i.metadata == {"batch": 7} for i in live.items.values())
        assert len(live.items) == 2500
        news = [f for f in live.folders.values() if f.name == "new"]
        assert len(news) == 1  # created once, its id reused
        with pytest.raises(JournalError, match="already applied"):
            await apply_plan(
                plan, client=client, options=ApplyOptions(journal=journal, resume=True)
            )


@pytest.mark.anyio
async def test_an_unacknowledged_create_is_adopted_not_repeated(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    desired = sandbox.desired(
        folders={"/fresh": folder("/fresh", metadata={"k": "v"})},
        groups={"crew": group("crew")},
        datasets={"made": dataset("made")},
    )
    journal = tmp_path / "journal.jsonl"

    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        result = await apply_plan(
            plan, client=client, options=ApplyOptions(desired=desired, journal=journal)
        )
        assert result.ok
        # The process died after the API made everything, before any answer was journaled.
        lines = journal.read_text().splitlines()
        journal.write_text(lines[0] + "\n")
        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(desired=desired, journal=journal, resume=True),
        )
        assert result.ok, result.failures
        live = await read_live(client, Scope.from_desired(desired))
        assert [f.path for f in live.folders.values()] == ["/fresh"]
        assert [g.name for g in live.groups.values()].count("crew") == 1
        assert [d.title for d in live.datasets.values()] == ["made"]
        assert set(read_journal(journal).created) == {
            "folder:/fresh",
            "group:crew",
            "dataset:made",
        }


@pytest.mark.anyio
async def test_cloud_sync_then_deferred_items_then_replacement(tmp_path: Path) -> None:
    buckets = tmp_path / "buckets"
    for relative in ("acme/cams/a.jpg", "acme/cams/sub/b.jpg", "acme/other/c.mp4"):
        (buckets / relative).parent.mkdir(parents=True, exist_ok=True)
        (buckets / relative).write_bytes(b"\xff\xd8\xff" + relative.encode())
    sandbox = make_sandbox(
        tmp_path,
        integrations=(SandboxIntegration(title="lake", provider="s3", root=str(buckets)),),
    )
    await ensure_created(sandbox)

    def declared(url: str) -> DesiredState:
        return sandbox.desired(
            folders={
                "/synced": folder(
                    "/synced",
                    cloud_sync=CloudSync(integration="lake", remote_url=url, source=src(12)),
                )
            },
            rules=(rule("/synced", {"source": "lake"}, recursive=True),),
            datasets={"cams": dataset("cams", select("/synced", recursive=True))},
            policy=Policy(allow_replace=True),
        )

    first = declared("s3://acme/cams/")
    plan, result = await plan_and_apply(sandbox, first)
    assert [d.folder for d in plan.deferred] == ["/synced"]
    assert result.ok, (result.failures, result.verification)
    assert result.deferred == 4  # two item patches, two links
    finished = [e for e in sandbox.events if isinstance(e, SyncFinished)]
    assert [(e.address, e.status, e.items) for e in finished] == [("folder:/synced", "done", 2)]

    async def read(desired: DesiredState) -> LiveState:
        async with sandbox.connect() as client:
            return await read_live(client, Scope.from_desired(desired))

    live = await read(first)
    old_uuid = live.paths["/synced"]
    assert sorted(i.path for i in live.items.values()) == ["/synced/a.jpg", "/synced/sub/b.jpg"]
    assert all(i.metadata == {"source": "lake"} for i in live.items.values())
    (cams,) = live.datasets.values()
    assert {r.item_uuid for r in cams.rows} == set(live.items)

    second = declared("s3://acme/other/")
    plan, result = await plan_and_apply(sandbox, second)
    assert any(c.is_replace for c in plan.changes)
    assert result.ok, (result.failures, result.verification)
    live = await read(second)
    assert live.paths["/synced"] != old_uuid
    assert [i.path for i in live.items.values()] == ["/synced/c.mp4"]
    (cams,) = live.datasets.values()
    assert [r.item_uuid for r in cams.rows] == list(live.items)


@pytest.mark.anyio
async def test_roles_members_and_links_change_in_place(tmp_path: Path) -> None:
    people = ("alice@example.com", "bob@example.com", "carol@example.com")
    sandbox = make_sandbox(tmp_path, users=tuple(SandboxUser(email=e) for e in people))
    await ensure_created(sandbox)
    sandbox.seed("/acl", items=3)
    alice, bob, carol = people
    first = sandbox.desired(
        folders={"/acl": folder("/acl", groups={"crew": "user"})},
        groups={"crew": group("crew", members=(alice, bob))},
        datasets={
            "d1": dataset("d1", select("/acl"), groups={"crew": "admin"}, users={alice: "user"})
        },
    )
    _, result = await plan_and_apply(sandbox, first)
    assert result.ok, (result.failures, result.verification)
    second = sandbox.desired(
        folders={"/acl": folder("/acl", groups={"crew": "admin", "ops": "user"})},
        groups={
            "crew": group("crew", members=(alice, carol), description="new desc"),
            "ops": group("ops"),
        },
        datasets={
            "d1": dataset(
                "d1",
                select("/acl", name="item-0000000.jpg"),
                groups={},
                users={alice: "admin", bob: "user"},
            )
        },
    )
    plan, result = await plan_and_apply(sandbox, second)
    kinds = sorted((c.address, tuple(str(a) for a in c.actions)) for c in plan.changes)
    assert ("dataset-user:d1#alice@example.com", ("revoke", "grant")) in kinds
    assert ("dataset-group:d1#crew", ("revoke",)) in kinds
    assert result.ok, (result.failures, result.verification)

    async def read() -> LiveState:
        async with sandbox.connect() as client:
            return await read_live(client, Scope.from_desired(second))

    live = await read()
    groups = {g.name: g for g in live.groups.values()}
    assert set(groups["crew"].members) >= {alice, carol}
    assert bob not in groups["crew"].members
    assert groups["crew"].description.startswith("new desc")
    assert live.folder_groups[live.paths["/acl"]] == {
        groups["crew"].hash: "admin",
        groups["ops"].hash: "user",
    }
    (d1,) = live.datasets.values()
    assert d1.groups == {}
    assert d1.users[alice] == "admin" and d1.users[bob] == "user"
    assert [live.items[r.item_uuid].name for r in d1.rows if r.item_uuid] == ["item-0000000.jpg"]


@pytest.mark.anyio
async def test_an_item_only_plan_is_verified_by_reading_back_the_touched_items(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/many", folders=3, items=2400)
    desired = sandbox.desired(rules=(rule("/many", {"checked": True}, recursive=True),))

    async with sandbox.connect() as client:
        live = await read_live(client, Scope.from_desired(desired))
        plan = await plan_for(client, desired)
        victim = next(iter(live.items.values()))
        await client.items.patch_bulk({victim.uuid: PatchItemPayload(client_metadata={"x": 1})})
        client.reset_stats()
        result = await apply_plan(
            plan, client=client, options=ApplyOptions(desired=desired, live=live)
        )
        routes = client.stats.by_route
    verification = result.verification
    assert verification is not None and verification.reread == "touched"
    assert [f.address for f in result.failures] == [f"item:{victim.path}"]
    assert verification.remaining == (f"~ item:{victim.path}  [items.yaml:30]",)
    # 3 reads before the writes and 3 writes, which answer with the stored items; only
    # the stale item, never written, is read back: nothing is listed again
    assert routes["POST /v2/public/storage/items/get-bulk"] == 4
    assert routes["PATCH /v2/public/storage/items/patch-bulk"] == 3
    assert sum(routes.values()) == 7


@pytest.mark.anyio
async def test_a_refused_bulk_call_is_split_to_fail_only_the_bad_object(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/pool", items=8)
    desired = sandbox.desired(datasets={"pool": dataset("pool", select("/pool"))})
    first = sandbox.desired(datasets={"pool": dataset("pool")})
    _, made = await plan_and_apply(sandbox, first)
    assert made.ok

    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        assert sum(1 for c in plan.changes if c.kind == "link") == 8
        live = await read_live(client, Scope.from_desired(desired))
        gone = sorted(live.items.values(), key=lambda i: i.name)[5]
        await client.items.delete(gone.parent, [gone.uuid])
        client.reset_stats()
        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
        links = client.stats.by_route["POST /public datasetlinkitems"]
        assert [f.address for f in result.failures] == [f"link:pool#{gone.path}"]
        assert links <= 1 + 2 * 3  # the whole call, then halves down to the bad item
        after = await read_live(client, Scope.from_desired(desired))
        (pool,) = after.datasets.values()
        assert {r.item_uuid for r in pool.rows} == set(after.items) and len(after.items) == 7
        assert result.verification is not None and result.verification.remaining == ()


@pytest.mark.anyio
async def test_when_a_create_fails_what_depends_on_it_is_skipped(tmp_path: Path) -> None:
    buckets = tmp_path / "buckets"
    (buckets / "b").mkdir(parents=True)
    sandbox = make_sandbox(
        tmp_path, integrations=(SandboxIntegration(title="lake", provider="s3", root=str(buckets)),)
    )
    await ensure_created(sandbox)
    desired = sandbox.desired(
        folders={
            "/bad": folder(
                "/bad",
                groups={"crew": "user"},
                cloud_sync=CloudSync(integration="lake", remote_url="gs://b/x/", source=src(11)),
            ),
            "/bad/child": folder("/bad/child"),
            "/good": folder("/good"),
        },
        groups={"crew": group("crew")},
    )
    _, result = await plan_and_apply(sandbox, desired)
    failures = {f.address: f for f in result.failures}
    assert set(failures) == {"folder:/bad", "folder:/bad/child", "folder-group:/bad#crew"}
    assert not failures["folder:/bad"].skipped
    assert "does not fit a s3 integration" in failures["folder:/bad"].message
    assert failures["folder:/bad/child"].skipped
    assert failures["folder:/bad/child"].message == (
        "not applied: it depends on folder /bad, which failed"
    )
    assert failures["folder-group:/bad#crew"].skipped
    live = await _read(sandbox, desired)
    assert "/good" in live.paths and "/bad" not in live.paths
    assert [g.name for g in live.groups.values()] == ["crew"]


async def _read(sandbox: Sandbox, desired: DesiredState) -> LiveState:
    async with sandbox.connect() as client:
        return await read_live(client, Scope.from_desired(desired))


@pytest.mark.anyio
async def test_a_plan_read_moments_ago_is_trusted_an_older_one_is_read_again(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/many", folders=2, items=1500)

    async def run(value: int, age: float) -> Mapping[str, int]:
        desired = sandbox.desired(rules=(rule("/many", {"v": value}, recursive=True),))
        async with sandbox.connect() as client:
            read_at = time.monotonic() - age
            live = await read_live(client, Scope.from_desired(desired))
            plan = await plan_for(client, desired)
            client.reset_stats()
            result = await apply_plan(
                plan,
                client=client,
                options=ApplyOptions(desired=desired, live=live, read_at=read_at),
            )
            assert result.ok, result.failures
            return dict(client.stats.by_route)

    fresh = await run(1, age=0)
    assert fresh == {"PATCH /v2/public/storage/items/patch-bulk": 2}  # the writes, nothing else
    old = await run(2, age=120)
    assert old == {
        "POST /v2/public/storage/items/get-bulk": 2,
        "PATCH /v2/public/storage/items/patch-bulk": 2,
    }


@pytest.mark.anyio
async def test_only_the_changes_a_recent_read_vouches_for_skip_their_reread(
    tmp_path: Path,
) -> None:
    """``trusted_changes`` (a saved plan's, ``plan/recheck.vouched_for``): the others are read
    again before they are written, only they, in the same bundles and writes; once the read
    is old, all are."""
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/many", folders=2, items=1500)

    async def run(value: int, age: float) -> tuple[Mapping[str, int], ApplyResult]:
        desired = sandbox.desired(rules=(rule("/many", {"v": value}, recursive=True),))
        async with sandbox.connect() as client:
            live = await read_live(client, Scope.from_desired(desired))
            plan = await plan_for(client, desired)
            unvouched = plan.changes[1]
            vouched = frozenset(c.address for c in plan.changes) - {unvouched.address}
            # edited after the plan: the re-read of it finds it stale
            assert unvouched.refs.uuid is not None
            await client.items.patch_bulk(
                {unvouched.refs.uuid: PatchItemPayload(client_metadata={"v": -value})}
            )
            client.reset_stats()
            options = ApplyOptions(
                desired=desired,
                live=live,
                read_at=time.monotonic() - age,
                trusted_changes=vouched,
                verify=False,
            )
            result = await apply_plan(plan, client=client, options=options)
            return dict(client.stats.by_route), result

    requests, result = await run(1, age=0)
    assert requests == {
        "POST /v2/public/storage/items/get-bulk": 1,  # the bundle of the one not vouched for
        "PATCH /v2/public/storage/items/patch-bulk": 2,
    }
    assert result.applied == 1499 and [f.stale for f in result.failures] == [True]
    requests, result = await run(2, age=120)
    assert requests == {
        "POST /v2/public/storage/items/get-bulk": 2,
        "PATCH /v2/public/storage/items/patch-bulk": 2,
    }
    assert result.applied == 1499 and [f.stale for f in result.failures] == [True]
