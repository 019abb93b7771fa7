"""Reading and planning begun inside the organisation lock's confirmation delay.

``reconciler apply`` takes the lock (``apply/lock.py``) before it reads the organisation:
write our lease, wait a randomised delay (3.5-5 s over a network), read the lease back. The
delay idles, and reading and planning never write, so they run inside it::

    lease written -> [confirmation delay || read + plan] -> lease read back -> writes

What does not change: the delay is slept in full beside the work and the confirming read is
sent after it, never earlier (the lock's soundness rests on that delay; work that blocks the
event loop past it only sends the confirming read later); the work sends reads only; when the
lease does not read back as ours the work is cancelled and its read and plan thrown away, and
the next attempt (after the winner is done) reads again; Ctrl-C in the delay cancels the work
and clears the lease as before.

Why a read begun before the confirmation misses no write of another run. Let R be the run
whose work this is: it began after R read the lock free and after R's lease write was
answered. Any other run Q that respects the lock is one of:

* Q held the lock before and released it. Q releases after its last write was answered,
  and R's first read showed no live lease, so the release came before that read: R's read,
  begun later, sees Q's writes (as the lock itself assumes, a read begun after a write was
  answered sees it).
* Q confirms the lock while R waits (they raced). Then Q's lease is live when R reads the
  lease back (Fischer: of two runs that raced, at most one confirms), R does not confirm,
  throws this read away, and writes nothing.
* Q tries after R's lease was written: Q sees a live lease and waits; it writes nothing
  until R releases. Or Q raced and lost: it wrote only its lease, into the lock folder,
  which lies outside every declared root and is never in R's read.

So a read begun after R's lease write sees every write of a run that respects the lock that
a read begun after R's confirmation would. What the lock cannot do (a holder that writes on
after its lease expired, or after ``--force-unlock`` took it; a write landing late after a
partition) is unchanged in kind: such writes can land after R's read either way; the
overlap widens that window by the delay, against a lease of 120 s. Writes by people and other
tools were never ordered by the lock: an ``--auto-approve`` plan trusts its read for a minute
from when the read began (``read_at``, taken before the delay, so the delay counts against
that minute), the bundles of a confirmed plan are re-read before each write, and so are a
saved plan's but for the changes its re-check's read vouches for (``plan/recheck.py``), which
that read, taken after our lease write as the plan's own is, also trusts for a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Overlapped(Protocol):
    """What the lock needs of work it runs inside its confirmation delay."""

    def begin(self) -> None: ...

    async def discard(self) -> None: ...


class Meanwhile(Generic[T]):
    """Work (reads and CPU, never a write) begun by the lock at each confirmation delay.

    ``begin``: a new task (the lock's next attempt starts afresh); ``discard``: cancel it and
    forget it (a lease that did not read back as ours, an error, Ctrl-C); ``result``: once the
    lock is held, what the kept attempt's work made, waiting for what is left of it (run now
    when no attempt began it). ``began`` and ``ended``: ``time.perf_counter()`` when that work
    began and ended, for timings."""

    def __init__(self, work: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._work = work
        self._task: asyncio.Task[T] | None = None
        self.began: float | None = None
        self.ended: float | None = None

    def begin(self) -> None:
        self._task = asyncio.ensure_future(self._timed())

    def overlapped(self, held: float) -> float:
        """Seconds of the work done before ``held`` (when the lock was confirmed)."""
        if self.began is None:
            return 0.0
        return max(0.0, min(self.ended or held, held) - self.began)

    async def _timed(self) -> T:
        self.began, self.ended = time.perf_counter(), None
        try:
            return await self._work()
        finally:
            self.ended = time.perf_counter()

    async def discard(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])  # raises only if this await itself is cancelled
        if not task.cancelled():
            task.exception()  # retrieved: an error of thrown-away work is not logged

    async def result(self) -> T:
        if self._task is None:
            return await self._timed()
        return await self._task
