"""The write factor past applies showed, kept for the next plan's cost estimate.

A plan never writes, so the read cannot measure what writing an object costs the server
(``reconciler.plan.cost``'s ``write_factor`` times the read's ``object_ms``); an apply can.
Each apply that wrote at least ``plan.cost.MIN_WRITTEN`` objects in bulk, every step done,
records what a written object took (``write_ms``: the factor it showed,
``Cost.write_factor_shown``, times the ``object_ms`` its plan's read measured), and the next
plan of the same target takes the median ``write_ms`` of the last ``RECALLED`` applies, as
a factor over its own read's ``object_ms`` (``Recalled.factor_at``).

Why the time a write took and not the factor itself: on the sandbox the read's time per
object and the apply's time per written object vary 2-3x from one minute to the next, and
independently of each other, so a factor (one over the other) carries both noises from the
last apply and multiplies in the new read's: in 16 applies at load 3-4, the median factor
of the last three came within 25 % in 11 of 15, the median write time in 14 of 15
(bench/README.md, "Cost in the plan", fifth pass).

Where: ``.reconciler/cost.json`` beside the config (where the journals are), one list per
target (``EncordClient.target``, as plans name it), the newest last, at most ``KEPT``:

    {"version": 1, "targets": {"https://api.encord.com": [
        {"write_ms": 0.0956, "write_factor": 4.56, "written": 12000, "at": 1764745200.0},
        ...]}}

Never trusted blindly: an apply whose factor is outside ``LOW``–``HIGH`` (a stall, a read
that measured almost nothing) is not recorded; an entry that is not a positive number, has
such a factor, or is older than ``MAX_AGE_SECONDS`` is not used; nor a median that makes a
factor outside those bounds against the new read. A missing, unreadable or other-version
file, or one without this target, gives ``None``: the plan falls back to ``WRITE_FACTOR``
and says so in its cost line. An unreadable file is also logged (it is rewritten by the next
apply that measures). The factor changes only the estimate: the cost is outside the plan's
checksum, and apply never reads it.

Two applies to one organisation never run at once (the organisation lock); the file is
replaced whole (a temporary file, then a rename), so a reader never sees half of one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.apply.engine import ApplyResult
from reconciler.plan import Plan

logger = logging.getLogger(__name__)

RECORD = Path(".reconciler") / "cost.json"
VERSION = 1
KEPT = 5
RECALLED = 3  # the median of three: one odd apply (a pause, a burst of load) does not lead
LOW, HIGH = 1.0, 16.0  # a patch-bulk reads, writes and reads again: at least one read's cost
MAX_AGE_SECONDS = 30 * 24 * 3600  # the service and its load change; an old factor says little


@dataclass(frozen=True, slots=True)
class Recalled:
    """What writing an object took the server: the median ``write_ms`` of ``applies``
    recorded applies."""

    write_ms: float
    applies: int

    def factor_at(self, object_ms: float | None) -> float | None:
        """The write factor against a read that measured ``object_ms``; None without one, or
        when the two make a factor out of bounds (then the default is used)."""
        if not object_ms:
            return None
        factor = self.write_ms / object_ms
        return factor if LOW <= factor <= HIGH else None


def record_path(config_dir: Path) -> Path:
    """Where the factors of applies made from the config in ``config_dir`` are kept."""
    return config_dir / RECORD


def recall(path: Path, target: str, *, now: float) -> Recalled | None:
    """The median write time of the last ``RECALLED`` usable applies recorded for ``target``;
    None when there is none (the plan then assumes ``WRITE_FACTOR``)."""
    entries = _read(path).get(target, [])
    usable = [e["write_ms"] for e in entries if _usable(e, now)][-RECALLED:]
    if not usable:
        return None
    return Recalled(write_ms=statistics.median(usable), applies=len(usable))


def remember_apply(
    path: Path, plan: Plan, result: ApplyResult, *, target: str, now: float
) -> float | None:
    """Record the write factor the apply of ``plan`` that gave ``result`` showed, when it
    measured one within bounds; the factor, or None. Only a whole apply of the plan as
    estimated measures it: every step done in this run (none failed, none resumed, not
    interrupted), nothing planned after the syncs joining its phases."""
    whole = not (result.failures or result.already_done or result.interrupted)
    if plan.cost is None or plan.deferred or not whole:
        return None
    factor = plan.cost.write_factor_shown(result.phase_seconds)
    if factor is None or plan.cost.object_ms is None or not LOW <= factor <= HIGH:
        return None
    written = sum(p.written_objects for p in plan.cost.phases if p.bulk_writes)
    entry = {
        "write_ms": round(factor * plan.cost.object_ms, 5),
        "write_factor": round(factor, 2),
        "written": written,
        "at": now,
    }
    targets = _read(path)
    targets[target] = [*targets.get(target, []), entry][-KEPT:]
    try:
        _write(path, targets)
    except OSError as error:  # the apply is done; only the next estimate loses this
        logger.warning("could not record the write factor in %s: %s", path, error)
        return None
    return factor


def _usable(entry: Mapping[str, Any], now: float) -> bool:
    write_ms, factor = _number(entry.get("write_ms")), _number(entry.get("write_factor"))
    at = _number(entry.get("at"))
    if write_ms is None or factor is None or at is None or write_ms <= 0:
        return False
    return LOW <= factor <= HIGH and 0 <= now - at <= MAX_AGE_SECONDS


def _number(value: object) -> float | None:
    """``value`` when it is a finite number (JSON's true is not one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every target's entries; empty when the file is missing, unreadable or of another
    version (logged, but for a missing file: the first apply has not happened yet)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("ignoring %s (%s): the cost assumes the default write factor", path, error)
        return {}
    targets = doc.get("targets") if isinstance(doc, dict) else None
    if not isinstance(targets, dict) or doc.get("version") != VERSION:
        logger.warning("ignoring %s: not a version %d record of write factors", path, VERSION)
        return {}
    return {
        str(target): [e for e in entries if isinstance(e, dict)]
        for target, entries in targets.items()
        if isinstance(entries, list)
    }


def _write(path: Path, targets: Mapping[str, list[dict[str, Any]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": VERSION, "targets": targets}, indent=2, sort_keys=True) + "\n"
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=".cost-", delete=False
    ) as out:
        try:
            out.write(text)
        except OSError:
            os.unlink(out.name)
            raise
    os.replace(out.name, path)
