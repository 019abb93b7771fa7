"""The cost a plan states, against what applying it really costs (issue 19, goal 6).

For each injected latency (default 20 ms and 200 ms) a sandbox is seeded with N items
(default 12,000) in N/1000 folders under ``/bench`` and served on a loopback port with that
latency before every API request. Two plans are made and applied, each read, planned and
estimated exactly as ``reconciler plan`` does (``reconciler.apply.cost.with_cost``: the
latency is the median time of the read's light requests, the time per object what each
bulk answer took beyond its round trip and the answer before it, over their objects):

* ``saved``: a metadata rule over every item (N patches), F new folders with S subfolders
  each (folder creates in two waves), a group and a grant on each new folder; applied as a
  saved or confirmed plan is (every bundle re-read before writing);
* ``auto-approve``: the same with another metadata value and another F folders, applied as
  ``apply --auto-approve`` straight after its read (the read trusted, no re-reads).

Requests are counted by the sandbox itself (``/_sandbox/stats``, reset before the apply)
and compared with the estimate: they should be equal. Requests per phase are taken from
the client's counter at each phase start (the sandbox's control route would add its own
latency to the wall time). Wall time is the ``apply_plan`` call, without verification,
against the estimate's seconds. Each served sandbox is first read once, unmeasured: a fresh
server process answers its first pages several times slower (cold caches), which no server
in use does. Per apply the bench prints the write factor the patch phase showed: its time,
less one round trip and its re-reads, over its written objects × the measured time per
object (what ``reconciler.plan.cost.WRITE_FACTOR`` assumes), each phase's actual time over
its estimate, the CPU seconds the sandbox process and the client spent in each phase (on
one machine the two share its cores with everything else, so a bulk phase's wall time
follows their sum and the load), and the load average (1 min) when the read began, when
the apply began and when it ended: wall times on a shared machine follow the load, so each number carries it.
For the patch phase it also splits actual / estimate in two: *structure*, its wall time over
one round trip plus the server's work its own answers show (re-reads and writes together,
measured as the read's time per object is: ``plan.cost.answers_work``), which says whether
the formula's shape (the client's preparation, a round trip, then the objects one after
another) is what the apply did; and *inputs*, that over the estimate, which says how far the read's time per object
and the write factor were from what the apply's objects took.
Each auto-approve apply also shows the estimate it would have had with the time a written
object took in the saved plan's apply just before (``write_seconds_shown``: its patch work
less its re-reads at the read's time per object, over its written objects) in place of
``write_factor × object_ms``: what a plan could carry from the last apply's journal.
At the end: how many applies came within 25 % of their estimate (and of that one).

    python bench/bench_cost.py            # --items 12000 --latency-ms 20 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from served import cli, control, cpu_seconds, start, stop

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.apply.cost import with_cost
from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    DesiredFolder,
    DesiredGroup,
    DesiredState,
    MetadataRule,
    Ownership,
    Source,
    Target,
)
from reconciler.plan import DiffOptions, diff
from reconciler.plan.cost import Cost, PhaseCost, answers_work

ROOT = "/bench"


def main() -> None:
    args = _arguments()
    rows = []
    for latency in args.latency_ms:
        with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
            workdir = Path(tmp)
            key = _seeded(workdir, args.items)
            server, url = start(workdir / "bench.sqlite", latency)
            try:
                asyncio.run(_warm(url, key, _desired(workdir, args, "warm", [])))
                done: list[str] = []
                last: dict[str, Any] | None = None
                for mode, value in (("saved", "one"), ("auto-approve", "two")):
                    done.append(mode)
                    desired = _desired(workdir, args, value, done)
                    run = _run(url, key, desired, recheck=mode == "saved", server=server.pid)
                    row = asyncio.run(run)
                    row.update(latency_ms=latency, mode=mode, **_carried(row, last))
                    rows.append(row)
                    _print(row)
                    last = row
            finally:
                stop(server)
    within = sum(1 for row in rows if row["ratio"] and abs(row["ratio"] - 1) <= 0.25)
    print(f"within 25 %: {within} of {len(rows)} applies")
    carried = [row["carried_ratio"] for row in rows if row["carried_ratio"]]
    near = sum(1 for ratio in carried if abs(ratio - 1) <= 0.25)
    print(f"with the write time carried from the apply before: {near} of {len(carried)}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=12_000)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 200.0])
    parser.add_argument("--folders", type=int, default=10, help="new folders per plan")
    parser.add_argument("--subfolders", type=int, default=3, help="subfolders per new folder")
    parser.add_argument("--json", metavar="FILE")
    return parser.parse_args()


def _seeded(workdir: Path, size: int) -> Path:
    db, key = workdir / "bench.sqlite", workdir / "admin.key"
    cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
    folders = str(max(1, math.ceil(size / 1000)))
    cli("sandbox", "seed", "--db", str(db), "--under", ROOT, "--folders", folders,
        "--items", str(size))  # fmt: skip
    return key


def _source(line: int) -> Source:
    return Source(file="bench.yaml", line=line)


def _desired(workdir: Path, args: argparse.Namespace, value: str, modes: list[str]) -> DesiredState:
    """Every plan so far's folders stay declared (nothing is pruned); the last mode's are new."""
    folders: dict[str, DesiredFolder] = {}
    for mode in modes:
        for n in range(args.folders):
            top = f"{ROOT}/new-{mode}-{n:02d}"
            folders[top] = DesiredFolder(path=top, groups={"bench-team": "user"}, source=_source(3))
            for s in range(args.subfolders):
                sub = f"{top}/sub-{s}"
                folders[sub] = DesiredFolder(path=sub, source=_source(4))
    return DesiredState(
        root_dir=str(workdir),
        target=Target(),
        ownership=Ownership(id="bench"),
        source=_source(1),
        folders=folders,
        groups={"bench-team": DesiredGroup(name="bench-team", source=_source(5))},
        rules=(
            MetadataRule(folder=ROOT, recursive=True, metadata={"bench": value}, source=_source(2)),
        ),
    )


async def _warm(url: str, key: Path, desired: DesiredState) -> None:
    async with EncordClient(ClientOptions(domain=url, auth=key_auth_from_file(key))) as client:
        await read_live(client, Scope.from_desired(desired))


async def _run(
    url: str, key: Path, desired: DesiredState, *, recheck: bool, server: int
) -> dict[str, Any]:
    options = ClientOptions(domain=url, auth=key_auth_from_file(key))
    async with EncordClient(options) as client:
        load_read, started = os.getloadavg()[0], time.monotonic()
        live = await read_live(client, Scope.from_desired(desired))
        read_seconds = time.monotonic() - started
        plan = with_cost(diff(desired, live, options=DiffOptions()), client, recheck=recheck)
        assert plan.cost is not None and plan.cost.seconds is not None
        marks: list[tuple[str, int, float]] = []
        cpu_marks: list[tuple[float, float]] = []  # the server's CPU and the client's
        clock: list[float] = []  # each phase's start on the clock request spans use

        async def before_phase(phase: str) -> None:
            marks.append((phase, client.stats.total, time.monotonic()))
            cpu_marks.append((cpu_seconds(server) or 0.0, time.process_time()))
            clock.append(time.perf_counter())

        control(url, "POST", "/_sandbox/stats/reset")
        load = os.getloadavg()[0]
        cpu, applied = time.process_time(), time.monotonic()
        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(
                read_at=None if recheck else started, before_phase=before_phase, verify=False
            ),
        )
        wall, cpu = time.monotonic() - applied, time.process_time() - cpu
        marks.append(("end", client.stats.total, time.monotonic()))
        cpu_marks.append((cpu_seconds(server) or 0.0, time.process_time()))
        clock.append(time.perf_counter())
        load_end = os.getloadavg()[0]
        patch_work = _patch_work(client, [m[0] for m in marks], clock)
    assert not result.failures, result.failures[:3]
    counted = control(url, "GET", "/_sandbox/stats")["total"]
    phases = {phase: marks[n + 1][1] - at for n, (phase, at, _) in enumerate(marks[:-1])}
    phase_seconds = {
        phase: round(marks[n + 1][2] - at, 2) for n, (phase, _, at) in enumerate(marks[:-1])
    }
    cost = plan.cost
    return {
        "changes": len(plan.changes),
        "read_seconds": round(read_seconds, 2),
        "measured_latency_ms": round(cost.latency_ms or 0, 1),
        "estimated_requests": cost.requests,
        "counted_requests": counted,
        "estimated_phases": {p.phase: p.requests for p in cost.phases},
        "client_phases": phases,
        "estimated_seconds": round(cost.seconds or 0, 2),
        "estimated_phase_seconds": {
            p.phase: round(cost.phase_seconds(p) or 0, 2) for p in cost.phases
        },
        "phase_seconds": phase_seconds,
        "phase_cpu_seconds": {  # server, client: what the phase's wall time is made of here
            phase: [round(cpu_marks[n + 1][i] - cpu_marks[n][i], 2) for i in (0, 1)]
            for n, (phase, _, _) in enumerate(marks[:-1])
        },
        "phase_ratios": {
            p.phase: round(phase_seconds[p.phase] / seconds, 2)
            for p in cost.phases
            if (seconds := cost.phase_seconds(p))
        },
        "object_ms": None if cost.object_ms is None else round(cost.object_ms, 4),
        "client_ms": cost.client_ms,
        "write_factor_shown": _write_factor_shown(cost, phase_seconds),
        **_split(cost, phase_seconds, patch_work),
        "apply_seconds": round(wall, 2),
        "apply_cpu_seconds": round(cpu, 2),
        "ratio": round(wall / cost.seconds, 2) if cost.seconds else None,
        "load_1min": round(load, 2),
        "load_read": round(load_read, 2),
        "load_end": round(load_end, 2),
        "line": cost.line(),
    }


def _write_factor_shown(cost: Cost, seconds: dict[str, float]) -> float | None:
    """What the patch phase's written objects cost over the measured time per object: its
    time less one round trip and its re-read objects (``plan.cost``'s formula, solved for the
    factor)."""
    patch = next((p for p in cost.phases if p.phase == "patch-items"), None)
    if patch is None or not cost.object_ms or cost.latency_ms is None:
        return None
    work_ms = seconds[patch.phase] * 1000 - cost.latency_ms - patch.read_objects * cost.object_ms
    return round(work_ms / (patch.written_objects * cost.object_ms), 2)


def _patch_work(client: EncordClient, phases: list[str], clock: list[float]) -> float | None:
    """The server's work in the patch phase, from the apply's own bulk answers (re-reads and
    patch-bulks together, in the order they came back): ``plan.cost.answers_work``, the
    measure the read's time per object is taken with."""
    if "patch-items" not in phases:
        return None
    n = phases.index("patch-items")
    start, end = clock[n], clock[n + 1]
    spans = [
        span
        for route, route_spans in client.request_spans().items()
        if route.endswith(("/items/get-bulk", "/items/patch-bulk"))
        for span in route_spans
        if start <= span[0] and span[1] <= end
    ]
    return answers_work(spans, client.stats.fastest or 0.0)


