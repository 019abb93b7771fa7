"""Our duplicate folders at or inside a folder the plan replaces to make it cloud-synced (the
counterexamples a random search of ``test_plan_properties`` found): the heal deletes are part
of the replacement, so one apply converges; and a rule or selector naming a folder the
replacement deletes is warned of in the plan that deletes it. And when the re-plan after a
sync cannot plan the synced folder's items (its path became ambiguous), apply says so; and a
folder the plan both moves and registers into is re-planned where the move puts it. Folders
that leave a replaced folder, or swap places with it, end where the plan shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.desired import dataset, desired_state, folder, registration, rule, select, src
from helpers.provision import apply, provision, read
from simulator import Org

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.model import addresses as addr
from reconciler.model.desired import OWNER_KEY, CloudSync, DesiredFolder, DesiredState
from reconciler.plan import DiffOptions, Plan, diff

OURS = {OWNER_KEY: "acme"}
BUCKET = "s3://bucket/one/"
SYNC = CloudSync(integration="s3-raw", remote_url=BUCKET, sync="on_create", source=src(50))


def _org() -> Org:
    return Org(integrations={"int-1": "s3-raw"}, buckets={BUCKET: ["p.jpg", "sub/q.jpg"]})


def _synced_a(**parts: object) -> DesiredState:
    return desired_state(folders={"/a": folder("/a", cloud_sync=SYNC, claim="adopt")}, **parts)


def _heals(plan: Plan) -> set[str]:
    return {c.address for c in plan.changes if "a duplicate of" in c.reason}


def _replacement(plan: Plan) -> set[str]:
    (replace,) = [c for c in plan.changes if c.is_replace]
    return set(replace.depends_on)


@pytest.mark.anyio
async def test_duplicates_inside_a_replaced_folder_go_with_it(tmp_path: Path) -> None:
    """Before: the old /a was deleted while our empty duplicate /a/a was still in it (the heal
    delete ran after the replacement), so apply failed on "still holds folder a"."""
    org = _org()
    a = org.add_folder(None, "a", metadata=OURS)
    org.add_folder(a, "a", metadata=OURS)
    org.add_folder(a, "a", metadata=OURS)
    desired = _synced_a()
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        (healed,) = _heals(plan)
        assert healed.startswith("folder:/a/a#")
        assert healed in _replacement(plan)
        await apply(client, plan, desired)
        live = await read(client, desired)
        assert diff(desired, live).changes == ()
    assert sorted(f.path for f in live.folders.values()) == ["/a", "/a/sub"]


@pytest.mark.anyio
async def test_duplicates_beside_a_replaced_folder_go_before_the_new_one_is_synced(
    tmp_path: Path,
) -> None:
    """Before: the duplicates of /a were deleted only after the new /a was created and synced,
    so the re-plan of the sync's items saw /a ambiguous and silently planned nothing; the rule
    on /a was applied only by a second apply."""
    org = _org()
    for _ in range(3):
        org.add_folder(None, "a", metadata=OURS)
    desired = _synced_a(rules=(rule("/a", {"r0": 0}),))
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        assert len(_heals(plan)) == 2
        assert _heals(plan) <= _replacement(plan)
        await apply(client, plan, desired)
        live = await read(client, desired)
        assert diff(desired, live).changes == ()
    assert {i.path: dict(i.metadata) for i in live.items.values()} == {
        "/a/p.jpg": {"r0": 0},
        "/a/sub/q.jpg": {},
    }


def test_a_replacement_waits_only_for_the_duplicates_at_or_under_its_path() -> None:
    org = _org()
    a = org.add_folder(None, "a", metadata=OURS)
    org.add_folder(a, "a", metadata=OURS)
    org.add_folder(a, "a", metadata=OURS)
    org.add_folder(None, "ab", metadata=OURS)  # a sibling whose name starts with "a"
    org.add_folder(None, "ab", metadata=OURS)
    desired = desired_state(folders={"/a": folder("/a", cloud_sync=SYNC), "/ab": folder("/ab", 11)})
    plan = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))
    inside = {h for h in _heals(plan) if h.startswith("folder:/a/a#")}
    assert len(inside) == 1 and len(_heals(plan) - inside) == 1
    assert _replacement(plan) >= inside
    assert not _replacement(plan) & (_heals(plan) - inside)


def test_a_selector_on_a_folder_the_replacement_deletes_is_warned_of() -> None:
    """The sync may bring /a/old back (it is no error yet), but unless it does the next plan
    stops on the selector: this plan says so."""
    org = _org()
    a = org.add_folder(None, "a", metadata=OURS)
    org.add_folder(a, "old", metadata=OURS)
    desired = _synced_a(
        datasets={"d1": dataset("d1", select("/a/old"), select("/a/sub"))},
        rules=(rule("/a", {"r0": 0}),),
    )
    plan = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))
    assert addr.folder("/a/old") in {c.address for c in plan.changes if c.is_delete}
    (warning,) = plan.warnings
    assert warning.startswith("datasets.yaml:")
    assert "selector folder /a/old is deleted with /a, which this plan replaces" in warning


@pytest.mark.anyio
async def test_a_synced_folder_made_ambiguous_during_the_sync_is_a_note_not_silence(
    tmp_path: Path,
) -> None:
    """Before: the re-plan of the sync's items withheld everything under the ambiguous /a and
    apply passed over it in silence (the rule's metadata was simply never written)."""
    desired = _synced_a(rules=(rule("/a", {"r0": 0}),))
    provisioned = await provision(_org(), tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        assert [d.folder for d in plan.deferred] == ["/a"]

        async def someone_else_makes_a(phase: str) -> None:
            if phase == "sync":
                await client.folders.create("a")

        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(desired=desired, before_phase=someone_else_makes_a),
        )
    assert not result.failures
    assert result.deferred == 0
    (note,) = [n for n in result.notes if "newly synced" in n]
    assert note.startswith("items of newly synced folders were not planned: /a names 2 sibling")


@pytest.mark.anyio
async def test_items_registered_into_a_folder_the_plan_moves_get_their_rule_in_one_apply(
    tmp_path: Path,
) -> None:
    """Before: the re-plan of the registered items ran right after the sync phase, before
    the folder moves, so it read /a while the folder was still at /b/a, found nothing, and
    the rule's metadata came only with a second apply."""
    org = _org()
    b = org.add_folder(None, "b", metadata=OURS)
    org.add_folder(b, "a", metadata=OURS)
    register = registration([{"url": f"{BUCKET}p.jpg"}], integration="s3-raw")
    desired = desired_state(
        folders={
            "/b": folder("/b"),
            "/a": folder("/a", 11, previously=("/b/a",), registration=register),
        },
        rules=(rule("/a", {"r0": True}),),
    )
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        assert [d.folder for d in plan.deferred] == ["/a"]
        await apply(client, plan, desired)
        live = await read(client, desired)
        assert diff(desired, live).changes == ()
    assert [(i.path, i.metadata.get("r0")) for i in live.items.values()] == [("/a/p.jpg", True)]


async def _leaves_the_replaced_b(tmp_path: Path, to: str, **folders: DesiredFolder) -> None:
    """/b/a moves to ``to`` (with ``folders`` declared beside it) while /b becomes cloud-synced
    and is replaced: one apply converges, and /a keeps its UUID (moved, not made again)."""
    org = _org()
    b = org.add_folder(None, "b", metadata=OURS)
    a = org.add_folder(b, "a", metadata=OURS)
    moved = folder(to, 13, previously=("/b/a",))
    desired = desired_state(folders={"/b": folder("/b", cloud_sync=SYNC), **folders, to: moved})
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        assert {c.address for c in plan.changes} >= {f"folder:{to}", "folder:/b"}
        await apply(client, plan, desired)
        live = await read(client, desired)
        assert diff(desired, live).changes == ()
    assert live.paths[to] == provisioned.uuids[a]
    assert live.paths["/b"] != provisioned.uuids[b]


@pytest.mark.anyio
async def test_a_folder_moving_out_of_a_replaced_folder_leaves_before_it_is_deleted(
    tmp_path: Path,
) -> None:
    """Before: the replace phase ran before move-folders, so the old /b was deleted while /b/a
    was still in it; apply refused that delete and a second apply finished the replacement."""
    await _leaves_the_replaced_b(tmp_path, "/a")


@pytest.mark.anyio
async def test_a_folder_moving_out_of_a_replaced_folder_into_a_new_one_leaves_first(
    tmp_path: Path,
) -> None:
    """Where it goes is made before it leaves (``create-ahead``), ancestors first."""
    await _leaves_the_replaced_b(
        tmp_path, "/n/m/a", **{"/n": folder("/n", 11), "/n/m": folder("/n/m", 12)}
    )


def _swapped(**parts: object) -> DesiredState:
    """/b becomes the cloud-synced /a/b (replaced), /a becomes /b/a: each folder goes where
    the other one is now."""
    return desired_state(
        folders={
            "/a/b": folder("/a/b", cloud_sync=SYNC, previously=("/b",)),
            "/b/a": folder("/b/a", 11, previously=("/a",)),
        },
        **parts,
    )


@pytest.mark.anyio
async def test_synced_items_of_swapped_folders_get_their_rule_in_one_apply(
    tmp_path: Path,
) -> None:
    """Before: creating the new /a, apply took the old /a (ours, still there, moving to /b/a
    later) for its own earlier attempt, so /a/b was made inside it and ended at /b/a/b; and
    the re-plan after the sync read only /a/b: not seeing /b/a where the plan had put it, the
    planner took the new /a for the old one still to move, and planned /a/b's items nothing.
    A random search of ``test_plan_properties`` found it."""
    org = _org()
    org.add_item(org.add_folder(None, "a", metadata=OURS), "x.jpg")
    org.add_folder(None, "b", metadata=OURS)
    desired = _swapped(rules=(rule("/a/b", {"r0": True}),))
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        assert not any(r.withheld for r in plan.refusals)
        assert {c.address for c in plan.changes} >= {"folder:/a/b", "folder:/b/a"}
        assert [d.folder for d in plan.deferred] == ["/a/b"]
        await apply(client, plan, desired)
        live = await read(client, desired)
        again = diff(desired, live)
        assert (again.changes, again.refusals) == ((), ())
    assert {i.path: i.metadata.get("r0") for i in live.items.values()} == {
        "/b/a/x.jpg": None,
        "/a/b/p.jpg": True,
        "/a/b/sub/q.jpg": None,  # the rule is not recursive
    }


@pytest.mark.anyio
async def test_a_folder_made_where_a_withheld_replacement_would_leave_waits_with_it(
    tmp_path: Path,
) -> None:
    """Before: /b (the parent of /b/a) was created beside the old /b, whose replacement was
    withheld, leaving two folders at /b. A random search of ``test_plan_properties`` found it.
    Here the empty-listing guard withholds the replacement (both folders are empty)."""
    org = _org()
    org.add_folder(None, "a", metadata=OURS)
    org.add_folder(None, "b", metadata=OURS)
    desired = _swapped()
    provisioned = await provision(org, tmp_path)
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired), options=DiffOptions(force=True))
        (guard,) = plan.refusals
        assert guard.withheld
        assert {"folder:/a/b", "folder:/b", "folder:/b/a"} <= set(guard.addresses)
        assert not {c.address for c in plan.changes} & {"folder:/b", "folder:/b/a"}
        await apply(client, plan, desired)
        after = await read(client, desired)
    assert after.ambiguous == {}
    assert {f.path for f in after.folders.values()} == {"/a", "/b"}
