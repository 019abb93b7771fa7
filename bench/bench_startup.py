"""How long a command takes before it does anything: ``reconciler --help``, ``--version`` and
``validate`` of the quickstart, each run in a fresh interpreter, wall and CPU time (user +
system of the child), with the load average beside them (the machine is shared).

    python bench/bench_startup.py                 # --runs 3
    python bench/bench_startup.py --runs 10       # and the fastest and median of ten
    python bench/bench_startup.py --src DIR       # another checkout (PYTHONPATH=DIR), to compare
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "--help": ("--help",),
    "--version": ("--version",),
    "validate quickstart": ("validate", "{config}"),
    "python -c pass": (),
}


def run_once(args: tuple[str, ...], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    command = [sys.executable, "-c", "pass"] if not args else [sys.executable, "-m", "reconciler"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command, *args], env=env, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout to import from")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(options.src.resolve())}
    # An installed tool has its bytecode compiled; without this the warm-up run could not
    # write it (this machine's shells set PYTHONDONTWRITEBYTECODE) and every run would compile.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        config = shutil.copytree(ROOT / "examples" / "quickstart", Path(tmp) / "quickstart")
        for name, template in CASES.items():
            args = tuple(a.format(config=config) for a in template)
            run_once(args, env, Path(tmp))  # warm the page cache and the bytecode cache
            runs = [run_once(args, env, Path(tmp)) for _ in range(options.runs)]
            load = os.getloadavg()[0]
            shown = " / ".join(f"{w:.2f} s ({c:.2f} s CPU)" for w, c in runs)
            print(f"{name:22} {shown}   load {load:.1f}")
            if len(runs) >= 5:
                walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
                print(
                    f"{'':22} fastest / median of {len(runs)}: wall {walls[0]:.3f} / "
                    f"{statistics.median(walls):.3f} s, CPU {cpus[0]:.3f} / "
                    f"{statistics.median(cpus):.3f} s"
                )
    print(f"(imported from {options.src})")


if __name__ == "__main__":
    main()
