"""Stack frames of the YAML composer: one open mapping or sequence each.

A mapping frame alternates key and value. Keys are the scalar's text; a collection as a
key, a duplicate key or a bad ``<<`` merge is reported and the pair is dropped, so that
composing continues and every such mistake in the file is listed. Merges (``<<: *base`` or
``<<: [*a, *b]``) apply when the mapping closes: explicit keys win, then earlier sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.config.positions import Pos, PosNode

if TYPE_CHECKING:
    from reconciler.config.yamlread import _Composer


@dataclass(slots=True)
class Node:
    """A finished node: its value, positions, expanded size and text when used as a key."""

    value: Any
    pos_node: PosNode
    size: int
    key_text: str | None  # scalar text; None for collections (not usable as keys)
    is_merge_key: bool


_MERGE = ("<<", Pos(0, 0))
_DROP = ("", Pos(0, 0))


class Frame:
    """One open collection; a plain slotted class because one is made per collection."""

    __slots__ = ("anchor", "children", "data", "is_map", "merges", "pending", "pos", "start_count")

    def __init__(self, is_map: bool, pos: Pos, anchor: str | None, start_count: int) -> None:
        self.is_map = is_map
        self.pos = pos
        self.anchor = anchor
        self.start_count = start_count
        self.data: Any = {} if is_map else []
        self.children: Any = {} if is_map else []
        self.pending: tuple[str, Pos] | None = None
        self.merges: list[Node] = []

    def add(self, node: Node, composer: _Composer) -> None:
        if not self.is_map:
            self.data.append(node.value)
            self.children.append(node.pos_node)
            return
        pending = self.pending
        if pending is None:
            self.pending = self._key(node, composer)
            return
        self.pending = None
        if pending is _MERGE:
            self._merge_source(node, composer)
        elif pending is not _DROP:
            self._value(pending[0], pending[1], node, composer)

    def _key(self, node: Node, composer: _Composer) -> tuple[str, Pos]:
        if node.is_merge_key:
            return _MERGE
        if node.key_text is None:
            composer.report_pos(node.pos_node.pos, "a mapping key must be a plain string")
            return _DROP
        return node.key_text, node.pos_node.pos

    def _value(self, key: str, key_pos: Pos, node: Node, composer: _Composer) -> None:
        if key in self.data:
            first = self.children[key][0]
            composer.report_pos(
                key_pos,
                f"duplicate key {_short(key)!r} (first at line {first.line}, column "
                f"{first.col}); YAML keeps only one, so remove or rename one of them",
            )
        else:
            self.data[key] = node.value
            self.children[key] = (key_pos, node.pos_node)

    def _merge_source(self, node: Node, composer: _Composer) -> None:
        if isinstance(node.value, dict):
            self.merges.append(node)
            return
        children = node.pos_node.children
        if isinstance(node.value, list) and isinstance(children, list):
            parts = [Node(v, c, 0, None, False) for v, c in zip(node.value, children, strict=True)]
            if all(isinstance(p.value, dict) for p in parts):
                self.merges.extend(parts)
                return
        composer.report_pos(
            node.pos_node.pos, "'<<' merges a mapping or a list of mappings (e.g. <<: *base)"
        )

    def close(self, composer: _Composer) -> Node:
        for source in self.merges:
            source_children = source.pos_node.children
            assert isinstance(source_children, dict)
            for key, value in source.value.items():
                if key not in self.data:
                    self.data[key] = value
                    self.children[key] = source_children[key]
        size = composer.nodes - self.start_count
        return Node(self.data, PosNode(self.pos, self.children), size, None, False)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
