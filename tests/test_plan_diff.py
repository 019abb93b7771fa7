"""``diff`` behaviours the golden scenarios do not pin down: resolution errors, item roots and
deferrals, rules that depend on each other, prune modes, withheld changes and thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.desired import desired_state, folder, manifest, src
from helpers.provision import apply, provision, read
from simulator import Dataset, Group, Org

from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredDataset,
    DesiredGroup,
    ItemMatch,
    ItemSelector,
    MetadataRule,
    Policy,
    PruneMode,
)
from reconciler.plan import DiffOptions, PlanError, diff
from reconciler.plan.canonical import tagged

OURS = {OWNER_KEY: "acme"}


def _rule(folder_path: str, metadata: dict[str, object], line: int, **fields: Any) -> MetadataRule:
    return MetadataRule(
        folder=folder_path, metadata=metadata, source=src(line, "items.yaml"), **fields
    )


def test_every_unresolved_name_is_reported_at_once_with_its_position() -> None:
    org = Org()
    org.users["alice@example.com"] = "MEMBER"
    for n in (1, 2):
        org.groups[f"g{n}"] = Group(f"g{n}", "twin")
    desired = desired_state(
        folders={
            "/a": folder("/a", 3, groups={"ghost": "user", "twin": "admin"}),
            "/b": folder(
                "/b",
                7,
                cloud_sync=CloudSync(
                    integration="nope", remote_url="s3://x/", source=src(8, "folders.yaml")
                ),
            ),
        },
        groups={
            "team": DesiredGroup(
                name="team",
                members=("alice@example.com", "zed@example.com"),
                source=src(2, "groups.yaml"),
            )
        },
    )
    with pytest.raises(PlanError) as raised:
        diff(desired, org.live_state(desired.roots()))
    assert [str(d) for d in raised.value.diagnostics] == [
        "folders.yaml:3:1: group 'twin' matches 2 live groups (g1, g2); rename one of them in Encord so the name is unique",
        "folders.yaml:3:1: unknown group 'ghost': declare it under 'groups:' or create it in Encord",
        "folders.yaml:8:1: unknown cloud integration 'nope' (known: none)",
        "groups.yaml:2:1: zed@example.com (member of group 'team') is not a user of this organisation; declare them under 'users:'",
    ]


def test_names_that_do_not_resolve_get_the_closest_live_or_declared_name() -> None:
    org = Org()
    org.users["alice@example.com"] = "MEMBER"
    org.groups["g1"] = Group("g1", "ml-admins")
    org.integrations["int"] = "s3-raw"
    desired = desired_state(
        folders={
            "/a": folder("/a", 3, groups={"ml-admin": "admin", "anotators": "user"}),
            "/b": folder(
                "/b",
                7,
                cloud_sync=CloudSync(
                    integration="s3_raw", remote_url="s3://x/", source=src(8, "folders.yaml")
                ),
            ),
        },
        groups={
            "annotators": DesiredGroup(
                name="annotators", members=("alcie@example.com",), source=src(2, "groups.yaml")
            )
        },
    )
    with pytest.raises(PlanError) as raised:
        diff(desired, org.live_state(desired.roots()))
    assert [str(d) for d in raised.value.diagnostics] == [
        "folders.yaml:3:1: unknown group 'anotators': declare it under 'groups:' or create it "
        "in Encord (did you mean 'annotators'?)",
        "folders.yaml:3:1: unknown group 'ml-admin': declare it under 'groups:' or create it "
        "in Encord (did you mean 'ml-admins'?)",
        "folders.yaml:8:1: unknown cloud integration 's3_raw' (did you mean 's3-raw'?)",
        "groups.yaml:2:1: alcie@example.com (member of group 'annotators') is not a user of "
        "this organisation; declare them under 'users:' (did you mean "
        "'alice@example.com'?)",
    ]


@pytest.mark.anyio
async def test_item_roots_limit_item_level_planning_and_a_sync_is_replanned_after_it_ran(
    tmp_path: Path,
) -> None:
    org = Org()
    org.integrations["int"] = "bucket"
    org.buckets["s3://b/cams/"] = ["a.jpg", "night/b.jpg"]
    data = org.add_folder(None, "data", metadata=OURS)
    org.add_item(data, "x.jpg")
    desired = desired_state(
        folders={
            "/data": folder("/data"),
            "/data/cams": folder(
                "/data/cams",
                cloud_sync=CloudSync(
                    integration="bucket", remote_url="s3://b/cams/", source=src(4)
                ),
            ),
        },
        rules=(_rule("/data", {"seen": True}, 10, recursive=True),),
        datasets={
            "set": DesiredDataset(
                title="set",
                items=(ItemSelector(folder="/data", recursive=True, source=src(20)),),
                source=src(19),
            )
        },
    )
    sandbox = (await provision(org, tmp_path)).sandbox
    async with sandbox.connect() as client:
        plan = diff(desired, await read(client, desired))
        assert [(d.folder, d.rules, d.datasets) for d in plan.deferred] == [
            ("/data/cams", ("items.yaml:10",), ("set",))
        ]
        assert {c.address for c in plan.changes} == {
            "folder:/data/cams", "item:/data/x.jpg", "dataset:set", "link:set#/data/x.jpg",
        }  # fmt: skip
        await apply(client, plan)  # without desired, no re-plan: the synced items wait
        live = await read(client, desired)
        later = diff(desired, live, options=DiffOptions(item_roots=("/data/cams",)))
        assert sorted(c.address for c in later.changes) == [
            "item:/data/cams/a.jpg", "item:/data/cams/night/b.jpg",
            "link:set#/data/cams/a.jpg", "link:set#/data/cams/night/b.jpg",
        ]  # fmt: skip
        await apply(client, later)
        assert diff(desired, await read(client, desired)).changes == ()


@pytest.mark.anyio
async def test_a_rule_matching_on_keys_another_rule_sets_converges_in_one_plan(
    tmp_path: Path,
) -> None:
    org = Org()
    data = org.add_folder(None, "data")
    org.add_item(data, "a.jpg")
    org.add_item(data, "b.mp4", item_type="video")
    desired = desired_state(
        rules=(
            _rule("/data", {"stage": "ready"}, 3, match=ItemMatch(metadata={"split": "train"})),
            _rule("/data", {"split": "train"}, 6, match=ItemMatch(name="*.jpg")),
        )
    )
    sandbox = (await provision(org, tmp_path)).sandbox
    async with sandbox.connect() as client:
        plan = diff(desired, await read(client, desired))
        assert [(c.address, c.after["metadata"]) for c in plan.changes if c.after] == [
            ("item:/data/a.jpg", {"split": "train", "stage": "ready"}),
        ]
        await apply(client, plan)
        assert diff(desired, await read(client, desired)).changes == ()


def test_rules_that_keep_flipping_each_other_are_an_error() -> None:
    org = Org()
    data = org.add_folder(None, "data")
    org.add_item(data, "a.jpg", metadata={"a": 1})
    desired = desired_state(
        rules=(
            _rule("/data", {"b": 1}, 3, match=ItemMatch(metadata={"a": 1})),
            _rule("/data", {"a": 2}, 6, match=ItemMatch(metadata={"b": 1})),
        )
    )
    with pytest.raises(PlanError) as raised:
        diff(desired, org.live_state(desired.roots()))
    assert "metadata rules never settle for item /data/a.jpg" in str(raised.value)


def test_items_sharing_a_path_are_withheld_not_guessed() -> None:
    org = Org()
    data = org.add_folder(None, "data")
    first, second = org.add_item(data, "a.jpg"), org.add_item(data, "a.jpg")
    org.add_item(data, "b.jpg")
    desired = desired_state(rules=(_rule("/data", {"k": 1}, 3),))
    plan = diff(desired, org.live_state(desired.roots()))
    assert [c.address for c in plan.changes] == ["item:/data/b.jpg"]
    (refusal,) = plan.refusals
    assert refusal.code == "ambiguous-item" and refusal.addresses == ("item:/data/a.jpg",)
    assert f"/data/a.jpg: {first}, {second}" in refusal.message


@pytest.mark.parametrize(
    ("prune", "deleted"),
    [
        ("never", []),
        ("owned", ["folder:/data/ours"]),
        ("all", ["folder:/data/by-hand", "folder:/data/ours"]),
    ],
)
def test_prune_modes(prune: PruneMode, deleted: list[str]) -> None:
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    org.add_folder(data, "ours", metadata=OURS)
    org.add_folder(data, "by-hand")
    org.add_folder(data, "theirs", metadata={OWNER_KEY: "team-b"})
    org.groups["g-mine"] = Group("g-mine", "old", tagged("", "acme"))
    org.groups["g-hand"] = Group("g-hand", "hand-made", "")
    desired = desired_state(
        folders={"/data": folder("/data")}, policy=Policy(prune=prune, min_existing=100)
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert sorted(c.address for c in plan.changes if c.kind == "folder") == deleted
    groups = [c.address for c in plan.changes if c.kind == "group"]
    assert groups == ([] if prune == "never" else ["group:old"])
    assert "folder:/data/theirs" in plan.unmanaged


def _owned_tree(org: Org, children: int) -> None:
    data = org.add_folder(None, "data", metadata=OURS)
    for n in range(children):
        org.add_folder(data, f"c{n}", metadata=OURS)


def test_a_listing_much_smaller_than_the_declared_scope_never_deletes() -> None:
    org = Org()
    _owned_tree(org, 1)
    org.add_folder(org.folders[next(iter(org.folders))].uuid, "stray", metadata=OURS)
    declared = {f"/data/c{n}": folder(f"/data/c{n}") for n in range(12)}
    desired = desired_state(
        folders={"/data": folder("/data"), **declared},
        policy=Policy(min_existing=10, max_delete_ratio=1.0),
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert not any(c.is_delete for c in plan.changes)
    (guard,) = [r for r in plan.refusals if r.code == "listing-guard"]
    assert "only 2 of 13 declared folders were found live" in guard.message
    assert guard.addresses == ("folder:/data/stray",)


def test_a_missing_root_that_should_exist_withholds_deletes_elsewhere() -> None:
    org = Org()
    _owned_tree(org, 0)
    org.add_folder(next(iter(org.folders)), "stray", metadata=OURS)
    desired = desired_state(
        folders={"/data": folder("/data")},
        manifests=(manifest({"/elsewhere/a.jpg": {"k": 1}}),),
    )
    plan = diff(desired, org.live_state(desired.roots()))
    (guard,) = plan.refusals
    assert guard.code == "listing-guard"
    assert "roots that should exist were not found live: /elsewhere" in guard.message


def test_change_ratio_threshold_keeps_changes_but_needs_force() -> None:
    org = Org()
    data = org.add_folder(None, "data")
    for n in range(20):
        org.add_item(data, f"{n}.jpg")
    desired = desired_state(
        rules=(_rule("/data", {"k": 1}, 3),), policy=Policy(max_change_ratio=0.5, min_existing=10)
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert len(plan.changes) == 20
    (refusal,) = plan.refusals
    assert refusal.code == "change-threshold" and not refusal.withheld
    assert "would change 20 of 21 live objects in scope (95%)" in refusal.message
    forced = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))
    assert forced.forced and forced.refusals == plan.refusals


def test_allow_replace_lifts_the_replacement_refusal() -> None:
    org = Org()
    org.integrations["int"] = "bucket"
    org.add_folder(
        None,
        "cams",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int",
        remote_url="s3://b/old/",
    )
    sync = CloudSync(integration="bucket", remote_url="s3://b/new/", sync="never", source=src(4))
    for allow, codes in ((False, ["replace"]), (True, [])):
        desired = desired_state(
            folders={"/cams": folder("/cams", cloud_sync=sync)}, policy=Policy(allow_replace=allow)
        )
        plan = diff(desired, org.live_state(desired.roots()))
        assert [c.actions for c in plan.changes] == [("delete", "create")]
        assert [r.code for r in plan.refusals] == codes


def test_fingerprints_are_last_edited_or_a_content_hash() -> None:
    org = Org()
    data = org.add_folder(None, "data")
    org.folders[data].edited = ""
    org.groups["g"] = Group("g", "team", "old")
    desired = desired_state(
        folders={"/data": folder("/data", description="new")},
        groups={"team": DesiredGroup(name="team", description="new", source=src(2))},
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert {c.address: c.fingerprint for c in plan.changes} == plan.fingerprints
    assert all(fp and fp.startswith("sha256:") for fp in plan.fingerprints.values())


def test_what_a_sync_made_is_neither_pruned_nor_unmanaged_but_rules_reach_it() -> None:
    org = Org()
    org.integrations["int"] = "bucket"
    raw = org.add_folder(
        None,
        "raw",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int",
        remote_url="s3://b/",
    )
    day = org.add_folder(raw, "day")  # made by the sync: no marker
    org.add_item(day, "a.jpg")
    sync = CloudSync(integration="bucket", remote_url="s3://b/", source=src(3))
    desired = desired_state(
        folders={"/raw": folder("/raw", cloud_sync=sync)},
        rules=(_rule("/raw", {"seen": True}, 9, recursive=True),),
        policy=Policy(prune="all"),
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert [c.address for c in plan.changes] == ["item:/raw/day/a.jpg"]
    assert plan.unmanaged == () and plan.refusals == ()


def test_a_dataset_description_the_api_cannot_change_is_withheld_not_planned() -> None:
    org = Org()
    org.datasets["d1"] = Dataset("d1", "train", description=tagged("old words", "acme"))
    desired = desired_state(
        datasets={
            "train": DesiredDataset(
                title="train", description="new words", source=src(7, "datasets.yaml")
            )
        }
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert plan.changes == ()
    (refusal,) = plan.refusals
    assert refusal.code == "unsupported" and refusal.withheld
    assert refusal.addresses == ("dataset:train",)
    assert refusal.message == (
        "dataset:train (datasets.yaml:7): the live description 'old words' differs from the "
        "declared 'new words', and the Encord API cannot change a dataset's description; edit "
        "it in the Encord app or declare the live text"
    )
    # Declaring the live text makes the plan empty again.
    same = desired_state(
        datasets={
            "train": DesiredDataset(
                title="train", description="old words", source=src(7, "datasets.yaml")
            )
        }
    )
    assert diff(same, org.live_state(same.roots())).refusals == ()


def test_a_rule_on_a_folder_that_does_not_exist_is_an_error_naming_the_closest_path() -> None:
    org = Org()
    data = org.add_folder(None, "data")
    org.add_folder(data, "rear")
    desired = desired_state(
        folders={"/data": folder("/data")}, rules=(_rule("/data/raer", {"k": 1}, 7),)
    )
    with pytest.raises(PlanError) as failed:
        diff(desired, org.live_state(desired.roots()))
    (problem,) = failed.value.diagnostics
    assert (problem.file, problem.line) == ("items.yaml", 7)
    assert "rule folder /data/raer does not exist" in problem.message
    assert "closest existing path: /data/rear" in problem.message


def test_a_rule_on_a_folder_this_plan_creates_is_no_error() -> None:
    org = Org()
    org.add_folder(None, "data")
    desired = desired_state(
        folders={"/data": folder("/data"), "/data/new": folder("/data/new", 11)},
        rules=(_rule("/data/new", {"k": 1}, 7),),
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert plan.summary.create == 1
    assert plan.warnings == ("items.yaml:7: the rule on /data/new matches no item",)


def test_allow_replace_does_not_cover_a_folder_that_is_not_ours() -> None:
    """Replacing someone else's cloud-synced folder loses their UUID and metadata: --force."""
    org = Org()
    org.integrations["int"] = "bucket"
    org.add_folder(
        None,
        "cams",
        metadata={"team": "vision"},
        folder_type="cloudLinked",
        integration_uuid="int",
        remote_url="s3://b/old/",
    )
    sync = CloudSync(integration="bucket", remote_url="s3://b/new/", sync="never", source=src(4))
    desired = desired_state(
        folders={"/cams": folder("/cams", cloud_sync=sync)}, policy=Policy(allow_replace=True)
    )
    plan = diff(desired, org.live_state(desired.roots()))
    (refusal,) = plan.refusals
    assert refusal.code == "replace" and not refusal.withheld
    assert "not created by ownership id" in refusal.message and "loses its UUID" in refusal.message
    forced = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))
    assert forced.forced and [c.actions for c in forced.changes] == [("delete", "create")]


