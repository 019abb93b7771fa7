"""``protected``: ``policy.protect`` globs name what is never deleted or moved. Withholds."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model.globs import compile_glob
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.paths import PATH_KINDS, paths_of
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_protected(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    protect = facts.ctx.desired.policy.protect
    patterns = [compile_glob(p) for p in protect]
    if not patterns:
        return []
    hit = []
    for change in changes:
        if Action.DELETE not in change.actions and Action.MOVE not in change.actions:
            continue
        paths = paths_of(change) if change.kind in PATH_KINDS else [change.address]
        if any(p.match(path) for p in patterns for path in paths):
            hit.append(change.address)
    if not hit:
        return []
    refusal = Refusal(
        code="protected",
        message=(
            f"policy.protect ({', '.join(protect)}) forbids deleting or moving these; change "
            "the config so they stay, or narrow policy.protect if this is intended"
        ),
    )
    return [Verdict(refusal, tuple(hit))]
