"""Benchmark: does ONE ``reconciler apply --auto-approve`` converge under server faults?

A sandbox is seeded with ITEMS items in three folders under /bench and 100 under /spare, four
users are added, and a first config is applied (no faults): owned folders to patch, move and
delete later, a group with one member, a dataset linking /bench/folder-00000 and /spare. That
database is the baseline every run starts from (copied, so every run does the same work).

Each run then serves its copy on a fixed loopback port, switches the faults on
(``POST /_sandbox/faults``), and runs ``reconciler apply --auto-approve`` once with a second
config that exercises every phase: 9 folders created, 10 patched, one moved (``previously``)
into a new parent, 10 deleted; the group's members changed and granted on /bench; metadata
on every /bench item; the dataset given /bench/folder-00001 (1000 links) and /spare dropped
(100 unlinks). Fewer folders are created than exist: a plan that finds under half of its
declared folders live withholds its deletes and unlinks (the ``listing-guard`` filter). Then, faults off, it records:

* the exit code of that one apply;
* whether a fresh ``plan --detailed-exitcode`` is empty (exit 0) afterwards;
* duplicates, read from the sandbox database: folders with one name under one parent, groups
  or datasets with one name, items linked twice into one dataset;
* wall time and requests (``/_sandbox/stats``, every request counted once, faulted or not).

Scenarios (each with ``--seeds``, default 1 2 3, as the fault stream's seed):

* ``5xx-10``/``5xx-30``/``5xx-50``: that share of requests answered 5xx, half before any work
  (``error_rate``: 500/502/503) and half after the work is committed (``error_after_rate``:
  502, an ambiguous failure: the write happened, the client cannot know);
* ``429-30``: 30% of requests answered 429 with ``Retry-After: 1`` (``storm_rate``);
* ``restart``: the server is stopped (SIGTERM) once the journal shows a ``--restart-at``
  bundle (default ``patch-items``), and started again on the SAME port and database
  ``--restart-gap`` seconds later (default 3).

    python bench/bench_faults.py                        # all scenarios, seeds 1 2 3
    python bench/bench_faults.py --scenarios restart --retry-seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from served import cli, control, free_port, start, stop

USERS = [f"user{n}@example.com" for n in range(4)]
SETTINGS = (
    "version: 1\ntarget: {sandbox: {path: .reconciler/unused.sqlite}}\nownership: {id: bench}\n"
)
SCENARIOS: dict[str, dict[str, Any]] = {
    "none": {},
    "5xx-10": {"error_rate": 0.05, "error_after_rate": 0.05 / 0.95},
    "5xx-30": {"error_rate": 0.15, "error_after_rate": 0.15 / 0.85},
    "5xx-50": {"error_rate": 0.25, "error_after_rate": 0.25 / 0.75},
    "429-30": {"storm_rate": 0.3, "storm_retry_after": 1},
    "restart": {},
}
NO_FAULTS = {"error_rate": 0, "error_after_rate": 0, "storm_rate": 0, "storm_requests": 0}


def _folders(names: list[str], body: str) -> str:
    return "".join(f"  {name}: {body}\n" for name in names)


def before_config() -> str:
    """The baseline: what the faulty run patches, moves, deletes, re-members and unlinks."""
    return (
        "folders:\n  /bench: {description: v1}\n  /spare: {}\n"
        + _folders([f"/bench/p-{n:02}" for n in range(10)], "{description: v1}")
        + _folders([f"/bench/old-{n:02}" for n in range(10)], "{}")
        + "  /bench/mv-src: {description: moving}\n"
        + f"groups:\n  crew: {{description: v1, members: [{USERS[0]}]}}\n"
        + "datasets:\n  ds-bench:\n    items:\n"
        + "      - {folder: /bench/folder-00000}\n      - {folder: /spare, recursive: true}\n"
    )


def after_config() -> str:
    """Every phase: create, patch, move, items, groups, grants, link, unlink, delete."""
    return (
        "folders:\n  /bench: {description: v2, groups: {crew: user}}\n  /spare: {}\n"
        + _folders([f"/bench/p-{n:02}" for n in range(10)], "{description: v2}")
        + _folders([f"/bench/folder-{n:05}" for n in range(3)], "{}")
        + _folders([f"/bench/new-{n:02}" for n in range(8)], "{}")
        + "  /bench/moved: {}\n"
        + "  /bench/moved/mv-src: {description: moving, previously: [/bench/mv-src]}\n"
        + f"groups:\n  crew: {{description: v2, members: [{', '.join(USERS[:3])}]}}\n"
        + "items:\n  - {folder: /bench, recursive: true, metadata: {bench: faulty}}\n"
        + "datasets:\n  ds-bench:\n    items:\n"
        + "      - {folder: /bench/folder-00000}\n      - {folder: /bench/folder-00001}\n"
    )


def write_config(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "reconciler.yaml").write_text(SETTINGS)
    (directory / "main.yaml").write_text(body)
    return directory


def main() -> None:
    args = _arguments()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        base = _baseline(Path(tmp) / "base", args)
        for scenario in args.scenarios:
            for seed in args.seeds:
                row = _run(base, Path(tmp) / f"{scenario}-{seed}", scenario, seed, args)
                rows.append(row)
                print(f"  {scenario} seed {seed}: exit {row['exit']}, plan empty "
                      f"{row['plan_empty']}, duplicates {row['duplicates']}, "
                      f"{row['seconds']:.1f} s, {row['requests']} requests"
                      + (" (restarted)" if row["restarted"] else ""))  # fmt: skip
    _report(rows, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--retry-seconds", type=float, help="passed to apply (default: its own)")
    parser.add_argument("--restart-at", default="patch-items", help="journal phase to stop at")
    parser.add_argument("--restart-gap", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=900, help="seconds one apply may take")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def _baseline(workdir: Path, args: argparse.Namespace) -> Path:
    """Seeded, with the first config applied: the database every run copies."""
    workdir.mkdir(parents=True)
    db, key = workdir / "bench.sqlite", workdir / "admin.key"
    cli("sandbox", "init", "--db", str(db), "--key-out", str(key))
    for user in USERS:
        cli("sandbox", "add-user", "--db", str(db), "--email", user,
            "--key-out", str(workdir / f"{user}.key"))  # fmt: skip
    cli("sandbox", "seed", "--db", str(db), "--under", "/bench", "--folders", "3",
        "--items", str(args.items))  # fmt: skip
    cli("sandbox", "seed", "--db", str(db), "--under", "/spare", "--folders", "1",
        "--items", "100")  # fmt: skip
    process, url = start(db, 0)
    try:
        config = write_config(workdir / "before", before_config())
        done = _apply(config, url, key, args, timeout=args.timeout)
        if done.returncode != 0:
            raise SystemExit(f"the baseline apply failed:\n{done.stdout}\n{done.stderr}")
    finally:
        stop(process)
    return workdir


def _apply(
    config: Path, url: str, key: Path, args: argparse.Namespace, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_apply_command(config, url, key, args), capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


def _apply_command(config: Path, url: str, key: Path, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve",
               "--force", "--domain", url, "--ssh-key-file", str(key)]  # fmt: skip
    if args.retry_seconds is not None:
        command += ["--retry-seconds", str(args.retry_seconds)]
    return command


def _run(
    base: Path, workdir: Path, scenario: str, seed: int, args: argparse.Namespace
) -> dict[str, Any]:
    workdir.mkdir()
    db, key = workdir / "bench.sqlite", base / "admin.key"
    shutil.copy(base / "bench.sqlite", db)
    config = write_config(workdir / "after", after_config())
    port = free_port()
    process, url = start(db, args.latency_ms, port)
    try:
        control(url, "POST", "/_sandbox/stats/reset")
        _faults(url, {**SCENARIOS[scenario], "seed": seed})
        started = time.perf_counter()
        if scenario == "restart":
            code, process, earlier = _with_restart(config, url, key, db, port, args, process)
            done = None
        else:
            done = _apply(config, url, key, args, args.timeout)
            code, earlier = done.returncode, None
        seconds = time.perf_counter() - started
        requests = control(url, "GET", "/_sandbox/stats")["total"] + (earlier or 0)
        _faults(url, NO_FAULTS)
        plan = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", str(config), "--detailed-exitcode",
             "--domain", url, "--ssh-key-file", str(key)],
            capture_output=True, text=True, timeout=args.timeout, check=False,
        )  # fmt: skip
    finally:
        stop(process)
    return {
        "scenario": scenario, "seed": seed, "exit": code, "plan_empty": plan.returncode == 0,
        "apply_tail": (done.stdout + done.stderr)[-3000:] if done else "",
        "plan_exit": plan.returncode, "plan_tail": (plan.stdout + plan.stderr)[-2000:], "duplicates": _duplicates(db), "seconds": seconds,
        "requests": requests, "restarted": earlier is not None,
    }  # fmt: skip


def _faults(url: str, faults: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        url + "/_sandbox/faults", method="POST", data=json.dumps(faults).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30):
        pass


def _with_restart(
    config: Path, url: str, key: Path, db: Path, port: int,
    args: argparse.Namespace, process: subprocess.Popen[str],
) -> tuple[int, subprocess.Popen[str], int | None]:  # fmt: skip
    """Apply; stop the server when the journal shows ``--restart-at``; start it again.

    Also returns the requests the first server counted (None: it was never stopped)."""
    apply = subprocess.Popen(_apply_command(config, url, key, args), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    journal_dir = config / ".reconciler" / "journal"
    marker = f'"phase":"{args.restart_at}"'
    earlier = None
    deadline = time.monotonic() + args.timeout
    while apply.poll() is None and time.monotonic() < deadline:
        journals = list(journal_dir.glob("*.jsonl")) if journal_dir.is_dir() else []
        if journals and marker in journals[0].read_text():
            earlier = control(url, "GET", "/_sandbox/stats")["total"]
            stop(process)
            time.sleep(args.restart_gap)
            process, _ = start(db, args.latency_ms, port)
            break
        time.sleep(0.02)
    try:
        code = apply.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        apply.kill()
        code = apply.wait()
    return code, process, earlier


DUPLICATES = {
    "folders": "SELECT COUNT(*) - COUNT(DISTINCT COALESCE(parent_id, 0) || '/' || name_lower) FROM folders",
    "groups": "SELECT COUNT(*) - COUNT(DISTINCT name) FROM groups",
    "datasets": "SELECT COUNT(*) - COUNT(DISTINCT title) FROM datasets",
    "links": "SELECT COUNT(*) - COUNT(DISTINCT dataset_id || '/' || item_id) FROM data_rows",
}


def _duplicates(db: Path) -> int:
    """Objects made twice: read straight from the database, not through the API under test."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return sum(int(connection.execute(sql).fetchone()[0]) for sql in DUPLICATES.values())


def _report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(f"\n{args.items} items; {args.latency_ms:g} ms latency; retry budget "
          f"{args.retry_seconds if args.retry_seconds is not None else 'default'} s; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")  # fmt: skip
    print(
        "| scenario | converged in one run | plan empty after | duplicates | wall time (s) | requests |"
    )
    print("|---|---:|---:|---:|---|---|")
    for scenario in dict.fromkeys(r["scenario"] for r in rows):
        runs = [r for r in rows if r["scenario"] == scenario]
        ok = sum(r["exit"] == 0 for r in runs)
        empty = sum(r["plan_empty"] for r in runs)
        dups = sum(r["duplicates"] for r in runs)
        times = " / ".join(f"{r['seconds']:.0f}" for r in runs)
        requests = " / ".join(str(r["requests"]) for r in runs)
        print(
            f"| {scenario} | {ok}/{len(runs)} | {empty}/{len(runs)} | {dups} | {times} | {requests} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
