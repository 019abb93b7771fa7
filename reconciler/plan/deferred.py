"""What cannot be planned item by item yet: items a cloud sync in this plan will create.

For each folder created (or replaced) with ``sync: on_create`` the plan records which rules,
manifests and datasets reach into it; apply re-plans those folders with
``DiffOptions(item_roots=...)`` once the sync has finished. Deletes are never deferred.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.model.addresses import is_under
from reconciler.plan.context import Context
from reconciler.plan.model import Deferral


def _reaches(root: str, recursive: bool, folder: str) -> bool:
    """Does a rule or selector at ``root`` see items inside ``folder``'s subtree?"""
    return is_under(root, folder) or (recursive and is_under(folder, root))


def plan_deferred(ctx: Context, synced_on_create: Iterable[str]) -> tuple[Deferral, ...]:
    """What waits for the syncs of ``synced_on_create`` (``FolderPlan.synced_on_create``)."""
    desired = ctx.desired
    out: list[Deferral] = []
    for folder in sorted(set(synced_on_create)):
        rules = [str(r.source) for r in desired.rules if _reaches(r.folder, r.recursive, folder)]
        for manifest in desired.manifests:
            prefix = folder.rstrip("/") + "/"
            if any(p.startswith(prefix) for p in manifest.entries.rows):
                rules.append(manifest.file)
        datasets = sorted(
            title
            for title, ds in desired.datasets.items()
            if any(
                (s.folder is not None and _reaches(s.folder, s.recursive, folder))
                or any(is_under(p, folder) for p in s.paths)
                for s in ds.items
            )
        )
        if rules or datasets:
            out.append(Deferral(folder=folder, rules=tuple(rules), datasets=tuple(datasets)))
    return tuple(out)
