"""The organisation lock: one apply at a time per ownership id, across machines.

CI runners share nothing but the organisation, and Encord has no lock, no conditional write
and no unique folder names. What it has is a last-writer-wins register: the client metadata
of a folder, written whole by a PATCH and read back by a listing. The lock is Fischer's
timed mutual exclusion over that register.

**Where.** A top-level folder named ``.reconciler-lock.<ownership id>`` carrying our
ownership marker, created by the first apply that needs it (with the lease already in its
metadata). It lies outside every declared root, so ``plan``, ``drift`` and ``export`` never
read it and prune never sees it; a config may not declare it. Its metadata holds the lease
under ``reconciler.lock``: ``{"run", "holder", "since", "expires"}``.

**Taking it.**

1. List the lock folders (one search by name). A lease of another run that has not expired
   (and is not the run named by ``--force-unlock``) means wait: poll until it is released or
   expires, or give up after ``--lock-timeout`` with one line naming it.
2. Write our lease into the first lock folder (create it if there is none). If more than
   ``write_window`` passed between sending the read of step 1 and the write's answer, the
   write may have landed after a competitor confirmed: go back to 1 (our lease then reads as
   ours and is written again).
3. Wait ``confirm_delay`` (randomised, always longer than ``write_window``), list the lock
   folders again: we hold the lock only if ours is the one live lease. Otherwise someone
   else wrote last: clear ours if it is still there and go back to 1. Reading and planning
   (never a write) may run inside that wait (``acquire(meanwhile=...)``): thrown away when
   the lease does not read back as ours; why that is sound: ``apply/meanwhile.py``.

Why it is sound: a competitor Q that read "free" before our write lands writes within
``write_window`` of that read, hence before our confirming read (``confirm_delay`` later),
and we see it and back off; a competitor that reads after our write lands sees our live lease
and waits. Confirming over *every* lock folder also covers two first applies that each
created one: each sees the other's lease, both back off, and the next round has one register.

**Keeping it.** Renewed every ``renew_every`` seconds in the background and before every
phase (``check``): the holder reads its lease back and stops (``LockLostError``) if it is no
longer its own. Released at the end, also after an error or Ctrl-C; a killed holder's lease
expires after ``ttl`` and is then taken over, or at once with ``--force-unlock RUN_ID``, or at
once when its holder ran on this machine and its process is gone (``kill -9``, a crash).

**What it cannot do.** Expiry is judged by the reader's wall clock against the holder's
``expires``: a holder whose clock runs ahead, or one cut off from the API for longer than
``ttl`` that then writes again, can overlap with a new holder until its next ``check``. A
write that is still travelling after its request timed out (a partition) can land late. And
it relies on a read that starts after a write was answered seeing that write.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import os
import random
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.apply.errors import LockHeldError, LockLostError
from reconciler.apply.meanwhile import Overlapped
from reconciler.apply.owner import dead_here
from reconciler.encord import EncordClient, EncordError, Folder
from reconciler.model.desired import LOCK_KEY, OWNER_KEY, lock_folder_name
from reconciler.wire.storage import PatchFolderPayload

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockTiming:
    """Seconds. ``confirm_delay`` must exceed ``write_window`` for the lock to be sound."""

    write_window: float = 2.0
    confirm_delay: tuple[float, float] = (2.5, 4.0)
    ttl: float = 120.0
    renew_every: float = 30.0
    poll: tuple[float, float] = (1.0, 3.0)

    def __post_init__(self) -> None:
        if self.confirm_delay[0] <= self.write_window:
            raise ValueError("confirm_delay must be longer than write_window")
        if self.renew_every * 2 >= self.ttl:
            raise ValueError("renew_every must be well under ttl")


# Over a network. The embedded sandbox answers in milliseconds from a local file, and every
# apply that can reach that file is embedded too, so its windows are shorter.
REMOTE_TIMING = LockTiming(write_window=3.0, confirm_delay=(3.5, 5.0))
EMBEDDED_TIMING = LockTiming(write_window=0.5, confirm_delay=(0.6, 0.9), poll=(0.3, 0.8))


@dataclass(frozen=True, slots=True)
class Lease:
    """One lease as read from a lock folder."""

    run: str
    holder: str
    since: str
    expires: str
    folder: str = ""

    def expired(self, now: datetime) -> bool:
        """Nobody can be relying on it: past its expiry, unreadable, or held by a process of
        this machine that is gone (a run killed with kill -9 here need not be waited out)."""
        try:
            if datetime.fromisoformat(self.expires) <= now:
                return True
        except (ValueError, TypeError):  # TypeError: no time zone, edited by hand
            return True
        match = _HOLDER.fullmatch(self.holder)
        return match is not None and dead_here(match["host"], int(match["pid"]))

    def record(self) -> dict[str, str]:
        return {
            "run": self.run,
            "holder": self.holder,
            "since": self.since,
            "expires": self.expires,
        }

    def describe(self) -> str:
        return f"run {self.run} by {self.holder} since {self.since}"


_HOLDER = re.compile(r"[^@]*@(?P<host>\S+) pid (?P<pid>\d+)")  # as default_holder writes it


def default_holder() -> str:
    """Who holds the lock, for the person reading the message: user@host and process id."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def _metadata(folder: Folder) -> dict[str, Any]:
    try:
        value = json.loads(folder.client_metadata or "{}")
    except (ValueError, RecursionError):  # a broken or hostile server's metadata
        return {}
    return value if isinstance(value, dict) else {}


