"""A saved plan judged against the fresh plan of its re-check (``plan/recheck.py``): which of
its changes that read vouches for, and which removals it refuses."""

from __future__ import annotations

from dataclasses import replace

from helpers import payloads
from helpers.plans import sealed_plan

from reconciler.model.addresses import Kind
from reconciler.plan import Change
from reconciler.plan.actions import Action
from reconciler.plan.recheck import unplanned_removals, vouched_for
from reconciler.plan.refs import Refs

READ = "2026-12-01T10:00:00+00:00"


def _patch(name: str, *, fingerprint: str | None = READ, uuid: str = "") -> Change:
    path = f"/data/{name}"
    return Change(
        address=f"item:{path}",
        kind=Kind.ITEM,
        actions=(Action.PATCH,),
        before=payloads.item(path, {}),
        after=payloads.item(path, {"stage": "one"}),
        fingerprint=fingerprint,
        refs=Refs(uuid=uuid or f"uuid-{name}", from_parent_uuid="uuid-data"),
    )


def test_a_change_read_alike_is_vouched_for_and_any_difference_is_not() -> None:
    saved = [_patch(n) for n in ("same", "edited", "gone", "moved", "replaced", "new")]
    saved[-1] = replace(saved[-1], actions=(Action.CREATE,), before=None, fingerprint=None)
    fresh = [
        _patch("same"),
        _patch("edited", fingerprint="2026-12-01T11:00:00+00:00"),  # edited since
        # "gone": the fresh plan does not make it (done meanwhile, or no longer declared)
        replace(_patch("moved"), actions=(Action.MOVE, Action.PATCH)),  # other actions
        _patch("replaced", uuid="another-object-at-that-path"),
        replace(_patch("new"), actions=(Action.CREATE,), before=None, fingerprint=None),
    ]
    assert vouched_for(sealed_plan(saved), sealed_plan(fresh)) == {"item:/data/same"}


def test_a_change_without_a_fingerprint_is_never_vouched_for() -> None:
    """A create's re-read is what finds an object someone made meanwhile (or that an earlier,
    unacknowledged attempt made), so it is never skipped."""
    create = replace(_patch("new"), actions=(Action.CREATE,), before=None, fingerprint=None)
    assert vouched_for(sealed_plan([create]), sealed_plan([create])) == frozenset()


def test_a_removal_the_fresh_plan_does_not_make_is_unplanned() -> None:
    delete = replace(_patch("old"), actions=(Action.DELETE,), after=None)
    kept = replace(_patch("kept"), actions=(Action.DELETE,), after=None)
    saved = sealed_plan([delete, kept, _patch("patched")])
    fresh = sealed_plan([kept])
    assert [c.address for c in unplanned_removals(saved, fresh)] == ["item:/data/old"]
    done = {n for n, c in enumerate(saved.changes) if c.address == "item:/data/old"}
    assert unplanned_removals(saved, fresh, done=done) == []
