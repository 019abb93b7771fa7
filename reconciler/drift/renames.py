"""Declared folders that are live at another path: renamed or moved by hand.

The planner knows folders by path, so a folder renamed in Encord reads as "declared one is
missing" plus "an undeclared one appeared". For an audit that is one fact, and the
dangerous kind: apply would create the declared folder empty and prune the renamed one with
its items. A missing declared folder ``D`` and an undeclared live folder ``L`` under the roots
are paired when ``L`` sits where a rename or move would put it (same parent, or same name)
and there is evidence that it is the same folder (our ownership marker, the declared
description, metadata, sub-folders or cloud source), and each is the other's only best
match. Declared folders below a paired one that exist at the same place below ``L`` moved
with it and are not paired again. Anything less certain stays two entries (missing, and
extra or unmanaged): a wrong pairing would hide a real difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, parent_path, split_path
from reconciler.model.desired import OWNER_KEY, DesiredFolder, DesiredState
from reconciler.model.live import LiveFolder, LiveState
from reconciler.plan.actions import Action
from reconciler.plan.canonical import equivalent
from reconciler.plan.model import Plan


@dataclass(frozen=True, slots=True)
class Rename:
    """Declared ``path`` is the live folder ``live`` (``how``: renamed or moved)."""

    path: str
    live: LiveFolder
    how: str
    evidence: tuple[str, ...]
    pruned: bool


@dataclass(slots=True)
class Renames:
    """The pairs found, and every declared path below them that moved along (declared path →
    live path), so their own "missing" changes can be folded into the pair."""

    pairs: list[Rename] = field(default_factory=list)
    carried: dict[str, str] = field(default_factory=dict)

    def live_path_of(self, declared: str) -> str | None:
        """Where a declared path inside a renamed folder is live now."""
        for pair in self.pairs:
            if is_under(declared, pair.path):
                return pair.live.path + declared[len(pair.path) :]
        return None


def _missing(plan: Plan, desired: DesiredState) -> list[str]:
    out = [
        addr.key_of(c.address)
        for c in plan.changes
        if c.kind == addr.Kind.FOLDER
        and Action.CREATE in c.actions
        and not c.is_replace
        and addr.key_of(c.address) in desired.folders
    ]
    return sorted(out, key=lambda p: (len(split_path(p)), p))


def _loose(plan: Plan, desired: DesiredState, live: LiveState) -> dict[str, bool]:
    """Undeclared live folders in scope: path → whether prune would delete it."""
    out: dict[str, bool] = {}
    for address in plan.unmanaged:
        out[addr.key_of(address)] = False
    for change in plan.changes:
        if change.kind == addr.Kind.FOLDER and change.is_delete:
            key = addr.key_of(change.address)
            if "#" not in key:
                out[key] = True
    return {p: pruned for p, pruned in out.items() if p in live.paths and p not in desired.folders}


class _Finder:
    def __init__(self, plan: Plan, desired: DesiredState, live: LiveState) -> None:
        self.desired, self.live = desired, live
        self.owner = desired.ownership.id
        self.loose = _loose(plan, desired, live)
        self.children: dict[str | None, set[str]] = {}
        for folder in live.folders.values():
            self.children.setdefault(folder.parent, set()).add(folder.name)
        self.declared_below: dict[str | None, set[str]] = {}
        for path in desired.folders:
            self.declared_below.setdefault(parent_path(path), set()).add(path.rsplit("/", 1)[1])
        self.result = Renames()

    def run(self, missing: list[str]) -> Renames:
        self._pair(missing)
        paired = {p.path for p in self.result.pairs}
        for path in missing:  # declared folders below a pair that moved along with it
            inside = self.result.live_path_of(path)
            if path not in paired and inside is not None and inside in self.live.paths:
                self.result.carried[path] = inside
        return self.result

    def _scores(self, paths: list[str]) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
        """Every plausible (declared, live) pair; only same-parent or same-name ones are tried."""
        by_place: dict[tuple[str, str | None], list[str]] = {}
        for live_path in self.loose:
            by_place.setdefault(("parent", parent_path(live_path)), []).append(live_path)
            by_place.setdefault(("name", live_path.rsplit("/", 1)[1]), []).append(live_path)
        scores = {}
        for path in paths:
            tried = by_place.get(("parent", parent_path(path)), []) + by_place.get(
                ("name", path.rsplit("/", 1)[1]), []
            )
            for live_path in dict.fromkeys(tried):
                found = self._candidate(self.desired.folders[path], live_path)
                if found is not None:
                    scores[(path, live_path)] = found
        return scores

    def _pair(self, paths: list[str]) -> None:
        scores = self._scores(paths)
        best_declared: dict[str, list[int]] = {}
        best_live: dict[str, list[int]] = {}
        for (path, live_path), (_, evidence) in scores.items():
            best_declared.setdefault(path, []).append(len(evidence))
            best_live.setdefault(live_path, []).append(len(evidence))
        for (path, live_path), (how, evidence) in sorted(scores.items()):
            mine = len(evidence)
            if not (
                _unique_best(best_declared[path], mine) and _unique_best(best_live[live_path], mine)
            ):
                continue
            if any(
                is_under(path, p.path) or is_under(live_path, p.live.path)
                for p in self.result.pairs
            ):
                continue
            self.result.pairs.append(
                Rename(
                    path=path,
                    live=self.live.folders[self.live.paths[live_path]],
                    how=how,
                    evidence=evidence,
                    pruned=self.loose[live_path],
                )
            )

    def _candidate(
        self, folder: DesiredFolder, live_path: str
    ) -> tuple[str, tuple[str, ...]] | None:
        live = self.live.folders[self.live.paths[live_path]]
        if parent_path(live.path) == parent_path(folder.path):
            how = "renamed"
        elif live.name == folder.name:
            how = "moved"
        else:
            return None
        marker = live.metadata.get(OWNER_KEY)
        if marker is not None and marker != self.owner:
            return None  # another config's folder is never taken for one of ours
        evidence = tuple(self._evidence(folder, live))
        return (how, evidence) if evidence else None

    def _evidence(self, folder: DesiredFolder, live: LiveFolder) -> Iterable[str]:
        if live.metadata.get(OWNER_KEY) == self.owner:
            yield "it carries our ownership marker"
        if folder.description and live.description == folder.description:
            yield "it has the declared description"
        declared_md = folder.metadata or {}
        if declared_md and all(
            k in live.metadata and equivalent(live.metadata[k], v) for k, v in declared_md.items()
        ):
            yield "it has the declared metadata"
        below = self.declared_below.get(folder.path, set())
        if below and below <= self.children.get(live.uuid, set()):
            yield "it holds the declared sub-folders"
        sync = folder.cloud_sync
        if sync is not None and live.remote_url == sync.remote_url:
            yield "it syncs the declared remote URL"


def find_renames(plan: Plan, desired: DesiredState, live: LiveState) -> Renames:
    return _Finder(plan, desired, live).run(_missing(plan, desired))


def where_now(pair: Rename) -> str:
    return f"live at {pair.live.path} ({pair.how} in Encord; {', '.join(pair.evidence)})"


def keep_advice(pair: Rename) -> str:
    return f"To keep it, rename it back in Encord or declare previously: [{pair.live.path}]"


def rename_notes(plan: Plan, desired: DesiredState, live: LiveState) -> list[str]:
    """For ``plan`` and ``apply``: one line per declared folder the plan would create anew
    although it is live at another path, with the same advice ``drift`` gives."""
    notes = []
    for pair in find_renames(plan, desired, live).pairs:
        fix = f"this plan creates {pair.path} anew"
        if pair.pruned:
            fix += f" and deletes {pair.live.path} with what it holds"
        notes.append(f"{addr.folder(pair.path)} is {where_now(pair)}; {fix}. {keep_advice(pair)}")
    return notes


def _unique_best(scores: list[int], mine: int) -> bool:
    """``mine`` is the highest of ``scores`` (which include it) and no other equals it."""
    return max(scores) == mine and scores.count(mine) == 1