def lease_of(folder: Folder) -> Lease | None:
    record = _metadata(folder).get(LOCK_KEY)
    if not isinstance(record, dict) or not isinstance(record.get("run"), str):
        return None
    return Lease(
        run=record["run"],
        holder=str(record.get("holder", "unknown")),
        since=str(record.get("since", "")),
        expires=str(record.get("expires", "")),
        folder=str(folder.uuid),
    )


class OrgLock:
    """The lock of one ownership id on one organisation, for one run (``run_id``)."""

    def __init__(
        self,
        client: EncordClient,
        ownership_id: str,
        *,
        timing: LockTiming = REMOTE_TIMING,
        run_id: str | None = None,
        holder: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.ownership_id = ownership_id
        self.name = lock_folder_name(ownership_id)
        self.timing = timing
        self.run_id = run_id or str(uuid.uuid4())
        self.holder = holder or default_holder()
        self._now = now
        self._sleep = sleep
        self._random = random.Random()
        self._since = ""
        self._folder: str | None = None  # the lock folder our lease is in, once held
        self._confirmed_at = 0.0  # monotonic: when the last read that showed our lease began
        self._meanwhile: Overlapped | None = None
        self.lost: str | None = None
        self.waited = 0.0  # seconds of the waits ``acquire`` drew (confirmations, polls)

    # --- taking it -------------------------------------------------------------------------

    async def acquire(
        self,
        *,
        timeout: float,
        force_unlock: str | None = None,
        on_wait: Callable[[Lease], None] = lambda lease: None,
        meanwhile: Overlapped | None = None,
    ) -> None:
        """Hold the lock, or raise ``LockHeldError`` after ``timeout`` seconds of waiting.

        ``meanwhile``: work that never writes (reading and planning), begun anew at the start
        of each confirmation delay and run beside it; the delay is slept in full, the
        confirming read sent after it. An attempt that does not confirm, fails or is
        interrupted discards the work; the one that confirms leaves it running for the
        holder (``Meanwhile.result``)."""
        self._meanwhile = meanwhile
        deadline = time.monotonic() + timeout
        announced: str | None = None
        failed = 0  # attempts that did not confirm: a few are allowed even with no timeout
        while True:
            started = time.monotonic()
            folders = await self._folders()
            blocking = self._blocking(folders, force_unlock)
            if blocking is None:
                if failed >= 3 and time.monotonic() >= deadline:
                    raise LockHeldError(self._unconfirmed_message(timeout))
                if await self._attempt(folders, started, force_unlock):
                    return
                failed += 1
                continue  # lost the race (the next read shows the winner), or too slow
            if time.monotonic() >= deadline:
                raise LockHeldError(self._held_message(blocking, timeout))
            if announced != blocking.run:
                on_wait(blocking)
                announced = blocking.run
            pause = self._random.uniform(*self.timing.poll)
            pause = max(0.0, min(pause, deadline - time.monotonic()))
            self.waited += pause
            await self._sleep(pause)

    async def _confirm_wait(self) -> None:
        """The confirmation delay, slept in full; ``meanwhile`` begins with it."""
        delay = self._random.uniform(*self.timing.confirm_delay)
        self.waited += delay
        if self._meanwhile is not None:
            self._meanwhile.begin()
        await self._sleep(delay)

    async def _discard_meanwhile(self) -> None:
        if self._meanwhile is not None:
            await self._meanwhile.discard()

    def _blocking(self, folders: list[Folder], force_unlock: str | None) -> Lease | None:
        """A live lease of another run that we must wait for, if any."""
        now = self._now()
        for folder in folders:
            lease = lease_of(folder)
            if lease is None or lease.run in (self.run_id, force_unlock) or lease.expired(now):
                continue
            return lease
        return None

    async def _attempt(self, folders: list[Folder], started: float, forced: str | None) -> bool:
        """Write our lease, wait, read again: True when ours is the one live lease."""
        if not self._since:
            self._since = self._now().isoformat(timespec="seconds")
        written = str(folders[0].uuid) if folders else None
        if time.monotonic() - started > self.timing.write_window / 2:
            return False  # what we read is too old to write after: read again
        try:
            written = await self._write_lease(folders[0] if folders else None)
            if time.monotonic() - started > self.timing.write_window:
                logger.info("lock: the write took too long to trust; trying again")
                return False
            await self._confirm_wait()
            confirming = time.monotonic()
            again = await self._folders()
            if self._only_ours(again, forced):
                self._folder, self._confirmed_at = written, confirming
                await self._tidy(again)
                return True
            await self._discard_meanwhile()  # read while another run took the lock: stale
            await self._clear_if_ours(written)
            return False
        except BaseException:  # an error or Ctrl-C mid-attempt: leave no lease behind
            with contextlib.suppress(Exception):
                await self._discard_meanwhile()
            with contextlib.suppress(Exception):
                await self._clear_if_ours(written)
            raise

    def _only_ours(self, folders: list[Folder], forced: str | None) -> bool:
        now = self._now()
        live = [
            lease
            for lease in (lease_of(f) for f in folders)
            if lease is not None and lease.run != forced and not lease.expired(now)
        ]
        return bool(live) and all(lease.run == self.run_id for lease in live)

    async def _tidy(self, folders: list[Folder]) -> None:
        """Delete the extra lock folders two first applies created, once the lock is ours."""
        now = self._now()
        for folder in folders:
            lease = lease_of(folder)
            if str(folder.uuid) == self._folder or (lease is not None and not lease.expired(now)):
                continue
            try:
                await self.client.folders.delete(folder.uuid, subject=f"lock folder {self.name}")
            except EncordError as error:
                logger.info("lock: cannot delete an extra lock folder: %s", error)

    # --- keeping it ------------------------------------------------------------------------

    async def check(self, what: str = "") -> None:
        """Before a phase: renew the lease, or raise ``LockLostError`` if it is not ours."""
        if self.lost is not None:
            raise LockLostError(self._lost_message(what))
        try:
            for _ in range(3):  # a read too slow to write after is read again
                if await self.renew() or self.lost is not None:
                    break
        except EncordError as error:
            if time.monotonic() - self._confirmed_at > self.timing.ttl / 2:
                self.lost = f"the lease could not be renewed ({error})"
            logger.warning("lock: cannot renew the lease: %s", error)
        if self.lost is not None:
            raise LockLostError(self._lost_message(what))

    async def renew(self) -> bool:
        """Read our lease back; write a later expiry if it is still ours, else mark it lost.
        False when the read took too long to write after (the process may have been paused
        while someone took the lease over): nothing was written, read again."""
        if self._folder is None:
            return True
        started = time.monotonic()
        folder = await self.client.folders.get(self._folder, subject=f"lock folder {self.name}")
        if time.monotonic() - started > self.timing.write_window / 2:
            return False
        lease = lease_of(folder)
        if lease is None or lease.run != self.run_id:
            self.lost = f"taken over by {lease.describe()}" if lease else "released by someone else"
            return True
        await self._write_lease(folder)
        self._confirmed_at = started
        return True

    @contextlib.asynccontextmanager
    async def kept(self) -> AsyncIterator[OrgLock]:
        """After ``acquire``: renewed in the background for the body, released however it
        ends (an error, Ctrl-C)."""
        renewer = asyncio.create_task(self.keep_renewed())
        try:
            yield self
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self.release()

    async def keep_renewed(self) -> None:
        """Renew every ``renew_every`` seconds until cancelled or lost."""
        while self.lost is None:
            await self._sleep(self.timing.renew_every)
            try:
                await self.renew()
            except EncordError as error:
                logger.warning("lock: cannot renew the lease: %s", error)
                if time.monotonic() - self._confirmed_at > self.timing.ttl / 2:
                    self.lost = f"the lease could not be renewed ({error})"

    async def release(self) -> None:
        """Clear our lease (never anyone else's). Failing that, it expires after ``ttl``."""
        folder, self._folder = self._folder, None
        try:
            await self._clear_if_ours(folder)
        except EncordError as error:
            logger.warning("lock: cannot release the lease (it expires by itself): %s", error)

    # --- the register ----------------------------------------------------------------------

    async def _folders(self) -> list[Folder]:
        """Our lock folders, oldest first (folders of that name owned by others are not ours)."""
        found = await self.client.folders.find_children(None, self.name)
        ours = [f for f in found if _metadata(f).get(OWNER_KEY) == self.ownership_id]
        return sorted(ours, key=lambda f: (f.created_at, str(f.uuid)))

    def _lease(self) -> Lease:
        expires = self._now() + timedelta(seconds=self.timing.ttl)
        return Lease(
            run=self.run_id,
            holder=self.holder,
            since=self._since,
            expires=expires.isoformat(timespec="seconds"),
        )

    async def _write_lease(self, folder: Folder | None) -> str:
        """Our lease into ``folder`` (a new lock folder when None); the folder's UUID."""
        if folder is None:
            metadata = {OWNER_KEY: self.ownership_id, LOCK_KEY: self._lease().record()}
            created = await self.client.folders.create(
                self.name,
                description=f"reconciler apply lock of {self.ownership_id}; do not delete",
                metadata=metadata,
                subject=f"lock folder {self.name}",
            )
            return str(created.uuid)
        metadata = {**_metadata(folder), LOCK_KEY: self._lease().record()}
        await self._patch(str(folder.uuid), metadata)
        return str(folder.uuid)

    async def _clear_if_ours(self, folder_uuid: str | None) -> None:
        """Remove our lease; a read that took too long to write after is read again (a few
        times, then the lease is left to expire: never clear a lease that may be another's)."""
        if folder_uuid is None:
            return
        for _ in range(3):
            started = time.monotonic()
            folder = await self.client.folders.get(folder_uuid, subject=f"lock folder {self.name}")
            if time.monotonic() - started > self.timing.write_window / 2:
                continue
            lease = lease_of(folder)
            if lease is not None and lease.run == self.run_id:
                metadata = {k: v for k, v in _metadata(folder).items() if k != LOCK_KEY}
                await self._patch(folder_uuid, metadata)
            return

    async def _patch(self, folder_uuid: str, metadata: dict[str, Any]) -> None:
        await self.client.folders.patch(
            folder_uuid,
            PatchFolderPayload(client_metadata=metadata),
            timeout_seconds=max(self.timing.write_window * 4, 10.0),
            subject=f"lock folder {self.name}",
        )

    # --- messages --------------------------------------------------------------------------

    def _held_message(self, lease: Lease, timeout: float) -> str:
        return (
            f"another apply holds the lock of {self.ownership_id} on {self.client.target}: "
            f"{lease.describe()} (expires {lease.expires} unless renewed); gave up after "
            f"{timeout:g} s, nothing changed: try again later or with a longer --lock-timeout, "
            f"or, if that run is dead, `reconciler apply --force-unlock {lease.run}`"
        )

    def _unconfirmed_message(self, timeout: float) -> str:
        return (
            f"could not confirm the apply lock of {self.ownership_id} on {self.client.target} "
            f"within {timeout:g} s, nothing changed: other applies kept writing, or its writes "
            f"took longer than {self.timing.write_window:g} s; try again, with a longer "
            "--lock-timeout"
        )

    def _lost_message(self, what: str) -> str:
        before = f" before {what}" if what else ""
        return (
            f"this apply lost the lock of {self.ownership_id} ({self.lost}) and stopped"
            f"{before}; run `reconciler plan` once the other run is done"
        )
