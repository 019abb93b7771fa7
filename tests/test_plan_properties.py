"""Property tests on the simulator: plans converge, deletes only what we own, never touch what
another config owns, and survive a JSON round trip."""

from __future__ import annotations

import os

import jsonschema
import pytest
from helpers.desired import OTHER, OWNER
from helpers.strategies import configurations, organisations
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from simulator import Org

from reconciler.model import addresses as addr
from reconciler.model.desired import OWNER_KEY
from reconciler.model.live import LiveState
from reconciler.plan import PLAN_SCHEMA, DiffOptions, Plan, diff, dumps, loads, plan_document
from reconciler.plan.canonical import description_owner

pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Org, object]:
    org = draw(organisations())
    return org, draw(configurations(org))


def _owner(live: LiveState, kind: str, uuid: str | None) -> str | None:
    if uuid is None:
        return None
    if kind == addr.Kind.FOLDER and uuid in live.folders:
        value = live.folders[uuid].metadata.get(OWNER_KEY)
        return value if isinstance(value, str) else None
    if kind == addr.Kind.GROUP and uuid in live.groups:
        return description_owner(live.groups[uuid].description)
    if uuid in live.datasets:
        return description_owner(live.datasets[uuid].description)
    return None


def _touched(plan: Plan) -> list[tuple[str, str | None]]:
    out = []
    for c in plan.changes:
        refs = c.refs
        if c.kind in (addr.Kind.FOLDER, addr.Kind.GROUP, addr.Kind.DATASET):
            out.append((c.kind, refs.uuid))
        if c.kind == addr.Kind.FOLDER_GROUP:
            out.append((addr.Kind.FOLDER, refs.folder_uuid))
        if c.kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER, addr.Kind.LINK):
            out.append((addr.Kind.DATASET, refs.dataset_uuid))
    return out


@SETTINGS
@given(scenarios())
def test_applying_a_plan_converges(scenario: tuple[Org, object]) -> None:
    """A second plan is empty, unless the first held changes back (then those may follow once
    their reason is gone); nothing applied is ever planned again, and it settles in 3 rounds."""
    org, desired = scenario
    applied: set[str] = set()
    held_back = False
    for round_ in range(4):
        plan = diff(desired, org.live_state(desired.roots()), options=DiffOptions(force=True))  # type: ignore[arg-type]
        if round_ == 0:
            for key, count in plan.summary.as_dict().items():
                event(f"plans with {key}: {count > 0}")
            for refusal in plan.refusals:
                event(f"refusal {refusal.code}")
            event(f"deferred: {bool(plan.deferred)}")
        addresses = {c.address for c in plan.changes}
        if not addresses:
            return
        assert round_ == 0 or held_back, f"second plan not empty: {sorted(addresses)}"
        assert not addresses & applied, f"planned again: {sorted(addresses & applied)}"
        applied |= addresses
        held_back = any(r.withheld for r in plan.refusals)
        org.apply(plan, desired)  # type: ignore[arg-type]
    raise AssertionError("no convergence after four applies")


@SETTINGS
@given(scenarios())
def test_deletes_only_what_we_own_and_never_touch_foreign(scenario: tuple[Org, object]) -> None:
    org, desired = scenario
    live = org.live_state(desired.roots())  # type: ignore[attr-defined]
    plan = diff(desired, live)  # type: ignore[arg-type]
    prune = desired.policy.prune  # type: ignore[attr-defined]
    deleted = {c.refs.uuid for c in plan.changes if c.kind == addr.Kind.FOLDER and Action_delete(c)}
    for change in plan.changes:
        if not change.is_delete or change.kind == addr.Kind.ITEM:
            continue
        uuid = change.refs.uuid
        if change.kind == addr.Kind.FOLDER and live.folders[uuid or ""].parent in deleted:
            continue  # the content of a deleted folder goes with it
        if change.kind == addr.Kind.FOLDER and _inside_replacement(plan, change):
            continue
        owner = _owner(live, change.kind, uuid)
        assert prune != "never", change.address
        assert owner == OWNER or (
            prune == "all" and owner is None and change.kind == addr.Kind.FOLDER
        ), change.address
    for kind, uuid in _touched(plan):
        assert _owner(live, kind, uuid) != OTHER, (kind, uuid)


def Action_delete(change: object) -> bool:
    return bool(getattr(change, "is_delete", False) or getattr(change, "is_replace", False))


def _inside_replacement(plan: Plan, change: object) -> bool:
    replaced = [c for c in plan.changes if c.is_replace]
    path = (getattr(change, "before", None) or {}).get("path", "")
    return any(addr.is_under(path, (r.before or {}).get("path", "\0")) for r in replaced)


@SETTINGS
@given(scenarios())
def test_plan_json_round_trips_and_matches_the_schema(scenario: tuple[Org, object]) -> None:
    org, desired = scenario
    plan = diff(desired, org.live_state(desired.roots()))  # type: ignore[arg-type,attr-defined]
    addresses = [c.address for c in plan.changes]
    assert len(addresses) == len(set(addresses)), "addresses must be unique"
    assert all(d in set(addresses) for c in plan.changes for d in c.depends_on)
    text = dumps(plan)
    again = loads(text)
    assert again == plan
    assert dumps(again) == text
    jsonschema.validate(plan_document(plan), PLAN_SCHEMA)
