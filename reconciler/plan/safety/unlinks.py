"""``unlink-threshold``: unlinks and revokes count, per dataset, toward a threshold; so do
items removed from an Index collection, per collection. Refuses.

A selector with a typo under ``unlink: all`` selects nothing, so every link of the dataset
is planned away. Deletes have ``max_delete_ratio``; relations removed outright (a link, a
group's or a user's role on a dataset) have ``policy.max_unlink_ratio``: a plan that removes
more than that share of one dataset's live links and grants is refused unless ``--force``.
Like the delete threshold, it applies from ``policy.min_existing`` live relations up.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.model.live import LiveDataset
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict

_DATASET_KINDS = (addr.Kind.LINK, addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER)


def _relations(dataset: LiveDataset) -> int:
    return len(dataset.rows) + len(dataset.groups) + len(dataset.users)


def refuse_unlinks(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    ctx = facts.ctx
    by_dataset: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind in _DATASET_KINDS and change.is_removal and change.refs.dataset_uuid:
            by_dataset.setdefault(change.refs.dataset_uuid, []).append(change)
    policy = ctx.desired.policy
    out = []
    for uuid in sorted(by_dataset):
        live = ctx.live.datasets.get(uuid)
        total = _relations(live) if live is not None else 0
        hits = by_dataset[uuid]
        if live is None or total < max(policy.min_existing, 1):
            continue
        if len(hits) / total > policy.max_unlink_ratio:
            what = f"links and grants of {addr.dataset(live.title)}"
            out.append(Verdict(_refusal(what, hits, total, policy.max_unlink_ratio)))
    return out + _collections(facts, changes)


def _collections(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    """Removals from one collection, against the members it has."""
    ctx = facts.ctx
    policy = ctx.desired.policy
    by_collection: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind == addr.Kind.COLLECTION_ITEM and change.is_removal:
            by_collection.setdefault(change.refs.collection_uuid or "", []).append(change)
    out = []
    for uuid in sorted(by_collection):
        live = ctx.live.collections.get(uuid)
        total = len(live.members or ()) if live is not None else 0
        hits = by_collection[uuid]
        if live is None or total < max(policy.min_existing, 1):
            continue
        if len(hits) / total > policy.max_unlink_ratio:
            what = f"items of {addr.collection(live.name)}"
            out.append(Verdict(_refusal(what, hits, total, policy.max_unlink_ratio, "remove")))
    return out


def _refusal(
    what: str, hits: list[Change], total: int, limit: float, verb: str = "unlink or revoke"
) -> Refusal:
    return Refusal(
        code="unlink-threshold",
        message=(
            f"this plan would {verb} {len(hits)} of the {total} {what} "
            f"({len(hits) / total:.0%}), more than "
            f"policy.max_unlink_ratio {limit:.0%}; check its selectors and use --force if "
            "intended"
        ),
        addresses=tuple(sorted(c.address for c in hits)),
        withheld=False,
        count=len(hits),
    )
