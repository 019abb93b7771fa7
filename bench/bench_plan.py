"""Plan over a million synthetic items: wall time and peak memory of ``diff``.

    python bench/bench_plan.py [--items 1000000] [--folders 1000] [--changed 0.10]

The live state is built in memory (no API): ``--folders`` folders under ``/bench`` with
``--items`` items spread over them. The config has two metadata rules over the whole tree (one
with ``owned_keys``), a manifest with a row for every tenth item, and a dataset that selects
the items of the first ten folders by metadata. A share ``--changed`` of the items differs
from what the config declares, spread over the rules and the manifest. Reported: time to plan
(``diff``: resolution, projection, item index, desired metadata, links, safety, ordering,
checksum), time to write the JSON plan and the markdown, and peak RSS of the process (which
includes the live state itself). CPU time is printed too: wall time on a shared machine
varies with its load.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from typing import Any

from reconciler.model.desired import (
    OWNER_KEY,
    DesiredDataset,
    DesiredFolder,
    DesiredState,
    ItemMatch,
    ItemSelector,
    Manifest,
    ManifestEntry,
    ManifestRows,
    MetadataRule,
    Ownership,
    Policy,
    Source,
    Target,
)
from reconciler.model.live import LiveDataRow, LiveDataset, LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, diff, render_markdown
from reconciler.plan.document import compute_checksum
from reconciler.plan.planfile import iter_dumps, loads


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def build_live(items: int, folders: int, changed: float) -> LiveState:
    root = LiveFolder(
        uuid="root", parent=None, name="bench", path="/bench", metadata={OWNER_KEY: "bench"}
    )
    live_folders = {"root": root}
    for f in range(folders):
        uuid = f"f{f:05d}"
        # Made by people or a sync (no marker): in scope, never pruned.
        live_folders[uuid] = LiveFolder(uuid=uuid, parent="root", name=uuid, path=f"/bench/{uuid}")
    every = round(2 / changed) if changed else 0  # half through the rules, half the manifest
    live_items: dict[str, LiveItem] = {}
    for n in range(items):
        folder = f"f{n % folders:05d}"
        metadata: dict[str, Any] = {"source": "lab", "qa.status": "done", "split": _split(n)}
        if every and n % every == 3:  # differs from the rules...
            metadata = {"source": "scraper", "qa.status": "todo", "qa.stale": 1, "split": _split(n)}
        elif every and n % every == 7:  # ...or from the manifest
            metadata = {**metadata, "split": "test"}
        live_items[f"i{n:07d}"] = LiveItem(
            uuid=f"i{n:07d}",
            parent=folder,
            folder_path=f"/bench/{folder}",
            name=f"{n:07d}.jpg",
            item_type="image",
            metadata=metadata,
            last_edited_at="2026-01-01T00:00:00+00:00",
        )
    # Every third item of the first ten folders is linked: the train ones stay, the others
    # are unlinked, and the train items not linked yet are linked.
    linked = tuple(
        LiveDataRow(data_hash=f"h{n}", item_uuid=f"i{n:07d}")
        for n in range(items)
        if n % folders < 10 and n % 3 == 0
    )
    dataset = LiveDataset(
        uuid="d1", title="train", description="[managed by reconciler: bench]", rows=linked
    )
    return LiveState(
        target="bench",
        scope=("/bench",),
        folders=live_folders,
        paths={f.path: f.uuid for f in live_folders.values()},
        items=live_items,
        datasets={"d1": dataset},
        listing_counts={"/bench": folders + items},
    )


def _split(n: int) -> str:
    return "train" if n % 10 < 8 else "val"


def build_desired(items: int, folders: int) -> DesiredState:
    source = Source(file="bench.yaml", line=1)
    rows = {
        f"/bench/f{n % folders:05d}/{n:07d}.jpg": ManifestEntry(
            metadata={"split": _split(n)}, line=n // 10 + 1
        )
        for n in range(7, items, 10)
    }
    manifest = Manifest(
        file="manifests/splits.jsonl", format="jsonl", entries=ManifestRows(rows), source=source
    )
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
    selectors = tuple(
        ItemSelector(
            folder=f"/bench/f{f:05d}", match=ItemMatch(metadata={"split": "train"}), source=source
        )
        for f in range(10)
    )
    return DesiredState(
        root_dir="/bench-config",
        target=Target(),
        ownership=Ownership(id="bench"),
        policy=Policy(prune="owned", max_change_ratio=1.0, max_delete_ratio=1.0),
        folders={"/bench": DesiredFolder(path="/bench", source=source)},
        rules=rules,
        manifests=(manifest,),
        datasets={
            "train": DesiredDataset(title="train", items=selectors, unlink="owned", source=source)
        },
        source=source,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--folders", type=int, default=1_000)
    parser.add_argument("--changed", type=float, default=0.10)
    parser.add_argument("--skip-loads", action="store_true", help="do not read the plan back")
    args = parser.parse_args()

    started = time.perf_counter()
    live = build_live(args.items, args.folders, args.changed)
    desired = build_desired(args.items, args.folders)
    built = time.perf_counter() - started
    rss_inputs = _rss_mb()
    gc.collect()

    started, cpu = time.perf_counter(), time.process_time()
    plan = diff(desired, live, options=DiffOptions(created_at="bench"))
    planned, planned_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_plan = _rss_mb()

    cpu = time.process_time()
    compute_checksum(plan)  # also inside diff: shown apart, as the profile does
    checksum_cpu = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    text = "".join(iter_dumps(plan))  # as `plan --out` writes it (each change one line)
    written, written_cpu = time.perf_counter() - started, time.process_time() - cpu
    size = len(text.encode())
    rss_json = _rss_mb()
    cpu = time.process_time()
    if not args.skip_loads:
        loads(text)  # as `apply plan.json` and `show` read it: parse, check shape and checksum
    loaded_cpu = time.process_time() - cpu
    del text
    started = time.perf_counter()
    markdown = render_markdown(plan)
    rendered = time.perf_counter() - started

    items_changed = sum(1 for c in plan.changes if c.kind == "item")
    print(
        f"inputs: {args.items:,} items in {args.folders:,} folders, {len(desired.manifests[0].entries):,} manifest rows (built in {built:.1f} s)"
    )
    print(
        f"plan:   {len(plan.changes):,} changes ({items_changed:,} items, {plan.summary.link} links, {plan.summary.unlink} unlinks), {len(plan.refusals)} refusals"
    )
    print(f"        checksum {plan.checksum}")  # the same plan before and after a speed-up
    print(
        f"diff:   {planned:.1f} s wall, {planned_cpu:.2f} s CPU ({checksum_cpu:.2f} s CPU of it the checksum)"
    )
    print(
        f"json:   {written:.1f} s wall, {written_cpu:.1f} s CPU ({size / 1e6:.0f} MB); read back (loads) {loaded_cpu:.1f} s CPU; markdown: {rendered:.2f} s ({len(markdown):,} chars)"
    )
    print(
        f"memory: peak RSS {rss_plan:,.0f} MB after diff, {rss_json:,.0f} MB after the JSON (inputs alone {rss_inputs:,.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
