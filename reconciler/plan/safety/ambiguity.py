"""``ambiguous-path``: nothing is planned under a path that names several sibling folders,
nor under a subtree whose ``previously`` move or replacement the folder stage did not make
(``Facts.subtrees``: ambiguous, foreign-owned or protected). Withholds."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal, RefusalCode
from reconciler.plan.safety.paths import paths_of
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_ambiguous(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    """One verdict per withheld subtree, even when nothing under it was planned: it says
    why the declared folder is not there."""
    tree = facts.tree
    found: list[tuple[str, RefusalCode, str, tuple[str, ...]]] = [
        (s.path, s.code, s.message, ()) for s in facts.subtrees
    ]
    for root in sorted(tree.ambiguous):
        if _referenced_under(facts.ctx, root):
            uuids = ", ".join(tree.ambiguous[root])
            message = (
                f"{root} names {len(tree.ambiguous[root])} sibling folders ({uuids}); nothing "
                "under it is planned. Rename or remove the duplicates in Encord, then plan again"
            )
            found.append((root, "ambiguous-path", message, (addr.folder(root),)))
    return [
        Verdict(
            Refusal(code=code, message=message, addresses=shown),
            tuple(c.address for c in changes if any(is_under(p, path) for p in paths_of(c))),
        )
        for path, code, message, shown in found
    ]


def _referenced_under(ctx: Context, root: str) -> bool:
    desired = ctx.desired
    if any(is_under(p, root) for p in desired.folders):
        return True
    if any(is_under(p, root) for f in desired.folders.values() for p in f.previously):
        return True
    for rule in desired.rules:
        if is_under(rule.folder, root) or (rule.recursive and is_under(root, rule.folder)):
            return True
    for ds in desired.datasets.values():
        for sel in ds.items:
            if sel.folder is not None and (
                is_under(sel.folder, root) or (sel.recursive and is_under(root, sel.folder))
            ):
                return True
            if any(is_under(p, root) for p in sel.paths):
                return True
    prefix = root + "/"
    return any(p.startswith(prefix) for m in desired.manifests for p in m.entries.rows)
