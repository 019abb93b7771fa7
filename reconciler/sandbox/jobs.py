"""Cloud-sync jobs: scan a synced folder's directory in the background, apply it to the store.

A sync makes the subtree under a cloud-linked folder mirror its directory: sub-directories
become generic sub-folders (created by and owned like the synced folder, found again by their
relative path even if renamed), files become items (matched by remote URL), items whose files
are gone become tombstones, re-added files are restored and changed files (size or mtime)
updated. A sync never deletes folders. Jobs run one at a time on one worker thread, each
applied in a single write transaction; the filesystem walk happens outside it.

With metadata ingestion in the folder's config, files ending in its suffix are sidecars, not
items; unless ingestion is paused, a sidecar's JSON object becomes the client metadata of
the item with its path minus the suffix, whenever the sidecar is new or changed (its mtime),
so an edit made to the item since is kept until the sidecar changes again.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reconciler.sandbox.cloud import (
    RemoteLocation,
    Scan,
    ScannedFile,
    classify,
    file_url,
    image_size,
    remote_location,
    scan,
)
from reconciler.sandbox.store.access import FOLDER_SELECT
from reconciler.sandbox.store.common import new_uuid, now_text, path_end
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.folders import NewFolder, insert_folder
from reconciler.sandbox.store.items import insert_items
from reconciler.sandbox.store.sync import empty_result, finish_job, integration_by_id
from reconciler.sandbox.store.uploads import folder_config

log = logging.getLogger(__name__)

SCAN_PAGE = 1000  # files per reported "scan page"
MAX_SIDECAR_BYTES = 1 << 20  # a larger sidecar is not attached (and logged)


@dataclass(slots=True)
class SyncCounts:
    created: int = 0
    updated: int = 0
    restored: int = 0
    tombstoned: int = 0
    skipped: int = 0
    files: int = 0

    def result(self) -> dict[str, int]:
        units = self.created + self.updated + self.restored
        return empty_result(
            scanPagesProcessingDone=max(1, math.ceil(self.files / SCAN_PAGE)),
            uploadJobsDone=1 if units else 0,
            uploadJobsUnitsDone=units,
            uploadJobsUnitsError=self.skipped,
        )


class SyncRunner:
    """Runs sync jobs on one background thread; ``done_event`` lets long-polls wait for a job
    that is queued or running (None once it is finished: its row says so)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-sync")
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, job_uuid: str, folder_id: int) -> None:
        """Queue a job whose row is committed (``pending``)."""
        with self._lock:
            self._events[job_uuid] = threading.Event()
        self._executor.submit(self._run, job_uuid, folder_id)

    def done_event(self, job_uuid: str) -> threading.Event | None:
        with self._lock:
            return self._events.get(job_uuid)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_uuid: str, folder_id: int) -> None:
        try:
            target = self._target(folder_id)
            found = scan(target.location)
            with self._db.write() as conn:
                counts = apply_scan(conn, folder_id, target, found)
                finish_job(conn, job_uuid, "done", counts.result())
            log.info("sync %s done: %s", job_uuid, counts)
        except Exception as exc:  # a failed job is reported through its status, not raised
            log.warning("sync %s failed: %s", job_uuid, exc)
            with self._db.write() as conn:
                finish_job(conn, job_uuid, "error", empty_result(scanPagesProcessingError=1))
        finally:
            with self._lock:  # a later poll reads the finished job from the store
                event = self._events.pop(job_uuid, None)
            if event is not None:
                event.set()

    def _target(self, folder_id: int) -> SyncTarget:
        with self._db.read() as conn:
            folder = conn.execute("SELECT * FROM folders WHERE id = ?", (folder_id,)).fetchone()
            integration = integration_by_id(conn, folder["integration_id"])
        remote_url = str(folder["remote_url"])
        return SyncTarget(
            location=remote_location(integration["provider"], integration["root"], remote_url),
            remote_url=remote_url,
            storage=str(integration["provider"]),
            integration_id=int(integration["id"]),
        )


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """Where a synced folder's files live and how its items are labelled."""

    location: RemoteLocation
    remote_url: str
    storage: str  # StorageLocationName of the integration's provider
    integration_id: int


def apply_scan(
    conn: sqlite3.Connection, folder_id: int, target: SyncTarget, found: Scan
) -> SyncCounts:
    """Make the synced folder's subtree match ``found``; return what changed."""
    root = conn.execute(FOLDER_SELECT + " WHERE f.id = ?", (folder_id,)).fetchone()
    folders = _ensure_folders(conn, root, found.dirs)
    known = _known_items(conn, root, target.integration_id)
    files, sidecars = _split_sidecars(conn, folder_id, found.files)
    counts = SyncCounts(files=len(found.files))
    seen: set[str] = set()
    new_rows: list[tuple[object, ...]] = []
    now = now_text()
    for entry in files:
        kind = classify(entry.relpath.rsplit("/", 1)[-1])
        if kind is None:
            counts.skipped += 1
            continue
        url = file_url(target.remote_url, entry.relpath)
        seen.add(url)
        row = known.get(url)
        if row is None:
            parent = folders[entry.relpath.rpartition("/")[0]]
            new_rows.append(_new_item(root, parent, entry, kind, url, target, now))
            counts.created += 1
        else:
            _refresh_item(conn, row, entry, target, counts, now)
    insert_items(conn, new_rows)
    gone = [row["id"] for url, row in known.items() if url not in seen and not row["is_tombstone"]]
    conn.executemany(
        "UPDATE items SET is_tombstone = 1, last_edited_at = ? WHERE id = ?",
        [(now, item_id) for item_id in gone],
    )
    counts.tombstoned = len(gone)
    if sidecars:
        _attach_sidecars(conn, root, target, sidecars, now)
    return counts


