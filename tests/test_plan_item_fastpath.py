"""The per-folder fast path of item metadata (``FolderRules.changed``) finds exactly the items
the one-item-at-a-time fold (``Settler.desired``) says change, and planning pauses the cycle
collector without leaving it off."""

from __future__ import annotations

import dataclasses
import gc
import json
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from helpers.desired import desired_state
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds.item import ItemPayload
from reconciler.model.desired import (
    OWNER_KEY,
    DesiredDataset,
    DesiredFolder,
    DesiredState,
    ItemMatch,
    ItemSelector,
    Manifest,
    ManifestEntry,
    ManifestRows,
    MetadataMode,
    MetadataRule,
    Ownership,
    Source,
    Target,
)
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, describe, diff
from reconciler.plan import items as items_module
from reconciler.plan.canonical import canonical
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff, item_diff
from reconciler.plan.document import change_document
from reconciler.plan.item_metadata import (
    Contribution,
    FolderRules,
    Settler,
    combine,
    compile_rules,
)
from reconciler.plan.itemindex import build_index
from reconciler.plan.items import projected_names
from reconciler.plan.model import FieldDiff
from reconciler.plan.tree import Tree

SRC = Source(file="c.yaml", line=1)
FOLDER = "/f"
# Small pools so that rules, rows and live metadata collide often.
KEYS = ("a", "b", "qa.x", "qa.y", OWNER_KEY)
VALUES = st.one_of(
    st.sampled_from(["x", "y", ""]),
    st.sampled_from([0, 1, 1.0, 2.5, True, False, None]),
    st.just(["x"]),
    st.just({"k": "x"}),
)
METADATA = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)
DECLARED = st.dictionaries(st.sampled_from(KEYS[:4]), VALUES, max_size=3)
NAMES = ("a.jpg", "b.png", "c.jpg", "d", "e/f.jpg")  # a name may hold "/" (the API allows it)

rules_strategy = st.lists(
    st.builds(
        lambda declared, name, types, mode, owned: MetadataRule(
            folder=FOLDER,
            match=ItemMatch(name=name, types=types),
            metadata=declared,
            mode=mode,
            owned_keys=owned,
            source=SRC,
        ),
        DECLARED,
        st.sampled_from([None, "*.jpg", "?.png", "a*", "*.j*g", "*b*"]),  # the last two: automata
        st.sampled_from([(), ("image",), ("video", "image")]),
        st.sampled_from(["merge", "replace"]),
        st.sampled_from([(), ("qa.*",), ("b",)]),
    ),
    max_size=3,
)


def _items(metadata: list[dict[str, Any]]) -> list[LiveItem]:
    return [
        LiveItem(
            uuid=f"u{n}",
            parent="p",
            folder_path=FOLDER,
            name=f"{n}{NAMES[n % len(NAMES)]}",
            item_type="image" if n % 3 else "video",
            metadata=m,
        )
        for n, m in enumerate(metadata)
    ]


def _manifest(
    rows: dict[int, dict[str, Any]], mode: MetadataMode, owned: tuple[str, ...]
) -> Manifest:
    return Manifest(
        file="m.jsonl",
        format="jsonl",
        mode=mode,
        owned_keys=owned,
        entries=ManifestRows(
            {
                f"{FOLDER}/{n}{NAMES[n % len(NAMES)]}": ManifestEntry(metadata=m, line=n + 1)
                for n, m in rows.items()
            }
        ),
        source=SRC,
    )


