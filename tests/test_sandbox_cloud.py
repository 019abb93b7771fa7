"""Cloud-synced folders: URL → directory mapping, the scanner, and sync jobs through HTTP."""

from __future__ import annotations

import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import Harness, open_harness

from reconciler.sandbox.cloud import RemoteLocation, classify, image_size, remote_location, scan
from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.provision import add_integration
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.store import sync
from reconciler.sandbox.store.db import Database
from reconciler.wire.storage import StorageItem, SyncResult


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def write(root: Path, files: dict[str, bytes]) -> None:
    for relpath, data in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# --- mapping and scanning ------------------------------------------------------------------


def test_remote_urls_map_under_the_root(tmp_path: Path) -> None:
    root = str(tmp_path)
    assert remote_location("s3", root, "s3://bucket/prefix/") == RemoteLocation(
        tmp_path / "bucket", tmp_path / "bucket" / "prefix"
    )
    assert remote_location("gcp", root, "gs://b/p/q/").directory == tmp_path / "b" / "p" / "q"
    azure = remote_location("azure", root, "https://acct.blob.core.windows.net/container/p/")
    assert azure == RemoteLocation(tmp_path / "container", tmp_path / "container" / "p")
    assert remote_location("s3", root, "s3://bucket").directory == tmp_path / "bucket"


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("s3", "gs://bucket/p/"),
        ("gcp", "s3://bucket/p/"),
        ("azure", "s3://bucket/p/"),
        ("azure", "https://example.com/container/p/"),
        ("azure", "https://acct.blob.core.windows.net/"),
        ("s3", "s3://bucket/../../etc/"),
        ("s3", "s3://../etc/"),
        ("s3", "s3:///nobucket/"),
        ("s3", "/local/path"),
    ],
)
def test_foreign_or_escaping_urls_are_refused(tmp_path: Path, provider: str, url: str) -> None:
    with pytest.raises(ApiError) as caught:
        remote_location(provider, str(tmp_path), url)
    assert caught.value.status == 400


def test_classify_and_image_headers(tmp_path: Path) -> None:
    assert classify("a.JPG") == ("image", "image/jpeg")
    assert classify("brain.nii.gz") == ("nifti", "application/gzip")
    assert classify("scan.dcm") == ("dicomFile", "application/dicom")
    assert classify("notes.md") == ("plainText", "text/markdown")
    assert classify("archive.zip") is None
    write(tmp_path, {"a.png": png(3, 2), "b.jpg": jpeg(640, 480), "c.png": b"not really"})
    assert image_size(tmp_path / "a.png") == (3, 2)
    assert image_size(tmp_path / "b.jpg") == (640, 480)
    assert image_size(tmp_path / "c.png") is None
    assert image_size(tmp_path / "missing.png") is None


def test_scan_lists_files_and_directories_parents_first(tmp_path: Path) -> None:
    write(
        tmp_path / "bucket" / "p",
        {"z.png": b"1", "a/b/c.txt": b"22", "a/d.txt": b"", ".hidden": b"x", ".git/x.png": b"x"},
    )
    found = scan(RemoteLocation(tmp_path / "bucket", tmp_path / "bucket" / "p"))
    assert found.dirs == ("a", "a/b")
    assert sorted((f.relpath, f.size) for f in found.files) == [
        ("a/b/c.txt", 2),
        ("a/d.txt", 0),
        ("z.png", 1),
    ]
    assert scan(RemoteLocation(tmp_path / "bucket", tmp_path / "bucket" / "gone")).files == ()
    with pytest.raises(FileNotFoundError):
        scan(RemoteLocation(tmp_path / "nobucket", tmp_path / "nobucket" / "p"))


