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

import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, count, repeat
from operator import attrgetter
from typing import Any, cast

from reconciler.model.addresses import is_under
from reconciler.model.compact import place_column, place_values
from reconciler.model.desired import (
    OWNER_KEY,
    Manifest,
    ManifestEntry,
    MetadataRule,
    RegisterRows,
)
from reconciler.model.globs import Glob, GlobSet, compile_glob
from reconciler.model.live import LiveItem
from reconciler.plan.canonical import equivalent
from reconciler.plan.views import merged_metadata, owned_pattern

_MISSING = object()
_UUID, _NAME = attrgetter("uuid"), attrgetter("name")
_METADATA = attrgetter("metadata")
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
    # Some contribution is a manifest or registration row: their sources name a line each,
    # so the items this fold reaches do not share one source.
    rows: bool = False
    # Key sets seen -> "holds an owned key nobody declares": items share a handful of shapes.
    _stale: dict[tuple[str, ...], bool] = field(default_factory=dict)
    # When every declared value is a string (the common case), the declared keys and values
    # as two sequences: one C-level list comparison decides them all (``equivalent`` of a
    # string and anything is plain equality, and a missing key reads as None).
    _keys: tuple[str, ...] | None = field(init=False, default=None)
    _values: list[str] = field(init=False, default_factory=list)
    # id of a live metadata mapping -> (it, its merge): the items of a large plan share a
    # handful of live metadata dicts, so their changes share one desired dict each.
    _merged: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        values = list(self.declared.values())
        if all(type(v) is str for v in values):
            object.__setattr__(self, "_keys", tuple(self.declared))
            object.__setattr__(self, "_values", values)

    def differs(self, live: Mapping[str, Any]) -> bool:
        keys = self._keys
        if keys is not None:
            if list(map(live.get, keys)) != self._values:
                return True
        elif self._declared_differ(live):
            return True
        if self.replace:  # every declared key is live: do other keys remain, but our marker?
            kept = OWNER_KEY in live and OWNER_KEY not in self.declared
            return len(live) - kept != len(self.declared)
        if self.owned is None:
            return False
        return self._holds_stale(tuple(live))

    def differing(self, metadata: list[Mapping[str, Any]]) -> list[bool]:
        """``differs`` of many items' metadata, a column at a time (C-level ``map``): the
        string-valued declarations of exact dicts by one tuple comparison each (a column of
        ``dict.get`` per declared key, zipped), the rest of ``differs`` per distinct key
        shape."""
        keys = self._keys
        if keys is None or set(map(type, metadata)) - {dict}:
            return [self.differs(m) for m in metadata]
        dicts = cast(list[dict[str, Any]], metadata)
        columns = [map(dict.get, dicts, repeat(key)) for key in keys]
        if keys:
            same = list(map(tuple(self._values).__eq__, zip(*columns, strict=True)))
        else:  # nothing declared (owned keys only): zip of no columns would be empty
            same = [True] * len(metadata)
        if self.replace:
            extra = self._not_only_declared(metadata)
        elif self.owned is None:
            return list(map(operator.not_, same))
        else:
            extra = self._holding_stale(dicts)
        return list(map(operator.or_, map(operator.not_, same), extra))

    def _not_only_declared(self, metadata: list[Mapping[str, Any]]) -> list[bool]:
        """Replace mode: keys besides the declared ones (and our marker) remain."""
        wanted = len(self.declared)
        if OWNER_KEY in self.declared:
            return [n != wanted for n in map(len, metadata)]
        kept = map(operator.contains, metadata, repeat(OWNER_KEY))
        return [n - k != wanted for n, k in zip(map(len, metadata), kept, strict=True)]

    def _holding_stale(self, metadata: list[dict[str, Any]]) -> list[bool]:
        """``_holds_stale`` of many items' keys: each distinct key among them judged once
        against the owned globs, then each item's keys against the stale ones by C-level
        ``isdisjoint`` (no tuple of keys made and hashed per item)."""
        owned, declared = self.owned, self.declared
        assert owned is not None
        stale = {
            k for k in set(chain.from_iterable(metadata)) if k not in declared and owned.match(k)
        }
        if not stale:
            return [False] * len(metadata)
        return list(map(operator.not_, map(stale.isdisjoint, metadata)))

    def _holds_stale(self, shape: tuple[str, ...]) -> bool:
        """Merge mode with owned keys: the key shape holds an owned key nobody declares."""
        stale = self._stale.get(shape)
        if stale is None:
            owned, declared = self.owned, self.declared
            assert owned is not None
            stale = any(k not in declared and owned.match(k) for k in shape)
            if len(self._stale) < 4096:
                self._stale[shape] = stale
        return stale

    def _declared_differ(self, live: Mapping[str, Any]) -> bool:
        for key, value in self.declared.items():
            have = live.get(key, _MISSING)
            if type(have) is str and type(value) is str:  # the common case, without a call
                if have != value:
                    return True
            elif have is _MISSING or not equivalent(have, value):
                return True
        return False

    def merge(self, live: Mapping[str, Any]) -> dict[str, Any]:
        """The desired metadata of an item with ``live`` metadata: shared between the items
        whose metadata is the same object (live state never changes while a plan is made).
        Never mutate it."""
        found = self._merged.get(id(live))
        if found is not None:
            return found[1]
        out = merged_metadata(live, self.declared, replace=self.replace, owned=self.owned)
        if len(self._merged) < 4096:  # holding ``live``, so that its id stays its own
            self._merged[id(live)] = (live, out)
        return out


