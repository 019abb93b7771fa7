"""Benchmark: apply item metadata and item moves with reconciler and with the official SDK.

For each size N (default 10,000 and 100,000) a sandbox is seeded with N items in N/1000
folders under /bench and served on a loopback port with LATENCY ms injected before every API
request. The same job is then done, side by side in one run, three ways:

* ``reconciler``: ``reconciler apply --auto-approve`` as a library call: read live, plan,
  apply (bundled, concurrent, journaled; the plan's own read is trusted for a minute, as for
  an auto-approved plan; ``--recheck`` re-reads each bundle first, as for a saved plan), then
  plan again over what was read back to verify;
* ``sdk Bundle``: the official SDK lists the items (page size 1000) and updates each inside
  ``with Bundle()`` (patch-bulk, 1000 per request);
* ``sdk per-item``: the SDK lists the items and calls ``item.update(client_metadata=...)``
  once per item. At 100,000 items this takes over half an hour at 20 ms, so it runs on a
  sample (``--per-item-sample``, default 2,000 items): the listing is measured in full, the
  per-item updates on the sample, and the rest is extrapolated from the measured rate.

Each run writes a new value, so every run really changes N items. Then 1,000 items are moved
(on the smallest size) from one folder into a new one: reconciler via a manifest with
``previously``, the SDK per item (``item.move_to_folder``) and in one call per source folder
(``folder.move_items_to_folder``).

Requests are counted by the sandbox (``/_sandbox/stats``), so every way is measured alike.
The minimum for a job is one bulk write per 1000 objects: ceil(N / 1000).

    python bench/bench_apply.py                          # 10,000 and 100,000 items, 20 ms
    python bench/bench_apply.py --sizes 10000 --per-item-sample 500
    python bench/bench_apply.py --sizes 100000 --latency-ms 20 200 --skip-per-item --skip-moves
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from served import cli, control, serve

from reconciler.apply import ApplyOptions, Event, VerifyStarted, apply_plan, journal_path
from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    DesiredFolder,
    DesiredState,
    Manifest,
    ManifestEntry,
    ManifestRows,
    MetadataRule,
    Ownership,
    Source,
    Target,
)
from reconciler.plan import DiffOptions, diff

ROOT = "/bench"
MOVES = 1000


def main() -> None:
    args = _arguments()
    results: dict[str, Any] = {"latency_ms": args.latency_ms, "jobs": [], "moves": None}
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        for n, size in enumerate(sorted(args.sizes)):
            workdir = Path(tmp) / f"n{size}"
            workdir.mkdir()
            key = _seeded(workdir, size)
            for m, latency in enumerate(args.latency_ms):
                print(f"  {latency:g} ms:")
                with serve(workdir / "bench.sqlite", latency) as url:
                    job = _metadata_jobs(url, key, workdir, size, args)
                    results["jobs"].append({"size": size, "latency_ms": latency, **job})
                    if n == 0 and m == 0 and not args.skip_moves:
                        results["moves"] = _move_jobs(url, key, workdir, args)
    _report(results, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[20.0],
        help="one or more latencies; each size is measured at each, side by side",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-item-sample", type=int, default=2000)
    parser.add_argument(
        "--per-item-full-up-to",
        type=int,
        default=10_000,
        help="run per-item updates in full up to this size, sample above it",
    )
    parser.add_argument("--skip-moves", action="store_true")
    parser.add_argument("--skip-per-item", action="store_true")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="re-read every bundle's objects before writing, as for a saved or confirmed plan",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def _seeded(workdir: Path, size: int) -> Path:
    db, key = workdir / "bench.sqlite", workdir / "admin.key"
    cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
    started = time.perf_counter()
    folders = max(1, math.ceil(size / 1000))
    cli("sandbox", "seed", "--db", str(db), "--under", ROOT,
         "--folders", str(folders), "--items", str(size))  # fmt: skip
    print(f"\nseeded {size} items in {folders} folders in {time.perf_counter() - started:.1f} s")
    return key


# --- reconciler ----------------------------------------------------------------------------


def _source(line: int) -> Source:
    return Source(file="bench.yaml", line=line)


def _desired(workdir: Path, **parts: Any) -> DesiredState:
    return DesiredState(
        root_dir=str(workdir),
        target=Target(),
        ownership=Ownership(id="bench"),
        source=_source(1),
        **parts,
    )


def _ours(
    url: str, key: Path, desired: DesiredState, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Plan, apply and verify, as ``reconciler apply --auto-approve`` does; seconds per part."""

    async def run() -> dict[str, Any]:
        options = ClientOptions(
            domain=url, auth=key_auth_from_file(key), concurrency=args.concurrency
        )
        async with EncordClient(options) as client:
            started = time.perf_counter()  # perf_counter is the monotonic clock here too
            cpu = [time.process_time()]  # this process's CPU at each mark: the parts' CPU
            live = await read_live(client, Scope.from_desired(desired))
            read = time.perf_counter()
            cpu.append(time.process_time())
            plan = diff(desired, live, options=DiffOptions())
            planned = time.perf_counter()
            cpu.append(time.process_time())
            marks: dict[str, float] = {}

            def emit(event: Event) -> None:
                if isinstance(event, VerifyStarted):
                    marks["verify"] = time.perf_counter()
                    marks["verify_cpu"] = time.process_time()

            result = await apply_plan(
                plan,
                client=client,
                options=ApplyOptions(
                    desired=desired,
                    live=live,
                    read_at=None if args.recheck else started,
                    journal=journal_path(workdir, plan.checksum),
                ),
                emit=emit,
            )
            done = time.perf_counter()
            cpu.extend((marks.get("verify_cpu", time.process_time()), time.process_time()))
        assert result.ok, (result.failures[:3], result.verification)
        verify = result.verification
        applied = marks.get("verify", done)
        return {
            "changes": len(plan.changes),
            "read_seconds": round(read - started, 2),
            "diff_seconds": round(planned - read, 2),
            "apply_seconds": round(applied - planned, 2),
            "verify_seconds": round(done - applied, 2),
            **{
                f"{part}_cpu": round(cpu[n + 1] - cpu[n], 2)
                for n, part in enumerate(("read", "diff", "apply", "verify"))
            },
            "verified": verify is not None and verify.converged,
            "verify_reread": verify.reread if verify else None,
        }

    return asyncio.run(run())


