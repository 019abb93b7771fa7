"""``replace``: a folder that must be deleted and created again (its cloud sync changed)
stays in the plan, and the plan is refused unless forced; ``policy.allow_replace`` lifts
that for folders this ownership id created."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal, dependencies
from reconciler.plan.safety.verdicts import Facts, Verdict


def refuse_replacements(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    """A replacement needs --force; ``policy.allow_replace`` lifts that only for folders this
    ownership id created: replacing anyone else's loses what was theirs."""
    ctx = facts.ctx
    replacing = [c for c in changes if c.is_replace]
    if not replacing:  # the usual plan: no index of its changes to make
        return []
    by_address = {c.address: c for c in changes}
    out = []
    for change in replacing:
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
        refusal = Refusal(
            code="replace",
            message=message,
            addresses=(change.address,),
            withheld=False,
            count=1 + len(dependencies(change.depends_on, by_address)),  # with its content deletes
        )
        out.append(Verdict(refusal))
    return out


def _replaces_ours(ctx: Context, change: Change) -> bool:
    uuid = change.refs.uuid if change.refs is not None else None
    live = ctx.live.folders.get(uuid) if uuid is not None else None
    return live is not None and ctx.folder_owner(live) == ctx.owner
