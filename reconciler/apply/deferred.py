"""Item-level work a cloud sync makes possible: re-read the synced folders and plan their
items with the same planner (``Deferral``), keeping only additive changes.

The re-plan reads just the synced folders (and the datasets the deferrals name) and asks
the planner for item-level changes under them (``DiffOptions(item_roots=...)``). Only
metadata patches of items and new links are taken: deferred work never deletes, moves or
unlinks anything, and everything outside the synced folders is the main plan's business.
The result is a plan of its own, which apply shows and approves (prompt, refusals) before
running any of it: nobody reviewed these changes when the main plan was made. When the
re-plan withholds a synced folder itself (its path became ambiguous while the sync ran:
nothing under it is planned), that is said, not passed over as "nothing to do".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.encord import EncordClient
from reconciler.kinds.link import LinkPayload
from reconciler.live import Scope, read_live
from reconciler.model import addresses as addr
from reconciler.model.addresses import Address, is_under
from reconciler.model.desired import DesiredState
from reconciler.plan import Action, Change, Deferral, DiffOptions, Plan, diff
from reconciler.plan.document import sealed
from reconciler.plan.model import Refusal, summarise


async def plan_deferred(
    client: EncordClient, desired: DesiredState, plan: Plan, deferrals: Sequence[Deferral]
) -> tuple[Plan, tuple[str, ...]]:
    """The follow-up plan for ``deferrals`` (whose syncs have finished): its additive
    item-level changes, and the refusals that concern them. It is shown and approved like the
    main plan before any of it is applied (``ApplyOptions.approve_deferred``). Beside it, why
    a synced folder's items were not planned at all (the refusals withholding the folder)."""
    roots = tuple(sorted({d.folder for d in deferrals}))
    datasets = frozenset(t for d in deferrals for t in d.datasets)
    scope = Scope(
        roots=_outermost(_related(desired, roots)),
        datasets=datasets,
        groups=frozenset(),
        read_users=False,
        read_metadata_schema=False,
    )
    live = await read_live(client, scope)
    again = diff(
        desired,
        live,
        options=DiffOptions(
            only=plan.only, item_roots=roots, created_at=plan.created_at, takeover=plan.takeover
        ),
    )
    kept = tuple(c for c in again.changes if _additive_under(c, roots))
    addresses = {c.address for c in kept}
    unplanned = tuple(r.message for r in again.refusals if r.withheld and _covers(r, roots))
    follow_up = sealed(
        replace(
            again,
            changes=kept,
            summary=summarise(kept),
            fingerprints={c.address: c.fingerprint for c in kept if c.fingerprint},
            refusals=tuple(r for r in again.refusals if addresses & set(r.addresses)),
            deferred=(),
            unmanaged=(),
        )
    )
    return follow_up, unplanned


def _covers(refusal: Refusal, roots: tuple[str, ...]) -> bool:
    """Does the refusal withhold a synced folder (or a folder above one)?"""
    parsed = [Address.parse(a) for a in refusal.addresses]
    return any(
        p.kind == addr.Kind.FOLDER and is_under(root, p.key) for p in parsed for root in roots
    )


def _related(desired: DesiredState, roots: tuple[str, ...]) -> tuple[str, ...]:
    """The synced folders, and each declared folder whose ``previously`` names a path at,
    above or under one of them: read where it is now, it is known to have moved already;
    unread, the planner would take the folder now at its old path for it, still to move."""
    moved = (
        folder.path
        for folder in desired.folders.values()
        for old in folder.previously
        if any(is_under(root, old) or is_under(old, root) for root in roots)
    )
    return tuple(sorted({*roots, *moved}))


def _outermost(paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for p in paths if not any(q != p and is_under(p, q) for q in paths))


def _additive_under(change: Change, roots: tuple[str, ...]) -> bool:
    if change.kind == addr.Kind.ITEM:
        path = addr.key_of(change.address)
        return set(change.actions) <= {Action.PATCH} and _inside(path, roots)
    if change.kind == addr.Kind.LINK:
        link = LinkPayload.of(change.after)
        path = "" if link is None else link.item
        return change.actions == (Action.LINK,) and _inside(path, roots)
    return False


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(is_under(path, root) and path != root for root in roots)
