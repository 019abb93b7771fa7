"""A saved plan judged against the config it claims to come from, before it is applied.

The checksum (and the optional signature) say a plan file is the one that was made; they do
not say the config would make it. A plan spliced by hand and re-sealed could delete what the
config protects, what another ownership id owns, or what prune never allows. So apply plans
afresh from the config and the live organisation, and every destructive change of the saved
plan must be one the fresh plan makes too (same address, same actions). Creates and patches
are not judged: they are re-checked against live state before each bundle as it is.

The fresh plan's read also spares most of those re-reads (``vouched_for``): a change it
makes alike, to an object it read with the fingerprint the saved plan recorded, is one the
bundle's re-read would find fresh (an unchanged fingerprint settles it, ``apply/freshness``),
so that read is trusted for it as ``--auto-approve`` trusts its own.
"""

from __future__ import annotations

from collections.abc import Collection

from reconciler.plan.model import Change, Plan


def unplanned_removals(saved: Plan, fresh: Plan, *, done: Collection[int] = ()) -> list[Change]:
    """Destructive changes of ``saved`` that ``fresh`` does not make; ``done``: indices of
    ``saved`` changes an earlier run of it finished (gone from live, so not planned now)."""
    removals = [(n, change) for n, change in enumerate(saved.changes) if change.is_destructive]
    if not removals:  # most plans (and hashing 100,000 action tuples of enums is not free)
        return []
    at = {change.address for _, change in removals}
    planned = {(c.address, c.actions) for c in fresh.changes if c.address in at}
    return [
        change
        for n, change in removals
        if n not in done and (change.address, change.actions) not in planned
    ]


def vouched_for(saved: Plan, fresh: Plan) -> frozenset[str]:
    """The addresses of the changes of ``saved`` that ``fresh`` makes alike (same actions,
    same previous address, same live ids) to an object it read as ``saved`` did: the same
    fingerprint, ``lastEditedAt`` or a content hash, so untouched since. Changes without a
    fingerprint (creates) are not among them: their re-read is what finds an object someone
    made meanwhile, or one an unacknowledged attempt made."""
    made = {c.address: c for c in fresh.changes if c.fingerprint}
    out = []
    for change in saved.changes:
        twin = made.get(change.address)
        if twin is change or (  # a saved line that is the fresh change's text is that change
            twin is not None
            and twin.fingerprint == change.fingerprint
            and twin.actions == change.actions
            and twin.previous_address == change.previous_address
            and twin.refs == change.refs
        ):
            out.append(change.address)
    return frozenset(out)


def refusal_line(unplanned: list[Change]) -> str:
    shown = ", ".join(c.address for c in unplanned[:3])
    more = f" and {len(unplanned) - 3} more" if len(unplanned) > 3 else ""
    return (
        f"the saved plan removes what the config would not remove now ({shown}{more}): it was "
        "edited, or made from another config, or the organisation changed; nothing was "
        "applied; make a new plan and review it"
    )
