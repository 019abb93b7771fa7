"""Folder and item paths as the config writes them: ``/a/b``.

The same rule is the ``$defs/path`` pattern of the JSON Schema (a test keeps them equal);
it is repeated here for manifests, which are read without the schema.
"""

from __future__ import annotations

import re

PATH_PATTERN = r"^(?:/(?!\.\.?(?:/|$))[^/\x00-\x1f]+)+$"
_PATH = re.compile(PATH_PATTERN)
_ITEM_PATH = re.compile(r"(?:/(?!\.\.?(?:/|$))[^/\x00-\x1f]+){2,}")

PATH_MESSAGE = (
    "expected an absolute path like /a/b (no trailing '/', no empty, '.' or '..' segments, "
    "no control characters)"
)


def is_path(text: str) -> bool:
    return _PATH.fullmatch(text) is not None


def is_item_path(value: object) -> bool:
    """The fast test of ``item_path_problem(value) is None``."""
    return type(value) is str and _ITEM_PATH.fullmatch(value) is not None


def item_path_problem(value: object) -> str | None:
    """Why ``value`` is not an item path (``/folder/name``), or None."""
    if not isinstance(value, str) or _PATH.fullmatch(value) is None:
        return PATH_MESSAGE.replace("absolute path like /a/b", "item path like /folder/name")
    if value.count("/") < 2:
        return f"{value!r} names no folder; items live in folders: /folder/{value[1:]}"
    return None