def combine(contributions: list[Contribution]) -> Combined:
    declared: dict[str, Any] = {}
    owned: list[str] = []
    for c in contributions:
        declared.update(c.metadata)
        owned.extend(c.owned)
    replace = any(c.replace for c in contributions)
    rows = any(c.row for c in contributions)
    return Combined(declared, replace, owned_pattern(tuple(owned)), rows)


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

    def matches_statically(self, item: LiveItem) -> bool:
        """The name and type conditions (not ``match.metadata``)."""
        if self.name is not None and not self.name.match(item.name):
            return False
        return not self.types or item.item_type in self.types

    def matches(self, item: LiveItem, metadata: Mapping[str, Any]) -> bool:
        if not self.matches_statically(item):
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


class FolderRules:
    """The per-item fast path over one folder whose rules match on names and types only:
    ``changed`` finds the items whose desired metadata differs from their live one, building
    nothing for the (usual) item that already matches. The fold of each distinct set of
    matching rules, and of each rule set with manifest rows of string values, is made once
    and shared by every item it reaches."""

    def __init__(self, settler: Settler, folder_path: str, rules: list[CompiledRule]) -> None:
        self._settler = settler
        self._rules = rules
        self._tested = [r for r in rules if not r.always]
        self._manifests = settler.manifests
        self._registered = folder_path in settler.registrations
        self._folder = folder_path
        self._prefix = folder_path + "/"
        self._folds: dict[Any, Combined | None] = {}

    def changed(
        self, items: list[LiveItem], names: list[str], moved_from: Mapping[str, str]
    ) -> list[LiveItem]:
        """The items whose desired metadata differs from their live one, or that a manifest
        moves, in their order (``names``: each item's projected name in this folder, in the
        same order)."""
        return [item for item, _, _ in self.changes(items, names, moved_from)]

    def changes(
        self, items: list[LiveItem], names: list[str], moved_from: Mapping[str, str]
    ) -> list[tuple[LiveItem, Combined | None, str]]:
        """``changed``, each item with the fold that changes its metadata (None: only
        moved), so its desired metadata is ``fold.merge(item.metadata)`` without folding
        again, and its projected path. This runs for every item of the plan, so the work is
        done a column at a time (C-level ``map`` and ``zip``) and per distinct fold, not per
        item; paths are made for the items that change only."""
        # Rules match live names: the projected ones unless a manifest renames some item.
        masks = self._masks(items, list(map(_NAME, items)) if moved_from else names)
        folds = self._folds
        for mask in set(masks):
            if mask not in folds:
                folds[mask] = self._fold(mask, None)
        # The usual folder has one mask for all its items (``_masks``): one look-up.
        first = folds[masks[0]] if masks else None
        if masks and masks.count(masks[0]) == len(masks):
            combos = [first] * len(masks)
        else:
            combos = list(map(folds.__getitem__, masks))
        if self._manifests or self._registered:
            self._with_rows(items, names, masks, combos)
        flags = _differing(combos, list(map(_METADATA, items)), first)
        if moved_from:  # moved items change too; the fold of one whose metadata stays is None
            combos = [c if f else None for c, f in zip(combos, flags, strict=True)]
            moved = map(moved_from.__contains__, map(_UUID, items))
            flags = [f or m for f, m in zip(flags, moved, strict=True)]
        paths = map(self._prefix.__add__, compress(names, flags))
        return list(zip(compress(items, flags), compress(combos, flags), paths, strict=True))

    def _masks(self, items: list[LiveItem], names: list[str]) -> list[tuple[bool, ...]]:
        """Per item (``names``: their live names), which of the rules with name or type
        conditions match it."""
        if not self._tested:
            return [()] * len(items)
        columns: list[list[bool]] = []
        # Types are held per place (a property per item costs a call each): usually one type
        # a folder, so a rule's types take all its items or none.
        kinds = place_values(items, "item_type")
        for rule in self._tested:
            column = [True] * len(items)
            if rule.name is not None:
                column = rule.name.matches(names)
            if rule.types and kinds.isdisjoint(rule.types):
                column = [False] * len(items)
            elif rule.types and not kinds <= rule.types:
                typed = map(rule.types.__contains__, place_column(items, "item_type"))
                column = list(map(operator.and_, column, typed))
            columns.append(column)
        # The usual folder: each rule matches all of its items or none, so one mask serves
        # them all (no tuple per item to make, hash and look up).
        if items and all(True not in c or False not in c for c in columns):
            return [tuple(c[0] for c in columns)] * len(items)
        return list(zip(*columns, strict=True))

    def _with_rows(
        self,
        items: list[LiveItem],
        names: list[str],
        masks: list[tuple[bool, ...]],
        combos: list[Combined | None],
    ) -> None:
        """Replace the rule fold of each item some manifest or registration row reaches by
        the fold with its rows (shared between rows of equal string values)."""
        rows_of: dict[int, list[tuple[int, Mapping[str, Any]]]] = {}
        for m in range(len(self._manifests)):
            for n, entry in self._reached(m, names):
                rows_of.setdefault(n, []).append((m, entry.metadata))
        if self._registered:  # registration rows first, as ``Settler.contributions`` has them
            for n, item in enumerate(items):
                registered = self._settler.registered(item, self._prefix + names[n])
                if registered is not None:
                    rows_of[n] = [(-1, registered.metadata), *rows_of.get(n, ())]
        folds = self._folds
        for n in sorted(rows_of):
            rows = rows_of[n]
            found_key = _row_key(rows)
            key = None if found_key is None else (masks[n], found_key)
            combined = folds.get(key, _UNSET) if key is not None else _UNSET
            if combined is _UNSET:
                combined = self._fold(masks[n], rows)
                if key is not None and len(folds) < _MAX_FOLDS:
                    folds[key] = combined
            combos[n] = combined

    def _reached(self, manifest: int, names: list[str]) -> Iterator[tuple[int, ManifestEntry]]:
        """The positions of the names a row of manifest number ``manifest`` names, with the
        row: looked up among the rows of this folder by name (no path made per item), and
        by path for a name holding a ``/`` (its row is filed under a deeper folder)."""
        here = self._settler.rows_in(manifest, self._folder)
        if here:
            found = list(map(here.get, names))
            hits = list(map(operator.is_not, found, repeat(None)))
            yield from zip(compress(count(), hits), compress(found, hits), strict=True)
        rows = self._manifests[manifest].entries.rows
        for n in compress(count(), map(operator.contains, names, repeat("/"))):
            entry = rows.get(self._prefix + names[n])
            if entry is not None:
                yield n, entry

    def _fold(
        self, mask: tuple[bool, ...], rows: list[tuple[int, Mapping[str, Any]]] | None
    ) -> Combined | None:
        matched = iter(mask)
        contributions = [r.contribution for r in self._rules if r.always or next(matched)]
        for n, metadata in rows or ():
            if n < 0:
                contributions.append(Contribution(metadata, False, (), "", row=True))
            else:
                m = self._manifests[n]
                contributions.append(
                    Contribution(metadata, m.mode == "replace", m.owned_keys, "", row=True)
                )
        return combine(contributions) if contributions else None


