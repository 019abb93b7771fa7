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
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, FieldDiff

_ACCESS_KINDS = {addr.Kind.FOLDER_GROUP, addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER}
_QUIET_FIELDS = {"path", "name", "title"}


def kind_of(change: Change) -> DriftKind:
    acts = set(change.actions)
    if change.is_delete:
        return DriftKind.EXTRA
    if change.kind == addr.Kind.LINK:
        return DriftKind.LINKS
    if change.kind in _ACCESS_KINDS:
        return DriftKind.ACCESS
    if Action.MOVE in acts:
        return DriftKind.MOVED
    if change.kind == addr.Kind.ITEM:
        return DriftKind.METADATA
    if Action.CREATE in acts and not change.is_replace:
        return DriftKind.MISSING
    return DriftKind.CHANGED


def fields_of(change: Change) -> tuple[FieldDiff, ...]:
    """What differs, live (``before``) → declared (``after``)."""
    if change.is_delete:
        return (FieldDiff(("exists",), "change", True, False),)
    if change.kind == addr.Kind.LINK:
        linked = Action.LINK in change.actions
        return (FieldDiff(("linked",), "change", not linked, linked),)
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
    if change.kind == addr.Kind.GROUP and Action.PATCH in change.actions:
        return _group_entries(change, check)
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


def _group_entries(change: Change, check: str) -> list[Drift]:
    members = tuple(d for d in change.diff if d.path[:1] == ("members",))
    others = tuple(d for d in change.diff if d.path[:1] != ("members",))
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
    before = set((change.before or {}).get("members", ()))
    after = set((change.after or {}).get("members", ()))
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


def _role(view: Mapping[str, Any] | None) -> str | None:
    value = (view or {}).get("role")
    return value if isinstance(value, str) else None


def _access_line(change: Change) -> str:
    live, declared = _role(change.before), _role(change.after)
    if live is None:
        return f"no role in Encord; declared {declared}"
    if declared is None:
        return f"holds {live} in Encord; not declared (apply would revoke it)"
    return f"holds {live} in Encord; declared {declared}"


def summary_of(change: Change, kind: DriftKind) -> str:
    """One line, live vs declared. (``Change.reason`` is display-only; so is this.)"""
    if kind is DriftKind.EXTRA or change.is_replace:
        return change.reason or "not declared; prune would delete it"
    if kind is DriftKind.MISSING:
        return "declared, not in Encord (apply would create it)"
    if kind is DriftKind.ACCESS:
        return _access_line(change)
    if kind is DriftKind.LINKS:
        if Action.LINK in change.actions:
            return "selected by the dataset's items but not linked"
        return "linked, but no selector selects it (apply would unlink it)"
    if kind is DriftKind.MOVED:
        line = f"live at {addr.key_of(change.previous_address or change.address)}"
        patched = [d for d in change.diff if d.path[:1] not in (("path",), ("name",))]
        return line + (f"; {_changed_line(tuple(patched))}" if patched else "")
    if kind is DriftKind.METADATA:
        keys = sorted({str(d.path[1]) for d in change.diff if len(d.path) > 1})
        more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
        return f"metadata keys differ: {', '.join(keys[:8])}{more}" if keys else "metadata differs"
    return _changed_line(change.diff)
