"""``format_text``: a config file in its canonical form, comments kept (``reconciler fmt``).

The canonical form, derived from the config JSON Schema so that it follows the schema as it
grows:

* the keys of a schema object (a folder, a dataset, a policy, the top of a file) in the
  order the schema lists them; ``x-`` keys (anchors) first at the top, so an anchor is
  still defined before it is used; other keys keep their place after the known ones;
* the keys of a name-keyed mapping (``folders``, ``groups``, ``datasets``, ``users``,
  ``organisation_tags``, ``collections``, roles, the metadata schema) sorted, folder paths
  segment by segment so a folder's children follow it;
* lists never reordered (rules apply in order) and free-form values (metadata) left as
  written; a mapping holding a ``<<`` merge key is left as written;
* scalars plain when YAML reads them back as the same value, else quoted (single quotes, or
  double where an escape is needed); two-space indentation, ``- `` indented under its key,
  flow style (``{a: b}``) kept where it was used, and no line wrapping.

ruamel.yaml does the round trip: PyYAML drops comments, and keeping them by hand means a
YAML parser of our own. Comments stay with the key they follow: an end-of-line comment stays
on its line, a whole-line comment between two entries travels with the entry above it.

Safety: the formatted text is read back with the config's own YAML reader and must hold
exactly the data the original held (mapping order aside), or the file is refused in one
line and left as it is.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.error import YAMLError

from reconciler.config.errors import ConfigError, Diagnostic
from reconciler.config.yamlread import parse_yaml

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Formatted:
    """What formatting a config's files did: the files whose text changed (written unless
    checking) and the problems of those that could not be formatted (left as they were)."""

    changed: list[Path]
    problems: list[Diagnostic]


def format_files(root: Path, files: list[Path], *, write: bool) -> Formatted:
    """Every file formatted on its own, so that one bad file does not hide the others."""
    changed: list[Path] = []
    problems: list[Diagnostic] = []
    for file in files:
        rel = file.relative_to(root).as_posix()
        try:
            text = file.read_text(encoding="utf-8")
            formatted = format_text(text, rel)
        except ConfigError as error:
            problems.extend(error.diagnostics)
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Diagnostic(rel, 1, 1, f"cannot read file: {error}"))
            continue
        if formatted != text:
            changed.append(file)
            if write:
                file.write_text(formatted, encoding="utf-8")
    return Formatted(changed, problems)


def format_text(text: str, rel: str) -> str:
    """The canonical form of one config file's text (``rel`` names it in errors)."""
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = f"not valid YAML ({getattr(exc, 'problem', None) or exc}); fix it first"
        raise ConfigError([Diagnostic(rel, line, col, message)]) from None
    if data is None:
        return text
    _canonical(data, _document_schema(), top=True)
    out = io.StringIO()
    yaml.dump(data, out)
    formatted = _blank_lines(out.getvalue())
    _same_data(text, formatted, rel)
    return formatted


class _DoubleQuotes(Emitter):
    """Quotes, where a scalar needs them, are double (as the README and exports write)."""

    def choose_scalar_style(self) -> Any:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Emitter = _DoubleQuotes
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never wrap: a wrapped line is a change nobody asked for
    yaml.preserve_quotes = False  # canonical quoting: plain unless it must be quoted
    return yaml


def _blank_lines(text: str) -> str:
    """One blank line before each top-level key but the first, none doubled, none at the
    end: reordering carries blank lines along with the entries they followed."""
    out: list[str] = []
    seen_key = False
    for line in text.split("\n"):
        blank = not line.strip()
        if blank and (not out or not out[-1].strip()):
            continue
        top_key = bool(line) and line[0] not in " \t#-." and not line.startswith("---")
        if top_key and seen_key and out and out[-1].strip() and not out[-1].startswith("#"):
            out.append("")
        seen_key = seen_key or top_key
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def _same_data(before: str, after: str, rel: str) -> None:
    """The config reader sees the same data in both texts, or the file is refused."""
    old, _ = parse_yaml(before.encode(), rel, {})
    new, _ = parse_yaml(after.encode(), rel, {})
    if old is None or new is None or _plain(old.data) != _plain(new.data):
        message = (
            "cannot be formatted without changing what it means (a YAML construct the "
            "formatter does not keep); it was left as it is"
        )
        raise ConfigError([Diagnostic(rel, 1, 1, message)])


