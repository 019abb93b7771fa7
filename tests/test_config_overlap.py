"""The static rule-overlap test is sound (never misses a real overlap) and useful."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.globsets import may_overlap
from reconciler.config.overlap import may_select_same, same_value
from reconciler.config.sccs import cyclic_nodes
from reconciler.model.desired import ItemMatch, MetadataRule, Source
from reconciler.model.globs import GlobError, compile_glob

ALPHABET = "ab.]!-"
WORDS = ["".join(p) for n in range(5) for p in itertools.product(ALPHABET, repeat=n)]
PIECES = [
    "a",
    "b",
    ".",
    "]",
    "!",
    "*",
    "**",
    "?",
    "[ab]",
    "[!a]",
    "[a-b]",
    "[.]",
    "[]a]",
    "[!]a]",
    "[-a]",
]


def _matches_both(first: str, second: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one, two = compile_glob(first), compile_glob(second)
    except GlobError:
        return False  # invalid globs never reach the overlap test
    return any(one.match(w) and two.match(w) for w in WORDS)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
)
def test_may_overlap_never_misses_a_common_name(first: str, second: str) -> None:
    if _matches_both(first, second):
        assert may_overlap(first, second)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("*.jpg", "*.png", False),
        ("*.jpg", "frame_*", True),
        ("a*.jpg", "b*.jpg", False),
        ("img_[0-5].jpg", "img_[5-9].jpg", True),
        ("img_[0-4].jpg", "img_[5-9].jpg", False),
        ("*train*", "*val*", True),
        ("?", "ab", False),
        ("[!a]", "a", False),
        ("x", "x", True),
        ("**", "anything", True),
    ],
)
def test_may_overlap_examples(first: str, second: str, expected: bool) -> None:
    assert may_overlap(first, second) is expected
    assert may_overlap(second, first) is expected


def _rule(**match: Any) -> MetadataRule:
    return MetadataRule(
        folder="/f", match=ItemMatch(**match), metadata={"k": 1}, source=Source(file="x", line=1)
    )


def test_may_select_same_by_type_and_metadata() -> None:
    assert not may_select_same(_rule(types=("image",)), _rule(types=("video",)))
    assert may_select_same(_rule(types=("image",)), _rule())
    assert not may_select_same(_rule(metadata={"s": "a"}), _rule(metadata={"s": "b"}))
    assert may_select_same(_rule(metadata={"s": 1}), _rule(metadata={"s": 1.0}))
    assert not may_select_same(_rule(metadata={"s": True}), _rule(metadata={"s": 1}))
    assert may_select_same(_rule(metadata={"s": "a"}), _rule(metadata={"t": "b"}))
    assert not may_select_same(_rule(name="*.jpg"), _rule(name="*.png"))


def test_same_value() -> None:
    assert same_value(1, 1.0)
    assert not same_value(True, 1)
    assert not same_value("1", 1)
    assert same_value({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same_value([1], [1, 2])


def test_cyclic_nodes() -> None:
    edges = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["f"], "f": ["e", "g"], "g": []}
    assert cyclic_nodes(edges) == {
        "a": ["a", "b", "c"],
        "b": ["a", "b", "c"],
        "c": ["a", "b", "c"],
        "e": ["e", "f"],
        "f": ["e", "f"],
    }
    chain = {str(i): [str(i + 1)] for i in range(50_000)}
    assert cyclic_nodes(chain) == {}
