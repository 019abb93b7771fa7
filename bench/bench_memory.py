"""Memory and CPU of reading and planning millions of items (issue 19, goal 2).

    python bench/bench_memory.py [--items 100000,1000000,3000000] [--old]
    python bench/bench_memory.py --trace 100000 [--old]   # bytes per item by stage
    python bench/bench_memory.py --items 1000000 --flat   # one folder, read from both ends

Each size runs in a fresh process (peak RSS is per process). Item pages are made in the
real wire shape (every key of ``StorageItem``, 1,000 a page, ``clientMetadata`` as JSON text,
a URL and a ``lastEditedAt`` per item) and fed to the real code path after the HTTP layer:
the page bytes read into briefs as the client reads a listing's pages (``page_briefs``), and
``Placing``/``ItemRecords`` making the live items, folder paths known (as once the folder
listing is in), with the cycle collector paused as ``read_live`` pauses it. No server, no sockets: 10 million items cannot be seeded into the
sandbox and served in useful time, and the HTTP layer holds one page at a time. Making the
page bytes is not counted in the read's CPU (it is printed apart).

The live state then holds ``--folders`` folders under ``/bench`` and the items; the config has
the two metadata rules of ``bench_plan.py`` (one with ``owned_keys``) and a dataset selecting
the ``split: train`` items of the first ten folders; a share ``--changed`` of the items
differs from the rules (a plan of 1,000,000 changes at 10,000,000 items). ``--unique-metadata``
adds a per-item key to every item's metadata (no two texts alike: nothing to share).

``--flat`` puts every item in one folder and reads it as ``read_live`` reads a flat folder:
ascending and descending by name at once until the ends meet (``paging.both_ends``, which
gives each item once), each end's pages made and read into briefs as they are asked for; the
dataset then selects the ``split: train`` items among the first 10,000 names (as many links as
the ten folders give).

``--old`` reads as before this work: each page validated into 31-field models, all of them
held to the end of the listing, then converted one by one (each its own metadata dict).

Printed per size: RSS after the read, peak RSS during it and after ``diff``, the CPU of
each, and bytes per item (RSS above the interpreter with everything imported, divided by the items).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncGenerator
from typing import Any

from reconciler.collector import collector_paused
from reconciler.encord.dto import Item, ItemBrief, page_briefs
from reconciler.encord.paging import ReadAhead, both_ends, parser
from reconciler.encord.responses import RawJSON
from reconciler.live.records import ItemRecords, Placing
from reconciler.model.desired import (
    OWNER_KEY,
    DesiredDataset,
    DesiredFolder,
    DesiredState,
    ItemMatch,
    ItemSelector,
    MetadataRule,
    Ownership,
    Policy,
    Source,
    Target,
)
from reconciler.model.live import LiveDataset, LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, diff
from reconciler.wire.base import Page

PAGE = 1000
ROUTE = "storage/folders/{uuid}/items"
_NULLS = [
    "signedUrl",
    "fileSize",
    "mimeType",
    "duration",
    "fps",
    "height",
    "width",
    "dicomInstanceUid",
    "dicomStudyUid",
    "dicomSeriesUid",
    "frameCount",
    "audioSampleRate",
    "audioBitDepth",
    "audioCodec",
    "audioNumChannels",
]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def folder_uuid(f: int) -> str:
    return f"f0000000-0000-4000-8000-{f:012x}"


def _metadata(n: int, every: int, unique: bool) -> dict[str, Any]:
    split = "train" if n % 10 < 8 else "val"
    metadata: dict[str, Any] = {"source": "lab", "qa.status": "done", "split": split}
    if every and n % every == 3:  # differs from the rules
        metadata = {"source": "scraper", "qa.status": "todo", "qa.stale": 1, "split": split}
    if unique:
        metadata["capture"] = f"cap-{n:09d}"
    return metadata


def page_bytes(numbers: range, folders: int, every: int, unique: bool) -> bytes:
    """Items ``numbers`` (in that order) as one listing page, every key present."""
    rows = []
    for n in numbers:
        f = n % folders
        rows.append(
            {
                "uuid": f"{n:08x}-1111-4000-8000-{f:012x}",
                "parent": folder_uuid(f),
                "itemType": "image",
                "name": f"{n:08d}.jpg",
                "description": "",
                "clientMetadata": json.dumps(_metadata(n, every, unique)),
                "owner": "someone@example.com",
                "createdAt": "2025-06-01T08:00:00.000000+00:00",
                "lastEditedAt": f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:"
                f"{n // 60 % 60:02d}.{n % 999983:06d}+00:00",
                "isTombstone": False,
                "isPlaceholder": False,
                "backedDataUnitsCount": 1,
                "storageLocation": "s3",
                "integrationHash": "a0000000-0000-4000-8000-000000000001",
                "url": f"s3://bench-bucket/raw/f{f:05d}/{n:08d}.jpg",
                **dict.fromkeys(_NULLS),
            }
        )
    return json.dumps({"results": rows, "nextPageToken": "t"}).encode()


def read_new(
    items: int, folders: int, every: int, unique: bool
) -> tuple[dict[str, LiveItem], float, float]:
    live: dict[str, LiveItem] = {}
    placing = Placing(live, ItemRecords())
    placing.place({folder_uuid(f): f"/bench/f{f:05d}" for f in range(folders)})
    read_cpu = made_cpu = 0.0
    with collector_paused():  # as ``read_live`` reads
        for first in range(0, items, PAGE):
            cpu = time.process_time()
            content = page_bytes(range(first, min(items, first + PAGE)), folders, every, unique)
            made_cpu += time.process_time() - cpu
            cpu = time.process_time()
            read = page_briefs(content)  # as the client reads a listing's page
            assert read is not None
            placing.add(read[0])
            read_cpu += time.process_time() - cpu
    return live, read_cpu, made_cpu


def read_flat(
    items: int, folders: int, every: int, unique: bool
) -> tuple[dict[str, LiveItem], float, float]:
    """One folder read from both ends at once, as ``read_live`` reads a flat folder."""
    assert folders == 1
    live: dict[str, LiveItem] = {}
    placing = Placing(live, ItemRecords())
    placing.place({folder_uuid(0): "/bench/f00000"})
    made = [0.0]  # CPU making page bytes, inside the read's: taken out

    async def end(desc: bool) -> AsyncGenerator[list[ItemBrief]]:
        for first in range(0, items, PAGE):
            cpu = time.process_time()
            last = min(items, first + PAGE)
            numbers = range(items - 1 - first, items - 1 - last, -1) if desc else range(first, last)
            content = page_bytes(numbers, 1, every, unique)
            made[0] += time.process_time() - cpu
            await asyncio.sleep(0)  # the page's round trip
            read = page_briefs(content)  # as the client reads a listing's page
            assert read is not None
            yield read[0]

    async def read() -> None:
        ahead = ReadAhead()
        pages = both_ends(
            end(False),
            lambda: end(True),
            identity=lambda brief: brief.uuid,
            name=lambda brief: brief.name,
            full=PAGE,
            read_ahead=ahead,
        )
        async for page in pages:
            placing.add(page)

    with collector_paused():  # as ``read_live`` reads
        cpu = time.process_time()
        asyncio.run(read())
        total = time.process_time() - cpu
    assert len(live) == placing.listed == items  # each item once
    return live, total - made[0], made[0]


def read_old(
    items: int, folders: int, every: int, unique: bool
) -> tuple[dict[str, LiveItem], float, float]:
    models: list[Item] = []
    parse = parser(Page[Item], ROUTE)
    read_cpu = made_cpu = 0.0
    for first in range(0, items, PAGE):
        cpu = time.process_time()
        content = page_bytes(range(first, min(items, first + PAGE)), folders, every, unique)
        made_cpu += time.process_time() - cpu
        cpu = time.process_time()
        models.extend(parse(RawJSON(content, ROUTE)).results)
        read_cpu += time.process_time() - cpu
    cpu = time.process_time()
    paths = {folder_uuid(f): f"/bench/f{f:05d}" for f in range(folders)}
    live: dict[str, LiveItem] = {}
    for model in models:  # as before: one ItemRecords per item shares nothing
        brief = ItemBrief.of(model)
        live[brief.uuid] = ItemRecords().live_item(brief, paths[brief.parent], brief.parent)
    del models
    return live, read_cpu + time.process_time() - cpu, made_cpu


def build_live(items: dict[str, LiveItem], folders: int) -> LiveState:
    root = LiveFolder(
        uuid="root", parent=None, name="bench", path="/bench", metadata={OWNER_KEY: "bench"}
    )
    live_folders = {"root": root}
    for f in range(folders):
        uuid = folder_uuid(f)
        live_folders[uuid] = LiveFolder(
            uuid=uuid, parent="root", name=f"f{f:05d}", path=f"/bench/f{f:05d}"
        )
    dataset = LiveDataset(uuid="d1", title="train", description="[managed by reconciler: bench]")
    return LiveState(
        target="bench",
        scope=("/bench",),
        folders=live_folders,
        paths={f.path: f.uuid for f in live_folders.values()},
        items=items,
        datasets={"d1": dataset},
        listing_counts={"/bench": folders + len(items)},
    )


def build_desired(flat: bool = False) -> DesiredState:
    source = Source(file="bench.yaml", line=1)
    rules = (
        MetadataRule(folder="/bench", recursive=True, metadata={"source": "lab"}, source=source),
        MetadataRule(
            folder="/bench",
            recursive=True,
            match=ItemMatch(name="*.jpg", types=("image",)),
            metadata={"qa.status": "done"},
            owned_keys=("qa.*",),
            source=source,
        ),
    )
    train = {"split": "train"}
    selectors = tuple(
        ItemSelector(folder=f"/bench/f{f:05d}", match=ItemMatch(metadata=train), source=source)
        for f in range(10)
    )
    if flat:  # as many items as ten folders of 1,000 hold
        match = ItemMatch(name="0000*.jpg", metadata=train)
        selectors = (ItemSelector(folder="/bench/f00000", match=match, source=source),)
    return DesiredState(
        root_dir="/bench-config",
        target=Target(),
        ownership=Ownership(id="bench"),
        policy=Policy(prune="owned", max_change_ratio=1.0, max_delete_ratio=1.0),
        folders={"/bench": DesiredFolder(path="/bench", source=source)},
        rules=rules,
        datasets={
            "train": DesiredDataset(title="train", items=selectors, unlink="owned", source=source)
        },
        source=source,
    )


def one(args: argparse.Namespace) -> dict[str, Any]:
    items, folders = args.one, 1 if args.flat else max(1, args.one // args.per_folder)
    every = round(1 / args.changed) if args.changed else 0
    desired = build_desired(args.flat)
    gc.collect()
    base = _rss_mb()
    read = read_flat if args.flat else read_old if args.old else read_new
    live_items, read_cpu, made_cpu = read(items, folders, every, args.unique_metadata)
    live = build_live(live_items, folders)
    del live_items
    gc.collect()
    after_read, peak_read = _rss_mb(), _peak_mb()
    cpu = time.process_time()
    plan = diff(desired, live, options=DiffOptions(created_at="bench"))
    diff_cpu = time.process_time() - cpu
    peak_diff = _peak_mb()
    return {
        "items": items,
        "folders": folders,
        "changes": len(plan.changes),
        "read_cpu": read_cpu,
        "pages_cpu": made_cpu,
        "diff_cpu": diff_cpu,
        "base_mb": base,
        "rss_read_mb": after_read,
        "peak_read_mb": peak_read,
        "peak_diff_mb": peak_diff,
        "read_b_per_item": (after_read - base) * 2**20 / items,
        "peak_b_per_item": (peak_diff - base) * 2**20 / items,
    }


def trace(args: argparse.Namespace) -> None:
    """Bytes per item by tracemalloc (exact, but several times slower): the live state, what
    ``diff`` allocates at its peak above it, and what the plan keeps."""
    items, folders = args.trace, 1 if args.flat else max(1, args.trace // args.per_folder)
    every = round(1 / args.changed) if args.changed else 0
    desired = build_desired(args.flat)
    tracemalloc.start()
    read = read_flat if args.flat else read_old if args.old else read_new
    live_items, _, _ = read(items, folders, every, args.unique_metadata)
    live = build_live(live_items, folders)
    del live_items
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    plan = diff(desired, live, options=DiffOptions(created_at="bench"))
    now, peak = tracemalloc.get_traced_memory()
    print(
        f"{items:,} items, {len(plan.changes):,} changes; bytes per item: live state "
        f"{held / items:,.0f}, diff's peak above it {(peak - held) / items:,.0f}, "
        f"the plan kept {(now - held) / items:,.0f}"
    )


def main() -> int:
    parser_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser_.add_argument("--items", default="100000,1000000,3000000")
    parser_.add_argument("--per-folder", type=int, default=1000)
    parser_.add_argument("--changed", type=float, default=0.10)
    parser_.add_argument("--unique-metadata", action="store_true")
    parser_.add_argument("--old", action="store_true", help="read as before (models held)")
    parser_.add_argument("--flat", action="store_true", help="one folder, read from both ends")
    parser_.add_argument("--trace", type=int, metavar="ITEMS", help="tracemalloc, one size")
    parser_.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser_.parse_args()
    if args.trace:
        trace(args)
        return 0
    if args.one:
        print(json.dumps(one(args)))
        return 0
    print(
        f"{'items':>11} {'changes':>9} {'read CPU':>9} {'diff CPU':>9} {'total CPU':>9} "
        f"{'RSS read':>9} {'peak read':>9} {'peak':>9} {'B/item read':>11} {'B/item peak':>11}"
    )
    for size in (int(s) for s in args.items.split(",")):
        command = [
            sys.executable,
            __file__,
            "--one",
            str(size),
            "--per-folder",
            str(args.per_folder),
        ]
        command += ["--changed", str(args.changed)]
        command += ["--unique-metadata"] * args.unique_metadata + ["--old"] * args.old
        command += ["--flat"] * args.flat
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.splitlines()[-1])
        print(
            f"{r['items']:>11,} {r['changes']:>9,} {r['read_cpu']:>8.2f}s {r['diff_cpu']:>8.1f}s "
            f"{r['read_cpu'] + r['diff_cpu']:>8.1f}s {r['rss_read_mb']:>7,.0f}MB "
            f"{r['peak_read_mb']:>7,.0f}MB "
            f"{r['peak_diff_mb']:>7,.0f}MB {r['read_b_per_item']:>11,.0f} {r['peak_b_per_item']:>11,.0f}"
            f"   (read {r['read_cpu'] / r['items'] * 1e6:.2f} µs an item; pages made in "
            f"{r['pages_cpu']:.1f}s CPU, not counted; interpreter {r['base_mb']:.0f} MB)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
