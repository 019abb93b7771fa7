"""Data-upload jobs: register cloud objects (files under an integration's root) as items.

Each job runs on a small worker pool, ``BATCH`` units at a time: the worker spends
``upload_unit_ms`` per unit (a real server reads each object's headers), then applies the
batch in one write transaction that first re-reads the job's status, so a cancel between two
batches stops it exactly there. A unit fails on its own (a unit error) when its object is
not under the integration's root, is not a regular file, is of another type than its list
says, or carries metadata the organisation's schema refuses.

``skipDuplicateUrls``: an object whose URL a live item of the folder already has makes no
new item; with ``upsertMetadata`` that item's metadata becomes the unit's (and it is listed
in ``itemsWithNames``). ``ignoreErrors``: the job ends ``DONE`` despite unit errors, never
``ERROR``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.sandbox.cloud import classify, image_size, object_file
from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.metadata import check_values
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.store import org
from reconciler.sandbox.store import uploads as store
from reconciler.sandbox.store.common import new_uuid, now_text
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.items import insert_items
from reconciler.sandbox.store.sync import integration_by_id

log = logging.getLogger(__name__)

BATCH = 100  # units per write transaction

# DataUploadItems list -> the item type its objects must have (None: any file type).
SINGLE_FILE_LISTS: dict[str, str] = {
    "images": "image",
    "videos": "video",
    "audio": "audio",
    "text": "plainText",
    "pdf": "pdf",
    "nifti": "nifti",
    "timeSeries": "timeseries",
}
_ACTIONS = {
    "imageGroups": "Uploading image group",
    "dicomSeries": "Uploading DICOM series",
}


class UnitFailedError(Exception):
    """One unit cannot be registered; the job goes on (internal to this module)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a job's objects live and how its items are labelled."""

    folder: sqlite3.Row
    provider: str
    root: str
    integration_id: int
    owner_id: int
    skip_duplicates: bool
    upsert: bool
    schema: dict[str, Any] | None


@dataclass(slots=True)
class BatchOutcome:
    items: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[list[str], str, str]] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)
    urls: set[str] = field(default_factory=set)  # URLs made by this batch (duplicates in it)
    checked: dict[str, bool] = field(default_factory=dict)  # directory -> inside the root


class UploadRunner:
    """Runs data-upload jobs; ``done_event`` lets long-polls wait for a job in progress."""

    def __init__(self, db: Database, options: SandboxOptions) -> None:
        self._db = db
        self._unit_seconds = options.upload_unit_ms / 1000.0
        self._executor = ThreadPoolExecutor(
            max_workers=options.upload_workers, thread_name_prefix="sandbox-upload"
        )
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def start(self, job_uuid: str) -> None:
        """Queue a job whose row is committed (``PENDING``)."""
        with self._lock:
            self._events[job_uuid] = threading.Event()
        self._executor.submit(self._run, job_uuid)

    def done_event(self, job_uuid: str) -> threading.Event | None:
        with self._lock:
            return self._events.get(job_uuid)

    def wake(self, job_uuid: str) -> None:
        """A job ended outside its worker (cancelled): release its long-polls now."""
        event = self.done_event(job_uuid)
        if event is not None:
            event.set()

    def close(self) -> None:
        self._closing.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_uuid: str) -> None:
        try:
            self._process(job_uuid)
        except Exception:  # a failed job is reported through its status, not raised
            log.warning("data-upload job %s failed", job_uuid, exc_info=True)
            with self._db.write() as conn:
                job = store.job_status(conn, job_uuid)
                if job is not None and job["status"] == store.PENDING:
                    store.finish_job(conn, job["id"], store.ERROR, ["internal error"])
        finally:
            with self._lock:
                event = self._events.pop(job_uuid, None)
            if event is not None:
                event.set()

    def _process(self, job_uuid: str) -> None:
        with self._db.read() as conn:
            job = conn.execute("SELECT * FROM upload_jobs WHERE uuid = ?", (job_uuid,)).fetchone()
            target = _target(conn, job)
        units: list[dict[str, Any]] = json.loads(job["units"])
        for start in range(0, len(units), BATCH):
            batch = units[start : start + BATCH]
            if self._closing.wait(self._unit_seconds * len(batch)):
                return  # the server stops: the job stays pending and fails at next start
            with self._db.write() as conn:
                status = store.job_status(conn, job_uuid)
                if status is None or status["status"] != store.PENDING:
                    return  # cancelled (or its folder deleted) since the last batch
                outcome = register_batch(conn, target, batch)
                store.record_batch(
                    conn,
                    job["id"],
                    done=len(batch) - len(outcome.errors),
                    items=outcome.items,
                    errors=outcome.errors,
                )
        with self._db.write() as conn:
            status = store.job_status(conn, job_uuid)
            if status is not None and status["status"] == store.PENDING:
                failed = status["units_error"] > 0 and not job["ignore_errors"]
                errors = [f"{status['units_error']} units failed"] if failed else []
                store.finish_job(conn, job["id"], store.ERROR if failed else store.DONE, errors)