@settings(max_examples=150, deadline=None)
@given(
    rules=rules_strategy,
    metadata=st.lists(METADATA, min_size=1, max_size=12),
    rows=st.dictionaries(st.integers(0, 11), DECLARED, max_size=6),
    mode=st.sampled_from(["merge", "replace"]),
    owned=st.sampled_from([(), ("qa.*",)]),
    manifests=st.integers(0, 2),
)
def test_the_folder_fast_path_finds_the_items_the_item_fold_changes(
    rules: list[MetadataRule],
    metadata: list[dict[str, Any]],
    rows: dict[int, dict[str, Any]],
    mode: MetadataMode,
    owned: tuple[str, ...],
    manifests: int,
) -> None:
    items = _items(metadata)
    settler = Settler(tuple(_manifest(rows, mode, owned) for _ in range(manifests)))
    compiled = compile_rules(tuple(rules))
    names = [i.name for i in items]
    expected = [
        i for i in items if settler.desired(i, i.path, compiled, conditional=False)[0] is not None
    ]
    fast = FolderRules(settler, FOLDER, compiled)
    assert fast.changed(items, names, {}) == expected
    # A second pass reuses the folds made by the first and finds the same.
    assert fast.changed(items, names, {}) == expected
    moved = {items[-1].uuid: "/elsewhere/x"}
    with_moved = [i for i in items if i in expected or i is items[-1]]
    assert FolderRules(settler, FOLDER, compiled).changed(items, names, moved) == with_moved
    # Each changing item's fold gives the desired metadata the item fold gives (None: the
    # item only moves), so the planner does not fold it again.
    for item, fold, path in [
        *FolderRules(settler, FOLDER, compiled).changes(items, names, {}),
        *FolderRules(settler, FOLDER, compiled).changes(items, names, moved),
    ]:
        desired = settler.desired(item, item.path, compiled, conditional=False)[0]
        found = None if fold is None else fold.merge(item.metadata)
        assert json.dumps(found) == json.dumps(desired)  # keys in order, and True is not 1
        assert path == item.path  # each with its own path


@settings(max_examples=60, deadline=None)
@given(rules=rules_strategy, metadata=st.lists(METADATA, min_size=2, max_size=8))
def test_a_folder_its_rules_match_whole_shares_one_mask_and_finds_the_same(
    rules: list[MetadataRule], metadata: list[dict[str, Any]]
) -> None:
    # Every item an image named *.jpg: each rule matches all of them or none (the usual
    # folder), so one mask object serves them all, and the items found are the item fold's.
    items = [
        LiveItem(
            uuid=f"u{n}",
            parent="p",
            folder_path=FOLDER,
            name=f"a{n}.jpg",
            item_type="image",
            metadata=m,
        )
        for n, m in enumerate(metadata)
    ]
    settler, compiled = Settler(()), compile_rules(tuple(rules))
    fast = FolderRules(settler, FOLDER, compiled)
    if any(not r.always for r in compiled):
        assert len({id(mask) for mask in fast._masks(items, [i.name for i in items])}) == 1
    expected = [
        i for i in items if settler.desired(i, i.path, compiled, conditional=False)[0] is not None
    ]
    assert fast.changed(items, [i.name for i in items], {}) == expected


def test_rows_of_equal_string_values_share_one_fold_and_others_are_folded_each() -> None:
    items = _items([{"a": "x"}] * 6)
    rows: dict[int, dict[str, Any]] = {
        0: {"a": "x"},
        1: {"a": "y"},
        2: {"a": "x"},
        3: {"a": 1},
        4: {"a": True},
    }
    settler = Settler((_manifest(rows, "merge", ()),))
    fast = FolderRules(settler, FOLDER, [])
    changed = fast.changed(items, [i.name for i in items], {})
    # 1 and True differ from each other and from "x"; 0 and 2 equal the live value.
    assert [i.uuid for i in changed] == ["u1", "u3", "u4"]
    # Folds: no rows (item 5), rows "x" (0 and 2, shared), rows "y"; 1 and True not kept.
    assert len(fast._folds) == 3


