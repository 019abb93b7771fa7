"""``OrgLock.acquire(meanwhile=...)``: work run inside the lock's confirmation delay, which
stays a minimum wait (embedded sandbox, the lock's sleeps recorded instead of slept)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.embedded import make_sandbox

from reconciler.apply.lock import LockTiming, OrgLock, lease_of
from reconciler.encord import EncordClient

TIMING = LockTiming(write_window=0.5, confirm_delay=(0.8, 0.8), poll=(0.3, 0.3))


async def _lease_runs(client: EncordClient, name: str) -> list[str]:
    folders = await client.folders.find_children(None, name)
    return [lease.run for f in folders if (lease := lease_of(f)) is not None]


@pytest.mark.anyio
async def test_the_work_runs_once_inside_the_confirmation_delay(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with sandbox.connect() as client:
        lock = OrgLock(client, "meanwhile", timing=TIMING, run_id="run-1", sleep=sleep)
        runs: list[int] = []
        took: list[float] = []

        def work() -> None:  # stands for building a plan: 0.2 s of the delay's 0.8 s
            runs.append(len(slept))
            started = time.monotonic()
            time.sleep(0.2)
            took.append(time.monotonic() - started)

        await lock.acquire(timeout=5, meanwhile=work)
        assert await _lease_runs(client, lock.name) == ["run-1"]
        await lock.release()
    assert runs == [0]  # once, before the confirmation's sleep
    # one confirmation wait, shortened by the work's time (0.2 s, more on a loaded machine)
    (confirm,) = slept
    assert confirm == pytest.approx(max(0.0, 0.8 - took[0]), abs=0.05)
    assert confirm < 0.61
    assert lock.waited == pytest.approx(0.8)  # the delay drawn, the work inside it


@pytest.mark.anyio
async def test_work_longer_than_the_delay_delays_the_confirmation_and_an_error_leaves_no_lease(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with sandbox.connect() as client:
        slow = OrgLock(client, "meanwhile", timing=TIMING, sleep=sleep)
        await slow.acquire(timeout=5, meanwhile=lambda: time.sleep(0.9))
        assert slept == [0.0]  # the confirming read is sent after the work, never before
        await slow.release()

        def refused() -> None:
            raise ValueError("not a plan this reconciler can apply")

        failing = OrgLock(client, "meanwhile", timing=TIMING, sleep=sleep)
        with pytest.raises(ValueError, match="can apply"):
            await failing.acquire(timeout=5, meanwhile=refused)
        assert await _lease_runs(client, failing.name) == []  # its lease was cleared