def _split(cost: Cost, seconds: dict[str, float], work: float | None) -> dict[str, Any]:
    """The patch phase's actual / estimate as two factors: *structure*, its wall time over
    the client's preparation as estimated, one round trip and the server's work its own
    answers show (how well "prepare, one round trip, then the objects one after another"
    describes what the apply did), and *inputs*, that
    over the estimate (how far the read's time per object and the write factor were from
    what the apply's objects took)."""
    patch: PhaseCost | None = next((p for p in cost.phases if p.phase == "patch-items"), None)
    estimate = None if patch is None else cost.phase_seconds(patch)
    if patch is None or work is None or not estimate or cost.latency_ms is None:
        return {"patch_structure": None, "patch_inputs": None, "patch_work_seconds": None,
                "write_seconds_shown": None}  # fmt: skip
    modelled = (cost.prepare_ms(patch) + cost.latency_ms) / 1000 + work
    rereads = patch.read_objects * (cost.object_ms or 0.0) / 1000
    return {
        "patch_work_seconds": round(work, 2),
        # seconds a written object took, the re-reads taken at the read's time per object
        "write_seconds_shown": (work - rereads) / patch.written_objects,
        "patch_written": patch.written_objects,
        "patch_prepare_seconds": cost.prepare_ms(patch) / 1000,
        "patch_structure": round(seconds[patch.phase] / modelled, 2),
        "patch_inputs": round(modelled / estimate, 2),
    }


