"""What applying a plan will cost: requests per phase, and a wall-time estimate.

The counts are made by ``reconciler.apply.cost`` from the very code apply runs (its phases,
bundles and each operation's own count of the calls it sends), so they cannot drift from
apply; this module holds the value, the formula and the one line the renderings show.

The estimate is a display, never an input: apply does not read it, and it is not part of
the plan's checksum (``plan.document``), because a latency measured during the read differs
on every run while the changes, which the checksum covers, do not. An empty plan has no
cost at all (``Plan.cost`` is None), so it stays empty in every rendering.

The formula (``Cost.seconds``): within a phase, waves run one after another and the bundles
of one wave run concurrently under the client's one limit; a wave therefore takes at least
``ceil(its requests / concurrency)`` round trips, and never fewer than its longest bundle
sends one after another. Each round trip costs what a request took on average during the
read just made (``latency_ms``: the client's summed request time over its requests), which
already holds the server's work and the queueing the same concurrency caused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.words import plural


@dataclass(frozen=True, slots=True)
class PhaseCost:
    """One phase: ``requests`` it sends when every call succeeds the first time (``reads``
    of them re-read objects before writing: a saved or confirmed plan's re-check), and the
    ``rounds`` of round trips they take one after another."""

    phase: str
    requests: int
    reads: int
    rounds: int

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "requests": self.requests,
            "reads": self.reads,
            "rounds": self.rounds,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PhaseCost:
        return cls(
            phase=str(doc["phase"]),
            requests=int(doc["requests"]),
            reads=int(doc["reads"]),
            rounds=int(doc["rounds"]),
        )


@dataclass(frozen=True, slots=True)
class Cost:
    """The phases that have work, in the order apply runs them; ``latency_ms`` None when
    nothing was measured (a plan made from a saved read): then there is no time estimate."""

    phases: tuple[PhaseCost, ...]
    concurrency: int
    latency_ms: float | None = None

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.phases)

    @property
    def rounds(self) -> int:
        return sum(p.rounds for p in self.phases)

    @property
    def seconds(self) -> float | None:
        if self.latency_ms is None:
            return None
        return self.rounds * self.latency_ms / 1000

    def line(self) -> str:
        """One line, e.g. "Applying: 103 requests in 4 phases, about 12 s at the 180 ms
        latency just measured."."""
        head = (
            f"Applying: {plural(self.requests, 'request', thousands=True)} in "
            f"{plural(len(self.phases), 'phase')}"
        )
        if self.seconds is None or self.latency_ms is None:
            return head + "."
        return (
            f"{head}, about {_seconds(self.seconds)} at the {_ms(self.latency_ms)} "
            "latency just measured."
        )

    def to_json(self) -> dict[str, Any]:
        seconds = self.seconds
        return {
            "requests": self.requests,
            "phases": [p.to_json() for p in self.phases],
            "concurrency": self.concurrency,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "seconds": None if seconds is None else round(seconds, 1),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Cost | None:
        if doc is None:
            return None
        latency = doc.get("latency_ms")
        return cls(
            phases=tuple(PhaseCost.from_json(p) for p in doc["phases"]),
            concurrency=int(doc["concurrency"]),
            latency_ms=None if latency is None else float(latency),
        )


def _seconds(value: float) -> str:
    if value < 10:
        return f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    return f"{value / 60:.0f} min"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
