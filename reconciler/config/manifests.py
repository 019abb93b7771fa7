"""Item manifests (JSONL, CSV) and dataset link manifests (JSONL, TXT), streamed.

Manifests are read line by line with no YAML parser: a million rows load in a few seconds
and memory grows with the rows kept, not with the file. A line longer than
``MAX_LINE_BYTES`` is one diagnostic, not a memory spike. Rows sharing the same metadata
share one mapping (up to ``_SHARED_LIMIT`` distinct ones), which is what keeps a
million-row split manifest small. At most ``MAX_REPORTED`` problems are listed per
manifest, then a count of the rest.

JSONL rows: ``{"path": "/f/a.jpg", "metadata": {...}, "previously": "/old/a.jpg"}``.
CSV: a header ``path[,previously],key1,key2,...``; cells typed by the metadata schema
(number and boolean columns parsed, embedding and geospatial cells are JSON, the rest are
strings); an empty cell leaves the key unset.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.config.errors import Diagnostic
from reconciler.config.jsontext import loads as _loads
from reconciler.config.jsontext import parse_line as _parse_line
from reconciler.config.manifestrows import RowSink
from reconciler.config.metadata import SchemaIndex
from reconciler.config.paths import item_path_problem
from reconciler.model.desired import ManifestRows

MAX_LINE_BYTES = 1024 * 1024
_JSONL_KEYS = frozenset({"path", "metadata", "previously"})


def read_item_manifest(
    path: Path, rel: str, fmt: str, schema: SchemaIndex | None
) -> tuple[ManifestRows, list[Diagnostic]]:
    sink = RowSink(rel, schema)
    try:
        with path.open("rb") as handle:
            if fmt == "csv":
                _read_csv(handle, sink)
            else:
                _read_jsonl(handle, sink)
    except OSError as exc:
        sink.report(1, 1, f"cannot read manifest: {exc.strerror or exc}")
    return sink.finish()


def read_link_manifest(path: Path, rel: str) -> tuple[frozenset[str], list[Diagnostic]]:
    """Item paths to link, from ``{"path": ...}`` JSONL rows or a text file of paths."""
    sink = RowSink(rel, None)
    paths: set[str] = set()
    try:
        with path.open("rb") as handle:
            for line_no, raw in _lines(handle, sink):
                value = _link_path(raw, line_no, sink, text=rel.endswith(".txt"))
                if value is not None:
                    paths.add(value)
    except OSError as exc:
        sink.report(1, 1, f"cannot read manifest: {exc.strerror or exc}")
    return frozenset(paths), sink.finish()[1]


def _lines(handle: BinaryIO, sink: RowSink) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line; over-long lines are reported, skipped."""
    readline = handle.readline
    line_no = 0
    while True:
        raw = readline(MAX_LINE_BYTES)
        if not raw:
            return
        line_no += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            _skip_long_line(handle, line_no, sink)
            continue
        if raw.isspace():
            continue
        yield line_no, raw


def _read_jsonl(handle: BinaryIO, sink: RowSink) -> None:
    parse, add, readline = _parse_line, sink.add, handle.readline
    line_no = 0
    while raw := readline(MAX_LINE_BYTES):
        line_no += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            _skip_long_line(handle, line_no, sink)
            continue
        try:
            row = parse(raw.decode("utf-8"))
        except ValueError as exc:
            if not raw.isspace():
                _json_problem(exc, raw, line_no, sink)
            continue
        if type(row) is not dict:
            sink.report(line_no, 1, 'expected a JSON object like {"path": "/f/a.jpg", ...}')
            continue
        if not row.keys() <= _JSONL_KEYS:
            unknown = sorted(set(row) - _JSONL_KEYS)
            sink.report(
                line_no, 1, f"unknown key {unknown[0]!r} (known: metadata, path, previously)"
            )
            continue
        metadata = row.get("metadata")
        if metadata is None:
            metadata = {}
        elif type(metadata) is not dict:
            sink.report(line_no, sink.col_of(raw, "metadata"), "metadata must be a JSON object")
            continue
        add(line_no, row.get("path"), metadata, row.get("previously"), raw)


def _skip_long_line(handle: BinaryIO, line_no: int, sink: RowSink) -> None:
    sink.report(line_no, 1, f"line longer than {MAX_LINE_BYTES // 1024} KiB; skipped")
    raw = handle.readline(MAX_LINE_BYTES)
    while raw and not raw.endswith(b"\n"):
        raw = handle.readline(MAX_LINE_BYTES)


def _json_problem(exc: ValueError, raw: bytes, line_no: int, sink: RowSink) -> None:
    if isinstance(exc, json.JSONDecodeError):
        sink.report(line_no, exc.colno, f"invalid JSON: {exc.msg}")
    elif isinstance(exc, UnicodeDecodeError):
        sink.report(line_no, 1, "not UTF-8 text")
    else:
        sink.report(line_no, 1, f"invalid JSON: {exc}")


def _link_path(raw: bytes, line_no: int, sink: RowSink, *, text: bool) -> str | None:
    value: Any
    try:
        if text:
            value = raw.decode("utf-8").rstrip("\r\n")
            if value.lstrip().startswith("#"):
                return None
        else:
            row = _loads(raw.decode("utf-8"))
            if type(row) is not dict or set(row) != {"path"}:
                sink.report(line_no, 1, 'expected a JSON object like {"path": "/f/a.jpg"}')
                return None
            value = row["path"]
    except ValueError as exc:
        _json_problem(exc, raw, line_no, sink)
        return None
    problem = item_path_problem(value)
    if problem is not None:
        sink.report(line_no, 1, problem)
        return None
    return str(value)


def _read_csv(handle: BinaryIO, sink: RowSink) -> None:
    reader = csv.reader(_csv_lines(handle, sink), strict=True)
    try:
        columns = sink.csv_header(next(reader, None))
        if columns is None:
            return
        for cells in reader:
            if cells:
                sink.add_csv(reader.line_num, cells, columns)
    except csv.Error as exc:
        sink.report(max(reader.line_num, 1), 1, f"invalid CSV: {exc}; stopped reading here")


def _csv_lines(handle: BinaryIO, sink: RowSink) -> Iterator[str]:
    """Decoded lines for ``csv.reader``; a bad line becomes an empty one, so numbering holds."""
    readline = handle.readline
    line_no = 0
    while True:
        raw = readline(MAX_LINE_BYTES)
        if not raw:
            return
        line_no += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            _skip_long_line(handle, line_no, sink)
            yield "\n"
            continue
        try:
            line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError:
            sink.report(line_no, 1, "not UTF-8 text; manifests must be UTF-8 encoded")
            yield "\n"
            continue
        yield line
