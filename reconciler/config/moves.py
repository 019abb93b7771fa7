"""Checks of ``previously:`` (folder moves and renames) across all declared folders.

A previous path names where the folder lived before, so that the planner moves it instead
of deleting and re-creating it. That only has one meaning when

* the previous path is not the folder itself, nor inside it, nor one of its ancestors;
* no declared folder lives at or under a previous path (that folder would be moved away):
  a previous path that is itself declared is a *chain* (``/c`` was ``/b`` was ``/a``: list
  ``/a`` under ``/c``) or, when the chain comes back, a *cycle*;
* no two folders claim one previous path, or nested ones (``/x`` and ``/x/y``);
* rules and dataset selectors do not point at a path that a move empties.

Every lookup walks ancestors (path depth), never all folders, so a file with tens of
thousands of moves is checked in linear time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconciler.config.context import Context
from reconciler.config.sccs import cyclic_nodes
from reconciler.model.addresses import is_under, parent_path
from reconciler.model.desired import DesiredDataset, DesiredFolder, MetadataRule, Source


def check_moves(
    folders: dict[str, DesiredFolder],
    rules: Iterable[MetadataRule],
    datasets: Iterable[DesiredDataset],
    ctx: Context,
) -> None:
    holders: dict[str, str] = {}  # any ancestor-or-self of a declared folder -> that folder
    for path in folders:
        for ancestor in _self_and_ancestors(path):
            holders.setdefault(ancestor, path)
    edges = {
        f.path: [p for p in f.previously if p in folders] for f in folders.values() if f.previously
    }
    cycles = cyclic_nodes(edges)
    claims: dict[str, DesiredFolder] = {}  # previous path -> folder claiming it
    claimed_below: dict[str, str] = {}  # ancestor-or-self of a claimed path -> that path
    for folder in folders.values():
        for previous in folder.previously:
            if _check_one(folder, previous, folders, holders, cycles, ctx):
                _check_claim(folder, previous, claims, claimed_below, ctx)
    _check_references(claims, rules, datasets, ctx)


def _self_and_ancestors(path: str) -> Iterator[str]:
    current: str | None = path
    while current is not None:
        yield current
        current = parent_path(current)


def _where(folder: DesiredFolder) -> Source:
    return folder.field_sources.get("previously", folder.source)


def _check_one(
    folder: DesiredFolder,
    previous: str,
    folders: dict[str, DesiredFolder],
    holders: dict[str, str],
    cycles: dict[str, list[str]],
    ctx: Context,
) -> bool:
    path, where = folder.path, _where(folder)
    if previous == path:
        ctx.report_at(where, f"{path}: previously lists the folder's own path")
        return False
    if is_under(path, previous) or is_under(previous, path):
        ctx.report_at(where, f"{path}: previously {previous} is inside or above the folder itself")
        return False
    if previous in folders:
        ctx.report_at(where, _declared_previous(folder, folders[previous], cycles))
        return False
    inside = holders.get(previous)
    if inside is not None:
        ctx.report_at(
            where,
            f"{path}: previously {previous} holds {inside}, declared at "
            f"{folders[inside].source.position()}; moving {previous} away would take it along",
        )
        return False
    return True


def _declared_previous(
    folder: DesiredFolder, other: DesiredFolder, cycles: dict[str, list[str]]
) -> str:
    cycle = cycles.get(folder.path)
    if cycle is not None and other.path in cycle:
        return (
            f"{folder.path}: previously forms a cycle among {', '.join(cycle)}; "
            "a folder cannot move in a circle"
        )
    if other.previously:
        return (
            f"{folder.path}: previously {other.path} is a declared folder that itself moved "
            f"(at {other.source.position()}); chains are not followed, list "
            f"{', '.join(other.previously)} under {folder.path} instead"
        )
    return (
        f"{folder.path}: previously {other.path} is also declared as a folder (at "
        f"{other.source.position()}); a path cannot be both the old and a new place"
    )


def _check_claim(
    folder: DesiredFolder,
    previous: str,
    claims: dict[str, DesiredFolder],
    claimed_below: dict[str, str],
    ctx: Context,
) -> None:
    rival_path = claimed_below.get(previous)  # a claim at or under ``previous``
    if rival_path is None:
        rival_path = next((a for a in _self_and_ancestors(previous) if a in claims), None)
    if rival_path is not None:
        rival = claims[rival_path]
        what = "is also" if rival_path == previous else f"collides with {rival_path},"
        ctx.report_at(
            _where(folder),
            f"{folder.path}: previously {previous} {what} claimed by {rival.path} at "
            f"{_where(rival).position()}; a place can be left by one folder only",
        )
        return
    claims[previous] = folder
    for ancestor in _self_and_ancestors(previous):
        claimed_below.setdefault(ancestor, previous)


def _check_references(
    claims: dict[str, DesiredFolder],
    rules: Iterable[MetadataRule],
    datasets: Iterable[DesiredDataset],
    ctx: Context,
) -> None:
    if not claims:
        return
    targets: list[tuple[str, Source, str]] = [(r.folder, r.source, "rule folder") for r in rules]
    for dataset in datasets:
        targets.extend(
            (s.folder, s.source, f"dataset {dataset.title} selects folder")
            for s in dataset.items
            if s.folder is not None
        )
    for path, source, what in targets:
        previous = next((a for a in _self_and_ancestors(path) if a in claims), None)
        if previous is not None:
            folder = claims[previous]
            new = folder.path + path[len(previous) :]
            ctx.report_at(
                source,
                f"{what} {path} is moved away by {folder.path} (previously {previous}); "
                f"write {new}",
            )
