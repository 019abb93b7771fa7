"""Is an object still as the plan saw it? The rule every operation applies before writing.

For each step, the object is read again (as cheaply as the API allows) and judged:

* **already**: every field this step writes already holds the planned value (an earlier,
  unacknowledged attempt went through, or someone made the same change): nothing to send;
* **fresh**: every field the plan looked at still holds its planned-against value, or the
  value this change itself writes (a partial earlier attempt);
* **stale**: anything else. The step fails with a message naming what changed (and how
  ``lastEditedAt`` moved), and only this change (and what depends on it) is held back.

An unchanged fingerprint (``lastEditedAt`` as the plan read it) settles it at once: fresh.
A moved one is not enough to refuse: our own earlier steps (a patch before a move), an
unacknowledged attempt, and edits of fields the plan does not manage (an item's description)
move it without making the plan wrong, so then the fields decide.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply.phases import Step
from reconciler.live.records import parse_metadata
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.canonical import equivalent

_MISSING = object()


@dataclass(slots=True)
class Checked:
    """The verdict on each step of a bundle (every step lands in exactly one list)."""

    fresh: list[Step] = field(default_factory=list)
    already: list[Step] = field(default_factory=list)
    stale: list[tuple[Step, str]] = field(default_factory=list)

    def extend(self, other: Checked) -> None:
        self.fresh.extend(other.fresh)
        self.already.extend(other.already)
        self.stale.extend(other.stale)

    def add(self, step: Step, verdict: str) -> None:
        """File ``step`` under a verdict: ``"fresh"``, ``"already"`` or a stale message."""
        if verdict == "fresh":
            self.fresh.append(step)
        elif verdict == "already":
            self.already.append(step)
        else:
            self.stale.append((step, verdict))


Verdict = Callable[[Step], Awaitable[str]]


async def check_each(steps: Sequence[Step], verdict: Verdict) -> Checked:
    """Judge the steps one after another (not concurrently: a check may adopt an object an
    earlier attempt made, and a later step of the bundle must see that it did)."""
    out = Checked()
    for step in steps:
        out.add(step, await verdict(step))
    return out


async def check_create_or_patch(
    steps: Sequence[Step], *, create: Verdict, patch: Verdict
) -> Checked:
    """The check of an operation that both creates and patches one kind of object."""
    return await check_each(
        steps, lambda step: (create if Action.CREATE in step.actions else patch)(step)
    )


@dataclass(frozen=True, slots=True)
class Observed:
    """One object as read now, in the same terms as the plan's ``before``/``after``.

    ``fields`` maps field name to value; ``edited`` is the ``lastEditedAt`` text (or "").
    """

    fields: Mapping[str, Any]
    edited: str = ""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the plan expects of one object for one step.

    ``before``: field -> value the plan saw; ``after``: field -> value the whole change
    writes; ``writes``: the fields this step writes (a subset of ``after``).
    """

    before: Mapping[str, Any]
    after: Mapping[str, Any]
    writes: frozenset[str]


def metadata_field(text: str | None, where: str) -> dict[str, Any]:
    """``{"metadata": ...}`` for ``Observed.fields``; nothing when the live ``clientMetadata``
    is not a JSON object, so that a step that looked at or writes metadata is stale (never
    judged against ``{}``, which its write would then replace)."""
    metadata = parse_metadata(text, where)
    return {} if metadata is None else {"metadata": metadata}


def judge(step: Step, observed: Observed, expected: Expectation) -> str:
    """``"already"``, ``"fresh"`` or a stale message (one line)."""
    fingerprint = step.change.fingerprint
    if fingerprint and observed.edited == fingerprint:
        return "fresh"  # untouched since the plan read it: nothing to compare
    if expected.writes and all(
        _same(observed.fields.get(f, _MISSING), expected.after.get(f)) for f in expected.writes
    ):
        return "already"
    changed = [
        f
        for f, planned in expected.before.items()
        if not _same(observed.fields.get(f, _MISSING), planned)
        and not (f in expected.after and _same(observed.fields.get(f), expected.after[f]))
    ]
    if not changed:
        return "fresh"
    return stale_message(step, changed, observed.edited)


def sort_steps(
    steps: Sequence[Step],
    uuids: Sequence[str],
    observed: Mapping[str, Observed | None],
    expect: Callable[[Step], Expectation],
    *,
    writes: frozenset[str],
) -> Checked:
    """Judge each step against its object as read now (``None``: the object is gone, which
    is done already for a delete or replacement and stale for anything else)."""
    out = Checked()
    for step, uuid in zip(steps, uuids, strict=True):
        seen = observed.get(uuid)
        if seen is None:
            if step.change.is_delete or step.change.is_replace:
                out.already.append(step)
            else:
                out.stale.append((step, gone_message(step)))
            continue
        fingerprint = step.change.fingerprint
        if fingerprint and seen.edited == fingerprint:
            out.fresh.append(step)  # as ``judge`` finds, without building the expectation
            continue
        verdict = judge(step, seen, expect(step))
        if verdict == "already" and writes:
            out.already.append(step)
        elif verdict in ("fresh", "already"):
            out.fresh.append(step)
        else:
            out.stale.append((step, verdict))
    return out


def _same(live: Any, planned: Any) -> bool:
    if type(live) is str and type(planned) is str:  # ids and names: skip the general walk
        return live == planned
    return live is not _MISSING and equivalent(live, planned)


def describe(address: str) -> str:
    """``folder:/a/b`` → ``folder /a/b`` (how messages name objects)."""
    kind, _, key = address.partition(":")
    return f"{kind} {key}" if key else address


def stale_message(step: Step, changed: Sequence[str], edited: str) -> str:
    change = step.change
    what = describe(change.previous_address or change.address)
    fingerprint = change.fingerprint or ""
    stamp = ""
    if edited and fingerprint and not fingerprint.startswith("sha256:") and edited != fingerprint:
        stamp = f"lastEditedAt {fingerprint} → {edited}; "
    fields = ", ".join(changed)
    return f"{what} changed since the plan: {stamp}{fields} differ; re-run plan"


def changed_message(step: Step, fields: Sequence[str]) -> str:
    """A stale message naming the fields that differ (``content`` when none is named)."""
    return (
        f"{describe(step.address)} changed since the plan: {', '.join(fields) or 'content'} "
        "differ; re-run plan"
    )


def appeared_message(step: Step) -> str:
    """A create's object already there, made by somebody else since the plan."""
    return (
        f"{describe(step.address)} appeared since the plan (made by someone else, not by "
        "this config); re-run plan"
    )


def gone_message(step: Step) -> str:
    change = step.change
    return (
        f"{describe(change.previous_address or change.address)} no longer exists (deleted "
        "since the plan); re-run plan"
    )


def is_kind(step: Step, kind: addr.Kind) -> bool:
    return step.change.kind == kind
