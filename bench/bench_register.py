"""Registering 100,000 cloud objects from a manifest: reconciler's job runner vs the SDK.

Writes N small JPEG objects under an s3 integration's directory and a JSONL manifest naming
them (``{"url": …, "metadata": {"split": …}}`` a line), serves the sandbox on a loopback port
with latency injected before every request, then registers the manifest into a fresh folder:

* ``reconciler``: the manifest read by the config's manifest reader, then
  ``apply.registration.register_rows`` (jobs of ``--job-rows``, concurrent under the client's
  limit, journaled), once per job size in ``--job-rows``;
* ``sdk``: the official SDK's ``add_private_data_to_folder_start`` with the same objects as
  one JSON file in the documented upload format, then ``add_private_data_to_folder_get_result``.

Each run is a fresh interpreter (its peak RSS is the run's), requests are counted by the
sandbox (``/_sandbox/stats``), and every run must register every row exactly once.

    python bench/bench_register.py                  # --rows 100000 --latency-ms 20
    python bench/bench_register.py --job-rows 500,1000,2000,5000 --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from served import cli, control, serve

BENCH = Path(__file__).resolve().parent
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 32
    + b"\xff\xd9"
)
INTEGRATION = "bench-s3"
PREFIX = "s3://bench-bucket/objects/"


def main() -> None:
    args = _arguments()
    work = Path(args.dir or tempfile.mkdtemp(prefix="reconciler-bench-register-"))
    manifest, root = _prepare(work, args.rows)
    db, key = work / "sandbox.sqlite", work / "admin.key"
    for old in (db, key, *work.glob("*.journal")):
        old.unlink(missing_ok=True)
    cli(
        "sandbox",
        "init",
        "--db",
        str(db),
        "--admin-email",
        "bench@example.com",
        "--key-out",
        str(key),
    )
    cli("sandbox", "add-integration", "--db", str(db), "--title", INTEGRATION, "--provider", "s3",
        "--root", str(root))  # fmt: skip
    os.environ["RECONCILER_SANDBOX_UPLOAD_UNIT_MS"] = str(args.unit_ms)
    os.environ["RECONCILER_SANDBOX_UPLOAD_WORKERS"] = str(args.workers)
    results = []
    with serve(db, args.latency_ms) as url:
        runs = [("reconciler", int(n)) for n in args.job_rows.split(",")]
        if not args.skip_sdk:
            runs.append(("sdk", args.rows))
        for label, job_rows in runs:
            control(url, "POST", "/_sandbox/stats/reset")
            child = _child(label, url, key, manifest, job_rows, args)
            stats = control(url, "GET", "/_sandbox/stats")
            child["requests"] = stats["total"]
            results.append(child)
            print(json.dumps(child), flush=True)
    _report(results, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--unit-ms", type=float, default=0.5, help="sandbox time per unit")
    parser.add_argument("--workers", type=int, default=4, help="sandbox jobs processed at once")
    parser.add_argument("--job-rows", default="1000", help="reconciler job sizes, comma-separated")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-sdk", action="store_true")
    parser.add_argument("--dir", help="work directory (kept; objects reused)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def _prepare(work: Path, rows: int) -> tuple[Path, Path]:
    """The objects (written once, reused) and the manifest naming them."""
    root = work / "buckets"
    objects = root / "bench-bucket" / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    manifest = work / f"manifest-{rows}.jsonl"
    with manifest.open("w") as out:
        for n in range(rows):
            name = f"{n:07d}.jpg"
            path = objects / name
            if not path.exists():
                path.write_bytes(JPEG)
            split = "train" if n % 5 else "val"
            out.write(json.dumps({"url": PREFIX + name, "metadata": {"split": split}}) + "\n")
    return manifest, root


def _child(label: str, url: str, key: Path, manifest: Path, size: int, args: Any) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__)), "--child", label, "--url", url,
               "--key", str(key), "--manifest", str(manifest), "--size", str(size),
               "--concurrency", str(args.concurrency)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{label} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the measured runs (in a child interpreter) ------------------------------------------------


def child() -> None:
    args = _arguments()
    started = time.perf_counter()
    if args.child == "sdk":
        registered, folder_items = _sdk(args)
    else:
        registered, folder_items = asyncio.run(_ours(args))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    assert registered == folder_items, (registered, folder_items)
    label = args.child if args.child == "sdk" else f"reconciler (jobs of {args.size})"
    print(json.dumps({"run": label, "registered": registered, "seconds": round(seconds, 2),
                      "client_cpu_s": round(cpu, 2), "peak_rss_mb": round(rss_mb, 1)}))  # fmt: skip


async def _ours(args: argparse.Namespace) -> tuple[int, int]:
    from reconciler.apply import registration
    from reconciler.apply.context import RunContext, RunState
    from reconciler.apply.journal import Journal
    from reconciler.apply.recorder import Recorder
    from reconciler.config.registration import read_register_manifest
    from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file

    rows_store, problems = read_register_manifest(Path(args.manifest), "manifest.jsonl", None)
    assert not problems, problems[:3]
    rows = tuple(rows_store)
    registration.JOB_ROWS = args.size
    options = ClientOptions(
        domain=args.url, auth=key_auth_from_file(Path(args.key)), concurrency=args.concurrency
    )
    async with EncordClient(options) as client:
        folder = await client.folders.create(f"ours-{args.size}-{time.time_ns()}")
        (integration,) = await client.integrations.list_all(titles=[INTEGRATION])
        journal = Path(args.manifest).with_suffix(f".{folder.uuid}.journal")
        recorder = Recorder(Journal.open(journal))
        ctx = RunContext(client=client, state=RunState(), ownership_id="bench", resume=False,
                         recorder=recorder)  # fmt: skip
        work = registration.RegisterWork(
            address="register:/bench", folder=str(folder.uuid),
            integration=str(integration.integration_uuid), rows=rows, upsert_metadata=False,
        )  # fmt: skip
        outcome = await registration.register_rows(ctx, work)
        recorder.close()
        assert not outcome.failed and not outcome.cancelled, list(outcome.failed.items())[:3]
        listed = 0
        async for _ in client.items.list_direct(folder.uuid):
            listed += 1
    return len(outcome.registered), listed


def _sdk(args: argparse.Namespace) -> tuple[int, int]:
    from encord.user_client import EncordUserClient

    images = []
    with open(args.manifest) as manifest:
        for line in manifest:
            row = json.loads(line)
            images.append({"objectUrl": row["url"], "clientMetadata": row["metadata"]})
    spec = Path(args.manifest).with_suffix(".upload.json")
    spec.write_text(json.dumps({"images": images, "skip_duplicate_urls": True}))
    del images
    uc = EncordUserClient.create_with_ssh_private_key(Path(args.key).read_text(), domain=args.url)
    folder = uc.create_storage_folder(f"sdk-{time.time_ns()}")
    (integration,) = uc.get_cloud_integrations(filter_integration_titles=[INTEGRATION])
    job = folder.add_private_data_to_folder_start(integration.id, spec)
    result = folder.add_private_data_to_folder_get_result(job)
    assert result.units_error_count == 0, result.errors[:3]
    listed = sum(1 for _ in folder.list_items(page_size=1000))
    return result.units_done_count, listed


def _report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.rows} objects, {args.latency_ms:g} ms latency, sandbox {args.unit_ms:g} ms/unit "
          f"and {args.workers} jobs at once; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'run':<30} {'requests':>9} {'wall':>9} {'client CPU':>11} {'peak RSS':>9}")
    for r in results:
        print(f"{r['run']:<30} {r['requests']:>9} {r['seconds']:>8.1f}s "
              f"{r['client_cpu_s']:>10.1f}s {r['peak_rss_mb']:>7.0f}MB")  # fmt: skip


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(BENCH))
        child()
    else:
        main()
