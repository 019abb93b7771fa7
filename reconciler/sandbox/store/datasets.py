"""Datasets, their users and groups (integer roles: 0 admin, 1 user) and data rows.

A caller's role on a dataset is the best (lowest) of its own dataset-user role and the roles of
its groups; organisation admins are admins of every dataset. A data row links one item into
one dataset under a fresh ``data_hash``; deleting the item deletes its rows (cascade).
Every change to a dataset's users, groups or rows moves its ``last_edited_at``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.sandbox.errors import ApiError, bad_request, conflict, forbidden, not_found
from reconciler.sandbox.store.common import (
    DATASET_ADMIN,
    DATASET_USER,
    Caller,
    canonical_uuid,
    new_uuid,
    now_text,
)
from reconciler.sandbox.store.org import members_by_email


def create_dataset(
    conn: sqlite3.Connection,
    caller: Caller,
    *,
    title: str,
    description: str,
    backing_folder_id: int | None,
    dataset_uuid: str | None = None,
) -> str:
    """Create a dataset with the caller as its admin user; return its UUID."""
    if not title.strip():
        raise bad_request("dataset title must not be empty")
    now = now_text()
    dataset_uuid = dataset_uuid or new_uuid()
    cursor = conn.execute(
        "INSERT INTO datasets (uuid, title, description, created_at, last_edited_at, "
        "backing_folder_id) VALUES (?, ?, ?, ?, ?, ?)",
        (dataset_uuid, title, description, now, now, backing_folder_id),
    )
    conn.execute(
        "INSERT INTO dataset_users (dataset_id, user_id, role, seq) VALUES (?, ?, ?, 0)",
        (cursor.lastrowid, caller.user_id, DATASET_ADMIN),
    )
    return dataset_uuid


DATASET_SELECT = (
    "SELECT d.*, f.uuid AS backing_folder_uuid FROM datasets d "
    "LEFT JOIN folders f ON f.id = d.backing_folder_id"
)


def dataset_by_uuid(conn: sqlite3.Connection, dataset_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        DATASET_SELECT + " WHERE d.uuid = ?", (canonical_uuid(dataset_uuid, "dataset hash"),)
    ).fetchone()
    if row is None:
        raise not_found(f"no dataset {dataset_uuid}")
    return row


def dataset_role(conn: sqlite3.Connection, caller: Caller, dataset_id: int) -> int | None:
    """0 (admin), 1 (user) or None (no access); organisation admins are admins of all."""
    if caller.is_admin:
        return DATASET_ADMIN
    return held_role(conn, caller, dataset_id)


def held_role(conn: sqlite3.Connection, caller: Caller, dataset_id: int) -> int | None:
    """The role the caller itself or one of its groups holds on the dataset, if any."""
    row = conn.execute(
        "SELECT min(role) FROM (SELECT role FROM dataset_users WHERE dataset_id = ? AND "
        "user_id = ? UNION ALL SELECT g.role FROM dataset_groups g JOIN group_members m "
        "ON m.group_id = g.group_id WHERE g.dataset_id = ? AND m.user_id = ?)",
        (dataset_id, caller.user_id, dataset_id, caller.user_id),
    ).fetchone()
    return None if row[0] is None else int(row[0])


def require_dataset(
    conn: sqlite3.Connection, caller: Caller, dataset_uuid: str, *, admin: bool
) -> sqlite3.Row:
    """The dataset; 404 unknown, 403 without access (or without admin when ``admin``)."""
    row = dataset_by_uuid(conn, dataset_uuid)
    role = dataset_role(conn, caller, row["id"])
    if role is None:
        raise forbidden(f"you have no access to dataset {row['title']!r} ({row['uuid']})")
    if admin and role != DATASET_ADMIN:
        raise forbidden(f"you need the admin role on dataset {row['title']!r} ({row['uuid']})")
    return row


def touch(conn: sqlite3.Connection, dataset_id: int) -> None:
    conn.execute("UPDATE datasets SET last_edited_at = ? WHERE id = ?", (now_text(), dataset_id))


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetFilters:
    title_eq: str | None = None
    title_like: str | None = None
    description_eq: str | None = None
    description_like: str | None = None
    created_before: str | None = None
    created_after: str | None = None
    edited_before: str | None = None
    edited_after: str | None = None


_FILTER_SQL = {
    "title_eq": "d.title = ?",
    "title_like": "d.title LIKE ?",
    "description_eq": "d.description = ?",
    "description_like": "d.description LIKE ?",
    "created_before": "d.created_at < ?",
    "created_after": "d.created_at > ?",
    "edited_before": "d.last_edited_at < ?",
    "edited_after": "d.last_edited_at > ?",
}


def list_datasets(
    conn: sqlite3.Connection, caller: Caller, filters: DatasetFilters, *, org_access: bool
) -> list[tuple[sqlite3.Row, int | None]]:
    """Datasets matching every filter on which the caller holds a role, with that role; with
    ``org_access`` (organisation admins) every dataset, the role None where it holds none."""
    where, params = ["1"], []
    for name, sql in _FILTER_SQL.items():
        value = getattr(filters, name)
        if value is not None:
            where.append(sql)
            params.append(value)
    rows = conn.execute(
        f"{DATASET_SELECT} WHERE {' AND '.join(where)} ORDER BY d.created_at, d.id", params
    ).fetchall()
    everything = org_access and caller.is_admin
    out: list[tuple[sqlite3.Row, int | None]] = []
    for row in rows:
        role = held_role(conn, caller, row["id"])
        if role is not None or everything:
            out.append((row, role))
    return out


# --- groups and users ------------------------------------------------------------------------


def dataset_groups(conn: sqlite3.Connection, dataset_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT g.*, dg.role AS role FROM dataset_groups dg JOIN groups g ON g.id = dg.group_id "
        "WHERE dg.dataset_id = ? ORDER BY dg.created_at, g.id",
        (dataset_id,),
    ).fetchall()


def grant_groups(
    conn: sqlite3.Connection, dataset_id: int, group_ids: Sequence[int], role: int
) -> None:
    """Give groups a role on the dataset; a group already there gets the new role."""
    now = now_text()
    conn.executemany(
        "INSERT INTO dataset_groups (dataset_id, group_id, role, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (dataset_id, group_id) DO UPDATE SET role = excluded.role",
        [(dataset_id, group_id, role, now) for group_id in group_ids],
    )
    touch(conn, dataset_id)


def revoke_groups(conn: sqlite3.Connection, dataset_id: int, group_ids: Sequence[int]) -> None:
    conn.executemany(
        "DELETE FROM dataset_groups WHERE dataset_id = ? AND group_id = ?",
        [(dataset_id, group_id) for group_id in group_ids],
    )
    touch(conn, dataset_id)


def dataset_users(conn: sqlite3.Connection, dataset_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT u.email AS email, du.role AS role FROM dataset_users du "
        "JOIN users u ON u.id = du.user_id WHERE du.dataset_id = ? ORDER BY du.seq, u.id",
        (dataset_id,),
    ).fetchall()


def add_users(
    conn: sqlite3.Connection, dataset_id: int, emails: Sequence[str], role: int
) -> list[tuple[str, int]]:
    """Add users with ``role``; users already there keep theirs. Returns (email, role) each."""
    if role not in (DATASET_ADMIN, DATASET_USER):
        raise bad_request("user_role must be 0 (admin) or 1 (user)")
    user_ids = members_by_email(conn, list(emails))
    seq = conn.execute(
        "SELECT coalesce(max(seq), 0) FROM dataset_users WHERE dataset_id = ?", (dataset_id,)
    ).fetchone()[0]
    for offset, user_id in enumerate(user_ids.values(), start=1):
        conn.execute(
            "INSERT OR IGNORE INTO dataset_users (dataset_id, user_id, role, seq) "
            "VALUES (?, ?, ?, ?)",
            (dataset_id, user_id, role, seq + offset),
        )
    touch(conn, dataset_id)
    roles = {row["email"]: int(row["role"]) for row in dataset_users(conn, dataset_id)}
    return [(email, roles[email]) for email in user_ids]


def remove_users(conn: sqlite3.Connection, dataset_id: int, emails: Sequence[str]) -> None:
    """Remove users; emails without access are ignored."""
    conn.executemany(
        "DELETE FROM dataset_users WHERE dataset_id = ? AND user_id IN "
        "(SELECT id FROM users WHERE email = ?)",
        [(dataset_id, email) for email in emails],
    )
    touch(conn, dataset_id)


# --- data rows -------------------------------------------------------------------------------


def link_items(
    conn: sqlite3.Connection, dataset_id: int, item_ids: Sequence[int], behavior: str
) -> list[int]:
    """Link items; return the ids of the rows created.

    SKIP links only items not linked yet; FAIL refuses (409) when any is linked already;
    DUPLICATE always makes a new row.
    """
    linked = _linked_item_ids(conn, dataset_id, item_ids)
    if behavior == "FAIL" and linked:
        raise conflict(f"{len(linked)} of the items are already linked to this dataset")
    now = now_text()
    created: list[int] = []
    for item_id in dict.fromkeys(item_ids):
        if behavior == "SKIP" and item_id in linked:
            continue
        cursor = conn.execute(
            "INSERT INTO data_rows (data_hash, dataset_id, item_id, created_at, last_edited_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (new_uuid(), dataset_id, item_id, now, now),
        )
        created.append(int(cursor.lastrowid or 0))
    if created:
        touch(conn, dataset_id)
    return created


def _linked_item_ids(
    conn: sqlite3.Connection, dataset_id: int, item_ids: Sequence[int]
) -> set[int]:
    linked: set[int] = set()
    unique = list(dict.fromkeys(item_ids))
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        rows = conn.execute(
            f"SELECT item_id FROM data_rows WHERE dataset_id = ? AND item_id IN "
            f"({','.join('?' * len(chunk))})",
            (dataset_id, *chunk),
        ).fetchall()
        linked.update(int(row["item_id"]) for row in rows)
    return linked


def delete_rows(conn: sqlite3.Connection, dataset_id: int, data_hashes: Sequence[str]) -> None:
    """Remove data rows by hash (items stay); 404 naming hashes not in this dataset."""
    missing = [
        h
        for h in dict.fromkeys(data_hashes)
        if conn.execute(
            "SELECT 1 FROM data_rows WHERE dataset_id = ? AND data_hash = ?", (dataset_id, h)
        ).fetchone()
        is None
    ]
    if missing:
        raise ApiError(404, f"data rows not in this dataset: {', '.join(missing[:10])}")
    conn.executemany(
        "DELETE FROM data_rows WHERE dataset_id = ? AND data_hash = ?",
        [(dataset_id, h) for h in data_hashes],
    )
    touch(conn, dataset_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RowFilters:
    """Server-side filters of the v1 ``datarows`` call; None means "not filtered"."""

    title_eq: str | None = None
    title_like: str | None = None
    created_before: str | None = None
    created_after: str | None = None
    item_types: tuple[str, ...] | None = None
    data_hashes: tuple[str, ...] | None = None
    row_ids: tuple[int, ...] | None = None


def data_rows(
    conn: sqlite3.Connection, dataset_id: int, filters: RowFilters, select: str
) -> list[str]:
    """``select`` (one expression over ``data_rows d`` and ``items it``, normally a row's JSON
    text) for each row of a dataset that passes ``filters``, oldest link first."""
    where: list[str] = ["d.dataset_id = ?"]
    params: list[object] = [dataset_id]
    scalar = (
        ("it.name = ?", filters.title_eq),
        ("it.name LIKE ?", filters.title_like),
        ("d.created_at < ?", filters.created_before),
        ("d.created_at > ?", filters.created_after),
    )
    for sql, value in scalar:
        if value is not None:
            where.append(sql)
            params.append(value)
    for column, values in (
        ("it.item_type", filters.item_types),
        ("d.data_hash", filters.data_hashes),
        ("d.id", filters.row_ids),
    ):
        if values is not None:
            where.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(values)))
    rows = conn.execute(
        f"SELECT {select} FROM data_rows d JOIN items it ON it.id = d.item_id "
        f"WHERE {' AND '.join(where)} ORDER BY d.id",
        params,
    ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True, slots=True)
class DatasetUse:
    """One dataset an item is linked into, and its rows for the item."""

    dataset_id: int
    dataset_uuid: str
    title: str
    backing_folder_uuid: str | None
    data_hashes: tuple[str, ...]
    first_linked_at: str


def datasets_using(conn: sqlite3.Connection, item_id: int) -> list[DatasetUse]:
    rows = conn.execute(
        "SELECT ds.id, ds.uuid, ds.title, f.uuid AS backing_folder_uuid, d.data_hash, "
        "d.created_at FROM data_rows d JOIN datasets ds ON ds.id = d.dataset_id "
        "LEFT JOIN folders f ON f.id = ds.backing_folder_id WHERE d.item_id = ? ORDER BY d.id",
        (item_id,),
    ).fetchall()
    grouped: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        grouped.setdefault(row["id"], []).append(row)
    return [
        DatasetUse(
            dataset_id=dataset_id,
            dataset_uuid=links[0]["uuid"],
            title=links[0]["title"],
            backing_folder_uuid=links[0]["backing_folder_uuid"],
            data_hashes=tuple(link["data_hash"] for link in links),
            first_linked_at=links[0]["created_at"],
        )
        for dataset_id, links in grouped.items()
    ]