def _plain(value: Any) -> Any:
    """JSON-like data with mapping order ignored (dict equality) and types kept apart."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return (type(value).__name__, value)


# --- the schema's shape ------------------------------------------------------------------


@cache
def _root_schema() -> dict[str, Any]:
    text = resources.files("reconciler.schemas").joinpath("config.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _document_schema() -> Schema:
    return _resolve(_root_schema())


def _resolve(node: Schema) -> Schema:
    """Follow ``$ref`` to a definition of this schema."""
    while "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        node = _root_schema()["$defs"][name]
    return node


def _branches(node: Schema) -> list[Schema]:
    """The node and every schema it combines (``if``/``then``/``else``, ``allOf``, ...)."""
    node = _resolve(node)
    out = [node]
    for key in ("then", "else"):
        if isinstance(node.get(key), Mapping):
            out.extend(_branches(node[key]))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in node.get(key, ()):
            out.extend(_branches(part))
    return out


def _properties(node: Schema, keys: set[str]) -> dict[str, Schema]:
    """The properties an object with ``keys`` has under ``node``, in schema order: the
    branch an ``if: {required: [...]}`` picks, the alternative of ``anyOf``/``oneOf`` that
    holds every key, and all of ``allOf``."""
    node = _resolve(node)
    out: dict[str, Schema] = dict(node.get("properties", {}))
    parts: list[Schema] = list(node.get("allOf", ()))
    condition = node.get("if")
    if isinstance(condition, Mapping) and "required" in condition:
        picked = node.get("then") if set(condition["required"]) <= keys else node.get("else")
        parts += [picked] if isinstance(picked, Mapping) else []
    alternatives = [*node.get("anyOf", ()), *node.get("oneOf", ())]
    fits = [a for a in alternatives if keys <= set(_properties(a, keys))]
    parts += fits[:1]
    for part in parts:
        for name, sub in _properties(part, keys).items():
            out.setdefault(name, sub)
    return out


def _named(node: Schema) -> Schema | None:
    """The schema of the values of a name-keyed mapping, or None if the node is not one."""
    for branch in _branches(node):
        values = branch.get("additionalProperties")
        if "propertyNames" in branch and isinstance(values, Mapping):
            return values
    return None


def _items(node: Schema) -> Schema | None:
    for branch in _branches(node):
        if isinstance(branch.get("items"), Mapping):
            return dict(branch["items"])
    return None


# --- reordering ----------------------------------------------------------------------------


def _canonical(value: Any, schema: Schema, *, top: bool = False) -> None:
    if isinstance(value, CommentedSeq):
        items = _items(schema)
        for entry in value:
            if items is not None:
                _canonical(entry, items)
        return
    if not isinstance(value, CommentedMap) or _has_merge(value):
        return
    known = _properties(schema, {str(k) for k in value})
    named = _named(schema)
    if known:
        _reorder(value, _known_order(list(value), list(known), top=top))
        for key, sub in known.items():
            if key in value:
                _canonical(value[key], sub)
    elif named is not None:
        _reorder(value, sorted(value, key=_name_key))
        for key in value:
            _canonical(value[key], named)


def _has_merge(value: CommentedMap) -> bool:
    return bool(getattr(value, "merge", None))


def _known_order(keys: list[Any], known: list[str], *, top: bool) -> list[Any]:
    rank = {name: n for n, name in enumerate(known)}
    anchors = [k for k in keys if top and str(k).startswith("x-")]
    listed = sorted((k for k in keys if k in rank), key=lambda k: rank[k])
    others = [k for k in keys if k not in rank and k not in anchors]
    return [*anchors, *listed, *others]


def _name_key(key: Any) -> tuple[tuple[str, ...], str]:
    text = str(key)
    return (tuple(text.split("/")) if text.startswith("/") else (text,), text)


def _reorder(mapping: CommentedMap, order: list[Any]) -> None:
    if list(mapping) == order:
        return
    for key in order:
        mapping.move_to_end(key)
