"""What kinds read from a change to bundle it: the objects it refers to."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from reconciler.model import addresses as addr

if TYPE_CHECKING:
    from reconciler.plan.model import Change


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


def depth(path: str | None) -> int:
    return len(addr.split_path(path or ""))
