"""The organisation lock and the journal heartbeat, as ``reconciler apply`` uses them.

``apply`` takes the lock (``reconciler.apply.lock``) before it reads the organisation to
plan, and holds it through the prompt, the phases and the verification; ``plan``, ``drift``
and ``export`` never take it. While a run applies, it touches its journal every
``HEARTBEAT_SECONDS`` so that a run on another machine sharing the checkout can tell a
journal with a live owner from one left by a run that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.apply.lock import EMBEDDED_TIMING, REMOTE_TIMING, Lease, OrgLock
from reconciler.apply.meanwhile import Overlapped
from reconciler.apply.owner import HEARTBEAT_SECONDS
from reconciler.encord import EncordClient, EncordError
from reconciler.errors import within

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LOCK_TIMEOUT = 300.0  # longer than a lease lives, so a dead holder's lease is taken over


def lock_flags(command: F) -> F:
    """``--lock-timeout`` and ``--force-unlock``."""
    command = click.option(
        "--force-unlock",
        metavar="RUN_ID",
        default=None,
        help="Take over the lock held by run RUN_ID (a run that died) without waiting.",
    )(command)
    return click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=DEFAULT_LOCK_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for another apply of this ownership id to finish.",
    )(command)


@contextlib.asynccontextmanager
async def apply_lock(
    client: EncordClient,
    ownership_id: str,
    *,
    timeout: float,
    force_unlock: str | None,
    meanwhile: Overlapped | None = None,
) -> AsyncIterator[OrgLock]:
    r"""Hold the lock of ``ownership_id`` for the body; failures are ``LockError``\ s, and
    ``EncordError``\ s that say they happened taking the lock. ``meanwhile``: reading and
    planning begun while the lock confirms (``apply/meanwhile.py``), awaited by the body;
    whatever of it is left when the body ends is cancelled before the lock is released."""
    embedded = client.target.startswith("sandbox:")
    lock = OrgLock(client, ownership_id, timing=EMBEDDED_TIMING if embedded else REMOTE_TIMING)

    def waiting(lease: Lease) -> None:
        click.echo(
            f"Waiting up to {timeout:g} s for the apply lock of {ownership_id}: held by "
            f"{lease.describe()}.",
            err=True,
        )

    with within(f"cannot take the apply lock on {client.target}", EncordError):
        await lock.acquire(
            timeout=timeout, force_unlock=force_unlock, on_wait=waiting, meanwhile=meanwhile
        )
    async with lock.kept():
        try:
            yield lock
        finally:
            if meanwhile is not None:
                await meanwhile.discard()


@contextlib.asynccontextmanager
async def heartbeat(journal: Path) -> AsyncIterator[None]:
    """Touch ``journal`` every ``HEARTBEAT_SECONDS`` while the body runs."""

    async def beat() -> None:
        while True:
            with contextlib.suppress(OSError):
                os.utime(journal)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
