"""The storage paths a change touches, for the filters that judge by path."""

from __future__ import annotations

from reconciler.model import addresses as addr
from reconciler.plan.model import Change

PATH_KINDS = {addr.Kind.FOLDER, addr.Kind.ITEM}


def paths_of(change: Change) -> list[str]:
    """The path a change's address names or hangs from, and its previous one (a move)."""
    found = [addr.Address.parse(change.address).path]
    if change.previous_address is not None:
        found.append(addr.Address.parse(change.previous_address).path)
    return [p for p in found if p is not None]
