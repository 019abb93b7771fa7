"""A change's canonical text written from its pieces (``change_text``, what the checksum
hashes) is byte for byte ``json.dumps`` of its document with sorted keys."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds.item import ItemPayload
from reconciler.kinds.link import LinkPayload
from reconciler.model.addresses import Kind
from reconciler.plan import changetext
from reconciler.plan.actions import Action
from reconciler.plan.changetext import change_text
from reconciler.plan.document import change_document, refs_document
from reconciler.plan.model import Change, FieldDiff, Refs

TEXT = st.text(max_size=12)  # any code point: quotes, controls, surrogates of JSON escapes
LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT
)
VALUE = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
METADATA = st.dictionaries(TEXT, VALUE, max_size=4)
PAYLOAD = st.one_of(
    st.none(),
    st.builds(ItemPayload, TEXT, METADATA),
    st.builds(LinkPayload, TEXT, st.none() | st.lists(TEXT, max_size=2).map(tuple)),
)
DIFF = st.lists(
    st.builds(
        FieldDiff,
        st.lists(TEXT | st.integers(0, 3), min_size=1, max_size=3).map(tuple),
        st.sampled_from(["add", "remove", "change"]),
        VALUE,
        VALUE,
    ),
    max_size=3,
).map(tuple)
REFS = st.builds(
    Refs,
    uuid=st.none() | TEXT,
    parent_uuid=st.none() | TEXT,
    parent_path=st.none() | TEXT,
    from_parent_uuid=st.none() | TEXT,
    folder_uuid=st.none() | TEXT,
    group_hash=st.none() | TEXT,
    dataset_uuid=st.none() | TEXT,
    item_uuid=st.none() | TEXT,
    data_hashes=st.lists(TEXT, max_size=2).map(tuple),
    integration_uuid=st.none() | TEXT,
    email=st.none() | TEXT,
    collection_uuid=st.none() | TEXT,
)
CHANGES = st.builds(
    Change,
    address=TEXT,
    kind=st.sampled_from([Kind.ITEM, Kind.LINK, Kind.FOLDER]),
    actions=st.sampled_from(
        [(Action.PATCH,), (Action.MOVE, Action.PATCH), (Action.LINK,), (Action.DELETE,)]
    ),
    previous_address=st.none() | TEXT,
    before=PAYLOAD,
    after=PAYLOAD,
    diff=DIFF,
    source=st.none() | TEXT,
    reason=st.sampled_from(["", "declared metadata differs"]) | TEXT,
    fingerprint=st.none() | TEXT,
    depends_on=st.lists(TEXT, max_size=2).map(tuple),
    refs=REFS,
)


def _dumped(change: Change) -> str:
    return json.dumps(
        change_document(change),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


@settings(max_examples=150, deadline=None)
@given(CHANGES)
def test_a_change_written_from_its_pieces_is_its_document_dumped(change: Change) -> None:
    assert change_text(change, refs_document) == _dumped(change)
    assert change_text(change, refs_document) == _dumped(change)  # repeated pieces, cached


ITEM_CHANGES = st.builds(
    Change,
    address=TEXT,
    kind=st.just(Kind.ITEM),
    actions=st.sampled_from([(Action.PATCH,), (Action.MOVE, Action.PATCH), (Action.MOVE,)]),
    previous_address=st.none() | st.none() | TEXT,
    before=st.builds(ItemPayload, TEXT, METADATA),
    after=st.builds(ItemPayload, TEXT, METADATA),
    diff=DIFF,
    source=st.none() | TEXT,
    reason=st.sampled_from(["declared metadata differs"]) | TEXT,
    fingerprint=st.none() | TEXT,
    depends_on=st.just(()) | st.lists(TEXT, max_size=1).map(tuple),
    refs=st.builds(
        Refs,
        uuid=TEXT | st.none(),
        from_parent_uuid=TEXT,
        parent_uuid=st.none() | st.none() | TEXT,
        item_uuid=st.none() | st.none() | TEXT,
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ITEM_CHANGES, min_size=1, max_size=3))
def test_an_item_change_written_in_one_call_is_its_document_dumped(
    changes: list[Change],
) -> None:
    # Most changes of a large plan: item patches, written by ``_item_text`` when their shape
    # allows (otherwise as any change); with and without the plan's cache of shared texts.
    texts: dict[int, str] = {}
    for change in changes:
        assert change_text(change, refs_document) == _dumped(change)
        assert change_text(change, refs_document, texts) == _dumped(change)
        assert change_text(change, refs_document, texts) == _dumped(change)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: "x", "a": "y"}])
def test_what_json_dumps_refuses_it_refuses(value: Any) -> None:
    change = Change(
        address="item:/a",
        kind=Kind.ITEM,
        actions=(Action.PATCH,),
        after=ItemPayload("/a", {"k": value}),
    )
    with pytest.raises((ValueError, TypeError)):
        _dumped(change)
    with pytest.raises((ValueError, TypeError)):
        change_text(change, refs_document)


def test_a_value_json_does_not_have_is_refused_and_past_the_bound_pieces_are_encoded_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strange = Change(
        address="item:/a",
        kind=Kind.ITEM,
        actions=(Action.PATCH,),
        after=ItemPayload("/a", {"k": object()}),
    )
    with pytest.raises(TypeError, match="not JSON serializable"):
        change_text(strange, refs_document)
    monkeypatch.setattr(changetext, "_REPEATED", {})
    monkeypatch.setattr(changetext, "_MAX_REPEATED", 0)
    plain = Change(address="item:/b", kind=Kind.ITEM, actions=(Action.PATCH,), reason="r")
    assert change_text(plain, refs_document) == _dumped(plain)
    assert changetext._REPEATED == {}


@settings(max_examples=40, deadline=None)
@given(st.lists(CHANGES, min_size=1, max_size=4), DIFF, METADATA)
def test_pieces_shared_by_changes_are_encoded_once_and_alike(
    changes: list[Change], diff: tuple[FieldDiff, ...], metadata: dict[str, Any]
) -> None:
    """The checksum passes one cache of texts for the whole plan: the planner shares equal
    diff leaves (``describe._leaf``), diffs and metadata views (``describe.ItemDescriber``)
    between changes, one object each."""
    shared_diff = (*diff, diff[0]) if diff else diff  # one leaf twice in one diff too
    changes = [
        dataclasses.replace(c, diff=shared_diff, after=ItemPayload(f"/{n}", metadata), before=None)
        if n % 2
        else c
        for n, c in enumerate(changes)
    ]
    texts: dict[int, str] = {}
    for change in changes:
        assert change_text(change, refs_document, texts) == _dumped(change)
    for change in changes:  # now from what is remembered
        assert change_text(change, refs_document, texts) == _dumped(change)
    leaves = {id(d) for c in changes for d in c.diff}
    assert leaves <= set(texts)
    if len(changes) > 1:
        assert id(metadata) in set(texts)
        assert not shared_diff or id(shared_diff) in set(texts)


def test_past_the_bound_shared_pieces_are_encoded_each_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(changetext, "_MAX_SHARED", 0)
    leaf = FieldDiff(("metadata", "k"), "change", "a", "b")
    change = Change(
        address="item:/a",
        kind=Kind.ITEM,
        actions=(Action.PATCH,),
        before=ItemPayload("/a", {"k": "a"}),
        after=ItemPayload("/a", {"k": "b"}),
        diff=(leaf,),
        refs=Refs(uuid="u", from_parent_uuid="p"),
    )
    texts: dict[int, str] = {}
    assert change_text(change, refs_document, texts) == _dumped(change)
    assert change_text(change, refs_document, texts) == _dumped(change)
    assert texts == {}


@pytest.mark.parametrize(
    "refs",
    [
        Refs(uuid="u", from_parent_uuid="p"),
        Refs(dataset_uuid="d", item_uuid="i"),
        Refs(uuid="u", parent_uuid="p", parent_path="/x", from_parent_uuid="q"),
        Refs(dataset_uuid="d", item_uuid="i", data_hashes=("h1", "h2")),
        Refs(),
    ],
)
def test_refs_in_slots_or_not_are_written_as_their_document(refs: Refs) -> None:
    change = Change(address="link:x", kind=Kind.LINK, actions=(Action.LINK,), refs=refs)
    assert change_text(change, refs_document) == _dumped(change)