def _differing(
    combos: list[Combined | None], metadata: list[Mapping[str, Any]], usual: Combined | None
) -> list[bool]:
    """Per item, whether its fold (None: nothing reaches it) changes its metadata: each
    distinct fold judges its items together (``Combined.differing``). ``usual``: the fold
    most items are expected to have (the rules' fold of the first item's mask: rows reach
    a few), judged over all of them at once; only the items with another fold are
    gathered by fold, one by one."""
    out = [False] * len(combos) if usual is None else usual.differing(metadata)
    groups: dict[int, list[int]] = {}
    for n in compress(count(), map(operator.is_not, combos, repeat(usual))):
        combined = combos[n]
        if combined is None:
            out[n] = False
        else:
            groups.setdefault(id(combined), []).append(n)
    for indices in groups.values():
        combined = combos[indices[0]]
        assert combined is not None
        found = combined.differing([metadata[n] for n in indices])
        for n, flag in zip(indices, found, strict=True):
            out[n] = flag
    return out


_UNSET = Combined({}, False, None)  # "not folded yet", beside None: "nothing reaches it"
_MAX_FOLDS = 65536  # distinct folds kept per folder: rows of unique values are not shared


def _row_key(rows: list[tuple[int, Mapping[str, Any]]]) -> Any:
    """A hashable key of the rows' metadata, or None when a value is not a string (``1``,
    ``1.0`` and ``True`` are equal as keys but not as metadata)."""
    out = []
    for n, metadata in rows:
        items = tuple(metadata.items())
        for _, value in items:
            if type(value) is not str:
                return None
        out.append((n, items))
    return tuple(out)


