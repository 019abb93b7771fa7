"""Saved plans (``plan --out`` then ``apply PLANFILE``), the CI flow, for every shape of change.

What a plan fingerprints must be exactly what apply reads again and compares, or a saved plan
of an unchanged organisation is refused as stale. ``SHAPES`` is the closed table of
(kind, actions) a plan may hold; the test below applies saved plans that hold every one of
them, end to end through ``reconciler sandbox serve``, and fails when the table gains a kind
or an action that no scenario here produces.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk

from reconciler.apply.journal import Journal, journal_path
from reconciler.model.addresses import Kind
from reconciler.plan.actions import Action
from reconciler.plan.shapes import SHAPES

BUCKET_FILES = Path(__file__).parents[1] / "examples" / "quickstart" / "buckets" / "demo" / "raw"
SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
    integrations: {{s3-raw: {{provider: s3, root: {buckets}}}}}
ownership: {{id: saved-plans}}
policy: {{prune: owned, max_delete_ratio: 1.0, users: authoritative}}
"""
USERS = """\
users:
  admin@example.com: admin
  alice@example.com: member
  bob@example.com: member
"""

FIRST = (
    USERS
    + """\
  carol@example.com: member
  dave@example.com: {role: tasker, type: external}
metadata_schema:
  stage: text
organisation_tags: {keep: kept, gone: leaving}
groups:
  crew: {description: the crew, members: [alice@example.com]}
  old-crew: {description: leaving, members: [bob@example.com]}
  readers: {description: readers}
  leavers: {description: leaving soon}
folders:
  /proj:
    description: project
    groups: {crew: user, old-crew: admin}
  /proj/a: {}
  /proj/moveme: {}
  /proj/moveme2: {}
  /proj/gone: {}
  /proj/rel1: {}
  /proj/rel2: {}
  /proj/rel3: {}
  /proj/rel4: {}
  /proj/synced:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/cams/", sync: on_create}
  /proj/resync:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/old/", sync: on_create}
  /proj/quiet:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/old/", sync: never}
  /proj/registered:
    register: {integration: s3-raw, manifest: registered.jsonl}
  /proj/sidecars:
    cloud_sync:
      integration: s3-raw
      remote_url: "s3://bucket/new/"
      sync: never
      metadata_sidecars: {suffix: .meta.json}
items:
  - folder: /data
    metadata: {stage: one}
  - folder: /proj/synced
    metadata: {stage: synced}
collections:
  picked: {folder: /data, description: first, items: [{folder: /data}]}
  doomed: {folder: /data}
datasets:
  ds1:
    groups: {crew: user, readers: user}
    users: {alice@example.com: user, bob@example.com: admin}
    items:
      - {folder: /data}
      - {folder: /proj/synced}
"""
)

SECOND = (
    USERS
    + """\
  carol@example.com: workforce_manager
metadata_schema:
  stage: text
  score: number
organisation_tags: {keep: kept, fresh: new}
groups:
  crew: {description: the crew, members: [alice@example.com, bob@example.com]}
  leavers: {description: released and edited, release: true}
  readers: {description: readers, release: true}
  hand-one: {adopt: true}
  hand-two: {description: adopted and edited, adopt: true}
folders:
  /proj:
    description: project, edited
    groups: {crew: admin}
  /proj/a: {}
  /hand/a: {adopt: true}
  /hand/b: {adopt: true, description: adopted and edited}
  /proj/a/from-hand: {previously: [/hand/c], adopt: true}
  /proj/a/from-hand2: {previously: [/hand/d], adopt: true, description: moved and adopted}
  /proj/rel1: {release: true}
  /proj/rel2: {release: true, description: released and edited}
  /proj/a/rel3: {previously: [/proj/rel3], release: true}
  /proj/a/rel4: {previously: [/proj/rel4], release: true, description: moved and released}
  /proj/a/moved: {previously: [/proj/moveme]}
  /proj/moved2: {previously: [/proj/moveme2], description: moved and edited}
  /proj/synced:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/cams/", sync: on_create}
  /proj/resync:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/new/", sync: on_create}
  /proj/quiet:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/new/", sync: never}
  /proj/synced3:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/cams/", sync: on_create}
  /proj/synced4:
    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/cams/", sync: on_create}
  /proj/registered:
    register: {integration: s3-raw, manifest: registered.jsonl}
  /proj/sidecars:
    cloud_sync:
      integration: s3-raw
      remote_url: "s3://bucket/new/"
      sync: never
      metadata_sidecars: {suffix: .meta.json}
items:
  - folder: /data
    metadata: {stage: two}
  - folder: /proj/synced
    metadata: {stage: synced}
  - manifest: moves.jsonl
collections:
  chosen:
    folder: /data
    description: renamed and narrowed
    previously: [picked]
    items: [{folder: /data, match: {name: item-0000003.jpg}}]
datasets:
  ds1:
    groups: {crew: admin}
    users: {alice@example.com: admin}
    items:
      - {folder: /data, match: {name: item-0000003.jpg}}
      - {folder: /proj/synced}
"""
)