def test_duplicates_above_the_scope_are_not_healed_their_content_was_not_read() -> None:
    """Two folders of ours at /b, read only as ancestors of the rule's /b/a: the read lists
    them, not what they hold, so the one holding an unread item is not "empty" and is not
    deleted (the real engine refused that delete; the convergence property test found it)."""
    org = Org()
    first = org.add_folder(None, "b", metadata=OURS)
    org.add_folder(first, "a", metadata=OURS)
    second = org.add_folder(None, "b", metadata=OURS)
    org.add_item(second, "z.mp4")
    desired = desired_state(
        folders={"/a": folder("/a")},
        rules=(_rule("/b/a", {"r": 1}, 30),),
        policy=Policy(prune="all", max_delete_ratio=1.0),
    )
    plan = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))
    assert [c.address for c in plan.changes] == ["folder:/a"]
    assert [r.code for r in plan.refusals] == ["ambiguous-path"]


def test_a_declared_folder_inside_a_moved_one_is_not_a_change_of_its_own() -> None:
    """/c moves to /a (previously); /a/c is the live /c/c, carried by that move: no change
    with no action for it (the planner's shape check stopped the plan; found by the round
    trip property)."""
    org = Org()
    old = org.add_folder(None, "c", metadata=OURS)
    org.add_folder(old, "c", metadata=OURS)
    desired = desired_state(
        folders={"/a": folder("/a", previously=("/c",)), "/a/c": folder("/a/c", 11)},
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert [(c.address, [a.value for a in c.actions]) for c in plan.changes] == [
        ("folder:/a", ["move"])
    ]
