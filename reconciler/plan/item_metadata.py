"""The desired client metadata of one item, from the rules and manifest rows that reach it.

Contributions apply in order (matching rules in declaration order, then manifest rows):
declared keys are set; in merge mode other keys stay unless an ``owned_keys`` glob of a
contributor matches them and no contributor declares them; if any contributor is
``replace``, only declared keys stay. A rule's ``match.metadata`` sees the DESIRED metadata,
found by iterating from the live metadata to a fixed point (``Settler``).

Hot path: a million items. The combination of a set of rule contributions is computed once
and reused; an unchanged item is recognised without building any dictionary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.addresses import is_under
from reconciler.model.desired import OWNER_KEY, Manifest, MetadataRule, RegisterRows
from reconciler.model.globs import Glob, GlobSet, compile_glob
from reconciler.model.live import LiveItem
from reconciler.plan.canonical import equivalent
from reconciler.plan.views import merged_metadata, owned_pattern

_MISSING = object()
FIXPOINT_ROUNDS = 8


@dataclass(frozen=True, slots=True, eq=False)
class Contribution:
    metadata: Mapping[str, Any]
    replace: bool
    owned: tuple[str, ...]
    source: str
    row: bool = False  # a manifest row (made per item), not a rule (made once)


@dataclass(frozen=True, slots=True, eq=False)
class Combined:
    """Several contributions folded into one: what they declare, and what they remove."""

    declared: dict[str, Any]
    replace: bool
    owned: GlobSet | None
    # Key sets seen -> "holds an owned key nobody declares": items share a handful of shapes.
    _stale: dict[tuple[str, ...], bool] = field(default_factory=dict)

    def differs(self, live: Mapping[str, Any]) -> bool:
        for key, value in self.declared.items():
            have = live.get(key, _MISSING)
            if type(have) is str and type(value) is str:  # the common case, without a call
                if have != value:
                    return True
            elif have is _MISSING or not equivalent(have, value):
                return True
        if self.replace:  # every declared key is live: do other keys remain, but our marker?
            kept = OWNER_KEY in live and OWNER_KEY not in self.declared
            return len(live) - kept != len(self.declared)
        if self.owned is None:
            return False
        shape = tuple(live)
        stale = self._stale.get(shape)
        if stale is None:
            owned, declared = self.owned, self.declared
            stale = any(k not in declared and owned.match(k) for k in shape)
            if len(self._stale) < 4096:
                self._stale[shape] = stale
        return stale

    def merge(self, live: Mapping[str, Any]) -> dict[str, Any]:
        return merged_metadata(live, self.declared, replace=self.replace, owned=self.owned)


def combine(contributions: list[Contribution]) -> Combined:
    declared: dict[str, Any] = {}
    owned: list[str] = []
    for c in contributions:
        declared.update(c.metadata)
        owned.extend(c.owned)
    replace = any(c.replace for c in contributions)
    return Combined(declared, replace, owned_pattern(tuple(owned)))


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    rule: MetadataRule
    name: Glob | None
    types: frozenset[str]
    contribution: Contribution
    always: bool  # no condition at all: matches every item of the folders it covers

    def covers(self, folder_path: str) -> bool:
        folder = self.rule.folder
        return folder_path == folder or (self.rule.recursive and is_under(folder_path, folder))

    def matches(self, item: LiveItem, metadata: Mapping[str, Any]) -> bool:
        if self.name is not None and not self.name.match(item.name):
            return False
        if self.types and item.item_type not in self.types:
            return False
        wanted = self.rule.match.metadata
        return not wanted or all(
            k in metadata and equivalent(metadata[k], v) for k, v in wanted.items()
        )


def compile_rules(rules: tuple[MetadataRule, ...]) -> list[CompiledRule]:
    return [
        CompiledRule(
            rule=rule,
            name=compile_glob(rule.match.name) if rule.match.name else None,
            types=frozenset(rule.match.types),
            contribution=Contribution(
                rule.metadata, rule.mode == "replace", rule.owned_keys, str(rule.source)
            ),
            always=not (rule.match.name or rule.match.types or rule.match.metadata),
        )
        for rule in rules
    ]


class NoFixpointError(Exception):
    """Rules keep changing the keys other rules match on."""


class Settler:
    """Finds an item's desired metadata from the rules covering its folder, the manifests,
    and the rows of ``register:`` manifests with ``metadata: upsert`` (by folder path)."""

    def __init__(
        self,
        manifests: tuple[Manifest, ...],
        registrations: Mapping[str, RegisterRows] | None = None,
    ) -> None:
        self._manifests = manifests
        self._registrations = registrations or {}
        self._combined: dict[tuple[Contribution, ...], Combined] = {}  # rule subsets -> fold

    def contributions(
        self, item: LiveItem, path: str, metadata: Mapping[str, Any], rules: list[CompiledRule]
    ) -> list[Contribution]:
        """Matching rules in declaration order, then this path's manifest rows."""
        out = [r.contribution for r in rules if r.always or r.matches(item, metadata)]
        if self._registrations:
            registered = self._registered(item, path)
            if registered is not None:
                out.append(registered)
        if not self._manifests:
            return out
        for manifest in self._manifests:
            entry = manifest.entries.rows.get(path)
            if entry is not None:
                out.append(
                    Contribution(
                        entry.metadata,
                        manifest.mode == "replace",
                        manifest.owned_keys,
                        f"{manifest.file}:{entry.line}",
                        row=True,
                    )
                )
        return out

    def _registered(self, item: LiveItem, path: str) -> Contribution | None:
        """The row of the item's name, unless the item is another object (another URL)."""
        folder, _, name = path.rpartition("/")
        rows = self._registrations.get(folder)
        n = None if rows is None else rows.index.get(name)
        if rows is None or n is None or (item.url is not None and item.url != rows.url(n)):
            return None
        return Contribution(rows.metadata[n], False, (), f"{rows.file}:{rows.lines[n]}", row=True)

    def _fold(self, contributions: list[Contribution], rules_only: bool) -> Combined:
        if not rules_only:
            return combine(contributions)
        # Rule contributions live as long as the plan and hash by identity: stable keys.
        key = tuple(contributions)
        found = self._combined.get(key)
        if found is None:
            found = self._combined[key] = combine(contributions)
        return found

    def desired(
        self, item: LiveItem, path: str, rules: list[CompiledRule], *, conditional: bool
    ) -> tuple[dict[str, Any] | None, list[Contribution]]:
        """``(metadata, contributions)``; metadata is None when it equals the live one.
        ``conditional``: some rule in ``rules`` matches on metadata (then iterate)."""
        live = item.metadata
        contributions = self.contributions(item, path, live, rules)
        if not contributions:
            return None, contributions
        combined = self._fold(contributions, not contributions[-1].row)
        if not conditional:
            return (combined.merge(live) if combined.differs(live) else None), contributions
        return self._settle(item, path, rules, combined.merge(live))

    def _settle(
        self, item: LiveItem, path: str, rules: list[CompiledRule], result: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[Contribution]]:
        live = item.metadata
        for _ in range(FIXPOINT_ROUNDS):
            contributions = self.contributions(item, path, result, rules)
            again = combine(contributions).merge(live) if contributions else dict(live)
            if equivalent(again, result):
                return (None if equivalent(result, live) else result), contributions
            result = again
        raise NoFixpointError(path)
