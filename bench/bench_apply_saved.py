"""Benchmark: ``reconciler apply plan.json`` against ``reconciler apply DIR --auto-approve``.

Both through the CLI (subprocesses, as people run them) on the same served sandbox, seeded
with N items in N/1000 folders under /bench, with LATENCY ms injected before every request.
Each run sets a new value with a metadata rule, so each really patches N items:

* ``auto-approve``: ``reconciler apply DIR --auto-approve`` (read, plan, apply, verify);
* ``saved``: ``reconciler plan DIR --out plan.json`` (timed apart), then
  ``reconciler apply plan.json --auto-approve`` (load, re-check, apply with each bundle
  re-read first, verify).

Requests are counted by the sandbox (``/_sandbox/stats``); CPU is the child's user+system.
Each command also writes where its time went (``RECONCILER_TIMINGS``, ``cli/apply_timing.py``):
its parts' wall and CPU, ``lock_wait``, the random 3.5-5 s delay the lock's confirmation
drew, and ``overlapped``, the reading and planning done inside that delay: each wall time is
given also net of the delay's idle part (the delay less the work inside it), noise of both
commands.

``--runs N`` makes N pairs, interleaved (odd runs time ``--auto-approve`` first, even runs the
saved plan first, so that a load that drifts during a run weighs on both alike), then the
medians of each and of the per-run ratios.

    python bench/bench_apply_saved.py --items 30000 --latency-ms 20 --runs 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from served import cli, control, serve

ROOT = "/bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-saved-") as tmp:
        work = Path(tmp)
        db, key = work / "bench.sqlite", work / "admin.key"
        cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
        folders = str(max(1, math.ceil(args.items / 1000)))
        cli("sandbox", "seed", "--db", str(db), "--under", ROOT,
            "--folders", folders, "--items", str(args.items))  # fmt: skip
        config = work / "config"
        config.mkdir()
        (config / "reconciler.yaml").write_text(
            "version: 1\ntarget: {encord: {domain: https://api.encord.com}}\nownership: {id: bench}\n"
        )
        with serve(db, args.latency_ms) as url:
            target = ("--domain", url, "--ssh-key-file", str(key))
            pairs = []
            for run in range(args.runs):
                load = os.getloadavg()
                if run % 2 == 0:
                    auto = _auto(url, config, run, target)
                    made, saved = _saved(url, config, work, run, target)
                else:
                    made, saved = _saved(url, config, work, run, target)
                    auto = _auto(url, config, run, target)
                pairs.append((auto, saved))
                print(
                    f"run {run + 1} ({'auto first' if run % 2 == 0 else 'saved first'}), "
                    f"{args.items} items, {args.latency_ms:g} ms, load {load[0]:.1f} {load[1]:.1f} "
                    f"{load[2]:.1f} -> {os.getloadavg()[0]:.1f}:\n"
                    f"  apply --auto-approve {_text(auto)}\n  plan --out {_text(made)}\n"
                    f"  apply plan.json {_text(saved)}\n  saved / auto: {_ratios(auto, saved)}"
                )  # fmt: skip
            _medians(pairs)


def _auto(url: str, config: Path, run: int, target: tuple[str, ...]) -> dict[str, Any]:
    _rule(config, f"auto-{run}")
    return _timed(url, ("apply", str(config), "--auto-approve", *target))


def _saved(
    url: str, config: Path, work: Path, run: int, target: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    _rule(config, f"saved-{run}")
    plan_file = work / f"plan-{run}.json"
    made = _timed(url, ("plan", str(config), "--out", str(plan_file), *target))
    return made, _timed(url, ("apply", str(plan_file), "--auto-approve", *target))


def _net(row: dict[str, Any]) -> float:
    """Wall time without the idle part of the lock's random confirmation delay: the delay the
    command drew, less the work it did inside it (the read and plan, ``overlapped``; before
    that existed, the saved plan's build)."""
    parts = row["parts"]
    wait = parts.get("lock_wait", [0.0])[0]
    inside = parts.get("overlapped", parts.get("build", [0.0]))[0]
    return float(row["seconds"] - max(0.0, wait - inside))


def _ratios(auto: dict[str, Any], saved: dict[str, Any]) -> str:
    return (
        f"wall {saved['seconds'] / auto['seconds']:.2f}, net of the lock's idle wait "
        f"{_net(saved) / _net(auto):.2f}, CPU {saved['cpu'] / auto['cpu']:.2f}"
    )


def _medians(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f}"

    for name, index in (("apply --auto-approve", 0), ("apply plan.json", 1)):
        rows = [pair[index] for pair in pairs]
        print(
            f"median {name}: wall {med([r['seconds'] for r in rows])} s, net "
            f"{med([_net(r) for r in rows])} s, CPU {med([r['cpu'] for r in rows])} s"
        )
        parts = sorted({part for r in rows for part in r["parts"]})
        print("  parts (wall / CPU): " + ", ".join(
            f"{part} {med([r['parts'].get(part, [0, 0])[0] for r in rows])} / "
            f"{med([r['parts'].get(part, [0, 0])[1] for r in rows])}" for part in parts
        ))  # fmt: skip
    print(
        f"median of the ratios saved / auto ({len(pairs)} pairs): "
        f"wall {med([s['seconds'] / a['seconds'] for a, s in pairs])}, "
        f"net {med([_net(s) / _net(a) for a, s in pairs])}, "
        f"CPU {med([s['cpu'] / a['cpu'] for a, s in pairs])}"
    )


def _rule(config: Path, value: str) -> None:
    (config / "items.yaml").write_text(
        f"items:\n  - {{folder: {ROOT}, recursive: true, metadata: {{bench: {value}}}}}\n"
    )


def _timed(url: str, args: tuple[str, ...]) -> dict[str, Any]:
    control(url, "POST", "/_sandbox/stats/reset")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    timings = Path(tempfile.mkdtemp(prefix="bench-timings-")) / "parts.json"
    env = {**os.environ, "RECONCILER_TIMINGS": str(timings)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests = control(url, "GET", "/_sandbox/stats")["total"]
    parts = json.loads(timings.read_text()) if timings.exists() else {}  # apply only
    timings.unlink(missing_ok=True)
    timings.parent.rmdir()
    return {"seconds": seconds, "cpu": cpu, "requests": requests, "parts": parts}


def _text(row: dict[str, Any]) -> str:
    parts = ", ".join(f"{name} {wall:.2f}/{cpu:.2f}" for name, (wall, cpu) in row["parts"].items())
    net = f", {_net(row):.1f} s net of the lock's idle wait" if row["parts"] else ""
    return f"{row['seconds']:.1f} s ({row['cpu']:.1f} s CPU, {row['requests']} requests{net})" + (
        f"\n    parts (wall/CPU s): {parts}" if parts else ""
    )


if __name__ == "__main__":
    main()
