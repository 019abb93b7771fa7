"""The declared metadata schema: config spelling → wire descriptors, and value checks.

Spelling (``metadata_schema:`` in any file) → the v2 descriptor stored in
``MetadataSchema.keys``::

    number                         {"ty": "number", "format": "F64"}
    boolean|text|uuid|user|geospatial   {"ty": <type>}
    varchar / {type: varchar, max_length: N}   {"ty": "varchar", "max_length": N or 8192}
    datetime                       {"ty": "datetime", "timezone": "UTC"}
    {type: enum, values: [...]}    {"ty": "enum", "values": [...]}
    {type: embedding, size: N}     {"ty": "embedding", "size": N, "api": None}

Keys the schema does not declare may hold any value (the organisation schema types the keys
it lists; it does not forbid others). ``reconciler.owner`` is the ownership marker and may
not be declared in metadata to set.
"""

from __future__ import annotations

import datetime
import json
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.desired import OWNER_KEY

VARCHAR_DEFAULT_LENGTH = 8192
_PLAIN = ("boolean", "text", "uuid", "user", "geospatial")


def descriptor(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """Wire descriptor of one schema-valid declaration."""
    if isinstance(spec, str):
        spec = {"type": spec}
    ty = spec["type"]
    if ty == "number":
        return {"ty": "number", "format": "F64"}
    if ty == "varchar":
        return {"ty": "varchar", "max_length": spec.get("max_length", VARCHAR_DEFAULT_LENGTH)}
    if ty == "datetime":
        return {"ty": "datetime", "timezone": "UTC"}
    if ty == "enum":
        return {"ty": "enum", "values": list(spec["values"])}
    if ty == "embedding":
        return {"ty": "embedding", "size": spec["size"], "api": None}
    return {"ty": ty}


@dataclass(frozen=True, slots=True)
class SchemaIndex:
    """Descriptors by key plus where the schema was declared (for messages).

    ``accepts`` is the fast test used per manifest row (a predicate per key, built once);
    ``problem`` phrases the message when it fails.
    """

    keys: Mapping[str, Mapping[str, Any]]
    where: str  # "file:line" of ``metadata_schema``
    predicates: Mapping[str, Callable[[Any], bool]] = field(init=False)

    def __post_init__(self) -> None:
        preds = {key: _predicate(desc) for key, desc in self.keys.items()}
        object.__setattr__(self, "predicates", preds)

    def accepts(self, key: str, value: Any) -> bool:
        predicate = self.predicates.get(key)
        return predicate is None or predicate(value)

    def problem(self, key: str, value: Any) -> str | None:
        """Why ``value`` cannot be stored under ``key``, or None when it can."""
        desc = self.keys.get(key)
        if desc is None:
            return None
        expected = value_problem(desc, value)
        if expected is None:
            return None
        return (
            f"metadata {key!r} is {_type_name(desc)} (metadata_schema at {self.where}): "
            f"{_show(value)} is not {expected}"
        )


def _predicate(desc: Mapping[str, Any]) -> Callable[[Any], bool]:
    ty = desc.get("ty")
    if ty == "enum":
        values = frozenset(desc.get("values", ()))
        return lambda v: type(v) is str and v in values
    if ty == "number":
        return lambda v: (type(v) is int or type(v) is float) and math.isfinite(v)
    if ty == "boolean":
        return lambda v: type(v) is bool
    if ty in ("text", "user"):
        return lambda v: type(v) is str
    return lambda v: value_problem(desc, v) is None


def reserved_key_problem(key: str) -> str | None:
    if key == OWNER_KEY:
        return f"{OWNER_KEY!r} is the ownership marker that reconciler writes; do not declare it"
    return None


def value_problem(desc: Mapping[str, Any], value: Any) -> str | None:
    """What ``value`` should have been for ``desc``, or None when it fits."""
    ty = desc.get("ty")
    check = _CHECKS.get(str(ty))
    if check is None:
        return None
    return check(desc, value)


def _number(desc: Mapping[str, Any], value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok and math.isfinite(value) else "a number"


def _boolean(desc: Mapping[str, Any], value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _text(desc: Mapping[str, Any], value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def _varchar(desc: Mapping[str, Any], value: Any) -> str | None:
    limit = int(desc.get("max_length", VARCHAR_DEFAULT_LENGTH))
    if isinstance(value, str) and len(value) <= limit:
        return None
    return f"a string of at most {limit} characters"


def _uuid(desc: Mapping[str, Any], value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 36:
        try:
            uuid.UUID(value)
            return None
        except ValueError:
            pass
    return "a UUID like 123e4567-e89b-12d3-a456-426614174000"


def _datetime(desc: Mapping[str, Any], value: Any) -> str | None:
    if isinstance(value, str) and len(value) <= 64:
        try:
            datetime.datetime.fromisoformat(value)
            return None
        except ValueError:
            pass
    return "an ISO 8601 date-time like 2024-05-01T12:00:00Z"


def _enum(desc: Mapping[str, Any], value: Any) -> str | None:
    values = list(desc.get("values", []))
    if isinstance(value, str) and value in values:
        return None
    shown = ", ".join(values[:10]) + (", …" if len(values) > 10 else "")
    return f"one of {shown}"


def _embedding(desc: Mapping[str, Any], value: Any) -> str | None:
    size = desc.get("size")
    if (
        isinstance(value, list)
        and len(value) == size
        and all(_number(desc, v) is None for v in value)
    ):
        return None
    return f"a list of {size} numbers"


def _geospatial(desc: Mapping[str, Any], value: Any) -> str | None:
    return None if isinstance(value, dict) else "a GeoJSON mapping"


_CHECKS = {
    "number": _number,
    "boolean": _boolean,
    "text": _text,
    "user": _text,
    "varchar": _varchar,
    "uuid": _uuid,
    "datetime": _datetime,
    "enum": _enum,
    "embedding": _embedding,
    "geospatial": _geospatial,
}


def _type_name(desc: Mapping[str, Any]) -> str:
    ty = str(desc.get("ty"))
    return f"an {ty}" if ty in ("enum", "embedding") else f"a {ty}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:59] + "…"
