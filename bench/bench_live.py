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

    python bench/bench_live.py                     # 100,000 items, 500 folders, 20 ms
    python bench/bench_live.py --items 10000 --folders 50 --skip-sdk-per-folder
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from served import cli, control, serve

from reconciler.encord import ClientOptions, EncordClient, key_auth_from_file
from reconciler.live import Scope, read_live

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
        with serve(db, args.latency_ms) as url:
            minimum = (
                math.ceil(args.items / 1000) + math.ceil(args.folders / 1000) + args.folders + 1
            )
            rows = [_measure("reconciler read_live", url, lambda: _ours(url, key, args))]
            if not args.skip_sdk_find_items:
                rows.append(_measure("sdk find_items", url, lambda: _sdk_find_items(url, key)))
            if not args.skip_sdk_per_folder:
                rows.append(_measure("sdk per folder", url, lambda: _sdk_per_folder(url, key)))
        _report(rows, minimum, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-sdk-per-folder", action="store_true")
    parser.add_argument("--skip-sdk-find-items", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


# --- the three readers -------------------------------------------------------------------------


def _ours(url: str, key: Path, args: argparse.Namespace) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        options = ClientOptions(
            domain=url, auth=key_auth_from_file(key), concurrency=args.concurrency
        )
        async with EncordClient(options) as client:
            live = await read_live(client, Scope(roots=(ROOT,)))
        assert live.complete and not live.missing_roots
        return len(live.folders), len(live.items)

    return asyncio.run(read())


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


def _measure(name: str, url: str, read: Callable[[], tuple[int, int]]) -> dict[str, Any]:
    control(url, "POST", "/_sandbox/stats/reset")
    started = time.perf_counter()
    folders, items = read()
    seconds = time.perf_counter() - started
    requests = control(url, "GET", "/_sandbox/stats")["total"]
    print(f"{name}: {folders} folders, {items} items, {requests} requests, {seconds:.1f} s")
    return {"reader": name, "folders": folders, "items": items, "requests": requests,
            "seconds": round(seconds, 2)}  # fmt: skip


def _report(rows: list[dict[str, Any]], minimum: int, args: argparse.Namespace) -> None:
    print()
    print(f"{args.items} items, {args.folders} folders, {args.latency_ms:g} ms latency; "
          f"minimum {minimum} requests")  # fmt: skip
    print("| reader | requests | vs minimum | wall time |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['reader']} | {row['requests']} | {row['requests'] / minimum:.2f}× "
              f"| {row['seconds']:.1f} s |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"minimum": minimum, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
