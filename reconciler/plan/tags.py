"""Organisation tags: create what is declared and missing, prune ours that are not declared.

Only a config that declares ``organisation_tags`` (an empty mapping included) manages tags;
without it they are neither read nor planned. Tag names are unique in an organisation, so a
declared tag is the live tag of its name.

Ownership: a tag we create carries our ownership tag at the end of its description (a tag
has no metadata). A tag is ours only when the listing returns its description and that
ends in our tag: a listing without descriptions (the SDK's model has none) proves nothing,
so nothing is pruned. ``prune: all`` does not widen this: tags are organisation-wide, and
deleting one detaches it from every project and folder, so no tag we cannot prove ours is
ever deleted. A declared description that differs from the live one is planned as a patch
that ``withhold_unsupported`` holds back (the API cannot change a tag).
"""

from __future__ import annotations

from reconciler.kinds.tag import TagPayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredTag
from reconciler.model.live import LiveTag, content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner, strip_tag, tagged
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change, Refs


def plan_tags(ctx: Context) -> tuple[Change, ...]:
    declared, live = ctx.desired.organisation_tags, ctx.live.organisation_tags
    if declared is None or live is None:
        return ()
    by_name = {tag.name: tag for tag in live.values()}
    out: list[Change] = []
    for name in sorted(declared):
        found = by_name.get(name)
        change = _create(ctx, declared[name]) if found is None else _patch(declared[name], found)
        if change is not None:
            out.append(change)
    if ctx.desired.policy.prune != "never":
        out.extend(_prune(ctx, [t for t in by_name.values() if t.name not in declared]))
    return tuple(out)


def tag_view(tag: LiveTag) -> TagPayload:
    return TagPayload(tag.name, tag.description)


def is_ours(tag: LiveTag, owner: str) -> bool:
    return tag.description is not None and description_owner(tag.description) == owner


def _create(ctx: Context, tag: DesiredTag) -> Change:
    return Change(
        address=addr.organisation_tag(tag.name),
        kind=addr.Kind.ORGANISATION_TAG,
        actions=(Action.CREATE,),
        after=TagPayload(tag.name, tagged(tag.description or "", ctx.owner)),
        source=str(tag.source),
        reason="declared, not in Encord",
    )


def _patch(tag: DesiredTag, live: LiveTag) -> Change | None:
    """A description that differs (never kept: the API cannot change a tag)."""
    if tag.description is None or live.description is None:
        return None
    if strip_tag(live.description) == tag.description:
        return None
    before = tag_view(live)
    owner = description_owner(live.description)
    after = TagPayload(
        tag.name, tag.description if owner is None else tagged(tag.description, owner)
    )
    return Change(
        address=addr.organisation_tag(tag.name),
        kind=addr.Kind.ORGANISATION_TAG,
        actions=(Action.PATCH,),
        before=before,
        after=after,
        diff=field_diff(before, after),
        source=str(tag.source),
        reason="declared description differs",
        fingerprint=content_fingerprint(before.encode()),
        refs=Refs(uuid=live.uuid),
    )


def _prune(ctx: Context, undeclared: list[LiveTag]) -> list[Change]:
    out = []
    for tag in sorted(undeclared, key=lambda t: (t.name, t.uuid)):
        if not is_ours(tag, ctx.owner):
            continue
        before = tag_view(tag)
        out.append(
            Change(
                address=addr.organisation_tag(tag.name),
                kind=addr.Kind.ORGANISATION_TAG,
                actions=(Action.DELETE,),
                before=before,
                reason=(
                    f"not declared; prune: {ctx.desired.policy.prune} and it carries our "
                    "ownership tag; it is detached from every project and folder"
                ),
                fingerprint=content_fingerprint(before.encode()),
                refs=Refs(uuid=tag.uuid),
            )
        )
    return out
