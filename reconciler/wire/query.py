"""Query strings the way the official SDK writes them, and the way the sandbox reads them.

The SDK dumps a params model (camelCase, ``None`` dropped) and hands it to ``requests``:
booleans become ``True``/``False``, lists repeat their key (an empty list sends nothing),
strings are ``quote_plus``-encoded, and the key order is the model's field order. The signed
``@request-target`` covers these exact bytes, so the encoding is part of the protocol.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

QueryValue = str | int | float | bool | uuid.UUID | enum.Enum | datetime | None
Query = Sequence[tuple[str, QueryValue | Sequence[QueryValue]]]


def _scalar(value: QueryValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def encode_query(params: Query) -> str:
    """Encode ``(key, value)`` pairs in order; lists repeat the key, ``None`` is omitted."""
    parts: list[str] = []
    for key, value in params:
        values: Iterable[QueryValue] = value if isinstance(value, (list, tuple)) else (value,)
        for item in values:
            text = _scalar(item)
            if text is not None:
                parts.append(f"{quote_plus(key)}={quote_plus(text)}")
    return "&".join(parts)


def parse_bool(text: str | None, *, default: bool | None = None) -> bool | None:
    """Read a query boolean; the SDK sends ``True``/``False``, other clients send lower case."""
    if text is None:
        return default
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
