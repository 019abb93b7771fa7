"""Sorting a large plan (``plan/order.py``) holds one key string a change, not a tuple of
segment strings: at a million changes the keys were the peak of ``diff`` (about 330 bytes a
change beyond the plan; ``bench_memory.py --trace``)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from helpers.plans import synthetic_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds import spec_of
from reconciler.model.addresses import Kind, sort_text
from reconciler.plan.actions import Action
from reconciler.plan.model import Change
from reconciler.plan.order import ordered


def test_ordering_a_plan_holds_under_250_bytes_a_change() -> None:
    changes = list(synthetic_plan(3000, folders=30, deletes=10).changes)
    changes.reverse()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = ordered(changes)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert [c.address for c in out[:2]] == ["folder:/big/old-009", "folder:/big/old-008"]
    assert out[10].address == "item:/big/part-000/frame-000000.jpg"
    # 340 before, 178 with one key string and a tuple a change, 123 with the string alone,
    # 42 sorted by address and checked against the key strings one at a time
    assert peak / len(changes) < 60, peak / len(changes)


SEGMENTS = st.lists(
    st.sampled_from(["a", "a b", "a#b", "b", "\0", "é", ""]), min_size=1, max_size=3
)
KINDS = {Kind.ITEM: (Action.PATCH,), Kind.LINK: (Action.LINK,), Kind.FOLDER: (Action.CREATE,)}


def _by_tuples(changes: list[Change], rank: Any) -> list[Change]:
    """The order before: one key tuple a change (rank, key string, address)."""
    return sorted(changes, key=lambda c: (rank(c.kind), sort_text(c.address), c.address))


@settings(max_examples=100, deadline=None)
@given(
    made=st.lists(st.tuples(st.sampled_from(sorted(KINDS)), SEGMENTS), max_size=20),
    shared_rank=st.booleans(),
)
def test_changes_sorted_by_key_strings_a_rank_at_a_time_sort_as_by_key_tuples(
    made: list[tuple[Kind, list[str]]], shared_rank: bool
) -> None:
    # shared_rank: items and links given one display rank, so that a rank holds two kinds
    # whose addresses may share a key string ("item:/a" and "link:/a"): the address decides.
    ranks = {k: spec_of(k).display_rank for k in KINDS}
    addresses = {f"{kind}:/{'/'.join(segments)}": kind for kind, segments in made}
    changes = [Change(address=a, kind=k, actions=KINDS[k]) for a, k in addresses.items()]
    with pytest.MonkeyPatch.context() as patch:
        if shared_rank:
            ranks[Kind.LINK] = ranks[Kind.ITEM]
            patch.setattr(
                "reconciler.plan.order.spec_of", lambda k: type("S", (), {"display_rank": ranks[k]})
            )
        found = ordered(changes)
    expected = _by_tuples(changes, ranks.__getitem__)
    assert [c.address for c in found] == [c.address for c in expected]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["/b/x", "/a/y", "/a/x"], ["/a/x", "/a/y", "/b/x"]),  # the address order is the one
        (["/a-b/x", "/a/y", "/a b"], ["/a/y", "/a b", "/a-b/x"]),  # it is not: "-" sorts before "/"
    ],
)
def test_changes_of_one_kind_are_in_key_string_order_whether_or_not_their_addresses_are(
    paths: list[str], expected: list[str]
) -> None:
    changes = [Change(address=f"item:{p}", kind=Kind.ITEM, actions=(Action.PATCH,)) for p in paths]
    assert [c.address for c in ordered(changes)] == [f"item:{p}" for p in expected]
