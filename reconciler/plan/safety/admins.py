"""``no-admin``: a folder or dataset that has an admin keeps one. The changes that would
remove the last one (revokes, role changes, deleting an admin group) are withheld."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.kinds.access import role_of
from reconciler.model import addresses as addr
from reconciler.plan.canonical import canonical_role
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict
from reconciler.plan.tree import Tree


def _removes_admin(change: Change) -> bool:
    return role_of(change.before) == "admin" and role_of(change.after) != "admin"


def _adds_admin(change: Change) -> bool:
    return role_of(change.after) == "admin" and role_of(change.before) != "admin"


def withhold_lost_admin(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    """Folders this plan deletes (``Facts.deleted``) need no admin."""
    ctx = facts.ctx
    # Only groups and role relations are judged here: a large plan's item changes and links
    # are left out once, not walked by each check below.
    judged = [c for c in changes if c.kind in _JUDGED]
    deleted_groups = {c.refs.uuid for c in judged if c.kind == addr.Kind.GROUP and c.is_delete}
    return _folders(ctx, facts.tree, facts.deleted, judged, deleted_groups) + _datasets(
        ctx, judged, deleted_groups
    )


_JUDGED = frozenset(
    {addr.Kind.GROUP, addr.Kind.FOLDER_GROUP, addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER}
)


def _folders(
    ctx: Context,
    tree: Tree,
    gone: frozenset[str],
    changes: Sequence[Change],
    deleted: set[str | None],
) -> list[Verdict]:
    out: list[Verdict] = []
    live = ctx.live
    removing: dict[tuple[str | None, str | None], str] = {
        (c.refs.folder_uuid, c.refs.group_hash): c.address
        for c in changes
        if c.kind == addr.Kind.FOLDER_GROUP and _removes_admin(c)
    }
    touched: set[str | None] = {f for f, _ in removing} | {
        f for f, grants in live.folder_groups.items() if any(h in deleted for h in grants)
    }
    for uuid in sorted(u for u in touched if u is not None and u in live.folders and u not in gone):
        chain = _chain(ctx, uuid)
        had = [
            (f, h)
            for f in chain
            for h, r in live.folder_groups.get(f, {}).items()
            if canonical_role(r) == "admin"
        ]
        kept = [(f, h) for f, h in had if (f, h) not in removing and h not in deleted]
        gained = any(
            c.kind == addr.Kind.FOLDER_GROUP and c.refs.folder_uuid in chain and _adds_admin(c)
            for c in changes
        )
        if had and not kept and not gained:
            culprits = [removing[k] for k in had if k in removing] + [
                addr.group(ctx.resolved.group_names.get(h, h)) for _, h in had if h in deleted
            ]
            out.append(_verdict(addr.folder(tree.path_of[uuid]), culprits))
    return out


def _chain(ctx: Context, uuid: str) -> list[str]:
    out = []
    current: str | None = uuid
    while current is not None and current in ctx.live.folders:
        out.append(current)
        current = ctx.live.folders[current].parent
    return out


def _datasets(ctx: Context, changes: Sequence[Change], deleted: set[str | None]) -> list[Verdict]:
    out: list[Verdict] = []
    for dataset in sorted(ctx.live.datasets.values(), key=lambda d: d.title):
        removing = [
            c
            for c in changes
            if c.refs.dataset_uuid == dataset.uuid
            and c.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER)
            and _removes_admin(c)
        ]
        groups_gone = [
            h
            for h in dataset.groups
            if h in deleted and canonical_role(dataset.groups[h]) == "admin"
        ]
        if not removing and not groups_gone:
            continue
        removed = {(c.kind, c.refs.group_hash or c.refs.email) for c in removing}
        had = _admins(dataset.groups, addr.Kind.DATASET_GROUP) + _admins(
            dataset.users, addr.Kind.DATASET_USER
        )
        kept = [a for a in had if a not in removed and a[1] not in deleted]
        gained = any(
            c.refs.dataset_uuid == dataset.uuid
            and c.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER)
            and _adds_admin(c)
            for c in changes
        )
        if had and not kept and not gained:
            culprits = [c.address for c in removing] + [
                addr.group(ctx.resolved.group_names.get(h, h)) for h in groups_gone
            ]
            out.append(_verdict(addr.dataset(dataset.title), culprits))
    return out


def _admins(roles: Mapping[str, str], kind: str) -> list[tuple[str, str]]:
    return [(kind, who) for who, role in roles.items() if canonical_role(role) == "admin"]


def _verdict(subject: str, culprits: list[str]) -> Verdict:
    refusal = Refusal(
        code="no-admin",
        message=(
            f"{subject} would be left without an admin; these changes are held back. "
            "Declare at least one admin group or user for it"
        ),
        addresses=(subject,),
    )
    return Verdict(refusal, tuple(culprits))
