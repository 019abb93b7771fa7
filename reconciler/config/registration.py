"""Registration manifests (``folders.<path>.register.manifest``): JSONL or CSV, streamed.

JSONL rows: ``{"url": "s3://acme-raw/b7/a.jpg", "type": "image", "title": "a.jpg",
"metadata": {...}}``; only ``url`` is required. CSV: a header naming ``url`` and optionally
``type`` and ``title`` columns; every other column is a metadata key, typed as in item
manifests (``csvcells``), an empty cell leaving the key unset.

A row's ``type`` defaults from the URL's extension (``EXTENSION_TYPES``); its ``title`` (the
item's name in the folder) from the URL's last segment, as Encord does. DICOM series and
image groups are several objects per item: the API needs their file lists and titles, which
this row shape cannot carry, so they are refused with one line saying what to do.

Rows are checked one by one (each problem at ``file:line:col``, reading goes on) and kept in
``RegisterRows``' compact columns, so memory grows by about a hundred bytes per row, never
with the file: a million rows fit where a list of row objects would not.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.config.csvcells import _PARSERS, parse_string
from reconciler.config.errors import Diagnostic
from reconciler.config.jsontext import parse_line
from reconciler.config.manifestrows import MAX_ROWS, RowSink
from reconciler.config.manifests import MAX_LINE_BYTES, _csv_lines, _json_problem, _skip_long_line
from reconciler.config.metadata import SchemaIndex, reserved_key_problem
from reconciler.model.desired import REGISTER_TYPES, RegisterRows

_JSONL_KEYS = frozenset({"url", "type", "title", "metadata"})
_TYPE_CODE = {name: code for code, name in enumerate(REGISTER_TYPES)}
_ALIASES = {"text": "plainText", "timeSeries": "timeseries"}
_SEVERAL = {
    "dicomSeries": "a DICOM series",
    "dicomFile": "a DICOM file (Encord registers DICOM as series)",
    "imageGroup": "an image group",
    "imageSequence": "an image sequence",
    "group": "a group",
    "scene": "a scene",
}
EXTENSION_TYPES = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"), "image"),
    **dict.fromkeys(("mp4", "mov", "webm", "mkv", "avi", "m4v"), "video"),
    **dict.fromkeys(("mp3", "wav", "flac", "ogg", "m4a", "aac", "opus"), "audio"),
    **dict.fromkeys(("txt", "html", "htm", "md", "xml"), "plainText"),
    "pdf": "pdf",
    **dict.fromkeys(("nii", "nii.gz"), "nifti"),
    "dcm": "dicomFile",
}
_SCHEMES = ("s3://", "gs://", "https://", "http://", "az://", "azure://", "oci://")


class RegisterSink:
    """Checks rows of one registration manifest and keeps them in columns."""

    def __init__(self, rel: str, schema: SchemaIndex | None) -> None:
        self.problems = RowSink(rel, schema)  # reporting and metadata checks, as item manifests
        self.rel = rel
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self.prefixes: list[str] = []
        self.prefix_codes: dict[str, int] = {}
        self.prefix_of = array("I")
        self.odd_urls: dict[int, str] = {}
        self.lines = array("I")
        self.types = bytearray()
        self.titled = bytearray()
        self.metadata: list[Mapping[str, Any]] = []
        self.odd_rows: dict[str, int] = {}  # while reading: rows whose URL is in odd_urls

    def report(self, line: int, col: int, message: str) -> None:
        self.problems.report(line, col, message)

    def finish(self) -> tuple[RegisterRows, list[Diagnostic]]:
        _, diagnostics = self.problems.finish()
        self.odd_rows = {}
        rows = RegisterRows(
            file=self.rel,
            index=self.index,
            names=self.names,
            prefixes=self.prefixes,
            prefix_of=self.prefix_of,
            odd_urls=self.odd_urls,
            lines=self.lines,
            types=self.types,
            titled=self.titled,
            metadata=self.metadata,
        )
        return rows, diagnostics

    def add(
        self,
        line: int,
        row: Mapping[str, Any],
        metadata: dict[str, Any],
        locate: Callable[[str], int],
    ) -> None:
        url, title = row.get("url"), row.get("title")
        problem = url_problem(url) or _title_problem(title)
        code = None
        if problem is None:
            code, problem = _type_code(row.get("type"), str(url))
        if problem is not None:
            field = _field_of(problem)
            self.report(line, locate(field if field in row else "url"), problem)
            return
        if metadata and not self.problems._metadata_ok(line, metadata, None, locate):
            return
        self._keep(line, str(url), title, code or 0, metadata, locate)

    def _keep(
        self,
        line: int,
        url: str,
        title: str | None,
        code: int,
        metadata: dict[str, Any],
        locate: Callable[[str], int],
    ) -> None:
        name = title if title is not None else url.rsplit("/", 1)[-1]
        first = self.index.get(name)
        if first is not None:
            message = f"title {name!r} is also on line {self.lines[first]}; one item per name"
            self.report(line, locate("title" if title is not None else "url"), message)
            return
        if self._listed(url):
            self.report(line, locate("url"), f"{url} is listed twice; one row per object")
            return
        if len(self.names) >= MAX_ROWS:
            self.report(line, 1, f"more than {MAX_ROWS:,} rows; split the manifest")
            return
        self._append(line, url, name, title is not None, code, metadata)

    def _listed(self, url: str) -> bool:
        """A URL listed before: under its own last segment (the name it was stored by when
        it gave no other title) or among the rows whose title differs from it. No set of
        every URL is kept: that alone would be a third of the memory."""
        if url in self.odd_rows:
            return True
        n = self.index.get(url.rsplit("/", 1)[-1])
        return n is not None and n not in self.odd_urls and self._url(n) == url

    def _url(self, n: int) -> str:
        odd = self.odd_urls.get(n)
        return odd if odd is not None else self.prefixes[self.prefix_of[n]] + self.names[n]

    def _append(
        self, line: int, url: str, name: str, titled: bool, code: int, metadata: dict[str, Any]
    ) -> None:
        n = len(self.names)
        self.index[name] = n
        self.names.append(name)
        prefix = url[: len(url) - len(name)]
        if url.endswith(name) and prefix.endswith("/"):
            found = self.prefix_codes.get(prefix)
            if found is None:
                found = self.prefix_codes[prefix] = len(self.prefixes)
                self.prefixes.append(prefix)
            self.prefix_of.append(found)
        else:
            self.prefix_of.append(0)
            self.odd_urls[n] = url
            self.odd_rows[url] = n
        self.lines.append(line)
        self.types.append(code)
        self.titled.append(1 if titled else 0)
        self.metadata.append(self.problems._shared(metadata) if metadata else _EMPTY)


_EMPTY: Mapping[str, Any] = {}


# scheme://bucket/…/object: no whitespace or control characters, not ending in "/"
_URL = re.compile(r"[a-z0-9]+://[^\s/\x00-\x1f]+/[^\s\x00-\x1f]*[^\s/\x00-\x1f]")
_URL_TEXT = re.compile(r"[^\s\x00-\x1f]+")


def url_problem(url: Any) -> str | None:
    if type(url) is str and url.startswith(_SCHEMES) and _URL.fullmatch(url):
        return None  # the fast path: one regular expression per row
    if not isinstance(url, str) or not url:
        return 'url: expected an object URL like "s3://bucket/path/a.jpg"'
    if not url.startswith(_SCHEMES) or not _URL_TEXT.fullmatch(url):
        return f"url: {url[:80]!r} is not an object URL like s3://bucket/path/a.jpg"
    return f"url: {url[:80]!r} names a bucket or prefix, not an object"


def _title_problem(title: Any) -> str | None:
    if title is None:
        return None
    if not isinstance(title, str) or not title or "/" in title or title in (".", ".."):
        return "title: expected an item name (not empty, no '/')"
    if any(ord(c) < 32 for c in title):
        return "title: control characters are not allowed in item names"
    return None


def _field_of(problem: str) -> str:
    return problem.split(":", 1)[0]


def default_type(url: str) -> str | None:
    name = url.rsplit("/", 1)[-1].lower()
    if name.endswith(".nii.gz"):
        return "nifti"
    _, dot, ext = name.rpartition(".")
    return EXTENSION_TYPES.get(ext) if dot else None


def _type_code(value: Any, url: str) -> tuple[int | None, str | None]:
    if value is None:
        value = default_type(url)
        if value is None:
            return None, (
                f"type: cannot tell the type of {url.rsplit('/', 1)[-1][:60]!r} from its "
                f'extension; give "type" ({", ".join(REGISTER_TYPES)})'
            )
    if not isinstance(value, str):
        return None, f"type: expected one of {', '.join(REGISTER_TYPES)}"
    value = _ALIASES.get(value, value)
    code = _TYPE_CODE.get(value)
    if code is not None:
        return code, None
    several = _SEVERAL.get(value)
    if several is not None:
        return None, (
            f"type: {several} cannot be registered from a manifest row (the API needs its list "
            "of files); register it with the SDK and declare its metadata under items:"
        )
    return None, f"type: unknown item type {value!r} (one of {', '.join(REGISTER_TYPES)})"


def read_register_manifest(
    path: Path, rel: str, schema: SchemaIndex | None
) -> tuple[RegisterRows, list[Diagnostic]]:
    sink = RegisterSink(rel, schema)
    try:
        with path.open("rb") as handle:
            if rel.endswith(".csv"):
                _read_csv(handle, sink)
            else:
                _read_jsonl(handle, sink)
    except OSError as exc:
        sink.report(1, 1, f"cannot read manifest: {exc.strerror or exc}")
    return sink.finish()


def _read_jsonl(handle: BinaryIO, sink: RegisterSink) -> None:
    readline = handle.readline
    line_no = 0
    while raw := readline(MAX_LINE_BYTES):
        line_no += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            _skip_long_line(handle, line_no, sink.problems)
            continue
        try:
            row = parse_line(raw.decode("utf-8"))
        except ValueError as exc:
            if not raw.isspace():
                _json_problem(exc, raw, line_no, sink.problems)
            continue
        _jsonl_row(line_no, row, raw, sink)


def _jsonl_row(line_no: int, row: Any, raw: bytes, sink: RegisterSink) -> None:
    def locate(key: str) -> int:
        return RowSink.col_of(raw, key)

    if type(row) is not dict:
        sink.report(line_no, 1, 'expected a JSON object like {"url": "s3://bucket/a.jpg"}')
        return
    if not row.keys() <= _JSONL_KEYS:
        unknown = sorted(set(row) - _JSONL_KEYS)[0]
        sink.report(
            line_no, locate(unknown), f"unknown key {unknown!r} (known: metadata, title, type, url)"
        )
        return
    metadata = row.get("metadata")
    if metadata is None:
        metadata = {}
    elif type(metadata) is not dict:
        sink.report(line_no, locate("metadata"), "metadata must be a JSON object")
        return
    sink.add(line_no, row, metadata, locate)


_FIELDS = ("url", "type", "title")


def _read_csv(handle: BinaryIO, sink: RegisterSink) -> None:
    reader = csv.reader(_csv_lines(handle, sink.problems), strict=True)
    try:
        header = next(reader, None)
        columns = _csv_columns(header, sink)
        if columns is None or header is None:
            return
        for cells in reader:
            if cells:
                _csv_row(reader.line_num, cells, len(header), columns, sink)
    except csv.Error as exc:
        sink.report(max(reader.line_num, 1), 1, f"invalid CSV: {exc}; stopped reading here")


Columns = list[tuple[int, str, Callable[[str], Any] | None]]  # parse None: a row field


def _csv_columns(cells: list[str] | None, sink: RegisterSink) -> Columns | None:
    if not cells or "url" not in cells:
        sink.report(1, 1, "the first line must be a header with a 'url' column, like url,split")
        return None
    typed = sink.problems.typed
    out: Columns = []
    seen: set[str] = set()
    for index, key in enumerate(cells):
        problem = "empty column name in the header" if key == "" else None
        if key in seen:
            problem = f"column {key!r} appears twice in the header"
        elif key not in _FIELDS and problem is None:
            problem = reserved_key_problem(key)
        if problem is not None:
            sink.report(1, 1 + sum(len(c) + 1 for c in cells[:index]), problem)
            return None
        seen.add(key)
        parse = None if key in _FIELDS else _PARSERS.get(_ty(typed, key), parse_string)
        out.append((index, key, parse))
    return out


def _ty(typed: Mapping[str, Mapping[str, Any]], key: str) -> str:
    return str(typed.get(key, {}).get("ty", ""))


def _csv_row(line: int, cells: list[str], width: int, columns: Columns, sink: RegisterSink) -> None:
    if len(cells) != width:
        sink.report(line, 1, f"{len(cells)} cells, but the header has {width}")
        return
    starts = _cell_starts(cells)

    def locate(key: str) -> int:
        return next((starts[i] for i, k, _ in columns if k == key), 1)

    row: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for index, key, parse in columns:
        cell = cells[index]
        if cell == "":
            continue
        if parse is None:
            row[key] = cell
            continue
        try:
            metadata[key] = parse(cell)
        except ValueError as exc:
            sink.report(line, starts[index], f"column {key!r}: {exc}")
            return
    sink.add(line, row, metadata, locate)


def _cell_starts(cells: list[str]) -> list[int]:
    starts, col = [], 1
    for cell in cells:
        starts.append(col)
        col += len(cell) + 1
    return starts
