"""Bundling: the steps of one phase grouped into bulk API calls, in waves. Pure.

A phase is a sequence of *waves*; the bundles of one wave are independent and run
concurrently, waves run one after another. Most phases are one wave; creates run parents
first and deletes children first, one wave per folder depth.

What may share a call is the kind's to say (``KindSpec.bundle_key``, ``wave``, ``weight``
in ``reconciler.kinds``), following what one API call can carry:

* patch-bulk (folders, items): up to ``BUNDLE_SIZE`` objects;
* item moves: one source folder and one target folder per call;
* item deletes: one parent folder per call;
* folder moves: one target parent per call;
* grants: one object (folder or dataset) and one role per call; revokes: one object;
* links: one dataset per call; unlinks: one dataset, up to ``BUNDLE_SIZE`` data hashes;
* everything else (creates, syncs, folder deletes, groups, datasets): one object per call.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from reconciler.apply.phases import Phase, Step
from reconciler.kinds import spec_of
from reconciler.kinds.folder import delete_path, desired_path
from reconciler.kinds.refs import dataset_key, dependency, folder_key, target_parent

__all__ = [
    "BUNDLE_SIZE",
    "Bundle",
    "Wave",
    "bundle_phase",
    "chunked",
    "dataset_key",
    "delete_path",
    "dependency",
    "desired_path",
    "folder_key",
    "target_parent",
]

BUNDLE_SIZE = 1000  # the API's limit for every bulk body (patch-bulk, get-bulk, link, …)


@dataclass(frozen=True, slots=True)
class Bundle:
    """Steps that one API call (or one short fixed sequence of calls) carries out together.

    ``key`` says what the steps share (the folder, dataset, role, …); it is for display and
    tests, never for deciding what to do. Every step of a bundle is in ``phase``.
    """

    phase: Phase
    key: tuple[Hashable, ...]
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)


Wave = tuple[Bundle, ...]


def bundle_phase(phase: Phase, steps: Sequence[Step], *, size: int = BUNDLE_SIZE) -> list[Wave]:
    """The waves of ``phase`` for ``steps`` (all of which must be in ``phase``).

    Kinds that share a phase run in their delete order (items before the folders holding
    them); within a kind, in the order of its wave key."""
    if any(s.phase != phase for s in steps):
        raise ValueError(f"bundle_phase({phase}) got steps of another phase")
    levels: dict[tuple[int, ...], list[Step]] = {}
    for step in steps:
        spec = spec_of(step.change.kind)
        levels.setdefault((spec.delete_rank, *spec.wave(step)), []).append(step)
    return [tuple(_bundles(phase, levels[level], size)) for level in sorted(levels)]


def chunked(items: Sequence[Step], size: int) -> list[tuple[Step, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def _bundles(phase: Phase, steps: Sequence[Step], size: int) -> list[Bundle]:
    """Steps with one bundle key share bundles of up to ``size`` weight (a step is never
    split); steps without a key are a bundle each. Bundles keep the order of their first step."""
    groups: dict[object, list[Step]] = {}
    for n, step in enumerate(steps):
        shared = spec_of(step.change.kind).bundle_key(step)
        groups.setdefault(n if shared is None else shared, []).append(step)
    out: list[Bundle] = []
    for key, group in groups.items():
        if not isinstance(key, tuple):
            out.append(Bundle(phase, (group[0].address,), tuple(group)))
            continue
        out.extend(Bundle(phase, key, chunk) for chunk in _weighed(group, size))
    return out


def _weighed(steps: list[Step], size: int) -> list[tuple[Step, ...]]:
    chunks: list[tuple[Step, ...]] = []
    chunk: list[Step] = []
    total = 0
    for step in steps:
        weight = spec_of(step.change.kind).weight(step)
        if chunk and total + weight > size:
            chunks.append(tuple(chunk))
            chunk, total = [], 0
        chunk.append(step)
        total += weight
    if chunk:
        chunks.append(tuple(chunk))
    return chunks