def _target(conn: sqlite3.Connection, job: sqlite3.Row) -> Target:
    folder = conn.execute("SELECT * FROM folders WHERE id = ?", (job["folder_id"],)).fetchone()
    integration = integration_by_id(conn, job["integration_id"])
    return Target(
        folder=folder,
        provider=str(integration["provider"]),
        root=str(integration["root"]),
        integration_id=int(integration["id"]),
        owner_id=int(job["owner_id"]),
        skip_duplicates=bool(job["skip_duplicate_urls"]),
        upsert=bool(job["upsert_metadata"]),
        schema=org.metadata_schema(conn),
    )


def register_batch(
    conn: sqlite3.Connection, target: Target, batch: list[dict[str, Any]]
) -> BatchOutcome:
    outcome = BatchOutcome()
    for unit in batch:
        key, entry = unit["list"], unit["entry"]
        try:
            _register_unit(conn, target, key, entry, outcome)
        except UnitFailedError as error:
            action = _ACTIONS.get(key, f"Uploading {SINGLE_FILE_LISTS.get(key, key)}")
            outcome.errors.append((_unit_urls(key, entry), str(error), action))
    insert_items(conn, outcome.rows)
    return outcome


def _unit_urls(key: str, entry: dict[str, Any]) -> list[str]:
    if key == "imageGroups":
        return [str(i.get("url")) for i in entry.get("images", [])]
    if key == "dicomSeries":
        return [str(f.get("url")) for f in entry.get("dicomFiles", [])]
    return [str(entry.get("objectUrl", ""))]


def _register_unit(
    conn: sqlite3.Connection,
    target: Target,
    key: str,
    entry: dict[str, Any],
    outcome: BatchOutcome,
) -> None:
    metadata = entry.get("clientMetadata") or {}
    try:
        check_values(target.schema, metadata)
    except ApiError as error:
        raise UnitFailedError(error.message) from None
    if key not in SINGLE_FILE_LISTS:
        _register_group(target, key, entry, metadata, outcome)
        return
    url = str(entry["objectUrl"])
    path = object_path(target, url, outcome.checked)
    item_type, mime = _file_type(path, url, SINGLE_FILE_LISTS[key])
    if target.skip_duplicates and _skip_duplicate(conn, target, url, metadata, outcome):
        return
    name = entry.get("title") or url.rstrip("/").rsplit("/", 1)[-1]
    stat = path.stat()
    width, height = (image_size(path) or (None, None)) if item_type == "image" else (None, None)
    item_uuid = new_uuid()
    outcome.rows.append(
        _row(target, item_uuid, item_type, name, metadata, url, stat.st_size, mime).with_file(
            width, height, stat.st_mtime_ns
        )
    )
    outcome.items.append((item_uuid, name))
    outcome.urls.add(url)


