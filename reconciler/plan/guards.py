"""Plan-level guards (octoDNS-style validation of the plan as a whole).

* ``withhold_lost_admin``: a folder or dataset that has an admin must keep one; the changes
  that would remove the last one are withheld.
* ``withhold_unsafe_listing``: a listing that is incomplete, missing a declared root, empty,
  or much smaller than the declared scope never turns into deletes: every destructive
  change is withheld ("lost permissions or truncated listing?").
* ``refuse_replacements`` and ``refuse_thresholds`` keep their changes in the plan but block
  it unless forced (``policy.allow_replace`` lifts the first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical_role
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety import Withholding
from reconciler.plan.tree import Tree

_SHRUNK_SHARE = 0.5  # fewer than half the declared folders found live counts as "much smaller"


def _removes_admin(change: Change) -> bool:
    before = (change.before or {}).get("role")
    after = (change.after or {}).get("role")
    return before == "admin" and after != "admin"


def _adds_admin(change: Change) -> bool:
    before = (change.before or {}).get("role")
    after = (change.after or {}).get("role")
    return after == "admin" and before != "admin"


def withhold_lost_admin(
    ctx: Context, tree: Tree, deleted: frozenset[str], changes: list[Change], held: Withholding
) -> None:
    """``deleted``: live folders this plan deletes (they need no admin)."""
    deleted_groups = {c.refs.uuid for c in changes if c.kind == addr.Kind.GROUP and c.is_delete}
    _folders(ctx, tree, deleted, changes, deleted_groups, held)
    _datasets(ctx, changes, deleted_groups, held)


def _folders(
    ctx: Context,
    tree: Tree,
    gone: frozenset[str],
    changes: list[Change],
    deleted: set[str | None],
    held: Withholding,
) -> None:
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
            _withhold_admin(held, addr.folder(tree.path_of[uuid]), culprits)


def _chain(ctx: Context, uuid: str) -> list[str]:
    out = []
    current: str | None = uuid
    while current is not None and current in ctx.live.folders:
        out.append(current)
        current = ctx.live.folders[current].parent
    return out


def _datasets(
    ctx: Context, changes: list[Change], deleted: set[str | None], held: Withholding
) -> None:
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
            _withhold_admin(held, addr.dataset(dataset.title), culprits)


def _admins(roles: Mapping[str, str], kind: str) -> list[tuple[str, str]]:
    return [(kind, who) for who, role in roles.items() if canonical_role(role) == "admin"]


def _withhold_admin(held: Withholding, subject: str, culprits: list[str]) -> None:
    held.add(
        Refusal(
            code="no-admin",
            message=(
                f"{subject} would be left without an admin; these changes are held back. "
                "Declare at least one admin group or user for it"
            ),
            addresses=(subject,),
        ),
        culprits,
    )


def _listing_problems(ctx: Context, tree: Tree, replaced: Mapping[str, str]) -> list[str]:
    live, desired = ctx.live, ctx.desired
    problems = []
    if not live.complete:
        why = "; ".join(live.problems[:3]) or "a page or a subtree could not be read"
        problems.append(f"the live listing is incomplete ({why})")
    missing = [
        r for r in sorted(set(live.missing_roots) & set(ctx.roots)) if _expected(ctx, tree, r)
    ]
    if missing:
        problems.append(f"roots that should exist were not found live: {', '.join(missing)}")
    below = [p for p in desired.folders if p not in ctx.roots]
    if live.listing_counts and sum(live.listing_counts.values()) == 0 and below:
        problems.append("every root listing came back empty")
    declared = len(desired.folders)
    if declared >= desired.policy.min_existing:
        found = sum(1 for p in desired.folders if p in tree.index or p in replaced)
        if found < declared * _SHRUNK_SHARE:
            problems.append(f"only {found} of {declared} declared folders were found live")
    return problems


def _expected(ctx: Context, tree: Tree, root: str) -> bool:
    """A missing root is suspicious unless this plan creates it or it is a past path."""
    if tree.exists(root):
        return False
    if any(root in f.previously for f in ctx.desired.folders.values()):
        return False
    return not any(is_under(root, created) for created in tree.created)


def withhold_unsafe_listing(
    ctx: Context,
    tree: Tree,
    replaced: Mapping[str, str],
    changes: list[Change],
    held: Withholding,
) -> None:
    destructive = [c.address for c in changes if c.is_destructive]
    if not destructive:
        return
    problems = _listing_problems(ctx, tree, replaced)
    if not problems:
        return
    held.add(
        Refusal(
            code="listing-guard",
            message=(
                f"{len(destructive)} destructive changes held back because "
                + "; ".join(problems)
                + ". Lost permissions or a truncated listing? Check the key's access and plan again"
            ),
        ),
        destructive,
    )


def refuse_replacements(ctx: Context, changes: list[Change]) -> list[Refusal]:
    """A replacement needs --force; ``policy.allow_replace`` lifts that only for folders this
    ownership id created: replacing anyone else's loses what was theirs."""
    by_address = {c.address: c for c in changes}
    out = []
    for change in changes:
        if not change.is_replace:
            continue
        ours = _replaces_ours(ctx, change)
        if ours and ctx.desired.policy.allow_replace:
            continue
        if ours:
            message = (
                f"{change.address} must be replaced: {change.reason}. Set "
                "policy.allow_replace: true or use --force to accept"
            )
        else:
            message = (
                f"{change.address} must be replaced: {change.reason}. It was not created by "
                f"ownership id {ctx.owner}: replacing it loses its UUID, its metadata and the "
                "dataset links and grants on what it holds (policy.allow_replace covers only "
                "our own folders); use --force to accept"
            )
        out.append(
            Refusal(
                code="replace",
                message=message,
                addresses=(change.address,),
                withheld=False,
                count=1 + len(_closure(change, by_address)),
            )
        )
    return out


