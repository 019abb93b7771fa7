"""``templates:``: blocks of declarations expanded when a file is read.

::

    x-sites: &sites {berlin: {lead: ana@acme.com}, paris: {lead: luc@acme.com}}
    templates:
      - for_each: *sites
        folders:
          /sites/${each.key}: {description: Site ${each.key}}
          /sites/${each.key}/raw: {}
        groups:
          site-${each.key}: {members: ["${each.value.lead}"]}

Each block is written out once for each entry of ``for_each`` (once when it has none):
over a mapping, ``each.key`` is the key and ``each.value`` its value; over a list,
``each.value`` is the entry and ``each.key`` is the entry too when it is a scalar (a list of
names), else its index. ``${each.value.FIELD…}`` reads into a mapping. A scalar that is one
reference and nothing else takes the value as it is (a list of members, a number); inside a
longer string the value must be a scalar. Blocks limited by ``in_environments`` to other
environments are left out (``environments.Scope``).

The expansion is merged into the file's own sections and then checked by the schema and the
builders exactly as if written out, every problem at the template's ``file:line`` naming the
entry; every declaration made keeps that origin (``YamlDoc.origins``, ``Source.entry``). The
expansion is capped at ``MAX_EXPANDED_NODES`` values per file, with one diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.config.context import Context
from reconciler.config.environments import IN_ENVIRONMENTS, TEMPLATES
from reconciler.config.errors import Diagnostic, ExpansionTooLargeError
from reconciler.config.interpolate import EACH_REFERENCE, interpolate
from reconciler.config.positions import PathPart, Pos, PosNode, YamlDoc
from reconciler.model.desired import ENTRY_WORDS
from reconciler.model.names import did_you_mean

MAX_EXPANDED_NODES = 1_000_000
FOR_EACH = "for_each"
_BLOCK_KEYS = (FOR_EACH, IN_ENVIRONMENTS)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a ``for_each``: ``each.key``, ``each.value``, and how to name it."""

    key: str
    value: Any
    label: str  # "for_each entry 'berlin' at sites.yaml:4"


class _Expansion:
    """The file's data and positions as the expanded blocks are merged into them."""

    def __init__(self, doc: YamlDoc, env: Mapping[str, str], ctx: Context) -> None:
        self.doc, self.env, self.ctx = doc, env, ctx
        self.data = {k: v for k, v in doc.data.items() if k != TEMPLATES}
        tree = doc.tree.children if isinstance(doc.tree.children, dict) else {}
        self.tree = {k: v for k, v in tree.items() if k != TEMPLATES}
        self.origins: dict[tuple[PathPart, PathPart], str] = {}
        self.copied: set[str] = set()  # sections already copied from the file's own
        self.nodes = 0

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_EXPANDED_NODES:
            raise ExpansionTooLargeError

    def report(self, pos: Pos, message: str) -> None:
        self.ctx.diagnostics.append(Diagnostic(self.doc.file, pos.line, pos.col, message))

    def result(self) -> YamlDoc:
        tree = PosNode(self.doc.tree.pos, self.tree)
        return replace(self.doc, data=self.data, tree=tree, origins=self.origins)


def expand_templates(
    doc: YamlDoc, env: Mapping[str, str], ctx: Context, left_out: frozenset[int] = frozenset()
) -> YamlDoc:
    """``doc`` with its ``templates:`` written out (blocks at ``left_out`` indices are not
    part of this run). ``${each…}`` anywhere else is a problem."""
    data = doc.data
    blocks = data.get(TEMPLATES) if isinstance(data, dict) else None
    _check_stray(doc, ctx)
    if not isinstance(blocks, list):
        return doc
    out = _Expansion(doc, env, ctx)
    for index, block in enumerate(blocks):
        if index in left_out or not isinstance(block, dict):
            continue  # the schema reports a block that is not a mapping
        try:
            _expand_block(out, index, block)
        except ExpansionTooLargeError:
            pos = doc.key_pos((TEMPLATES, index))
            out.report(
                pos,
                f"templates[{index}]: the templates of this file expand to more than "
                f"{MAX_EXPANDED_NODES:,} values; use fewer entries, or split them over files",
            )
            return doc
    return out.result()


