"""``kill -9`` at every write boundary of an apply that does every kind of change, then both
ways on: a plain ``apply`` and ``apply --resume`` from the killed states (one way per kill
point by default, see ``_continuations``; ``CRASH_BOTH_WAYS=1``: every state both ways).

Not at random: a clean run counts the apply's writes (N, the org lock's included); then for
every k < N the apply is killed twice, once when write k+1 has reached the server but is not
carried out, once when it is committed but its answer has not left (the client never learns
it happened). The sandbox holds that write (``hang_write``) while the test kills the client.
Each killed state is saved (database and journal) and continued. Every continuation
must end with one clear outcome and the organisation of the uninterrupted run: everything
declared, every item and object of before the run that the plan did not delete still there
under its own UUID (nothing lost, nothing deleted the plan did not show), nothing twice.
Killed states that are the same state (they differ only in the lock's lease, say) are
continued once. Boundaries are shared among forked workers, one per core (up to four).

Run with ``-s`` to see the figures (boundaries, states, runs, outcomes, seconds).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crash_kit import (
    OrgState,
    Outcome,
    Server,
    fingerprint,
    in_parallel,
    org_state,
    restore,
    run_cli,
    save,
)

from reconciler.sandbox.provision import add_integration, add_user, init_database
from reconciler.sandbox.seed import seed

pytestmark = [pytest.mark.slow]

SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
    integrations: {{s3-raw: {{provider: s3, root: {buckets}}}}}
ownership: {{id: crash}}
policy:
  {{prune: owned, allow_replace: true, max_delete_ratio: 1.0, max_unlink_ratio: 1.0,
   users: authoritative, allow_user_rerole: true, max_user_removal_ratio: 1.0}}
"""
# What the organisation looks like before the run under test (applied by the test itself).
BEFORE = """\
users:
  admin@example.com: admin
  ann@example.com: member
  bob@example.com: member
  cid@example.com: member
  eve@example.com: member
folders:
  /data: {description: v1, groups: {crew: user, gone: user}}
  /data/cams: {description: cameras}
  /data/old: {description: to delete}
  /archive: {description: archive}
  /synced:
    description: synced
    groups: {crew: user}
    cloud_sync: {integration: s3-raw, remote_url: "s3://acme/cams-a/", sync: on_create}
groups:
  crew: {description: v1, members: [ann@example.com]}
  gone: {description: to delete, members: [bob@example.com]}
items:
  - {folder: /data, recursive: true, metadata: {stage: v1}}
  - {folder: /synced, recursive: true, metadata: {src: bucket}}
  - {manifest: manifests/moves.jsonl}
datasets:
  main:
    description: main
    groups: {crew: user, gone: user}
    users: {bob@example.com: user, cid@example.com: user}
    items: [{folder: /data, recursive: true}]
metadata_schema:
  stage: text
organisation_tags: {kept: stays, retired: to delete}
"""
BEFORE_MOVES = [
    ("/data/cams/item-0000000.jpg", "/data/item-0000000.jpg"),
    ("/data/cams/item-0000001.jpg", "/data/item-0000001.jpg"),
    ("/data/old/item-0000002.jpg", "/data/item-0000002.jpg"),
]
# The run under test: every kind and action. Folders: /data patched, /data/made created,
# /data/cams moved and renamed to /archive/footage (two requests), /data/old deleted with its
# item, /synced replaced (re-pointed) and synced. Items: patched, one moved, one deleted.
# Groups: crew patched with a new member, fresh created, gone deleted. Grants on /data and on
# dataset main (groups and users): granted, revoked, role changed. Datasets: second created,
# main linked and unlinked; the synced items are planned after the sync, patched and linked.
# (A dataset's description cannot be patched: the API has no such call, the plan refuses.)
# Users: dan added (and into fresh), ann re-roled (removed, added, given back her place in
# crew), eve removed. Organisation tags: made created, retired deleted.
AFTER = """\
users:
  admin@example.com: admin
  ann@example.com: workforce_manager
  bob@example.com: member
  cid@example.com: member
  dan@example.com: {role: tasker, type: external}
folders:
  /data: {description: v2, groups: {crew: admin, fresh: user}}
  /data/made: {description: created}
  /archive: {description: archive}
  /archive/footage: {description: cameras, previously: [/data/cams]}
  /synced:
    description: synced
    groups: {crew: user}
    cloud_sync: {integration: s3-raw, remote_url: "s3://acme/cams-b/", sync: on_create}
groups:
  crew: {description: v2, members: [ann@example.com, bob@example.com]}
  fresh: {description: new, members: [cid@example.com, dan@example.com]}
items:
  - {folder: /data, recursive: true, metadata: {stage: v2}}
  - {folder: /archive, recursive: true, metadata: {stage: v2}}
  - {folder: /synced, recursive: true, metadata: {src: bucket}}
  - {manifest: manifests/moves.jsonl}
datasets:
  main:
    description: main
    groups: {crew: admin, fresh: user}
    users: {bob@example.com: admin}
    items: [{folder: /data}, {folder: /archive, recursive: true}]
    unlink: owned
  second:
    description: new
    groups: {fresh: admin}
    users: {cid@example.com: user}
    items: [{folder: /data/made}, {folder: /synced, recursive: true}]
metadata_schema:
  stage: {type: enum, values: [v1, v2]}
organisation_tags: {kept: stays, made: created}
"""
AFTER_MOVES = [("/data/made/item-0000004.jpg", "/data/item-0000004.jpg")]
BUCKETS = {"cams-a": ["a1.txt", "a2.txt"], "cams-b": ["b1.txt", "b2.txt", "b3.txt"]}
USERS = ("ann@example.com", "bob@example.com", "cid@example.com", "eve@example.com")
CONTINUATIONS: tuple[tuple[str, ...], ...] = ((), ("--resume",))
# Every killed state is continued both ways when CRASH_BOTH_WAYS=1 (202 continuations, about
# 14 minutes on 2 cores). By default one way per kill point (``_continuations``), which
# halves the continuations and keeps the suite well inside CI's budget.
BOTH_WAYS = os.environ.get("CRASH_BOTH_WAYS") == "1"


