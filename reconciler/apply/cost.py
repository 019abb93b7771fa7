"""``estimate``: what applying a plan will cost, from the code that applies it.

The steps are ``steps_of`` (the phases apply runs), the waves and bundles are
``bundle_phase`` (what apply sends together), and each bundle's requests are its own
operation's count (``Operation.calls``, written beside the calls it counts). Nothing here
guesses: change the bundling or an operation and the estimate changes with it. The value
and the time formula are ``reconciler.plan.cost``'s.

What is not counted: retries, calls split after a refusal, polling beyond one status read
while a sync or registration job runs, the organisation lock, and the verification after
the phases (a fresh plan, which reads again).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.apply.bundles import Wave, bundle_phase
from reconciler.apply.cost_record import Recalled, recall
from reconciler.apply.executor import Calls
from reconciler.apply.operations import Operations
from reconciler.apply.phases import PHASES, Step, by_phase, steps_of
from reconciler.encord import EncordClient
from reconciler.plan import Plan
from reconciler.plan.cost import Cost, PhaseCost, RouteTime, object_ms_of, round_trip_ms_of


def estimate(
    plan: Plan,
    *,
    concurrency: int,
    latency_ms: float | None,
    object_ms: float | None = None,
    recheck: bool = True,
    vouched: frozenset[str] | None = None,
    client_ms: float | None = None,
    carried: Recalled | None = None,
) -> Cost | None:
    """The cost of applying ``plan`` (None when it is empty). ``recheck``: every bundle
    re-reads its objects before writing, as a confirmed plan does, but those of the changes
    in ``vouched`` (a saved plan's that its re-check's read vouches for); False for
    ``apply --auto-approve`` straight after its read, which trusts that read. The times are
    ``reconciler.plan.cost``'s formula over ``latency_ms``, ``object_ms`` and ``client_ms``,
    and ``carried``, what writing an object took past applies, as a factor over
    ``object_ms`` (``WRITE_FACTOR`` without, or when the two make no factor in bounds)."""
    if not plan.changes:
        return None
    factor = None if carried is None else carried.factor_at(object_ms)
    operations = Operations()
    pending = by_phase(steps_of(plan.changes))
    phases = []
    for phase in PHASES:
        if pending.get(phase):
            waves = bundle_phase(phase, pending[phase])
            reread = _Reread(recheck, vouched)
            phases.append(_phase_cost(str(phase), waves, operations, concurrency, reread))
    cost = Cost(
        phases=tuple(phases),
        concurrency=concurrency,
        latency_ms=latency_ms,
        object_ms=object_ms,
        client_ms=client_ms,
    )
    if factor is None or carried is None:  # the default, WRITE_FACTOR
        return cost
    return replace(cost, write_factor=factor, write_factor_applies=carried.applies)


def _phase_cost(
    phase: str, waves: Sequence[Wave], operations: Operations, concurrency: int, reread: _Reread
) -> PhaseCost:
    requests = reads = rounds = read_objects = written_objects = 0
    for wave in waves:
        calls = []
        for bundle in wave:
            bundle_calls, reread_steps = _calls(operations, bundle.steps, reread)
            calls.append(bundle_calls)
            read_objects += reread_steps if bundle_calls.reads else 0
            written_objects += len(bundle) if bundle_calls.writes else 0
        sent = sum(c.reads + c.writes for c in calls)
        requests += sent
        reads += sum(c.reads for c in calls)
        # concurrent under one limit, and never faster than the longest bundle's own chain
        rounds += max(-(-sent // concurrency), max(c.rounds for c in calls))
    return PhaseCost(phase, requests, reads, rounds, read_objects, written_objects)


@dataclass(frozen=True, slots=True)
class _Reread:
    """Which steps a bundle reads again before writing (``estimate``'s two arguments)."""

    recheck: bool
    vouched: frozenset[str] | None

    def steps(self, steps: Sequence[Step]) -> Sequence[Step]:
        if not self.recheck:
            return ()
        if self.vouched is None:
            return steps
        return [s for s in steps if s.change.address not in self.vouched]


def _calls(operations: Operations, steps: Sequence[Step], reread: _Reread) -> tuple[Calls, int]:
    """A bundle's calls, and how many of its steps it reads again (the executor's split:
    only those are checked, ``Executor._checked_and_written``)."""
    operation = operations(steps[0])
    calls = operation.calls(steps)
    checked = reread.steps(steps)
    if not checked:
        return replace(calls, reads=0), 0
    if len(checked) < len(steps):
        part = operation.calls(checked)
        return replace(calls, reads=part.reads, read_rounds=part.read_rounds), len(checked)
    return calls, len(steps)


def measured_latency_ms(client: EncordClient) -> float | None:
    """What a light request's round trip costs against this target right now, in ms
    (``reconciler.plan.cost.round_trip_ms_of``: the median over the routes that are not
    bulk); the mean of every request when none was light; None before the first."""
    stats = client.stats
    if not stats.total:
        return None
    light = round_trip_ms_of(_routes(client))
    return light if light is not None else stats.seconds / stats.total * 1000


def measured_object_ms(client: EncordClient) -> float | None:
    """What the server spent on an object of a bulk answer so far, in ms
    (``reconciler.plan.cost.object_ms_of`` over its routes; None before it could tell)."""
    fastest = client.stats.fastest
    return None if fastest is None else object_ms_of(_routes(client), fastest_seconds=fastest)


def _routes(client: EncordClient) -> list[RouteTime]:
    stats, spans = client.stats, client.request_spans()
    return [
        RouteTime(
            requests=count,
            objects=stats.objects_by_route.get(route, 0),
            spans=spans.get(route, ()),
        )
        for route, count in stats.by_route.items()
    ]


def with_cost(
    plan: Plan,
    client: EncordClient,
    *,
    recheck: bool = True,
    vouched: frozenset[str] | None = None,
    record: Path | None = None,
) -> Plan:
    """``plan`` carrying the estimate, at the latency, the time per object and the client's
    CPU per object ``client`` measured so far, and the write factor that past applies to its
    target showed when ``record`` (``cost_record.record_path``) holds usable ones. The
    checksum does not cover the cost, so it stays as it was."""
    carried = None if record is None else recall(record, client.target, now=time.time())
    cost = estimate(
        plan,
        concurrency=client.options.concurrency,
        latency_ms=measured_latency_ms(client),
        object_ms=measured_object_ms(client),
        recheck=recheck,
        vouched=vouched,
        client_ms=client.client_ms(),
        carried=carried,
    )
    return replace(plan, cost=cost)
