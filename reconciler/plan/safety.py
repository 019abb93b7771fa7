"""Safety that WITHHOLDS changes: ambiguity, foreign ownership, ``protect``, and dependents.

Each check takes the planned changes and returns the addresses it withholds plus a refusal
saying why and what to do. Withheld changes leave the plan for good (forcing does not bring
them back); any change that depends on a withheld one is withheld with it, under the same
refusal. Checks that keep changes in the plan but block it unless forced live in ``guards``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.globs import compile_glob
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner, strip_tag
from reconciler.plan.context import Context
from reconciler.plan.folder_moves import Withheld
from reconciler.plan.model import Change, Refusal, RefusalCode
from reconciler.plan.tree import Tree

_PATH_KINDS = {addr.Kind.FOLDER, addr.Kind.ITEM}


def address_path(address: str) -> str | None:
    """The storage path an address names or hangs from (None for groups, datasets, schema)."""
    return addr.Address.parse(address).path


def _paths_of(change: Change) -> list[str]:
    found = [address_path(change.address)]
    if change.previous_address is not None:
        found.append(address_path(change.previous_address))
    return [p for p in found if p is not None]


@dataclass(slots=True)
class Withholding:
    """Withheld addresses, each mapped to the index of the refusal that explains it."""

    refusals: list[Refusal] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, refusal: Refusal, addresses: Iterable[str]) -> None:
        self.refusals.append(refusal)
        index = len(self.refusals) - 1
        for address in addresses:
            self.reasons.setdefault(address, index)

    def cascade(self, changes: list[Change]) -> None:
        """Withhold what depends on a withheld change, and the content deletes of a withheld
        delete or replacement (a folder's subtree is deleted as one unit or not at all)."""
        by_address = {c.address: c for c in changes}
        grew = True
        while grew:
            grew = False
            for change in changes:
                index = self.reasons.get(change.address)
                if index is None:
                    for dep in change.depends_on:
                        if dep in self.reasons:
                            self.reasons[change.address] = self.reasons[dep]
                            grew = True
                            break
                elif Action.DELETE in change.actions:
                    for dep in change.depends_on:
                        found = by_address.get(dep)
                        if found is not None and found.is_delete and dep not in self.reasons:
                            self.reasons[dep] = index
                            grew = True

    def finish(self, changes: list[Change]) -> tuple[list[Change], list[Refusal]]:
        """The changes left, and each refusal naming everything it withheld."""
        named: dict[int, list[str]] = {}
        for address, index in self.reasons.items():
            named.setdefault(index, []).append(address)
        out = []
        for index, refusal in enumerate(self.refusals):
            withheld = sorted(named.get(index, ()))
            shown = [a for a in withheld if not a.startswith("item:")] or withheld
            out.append(
                replace(
                    refusal,
                    addresses=tuple(sorted(set(refusal.addresses) | set(shown))),
                    count=len(withheld),
                )
            )
        return [c for c in changes if c.address not in self.reasons], out


def withhold_ambiguous(
    ctx: Context,
    tree: Tree,
    subtrees: Iterable[Withheld],
    changes: list[Change],
    held: Withholding,
) -> None:
    """Changes under ``subtrees`` (moves and replacements ``plan_folders`` did not make) and
    under ambiguous paths the config refers to."""
    found: list[tuple[str, RefusalCode, str, tuple[str, ...]]] = [
        (s.path, s.code, s.message, ()) for s in subtrees
    ]
    for root in sorted(tree.ambiguous):
        if _referenced_under(ctx, root):
            uuids = ", ".join(tree.ambiguous[root])
            message = (
                f"{root} names {len(tree.ambiguous[root])} sibling folders ({uuids}); nothing "
                "under it is planned. Rename or remove the duplicates in Encord, then plan again"
            )
            found.append((root, "ambiguous-path", message, (addr.folder(root),)))
    for path, code, message, shown in found:
        hit = [c.address for c in changes if any(is_under(p, path) for p in _paths_of(c))]
        held.add(Refusal(code=code, message=message, addresses=shown), hit)


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


def _owner_of(ctx: Context, change: Change) -> str | None:
    live, refs, kind = ctx.live, change.refs, change.kind
    folder = refs.uuid if kind == addr.Kind.FOLDER else refs.folder_uuid
    if kind in (addr.Kind.FOLDER, addr.Kind.FOLDER_GROUP) and folder is not None:
        found = live.folders.get(folder)
        return None if found is None else ctx.folder_owner(found)
    if kind == addr.Kind.GROUP and refs.uuid is not None and refs.uuid in live.groups:
        return description_owner(live.groups[refs.uuid].description)
    dataset = refs.uuid if kind == addr.Kind.DATASET else refs.dataset_uuid
    if dataset is not None and dataset in live.datasets:
        return description_owner(live.datasets[dataset].description)
    return None


def _subject(change: Change) -> str:
    """The object a change touches: relations belong to their folder or dataset."""
    parsed = addr.Address.parse(change.address)
    if parsed.kind == addr.Kind.FOLDER_GROUP:
        return addr.folder(parsed.key)
    if parsed.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER, addr.Kind.LINK):
        return addr.dataset(parsed.key)
    return change.address


def withhold_foreign(ctx: Context, changes: list[Change], held: Withholding) -> None:
    by_object: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        owner = _owner_of(ctx, change)
        if owner is not None and owner != ctx.owner:
            by_object.setdefault((_subject(change), owner), []).append(change.address)
    for (subject, owner), hit in sorted(by_object.items()):
        held.add(
            Refusal(
                code="foreign-owned",
                message=(
                    f"{subject} is managed by another config ('{owner}'); it is never touched "
                    f"from here. Remove it from this config, or have '{owner}' give it up"
                ),
                addresses=(subject,),
            ),
            hit,
        )


def withhold_unsupported(changes: list[Change], held: Withholding) -> None:
    """Withhold what the public API cannot do, so a plan never holds a change apply cannot
    carry out: a dataset's description cannot be changed once the dataset exists (SDK 0.1.211
    has no dataset update call). Runs after the ownership check, which explains first."""
    for change in changes:
        if change.kind != addr.Kind.DATASET or Action.PATCH not in change.actions:
            continue
        if change.address in held.reasons:
            continue
        before = strip_tag((change.before or {}).get("description", ""))
        after = strip_tag((change.after or {}).get("description", ""))
        held.add(
            Refusal(
                code="unsupported",
                message=(
                    f"{change.address} ({change.source}): the live description {before!r} "
                    f"differs from the declared {after!r}, and the Encord API cannot change a "
                    "dataset's description; edit it in the Encord app or declare the live text"
                ),
                addresses=(change.address,),
            ),
            [change.address],
        )


def withhold_protected(ctx: Context, changes: list[Change], held: Withholding) -> None:
    patterns = [compile_glob(p) for p in ctx.desired.policy.protect]
    if not patterns:
        return
    hit = []
    for change in changes:
        if Action.DELETE not in change.actions and Action.MOVE not in change.actions:
            continue
        paths = _paths_of(change) if change.kind in _PATH_KINDS else [change.address]
        if any(p.match(path) for p in patterns for path in paths):
            hit.append(change.address)
    if hit:
        globs = ", ".join(ctx.desired.policy.protect)
        held.add(
            Refusal(
                code="protected",
                message=(
                    f"policy.protect ({globs}) forbids deleting or moving these; change the "
                    "config so they stay, or narrow policy.protect if this is intended"
                ),
            ),
            hit,
        )
