"""The cost a plan states is what its apply sends: per phase, counted by the sandbox.

One served sandbox for the module (1,500 seeded items under ``/data``). Each plan is
estimated by ``reconciler.apply.cost`` and then applied; the sandbox's own counter
(``/_sandbox/stats``) is read before every phase and at the end, so each phase's requests
are measured on the server, not by the client whose code made the estimate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from helpers import SandboxServer, running_sandbox
from helpers.desired import desired_state, folder, group, rule

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.apply.cost import estimate, measured_latency_ms, with_cost
from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.plan.cost import PREPARE_RECHECK, WRITE_FACTOR


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with running_sandbox(tmp_path_factory.mktemp("cost-e2e"), seeds=(("/data", 1500),)) as served:
        yield served


def _total(server: SandboxServer) -> int:
    return int(server.stats()["total"])


async def _plan_and_apply(
    server: SandboxServer, desired: DesiredState, *, recheck: bool
) -> tuple[Plan, dict[str, int], float | None]:
    """The plan (its cost as ``reconciler plan`` measures it), the requests the sandbox
    counted in each of its phases, and the latency the read measured."""
    options = ClientOptions(domain=server.url, auth=key_auth_from_file(server.key_path))
    async with EncordClient(options) as client:
        started = time.monotonic()
        live = await read_live(client, Scope.from_desired(desired))
        latency = measured_latency_ms(client)
        plan = with_cost(diff(desired, live, options=DiffOptions()), client, recheck=recheck)
        marks: list[tuple[str, int]] = []

        async def before_phase(phase: str) -> None:
            marks.append((phase, _total(server)))

        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(
                read_at=None if recheck else started, before_phase=before_phase, verify=False
            ),
        )
    assert not result.failures, result.failures[:3]
    marks.append(("end", _total(server)))
    counted = {phase: marks[n + 1][1] - at for n, (phase, at) in enumerate(marks[:-1])}
    # the apply timed each phase it ran (what the next plan's write factor is taken from)
    assert set(result.phase_seconds) == set(counted)
    assert all(seconds > 0 for seconds in result.phase_seconds.values())
    return plan, counted, latency


def _estimated(plan: Plan, *, recheck: bool) -> dict[str, int]:
    cost = estimate(plan, concurrency=16, latency_ms=20.0, recheck=recheck)
    assert cost is not None
    return {p.phase: p.requests for p in cost.phases}


def _first_config() -> DesiredState:
    return desired_state(
        folders={
            "/data/new": folder("/data/new", groups={"cost-team": "user"}),
            "/data/new/a": folder("/data/new/a"),
            "/data/new/b": folder("/data/new/b", description="b"),
        },
        groups={"cost-team": group("cost-team")},
        rules=(rule("/data", {"cost": "one"}, recursive=True),),
    )


def test_a_saved_plans_requests_per_phase_are_what_the_sandbox_counts(
    server: SandboxServer,
) -> None:
    desired = _first_config()
    plan, counted, latency = asyncio.run(_plan_and_apply(server, desired, recheck=True))
    assert set(counted) == {"create-folders", "patch-items", "groups", "grants"}
    assert _estimated(plan, recheck=True) == counted
    assert latency is not None and latency > 0
    # 1,500 items: two get-bulk reads and two patch-bulks
    assert counted["patch-items"] == 4
    # the latency the read measured, as the plan file keeps it (to 0.1 ms)
    assert plan.cost is not None and plan.cost.latency_ms == round(latency, 1)
    # the read's item pages (1,500 items in two pages) measured what an object costs
    assert plan.cost.object_ms is not None and plan.cost.object_ms > 0
    patch = next(p for p in plan.cost.phases if p.phase == "patch-items")
    assert (patch.read_objects, patch.written_objects) == (1500, 1500)
    # and what the client spent on each object it read, which its preparation is scaled by
    assert plan.cost.client_ms is not None and plan.cost.client_ms > 0
    kept = plan.cost.latency_ms
    prepare = 1500 * plan.cost.client_ms * PREPARE_RECHECK  # the bundles re-read first
    assert plan.cost.phase_seconds(patch) == pytest.approx(
        (prepare + max(2 * kept, kept + (1500 + 1500 * WRITE_FACTOR) * plan.cost.object_ms)) / 1000
    )


def test_a_trusted_plan_sends_no_reads_and_the_count_says_so(server: SandboxServer) -> None:
    desired = desired_state(
        folders=dict(_first_config().folders),
        groups=dict(_first_config().groups),
        rules=(rule("/data", {"cost": "two"}, recursive=True),),
    )
    plan, counted, _ = asyncio.run(_plan_and_apply(server, desired, recheck=False))
    assert counted == {"patch-items": 2}
    assert plan.cost is not None and plan.cost.phases[0].read_objects == 0
    assert _estimated(plan, recheck=False) == counted
    assert _estimated(plan, recheck=True) == {"patch-items": 4}


def test_an_empty_plan_costs_nothing(server: SandboxServer) -> None:
    desired = desired_state(
        folders=dict(_first_config().folders),
        groups=dict(_first_config().groups),
        rules=(rule("/data", {"cost": "two"}, recursive=True),),
    )
    plan, counted, _ = asyncio.run(_plan_and_apply(server, desired, recheck=True))
    assert plan.is_empty and counted == {}
    assert estimate(plan, concurrency=16, latency_ms=20.0) is None


def test_deletes_cost_what_they_send(server: SandboxServer) -> None:
    """Run after the others (module order): the folders and the group they made are ours and
    no longer declared, so prune deletes them (three calls a folder: two emptiness checks and
    the delete)."""
    desired = desired_state(rules=(rule("/data", {"cost": "two"}, recursive=True),))
    plan, counted, _ = asyncio.run(_plan_and_apply(server, desired, recheck=True))
    assert {"delete-folders", "delete-groups"} <= set(counted)
    assert _estimated(plan, recheck=True) == counted
