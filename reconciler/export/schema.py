"""The organisation's metadata schema (wire descriptors) in the config's spelling.

The config sets the schema as a whole, so it is exported only when every key can be written
back exactly; a key the config cannot express (an ``F32`` number, a ``variant``, a tombstone)
would otherwise be dropped by the first apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PLAIN = {"boolean", "text", "uuid", "user", "geospatial"}
_VARCHAR_DEFAULT = 8192


def to_config(schema: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, Any] | None, list[str]]:
    """``(config mapping, [])``, or ``(None, reasons)`` when some key cannot be expressed."""
    out: dict[str, Any] = {}
    reasons: list[str] = []
    for key in sorted(schema):
        spelled = _one(schema[key])
        if spelled is None:
            reasons.append(f"{key}: {dict(schema[key])}")
        else:
            out[key] = spelled
    return (None, reasons) if reasons else (out, [])


def _one(descriptor: Mapping[str, Any]) -> Any:
    ty = descriptor.get("ty")
    extra = {k: v for k, v in descriptor.items() if k != "ty"}
    if ty in _PLAIN and not extra:
        return ty
    if ty == "number" and extra.get("format", "F64") == "F64" and set(extra) <= {"format"}:
        return "number"
    if ty == "datetime" and extra.get("timezone", "UTC") == "UTC" and set(extra) <= {"timezone"}:
        return "datetime"
    if ty == "varchar" and set(extra) <= {"max_length"}:
        length = extra.get("max_length", _VARCHAR_DEFAULT)
        return (
            "varchar" if length == _VARCHAR_DEFAULT else {"type": "varchar", "max_length": length}
        )
    if ty == "enum" and set(extra) == {"values"} and isinstance(extra["values"], list):
        return {"type": "enum", "values": list(extra["values"])}
    if ty == "embedding" and set(extra) <= {"size", "api"} and extra.get("api") is None:
        return {"type": "embedding", "size": extra.get("size")}
    return None
