"""Fault injection: latency, 5xx before or after the work, 429 storms, a write budget, and
a write that hangs.

One ``Faults`` object per server, changed at run time through ``POST /_sandbox/faults``.
Each API request draws its fate once (``decide``) from a random stream that ``seed`` makes
deterministic; the draw order is fixed so a seeded run repeats exactly.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from reconciler.sandbox.options import FAULT_FIELDS, FaultSettings

ERROR_STATUSES = (500, 502, 503)
AFTER_STATUS = 502
HANG_CAP_SECONDS = 300.0  # a hanging write nobody releases answers after this


@dataclass(frozen=True, slots=True)
class Fate:
    """What happens to one request. ``status_before``: answer this instead of handling it
    (429 carries ``retry_after``); ``status_after``: handle and commit, then answer this;
    ``hang``: wait for ``Faults.hang`` before handling it (then answer 503 without handling
    it) or after (then answer as handled)."""

    latency_s: float = 0.0
    status_before: int | None = None
    retry_after: int = 0
    status_after: int | None = None
    hang: Literal["before", "after"] | None = None


class Faults:
    def __init__(self, settings: FaultSettings) -> None:
        settings.validate()
        self._lock = threading.Lock()
        self._settings = settings
        self._storm_left = settings.storm_requests
        self._random = random.Random(settings.seed)
        self._writes_left = settings.writes_allowed
        self._writes_seen = 0  # since the start, or since hang_write was last set
        self._hanging = 0
        self._hang_generation = 0  # bumped whenever hang_write is set: releases hangs
        self._hung_route = ""  # the route of the write that hung last

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Change some settings (unknown names or bad values raise ``ValueError``)."""
        unknown = set(changes) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        with self._lock:
            settings = dataclasses.replace(self._settings, **changes)
            settings.validate()
            self._settings = settings
            if "storm_requests" in changes:
                self._storm_left = settings.storm_requests
            if "seed" in changes:
                self._random = random.Random(settings.seed)
            if "writes_allowed" in changes:
                self._writes_left = settings.writes_allowed
            if "hang_write" in changes:
                self._writes_seen = 0
                self._hang_generation += 1
        return settings

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out = dataclasses.asdict(self._settings)
            out["storm_requests_left"] = self._storm_left
            out["writes_left"] = self._writes_left
            out["writes_seen"] = self._writes_seen
            out["hanging"] = self._hanging > 0
            out["hung_route"] = self._hung_route
        return out

    def decide(self, *, write: bool = False, route: str = "") -> Fate:
        """The fate of one request (``route``: its stats key, to say which write hung)."""
        with self._lock:
            s = self._settings
            latency = s.latency_ms / 1000.0
            if write:
                self._writes_seen += 1
                if s.hang_write is not None and self._writes_seen == s.hang_write + 1:
                    self._hung_route = route
                    return Fate(latency, hang="after" if s.hang_after else "before")
            if write and self._writes_left is not None:
                # Drawn before the random faults, so a budgeted run draws nothing else.
                if self._writes_left == 0:
                    return Fate(latency, 503)
                self._writes_left -= 1
            if self._storm_left > 0:
                self._storm_left -= 1
                return Fate(latency, 429, s.storm_retry_after)
            if s.storm_rate and self._random.random() < s.storm_rate:
                return Fate(latency, 429, s.storm_retry_after)
            if s.error_rate and self._random.random() < s.error_rate:
                return Fate(latency, self._random.choice(ERROR_STATUSES))
            if s.error_after_rate and self._random.random() < s.error_after_rate:
                return Fate(latency, status_after=AFTER_STATUS)
            return Fate(latency)

    async def hang(self) -> None:
        """Hold a request until ``hang_write`` is set again (or ``HANG_CAP_SECONDS``)."""
        with self._lock:
            self._hanging += 1
            generation = self._hang_generation
        deadline = time.monotonic() + HANG_CAP_SECONDS
        try:
            while self._hang_generation == generation and time.monotonic() < deadline:
                await anyio.sleep(0.01)
        finally:
            with self._lock:
                self._hanging -= 1
