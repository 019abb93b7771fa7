"""Where a ``previously:`` folder may be when a run stopped part-way through moving it.

A move that also renames is two requests: move to the new parent, then rename. A run stopped
between them (killed, Ctrl-C, a rename that failed after its retries) leaves the folder at
``<new parent>/<old name>``; a rename sent first would leave it at ``<old parent>/<new name>``.
Neither is the declared path nor a ``previously`` path, so without this module the next plan
would create an empty folder at the declared path and prune the real one with its items.

``stops`` lists those intermediate paths; ``referred`` maps every live path a declaration's
``previously`` may refer to (the path itself and its intermediates) to that declaration, so
prune never deletes such a folder (it withholds the delete instead, saying how to finish).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.addresses import move_stops as stops
from reconciler.model.desired import DesiredFolder
from reconciler.plan.context import Context
from reconciler.plan.tree import Tree


def referred(folders: Mapping[str, DesiredFolder], live_paths: Mapping[str, str]) -> dict[str, str]:
    """Live path -> the declared path whose ``previously`` may mean the folder there. The
    half-way paths count only while nothing is at the ``previously`` path itself: a folder
    there is the one meant, and the move has not started."""
    out: dict[str, str] = {}
    for path in sorted(folders):
        for previous in folders[path].previously:
            half_way = () if previous in live_paths else stops(path, previous)
            for where in (previous, *half_way):
                if where not in folders:
                    out.setdefault(where, path)
    return out


def candidate(tree: Tree, uuid: str | None, declared: set[str]) -> str | None:
    """``uuid`` when it may be moved to a declared path: not moved already, not declared."""
    if uuid is None or uuid in tree.moves:
        return None
    if tree.path_of.get(uuid) in declared:
        return None  # that folder is another declaration's; config validation reports it
    return uuid


def half_moved(
    ctx: Context, tree: Tree, folder: DesiredFolder, declared: set[str]
) -> tuple[str | None, str]:
    """The folder a stopped run was moving here (by the UUID its journal names, wherever it is
    now), else a folder of ours at an intermediate path of one of ``folder``'s ``previously``
    moves. Only one carrying our marker is taken by path: anything else there may be
    somebody's folder that merely shares the name (prune then withholds its delete)."""
    journaled = journaled_moves(ctx).get(folder.path)
    if journaled is not None and journaled in ctx.live.folders:
        uuid = candidate(tree, journaled, declared)
        if uuid is not None and ctx.live.folders[uuid].path != folder.path:
            return uuid, ", ".join(folder.previously)
    for previous in folder.previously:
        for stop in stops(folder.path, previous):
            if any(is_under(stop, root) for root in ctx.live.ambiguous):
                continue
            uuid = candidate(tree, ctx.live.paths.get(stop), declared)
            if uuid is not None and ctx.folder_owner(ctx.live.folders[uuid]) == ctx.owner:
                return uuid, previous
    return None, ""


def journaled_moves(ctx: Context) -> dict[str, str]:
    """Declared folder path -> the UUID a stopped run's unacknowledged step was changing."""
    out: dict[str, str] = {}
    for uuid, address in ctx.options.in_flight:
        parsed = addr.Address.parse(address)  # a folder made unique by ``#uuid`` is not declared
        declared = parsed.member is None and parsed.key in ctx.desired.folders
        if parsed.kind == addr.Kind.FOLDER and declared:
            out[parsed.key] = uuid
    return out