def _check_stray(doc: YamlDoc, ctx: Context) -> None:
    """``${each…}`` outside a template block has nothing to read."""
    if not doc.each_refs:
        return
    data = doc.data if isinstance(doc.data, dict) else {}
    kept = [TEMPLATES, *(k for k in data if k.startswith("x-"))]  # x-: anchors of bodies
    inside = {pos for key in kept for pos in doc.positions_under((key,))}
    for pos in sorted(doc.each_refs - inside):
        message = "${each...} is only defined in a block under templates: that has for_each"
        ctx.diagnostics.append(Diagnostic(doc.file, pos.line, pos.col, message))


def _expand_block(out: _Expansion, index: int, block: dict[str, Any]) -> None:
    found = out.doc.tree.child(TEMPLATES)
    block_node = found[1].child(index) if found is not None else None
    if block_node is None:  # pragma: no cover - the tree mirrors the data
        return
    entries = _entries(out, index, block, block_node[1])
    for entry in entries:
        for section, body in block.items():
            if section in _BLOCK_KEYS or section.startswith("x-") or body is None:
                continue
            at = block_node[1].child(section)
            if at is not None:
                _merge(out, section, body, at, entry)


def _entries(
    out: _Expansion, index: int, block: dict[str, Any], node: PosNode
) -> list[Entry | None]:
    """The entries of a block's ``for_each`` (one None: a block without it)."""
    if FOR_EACH not in block:
        return [None]
    given = block[FOR_EACH]
    found = node.child(FOR_EACH)
    here = found[1] if found is not None else node
    where = out.doc.file
    if isinstance(given, dict):
        children = here.children if isinstance(here.children, dict) else {}
        return [
            Entry(key, value, _label(key, where, children.get(key, (here.pos, here))[0]))
            for key, value in given.items()
        ]
    if isinstance(given, list):
        items = here.children if isinstance(here.children, list) else []
        entries: list[Entry | None] = []
        for i, value in enumerate(given):
            key = _scalar_text(value) if _is_scalar(value) else str(i)
            pos = items[i].pos if i < len(items) else here.pos
            entries.append(Entry(key, value, _label(key, where, pos)))
        return entries
    return []  # pragma: no cover - the blocks' schema check refuses it before expansion


def _label(key: str, file: str, pos: Pos) -> str:
    shown = key if len(key) <= 40 else key[:39] + "…"
    return f"{ENTRY_WORDS} {shown!r} at {file}:{pos.line}"  # plan/grouping.py reads it


def _merge(
    out: _Expansion, section: str, body: Any, at: tuple[Pos, PosNode], entry: Entry | None
) -> None:
    """One section of one expanded block into the file's section of that name."""
    value, node = _substitute(out, body, at[1], entry)
    have = _own_section(out, section, value, at)
    children = out.tree[section][1].children
    label = entry.label if entry is not None else f"the template at {out.doc.file}:{at[0].line}"
    if isinstance(value, dict) and isinstance(have, dict) and isinstance(children, dict):
        new = node.children if isinstance(node.children, dict) else {}
        for key, item in value.items():
            key_pos, child = new.get(key, (at[0], node))
            if key in have:
                first = children[key][0] if key in children else at[0]
                out.report(
                    key_pos,
                    f"{section}[{key!r}]: declared twice ({label}); first at "
                    f"{out.doc.file}:{first.line}",
                )
                continue
            have[key], children[key] = item, (key_pos, child)
            out.origins[(section, key)] = label
    elif isinstance(value, list) and isinstance(have, list) and isinstance(children, list):
        items = node.children if isinstance(node.children, list) else []
        for i, item in enumerate(value):
            out.origins[(section, len(have))] = label
            have.append(item)
            children.append(items[i] if i < len(items) else node)
    else:
        out.report(
            at[0], f"{section}: a template's {section} must be of the same kind as the file's"
        )


