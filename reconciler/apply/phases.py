"""Phases: which part of which change runs when. Pure: changes in, steps out.

A change may need work in several phases (a moved and edited folder is patched in
``patch-folders`` and moved in ``move-folders``); each such piece is a ``Step``. Phases run
in the order of ``PHASES``, derived from the domain:

    schema → replace (contents of replaced folders, then the old folders, children first)
    → create-folders (parents first) → sync (start, await, then the plan's deferrals)
    → patch-folders → move-folders → move-items → patch-items → groups (and members)
    → grants (on folders) → datasets → dataset-grants → link → unlink → revoke
    → delete-items → delete-folders (children first) → delete-groups

Grants come before revokes so that no folder or dataset passes through a state without an
admin; the metadata schema comes first because the API type-checks metadata values against
it. A replacement (a cloud-synced folder re-pointed) must delete the old folder before the
new one is created at the same path, so its deletes run in ``replace``, before any create.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change


class Phase(StrEnum):
    SCHEMA = "schema"
    REPLACE = "replace"
    CREATE_FOLDERS = "create-folders"
    SYNC = "sync"
    PATCH_FOLDERS = "patch-folders"
    MOVE_FOLDERS = "move-folders"
    MOVE_ITEMS = "move-items"
    PATCH_ITEMS = "patch-items"
    GROUPS = "groups"
    GRANTS = "grants"
    DATASETS = "datasets"
    DATASET_GRANTS = "dataset-grants"
    LINK = "link"
    UNLINK = "unlink"
    REVOKE = "revoke"
    DELETE_ITEMS = "delete-items"
    DELETE_FOLDERS = "delete-folders"
    DELETE_GROUPS = "delete-groups"

    @property
    def rank(self) -> int:
        return _RANK[self]


PHASES: tuple[Phase, ...] = tuple(Phase)
_RANK = {phase: n for n, phase in enumerate(PHASES)}


@dataclass(frozen=True, slots=True)
class Step:
    """One change's work in one phase.

    ``key`` names the step in the journal: ``<index>:<phase>`` for the plan's change at that
    index (addresses are not unique: a replaced folder's old subfolder and a declared new one
    may share one), ``d:<address>:<phase>`` for a change planned after a cloud sync.
    ``actions`` are the change's actions this step performs, in order.
    """

    key: str
    change: Change
    phase: Phase
    actions: tuple[Action, ...]

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def change_key(self) -> str:
        """The step key without its phase: identifies the change in the run."""
        return self.key.rsplit(":", 1)[0]


def touches(change: Change, field: str) -> bool:
    """Does the change's diff touch this top-level field? (``Change.changed_fields`` without
    building a set: it is asked once or twice for each of possibly 100,000 items.)"""
    return any(d.path and d.path[0] == field for d in change.diff)


def item_renamed(change: Change) -> bool:
    """An item whose name changes (moved under another name by a manifest)."""
    before, after = change.before or {}, change.after or {}
    if "path" not in before or "path" not in after:
        return False
    return _basename(before["path"]) != _basename(after["path"])


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def replaced_contents(changes: Sequence[Change]) -> frozenset[int]:
    """Indexes of the deletes a replacement waits for (what was inside the old folder)."""
    by_address: dict[str, list[int]] = {}
    for n, change in enumerate(changes):
        by_address.setdefault(change.address, []).append(n)
    out: set[int] = set()
    stack = [d for c in changes if c.is_replace for d in c.depends_on]
    while stack:
        for n in by_address.get(stack.pop(), ()):
            change = changes[n]
            if change.is_delete and n not in out:
                out.add(n)
                stack.extend(change.depends_on)
    return frozenset(out)


def steps_of(changes: Sequence[Change], *, prefix: str | None = None) -> list[Step]:
    """Every step of ``changes``, in phase order (stable within a phase).

    ``prefix`` None keys steps by plan index; otherwise by ``<prefix>:<address>`` (changes
    planned during the run, whose addresses are unique).
    """
    contents = replaced_contents(changes) if prefix is None else frozenset()
    out: list[Step] = []
    for n, change in enumerate(changes):
        base = str(n) if prefix is None else f"{prefix}:{change.address}"
        for phase, actions in phases_of(change, replaced=n in contents):
            out.append(Step(f"{base}:{phase}", change, phase, actions))
    out.sort(key=lambda s: s.phase.rank)
    return out


def phases_of(change: Change, *, replaced: bool = False) -> list[tuple[Phase, tuple[Action, ...]]]:
    """The phases one change runs in, with the actions of each, in execution order."""
    kind = change.kind
    if kind == addr.Kind.METADATA_SCHEMA:
        return [(Phase.SCHEMA, change.actions)]
    if kind == addr.Kind.FOLDER:
        return _folder_phases(change, replaced)
    if kind == addr.Kind.ITEM:
        return _item_phases(change, replaced)
    if kind == addr.Kind.GROUP:
        phase = Phase.DELETE_GROUPS if change.is_delete else Phase.GROUPS
        return [(phase, change.actions)]
    if kind == addr.Kind.DATASET:
        phase = Phase.DELETE_GROUPS if change.is_delete else Phase.DATASETS
        return [(phase, change.actions)]
    if kind == addr.Kind.LINK:
        return [(Phase.LINK if Action.LINK in change.actions else Phase.UNLINK, change.actions)]
    return _relation_phases(change)


def _folder_phases(change: Change, replaced: bool) -> list[tuple[Phase, tuple[Action, ...]]]:
    acts = change.actions
    out: list[tuple[Phase, tuple[Action, ...]]] = []
    if change.is_replace:
        out.append((Phase.REPLACE, (Action.DELETE,)))
    elif change.is_delete:
        return [(Phase.REPLACE if replaced else Phase.DELETE_FOLDERS, acts)]
    if Action.CREATE in acts:
        out.append((Phase.CREATE_FOLDERS, (Action.CREATE,)))
        if Action.SYNC in acts:
            out.append((Phase.SYNC, (Action.SYNC,)))
        return out
    if Action.PATCH in acts:
        out.append((Phase.PATCH_FOLDERS, (Action.PATCH,)))
    if Action.MOVE in acts:
        out.append((Phase.MOVE_FOLDERS, (Action.MOVE,)))
    return out


def _item_phases(change: Change, replaced: bool) -> list[tuple[Phase, tuple[Action, ...]]]:
    acts = change.actions
    if acts == (Action.PATCH,):  # by far the most common change: answer it at once
        return [(Phase.PATCH_ITEMS, acts)]
    if change.is_delete:
        return [(Phase.REPLACE if replaced else Phase.DELETE_ITEMS, acts)]
    out: list[tuple[Phase, tuple[Action, ...]]] = []
    if Action.MOVE in acts:
        out.append((Phase.MOVE_ITEMS, (Action.MOVE,)))
    if Action.PATCH in acts or (Action.MOVE in acts and item_renamed(change)):
        # A rename travels in the item patch (one patch-bulk sets name and metadata).
        out.append((Phase.PATCH_ITEMS, (Action.PATCH,)))
    return out


def _relation_phases(change: Change) -> list[tuple[Phase, tuple[Action, ...]]]:
    acts = change.actions
    on_dataset = change.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER)
    if Action.GRANT in acts:
        # A role change (revoke, grant) is one step: removing first, then adding at once.
        return [(Phase.DATASET_GRANTS if on_dataset else Phase.GRANTS, acts)]
    return [(Phase.REVOKE, acts)]


def by_phase(steps: Iterable[Step]) -> dict[Phase, list[Step]]:
    out: dict[Phase, list[Step]] = {}
    for step in steps:
        out.setdefault(step.phase, []).append(step)
    return out
