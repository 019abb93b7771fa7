"""The config's JSON Schema (``schemas/config.schema.json``) and its errors as diagnostics.

The schema is the single source of the shape of every file. ``reconciler.yaml`` is checked
against ``$defs/settings_file`` and every other file against ``$defs/resource_file``. Each
jsonschema error becomes one diagnostic at the YAML position of the offending node: the key
for a missing or unknown key, the value otherwise. Messages come from the schema's
``errorMessage`` / ``patternErrorMessage`` annotations (which YAML editors show too) or are
phrased here from the failing keyword.

A valid file (the common case) is judged by the schema compiled to plain checks
(``reconciler.schemacheck``) and never imports jsonschema, whose import alone is about a third of
what ``reconciler validate`` of a small config costs; jsonschema is asked only when that check
says no, to say why (``tests/test_config_schemacheck.py`` checks that both judge alike).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.config.errors import Diagnostic
from reconciler.config.positions import PathPart, Pos, YamlDoc, describe_path
from reconciler.schemacheck import Check, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

SCHEMAS = Path(__file__).parent.parent / "schemas"
SCHEMA_ID = "https://reconciler.dev/schemas/config/v1.json"
SETTINGS_FILE = "settings_file"
RESOURCE_FILE = "resource_file"
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "nothing (null)",
}


@cache
def config_schema() -> dict[str, Any]:
    """The loaded JSON Schema (cached; do not mutate)."""
    # Read beside this package, not through importlib.resources, whose import (tempfile,
    # shutil, the zipfile readers) cost ``validate`` about 15 ms of its start-up; the schemas
    # are installed as files with the package (pyproject's package-data).
    text = (SCHEMAS / "config.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def fast_check(kind: str) -> Check:
    """Whether a file is valid against ``$defs/<kind>``: yes or no, without jsonschema."""
    schema = config_schema()
    document = {"$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"}
    return compile_schema(document, defs_when_used=True)


@cache
def _validator(kind: str) -> Draft202012Validator:
    """A validator for ``$defs/<kind>`` with every local ``$ref`` inlined.

    The schema has no recursive references, so inlining is finite; it spares jsonschema a
    reference lookup per node, which is most of its time on a large file. The result is the
    same as validating against ``{"$ref": ".../v1.json#/$defs/<kind>"}`` (a test checks).
    """
    from jsonschema import Draft202012Validator  # only to say why a file is invalid

    schema = config_schema()
    return Draft202012Validator(_inline(schema["$defs"][kind], schema["$defs"]))


def reference_validator(kind: str) -> Draft202012Validator:
    """The plain validator through ``$ref`` (what editors do), for tests."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resource(
        SCHEMA_ID, Resource.from_contents(config_schema())
    )
    return Draft202012Validator({"$ref": f"{SCHEMA_ID}#/$defs/{kind}"}, registry=registry)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline(value, defs) for key, value in node.items() if key != "$ref"}
    ref = node.get("$ref")
    if ref is None:
        return out
    target = _inline(defs[ref.removeprefix("#/$defs/")], defs)
    if not out:
        return target
    out["allOf"] = [*out.get("allOf", []), target]
    return out


def schema_errors(
    doc: YamlDoc, kind: str, exempt: frozenset[Pos] = frozenset()
) -> tuple[list[Diagnostic], set[tuple[PathPart, ...]]]:
    """Diagnostics for ``doc`` and the data paths they concern (so builders skip them).
    Errors at ``exempt`` positions (values left as written on purpose) do not count."""
    diagnostics: list[Diagnostic] = []
    bad_paths: set[tuple[PathPart, ...]] = set()
    data = {} if doc.data is None else doc.data
    foreign = _foreign(doc) if kind == RESOURCE_FILE else None
    if foreign is not None:
        return [foreign], {()}
    if fast_check(kind)(data):
        return diagnostics, bad_paths
    for error in _leaf_errors(_validator(kind).iter_errors(data)):
        path, pos, message = _explain(doc, error)
        if pos in exempt:
            continue
        bad_paths.add(path)
        where = describe_path(path)
        text = f"{where}: {message}" if where else message
        origin = doc.origin(path)
        if origin is not None:
            text += f" ({origin})"
        diagnostics.append(Diagnostic(doc.file, pos.line, pos.col, text))
    return diagnostics, bad_paths


