"""Item changes and dataset links share what they can (goal 2's memory): the metadata views,
desired metadata and diffs of items whose metadata objects are the same, and each link's
constant parts. Sharing must never change a value: each shared piece is checked against
what the change would hold unshared."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds.item import ItemPayload
from reconciler.model.desired import (
    DesiredDataset,
    DesiredFolder,
    DesiredState,
    ItemMatch,
    ItemSelector,
    MetadataRule,
    Ownership,
    Policy,
    Source,
    Target,
)
from reconciler.model.live import LiveDataset, LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, diff
from reconciler.plan.canonical import SharedViews, canonical
from reconciler.plan.describe import ItemDescriber, item_diff
from reconciler.plan.item_metadata import Contribution, combine
from reconciler.plan.model import FieldDiff
from reconciler.plan.views import merged_metadata

SRC = Source(file="c.yaml", line=1)
VALUES = st.one_of(
    st.sampled_from(["x", "y", ""]),
    st.sampled_from([0, 1, 1.0, 2.5, True, False, None]),
    st.just(["x", 1.0]),
    st.just({"k": 1.0}),
)
METADATA = st.dictionaries(st.sampled_from(("a", "b", "qa.x")), VALUES, max_size=3)


def _typed(value: Any) -> str:
    """A value with its types: ``1 == True == 1.0`` must not pass for equal."""
    return repr(value)


def _diff_typed(diff: tuple[FieldDiff, ...]) -> list[tuple[Any, ...]]:
    return [(d.path, d.op, _typed(d.before), _typed(d.after)) for d in diff]


@settings(max_examples=100, deadline=None)
@given(
    pool=st.lists(METADATA, min_size=1, max_size=4),
    picks=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-1, 3), st.booleans()), min_size=1, max_size=8
    ),
    limit=st.sampled_from([0, 1, 65536]),
)
def test_described_items_are_the_views_and_diff_each_would_make_alone(
    pool: list[dict[str, Any]], picks: list[tuple[int, int, bool]], limit: int
) -> None:
    # Changes drawn from a few metadata objects, as a large plan's are; -1: only moved.
    describer = ItemDescriber(limit)
    for live_n, desired_n, moved in picks:
        live = pool[live_n % len(pool)]
        desired = None if desired_n < 0 else pool[desired_n % len(pool)]
        before_path = "/f/old" if moved else "/f/a"
        before, after, found = describer.describe(before_path, live, "/f/a", desired)
        alone_before = ItemPayload(before_path, canonical(live))
        alone_after = ItemPayload(
            "/f/a", canonical(desired) if desired is not None else canonical(live)
        )
        assert (before.path, _typed(before.metadata)) == (
            alone_before.path,
            _typed(alone_before.metadata),
        )
        assert (after.path, _typed(after.metadata)) == (
            alone_after.path,
            _typed(alone_after.metadata),
        )
        expected = item_diff(before_path, alone_before.metadata, "/f/a", alone_after.metadata)
        assert _diff_typed(found) == _diff_typed(expected)


@settings(max_examples=100, deadline=None)
@given(
    pool=st.lists(METADATA, min_size=1, max_size=3),
    declared=st.lists(METADATA, min_size=1, max_size=2),
    picks=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.booleans()), max_size=8),
    replace=st.booleans(),
    limit=st.sampled_from([0, 1, 65536]),
)
def test_folded_items_are_described_as_their_merge_would_be(
    pool: list[dict[str, Any]],
    declared: list[dict[str, Any]],
    picks: list[tuple[int, int, bool]],
    replace: bool,
    limit: int,
) -> None:
    # Live metadata shared as objects or held as equal copies (1 and 1.0 among them), two
    # folds: what ``folded`` finds once per fold and live view is what each item's merge
    # would be described as.
    folds = [combine([Contribution(d, replace, ("qa.*",), "s")]) for d in declared]
    describer = ItemDescriber(limit)
    for live_n, fold_n, copy in picks:
        live = pool[live_n % len(pool)]
        live = dict(live) if copy else live
        fold = folds[fold_n % len(folds)]
        before, after, found = describer.folded(live, fold)
        alone = ItemDescriber(0).describe("/f/a", live, "/f/a", fold.merge(live))
        assert _typed(before) == _typed(alone[0].metadata)
        assert _typed(after) == _typed(alone[1].metadata)
        assert _diff_typed(found) == _diff_typed(alone[2])


def test_items_with_the_same_metadata_objects_share_their_views_and_diff() -> None:
    describer = ItemDescriber()
    live, desired = {"b": "x", "a": 1.0}, {"a": "new"}
    first = describer.describe("/f/1", live, "/f/1", desired)
    second = describer.describe("/f/2", live, "/f/2", desired)
    assert first[0].metadata is second[0].metadata
    assert first[1].metadata is second[1].metadata
    assert first[2] is second[2]
    assert list(first[0].metadata.items()) == [("a", 1), ("b", "x")]  # canonical: sorted, 1.0 is 1
    moved = describer.describe("/g/1", live, "/f/1", desired)  # a move adds its own path leaf
    assert moved[2] == (*first[2], FieldDiff(("path",), "change", "/g/1", "/f/1"))


def test_shared_views_past_their_limit_are_made_each_and_still_canonical() -> None:
    views = SharedViews(limit=1)
    one, two, three = {"b": 1.0}, {"c": True}, {"d": [1.0]}
    assert views(one) is views(one)  # remembered by identity (not flat: 1.0 becomes 1)
    assert views(two) is views({"c": True})  # the one flat content remembered
    assert views({"c": 1}) == {"c": 1} and views({"c": 1}) is not views({"c": 1})
    assert views(three) == {"d": [1]} and views(three) is not views(three)
    assert views(one) == {"b": 1}
    assert views({2: "x"}) == {"2": "x"}  # not flat metadata: keys become strings


def test_equal_flat_metadata_past_the_limit_of_objects_still_shares_one_view() -> None:
    # A plan whose items each hold their own metadata dict: more objects than the limit,
    # a handful of contents.
    views = SharedViews(limit=2)
    first = views({"a": "x"})
    views({"b": "y"})
    many = [views({"a": "x"}) for _ in range(5)]  # distinct objects, past the limit
    assert all(view is first for view in many)
    assert views({"c": "z"}) == {"c": "z"} and views({"c": "z"}) is not views({"c": "z"})


def test_equal_flat_metadata_in_distinct_objects_shares_one_view_but_not_across_types() -> None:
    views = SharedViews()
    one, again, true, nested = (
        {"b": "x", "a": 1},
        {"a": 1, "b": "x"},
        {"a": True, "b": "x"},
        {"a": [1]},
    )
    assert views(one) is views(again) and list(views(again)) == ["a", "b"]
    assert views(true) is not views(one) and repr(views(true)) == "{'a': True, 'b': 'x'}"
    assert views(nested) is not views({"a": [1]}) and views(nested) == {"a": [1]}


def test_a_fold_merges_each_live_metadata_object_once_to_the_same_result() -> None:
    combined = combine([Contribution({"a": "new"}, False, ("qa.*",), "s")])
    live = {"a": "old", "qa.x": 1, "b": True}
    merged = combined.merge(live)
    assert combined.merge(live) is merged
    expected = merged_metadata(live, {"a": "new"}, replace=False, owned=combined.owned)
    assert repr(merged) == repr(expected) == "{'a': 'new', 'b': True}"
    other = dict(live, b=1)  # equal to ``live`` as a dict (True == 1), not as metadata
    assert repr(combined.merge(other)) == "{'a': 'new', 'b': 1}"


def _states(items: int) -> tuple[DesiredState, LiveState]:
    shared = {"a": "old", "split": "train"}  # the read shares one dict per distinct text
    folder = LiveFolder(uuid="p", parent=None, name="f", path="/f")
    live_items = {
        f"u{n}": LiveItem(
            uuid=f"u{n}",
            parent="p",
            folder_path="/f",
            name=f"{n}.jpg",
            item_type="image",
            metadata=shared,
        )
        for n in range(items)
    }
    selector = ItemSelector(folder="/f", match=ItemMatch(metadata={"split": "train"}), source=SRC)
    desired = DesiredState(
        root_dir="/c",
        target=Target(),
        ownership=Ownership(id="t"),
        policy=Policy(max_change_ratio=1.0),
        folders={"/f": DesiredFolder(path="/f", source=SRC)},
        rules=(MetadataRule(folder="/f", metadata={"a": "new"}, source=SRC),),
        datasets={"d": DesiredDataset(title="d", items=(selector,), source=SRC)},
        source=SRC,
    )
    dataset = LiveDataset(uuid="d1", title="d", description="[managed by reconciler: t]")
    live = LiveState(
        target="t",
        scope=("/f",),
        folders={"p": folder},
        paths={"/f": "p"},
        items=live_items,
        datasets={"d1": dataset},
        listing_counts={"/f": items},
    )
    return desired, live


def test_a_plans_item_changes_and_links_share_their_common_parts() -> None:
    desired, live = _states(5)
    plan = diff(desired, live, options=DiffOptions(created_at="t"))
    items = [c for c in plan.changes if c.kind == "item"]
    links = [c for c in plan.changes if c.kind == "link"]
    assert len(items) == len(links) == 5
    assert dict(items[0].after.metadata) == {"a": "new", "split": "train"}  # type: ignore[union-attr]
    for change in items[1:]:
        assert change.before.metadata is items[0].before.metadata  # type: ignore[union-attr]
        assert change.after.metadata is items[0].after.metadata  # type: ignore[union-attr]
        assert change.diff is items[0].diff and change.actions is items[0].actions
    for link in links[1:]:
        assert link.source is links[0].source and link.actions is links[0].actions
    assert links[0].source == "c.yaml:1"


def test_safety_ordering_and_the_checksum_run_without_the_items_by_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # They run at the plan's peak; the items by parent (one list entry an item) served the
    # stages before them and are let go (a filter that needs items reads ``ctx.live``).
    stages = sys.modules["reconciler.plan.diff"]
    seen: list[int] = []
    real = stages.screen

    def watched(facts: Any, *args: Any) -> Any:
        seen.append(len(facts.ctx.items_by_parent))
        return real(facts, *args)

    monkeypatch.setattr(stages, "screen", watched)
    desired, live = _states(5)
    plan = diff(desired, live, options=DiffOptions(created_at="t"))
    assert seen == [0] and plan.summary.change == 5 and plan.summary.link == 5
