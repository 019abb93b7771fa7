"""How long ``load_config`` takes for a ``for_each`` over N sites against the same N sites
written out by hand (each site: a folder with a description and metadata, a sub-folder and a
group with two members), CPU time in process, best of ``--runs``, with the load average
beside it (the machine is shared).

    python bench/bench_templates.py                     # --sizes 50 1000 10000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from reconciler.config import load_config

SETTINGS = "version: 1\ntarget: {sandbox: {}}\nownership: {id: bench}\n"
TEMPLATE = """\
templates:
  - for_each: *sites
    folders:
      /sites/${each.key}:
        description: "Site ${each.key} in ${each.value.region}"
        metadata: {region: "${each.value.region}"}
      /sites/${each.key}/raw: {}
    groups:
      site-${each.key}: {members: "${each.value.members}"}
"""


def _templated(n: int) -> str:
    entries = "".join(
        f"  s{i}: {{region: eu, members: [a{i}@example.com, b{i}@example.com]}}\n" for i in range(n)
    )
    return "x-sites: &sites\n" + entries + TEMPLATE


def _hand(n: int) -> str:
    folders = "".join(
        f"  /sites/s{i}:\n    description: Site s{i} in eu\n    metadata: {{region: eu}}\n"
        f"  /sites/s{i}/raw: {{}}\n"
        for i in range(n)
    )
    groups = "".join(
        f"  site-s{i}: {{members: [a{i}@example.com, b{i}@example.com]}}\n" for i in range(n)
    )
    return "folders:\n" + folders + "groups:\n" + groups


def _cpu_seconds(path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        load_config(path, env={})
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'sites':>8} {'template s':>11} {'by hand s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            times = []
            for name, text in (("templated", _templated(n)), ("hand", _hand(n))):
                path = Path(tmp) / f"{name}-{n}"
                path.mkdir()
                (path / "reconciler.yaml").write_text(SETTINGS)
                (path / "sites.yaml").write_text(text)
                times.append(_cpu_seconds(path, args.runs))
            print(f"{n:>8} {times[0]:>11.2f} {times[1]:>10.2f}")


if __name__ == "__main__":
    main()
