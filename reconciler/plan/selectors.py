"""Selectors, rules and manifest rows that match nothing.

A typo in a folder (``/raw/cameras/raer``) must not read as "select nothing": under
``unlink: all`` it would unlink every link of the dataset. So:

* a dataset selector or metadata rule (and so its ``owned_keys`` scope) whose folder does not
  exist and is not created by this plan is a plan error at its ``file:line``, naming the
  closest existing path;
* a selector or rule whose folder exists but that matches no item is a warning; where the
  dataset (or collection) it belongs to has unlinks (removals) planned, those are withheld (``selector-unlink``,
  by the safety filter that reads ``SelectorCheck.empty``);
* manifest rows whose path matches no item are counted and the first ``SHOWN`` listed, as
  warnings, or as a ``manifest-unmatched`` refusal under ``policy.manifest_unmatched: error``.

Folders a cloud sync made by this plan will fill, paths outside ``item_roots`` (their items
are planned after the sync) and ambiguous paths (withheld by the ambiguity filter) are not judged.
One of those is worth a warning, though: a rule or selector naming a live folder that this plan
deletes with a folder it replaces and syncs again. What the sync brings is unknown until it
has run, so it is no error yet; but unless the bucket holds that prefix the folder is gone
afterwards and the next plan stops on it as above, so the plan says so now.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.errors import Diagnostic
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, parent_path
from reconciler.model.desired import ItemSelector, MetadataRule, Source
from reconciler.model.globs import compile_glob
from reconciler.plan.context import Context
from reconciler.plan.datasets import DesiredMetadata, select
from reconciler.plan.itemindex import ItemIndex
from reconciler.plan.model import Refusal
from reconciler.plan.safety.verdicts import EmptySelectors
from reconciler.plan.tree import Tree
from reconciler.words import plural

SHOWN = 20


@dataclass(frozen=True, slots=True)
class SelectorCheck:
    """What ``check_selectors`` found: plan errors, warnings, the ``manifest-unmatched``
    refusal, and the datasets with a selector that matches nothing (whose unlinks the
    ``selector-unlinks`` safety filter withholds)."""

    problems: tuple[Diagnostic, ...] = ()
    warnings: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    empty: tuple[EmptySelectors, ...] = ()


@dataclass(slots=True)
class _Check:
    ctx: Context
    tree: Tree
    index: ItemIndex
    desired_meta: DesiredMetadata
    synced_on_create: tuple[str, ...]
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    empty: list[EmptySelectors] = field(default_factory=list)


def check_selectors(
    ctx: Context,
    tree: Tree,
    index: ItemIndex,
    desired_meta: DesiredMetadata,
    synced_on_create: tuple[str, ...],
) -> SelectorCheck:
    """Judge selectors against what the plan selects (``index``, ``desired_meta``): errors
    into ``problems``, the rest into ``warnings``."""
    if not ctx.live.complete:
        return SelectorCheck()  # an incomplete read already withholds every unlink (listing)
    k = _Check(ctx, tree, index, desired_meta, synced_on_create)
    for rule in ctx.desired.rules:
        judged = _judged(k, rule.folder)
        if not judged:
            _warn_if_replaced(k, rule.folder, rule.source, "rule")
        if judged and _exists(k, rule.folder, rule.source, "rule") and not _matches(index, rule):
            k.warnings.append(f"{rule.source}: the rule on {rule.folder} matches no item")
    for title in sorted(ctx.desired.datasets):
        _check_dataset(k, title)
    for name in sorted(ctx.desired.collections):
        collection = ctx.desired.collections[name]
        _check_selectors(k, collection.items, addr.collection(name), "collection")
    _check_manifests(k)
    return SelectorCheck(tuple(k.problems), tuple(k.warnings), tuple(k.refusals), tuple(k.empty))


def _judged(k: _Check, folder: str) -> bool:
    roots = k.ctx.options.item_roots
    if roots is not None and not any(is_under(folder, r) for r in roots):
        return False
    if any(is_under(folder, a) for a in k.tree.ambiguous):
        return False  # withheld as ambiguous, with the UUIDs, elsewhere
    return not any(is_under(folder, synced) for synced in k.synced_on_create)


def _warn_if_replaced(k: _Check, folder: str, source: Source, what: str) -> None:
    """Warn when ``folder`` is a live folder deleted inside a folder this plan replaces and
    syncs again (see the module docstring)."""
    synced = [s for s in k.synced_on_create if s != folder and is_under(folder, s)]
    tree = k.tree
    if not synced or not any(tree.path_of.get(u) == folder for u in tree.gone):
        return
    k.warnings.append(
        f"{source}: {what} folder {folder} is deleted with {synced[0]}, which this plan "
        "replaces; it exists afterwards only if the sync brings it back, else the next plan "
        f"stops on this {what}: fix the path unless the bucket holds that prefix"
    )


def _exists(k: _Check, folder: str, source: Source, what: str) -> bool:
    tree = k.tree
    if tree.exists(folder):
        return True
    if any(is_under(folder, created) for created in tree.created):
        return True  # under a folder this plan creates: empty, but not a typo we can see
    k.problems.append(
        Diagnostic(
            source.file,
            source.line,
            source.col,
            f"{what} folder {folder} does not exist and this plan does not create it"
            f"{_closest(tree, folder)}; fix the path or declare the folder",
        )
    )
    return False


def _closest(tree: Tree, folder: str) -> str:
    known = sorted(set(tree.index) | set(tree.created))
    near = difflib.get_close_matches(folder, known, n=1, cutoff=0.75)
    if near:
        return f" (closest existing path: {near[0]})"
    current = parent_path(folder)
    while current is not None:
        if current in tree.index:
            return f" (closest existing path: {current})"
        current = parent_path(current)
    return " (no folder on that path is visible to this key)"


def _matches(index: ItemIndex, rule: MetadataRule) -> bool:
    """Some item in the rule's folder(s) has its name and type. A condition on metadata is
    not judged here (it depends on what the rules settle on), so it never warns."""
    if rule.recursive:
        folders = [f for f in index.by_folder if is_under(f, rule.folder)]
    else:
        folders = [rule.folder]
    name = compile_glob(rule.match.name) if rule.match.name else None
    types = frozenset(rule.match.types)
    return any(
        (name is None or name.match(item.name) is not None)
        and (not types or item.item_type in types)
        for folder in folders
        for item in index.by_folder.get(folder, ())
    )


def _check_dataset(k: _Check, title: str) -> None:
    _check_selectors(k, k.ctx.desired.datasets[title].items, addr.dataset(title), "dataset")


def _check_selectors(k: _Check, selectors: tuple[ItemSelector, ...], owner: str, kind: str) -> None:
    """Selectors of one dataset or collection (``owner``, its address)."""
    empty: list[ItemSelector] = []
    for selector in selectors:
        folder = selector.folder
        if folder is not None and not _judged(k, folder):
            _warn_if_replaced(k, folder, selector.source, "selector")
            continue
        if folder is not None and not _exists(k, folder, selector.source, "selector"):
            continue
        if not select(k.index, k.desired_meta, selector):
            empty.append(selector)
            what = f"folder {folder}" if folder is not None else f"manifest {selector.manifest}"
            k.warnings.append(f"{selector.source}: a selector of {owner} ({what}) matches no item")
    if empty:
        title = addr.key_of(owner)
        k.empty.append(EmptySelectors(title, tuple(str(s.source) for s in empty), kind))


def _check_manifests(k: _Check) -> None:
    unmatched = sorted(_unmatched_rows(k))
    if not unmatched:
        return
    lines = [f"{where}: {path}" for where, path in unmatched[:SHOWN]]
    more = len(unmatched) - len(lines)
    head = f"{plural(len(unmatched), 'manifest row matches', 'manifest rows match')} no item"
    listed = "; ".join(lines) + (f"; and {more} more" if more else "")
    if k.ctx.desired.policy.manifest_unmatched == "error":
        k.refusals.append(
            Refusal(
                code="manifest-unmatched",
                message=f"{head} (policy.manifest_unmatched: error): {listed}",
                count=len(unmatched),
            )
        )
        return
    k.warnings.append(f"{head}" + (f" (the first {SHOWN} follow)" if more else ""))
    k.warnings.extend(f"manifest row {line} matches no item" for line in lines)
    if more:
        k.warnings.append(
            f"… and {plural(more, 'more manifest row matches', 'more manifest rows match')} no item"
        )


def _unmatched_rows(k: _Check) -> Iterable[tuple[str, str]]:
    index = k.index
    names_in = index.folder_names
    for manifest in k.ctx.desired.manifests:
        for path, entry in manifest.entries.rows.items():
            # The usual row names an item by its folder and name: the first lookup
            # ``index.by_path`` tries, without its view's call per row (every row is checked)
            folder, _, name = path.rpartition("/")
            names = names_in(folder)
            if names is not None and name in names:
                continue
            if path in index.by_path or path in index.duplicates:
                continue
            if not _judged(k, path.rsplit("/", 1)[0] or "/"):
                continue
            yield f"{manifest.file}:{entry.line}", path
