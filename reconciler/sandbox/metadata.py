"""Client metadata: the organisation schema (v2 descriptors and the legacy view) and values.

A v2 schema maps a key to a snake_case descriptor discriminated by ``ty`` (the SDK's
``metadata_schema.py`` models, which forbid nothing extra but have a fixed field set per
``ty``). Values of keys the schema declares are type-checked when metadata is written; other
keys are free. ``None`` is accepted for any key (it clears the value).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from reconciler.sandbox.errors import ApiError, bad_request

# Allowed keys (besides ``ty``) of each descriptor type.
_FIELDS: dict[str, frozenset[str]] = {
    "number": frozenset({"format"}),
    "boolean": frozenset(),
    "varchar": frozenset({"max_length"}),
    "datetime": frozenset({"timezone"}),
    "enum": frozenset({"values"}),
    "embedding": frozenset({"size", "api"}),
    "geospatial": frozenset(),
    "text": frozenset(),
    "uuid": frozenset(),
    "variant": frozenset({"hint"}),
    "user": frozenset(),
    "tombstone": frozenset({"deleted_ty"}),
}
_VARIANT_HINTS = {"number", "varchar", "text", "boolean", "datetime", "uuid"}
_HINT_ALIASES = {"long_string": "text", "string": "varchar"}
_EMBEDDING_API_FIELDS = {
    "url",
    "path",
    "service_integration",
    "client_only",
    "embed_b64_image",
    "embed_text",
}


def validate_schema(body: Any) -> dict[str, dict[str, Any]]:
    """The schema as stored: a JSON object of valid keys to valid descriptors (else 400)."""
    if not isinstance(body, dict):
        raise bad_request("the metadata schema must be a JSON object of key to descriptor")
    schema: dict[str, dict[str, Any]] = {}
    for key, descriptor in body.items():
        _check_key(key)
        schema[key] = _descriptor(key, descriptor, allow_tombstone=True)
    return schema


def _check_key(key: str) -> None:
    stripped = key.replace("-", "").replace("_", "").replace(" ", "").replace(".", "")
    if not key or key.startswith("$") or key == "keyframes" or not stripped.isalnum():
        raise bad_request(
            f"metadata key {key!r} is not allowed: use letters, digits, '-', '_', ' ' and '.', "
            "not starting with '$'"
        )


def _descriptor(key: str, value: Any, *, allow_tombstone: bool) -> dict[str, Any]:
    if not isinstance(value, dict) or "ty" not in value:
        raise bad_request(f"metadata schema key {key!r}: a descriptor is an object with 'ty'")
    ty = value["ty"]
    if ty not in _FIELDS or (ty == "tombstone" and not allow_tombstone):
        raise bad_request(f"metadata schema key {key!r}: unknown type {ty!r}")
    extra = set(value) - {"ty"} - _FIELDS[ty]
    if extra:
        raise bad_request(f"metadata schema key {key!r}: unexpected fields {sorted(extra)}")
    out = dict(value)
    _CHECKS[ty](key, out)
    return out


def _fail(key: str, message: str) -> ApiError:
    return bad_request(f"metadata schema key {key!r}: {message}")


def _check_number(key: str, d: dict[str, Any]) -> None:
    d.setdefault("format", "F64")
    if d["format"] not in ("F32", "F64"):
        raise _fail(key, "number format must be F32 or F64")


def _check_varchar(key: str, d: dict[str, Any]) -> None:
    d.setdefault("max_length", 8192)
    length = d["max_length"]
    if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= 8192:
        raise _fail(key, "max_length must be an integer from 0 to 8192")


def _check_datetime(key: str, d: dict[str, Any]) -> None:
    d.setdefault("timezone", "UTC")
    if d["timezone"] != "UTC":
        raise _fail(key, "timezone must be 'UTC'")


def _check_enum(key: str, d: dict[str, Any]) -> None:
    values = d.get("values")
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= 256
        or not all(isinstance(v, str) for v in values)
    ):
        raise _fail(key, "enum values must be a list of 1 to 256 strings")


def _check_embedding(key: str, d: dict[str, Any]) -> None:
    size = d.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 4096:
        raise _fail(key, "embedding size must be an integer from 1 to 4096")
    api = d.setdefault("api", None)
    if api is not None and (not isinstance(api, dict) or set(api) - _EMBEDDING_API_FIELDS):
        raise _fail(
            key, f"embedding api must be null or an object with {sorted(_EMBEDDING_API_FIELDS)}"
        )


def _check_variant(key: str, d: dict[str, Any]) -> None:
    hint = _HINT_ALIASES.get(d.get("hint", "text"), d.get("hint", "text"))
    if hint not in _VARIANT_HINTS:
        raise _fail(key, f"variant hint must be one of {sorted(_VARIANT_HINTS)}")
    d["hint"] = hint


def _check_tombstone(key: str, d: dict[str, Any]) -> None:
    deleted = d.setdefault("deleted_ty", None)
    if deleted is not None:
        d["deleted_ty"] = _descriptor(key, deleted, allow_tombstone=False)


def _no_fields(key: str, d: dict[str, Any]) -> None:
    return None


_CHECKS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "number": _check_number,
    "boolean": _no_fields,
    "varchar": _check_varchar,
    "datetime": _check_datetime,
    "enum": _check_enum,
    "embedding": _check_embedding,
    "geospatial": _no_fields,
    "text": _no_fields,
    "uuid": _no_fields,
    "variant": _check_variant,
    "user": _no_fields,
    "tombstone": _check_tombstone,
}


# --- values ----------------------------------------------------------------------------------


def check_values(
    schema: Mapping[str, Mapping[str, Any]] | None, metadata: Mapping[str, Any]
) -> None:
    """400 naming the first value that does not fit its key's declared type."""
    if not schema:
        return
    for key, value in metadata.items():
        descriptor = schema.get(key)
        if descriptor is None or value is None:
            continue
        problem = _value_problem(descriptor, value)
        if problem:
            raise bad_request(f"client metadata key {key!r}: {problem} (organisation schema)")


