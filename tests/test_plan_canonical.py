"""The one canonicaliser: both sides compare the same way, so an unchanged org plans empty."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.canonical import (
    canonical,
    canonical_descriptor,
    canonical_role,
    description_owner,
    equivalent,
    strip_tag,
    tagged,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.5, -1.0]),
    st.text("ab", max_size=2),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text("abc", max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


def _text(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True)


@given(values, values)
def test_equivalent_is_equality_of_canonical_forms(a: Any, b: Any) -> None:
    assert equivalent(a, b) == (_text(a) == _text(b))
    assert equivalent(a, a)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ({"a": 1, "b": [1, 2]}, {"b": [1.0, 2.0], "a": 1.0}, True),
        ([1, 2], [2, 1], False),
        ({"a": None}, {}, False),
        (float("nan"), float("nan"), True),
        ("1", 1, False),
        ({"x": {"y": True}}, {"x": {"y": 1}}, False),
    ],
)
def test_equivalence_rules(a: Any, b: Any, same: bool) -> None:
    assert equivalent(a, b) is same


def test_canonical_form() -> None:
    assert canonical({"b": 2.0, "a": (1, 2.5, True)}) == {"a": [1, 2.5, True], "b": 2}
    assert list(canonical({"b": 1, "a": 2})) == ["a", "b"]
    assert math.isinf(canonical(float("inf")))


def test_ownership_tags_in_descriptions() -> None:
    assert tagged("Training split", "acme") == "Training split [managed by reconciler: acme]"
    assert tagged("", "acme") == "[managed by reconciler: acme]"
    assert description_owner("x [managed by reconciler: team-b]") == "team-b"
    assert description_owner("x [managed by reconciler: team-b] and more") is None
    assert strip_tag("Training split [managed by reconciler: acme]  ") == "Training split"
    assert strip_tag("[managed by reconciler: acme]") == ""


@pytest.mark.parametrize(
    ("spelled", "role"),
    [("admin", "admin"), ("USER", "user"), (0, "admin"), (1, "user"), ("1", "user")],
)
def test_roles(spelled: Any, role: str) -> None:
    assert canonical_role(spelled) == role


def test_bad_roles() -> None:
    for bad in (True, "owner", 2):
        with pytest.raises(ValueError):
            canonical_role(bad)


def test_schema_descriptors() -> None:
    assert canonical_descriptor({"ty": "number"}) == {"ty": "number", "format": "F64"}
    assert canonical_descriptor({"ty": "varchar"}) == {"ty": "varchar", "max_length": 8192}
    assert canonical_descriptor({"ty": "embedding", "size": 8}) == {
        "ty": "embedding",
        "size": 8,
        "api": None,
    }
    assert canonical_descriptor({"ty": "variant", "hint": "long_string"}) == {
        "ty": "variant",
        "hint": "text",
    }
    assert canonical_descriptor({"ty": "variant", "hint": "string"}) == {
        "ty": "variant",
        "hint": "varchar",
    }
    assert canonical_descriptor({"ty": "tombstone", "deleted_ty": {"ty": "number"}}) == {
        "ty": "tombstone",
        "deleted_ty": {"ty": "number", "format": "F64"},
    }
    assert canonical_descriptor({"ty": "datetime"}) == {"ty": "datetime", "timezone": "UTC"}


@given(st.dictionaries(st.text("abcé", max_size=3), scalars | values, max_size=5))
def test_a_flat_dict_takes_the_short_path_to_the_same_normal_form(value: dict[str, Any]) -> None:
    # The general path, as a dict that is not of the exact type ``dict`` takes it.
    general = canonical(_NotExactlyDict(value))
    found = canonical(value)
    # key order and value types count (json.dumps keeps the order; 1 and True differ)
    assert json.dumps(found) == json.dumps(general)
    assert [type(v) for v in found.values()] == [type(v) for v in general.values()]


class _NotExactlyDict(dict[str, Any]):
    pass
