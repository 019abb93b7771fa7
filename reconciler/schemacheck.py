"""A JSON Schema compiled to plain Python checks: is a document valid, at about the cost of
walking it once.

``jsonschema`` judges a plan file of 100,000 changes in tens of seconds, several times what
parsing it costs, and merely importing it (with ``referencing``, ``rpds`` and ``attrs``) is a
third of what ``reconciler validate`` of a small config costs. The plan and config schemas use a
small part of JSON Schema 2020-12, and that part compiles to closures that only answer yes or
no (a closed object, a plan's change, to one function written out, ``_closed_object``). The schema stays the contract: this module reads it (nothing is written twice), refuses a
keyword it does not know (``NotImplementedError``, so a schema change cannot silently loosen the
check), and ``tests/test_plan_schemacheck.py`` and ``tests/test_config_schemacheck.py`` check
that both judge corpora of valid and broken documents alike. Messages are jsonschema's: callers
ask it why only when this check says no (``planfile.loads``, ``config.schema.schema_errors``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "errorMessage", "patternErrorMessage"}
)
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
# The Python types of each JSON type but integer (bool is not int here: ``type`` is exact).
_EXACT: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "null": (type(None),),
    "boolean": (bool,),
    "number": (int, float),
}


def compile_schema(schema: Mapping[str, Any], *, defs_when_used: bool = False) -> Check:
    """A function telling whether a JSON value (as ``json.loads`` makes it) is valid.

    ``defs_when_used``: compile a definition the first time a value reaches it, not all of
    them now (``reconciler validate`` of a small config reaches a third of the config
    schema's). Every keyword is still checked when the schema is compiled whole (the tests
    do), so a keyword not implemented cannot go unnoticed either way.
    """
    defs = schema.get("$defs", {})
    compiled: dict[str, Check] = {}

    def ref(name: str) -> Check:
        # resolved on first use, so definitions may refer to each other in any order
        def check(value: Any) -> bool:
            found = compiled.get(name)
            if found is None:
                found = compiled[name] = build(defs[name])
            return found(value)

        return check

    def build(node: Any) -> Check:
        if node is True:
            return _always
        if node is False:
            return _never
        return _compile(node, ref, build)

    if not defs_when_used:
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
    return _every(checks)


def _every(checks: tuple[Check, ...]) -> Check:
    """The checks one after another, nested: a generator per value cost more than most checks."""
    first, rest = checks[0], checks[1:]
    then = rest[0] if len(rest) == 1 else _every(rest)
    return lambda value: first(value) and then(value)


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


def _is_closed_object(node: Mapping[str, Any]) -> bool:
    """The plan's common node: an object with known keys only (judged in one closure)."""
    keys = set(node) - _ANNOTATIONS
    return (
        node.get("type") == "object"
        and node.get("additionalProperties") is False
        and keys <= {"type", "properties", "required", "additionalProperties"}
    )


def _closed_object(node: Mapping[str, Any], build: Callable[[Any], Check]) -> Check:
    """One function written for the object (``exec``): its keys judged at once, and each
    property whose schema is only ``type``, string ``enum`` and ``pattern`` judged inline,
    the others by their compiled checks. A plan's change is such an object, 100,000 times
    in a large plan: about half the calls of a closure per keyword."""
    properties: dict[str, Any] = dict(node.get("properties", {}))
    required = list(node.get("required", ()))
    names: dict[str, Any] = {"KEYS": frozenset(properties), "ABSENT": _ABSENT, "NUMBER": _NUMBER}
    lines = ["def check(value):", "    if type(value) is not dict:", "        return False"]
    if set(required) == set(properties):  # a plan's change: every key, nothing else
        lines += ["    if value.keys() != KEYS:", "        return False"]
    else:
        names["REQUIRED"] = tuple(required)
        lines += [
            "    for key in REQUIRED:",
            "        if key not in value:",
            "            return False",
            "    for key in value:",
            "        if key not in KEYS:",
            "            return False",
        ]
    for n, (key, sub) in enumerate(properties.items()):
        test = _inline(sub, str(n), names)
        if test is None:
            check = build(sub)
            if check is _always:
                continue
            names[f"check_{n}"] = check
            test = f"check_{n}(x)"
        if key in required:
            lines.append(f"    x = value[{key!r}]")
            lines += [f"    if not ({test}):", "        return False"]
        else:
            lines.append(f"    x = value.get({key!r}, ABSENT)")
            lines += [f"    if x is not ABSENT and not ({test}):", "        return False"]
    lines.append("    return True")
    exec("\n".join(lines), names)  # the names are the schema's keys, written as literals
    return names["check"]  # type: ignore[no-any-return]


