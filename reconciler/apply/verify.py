"""Verification: after apply, read again and plan again; a converged run plans nothing.

Two ways to read again:

* **touched objects** (plans that only patch and move items, when this process read the
  live state just before writing: the plan's own read, or the re-check's read of a saved
  plan): each item the plan touched is taken as the API last answered for it (a
  patch-bulk answers with every item as stored after the write) or, if it was not patched,
  read back with ``get-bulk``, and put in place of its earlier read; everything else in
  scope is as read before writing, which apply did not touch (what others changed since is
  drift either way, and is not this run's to verify). A plan over 100,000 items is
  verified without relisting the whole scope. A saved plan is no exception: its bundles
  re-read what they write, and the re-check read the rest moments before;
* **the whole scope** (everything else: folders, groups, grants, datasets, links, deletes,
  syncs): ``read_live`` again, exactly as ``plan`` does.

Either way the same planner plans again, and judges only what the plan covered: what it
still wants for an address the plan (or the work planned after a sync) changed, or inside a
folder whose sync the plan started, is ``remaining`` and fails the run; anything else
(someone edited an object the plan never touched) is ``drift``, reported and not a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from reconciler.apply.context import RunContext
from reconciler.apply.ops_items import read_items
from reconciler.apply.phases import Phase, Step
from reconciler.encord import EncordError
from reconciler.live import Scope, read_live
from reconciler.live.records import ItemRecords
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredState
from reconciler.model.live import LiveItem, LiveState
from reconciler.plan import Change, DiffOptions, Plan, PlanError, diff
from reconciler.plan.render_text import headline

_ITEM_PHASES = frozenset({Phase.PATCH_ITEMS, Phase.MOVE_ITEMS})


@dataclass(frozen=True, slots=True)
class Verification:
    """``remaining``: headlines of what a fresh plan still wants of what the plan covered;
    ``withheld``: what it refuses to do whatever the flags (a plan that withholds something
    is not converged, even with no change left); ``drift``: changes to everything else;
    ``error``: why no fresh plan was made. ``reread``: ``"touched"`` or ``"scope"``, how the
    organisation was read again."""

    remaining: tuple[str, ...] = ()
    error: str | None = None
    reread: str = "scope"
    drift: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        return self.error is None and not self.remaining and not self.withheld


async def verify(
    ctx: RunContext,
    desired: DesiredState,
    plan: Plan,
    *,
    steps: Sequence[Step],
    live: LiveState | None,
) -> Verification:
    client = ctx.client
    try:
        touched = _touched_items(plan, steps, live)
        if touched is not None and live is not None:
            again = await _reread_items(ctx, live, touched)
            reread = "touched"
        else:
            again = None
        if again is None:
            again = await read_live(client, Scope.from_desired(desired))
            reread = "scope"
    except EncordError as error:
        return Verification(error=f"cannot read the organisation again to verify: {error}")
    return _replan(desired, plan, again, reread, covered=_Covered.of(plan, steps))


def _replan(
    desired: DesiredState, plan: Plan, live: LiveState, reread: str, *, covered: _Covered
) -> Verification:
    try:
        again = diff(
            desired,
            live,
            options=DiffOptions(
                force=True,
                only=plan.only,
                sync_always=False,
                takeover=plan.takeover,
                seal=False,  # only its changes and refusals are read
            ),
        )
    except PlanError as error:
        first = error.diagnostics[0] if error.diagnostics else error
        return Verification(error=f"cannot plan again to verify: {first}", reread=reread)
    problems = tuple(f"! could not verify: {p}" for p in live.problems)
    mine = tuple(headline(c) for c in again.changes if covered(c))
    drift = tuple(headline(c) for c in again.changes if not covered(c))
    withheld = tuple(f"! {r.code}: {r.message}" for r in again.refusals if r.withheld)
    return Verification(remaining=mine + problems, reread=reread, drift=drift, withheld=withheld)


@dataclass(frozen=True, slots=True)
class _Covered:
    """Is a change of the fresh plan about something this plan covered? Its addresses (old
    and new), the changes planned after its syncs, and whatever lies in a synced folder."""

    addresses: frozenset[str]
    synced: tuple[str, ...]

    @classmethod
    def of(cls, plan: Plan, steps: Sequence[Step]) -> _Covered:
        changes = [*plan.changes, *(s.change for s in steps)]
        found = {c.address for c in changes}
        found.update(c.previous_address for c in changes if c.previous_address)
        return cls(frozenset(found), tuple(d.folder for d in plan.deferred))

    def __call__(self, change: Change) -> bool:
        if change.address in self.addresses or change.previous_address in self.addresses:
            return True
        path = addr.Address.parse(change.address).path
        return path is not None and any(is_under(path, folder) for folder in self.synced)


def _touched_items(plan: Plan, steps: Sequence[Step], live: LiveState | None) -> list[str] | None:
    """UUIDs of the items an item-only plan touched, or None when the whole scope is needed."""
    if live is None or plan.deferred or not steps:
        return None
    if any(s.phase not in _ITEM_PHASES for s in steps):
        return None
    uuids = [s.change.refs.uuid for s in steps]
    if any(u is None or u not in live.items for u in uuids):
        return None
    return list(dict.fromkeys(u for u in uuids if u is not None))


async def _reread_items(ctx: RunContext, live: LiveState, uuids: list[str]) -> LiveState | None:
    """``live`` with these items read again; None if one landed in a folder it does not hold."""
    written = ctx.state.written_items
    fresh = dict(written)
    fresh.update(await read_items(ctx, [u for u in uuids if u not in written]))
    items: dict[str, LiveItem] = dict(live.items)
    found = []
    for uuid in uuids:
        item = fresh.get(uuid)
        if item is None:
            del items[uuid]
        else:
            found.append(item)
    folders = {uuid: (folder.uuid, folder.path) for uuid, folder in live.folders.items()}
    # as one page, with one ``ItemRecords``: items patched alike share one metadata object
    if ItemRecords().add_page(found, folders, items):
        return None
    return replace(live, items=items)
