"""The plan schema compiled to plain checks (``reconciler/schemacheck.py``) judges every document as
``jsonschema`` does: real plans, golden plans, and the same documents broken at random places;
and each keyword it implements agrees with jsonschema on random values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.plans import hostile_plan, synthetic_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.plan import PLAN_SCHEMA, dumps, loads
from reconciler.schemacheck import compile_schema

GOLDEN = Path(__file__).parent / "golden"
FULL = jsonschema.Draft202012Validator(PLAN_SCHEMA)
FAST = compile_schema(PLAN_SCHEMA)


def _corpus() -> list[dict[str, Any]]:
    """Real plan documents, and the golden plans completed with what the golden files omit."""
    docs = [json.loads(dumps(hostile_plan())), json.loads(dumps(synthetic_plan(40, folders=4)))]
    for path in sorted(GOLDEN.glob("*/expected.json")):
        doc = json.loads(path.read_text())
        doc.setdefault("tool_version", "0.1.0")
        docs.append(doc)
    for doc in docs:  # the shape only: a checksum of the right form
        doc["checksum"] = "sha256:" + "0" * 64
    return docs


CORPUS = _corpus()


def test_the_corpus_is_valid_to_both() -> None:
    assert len(CORPUS) > 10
    for doc in CORPUS:
        assert FULL.is_valid(doc), next(FULL.iter_errors(doc)).message
        assert FAST(doc)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "create", "delete", "folder:/a", "item", "sha256:" + "a" * 64])
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _containers(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if isinstance(node, dict | list) and node else []
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        out.extend(_containers(child, (*path, key)))
    return out


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    """A corpus document with one place replaced, removed, or given an extra key."""
    doc: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(_containers(doc)))
        parent: Any = doc
        for key in path:
            parent = parent[key]
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        key = draw(st.sampled_from(keys))
        how = draw(st.sampled_from(["replace", "remove", "add"]))
        if how == "replace":
            parent[key] = draw(JSON)
        elif how == "remove":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "kind", "actions", "email", "code"]))] = draw(
                JSON
            )
        else:
            parent.append(copy.deepcopy(parent[key]))  # a duplicate: uniqueItems
    return doc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken())
def test_both_judge_broken_plans_alike(doc: dict[str, Any]) -> None:
    assert FAST(doc) == FULL.is_valid(doc)


KEYWORD_SCHEMAS = [
    {"type": "integer"},
    {"type": ["number", "null"]},
    {"type": "boolean"},
    {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
    {"uniqueItems": True},
    {"enum": ["a", 1, None, [1]]},
    {"const": 1},
    {"const": {"a": [True]}},
    {"pattern": "^a.b"},
    {"minimum": 0},
    {"minItems": 2},
    {"required": ["a"], "additionalProperties": {"type": "integer"}},
    {"additionalProperties": False},
    {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
    {"properties": {"a": {"type": "string"}}},
    {"oneOf": [{"type": "integer"}, {"type": "number"}, {"type": "null"}]},
    {"$defs": {"x": {"type": "string"}}, "items": {"$ref": "#/$defs/x"}},
    {"description": "anything", "uniqueItems": False, "additionalProperties": True},
    {"items": {"description": "anything"}},
    {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
]


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=lambda s: json.dumps(s)[:40])
@settings(max_examples=60, deadline=None)
@given(value=JSON)
def test_each_keyword_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    assert compile_schema(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize(
    "schema",
    [
        {"exclusiveMaximum": 1},
        {"type": "tuple"},
        {"$ref": "other.json#/x"},
        {"items": {"format": "uri"}},
    ],
)
def test_a_keyword_it_does_not_implement_is_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(NotImplementedError):
        compile_schema(schema)


def test_loads_still_says_what_is_wrong_in_jsonschemas_words() -> None:
    doc = copy.deepcopy(CORPUS[0])
    doc["refusals"].append({"code": "no-such-code"})
    with pytest.raises(Exception, match=r"^not a valid plan file: at refusals/\d+: "):
        loads(json.dumps(doc))


# Closed objects are written as one function, their simple properties inline
# (``schemacheck._closed_object``): every inlined form, and forms that must not be inlined.
CLOSED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": ["string", "integer"]},
        "b": {"enum": ["x", "y"], "description": "an annotation"},
        "c": {"pattern": "^a", "type": ["string", "null"]},
        "d": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["p", "q"]}},
        "e": {"type": "array", "items": {"type": ["string", "integer"]}, "uniqueItems": True},
        "f": {"items": {"type": "string"}, "uniqueItems": True, "minItems": 2},
        "g": {"type": "number"},
        "h": {"uniqueItems": True},
        "i": {"enum": ["x", 1]},
        "j": {"description": "anything"},
        "k": {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
    },
    "required": ["a"],
    "additionalProperties": False,
}
EVERY_KEY = {**CLOSED, "required": list(CLOSED["properties"])}
VALID = {
    "a": st.one_of(st.text(max_size=3), st.integers(), st.just(2.0)),
    "b": st.sampled_from(["x", "y"]),
    "c": st.one_of(st.none(), st.sampled_from(["a", "ab", "abc"])),
    "d": st.lists(st.sampled_from(["p", "q"]), min_size=1, max_size=2, unique=True),
    "e": st.lists(st.one_of(st.text(max_size=2), st.integers(0, 3)), unique=True, max_size=3),
    "f": st.lists(st.text(max_size=2), min_size=2, max_size=3, unique=True),
    "g": st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
    "h": st.lists(st.integers(0, 5), unique=True, max_size=3),
    "i": st.sampled_from(["x", 1]),
    "j": JSON,
    "k": st.lists(st.lists(st.booleans(), max_size=2), max_size=2),
}
ODD = st.one_of(
    JSON,
    st.lists(st.sampled_from(["p", "q", "x", 1, 1.0, True, None, [True], "a1"]), max_size=4),
    st.sampled_from(["x", "a", "ab", 1.0, 2.5, True, 3, "p", ["p", "p"], [1, True], [1, 1.0]]),
)


@st.composite
def objects(draw: st.DrawFn) -> dict[str, Any]:
    """Valid objects of ``CLOSED``'s properties, some keys left out, and at most one key's
    value (or an extra key) drawn from anything."""
    value = draw(st.fixed_dictionaries(VALID))
    for key in draw(st.sets(st.sampled_from(sorted(VALID)), max_size=3)):
        del value[key]
    if draw(st.booleans()):
        value[draw(st.sampled_from([*VALID, "z"]))] = draw(ODD)
    return value


@pytest.mark.parametrize("schema", [CLOSED, EVERY_KEY], ids=["some-required", "all-required"])
@settings(max_examples=400, deadline=None)
@given(value=st.one_of(objects(), JSON))
def test_a_closed_object_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    assert compile_schema(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value)
