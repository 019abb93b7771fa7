"""Unmanaged: the live objects a plan leaves alone though no declaration names them.

Every kind whose spec has an ``unmanaged`` lister (``KindSpec.unmanaged``: groups, datasets,
organisation tags, and each kind that declares one) reports its own; folders come from
``plan.prune``, which judges them in the projected tree. A kind joins the list by declaring
the lister in its spec, nothing here. Reported in the plan and in drift, never a change:
``adopt: true`` on a declaration is how such an object becomes ours.
"""

from __future__ import annotations

from reconciler.kinds import all_specs
from reconciler.plan.context import Context


def list_unmanaged(ctx: Context, folders: tuple[str, ...]) -> tuple[str, ...]:
    """Sorted addresses of unmanaged objects: ``folders`` (from prune) and every kind's own.
    Folders alone for a partial plan (``item_roots``: apply re-planning a sync's items)."""
    if ctx.options.item_roots is not None:
        return folders
    found = set(folders)
    for spec in all_specs():
        if spec.unmanaged is not None:
            found.update(spec.unmanaged(ctx.desired, ctx.live))
    return tuple(sorted(found))
