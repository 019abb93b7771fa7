"""The closed set of (kind, actions) a plan can hold: what the planner emits and apply runs.

Every change in a plan has one of these shapes; ``diff`` checks its output against the
table and ``planfile.loads`` refuses a document with any other, so apply never runs a
combination nobody designed (or tested: ``tests/test_apply_saved_plans.py`` applies a saved
plan of every shape here, and fails when a kind or an action is not in the table).

A dataset ``patch`` is planned but never kept: the API cannot change a dataset's
description, so ``withhold_unsupported`` holds it back and it is not a plan shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.model.addresses import Kind
from reconciler.plan.actions import Action
from reconciler.plan.model import Change

Shape = tuple[Action, ...]

_C, _P, _M, _D = Action.CREATE, Action.PATCH, Action.MOVE, Action.DELETE
_G, _R, _S = Action.GRANT, Action.REVOKE, Action.SYNC

SHAPES: Mapping[Kind, frozenset[Shape]] = {
    Kind.METADATA_SCHEMA: frozenset({(_C,), (_P,)}),
    Kind.GROUP: frozenset({(_C,), (_P,), (_D,)}),
    Kind.FOLDER: frozenset(
        {(_C,), (_C, _S), (_P,), (_M,), (_M, _P), (_D,), (_D, _C), (_D, _C, _S)}
        # a folder a stopped run created and never synced: synced now (``folders``)
        | {(_S,), (_P, _S), (_M, _S), (_M, _P, _S)}
    ),
    Kind.ITEM: frozenset({(_P,), (_M,), (_M, _P), (_D,)}),
    Kind.FOLDER_GROUP: frozenset({(_G,), (_R,)}),
    Kind.DATASET: frozenset({(_C,)}),
    Kind.DATASET_GROUP: frozenset({(_G,), (_R,)}),
    Kind.DATASET_USER: frozenset({(_G,), (_R,), (_R, _G)}),
    Kind.LINK: frozenset({(Action.LINK,), (Action.UNLINK,)}),
}


def odd_shapes(changes: Iterable[Change]) -> list[str]:
    """``address (kind: actions)`` of each change whose shape is not in ``SHAPES``."""
    out = []
    for change in changes:
        try:
            known = SHAPES[Kind(change.kind)]
        except ValueError:
            known = frozenset()
        if change.actions not in known:
            actions = ", ".join(str(a) for a in change.actions)
            out.append(f"{change.address} ({change.kind}: {actions})")
    return out