# After a run that stopped having created four cloud-synced folders without seeing their
# syncs start (STOPPED): each is synced by the next plan, as it is, patched, moved, or both.
THIRD = (
    SECOND.replace(
        '  /proj/synced:\n    cloud_sync: {integration: s3-raw, remote_url: "s3://bucket/cams/", '
        "sync: on_create}\n",
        "  /proj/a/synced:\n    previously: [/proj/synced]\n    cloud_sync: {integration: s3-raw, "
        'remote_url: "s3://bucket/cams/", sync: on_create}\n',
    )
    .replace(
        "  /proj/resync:\n",
        "  /proj/a/resync:\n    previously: [/proj/resync]\n    description: moved and edited\n",
    )
    .replace("  /proj/synced4:\n", "  /proj/synced4:\n    description: edited\n")
    .replace("folder: /proj/synced}", "folder: /proj/a/synced}")
    .replace("  - folder: /proj/synced\n", "  - folder: /proj/a/synced\n")
)
STOPPED = ("/proj/synced", "/proj/resync", "/proj/synced3", "/proj/synced4")

REGISTERED = (
    '{"url": "s3://bucket/cams/cat-01.png", "title": "first.png", "metadata": {"stage": "r"}}\n'
    '{"url": "s3://bucket/cams/cat-03.jpg"}\n'
)

MOVES = (
    '{"path": "/proj/a/moved-1.jpg", "previously": "/data/item-0000001.jpg"}\n'
    '{"path": "/proj/a/moved-2.jpg", "previously": "/data/item-0000002.jpg", '
    '"metadata": {"stage": "picked"}}\n'
)


def test_the_shape_table_names_every_kind_and_every_action() -> None:
    assert set(SHAPES) == set(Kind), "a kind without plan shapes: add them to SHAPES"
    used = {action for shapes in SHAPES.values() for shape in shapes for action in shape}
    assert used == set(Action), "an action no shape uses: add the shapes to SHAPES"


@contextlib.contextmanager
def served(tmp_path: Path) -> Iterator[SandboxServer]:
    """A served sandbox with /data (5 items), two members and an integration over a bucket."""
    db, key = tmp_path / "sandbox.sqlite", tmp_path / "admin.key"
    buckets = tmp_path / "buckets"
    for prefix in ("cams", "old", "new"):
        shutil.copytree(BUCKET_FILES / "cats", buckets / "bucket" / prefix)
    commands = [
        ("init", "--admin-email", "admin@example.com", "--key-out", str(key)),
        ("seed", "--under", "/data", "--items", "5"),
        ("add-user", "--email", "alice@example.com", "--token-out", str(tmp_path / "a.tok")),
        ("add-user", "--email", "bob@example.com", "--token-out", str(tmp_path / "b.tok")),
        ("add-integration", "--title", "s3-raw", "--provider", "s3", "--root", str(buckets)),
    ]
    for command in commands:
        done = run_cli("sandbox", command[0], "--db", str(db), *command[1:])
        assert done.returncode == 0, done.stderr
    with running_sandbox(tmp_path, init=False) as server:
        _hand_made(server)
        yield server


def _hand_made(server: SandboxServer) -> None:
    """Folders and groups made by hand (no ownership marker), for the second round to adopt."""
    client = sdk(server)
    hand = client.create_storage_folder("hand")
    for name in ("a", "b", "c", "d"):
        client.create_storage_folder(name, parent_folder=hand.uuid)
    client.create_group("hand-one", "made by hand")
    client.create_group("hand-two", "made by hand")


def write_config(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    buckets = directory.parent / "buckets"
    (directory / "reconciler.yaml").write_text(SETTINGS.format(buckets=buckets))
    (directory / "main.yaml").write_text(body)
    (directory / "moves.jsonl").write_text(MOVES)
    (directory / "registered.jsonl").write_text(REGISTERED)
    return directory


def stopped_run(config: Path, created: tuple[str, ...]) -> None:
    """The journal a killed apply leaves after creating these folders and before it saw
    their syncs start (it names no process, so no one waits for it), written before the plan."""
    with Journal.open(journal_path(config, "sha256:" + "0" * 64)) as journal:
        journal.start(checksum="sha256:" + "0" * 64, target="sandbox", at="t0", resume=False)
        for path in created:
            journal.created(f"folder:{path}", f"uuid-of-{path}")
    an_hour_ago = time.time() - 3600
    os.utime(journal.path, (an_hour_ago, an_hour_ago))


def shapes_of(plan_file: Path) -> set[tuple[str, tuple[str, ...]]]:
    doc = json.loads(plan_file.read_text())
    return {(c["kind"], tuple(c["actions"])) for c in doc["changes"]}


@pytest.mark.slow
def test_a_saved_plan_of_every_shape_applies_on_an_unchanged_organisation(
    tmp_path: Path,
) -> None:
    table = {(str(k), tuple(map(str, shape))) for k, shapes in SHAPES.items() for shape in shapes}
    covered: set[tuple[str, tuple[str, ...]]] = set()
    with served(tmp_path) as server:
        for number, body in enumerate((FIRST, SECOND, THIRD), start=1):
            config = write_config(tmp_path / "config", body)
            if body is THIRD:
                stopped_run(config, STOPPED)
            plan_file = tmp_path / f"plan-{number}.json"
            made = run_cli("plan", str(config), "--out", str(plan_file), "--force", *flags(server))
            assert made.returncode == 0, made.stdout + made.stderr
            shapes = shapes_of(plan_file)
            assert shapes <= table, shapes - table
            covered |= shapes
            applied = run_cli(
                "apply", str(plan_file), "--auto-approve", *flags(server), timeout=300
            )
            assert applied.returncode == 0, f"round {number}:\n{applied.stdout}{applied.stderr}"
            assert "changed since the plan" not in applied.stdout
            assert "Verified: a fresh plan is empty." in applied.stdout
        again = run_cli("plan", str(config), "--detailed-exitcode", *flags(server))
        assert again.returncode == 0, again.stdout + again.stderr
    assert covered == table, f"shapes no scenario covers: {sorted(table - covered)}"