def _own_section(out: _Expansion, section: str, value: Any, at: tuple[Pos, PosNode]) -> Any:
    """The file's section to merge into, a copy of its own: the file's may be an alias
    shared with an ``x-`` anchor or a ``for_each`` being read."""
    if section in out.copied:
        return out.data[section]
    out.copied.add(section)
    have = out.data.get(section)
    found = out.tree.get(section)
    if have is None or found is None:
        out.data[section] = {} if isinstance(value, dict) else []
        out.tree[section] = (at[0], PosNode(at[1].pos, {} if isinstance(value, dict) else []))
    elif isinstance(have, dict | list):
        children = found[1].children
        copied = dict(children) if isinstance(children, dict) else list(children or [])
        out.data[section] = dict(have) if isinstance(have, dict) else list(have)
        out.tree[section] = (found[0], PosNode(found[1].pos, copied))
    return out.data[section]


def _substitute(
    out: _Expansion, value: Any, node: PosNode, entry: Entry | None
) -> tuple[Any, PosNode]:
    """``value`` (at ``node``) with ``${each…}`` resolved for ``entry``, and its positions."""
    out.count()
    if isinstance(value, str):
        return _string(out, value, node.pos, entry), node
    if isinstance(value, dict):
        children = node.children if isinstance(node.children, dict) else {}
        data: dict[str, Any] = {}
        tree: dict[str, tuple[Pos, PosNode]] = {}
        for key, item in value.items():
            key_pos, child = children.get(key, (node.pos, node))
            new_key = _string(out, key, key_pos, entry)
            if not isinstance(new_key, str):
                out.report(key_pos, f"{key!r}: a key must be text, not a list or mapping")
                continue
            data[new_key], sub = _substitute(out, item, child, entry)
            tree[new_key] = (key_pos, sub)
        return data, PosNode(node.pos, tree)
    if isinstance(value, list):
        items = node.children if isinstance(node.children, list) else []
        pairs = [
            _substitute(out, item, items[i] if i < len(items) else node, entry)
            for i, item in enumerate(value)
        ]
        return [v for v, _ in pairs], PosNode(node.pos, [n for _, n in pairs])
    return value, node


def _string(out: _Expansion, text: str, pos: Pos, entry: Entry | None) -> Any:
    """A scalar's text with its ``${each…}`` resolved (left as written on a problem)."""
    if "${each." not in text or pos not in out.doc.each_refs:
        return text
    whole = EACH_REFERENCE.fullmatch(text)
    if whole is not None:
        found = _lookup(out, whole, pos, entry)
        return text if found is _MISSING else _copy(out, found)
    problems: list[str] = []

    def replace_one(match: re.Match[str]) -> str:
        found = _lookup(out, match, pos, entry)
        if found is _MISSING:
            problems.append("")
            return match.group(0)
        if not _is_scalar(found):
            out.report(pos, f"{match.group(0)} is a list or mapping: it can only stand alone")
            problems.append("")
            return match.group(0)
        return _scalar_text(found).replace("${", "$${")  # read as text, never interpolated

    result = EACH_REFERENCE.sub(replace_one, text)
    if problems:
        return text
    resolved, failures = interpolate(result, out.env)
    for failure in failures:
        out.report(pos, failure.message)
    return resolved


_MISSING = object()


def _lookup(out: _Expansion, match: re.Match[str], pos: Pos, entry: Entry | None) -> Any:
    if entry is None:
        out.report(pos, f"{match.group(0)}: this templates: block has no for_each")
        return _MISSING
    if match.group(1) == "key":
        if match.group(2):
            out.report(pos, f"{match.group(0)}: each.key is text and has no fields")
            return _MISSING
        return entry.key
    value = entry.value
    for name in match.group(2).split(".")[1:]:
        if not isinstance(value, dict) or name not in value:
            fields = list(value) if isinstance(value, dict) else []
            out.report(
                pos,
                f"{match.group(0)}: the value of {entry.label} has no field "
                f"{name!r}{did_you_mean(name, fields)}",
            )
            return _MISSING
        value = value[name]
    return value


def _copy(out: _Expansion, value: Any) -> Any:
    """A value taken whole from an entry, counted (it is written out once per use)."""
    out.count()
    if isinstance(value, dict):
        return {k: _copy(out, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(out, v) for v in value]
    return value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
