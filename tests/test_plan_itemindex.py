"""The item index (``build_index``) adds a folder's items at once when none of their paths is
taken, and one by one otherwise: either way it is the index the one-by-one walk builds."""

from __future__ import annotations

import dataclasses

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


def _one_by_one(by_parent: dict[str, list[LiveItem]]) -> ItemIndex:
    """The index as the item-at-a-time walk built it before the folder-at-a-time path."""
    index = ItemIndex()
    by_path, path_of, dups = index.by_path, index.path_of, index.duplicates
    for items in by_parent.values():
        folder_path = items[0].folder_path
        planned = [i for i in items if not (i.is_tombstone or i.is_placeholder)]
        if not planned:
            continue
        index.by_folder[folder_path] = planned
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
    live = LiveState(target="t", scope=("/a", "/b"), folders={}, paths={}, items={})
    ctx = dataclasses.replace(
        Context.build(desired_state(), live, DiffOptions()), items_by_parent=by_parent
    )
    found = build_index(ctx, Tree(live), frozenset())
    expected = _one_by_one(by_parent)
    assert list(found.by_path.items()) == list(expected.by_path.items())
    assert found.path_of == expected.path_of
    assert found.by_folder == expected.by_folder
    assert found.duplicates == expected.duplicates
