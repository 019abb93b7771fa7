"""``OrgLock.acquire(meanwhile=...)``: reading and planning begun with the lock's confirmation
delay, which is slept in full; thrown away when the lease does not read back as ours, on an
error or on Ctrl-C (embedded sandbox, the lock's sleeps recorded instead of slept)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from helpers.embedded import make_sandbox

from reconciler.apply.errors import LockHeldError
from reconciler.apply.lock import LockTiming, OrgLock, lease_of
from reconciler.apply.meanwhile import Meanwhile
from reconciler.encord import EncordClient
from reconciler.model.desired import LOCK_KEY, OWNER_KEY
from reconciler.wire.storage import PatchFolderPayload

TIMING = LockTiming(write_window=0.5, confirm_delay=(0.8, 0.8), poll=(0.3, 0.3))
OWNER = "meanwhile"


async def _lease_runs(client: EncordClient, name: str) -> list[str]:
    folders = await client.folders.find_children(None, name)
    return [lease.run for f in folders if (lease := lease_of(f)) is not None]


async def _set_lease(client: EncordClient, name: str, run: str | None) -> None:
    """Another run's live lease in the lock folder (``run``), or none: as a racer's write."""
    (folder,) = await client.folders.find_children(None, name)
    record = {
        "run": run,
        "holder": "ci@elsewhere pid 1",
        "since": "",
        "expires": "2999-01-01T00:00:00+00:00",
    }
    metadata = {OWNER_KEY: OWNER, **({LOCK_KEY: record} if run else {})}
    await client.folders.patch(folder.uuid, PatchFolderPayload(client_metadata=metadata))


class Recorder:
    """The lock's sleeps and reads of the lock folders, and the work's steps, in order."""

    def __init__(self, lock_sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.events: list[str] = []
        self.slept: list[float] = []
        self._then = lock_sleep

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.events.append("sleep")
        await asyncio.sleep(0)  # the work's task runs from here
        if self._then is not None:
            await self._then(seconds)

    def watch(self, lock: OrgLock) -> None:
        folders = lock._folders

        async def recorded() -> list[object]:
            self.events.append("lock read")
            return list(await folders())

        lock._folders = recorded  # type: ignore[assignment,method-assign]

    def work(self, client: EncordClient, *, then: float = 0.0) -> Meanwhile[str]:
        async def read() -> str:
            self.events.append("work began")
            attempt = self.events.count("work began")
            try:
                await client.folders.find_children(None, "anything")  # a read, never a write
                await asyncio.sleep(then)
            except asyncio.CancelledError:
                self.events.append("work cancelled")
                raise
            self.events.append("work ended")
            return f"read {attempt}"

        return Meanwhile(read)


@pytest.mark.anyio
async def test_the_work_begins_with_the_delay_which_is_slept_in_full_before_the_confirmation(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    record = Recorder()
    async with sandbox.connect() as client:
        lock = OrgLock(client, OWNER, timing=TIMING, run_id="run-1", sleep=record.sleep)
        record.watch(lock)
        work = record.work(client, then=0.3)  # still reading when the lease is read back
        await lock.acquire(timeout=5, meanwhile=work)
        assert record.events == ["lock read", "sleep", "work began", "lock read"]
        assert await work.result() == "read 1"  # what the work read, once the lock is held
        assert record.events[-1] == "work ended"
        assert await _lease_runs(client, lock.name) == ["run-1"]
        await lock.release()
    assert record.slept == [0.8]  # the whole delay: the work does not shorten it
    assert lock.waited == pytest.approx(0.8)


@pytest.mark.anyio
async def test_a_lease_taken_during_the_delay_throws_the_work_away_and_the_next_attempt_reads_again(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    async with sandbox.connect() as client:
        name = OrgLock(client, OWNER).name

        async def raced(seconds: float) -> None:  # another run wins the race while we wait
            if record.slept == [0.8]:
                await _set_lease(client, name, "winner")

        record = Recorder(raced)
        lock = OrgLock(client, OWNER, timing=TIMING, run_id="run-1", sleep=record.sleep)
        work = record.work(client, then=5.0)
        with pytest.raises(LockHeldError, match="run winner"):
            await lock.acquire(timeout=0, meanwhile=work)
        assert record.events.count("work began") == 1
        assert record.events[-1] == "work cancelled"  # thrown away, never finished
        assert await _lease_runs(client, name) == ["winner"]  # the winner's lease untouched

        await _set_lease(client, name, None)  # again: this time the winner finishes

        async def released(seconds: float) -> None:  # races us, is done by the first poll
            if len(record.slept) == 1:
                await _set_lease(client, name, "winner")
            elif len(record.slept) == 2:
                await _set_lease(client, name, None)

        record = Recorder(released)
        lock = OrgLock(client, OWNER, timing=TIMING, run_id="run-2", sleep=record.sleep)
        work = record.work(client)
        await lock.acquire(timeout=5, meanwhile=work)
        assert await work.result() == "read 2"  # read again after the winner was done: the
        # first read, made while the winner took the lock, is thrown away
        assert record.slept == [0.8, 0.3, 0.8]  # delay, poll while the winner held it, delay
        await lock.release()


@pytest.mark.anyio
async def test_an_error_of_the_work_comes_once_the_lock_is_held_and_ctrl_c_leaves_no_lease(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    async with sandbox.connect() as client:

        async def refused() -> str:
            raise ValueError("not a plan this reconciler can apply")

        failing = OrgLock(client, OWNER, timing=TIMING, sleep=Recorder().sleep)
        work = Meanwhile(refused)
        await failing.acquire(timeout=5, meanwhile=work)
        async with failing.kept():  # as ``apply_lock``: released however the body ends
            with pytest.raises(ValueError, match="can apply"):
                await work.result()
        assert await _lease_runs(client, failing.name) == []

        async def interrupted(seconds: float) -> None:
            raise KeyboardInterrupt

        record = Recorder(interrupted)
        stopped = OrgLock(client, OWNER, timing=TIMING, sleep=record.sleep)
        with pytest.raises(KeyboardInterrupt):
            await stopped.acquire(timeout=5, meanwhile=record.work(client, then=5.0))
        assert record.events[-1] == "work cancelled"
        assert await _lease_runs(client, stopped.name) == []  # cleared on the way out


@pytest.mark.anyio
async def test_work_no_attempt_began_runs_when_its_result_is_asked_for() -> None:
    ran: list[str] = []

    async def plan() -> str:
        ran.append("plan")
        return "the plan"

    work = Meanwhile(plan)
    assert work.overlapped(held=1.0) == 0.0  # nothing was done inside a delay
    await work.discard()  # nothing begun: nothing to cancel
    assert ran == []
    assert await work.result() == "the plan"  # run now, after the lock
    assert ran == ["plan"]
    assert work.began is not None and work.ended is not None
    assert work.overlapped(held=work.began) == 0.0  # held before it began
    assert work.overlapped(held=work.ended + 5) == work.ended - work.began  # all of it before
