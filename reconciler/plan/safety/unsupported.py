"""``unsupported``: what the public API cannot do never enters a plan. A dataset's
description cannot be changed once the dataset exists (SDK 0.1.211 has no dataset update
call). Withholds; runs after the ownership filter, which explains first."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.kinds.dataset import DatasetPayload
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.canonical import strip_tag
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict


def withhold_unsupported(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    return [
        _verdict(change)
        for change in changes
        if change.kind == addr.Kind.DATASET and Action.PATCH in change.actions
    ]


def _verdict(change: Change) -> Verdict:
    before = strip_tag(DatasetPayload.of(change.before).description)
    after = strip_tag(DatasetPayload.of(change.after).description)
    refusal = Refusal(
        code="unsupported",
        message=(
            f"{change.address} ({change.source}): the live description {before!r} "
            f"differs from the declared {after!r}, and the Encord API cannot change a "
            "dataset's description; edit it in the Encord app or declare the live text"
        ),
        addresses=(change.address,),
    )
    return Verdict(refusal, (change.address,))
