"""Cloud integrations (a title, a provider, a local root directory) and sync jobs.

A sync job row records the status and the 11 counters of its result; a job still ``pending``
when the server starts again was cut short by a stop, and is marked ``error``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from reconciler.sandbox.errors import conflict, not_found
from reconciler.sandbox.store.common import canonical_uuid, new_uuid, now_text

PROVIDERS = ("s3", "gcp", "azure")

RESULT_COUNTERS = (
    "scanPagesProcessingPending",
    "scanPagesProcessingDone",
    "scanPagesProcessingError",
    "scanPagesProcessingCancelled",
    "uploadJobsPending",
    "uploadJobsDone",
    "uploadJobsError",
    "uploadJobsUnitsPending",
    "uploadJobsUnitsDone",
    "uploadJobsUnitsError",
    "uploadJobsUnitsCancelled",
)


def empty_result(**counters: int) -> dict[str, int]:
    result = dict.fromkeys(RESULT_COUNTERS, 0)
    result.update(counters)
    return result


def add_integration(conn: sqlite3.Connection, title: str, provider: str, root: str) -> str:
    if conn.execute("SELECT 1 FROM integrations WHERE title = ?", (title,)).fetchone():
        raise conflict(f"an integration titled {title!r} already exists")
    integration_uuid = new_uuid()
    conn.execute(
        "INSERT INTO integrations (uuid, title, provider, root, created_at) VALUES (?, ?, ?, ?, ?)",
        (integration_uuid, title, provider, root, now_text()),
    )
    return integration_uuid


def ensure_integration(conn: sqlite3.Connection, title: str, provider: str, root: str) -> str:
    """The integration with this title, created or brought to this provider and root."""
    row = conn.execute("SELECT * FROM integrations WHERE title = ?", (title,)).fetchone()
    if row is None:
        return add_integration(conn, title, provider, root)
    if (row["provider"], row["root"]) != (provider, root):
        conn.execute(
            "UPDATE integrations SET provider = ?, root = ? WHERE id = ?",
            (provider, root, row["id"]),
        )
    return str(row["uuid"])


def integration_by_uuid(conn: sqlite3.Connection, integration_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM integrations WHERE uuid = ?",
        (canonical_uuid(integration_uuid, "integration UUID"),),
    ).fetchone()
    if row is None:
        raise not_found(f"no cloud integration {integration_uuid}")
    return row


def integration_by_id(conn: sqlite3.Connection, integration_id: int) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute(
        "SELECT * FROM integrations WHERE id = ?", (integration_id,)
    ).fetchone()
    return row


def list_integrations(
    conn: sqlite3.Connection, uuids: Sequence[str], titles: Sequence[str]
) -> list[sqlite3.Row]:
    """Integrations, narrowed to the given UUIDs and titles when either list is non-empty."""
    rows = conn.execute("SELECT * FROM integrations ORDER BY created_at, id").fetchall()
    wanted_uuids = {canonical_uuid(u, "integration UUID") for u in uuids}
    return [
        row
        for row in rows
        if (not wanted_uuids or row["uuid"] in wanted_uuids)
        and (not titles or row["title"] in titles)
    ]


# --- jobs ----------------------------------------------------------------------------------


def create_job(conn: sqlite3.Connection, folder_id: int) -> str:
    job_uuid = new_uuid()
    conn.execute(
        "INSERT INTO sync_jobs (uuid, folder_id, status, result, created_at) "
        "VALUES (?, ?, 'pending', ?, ?)",
        (job_uuid, folder_id, json.dumps(empty_result(scanPagesProcessingPending=1)), now_text()),
    )
    return job_uuid


def job_by_uuid(conn: sqlite3.Connection, folder_id: int, job_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM sync_jobs WHERE uuid = ? AND folder_id = ?",
        (canonical_uuid(job_uuid, "sync job UUID"), folder_id),
    ).fetchone()
    if row is None:
        raise not_found(f"no sync job {job_uuid} on this folder")
    return row


def finish_job(
    conn: sqlite3.Connection, job_uuid: str, status: str, result: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE sync_jobs SET status = ?, result = ?, finished_at = ? WHERE uuid = ?",
        (status, json.dumps(result), now_text(), job_uuid),
    )


def fail_interrupted_jobs(conn: sqlite3.Connection) -> int:
    cursor = conn.execute(
        "UPDATE sync_jobs SET status = 'error', result = ?, finished_at = ? "
        "WHERE status = 'pending'",
        (json.dumps(empty_result(scanPagesProcessingError=1)), now_text()),
    )
    return cursor.rowcount


def job_result(row: sqlite3.Row) -> dict[str, Any]:
    """The long-poll answer: ``status`` and the 11 counters, every key present."""
    return {"status": row["status"], **empty_result(**json.loads(row["result"]))}
