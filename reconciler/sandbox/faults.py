"""Fault injection: latency, 5xx before or after the work, 429 storms, and a write budget.

One ``Faults`` object per server, changed at run time through ``POST /_sandbox/faults``.
Each API request draws its fate once (``decide``) from a random stream that ``seed`` makes
deterministic; the draw order is fixed so a seeded run repeats exactly.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.options import FAULT_FIELDS, FaultSettings

ERROR_STATUSES = (500, 502, 503)
AFTER_STATUS = 502


@dataclass(frozen=True, slots=True)
class Fate:
    """What happens to one request. ``status_before``: answer this instead of handling it
    (429 carries ``retry_after``); ``status_after``: handle and commit, then answer this."""

    latency_s: float = 0.0
    status_before: int | None = None
    retry_after: int = 0
    status_after: int | None = None


class Faults:
    def __init__(self, settings: FaultSettings) -> None:
        settings.validate()
        self._lock = threading.Lock()
        self._settings = settings
        self._storm_left = settings.storm_requests
        self._random = random.Random(settings.seed)
        self._writes_left = settings.writes_allowed

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
        return settings

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out = dataclasses.asdict(self._settings)
            out["storm_requests_left"] = self._storm_left
            out["writes_left"] = self._writes_left
        return out

    def decide(self, *, write: bool = False) -> Fate:
        with self._lock:
            s = self._settings
            latency = s.latency_ms / 1000.0
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
