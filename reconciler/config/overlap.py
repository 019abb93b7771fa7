"""Metadata rules that could set one key to two values on the same item.

Two rules *may select one item* (a sound static test: it never says no when an item could
match both) when all of these hold:

* **scope**: the same folder, or one is recursive and the other's folder is inside it;
* **name**: their ``match.name`` globs can both match one name (``globsets.may_overlap``;
  no glob matches any name);
* **type**: their ``match.type`` sets intersect (no type matches any type);
* **metadata**: no key in both ``match.metadata`` asks for two different values (``1`` and
  ``1.0`` are the same value, ``true`` and ``1`` are not).

Two such rules setting one key to different values are a conflict, reported at the later
rule. Manifests are not compared with rules: by design a manifest row wins over every rule
(it is the most specific statement). Two manifests listing one item with different values
for a key are a conflict, reported at the later row. ``mode: replace`` is not a conflict:
the desired metadata is the union of what every applicable rule declares.

Rules are indexed by folder (and literal name), so the common layouts cost linear time; a
budget of pair comparisons bounds hostile inputs.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.config.context import Context
from reconciler.config.errors import Diagnostic
from reconciler.config.globsets import is_literal, may_overlap
from reconciler.model.addresses import parent_path
from reconciler.model.desired import Manifest, MetadataRule

MAX_PAIRS = 5_000_000
MAX_MANIFEST_CONFLICTS = 50


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def may_select_same(a: MetadataRule, b: MetadataRule) -> bool:
    """Name, type and metadata conditions (scope is checked by the index)."""
    ma, mb = a.match, b.match
    if ma.types and mb.types and not set(ma.types) & set(mb.types):
        return False
    if ma.metadata and mb.metadata:
        for key in ma.metadata.keys() & mb.metadata.keys():
            if not same_value(ma.metadata[key], mb.metadata[key]):
                return False
    if ma.name is None or mb.name is None:
        return True
    return may_overlap(ma.name, mb.name)


def check_rule_conflicts(rules: Sequence[MetadataRule], ctx: Context) -> None:
    index = _RuleIndex(rules)
    pairs = 0
    for later, rule in enumerate(rules):
        for earlier in index.candidates(later):
            pairs += 1
            if pairs > MAX_PAIRS:
                ctx.report_at(
                    rule.source,
                    f"more than {MAX_PAIRS:,} pairs of rules with overlapping folders; conflict "
                    "checks stopped here (move per-item metadata into a manifest)",
                )
                return
            _compare(rules[earlier], rule, ctx)


def _compare(first: MetadataRule, second: MetadataRule, ctx: Context) -> None:
    clashing = [
        key
        for key in first.metadata.keys() & second.metadata.keys()
        if not same_value(first.metadata[key], second.metadata[key])
    ]
    if not clashing or not may_select_same(first, second):
        return
    key = sorted(clashing)[0]
    ctx.report_at(
        second.source,
        f"rule sets {key}={_show(second.metadata[key])} but the rule at "
        f"{first.source.position()} sets {key}={_show(first.metadata[key])}, and both can "
        "match the same items; make their folder, name, type or metadata matches disjoint, "
        "or agree on the value",
    )


class _RuleIndex:
    """Earlier rules whose scope overlaps a rule's scope, by folder and literal name."""

    def __init__(self, rules: Sequence[MetadataRule]) -> None:
        self.rules = rules
        self.by_folder: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            self.by_folder.setdefault(rule.folder, []).append(i)
        self.folders = sorted(self.by_folder)

    def candidates(self, later: int) -> Iterator[int]:
        rule = self.rules[later]
        yield from self._at(rule.folder, later, rule, any_recursive=True)
        parent = parent_path(rule.folder)
        while parent is not None:
            yield from self._at(parent, later, rule, any_recursive=False)
            parent = parent_path(parent)
        if rule.recursive:
            lo = bisect_left(self.folders, rule.folder + "/")
            hi = bisect_left(self.folders, rule.folder + "0")  # "0" sorts right after "/"
            for folder in self.folders[lo:hi]:
                yield from self._at(folder, later, rule, any_recursive=True)

    def _at(
        self, folder: str, later: int, rule: MetadataRule, *, any_recursive: bool
    ) -> Iterator[int]:
        literal = rule.match.name if rule.match.name and is_literal(rule.match.name) else None
        for i in self.by_folder.get(folder, ()):
            if i >= later:
                break
            other = self.rules[i]
            if not any_recursive and not other.recursive:
                continue
            name = other.match.name
            if literal is not None and name and is_literal(name) and name != literal:
                continue
            yield i


def check_manifest_conflicts(manifests: Sequence[Manifest], ctx: Context) -> None:
    for later in range(1, len(manifests)):
        reported = 0
        rows = manifests[later].entries.rows
        for earlier in range(later):
            first_rows = manifests[earlier].entries.rows
            small, big = (rows, first_rows) if len(rows) <= len(first_rows) else (first_rows, rows)
            for path in small:
                if path not in big:
                    continue
                message = _row_conflict(manifests[earlier], manifests[later], path)
                if message is None:
                    continue
                reported += 1
                if reported <= MAX_MANIFEST_CONFLICTS:
                    line = rows[path].line
                    ctx.diagnostics.append(_diag(manifests[later].file, line, message))
        if reported > MAX_MANIFEST_CONFLICTS:
            extra = reported - MAX_MANIFEST_CONFLICTS
            message = f"{extra} more rows conflict with earlier manifests; fix the above first"
            ctx.diagnostics.append(_diag(manifests[later].file, 1, message))


def _row_conflict(first: Manifest, second: Manifest, path: str) -> str | None:
    a, b = first.entries.rows[path], second.entries.rows[path]
    for key in sorted(a.metadata.keys() & b.metadata.keys()):
        if not same_value(a.metadata[key], b.metadata[key]):
            return (
                f"{path}: {key}={_show(b.metadata[key])} here but {key}="
                f"{_show(a.metadata[key])} in {first.file}:{a.line}; one value per key"
            )
    return None


def _diag(file: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(file, line, 1, message)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"
