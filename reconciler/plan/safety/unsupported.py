"""``unsupported``: what the public API cannot do never enters a plan. A dataset's or an
organisation tag's description cannot be changed once it exists (SDK 0.1.211 has no update
call for either); objects cannot be registered into a cloud-synced folder (its items come
from its sync: the API refuses every such job). Withholds; runs after the ownership filter,
which explains first."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.kinds.dataset import DatasetPayload
from reconciler.kinds.tag import TagPayload
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.canonical import strip_tag
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_unsupported(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    found = [
        _verdict(change)
        for change in changes
        if change.kind in _NOUN and Action.PATCH in change.actions
    ]
    folders = facts.ctx.live.folders
    for change in changes:
        target = folders.get(change.refs.folder_uuid or "")
        if change.kind == addr.Kind.REGISTER and target and target.folder_type == "cloudLinked":
            found.append(_synced_target(change))
    return found


def _synced_target(change: Change) -> Verdict:
    path = addr.key_of(change.address)
    refusal = Refusal(
        code="unsupported",
        message=(
            f"{change.address} ({change.source}): folder {path} is cloud-synced in Encord, and "
            "the API registers objects only into a plain folder (a synced folder's items come "
            "from its sync); register into another folder, or drop register: here"
        ),
        addresses=(change.address,),
    )
    return Verdict(refusal, (change.address,))


_NOUN = {addr.Kind.DATASET: "a dataset", addr.Kind.ORGANISATION_TAG: "an organisation tag"}


def _descriptions(change: Change) -> tuple[str, str]:
    if change.kind == addr.Kind.DATASET:
        return (
            DatasetPayload.of(change.before).description,
            DatasetPayload.of(change.after).description,
        )
    before, after = TagPayload.of(change.before), TagPayload.of(change.after)
    return before.description or "", after.description or ""


def _verdict(change: Change) -> Verdict:
    before, after = (strip_tag(d) for d in _descriptions(change))
    refusal = Refusal(
        code="unsupported",
        message=(
            f"{change.address} ({change.source}): the live description {before!r} "
            f"differs from the declared {after!r}, and the Encord API cannot change "
            f"{_NOUN[change.kind]}'s description; edit it in the Encord app or declare the "
            "live text"
        ),
        addresses=(change.address,),
    )
    return Verdict(refusal, (change.address,))
