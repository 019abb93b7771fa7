"""``read_live`` against the real sandbox: what it reads (paths, items, roles, groups, datasets,
integrations, users, schema), what it refuses to guess (ambiguous paths, missing roots,
partial reads), and how many requests it takes."""

from __future__ import annotations

import asyncio
import gc
import math
import re
from pathlib import Path

import httpx
import pytest
from encord_data.kit import (
    INTEGRATION,
    MEMBERS,
    Sandboxed,
    embedded,
    over_socket,
    sandbox_target,
    seed,
    served,
)
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as Scope_

from reconciler.encord import ClientOptions, EncordClient, Folder, KeyAuth
from reconciler.live import Scope, read_live
from reconciler.sandbox.embedded import open_embedded
from reconciler.wire.enums import DatasetUserRole, StorageUserRole, SyncStatus
from reconciler.wire.storage import CloudSyncedFolderParams, PatchFolderPayload, PatchItemPayload

FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


async def _sync(s: Sandboxed, parent: str, name: str = "cams") -> tuple[Folder, dict[str, str]]:
    """A cloud-synced folder of the fixture bucket; item name -> uuid (recursive)."""
    c = s.client
    integration = {i.title: i for i in await c.integrations.list_all()}[INTEGRATION]
    params = CloudSyncedFolderParams(
        integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/cams/"
    )
    cams = await c.folders.create(name, parent=parent, cloud_sync=params)
    job = await c.folders.start_sync(cams.uuid)
    assert (
        await c.folders.wait_for_sync(cams.uuid, job, timeout_seconds=30)
    ).status == SyncStatus.DONE
    return cams, {i.name: str(i.uuid) async for i in c.items.list_recursive(cams.uuid)}