def _value_problem(d: Mapping[str, Any], value: Any) -> str | None:
    ty = d["ty"]
    if ty == "variant":
        ty = d.get("hint", "text")
    if ty == "number":
        ok = (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
        return None if ok else f"expected a number, got {value!r}"
    if ty == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if ty in ("varchar", "text", "user"):
        if not isinstance(value, str):
            return f"expected a string, got {value!r}"
        limit = d.get("max_length", 8192) if ty == "varchar" else None
        return None if limit is None or len(value) <= limit else f"longer than {limit} characters"
    if ty == "enum":
        values = d.get("values", [])
        return None if value in values else f"expected one of {values}, got {value!r}"
    return _special_problem(ty, d, value)


def _special_problem(ty: str, d: Mapping[str, Any], value: Any) -> str | None:
    if ty == "datetime":
        return None if _is_datetime(value) else f"expected an ISO 8601 datetime, got {value!r}"
    if ty == "uuid":
        return None if _is_uuid(value) else f"expected a UUID, got {value!r}"
    if ty == "embedding":
        size = d.get("size")
        ok = (
            isinstance(value, list)
            and len(value) == size
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        )
        return None if ok else f"expected a list of {size} numbers"
    if ty == "geospatial":
        return None if isinstance(value, dict) else "expected a GeoJSON object"
    return None  # tombstone: the key is retired; old values are left alone


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


# --- legacy view -----------------------------------------------------------------------------

_LEGACY_OF = {
    "number": "number",
    "boolean": "boolean",
    "varchar": "string",
    "text": "long_string",
    "uuid": "string",
    "user": "string",
    "datetime": "datetime",
    "enum": "enum",
    "embedding": "embedding",
    "geospatial": "geospatial",
}
_V2_OF_LEGACY: dict[str, dict[str, Any]] = {
    "number": {"ty": "number", "format": "F64"},
    "string": {"ty": "varchar", "max_length": 8192},
    "long_string": {"ty": "text"},
    "boolean": {"ty": "boolean"},
    "datetime": {"ty": "datetime", "timezone": "UTC"},
    "geospatial": {"ty": "geospatial"},
    "enum": {"ty": "variant", "hint": "varchar"},
    "embedding": {"ty": "embedding", "size": 512, "api": None},
}


def legacy_types(schema: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The legacy ``{key: type}`` map derived from a v2 schema (tombstones left out)."""
    out: dict[str, str] = {}
    for key, d in schema.items():
        ty = d["ty"] if d["ty"] != "variant" else d.get("hint", "text")
        if ty in _LEGACY_OF:
            out[key] = _LEGACY_OF[ty]
    return out


def from_legacy(body: Any) -> dict[str, dict[str, Any]]:
    """A v2 schema from a legacy set body (``{"metadataSchema": {...}}`` or the bare map)."""
    mapping = body.get("metadataSchema", body) if isinstance(body, dict) else body
    if not isinstance(mapping, dict) or not all(
        isinstance(v, str) and v in _V2_OF_LEGACY for v in mapping.values()
    ):
        raise bad_request(f"legacy metadata schema values must be one of {sorted(_V2_OF_LEGACY)}")
    for key in mapping:
        _check_key(key)
    return {key: dict(_V2_OF_LEGACY[value]) for key, value in mapping.items()}


# --- metadata documents ----------------------------------------------------------------------


def parse_metadata_text(text: str) -> dict[str, Any]:
    """Folder create sends metadata as JSON text; it must hold an object."""
    try:
        value = json.loads(text)
    except ValueError:
        raise bad_request("clientMetadata must be JSON text of an object") from None
    if not isinstance(value, dict):
        raise bad_request("clientMetadata must be a JSON object")
    return value
