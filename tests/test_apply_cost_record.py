"""The record of write factors past applies showed: kept per target, never trusted blindly.

That ``reconciler apply`` writes it and ``reconciler plan`` reads it is
``test_apply_cli.py``'s (subprocesses on the embedded sandbox)."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_plan_golden import plan_case

from reconciler.apply.cost import estimate
from reconciler.apply.cost_record import (
    HIGH,
    KEPT,
    LOW,
    MAX_AGE_SECONDS,
    Recalled,
    recall,
    record_path,
    remember_apply,
)
from reconciler.apply.engine import ApplyResult
from reconciler.apply.executor import Failure
from reconciler.plan import Plan
from reconciler.plan.cost import WRITE_FACTOR, Cost, PhaseCost
from reconciler.plan.document import sealed

NOW = 1_800_000_000.0
TARGET = "https://api.encord.com"


def _write(path: Path, entries: dict[str, list[dict[str, Any]]], version: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version, "targets": entries}))


def _entry(write_ms: object, *, factor: object = 4.0, age: float = 60.0) -> dict[str, Any]:
    return {"write_ms": write_ms, "write_factor": factor, "written": 12_000, "at": NOW - age}


def _plan() -> Plan:
    """A plan whose cost has one bulk phase: 12,000 patches, no re-reads."""
    patches = PhaseCost("patch-items", 12, reads=0, rounds=1, written_objects=12_000)
    cost = Cost(phases=(patches,), concurrency=16, latency_ms=50.0, object_ms=0.02)
    return replace(plan_case("patch"), cost=cost)


def _result(seconds: float, **changes: Any) -> ApplyResult:
    """What an apply of ``_plan()`` gives when its patch phase took ``seconds``."""
    done = ApplyResult(applied=12_000, failures=(), already_done=0, verification=None,
                       requests=12, seconds=seconds, phase_seconds={"patch-items": seconds})  # fmt: skip
    return replace(done, **changes)


def _seconds_at(factor: float) -> float:
    return (50 + 12_000 * factor * 0.02) / 1000  # a round trip, then the written objects


def test_the_record_is_beside_the_config(tmp_path: Path) -> None:
    assert record_path(tmp_path) == tmp_path / ".reconciler" / "cost.json"


def test_a_missing_record_leaves_the_default(tmp_path: Path) -> None:
    assert recall(tmp_path / "cost.json", TARGET, now=NOW) is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"version": 1, "targets": []}',
        '{"version": 2, "targets": {"https://api.encord.com": []}}',
        '{"version": 1}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_an_unreadable_record_leaves_the_default_and_says_so(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cost.json"
    path.write_text(text)
    with caplog.at_level(logging.WARNING):
        assert recall(path, TARGET, now=NOW) is None
    assert f"ignoring {path}" in caplog.text


def test_another_targets_record_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "cost.json"
    _write(path, {"https://other.example": [_entry(0.08)]})
    assert recall(path, TARGET, now=NOW) is None
    assert recall(path, "https://other.example", now=NOW) == Recalled(write_ms=0.08, applies=1)


def test_entries_out_of_bounds_too_old_or_not_numbers_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "cost.json"
    odd = [
        _entry(0.08, factor=LOW / 2),  # the apply it came from showed a factor out of bounds
        _entry(0.08, factor=HIGH * 2),
        *(_entry(value) for value in ["0.08", None, True, float("nan"), 0.0, -0.08]),
        _entry(0.08, factor="4"),
        _entry(0.08, age=MAX_AGE_SECONDS + 1),  # too old
        _entry(0.08, age=-3600),  # a clock set back since: not trusted either
        {"write_ms": 0.08, "write_factor": 4.0},  # no time
    ]
    _write(path, {TARGET: [*odd, "x"]})  # type: ignore[list-item]
    assert recall(path, TARGET, now=NOW) is None
    _write(path, {TARGET: [_entry(0.06), *odd]})
    assert recall(path, TARGET, now=NOW) == Recalled(write_ms=0.06, applies=1)


def test_the_median_write_time_of_the_last_three_usable_applies(tmp_path: Path) -> None:
    path = tmp_path / "cost.json"
    entries = [_entry(0.9), _entry(0.02), _entry(0.04), _entry(0.5, factor=HIGH * 3), _entry(0.03)]
    _write(path, {TARGET: entries})
    assert recall(path, TARGET, now=NOW) == Recalled(write_ms=0.03, applies=3)  # .02 .04 .03
    _write(path, {TARGET: [_entry(0.02), _entry(0.05)]})
    assert recall(path, TARGET, now=NOW) == Recalled(write_ms=0.035, applies=2)


def test_the_write_time_is_a_factor_over_the_new_reads_time_per_object() -> None:
    recalled = Recalled(write_ms=0.1, applies=3)
    assert recalled.factor_at(0.025) == pytest.approx(4.0)
    assert recalled.factor_at(None) is None and recalled.factor_at(0.0) is None
    # a read that measured far less or more per object than the writes took: the default
    assert recalled.factor_at(0.1 / (HIGH * 1.1)) is None
    assert recalled.factor_at(0.1 / (LOW * 0.9)) is None
    plan = _plan()  # its read measured 0.02 ms an object
    out = estimate(plan, concurrency=16, latency_ms=50.0, object_ms=0.1 / (HIGH * 2),
                   recheck=False, carried=recalled)  # fmt: skip
    assert out is not None and (out.write_factor, out.write_factor_applies) == (WRITE_FACTOR, 0)


def test_an_apply_records_the_write_time_it_showed_and_the_next_estimate_takes_it(
    tmp_path: Path,
) -> None:
    path = record_path(tmp_path)
    plan = _plan()  # its read measured 0.02 ms an object
    factor = remember_apply(path, plan, _result(_seconds_at(2.5)), target=TARGET, now=NOW)
    assert factor == pytest.approx(2.5)
    entry = json.loads(path.read_text())["targets"][TARGET][0]
    assert entry == {"write_ms": 0.05, "write_factor": 2.5, "written": 12_000, "at": NOW}
    recalled = recall(path, TARGET, now=NOW + 1)
    assert recalled == Recalled(write_ms=0.05, applies=1)
    # the next read measured 0.025 ms an object: 0.05 ms a write is 2 reads there
    carried = estimate(plan, concurrency=16, latency_ms=50.0, object_ms=0.025, recheck=False,
                       carried=recalled)  # fmt: skip
    assert carried is not None and (carried.write_factor, carried.write_factor_applies) == (2.0, 1)
    assumed = estimate(plan, concurrency=16, latency_ms=50.0, object_ms=0.025, recheck=False)
    assert assumed is not None
    assert (assumed.write_factor, assumed.write_factor_applies) == (WRITE_FACTOR, 0)
    # cost is outside the checksum: the plan is the same plan whatever the factor
    with_carried, with_assumed = replace(plan, cost=carried), replace(plan, cost=assumed)
    assert sealed(with_carried).checksum == sealed(with_assumed).checksum


def test_only_the_last_few_applies_are_kept_and_other_targets_are_left_alone(
    tmp_path: Path,
) -> None:
    path = record_path(tmp_path)
    _write(path, {"https://other.example": [_entry(0.7)]})
    for n in range(KEPT + 2):
        remember_apply(path, _plan(), _result(_seconds_at(2.0 + n)), target=TARGET, now=NOW + n)
    targets = json.loads(path.read_text())["targets"]
    assert [e["write_factor"] for e in targets[TARGET]] == [4.0, 5.0, 6.0, 7.0, 8.0]
    assert targets["https://other.example"] == [_entry(0.7)]
    assert recall(path, TARGET, now=NOW + 10) == Recalled(write_ms=0.14, applies=3)


def test_a_corrupt_record_is_replaced_by_the_next_apply(tmp_path: Path) -> None:
    path = record_path(tmp_path)
    path.parent.mkdir()
    path.write_text("{torn")
    remember_apply(path, _plan(), _result(_seconds_at(3.0)), target=TARGET, now=NOW)
    assert recall(path, TARGET, now=NOW) == Recalled(write_ms=0.06, applies=1)


@pytest.mark.parametrize(
    "changes",
    [
        {"failures": (Failure("item:/a", "patch-items", "refused"),)},
        {"already_done": 3},  # resumed: the phase did not write what the plan counts
        {"interrupted": True},
        {"phase_seconds": {}},  # no bulk phase ran
        {"phase_seconds": {"patch-items": _seconds_at(HIGH * 2)}},  # a stall, not the server
        {"phase_seconds": {"patch-items": 0.01}},  # faster than a round trip: a bad read
    ],
)
def test_an_apply_that_did_not_measure_writes_records_nothing(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    path = record_path(tmp_path)
    result = _result(_seconds_at(3.0), **changes)
    assert remember_apply(path, _plan(), result, target=TARGET, now=NOW) is None
    assert not path.exists()


def test_a_plan_with_syncs_or_no_cost_records_nothing(tmp_path: Path) -> None:
    path = record_path(tmp_path)
    result = _result(_seconds_at(3.0))
    assert remember_apply(path, replace(_plan(), cost=None), result, target=TARGET, now=NOW) is None
    synced = replace(_plan(), deferred=plan_case("cloud-sync-create").deferred)
    assert synced.deferred
    assert remember_apply(path, synced, result, target=TARGET, now=NOW) is None
    assert not path.exists()


def test_a_record_that_cannot_be_written_does_not_fail_the_apply(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the record's directory would be
    path = blocked / "cost.json"
    with caplog.at_level(logging.WARNING):
        assert (
            remember_apply(path, _plan(), _result(_seconds_at(3.0)), target=TARGET, now=NOW) is None
        )
    assert "could not record the write factor" in caplog.text


def test_a_write_that_fails_half_way_leaves_neither_a_record_nor_a_stray_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = record_path(tmp_path)
    _write(path, {TARGET: [_entry(0.06)]})
    before = path.read_text()
    named = tempfile.NamedTemporaryFile

    def full_disk(*args: Any, **kwargs: Any) -> Any:
        out: Any = named(*args, **kwargs)

        def write(text: str) -> int:
            raise OSError(28, "No space left on device")

        out.write = write
        return out

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full_disk)
    with caplog.at_level(logging.WARNING):
        result = _result(_seconds_at(3.0))
        assert remember_apply(path, _plan(), result, target=TARGET, now=NOW) is None
    assert "No space left on device" in caplog.text
    assert path.read_text() == before  # the record as it was, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["cost.json"]
