"""Answers to re-sent requests: a retry must not do the work twice.

The official SDK retries a POST by re-sending the identical prepared request: same signature,
same ``X-Cloud-Trace-Context`` (a fresh uuid per logical request), same body. The response of
every state-changing request is kept for ``TTL_SECONDS`` under a key made of exactly those
bytes, and an identical re-send gets the kept response instead of running again (so a retried
``create_group`` makes one group). A re-send that arrives while the first is still running
waits for it. This is not a replay hole: the key covers the authentication, and the signature
itself covers method, target and body.

A request without a trace id is never de-duplicated: nothing tells a re-send from a second,
deliberate request with the same bytes (two identical creates signed in the same second).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, Protocol, TypeVar

TTL_SECONDS = 600.0
MAX_ENTRIES = 20_000
MAX_BYTES = 64 * 1024 * 1024  # a kept patch-bulk answer can weigh 700 KB


class Weighed(Protocol):
    def weight(self) -> int:
        """Approximate bytes kept for this answer."""


R = TypeVar("R", bound=Weighed)


def replay_key(method: str, target: str, body: bytes, headers: Mapping[str, str]) -> str | None:
    """What makes two requests "the same request sent twice"; None without a trace id."""
    if not headers.get("x-cloud-trace-context"):
        return None
    parts = (
        method,
        target,
        headers.get("signature", ""),
        headers.get("authorization", ""),
        headers.get("x-cloud-trace-context", ""),
        hashlib.sha256(body).hexdigest(),
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class ReplayCache(Generic[R]):
    """Kept responses by replay key. Used from the event loop only (no locking)."""

    def __init__(
        self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._done: OrderedDict[str, tuple[float, R]] = OrderedDict()
        self._running: dict[str, asyncio.Future[R | None]] = {}

    async def run(self, key: str, work: Callable[[], Awaitable[R]], keep: Callable[[R], bool]) -> R:
        """``work()``'s result, or the kept result of an identical earlier request."""
        self._expire()
        kept = self._done.get(key)
        if kept is not None:
            return kept[1]
        running = self._running.get(key)
        if running is not None:
            earlier = await asyncio.shield(running)
            if earlier is not None:
                return earlier
        future: asyncio.Future[R | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        result: R | None = None
        try:
            result = await work()
            if keep(result):
                self._done[key] = (time.monotonic() + self._ttl, result)
                self._bytes += result.weight()
            return result
        finally:
            del self._running[key]
            future.set_result(result if result is not None and keep(result) else None)

    def _expire(self) -> None:
        """Drop the oldest answers while they are stale or the cache is over a bound."""
        now = time.monotonic()
        while self._done and (
            len(self._done) > self._max
            or self._bytes > self._max_bytes
            or next(iter(self._done.values()))[0] < now
        ):
            _, (_, dropped) = self._done.popitem(last=False)
            self._bytes -= dropped.weight()
