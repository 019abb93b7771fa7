"""Progress of a live read, as events: the reader counts, a listener (the CLI) draws.

``ReadProgress`` is a snapshot: answers received so far (each a page of a listing or one
object), folders and items listed, and requests in flight. ``ReadCounter`` sends one at
most every ``every`` seconds while the read runs, and always a last one with ``done`` set,
so a listener never has to poll and never misses the final counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.encord import EncordClient


@dataclass(frozen=True, slots=True)
class ReadProgress:
    pages: int
    folders: int
    items: int
    in_flight: int
    done: bool = False


ReadListener = Callable[[ReadProgress], None]


class ReadCounter:
    """Counts what a read has listed and tells ``listener`` (nothing without one)."""

    def __init__(
        self, client: EncordClient, listener: ReadListener | None, *, every: float = 0.1
    ) -> None:
        self._client = client
        self._listener = listener
        self._every = every
        self._last = 0.0
        self.folders = 0
        self.items = 0

    def add(self, *, folders: int = 0, items: int = 0) -> None:
        self.folders += folders
        self.items += items
        now = time.monotonic()
        if self._listener is not None and now - self._last >= self._every:
            self._last = now
            self._listener(self._snapshot(done=False))

    def finish(self) -> None:
        if self._listener is not None:
            self._listener(self._snapshot(done=True))

    def _snapshot(self, *, done: bool) -> ReadProgress:
        return ReadProgress(
            pages=self._client.stats.total,
            folders=self.folders,
            items=self.items,
            in_flight=self._client.in_flight,
            done=done,
        )