def _replaces_ours(ctx: Context, change: Change) -> bool:
    uuid = change.refs.uuid if change.refs is not None else None
    live = ctx.live.folders.get(uuid) if uuid is not None else None
    return live is not None and ctx.folder_owner(live) == ctx.owner


def _closure(change: Change, by_address: Mapping[str, Change]) -> set[str]:
    """Everything a change depends on, transitively (a replacement's content deletes)."""
    seen: set[str] = set()
    stack = list(change.depends_on)
    while stack:
        address = stack.pop()
        if address in seen or address not in by_address:
            continue
        seen.add(address)
        stack.extend(by_address[address].depends_on)
    return seen


def live_objects_in_scope(ctx: Context, tree: Tree) -> int:
    folders = sum(1 for p in tree.path_of.values() if any(is_under(p, r) for r in ctx.roots))
    groups = sum(1 for h in ctx.resolved.groups.values() if h is not None)
    datasets = sum(1 for d in ctx.resolved.datasets.values() if d is not None)
    return folders + len(ctx.live.items) + groups + datasets


def refuse_thresholds(ctx: Context, tree: Tree, changes: list[Change]) -> list[Refusal]:
    policy = ctx.desired.policy
    total = live_objects_in_scope(ctx, tree)
    if total < policy.min_existing or total == 0:
        return []
    objects = (addr.Kind.FOLDER, addr.Kind.ITEM, addr.Kind.GROUP, addr.Kind.DATASET)
    deletes = [c for c in changes if Action.DELETE in c.actions]
    changed = [c for c in changes if c.kind in objects and c.before is not None]
    out = []
    if len(deletes) / total > policy.max_delete_ratio:
        out.append(
            _threshold("delete-threshold", "delete", deletes, total, policy.max_delete_ratio)
        )
    if len(changed) / total > policy.max_change_ratio:
        out.append(
            _threshold("change-threshold", "change", changed, total, policy.max_change_ratio)
        )
    return out


def _threshold(
    code: Literal["delete-threshold", "change-threshold"],
    what: str,
    hits: list[Change],
    total: int,
    limit: float,
) -> Refusal:
    shown = [c.address for c in hits if c.kind != addr.Kind.ITEM] or [c.address for c in hits]
    return Refusal(
        code=code,
        message=(
            f"this plan would {what} {len(hits)} of {total} live objects in scope "
            f"({len(hits) / total:.0%}), more than policy.max_{what}_ratio {limit:.0%}; "
            "review it and use --force if intended"
        ),
        addresses=tuple(sorted(shown)),
        withheld=False,
        count=len(hits),
    )