def _foreign(doc: YamlDoc) -> Diagnostic | None:
    """One diagnostic for a file that is plainly another tool's YAML (a ``mkdocs.yml``): no
    top-level key is, or is close to, a key of a config file."""
    if not isinstance(doc.data, dict) or not doc.data:
        return None
    known = list(config_schema()["$defs"]["document"]["properties"])
    for key in doc.data:
        if key in known or key.startswith("x-") or _near(key, known):
            return None
    keys = ", ".join(list(doc.data)[:3]) + (", …" if len(doc.data) > 3 else "")
    pos = doc.key_pos((next(iter(doc.data)),))
    return Diagnostic(
        doc.file,
        pos.line,
        pos.col,
        f"not a reconciler file (top-level keys: {keys}); list it under 'exclude:' in "
        "reconciler.yaml, or narrow 'include:'",
    )


def _near(word: str, choices: list[str]) -> bool:
    """A likely typo of one of ``choices`` (stricter than the "did you mean" hints)."""
    import difflib  # here: only a config with a mistake needs a hint

    folded = word.lower()
    return any(difflib.SequenceMatcher(None, folded, c).ratio() >= 0.75 for c in choices)


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    """Errors to report: a oneOf/anyOf without its own message reports its best branch."""
    from jsonschema.exceptions import best_match

    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context and not _custom(error):
            best = best_match(error.context)
            yield best if best is not None else error
        else:
            yield error


def _custom(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in schema:
        return str(schema["patternErrorMessage"])
    message = schema.get("errorMessage")
    return None if message is None else str(message)


def _explain(doc: YamlDoc, error: ValidationError) -> tuple[tuple[PathPart, ...], Pos, str]:
    path = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        # The error is about a key: the instance is the key itself.
        key_path = (*path, str(error.instance))
        return key_path, doc.key_pos(key_path), _custom(error) or _message(error)
    if error.validator == "additionalProperties":
        extra = _unexpected_keys(error)
        key_path = (*path, extra[0]) if extra else path
        return key_path, doc.key_pos(key_path), _message(error, extra)
    if error.validator in ("required", "oneOf", "dependentRequired", "not"):
        return path, doc.key_pos(path), _custom(error) or _message(error)
    return path, doc.value_pos(path), _custom(error) or _message(error)


def _unexpected_keys(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        key for key in instance if key not in known and not any(p.search(key) for p in patterns)
    ]


def _message(error: ValidationError, extra: list[str] | None = None) -> str:
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        names = " or ".join(_TYPE_NAMES.get(w, w) for w in wanted if w != "null")
        return f"expected {names}, got {_describe(instance)}"
    if kind in ("enum", "const"):
        allowed = list(value) if kind == "enum" else [value]
        return f"{_short(instance)} is not one of: {', '.join(map(str, allowed))}" + _hint(
            instance, allowed
        )
    if kind == "required":
        missing = [k for k in value if k not in instance]
        noun = "key" if len(missing) == 1 else "keys"
        return f"missing required {noun} {', '.join(repr(k) for k in missing)}"
    if kind == "additionalProperties" and extra:
        known = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        return f"unknown key {_short(extra[0])}" + _hint(extra[0], known, "known keys: ")
    if kind == "dependentRequired":
        return "version, target and ownership go together in reconciler.yaml"
    return _bounds_message(error)


def _bounds_message(error: ValidationError) -> str:
    kind, value, instance = error.validator, error.validator_value, error.instance
    phrases = {
        "minimum": f"{instance} is below the minimum {value}",
        "maximum": f"{instance} is above the maximum {value}",
        "minLength": "must not be empty" if value == 1 else f"shorter than {value} characters",
        "maxLength": f"longer than {value} characters",
        "minItems": "must not be empty" if value == 1 else f"needs at least {value} entries",
        "maxItems": f"has more than {value} entries",
        "minProperties": "must not be empty" if value == 1 else f"needs at least {value} keys",
        "maxProperties": f"has more than {value} entries",
        "uniqueItems": "lists the same value twice",
        "pattern": f"{_short(instance)} does not match {value}",
    }
    return phrases.get(str(kind), str(error.message))


def _hint(word: Any, choices: list[Any], prefix: str = "") -> str:
    options = [str(c) for c in choices]
    if not isinstance(word, str):
        return f" ({prefix}{', '.join(options)})" if prefix else ""
    import difflib  # here: only a config with a mistake needs a hint

    folded = [o for o in options if o.lower() == word.lower()]
    close = folded or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" ({prefix}{', '.join(options)})" if prefix else ""


def _describe(instance: Any) -> str:
    if instance is None:
        return "nothing (null)"
    if isinstance(instance, bool):
        return f"the boolean {str(instance).lower()}"
    if isinstance(instance, int | float):
        return f"the number {instance}"
    if isinstance(instance, str):
        return f"the string {_short(instance)}"
    return "a mapping" if isinstance(instance, dict) else "a list"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
