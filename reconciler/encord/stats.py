"""Request accounting: every attempt the client sends is counted and timed, per route.

Routes are keyed like the sandbox's ``/_sandbox/stats`` (``"GET /v2/public/storage/folders/
{uuid}/items"``, ``"POST /public datasetlinkitems"``) so the two can be compared directly.

Per route the client also keeps the summed request time, the objects the answers held
(counted where pages are parsed: ``paging``), and when each answered request went out and
came back, so what a round trip and an object cost this server can be measured from a read
(``reconciler.apply.cost``); and the process's CPU from the first answer to the latest, so
what the client spends on an object can be too.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _empty() -> MappingProxyType[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Counts at one moment; ``seconds`` sums request durations (concurrent ones overlap)."""

    total: int
    retries: int
    rate_limited: int
    seconds: float
    by_route: MappingProxyType[str, int]
    by_status: MappingProxyType[str, int]
    seconds_by_route: MappingProxyType[str, float] = field(default_factory=_empty)
    objects_by_route: MappingProxyType[str, int] = field(default_factory=_empty)
    fastest: float | None = None  # the shortest answered request, in seconds (None before one)

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
    seconds_by_route: dict[str, float] = field(default_factory=dict)
    objects_by_route: Counter[str] = field(default_factory=Counter)
    fastest: float | None = None
    # Per route, (sent, answered) of each answered request (``time.perf_counter()``): kept
    # out of snapshots, which progress takes per page; ``spans()`` copies them when a plan's
    # cost is measured (two floats a request: a 10,000,000-item read sends about 20,000).
    spans_by_route: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # The process's CPU (``time.process_time()``) at the first and the latest answer: what
    # the client spent handling the answers between them (``client_ms``).
    cpu_first: float | None = None
    cpu_last: float | None = None

    def record(self, route: str, status: int | str, seconds: float, *, retry: bool) -> None:
        self.total += 1
        self.seconds += seconds
        self.by_route[route] += 1
        self.seconds_by_route[route] = self.seconds_by_route.get(route, 0.0) + seconds
        answered = isinstance(status, int) and 200 <= status < 300  # not a refusal or a failure
        if answered:
            now = time.perf_counter()
            self.spans_by_route.setdefault(route, []).append((now - seconds, now))
            if self.fastest is None or seconds < self.fastest:
                self.fastest = seconds
            self.cpu_last = time.process_time()
            if self.cpu_first is None:
                self.cpu_first = self.cpu_last
        self.by_status[str(status)] += 1
        if retry:
            self.retries += 1
        if status == 429:
            self.rate_limited += 1

    def count_objects(self, route: str, objects: int) -> None:
        """``objects`` arrived in an answer of ``route`` (the results of a page)."""
        self.objects_by_route[route] += objects

    def client_ms(self) -> float | None:
        """The client's CPU per object answered, in ms: from its first answer to its latest,
        over the objects the answers held (parsing them, and whatever else the process did
        meanwhile). None before two answers with objects in them."""
        objects = sum(self.objects_by_route.values())
        if self.cpu_first is None or self.cpu_last is None or not objects:
            return None
        spent = self.cpu_last - self.cpu_first
        return spent / objects * 1000 if spent > 0 else None

    def spans(self) -> dict[str, tuple[tuple[float, float], ...]]:
        """Per route, when each answered request went out and came back, in seconds."""
        return {route: tuple(spans) for route, spans in self.spans_by_route.items()}

    def snapshot(self) -> StatsSnapshot:
        return StatsSnapshot(
            total=self.total,
            retries=self.retries,
            rate_limited=self.rate_limited,
            seconds=self.seconds,
            by_route=MappingProxyType(dict(self.by_route)),
            by_status=MappingProxyType(dict(self.by_status)),
            seconds_by_route=MappingProxyType(dict(self.seconds_by_route)),
            objects_by_route=MappingProxyType(dict(self.objects_by_route)),
            fastest=self.fastest,
        )

    def reset(self) -> None:
        self.total = self.retries = self.rate_limited = 0
        self.seconds = 0.0
        self.by_route.clear()
        self.by_status.clear()
        self.seconds_by_route.clear()
        self.objects_by_route.clear()
        self.fastest = None
        self.spans_by_route.clear()
        self.cpu_first = self.cpu_last = None