_ABSENT = object()
_INLINE_TYPES = {
    "object": "type({0}) is dict",
    "array": "type({0}) is list",
    "string": "type({0}) is str",
    "null": "{0} is None",
    "boolean": "type({0}) is bool",
    "number": "type({0}) in NUMBER",
    "integer": "(type({0}) is int or (type({0}) is float and {0}.is_integer()))",
}


def _inline(node: Any, n: str, names: dict[str, Any], x: str = "x") -> str | None:
    """A property's schema as one expression over the variable ``x``, when it is only
    ``type``, an ``enum`` of strings, a ``pattern``, and for an array ``minItems``, ``items``
    of those, and ``uniqueItems`` of strings (and annotations); None for anything else."""
    if not isinstance(node, Mapping) or not node or set(node) - _ANNOTATIONS - _INLINED:
        return None
    if set(node) <= _ANNOTATIONS:
        return None  # always valid: left to ``build``, which says so
    tests = []
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not set(kinds) <= set(_INLINE_TYPES):
            return None  # ``build`` refuses it, as for any other node
        tests.append("(" + " or ".join(_INLINE_TYPES[kind].format(x) for kind in kinds) + ")")
    if "enum" in node:
        if not all(type(option) is str for option in node["enum"]):
            return None
        names[f"enum_{n}"] = frozenset(node["enum"])
        tests.append(f"(type({x}) is str and {x} in enum_{n})")
    if "pattern" in node:
        names[f"search_{n}"] = re.compile(node["pattern"]).search
        tests.append(f"(type({x}) is not str or search_{n}({x}) is not None)")
    if "minItems" in node:
        tests.append(f"(type({x}) is not list or len({x}) >= {int(node['minItems'])})")
    if "items" in node:
        item = _inline(node["items"], f"{n}_items", names, x=f"{x}_")
        if item is None:
            return None
        tests.append(f"(type({x}) is not list or all({item} for {x}_ in {x}))")
        of = node["items"]
        strings = of.get("type") in ("string", ["string"]) or "enum" in of  # enum: of strings
        if node.get("uniqueItems") and not strings:
            return None  # unique among values of any type: ``build``'s pairwise check
    elif node.get("uniqueItems"):
        return None
    if node.get("uniqueItems"):  # the items are all strings by now
        tests.append(f"(type({x}) is not list or len(set({x})) == len({x}))")
    return " and ".join(tests)


_INLINED = frozenset({"type", "enum", "pattern", "minItems", "items", "uniqueItems"})


def _type(node: Mapping[str, Any], *_: Any) -> Check:
    names = node["type"] if isinstance(node["type"], list) else [node["type"]]
    if not set(names) <= set(_TYPES):
        raise NotImplementedError(f"type {names!r} is not implemented")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    exact = frozenset(t for name in names if name != "integer" for t in _EXACT[name])
    if "integer" not in names:  # the others are exact Python types: one set lookup
        return lambda value: type(value) in exact
    exact |= {int}  # and a float with no fractional part
    return lambda value: type(value) in exact or (type(value) is float and value.is_integer())


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
    """``properties``, ``patternProperties`` and ``additionalProperties`` together: the last
    applies to the keys that neither of the others names or matches."""
    properties = {key: build(sub) for key, sub in node.get("properties", {}).items()}
    patterns = [
        (re.compile(p).search, build(sub)) for p, sub in node.get("patternProperties", {}).items()
    ]
    extra = node.get("additionalProperties", True)
    other: Check | None = None if extra is True else build(extra)
    if not properties and not patterns and other is not None:  # a map: every value alike
        each = other
        return lambda value: type(value) is not dict or all(map(each, value.values()))

    def judge(key: str, item: Any) -> bool:
        known = properties.get(key)
        if known is not None and not known(item):
            return False
        matched = False
        for search, sub in patterns:
            if search(key) is not None:
                matched = True
                if not sub(item):
                    return False
        return known is not None or matched or other is None or other(item)

    def check(value: Any) -> bool:
        return type(value) is not dict or all(judge(k, v) for k, v in value.items())

    return check