def _continuations(k: int, after: bool) -> tuple[tuple[str, ...], ...]:
    """Plain apply after a write not carried out, --resume after one committed unanswered:
    the state write k leaves committed is mostly the state write k+1 is killed in before it
    is carried out, so such a state is continued both ways even so."""
    return CONTINUATIONS if BOTH_WAYS else (CONTINUATIONS[after],)


def _config(directory: Path, body: str, moves: list[tuple[str, str]], buckets: Path) -> None:
    (directory / "manifests").mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(SETTINGS.format(buckets=buckets))
    (directory / "main.yaml").write_text(body)
    rows = [{"path": p, "previously": was, "metadata": {"row": "m"}} for p, was in moves]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (directory / "manifests" / "moves.jsonl").write_text(text)


class World:
    """A place to run: ``work/`` (the sandbox database and the config with its journal), a
    server socket, and logs."""

    def __init__(self, root: Path, key: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.db = self.work / "sandbox.sqlite"
        self.config = self.work / "config"
        self.key = key
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        self.server = Server(self.logs)

    def apply(self, *extra: str) -> list[str]:
        return [
            "apply", str(self.config), "--auto-approve", "--concurrency", "1", *extra,
            "--domain", self.server.url, "--ssh-key-file", str(self.key),
        ]  # fmt: skip


@dataclass(frozen=True)
class Reference:
    """Before the run under test and after it ran uninterrupted."""

    s0: OrgState
    final: OrgState
    survivors: dict[str, str]  # objects of s0 the plan does not delete: UUID -> where at the end


def _prepare(tmp_path: Path, world: World) -> Path:
    """Users, a bucket integration, six items under /data, BEFORE applied; then AFTER is the
    config (a new commit of the same checkout). The saved world, ``s0``."""
    buckets = tmp_path / "buckets"
    for bucket, names in BUCKETS.items():
        (buckets / "acme" / bucket).mkdir(parents=True)
        for name in names:
            (buckets / "acme" / bucket / name).write_text(name)
    world.work.mkdir()
    init_database(world.db, admin_email="admin@example.com", key_out=world.key)
    for email in USERS:
        add_user(world.db, email=email, with_key=False)
    add_integration(world.db, title="s3-raw", provider="s3", root=buckets)
    seed(world.db, under="/data", folders=0, items=6)
    _config(world.config, BEFORE, BEFORE_MOVES, buckets)
    with world.server.serving(world.db):
        before = run_cli(world.apply(), world.logs / "before.txt")
    assert before.code == 0, before.output
    _config(world.config, AFTER, AFTER_MOVES, buckets)
    save(world.work, tmp_path / "s0")
    return tmp_path / "s0"


def _clean_run(tmp_path: Path, world: World) -> tuple[int, Reference]:
    """The plan from s0 and the uninterrupted apply: how many writes, and where it ends."""
    s0 = org_state(world.db)
    plan_file = tmp_path / "plan.json"
    target = ["--domain", world.server.url, "--ssh-key-file", str(world.key)]
    with world.server.serving(world.db) as server:
        planned = run_cli(["plan", str(world.config), "--out", str(plan_file), *target],
                          world.logs / "plan.txt")  # fmt: skip
        assert planned.code == 0, planned.output
        server.control("POST", "/_sandbox/faults", {"hang_write": None})  # counts from here
        clean = run_cli(world.apply(), world.logs / "clean.txt")
        writes = server.writes_seen()
    assert clean.code == 0 and "Verified: a fresh plan is empty" in clean.output, clean.output
    final = org_state(world.db)
    survivors = {uuid: final.uuids[uuid] for uuid in s0.uuids if uuid in final.uuids}
    # The uninterrupted run deletes exactly what the plan shows.
    assert set(s0.uuids) - set(survivors) == _declared_deletes(plan_file) & set(s0.uuids)
    return writes, Reference(s0, final, survivors)


def _declared_deletes(plan_file: Path) -> set[str]:
    """UUIDs of the objects the reviewed plan deletes (replacements included)."""
    plan = json.loads(plan_file.read_text())
    return {
        str(change["refs"]["uuid"])
        for change in plan["changes"]
        if "delete" in change["actions"] and change["refs"].get("uuid")
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path / "main", tmp_path / "admin.key")
    try:
        yield made
    finally:
        made.server.close()


def test_a_kill_at_any_write_boundary_loses_nothing_either_way_on(
    tmp_path: Path, world: World
) -> None:
    started = time.monotonic()
    s0_dir = _prepare(tmp_path, world)
    writes, reference = _clean_run(tmp_path, world)
    setup = time.monotonic() - started
    boundaries = [(k, after) for k in range(writes) for after in (False, True)]
    workers = max(1, min(4, os.cpu_count() or 1))
    size = -(-len(boundaries) // workers)  # contiguous shares: equal states are neighbours
    chunks = [boundaries[n : n + size] for n in range(0, len(boundaries), size)]

    def work(chunk: list[tuple[int, bool]]) -> list[dict[str, Any]]:
        place = World(tmp_path / f"worker-{chunk[0][0]}-{chunk[0][1]}", world.key)
        try:
            return [_boundary(place, s0_dir, reference, writes, k, after) for k, after in chunk]
        finally:
            place.server.close()

    results = in_parallel(chunks, work, tmp_path)
    states = sum(1 for r in results if r["continued"])
    runs = sum(r["continued"] for r in results)
    outcomes = Counter(o for r in results for o in r["outcomes"])
    print(
        f"\ncrash boundaries: {writes} writes x 2 kill points = {len(results)} kills, "
        f"{states} distinct killed states, {runs} continuations; outcomes per kill "
        f"{dict(outcomes)}; {workers} workers; setup {setup:.0f} s, "
        f"total {time.monotonic() - started:.0f} s"
    )
    failures = [f for r in results for f in r["failures"]]
    assert not failures, "\n".join(failures)


# Per worker: (killed state's fingerprint, continuation) -> what that continuation did. The
# state a write leaves once committed is often the state the next write is killed in before
# it is carried out; keyed by both, such a state is continued each way once.
_seen: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def _boundary(
    world: World, s0_dir: Path, ref: Reference, writes: int, k: int, after: bool
) -> dict[str, Any]:
    """Kill at one boundary, continue (both ways, or one: ``_continuations``); what happened."""
    restore(s0_dir, world.work)
    with world.server.serving(world.db) as server:
        route = server.kill_at_write(world.apply(), world.logs / "killed.txt", write=k, after=after)
    when = "applied, unanswered" if after else "not carried out"
    boundary = f"write {k + 1}/{writes} ({route}) {when}"
    assert route is not None, f"{boundary}: the run ended before it"
    key = fingerprint(world.work)
    ways = [how for how in _continuations(k, after) if (key, how) not in _seen]
    if ways:
        killed_dir = world.root / "killed"
        save(world.work, killed_dir)
        killed = org_state(world.db)
    for how in ways:
        restore(killed_dir, world.work)
        with world.server.serving(world.db):
            outcome = run_cli(world.apply(*how), world.logs / "continued.txt")
        verdict, problem = _judge(outcome, org_state(world.db), killed, ref)
        said = " ".join(("apply", *how))
        _seen[key, how] = {
            "outcomes": [f"{said}: {verdict}"],
            "failures": [f"{boundary}, then {said}: {problem}"] if problem else [],
        }
    done = [_seen[key, how] for how in _continuations(k, after)]
    result = {
        "outcomes": [o for d in done for o in d["outcomes"]],
        "failures": [f for d in done for f in d["failures"]],
        "continued": len(ways),
    }
    print(boundary, result, flush=True)  # the worker's log, as boundaries finish
    return result


def _judge(outcome: Outcome, now: OrgState, killed: OrgState, ref: Reference) -> tuple[str, str]:
    """(the kind of outcome, what is wrong with it or "")."""
    text = outcome.output
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    if "Traceback" in text or outcome.code not in (0, 1) or (outcome.code == 1 and not errors):
        return "unclear", f"exit {outcome.code} without one clear error line: {text[-1500:]}"
    lost = sorted(where for uuid, where in ref.survivors.items() if uuid not in now.uuids)
    if lost:  # neither shown as deleted by the plan, nor deleted by the uninterrupted run
        return "lost", f"objects of before the run are gone: {lost}"
    if outcome.code == 1 and "nothing to resume" in errors[0] and now.shape == killed.shape:
        return "nothing to resume", ""  # killed before its journal existed: said, not done
    if outcome.code == 1:
        return "refused", f"{errors}: {text[-1500:]}"
    finished = "No changes." in text  # the killed run had done it all but hear the last answer
    if "Verified: a fresh plan is empty" not in text and not finished:
        return "unverified", text[-1500:]
    if now.shape != ref.final.shape:
        diff = {
            key: (sorted(Counter(now.shape[key]) - Counter(ref.final.shape[key])),
                  sorted(Counter(ref.final.shape[key]) - Counter(now.shape[key])))
            for key in ref.final.shape
            if now.shape[key] != ref.final.shape[key]
        }  # fmt: skip
        return "diverged", f"not what the uninterrupted run made (extra, missing): {diff}"
    if any(now.uuids[uuid] != where for uuid, where in ref.survivors.items()):
        return "diverged", "an object of before the run ended somewhere else"
    return "converged", ""
