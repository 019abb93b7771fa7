"""Field-level diffs of objects already known to differ (display and apply's field list).

Mappings are walked key by key (cheap, and metadata is a mapping); values that are lists or
nested containers on both sides are handed to deepdiff for a precise path. Both sides are
canonicalised first, so ``1`` vs ``1.0`` never shows up, while ``True`` vs ``1`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from deepdiff import DeepDiff

from reconciler.kinds.item import ItemPayload
from reconciler.kinds.payload import encoded
from reconciler.plan.canonical import SharedViews, canonical, equivalent
from reconciler.plan.model import DiffOp, FieldDiff

_REPORTS_ADD = ("dictionary_item_added", "iterable_item_added", "set_item_added")
_REPORTS_REMOVE = ("dictionary_item_removed", "iterable_item_removed", "set_item_removed")


def field_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[FieldDiff, ...]:
    """Every differing leaf between two views; keys sorted, so the result is deterministic."""
    out: list[FieldDiff] = []
    _walk((), encoded(before) or {}, encoded(after) or {}, out)
    return tuple(out)


def item_diff(
    before_path: str, before: Mapping[str, Any], after_path: str, after: Mapping[str, Any]
) -> tuple[FieldDiff, ...]:
    """``field_diff`` of two item views (canonical metadata), without building the views:
    one per changed item, a hundred thousand in a large plan."""
    out: list[FieldDiff] = []
    _walk(("metadata",), before, after, out)  # "metadata" sorts before "path"; equal: nothing
    if before_path != after_path:
        out.append(FieldDiff(("path",), "change", before_path, after_path))
    return tuple(out)


class Fold(Protocol):
    """What folds rules and rows into an item's desired metadata (``item_metadata.Combined``)."""

    def merge(self, live: Mapping[str, Any]) -> Mapping[str, Any]: ...


