"""Where one ``reconciler apply`` spends its time, for benchmarks (``bench_apply_saved.py``).

With ``RECONCILER_TIMINGS=FILE`` in the environment, ``apply`` writes at its end a JSON object
``{part: [wall seconds, CPU seconds]}`` to FILE: each part is the time since the one before
(``lap``), ``lock_wait`` is the waits taking the lock drew (``OrgLock.waited``: its
randomised confirmation delay, and polls while another run holds it), and ``overlapped`` the
part of reading and planning (and building a saved plan) done inside that delay
(``apply/meanwhile.py``); ``read_plan`` is what was left of it once the lock was held. The
delay is a random 2.5-5 s in every run whatever the work, so two commands are compared also
net of its idle part. Without the variable nothing is written.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV = "RECONCILER_TIMINGS"


class Laps:
    """Wall and CPU seconds per part of a run, each measured from the end of the one before."""

    def __init__(self) -> None:
        self.path = os.environ.get(ENV)
        self.parts: dict[str, list[float]] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.add(name, wall - self._wall, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu

    def add(self, name: str, wall: float, cpu: float = 0.0) -> None:
        self.parts[name] = [round(wall, 4), round(cpu, 4)]

    def write(self) -> None:
        if self.path:
            Path(self.path).write_text(json.dumps(self.parts), encoding="utf-8")
