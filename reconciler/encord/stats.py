"""Request accounting: every attempt the client sends is counted and timed, per route.

Routes are keyed like the sandbox's ``/_sandbox/stats`` (``"GET /v2/public/storage/folders/
{uuid}/items"``, ``"POST /public datasetlinkitems"``) so the two can be compared directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Counts at one moment; ``seconds`` sums request durations (concurrent ones overlap)."""

    total: int
    retries: int
    rate_limited: int
    seconds: float
    by_route: MappingProxyType[str, int]
    by_status: MappingProxyType[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "seconds": round(self.seconds, 3),
            "by_route": dict(sorted(self.by_route.items())),
            "by_status": dict(sorted(self.by_status.items())),
        }


@dataclass(slots=True)
class ClientStats:
    """Mutable counters owned by one client. Read them through ``snapshot()``."""

    total: int = 0
    retries: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    def record(self, route: str, status: int | str, seconds: float, *, retry: bool) -> None:
        self.total += 1
        self.seconds += seconds
        self.by_route[route] += 1
        self.by_status[str(status)] += 1
        if retry:
            self.retries += 1
        if status == 429:
            self.rate_limited += 1

    def snapshot(self) -> StatsSnapshot:
        return StatsSnapshot(
            total=self.total,
            retries=self.retries,
            rate_limited=self.rate_limited,
            seconds=self.seconds,
            by_route=MappingProxyType(dict(self.by_route)),
            by_status=MappingProxyType(dict(self.by_status)),
        )

    def reset(self) -> None:
        self.total = self.retries = self.rate_limited = 0
        self.seconds = 0.0
        self.by_route.clear()
        self.by_status.clear()
