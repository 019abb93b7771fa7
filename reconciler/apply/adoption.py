"""A create whose object is already there: adopt it when it is ours, refuse when it is not.

An unacknowledged earlier attempt (a run stopped between the API's answer and the journal)
leaves the object made and not recorded; it carries our ownership marker, so the create
adopts it instead of making a second one. An object of that name without our marker was
made by somebody else since the plan: the create is stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.apply.context import RunContext
from reconciler.apply.freshness import appeared_message
from reconciler.apply.phases import Step


def adopt_ours(
    ctx: RunContext, step: Step, found: Iterable[tuple[str | None, str]], *, adopted: str
) -> str:
    """The verdict on a create given the live objects of its name, as (owner, id) pairs.

    ``"fresh"`` when there is none; ``adopted`` (``"already"``, or ``"fresh"`` when the
    write still has work to do on an adopted object) after recording the first one that
    carries our marker; a stale message when none does.
    """
    found = list(found)
    if not found:
        return "fresh"
    ours = [uuid for owner, uuid in found if owner == ctx.ownership_id]
    if not ours:
        return appeared_message(step)
    ctx.record_created(step.address, ours[0])
    return adopted
