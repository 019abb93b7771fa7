"""A saved plan file in ``reconciler apply``: judged before anything is sent, built while the
lock confirms, and the config it was made from.

Every check that refuses a corrupt or edited file (JSON, format version, the schema's shape,
the checksum, the signature) runs before the lock is taken: nothing is written, not even a
lease, for a file that fails them. Building its ``Plan`` (about a third of loading it: a
``Change``, its refs and payloads per change) is CPU only and is run inside the lock's
confirmation delay (``OrgLock.acquire(meanwhile=...)``), beside the re-check's read, in the
time that read waits for answers (then the re-check's plan, ``cli/apply.py``).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from reconciler.cli.apply_timing import Laps
from reconciler.cli.common import CommandError
from reconciler.collector import collector_paused
from reconciler.config.files import SETTINGS_NAME
from reconciler.errors import within
from reconciler.plan import Plan, PlanFileError
from reconciler.plan.planfile import JudgedPlan, judge
from reconciler.plan.signature import check_signature, plan_key


async def built_timed(judged: JudgedPlan, plan_file: Path, laps: Laps) -> Plan:
    """The judged plan built (``build`` in the timings: its own slices' time), kept out of
    the collector's walks. Run beside the re-check's read while the lock's confirmation
    waits (``JudgedPlan.build_between``): CPU only, and nothing is sent. A plan this
    reconciler cannot apply (a change it does not make, only in a file re-sealed by hand) is
    refused there: the lock is released and nothing else written."""
    spent = [0.0, 0.0]
    with within(str(plan_file), PlanFileError):
        plan = await judged.build_between(spent)
    gc.freeze()  # alive to the end, as the rest under ``collector_frozen`` in ``_apply``
    laps.add("build", *spent)
    return plan


def judge_plan(path: Path) -> JudgedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read plan file {path}: {exc}") from None
    # The parsed document lives until the plan is built from it: kept out of the collector's
    # walks from the start. Left to it, the first full collection after the judging (which
    # pauses the collector) walked all of it: 1.2 s of the 2.5 s that judging 100,000
    # changes took inside ``reconciler apply``.
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
