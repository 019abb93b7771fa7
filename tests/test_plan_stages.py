"""The planner's stages return values, and later stages use what they are given: the
projected tree of the folder stage, the folders a plan deletes, the subtrees it withholds."""

from __future__ import annotations

import dataclasses

import pytest
from helpers.desired import OTHER, desired_state, folder, src
from simulator import Org

from reconciler.model.desired import OWNER_KEY, MetadataRule, Policy
from reconciler.plan import DiffOptions, diff
from reconciler.plan.context import Context
from reconciler.plan.folders import plan_folders
from reconciler.plan.items import place_items
from reconciler.plan.prune import PrunePlan, plan_prune
from reconciler.plan.tree import Tree

OURS = {OWNER_KEY: "acme"}


def _moving_config() -> Context:
    """``/data/old`` (ours, holding one item), which the config moves to ``/data/new``."""
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    old = org.add_folder(data, "old", metadata=OURS)
    org.add_item(old, "a.jpg")
    desired = desired_state(
        folders={
            "/data": folder("/data"),
            "/data/new": folder("/data/new", previously=("/data/old",)),
        },
        policy=Policy(prune="owned", min_existing=1000),
    )
    return Context.build(desired, org.live_state(("/data",)), DiffOptions())


def test_the_context_is_read_only() -> None:
    ctx = _moving_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.roots = ()  # type: ignore[misc]


def test_prune_judges_the_tree_the_folder_stage_returns() -> None:
    ctx = _moving_config()
    folders = plan_folders(ctx)
    assert list(folders.tree.moves.values()) == ["/data/new"]
    assert plan_prune(ctx, folders.tree) == PrunePlan()
    unmoved = Tree(ctx.live)
    unmoved.project()
    # Judged against a tree without the move, /data/old is an undeclared folder of ours that
    # a ``previously`` may mean: prune says why it deletes nothing there.
    pruned = plan_prune(ctx, unmoved)
    assert pruned.changes == ()
    assert [(r.code, r.addresses) for r in pruned.refusals] == [
        ("not-prunable", ("folder:/data/old",))
    ]


def test_items_are_placed_where_the_tree_puts_them_and_left_out_of_deleted_folders() -> None:
    ctx = _moving_config()
    tree = plan_folders(ctx).tree
    placed = place_items(ctx, tree, frozenset())
    assert sorted(placed.index.by_path) == ["/data/new/a.jpg"]
    gone = place_items(ctx, tree, frozenset({tree.index["/data/new"]}))
    assert gone.index.by_path == {}


def test_a_move_the_folder_stage_withholds_reaches_the_plan_through_its_output() -> None:
    org = Org()
    theirs = org.add_folder(None, "old", metadata={OWNER_KEY: OTHER})
    org.add_item(theirs, "a.jpg")
    desired = desired_state(folders={"/new": folder("/new", previously=("/old",))})
    live = org.live_state(("/new", "/old"))
    folders = plan_folders(Context.build(desired, live, DiffOptions()))
    assert folders.tree.moves == {}
    assert [(w.path, w.code) for w in folders.withheld] == [("/new", "foreign-owned")]
    plan = diff(desired, live)
    assert [c.address for c in plan.changes] == []
    refusal = plan.refusals[0]
    assert (refusal.code, refusal.addresses, refusal.withheld) == (
        "foreign-owned",
        ("folder:/new",),
        True,
    )
    assert refusal.message == folders.withheld[0].message


def test_item_placement_says_which_shared_paths_it_leaves_out() -> None:
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    first, second = org.add_item(data, "a.jpg"), org.add_item(data, "a.jpg")
    desired = desired_state(
        folders={"/data": folder("/data")},
        rules=(MetadataRule(folder="/data", metadata={"k": 1}, source=src(3, "items.yaml")),),
    )
    ctx = Context.build(desired, org.live_state(("/data",)), DiffOptions())
    placed = place_items(ctx, plan_folders(ctx).tree, frozenset())
    assert placed.index.by_path == {} and placed.index.duplicates == {
        "/data/a.jpg": sorted([first, second])
    }
    (refusal,) = placed.refusals
    assert (refusal.code, refusal.addresses, refusal.count) == (
        "ambiguous-item",
        ("item:/data/a.jpg",),
        2,
    )
    assert diff(desired, ctx.live).refusals == placed.refusals
