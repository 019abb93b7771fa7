"""``unsupported``: what the public API cannot do never enters a plan. A dataset's or an
organisation tag's description cannot be changed once it exists (SDK 0.1.211 has no update
call for either); objects cannot be registered into a cloud-synced folder or a folder inside one (its
items come from its sync: the API refuses such a job, or the next sync tombstones what it
registered). Withholds; runs after the ownership filter,
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
    for change in changes:
        if change.kind != addr.Kind.REGISTER:
            continue
        synced = _synced_at_or_above(facts, change)
        if synced is not None:
            found.append(_synced_target(change, synced))
    return found


def _synced_at_or_above(facts: Facts, change: Change) -> str | None:
    """The folder at or above a register change's folder that is cloud-synced in Encord:
    the API refuses a job into a synced folder, and a sync mirrors its whole subtree, so
    what a job registers in a folder under it outside the synced prefix is tombstoned by
    the next sync (registered again at every apply, never converging)."""
    live = facts.ctx.live
    target = live.folders.get(change.refs.folder_uuid or "")
    if target is not None and target.folder_type == "cloudLinked":
        return addr.key_of(change.address)
    path = addr.key_of(change.address)
    while (path := path.rpartition("/")[0]) != "":
        above = live.folders.get(live.paths.get(path, ""))
        if above is not None and above.folder_type == "cloudLinked":
            return path
    return None


def _synced_target(change: Change, synced: str) -> Verdict:
    path = addr.key_of(change.address)
    where = (
        f"folder {path} is cloud-synced in Encord"
        if synced == path
        else f"folder {path} is inside {synced}, which is cloud-synced in Encord"
    )
    refusal = Refusal(
        code="unsupported",
        message=(
            f"{change.address} ({change.source}): {where}, and the API registers objects only "
            "into a plain folder outside any sync (a synced folder's items come from its "
            "sync); register into another folder, or drop register: here"
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
