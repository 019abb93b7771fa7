"""Scalar resolution by the YAML 1.2 core schema, which YAML editors use too.

Only ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay strings, so a
country code ``NO`` is not False); dates stay strings; ``~``, ``null`` and the empty plain
scalar are null. Quoted scalars are always strings. Explicit standard tags (``!!str``,
``!!int``, ``!!float``, ``!!bool``, ``!!null``) are honoured; any other tag is an error,
so no tag can construct anything but plain data.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.errors import ScalarError

_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_TRUE = re.compile(r"(?:true|True|TRUE)\Z")
_FALSE = re.compile(r"(?:false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")

_TAG = "tag:yaml.org,2002:"


def resolve_scalar(text: str, tag: str | None, plain: bool) -> Any:
    if tag is None or tag == "!":
        return resolve_plain(text) if plain and tag is None else text
    if not tag.startswith(_TAG):
        raise ScalarError(unsupported_tag(tag))
    kind = tag[len(_TAG) :]
    if kind == "str":
        return text
    value = resolve_plain(text)
    if kind == "null" and value is None:
        return None
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in ("null", "bool", "int", "float"):
        raise ScalarError(f"{_short(text)!r} is not a valid !!{kind}")
    raise ScalarError(unsupported_tag(tag))


def unsupported_tag(tag: str) -> str:
    shown = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    return f"unsupported YAML tag {_short(shown)!r}; only plain data (strings, numbers, booleans, lists, mappings) is allowed"


def resolve_plain(text: str) -> Any:
    if len(text) > 64 or not text or text[0] not in "0123456789+-.~nNtTfF":
        return None if text == "" else text
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text)
    if _INT_OCT.match(text):
        return int(text[2:], 8)
    if _INT_HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text[0] == "-" else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
