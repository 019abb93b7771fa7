"""A JSON Schema compiled to plain Python checks: is a document valid, at about the cost of
walking it once.

``jsonschema`` judges a plan file of 100,000 changes in tens of seconds, several times what
parsing it costs; the plan schema uses a small part of JSON Schema 2020-12, and that part
compiles to closures that only answer yes or no. The schema stays the contract: this module
reads it (nothing is written twice), refuses a keyword it does not know (``NotImplementedError``,
so a schema change cannot silently loosen the check), and ``tests/test_plan_schemacheck.py``
checks that both judge a corpus of valid and broken plans alike. Messages are jsonschema's:
``planfile.loads`` asks it why only when this check says no.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change validity.
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "errorMessage"})
_TYPES: dict[str, Check] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "null": lambda v: v is None,
    "boolean": lambda v: type(v) is bool,
    "number": lambda v: type(v) in (int, float),
    # 2020-12: a number with a zero fractional part is an integer (1.0 is, 1.5 and nan not)
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
}


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A function telling whether a JSON value (as ``json.loads`` makes it) is valid."""
    defs = schema.get("$defs", {})
    compiled: dict[str, Check] = {}

    def ref(name: str) -> Check:
        # resolved on first use, so definitions may refer to each other in any order
        def check(value: Any) -> bool:
            return compiled[name](value)

        return check

    def build(node: Any) -> Check:
        return _compile(node, ref, build)

    for name, node in defs.items():
        compiled[name] = build(node)
    return build({k: v for k, v in schema.items() if k != "$defs"})


def _compile(
    node: Mapping[str, Any], ref: Callable[[str], Check], build: Callable[[Any], Check]
) -> Check:
    unknown = set(node) - _ANNOTATIONS - set(_KEYWORDS)
    if unknown:
        raise NotImplementedError(f"keyword(s) not implemented: {sorted(unknown)}")
    if _is_closed_object(node):
        return _closed_object(node, build)
    found = [_KEYWORDS[key](node, ref, build) for key in node if key in _KEYWORDS]
    checks = tuple(c for c in found if c is not None)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    return lambda value: all(check(value) for check in checks)


def _always(_value: Any) -> bool:
    return True


def _is_closed_object(node: Mapping[str, Any]) -> bool:
    """The plan's common node: an object with known keys only (judged in one closure)."""
    keys = set(node) - _ANNOTATIONS
    return (
        node.get("type") == "object"
        and node.get("additionalProperties") is False
        and keys <= {"type", "properties", "required", "additionalProperties"}
    )


def _closed_object(node: Mapping[str, Any], build: Callable[[Any], Check]) -> Check:
    properties = {key: build(sub) for key, sub in node.get("properties", {}).items()}
    required = tuple(node.get("required", ()))

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            known = properties.get(key)
            if known is None or (known is not _always and not known(item)):
                return False
        return True

    return check


def _type(node: Mapping[str, Any], *_: Any) -> Check:
    names = node["type"] if isinstance(node["type"], list) else [node["type"]]
    if not set(names) <= set(_TYPES):
        raise NotImplementedError(f"type {names!r} is not implemented")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema has it: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(map(_json_equal, a, b))
    return bool(a == b)


def _enum(node: Mapping[str, Any], *_: Any) -> Check:
    options = list(node["enum"])
    if all(type(o) is str for o in options):
        strings = frozenset(options)
        return lambda value: type(value) is str and value in strings
    return lambda value: any(_json_equal(value, o) for o in options)


def _const(node: Mapping[str, Any], *_: Any) -> Check:
    expected = node["const"]
    return lambda value: _json_equal(value, expected)


def _pattern(node: Mapping[str, Any], *_: Any) -> Check:
    search = re.compile(node["pattern"]).search
    return lambda value: type(value) is not str or search(value) is not None


def _minimum(node: Mapping[str, Any], *_: Any) -> Check:
    bound = node["minimum"]
    return lambda value: type(value) not in (int, float) or value >= bound


def _min_items(node: Mapping[str, Any], *_: Any) -> Check:
    bound = node["minItems"]
    return lambda value: type(value) is not list or len(value) >= bound


def _unique_items(node: Mapping[str, Any], *_: Any) -> Check | None:
    if not node["uniqueItems"]:
        return None

    def check(value: Any) -> bool:
        if type(value) is not list:
            return True
        if all(type(v) is str for v in value):
            return len(set(value)) == len(value)
        return not any(
            _json_equal(value[i], value[j])
            for i in range(len(value))
            for j in range(i + 1, len(value))
        )

    return check


def _items(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check | None:
    item = build(node["items"])
    if item is _always:
        return None
    return lambda value: type(value) is not list or all(map(item, value))


def _required(node: Mapping[str, Any], *_: Any) -> Check:
    keys = tuple(node["required"])
    return lambda value: type(value) is not dict or all(k in value for k in keys)


def _properties(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    properties = {key: build(sub) for key, sub in node["properties"].items()}
    extra = node.get("additionalProperties", True)
    other: Check | None = None if extra is True else build(extra) if extra is not False else None

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return True
        for key, item in value.items():
            known = properties.get(key)
            if known is not None:
                if not known(item):
                    return False
            elif extra is False or (other is not None and not other(item)):
                return False
        return True

    return check


def _additional(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check | None:
    if "properties" in node:
        return None  # judged with the properties
    extra = node["additionalProperties"]
    if extra is True:
        return None
    if extra is False:
        return lambda value: type(value) is not dict or not value
    other = build(extra)
    return lambda value: type(value) is not dict or all(map(other, value.values()))


def _ref_keyword(node: Mapping[str, Any], ref: Callable[[str], Check], _build: Any) -> Check:
    target = node["$ref"]
    if not target.startswith("#/$defs/") or "/" in target.removeprefix("#/$defs/"):
        raise NotImplementedError(f"$ref {target!r}: only #/$defs/<name> is implemented")
    return ref(target.removeprefix("#/$defs/"))


def _one_of(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    options = [build(sub) for sub in node["oneOf"]]
    return lambda value: sum(1 for option in options if option(value)) == 1


_Keyword = Callable[
    [Mapping[str, Any], Callable[[str], Check], Callable[[Any], Check]], Check | None
]
_KEYWORDS: dict[str, _Keyword] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _minimum,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
    "items": _items,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "$ref": _ref_keyword,
    "oneOf": _one_of,
}