def _pattern_properties(
    node: Mapping[str, Any], ref: Any, build: Callable[[Any], Check]
) -> Check | None:
    if "properties" in node:
        return None  # judged with the properties
    return _properties(node, ref, build)


def _additional(node: Mapping[str, Any], ref: Any, build: Callable[[Any], Check]) -> Check | None:
    if "properties" in node or "patternProperties" in node:
        return None  # judged with the properties
    return _properties(node, ref, build)


def _property_names(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    name = build(node["propertyNames"])
    return lambda value: type(value) is not dict or all(map(name, value))


def _dependent_required(node: Mapping[str, Any], *_: Any) -> Check:
    rules = [(key, tuple(needed)) for key, needed in node["dependentRequired"].items()]

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return True
        return all(all(n in value for n in needed) for key, needed in rules if key in value)

    return check


def _bound(keyword: str) -> _Keyword:
    """The numeric and size bounds: ``minimum`` of a number, ``maxLength`` of a string…"""
    measure, applies, at_least = _BOUNDS[keyword]

    def compile_bound(node: Mapping[str, Any], *_: Any) -> Check:
        limit = node[keyword]
        if at_least:
            return lambda value: type(value) not in applies or measure(value) >= limit
        return lambda value: type(value) not in applies or measure(value) <= limit

    return compile_bound


def _identity(value: Any) -> Any:
    return value


_NUMBER = (int, float)
_BOUNDS: dict[str, tuple[Callable[[Any], Any], tuple[type, ...], bool]] = {
    "minimum": (_identity, _NUMBER, True),
    "maximum": (_identity, _NUMBER, False),
    "minLength": (len, (str,), True),
    "maxLength": (len, (str,), False),
    "minItems": (len, (list,), True),
    "maxItems": (len, (list,), False),
    "minProperties": (len, (dict,), True),
    "maxProperties": (len, (dict,), False),
}


def _ref_keyword(node: Mapping[str, Any], ref: Callable[[str], Check], _build: Any) -> Check:
    target = node["$ref"]
    if not target.startswith("#/$defs/") or "/" in target.removeprefix("#/$defs/"):
        raise NotImplementedError(f"$ref {target!r}: only #/$defs/<name> is implemented")
    return ref(target.removeprefix("#/$defs/"))


def _one_of(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    options = [build(sub) for sub in node["oneOf"]]
    return lambda value: sum(1 for option in options if option(value)) == 1


def _any_of(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    options = [build(sub) for sub in node["anyOf"]]
    return lambda value: any(option(value) for option in options)


def _all_of(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    options = [build(sub) for sub in node["allOf"]]
    return lambda value: all(option(value) for option in options)


def _not(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    negated = build(node["not"])
    return lambda value: not negated(value)


def _if(node: Mapping[str, Any], _ref: Any, build: Callable[[Any], Check]) -> Check:
    """``if``/``then``/``else`` (a ``then`` or ``else`` without ``if`` means nothing)."""
    condition = build(node["if"])
    then, otherwise = build(node.get("then", True)), build(node.get("else", True))
    return lambda value: then(value) if condition(value) else otherwise(value)


def _ignored(*_: Any) -> None:
    return None


_Keyword = Callable[
    [Mapping[str, Any], Callable[[str], Check], Callable[[Any], Check]], Check | None
]
_KEYWORDS: dict[str, _Keyword] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    **{keyword: _bound(keyword) for keyword in _BOUNDS},
    "uniqueItems": _unique_items,
    "items": _items,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "$ref": _ref_keyword,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "allOf": _all_of,
    "not": _not,
    "if": _if,
    "then": _ignored,
    "else": _ignored,
    "patternProperties": _pattern_properties,
    "propertyNames": _property_names,
    "dependentRequired": _dependent_required,
}
