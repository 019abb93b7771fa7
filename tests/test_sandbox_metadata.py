"""Metadata schema descriptors, value type checks and the legacy view."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.metadata import (
    check_values,
    from_legacy,
    legacy_types,
    parse_metadata_text,
    validate_schema,
)

SCHEMA = validate_schema(
    {
        "n": {"ty": "number"},
        "b": {"ty": "boolean"},
        "v": {"ty": "varchar", "max_length": 3},
        "t": {"ty": "text"},
        "d": {"ty": "datetime"},
        "e": {"ty": "enum", "values": ["a", "b"]},
        "emb": {"ty": "embedding", "size": 2},
        "g": {"ty": "geospatial"},
        "u": {"ty": "uuid"},
        "who": {"ty": "user"},
        "h": {"ty": "variant", "hint": "long_string"},
        "hn": {"ty": "variant", "hint": "number"},
        "old": {"ty": "tombstone"},
    }
)


def test_defaults_are_filled_in() -> None:
    assert SCHEMA["n"] == {"ty": "number", "format": "F64"}
    assert SCHEMA["d"] == {"ty": "datetime", "timezone": "UTC"}
    assert SCHEMA["emb"] == {"ty": "embedding", "size": 2, "api": None}
    assert SCHEMA["h"] == {"ty": "variant", "hint": "text"}
    assert SCHEMA["old"] == {"ty": "tombstone", "deleted_ty": None}


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        ("n", 1.5, True),
        ("n", -3, "3"),
        ("b", False, 0),
        ("v", "abc", "abcd"),
        ("t", "long " * 100, 5),
        ("d", "2024-01-01T00:00:00Z", "yesterday"),
        ("e", "b", "c"),
        ("emb", [0.5, 1], [1, 2, 3]),
        ("emb", [0, 0], [True, 1]),
        ("g", {"type": "Point", "coordinates": [0, 0]}, "here"),
        ("u", "7e88ed37-51c2-49a2-ae75-c91809824dd2", "nope"),
        ("who", "a@example.com", 1),
        ("h", "free text", 1),
        ("hn", 2, "two"),
    ],
)
def test_declared_keys_are_type_checked(key: str, good: Any, bad: Any) -> None:
    check_values(SCHEMA, {key: good})
    check_values(SCHEMA, {key: None})
    with pytest.raises(ApiError) as caught:
        check_values(SCHEMA, {key: bad})
    assert caught.value.status == 400 and repr(key) in caught.value.message


def test_undeclared_keys_and_tombstones_are_free() -> None:
    check_values(SCHEMA, {"anything": [1, {"x": None}], "old": {"whatever": True}})
    check_values(None, {"n": "not checked without a schema"})


def test_legacy_view_and_legacy_set() -> None:
    assert legacy_types(SCHEMA) == {
        "n": "number",
        "b": "boolean",
        "v": "string",
        "t": "long_string",
        "d": "datetime",
        "e": "enum",
        "emb": "embedding",
        "g": "geospatial",
        "u": "string",
        "who": "string",
        "h": "long_string",
        "hn": "number",
    }
    assert from_legacy({"metadataSchema": {"s": "string"}}) == {
        "s": {"ty": "varchar", "max_length": 8192}
    }
    assert from_legacy({"s": "long_string"}) == {"s": {"ty": "text"}}
    with pytest.raises(ApiError):
        from_legacy({"s": "colour"})


def test_folder_create_metadata_text() -> None:
    assert parse_metadata_text('{"a": [1, 2]}') == {"a": [1, 2]}
    for text in ("[1]", "nope", "1"):
        with pytest.raises(ApiError):
            parse_metadata_text(text)
