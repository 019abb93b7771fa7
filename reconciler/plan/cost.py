"""What applying a plan will cost: requests per phase, and a wall-time estimate.

The counts are made by ``reconciler.apply.cost`` from the very code apply runs (its phases,
bundles and each operation's own count of the calls it sends), so they cannot drift from
apply; this module holds the value, the formula and the one line the renderings show.

The estimate is a display, never an input: apply does not read it, and it is not part of
the plan's checksum (``plan.document``), because a latency measured during the read differs
on every run while the changes, which the checksum covers, do not. An empty plan has no
cost at all (``Plan.cost`` is None), so it stays empty in every rendering.

The formula (``Cost.phase_seconds``), from three things the read just measured:

* ``latency_ms``, what a round trip of a light request took (``round_trip_ms_of``: the
  median time of the read's requests on routes whose answers held few objects, such as a
  folder's roles or one folder: the round trip, the server's fixed work and the queueing
  the same concurrency caused). Not the mean over every request: the read's pages of 1,000
  objects took several times longer (at 20 ms, 250 ms against 40 ms), and a phase of
  single-object calls does not carry that work; the bulk phases are timed by objects
  below. The median, because a few light requests queue behind those pages. Within a
  phase, waves run one after another and the bundles of one wave run concurrently under
  the client's one limit; a wave therefore takes at least ``ceil(its requests /
  concurrency)`` round trips, and never fewer than its longest bundle sends one after
  another: ``rounds × latency_ms``.
* ``object_ms``, what the server spent on an object of a bulk answer (``object_ms_of``:
  what the read's pages of up to 1,000 objects took beyond their round trips and beyond
  the page answered before them, over their objects). A bulk phase is bound by the
  server's work on its objects rather than by round trips: its patch-bulks of 1,000 items each take far longer than a
  round trip. We take the server to do the objects of concurrent bulk requests one after
  another, not side by side: the sandbox does (its writes hold one lock, its one process
  one interpreter lock; in a saved plan's patch phase the re-read of one bundle is on the
  wire while another is written, yet the phase's own answers show the objects done one
  after another: bench/bench_cost.py's "structure", 1.00-1.07), and for a server that
  overlaps them the estimate is an upper bound. So a phase takes ``latency_ms + objects × object_ms`` when that is longer than its
  round trips, each object re-read before writing counted once and each written object
  ``write_factor`` times.

``client_ms``, what the client spent (its process CPU) on an object of the read's answers
(``ClientStats.client_ms``), scales the client's own work that the server's answers do not
show: a wave's bundles all start together and each prepares its first request (the
re-read's body, or the write's when the read is trusted) before any request goes out (each
yields to the event loop before sending), so a phase's first round trip waits for the
whole wave's preparation. ``PREPARE_RECHECK`` and ``PREPARE_WRITE`` are that preparation
per object against ``client_ms``: the same code runs for every organisation, and the
ratio leaves out how fast the machine is (0.25-0.26 and 0.35-0.40 in the CPU the client
spent before its first patch-phase request, bench/README.md, "Cost in the plan", fourth
pass). A phase takes that preparation, then the above.

``write_factor`` is the one number the read cannot measure, because a plan never writes:
what writing an object costs the server against reading it (a patch-bulk reads its objects,
writes them and answers with them read again). Only an apply can show it, so each apply
that wrote enough objects in bulk measures it (``Cost.write_factor_shown``: its bulk write
phases' time, less the client's preparation, a round trip and the re-reads, over their
written objects at the read's ``object_ms``), and the next plan of the same target takes
what a written object took in the last few applies, over its own read's ``object_ms``
(``reconciler.apply.cost_record``: where they are kept, why the time and not the factor,
and why a record is never trusted blindly). ``write_factor_applies`` says how many; 0 means
the default, ``WRITE_FACTOR``, was used, and the plan's line says which.
``WRITE_FACTOR`` is what applies on the sandbox showed (bench/README.md, "Cost in the
plan", fifth pass); real Encord's comes from its own applies.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.words import plural

# Writing an object costs the server this many times what reading it in a page costs: what
# a plan assumes until applies to its target have measured it (the module's docstring). On
# the sandbox, 64 applies of 12,000 patches at load 1-9.6 showed a median of 3.44 in the
# patch phase, rising with the load (3.15 at load 1-2.5, 4.4-4.6 at 3-9.6), and 3.9 fits
# their whole applies best (the single-request phases come out a little over their round
# trips under load): so 4 (bench/README.md, "Cost in the plan", fifth pass).
WRITE_FACTOR = 4.0

# An apply measures the write factor only from bulk write phases holding at least this many
# written objects: below it a round trip and the client's preparation are most of the time.
MIN_WRITTEN = 1000


# The client's work per object before a phase's first request goes out, against what it
# spent per object of the read: building every bundle's re-read (a saved or confirmed
# plan) or every bundle's write (a trusted read). Measured, not fitted to a server: the
# client's CPU in four applies of 12,000 patches each (the module's docstring).
PREPARE_RECHECK = 0.25
PREPARE_WRITE = 0.4

# Routes whose answers held at least this many objects on average are bulk reads (pages of
# listings, get-bulk); the others' time is the round trip and the server's fixed work.
BULK_ANSWER = 100


@dataclass(frozen=True, slots=True)
class RouteTime:
    """What a read measured on one route: its requests, the objects their answers held, and
    ``spans``: when each answered request went out and came back, in seconds."""

    requests: int
    objects: int
    spans: tuple[tuple[float, float], ...] = ()

    @property
    def bulk(self) -> bool:
        return bool(self.requests) and self.objects >= BULK_ANSWER * self.requests


def round_trip_ms_of(routes: Iterable[RouteTime]) -> float | None:
    """A light request's round trip, in ms: the median time of the answered requests on
    routes that are not bulk (None when there were none)."""
    times = [end - sent for r in routes if not r.bulk for sent, end in r.spans]
    return statistics.median(times) * 1000 if times else None


def object_ms_of(routes: Iterable[RouteTime], *, fastest_seconds: float) -> float | None:
    """What the server spends on an object of a bulk answer, in ms, taking it to do the
    objects of concurrent requests one after another (as the apply formula does): the
    bulk routes' work (``answers_work``) over their objects. None when the read made no bulk
    request."""
    bulk = [r for r in routes if r.bulk]
    objects = sum(r.objects for r in bulk)
    if not objects:
        return None
    work = sum(answers_work(r.spans, fastest_seconds) for r in bulk)
    return work / objects * 1000


def answers_work(spans: Iterable[tuple[float, float]], round_trip: float) -> float:
    """A route's answers in the order they came back, each counting what it took beyond
    its own round trip (``round_trip``: the read's fastest request) and beyond the answer
    before it: a page queued behind others at the server came back one page's work after
    the one before it, not its whole wait later. So 12 pages sent at once and answered one
    after another count 12 pages of work, and a chain of pages each page's own; the measure
    before this one (the route's busy time less ``requests × busy / summed time`` round
    trips) took pages overlapping each other's round trips for more round trips than they
    were, and measured 20-30 % less per object at 200 ms than at 20 ms, while writing an
    object took the same at both (bench/README.md, "Cost in the plan", third pass)."""
    work, previous = 0.0, -math.inf
    for sent, answered in sorted(spans, key=lambda span: span[1]):
        work += max(0.0, answered - max(sent + round_trip, previous))
        previous = answered
    return work


@dataclass(frozen=True, slots=True)
class PhaseCost:
    """One phase: ``requests`` it sends when every call succeeds the first time (``reads``
    of them re-read objects before writing: a saved or confirmed plan's re-check), the
    ``rounds`` of round trips they take one after another, and the objects they carry:
    ``read_objects`` re-read, ``written_objects`` written."""

    phase: str
    requests: int
    reads: int
    rounds: int
    read_objects: int = 0
    written_objects: int = 0

    @property
    def bulk_writes(self) -> bool:
        """Its writes carry many objects each (patch-bulks), so the server's work on them,
        not round trips, is what it takes."""
        writes = self.requests - self.reads
        return writes > 0 and self.written_objects >= BULK_ANSWER * writes

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "requests": self.requests,
            "reads": self.reads,
            "rounds": self.rounds,
            "read_objects": self.read_objects,
            "written_objects": self.written_objects,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PhaseCost:
        return cls(
            phase=str(doc["phase"]),
            requests=int(doc["requests"]),
            reads=int(doc["reads"]),
            rounds=int(doc["rounds"]),
            read_objects=int(doc.get("read_objects", 0)),
            written_objects=int(doc.get("written_objects", 0)),
        )


@dataclass(frozen=True, slots=True)
class Cost:
    """The phases that have work, in the order apply runs them; ``latency_ms`` None when
    nothing was measured (a plan made from a saved read): then there is no time estimate;
    ``object_ms`` None when the read could not measure it: then round trips alone.
    ``write_factor_applies``: how many past applies to the target ``write_factor`` is the
    median of (0: ``WRITE_FACTOR``, assumed)."""

    phases: tuple[PhaseCost, ...]
    concurrency: int
    latency_ms: float | None = None
    object_ms: float | None = None
    write_factor: float = WRITE_FACTOR
    client_ms: float | None = None
    write_factor_applies: int = 0

    def __post_init__(self) -> None:
        # held as the plan file keeps them, so that the plan shown when it is made and the
        # saved plan shown later (``show``, ``apply plan.json``) state the same estimate
        if self.latency_ms is not None:
            object.__setattr__(self, "latency_ms", round(self.latency_ms, 1))
        if self.object_ms is not None:
            object.__setattr__(self, "object_ms", round(self.object_ms, 4))
        if self.client_ms is not None:
            object.__setattr__(self, "client_ms", round(self.client_ms, 4))
        object.__setattr__(self, "write_factor", round(self.write_factor, 2))

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
        return sum(self.phase_seconds(p) or 0.0 for p in self.phases)

    def phase_seconds(self, phase: PhaseCost) -> float | None:
        """The client's preparation, then its round trips or, when longer, one round trip
        and the server's work on its objects (the module's docstring says why)."""
        if self.latency_ms is None:
            return None
        trips = phase.rounds * self.latency_ms
        if self.object_ms is None:
            return (self.prepare_ms(phase) + trips) / 1000
        objects = phase.read_objects + phase.written_objects * self.write_factor
        work = max(trips, self.latency_ms + objects * self.object_ms)
        return (self.prepare_ms(phase) + work) / 1000

    def prepare_ms(self, phase: PhaseCost) -> float:
        """What the client spends preparing the phase's first requests before the first
        goes out: its objects (re-read or written, whichever it carries more of) at
        ``client_ms`` each, times ``PREPARE_RECHECK`` when its bundles re-read first, else
        ``PREPARE_WRITE``. Nothing when the read did not measure the client."""
        if self.client_ms is None:
            return 0.0
        per_object = PREPARE_RECHECK if phase.reads else PREPARE_WRITE
        objects = max(phase.read_objects, phase.written_objects)
        return objects * self.client_ms * per_object

    def write_factor_shown(self, phase_seconds: Mapping[str, float]) -> float | None:
        """The write factor an apply of this plan showed: what its bulk write phases took
        (``phase_seconds``, by phase), less the client's preparation, a round trip and the
        re-read objects at ``object_ms``, over their written objects at ``object_ms``: the
        formula solved for the factor. None when nothing was measured to solve it with, or
        fewer than ``MIN_WRITTEN`` objects were written in bulk."""
        if self.latency_ms is None or not self.object_ms:
            return None
        bulk = [p for p in self.phases if p.bulk_writes and p.phase in phase_seconds]
        written = sum(p.written_objects for p in bulk)
        if written < MIN_WRITTEN:
            return None
        rest_ms = sum(
            self.prepare_ms(p) + self.latency_ms + p.read_objects * self.object_ms for p in bulk
        )
        work_ms = sum(phase_seconds[p.phase] for p in bulk) * 1000 - rest_ms
        return work_ms / (written * self.object_ms)

    def line(self) -> str:
        """One line, e.g. "Applying: 103 requests in 4 phases, about 12 s at the 180 ms
        latency and 50 µs an object just measured; writing an object takes 170 µs (3.4
        reads), the median of the last 3 applies to this target."."""
        head = (
            f"Applying: {plural(self.requests, 'request', thousands=True)} in "
            f"{plural(len(self.phases), 'phase')}"
        )
        if self.seconds is None or self.latency_ms is None:
            return head + "."
        per_object = (
            "" if self.object_ms is None else f" and {_per_object(self.object_ms)} an object"
        )
        return (
            f"{head}, {_about(self.seconds)} at the {_ms(self.latency_ms)} "
            f"latency{per_object} just measured{self._writes()}."
        )

    def _writes(self) -> str:
        """Which write factor the estimate took, when it weighs: a bulk write phase timed
        by its objects."""
        if self.object_ms is None or not any(p.bulk_writes for p in self.phases):
            return ""
        factor = f"{self.write_factor:g}"
        if not self.write_factor_applies:
            return (
                f"; writing an object taken as {factor} reads (assumed: no recent apply to "
                "this target measured it)"
            )
        applies = self.write_factor_applies
        source = (
            "as the last apply to this target showed"
            if applies == 1
            else f"the median of the last {applies} applies to this target"
        )
        took = _per_object(self.write_factor * self.object_ms)
        return f"; writing an object takes {took} ({factor} reads), {source}"

    def to_json(self) -> dict[str, Any]:
        seconds = self.seconds
        doc: dict[str, Any] = {
            "requests": self.requests,
            "phases": [p.to_json() for p in self.phases],
            "concurrency": self.concurrency,
            "latency_ms": self.latency_ms,
            "object_ms": self.object_ms,
            "write_factor": self.write_factor,
        }
        if self.client_ms is not None:  # only when measured: older plans' files stay as they were
            doc["client_ms"] = self.client_ms
        if self.write_factor_applies:  # only when carried from applies: the same
            doc["write_factor_applies"] = self.write_factor_applies
        doc["seconds"] = None if seconds is None else round(seconds, 1)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Cost | None:
        if doc is None:
            return None
        latency, per_object = doc.get("latency_ms"), doc.get("object_ms")
        client = doc.get("client_ms")
        return cls(
            phases=tuple(PhaseCost.from_json(p) for p in doc["phases"]),
            concurrency=int(doc["concurrency"]),
            latency_ms=None if latency is None else float(latency),
            object_ms=None if per_object is None else float(per_object),
            write_factor=float(doc.get("write_factor", WRITE_FACTOR)),
            client_ms=None if client is None else float(client),
            write_factor_applies=int(doc.get("write_factor_applies", 0)),
        )


def _about(value: float) -> str:
    if value < 0.05:  # "about 0.0 s" reads as if applying took no time at all
        return "under 0.1 s"
    if value < 10:
        return f"about {value:.1f} s"
    if value < 120:
        return f"about {value:.0f} s"
    return f"about {value / 60:.0f} min"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _per_object(value: float) -> str:
    return _ms(value) if value >= 1 else f"{value * 1000:.0f} µs"
