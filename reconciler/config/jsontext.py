"""Strict JSON for manifests: ``NaN`` and ``Infinity`` are refused (they are not JSON, and
the API would not take them), and one line parses through the C scanner without the
``json.loads`` wrapper, which matters at a million rows."""

from __future__ import annotations

import json
import json.scanner
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; write a finite number or a string")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SCAN = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]  # typeshed: a class


MAX_DEPTH = 64  # deeper values are refused before parsing (the C scanner recurses)


def parse_line(text: str) -> Any:
    """``json.loads(text)`` for one line, through the C scanner on the fast path."""
    _check_depth(text)
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)  # raises the JSONDecodeError that says where and why
    if end != len(text) and not text[end:].isspace():
        return _DECODER.decode(text)
    return value


def loads(text: str) -> Any:
    _check_depth(text)
    return _DECODER.decode(text)


def _check_depth(text: str) -> None:
    """Refuse values nested deeper than ``MAX_DEPTH`` (a ``ValueError``), without recursing.

    Only a line with that many brackets at all is scanned, so ordinary rows cost two counts.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1
