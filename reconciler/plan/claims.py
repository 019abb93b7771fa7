"""Adopt and release: our ownership marker put on, or taken off, a declared live object.

``adopt: true`` on a folder, group or dataset makes the live object ours though something else
made it (``Action.ADOPT``): the marker is written, so ``prune: owned`` and ``unlink: owned``
treat it as ours from then on. ``release: true`` takes our marker off (``Action.RELEASE``) and
deletes nothing, so the object survives when its declaration is removed later. Each is planned
only when it changes something: adopting what is ours already, or releasing what is not, is
no change. An object marked by another ownership id is taken over only with ``--takeover``
(``reconciler.plan.safety.takeover``). A folder's marker is client metadata (``OWNER_KEY``); a
group's or dataset's is the tag at the end of its description (``ownership_tag``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.desired import OWNER_KEY, Claim
from reconciler.plan.actions import Action
from reconciler.plan.canonical import strip_tag, tagged


def claim_action(claim: Claim | None, live_owner: str | None, owner: str) -> Action | None:
    """The ownership action a declaration's claim makes on a live object, if any."""
    if claim == "adopt" and live_owner != owner:
        return Action.ADOPT
    if claim == "release" and live_owner == owner:
        return Action.RELEASE
    return None


def claimed_metadata(
    metadata: Mapping[str, Any], action: Action | None, owner: str
) -> dict[str, Any]:
    """A folder's metadata after the action: our marker set, or removed."""
    out = {k: v for k, v in metadata.items() if k != OWNER_KEY or action is None}
    if action == Action.ADOPT:
        out[OWNER_KEY] = owner
    return out


def claimed_description(description: str, action: Action | None, owner: str) -> str:
    """A group's or dataset's description after the action: our tag instead of any other,
    or no tag."""
    if action == Action.ADOPT:
        return tagged(strip_tag(description), owner)
    if action == Action.RELEASE:
        return strip_tag(description)
    return description


def claim_reason(action: Action, live_owner: str | None) -> str:
    """Why the change is made, for its ``reason``."""
    if action == Action.RELEASE:
        return "release: our ownership marker comes off; nothing is deleted"
    if live_owner is None:
        return "adopt: it becomes ours (our ownership marker is added)"
    return f"adopt: taken over from '{live_owner}' (--takeover)"
