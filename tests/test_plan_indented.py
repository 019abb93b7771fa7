"""``plan/indented.py`` writes exactly what the standard library's indented encoder writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers.plans import hostile_plan, synthetic_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan import Plan
from reconciler.plan.document import plan_document
from reconciler.plan.indented import iter_indented

STANDARD = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)

KEYS = st.text(max_size=5) | st.integers(-2, 2) | st.booleans() | st.none() | st.just(1.5)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),  # unicode, quotes, control characters, newlines
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(KEYS, inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_any_json_value_is_written_as_the_standard_encoder_writes_it(value: Any) -> None:
    assert "".join(iter_indented(value)) == "".join(STANDARD.iterencode(value))


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=5), VALUES, max_size=5))
def test_any_top_level_object_too(value: dict[str, Any]) -> None:
    assert "".join(iter_indented(value)) == "".join(STANDARD.iterencode(value))


@pytest.mark.parametrize(
    "plan", [hostile_plan(), synthetic_plan(300, folders=3)], ids=["hostile", "synthetic"]
)
def test_plan_documents_are_byte_identical_to_the_standard_encoder(plan: Plan) -> None:
    # plan files write each change on one line (``filetext``); the framing is this writer's
    pieces = list(iter_indented(plan_document(plan)))
    assert "".join(pieces) == "".join(STANDARD.iterencode(plan_document(plan)))
    assert len(pieces) > 1 or len(plan.changes) < 64  # a large plan is written in pieces


@pytest.mark.parametrize("value", [float("nan"), {"a": [float("inf")]}])
def test_what_json_cannot_hold_is_refused_alike(value: Any) -> None:
    with pytest.raises(ValueError):
        "".join(iter_indented(value))
