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
budget of ``MAX_PAIRS`` comparisons, and of ``MAX_GLOB_STATES`` states for the name globs they
compare, bounds hostile inputs. Each rule reports the first
earlier rule it conflicts with, and reporting stops after ``MAX_RULE_CONFLICTS`` rules.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.config.context import Context
from reconciler.config.errors import Diagnostic, OverlapBudgetError
from reconciler.config.globsets import OverlapBudget, is_literal, may_overlap
from reconciler.model.addresses import parent_path
from reconciler.model.desired import Manifest, MetadataRule

MAX_PAIRS = 1_000_000
MAX_GLOB_STATES = 2_000_000  # about four seconds of glob comparison per validation (30 s bound)
MAX_RULE_CONFLICTS = 100
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


def may_select_same(a: MetadataRule, b: MetadataRule, budget: OverlapBudget | None = None) -> bool:
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
    return may_overlap(ma.name, mb.name, budget)


def check_rule_conflicts(rules: Sequence[MetadataRule], ctx: Context) -> None:
    """Report, per rule, the first earlier rule it conflicts with (at most
    ``MAX_RULE_CONFLICTS`` rules, then stop: the list is long enough to act on)."""
    index = _RuleIndex(rules)
    budget = OverlapBudget(MAX_GLOB_STATES)
    pairs = reported = 0
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
            try:
                message = _conflict(rules[earlier], rule, budget)
            except OverlapBudgetError:
                ctx.report_at(
                    rule.source,
                    "match.name globs too long and too many to compare with the rules above; "
                    "conflict checks stopped here (shorten the globs, or move per-item "
                    "metadata into a manifest)",
                )
                return
            if message is not None:
                reported += 1
                if reported > MAX_RULE_CONFLICTS:
                    ctx.report_at(rule.source, "more conflicting rules; fix the ones above first")
                    return
                ctx.report_at(rule.source, message)
                break


def _conflict(first: MetadataRule, second: MetadataRule, budget: OverlapBudget) -> str | None:
    clashing = [
        key
        for key in first.metadata.keys() & second.metadata.keys()
        if not same_value(first.metadata[key], second.metadata[key])
    ]
    if not clashing or not may_select_same(first, second, budget):
        return None
    key = sorted(clashing)[0]
    return (
        f"rule sets {key}={_show(second.metadata[key])} but the rule at "
        f"{first.source.position()} sets {key}={_show(first.metadata[key])}, and both can "
        "match the same items; make their folder, name, type or metadata matches disjoint, "
        "or agree on the value"
    )


class _RuleIndex:
    """Earlier rules whose scope overlaps a rule's scope.

    Rules are listed per folder, per (folder, literal name) and per folder for recursive
    rules, each list in declaration order, so a rule naming one file (``name: a.jpg``) meets
    only rules for that name or with a wildcard, and never walks its siblings.
    """

    def __init__(self, rules: Sequence[MetadataRule]) -> None:
        self.rules = rules
        self.at: dict[str, list[int]] = {}
        self.literal: dict[tuple[str, str], list[int]] = {}
        self.wild: dict[str, list[int]] = {}
        self.recursive: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            self.at.setdefault(rule.folder, []).append(i)
            name = _literal_name(rule)
            if name is None:
                self.wild.setdefault(rule.folder, []).append(i)
            else:
                self.literal.setdefault((rule.folder, name), []).append(i)
            if rule.recursive:
                self.recursive.setdefault(rule.folder, []).append(i)
        self.folders = sorted(self.at)

    def candidates(self, later: int) -> Iterator[int]:
        rule = self.rules[later]
        name = _literal_name(rule)
        yield from self._in(rule.folder, name, later)
        parent = parent_path(rule.folder)
        while parent is not None:
            yield from _before(self.recursive.get(parent, ()), later)
            parent = parent_path(parent)
        if rule.recursive:
            lo = bisect_left(self.folders, rule.folder + "/")
            hi = bisect_left(self.folders, rule.folder + "0")  # "0" sorts right after "/"
            for folder in self.folders[lo:hi]:
                yield from self._in(folder, name, later)

    def _in(self, folder: str, name: str | None, later: int) -> Iterator[int]:
        """Earlier rules at ``folder`` that can match a name ``name`` (None: any name)."""
        if name is None:
            yield from _before(self.at.get(folder, ()), later)
            return
        yield from _before(self.literal.get((folder, name), ()), later)
        yield from _before(self.wild.get(folder, ()), later)


def _literal_name(rule: MetadataRule) -> str | None:
    name = rule.match.name
    return name if name and is_literal(name) else None


def _before(indices: Sequence[int], later: int) -> Sequence[int]:
    return indices[: bisect_left(indices, later)]


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
