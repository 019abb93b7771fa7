"""Items: moves from manifest ``previously``, and client metadata from rules and manifests.

Desired metadata of one item: every matching rule (declaration order) and then every
manifest row for its path (manifests win; they are the most specific). Declared keys are
set; in merge mode other keys stay unless they match an ``owned_keys`` glob of a contributor
and no contributor declares them; if any contributor is ``replace``, only declared keys stay.

A rule's ``match.metadata`` is evaluated against the item's DESIRED metadata, found by
iterating from the live metadata to a fixed point, so that once apply has run the same rules
select the same items and a second plan is empty. Rules that keep flipping each other are a
``PlanError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import compress, count
from operator import attrgetter
from typing import Any

from reconciler.errors import Diagnostic
from reconciler.kinds.item import ItemPayload
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredFolder, RegisterRows
from reconciler.model.live import LiveItem
from reconciler.plan.actions import Action
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.describe import ItemDescriber
from reconciler.plan.item_metadata import (
    Combined,
    CompiledRule,
    Contribution,
    FolderRules,
    NoFixpointError,
    Settler,
    compile_rules,
)
from reconciler.plan.itemindex import ItemIndex, build_index, duplicate_paths
from reconciler.plan.model import Change, Refs, Refusal
from reconciler.plan.tree import Tree


@dataclass(frozen=True, slots=True)
class PlacedItems:
    """Live items where they will be after this plan: folder moves (``tree``) and manifest
    ``previously`` moves (``index.moved_from``). Nothing changes the index afterwards."""

    index: ItemIndex
    problems: tuple[Diagnostic, ...] = ()
    refusals: tuple[Refusal, ...] = ()  # ``ambiguous-item``: paths several items share


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """Item changes (moves and metadata), each changed item's desired metadata (what dataset
    selectors match on, by ``equivalent``: in canonical form where the fast path found it),
    and the items whose rules never settle."""

    changes: tuple[Change, ...]
    desired_meta: Mapping[str, Mapping[str, Any]]
    problems: tuple[Diagnostic, ...] = ()


def place_items(ctx: Context, tree: Tree, excluded: frozenset[str]) -> PlacedItems:
    """The item index over ``tree``, without items in ``excluded`` folders, after manifest
    ``previously`` moves (their changes are made with the metadata, by ``plan_item_metadata``)."""
    index = build_index(ctx, tree, excluded)
    problems: list[Diagnostic] = []
    raw: dict[str, LiveItem] | None = None
    for manifest in ctx.desired.manifests:
        for path, entry in manifest.entries.rows.items():
            if entry.previously is None or path in index.by_path or path in index.duplicates:
                continue
            if raw is None:
                raw = _raw_paths(index)
            item = raw.get(entry.previously) or index.by_path.get(entry.previously)
            if item is None or item.uuid in index.moved_from:
                continue
            folder = path.rsplit("/", 1)[0]
            if any(is_under(folder, a) for a in tree.ambiguous):
                continue  # withheld as an ambiguous path; nothing under it is planned
            if not tree.exists(folder):
                problems.append(
                    Diagnostic(
                        manifest.file,
                        entry.line,
                        1,
                        f"cannot move {entry.previously} to {path}: folder {folder} will not "
                        "exist (it is not in Encord after this plan's folder moves, and not "
                        "declared); declare it under 'folders:'",
                    )
                )
                continue
            index.move(item, path, entry.previously)
    return PlacedItems(index, tuple(problems), duplicate_paths(ctx, index))


def _raw_paths(index: ItemIndex) -> dict[str, LiveItem]:
    """Plannable items by their path before any folder moves (``previously`` is a live path)."""
    out: dict[str, LiveItem] = {}
    for item in index.by_path.values():
        out[item.path] = item
    return out


def plan_item_metadata(ctx: Context, tree: Tree, index: ItemIndex) -> ItemPlan:
    changes: list[Change] = []
    desired_meta: dict[str, Mapping[str, Any]] = {}
    problems: list[Diagnostic] = []
    rules = compile_rules(ctx.desired.rules)
    registrations = upserted_registrations(ctx.desired.folders.values())
    settler = Settler(ctx.desired.manifests, registrations)
    describer = ItemDescriber()
    sources: dict[tuple[int, int], tuple[Combined, Any, str | None]] = {}
    for folder_path, items in _slices(index):
        applicable = [r for r in rules if r.covers(folder_path)]
        if (
            not applicable
            and not ctx.desired.manifests
            and not index.moved_from
            and folder_path not in registrations
        ):
            continue
        conditional = any(r.rule.match.metadata for r in applicable)
        # Without metadata conditions an item's rules do not depend on its metadata: the
        # fast path finds the (few) items that change, and their folds, without building
        # anything.
        folds: list[Combined | None] | None = None
        names = projected_names(index, folder_path, items)
        if conditional:
            paths = list(map((folder_path + "/").__add__, names))
        else:
            quick = FolderRules(settler, folder_path, applicable)
            found = quick.changes(items, names, index.moved_from)
            items, folds, paths = (
                [i for i, _, _ in found],
                [c for _, c, _ in found],
                [p for _, _, p in found],
            )
        for n, item in enumerate(items):
            path = paths[n]
            fold = None if folds is None else folds[n]
            if fold is not None and item.uuid not in index.moved_from:
                change = _folded_change(
                    ctx, settler, describer, sources, item, path, fold, applicable
                )
                desired_meta[item.uuid] = change.after.metadata  # type: ignore[union-attr]
                changes.append(change)
                continue
            try:
                if folds is None:
                    desired, contributions = settler.desired(
                        item, path, applicable, conditional=conditional
                    )
                else:  # folded already: only the sources are wanted
                    desired = None if fold is None else fold.merge(item.metadata)
                    contributions = settler.contributions(item, path, item.metadata, applicable)
            except NoFixpointError:
                problems.append(_no_fixpoint(path, applicable))
                continue
            if desired is not None:
                desired_meta[item.uuid] = desired
            if desired is not None or item.uuid in index.moved_from:
                change = _item_change(
                    ctx, tree, index, describer, item, path, desired, contributions
                )
                changes.append(change)
    return ItemPlan(tuple(changes), desired_meta, tuple(problems))


def _folded_change(
    ctx: Context,
    settler: Settler,
    describer: ItemDescriber,
    sources: dict[tuple[int, int], tuple[Combined, Any, str | None]],
    item: LiveItem,
    path: str,
    fold: Combined,
    applicable: list[CompiledRule],
) -> Change:
    """What ``_item_change`` makes of an item the fast path found with its fold, that no
    manifest moves: its views and diff found once per fold and live view
    (``ItemDescriber.folded``), and its source once per fold of rules alone and diff (the
    rules a fold stands for are all its items' contributions). Its ``after.metadata`` is
    the item's desired metadata in canonical form (selectors judge it by ``equivalent``)."""
    before_meta, after_meta, diff = describer.folded(item.metadata, fold)
    if fold.rows:  # a row's source is its own line
        contributions = settler.contributions(item, path, item.metadata, applicable)
        source = _source(ctx, path, diff, contributions, None)
    else:
        key = (id(fold), id(diff))
        known = sources.get(key)
        if known is None:
            contributions = settler.contributions(item, path, item.metadata, applicable)
            known = (fold, diff, _source(ctx, path, diff, contributions, None))
            if len(sources) < _MAX_SOURCES:  # holding the fold and diff: their ids stay theirs
                sources[key] = known
        source = known[2]
    before = ItemPayload(path, before_meta)
    actions, reason = _WHAT[False, True]
    return Change(
        addr.item(path),
        addr.Kind.ITEM,
        actions,
        None,
        before,
        ItemPayload(path, after_meta),
        diff,
        source,
        reason,
        fingerprint_of(item.last_edited_at, before),
        (),
        Refs(uuid=item.uuid, from_parent_uuid=item.parent),
    )


# A folder's items are planned a slice at a time: the columns made per item (names, rule
# masks, folds, flags: 8 bytes an item each) are then held for one slice, not for a whole
# folder (one flat folder of ten million: about 100 MB at the plan's peak).
SLICE = 65_536


def _slices(index: ItemIndex) -> Iterator[tuple[str, list[LiveItem]]]:
    """Each folder of ``index.by_folder`` (in path order) with its items, a slice at a time."""
    for folder_path in sorted(index.by_folder):
        items = index.by_folder[folder_path]
        if len(items) <= SLICE:
            yield folder_path, items
            continue
        for start in range(0, len(items), SLICE):
            yield folder_path, items[start : start + SLICE]


def projected_names(
    index: ItemIndex, folder_path: str, items: list[LiveItem] | None = None
) -> list[str]:
    """The names of ``items`` (default: all of ``index.by_folder[folder_path]``) in this
    folder after the plan, in order: each item's name, but the new name where a manifest
    moved the item here. The item's path is the folder's and this name (as
    ``index.path_of`` says, looking each up through the index: a few µs an item, a million
    times)."""
    items = index.by_folder[folder_path] if items is None else items
    names = list(map(_NAME, items))
    moves = index.moves
    if moves:
        cut = len(folder_path) + 1
        for n in compress(count(), map(moves.__contains__, map(_UUID, items))):
            names[n] = moves[items[n].uuid][cut:]
    return names


_NAME, _UUID = attrgetter("name"), attrgetter("uuid")


def upserted_registrations(folders: Iterable[DesiredFolder]) -> dict[str, RegisterRows]:
    """Rows whose metadata registered items keep (``metadata: upsert``), by folder path."""
    return {
        f.path: f.registration.rows
        for f in folders
        if f.registration is not None and f.registration.metadata == "upsert"
    }


def _no_fixpoint(path: str, rules: list[CompiledRule]) -> Diagnostic:
    source = rules[0].rule.source
    sources = ", ".join(str(r.rule.source) for r in rules if r.rule.match.metadata)
    return Diagnostic(
        source.file,
        source.line,
        source.col,
        f"metadata rules never settle for item {path}: rules at {sources} match on keys "
        "that other rules keep changing; make their matches independent",
    )


def _item_change(
    ctx: Context,
    tree: Tree,
    index: ItemIndex,
    describer: ItemDescriber,
    item: LiveItem,
    path: str,
    desired: Mapping[str, Any] | None,
    contributions: list[Contribution],
) -> Change:
    previous = index.moved_from.get(item.uuid)
    before_path = previous if previous is not None else path
    before, after, diff = describer.describe(before_path, item.metadata, path, desired)
    refs = Refs(uuid=item.uuid, from_parent_uuid=item.parent)
    depends: tuple[str, ...] = ()
    if previous is not None:
        refs, depends = _move_refs(tree, item, path)
    actions, reason = _WHAT[previous is not None, desired is not None]
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=actions,
        previous_address=addr.item(previous) if previous is not None else None,
        before=before,
        after=after,
        diff=diff,
        source=_source(ctx, path, diff, contributions, previous),
        reason=reason,
        fingerprint=fingerprint_of(item.last_edited_at, before),
        depends_on=depends,
        refs=refs,
    )


