"""Drift entries for folders renamed or moved by hand (see ``renames``).

One ``moved`` entry for the paired folder, carrying every planned change that only exists
because it is at another path (the empty folder apply would create, the renamed one it would
prune with its contents, grants the renamed folder still holds, links of its items), and one
``moved`` entry for each declared folder below it that moved along.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.drift.model import Drift, DriftKind
from reconciler.drift.renames import Rename, Renames, keep_advice, where_now
from reconciler.kinds.access import role_of
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredState
from reconciler.model.live import LiveFolder, LiveState
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical, canonical_role
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change, FieldDiff, Plan
from reconciler.plan.views import desired_folder_metadata, live_folder_view
from reconciler.words import plural


def rename_entries(
    renames: Renames, plan: Plan, desired: DesiredState, live: LiveState, tops: dict[str, str]
) -> tuple[set[str], list[Drift]]:
    """The entries, and the addresses of the planned changes they stand for."""
    absorbed: set[str] = set()
    entries = []
    for pair in renames.pairs:
        folded = _consequences(pair, renames, plan, live, tops)
        absorbed.update(folded)
        actions = (Action.CREATE, Action.DELETE) if pair.pruned else (Action.CREATE,)
        fix = f"apply would create {pair.path} anew"
        if pair.pruned:
            fix += f" and delete {pair.live.path} with what it holds ({_holds(folded, pair)})"
        summary = f"{where_now(pair)}; {fix}. {keep_advice(pair)}"
        entries.append(
            _entry(desired, pair.path, pair.live, actions, summary, tuple(sorted(folded)))
        )
        for path in sorted(p for p in renames.carried if is_under(p, pair.path)):
            folder = live.folders[live.paths[renames.carried[path]]]
            along = f"moved along with {addr.folder(pair.path)}"
            entries.append(_entry(desired, path, folder, actions, along, ()))
    return absorbed, entries


def _entry(
    desired: DesiredState,
    path: str,
    live: LiveFolder,
    actions: tuple[Action, ...],
    summary: str,
    related: tuple[str, ...],
) -> Drift:
    declared = desired.folders.get(path)
    return Drift(
        kind=DriftKind.MOVED,
        address=addr.folder(path),
        check=addr.folder(path),
        source=str(declared.source) if declared is not None else None,
        fields=_fields(desired, path, live),
        actions=actions,
        summary=summary,
        live_address=addr.folder(live.path),
        related=related,
    )


def _fields(desired: DesiredState, path: str, live: LiveFolder) -> tuple[FieldDiff, ...]:
    """The live folder against the declaration, as a patch would compare them."""
    declared = desired.folders.get(path)
    before = live_folder_view(live, with_cloud=False, titles={})
    after = replace(before, path=path, name=path.rsplit("/", 1)[1])
    if declared is not None:
        after = replace(
            after,
            description=after.description if declared.description is None else declared.description,
            metadata=canonical(desired_folder_metadata(declared, live.metadata)),
        )
    return field_diff(before, after)


def _consequences(
    pair: Rename, renames: Renames, plan: Plan, live: LiveState, tops: dict[str, str]
) -> set[str]:
    """Planned changes that only exist because the folder is at another path."""
    carried = {pair.path} | {p for p in renames.carried if is_under(p, pair.path)}
    out: set[str] = set()
    for change in plan.changes:
        path = addr.Address.parse(change.address).path
        if path is None:
            continue
        if change.kind == addr.Kind.FOLDER and Action.CREATE in change.actions:
            if addr.key_of(change.address) in carried:
                out.add(change.address)
        elif change.kind == addr.Kind.FOLDER_GROUP:
            if path in carried and _grant_holds(change, renames.live_path_of(path), live):
                out.add(change.address)
        elif is_under(path, pair.live.path) and (
            change.is_delete or change.kind in (addr.Kind.LINK, addr.Kind.ITEM)
        ):
            out.add(change.address)
    pruned = addr.folder(pair.live.path)
    out.update(a for a, top in tops.items() if top == pruned)
    return out


def _grant_holds(change: Change, live_path: str | None, live: LiveState) -> bool:
    """The grant the plan wants on the declared path is there on the renamed folder."""
    wanted = role_of(change.after)
    if Action.GRANT not in change.actions or live_path is None or wanted is None:
        return False
    uuid = live.paths.get(live_path)
    group_name = addr.Address.parse(change.address).member
    hashes = [h for h, g in live.groups.items() if g.name == group_name]
    if uuid is None or len(hashes) != 1:
        return False
    role = live.folder_groups.get(uuid, {}).get(hashes[0])
    return role is not None and canonical_role(role) == wanted


def _holds(folded: set[str], pair: Rename) -> str:
    inside = [
        a for a in folded if (addr.Address.parse(a).path or "").startswith(pair.live.path + "/")
    ]
    folders = sum(1 for a in inside if addr.kind_of(a) == addr.Kind.FOLDER)
    items = sum(1 for a in inside if addr.kind_of(a) == addr.Kind.ITEM)
    return f"{plural(folders, 'sub-folder')}, {plural(items, 'item')}"
