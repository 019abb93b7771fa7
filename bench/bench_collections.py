"""Benchmark: Index collection membership against dataset links, at 100,000 items.

A sandbox is seeded with N items (default 100,000) in N/1000 folders under /bench and served
on a loopback port with LATENCY ms injected before every API request. Four jobs run one
after another, each as ``reconciler apply --auto-approve`` does it (read live, plan, apply
with the plan's own read trusted, then a fresh plan to verify):

* ``dataset links``: a dataset whose selector selects every item (N links);
* ``collection members``: a collection in /bench whose selector selects every item (N adds);
* ``dataset unlinks`` / ``collection removals``: the selector narrowed so that 10% of the
  items leave (N/10 unlinks or removals, ``unlink: owned`` / ``remove: owned``).

Requests are counted by the sandbox (``/_sandbox/stats``), per part (plan, apply, verify) and
per route, so both kinds are measured alike. The write minimum is one bulk call per 1000
relations, ceil(N / 1000), for both; reading dataset links is one v1 call per dataset (all
rows at once, about 40 MB at 100,000 rows: over the client's default 32 MiB answer cap, so
the bench raises it, ``--max-response-mib``) where a collection's members are paged, 1000 a
page.

    python bench/bench_collections.py                    # 100,000 items, 20 ms
    python bench/bench_collections.py --items 10000 --latency-ms 0
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

from served import cli, control, serve

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    DesiredCollection,
    DesiredDataset,
    DesiredState,
    ItemMatch,
    ItemSelector,
    Ownership,
    Source,
    Target,
)
from reconciler.plan import DiffOptions, diff

ROOT = "/bench"
SRC = Source(file="bench.yaml", line=1)


def main() -> None:
    args = _arguments()
    results: dict[str, Any] = {"items": args.items, "latency_ms": args.latency_ms, "jobs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-collections-") as tmp:
        workdir = Path(tmp)
        key = _seeded(workdir, args.items)
        with serve(workdir / "bench.sqlite", args.latency_ms) as url:
            jobs = results["jobs"]
            narrowed = _narrow(args.items)
            # each job declares both, so neither is pruned while the other is measured
            steps = [
                ("dataset links", None, None),
                ("collection members", None, None),
                ("dataset unlinks", narrowed, None),
                ("collection removals", narrowed, narrowed),
            ]
            for n, (name, links, members) in enumerate(steps):
                parts = _dataset(links)
                if n:
                    parts.update(_collection(members))
                jobs[name] = _job(url, key, workdir, parts, args)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    _report(results, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--max-response-mib",
        type=int,
        default=256,
        help="the client's response cap; the default 32 MiB refuses a 100,000-row dataset read",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def _seeded(workdir: Path, size: int) -> Path:
    db, key = workdir / "bench.sqlite", workdir / "admin.key"
    cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
    folders = max(1, math.ceil(size / 1000))
    cli("sandbox", "seed", "--db", str(db), "--under", ROOT,
        "--folders", str(folders), "--items", str(size))  # fmt: skip
    return key


def _narrow(size: int) -> str:
    """A name glob that leaves out the last tenth of the seeded items (``item-NNNNNNN``,
    numbered from 0): for 100,000, ``item-00[0-8]*`` keeps 0 to 89,999."""
    digits = len(str(size)) - 1
    if size != 10**digits or not 1 <= digits <= 7:
        raise SystemExit("--items must be a power of ten (10 to 10,000,000)")
    return "item-" + "0" * (7 - digits) + "[0-8]*"


def _selector(name: str | None) -> ItemSelector:
    return ItemSelector(folder=ROOT, recursive=True, match=ItemMatch(name=name), source=SRC)


def _dataset(name: str | None) -> dict[str, Any]:
    return {
        "datasets": {"links": DesiredDataset(title="links", items=(_selector(name),), source=SRC)}
    }


def _collection(name: str | None) -> dict[str, Any]:
    found = DesiredCollection(name="members", folder=ROOT, items=(_selector(name),), source=SRC)
    return {"collections": {"members": found}}


def _job(
    url: str, key: Path, workdir: Path, parts: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    desired = DesiredState(
        root_dir=str(workdir), target=Target(), ownership=Ownership(id="bench"), source=SRC, **parts
    )

    async def run() -> dict[str, Any]:
        options = ClientOptions(
            domain=url,
            auth=key_auth_from_file(key),
            concurrency=args.concurrency,
            max_response_bytes=args.max_response_mib * 2**20,
        )
        async with EncordClient(options) as client:
            out: dict[str, Any] = {}
            control(url, "POST", "/_sandbox/stats/reset")
            started = time.perf_counter()
            live = await read_live(client, Scope.from_desired(desired))
            plan = diff(desired, live, options=DiffOptions(force=True))
            out["plan"] = _part(url, started, changes=len(plan.changes))
            started = time.perf_counter()
            result = await apply_plan(
                plan,
                client=client,
                options=ApplyOptions(desired=desired, live=live, read_at=started, verify=False),
            )
            assert not result.failures, result.failures[:3]
            out["apply"] = _part(url, started, applied=result.applied)
            started = time.perf_counter()
            again = diff(desired, await read_live(client, Scope.from_desired(desired)))
            out["verify"] = _part(url, started, changes=len(again.changes))
            return out

    return asyncio.run(run())


def _part(url: str, started: float, **extra: Any) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    stats = control(url, "GET", "/_sandbox/stats")
    control(url, "POST", "/_sandbox/stats/reset")
    routes = {k: v for k, v in stats.items() if k != "total" and v}
    return {"requests": stats["total"], "seconds": round(seconds, 2), "routes": routes, **extra}


def _report(results: dict[str, Any], args: argparse.Namespace) -> None:
    items, bundles = results["items"], math.ceil(results["items"] / 1000)
    print(f"\n{items:,} items, {results['latency_ms']} ms latency, load average "
          f"{results['load_average']}; write minimum ceil(N/1000) = {bundles}")  # fmt: skip
    print(f"{'job':<22}{'changes':>9}{'plan req':>10}{'plan s':>8}"
          f"{'apply req':>11}{'apply s':>9}{'verify req':>12}{'verify s':>10}{'left':>6}")  # fmt: skip
    for name, job in results["jobs"].items():
        plan, apply, verify = job["plan"], job["apply"], job["verify"]
        print(f"{name:<22}{plan['changes']:>9,}{plan['requests']:>10}{plan['seconds']:>8}"
              f"{apply['requests']:>11}{apply['seconds']:>9}{verify['requests']:>12}"
              f"{verify['seconds']:>10}{verify['changes']:>6}")  # fmt: skip
    for name, job in results["jobs"].items():
        print(f"\n{name}: apply routes {job['apply']['routes']}")
        print(f"{name}: plan routes {job['plan']['routes']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
