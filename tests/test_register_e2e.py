"""Registered cloud data end to end over a loopback socket, with the official SDK as the
independent reader: a 1,000-object manifest registers in one plan and apply and plans empty
after; edited rows plan metadata updates for those rows only; removed rows are deleted under
``prune: owned`` and never under ``never``; a missing object fails its row alone; a killed
registration resumes without registering anything twice; sidecars attach metadata on sync
and ``sync: always`` syncs on every apply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from encord.storage import StorageFolder
from encord.user_client import EncordUserClient
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

ROWS = 1000
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    """One served sandbox for the module, its integration a directory of objects."""
    base = tmp_path_factory.mktemp("register")
    buckets = base / "buckets"
    for n in range(ROWS):
        _object(buckets, f"raw/b7/f{n:04d}.jpg")
    server_dir = base / "server"
    server_dir.mkdir()
    db, key = server_dir / "sandbox.sqlite", server_dir / "admin.key"
    for step in (
        ("sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com",
         "--key-out", str(key)),
        ("sandbox", "add-integration", "--db", str(db), "--title", "s3-raw",
         "--provider", "s3", "--root", str(buckets)),
    ):  # fmt: skip
        done = run_cli(*step)
        assert done.returncode == 0, done.stderr
    with running_sandbox(server_dir, init=False, serve_args=("--upload-unit-ms", "5")) as server:
        yield server, buckets


def _object(buckets: Path, key: str, data: bytes = JPEG) -> None:
    path = buckets / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _config(directory: Path, buckets: Path, folders: str, rows: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(
        "version: 1\n"
        "target:\n"
        "  sandbox:\n"
        "    path: .reconciler/unused.sqlite\n"
        f"    integrations: {{s3-raw: {{provider: s3, root: {buckets}}}}}\n"
        "ownership: {id: register-e2e}\n"
        "policy: {max_delete_ratio: 0.5}\n"
    )
    (directory / "folders.yaml").write_text(folders)
    (directory / "batch.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return directory


def _register(path: str, prune: str = "never") -> str:
    return (
        f"folders:\n  {path}:\n    register:\n      integration: s3-raw\n"
        f"      manifest: batch.jsonl\n      prune: {prune}\n"
    )


def _rows(count: int = ROWS) -> list[dict[str, Any]]:
    return [
        {"url": f"s3://raw/b7/f{n:04d}.jpg", "metadata": {"split": "train", "n": n}}
        for n in range(count)
    ]


def _apply(config: Path, server: SandboxServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("apply", str(config), "--auto-approve", *flags(server), *extra, timeout=600)


def _plan_json(config: Path, server: SandboxServer) -> dict[str, Any]:
    out = config / "plan.json"
    done = run_cli("plan", str(config), "--out", str(out), *flags(server), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def _folder(uc: EncordUserClient, name: str) -> StorageFolder:
    (found,) = [f for f in uc.find_storage_folders(search=name) if f.name == name]
    return found


def _items(uc: EncordUserClient, name: str) -> dict[str, Any]:
    """Item name -> (url, client metadata), as the SDK reads them."""
    return {i.name: (i.url, i.client_metadata) for i in _folder(uc, name).list_items()}


def test_a_manifest_registers_converges_updates_and_prunes(
    world: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = world
    config = _config(tmp_path / "c", buckets, _register("/batch"), _rows())
    first = _apply(config, server)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "register:/batch" in first.stdout and "1,000 objects (image 1,000)" in first.stdout
    assert "Verified: a fresh plan is empty" in first.stdout  # the second plan is empty
    uc = sdk(server)
    items = _items(uc, "batch")
    assert len(items) == ROWS
    url, metadata = items["f0007.jpg"]
    assert url == "s3://raw/b7/f0007.jpg"
    assert metadata == {"split": "train", "n": 7, "reconciler.owner": "register-e2e"}

    edited = _rows()
    for n in (3, 500, 999):
        edited[n]["metadata"]["split"] = "val"
    _config(config, buckets, _register("/batch"), edited)
    plan = _plan_json(config, server)
    assert sorted((c["address"], c["actions"]) for c in plan["changes"]) == [
        (f"item:/batch/f{n:04d}.jpg", ["patch"]) for n in (3, 500, 999)
    ]
    assert _apply(config, server).returncode == 0
    assert _items(uc, "batch")["f0500.jpg"][1]["split"] == "val"

    kept = edited[:995]
    _config(config, buckets, _register("/batch", "never"), kept)
    assert _plan_json(config, server)["changes"] == []  # prune: never deletes nothing
    _config(config, buckets, _register("/batch", "owned"), kept)
    plan = _plan_json(config, server)
    assert sorted(c["address"] for c in plan["changes"]) == [
        f"item:/batch/f{n:04d}.jpg" for n in range(995, 1000)
    ]
    assert all(c["actions"] == ["delete"] for c in plan["changes"])
    pruned = _apply(config, server, "--force")  # 5 of ~1,000: under the threshold anyway
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert len(_items(uc, "batch")) == 995


def test_a_missing_object_fails_only_its_row(
    world: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = world
    rows = [*_rows(3), {"url": "s3://raw/b7/missing.jpg"}, {"url": "s3://raw/b7/f0010.jpg"}]
    config = _config(tmp_path / "c", buckets, _register("/partial"), rows)
    done = _apply(config, server)
    assert done.returncode == 1
    assert "batch.jsonl:4" in done.stdout + done.stderr
    assert "s3://raw/b7/missing.jpg" in done.stdout + done.stderr
    names = set(_items(sdk(server), "partial"))
    assert names == {"f0000.jpg", "f0001.jpg", "f0002.jpg", "f0010.jpg"}
    plan = _plan_json(config, server)
    (register,) = plan["changes"]  # only the missing object is still to register
    assert [r["url"] for r in register["after"]["rows"]] == ["s3://raw/b7/missing.jpg"]


def test_sidecars_attach_metadata_on_sync_and_sync_always_syncs_every_apply(
    world: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = world
    _object(buckets, "raw/cams/a.jpg")
    _object(buckets, "raw/cams/a.jpg.metadata.json", b'{"camera": "front"}')
    folders = (
        "folders:\n  /cams:\n    cloud_sync:\n      integration: s3-raw\n"
        "      remote_url: s3://raw/cams/\n      sync: always\n"
        "      metadata_sidecars: {suffix: .metadata.json}\n"
    )
    config = _config(tmp_path / "c", buckets, folders, [])
    first = _apply(config, server)
    assert first.returncode == 0, first.stdout + first.stderr
    uc = sdk(server)
    items = _items(uc, "cams")
    assert set(items) == {"a.jpg"} and items["a.jpg"][1] == {"camera": "front"}
    assert _folder(uc, "cams").get_folder_config().metadata_ingestion is not None
    _object(buckets, "raw/cams/b.jpg")
    again = _apply(config, server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Verified: a fresh plan is empty" in again.stdout
    assert set(_items(uc, "cams")) == {"a.jpg", "b.jpg"}  # synced again by this apply


def test_a_registration_killed_mid_way_resumes_without_registering_twice(
    world: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = world
    config = _config(tmp_path / "c", buckets, _register("/resumed"), _rows())
    if True:  # 1,000 objects at 5 ms each: seconds of jobs to be killed in
        command = [sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve"]
        process = subprocess.Popen(
            [*command, *flags(server)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        journal = config / ".reconciler" / "journal"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _job_started(journal):
            time.sleep(0.05)
        assert _job_started(journal), "no upload job was journaled"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    resumed = _apply(config, server, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    items = _folder(sdk(server), "resumed").list_items()
    urls = [i.url for i in items]
    assert len(urls) == ROWS and len(set(urls)) == ROWS  # every object once


def _job_started(journal: Path) -> bool:
    if not journal.is_dir():
        return False
    return any("upload-job" in f.read_text() for f in journal.rglob("*") if f.is_file())


def test_reconciler_sync_syncs_declared_cloud_folders_now(
    world: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = world
    _object(buckets, "raw/lidar/a.jpg")
    folders = (
        "folders:\n  /lidar:\n    cloud_sync: {integration: s3-raw, remote_url: 's3://raw/lidar/',"
        " sync: never}\n  /later:\n    cloud_sync: {integration: s3-raw,"
        " remote_url: 's3://raw/later/', sync: never}\n"
    )
    config = _config(tmp_path / "c", buckets, folders, [])
    applied = _apply(config, server, "--only", "folder:/lidar")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert _items(sdk(server), "lidar") == {}  # sync: never
    synced = run_cli("sync", str(config), "--only", "/lidar", *flags(server))
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.startswith("/lidar: sync done (1 items done, 0 failed)")
    assert set(_items(sdk(server), "lidar")) == {"a.jpg"}
    every = run_cli("sync", str(config), *flags(server))
    assert every.returncode == 1
    assert "/later: no folder at /later (apply creates it); not synced" in every.stderr
    nothing = run_cli("sync", str(config), "--only", "folder:/nope", *flags(server))
    assert nothing.returncode == 1
    assert nothing.stderr.strip().splitlines()[-1].endswith("nothing to sync")
