"""Benchmark: ``reconciler apply plan.json`` against ``reconciler apply DIR --auto-approve``.

Both through the CLI (subprocesses, as people run them) on the same served sandbox, seeded
with N items in N/1000 folders under /bench, with LATENCY ms injected before every request.
Each run sets a new value with a metadata rule, so each really patches N items:

* ``auto-approve``: ``reconciler apply DIR --auto-approve`` (read, plan, apply, verify);
* ``saved``: ``reconciler plan DIR --out plan.json`` (timed apart), then
  ``reconciler apply plan.json --auto-approve`` (load, re-check, apply with each bundle
  re-read first, verify).

Requests are counted by the sandbox (``/_sandbox/stats``); CPU is the child's user+system.

    python bench/bench_apply_saved.py --items 100000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import math
import os
import resource
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
    parser.add_argument("--runs", type=int, default=1)
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
            for run in range(args.runs):
                _rule(config, f"auto-{run}")
                auto = _timed(url, ("apply", str(config), "--auto-approve", *target))
                _rule(config, f"saved-{run}")
                plan_file = work / f"plan-{run}.json"
                made = _timed(url, ("plan", str(config), "--out", str(plan_file), *target))
                saved = _timed(url, ("apply", str(plan_file), "--auto-approve", *target))
                load = os.getloadavg()
                print(
                    f"run {run + 1}: {args.items} items, {args.latency_ms:g} ms: "
                    f"apply --auto-approve {_text(auto)}; plan --out {_text(made)}; "
                    f"apply plan.json {_text(saved)}; ratio {saved['seconds'] / auto['seconds']:.2f}; "
                    f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
                )  # fmt: skip


def _rule(config: Path, value: str) -> None:
    (config / "items.yaml").write_text(
        f"items:\n  - {{folder: {ROOT}, recursive: true, metadata: {{bench: {value}}}}}\n"
    )


def _timed(url: str, args: tuple[str, ...]) -> dict[str, Any]:
    control(url, "POST", "/_sandbox/stats/reset")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests = control(url, "GET", "/_sandbox/stats")["total"]
    return {"seconds": seconds, "cpu": cpu, "requests": requests}


def _text(row: dict[str, Any]) -> str:
    return f"{row['seconds']:.1f} s ({row['cpu']:.1f} s CPU, {row['requests']} requests)"


if __name__ == "__main__":
    main()