@pytest.mark.anyio
async def test_a_tree_is_read_with_paths_metadata_roles_and_fingerprints(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        top = await c.folders.create("org")
        tree = await c.folders.create("tree", parent=top.uuid, metadata={"team": "ml"})
        a = await c.folders.create("a", parent=tree.uuid, description="A")
        cams, items = await _sync(s, str(a.uuid))
        await c.items.patch_bulk({items["c.png"]: PatchItemPayload(client_metadata={"n": 1})})
        group = await c.groups.create("readers", "who reads")
        await c.groups.add_members(group.group_hash, ["alice@example.com"])
        await c.folders.add_groups(a.uuid, [group.group_hash], StorageUserRole.ADMIN)
        live = await read_live(c, Scope(roots=("/org/tree",), groups=frozenset({"readers"})))

        assert live.paths == {
            "/org": str(top.uuid), "/org/tree": str(tree.uuid), "/org/tree/a": str(a.uuid),
            "/org/tree/a/cams": str(cams.uuid),
            "/org/tree/a/cams/night": live.paths["/org/tree/a/cams/night"],
        }  # fmt: skip
        assert live.scope == ("/org/tree",) and live.complete and live.problems == ()
        assert live.folders[str(tree.uuid)].metadata == {"team": "ml"}
        assert live.folders[str(a.uuid)].description == "A"
        synced = live.folders[str(cams.uuid)]
        assert (synced.folder_type, synced.remote_url) == ("cloudLinked", "s3://acme-raw/cams/")
        assert synced.integration_uuid is not None
        by_path = {i.path: i for i in live.items.values()}
        assert sorted(by_path) == [
            "/org/tree/a/cams/a.jpg", "/org/tree/a/cams/b.jpg",
            "/org/tree/a/cams/night/c.png", "/org/tree/a/cams/night/d.txt",
        ]  # fmt: skip
        assert by_path["/org/tree/a/cams/night/c.png"].metadata == {"n": 1}
        assert by_path["/org/tree/a/cams/night/d.txt"].item_type == "plainText"
        fetched = await c.folders.get(a.uuid)
        assert live.folders[str(a.uuid)].last_edited_at == fetched.last_edited_text
        assert all(FORMAT.match(i.last_edited_at) for i in live.items.values())
        assert live.folder_groups[str(a.uuid)] == {str(group.group_hash): "admin"}
        assert live.folder_groups[str(tree.uuid)] == {}
        assert str(top.uuid) not in live.folder_groups  # ancestors are not in scope
        assert live.listing_counts == {"/org/tree": 3 + 4}
        readers = live.groups[str(group.group_hash)]
        assert (readers.name, readers.description) == ("readers", "who reads")
        assert readers.members == tuple(sorted([s.admin_email, "alice@example.com"]))
        assert {i.title for i in live.integrations.values()} == {INTEGRATION}
        assert set(MEMBERS) | {s.admin_email} <= set(live.users)
        assert live.users["alice@example.com"].role == "MEMBER"


@pytest.mark.anyio
async def test_siblings_with_one_name_are_ambiguous_not_merged(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        amb = await c.folders.create("amb")
        one = await c.folders.create("dup", parent=amb.uuid)
        two = await c.folders.create("dup", parent=amb.uuid)
        inner = await c.folders.create("c", parent=two.uuid)
        cams, items = await _sync(s, str(amb.uuid))
        await c.items.move(cams.uuid, [items["a.jpg"]], one.uuid, allow_synced_dataset_move=True)
        await c.items.move(cams.uuid, [items["b.jpg"]], inner.uuid, allow_synced_dataset_move=True)

        live = await read_live(c, Scope(roots=("/amb",)))
        pair = tuple(sorted([str(one.uuid), str(two.uuid)]))
        assert live.ambiguous == {"/amb/dup": pair}
        assert "/amb/dup" not in live.paths and "/amb/dup/c" not in live.paths
        assert live.paths["/amb"] == str(amb.uuid)
        assert {live.folders[u].path for u in pair} == {"/amb/dup"}
        assert live.folders[str(inner.uuid)].path == "/amb/dup/c"
        assert live.items[items["a.jpg"]].folder_path == "/amb/dup"
        assert live.items[items["b.jpg"]].folder_path == "/amb/dup/c"

        # An ambiguous root: both subtrees are read, and the root path is reported.
        live = await read_live(c, Scope(roots=("/amb/dup",)))
        assert live.ambiguous == {"/amb/dup": pair}
        assert {f.uuid for f in live.folders.values()} == {
            str(amb.uuid),
            *pair,
            str(inner.uuid),
        }
        assert live.listing_counts == {"/amb/dup": 1 + 2}


@pytest.mark.anyio
async def test_missing_roots_are_reported_and_cost_no_listing(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        await s.client.folders.create("here")
        s.client.reset_stats()
        live = await read_live(s.client, Scope(roots=("/nope", "/here/nope/deeper")))
        assert live.missing_roots == ("/here/nope/deeper", "/nope")
        assert live.listing_counts == {"/nope": 0, "/here/nope/deeper": 0}
        assert live.folders.keys() == {live.paths["/here"]}
        routes = s.client.stats.by_route
        assert "GET /v2/public/storage/folders/{uuid}/items" not in routes


@pytest.mark.anyio
async def test_the_read_runs_without_the_cycle_collector_and_restores_it(
    tmp_path: Path,
) -> None:
    """Paused while the read runs (its progress events see it off), then as the caller had
    it: on again, or still off."""
    async with embedded(tmp_path) as s:
        top = await s.client.folders.create("here")
        await s.client.folders.create("child", parent=top.uuid)
        seen: list[bool] = []
        try:
            live = await read_live(
                s.client, Scope(roots=("/here",)), on_progress=lambda _: seen.append(gc.isenabled())
            )
            assert gc.isenabled()
            gc.disable()
            await read_live(s.client, Scope(roots=("/here",)))
            assert not gc.isenabled()
        finally:
            gc.enable()
    assert len(live.folders) == 2
    assert len(seen) >= 2 and not any(seen[:-1])
    assert seen[-1]  # the last event, once the read is done


@pytest.mark.anyio
async def test_datasets_in_scope_are_read_in_depth(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        root = await c.folders.create("d")
        _, items = await _sync(s, str(root.uuid))
        group = await c.groups.create("dsg")
        wanted = await c.datasets.create("wanted", description="in scope")
        other = await c.datasets.create("other")
        rows = await c.datasets.link_items(wanted.dataset_uuid, [items["a.jpg"], items["d.txt"]])
        await c.datasets.link_items(other.dataset_uuid, [items["b.jpg"]])
        await c.datasets.add_groups(wanted.dataset_uuid, [group.group_hash], DatasetUserRole.USER)
        await c.datasets.add_users(wanted.dataset_uuid, ["bob@example.com"], DatasetUserRole.USER)
        live = await read_live(c, Scope(roots=("/d",), datasets=frozenset({"wanted", "gone"})))

        assert list(live.datasets) == [str(wanted.dataset_uuid)]
        ds = live.datasets[str(wanted.dataset_uuid)]
        assert (ds.title, ds.description, ds.user_role) == ("wanted", "in scope", "admin")
        assert {(r.data_hash, r.item_uuid) for r in ds.rows} == {
            (r.data_hash, r.backing_item_uuid) for r in rows
        }
        assert ds.groups == {str(group.group_hash): "user"}
        assert ds.users == {s.admin_email: "admin", "bob@example.com": "user"}
        assert FORMAT.match(ds.last_edited_at)


class _ForbidOne(httpx.AsyncBaseTransport):
    """The real sandbox, except that one folder's item listing answers 403."""

    def __init__(self, inner: httpx.AsyncBaseTransport, forbidden: str) -> None:
        self._inner = inner
        self._forbidden = forbidden

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/v2/public/storage/folders/{self._forbidden}/items":
            return httpx.Response(403, json={"message": "no access"})
        return await self._inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_forbidden_subtree_makes_the_read_incomplete(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        root = await s.client.folders.create("p")
        await _sync(s, str(root.uuid))
    sandbox = open_embedded(sandbox_target(tmp_path))
    transport = _ForbidOne(httpx.ASGITransport(app=sandbox.app), str(root.uuid))
    options = ClientOptions(
        domain="http://sandbox.local", auth=KeyAuth(sandbox.private_key), transport=transport
    )
    try:
        async with EncordClient(options) as client:
            live = await read_live(client, Scope(roots=("/p",)))
    finally:
        sandbox.close()
    assert not live.complete
    assert live.items == {}
    assert live.problems == (
        "items under /p: forbidden: you need access to folder /p (Encord said: no access)",
    )
    assert "/p/cams" in live.paths  # what could be read is still there


class _ForbidUsers(httpx.AsyncBaseTransport):
    """The real sandbox, except that the organisation users listing answers 403."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/public/organisation/users":
            return httpx.Response(403, json={"message": "no access"})
        return await self._inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_refused_users_listing_is_unknown_not_empty(tmp_path: Path) -> None:
    async with embedded(tmp_path):
        pass
    sandbox = open_embedded(sandbox_target(tmp_path))
    transport = _ForbidUsers(httpx.ASGITransport(app=sandbox.app))
    options = ClientOptions(
        domain="http://sandbox.local", auth=KeyAuth(sandbox.private_key), transport=transport
    )
    try:
        async with EncordClient(options) as client:
            live = await read_live(client, Scope(roots=("/p",)))
    finally:
        sandbox.close()
    assert live.users == {} and not live.users_complete
    assert live.complete  # the storage read is whole; only user changes are not planned
    assert any(p.startswith("organisation users: forbidden") for p in live.problems)


class InFlight:
    """ASGI middleware counting the requests being served at once (``peak``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.now, self.peak = app, 0, 0

    async def __call__(self, scope: Scope_, receive: Receive, send: Send) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.mark.anyio
async def test_independent_reads_run_concurrently_within_the_limit(tmp_path: Path) -> None:
    """31 folders' role reads, the tree and the organisation reads at 40 ms a request: they
    overlap (one at a time, 31 x 40 ms for the roles alone), never beyond the client's limit."""
    watched: list[InFlight] = []

    def watch(app: ASGIApp) -> ASGIApp:
        watched.append(InFlight(app))
        return watched[-1]

    async with embedded(tmp_path, concurrency=8, wrap=watch) as s:
        root = await s.client.folders.create("wide")
        await asyncio.gather(
            *(s.client.folders.create(f"f{n}", parent=root.uuid) for n in range(30))
        )
        await s.set_faults(latency_ms=40)
        watched[0].peak = 0
        live = await read_live(s.client, Scope(roots=("/wide",)))
    assert len(live.folder_groups) == 31
    assert 4 <= watched[0].peak <= 8


@pytest.mark.anyio
@pytest.mark.slow
async def test_request_count_stays_near_the_minimum_on_a_seeded_sandbox(tmp_path: Path) -> None:
    folders, items = 60, 4500
    with served(tmp_path) as server:
        seed(server.db_path, "/bench/seeded", folders=folders, items=items)

        async def go() -> None:
            async with over_socket(server) as s:
                c = s.client
                (bench,) = [f async for f in c.folders.list_root(search="bench")]
                group = await c.groups.create("seed-readers")
                for title in ("ds-1", "ds-2"):
                    await c.datasets.create(title)
                await c.folders.patch_bulk({bench.uuid: PatchFolderPayload(description="b")})
                await s.reset_stats()
                c.reset_stats()
                scope = Scope(
                    roots=("/bench/seeded",),
                    datasets=frozenset({"ds-1", "ds-2"}),
                    groups=frozenset({group.name}),
                )
                live = await read_live(c, scope)
                theirs = await s.stats()
                assert len(live.items) == items and len(live.folders) == folders + 2
                assert live.listing_counts == {"/bench/seeded": folders + items}
                minimum = (
                    math.ceil(items / 1000)
                    + math.ceil(folders / 1000)
                    + (folders + 1)  # one group-role read per folder in scope
                    + 2 * 3  # data rows, groups and users of each dataset in scope
                    + 1  # members of the one group in scope
                )
                # Constant extras: resolve /bench and /bench/seeded (2), list groups,
                # datasets, integrations, users, schema (5), and who the caller is: the
                # organisation-wide probe, the users listing again and user/current (3, see
                # live/identity).
                assert theirs["total"] == c.stats.total == minimum + 10
                # 61 folders: no split (more children than the concurrency of 16); the one
                # listing is read from both ends: the first page, then a page from each end
                # in two rounds; they meet with no page to spare (test_live_chains has more).
                assert theirs["GET /v2/public/storage/folders/{uuid}/items"] == math.ceil(
                    items / 1000
                )

        await go()


class _SearchBlind(httpx.AsyncBaseTransport):
    """The real sandbox, except that ``search`` finds nothing (unknown server semantics)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "search" in request.url.params:
            return httpx.Response(200, json={"results": [], "nextPageToken": None})
        return await self._inner.handle_async_request(request)


@pytest.mark.anyio
async def test_a_root_the_search_misses_is_confirmed_by_a_plain_listing(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        top = await s.client.folders.create("x")
        await s.client.folders.create("y", parent=top.uuid)
    sandbox = open_embedded(sandbox_target(tmp_path))
    options = ClientOptions(
        domain="http://sandbox.local",
        auth=KeyAuth(sandbox.private_key),
        transport=_SearchBlind(httpx.ASGITransport(app=sandbox.app)),
    )
    try:
        async with EncordClient(options) as client:
            live = await read_live(client, Scope(roots=("/x/y", "/x/absent")))
    finally:
        sandbox.close()
    assert live.missing_roots == ("/x/absent",)
    assert set(live.paths) == {"/x", "/x/y"}


@pytest.mark.anyio
@pytest.mark.slow
async def test_roots_and_datasets_of_other_members_are_found_with_organisation_access(
    tmp_path: Path,
) -> None:
    """An admin lists others' root folders and datasets only with includeOrgAccess=True; a
    member is refused it (403) and reads what it can see."""
    with served(tmp_path) as server:
        alice_key = tmp_path / "alice@example.com.key"

        async def go() -> None:
            async with over_socket(server, key_path=alice_key) as alice:
                mine = await alice.client.folders.create("alices")
                await alice.client.folders.create("inner", parent=mine.uuid)
                await alice.client.datasets.create("alices-ds")
                as_member = await read_live(
                    alice.client, Scope(roots=("/alices",), datasets=frozenset({"alices-ds"}))
                )
                assert set(as_member.paths) == {"/alices", "/alices/inner"}
                assert [d.title for d in as_member.datasets.values()] == ["alices-ds"]
            async with over_socket(server) as admin:
                c = admin.client
                assert [f async for f in c.folders.list_root(search="alices")] == []
                live = await read_live(
                    c, Scope(roots=("/alices",), datasets=frozenset({"alices-ds"}))
                )
                assert live.missing_roots == () and set(live.paths) == {"/alices", "/alices/inner"}
                assert [(d.title, d.user_role) for d in live.datasets.values()] == [
                    ("alices-ds", None)
                ]

        await go()
