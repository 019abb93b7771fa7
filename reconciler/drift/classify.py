"""One planned change read as drift: its kind, its fields (live → declared) and one line.

The planner already says everything; this module only frames it as an audit. A change with no
field diff of its own (a create, a delete, a link) gets a synthetic one (``exists``,
``linked``), so every drift entry says field by field what differs. A group patch that touches
both its description and its members is two entries (``changed`` and ``membership``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.drift.model import Drift, DriftKind
from reconciler.kinds import spec_of
from reconciler.kinds.access import role_of
from reconciler.kinds.group import GroupPayload
from reconciler.kinds.user import UserPayload
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, FieldDiff

# "rows": a registration's every row (its counts and the plan's sample say enough)
_QUIET_FIELDS = {"path", "name", "title", "rows"}


def kind_of(change: Change) -> DriftKind:
    """A delete is extra, a move moved (only folders and items move); otherwise the kind's
    own class if it has one (``KindSpec.drift``: links, access, an item's metadata), a
    create missing, anything else changed."""
    acts = set(change.actions)
    if change.is_delete:
        return DriftKind.EXTRA
    if Action.MOVE in acts:
        return DriftKind.MOVED
    drift = spec_of(change.kind).drift
    if drift is not None:
        return DriftKind(drift)
    if Action.CREATE in acts and not change.is_replace:
        return DriftKind.MISSING
    return DriftKind.CHANGED


def fields_of(change: Change) -> tuple[FieldDiff, ...]:
    """What differs, live (``before``) → declared (``after``)."""
    if change.is_delete:
        return (FieldDiff(("exists",), "change", True, False),)
    field = spec_of(change.kind).drift_field
    if field is not None:  # a relation that is there or not: a link
        linked = Action.LINK in change.actions
        return (FieldDiff((field,), "change", not linked, linked),)
    if Action.CREATE in change.actions and not change.is_replace:
        return (FieldDiff(("exists",), "change", False, True), *_created_fields(change.after))
    return change.diff


def _created_fields(after: Mapping[str, Any] | None) -> tuple[FieldDiff, ...]:
    out = []
    for key, value in (after or {}).items():
        if key in _QUIET_FIELDS or value in (None, "", {}, []):
            continue
        out.append(FieldDiff((key,), "add", None, value))
    return tuple(out)


def entries_for(change: Change, *, check: str, related: tuple[str, ...] = ()) -> list[Drift]:
    """The drift entries one change stands for (two for a group's description + members)."""
    kind = kind_of(change)
    fields = fields_of(change)
    split = spec_of(change.kind).drift_split
    if split is not None and Action.PATCH in change.actions:
        return _split_entries(change, check, split)
    return [
        Drift(
            kind=kind,
            address=change.address,
            check=check,
            source=change.source,
            fields=fields,
            actions=change.actions,
            summary=summary_of(change, kind),
            live_address=change.previous_address if kind is DriftKind.MOVED else None,
            related=related,
        )
    ]


def _split_entries(change: Change, check: str, split: str) -> list[Drift]:
    """A patch whose ``split`` field (a group's members) is reported as membership drift,
    apart from the rest."""
    members = tuple(d for d in change.diff if d.path[:1] == (split,))
    others = tuple(d for d in change.diff if d.path[:1] != (split,))
    out = []
    for kind, fields in ((DriftKind.CHANGED, others), (DriftKind.MEMBERSHIP, members)):
        if fields:
            out.append(
                Drift(
                    kind=kind,
                    address=change.address,
                    check=check,
                    source=change.source,
                    fields=fields,
                    actions=change.actions,
                    summary=_membership_line(change)
                    if kind is DriftKind.MEMBERSHIP
                    else _changed_line(fields),
                )
            )
    return out


def _membership_line(change: Change) -> str:
    before = set(GroupPayload.of(change.before).members)
    after = set(GroupPayload.of(change.after).members)
    added, removed = sorted(after - before), sorted(before - after)
    parts = []
    if added:
        parts.append(f"declared but not members: {', '.join(added)}")
    if removed:
        parts.append(f"members not declared: {', '.join(removed)}")
    return "; ".join(parts) or "members differ"


def _changed_line(fields: tuple[FieldDiff, ...]) -> str:
    names = sorted({str(d.path[0]) for d in fields if d.path})
    return f"declared {', '.join(names)} differ{'s' if len(names) == 1 else ''} from live"


def _user_line(change: Change) -> str:
    """An organisation member added, removed or re-roled out of band."""
    live, declared = UserPayload.of(change.before), UserPayload.of(change.after)
    if live is None:
        return "declared, not a member of the organisation (apply would add them)"
    held = f"{live.role} ({live.type}) in Encord"
    if declared is None:
        return f"{held}; not declared (apply would remove them)"
    return (
        f"{held}; declared {declared.role} ({declared.type}) (apply would remove and re-add them)"
    )


def _access_line(change: Change) -> str:
    live, declared = role_of(change.before), role_of(change.after)
    if live is None:
        return f"no role in Encord; declared {declared}"
    if declared is None:
        return f"holds {live} in Encord; not declared (apply would revoke it)"
    return f"holds {live} in Encord; declared {declared}"


def _claim_line(change: Change) -> str | None:
    """An adoption or release with no declared field differing: what the claim would do."""
    if Action.PATCH in change.actions:
        return None
    if Action.ADOPT in change.actions:
        return "declared adopt: true, not ours yet (apply would put our ownership marker on it)"
    if Action.RELEASE in change.actions:
        return "declared release: true, still ours (apply would take our ownership marker off)"
    return None


def summary_of(change: Change, kind: DriftKind) -> str:
    """One line, live vs declared. (``Change.reason`` is display-only; so is this.)"""
    if change.kind == addr.Kind.USER:
        return _user_line(change)
    if kind is DriftKind.EXTRA or change.is_replace:
        return change.reason or "not declared; prune would delete it"
    if kind is DriftKind.MISSING:
        return "declared, not in Encord (apply would create it)"
    if kind is DriftKind.ACCESS:
        return _access_line(change)
    if kind is DriftKind.MEMBERSHIP:  # an item of a collection (a group's members split)
        if Action.LINK in change.actions:
            return "selected by the collection's items but not in it"
        return "in the collection, but no selector selects it (apply would remove it)"
    if kind is DriftKind.LINKS:
        if Action.LINK in change.actions:
            return "selected by the dataset's items but not linked"
        return "linked, but no selector selects it (apply would unlink it)"
    if kind is DriftKind.MOVED:
        line = f"live at {addr.key_of(change.previous_address or change.address)}"
        patched = [d for d in change.diff if d.path[:1] not in (("path",), ("name",))]
        return line + (f"; {_changed_line(tuple(patched))}" if patched else "")
    claim = _claim_line(change)
    if claim is not None:
        return claim
    if kind is DriftKind.METADATA:
        keys = sorted({str(d.path[1]) for d in change.diff if len(d.path) > 1})
        more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
        return f"metadata keys differ: {', '.join(keys[:8])}{more}" if keys else "metadata differs"
    return _changed_line(change.diff)
