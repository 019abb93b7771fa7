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
in use does. Per apply the bench prints the write factor the estimate took and the one the
apply showed (``Cost.write_factor_shown``: the patch phase's time, less the client's
preparation, one round trip and its re-reads, over its written objects × the measured time
per object), each phase's actual time over
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
The write factor is the product's: each plan takes the median of what the last applies to
its target showed (``reconciler.apply.cost_record``, a record kept for the whole bench run:
``--record FILE``, a fresh temporary file by default), and each apply records what it
showed (``remember_apply``, from the apply's own phase times). Both sandboxes are one
target to it (the client's label ``bench-sandbox``): the same server on the same machine,
whose write factor is a ratio of its own work and does not depend on the injected latency.
So a run's first apply takes the default, ``WRITE_FACTOR``, and the next ones what the
applies before them showed; ``--no-record`` keeps the default throughout.
At the end: how many applies came within 25 % of their estimate.

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
from reconciler.apply.cost_record import remember_apply
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
    with tempfile.TemporaryDirectory(prefix="bench-cost-record-") as tmp:
        record = None if args.no_record else Path(args.record or Path(tmp) / "cost.json")
        rows = _rows(args, record)
    within = sum(1 for row in rows if row["ratio"] and abs(row["ratio"] - 1) <= 0.25)
    print(f"within 25 %: {within} of {len(rows)} applies")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


def _rows(args: argparse.Namespace, record: Path | None) -> list[dict[str, Any]]:
    rows = []
    for latency in args.latency_ms:
        with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
            workdir = Path(tmp)
            key = _seeded(workdir, args.items)
            server, url = start(workdir / "bench.sqlite", latency)
            try:
                asyncio.run(_warm(url, key, _desired(workdir, args, "warm", [])))
                done: list[str] = []
                for mode, value in (("saved", "one"), ("auto-approve", "two")):
                    done.append(mode)
                    desired = _desired(workdir, args, value, done)
                    run = _run(url, key, desired, recheck=mode == "saved", server=server.pid,
                               record=record)  # fmt: skip
                    row = asyncio.run(run)
                    row.update(latency_ms=latency, mode=mode)
                    rows.append(row)
                    _print(row)
            finally:
                stop(server)
    return rows


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=12_000)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 200.0])
    parser.add_argument("--folders", type=int, default=10, help="new folders per plan")
    parser.add_argument("--subfolders", type=int, default=3, help="subfolders per new folder")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--record", metavar="FILE", help="the write factors' record to use")
    parser.add_argument("--no-record", action="store_true", help="the default factor only")
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


def _options(url: str, key: Path) -> ClientOptions:
    # one target for the record whatever the port (the module's docstring)
    return ClientOptions(domain=url, auth=key_auth_from_file(key), label="bench-sandbox")


async def _warm(url: str, key: Path, desired: DesiredState) -> None:
    async with EncordClient(_options(url, key)) as client:
        await read_live(client, Scope.from_desired(desired))


async def _run(
    url: str, key: Path, desired: DesiredState, *, recheck: bool, server: int, record: Path | None
) -> dict[str, Any]:
    async with EncordClient(_options(url, key)) as client:
        load_read, started = os.getloadavg()[0], time.monotonic()
        live = await read_live(client, Scope.from_desired(desired))
        read_seconds = time.monotonic() - started
        planned = diff(desired, live, options=DiffOptions())
        plan = with_cost(planned, client, recheck=recheck, record=record)
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
        recorded = None
        if record is not None:  # as `reconciler apply` does after its apply
            recorded = remember_apply(record, plan, result, target=client.target, now=time.time())
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
        "write_factor": cost.write_factor,
        "write_factor_applies": cost.write_factor_applies,
        "write_factor_shown": _round(cost.write_factor_shown(result.phase_seconds)),
        "write_factor_recorded": _round(recorded),
        **_split(cost, phase_seconds, patch_work),
        "apply_seconds": round(wall, 2),
        "apply_cpu_seconds": round(cpu, 2),
        "ratio": round(wall / cost.seconds, 2) if cost.seconds else None,
        "load_1min": round(load, 2),
        "load_read": round(load_read, 2),
        "load_end": round(load_end, 2),
        "line": cost.line(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


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
        return {"patch_structure": None, "patch_inputs": None, "patch_work_seconds": None}
    modelled = (cost.prepare_ms(patch) + cost.latency_ms) / 1000 + work
    return {
        "patch_work_seconds": round(work, 2),
        "patch_structure": round(seconds[patch.phase] / modelled, 2),
        "patch_inputs": round(modelled / estimate, 2),
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
        f"write factor {row['write_factor']} from {row['write_factor_applies']} applies "
        f"(0: the default), shown {row['write_factor_shown']}, recorded "
        f"{row['write_factor_recorded']}; load {row['load_read']} / {row['load_1min']} / "
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
    if phases != "equal":
        print(f"  estimated {row['estimated_phases']}\n  counted   {row['client_phases']}")


if __name__ == "__main__":
    main()