def test_links_fifos_and_devices_are_not_objects(tmp_path: Path) -> None:
    # A link could lead outside the bucket (leaking what it points at into sizes and image
    # headers); a FIFO would block the sync that opened it for its image header.
    secret = tmp_path / "outside" / "secret.png"
    write(tmp_path / "outside", {"secret.png": png(7, 7), "dir/x.png": png(1, 1)})
    prefix = tmp_path / "bucket" / "p"
    write(prefix, {"real.png": png(2, 2)})
    (prefix / "leak.png").symlink_to(secret)
    (prefix / "leakdir").symlink_to(tmp_path / "outside" / "dir")
    os.mkfifo(prefix / "pipe.png")
    found = within_seconds(20, lambda: scan(RemoteLocation(tmp_path / "bucket", prefix)))
    assert [f.relpath for f in found.files] == ["real.png"]
    assert found.dirs == ()
    assert within_seconds(20, lambda: image_size(prefix / "pipe.png")) is None
    assert image_size(prefix / "leak.png") is None


def within_seconds(seconds: float, work: Any) -> Any:
    """Run ``work`` in a thread and fail (not hang) if it is still running after ``seconds``."""
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


# --- sync through the API ------------------------------------------------------------------


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


@pytest.fixture
def bucket_root(tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    (root / "bucket").mkdir(parents=True)
    return root


@pytest.fixture
def integration(sb: Harness, bucket_root: Path) -> str:
    return add_integration(sb.db_path, title="s3-main", provider="s3", root=bucket_root)


def synced_folder(sb: Harness, integration: str, url: str = "s3://bucket/data/") -> dict[str, Any]:
    params = {"integrationUuid": integration, "remoteUrl": url}
    return sb.folder("cloud", description="synced", cloudSyncedFolderParams=params)


def run_sync(sb: Harness, folder: dict[str, Any]) -> dict[str, Any]:
    job = sb.ok(sb.post(f"/storage/folders/{folder['uuid']}/cloud-synced-folder-syncs"))
    assert isinstance(job, str)
    path = f"/storage/folders/{folder['uuid']}/cloud-linked-folder-syncs/{job}/long-polling"
    result: dict[str, Any] = sb.ok(sb.get(path, query=[("timeoutSeconds", 30)]))
    SyncResult.model_validate(result)
    return result


def subtree_items(sb: Harness, folder: dict[str, Any]) -> dict[str, dict[str, Any]]:
    page = sb.ok(
        sb.get(
            f"/storage/folders/{folder['uuid']}/items",
            query=[("isRecursive", True), ("pageSize", 1000)],
        )
    )
    return {item["url"]: item for item in page["results"]}


def test_create_synced_folder_validates_url_and_integration(sb: Harness, integration: str) -> None:
    folder = synced_folder(sb, integration)
    assert (folder["folderType"], folder["integrationHash"], folder["remoteUrl"]) == (
        "cloudLinked",
        integration,
        "s3://bucket/data/",
    )
    bad_scheme = {
        "name": "x",
        "cloudSyncedFolderParams": {"integrationUuid": integration, "remoteUrl": "gs://bucket/p/"},
    }
    assert sb.post("/storage/folders", bad_scheme).status_code == 400
    escape = {
        "name": "x",
        "cloudSyncedFolderParams": {
            "integrationUuid": integration,
            "remoteUrl": "s3://bucket/../../x/",
        },
    }
    assert sb.post("/storage/folders", escape).status_code == 400
    unknown = {
        "name": "x",
        "cloudSyncedFolderParams": {
            "integrationUuid": "7e88ed37-51c2-49a2-ae75-c91809824dd2",
            "remoteUrl": "s3://b/",
        },
    }
    assert sb.post("/storage/folders", unknown).status_code == 404
    assert [f["name"] for f in sb.ok(sb.get("/storage/folders"))["results"]] == ["cloud"]
    generic = sb.folder("plain")
    assert (
        sb.post(f"/storage/folders/{generic['uuid']}/cloud-synced-folder-syncs").status_code == 400
    )


def test_sync_creates_folders_and_items(sb: Harness, integration: str, bucket_root: Path) -> None:
    write(
        bucket_root / "bucket" / "data",
        {
            "top.png": png(3, 2),
            "sub/deep/clip.mp4": b"\x00" * 10,
            "sub/notes.txt": b"hi",
            "sub/x.zip": b"z",
        },
    )
    folder = synced_folder(sb, integration)
    result = run_sync(sb, folder)
    assert result["status"] == "done"
    assert (
        result["uploadJobsUnitsDone"],
        result["uploadJobsUnitsError"],
        result["uploadJobsDone"],
    ) == (3, 1, 1)
    assert result["scanPagesProcessingDone"] == 1 and result["scanPagesProcessingPending"] == 0
    subfolders = sb.ok(
        sb.get(f"/storage/folders/{folder['uuid']}/folders", query=[("isRecursive", True)])
    )["results"]
    assert sorted(f["name"] for f in subfolders) == ["deep", "sub"]
    assert all(f["folderType"] == "generic" and f["owner"] == folder["owner"] for f in subfolders)
    items = subtree_items(sb, folder)
    assert sorted(items) == [
        "s3://bucket/data/sub/deep/clip.mp4",
        "s3://bucket/data/sub/notes.txt",
        "s3://bucket/data/top.png",
    ]
    top = items["s3://bucket/data/top.png"]
    StorageItem.model_validate(top)
    assert (top["itemType"], top["mimeType"], top["fileSize"], top["width"], top["height"]) == (
        "image",
        "image/png",
        len(png(3, 2)),
        3,
        2,
    )
    assert (top["storageLocation"], top["integrationHash"], top["parent"]) == (
        "s3",
        integration,
        folder["uuid"],
    )
    clip = items["s3://bucket/data/sub/deep/clip.mp4"]
    deep = next(f for f in subfolders if f["name"] == "deep")
    assert (clip["itemType"], clip["parent"], clip["width"]) == ("video", deep["uuid"], None)


def test_resync_tombstones_restores_updates_and_keeps_folders(
    sb: Harness, integration: str, bucket_root: Path
) -> None:
    prefix = bucket_root / "bucket" / "data"
    write(
        prefix,
        {"keep.png": png(1, 1), "gone.txt": b"1", "sub/inner.txt": b"2", "touch.txt": b"same"},
    )
    folder = synced_folder(sb, integration)
    run_sync(sb, folder)
    first = subtree_items(sb, folder)
    (prefix / "gone.txt").unlink()
    (prefix / "sub" / "inner.txt").unlink()
    (prefix / "sub").rmdir()
    stamp = os.stat(prefix / "touch.txt").st_mtime_ns + 5_000_000_000
    os.utime(prefix / "touch.txt", ns=(stamp, stamp))
    second = run_sync(sb, folder)
    assert second["uploadJobsUnitsDone"] == 1  # touch.txt updated; tombstones are not units
    after = subtree_items(sb, folder)
    gone = after["s3://bucket/data/gone.txt"]
    assert (
        gone["isTombstone"] is True
        and gone["lastEditedAt"] > first["s3://bucket/data/gone.txt"]["lastEditedAt"]
    )
    assert after["s3://bucket/data/sub/inner.txt"]["isTombstone"] is True
    assert after["s3://bucket/data/keep.png"] == first["s3://bucket/data/keep.png"]
    touched = after["s3://bucket/data/touch.txt"]
    assert (
        touched["lastEditedAt"] > first["s3://bucket/data/touch.txt"]["lastEditedAt"]
        and not touched["isTombstone"]
    )
    subs = sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/folders"))["results"]
    assert [f["name"] for f in subs] == ["sub"]  # a sync never deletes folders
    assert sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/summary"))["tombstones"] == 1
    write(prefix, {"gone.txt": b"back!"})
    run_sync(sb, folder)
    restored = subtree_items(sb, folder)["s3://bucket/data/gone.txt"]
    assert (restored["uuid"], restored["isTombstone"], restored["fileSize"]) == (
        gone["uuid"],
        False,
        5,
    )


def test_sync_finds_renamed_subfolders_by_their_directory(
    sb: Harness, integration: str, bucket_root: Path
) -> None:
    write(bucket_root / "bucket" / "data", {"sub/a.txt": b"a"})
    folder = synced_folder(sb, integration)
    run_sync(sb, folder)
    [sub] = sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/folders"))["results"]
    sb.ok(sb.patch(f"/storage/folders/{sub['uuid']}", {"name": "renamed"}))
    write(bucket_root / "bucket" / "data", {"sub/b.txt": b"b"})
    run_sync(sb, folder)
    subs = sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/folders"))["results"]
    assert [(f["uuid"], f["name"]) for f in subs] == [(sub["uuid"], "renamed")]
    names = sorted(
        i["name"] for i in sb.ok(sb.get(f"/storage/folders/{sub['uuid']}/items"))["results"]
    )
    assert names == ["a.txt", "b.txt"]


def test_missing_bucket_fails_without_tombstoning(
    sb: Harness, integration: str, bucket_root: Path
) -> None:
    folder = synced_folder(sb, integration, "s3://nobucket/data/")
    result = run_sync(sb, folder)
    assert (result["status"], result["scanPagesProcessingError"]) == ("error", 1)


def test_long_poll_waits_and_answers_pending_at_its_timeout(
    sb: Harness, integration: str, bucket_root: Path
) -> None:
    write(bucket_root / "bucket" / "data", {"a.txt": b"a"})
    folder = synced_folder(sb, integration)
    gate = threading.Event()
    sb.runtime.jobs._executor.submit(gate.wait, 30)  # hold the one sync worker
    try:
        job = sb.ok(sb.post(f"/storage/folders/{folder['uuid']}/cloud-synced-folder-syncs"))
        path = f"/storage/folders/{folder['uuid']}/cloud-linked-folder-syncs/{job}/long-polling"
        started = time.monotonic()
        pending = sb.ok(sb.get(path, query=[("timeoutSeconds", 1)]))
        assert pending["status"] == "pending" and time.monotonic() - started >= 0.9
        assert pending["scanPagesProcessingPending"] == 1
    finally:
        gate.set()
    done = sb.ok(sb.get(path, query=[("timeoutSeconds", 30)]))
    assert done["status"] == "done" and done["uploadJobsUnitsDone"] == 1
    assert sb.get(path.replace(job, "7e88ed37-51c2-49a2-ae75-c91809824dd2")).status_code == 404


def test_long_poll_cap(tmp_path: Path) -> None:
    options = SandboxOptions(long_poll_cap_seconds=0.2)
    with open_harness(tmp_path, options=options) as sb:
        (tmp_path / "root" / "bucket").mkdir(parents=True)
        integration = add_integration(sb.db_path, title="i", provider="s3", root=tmp_path / "root")
        folder = synced_folder(sb, integration)
        gate = threading.Event()
        sb.runtime.jobs._executor.submit(gate.wait, 30)
        try:
            job = sb.ok(sb.post(f"/storage/folders/{folder['uuid']}/cloud-synced-folder-syncs"))
            started = time.monotonic()
            path = f"/storage/folders/{folder['uuid']}/cloud-linked-folder-syncs/{job}/long-polling"
            assert sb.ok(sb.get(path, query=[("timeoutSeconds", 604800)]))["status"] == "pending"
            assert time.monotonic() - started < 5
        finally:
            gate.set()


def test_jobs_cut_short_by_a_stop_are_failed_on_start(tmp_path: Path) -> None:
    with open_harness(tmp_path) as sb:
        folder = sb.folder("f")
        db = Database.open(sb.db_path)
        try:
            with db.write() as conn:
                row = conn.execute(
                    "SELECT id FROM folders WHERE uuid = ?", (folder["uuid"],)
                ).fetchone()
                job = sync.create_job(conn, row["id"])
        finally:
            db.close()
        db_path = sb.db_path
    runtime = Runtime(db_path, SandboxOptions())
    try:
        with runtime.db.read() as conn:
            assert sync.job_result(sync.job_by_uuid(conn, row["id"], job))["status"] == "error"
    finally:
        runtime.close()
