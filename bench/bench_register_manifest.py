"""Registration manifests at scale: a 1,000,000-row ``register:`` manifest (JSONL and CSV),
load time and peak memory, and the plan that registers them all (one change).

Each measurement runs in a fresh interpreter, so the peak resident set size (``ru_maxrss``)
is that run's alone; ``baseline`` loads the same config with an empty manifest. Numbers are
printed, never asserted.

    python bench/bench_register_manifest.py [--rows 1000000] [--dir /tmp/reconciler-bench-register]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

SETTINGS = """\
version: 1
target:
  sandbox: {}
ownership: {id: bench}
folders:
  /bench:
    register: {integration: 00000000-0000-4000-8000-000000000001, manifest: batch.MANIFEST}
"""

CHILD = """\
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from reconciler.config import load_config
state = load_config(Path(sys.argv[1]), env={})
loaded = time.perf_counter() - start
rows = len(state.folders["/bench"].registration.rows)
planned = None
if sys.argv[2] == "plan":
    from reconciler.model.live import LiveIntegration, LiveState
    from reconciler.plan import diff
    uuid = "00000000-0000-4000-8000-000000000001"
    live = LiveState(integrations={uuid: LiveIntegration(uuid, "raw")})
    begin = time.perf_counter()
    plan = diff(state, live)
    planned = time.perf_counter() - begin
print(json.dumps({"load_seconds": loaded, "plan_seconds": planned, "rows": rows,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _write(directory: Path, rows: int, fmt: str) -> Path:
    config = directory / fmt
    config.mkdir(parents=True, exist_ok=True)
    (config / "reconciler.yaml").write_text(SETTINGS.replace("MANIFEST", fmt))
    with (config / f"batch.{fmt}").open("w") as out:
        if fmt == "csv":
            out.write("url,split,camera\n")
        for n in range(rows):
            url = f"s3://acme-raw/b7/cam{n % 500:03d}/frame_{n:07d}.jpg"
            split, camera = ("train", "val", "test")[n % 3], ("front", "rear")[n % 2]
            if fmt == "csv":
                out.write(f"{url},{split},{camera}\n")
            else:
                row = {"url": url, "metadata": {"split": split, "camera": camera}}
                out.write(json.dumps(row) + "\n")
    return config


def _measure(config: Path, mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), mode], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/reconciler-bench-register"))
    parser.add_argument("--plan", action="store_true", help="also plan registering every row")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    base = _measure(_write(args.dir / "base", 0, "jsonl"), "load")
    print(f"baseline (empty manifest): {base['maxrss_mb']:.0f} MB peak RSS")
    for fmt in ("jsonl", "csv"):
        config = _write(args.dir, args.rows, fmt)
        size = (config / f"batch.{fmt}").stat().st_size / 2**20
        got = _measure(config, "plan" if args.plan and fmt == "jsonl" else "load")
        extra = float(str(got["maxrss_mb"])) - float(str(base["maxrss_mb"]))
        plan = f", plan {got['plan_seconds']:.1f} s" if got["plan_seconds"] is not None else ""
        print(
            f"{fmt}: {got['rows']:,} rows ({size:.0f} MB file): load {got['load_seconds']:.1f} s"
            f"{plan}, peak RSS {got['maxrss_mb']:.0f} MB "
            f"(+{extra:.0f} MB, {extra * 2**20 / max(1, args.rows):.0f} bytes a row)"
        )


if __name__ == "__main__":
    main()
