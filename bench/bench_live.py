"""Benchmark: read the live state of a seeded sandbox with our reader and with the official SDK.

Seeds a sandbox with ITEMS items in FOLDERS folders under /bench, serves it on a loopback port
with LATENCY ms injected before every API request, then reads the same tree three ways, side
by side in one run:

* ``reconciler``: ``read_live`` (recursive listings at 1000 a page, one group-role read per
  folder, all concurrent under one limit);
* ``sdk per folder``: the official SDK walking the tree, ``list_subfolders`` / ``list_items``
  (page size 1000) and ``list_groups`` on every folder;
* ``sdk find_items``: the SDK's recursive calls where it has them (``find_subfolders``,
  ``find_items`` with every item type, page size 1000), plus ``list_groups`` per folder.

Requests are counted by the sandbox (``/_sandbox/stats``), so all three are measured alike.
The minimum is ceil(items/1000) + ceil(folders/1000) + one role read per folder.

With ``--before DIR`` (a directory holding an older ``reconciler`` package, e.g. from
``git archive <commit> reconciler | tar -x -C DIR``) the same read runs once more with that
code, in a subprocess against the same sandbox, so before and after sit side by side in one
run. ``--folders 0`` puts every item in ``/bench`` itself (one flat folder).

The lower bound printed is the one issue 19 names: (requests the read must make) x latency /
concurrency, plus the longest chain of requests no reader can avoid: resolving the root,
the folder listing (ceil(folders / 1000) pages: the tree must be known before it can be
split), and the largest folder's own items read from both ends (ceil(pages / 2): a folder's
own items can be listed by no finer query). The requests the read must make are the minimum
above plus the 8 every read makes (resolve the root; groups, integrations, users, schema;
who the caller is, 3: `user/current` since issue 13's require-self fix).

    python bench/bench_live.py                     # 100,000 items, 500 folders, 20 ms
    python bench/bench_live.py --items 10000 --folders 50 --skip-sdk-per-folder
    python bench/bench_live.py --latency-ms 200 --skip-sdk-per-folder --skip-sdk-find-items \
        --before /tmp/before            # read_live now and before, side by side
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from served import cli, control, cpu_seconds, start, stop

ROOT = "/bench"


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        db, key = Path(tmp) / "bench.sqlite", Path(tmp) / "admin.key"
        cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
        started = time.perf_counter()
        cli("sandbox", "seed", "--db", str(db), "--under", ROOT,
             "--folders", str(args.folders), "--items", str(args.items))  # fmt: skip
        print(f"seeded {args.items} items in {args.folders} folders "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        server, url = start(db, args.latency_ms)
        try:
            minimum = (
                math.ceil(args.items / 1000) + math.ceil(args.folders / 1000) + args.folders + 1
            )
            rows = []
            pid = server.pid
            if args.before:
                rows.append(_measure("read_live before", url, pid, lambda: _before(url, key, args)))
            rows.append(_measure("reconciler read_live", url, pid, lambda: _ours(url, key, args)))
            if not args.skip_sdk_find_items:
                rows.append(_measure("sdk find_items", url, pid, lambda: _sdk_find_items(url, key)))
            if not args.skip_sdk_per_folder:
                rows.append(_measure("sdk per folder", url, pid, lambda: _sdk_per_folder(url, key)))
        finally:
            stop(server)
        _report(rows, minimum, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-sdk-per-folder", action="store_true")
    parser.add_argument("--skip-sdk-find-items", action="store_true")
    parser.add_argument("--before", type=Path, help="a directory with an older reconciler")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


# --- the three readers -------------------------------------------------------------------------


_READ = """
import asyncio, os, resource, sys, time
from pathlib import Path
from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live

async def read():
    options = ClientOptions(domain=sys.argv[1], auth=key_auth_from_file(Path(sys.argv[2])),
                            concurrency=int(sys.argv[3]))
    async with EncordClient(options) as client:
        started, used = time.perf_counter(), time.process_time()
        live = await read_live(client, Scope(roots=(sys.argv[4],)))
        seconds, used = time.perf_counter() - started, time.process_time() - used
    assert live.complete and not live.missing_roots
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(len(live.folders), len(live.items), seconds, cpu.ru_utime + cpu.ru_stime, used)

asyncio.run(read())
"""


Timed = tuple[int, int, float, float, float]


def _ours(url: str, key: Path, args: argparse.Namespace) -> Timed:
    return _read_in(None, url, key, args)


def _before(url: str, key: Path, args: argparse.Namespace) -> Timed:
    return _read_in(args.before, url, key, args)


def _read_in(code: Path | None, url: str, key: Path, args: argparse.Namespace) -> Timed:
    """read_live in a fresh interpreter (with the reconciler in ``code`` when given): its
    folders, items, wall seconds of the read alone, CPU seconds of the process (imports
    included) and of the read alone."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    argv = [sys.executable, "-c", _READ, url, str(key), str(args.concurrency), ROOT]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env, cwd=code)
    folders, items, seconds, cpu, used = out.stdout.split()
    return int(folders), int(items), float(seconds), float(cpu), float(used)


