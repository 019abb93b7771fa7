"""Selectors, rules and manifest rows that match nothing.

A typo in a folder (``/raw/cameras/raer``) must not read as "select nothing": under
``unlink: all`` it would unlink every link of the dataset. So:

* a dataset selector or metadata rule (and so its ``owned_keys`` scope) whose folder does not
  exist and is not created by this plan is a plan error at its ``file:line``, naming the
  closest existing path;
* a selector or rule whose folder exists but that matches no item is a warning; where the
  dataset it belongs to has unlinks planned, those unlinks are withheld (``selector-unlink``);
* manifest rows whose path matches no item are counted and the first ``SHOWN`` listed, as
  warnings, or as a ``manifest-unmatched`` refusal under ``policy.manifest_unmatched: error``.

Folders a cloud sync made by this plan will fill, paths outside ``item_roots`` (their items
are planned after the sync) and ambiguous paths (refused elsewhere) are not judged.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from reconciler.errors import Diagnostic
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, parent_path
from reconciler.model.desired import ItemSelector, MetadataRule, Source
from reconciler.model.globs import compile_glob
from reconciler.plan.actions import Action
from reconciler.plan.context import Context
from reconciler.plan.datasets import select
from reconciler.plan.itemindex import ItemIndex
from reconciler.plan.model import Refusal
from reconciler.words import plural

SHOWN = 20


def check_selectors(ctx: Context, index: ItemIndex) -> None:
    """Run after ``plan_datasets``: errors into ``problems``, the rest into ``warnings``."""
    if not ctx.live.complete:
        return  # an incomplete read already withholds every unlink (listing guard)
    for rule in ctx.desired.rules:
        judged = _judged(ctx, rule.folder)
        if judged and _exists(ctx, rule.folder, rule.source, "rule") and not _matches(index, rule):
            ctx.warnings.append(f"{rule.source}: the rule on {rule.folder} matches no item")
    for title in sorted(ctx.desired.datasets):
        _check_dataset(ctx, index, title)
    _check_manifests(ctx, index)


def _judged(ctx: Context, folder: str) -> bool:
    roots = ctx.options.item_roots
    if roots is not None and not any(is_under(folder, r) for r in roots):
        return False
    if any(is_under(folder, a) for a in ctx.tree.ambiguous):
        return False  # refused as ambiguous, with the UUIDs, elsewhere
    return not any(is_under(folder, synced) for synced in ctx.synced_on_create)


def _exists(ctx: Context, folder: str, source: Source, what: str) -> bool:
    tree = ctx.tree
    if tree.exists(folder):
        return True
    if any(is_under(folder, created) for created in tree.created):
        return True  # under a folder this plan creates: empty, but not a typo we can see
    ctx.problems.append(
        Diagnostic(
            source.file,
            source.line,
            source.col,
            f"{what} folder {folder} does not exist and this plan does not create it"
            f"{_closest(ctx, folder)}; fix the path or declare the folder",
        )
    )
    return False


def _closest(ctx: Context, folder: str) -> str:
    known = sorted(set(ctx.tree.index) | set(ctx.tree.created))
    near = difflib.get_close_matches(folder, known, n=1, cutoff=0.75)
    if near:
        return f" (closest existing path: {near[0]})"
    current = parent_path(folder)
    while current is not None:
        if current in ctx.tree.index:
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


def _check_dataset(ctx: Context, index: ItemIndex, title: str) -> None:
    dataset = ctx.desired.datasets[title]
    empty: list[ItemSelector] = []
    for selector in dataset.items:
        folder = selector.folder
        if folder is not None and not _judged(ctx, folder):
            continue
        if folder is not None and not _exists(ctx, folder, selector.source, "selector"):
            continue
        if not select(ctx, index, selector):
            empty.append(selector)
            what = f"folder {folder}" if folder is not None else f"manifest {selector.manifest}"
            ctx.warnings.append(
                f"{selector.source}: a selector of {addr.dataset(title)} ({what}) matches no item"
            )
    if empty:
        _withhold_unlinks(ctx, title, empty)


def _withhold_unlinks(ctx: Context, title: str, empty: list[ItemSelector]) -> None:
    prefix = addr.link(title, "")
    unlinks = [
        c for c in ctx.changes if c.actions == (Action.UNLINK,) and c.address.startswith(prefix)
    ]
    if not unlinks:
        return
    held = {c.address for c in unlinks}
    ctx.changes[:] = [c for c in ctx.changes if c.address not in held]
    where = ", ".join(str(s.source) for s in empty)
    ctx.refusals.append(
        Refusal(
            code="selector-unlink",
            message=(
                f"{plural(len(unlinks), 'unlink')} from {addr.dataset(title)} held back: a selector that "
                f"matches no item ({where}) must not decide what is unlinked. Fix the selector, "
                "or remove it if the dataset should really lose these links"
            ),
            addresses=tuple(sorted(held)),
            count=len(unlinks),
        )
    )


def _check_manifests(ctx: Context, index: ItemIndex) -> None:
    unmatched = sorted(_unmatched_rows(ctx, index))
    if not unmatched:
        return
    lines = [f"{where}: {path}" for where, path in unmatched[:SHOWN]]
    more = len(unmatched) - len(lines)
    head = f"{plural(len(unmatched), 'manifest row matches', 'manifest rows match')} no item"
    listed = "; ".join(lines) + (f"; and {more} more" if more else "")
    if ctx.desired.policy.manifest_unmatched == "error":
        ctx.refusals.append(
            Refusal(
                code="manifest-unmatched",
                message=f"{head} (policy.manifest_unmatched: error): {listed}",
                count=len(unmatched),
            )
        )
        return
    ctx.warnings.append(f"{head}" + (f" (the first {SHOWN} follow)" if more else ""))
    ctx.warnings.extend(f"manifest row {line} matches no item" for line in lines)
    if more:
        ctx.warnings.append(
            f"… and {plural(more, 'more manifest row matches', 'more manifest rows match')} no item"
        )


def _unmatched_rows(ctx: Context, index: ItemIndex) -> Iterable[tuple[str, str]]:
    for manifest in ctx.desired.manifests:
        for path, entry in manifest.entries.rows.items():
            if path in index.by_path or path in index.duplicates:
                continue
            if not _judged(ctx, path.rsplit("/", 1)[0] or "/"):
                continue
            yield f"{manifest.file}:{entry.line}", path
