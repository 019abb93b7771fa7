"""The closed set of things a plan can do to one address.

A change carries a tuple of actions, so "moved and edited" is ``(MOVE, PATCH)``, a replacement
is ``(DELETE, CREATE)`` (plus ``SYNC`` for a cloud-synced folder that syncs on create), and a
dataset user's role change is ``(REVOKE, GRANT)`` because the API cannot update that role.
Automation scans the JSON for ``"delete"``; nothing else may mean "something is removed"
except ``unlink`` and ``revoke``, which remove relations, never data. ``adopt`` and
``release`` put our ownership marker on a live object and take it off (``adopt:`` and
``release:`` in the YAML): actions of their own, not a ``patch`` of the marker, so a reviewer
and automation see a change of ownership, which decides what later plans may prune.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Action(StrEnum):
    CREATE = "create"
    PATCH = "patch"
    MOVE = "move"
    DELETE = "delete"
    LINK = "link"
    UNLINK = "unlink"
    GRANT = "grant"
    REVOKE = "revoke"
    SYNC = "sync"
    ADOPT = "adopt"
    RELEASE = "release"

    @property
    def is_destructive(self) -> bool:
        """Removes an object or a relation: delete, unlink, revoke."""
        return self in _DESTRUCTIVE


_DESTRUCTIVE = frozenset({Action.DELETE, Action.UNLINK, Action.REVOKE})


def is_replace(actions: Iterable[Action]) -> bool:
    """Deleted and created again under the same address (the UUID changes)."""
    found = set(actions)
    return Action.DELETE in found and Action.CREATE in found


def is_delete(actions: Iterable[Action]) -> bool:
    """Removes the object for good (a replacement is not a delete)."""
    found = set(actions)
    return Action.DELETE in found and Action.CREATE not in found


def is_destructive(actions: Iterable[Action]) -> bool:
    return any(action.is_destructive for action in actions)


def is_role_change(actions: Iterable[Action]) -> bool:
    """A relation whose role changes through remove-then-add (dataset users)."""
    found = tuple(actions)
    return found == (Action.REVOKE, Action.GRANT)
