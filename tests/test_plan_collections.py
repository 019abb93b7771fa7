"""The collections stage and the safety filters that judge it (pure: desired + live -> plan)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
import pytest
from helpers.desired import OWNER, desired_state, folder, select, src
from simulator import Org

from reconciler.drift import DriftKind, audit, drift_schema, render_junit, report_document
from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredCollection,
    ItemSelector,
    Policy,
    ownership_tag,
)
from reconciler.model.live import LiveCollection, LiveState
from reconciler.plan import DiffOptions, PlanError, diff
from reconciler.plan.model import Change, Plan

OURS = f"curated [{ownership_tag(OWNER)[1:-1]}]"
THEIRS = "made elsewhere [managed by reconciler: someone-else]"


def collection(name: str, *selectors: ItemSelector, **fields: Any) -> DesiredCollection:
    fields.setdefault("folder", "/raw")
    return DesiredCollection(name=name, items=selectors, source=src(50, "curation.yaml"), **fields)


class World:
    """/raw/cams with ``count`` items (``item-N.jpg``; the first ``night`` ones at night)."""

    def __init__(self, count: int = 6, night: int = 3) -> None:
        self.org = Org()
        self.raw = self.org.add_folder(None, "raw")
        self.cams = self.org.add_folder(self.raw, "cams")
        self.items = [
            self.org.add_item(
                self.cams,
                f"item-{n}.jpg",
                metadata={"lighting": "night" if n < night else "day"},
            )
            for n in range(count)
        ]
        self.collections: list[LiveCollection] = []
        self.folders: dict[str, str] = {"/raw": self.raw}

    def add(self, name: str, description: str, members: Iterable[int] | None = (), **f: Any) -> str:
        uuid = f"c-{len(self.collections)}"
        listed = None if members is None else tuple(sorted(self.items[n] for n in members))
        self.collections.append(
            LiveCollection(uuid, f.get("folder", "/raw"), name, description, "t0", listed)
        )
        return uuid

    def live(self, roots: tuple[str, ...] = ("/raw/cams",)) -> LiveState:
        state = self.org.live_state(roots)
        return dataclasses.replace(
            state,
            collections={c.uuid: c for c in self.collections},
            collection_folders=dict(self.folders),
        )


NIGHT = select("/raw/cams", metadata={"lighting": "night"})


def plan_of(world: World, *collections: DesiredCollection, **parts: Any) -> Plan:
    desired = desired_state(collections={c.name: c for c in collections}, **parts)
    return diff(desired, world.live())


def by_address(plan: Plan) -> Mapping[str, Change]:
    return {c.address: c for c in plan.changes}


def test_a_new_collection_is_created_tagged_with_its_selected_items() -> None:
    world = World()
    plan = plan_of(world, collection("night", NIGHT, description="At night"))
    changes = by_address(plan)
    created = changes["collection:night"]
    assert created.after is not None and created.after["description"] == "At night " + (
        ownership_tag(OWNER)
    )
    assert created.refs.folder_uuid == world.raw
    adds = [a for a in changes if a.startswith("collection-item:night#")]
    assert adds == [f"collection-item:night#/raw/cams/item-{n}.jpg" for n in range(3)]
    first = changes[adds[0]]
    assert first.depends_on == ("collection:night",) and first.source == "datasets.yaml:41"
    assert first.refs.item_uuid == world.items[0] and first.refs.collection_uuid is None


def test_members_are_added_and_removed_and_our_tag_is_never_doubled() -> None:
    world = World()
    uuid = world.add("night", OURS, members=(0, 4))
    plan = plan_of(world, collection("night", NIGHT, description="curated"))
    changes = by_address(plan)
    assert "collection:night" not in changes  # the tag is not part of the comparison
    added = {a for a, c in changes.items() if c.actions == ("link",)}
    removed = {a for a, c in changes.items() if c.actions == ("unlink",)}
    assert added == {f"collection-item:night#/raw/cams/item-{n}.jpg" for n in (1, 2)}
    assert removed == {"collection-item:night#/raw/cams/item-4.jpg"}
    assert changes["collection-item:night#/raw/cams/item-4.jpg"].refs.collection_uuid == uuid
    again = plan_of(world, collection("night", NIGHT, description="other words"))
    patch = by_address(again)["collection:night"]
    assert patch.after is not None
    assert patch.after["description"] == "other words " + ownership_tag(OWNER)


@pytest.mark.parametrize(
    ("remove", "description", "removed"),
    [("never", OURS, False), ("owned", "by hand", False), ("all", "by hand", True)],
)
def test_remove_decides_what_leaves(remove: str, description: str, removed: bool) -> None:
    world = World()
    world.add("night", description, members=(0, 4))
    plan = plan_of(world, collection("night", NIGHT, remove=remove))
    assert ("collection-item:night#/raw/cams/item-4.jpg" in by_address(plan)) is removed


def test_a_rename_keeps_the_collection_and_an_old_name_is_never_pruned() -> None:
    world = World()
    old = world.add("dusk", OURS, members=())
    plan = plan_of(world, collection("evening", previously=("dusk",)))
    rename = by_address(plan)["collection:evening"]
    assert (rename.previous_address, rename.refs.uuid, rename.actions) == (
        "collection:dusk",
        old,
        ("patch",),
    )
    world.add("evening", OURS, members=())  # both names live: the declared one is used
    both = plan_of(world, collection("evening", previously=("dusk",)))
    assert by_address(both) == {}


def test_ours_undeclared_are_pruned_unless_prune_never() -> None:
    world = World()
    world.add("night", OURS, members=())
    world.add("old", OURS, members=None)
    world.add("old", OURS, members=None)
    world.add("night", OURS, members=(), folder="/raw")  # would clash: declared below
    world.add("theirs", THEIRS, members=())
    world.add("hand", "by hand", members=())
    plan = plan_of(world)
    deletes = sorted(c.address for c in plan.changes if c.actions == ("delete",))
    assert deletes == [
        "collection:night#c-0",
        "collection:night#c-3",
        "collection:old#c-1",
        "collection:old#c-2",
    ]
    world2 = World()
    world2.add("old", OURS, members=())
    assert plan_of(world2, policy=Policy(prune="never")).changes == ()
    declared = plan_of(world2, collection("night", NIGHT))
    assert "collection:old" in by_address(declared)


def test_two_live_collections_of_one_name_are_refused_not_guessed() -> None:
    world = World()
    world.add("night", OURS, members=())
    world.add("night", OURS, members=())
    plan = plan_of(world, collection("night", NIGHT))
    assert plan.changes == ()
    (refusal,) = [r for r in plan.refusals if r.code == "ambiguous-collection"]
    assert "c-0, c-1" in refusal.message and refusal.addresses == ("collection:night",)


def test_a_collection_in_a_folder_this_plan_creates_waits_for_it() -> None:
    world = World()
    world.folders["/new"] = ""
    plan = plan_of(world, collection("fresh", folder="/new"), folders={"/new": folder("/new")})
    created = by_address(plan)["collection:fresh"]
    assert created.depends_on == ("folder:/new",) and created.refs.folder_uuid is None


def test_a_missing_folder_nobody_creates_is_an_error_at_the_declaration() -> None:
    world = World()
    world.folders["/nope"] = ""
    with pytest.raises(PlanError) as raised:
        plan_of(world, collection("lost", folder="/nope"))
    assert "curation.yaml:50" in str(raised.value)
    assert "its folder /nope does not exist and this plan does not create it" in str(raised.value)


def test_what_was_not_read_is_not_planned() -> None:
    world = World()
    world.add("night", OURS, members=None)  # members unreadable: nothing added or removed
    assert plan_of(world, collection("night", NIGHT)).changes == ()
    world.folders.clear()  # the folder's collections were not listed at all
    assert plan_of(world, collection("night", NIGHT)).changes == ()


def test_another_configs_collection_is_withheld() -> None:
    world = World()
    world.add("night", THEIRS, members=(4,))
    plan = plan_of(world, collection("night", NIGHT, remove="all"))
    assert plan.changes == ()
    (refusal,) = [r for r in plan.refusals if r.code == "foreign-owned"]
    assert refusal.message.startswith("collection:night is managed by another config")
    assert "collection-item:night#/raw/cams/item-4.jpg" in refusal.addresses


def test_removing_most_members_is_refused_unless_forced() -> None:
    world = World(count=12, night=1)
    world.add("night", OURS, members=range(12))
    plan = plan_of(world, collection("night", NIGHT))
    assert sum(1 for c in plan.changes if c.actions == ("unlink",)) == 11
    (refusal,) = [r for r in plan.refusals if r.code == "unlink-threshold"]
    assert "remove 11 of the 12 items of collection:night" in refusal.message
    assert not refusal.withheld


def test_a_selector_matching_nothing_removes_nothing() -> None:
    world = World()
    world.add("night", OURS, members=(0, 1))
    nothing = select("/raw/cams", name="*.png")
    plan = plan_of(world, collection("night", nothing))
    assert plan.changes == ()
    (refusal,) = [r for r in plan.refusals if r.code == "selector-unlink"]
    assert refusal.message.startswith("2 removals from collection:night held back")
    assert any("a selector of collection:night (folder /raw/cams)" in w for w in plan.warnings)


def test_collections_count_among_the_live_objects_of_the_delete_threshold() -> None:
    world = World(count=4)
    for n in range(6):
        world.add(f"old-{n}", OURS, members=())
    plan = plan_of(world)  # 6 deletes of 4 items + 6 collections (no folder is in scope)
    (refusal,) = [r for r in plan.refusals if r.code == "delete-threshold"]
    assert "delete 6 of 10 live objects in scope (60%)" in refusal.message
    looser = plan_of(world, policy=Policy(max_delete_ratio=0.7, min_existing=1))
    assert not [r for r in looser.refusals if r.code == "delete-threshold"]


def test_drift_files_members_under_the_collections_own_check() -> None:
    world = World()
    world.add("night", OURS, members=(0, 1, 2, 4))  # 4 was added by hand
    desired = desired_state(collections={"night": collection("night", NIGHT)})
    live = world.live()
    report = audit(diff(desired, live), desired, live)
    (entry,) = report.drift
    assert (entry.kind, entry.check, entry.address) == (
        DriftKind.MEMBERSHIP,
        "members:night",
        "collection-item:night#/raw/cams/item-4.jpg",
    )
    assert entry.summary == "in the collection, but no selector selects it (apply would remove it)"
    assert {"collection:night", "members:night"} <= {c.id for c in report.checks}
    jsonschema.validate(report_document(report), drift_schema())
    assert 'name="members:night"' in render_junit(report)


SYNCED = CloudSync(integration="s3-raw", remote_url="s3://bucket/raw/", source=src(9))


def _replacing_raw(world: World, *collections: DesiredCollection) -> Plan:
    """/raw, generic and ours, declared cloud-synced: the plan replaces it (forced)."""
    world.org.folders[world.raw].metadata = {OWNER_KEY: OWNER}
    world.org.integrations["int-1"] = "s3-raw"
    return diff(
        desired_state(
            folders={"/raw": folder("/raw", cloud_sync=SYNCED)},
            collections={c.name: c for c in collections},
            policy=Policy(prune="owned"),
        ),
        world.live(roots=("/raw",)),
        options=DiffOptions(force=True),
    )


@pytest.mark.parametrize("owner", [OURS, THEIRS, "by hand"])
def test_a_top_level_folder_holding_collections_is_not_replaced_under_them(owner: str) -> None:
    """Replacing (or deleting) a top-level folder deletes its collections with it: unless
    the plan deletes each of them itself, the folder and its content deletes are withheld."""
    world = World()
    world.add("night", owner, members=(0,))
    plan = _replacing_raw(world, collection("night", NIGHT) if owner == OURS else collection("x"))
    assert not [c for c in plan.changes if c.is_delete or c.is_replace]
    (refusal,) = [r for r in plan.refusals if r.code == "collections-inside"]
    waiting = set() if owner == OURS else {"collection:x"}  # to be made in the new folder
    assert refusal.withheld
    assert set(refusal.addresses) == {"folder:/raw", "folder:/raw/cams", *waiting}
    assert "(night)" in refusal.message and refusal.count == len(refusal.addresses) + 6  # items


def test_a_folder_whose_collections_the_plan_deletes_is_replaced_by_the_next_plan() -> None:
    """Apply replaces folders before it deletes collections: the collection goes first, in
    this plan (shown), and the folder waits for the next."""
    world = World()
    world.add("old", OURS, members=(0,))  # ours, no longer declared: pruned, shown
    plan = _replacing_raw(world)
    changes = by_address(plan)
    assert changes["collection:old"].is_delete and "folder:/raw" not in changes
    (refusal,) = [r for r in plan.refusals if r.code == "collections-inside"]
    assert "(old)" in refusal.message
    world.collections.clear()  # the next read: the collection is gone
    assert by_address(_replacing_raw(world))["folder:/raw"].is_replace


def test_a_collection_declared_in_a_folder_the_plan_replaces_is_made_in_the_new_one() -> None:
    world = World()
    plan = _replacing_raw(world, collection("fresh"))
    created = by_address(plan)["collection:fresh"]
    assert created.depends_on == ("folder:/raw",) and created.refs.folder_uuid is None


def test_a_collection_goes_where_its_top_level_folder_is_renamed() -> None:
    """Declared under the folder's new name, the live collection is found in the folder
    this plan renames into place: kept, not created again."""
    world = World()
    world.add("night", OURS, members=(0, 1, 2))
    world.org.folders[world.raw].metadata = {OWNER_KEY: OWNER}
    renamed = {"/footage": folder("/footage", previously=("/raw",))}
    night = select("/footage/cams", metadata={"lighting": "night"})
    desired = desired_state(
        folders=renamed, collections={"night": collection("night", night, folder="/footage")}
    )
    world.folders["/footage"] = ""  # listed, and no folder is called that yet
    plan = diff(desired, world.live(roots=("/footage", "/raw")))
    assert sorted(by_address(plan)) == ["folder:/footage"]
