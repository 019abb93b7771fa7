"""The client under the sandbox's fault modes: calls succeed within bounds, and
non-idempotent calls (create folder/group/dataset, link, add user) never take effect twice,
even when the sandbox commits a request and then answers 502."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
from encord_data.kit import Sandboxed, embedded, over_socket, served

from reconciler.encord import AmbiguousOperationError, RetryOptions, ServerError
from reconciler.sandbox.options import SandboxOptions
from reconciler.wire.enums import SyncStatus
from reconciler.wire.storage import CloudSyncedFolderParams, PatchFolderPayload

N = 12


async def _creates(s: Sandboxed) -> None:
    c = s.client
    root = await c.folders.create("faulty")
    made = await asyncio.gather(
        *(c.folders.create(f"f{n:02d}", parent=root.uuid) for n in range(N))
    )
    groups = await asyncio.gather(*(c.groups.create(f"g{n:02d}") for n in range(N)))
    datasets = await asyncio.gather(*(c.datasets.create(f"d{n:02d}") for n in range(4)))
    await asyncio.gather(*(c.users.add(f"u{n}@example.com", role="MEMBER") for n in range(4)))
    patches: dict[UUID | str, PatchFolderPayload] = {
        f.uuid: PatchFolderPayload(description=f"desc {f.name}") for f in made
    }
    await c.folders.patch_bulk(patches)
    await c.folders.move([made[0].uuid], made[1].uuid)
    await c.folders.delete(made[2].uuid)
    await s.set_faults(error_after_rate=0.0, error_rate=0.0, storm_rate=0.0)
    # Read back with faults off: exactly one of everything.
    children = Counter([f.name async for f in c.folders.list_subfolders(root.uuid, recursive=True)])
    assert children == Counter({f"f{n:02d}": 1 for n in range(N) if n != 2})
    names = Counter(g.name for g in await c.groups.list_all())
    assert all(names[f"g{n:02d}"] == 1 for n in range(N)), names
    assert {str(g.group_hash) for g in groups} == {
        str(g.group_hash) for g in await c.groups.list_all() if g.name.startswith("g")
    }
    titles = Counter(d.title for d in await c.datasets.list_all())
    assert all(titles[f"d{n:02d}"] == 1 for n in range(4)), titles
    assert {str(d.dataset_uuid) for d in datasets} == {
        str(d.dataset_uuid) for d in await c.datasets.list_all()
    }
    emails = {u.email for u in await c.users.list_all()}
    assert {f"u{n}@example.com" for n in range(4)} <= emails
    described = {
        f.name: f.description async for f in c.folders.list_subfolders(root.uuid, recursive=True)
    }
    assert described["f05"] == "desc f05"
    assert str((await c.folders.get(made[0].uuid)).parent) == str(made[1].uuid)


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_commit_then_502_never_duplicates_a_create(tmp_path: Path, seed: int) -> None:
    options = SandboxOptions(error_after_rate=0.3, error_rate=0.1, seed=seed)

    async def go() -> int:
        async with embedded(tmp_path, options=options) as sandbox:
            await _creates(sandbox)
            return sandbox.client.stats.retries

    assert await go() > 0  # the faults did hit


@pytest.mark.anyio
async def test_links_are_not_duplicated_when_answers_are_lost(tmp_path: Path) -> None:
    async with embedded(tmp_path, options=SandboxOptions(seed=5)) as s:
        c = s.client
        root = await c.folders.create("links")
        items = await _synced(s, root.uuid)
        ds = (await c.datasets.create("linked")).dataset_uuid
        await s.set_faults(error_after_rate=0.5, seed=11)
        for item in items:
            await c.datasets.link_items(ds, [item])
        rows = await c.datasets.data_rows(ds)
        await s.set_faults(error_after_rate=0.0)
        assert sorted(r.backing_item_uuid or "" for r in rows) == sorted(items)
        await s.set_faults(error_after_rate=0.5, seed=12)
        await c.datasets.unlink(ds, [r.data_hash for r in rows])
        await s.set_faults(error_after_rate=0.0)
        assert await c.datasets.data_rows(ds) == []


async def _synced(s: Sandboxed, parent: object) -> list[str]:
    c = s.client
    integration = (await c.integrations.list_all())[0]
    params = CloudSyncedFolderParams(
        integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/cams/"
    )
    cams = await c.folders.create("cams", parent=str(parent), cloud_sync=params)
    job = await c.folders.start_sync(cams.uuid)
    assert (
        await c.folders.wait_for_sync(cams.uuid, job, timeout_seconds=30)
    ).status == SyncStatus.DONE
    return sorted([str(i.uuid) async for i in c.items.list_recursive(cams.uuid)])


@pytest.mark.anyio
async def test_sync_start_after_a_lost_answer_is_reported_not_resent(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        integration = (await c.integrations.list_all())[0]
        params = CloudSyncedFolderParams(
            integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/cams/"
        )
        cams = await c.folders.create("cams", cloud_sync=params)
        await s.set_faults(error_after_rate=1.0)
        s.client.reset_stats()
        with pytest.raises(AmbiguousOperationError, match="may or may not have taken effect"):
            await c.folders.start_sync(cams.uuid)
        assert c.stats.by_route == {
            "POST /v2/public/storage/folders/{uuid}/cloud-synced-folder-syncs": 1
        }


@pytest.mark.anyio
async def test_a_server_that_keeps_failing_fails_the_call_within_its_bounds(tmp_path: Path) -> None:
    retry = RetryOptions(max_attempts=4, max_total_seconds=5, base_backoff_seconds=0.01)

    async with embedded(tmp_path, retry=retry) as s:
        await s.set_faults(error_rate=1.0)
        started = time.monotonic()
        with pytest.raises(ServerError, match="gave up after 4 attempts"):
            await s.client.folders.get("adba34d6-829d-427b-bcab-1ddee5134713")
        assert time.monotonic() - started < 2
        assert (await s.stats())["total"] == 4


@pytest.mark.anyio
@pytest.mark.slow
async def test_a_429_storm_over_a_socket_slows_the_run_but_every_call_succeeds(
    tmp_path: Path,
) -> None:
    """The next 6 requests get 429 + Retry-After: 1; the whole client waits, then finishes."""
    with served(tmp_path, serve_args=("--latency-ms", "20")) as server:

        async def go() -> None:
            async with over_socket(server, concurrency=8) as s:
                c = s.client
                root = await c.folders.create("stormy")
                await s.set_faults(storm_requests=6, storm_retry_after=1)
                started = time.monotonic()
                made = await asyncio.gather(
                    *(c.folders.create(f"s{n}", parent=root.uuid) for n in range(10))
                )
                await asyncio.gather(*(c.folders.get(f.uuid) for f in made))
                elapsed = time.monotonic() - started
                assert 1.0 <= elapsed < 6.0
                assert c.stats.rate_limited == 6
                names = [f.name async for f in c.folders.list_subfolders(root.uuid)]
                assert sorted(names) == sorted(f"s{n}" for n in range(10))

        await go()


@pytest.mark.anyio
async def test_tag_creates_and_deletes_whose_answers_are_lost_take_effect_once(
    tmp_path: Path,
) -> None:
    """Tag names are unique, so a resent create that had taken effect would answer 409 and a
    resent delete 404: the client reads the tags instead, and both succeed exactly once."""
    async with embedded(tmp_path, options=SandboxOptions(seed=7)) as s:
        c = s.client.organisation_tags
        await s.set_faults(error_after_rate=0.5, seed=21)
        made = [await c.create(f"t{n:02d}", f"tag {n}") for n in range(N)]
        for tag in made[: N // 2]:
            await c.delete(tag.uuid)
        await s.set_faults(error_after_rate=0.0)
        assert s.client.stats.retries > 0  # the faults did hit
        left = {t.name: str(t.uuid) for t in await c.list_all()}
    assert left == {t.name: str(t.uuid) for t in made[N // 2 :]}