class ItemDescriber:
    """The ``before``, ``after`` and ``diff`` of item changes, for one plan: what
    ``ItemPayload(path, canonical(metadata))`` and ``item_diff`` make, with the metadata
    views and the metadata diffs shared between the changes whose metadata objects are the
    same (``SharedViews``): in a large plan most changed items go from one shared live dict
    to one rule's values. Everything returned is shared: never mutate it."""

    __slots__ = ("_diffs", "_folded", "_limit", "_view")

    def __init__(self, limit: int = 65536) -> None:
        self._view = SharedViews(limit)
        self._diffs: dict[tuple[int, int], tuple[Any, Any, tuple[FieldDiff, ...]]] = {}
        self._folded: dict[tuple[int, int], tuple[Fold, Any, Any, tuple[FieldDiff, ...]]] = {}
        self._limit = limit

    def describe(
        self,
        before_path: str,
        live: Mapping[str, Any],
        path: str,
        desired: Mapping[str, Any] | None,
    ) -> tuple[ItemPayload, ItemPayload, tuple[FieldDiff, ...]]:
        """``(before, after, diff)`` of an item at ``before_path`` with ``live`` metadata
        that goes to ``path`` with ``desired`` metadata (None: its live metadata stays)."""
        before_meta = self._view(live)
        after_meta = before_meta if desired is None else self._view(desired)
        diff = self._metadata_diff(before_meta, after_meta)
        if before_path != path:  # "path" sorts after "metadata", as in ``item_diff``
            diff = (*diff, FieldDiff(("path",), "change", before_path, path))
        return ItemPayload(before_path, before_meta), ItemPayload(path, after_meta), diff

    def folded(
        self, live: Mapping[str, Any], fold: Fold
    ) -> tuple[Mapping[str, Any], Mapping[str, Any], tuple[FieldDiff, ...]]:
        """``(before, after, diff)`` metadata views of an item that stays where it is, with
        ``live`` metadata and ``fold.merge(live)`` desired: found once per fold and distinct
        live view. A fold keeps or drops live keys and sets its own, so the canonical form
        of its merge follows from the canonical form of ``live`` (equal live views, equal
        desired views): the changed items of a large plan, each with its own live dict,
        need no desired dict each."""
        before = self._view(live)
        key = (id(fold), id(before))
        found = self._folded.get(key)
        if found is None:
            after = self._view(fold.merge(live))
            found = (fold, before, after, self._metadata_diff(before, after))
            if len(self._folded) < self._limit:  # holding the fold, so that its id stays its own
                self._folded[key] = found
        return found[1], found[2], found[3]

    def _metadata_diff(
        self, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> tuple[FieldDiff, ...]:
        key = (id(before), id(after))
        found = self._diffs.get(key)
        if found is not None:
            return found[2]
        out: list[FieldDiff] = []
        _walk(("metadata",), before, after, out)
        diff = tuple(out)
        if len(self._diffs) < self._limit:  # holding both, so that their ids stay theirs
            self._diffs[key] = (before, after, diff)
        return diff


def _walk(
    prefix: tuple[Any, ...],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    out: list[FieldDiff],
) -> None:
    for key in sorted(set(before) | set(after)):
        path = (*prefix, key)
        if key not in after:
            out.append(_leaf(path, "remove", canonical(before[key]), None))
        elif key not in before:
            out.append(_leaf(path, "add", None, canonical(after[key])))
        elif not equivalent(before[key], after[key]):
            _describe_value(path, before[key], after[key], out)


_PLAIN = frozenset({str, int, bool, type(None)})  # leaves shared by value (and by type)
_LEAVES: dict[tuple[Any, ...], FieldDiff] = {}
_MAX_LEAVES = 65536


def _leaf(path: tuple[Any, ...], op: DiffOp, old: Any, new: Any) -> FieldDiff:
    """``FieldDiff(path, op, old, new)``, one object per distinct leaf of plain values: the
    changed items of a large plan show a handful of them (one rule's value replacing
    another) a hundred thousand times. The key holds the types, as ``1 == True``."""
    kind_old, kind_new = type(old), type(new)
    if kind_old not in _PLAIN or kind_new not in _PLAIN:
        return FieldDiff(path, op, old, new)
    key = (path, tuple(map(type, path)), op, kind_old, old, kind_new, new)
    found = _LEAVES.get(key)
    if found is None:
        found = FieldDiff(path, op, old, new)
        if len(_LEAVES) < _MAX_LEAVES:
            _LEAVES[key] = found
    return found


def _describe_value(path: tuple[Any, ...], old: Any, new: Any, out: list[FieldDiff]) -> None:
    if type(old) is str or type(new) is str:  # the common leaf, without the ABC checks below
        out.append(_leaf(path, "change", canonical(old), canonical(new)))
    elif (type(old) is dict and type(new) is dict) or (  # metadata: no ABC check either
        isinstance(old, Mapping) and isinstance(new, Mapping)
    ):
        _walk(path, old, new, out)
    elif isinstance(old, list | tuple) and isinstance(new, list | tuple):
        if _set_like(old) and _set_like(new) and set(old) != set(new):
            _members(path, old, new, out)
        else:
            _deep(path, canonical(old), canonical(new), out)
    else:
        out.append(FieldDiff(path, "change", canonical(old), canonical(new)))


def _set_like(values: list[Any] | tuple[Any, ...]) -> bool:
    """Distinct strings (member emails, paths): shown as additions and removals, not by index."""
    return all(isinstance(v, str) for v in values) and len(set(values)) == len(values)


def _members(path: tuple[Any, ...], old: Any, new: Any, out: list[FieldDiff]) -> None:
    out.extend(FieldDiff(path, "remove", v, None) for v in sorted(set(old) - set(new)))
    out.extend(FieldDiff(path, "add", None, v) for v in sorted(set(new) - set(old)))


def _deep(path: tuple[Any, ...], old: Any, new: Any, out: list[FieldDiff]) -> None:
    found: list[FieldDiff] = []
    for report, levels in DeepDiff(old, new, view="tree").items():
        for level in levels:
            sub = (*path, *level.path(output_format="list"))
            if report in _REPORTS_ADD:
                found.append(FieldDiff(sub, "add", None, level.t2))
            elif report in _REPORTS_REMOVE:
                found.append(FieldDiff(sub, "remove", level.t1, None))
            else:
                found.append(FieldDiff(sub, "change", level.t1, level.t2))
    out.extend(sorted(found, key=lambda d: [str(p) for p in d.path]))