def _state(items: int) -> tuple[DesiredState, LiveState]:
    folder = LiveFolder(uuid="p", parent=None, name="f", path=FOLDER)
    live_items = {
        f"u{n}": LiveItem(
            uuid=f"u{n}",
            parent="p",
            folder_path=FOLDER,
            name=f"{n}.jpg",
            item_type="image",
            metadata={"a": "old"},
        )
        for n in range(items)
    }
    desired = DesiredState(
        root_dir="/c",
        target=Target(),
        ownership=Ownership(id="t"),
        folders={FOLDER: DesiredFolder(path=FOLDER, source=SRC)},
        rules=(MetadataRule(folder=FOLDER, metadata={"a": "new"}, source=SRC),),
        source=SRC,
    )
    live = LiveState(
        target="t",
        scope=(FOLDER,),
        folders={"p": folder},
        paths={FOLDER: "p"},
        items=live_items,
        listing_counts={FOLDER: items},
    )
    return desired, live


def test_planning_runs_without_the_cycle_collector_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desired, live = _state(300)
    seen: list[bool] = []
    stages = sys.modules["reconciler.plan.diff"]
    planned = stages.plan_item_metadata

    def watched(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return planned(*args)

    monkeypatch.setattr(stages, "plan_item_metadata", watched)
    options = DiffOptions(created_at="t")
    try:
        plan = diff(desired, live, options=options)
        assert gc.isenabled()
        gc.disable()
        diff(desired, live, options=options)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    assert seen == [False, False]
    assert plan.summary.change == 300


@settings(max_examples=100, deadline=None)
@given(
    before=METADATA,
    after=METADATA,
    paths=st.sampled_from([("/f/a", "/f/a"), ("/f/a", "/g/b")]),
)
def test_an_item_diff_is_the_field_diff_of_its_two_views(
    before: dict[str, Any], after: dict[str, Any], paths: tuple[str, str]
) -> None:
    old = ItemPayload(paths[0], canonical(before))
    new = ItemPayload(paths[1], canonical(after))
    assert item_diff(old.path, old.metadata, new.path, new.metadata) == field_diff(old, new)


@settings(max_examples=200, deadline=None)
@given(
    contributions=st.lists(
        st.tuples(DECLARED, st.booleans(), st.sampled_from([(), ("qa.*",), ("b", "qa.x")])),
        min_size=1,
        max_size=3,
    ),
    metadata=st.lists(METADATA, max_size=10),
    proxied=st.booleans(),
)
def test_a_fold_judges_many_items_as_it_judges_each(
    contributions: list[tuple[dict[str, Any], bool, tuple[str, ...]]],
    metadata: list[dict[str, Any]],
    proxied: bool,
) -> None:
    combined = combine([Contribution(m, r, o, "s") for m, r, o in contributions])
    given_metadata: list[Any] = metadata
    if proxied and metadata:  # a mapping that is not a dict takes the item-at-a-time path
        given_metadata = [MappingProxyType(metadata[0]), *metadata[1:]]
    expected = [combined.differs(m) for m in given_metadata]
    assert combined.differing(given_metadata) == expected
    assert combined.differing(given_metadata) == expected  # the shapes judged, now cached


def _typed(diff: tuple[FieldDiff, ...]) -> list[tuple[Any, ...]]:
    """A diff with the types of its values: ``1 == True`` must not pass for equal."""
    return [
        (d.path, d.op, type(d.before), repr(d.before), type(d.after), repr(d.after)) for d in diff
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(METADATA, METADATA), min_size=1, max_size=6))
def test_shared_diff_leaves_are_the_leaves_each_diff_would_make(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    views = [(canonical(before), canonical(after)) for before, after in pairs]
    shared = [item_diff("/f/a", b, "/f/a", a) for b, a in views]  # later ones reuse leaves
    for (before, after), found in zip(views, shared, strict=True):
        describe._LEAVES.clear()
        assert _typed(found) == _typed(item_diff("/f/a", before, "/f/a", after))


def test_leaves_equal_in_value_but_not_in_type_are_not_shared() -> None:
    describe._LEAVES.clear()
    (one,) = item_diff("/f/a", {"k": "x"}, "/f/a", {"k": 1})
    (true,) = item_diff("/f/a", {"k": "x"}, "/f/a", {"k": True})
    (again,) = item_diff("/f/a", {"k": "x"}, "/f/a", {"k": 1})
    assert (type(one.after), type(true.after)) == (int, bool)
    assert again is one  # the same leaf: one object


@pytest.mark.parametrize("replace", [False, True])
def test_a_fold_judges_our_marker_and_more_shapes_than_it_keeps_as_each(replace: bool) -> None:
    # Replace mode declaring our marker itself, and more distinct key shapes (with owned
    # keys) than the fold keeps judged: many items, judged as one by one.
    declared = {OWNER_KEY: "t", "a": "x"} if replace else {"a": "x"}
    combined = combine([Contribution(declared, replace, ("qa.*",), "s")])
    metadata: list[Mapping[str, Any]] = [
        {**declared, f"k{n}": "v", **({"qa.x": "1"} if n % 3 == 0 else {})} for n in range(4200)
    ]
    metadata += [dict(declared), {"a": "x"}]
    expected = [combined.differs(m) for m in metadata]
    assert combined.differing(metadata) == expected
    assert sum(expected) == (len(metadata) - 1 if replace else 1400)


def test_shared_leaves_past_their_bound_are_made_each(monkeypatch: pytest.MonkeyPatch) -> None:
    describe._LEAVES.clear()
    monkeypatch.setattr(describe, "_MAX_LEAVES", 0)
    first = item_diff("/f/a", {"k": "x"}, "/f/a", {"k": "y"})
    again = item_diff("/f/a", {"k": "x"}, "/f/a", {"k": "y"})
    assert first == again and first[0] is not again[0]


def test_a_folders_names_are_those_of_the_index_paths_of_its_items_moved_ones_too() -> None:
    """``projected_names`` makes a folder's names a column at a time; the index's own
    ``path_of`` (one lookup per item) says what the paths must be, after manifest moves."""
    items = [
        LiveItem(uuid=f"u{n}", parent="p", folder_path="/a", name=f"{n}.jpg", item_type="image")
        for n in range(6)
    ]
    slashed = LiveItem(uuid="s", parent="p", folder_path="/a", name="x/y.jpg", item_type="image")
    live = LiveState(
        target="t",
        scope=("/a",),
        folders={},
        paths={},
        items={i.uuid: i for i in [*items, slashed]},
    )
    index = build_index(
        Context.build(desired_state(), live, DiffOptions()), Tree(live), frozenset()
    )
    index.move(items[1], "/a/renamed.jpg", "/a/1.jpg")  # renamed in place
    index.move(items[2], "/b/2.jpg", "/a/2.jpg")  # to another folder
    index.move(items[3], "/b/three.jpg", "/a/3.jpg")
    for folder in ("/a", "/b"):
        expected = [index.path_of[i.uuid] for i in index.by_folder[folder]]
        assert [f"{folder}/{n}" for n in projected_names(index, folder)] == expected
    assert projected_names(index, "/b") == ["2.jpg", "three.jpg"]
    # a slice of a folder's items (the planner goes a slice at a time): their names
    assert projected_names(index, "/b", index.by_folder["/b"][1:]) == ["three.jpg"]
    assert "renamed.jpg" in projected_names(index, "/a")
    assert "x/y.jpg" in projected_names(index, "/a")


@settings(max_examples=80, deadline=None)
@given(
    rules=rules_strategy,
    picks=st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=10),
    pool=st.lists(METADATA, min_size=1, max_size=4),
    rows=st.dictionaries(st.integers(0, 9), DECLARED, max_size=5),
    mode=st.sampled_from(["merge", "replace"]),
)
def test_the_fast_path_plans_items_as_the_item_by_item_fold_does(
    rules: list[MetadataRule],
    picks: list[tuple[int, bool]],
    pool: list[dict[str, Any]],
    rows: dict[int, dict[str, Any]],
    mode: MetadataMode,
) -> None:
    # A rule that matches on metadata no item has and no rule sets never contributes, but
    # makes the planner fold each item by itself (``Settler.desired``): every change, its
    # views, diff and source, and the links a selector makes from the desired metadata,
    # must be what the fast path (``FolderRules``, ``ItemDescriber.folded``) plans.
    # Items share metadata objects (as the read shares them) or hold equal copies.
    metadata = [dict(pool[n % len(pool)]) if copy else pool[n % len(pool)] for n, copy in picks]
    rules = [
        MetadataRule(
            folder=FOLDER,
            match=r.match,
            metadata=r.metadata,
            mode=r.mode,
            owned_keys=r.owned_keys,
            source=Source(file="rules.yaml", line=n + 1),
        )
        for n, r in enumerate(rules)
    ]
    never = MetadataRule(
        folder=FOLDER,
        match=ItemMatch(metadata={"never.set": "x"}),
        metadata={"qa.never": "x"},
        source=Source(file="rules.yaml", line=99),
    )
    live = LiveState(
        target="t",
        scope=(FOLDER,),
        folders={"p": LiveFolder(uuid="p", parent=None, name="f", path=FOLDER)},
        paths={FOLDER: "p"},
        items={i.uuid: i for i in _items(metadata)},
        listing_counts={FOLDER: len(metadata)},
    )
    train = ItemSelector(folder=FOLDER, match=ItemMatch(metadata={"a": "x"}), source=SRC)
    plans = [
        diff(
            desired_state(
                folders={FOLDER: DesiredFolder(path=FOLDER, source=SRC)},
                rules=tuple(extra),
                manifests=(_manifest(rows, mode, ("qa.*",)),),
                datasets={"d": DesiredDataset(title="d", items=(train,), source=SRC)},
            ),
            live,
            options=DiffOptions(created_at="t"),
        )
        for extra in (rules, [*rules, never])
    ]
    fast, each = ([json.dumps(change_document(c)) for c in p.changes] for p in plans)
    assert fast == each
    assert plans[0].checksum == plans[1].checksum


