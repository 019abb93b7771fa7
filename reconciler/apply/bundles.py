"""Bundling: the steps of one phase grouped into bulk API calls, in waves. Pure.

A phase is a sequence of *waves*; the bundles of one wave are independent and run
concurrently, waves run one after another. Most phases are one wave; creates run parents
first and deletes children first, one wave per folder depth.

Bundles follow what one API call can carry:

* patch-bulk (folders, items): up to ``BUNDLE_SIZE`` objects;
* item moves: one source folder and one target folder per call;
* item deletes: one parent folder per call;
* folder moves: one target parent per call;
* grants: one object (folder or dataset) and one role per call; revokes: one object;
* links: one dataset per call; unlinks: one dataset, up to ``BUNDLE_SIZE`` data hashes;
* everything else (creates, syncs, folder deletes, groups, datasets): one object per call.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from reconciler.apply.phases import Phase, Step
from reconciler.model import addresses as addr
from reconciler.model.addresses import split_path
from reconciler.plan.actions import Action
from reconciler.plan.model import Change

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
    """The waves of ``phase`` for ``steps`` (all of which must be in ``phase``)."""
    if any(s.phase != phase for s in steps):
        raise ValueError(f"bundle_phase({phase}) got steps of another phase")
    if not steps:
        return []
    return _BUNDLERS.get(phase, _singles)(phase, steps, size)


def chunked(items: Sequence[Step], size: int) -> list[tuple[Step, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def _grouped(
    phase: Phase, steps: Sequence[Step], size: int, key: Callable[[Step], tuple[Hashable, ...]]
) -> list[Bundle]:
    groups: dict[tuple[Hashable, ...], list[Step]] = {}
    for step in steps:
        groups.setdefault(key(step), []).append(step)
    return [
        Bundle(phase, k, chunk) for k, group in groups.items() for chunk in chunked(group, size)
    ]


def _one_wave(bundles: list[Bundle]) -> list[Wave]:
    return [tuple(bundles)] if bundles else []


def _singles(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    return _one_wave([Bundle(phase, (s.address,), (s,)) for s in steps])


def _patches(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    return _one_wave([Bundle(phase, ("patch-bulk",), c) for c in chunked(steps, size)])


# --- references ----------------------------------------------------------------------------


def dependency(change: Change, kind: addr.Kind) -> str | None:
    """The address of the object of ``kind`` this change waits for (created by the plan)."""
    prefix = f"{kind}:"
    return next((d for d in change.depends_on if d.startswith(prefix)), None)


def target_parent(change: Change) -> Hashable:
    """Where a create or move puts the object: a live UUID, a creating address, or root."""
    refs = change.refs
    if refs.parent_path is None:
        return None
    return refs.parent_uuid or addr.folder(refs.parent_path)


def dataset_key(change: Change) -> Hashable:
    return change.refs.dataset_uuid or dependency(change, addr.Kind.DATASET)


def folder_key(change: Change) -> Hashable:
    return change.refs.folder_uuid or dependency(change, addr.Kind.FOLDER)


def _depth(path: str | None) -> int:
    return len(split_path(path or ""))


def delete_path(change: Change) -> str:
    """The live path of something being deleted (for a replacement, its old address)."""
    before = change.before or {}
    if isinstance(before.get("path"), str):
        return str(before["path"])
    return addr.key_of(change.previous_address or change.address)


def desired_path(change: Change) -> str:
    after = change.after or {}
    return str(after.get("path") or addr.key_of(change.address))


# --- folders -------------------------------------------------------------------------------


def _creates(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    levels: dict[int, list[Bundle]] = {}
    for step in steps:
        depth = _depth(desired_path(step.change))
        levels.setdefault(depth, []).append(Bundle(phase, (step.address,), (step,)))
    return [tuple(levels[d]) for d in sorted(levels)]


def _folder_deletes(phase: Phase, steps: Sequence[Step]) -> list[Wave]:
    levels: dict[int, list[Bundle]] = {}
    for step in steps:
        depth = _depth(delete_path(step.change))
        levels.setdefault(depth, []).append(Bundle(phase, (step.address,), (step,)))
    return [tuple(levels[d]) for d in sorted(levels, reverse=True)]


def _item_deletes(phase: Phase, steps: Sequence[Step], size: int) -> list[Bundle]:
    return _grouped(phase, steps, size, lambda s: ("delete-items", s.change.refs.from_parent_uuid))


def _deletes(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    """Item deletes (one wave), then folder deletes children first (one wave per depth)."""
    items = [s for s in steps if s.change.kind == addr.Kind.ITEM]
    folders = [s for s in steps if s.change.kind == addr.Kind.FOLDER]
    others = [s for s in steps if s.change.kind not in (addr.Kind.ITEM, addr.Kind.FOLDER)]
    waves = _one_wave(_item_deletes(phase, items, size))
    waves += _folder_deletes(phase, folders)
    waves += _singles(phase, others, size)
    return waves


def _folder_moves(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    """Shallow targets first: moving ``/x/y`` to ``/y`` must precede moving ``/x`` into it."""
    levels: dict[int, list[Step]] = {}
    for step in steps:
        levels.setdefault(_depth(desired_path(step.change)), []).append(step)
    waves: list[Wave] = []
    for depth in sorted(levels):
        bundles = _grouped(
            phase, levels[depth], size, lambda s: ("move-folders", target_parent(s.change))
        )
        waves.append(tuple(bundles))
    return waves


# --- items ---------------------------------------------------------------------------------


def _item_moves(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    return _one_wave(
        _grouped(
            phase,
            steps,
            size,
            lambda s: ("move-items", s.change.refs.from_parent_uuid, target_parent(s.change)),
        )
    )


# --- access and datasets -------------------------------------------------------------------


def _role(step: Step) -> str | None:
    after = step.change.after or {}
    role = after.get("role")
    return str(role) if role is not None else None


def _folder_grants(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    return _one_wave(
        _grouped(phase, steps, size, lambda s: ("grant", folder_key(s.change), _role(s)))
    )


def _dataset_grants(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    def key(step: Step) -> tuple[Hashable, ...]:
        change = step.change
        change_kind = "role-change" if Action.REVOKE in step.actions else "grant"
        return (change.kind, change_kind, dataset_key(change), _role(step))

    return _one_wave(_grouped(phase, steps, size, key))


def _revokes(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    def key(step: Step) -> tuple[Hashable, ...]:
        change = step.change
        owner = folder_key(change) if change.kind == addr.Kind.FOLDER_GROUP else dataset_key(change)
        return (change.kind, owner)

    return _one_wave(_grouped(phase, steps, size, key))


def _links(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    return _one_wave(_grouped(phase, steps, size, lambda s: ("link", dataset_key(s.change))))


def _unlinks(phase: Phase, steps: Sequence[Step], size: int) -> list[Wave]:
    """One dataset per bundle, up to ``size`` data hashes; one change's hashes never split."""
    by_dataset: dict[Hashable, list[Step]] = {}
    for step in steps:
        by_dataset.setdefault(dataset_key(step.change), []).append(step)
    bundles: list[Bundle] = []
    for dataset, group in by_dataset.items():
        chunk: list[Step] = []
        hashes = 0
        for step in group:
            count = max(1, len(step.change.refs.data_hashes))
            if chunk and hashes + count > size:
                bundles.append(Bundle(phase, ("unlink", dataset), tuple(chunk)))
                chunk, hashes = [], 0
            chunk.append(step)
            hashes += count
        if chunk:
            bundles.append(Bundle(phase, ("unlink", dataset), tuple(chunk)))
    return _one_wave(bundles)


_BUNDLERS: dict[Phase, Callable[[Phase, Sequence[Step], int], list[Wave]]] = {
    Phase.REPLACE: _deletes,
    Phase.CREATE_FOLDERS: _creates,
    Phase.PATCH_FOLDERS: _patches,
    Phase.MOVE_FOLDERS: _folder_moves,
    Phase.MOVE_ITEMS: _item_moves,
    Phase.PATCH_ITEMS: _patches,
    Phase.GRANTS: _folder_grants,
    Phase.DATASET_GRANTS: _dataset_grants,
    Phase.LINK: _links,
    Phase.UNLINK: _unlinks,
    Phase.REVOKE: _revokes,
    Phase.DELETE_ITEMS: lambda p, s, n: _one_wave(_item_deletes(p, s, n)),
    Phase.DELETE_FOLDERS: lambda p, s, n: _folder_deletes(p, s),
}
