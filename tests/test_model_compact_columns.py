"""Columns of the fields items share through their place (``place_column``,
``place_values``): the same values as reading each item's property."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.compact import place_column, place_values
from reconciler.model.live import LiveItem

_SHARED = (
    "parent",
    "folder_path",
    "item_type",
    "is_tombstone",
    "is_placeholder",
    "metadata_unreadable",
)
_ITEM = st.builds(
    lambda n, parent, kind, flags: LiveItem(
        uuid=f"i{n}",
        parent=f"f{parent}",
        folder_path=f"/f{parent}",
        name=f"{n}.jpg",
        item_type=kind,
        is_tombstone=flags[0],
        is_placeholder=flags[1],
        metadata_unreadable=flags[2],
    ),
    st.integers(0, 10**6),
    st.integers(0, 2),
    st.sampled_from(["image", "video"]),
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ITEM, max_size=12))
def test_a_place_column_is_each_items_field(items: list[LiveItem]) -> None:
    for name in _SHARED:
        each = [getattr(i, name) for i in items]
        assert place_column(items, name) == each
        assert place_values(items, name) == set(each)


def test_one_shared_place_gives_its_value_to_every_item() -> None:
    items = [
        LiveItem(uuid=f"i{n}", parent="f", folder_path="/f", name=f"{n}", item_type="video")
        for n in range(3)
    ]
    assert place_column(items, "item_type") == ["video"] * 3
    assert place_column(items, "is_tombstone") == [False] * 3
    assert place_column([], "parent") == []
    assert place_values([], "parent") == set()