# --- the SDK -------------------------------------------------------------------------------


def _sdk(url: str, key: Path) -> Any:
    warnings.simplefilter("ignore")  # encord 0.1.211 warns about pydantic on import
    from encord.user_client import EncordUserClient

    return EncordUserClient.create_with_ssh_private_key(key.read_text(), domain=url)


def _sdk_items(client: Any, limit: int | None = None) -> list[Any]:
    """Every item under /bench (the SDK walks the folders, 1000 a page)."""
    name = ROOT.strip("/")
    root = next(
        f for f in client.list_storage_folders(search=name, page_size=1000) if f.name == name
    )
    items: list[Any] = []
    for folder in root.list_subfolders(page_size=1000):
        for item in folder.list_items(page_size=1000):
            items.append(item)
            if limit is not None and len(items) >= limit:
                return items
    return items


def _sdk_bundle(url: str, key: Path, value: str) -> dict[str, Any]:
    from encord.http.bundle import Bundle

    client = _sdk(url, key)
    items = _sdk_items(client)
    with Bundle() as bundle:
        for item in items:
            item.update(client_metadata={"bench": value}, bundle=bundle)
    return {"changes": len(items)}


def _sdk_per_item(url: str, key: Path, value: str, size: int, sample: int | None) -> dict[str, Any]:
    """Per-item updates; with ``sample`` only that many, timed apart for extrapolation."""
    client = _sdk(url, key)
    started = time.perf_counter()
    items = _sdk_items(client)
    listed = time.perf_counter()
    chosen = items if sample is None else items[:sample]
    for item in chosen:
        item.update(client_metadata={"bench": value})
    updated = time.perf_counter()
    return {
        "changes": len(chosen),
        "list_seconds": round(listed - started, 2),
        "update_seconds": round(updated - listed, 2),
        "per_item_ms": round((updated - listed) / max(1, len(chosen)) * 1000, 2),
    }


# --- jobs ----------------------------------------------------------------------------------


def _metadata_jobs(
    url: str, key: Path, workdir: Path, size: int, args: argparse.Namespace
) -> dict[str, Any]:
    rows = []
    desired = _desired(
        workdir,
        rules=(
            MetadataRule(
                folder=ROOT, recursive=True, metadata={"bench": "ours"}, source=_source(2)
            ),
        ),
    )
    rows.append(_measure("reconciler apply", url, lambda: _ours(url, key, desired, workdir, args)))
    rows.append(_measure("sdk Bundle", url, lambda: _sdk_bundle(url, key, "bundle")))
    if args.skip_per_item:
        return {"minimum": math.ceil(size / 1000), "rows": rows}
    sample = None if size <= args.per_item_full_up_to else args.per_item_sample
    row = _measure("sdk per-item", url, lambda: _sdk_per_item(url, key, "item", size, sample))
    if sample is not None:
        _extrapolate(row, size)
    rows.append(row)
    return {"minimum": math.ceil(size / 1000), "rows": rows}


def _extrapolate(row: dict[str, Any], size: int) -> None:
    """Measured: the full listing and ``changes`` updates. Extrapolated: the other updates."""
    measured_updates = row["changes"]
    listing_requests = row["requests"] - measured_updates
    row["measured"] = {
        "items_updated": measured_updates,
        "requests": row["requests"],
        "seconds": row["seconds"],
    }
    row["requests"] = listing_requests + size
    row["seconds"] = round(row["list_seconds"] + row["per_item_ms"] / 1000 * size, 1)
    row["changes"] = size
    row["extrapolated"] = True


