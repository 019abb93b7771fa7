"""Self-healing: duplicate folders that this ownership id created itself are resolved.

Two applies that ran at once (before the organisation lock, or with it forced) can leave a
path held by two sibling folders with one name. When *every* folder at such a path carries
our ownership marker, they share one parent, the path lies in the read scope and the live
read was complete, the plan keeps one and deletes the others:

* the one holding something (items, and so links; subfolders; group grants) is kept, and the
  others must be empty; when none holds anything, the oldest is kept;
* when two or more hold something, nothing is decided: the path stays ambiguous (a refusal
  listing the UUIDs), as it does for duplicates that are not all ours;
* ``prune: never`` heals nothing: it never deletes;
* a path above the scope roots (read only as an ancestor of one) is never healed: the read
  lists the ancestors themselves, not what they hold, so "empty" is unknown there.

Each delete says why in its reason. The live state the rest of the planner sees is the one
with the duplicates gone, so everything below the path is planned against the kept folder.

A duplicate at or inside a folder this plan replaces is part of that replacement
(``first_in_replacements``): the replacement depends on its delete, so apply runs it in the
``replace`` phase, before the old folder is deleted (which refuses while anything is left
inside) and before the new one is created (which would otherwise make the path ambiguous
again, and hide the sync's items from the re-plan that follows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.kinds.folder import delete_path
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import OWNER_KEY, DesiredState
from reconciler.model.live import LiveFolder, LiveState
from reconciler.plan.actions import Action
from reconciler.plan.context import fingerprint_of
from reconciler.plan.model import Change, Refs
from reconciler.plan.views import live_folder_view


def heal_duplicates(desired: DesiredState, live: LiveState) -> tuple[LiveState, list[Change]]:
    """``live`` without our empty duplicates, and the deletes that remove them."""
    if desired.policy.prune == "never" or not live.complete or not live.ambiguous:
        return live, []
    owner = desired.ownership.id
    doomed: dict[str, str] = {}  # duplicate uuid -> the reason it goes
    healed: list[str] = []
    for path, uuids in sorted(live.ambiguous.items()):
        if not any(is_under(path, root) for root in live.scope):
            continue  # an ancestor of a root: its items and subfolders were not read
        decision = _decide(live, owner, path, uuids)
        if decision is not None:
            doomed.update(decision)
            healed.append(path)
    if not healed:
        return live, []
    return _without(live, doomed, healed), [_delete(live.folders[u], r) for u, r in doomed.items()]


def first_in_replacements(changes: Sequence[Change], healing: Sequence[Change]) -> list[Change]:
    """``changes`` with every replacement depending on the heal deletes at or under the path
    it replaces (see the module docstring), then ``healing``."""
    if not healing:
        return list(changes)
    out: list[Change] = []
    for change in changes:
        if change.is_replace:
            path = delete_path(change)
            inside = {h.address for h in healing if is_under(delete_path(h), path)}
            if inside:
                change = replace(change, depends_on=tuple(sorted({*change.depends_on, *inside})))
        out.append(change)
    return [*out, *healing]


def _decide(
    live: LiveState, owner: str, path: str, uuids: tuple[str, ...]
) -> dict[str, str] | None:
    folders = [live.folders.get(u) for u in uuids]
    if any(f is None for f in folders):
        return None
    same = [f for f in folders if f is not None]
    if len({f.parent for f in same}) != 1 or not all(_ours(f, owner) for f in same):
        return None
    holding = [f for f in same if _holds(live, f)]
    if len(holding) > 1:
        return None
    oldest = min(same, key=lambda f: (f.created_at, f.uuid))
    kept = holding[0] if holding else oldest
    why = _holds(live, kept) or "nothing, and is the oldest"
    return {
        f.uuid: (
            f"a duplicate of {path} that this ownership id created (same parent, same name); "
            f"it is empty, and {kept.uuid}, which is kept, holds {why}"
        )
        for f in same
        if f.uuid != kept.uuid
    }


def _ours(folder: LiveFolder, owner: str) -> bool:
    return (
        folder.metadata.get(OWNER_KEY) == owner
        and folder.folder_type == "generic"
        and folder.synced_dataset_hash is None
    )


def _holds(live: LiveState, folder: LiveFolder) -> str:
    """What the folder holds, in words ("" when it is empty)."""
    held = []
    if any(i.parent == folder.uuid for i in live.items.values()):
        held.append("items")
    if any(f.parent == folder.uuid for f in live.folders.values()):
        held.append("folders")
    if live.folder_groups.get(folder.uuid):
        held.append("group grants")
    return ", ".join(held)


def _without(live: LiveState, doomed: dict[str, str], healed: list[str]) -> LiveState:
    folders = {u: f for u, f in live.folders.items() if u not in doomed}
    ambiguous = {p: u for p, u in live.ambiguous.items() if p not in healed}
    paths = {
        f.path: f.uuid
        for f in folders.values()
        if not any(is_under(f.path, root) for root in ambiguous)
    }
    groups = {u: g for u, g in live.folder_groups.items() if u not in doomed}
    return replace(live, folders=folders, ambiguous=ambiguous, paths=paths, folder_groups=groups)


def _delete(folder: LiveFolder, reason: str) -> Change:
    before = live_folder_view(folder, with_cloud=False, titles={})
    return Change(
        address=f"{addr.folder(folder.path)}#{folder.uuid}",
        kind=addr.Kind.FOLDER,
        actions=(Action.DELETE,),
        before=before,
        source=None,
        reason=reason,
        fingerprint=fingerprint_of(folder.last_edited_at, before),
        refs=Refs(uuid=folder.uuid, from_parent_uuid=folder.parent),
    )
