"""Roles: group grants on folders and datasets, and user roles on datasets.

Declared ``groups``/``users`` maps are authoritative (``{}`` revokes every direct grant);
absent maps are unmanaged. Each relation is one change: a grant, a revoke, or a role change.
Re-adding a group with another role overwrites it, so a group's role change is one ``grant``
with ``before`` set; a dataset user's role cannot be updated, so it is ``(revoke, grant)``.
Organisation ADMINs are never revoked from a dataset unless declared (they hold every right
anyway, and the API makes a dataset's creator — normally the tool's admin identity — its
admin user, which would otherwise never converge).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.kinds.access import RolePayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredDataset, DesiredFolder, Role
from reconciler.model.live import content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical_role
from reconciler.plan.context import Context
from reconciler.plan.model import Change, DiffOp, FieldDiff, Refs
from reconciler.plan.tree import Tree


def plan_folder_access(ctx: Context, tree: Tree) -> tuple[Change, ...]:
    """Group grants on declared folders; ``tree`` says which exist and which this plan
    creates (a grant on a created folder depends on its creation)."""
    out: list[Change] = []
    for path in sorted(ctx.desired.folders):
        folder = ctx.desired.folders[path]
        if folder.groups is not None:
            out.extend(_folder_grants(ctx, tree, folder))
    return tuple(out)


def plan_dataset_access(
    ctx: Context, dataset: DesiredDataset, uuid: str | None, created: str | None
) -> list[Change]:
    """Grants for one declared dataset; ``uuid`` None when ``created`` (an address) makes it."""
    live = ctx.live.datasets.get(uuid) if uuid else None
    out: list[Change] = []
    if dataset.groups is not None:
        live_groups = {h: canonical_role(r) for h, r in (live.groups if live else {}).items()}
        holder = _Holder(
            address=lambda name: addr.dataset_group(dataset.title, name),
            kind=addr.Kind.DATASET_GROUP,
            source=str(dataset.source),
            created=created,
            refs=lambda h: Refs(dataset_uuid=uuid, group_hash=h),
        )
        out.extend(_group_relations(ctx, holder, dataset.groups, live_groups))
    if dataset.users is not None:
        live_users = {e: canonical_role(r) for e, r in (live.users if live else {}).items()}
        out.extend(_dataset_users(ctx, dataset, live_users, uuid, created))
    return out


def _folder_grants(ctx: Context, tree: Tree, folder: DesiredFolder) -> list[Change]:
    created = tree.created.get(folder.path)
    uuid = None if created else tree.index.get(folder.path)
    live = {h: canonical_role(r) for h, r in ctx.live.folder_groups.get(uuid or "", {}).items()}
    source = folder.field_sources.get("groups", folder.source)
    assert folder.groups is not None
    holder = _Holder(
        address=lambda name: addr.folder_group(folder.path, name),
        kind=addr.Kind.FOLDER_GROUP,
        source=str(source),
        created=created,
        refs=lambda h: Refs(folder_uuid=uuid, group_hash=h),
    )
    return _group_relations(ctx, holder, folder.groups, live)


def _role_diff(before: str | None, after: str | None) -> tuple[FieldDiff, ...]:
    if before == after:
        return ()
    op: DiffOp = "add" if before is None else "remove" if after is None else "change"
    return (FieldDiff(("role",), op, before, after),)


def _relation(
    *,
    address: str,
    kind: addr.Kind,
    actions: tuple[Action, ...],
    before: str | None,
    after: str | None,
    source: str,
    reason: str,
    depends_on: tuple[str, ...],
    refs: Refs,
) -> Change:
    return Change(
        address=address,
        kind=kind,
        actions=actions,
        before=None if before is None else RolePayload(before),
        after=None if after is None else RolePayload(after),
        diff=_role_diff(before, after),
        source=source,
        reason=reason,
        fingerprint=None if before is None else content_fingerprint({"role": before}),
        depends_on=depends_on,
        refs=refs,
    )


@dataclass(frozen=True, slots=True)
class _Holder:
    """The folder or dataset whose group grants are planned: how to address and refer to
    its relations, and the change that creates it (None when it exists)."""

    address: Callable[[str], str]
    kind: addr.Kind
    source: str
    created: str | None
    refs: Callable[[str | None], Refs]


def _group_relations(
    ctx: Context, holder: _Holder, wanted: Mapping[str, Role], live: Mapping[str, str]
) -> list[Change]:
    out = [c for name in sorted(wanted) if (c := _grant(ctx, holder, name, wanted[name], live))]
    kept = {h for name in wanted if (h := ctx.resolved.groups.get(name))}
    for group_hash in sorted(set(live) - kept):
        name = ctx.resolved.group_names.get(group_hash, group_hash)
        out.append(
            _relation(
                address=holder.address(name),
                kind=holder.kind,
                actions=(Action.REVOKE,),
                before=live[group_hash],
                after=None,
                source=holder.source,
                reason="not declared in an authoritative groups map",
                depends_on=(),
                refs=holder.refs(group_hash),
            )
        )
    return out


def _grant(
    ctx: Context, holder: _Holder, name: str, role: Role, live: Mapping[str, str]
) -> Change | None:
    group_hash = ctx.resolved.groups.get(name)
    have = live.get(group_hash) if group_hash else None
    if have == role:
        return None
    deps = {holder.created, None if group_hash else addr.group(name)}
    return _relation(
        address=holder.address(name),
        kind=holder.kind,
        actions=(Action.GRANT,),
        before=have,
        after=role,
        source=holder.source,
        reason="declared role" if have is None else f"declared role {role}, live {have}",
        depends_on=tuple(sorted(d for d in deps if d)),
        refs=holder.refs(group_hash),
    )


def _dataset_users(
    ctx: Context,
    dataset: DesiredDataset,
    live: Mapping[str, str],
    uuid: str | None,
    created: str | None,
) -> list[Change]:
    assert dataset.users is not None
    wanted = {ctx.resolved.emails.get(e, e): role for e, role in dataset.users.items()}
    deps = (created,) if created else ()
    out: list[Change] = []
    for email in sorted(set(wanted) | set(live)):
        have, role = live.get(email), wanted.get(email)
        if have == role:
            continue
        if role is None:
            user = ctx.live.users.get(email)
            if user is not None and user.role.upper() == "ADMIN":
                continue
            actions: tuple[Action, ...] = (Action.REVOKE,)
            reason = "not declared in the authoritative users map"
        elif have is None:
            actions, reason = (Action.GRANT,), "declared role"
        else:
            actions = (Action.REVOKE, Action.GRANT)
            reason = f"declared role {role}, live {have}; the API cannot change it in place"
        out.append(
            _relation(
                address=addr.dataset_user(dataset.title, email),
                kind=addr.Kind.DATASET_USER,
                actions=actions,
                before=have,
                after=role,
                source=str(dataset.source),
                reason=reason,
                depends_on=deps if role is not None else (),
                refs=Refs(dataset_uuid=uuid, email=email),
            )
        )
    return out
