"""The closed set of (kind, actions) a plan can hold: what the planner emits and apply runs.

Every change in a plan has one of these shapes (each kind's module declares its own);
``diff`` checks its output against the table and ``planfile.loads`` refuses a document with
any other, so apply never runs a combination nobody designed (or tested: ``tests/test_apply_saved_plans.py`` applies a saved
plan of every shape here, and fails when a kind or an action is not in the table).

A dataset ``patch`` is planned but never kept: the API cannot change a dataset's
description, so ``withhold_unsupported`` holds it back and it is not a plan shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.kinds import all_specs
from reconciler.kinds.spec import Shape
from reconciler.model.addresses import Kind
from reconciler.plan.model import Change

__all__ = ["SHAPES", "Shape", "odd_shapes"]

# Each kind declares its shapes (``KindSpec.shapes``, in ``reconciler/kinds/<kind>.py``).
SHAPES: Mapping[Kind, frozenset[Shape]] = {spec.kind: spec.shapes for spec in all_specs()}


def odd_shapes(changes: Iterable[Change]) -> list[str]:
    """``address (kind: actions)`` of each change whose shape is not in ``SHAPES``."""
    out = []
    for change in changes:
        if change.actions not in SHAPES[change.kind]:
            actions = ", ".join(str(a) for a in change.actions)
            out.append(f"{change.address} ({change.kind}: {actions})")
    return out