def _row(
    target: Target,
    item_uuid: str,
    item_type: str,
    name: str,
    metadata: dict[str, Any],
    url: str | None,
    size: int | None,
    mime: str | None,
) -> _Row:
    """``items.INSERT_COLUMNS`` values up to ``mime_type``."""
    now = now_text()
    folder = target.folder
    return _Row((
        item_uuid, folder["id"], folder["path"], item_type, name, name.lower(), "",
        json.dumps(metadata), target.owner_id, now, now, target.provider,
        target.integration_id, url, size, mime,
    ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Row:
    head: tuple[object, ...]

    def with_file(
        self, width: int | None, height: int | None, mtime_ns: int | None
    ) -> tuple[object, ...]:
        """The whole ``INSERT_COLUMNS`` row: dimensions and the object's mtime last."""
        return (*self.head, width, height, mtime_ns)


def object_path(target: Target, url: str, checked: dict[str, bool]) -> Path:
    """The regular file standing in for ``url`` under the integration's root."""
    try:
        path = object_file(target.provider, target.root, url, checked)
    except ApiError as error:
        raise UnitFailedError(error.message) from None
    if path is None:
        raise UnitFailedError(f"object {url} does not exist in the bucket")
    return path


def _file_type(path: Path, url: str, expected: str) -> tuple[str, str]:
    found = classify(path.name)
    if expected == "timeseries":
        return expected, found[1] if found else "application/octet-stream"
    if found is None:
        raise UnitFailedError(f"object {url} is not a supported file type")
    if found[0] != expected:
        raise UnitFailedError(f"object {url} is a {found[0]} file, not {expected}")
    return found


def _skip_duplicate(
    conn: sqlite3.Connection,
    target: Target,
    url: str,
    metadata: dict[str, Any],
    outcome: BatchOutcome,
) -> bool:
    """True when an item of the folder already has ``url`` (updated when upserting)."""
    if url in outcome.urls:
        return True  # made earlier in this batch, not inserted yet
    row = conn.execute(
        "SELECT id, uuid, name FROM items WHERE folder_id = ? AND url = ? AND is_tombstone = 0 "
        "ORDER BY id LIMIT 1",
        (target.folder["id"], url),
    ).fetchone()
    if row is None:
        return False
    if target.upsert:
        conn.execute(
            "UPDATE items SET client_metadata = ?, last_edited_at = ? WHERE id = ?",
            (json.dumps(metadata), now_text(), row["id"]),
        )
        outcome.items.append((str(row["uuid"]), str(row["name"])))
    return True


def _register_group(
    target: Target,
    key: str,
    entry: dict[str, Any],
    metadata: dict[str, Any],
    outcome: BatchOutcome,
) -> None:
    """An image group or DICOM series: one item whose frames must all exist."""
    if key == "imageGroups":
        frames, item_type, expected = entry.get("images", []), "imageGroup", "image"
    elif key == "dicomSeries":
        frames, item_type, expected = entry.get("dicomFiles", []), "dicomSeries", "dicomFile"
    else:
        raise UnitFailedError(f"{key} are not supported by the sandbox")
    title = entry.get("title")
    if not title:
        raise UnitFailedError(f"a {item_type} registered from a cloud integration needs a title")
    if not frames:
        raise UnitFailedError(f"{item_type} {title!r} has no files")
    size = 0
    for frame in frames:
        path = object_path(target, str(frame["url"]), outcome.checked)
        _file_type(path, str(frame["url"]), expected)
        size += path.stat().st_size
    item_uuid = new_uuid()
    mime = "application/dicom" if key == "dicomSeries" else None
    outcome.rows.append(
        _row(target, item_uuid, item_type, title, metadata, None, size, mime).with_file(
            None, None, None
        )
    )
    outcome.items.append((item_uuid, title))
