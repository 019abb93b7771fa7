"""Property tests of plan and apply over random organisations and configurations.

The convergence test runs the real planner and the real apply engine, through the real
client, against an embedded sandbox (in-process, ``httpx.ASGITransport``) holding the
generated organisation: the plan it applies is the plan read back from JSON, a second plan
is empty, and the store before and after shows that nothing changed that the plan did not
name, nothing vanished that the plan did not delete, and nothing another ownership id owns
changed at all. The org lock is the CLI's (``cli/apply_lock.py``), not the engine's: the
engine entry point is called directly here, as in the other in-process engine tests.

``CONVERGENCE_EXAMPLES`` sets how many organisations the engine tests provision (default 20:
0.4 s each on a 2-core machine at load 8, 1 to 3 s at load 13, so 10 to 60 s per test);
``PLAN_EXAMPLES`` how many the planner-only tests plan for (default 300, over the in-memory
``simulator.Org``, which ``test_the_fake_reads_back_like_the_sandbox`` holds to the reader).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.desired import OTHER, OWNER
from helpers.provision import Key, provision, snapshot
from helpers.strategies import configurations, organisations
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from simulator import CALLER, Org

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.encord import EncordClient
from reconciler.live import Scope, read_live
from reconciler.model import addresses as addr
from reconciler.model.desired import OWNER_KEY, DesiredState
from reconciler.model.live import LiveDataset, LiveFolder, LiveState
from reconciler.plan import PLAN_SCHEMA, DiffOptions, Plan, diff, dumps, loads, plan_document
from reconciler.plan.canonical import description_owner
from reconciler.sandbox.provision import DEFAULT_ADMIN_EMAIL

pytestmark = pytest.mark.slow

PLANNER = settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ENGINE = settings(
    max_examples=int(os.environ.get("CONVERGENCE_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # no explain phase: it re-runs a failing example about a hundred times (a minute here)
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
ROUNDS = 4


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Org, DesiredState]:
    org = draw(organisations())
    return org, draw(configurations(org))


# --- the real engine ----------------------------------------------------------------------


@pytest.mark.anyio
@ENGINE
@given(scenarios())
async def test_the_real_engine_converges_and_changes_only_what_the_plan_names(
    scenario: tuple[Org, DesiredState],
) -> None:
    """A second plan is empty, unless the first held changes back (then those may follow once
    their reason is gone); nothing applied is planned again; it settles within 3 applies."""
    org, desired = scenario
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = (await provision(org, Path(tmp))).sandbox
        async with sandbox.connect() as client:
            applied: set[str] = set()
            held_back = False
            for round_ in range(ROUNDS):
                live = await read_live(client, Scope.from_desired(desired))
                plan = diff(desired, live, options=DiffOptions(force=True))
                if round_ == 0:
                    _count(plan)
                    _deletes_only_what_we_own(plan, live, desired)
                addresses = {c.address for c in plan.changes}
                if not addresses:
                    event(f"applies to converge: {round_}")
                    event(f"seconds per example: {_bucket(time.perf_counter() - started)}")
                    return
                assert round_ == 0 or held_back, f"second plan not empty: {sorted(addresses)}"
                assert not addresses & applied, f"planned again: {sorted(addresses & applied)}"
                applied |= addresses
                held_back = any(r.withheld for r in plan.refusals)
                before = snapshot(sandbox.db)
                deferred = await _apply(client, _round_tripped(plan), desired, live)
                _only_what_the_plan_names(plan, deferred, live, before, snapshot(sandbox.db))
    raise AssertionError(f"no convergence after {ROUNDS} applies")


async def _apply(
    client: EncordClient, plan: Plan, desired: DesiredState, live: LiveState
) -> list[Plan]:
    """Apply as ``reconciler apply`` does right after planning; return the deferred plans."""
    deferred: list[Plan] = []

    def approve(later: Plan) -> bool:
        deferred.append(later)
        return True

    result = await apply_plan(
        plan,
        client=client,
        options=ApplyOptions(
            desired=desired,
            live=live,
            read_at=time.monotonic(),
            verify=False,  # the test plans again itself
            approve_deferred=approve,
        ),
    )
    assert not result.failures, [f.message for f in result.failures]
    return deferred


def _round_tripped(plan: Plan) -> Plan:
    """The plan as ``reconciler apply plan.json`` reads it: what is applied is the JSON."""
    text = dumps(plan)
    again = loads(text)
    assert again == plan
    assert dumps(again) == text
    jsonschema.validate(plan_document(plan), PLAN_SCHEMA)
    return again


def _only_what_the_plan_names(
    plan: Plan,
    deferred: Iterable[Plan],
    live: LiveState,
    before: Mapping[Key, tuple[Any, ...]],
    after: Mapping[Key, tuple[Any, ...]],
) -> None:
    """Every object that existed and changed is one a change names; every one that is gone
    is one a change deletes; nothing another ownership id owns changed at all."""
    changes = [*plan.changes, *(c for p in deferred for c in p.changes)]
    named = {key for c in changes for key in _named(c)}
    deleted = {key for c in changes if c.is_delete or c.is_replace for key in _named(c)[:1]}
    left = {c.refs.email or "" for c in changes if c.kind == addr.Kind.USER and c.is_removal}
    for key, was in before.items():
        now = after.get(key)
        if now == was or _only_cascaded(key, was, now, deleted, left):
            continue
        assert key in named, f"{key} changed but no change names it: {was} -> {now}"
        assert now is not None or key in deleted, f"{key} is gone but no change deletes it"
        assert _owner(live, *key) != OTHER, f"{key} belongs to {OTHER} and changed"


def _named(change: Any) -> list[Key]:
    """The existing objects a change may alter, the changed object itself first."""
    refs, kind = change.refs, change.kind
    objects = (
        addr.Kind.FOLDER,
        addr.Kind.ITEM,
        addr.Kind.GROUP,
        addr.Kind.DATASET,
        addr.Kind.ORGANISATION_TAG,
    )
    if kind in objects:
        return [(str(kind), refs.uuid)] if refs.uuid else []
    if kind == addr.Kind.FOLDER_GROUP:
        return [("folder", refs.folder_uuid)] if refs.folder_uuid else []
    if kind in (addr.Kind.DATASET_GROUP, addr.Kind.DATASET_USER, addr.Kind.LINK):
        return [("dataset", refs.dataset_uuid)] if refs.dataset_uuid else []
    if kind == addr.Kind.COLLECTION:
        return [("collection", refs.uuid)] if refs.uuid else []
    if kind == addr.Kind.COLLECTION_ITEM:
        return [("collection", refs.collection_uuid)] if refs.collection_uuid else []
    return []


def _only_cascaded(
    key: Key,
    was: tuple[Any, ...],
    now: tuple[Any, ...] | None,
    deleted: set[Key],
    left: set[str],
) -> bool:
    """The change is what a planned delete takes with it: a deleted group's grants on folders
    and datasets, a deleted item's data rows and collection memberships, a deleted top-level
    folder's collections; or what a user's removal (a re-role's too) takes with it: the
    user's group memberships and dataset roles (``left``: their emails)."""
    kind, _ = key
    gone_folders = {uuid for k, uuid in deleted if k == "folder"}
    if now is None:
        return kind == "collection" and was[0] in gone_folders
    gone_groups = {uuid for k, uuid in deleted if k == "group"}
    gone_items = {uuid for k, uuid in deleted if k == "item"}
    if kind == "collection":
        return _without(was, 3, gone_items) == now
    if kind == "folder":
        return _without(was, 4, gone_groups) == now
    if kind == "group":
        return _without(was, 2, left) == now
    if kind == "dataset":
        kept = _without(_without(_without(was, 3, gone_groups), 4, gone_items, at=1), 2, left)
        return kept == now
    return False


def _without(value: tuple[Any, ...], field: int, gone: set[str], *, at: int = 0) -> tuple[Any, ...]:
    """``value`` with the pairs of set ``field`` whose element ``at`` is in ``gone`` removed."""
    pairs = frozenset(p for p in value[field] if p[at] not in gone)
    return (*value[:field], pairs, *value[field + 1 :])


def _count(plan: Plan) -> None:
    for key, count in plan.summary.as_dict().items():
        event(f"plans with {key}: {count > 0}")
    for refusal in plan.refusals:
        event(f"refusal {refusal.code}")
    event(f"deferred: {bool(plan.deferred)}")


def _bucket(seconds: float) -> str:
    return next(f"< {b} s" for b in (0.5, 1, 2, 4, 8, float("inf")) if seconds < b)


# --- the in-memory organisation the planner-only tests use reads back like the sandbox ------


@pytest.mark.anyio
@ENGINE
@given(scenarios())
async def test_the_fake_reads_back_like_the_sandbox(scenario: tuple[Org, DesiredState]) -> None:
    """``Org.live_state`` (what the planner-only tests plan against) and the real reader on the
    same organisation in a sandbox agree on everything the planner reads, once the fake's ids
    are the sandbox's. The fake reads every dataset and every group's members in depth: so
    does the real read here (``datasets=None``, ``groups=None``), and it reads the roles,
    users, integrations and schema that a config which declares none of them leaves unread."""
    org, desired = scenario
    with tempfile.TemporaryDirectory() as tmp:
        provisioned = await provision(org, Path(tmp))
        scope = replace(
            Scope.from_desired(desired),
            datasets=None,
            groups=None,
            folder_roles=True,
            read_users=True,
            read_integrations=True,
            read_metadata_schema=True,
        )
        async with provisioned.sandbox.connect() as client:
            real = await read_live(client, scope)
    fake = org.live_state(real.scope, scope=scope)
    ids = {**provisioned.uuids, CALLER: DEFAULT_ADMIN_EMAIL}  # the sandbox admin is the caller
    assert _view(fake, ids.get) == _view(real, lambda x: x)


def _view(live: LiveState, to: Callable[[str], str | None]) -> dict[str, Any]:
    """What the planner reads of a live state, with every id passed through ``to``."""

    def folder(f: LiveFolder) -> tuple[Any, ...]:
        parent = to(f.parent) if f.parent else None
        return (
            parent,
            f.name,
            f.path,
            f.description,
            dict(f.metadata),
            f.folder_type,
            f.remote_url,
        )

    def dataset(d: LiveDataset) -> tuple[Any, ...]:
        groups = {to(g): r for g, r in d.groups.items()}
        items = sorted(str(to(r.item_uuid or "")) for r in d.rows)
        return (d.title, d.description, groups, dict(d.users), items)

    return {
        "scope": (live.scope, live.missing_roots, dict(live.listing_counts)),
        "folders": {to(u): folder(f) for u, f in live.folders.items()},
        "paths": {p: to(u) for p, u in live.paths.items()},
        "ambiguous": {p: sorted(str(to(u)) for u in us) for p, us in live.ambiguous.items()},
        "items": {
            to(u): (to(i.parent), i.folder_path, i.name, i.item_type, dict(i.metadata))
            for u, i in live.items.items()
        },
        "grants": {
            to(f): {to(g): r for g, r in grants.items()}
            for f, grants in live.folder_groups.items()
            if grants
        },
        "groups": {
            to(h): (g.name, g.description, sorted(str(to(m) or m) for m in g.members))
            for h, g in live.groups.items()
        },
        "datasets": {to(u): dataset(d) for u, d in live.datasets.items()},
        "users": {to(e) or e: u.role for e, u in live.users.items()},
        "integrations": sorted(i.title for i in live.integrations.values()),
        "schema": live.metadata_schema,
        "collections": {
            to(u): (
                c.folder,
                c.name,
                c.description,
                None if c.members is None else sorted(str(to(m)) for m in c.members),
            )
            for u, c in live.collections.items()
        },
        "collection_folders": {p: to(u) if u else "" for p, u in live.collection_folders.items()},
    }


# --- the planner alone, over many more organisations ----------------------------------------


def _owner(live: LiveState, kind: str, uuid: str | None) -> str | None:
    if uuid is None:
        return None
    if kind == addr.Kind.FOLDER and uuid in live.folders:
        value = live.folders[uuid].metadata.get(OWNER_KEY)
        return value if isinstance(value, str) else None
    if kind == addr.Kind.GROUP and uuid in live.groups:
        return description_owner(live.groups[uuid].description)
    if kind == addr.Kind.DATASET and uuid in live.datasets:
        return description_owner(live.datasets[uuid].description)
    if kind == addr.Kind.COLLECTION and uuid in live.collections:
        return description_owner(live.collections[uuid].description)
    tags = live.organisation_tags or {}
    if kind == addr.Kind.ORGANISATION_TAG and uuid in tags:
        return description_owner(tags[uuid].description or "")
    return None


def _deletes_only_what_we_own(plan: Plan, live: LiveState, desired: DesiredState) -> None:
    """Deletes are of ours (or, with ``prune: all``, of unmarked folders), never with
    ``prune: never``; no change names an object another ownership id owns."""
    prune = desired.policy.prune
    deleted = {c.refs.uuid for c in plan.changes if c.kind == addr.Kind.FOLDER and c.is_delete}
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
    for change in plan.changes:
        for kind, uuid in _named(change):
            assert _owner(live, kind, uuid) != OTHER, (change.address, uuid)


def _inside_replacement(plan: Plan, change: Any) -> bool:
    """A folder delete inside a folder this plan replaces (its content goes with it)."""
    path = addr.key_of(change.address).split("#", 1)[0]
    replaced = [addr.key_of(c.address).split("#", 1)[0] for c in plan.changes if c.is_replace]
    return any(addr.is_under(path, r) for r in replaced)


@PLANNER
@given(scenarios())
def test_deletes_only_what_we_own_and_never_touch_foreign(
    scenario: tuple[Org, DesiredState],
) -> None:
    org, desired = scenario
    live = org.live_state(desired.roots(), scope=Scope.from_desired(desired))
    _deletes_only_what_we_own(diff(desired, live), live, desired)


@PLANNER
@given(scenarios())
def test_plan_json_round_trips_and_matches_the_schema(scenario: tuple[Org, DesiredState]) -> None:
    org, desired = scenario
    plan = diff(desired, org.live_state(desired.roots(), scope=Scope.from_desired(desired)))
    addresses = [c.address for c in plan.changes]
    assert len(addresses) == len(set(addresses)), "addresses must be unique"
    assert all(d in set(addresses) for c in plan.changes for d in c.depends_on)
    _round_tripped(plan)
