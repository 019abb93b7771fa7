"""``ordered`` and ``summarise`` judge each distinct (actions, kind) or (actions, has
before) once for the whole plan: the same order and counts as judging every change."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds import spec_of
from reconciler.kinds.item import ItemPayload
from reconciler.model.addresses import Kind, sort_text
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, category, summarise
from reconciler.plan.order import ordered

_ACTIONS = [
    (Action.PATCH,),
    (Action.MOVE, Action.PATCH),
    (Action.DELETE,),
    (Action.DELETE, Action.CREATE),
    (Action.CREATE,),
    (Action.UNLINK,),
    (Action.REVOKE,),
    (Action.REVOKE, Action.GRANT),
    (Action.GRANT,),
    (Action.LINK,),
    (Action.CREATE, Action.SYNC),
]
_KINDS = [Kind.ITEM, Kind.FOLDER, Kind.USER, Kind.LINK, Kind.GROUP]
_CHANGES = st.lists(
    st.builds(
        lambda n, kind, actions, before: Change(
            address=f"{kind.value}:/a/{n}",
            kind=kind,
            actions=actions,
            before=ItemPayload("/a", {}) if before else None,
        ),
        st.integers(0, 50),
        st.sampled_from(_KINDS),
        st.sampled_from(_ACTIONS),
        st.booleans(),
    ),
    max_size=30,
    unique_by=lambda c: c.address,
)


def _ordered_each(changes: list[Change]) -> list[str]:
    """The order judged change by change, as ``ordered`` did before."""

    def key(c: Change) -> tuple[object, ...]:
        return (spec_of(c.kind).display_rank, sort_text(c.address), c.address)

    replaces = sorted((c for c in changes if c.is_replace), key=key)
    deletes = [c for c in changes if not c.is_replace and c.is_delete]
    removals = [c for c in changes if not (c.is_replace or c.is_delete) and c.is_removal]
    rest = [c for c in changes if not (c.is_replace or c.is_delete or c.is_removal)]
    out = list(replaces)
    for rank in sorted({spec_of(c.kind).delete_rank for c in deletes}):
        same = [c for c in deletes if spec_of(c.kind).delete_rank == rank]
        out += sorted(same, key=lambda c: (sort_text(c.address), c.address), reverse=True)
    out += sorted(removals, key=key) + sorted(rest, key=key)
    return [c.address for c in out]


@settings(max_examples=80, deadline=None)
@given(_CHANGES)
def test_changes_judged_per_distinct_actions_order_and_count_as_each(
    changes: list[Change],
) -> None:
    assert [c.address for c in ordered(changes)] == _ordered_each(changes)
    summary = summarise(tuple(changes))
    for bucket in (
        "create",
        "change",
        "move",
        "delete",
        "replace",
        "link",
        "unlink",
        "grant",
        "revoke",
    ):
        assert getattr(summary, bucket) == sum(1 for c in changes if category(c) == bucket)
    assert summary.sync == sum(1 for c in changes if Action.SYNC in c.actions)
