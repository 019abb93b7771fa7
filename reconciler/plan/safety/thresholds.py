"""``delete-threshold`` and ``change-threshold``: a plan that deletes or changes more than
``policy.max_delete_ratio`` / ``max_change_ratio`` of the live objects in scope keeps its
changes and is refused unless forced (from ``policy.min_existing`` live objects up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.plan.actions import Action
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict
from reconciler.plan.tree import Tree


def live_objects_in_scope(ctx: Context, tree: Tree) -> int:
    folders = sum(1 for p in tree.path_of.values() if any(is_under(p, r) for r in ctx.roots))
    groups = sum(1 for h in ctx.resolved.groups.values() if h is not None)
    datasets = sum(1 for d in ctx.resolved.datasets.values() if d is not None)
    tags = len(ctx.live.organisation_tags or {}) if ctx.desired.organisation_tags is not None else 0
    collections = len(ctx.live.collections)  # those of the top-level folders listed
    return folders + len(ctx.live.items) + groups + datasets + tags + collections


def refuse_thresholds(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    ctx = facts.ctx
    policy = ctx.desired.policy
    total = live_objects_in_scope(ctx, facts.tree)
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
    return [Verdict(r) for r in out]


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
