"""Data-upload jobs and folder configs in the store.

A job row holds its units (JSON) and counters; the worker (``sandbox/uploads.py``) takes
units in batches, each batch one write transaction that re-reads the job's status first, so
a cancel (one transaction too) splits the units exactly: those done before it stay done,
the rest are cancelled. A job still ``PENDING`` when the server starts again was cut short
by a stop and is marked ``ERROR``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import not_found
from reconciler.sandbox.store.common import canonical_uuid, new_uuid, now_text

PENDING, DONE, ERROR, CANCELLED = "PENDING", "DONE", "ERROR", "CANCELLED"


@dataclass(frozen=True, slots=True)
class NewJob:
    folder_id: int
    integration_id: int | None
    owner_id: int
    skip_duplicate_urls: bool
    upsert_metadata: bool
    ignore_errors: bool
    units: list[dict[str, Any]]  # each {"list": <DataUploadItems key>, "entry": {...}}


def create_job(conn: sqlite3.Connection, job: NewJob) -> str:
    job_uuid = new_uuid()
    conn.execute(
        "INSERT INTO upload_jobs (uuid, folder_id, integration_id, owner_id, status, "
        "skip_duplicate_urls, upsert_metadata, ignore_errors, units, units_total, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job_uuid,
            job.folder_id,
            job.integration_id,
            job.owner_id,
            PENDING,
            int(job.skip_duplicate_urls),
            int(job.upsert_metadata),
            int(job.ignore_errors),
            json.dumps(job.units),
            len(job.units),
            now_text(),
        ),
    )
    return job_uuid


def job_by_uuid(conn: sqlite3.Connection, folder_id: int, job_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM upload_jobs WHERE uuid = ? AND folder_id = ?",
        (canonical_uuid(job_uuid, "upload job UUID"), folder_id),
    ).fetchone()
    if row is None:
        raise not_found(f"no data-upload job {job_uuid} on this folder")
    return row


def job_status(conn: sqlite3.Connection, job_uuid: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, status, units_done, units_error, units_total FROM upload_jobs WHERE uuid = ?",
        (job_uuid,),
    ).fetchone()
    return row


def record_batch(
    conn: sqlite3.Connection,
    job_id: int,
    *,
    done: int,
    items: list[tuple[str, str]],
    errors: list[tuple[list[str], str, str]],
) -> None:
    """Count a processed batch: ``done`` units, the items they made or updated, the units
    that failed (object URLs, error, action)."""
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), -1) + 1 FROM upload_job_items WHERE job_id = ?", (job_id,)
    ).fetchone()[0]
    conn.executemany(
        "INSERT INTO upload_job_items (job_id, seq, item_uuid, name) VALUES (?, ?, ?, ?)",
        [(job_id, seq + i, uuid, name) for i, (uuid, name) in enumerate(items)],
    )
    first = conn.execute(
        "SELECT COALESCE(MAX(seq), -1) + 1 FROM upload_job_errors WHERE job_id = ?", (job_id,)
    ).fetchone()[0]
    conn.executemany(
        "INSERT INTO upload_job_errors (job_id, seq, object_urls, error, subtask_uuid, action) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (job_id, first + i, json.dumps(urls), error, new_uuid(), action)
            for i, (urls, error, action) in enumerate(errors)
        ],
    )
    conn.execute(
        "UPDATE upload_jobs SET units_done = units_done + ?, units_error = units_error + ? "
        "WHERE id = ?",
        (done, len(errors), job_id),
    )


def finish_job(conn: sqlite3.Connection, job_id: int, status: str, errors: list[str]) -> None:
    conn.execute(
        "UPDATE upload_jobs SET status = ?, errors = ?, finished_at = ? WHERE id = ?",
        (status, json.dumps(errors), now_text(), job_id),
    )


def cancel_job(conn: sqlite3.Connection, job: sqlite3.Row) -> int:
    """Cancel the units not processed yet; a finished job has none left to cancel."""
    if job["status"] != PENDING:
        return 0
    left = int(job["units_total"] - job["units_done"] - job["units_error"])
    conn.execute(
        "UPDATE upload_jobs SET status = ?, units_cancelled = ?, finished_at = ? WHERE id = ?",
        (CANCELLED, left, now_text(), job["id"]),
    )
    return left


def fail_interrupted_jobs(conn: sqlite3.Connection) -> int:
    cursor = conn.execute(
        "UPDATE upload_jobs SET status = ?, errors = ?, finished_at = ? WHERE status = ?",
        (ERROR, json.dumps(["the job was cut short by a server stop"]), now_text(), PENDING),
    )
    return cursor.rowcount


def job_result(conn: sqlite3.Connection, job: sqlite3.Row) -> dict[str, Any]:
    """The long-poll answer, every key present; items and unit errors only once the job
    has ended (a pending job's lists are empty, as a real server's partial answer may be)."""
    ended = job["status"] != PENDING
    items = _rows(conn, "item_uuid, name FROM upload_job_items", job["id"]) if ended else []
    errors = (
        _rows(conn, "object_urls, error, subtask_uuid, action FROM upload_job_errors", job["id"])
        if ended
        else []
    )
    done, failed = int(job["units_done"]), int(job["units_error"])
    cancelled = int(job["units_cancelled"])
    return {
        "status": job["status"],
        "itemsWithNames": [{"itemUuid": r[0], "name": r[1]} for r in items],
        "errors": json.loads(job["errors"]),
        "unitsPendingCount": int(job["units_total"]) - done - failed - cancelled,
        "unitsDoneCount": done,
        "unitsErrorCount": failed,
        "unitsCancelledCount": cancelled,
        "unitErrors": [
            {
                "objectUrls": json.loads(r[0]),
                "error": r[1],
                "subtaskUuid": r[2],
                "actionDescription": r[3],
            }
            for r in errors
        ],
        "fileName": None,
    }


def _rows(conn: sqlite3.Connection, select: str, job_id: int) -> list[sqlite3.Row]:
    return conn.execute(f"SELECT {select} WHERE job_id = ? ORDER BY seq", (job_id,)).fetchall()


# --- folder configs ------------------------------------------------------------------------


def folder_config(conn: sqlite3.Connection, folder_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT config FROM folder_configs WHERE folder_id = ?", (folder_id,))
    found = row.fetchone()
    config: dict[str, Any] = json.loads(found[0]) if found else {}
    return config


def set_folder_config(conn: sqlite3.Connection, folder_id: int, config: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO folder_configs (folder_id, config) VALUES (?, ?) "
        "ON CONFLICT(folder_id) DO UPDATE SET config = excluded.config",
        (folder_id, json.dumps(config)),
    )
