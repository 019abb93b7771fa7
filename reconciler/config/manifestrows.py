"""Collects checked manifest rows (one ``RowSink`` per manifest file).

Per row: the path is an item path (``/folder/name``), not listed twice; ``previously`` is
an item path, differs from the path and is claimed by one row only; metadata keys are not
empty and not the ownership marker; values fit the declared metadata schema. A row with a
problem is reported and left out, and reading goes on, so that one run lists every problem
(up to ``MAX_REPORTED``, then a count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.config.errors import Diagnostic
from reconciler.config.metadata import SchemaIndex, reserved_key_problem
from reconciler.config.paths import is_item_path, item_path_problem
from reconciler.model.desired import OWNER_KEY, ManifestEntry, ManifestRows

MAX_REPORTED = 50
MAX_ROWS = 5_000_000
_SHARED_LIMIT = 65_536


@dataclass(frozen=True, slots=True)
class CsvColumns:
    width: int
    has_previously: bool
    keys: tuple[tuple[int, str, Callable[[str], Any]], ...]  # (index, key, parse)


class RowSink:
    def __init__(self, rel: str, schema: SchemaIndex | None) -> None:
        self.rel = rel
        self.schema = schema
        self.typed: Mapping[str, Mapping[str, Any]] = schema.keys if schema else {}
        self.rows: dict[str, ManifestEntry] = {}
        self.previous: dict[str, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self.hidden = 0
        self.shared: dict[Any, dict[str, Any]] = {}
        self.strings: dict[str, str] = {}
        self.full = False

    def report(self, line: int, col: int, message: str) -> None:
        if len(self.diagnostics) < MAX_REPORTED:
            self.diagnostics.append(Diagnostic(self.rel, line, col, message))
        else:
            self.hidden += 1

    def finish(self) -> tuple[ManifestRows, list[Diagnostic]]:
        out = list(self.diagnostics)
        if self.hidden:
            last = out[-1]
            message = f"{self.hidden} more problems in this manifest not shown; fix the above first"
            out.append(Diagnostic(self.rel, last.line, last.col + 1, message))
        return ManifestRows(self.rows), out

    @staticmethod
    def col_of(raw: bytes | None, key: str) -> int:
        """Column of ``"key"`` in a JSON line (1 when unknown)."""
        if raw is None:
            return 1
        found = raw.find(b'"' + key.encode("utf-8", "replace") + b'"')
        return len(raw[:found].decode("utf-8", "replace")) + 1 if found >= 0 else 1

    def add(
        self,
        line: int,
        path: Any,
        metadata: dict[str, Any],
        previously: Any,
        raw: bytes | None,
        locate: Callable[[str], int] | None = None,
    ) -> None:
        """Check one row and keep it; the fast path does no work beyond the checks."""
        if not is_item_path(path):
            self._report_at(line, raw, locate, "path", item_path_problem(path) or "bad path")
            return
        if previously is not None and not self._previously_ok(line, path, previously, raw, locate):
            return
        if metadata and not self._metadata_ok(line, metadata, raw, locate):
            return
        first = self.rows.get(path)
        if first is not None:
            message = f"{path} is also on line {first.line}; one row per item"
            self._report_at(line, raw, locate, "path", message)
            return
        if len(self.rows) >= MAX_ROWS:
            if not self.full:
                self.full = True
                self.report(line, 1, f"more than {MAX_ROWS:,} rows; split the manifest")
            return
        self.rows[path] = ManifestEntry(self._shared(metadata), line, previously)

    def _report_at(
        self,
        line: int,
        raw: bytes | None,
        locate: Callable[[str], int] | None,
        key: str,
        message: str,
    ) -> None:
        col = locate(key) if locate is not None else self.col_of(raw, key)
        self.report(line, col, message)

    def _previously_ok(
        self,
        line: int,
        path: str,
        previously: Any,
        raw: bytes | None,
        locate: Callable[[str], int] | None,
    ) -> bool:
        problem = item_path_problem(previously)
        if problem is None and previously == path:
            problem = "previously is the path itself; leave it out when the item does not move"
        if problem is None and previously in self.previous:
            first = self.previous[previously]
            problem = f"line {first} already moves {previously}; an item moves to one place"
        if problem is not None:
            self._report_at(line, raw, locate, "previously", f"previously: {problem}")
            return False
        self.previous[previously] = line
        return True

    def _metadata_ok(
        self,
        line: int,
        metadata: dict[str, Any],
        raw: bytes | None,
        locate: Callable[[str], int] | None,
    ) -> bool:
        ok = True
        if OWNER_KEY in metadata or "" in metadata:
            key = OWNER_KEY if OWNER_KEY in metadata else ""
            message = reserved_key_problem(key) or "metadata keys must not be empty"
            self._report_at(line, raw, locate, key, message)
            ok = False
        schema = self.schema
        if schema is not None and self.typed:
            predicates = schema.predicates
            for key, value in metadata.items():
                predicate = predicates.get(key)
                if predicate is not None and not predicate(value):
                    self._report_at(line, raw, locate, key, schema.problem(key, value) or "")
                    ok = False
        return ok

    def _shared(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """One mapping object for equal metadata (types included: 1, 1.0 and true differ).
        Metadata seen for the first time is rebuilt over one shared tuple of its keys and
        with short strings stored once, which is most of a manifest's memory."""
        keys = tuple(metadata)
        values = tuple(metadata.values())
        signature: tuple[Any, ...] | None = (keys, tuple(map(type, values)), values)
        try:
            hit = self.shared.get(signature)
        except TypeError:  # lists or objects as values: not shared
            hit, signature = None, None
        if hit is not None:
            return hit
        strings = self.strings
        if len(strings) < _SHARED_LIMIT:
            keys = tuple([strings.setdefault(k, k) for k in keys])
            values = tuple(
                [strings.setdefault(v, v) if type(v) is str and len(v) <= 64 else v for v in values]
            )
        compact = dict(zip(keys, values, strict=True))
        if signature is not None and len(self.shared) < _SHARED_LIMIT:
            self.shared[signature] = compact
        return compact

    def csv_header(self, cells: list[str] | None) -> CsvColumns | None:
        from reconciler.config.csvcells import columns_from_header

        columns, problem = columns_from_header(cells, self.typed)
        if problem is not None:
            self.report(1, problem[0], problem[1])
        return columns

    def add_csv(self, line: int, cells: list[str], columns: CsvColumns) -> None:
        if len(cells) != columns.width:
            self.report(line, 1, f"{len(cells)} cells, but the header has {columns.width}")
            return

        def locate(key: str) -> int:
            index = 1 if key == "previously" and columns.has_previously else 0
            index = next((i for i, k, _ in columns.keys if k == key), index)
            return _cell_starts(cells)[index]

        metadata: dict[str, Any] = {}
        for index, key, parse in columns.keys:
            cell = cells[index]
            if cell == "":
                continue
            try:
                metadata[key] = parse(cell)
            except ValueError as exc:
                self.report(line, _cell_starts(cells)[index], f"column {key!r}: {exc}")
                return
        previously = (cells[1] or None) if columns.has_previously else None
        self.add(line, cells[0], metadata, previously, None, locate)


def _cell_starts(cells: list[str]) -> list[int]:
    """Column of each cell, exact when no cell is quoted."""
    starts, col = [], 1
    for cell in cells:
        starts.append(col)
        col += len(cell) + 1
    return starts