def test_past_the_bound_of_sources_each_item_finds_its_own_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desired, live = _state(4)
    remembered = diff(desired, live, options=DiffOptions(created_at="t"))
    monkeypatch.setattr(items_module, "_MAX_SOURCES", 0)
    each = diff(desired, live, options=DiffOptions(created_at="t"))
    assert [c.source for c in each.changes] == [c.source for c in remembered.changes]
    assert {c.source for c in each.changes if c.kind == "item"} == {"c.yaml:1"}
    assert each.checksum == remembered.checksum


@pytest.mark.parametrize("conditional", [False, True])
def test_a_folder_planned_a_slice_at_a_time_is_planned_as_whole(
    monkeypatch: pytest.MonkeyPatch, conditional: bool
) -> None:
    """A folder's items are planned a slice at a time (``items.SLICE``, so that the columns
    made per item are held for one slice of a folder of millions): the same plan as whole,
    on the fast path and on the item-at-a-time one (a rule matching on metadata)."""
    desired, live = _state(23)
    items = dict(live.items)
    for n in range(0, 23, 3):  # some items as desired already: slices with nothing to change
        items[f"u{n}"] = dataclasses.replace(items[f"u{n}"], metadata={"a": "new", "b": 1})
    rules = (
        *desired.rules,
        MetadataRule(folder=FOLDER, match=ItemMatch(name="1*.jpg"), metadata={"b": 1}, source=SRC),
    )
    if conditional:
        match = ItemMatch(metadata={"a": "new"})
        rules += (MetadataRule(folder=FOLDER, match=match, metadata={"c": 2}, source=SRC),)
    desired = dataclasses.replace(desired, rules=rules)
    live = dataclasses.replace(live, items=items)
    whole = diff(desired, live, options=DiffOptions(created_at="t"))
    monkeypatch.setattr(sys.modules["reconciler.plan.items"], "SLICE", 4)
    sliced = diff(desired, live, options=DiffOptions(created_at="t"))
    assert sliced.changes == whole.changes
    assert sliced.checksum == whole.checksum
    assert len(whole.changes) == (23 if conditional else 23 - 8)  # u0, u3 .. u21 stay alike