def _split_sidecars(
    conn: sqlite3.Connection, folder_id: int, files: tuple[ScannedFile, ...]
) -> tuple[tuple[ScannedFile, ...], dict[str, ScannedFile]]:
    """Data files, and the sidecars to attach keyed by their data file's path (none when
    ingestion is off or paused: paused sidecars are still not items)."""
    ingestion = folder_config(conn, folder_id).get("metadataIngestion")
    if not ingestion:
        return files, {}
    suffix = str(ingestion["matcher"]["suffix"])
    data = tuple(f for f in files if not f.relpath.endswith(suffix))
    if ingestion.get("paused"):
        return data, {}
    return data, {f.relpath[: -len(suffix)]: f for f in files if f.relpath.endswith(suffix)}


def _attach_sidecars(
    conn: sqlite3.Connection,
    root: sqlite3.Row,
    target: SyncTarget,
    sidecars: dict[str, ScannedFile],
    now: str,
) -> None:
    urls = {file_url(target.remote_url, relpath): f for relpath, f in sidecars.items()}
    rows = conn.execute(
        "SELECT id, url, sidecar_mtime_ns FROM items WHERE folder_path >= ? AND folder_path < ? "
        "AND integration_id = ? AND is_tombstone = 0 AND url IS NOT NULL",
        (root["path"], path_end(root["path"]), target.integration_id),
    ).fetchall()
    for row in rows:
        sidecar = urls.get(row["url"])
        if sidecar is None or row["sidecar_mtime_ns"] == sidecar.mtime_ns:
            continue
        metadata = _read_sidecar(target.location.directory / sidecar.relpath)
        if metadata is not None:
            conn.execute(
                "UPDATE items SET client_metadata = ?, sidecar_mtime_ns = ?, last_edited_at = ? "
                "WHERE id = ?",
                (json.dumps(metadata), sidecar.mtime_ns, now, row["id"]),
            )


def _read_sidecar(path: Path) -> dict[str, object] | None:
    """The sidecar's JSON object; None (logged) when it is not one or is too large."""
    try:  # O_NOFOLLOW, O_NONBLOCK: a sidecar swapped for a link or a FIFO since the scan
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(MAX_SIDECAR_BYTES + 1)
        value = json.loads(data) if len(data) <= MAX_SIDECAR_BYTES else None
    except (OSError, ValueError):
        value = None
    if not isinstance(value, dict):
        log.warning("sidecar %s is not a JSON object of at most 1 MiB; not attached", path)
        return None
    return value


def _ensure_folders(
    conn: sqlite3.Connection, root: sqlite3.Row, dirs: tuple[str, ...]
) -> dict[str, sqlite3.Row]:
    """Folder row for every scanned directory ("" is the synced folder), creating missing ones."""
    rows = conn.execute(
        FOLDER_SELECT + " WHERE f.sync_root_id = ? AND f.path > ? AND f.path < ?",
        (root["id"], root["path"], path_end(root["path"])),
    ).fetchall()
    folders = {row["sync_relpath"]: row for row in rows}
    folders[""] = root
    for relpath in dirs:  # parents come first
        if relpath in folders:
            continue
        parent_rel, _, name = relpath.rpartition("/")
        folders[relpath] = insert_folder(
            conn,
            NewFolder(
                name=name,
                owner_id=root["owner_id"],
                parent=folders[parent_rel],
                sync_root_id=root["id"],
                sync_relpath=relpath,
            ),
        )
    return folders


def _known_items(
    conn: sqlite3.Connection, root: sqlite3.Row, integration_id: int
) -> dict[str, sqlite3.Row]:
    rows = conn.execute(
        "SELECT id, url, item_type, is_tombstone, file_size, source_mtime_ns FROM items "
        "WHERE folder_path >= ? AND folder_path < ? AND url IS NOT NULL AND integration_id = ?",
        (root["path"], path_end(root["path"]), integration_id),
    ).fetchall()
    return {row["url"]: row for row in rows}


def _new_item(
    root: sqlite3.Row,
    parent: sqlite3.Row,
    entry: ScannedFile,
    kind: tuple[str, str],
    url: str,
    target: SyncTarget,
    now: str,
) -> tuple[object, ...]:
    """Values in ``items.INSERT_COLUMNS`` order."""
    name = entry.relpath.rpartition("/")[2]
    width, height = _dimensions(kind[0], target, entry)
    return (
        new_uuid(),
        parent["id"],
        parent["path"],
        kind[0],
        name,
        name.lower(),
        "",
        "{}",
        root["owner_id"],
        now,
        now,
        target.storage,
        target.integration_id,
        url,
        entry.size,
        kind[1],
        width,
        height,
        entry.mtime_ns,
    )


def _refresh_item(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    entry: ScannedFile,
    target: SyncTarget,
    counts: SyncCounts,
    now: str,
) -> None:
    changed = (row["file_size"], row["source_mtime_ns"]) != (entry.size, entry.mtime_ns)
    if not row["is_tombstone"] and not changed:
        return
    if row["is_tombstone"]:
        counts.restored += 1
    else:
        counts.updated += 1
    width, height = _dimensions(row["item_type"], target, entry)
    conn.execute(
        "UPDATE items SET is_tombstone = 0, file_size = ?, source_mtime_ns = ?, width = ?, "
        "height = ?, last_edited_at = ? WHERE id = ?",
        (entry.size, entry.mtime_ns, width, height, now, row["id"]),
    )


def _dimensions(
    item_type: str, target: SyncTarget, entry: ScannedFile
) -> tuple[int | None, int | None]:
    """Width and height of an image whose header tells them cheaply; else (None, None)."""
    size = image_size(target.location.directory / entry.relpath) if item_type == "image" else None
    return size if size else (None, None)
