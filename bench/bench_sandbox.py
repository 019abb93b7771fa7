"""Benchmark: the sandbox itself. Seed time, and how fast it serves the big calls.

Seeds ITEMS items in FOLDERS folders under /bench with ``reconciler sandbox seed`` (timed), then
times each request kind several ways: in-process through ``httpx.ASGITransport`` (the server's
own cost: routing, auth, SQL, JSON) and over a loopback socket against ``reconciler sandbox
serve`` (what a client sees). Every request is signed as the SDK signs it.

    python bench/bench_sandbox.py                       # 100,000 items in 500 folders
    python bench/bench_sandbox.py --items 10000 --folders 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.sandbox.app import close_app, create_app
from reconciler.wire.base import dumps
from reconciler.wire.query import Query, encode_query
from reconciler.wire.signing import load_private_key, sign_v2

ROOT = "/bench"


class Api:
    """Signed v2 calls through one httpx client (in-process or over a socket)."""

    def __init__(self, client: httpx.AsyncClient, key_text: str) -> None:
        self.client = client
        self.key = load_private_key(key_text)

    async def call(self, method: str, path: str, query: Query = (), body: Any = None) -> Any:
        encoded = encode_query(query)
        target = f"/v2/public{path}" + (f"?{encoded}" if encoded else "")
        raw = b"" if body is None else dumps(body)
        headers = sign_v2(self.key, method, target, raw)
        if raw:
            headers["Content-Type"] = "application/json"
        response = await self.client.request(method, target, content=raw, headers=headers)
        response.raise_for_status()
        return response.json() if response.status_code == 200 else None


async def timed(run: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        seconds.append(time.perf_counter() - started)
    return seconds


def report(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"  {name:<52} n={len(ms):<4} median {statistics.median(ms):7.1f} ms"
        f"   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"
    )


async def walk_recursive(api: Api, folder: str, page_size: int) -> list[float]:
    """Every page of the recursive item listing of ``folder``; seconds per page."""
    seconds, token = [], None
    query: list[tuple[str, Any]] = [("isRecursive", True), ("order", "name"), ("desc", False)]
    while True:
        page_query = [*query, *([("pageToken", token)] if token else []), ("pageSize", page_size)]
        started = time.perf_counter()
        page = await api.call("GET", f"/storage/folders/{folder}/items", page_query)
        seconds.append(time.perf_counter() - started)
        token = page["nextPageToken"]
        if token is None:
            return seconds


async def scenarios(api: Api, root: str, items: int) -> None:
    sub = (await api.call("GET", f"/storage/folders/{root}/folders", [("pageSize", 1)]))["results"][
        0
    ]["uuid"]
    pages = await walk_recursive(api, root, 1000)
    report(f"recursive items, all {len(pages)} pages of 1000 ({items} items)", pages)
    report("recursive items of one small folder (1 page)", await timed(
        lambda: api.call("GET", f"/storage/folders/{sub}/items", [("isRecursive", True), ("pageSize", 1000)]), 20))  # fmt: skip
    report("direct items of one folder (1 page)", await timed(
        lambda: api.call("GET", f"/storage/folders/{sub}/items", [("pageSize", 1000)]), 20))  # fmt: skip
    report("recursive folders, page of 1000", await timed(
        lambda: api.call("GET", f"/storage/folders/{root}/folders", [("isRecursive", True), ("pageSize", 1000)]), 10))  # fmt: skip
    report("search items across the tree ('item-00042')", await timed(
        lambda: api.call("GET", "/storage/search/items", [("search", "item-00042"), ("pageSize", 1000)]), 5))  # fmt: skip
    first = (
        await api.call(
            "GET", f"/storage/folders/{root}/items", [("isRecursive", True), ("pageSize", 1000)]
        )
    )["results"]
    uuids = [item["uuid"] for item in first]
    report("get-bulk of 1000 items", await timed(
        lambda: api.call("POST", "/storage/items/get-bulk", body={"itemUuids": uuids, "signUrls": False}), 10))  # fmt: skip
    counter = iter(range(1_000_000))
    report("patch-bulk of 1000 items (metadata)", await timed(
        lambda: api.call("PATCH", "/storage/items/patch-bulk", body={
            "itemPatches": {u: {"clientMetadata": {"run": next(counter)}} for u in uuids}}), 10))  # fmt: skip


def seed(db: Path, key: Path, folders: int, items: int) -> None:
    cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
    started = time.perf_counter()
    out = cli(
        "sandbox",
        "seed",
        "--db",
        str(db),
        "--under",
        ROOT,
        "--folders",
        str(folders),
        "--items",
        str(items),
    )
    print(
        f"seed: {out.strip()}  (whole command incl. start-up {time.perf_counter() - started:.2f} s)"
    )


def cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return result.stdout


async def in_process(db: Path, key_text: str, items: int) -> None:
    app = create_app(db)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.local"
        ) as client:
            api = Api(client, key_text)
            root = await root_uuid(api)
            print("in-process (httpx.ASGITransport):")
            await scenarios(api, root, items)
    finally:
        close_app(app)


async def over_socket(db: Path, key_text: str, items: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit("listening on ", 1)[1].strip()
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            api = Api(client, key_text)
            print(f"over a loopback socket ({url}):")
            await scenarios(api, await root_uuid(api), items)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout:
            process.stdout.close()


async def root_uuid(api: Api) -> str:
    roots = await api.call("GET", "/storage/folders", [("search", ROOT.strip("/"))])
    return str(roots["results"][0]["uuid"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        db, key = Path(tmp) / "bench.sqlite", Path(tmp) / "admin.key"
        seed(db, key, args.folders, args.items)
        asyncio.run(in_process(db, key.read_text(), args.items))
        asyncio.run(over_socket(db, key.read_text(), args.items))


if __name__ == "__main__":
    main()
