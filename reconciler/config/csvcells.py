"""CSV manifest columns: the header, and how each cell becomes a metadata value.

A column's declared type decides the parse: ``number`` → int or float, ``boolean`` →
``true``/``false`` (any case), ``embedding`` and ``geospatial`` → JSON; every other column
(and any key the schema does not declare) is a string. Checking the value against the
schema (enum values, UUIDs, lengths) happens afterwards, as for JSONL rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.config.jsontext import loads
from reconciler.config.metadata import reserved_key_problem

if TYPE_CHECKING:
    from reconciler.config.manifestrows import CsvColumns

_INT = re.compile(r"[-+]?[0-9]{1,30}\Z")


def parse_number(cell: str) -> int | float:
    text = cell.strip()
    if _INT.match(text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value


def parse_boolean(cell: str) -> bool:
    text = cell.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{cell!r} is not true or false")


def parse_json(cell: str) -> Any:
    try:
        return loads(cell)
    except ValueError:
        raise ValueError(f"{cell[:40]!r} is not JSON") from None


def parse_string(cell: str) -> str:
    return cell


_PARSERS: dict[str, Callable[[str], Any]] = {
    "number": parse_number,
    "boolean": parse_boolean,
    "embedding": parse_json,
    "geospatial": parse_json,
}


def columns_from_header(
    cells: list[str] | None, typed: Mapping[str, Mapping[str, Any]]
) -> tuple[CsvColumns | None, tuple[int, str] | None]:
    """The columns, or a problem ``(column, message)`` that stops reading the file."""
    from reconciler.config.manifestrows import CsvColumns

    if not cells or cells[0] != "path":
        return None, (1, "the first line must be a header starting with 'path', like path,split")
    has_previously = len(cells) > 1 and cells[1] == "previously"
    start = 2 if has_previously else 1
    seen: set[str] = set()
    keys: list[tuple[int, str, Callable[[str], Any]]] = []
    col = 1 + sum(len(c) + 1 for c in cells[:start])
    for index in range(start, len(cells)):
        key = cells[index]
        problem = _header_problem(key, seen)
        if problem is not None:
            return None, (col, problem)
        seen.add(key)
        ty = str(typed.get(key, {}).get("ty", ""))
        keys.append((index, key, _PARSERS.get(ty, parse_string)))
        col += len(key) + 1
    return CsvColumns(len(cells), has_previously, tuple(keys)), None


def _header_problem(key: str, seen: set[str]) -> str | None:
    if key == "":
        return "empty column name in the header"
    if key in ("path", "previously"):
        return f"{key!r} must be the first (path) or second (previously) column"
    if key in seen:
        return f"column {key!r} appears twice in the header"
    return reserved_key_problem(key)