def _carried(row: dict[str, Any], last: dict[str, Any] | None) -> dict[str, Any]:
    """What the estimate would have been with the time a written object took in the apply
    before on the same sandbox (seconds before, the saved plan's) in place of
    ``write_factor × object_ms``: what a plan could read from the last apply's journal."""
    shown = None if last is None else last.get("write_seconds_shown")
    if not shown or row.get("write_seconds_shown") is None:
        return {"carried_seconds": None, "carried_ratio": None}
    patch = row["patch_prepare_seconds"] + row["measured_latency_ms"] / 1000
    patch += row["patch_written"] * shown
    others = row["estimated_seconds"] - row["estimated_phase_seconds"]["patch-items"]
    return {
        "carried_seconds": round(others + patch, 2),
        "carried_ratio": round(row["apply_seconds"] / (others + patch), 2),
    }


def _print(row: dict[str, Any]) -> None:
    same = "equal" if row["estimated_requests"] == row["counted_requests"] else "DIFFER"
    phases = "equal" if row["estimated_phases"] == row["client_phases"] else "DIFFER"
    print(
        f"{row['latency_ms']:.0f} ms, {row['mode']}: {row['changes']} changes; requests "
        f"estimated {row['estimated_requests']}, sandbox {row['counted_requests']} ({same}; "
        f"per phase {phases}); wall estimated {row['estimated_seconds']} s, actual "
        f"{row['apply_seconds']} s (actual/estimate {row['ratio']}; apply CPU "
        f"{row['apply_cpu_seconds']} s; measured latency {row['measured_latency_ms']} ms, "
        f"{row['object_ms']} ms an object, client {row['client_ms']} ms an object; "
        f"patch write factor shown "
        f"{row['write_factor_shown']}; load {row['load_read']} / {row['load_1min']} / "
        f"{row['load_end']} at read / apply / end)"
    )
    print(f"  {row['line']}")
    print(f"  seconds per phase: estimated {row['estimated_phase_seconds']}, "
          f"actual {row['phase_seconds']}")  # fmt: skip
    print(f"  actual / estimate per phase: {row['phase_ratios']}")
    print(f"  CPU seconds per phase, server and client: {row['phase_cpu_seconds']}")
    print(f"  patch-items: the server's work its answers show {row['patch_work_seconds']} s; "
          f"actual / estimate = structure {row['patch_structure']} x inputs "
          f"{row['patch_inputs']}")  # fmt: skip
    if row["carried_seconds"] is not None:
        print(f"  with the write time carried from the apply before: estimated "
              f"{row['carried_seconds']} s (actual / that {row['carried_ratio']})")  # fmt: skip
    if phases != "equal":
        print(f"  estimated {row['estimated_phases']}\n  counted   {row['client_phases']}")


if __name__ == "__main__":
    main()
