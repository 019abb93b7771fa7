"""The cost in the plan: the formula, the document (outside the checksum) and the renderings.

That the counts equal what apply sends is ``test_apply_cost_e2e.py``'s (over a socket)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from test_plan_golden import plan_case
from test_plan_html import page_data

from reconciler.apply.cost import estimate
from reconciler.kinds.actions import Action
from reconciler.model.addresses import Kind
from reconciler.plan import Plan, dumps, loads, plan_document, render_markdown, render_text
from reconciler.plan.cost import Cost, PhaseCost
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
        phases=(PhaseCost("patch-items", requests=20, reads=0, rounds=2),),
        concurrency=16,
        latency_ms=200.0,
    )
    assert trusted.seconds == pytest.approx(0.4)  # 2 rounds of 200 ms
    checked = estimate(plan, concurrency=16, latency_ms=200.0)
    assert checked is not None
    assert (checked.requests, checked.phases[0].reads, checked.rounds) == (40, 20, 3)
    one_at_a_time = estimate(plan, concurrency=1, latency_ms=10.0)
    assert one_at_a_time is not None and one_at_a_time.seconds == pytest.approx(0.4)
    wide = estimate(_item_patches(500), concurrency=64, latency_ms=10.0)
    assert wide is not None and wide.rounds == 2  # a get-bulk, then its patch-bulk


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


def test_the_cost_is_in_the_document_but_not_in_the_checksum() -> None:
    plan = plan_case("patch")
    doc = plan_document(plan)
    assert doc["cost"] == {
        "requests": 2,
        "phases": [{"phase": "patch-folders", "requests": 2, "reads": 1, "rounds": 2}],
        "concurrency": 16,
        "latency_ms": 180.0,
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
def test_every_rendering_shows_the_line(case: str) -> None:
    plan = plan_case(case)
    assert plan.cost is not None
    line = plan.cost.line()
    assert line in render_text(plan).splitlines()
    assert line in render_text(plan, detail="summary").splitlines()
    assert line in render_markdown(plan).splitlines()
    assert ["Cost", line] in page_data(render_html(plan))["meta"]
    assert line not in render_text(replace(plan, cost=None))
