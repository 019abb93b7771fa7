"""Phases: which part of which change runs when. Pure: changes in, steps out.

A change may need work in several phases (a moved and edited folder is patched in
``patch-folders`` and moved in ``move-folders``); each such piece is a ``Step``. Phases run
in the order of ``PHASES`` (see ``reconciler.kinds.phase`` for why that order); which
phases a change runs in is its kind's (``reconciler.kinds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.kinds import PHASES, Phase, spec_of
from reconciler.kinds.folder import delete_path, desired_path
from reconciler.kinds.item import item_renamed
from reconciler.model.addresses import Kind, is_under
from reconciler.plan.actions import Action
from reconciler.plan.model import Change

__all__ = [
    "PHASES",
    "Phase",
    "Step",
    "by_phase",
    "item_renamed",
    "phases_of",
    "replaced_contents",
    "steps_of",
    "touches",
]


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


def replaced_contents(changes: Sequence[Change]) -> frozenset[int]:
    """Indexes of the changes a replacement waits for, which run before it (``replace``,
    ``move-out``, ``create-ahead``): the deletes of what was inside the old folder, the folders
    moving out of it, and the creation of where they go (and of its created ancestors), when
    that is not itself at or under a replaced folder (made only after the replacement: such a
    move waits in ``move-folders``, and apply refuses to delete the old folder while it holds
    it)."""
    by_address: dict[str, list[int]] = {}
    for n, change in enumerate(changes):
        by_address.setdefault(change.address, []).append(n)
    replaced = [c for c in changes if c.is_replace]
    ahead = _CreatedAhead(changes, by_address, replaced)
    out: set[int] = set()
    stack = [d for c in replaced for d in c.depends_on]
    while stack:
        for n in by_address.get(stack.pop(), ()):
            change = changes[n]
            if n in out:
                continue
            if change.is_delete:
                out.add(n)
                stack.extend(change.depends_on)
            elif _is_folder(change, Action.MOVE) and all(map(ahead.possible, change.depends_on)):
                out.add(n)
                out.update(ahead.indexes(change.depends_on))
    return frozenset(out)


def _is_folder(change: Change, action: Action) -> bool:
    return change.kind == Kind.FOLDER and action in change.actions


class _CreatedAhead:
    """Which folder creations can run before the replacements: plain creations (not a
    replacement's own) neither at nor under a replaced folder's path, whose own dependencies
    are such creations too."""

    def __init__(
        self,
        changes: Sequence[Change],
        by_address: Mapping[str, list[int]],
        replaced: Sequence[Change],
    ) -> None:
        self._changes, self._by_address = changes, by_address
        self._roots = {path for c in replaced for path in (delete_path(c), desired_path(c))}

    def possible(self, address: str) -> bool:
        found = self._by_address.get(address, ())
        return len(found) == 1 and self._creatable(self._changes[found[0]])

    def _creatable(self, change: Change) -> bool:
        if not _is_folder(change, Action.CREATE) or change.is_replace:
            return False
        path = desired_path(change)
        if any(is_under(path, root) for root in self._roots):
            return False
        return all(map(self.possible, change.depends_on))

    def indexes(self, addresses: Iterable[str]) -> set[int]:
        out: set[int] = set()
        stack = list(addresses)
        while stack:
            (n,) = self._by_address[stack.pop()]
            out.add(n)
            stack.extend(self._changes[n].depends_on)
        return out


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
    return spec_of(change.kind).phases(change, replaced)


def by_phase(steps: Iterable[Step]) -> dict[Phase, list[Step]]:
    out: dict[Phase, list[Step]] = {}
    for step in steps:
        out.setdefault(step.phase, []).append(step)
    return out