def _move_jobs(url: str, key: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    client = _sdk(url, key)
    name = ROOT.strip("/")
    root = next(
        f for f in client.list_storage_folders(search=name, page_size=1000) if f.name == name
    )
    folders = sorted(root.list_subfolders(page_size=1000), key=lambda f: f.name)
    if len(folders) < 3:
        raise SystemExit(
            "the move benchmark needs at least 3 folders of 1000 items (--sizes >= 3000)"
        )
    ours_source, item_source, bulk_source = folders[:3]

    def paths(folder: Any) -> list[str]:
        return [f"{ROOT}/{folder.name}/{i.name}" for i in folder.list_items(page_size=1000)][:MOVES]

    moves = {f"{ROOT}/moved-ours/{p.rsplit('/', 1)[1]}": p for p in paths(ours_source)}
    manifest = Manifest(
        file="moves.jsonl",
        format="jsonl",
        entries=ManifestRows(
            {
                new: ManifestEntry(metadata={}, line=n + 1, previously=old)
                for n, (new, old) in enumerate(sorted(moves.items()))
            }
        ),
        source=_source(3),
    )
    desired = _desired(
        workdir,
        folders={f"{ROOT}/moved-ours": DesiredFolder(path=f"{ROOT}/moved-ours", source=_source(4))},
        manifests=(manifest,),
    )
    rows = [_measure("reconciler apply", url, lambda: _ours(url, key, desired, workdir, args))]

    def per_item() -> dict[str, Any]:
        target = root.create_subfolder("moved-sdk-item")
        items = list(item_source.list_items(page_size=1000))[:MOVES]
        for item in items:
            item.move_to_folder(target)
        return {"changes": len(items)}

    def bulk() -> dict[str, Any]:
        target = root.create_subfolder("moved-sdk-bulk")
        items = list(bulk_source.list_items(page_size=1000))[:MOVES]
        bulk_source.move_items_to_folder(target, items)
        return {"changes": len(items)}

    rows.append(_measure("sdk per-item", url, per_item))
    rows.append(_measure("sdk move_items_to_folder", url, bulk))
    return {"minimum": 2, "rows": rows}  # one create, one move call


# --- measuring and reporting ---------------------------------------------------------------


def _measure(name: str, url: str, job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    control(url, "POST", "/_sandbox/stats/reset")
    started, cpu = time.perf_counter(), time.process_time()
    row = job()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    stats = control(url, "GET", "/_sandbox/stats")
    row.update(way=name, requests=stats["total"], seconds=round(seconds, 2), by_route=stats)
    row["client_cpu"] = round(cpu, 2)  # this process (both clients run in it); not the server
    parts = ", ".join(
        f"{k.removesuffix('_seconds')} {v} s"
        + (f" ({row[cpu_key]} s CPU)" if (cpu_key := k.replace("_seconds", "_cpu")) in row else "")
        for k, v in row.items()
        if k.endswith("_seconds")
    )
    print(f"  {name}: {row['changes']} changes, {row['requests']} requests, {seconds:.1f} s, "
          f"client CPU {cpu:.1f} s" + (f" ({parts})" if parts else ""))  # fmt: skip
    return row


def _report(results: dict[str, Any], args: argparse.Namespace) -> None:
    latencies = ", ".join(f"{x:g}" for x in args.latency_ms)
    print(
        f"\n{latencies} ms latency injected before every request; concurrency {args.concurrency}\n"
    )
    print("| job | latency | way | requests | vs minimum | wall time | client CPU | vs per-item "
          "| vs sdk Bundle |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    jobs = [
        (f"metadata on {job['size']:,} items", job["latency_ms"], job) for job in results["jobs"]
    ]
    if results["moves"]:
        jobs.append((f"move {MOVES:,} items", args.latency_ms[0], results["moves"]))
    for name, latency, data in jobs:
        rows = data["rows"]
        # the per-item columns stay blank when that way was skipped (--skip-per-item)
        per_item = next((r for r in rows if r["way"] == "sdk per-item"), None)
        bundle = next((r for r in rows if r["way"] == "sdk Bundle"), None)
        for row in rows:
            star = " (extrapolated)" if row.get("extrapolated") else ""
            fewer = ratio = ""
            if per_item is not None and row is not per_item and row["seconds"]:
                fewer = f" ({per_item['requests'] / row['requests']:.0f}× fewer)"
                ratio = f"{per_item['seconds'] / row['seconds']:.1f}×"
            versus = (
                f"{bundle['seconds'] / row['seconds']:.2f}×" if bundle and row["seconds"] else ""
            )
            print(f"| {name} | {latency:g} ms | {row['way']}{star} | {row['requests']:,}{fewer} "
                  f"| {row['requests'] / data['minimum']:.1f}× | {row['seconds']:.1f} s "
                  f"| {row.get('client_cpu', 0):.1f} s | {ratio} "
                  f"| {versus} |")  # fmt: skip
    print(f"\nload average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
