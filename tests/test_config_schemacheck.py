"""The config schema compiled to plain checks (``config.schema.fast_check``) judges every file as
``jsonschema`` does: the examples and the config cases, the same documents broken at random
places, and each keyword the config schema uses on random values. A "valid" from the compiled
check skips jsonschema altogether, so it must never call valid what jsonschema refuses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config.schema import RESOURCE_FILE, SETTINGS_FILE, config_schema, fast_check
from reconciler.config.schema import reference_validator as _reference
from reconciler.schemacheck import compile_schema

TESTS = Path(__file__).parent
FULL = {kind: _reference(kind) for kind in (SETTINGS_FILE, RESOURCE_FILE)}
UNREADABLE = {"alias-bomb", "yaml-syntax", "yaml-tags", "duplicate-keys"}  # not documents to judge


def _kind(path: Path) -> str:
    return SETTINGS_FILE if path.name == "reconciler.yaml" else RESOURCE_FILE


def _corpus() -> list[tuple[str, Any]]:
    """Every YAML document of the examples and the config cases, with the kind it is judged as."""
    paths = [
        *sorted((TESTS.parent / "examples").rglob("*.yaml")),
        *sorted((TESTS / "config_cases").rglob("*.yaml")),
    ]
    docs = []
    for path in paths:
        if UNREADABLE & set(path.parts) or "ci" in path.parts:
            continue
        try:
            data = yaml.safe_load(path.read_text())
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        docs.append((_kind(path), {} if data is None else data))
    return docs


CORPUS = _corpus()
VALID = [(kind, doc) for kind, doc in CORPUS if FULL[kind].is_valid(doc)]


def test_the_corpus_has_valid_and_invalid_files_of_both_kinds() -> None:
    invalid = [(kind, doc) for kind, doc in CORPUS if (kind, doc) not in VALID]
    assert (
        {kind for kind, _ in VALID}
        == {kind for kind, _ in invalid}
        == {
            SETTINGS_FILE,
            RESOURCE_FILE,
        }
    )
    assert len(VALID) >= 10 and len(invalid) >= 5


def test_both_judge_every_corpus_file_alike() -> None:
    for kind, doc in CORPUS:
        assert fast_check(kind)(doc) == FULL[kind].is_valid(doc), doc


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "/a", "/a/b", "a", "owned", "owner", "x@y.z", "*.jpg", "number"])
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
# Keys the schema knows somewhere, so that an added key is often a real one in a wrong place.
KEYS = [
    "folders",
    "groups",
    "users",
    "register",
    "metadata",
    "previously",
    "items",
    "type",
    "match",
    "x-note",
    "extra",
    "prune",
    "members",
    "role",
    "sandbox",
    "encord",
    "mode",
]


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
def broken(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid corpus file with one or two places replaced, removed, or given an extra key."""
    kind, original = draw(st.sampled_from(VALID))
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 2))):
        places = _containers(doc)
        if not places:
            return kind, draw(JSON)
        parent: Any = doc
        for key in draw(st.sampled_from(places)):
            parent = parent[key]
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        key = draw(st.sampled_from(keys))
        how = draw(st.sampled_from(["replace", "remove", "add"]))
        if how == "replace":
            parent[key] = draw(JSON)
        elif how == "remove":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(JSON)
        else:
            parent.append(copy.deepcopy(parent[key]))  # a duplicate: uniqueItems
    return kind, doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken())
def test_both_judge_broken_files_alike(case: tuple[str, Any]) -> None:
    kind, doc = case
    assert fast_check(kind)(doc) == FULL[kind].is_valid(doc)


KEYWORD_SCHEMAS = [
    {"maximum": 2},
    {"minLength": 2, "maxLength": 3},
    {"maxItems": 1},
    {"minProperties": 1, "maxProperties": 2},
    {"not": {"type": "string"}},
    {"allOf": [{"type": "integer"}, {"minimum": 0}]},
    {"anyOf": [{"type": "string"}, {"maximum": 0}]},
    {"if": {"type": "string"}, "then": {"minLength": 1}, "else": {"type": "integer"}},
    {"if": {"type": "object"}, "then": {"required": ["a"]}},
    {"then": {"type": "string"}},
    {"propertyNames": {"pattern": "^[a-z]+$"}},
    {"propertyNames": False},
    {"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False},
    {
        "properties": {"a": {"type": "string"}},
        "patternProperties": {"^a": {"minLength": 2}, "b": {"type": "integer"}},
        "additionalProperties": {"type": "null"},
    },
    {"dependentRequired": {"a": ["b", "c"]}},
    {"items": False},
    {"items": True, "patternErrorMessage": "why", "$comment": "note"},
]


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=lambda s: repr(s)[:40])
@settings(max_examples=40, deadline=None)
@given(value=JSON)
def test_each_keyword_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    assert compile_schema(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value)


def test_the_whole_config_schema_compiles() -> None:
    """Every keyword the config schema uses is implemented (else NotImplementedError)."""
    assert callable(compile_schema(config_schema()))


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"patternProperties": {"^x-": {"type": "string"}}}, {"x-a": 1}),
        ({"patternProperties": {"^x-": {"type": "string"}}}, {"x-a": "s", "b": 1}),
        ({"properties": {"a": {}}, "patternProperties": {"^a": {"type": "null"}}}, {"a": 1}),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}),
        ({"propertyNames": {"maxLength": 1}}, {"ab": 1}),
    ],
)
def test_keys_the_random_values_rarely_reach(schema: dict[str, Any], value: Any) -> None:
    assert compile_schema(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value)


def test_definitions_compiled_when_used_judge_as_those_compiled_at_once() -> None:
    """``fast_check`` compiles a definition when a value first reaches it (``validate`` of a
    small config reaches few): the same answers as compiling every one first."""
    defs = config_schema()["$defs"]
    for when_used in (False, True):
        checks = {
            kind: compile_schema(
                {"$defs": defs, "$ref": f"#/$defs/{kind}"}, defs_when_used=when_used
            )
            for kind in (SETTINGS_FILE, RESOURCE_FILE)
        }
        assert [checks[kind](doc) for kind, doc in CORPUS] == [
            FULL[kind].is_valid(doc) for kind, doc in CORPUS
        ]
    # a definition nothing reaches is not compiled (nor refused) until something does
    schema = {"$defs": {"a": {"type": "string"}, "b": {"format": "uri"}}, "$ref": "#/$defs/a"}
    with pytest.raises(NotImplementedError):
        compile_schema(schema)
    assert compile_schema(schema, defs_when_used=True)("x") is True
