"""``diff(desired, live, *, options) -> Plan``: the one entry point of the planner.

The pipeline, each step a pure function over a shared ``Context``:

    resolve names → schema → groups → folders (moves, replacements, creates, patches)
    → prune → folder grants → item index → item moves → item metadata → datasets
    (+ grants, links) → deferrals → withhold (ambiguity, foreign, protect, last admin,
    unsafe listing; dependents follow) → --only → refuse (replacements, thresholds)
    (+ unlinks, top-level creates a non-admin cannot see) → order, summarise, checksum.

Anything that cannot be planned at all (unknown names, rules that never settle, moves into
a missing folder) raises ``PlanError`` with every diagnostic; anything unsafe becomes a
``Refusal`` in the plan.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredState
from reconciler.model.globs import compile_glob
from reconciler.model.live import LiveItem, LiveState
from reconciler.plan.access import plan_folder_access
from reconciler.plan.actions import Action
from reconciler.plan.caller import caller_warnings, refuse_invisible_roots
from reconciler.plan.context import Context, DiffOptions
from reconciler.plan.datasets import plan_datasets
from reconciler.plan.deferred import plan_deferred
from reconciler.plan.document import sealed
from reconciler.plan.errors import PlanError
from reconciler.plan.folders import plan_folders
from reconciler.plan.groups import plan_groups
from reconciler.plan.guards import (
    refuse_replacements,
    refuse_thresholds,
    withhold_lost_admin,
    withhold_unsafe_listing,
)
from reconciler.plan.heal import heal_duplicates
from reconciler.plan.itemindex import ItemIndex, build_index
from reconciler.plan.items import plan_item_metadata, plan_item_moves
from reconciler.plan.metadata_schema import plan_metadata_schema
from reconciler.plan.model import Change, Plan, Refusal, summarise
from reconciler.plan.order import only, ordered
from reconciler.plan.prune import plan_prune
from reconciler.plan.removals import refuse_unlinks
from reconciler.plan.resolve import resolve
from reconciler.plan.safety import (
    Withholding,
    withhold_ambiguous,
    withhold_foreign,
    withhold_protected,
    withhold_unsupported,
)
from reconciler.plan.selectors import check_selectors
from reconciler.plan.shapes import odd_shapes
from reconciler.plan.tree import Tree, moving_ancestor


def diff(desired: DesiredState, live: LiveState, *, options: DiffOptions | None = None) -> Plan:
    """Plan how to make ``live`` look like ``desired``. Pure: reads nothing, writes nothing."""
    options = options or DiffOptions()
    live, healing = heal_duplicates(desired, live)
    ctx = Context(
        desired=desired,
        live=live,
        resolved=resolve(desired, live),
        options=options,
        tree=Tree(live),
        roots=desired.roots(),
        items_by_parent=_items_by_parent(live),
    )
    _plan_everything(ctx)
    ctx.changes.extend(healing)  # our own empty duplicates: deleted, each saying why
    if ctx.problems:
        raise PlanError(ctx.problems, root=desired.root_dir)
    changes, refusals = _withhold(ctx)
    kept = only(changes, options.only)
    refusals = _relevant(refusals, kept, options.only)
    refusals += refuse_replacements(ctx, kept) + refuse_thresholds(ctx, kept)
    refusals += refuse_unlinks(ctx, kept) + refuse_invisible_roots(ctx, kept)
    ctx.warnings[:0] = caller_warnings(ctx)
    final = ordered(kept)
    odd = odd_shapes(final)
    if odd:  # a planner bug: apply was never designed (nor tested) for this shape
        raise AssertionError(f"the planner made changes of unknown shape: {', '.join(odd[:3])}")
    return sealed(
        Plan(
            tool_version=options.tool_version,
            target=live.target,
            ownership_id=desired.ownership.id,
            created_at=options.created_at,
            config_dir=desired.root_dir,
            forced=options.force,
            only=options.only,
            item_roots=options.item_roots,
            changes=final,
            summary=summarise(final),
            fingerprints={c.address: c.fingerprint for c in final if c.fingerprint},
            refusals=tuple(refusals),
            deferred=tuple(sorted(ctx.deferred, key=lambda d: d.folder)),
            unmanaged=tuple(sorted(set(ctx.unmanaged))),
            caller=live.caller,
            warnings=tuple(ctx.warnings),
            checksum="",
        )
    )


def _items_by_parent(live: LiveState) -> dict[str, list[LiveItem]]:
    out: dict[str, list[LiveItem]] = {}
    for item in live.items.values():
        bucket = out.get(item.parent)
        if bucket is None:
            out[item.parent] = [item]
        else:
            bucket.append(item)
    return out


def _plan_everything(ctx: Context) -> None:
    plan_metadata_schema(ctx)
    plan_groups(ctx)
    plan_folders(ctx)
    plan_prune(ctx)
    plan_folder_access(ctx)
    index = build_index(ctx)
    _refuse_duplicates(ctx, index)
    plan_item_moves(ctx, index)
    plan_item_metadata(ctx, index)
    plan_datasets(ctx, index)
    plan_deferred(ctx)
    check_selectors(ctx, index)
    ctx.changes[:] = [_with_move_dependency(ctx, c) for c in ctx.changes]


def _anchor(ctx: Context, change: Change) -> str | None:
    """The live folder whose (projected) place the change relies on."""
    refs, kind = change.refs, change.kind
    if kind == addr.Kind.FOLDER:
        if Action.CREATE in change.actions or Action.MOVE in change.actions:
            return refs.parent_uuid
        return refs.uuid
    if kind == addr.Kind.FOLDER_GROUP:
        return refs.folder_uuid
    if kind == addr.Kind.ITEM:
        return refs.parent_uuid if Action.MOVE in change.actions else refs.from_parent_uuid
    item = ctx.live.items.get(refs.item_uuid or "")
    if kind == addr.Kind.LINK and item is not None:
        return item.parent
    return None


def _with_move_dependency(ctx: Context, change: Change) -> Change:
    """Anything placed by a folder move depends on that move (so it is withheld with it)."""
    if not ctx.tree.moves:
        return change
    dep = moving_ancestor(ctx.tree, _anchor(ctx, change))
    if dep is None or dep == change.address or dep in change.depends_on:
        return change
    return replace(change, depends_on=(*change.depends_on, dep))


def _withhold(ctx: Context) -> tuple[list[Change], list[Refusal]]:
    held = Withholding()
    changes = ctx.changes
    withhold_ambiguous(ctx, changes, held)
    withhold_foreign(ctx, changes, held)
    withhold_protected(ctx, changes, held)
    withhold_unsupported(changes, held)
    held.cascade(changes)
    withhold_lost_admin(ctx, [c for c in changes if c.address not in held.reasons], held)
    withhold_unsafe_listing(ctx, [c for c in changes if c.address not in held.reasons], held)
    held.cascade(changes)
    kept, refusals = held.finish(changes)
    return kept, ctx.refusals + refusals


def _relevant(
    refusals: list[Refusal], kept: list[Change], patterns: tuple[str, ...]
) -> list[Refusal]:
    """With ``--only``, keep the refusals about what is left (and the global ones)."""
    if not patterns:
        return refusals
    globs = [compile_glob(p) for p in patterns]
    addresses = {c.address for c in kept}
    return [
        r
        for r in refusals
        if not r.addresses
        or any(a in addresses or any(g.match(a) for g in globs) for a in r.addresses)
    ]


def _covered(ctx: Context, path: str) -> bool:
    folder = path.rsplit("/", 1)[0]
    desired = ctx.desired
    if any(
        r.folder == folder or (r.recursive and is_under(folder, r.folder)) for r in desired.rules
    ):
        return True
    if any(path in m.entries.rows for m in desired.manifests):
        return True
    for ds in desired.datasets.values():
        for sel in ds.items:
            if path in sel.paths:
                return True
            if sel.folder is not None and (
                sel.folder == folder or (sel.recursive and is_under(folder, sel.folder))
            ):
                return True
    return False


def _refuse_duplicates(ctx: Context, index: ItemIndex) -> None:
    hits = sorted(p for p in index.duplicates if _covered(ctx, p))
    if not hits:
        return
    first = hits[0]
    ctx.refusals.append(
        Refusal(
            code="ambiguous-item",
            message=(
                f"{len(hits)} item paths are shared by several items (e.g. {first}: "
                f"{', '.join(index.duplicates[first])}); their metadata and dataset links are "
                "not planned. Rename or remove the duplicates in Encord, then plan again"
            ),
            addresses=tuple(addr.item(p) for p in hits),
            count=sum(len(index.duplicates[p]) for p in hits),
        )
    )
