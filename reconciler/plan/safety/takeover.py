"""``takeover``: ``adopt: true`` on an object another config's ownership id marks takes it
from that config, whose own prune would then never touch it again. So it is planned only
with ``--takeover`` (recorded in the plan, ``Plan.takeover``); without it the adoption and
every other change to the object are withheld. (``foreign-owned`` leaves adopted objects to
this filter, which runs before it.)"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.ownership import owner_of, subject_of
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_takeover(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    ctx = facts.ctx
    if ctx.options.takeover:
        return []
    wanted: dict[str, str] = {}  # subject -> the other ownership id
    for change in changes:
        if Action.ADOPT not in change.actions:  # most changes: no owner to look up
            continue
        owner = owner_of(ctx, change)
        if owner is not None and owner != ctx.owner:
            wanted[subject_of(change)] = owner
    verdicts = []
    for subject, owner in sorted(wanted.items()):
        hit = tuple(c.address for c in changes if subject_of(c) == subject)
        refusal = Refusal(
            code="takeover",
            message=(
                f"{subject} is declared adopt: true but is managed by another config "
                f"('{owner}'); plan with --takeover to make it ours (then '{owner}' no "
                "longer manages it), or remove adopt: true"
            ),
            addresses=(subject,),
        )
        verdicts.append(Verdict(refusal, hit))
    return verdicts
