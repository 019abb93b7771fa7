"""Phases: which part of which change runs when. Pure: changes in, steps out.

A change may need work in several phases (a moved and edited folder is patched in
``patch-folders`` and moved in ``move-folders``); each such piece is a ``Step``. Phases run
in the order of ``PHASES`` (see ``reconciler.kinds.phase`` for why that order); which
phases a change runs in is its kind's (``reconciler.kinds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.kinds import PHASES, Phase, spec_of
from reconciler.kinds.item import item_renamed
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
    return spec_of(change.kind).phases(change, replaced)


def by_phase(steps: Iterable[Step]) -> dict[Phase, list[Step]]:
    out: dict[Phase, list[Step]] = {}
    for step in steps:
        out.setdefault(step.phase, []).append(step)
    return out
