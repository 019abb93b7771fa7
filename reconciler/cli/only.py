"""``--only`` globs that select nothing are a mistake, not "no changes".

A plan or audit narrowed by ``--only`` that comes out empty is either the honest answer (the
selected objects match the configuration) or a glob that names nothing at all (a typo, a
wrong kind prefix); only the second must fail, so ``plan --only 'folder:/team-a/**'`` in a
per-team CI job still exits 0 when team A is in sync while team B has changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredState
from reconciler.model.globs import compile_glob
from reconciler.model.live import LiveState
from reconciler.plan import Plan


def selects_nothing(
    patterns: tuple[str, ...], *, full: Plan, desired: DesiredState, live: LiveState
) -> str | None:
    """The error when no glob matches any address: no change of ``full`` (the plan made
    without ``--only``), no declared object and no live object in scope; else None."""
    globs = [compile_glob(p) for p in patterns]
    if any(g.match(a) for a in _addresses(full, desired, live) for g in globs):
        return None
    shown = " ".join(f"--only {p!r}" for p in patterns)
    count = len(full.changes)
    pending = f"{count} change{'s' if count != 1 else ''}"
    return (
        f"{shown} matched nothing: no change, declared object or live object has a matching "
        f"address ({pending} planned without --only); check the glob, e.g. 'folder:/path/**'"
    )


def _addresses(full: Plan, desired: DesiredState, live: LiveState) -> Iterator[str]:
    """Every address the globs could mean; what is most likely meant comes first."""
    for change in full.changes:
        yield change.address
        if change.previous_address:
            yield change.previous_address
    for refusal in full.refusals:
        yield from refusal.addresses
    yield from full.unmanaged
    yield from _declared(desired)
    yield from (addr.folder(path) for path in live.paths)
    yield from (addr.group(group.name) for group in live.groups.values())
    yield from (addr.dataset(dataset.title) for dataset in live.datasets.values())
    yield from (addr.item(item.path) for item in live.items.values())
    yield from _links(live)


def _links(live: LiveState) -> Iterator[str]:
    for dataset in live.datasets.values():
        for row in dataset.rows:
            item = live.items.get(row.item_uuid or "")
            if item is not None:
                yield addr.link(dataset.title, item.path)


def _declared(desired: DesiredState) -> Iterator[str]:
    for path, folder in desired.folders.items():
        yield addr.folder(path)
        yield from (addr.folder_group(path, name) for name in folder.groups or {})
    yield from (addr.group(name) for name in desired.groups)
    for title, dataset in desired.datasets.items():
        yield addr.dataset(title)
        yield from (addr.dataset_group(title, name) for name in dataset.groups or {})