def _sdk(url: str, key: Path) -> Any:
    warnings.simplefilter("ignore")  # encord 0.1.211 warns about pydantic on import
    from encord.user_client import EncordUserClient

    return EncordUserClient.create_with_ssh_private_key(key.read_text(), domain=url)


def _sdk_root(client: Any) -> Any:
    name = ROOT.strip("/")
    return next(
        f for f in client.list_storage_folders(search=name, page_size=1000) if f.name == name
    )


def _sdk_per_folder(url: str, key: Path) -> tuple[int, int]:
    client = _sdk(url, key)
    stack, folders, items = [_sdk_root(client)], 0, 0
    while stack:
        folder = stack.pop()
        folders += 1
        list(folder.list_groups())
        items += sum(1 for _ in folder.list_items(page_size=1000))
        stack.extend(folder.list_subfolders(page_size=1000))
    return folders, items


def _sdk_find_items(url: str, key: Path) -> tuple[int, int]:
    from encord.orm.storage import StorageItemType

    client = _sdk(url, key)
    root = _sdk_root(client)
    folders = [root, *root.find_subfolders(page_size=1000)]
    for folder in folders:
        list(folder.list_groups())
    items = sum(1 for _ in root.find_items(item_types=list(StorageItemType), page_size=1000))
    return len(folders), items


# --- measuring -----------------------------------------------------------------------------


def _measure(
    name: str, url: str, server: int, read: Callable[[], tuple[Any, ...]]
) -> dict[str, Any]:
    """Run one reader; readers that time themselves (in a subprocess) return their own wall
    and CPU seconds (the process's, and the read's alone), the others are timed here (wall
    only). The sandbox's CPU (process ``server``) is measured around the reader."""
    control(url, "POST", "/_sandbox/stats/reset")
    served = cpu_seconds(server)
    started = time.perf_counter()
    folders, items, *timed = read()
    seconds, cpu, used = timed if timed else (time.perf_counter() - started, None, None)
    after = cpu_seconds(server)
    sandbox = after - served if after is not None and served is not None else None
    requests = control(url, "GET", "/_sandbox/stats")["total"]
    load = os.getloadavg()[0]
    print(f"{name}: {folders} folders, {items} items, {requests} requests, {seconds:.1f} s"
          + (f", {cpu:.1f} s CPU ({used:.1f} s in the read)" if cpu is not None else "")
          + (f", sandbox {sandbox:.1f} s CPU" if sandbox is not None else "")
          + f", load {load:.1f}")  # fmt: skip
    return {"reader": name, "folders": folders, "items": items, "requests": requests,
            "seconds": round(seconds, 2), "cpu": cpu, "read_cpu": used,
            "sandbox_cpu": sandbox, "load": round(load, 2)}  # fmt: skip


FIXED_READS = 8  # module doc: what every read_live makes besides its listings


def _ratio(seconds: float, bound: float) -> str:
    return f"{seconds / bound:.2f}×" if bound > 0 else "–"  # no latency: no bound


def lower_bound(args: argparse.Namespace) -> tuple[int, float]:
    """Requests read_live must make, and issue 19's lower bound in seconds (module doc)."""
    must = math.ceil(args.items / 1000) + math.ceil(args.folders / 1000) + args.folders + 1 + FIXED_READS
    own = args.items / max(args.folders, 1)  # the largest folder's own items (round-robin)
    chain = 1 + math.ceil(args.folders / 1000) + math.ceil(math.ceil(own / 1000) / 2)
    return must, (must / args.concurrency + chain) * args.latency_ms / 1000


def _report(rows: list[dict[str, Any]], minimum: int, args: argparse.Namespace) -> None:
    must, bound = lower_bound(args)
    print()
    print(f"{args.items} items, {args.folders} folders, {args.latency_ms:g} ms latency; "
          f"minimum {minimum} requests (read_live must make {must}); "
          f"lower bound {bound:.1f} s")  # fmt: skip
    print("| reader | requests | vs minimum (read_live: vs must) | wall time | vs bound "
          "| CPU (in the read) | sandbox CPU | load |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        cpu = (f"{row['cpu']:.1f} s ({row['read_cpu']:.1f} s)" if row["cpu"] is not None
               else "–")  # fmt: skip
        box = f"{row['sandbox_cpu']:.1f} s" if row["sandbox_cpu"] is not None else "–"
        least = must if "read_live" in row["reader"] else minimum  # ours make FIXED_READS more
        print(f"| {row['reader']} | {row['requests']} | {row['requests'] / least:.2f}× "
              f"| {row['seconds']:.1f} s | {_ratio(row['seconds'], bound)} | {cpu} | {box} "
              f"| {row['load']:.1f} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"minimum": minimum, "bound": bound, "rows": rows}))


if __name__ == "__main__":
    main()
