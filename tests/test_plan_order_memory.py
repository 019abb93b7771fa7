"""Sorting a large plan (``plan/order.py``) holds one key string a change, not a tuple of
segment strings: at a million changes the keys were the peak of ``diff`` (about 330 bytes a
change beyond the plan; ``bench_memory.py --trace``)."""

from __future__ import annotations

import tracemalloc

from helpers.plans import synthetic_plan

from reconciler.plan.order import ordered


def test_ordering_a_plan_holds_under_250_bytes_a_change() -> None:
    changes = list(synthetic_plan(3000, folders=30, deletes=10).changes)
    changes.reverse()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = ordered(changes)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert [c.address for c in out[:2]] == ["folder:/big/old-009", "folder:/big/old-008"]
    assert out[10].address == "item:/big/part-000/frame-000000.jpg"
    assert peak / len(changes) < 250, peak / len(changes)  # 340 before, 178 now
