"""``foreign-owned``: what another config's ownership id marks is never touched from here.
Withholds every change to such an object, its relations included, except an object declared
``adopt: true``: ``reconciler.plan.safety.takeover`` judges those (``--takeover`` or not).
Items carry the marker when a config registered them (``reconciler.plan.register``)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.model.desired import OWNER_KEY
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_foreign(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    ctx = facts.ctx
    adopted = {subject_of(c) for c in changes if Action.ADOPT in c.actions}
    by_object: dict[tuple[str, str], list[str]] = {}
    ours = ctx.owner
    for change in changes:
        owner = owner_of(ctx, change)
        if owner is None or owner == ours:  # most changes: no subject to work out
            continue
        subject = subject_of(change)
        if subject not in adopted:
            by_object.setdefault((subject, owner), []).append(change.address)
    return [
        Verdict(
            Refusal(
                code="foreign-owned",
                message=(
                    f"{subject} is managed by another config ('{owner}'); it is never touched "
                    f"from here. Remove it from this config, or have '{owner}' give it up"
                ),
                addresses=(subject,),
            ),
            tuple(hit),
        )
        for (subject, owner), hit in sorted(by_object.items())
    ]


def owner_of(ctx: Context, change: Change) -> str | None:
    """The ownership id marking the live object a change touches (None: no marker)."""
    live, refs, kind = ctx.live, change.refs, change.kind
    if kind == addr.Kind.ITEM and refs.uuid is not None:  # most changes of a large plan
        item = live.items.get(refs.uuid)
        if item is not None:
            owner = item.metadata.get(OWNER_KEY)
            return owner if isinstance(owner, str) else None
    folder = refs.uuid if kind == addr.Kind.FOLDER else refs.folder_uuid
    if kind in (addr.Kind.FOLDER, addr.Kind.FOLDER_GROUP) and folder is not None:
        found = live.folders.get(folder)
        return None if found is None else ctx.folder_owner(found)
    if kind == addr.Kind.GROUP and refs.uuid is not None and refs.uuid in live.groups:
        return description_owner(live.groups[refs.uuid].description)
    tags = live.organisation_tags or {}
    if kind == addr.Kind.ORGANISATION_TAG and refs.uuid is not None and refs.uuid in tags:
        return description_owner(tags[refs.uuid].description or "")
    collection = refs.uuid if kind == addr.Kind.COLLECTION else refs.collection_uuid
    if collection is not None and collection in live.collections:
        return description_owner(live.collections[collection].description)
    dataset = refs.uuid if kind == addr.Kind.DATASET else refs.dataset_uuid
    if dataset is not None and dataset in live.datasets:
        return description_owner(live.datasets[dataset].description)
    return None


def subject_of(change: Change) -> str:
    """The object a change touches: relations belong to their folder or dataset."""
    if change.kind not in _RELATIONS:  # most changes (items): no address to parse
        return change.address
    parsed = addr.Address.parse(change.address)
    if parsed.kind == addr.Kind.FOLDER_GROUP:
        return addr.folder(parsed.key)
    if parsed.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER, addr.Kind.LINK):
        return addr.dataset(parsed.key)
    if parsed.kind == addr.Kind.COLLECTION_ITEM:
        return addr.collection(parsed.key)
    return change.address


_RELATIONS = frozenset(
    {
        addr.Kind.FOLDER_GROUP,
        addr.Kind.DATASET_GROUP,
        addr.Kind.DATASET_USER,
        addr.Kind.LINK,
        addr.Kind.COLLECTION_ITEM,
    }
)
