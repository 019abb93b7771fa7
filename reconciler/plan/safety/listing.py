"""``listing-guard``: a live read that is incomplete, misses a declared root, came back
empty, or is much smaller than the declared scope never turns into deletes. Every
destructive change is withheld ("lost permissions or a truncated listing?")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.model.addresses import is_under
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict
from reconciler.plan.tree import Tree

_SHRUNK_SHARE = 0.5  # fewer than half the declared folders found live counts as "much smaller"


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


def withhold_unsafe_listing(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    problems = _listing_problems(facts.ctx, facts.tree, facts.replaced)  # folders: cheap
    if not problems:
        return []
    destructive = tuple(c.address for c in changes if c.is_destructive)
    if not destructive:
        return []
    refusal = Refusal(
        code="listing-guard",  # the code predates the vocabulary; plans and docs carry it
        message=(
            f"{len(destructive)} destructive changes held back because "
            + "; ".join(problems)
            + ". Lost permissions or a truncated listing? Check the key's access and plan again"
        ),
    )
    return [Verdict(refusal, destructive)]
