"""Config loading at scale: a 1,000,000-row item manifest (JSONL and CSV), time and peak RSS.

Each measurement runs ``load_config`` in a fresh interpreter, so the peak resident set size
(``ru_maxrss`` of the child) is that load's alone; the baseline row is the same interpreter
loading a config with no manifest (imports, schema). Numbers are printed, never asserted.

    python bench/bench_config.py [--rows 1000000] [--dir /tmp/reconciler-bench-config]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = """\
version: 1
target:
  sandbox: {}
ownership: {id: bench}
metadata_schema:
  split: {type: enum, values: [train, val, test]}
  camera: {type: enum, values: [front, rear, side]}
  score: number
"""

CHILD = """\
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from reconciler.config import load_config
state = load_config(Path(sys.argv[1]), env={})
elapsed = time.perf_counter() - start
rows = sum(len(m.entries) for m in state.manifests)
print(json.dumps({"seconds": elapsed, "rows": rows,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _row(i: int, rng: random.Random, unique: bool) -> tuple[str, dict[str, object]]:
    path = f"/bench/cam{i % 500:03d}/frame_{i:07d}.jpg"
    metadata: dict[str, object] = {"split": rng.choice(("train", "train", "val", "test"))}
    metadata["camera"] = ("front", "rear", "side")[i % 3]
    if unique:
        metadata["score"] = round(rng.random(), 6)
    return path, metadata


def write_config(root: Path, rows: int, fmt: str, unique: bool) -> Path:
    rng = random.Random(7)
    config = root / f"{fmt}-{'unique' if unique else 'shared'}"
    shutil.rmtree(config, ignore_errors=True)
    (config / "manifests").mkdir(parents=True)
    name = f"manifests/rows.{fmt}"
    (config / "reconciler.yaml").write_text(SETTINGS + f"items:\n  - manifest: {name}\n")
    with (config / name).open("w", encoding="utf-8") as out:
        if fmt == "csv":
            out.write("path,split,camera,score\n")
        for i in range(rows):
            path, metadata = _row(i, rng, unique)
            if fmt == "csv":
                out.write(
                    f"{path},{metadata['split']},{metadata['camera']},{metadata.get('score', '')}\n"
                )
            else:
                out.write(json.dumps({"path": path, "metadata": metadata}) + "\n")
    return config


def measure(config: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/reconciler-bench-config"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    baseline = args.dir / "baseline"
    shutil.rmtree(baseline, ignore_errors=True)
    baseline.mkdir()
    (baseline / "reconciler.yaml").write_text(SETTINGS)
    print(
        f"{'case':<28} {'rows':>9} {'file MB':>8} {'load s':>7} {'peak RSS MB':>12} {'write s':>8}"
    )
    base = measure(baseline)
    print(
        f"{'baseline (no manifest)':<28} {0:>9} {0:>8} {base['seconds']:>7.2f} {base['maxrss_mb']:>12.0f}"
    )
    for fmt in ("jsonl", "csv"):
        for unique in (False, True):
            start = time.perf_counter()
            config = write_config(args.dir, args.rows, fmt, unique)
            written = time.perf_counter() - start
            size = (config / f"manifests/rows.{fmt}").stat().st_size / 1e6
            got = measure(config)
            label = f"{fmt}, {'unique score per row' if unique else 'shared metadata'}"
            print(
                f"{label:<28} {got['rows']:>9,} {size:>8.0f} {got['seconds']:>7.2f} "
                f"{got['maxrss_mb']:>12.0f} {written:>8.1f}"
            )


if __name__ == "__main__":
    main()