_MAX_SOURCES = 65536  # (fold, diff) pairs: a few a folder, unless each item has its own diff

# (moved, patched) -> the actions and reason, one tuple each for every change that has them
_WHAT: dict[tuple[bool, bool], tuple[tuple[Action, ...], str]] = {
    (False, True): ((Action.PATCH,), "declared metadata differs"),
    (True, False): ((Action.MOVE,), "moved by manifest (previously)"),
    (True, True): (
        (Action.MOVE, Action.PATCH),
        "moved by manifest (previously) and declared metadata differs",
    ),
}


def _move_refs(tree: Tree, item: LiveItem, path: str) -> tuple[Refs, tuple[str, ...]]:
    parent_uuid, parent, dep = tree.parent_ref(path)
    refs = Refs(
        uuid=item.uuid, parent_uuid=parent_uuid, parent_path=parent, from_parent_uuid=item.parent
    )
    return refs, (dep,) if dep else ()


def _source(
    ctx: Context,
    path: str,
    diff: tuple[Any, ...],
    contributions: list[Contribution],
    previous: str | None,
) -> str | None:
    """The manifest row that moves the item, else the contributor behind the first change."""
    if previous is not None:
        for manifest in ctx.desired.manifests:
            entry = manifest.entries.rows.get(path)
            if entry is not None and entry.previously == previous:
                return f"{manifest.file}:{entry.line}"
    keys = [d.path[1] for d in diff if len(d.path) > 1 and d.path[0] == "metadata"]
    for key in keys:
        for c in reversed(contributions):
            if key in c.metadata:
                return c.source
    for c in contributions:
        if c.replace or c.owned:
            return c.source
    return contributions[0].source if contributions else None
