"""JSON text indented by two spaces, byte for byte what ``json.JSONEncoder(indent=2,
ensure_ascii=False, allow_nan=False)`` writes, several times faster.

The standard library encodes an indented document in pure Python (its C encoder does not
indent in 3.11), one generator per container, so every leaf climbs back up through every
enclosing generator: a 100,000-change plan took seconds. Here a container is written by one
call that appends to a list, strings go through the C string encoder, and a container of
plain values is joined in one step. Anything unusual (a key that is not a string, a type JSON
does not have) is handed to the standard encoder for that value, so the output is the same in
every case; ``tests/test_plan_indented.py`` checks it against the standard library.
"""

from __future__ import annotations

import functools
import json
from _json import encode_basestring, make_encoder  # the C string and flat encoders
from collections.abc import Callable, Iterator
from typing import Any

_STANDARD = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)
_CHUNK = 4096  # pieces yielded together, so a large plan is written in bounded pieces


def iter_indented(value: Any) -> Iterator[str]:
    """The indented text of ``value`` in pieces (joined, they are the whole text)."""
    out: list[str] = []
    if type(value) is dict:
        yield from _top_dict(value, out)
    else:
        _write(value, "", out)
        yield "".join(out)


def _top_dict(value: dict[Any, Any], out: list[str]) -> Iterator[str]:
    """The top-level object key by key, yielding as the pieces pile up."""
    if not value or not all(type(k) is str for k in value):
        _write(value, "", out)
        yield "".join(out)
        return
    separator = "{\n  "
    for key, item in value.items():
        out.append(separator + encode_basestring(key) + ": ")
        separator = ",\n  "
        if type(item) is list and item:
            yield from _long_list(item, out)
        else:
            _write(item, "  ", out)
    out.append("\n}")
    yield "".join(out)


def _long_list(items: list[Any], out: list[str]) -> Iterator[str]:
    """A top-level list (``changes``): written element by element, flushed every so often."""
    separator = "[\n    "
    for n, item in enumerate(items):
        out.append(separator)
        separator = ",\n    "
        _write(item, "    ", out)
        if n % 64 == 63 and len(out) > _CHUNK:
            yield "".join(out)
            out.clear()
    out.append("\n  ]")


def _write(value: Any, indent: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        _write_dict(value, indent, out)
    elif kind is list or kind is tuple:
        _write_list(value, indent, out)
    else:
        out.append(_scalar(value, indent))


_FLAT = frozenset({str, int, bool, type(None)})  # what the C encoder writes as we do


@functools.cache
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """The C encoder with this depth's separators: exact for a container of plain values
    (built once per depth: ``JSONEncoder.encode`` would build it again on every call)."""
    encode = make_encoder(
        None, _no_default, encode_basestring, None, ": ", ",\n" + inner, False, False, False
    )
    return lambda value: "".join(encode(value, 0))


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _write_dict(value: dict[Any, Any], indent: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = indent + "  "
    if len(value) <= 8 and all(type(v) in _FLAT for v in value.values()):
        text = _flat_encoder(inner)(value)  # refs, metadata: one C call
        out.append("{\n" + inner + text[1:-1] + "\n" + indent + "}")
        return
    mark = len(out)
    separator = "{\n" + inner
    try:
        for key, item in value.items():
            out.append(separator + encode_basestring(key) + ": ")
            separator = ",\n" + inner
            _write(item, inner, out)
    except TypeError:  # a key that is not a string: the standard encoder converts it
        del out[mark:]
        out.append(_standard(value, indent))
        return
    out.append("\n" + indent + "}")


def _write_list(value: list[Any] | tuple[Any, ...], indent: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = indent + "  "
    if all(type(v) in _FLAT for v in value):  # paths, actions, members: one C call
        text = _flat_encoder(inner)(list(value))
        out.append("[\n" + inner + text[1:-1] + "\n" + indent + "]")
        return
    separator = "[\n" + inner
    for item in value:
        out.append(separator)
        separator = ",\n" + inner
        _write(item, inner, out)
    out.append("\n" + indent + "]")


def _scalar(value: Any, indent: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if isinstance(value, str):  # a StrEnum (a change's kind): written as its string
        return encode_basestring(value)
    return _standard(value, indent)


def _standard(value: Any, indent: str) -> str:
    """The standard encoder's text for one value, re-indented to where it sits."""
    text = "".join(_STANDARD.iterencode(value))
    return text.replace("\n", "\n" + indent) if indent else text
