"""A saved plan file in ``reconciler apply``: judged before anything is sent, built inside
the lock, and the config it was made from.

Every check that refuses a corrupt or edited file (JSON, format version, the schema's shape,
the checksum, the signature) runs before the lock is taken: nothing is written, not even a
lease, for a file that fails them. Building its ``Plan`` is CPU only and is run inside the
lock's confirmation delay (``OrgLock.acquire(meanwhile=...)``) with the re-check
(``SavedPlan``, ``cli/apply.py``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from pathlib import Path

from reconciler.cli.apply_timing import Laps
from reconciler.cli.common import CommandError
from reconciler.collector import collector_paused
from reconciler.config.files import SETTINGS_NAME
from reconciler.errors import within
from reconciler.plan import Plan, PlanFileError
from reconciler.plan.planfile import JudgedPlan, judge
from reconciler.plan.signature import check_signature, plan_key


class SavedPlan:
    """A judged plan file's ``Plan`` in the re-check of ``reconciler apply`` (timed as
    ``build``: its own work, wall and CPU). A file as written is built once the re-check's
    fresh plan is made (``built_from``): its lines that are the text of a fresh change are
    that change, so only the others are parsed (none, when nothing changed since the plan
    was made). A ``parsed`` file (laid out otherwise) is built beside the re-check's read
    (``begin``, then ``wait``), in the time that read waits for answers. CPU only, and
    nothing is sent. A plan this reconciler cannot apply (a change it does not make, only in
    a file re-sealed by hand) is refused there: the lock is released and nothing else
    written."""

    def __init__(self, judged: JudgedPlan, plan_file: Path, laps: Laps) -> None:
        self.judged, self._file, self._laps = judged, plan_file, laps
        self._task: asyncio.Future[Plan] | None = None
        self._plan: Plan | None = None

    def begin(self) -> None:
        """Start building a ``parsed`` file's plan (``JudgedPlan.build_between``)."""
        if self.judged.parsed:
            self._task = asyncio.ensure_future(self._between())

    async def wait(self) -> None:
        """The building begun, done (its error raised)."""
        if self._task is not None:
            self._plan = await self._task

    def built_from(self, fresh: Plan) -> Plan:
        """The plan, built now if it was not beside the read (``JudgedPlan.build``)."""
        if self._plan is None:
            wall, cpu = time.perf_counter(), time.process_time()
            with within(str(self._file), PlanFileError):
                self._plan = self.judged.build(fresh)
            self._laps.add("build", time.perf_counter() - wall, time.process_time() - cpu)
            gc.freeze()  # alive to the end, as the rest under ``collector_frozen`` in ``_apply``
        return self._plan

    def plan(self) -> Plan:
        assert self._plan is not None, "built_from first"
        return self._plan

    def drop(self) -> None:
        """Cancel the building if it is still running; if it failed, its error was not the
        one raised (the read's came first): taken, so that asyncio does not log it at exit."""
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()

    async def _between(self) -> Plan:
        spent = [0.0, 0.0]
        with within(str(self._file), PlanFileError):
            plan = await self.judged.build_between(spent)
        gc.freeze()
        self._laps.add("build", *spent)
        return plan


def judge_plan(path: Path) -> JudgedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read plan file {path}: {exc}") from None
    # What judging parsed lives until the plan is built from it (all of a file not laid out
    # as written): kept out of the collector's walks from the start. Left to it, the first
    # full collection after the judging (which pauses the collector) walked all of it: 1.2 s
    # of the 2.5 s that judging 100,000 parsed changes took inside ``reconciler apply``.
    with collector_paused(), within(str(path), PlanFileError):
        judged = judge(text)
        gc.freeze()
    key = plan_key(os.environ)
    if key is not None:
        check_signature(path, judged.checksum, key)
    return judged


def config_dir(path: Path, saved: JudgedPlan | None) -> Path:
    """The config a saved plan was made from: recorded relative to the plan file (absolute in
    plans made before), so that it applies in any checkout of the same repository. Never
    another one: its apply would run, then verify against other declarations and fail."""
    if saved is None:
        return path
    if not saved.config_dir:
        raise CommandError(
            f"{path}: the plan does not say which config it was made from; make it again "
            "with `reconciler plan --out`"
        )
    made_in = (path.resolve().parent / saved.config_dir).resolve()
    if (made_in / SETTINGS_NAME).is_file():
        return made_in
    fix = (
        f"put the plan file where {saved.config_dir!r} (relative to it) is the config it "
        "was made from"
    )
    here = Path.cwd()
    if (here / SETTINGS_NAME).is_file():
        raise CommandError(
            f"{path} was made from the config in {made_in}, not the one in {here}, and that "
            f"config is not there; {fix}, or make a new plan from {here}"
        )
    raise CommandError(f"{path} was made from the config in {made_in}, which is not there; {fix}")
