"""``Refs`` keeps the fields item changes and links use in slots and the rest in one tuple
(``plan/refs.py``): every field must read back as given, and it must behave as the frozen
dataclass it replaced (equality, hash, ``repr``, pickling, no assignment)."""

from __future__ import annotations

import copy
import pickle
import sys
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.model import REF_FIELDS, Refs

VALUE = st.one_of(st.none(), st.sampled_from(["u1", "u2", "", "é"]))
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        name: (
            st.lists(st.sampled_from(["h1", "h2"]), max_size=2).map(tuple)
            if name == "data_hashes"
            else VALUE
        )
        for name in REF_FIELDS
    },
)


def _defaults(given: dict[str, Any]) -> dict[str, Any]:
    return {name: given.get(name, () if name == "data_hashes" else None) for name in REF_FIELDS}


@settings(max_examples=150, deadline=None)
@given(one=FIELDS, other=FIELDS)
def test_refs_read_back_every_field_and_compare_as_their_fields(
    one: dict[str, Any], other: dict[str, Any]
) -> None:
    a, b = Refs(**one), Refs(**other)
    assert {name: getattr(a, name) for name in REF_FIELDS} == _defaults(one)
    assert a.values() == tuple(_defaults(one).values())
    assert (a == b) == (_defaults(one) == _defaults(other))
    if a == b:
        assert hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a and copy.deepcopy(a) == a
    assert Refs(*a.values()) == a  # positionally, in ``REF_FIELDS`` order
    slotted = {"uuid", "from_parent_uuid", "dataset_uuid", "item_uuid"}
    assert a.slots_only == all(
        v in (None, ()) for k, v in _defaults(one).items() if k not in slotted
    )
    assert repr(a) == "Refs(" + ", ".join(f"{k}={v!r}" for k, v in _defaults(one).items()) + ")"


def test_refs_are_frozen_and_small() -> None:
    refs = Refs(uuid="u", from_parent_uuid="p")
    with pytest.raises(FrozenInstanceError):
        refs.uuid = "v"
    with pytest.raises(FrozenInstanceError):
        del refs.uuid
    assert refs != ("u", "p") and Refs() == Refs()
    # An item change's or a link's refs: 72 bytes (128 as a dataclass of twelve slots).
    assert sys.getsizeof(refs) <= 72
    assert sys.getsizeof(Refs(dataset_uuid="d", item_uuid="i")) <= 72
