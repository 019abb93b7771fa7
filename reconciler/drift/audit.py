"""``audit(plan, desired, live) -> DriftReport``: a plan read as an audit. Pure.

Steps: every change becomes drift entries (``classify``) failing the check of the declared
object it concerns (``checks``); deletes done as part of a bigger delete (the items and
sub-folders of an extra folder, the contents of a replaced one) are folded into it; folders
renamed or moved by hand are recognised and their consequences folded into one ``moved``
entry (``renames``); undeclared folders prune leaves alone are listed as unmanaged; ``--only``
globs keep the entries, unmanaged folders, refusals and checks they match.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from reconciler import __version__
from reconciler.drift.checks import POLICY, CheckIndex, declared_checks
from reconciler.drift.classify import entries_for
from reconciler.drift.model import Check, Drift, DriftReport, Unmanaged, drift_order
from reconciler.drift.moved import rename_entries
from reconciler.drift.renames import Renames, find_renames
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, parent_path
from reconciler.model.desired import DesiredState
from reconciler.model.globs import compile_glob
from reconciler.model.live import LiveState
from reconciler.plan.model import Change, Plan


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    """``only``: address globs (the ``--only`` dialect); ``checked_at``: when live was read."""

    only: tuple[str, ...] = ()
    checked_at: str | None = None
    tool_version: str = __version__


def audit(
    plan: Plan, desired: DesiredState, live: LiveState, *, options: AuditOptions | None = None
) -> DriftReport:
    """The drift of ``live`` from ``desired``, given ``plan = diff(desired, live)`` made
    without ``--only`` (``options.only`` narrows the report instead)."""
    options = options or AuditOptions()
    checks = declared_checks(desired)
    index = CheckIndex(desired, checks)
    tops = fold_deletes(plan.changes)
    renames = find_renames(plan, desired, live)
    absorbed, moved = rename_entries(renames, plan, desired, live, tops)
    related: dict[str, list[str]] = {}
    for address, top in tops.items():
        related.setdefault(top, []).append(address)
    entries: list[Drift] = list(moved)
    for change in plan.changes:
        if change.address in absorbed or change.address in tops:
            continue
        folded = tuple(sorted(related.get(change.address, ())))
        entries.extend(entries_for(change, check=index.check_for(change), related=folded))
    report = DriftReport(
        tool_version=options.tool_version,
        target=plan.target,
        ownership_id=plan.ownership_id,
        config_dir=plan.config_dir,
        environment=plan.environment,
        checked_at=options.checked_at,
        only=options.only,
        drift=tuple(sorted(entries, key=drift_order)),
        unmanaged=_unmanaged(plan, desired, live, renames),
        refusals=plan.refusals,
        checks=checks,
        problems=() if live.complete else tuple(live.problems),
        caller=plan.caller,
        warnings=plan.warnings,
    )
    return select(report, options.only)


def fold_deletes(changes: tuple[Change, ...]) -> dict[str, str]:
    """Deletes that happen as part of a bigger delete or replacement → that one's address."""
    by_address = {c.address: c for c in changes}
    parent: dict[str, str] = {}
    for change in changes:
        if change.is_delete or change.is_replace:
            for dep in change.depends_on:
                child = by_address.get(dep)
                if child is not None and child.is_delete:
                    parent[dep] = change.address
    tops = {}
    for address in parent:
        top = address
        while top in parent:
            top = parent[top]
        tops[address] = top
    return tops


# --- unmanaged ------------------------------------------------------------------------------


def _unmanaged(
    plan: Plan, desired: DesiredState, live: LiveState, renames: Renames
) -> tuple[Unmanaged, ...]:
    """Unmanaged folders (each with what it holds), then every other kind's, as planned."""
    others = tuple(
        Unmanaged(address=a, root="") for a in plan.unmanaged if addr.kind_of(a) != addr.Kind.FOLDER
    )
    return _unmanaged_folders(plan, desired, live, renames) + others


def _unmanaged_folders(
    plan: Plan, desired: DesiredState, live: LiveState, renames: Renames
) -> tuple[Unmanaged, ...]:
    taken = [p.live.path for p in renames.pairs]
    paths = {addr.key_of(a) for a in plan.unmanaged if addr.kind_of(a) == addr.Kind.FOLDER}
    paths = {p for p in paths if not any(is_under(p, t) for t in taken)}
    # a folder inside an unmanaged one is reported with it (its items counted there)
    tops = {p for p in paths if not any(a in paths for a in _ancestors(p))}
    if not tops:
        return ()
    items: Counter[str] = Counter()
    for folder, count in Counter(i.folder_path for i in live.items.values()).items():
        for path in (folder, *_ancestors(folder)):
            if path in tops:
                items[path] += count
    roots = desired.roots()
    return tuple(
        Unmanaged(
            address=addr.folder(path),
            root=next((r for r in roots if is_under(path, r)), ""),
            items=items[path],
        )
        for path in sorted(tops)
    )


def _ancestors(path: str) -> list[str]:
    out = []
    current = parent_path(path)
    while current is not None:
        out.append(current)
        current = parent_path(current)
    return out


# --- --only --------------------------------------------------------------------------------


def select(report: DriftReport, patterns: tuple[str, ...]) -> DriftReport:
    """Keep what matches any glob: entries (by address, live address or check), unmanaged
    folders, refusals (by address; those about nothing in particular stay) and checks (by
    id, or because a kept entry fails them)."""
    if not patterns:
        return report
    globs = [compile_glob(p) for p in patterns]

    def hit(*names: str | None) -> bool:
        return any(n is not None and g.match(n) for n in names for g in globs)

    drift = tuple(d for d in report.drift if hit(d.address, d.live_address, d.check))
    failing = {d.check for d in drift}
    checks: tuple[Check, ...] = tuple(
        c for c in report.checks if c.id in failing or (c.id != POLICY and hit(c.id))
    )
    return replace(
        report,
        drift=drift,
        unmanaged=tuple(u for u in report.unmanaged if hit(u.address)),
        refusals=tuple(r for r in report.refusals if not r.addresses or hit(*r.addresses)),
        checks=checks,
    )
