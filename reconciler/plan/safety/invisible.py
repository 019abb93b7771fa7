"""``invisible-root``: a top-level folder that a caller who cannot list the whole
organisation would create may exist out of its sight; the plan keeps the create and is
refused unless forced (see ``reconciler.plan.caller``)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.caller import limited
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict
from reconciler.words import plural


def _creates_top_level(change: Change) -> bool:
    return (
        change.kind == addr.Kind.FOLDER
        and change.actions[:1] == (Action.CREATE,)
        and change.refs.parent_path is None
        and change.refs.parent_uuid is None
    )


def refuse_invisible_roots(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    caller = facts.ctx.live.caller
    if caller is None or not limited(facts.ctx):
        return []
    creates = sorted(c.address for c in changes if _creates_top_level(c))
    if not creates:
        return []
    refusal = Refusal(
        code="invisible-root",
        message=(
            f"{plural(len(creates), 'top-level folder')} would be created by {caller.text()}, "
            "who cannot list the whole organisation: this key may not see an existing "
            "folder of that name. Plan with an organisation admin's key, or use --force "
            "if the folder really does not exist"
        ),
        addresses=tuple(creates),
        withheld=False,
        count=len(creates),
    )
    return [Verdict(refusal)]
