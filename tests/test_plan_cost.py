"""The cost in the plan: the formula, the document (outside the checksum) and the renderings.

That the counts equal what apply sends is ``test_apply_cost_e2e.py``'s (over a socket)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_plan_golden import plan_case
from test_plan_html import page_data

from reconciler.apply.cost import estimate
from reconciler.encord.stats import ClientStats
from reconciler.kinds.actions import Action
from reconciler.model.addresses import Kind
from reconciler.plan import Plan, dumps, loads, plan_document, render_markdown, render_text
from reconciler.plan.cost import (
    PREPARE_RECHECK,
    PREPARE_WRITE,
    WRITE_FACTOR,
    Cost,
    PhaseCost,
    RouteTime,
    object_ms_of,
    round_trip_ms_of,
)
from reconciler.plan.document import sealed
from reconciler.plan.model import Change, Refs, summarise
from reconciler.plan.render_html import render_html


def _item_patches(count: int) -> Plan:
    """``count`` item patches in one folder: ceil(count/1000) patch-bulks."""
    from reconciler.kinds.item import ItemPayload

    changes = tuple(
        Change(
            address=f"item:/data/i{n:05d}",
            kind=Kind.ITEM,
            actions=(Action.PATCH,),
            before=ItemPayload(f"/data/i{n:05d}", {}),
            after=ItemPayload(f"/data/i{n:05d}", {"k": "v"}),
            refs=Refs(uuid=f"u{n}", from_parent_uuid="folder"),
        )
        for n in range(count)
    )
    base = plan_case("patch")
    return sealed(replace(base, changes=changes, summary=summarise(changes)))


def test_rounds_are_requests_over_the_limit_but_never_fewer_than_a_bundles_chain() -> None:
    plan = _item_patches(20_000)  # 20 bundles in one wave
    trusted = estimate(plan, concurrency=16, latency_ms=200.0, recheck=False)
    assert trusted == Cost(
        phases=(PhaseCost("patch-items", 20, reads=0, rounds=2, written_objects=20_000),),
        concurrency=16,
        latency_ms=200.0,
    )
    assert trusted.seconds == pytest.approx(0.4)  # 2 rounds of 200 ms
    checked = estimate(plan, concurrency=16, latency_ms=200.0)
    assert checked is not None
    assert (checked.requests, checked.phases[0].reads, checked.rounds) == (40, 20, 3)
    assert (checked.phases[0].read_objects, checked.phases[0].written_objects) == (20_000, 20_000)
    one_at_a_time = estimate(plan, concurrency=1, latency_ms=10.0)
    assert one_at_a_time is not None and one_at_a_time.seconds == pytest.approx(0.4)
    wide = estimate(_item_patches(500), concurrency=64, latency_ms=10.0)
    assert wide is not None and wide.rounds == 2  # a get-bulk, then its patch-bulk


def test_a_bulk_phase_takes_its_objects_time_when_longer_than_its_round_trips() -> None:
    bulk = PhaseCost("patch-items", 24, reads=12, rounds=2, read_objects=12_000,
                     written_objects=12_000)  # fmt: skip
    light = PhaseCost("create-folders", 40, reads=0, rounds=3, written_objects=40)
    cost = Cost(phases=(light, bulk), concurrency=16, latency_ms=100.0, object_ms=0.1,
                write_factor=3.0)  # fmt: skip
    # one round trip, then 12,000 re-read objects once and 12,000 written ones 3 times
    assert cost.phase_seconds(bulk) == pytest.approx((100 + (12_000 + 36_000) * 0.1) / 1000)
    assert cost.phase_seconds(light) == pytest.approx(0.3)  # 3 rounds beat 100 + 12 ms
    assert cost.seconds == pytest.approx(4.9 + 0.3)
    # round trips only, as before, when the read could not measure the time per object
    assert replace(cost, object_ms=None).seconds == pytest.approx(0.5)
    assert replace(cost, latency_ms=None).phase_seconds(bulk) is None
    # the time the read measured, and the assumption, survive the plan file
    assert Cost.from_json(cost.to_json()) == cost
    old = {k: v for k, v in cost.to_json().items() if k not in ("object_ms", "write_factor")}
    assert Cost.from_json(old) == replace(cost, object_ms=None, write_factor=WRITE_FACTOR)


def test_a_phase_first_waits_for_the_client_to_prepare_its_wave() -> None:
    # every bundle of a wave prepares its first request before any goes out: the re-reads'
    # bodies when it re-reads first, the writes' when the read is trusted
    recheck = PhaseCost("patch-items", 24, reads=12, rounds=2, read_objects=12_000,
                        written_objects=12_000)  # fmt: skip
    trusted = PhaseCost("patch-items", 12, reads=0, rounds=1, written_objects=12_000)
    cost = Cost(phases=(recheck,), concurrency=16, latency_ms=100.0, object_ms=0.01,
                client_ms=0.02)  # fmt: skip
    assert cost.prepare_ms(recheck) == pytest.approx(12_000 * 0.02 * PREPARE_RECHECK)
    assert cost.prepare_ms(trusted) == pytest.approx(12_000 * 0.02 * PREPARE_WRITE)
    work = 100 + (12_000 + 12_000 * WRITE_FACTOR) * 0.01
    assert cost.phase_seconds(recheck) == pytest.approx((60 + work) / 1000)
    # round trips alone still wait for it
    assert replace(cost, object_ms=None).phase_seconds(trusted) == pytest.approx((96 + 100) / 1000)
    # not measured (a plan file from before, a read with no objects): no preparation
    assert replace(cost, client_ms=None).phase_seconds(recheck) == pytest.approx(work / 1000)
    # kept by the plan file only when measured, so files without it read back as they were
    assert Cost.from_json(cost.to_json()) == cost
    assert cost.to_json()["client_ms"] == 0.02
    assert "client_ms" not in replace(cost, client_ms=None).to_json()


def test_the_client_cpu_per_object_is_from_its_first_answer_to_its_latest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([10.0, 10.5, 12.0])
    monkeypatch.setattr("reconciler.encord.stats.time.process_time", lambda: next(clock))
    stats = ClientStats()
    stats.record("GET /pages", 200, 0.1, retry=False)
    assert stats.client_ms() is None  # no objects yet
    stats.count_objects("GET /pages", 1000)
    stats.record("GET /pages", 429, 0.1, retry=True)  # a refusal: not an answer
    stats.record("GET /roles", 200, 0.05, retry=False)
    stats.record("GET /pages", 200, 0.1, retry=False)
    stats.count_objects("GET /pages", 1000)
    assert stats.client_ms() == pytest.approx(2.0 / 2000 * 1000)  # 2 s of CPU, 2,000 objects
    stats.reset()
    assert stats.client_ms() is None


def _burst(pages: int, sent: float, trip: float, work: float) -> tuple[tuple[float, float], ...]:
    """``pages`` sent at once and answered one after another, ``work`` s each."""
    return tuple((sent, sent + trip + work * (n + 1)) for n in range(pages))


def test_the_time_per_object_is_what_each_page_took_beyond_its_trip_and_the_page_before() -> None:
    # 12 pages of 1,000 at once, a 0.1 s round trip and 0.1 s of work each: answered at
    # 0.2, 0.3 ... 1.3 s; 1.2 s of work (the busy-time measure said 1.13 s)
    pages = RouteTime(requests=12, objects=12_000, spans=_burst(12, 0.0, 0.1, 0.1))
    roles = RouteTime(requests=50, objects=60, spans=((0.0, 3.0),) * 50)  # light: not counted
    assert object_ms_of([pages, roles], fastest_seconds=0.1) == pytest.approx(0.1)
    # a chain of 10 pages one after another, each a round trip and 50 ms of work
    chain = RouteTime(requests=10, objects=10_000,
                      spans=tuple((n * 0.15, (n + 1) * 0.15) for n in range(10)))  # fmt: skip
    assert object_ms_of([chain], fastest_seconds=0.1) == pytest.approx(0.05)
    # two pages overlapping in their round trips: 20 ms of work each, at 200 ms latency
    # (the busy-time measure said 15 ms each: 25 % less)
    overlapping = RouteTime(requests=2, objects=2_000, spans=((0.0, 0.22), (0.1, 0.32)))
    assert object_ms_of([overlapping], fastest_seconds=0.2) == pytest.approx(0.02)
    assert object_ms_of([roles], fastest_seconds=0.1) is None  # no bulk answers
    assert object_ms_of([], fastest_seconds=0.1) is None
    fast = RouteTime(requests=1, objects=1000, spans=((0.0, 0.1),))
    assert object_ms_of([fast], fastest_seconds=0.2) == 0.0  # never negative


def test_the_round_trip_is_the_median_light_request_not_the_pages() -> None:
    pages = RouteTime(requests=2, objects=2000, spans=((0.0, 0.2), (0.0, 0.3)))
    roles = RouteTime(requests=3, objects=1, spans=((0.0, 0.03), (0.0, 0.04), (1.0, 1.2)))
    folder = RouteTime(requests=1, objects=1, spans=((0.5, 0.55),))
    # 30, 40, 50 and 200 ms (one role read queued behind a page): the median, 45 ms
    assert round_trip_ms_of([pages, roles, folder]) == pytest.approx(45.0)
    assert round_trip_ms_of([pages]) is None  # only bulk answers: no light round trip
    assert round_trip_ms_of([]) is None


def test_the_line_names_requests_phases_time_and_latency() -> None:
    cost = Cost(
        phases=(PhaseCost("create-folders", 3, 1, 3), PhaseCost("patch-items", 1200, 600, 38)),
        concurrency=16,
        latency_ms=180.0,
    )
    assert cost.line() == (
        "Applying: 1,203 requests in 2 phases, about 7.4 s at the 180 ms latency just measured."
    )
    assert replace(cost, latency_ms=None).line() == "Applying: 1,203 requests in 2 phases."
    assert (
        replace(cost, latency_ms=4.0)
        .line()
        .endswith("about 0.2 s at the 4.0 ms latency just measured.")
    )
    long = replace(cost, latency_ms=5000.0)
    assert "about 3 min at the 5000 ms" in long.line()
    quick = Cost(phases=(PhaseCost("patch-items", 2, 1, 1),), concurrency=16, latency_ms=11.0)
    assert quick.line() == (
        "Applying: 2 requests in 1 phase, under 0.1 s at the 11 ms latency just measured."
    )
    measured = replace(cost, object_ms=0.25)
    assert measured.line().endswith("at the 180 ms latency and 250 µs an object just measured.")
    assert "and 1.5 ms an object" in replace(cost, object_ms=1.5).line()


def test_the_cost_is_in_the_document_but_not_in_the_checksum() -> None:
    plan = plan_case("patch")
    doc = plan_document(plan)
    assert doc["cost"] == {
        "requests": 2,
        "phases": [
            {
                "phase": "patch-folders",
                "requests": 2,
                "reads": 1,
                "rounds": 2,
                "read_objects": 1,
                "written_objects": 1,
            }
        ],
        "concurrency": 16,
        "latency_ms": 180.0,
        "object_ms": None,
        "write_factor": WRITE_FACTOR,
        "seconds": 0.4,
    }
    slower = replace(plan, cost=estimate(plan, concurrency=16, latency_ms=900.0))
    assert sealed(slower).checksum == plan.checksum  # remade at another latency: same plan
    assert loads(dumps(slower)) == slower
    edited = json.loads(dumps(plan))
    edited["cost"]["latency_ms"] = 1.0
    assert loads(json.dumps(edited)).checksum == plan.checksum  # display only: still loads
    edited["changes"][0]["reason"] = "edited"
    with pytest.raises(Exception, match="checksum does not match"):
        loads(json.dumps(edited))


def test_an_empty_plan_says_nothing_costly() -> None:
    plan = plan_case("unchanged-is-empty")
    assert plan.is_empty and plan.cost is None
    forced = replace(plan, cost=Cost(phases=(), concurrency=16, latency_ms=1.0))
    assert "cost" not in plan_document(forced)
    assert "Applying" not in render_text(forced) + render_markdown(forced) + render_html(forced)


@pytest.mark.parametrize("case", ["patch", "create-tree"])
@pytest.mark.parametrize("object_ms", [None, 0.05])
def test_every_rendering_shows_the_line(case: str, object_ms: float | None) -> None:
    planned = plan_case(case)
    assert planned.cost is not None
    plan = replace(planned, cost=replace(planned.cost, object_ms=object_ms))
    assert plan.cost is not None
    line = plan.cost.line()
    assert ("50 µs an object" in line) == (object_ms is not None)
    assert line in render_text(plan).splitlines()
    assert line in render_text(plan, detail="summary").splitlines()
    assert line in render_markdown(plan).splitlines()
    assert ["Cost", line] in page_data(render_html(plan))["meta"]
    assert line not in render_text(replace(plan, cost=None))


@pytest.mark.parametrize("latency_ms", [49.46, 49.54, 0.04, 12.349999])
def test_a_saved_plan_states_the_estimate_the_plan_stated_when_made(latency_ms: float) -> None:
    # the file keeps the latency to 0.1 ms: the plan held it unrounded, so a latency of
    # 49.46 ms was shown as 49 ms when planned and as 50 ms by `show` of the saved file
    cost = Cost(
        phases=(PhaseCost("create-folders", 3, 1, 3), PhaseCost("patch-items", 1200, 600, 38)),
        concurrency=16,
        latency_ms=latency_ms,
        object_ms=0.0123456,
    )
    saved = Cost.from_json(json.loads(json.dumps(cost.to_json())))
    assert saved == cost
    assert saved is not None and saved.line() == cost.line()
    assert saved.to_json() == cost.to_json()


def _patches(*, reads: int) -> PhaseCost:
    """12,000 item patches in 12 patch-bulks (and 12 re-reads when ``reads``)."""
    return PhaseCost("patch-items", 12 + reads, reads=reads, rounds=2,
                     read_objects=1000 * reads, written_objects=12_000)  # fmt: skip


def test_an_apply_shows_the_write_factor_by_the_formula_solved_for_it() -> None:
    folders = PhaseCost("create-folders", 40, reads=0, rounds=3, written_objects=40)
    cost = Cost(phases=(folders, _patches(reads=12)), concurrency=16, latency_ms=50.0,
                object_ms=0.02, client_ms=0.02)  # fmt: skip
    patch = cost.phases[1]
    assert patch.bulk_writes and not folders.bulk_writes  # 40 objects in 40 writes
    # the phase took what the formula gives at a factor of 3: solved, it shows 3
    taken = (cost.prepare_ms(patch) + 50 + (12_000 + 12_000 * 3) * 0.02) / 1000
    shown = cost.write_factor_shown({"create-folders": 9.9, "patch-items": taken})
    assert shown == pytest.approx(3.0)  # the folders' time is not the writes' cost
    assert cost.write_factor_shown({"create-folders": 1.0}) is None  # no bulk phase ran
    assert replace(cost, object_ms=None).write_factor_shown({"patch-items": taken}) is None
    assert replace(cost, latency_ms=None).write_factor_shown({"patch-items": taken}) is None
    few = replace(patch, requests=1, reads=0, read_objects=0, written_objects=999)
    assert few.bulk_writes  # under MIN_WRITTEN: too few objects to tell writes from trips
    assert replace(cost, phases=(few,)).write_factor_shown({"patch-items": taken}) is None


def test_the_line_says_which_write_factor_the_estimate_took() -> None:
    cost = Cost(phases=(_patches(reads=0),), concurrency=16, latency_ms=50.0, object_ms=0.02)
    assert cost.line().endswith(
        f"just measured; writing an object taken as {WRITE_FACTOR:g} reads (assumed: no recent "
        "apply to this target measured it)."
    )
    one = replace(cost, write_factor=3.4123, write_factor_applies=1)
    assert one.write_factor == 3.41  # as the plan file keeps it
    assert one.line().endswith(
        "; writing an object takes 68 µs (3.41 reads), as the last apply to this target showed."
    )
    three = replace(cost, write_factor=2.5, write_factor_applies=3)
    assert three.line().endswith(
        "; writing an object takes 50 µs (2.5 reads), the median of the last 3 applies to this "
        "target."
    )
    assert three.seconds is not None and cost.seconds is not None
    assert three.seconds < cost.seconds  # the factor is what the estimate took
    # without a time per object, or without bulk writes, the factor weighs nothing: not said
    assert "writing" not in replace(three, object_ms=None).line()
    folders = PhaseCost("create-folders", 40, reads=0, rounds=3, written_objects=40)
    assert "writing" not in replace(three, phases=(folders,)).line()


def test_the_write_factor_applies_are_in_the_document_only_when_carried() -> None:
    plan = plan_case("patch")
    assert plan.cost is not None
    assert "write_factor_applies" not in plan_document(plan)["cost"]  # older files unchanged
    carried = replace(plan, cost=replace(plan.cost, write_factor=2.75, write_factor_applies=2))
    doc = plan_document(carried)
    assert (doc["cost"]["write_factor"], doc["cost"]["write_factor_applies"]) == (2.75, 2)
    assert sealed(carried).checksum == plan.checksum  # whatever the factor: the same plan
    assert loads(dumps(carried)) == carried  # and the schema takes it
