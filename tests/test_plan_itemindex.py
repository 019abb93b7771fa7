"""The item index (``build_index``) adds a folder's items at once when none of their paths is
taken, and one by one otherwise: either way it is the index the one-by-one walk builds."""

from __future__ import annotations

import dataclasses
import tracemalloc

import pytest
from helpers.desired import desired_state
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.live import LiveItem, LiveState
from reconciler.plan.context import Context, DiffOptions
from reconciler.plan.itemindex import ItemIndex, build_index
from reconciler.plan.tree import Tree

ITEMS = st.lists(
    st.tuples(
        st.sampled_from(["p0", "p1", "p2", "p3"]),  # parents: p0 and p1 share a folder path
        st.sampled_from(["a.jpg", "b.jpg", "c.jpg", "d"]),
        st.booleans(),
        st.booleans(),
    ),
    max_size=16,
)
FOLDER_OF = {"p0": "/a", "p1": "/a", "p2": "/b", "p3": "/b/c"}


@dataclasses.dataclass
class _Plain:
    by_path: dict[str, LiveItem] = dataclasses.field(default_factory=dict)
    path_of: dict[str, str] = dataclasses.field(default_factory=dict)
    by_folder: dict[str, list[LiveItem]] = dataclasses.field(default_factory=dict)
    duplicates: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def _one_by_one(by_parent: dict[str, list[LiveItem]]) -> _Plain:
    """The index as the item-at-a-time walk built it before the folder-at-a-time path, in
    plain dicts (the index's ``by_path`` and ``path_of`` are views). Two parents at one
    folder path share that folder's list (before: the later one's items replaced the
    earlier one's in ``by_folder``, though both stayed in ``by_path``)."""
    index = _Plain()
    by_path, path_of, dups = index.by_path, index.path_of, index.duplicates
    for items in by_parent.values():
        folder_path = items[0].folder_path
        planned = [i for i in items if not (i.is_tombstone or i.is_placeholder)]
        if not planned:
            continue
        index.by_folder.setdefault(folder_path, []).extend(planned)
        for item in planned:
            path = f"{folder_path}/{item.name}"
            path_of[item.uuid] = path
            other = by_path.pop(path, None)
            if other is not None:
                dups[path] = [other.uuid, item.uuid]
            elif path in dups:
                dups[path].append(item.uuid)
            else:
                by_path[path] = item
    for path, uuids in dups.items():
        uuids.sort()
        folder = index.by_folder[path.rsplit("/", 1)[0]]
        folder[:] = [i for i in folder if path_of[i.uuid] != path]
    return index


@settings(max_examples=200, deadline=None)
@given(ITEMS)
def test_the_index_is_the_one_the_item_at_a_time_walk_builds(
    items: list[tuple[str, str, bool, bool]],
) -> None:
    by_parent: dict[str, list[LiveItem]] = {}
    for n, (parent, name, tombstone, placeholder) in enumerate(items):
        item = LiveItem(
            uuid=f"u{n}",
            parent=parent,
            folder_path=FOLDER_OF[parent],
            name=name,
            item_type="image",
            is_tombstone=tombstone and placeholder,  # one in four of each, in any folder
            is_placeholder=placeholder and not tombstone,
        )
        by_parent.setdefault(parent, []).append(item)
    every = {i.uuid: i for items in by_parent.values() for i in items}
    live = LiveState(target="t", scope=("/a", "/b"), folders={}, paths={}, items=every)
    ctx = dataclasses.replace(
        Context.build(desired_state(), live, DiffOptions()), items_by_parent=by_parent
    )
    found = build_index(ctx, Tree(live), frozenset())
    expected = _one_by_one(by_parent)
    assert dict(found.by_path.items()) == expected.by_path
    assert found.path_of == expected.path_of
    assert found.by_folder == expected.by_folder
    assert found.duplicates == expected.duplicates


def _index(items: list[LiveItem]) -> ItemIndex:
    live = LiveState(
        target="t", scope=("/a",), folders={}, paths={}, items={i.uuid: i for i in items}
    )
    return build_index(Context.build(desired_state(), live, DiffOptions()), Tree(live), frozenset())


def _items(n: int, folder: str = "/a", parent: str = "p0") -> list[LiveItem]:
    return [
        LiveItem(
            uuid=f"u{k}", parent=parent, folder_path=folder, name=f"{k}.jpg", item_type="image"
        )
        for k in range(n)
    ]


def test_the_index_holds_no_path_per_item() -> None:
    """A projected path string and two dict entries an item (about 190 bytes) were most of
    the planner's own memory at ten million items; now paths are made when asked for."""
    items = _items(5000)
    live = LiveState(
        target="t", scope=("/a",), folders={}, paths={}, items={i.uuid: i for i in items}
    )
    ctx = Context.build(desired_state(), live, DiffOptions())
    tree = Tree(live)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = build_index(ctx, tree, frozenset())
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held / len(items) < 2  # not even a copy of the folder's list (8 bytes a slot)
    assert index.path_of["u7"] == "/a/7.jpg" and index.by_path["/a/7.jpg"] is items[7]
    assert "u5000" not in index.path_of and "/a/5000.jpg" not in index.by_path


def test_paths_of_moved_dropped_and_slashed_names() -> None:
    items = _items(3)
    slashed = LiveItem(uuid="s", parent="p0", folder_path="/a", name="x/y.jpg", item_type="image")
    index = _index([*items, slashed])
    assert index.by_path["/a/x/y.jpg"] is slashed and index.path_of["s"] == "/a/x/y.jpg"
    assert "/a/x" not in index.by_path and index.path_of.get("nope") is None
    index.move(items[0], "/b/renamed.jpg", "/a/0.jpg")
    assert index.path_of["u0"] == "/b/renamed.jpg" and index.by_path["/b/renamed.jpg"] is items[0]
    assert "/a/0.jpg" not in index.by_path and index.moved_from == {"u0": "/a/0.jpg"}
    assert index.by_folder == {"/a": [items[1], items[2], slashed], "/b": [items[0]]}
    index.drop(frozenset({"u1", "u0", "not-in-the-index"}))
    assert "u1" not in index.path_of and "/a/1.jpg" not in index.by_path
    assert "u0" not in index.path_of and "/b/renamed.jpg" not in index.by_path
    assert index.by_folder == {"/a": [items[2], slashed], "/b": []}
    assert dict(index.path_of) == {"u2": "/a/2.jpg", "s": "/a/x/y.jpg"}
    assert len(index.by_path) == 2 and list(index.by_path.values()) == [items[2], slashed]
    assert len(index.path_of) == 2 and list(index.by_path) == ["/a/2.jpg", "/a/x/y.jpg"]
    assert index.by_parent == {"p0": [*items, slashed]}  # the plan's lists, left as read
    with pytest.raises(KeyError):
        index.path_of["u1"]
