"""Read one YAML file into plain data with positions, safely, whatever the bytes are.

PyYAML's own loaders are not used to build data: they silently keep the last of two
duplicate keys, expand alias bombs without limit, recurse on deep nesting and resolve YAML
1.1 booleans (``no`` → False). Instead the libyaml event stream (``CSafeLoader`` when
available) is composed here with an explicit stack:

* scalars resolve by the YAML 1.2 core schema (``true``/``false``, ints, floats, ``null``;
  ``yes``, ``on`` and dates stay strings), so YAML editors and the loader agree;
* mapping keys are their scalar text; duplicate keys are diagnostics; ``<<`` merge keys work;
* nesting deeper than ``MAX_DEPTH``, a file larger than ``MAX_FILE_BYTES`` and documents
  that expand (through aliases) to more than ``MAX_NODES`` nodes are refused with one
  diagnostic each, in time and memory proportional to the bytes read;
* ``${VAR}`` interpolation applies to every string scalar and key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from reconciler.config.errors import Diagnostic, FileAbortedError, ScalarError
from reconciler.config.frames import Frame, Node
from reconciler.config.interpolate import EACH_REFERENCE, interpolate
from reconciler.config.positions import Pos, PosNode, YamlDoc
from reconciler.config.scalars import resolve_plain, resolve_scalar, unsupported_tag
from reconciler.config.yamlerrors import syntax_error

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing: the pure Python parser is slower
    _Loader = yaml.SafeLoader

# Characters YAML forbids anywhere in a stream (YAML 1.2, 5.1).
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def read_yaml(
    path: Path, rel: str, env: Mapping[str, str]
) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse ``path``; the document is None when the file cannot be read as a whole."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [Diagnostic(rel, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        message = (
            f"file is larger than {limit} MB, the limit for one YAML file; split it into "
            "several files, or move item metadata into a manifest"
        )
        return None, [Diagnostic(rel, 1, 1, message)]
    return parse_yaml(raw, rel, env)


def parse_yaml(
    raw: bytes, rel: str, env: Mapping[str, str]
) -> tuple[YamlDoc | None, list[Diagnostic]]:
    text, problem = _decode(raw, rel)
    if problem is not None:
        return None, [problem]
    composer = _Composer(rel, env, text)
    try:
        root = composer.compose()
    except FileAbortedError:
        return None, composer.diagnostics
    except yaml.MarkedYAMLError as exc:
        deeper = _too_deep_for_us(composer, exc, text)
        if deeper is not None:
            return None, deeper
        return None, [*composer.diagnostics, syntax_error(exc, rel, text)]
    except yaml.YAMLError as exc:  # reader errors carry no mark
        return None, [*composer.diagnostics, Diagnostic(rel, 1, 1, f"YAML error: {exc}")]
    finally:
        composer.dispose()
    if root is None:
        return YamlDoc(rel, None, PosNode(Pos(1, 1))), composer.diagnostics
    return YamlDoc(
        rel,
        root.value,
        root.pos_node,
        frozenset(composer.tainted),
        frozenset(composer.unset),
        frozenset(composer.each_refs),
    ), composer.diagnostics


def _decode(raw: bytes, rel: str) -> tuple[str, Diagnostic | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", "replace")
        line, col = line_col(prefix, len(prefix))
        byte = raw[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); YAML files must be UTF-8 encoded"
        return "", Diagnostic(rel, line, col, message)
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line, col = line_col(text, bad.start())
        message = (
            f"character U+{ord(bad.group()):04X} is not allowed in YAML "
            "(binary data or a control character)"
        )
        return "", Diagnostic(rel, line, col, message)
    return text, None


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based position of ``text[index]``, counting line breaks as YAML (and editors) do."""
    before = text[:index]
    breaks = list(_LINE_BREAK.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, len(before) - start + 1


def _too_deep_for_us(
    composer: _Composer, exc: yaml.MarkedYAMLError, text: str
) -> list[Diagnostic] | None:
    """This file's diagnostics when nesting deeper than ``MAX_DEPTH`` is why libyaml stopped.

    libyaml (as bundled since PyYAML 6.0.4) has a nesting limit of its own (1000), and its
    scanner can reach it while reading ahead on one line (up to about 1024 characters),
    before the composer has seen the events that pass ``MAX_DEPTH``. When the text read
    ahead could hold enough openings, growing prefixes of the file starting just past the
    last event are read again: too short to reach libyaml's limit, long enough for
    ``MAX_DEPTH`` to decide, at the position it reports whatever the PyYAML version.
    """
    mark = exc.problem_mark
    if mark is None:
        return None
    ahead = text[composer.consumed : mark.index]
    # Each collection opened in the read-ahead starts at one of these characters (a block
    # mapping after a line break, ``-`` or ``?``; a flow pair after ``[`` or ``,``), at most
    # two per character: below this bound the depth cannot have passed the limit.
    bound = len(composer.stack) + 2 + 2 * sum(ahead.count(c) for c in "[{,-?\n")
    size = 4 * MAX_DEPTH
    while bound > MAX_DEPTH:
        end = min(composer.consumed + size, mark.index + 1)
        again = _Composer(composer.rel, composer.env, text[:end])
        try:
            again.compose()
        except FileAbortedError:
            if again.too_deep:
                return again.diagnostics
        except yaml.YAMLError:
            pass  # the truncated end, or another mistake before it
        finally:
            again.dispose()
        if end > mark.index:
            break
        size *= 2
    return None


class _Composer:
    """Builds ``Node``s from libyaml events with an explicit stack (no recursion)."""

    def __init__(self, rel: str, env: Mapping[str, str], text: str) -> None:
        self.rel = rel
        self.env = env
        self.loader = _Loader(text)
        self.consumed = 0  # index just past the last event read (for _too_deep_for_us)
        self.too_deep = False
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, Node] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[Frame] = []
        self.nodes = 0
        self.tainted: set[Pos] = set()
        self.unset: set[tuple[Pos, Pos]] = set()
        self.each_refs: set[Pos] = set()  # scalars left for template expansion

    def dispose(self) -> None:
        self.loader.dispose()

    def compose(self) -> Node | None:
        loader = self.loader
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # DocumentStart
        root = self._document()
        loader.get_event()  # DocumentEnd
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            self.fail(event.start_mark, "a file holds one YAML document; remove the second '---'")
        return root

    def _document(self) -> Node | None:
        get_event, stack = self.loader.get_event, self.stack
        scalar_event, scalar = yaml.ScalarEvent, self._scalar
        event: Any = None
        try:
            while True:
                event = get_event()
                if type(event) is scalar_event:
                    node = scalar(event)
                else:
                    found = self._event(event)
                    if found is None:
                        continue
                    node = found
                if not stack:
                    self.consumed = event.end_mark.index
                    return node
                stack[-1].add(node, self)
        except yaml.YAMLError:
            if event is not None:  # ``event`` is the last one read before the error
                self.consumed = event.end_mark.index
            raise

    def _event(self, event: Any) -> Node | None:
        """A finished node, or None when the event opened a collection."""
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event)
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._open(event)
            return None
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            node = frame.close(self)
            self._anchor(frame.anchor, node)
            return node
        self.fail(event.start_mark, f"unexpected YAML event {type(event).__name__}")

    def _open(self, event: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            self.too_deep = True
            self.fail(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
        if event.tag not in _COLLECTION_TAGS:
            self.report(event.start_mark, unsupported_tag(event.tag))
            self.tainted.add(pos_of(event.start_mark))
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        is_map = isinstance(event, yaml.MappingStartEvent)
        self.stack.append(Frame(is_map, pos_of(event.start_mark), event.anchor, self.nodes))
        self.count(event.start_mark, 1)

    def _scalar(self, event: Any) -> Node:
        """The hot path: plain untagged scalars resolve inline."""
        mark, text, tag = event.start_mark, event.value, event.tag
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.count(mark, 0)
        plain = event.implicit[0]
        if tag is None and plain:
            value = resolve_plain(text)
        else:
            try:
                value = resolve_scalar(text, tag, plain)
            except ScalarError as exc:
                self.report(mark, str(exc))
                self.tainted.add(pos_of(mark))
                value = text
        if type(value) is str:
            if "${" in value:
                value = self.interpolate(value, event)
            key_text = value
        else:
            key_text = text
            if type(value) is float and not math.isfinite(value):
                self.report(mark, f"{text!r}: infinite and NaN numbers are not supported")
        is_merge = plain and tag is None and text == "<<"
        node = Node(value, PosNode(Pos(mark.line + 1, mark.column + 1)), 1, key_text, is_merge)
        if event.anchor is not None:
            self._anchor(event.anchor, node)
        return node

    def _alias(self, event: Any) -> Node:
        name = event.anchor
        node = self.anchors.get(name)
        if node is None:
            problem = "refers to itself" if name in self.open_anchors else "is not defined above"
            self.fail(event.start_mark, f"alias *{name} {problem}")
        self.count(event.start_mark, node.size)
        return Node(node.value, node.pos_node, node.size, node.key_text, False)

    def _anchor(self, name: str | None, node: Node) -> None:
        if name is not None:
            self.open_anchors.discard(name)
            self.anchors[name] = Node(node.value, node.pos_node, node.size, node.key_text, False)

    def interpolate(self, text: str, event: Any) -> str:
        if EACH_REFERENCE.search(text):
            self.each_refs.add(pos_of(event.start_mark))
        result, problems = interpolate(text, self.env)
        if problems:
            self.tainted.add(pos_of(event.start_mark))
        for problem in problems:
            pos = _offset_pos(event, problem.offset)
            self.report_pos(pos, problem.message)
            if problem.unset:
                self.unset.add((pos, pos_of(event.start_mark)))
        return result

    def count(self, mark: Any, size: int) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            self.fail(
                mark,
                f"document expands to more than {MAX_NODES:,} nodes (an alias bomb?); "
                "use fewer aliases or split the file",
            )

    def report(self, mark: Any, message: str) -> None:
        self.report_pos(pos_of(mark), message)

    def report_pos(self, pos: Pos, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.rel, pos.line, pos.col, message))

    def fail(self, mark: Any, message: str) -> NoReturn:
        self.report(mark, message)
        raise FileAbortedError


def pos_of(mark: Any) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _offset_pos(event: Any, offset: int) -> Pos:
    """Position of ``offset`` in a scalar; exact for single-line plain and quoted scalars."""
    start, end = event.start_mark, event.end_mark
    if start.line != end.line:
        return pos_of(start)
    quote = 1 if event.style in ("'", '"') else 0
    return Pos(start.line + 1, start.column + 1 + quote + offset)
