"""Source positions of a parsed YAML document, kept beside the plain data.

``YamlDoc.data`` is plain JSON-like data (dict, list, str, int, float, bool, None) that the
JSON Schema validates and the builders read. ``YamlDoc.tree`` mirrors it with a ``PosNode``
per node, so any path into the data (as jsonschema reports it) maps back to a line and
column. An alias shares the anchored node's ``PosNode``: positions cost memory in proportion
to the file, never to its expansion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from reconciler.model.desired import Source

PathPart = str | int


class Pos(NamedTuple):
    """1-based line and column."""

    line: int
    col: int


class PosNode:
    """Where a node's value starts; for a mapping, each key's position and child; for a
    sequence, each element's child. Scalars have ``children is None``."""

    __slots__ = ("children", "pos")

    def __init__(
        self, pos: Pos, children: dict[str, tuple[Pos, PosNode]] | list[PosNode] | None = None
    ) -> None:
        self.pos = pos
        self.children = children

    def child(self, part: PathPart) -> tuple[Pos, PosNode] | None:
        """(position of the key or element, child node), or None when there is none."""
        children = self.children
        if isinstance(children, dict) and isinstance(part, str):
            return children.get(part)
        if isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
            node = children[part]
            return node.pos, node
        return None


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """One parsed file. ``file`` is relative to the config directory."""

    file: str
    data: Any
    tree: PosNode
    tainted: frozenset[Pos] = frozenset()  # nodes already reported (e.g. a missing ${VAR})
    unset: frozenset[tuple[Pos, Pos]] = frozenset()  # (diagnostic, scalar) of unset ${VAR}s
    each_refs: frozenset[Pos] = frozenset()  # scalars holding ${each...} (templates.py)
    # Declarations a template made: (section, key or index) -> which template and entry
    origins: Mapping[tuple[PathPart, PathPart], str] = field(default_factory=dict)

    def origin(self, path: Iterable[PathPart]) -> str | None:
        """Which template entry made the declaration at ``path`` (None: written as is)."""
        if not self.origins:
            return None
        key = tuple(path)[:2]
        return self.origins.get(key) if len(key) == 2 else None

    def scalars_under(self, path: Iterable[PathPart]) -> set[Pos]:
        """Where each scalar at or below ``path`` starts; empty when ``path`` is absent."""
        node: PosNode | None = self.tree
        for part in path:
            found = node.child(part) if node is not None else None
            node = None if found is None else found[1]
        out: set[Pos] = set()
        stack = [] if node is None else [node]
        while stack:
            here = stack.pop()
            children = here.children
            if children is None:
                out.add(here.pos)
            elif isinstance(children, dict):
                stack.extend(child for _, child in children.values())
            else:
                stack.extend(children)
        return out

    def positions_under(self, path: Iterable[PathPart]) -> set[Pos]:
        """Where each key and scalar at or below ``path`` starts."""
        found: tuple[Pos, PosNode] | None = (self.tree.pos, self.tree)
        for part in path:
            found = found[1].child(part) if found is not None else None
        out: set[Pos] = set()
        stack = [] if found is None else [found[1]]
        while stack:
            node = stack.pop()
            out.add(node.pos)
            if isinstance(node.children, dict):
                for key_pos, child in node.children.values():
                    out.add(key_pos)
                    stack.append(child)
            elif isinstance(node.children, list):
                stack.extend(node.children)
        return out

    def _walk(self, path: Iterable[PathPart]) -> tuple[Pos, PosNode]:
        """The deepest node along ``path`` and the position of its key (or itself)."""
        key_pos, node = self.tree.pos, self.tree
        for part in path:
            found = node.child(part)
            if found is None:
                break
            key_pos, node = found
        return key_pos, node

    def value_pos(self, path: Iterable[PathPart]) -> Pos:
        return self._walk(path)[1].pos

    def key_pos(self, path: Iterable[PathPart]) -> Pos:
        """Where the key of the node at ``path`` is written (its value for list elements)."""
        return self._walk(path)[0]

    def source(self, path: Iterable[PathPart]) -> Source:
        path = tuple(path)
        pos = self.key_pos(path)
        return Source(file=self.file, line=pos.line, col=pos.col, entry=self.origin(path))

    def value_source(self, path: Iterable[PathPart]) -> Source:
        path = tuple(path)
        pos = self.value_pos(path)
        return Source(file=self.file, line=pos.line, col=pos.col, entry=self.origin(path))


def describe_path(path: Iterable[PathPart]) -> str:
    """``folders["/a"].groups.annotators``, ``items[2].match.type``: a readable data path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if len(part) > 60:
            part = part[:59] + "…"
        if part.replace("_", "a").isalnum() and not part[:1].isdigit():
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out
