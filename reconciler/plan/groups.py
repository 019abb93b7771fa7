"""Organisation groups: create, patch description and members, prune groups we created.

``members`` is authoritative when declared, with one exception: undeclared organisation
ADMINs are left in the group. They can do everything anyway, and the API adds a group's
creator (the tool's own identity, normally an organisation admin) as its first member, so
removing them would never converge.
Groups carry ownership in their description (``ownership_tag``); a group tagged by another
config is never touched, and only groups tagged with our id are pruned.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.kinds.group import GroupPayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredGroup
from reconciler.model.live import LiveGroup, content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner, strip_tag, tagged
from reconciler.plan.claims import claim_action, claim_reason, claimed_description
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change, Refs


def plan_groups(ctx: Context) -> tuple[Change, ...]:
    out: list[Change] = []
    for name in sorted(ctx.desired.groups):
        group = ctx.desired.groups[name]
        live_hash = ctx.resolved.groups.get(name)
        if live_hash is None:
            out.append(_create(ctx, group))
        else:
            patch = _patch(ctx, group, ctx.live.groups[live_hash])
            if patch is not None:
                out.append(patch)
    if ctx.desired.policy.prune != "never":
        out.extend(_prune(ctx))
    return tuple(out)


def group_view(group: LiveGroup) -> GroupPayload:
    return GroupPayload(group.name, group.description, tuple(sorted(group.members)))


def _members(ctx: Context, group: DesiredGroup) -> tuple[str, ...]:
    return tuple(sorted({ctx.resolved.emails.get(e, e) for e in group.members or ()}))


def _create(ctx: Context, group: DesiredGroup) -> Change:
    description = group.description or ""
    if group.claim != "release":
        description = tagged(description, ctx.owner)
    after = GroupPayload(group.name, description, _members(ctx, group))
    return Change(
        address=addr.group(group.name),
        kind=addr.Kind.GROUP,
        actions=(Action.CREATE,),
        after=after,
        source=str(group.source),
        reason="declared, not in Encord",
    )


def _is_org_admin(ctx: Context, email: str) -> bool:
    user = ctx.live.users.get(email)
    return user is not None and user.role.upper() == "ADMIN"


def _patch(ctx: Context, group: DesiredGroup, live: LiveGroup) -> Change | None:
    before = after = group_view(live)
    live_owner = description_owner(live.description)
    if group.description is not None and strip_tag(live.description) != group.description:
        owned = live_owner == ctx.owner
        description = tagged(group.description, ctx.owner) if owned else group.description
        after = replace(after, description=description)
    claim = claim_action(group.claim, live_owner, ctx.owner)
    after = replace(after, description=claimed_description(after.description, claim, ctx.owner))
    if group.members is not None:
        wanted = set(_members(ctx, group))
        kept = {m for m in live.members if m not in wanted and _is_org_admin(ctx, m)}
        after = replace(after, members=tuple(sorted(wanted | kept)))
    diff = field_diff(before, after)
    if not diff:
        return None
    added = sorted(set(after.members) - set(before.members))
    removed = sorted(set(before.members) - set(after.members))
    parts = [f"+{len(added)}/-{len(removed)} members"] if added or removed else []
    if strip_tag(before.description) != strip_tag(after.description):
        parts.insert(0, "description")
    patched = (Action.PATCH,) if parts else ()
    return Change(
        address=addr.group(group.name),
        kind=addr.Kind.GROUP,
        actions=(*patched, *((claim,) if claim else ())),
        before=before,
        after=after,
        diff=diff,
        source=str(group.source),
        reason=_patch_reason(parts, claim, live_owner),
        fingerprint=content_fingerprint(before.encode()),
        refs=Refs(uuid=live.hash),
    )


def _patch_reason(parts: list[str], claim: Action | None, live_owner: str | None) -> str:
    if not parts and claim is not None:
        return claim_reason(claim, live_owner)
    return "declared " + " and ".join(parts) + " differ"


def _prune(ctx: Context) -> list[Change]:
    out: list[Change] = []
    declared = {h for h in ctx.resolved.groups.values() if h is not None}
    for live in sorted(ctx.live.groups.values(), key=lambda g: (g.name, g.hash)):
        if live.hash in declared or live.name in ctx.desired.groups:
            continue
        if description_owner(live.description) != ctx.owner:
            continue
        before = group_view(live)
        out.append(
            Change(
                address=addr.group(ctx.resolved.group_names[live.hash]),
                kind=addr.Kind.GROUP,
                actions=(Action.DELETE,),
                before=before,
                reason=(
                    f"not declared; prune: {ctx.desired.policy.prune} and it carries our "
                    "ownership tag; its grants on folders and datasets go with it"
                ),
                fingerprint=content_fingerprint(before.encode()),
                refs=Refs(uuid=live.hash),
            )
        )
    return out