_NO_ROWS: Mapping[str, ManifestEntry] = {}


def _by_folder(rows: Mapping[str, ManifestEntry]) -> dict[str, dict[str, ManifestEntry]]:
    out: dict[str, dict[str, ManifestEntry]] = {}
    for path, entry in rows.items():
        folder, _, name = path.rpartition("/")
        out.setdefault(folder, {})[name] = entry
    return out


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
        self.manifests = manifests
        self.registrations = registrations or {}
        self._combined: dict[tuple[Contribution, ...], Combined] = {}  # rule subsets -> fold
        # Per manifest, its rows by folder (the path up to its last ``/``) and name: made on
        # the first look-up, so that a folder's items are looked up by their names.
        self._by_folder: list[dict[str, dict[str, ManifestEntry]]] | None = None

    def rows_in(self, manifest: int, folder: str) -> Mapping[str, ManifestEntry]:
        """The rows of manifest number ``manifest`` whose path is ``folder`` and a name
        without ``/``, by that name."""
        if self._by_folder is None:
            self._by_folder = [_by_folder(m.entries.rows) for m in self.manifests]
        return self._by_folder[manifest].get(folder, _NO_ROWS)

    def contributions(
        self, item: LiveItem, path: str, metadata: Mapping[str, Any], rules: list[CompiledRule]
    ) -> list[Contribution]:
        """Matching rules in declaration order, then this path's manifest rows."""
        out = [r.contribution for r in rules if r.always or r.matches(item, metadata)]
        if self.registrations:
            registered = self.registered(item, path)
            if registered is not None:
                out.append(registered)
        if not self.manifests:
            return out
        for manifest in self.manifests:
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

    def registered(self, item: LiveItem, path: str) -> Contribution | None:
        """The row of the item's name, unless the item is another object (another URL)."""
        folder, _, name = path.rpartition("/")
        rows = self.registrations.get(folder)
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
