"""``collections-inside``: a top-level folder that holds Index collections is not deleted
(nor replaced) while they are there. Withholds.

A collection lives in one top-level folder, and deleting the folder deletes its collections
with it (the sandbox cascades; Encord gives no other place for them to go). The folder
change would then delete objects that no change of the plan names: a hidden delete. So the
folder change, and the content deletes it depends on, wait until the folder holds no
collection, which the refusal says. That holds for a collection the plan deletes itself
(ours, pruned) too: apply replaces or deletes folders before it deletes collections, so the
folder would take the collection with it and the collection's delete would fail. It goes in
this plan, the folder in the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refusal, dependencies
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_folders_with_collections(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    live = facts.ctx.live
    if not live.collections:  # the usual plan: nothing to look up
        return []
    by_address: dict[str, Change] | None = None
    out = []
    for change in changes:
        if change.kind != addr.Kind.FOLDER or Action.DELETE not in change.actions:
            continue
        folder = live.folders.get(change.refs.uuid or "") if change.refs is not None else None
        if folder is None or folder.parent is not None:
            continue
        inside = sorted(c.name for c in live.collections.values() if c.folder == folder.path)
        if not inside:
            continue
        if by_address is None:
            by_address = {c.address: c for c in changes}
        content = dependencies(change.depends_on, by_address)
        held = (change.address, *sorted(a for a in content if by_address[a].is_delete))
        refusal = Refusal(
            code="collections-inside",
            message=(
                f"{change.address} holds Index collections ({', '.join(inside)}): deleting "
                "the folder would delete them with it; it waits until they are gone (stop "
                "declaring ours and the plan deletes them; delete others in Encord), then "
                "plan again"
            ),
            addresses=(change.address,),
        )
        out.append(Verdict(refusal, held))
    return out
