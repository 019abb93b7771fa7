"""Organisation groups and their members.

The creator of a group becomes its first member and its manager. Organisation admins and a
group's managers may change the group; names need not be unique (the real API allows it).
Deleting a group removes its grants on folders and datasets with it (foreign-key cascade).
"""

from __future__ import annotations

import sqlite3

from reconciler.sandbox.errors import bad_request, forbidden, not_found
from reconciler.sandbox.store.common import Caller, canonical_uuid, new_uuid, now_text
from reconciler.sandbox.store.org import members_by_email


def create_group(conn: sqlite3.Connection, caller: Caller, name: str, description: str) -> str:
    """Create a group with the caller as first member and manager; return its UUID."""
    _check_name(name)
    now = now_text()
    group_uuid = new_uuid()
    cursor = conn.execute(
        "INSERT INTO groups (uuid, name, description, created_at, last_edited_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (group_uuid, name, description, now, now),
    )
    conn.execute(
        "INSERT INTO group_members (group_id, user_id, is_manager, seq) VALUES (?, ?, 1, 0)",
        (cursor.lastrowid, caller.user_id),
    )
    return group_uuid


def _check_name(name: str) -> None:
    if not name.strip():
        raise bad_request("group name must not be empty")


def get_group(conn: sqlite3.Connection, group_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM groups WHERE uuid = ?", (canonical_uuid(group_uuid, "group hash"),)
    ).fetchone()
    if row is None:
        raise not_found(f"no group {group_uuid}")
    return row


def groups_by_uuid(conn: sqlite3.Connection, group_uuids: list[str]) -> list[sqlite3.Row]:
    """The groups in the order given (duplicates dropped); 404 naming any unknown one."""
    rows = [get_group(conn, group_uuid) for group_uuid in group_uuids]
    return list({row["id"]: row for row in rows}.values())


def list_groups(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM groups ORDER BY created_at, id").fetchall()


def require_group_manager(conn: sqlite3.Connection, caller: Caller, group: sqlite3.Row) -> None:
    if caller.is_admin:
        return
    row = conn.execute(
        "SELECT is_manager FROM group_members WHERE group_id = ? AND user_id = ?",
        (group["id"], caller.user_id),
    ).fetchone()
    if row is None or not row["is_manager"]:
        raise forbidden(f"you do not manage group {group['name']!r} ({group['uuid']})")


def update_group(
    conn: sqlite3.Connection, group: sqlite3.Row, name: str | None, description: str | None
) -> None:
    if name is None and description is None:
        return
    if name is not None:
        _check_name(name)
    conn.execute(
        "UPDATE groups SET name = coalesce(?, name), description = coalesce(?, description), "
        "last_edited_at = ? WHERE id = ?",
        (name, description, now_text(), group["id"]),
    )


def delete_group(conn: sqlite3.Connection, group: sqlite3.Row) -> None:
    conn.execute("DELETE FROM groups WHERE id = ?", (group["id"],))


def member_emails(conn: sqlite3.Connection, group_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT u.email FROM group_members m JOIN users u ON u.id = m.user_id "
        "WHERE m.group_id = ? ORDER BY m.seq, u.id",
        (group_id,),
    ).fetchall()
    return [row["email"] for row in rows]


def add_members(conn: sqlite3.Connection, group: sqlite3.Row, emails: list[str]) -> None:
    """Add members (present ones are left as they are); 403 if any email is not a member."""
    user_ids = members_by_email(conn, emails)
    seq = conn.execute(
        "SELECT coalesce(max(seq), 0) FROM group_members WHERE group_id = ?", (group["id"],)
    ).fetchone()[0]
    for offset, user_id in enumerate(user_ids.values(), start=1):
        conn.execute(
            "INSERT OR IGNORE INTO group_members (group_id, user_id, seq) VALUES (?, ?, ?)",
            (group["id"], user_id, seq + offset),
        )


def remove_members(conn: sqlite3.Connection, group: sqlite3.Row, emails: list[str]) -> None:
    """Remove members; emails that are not in the group are ignored."""
    for email in emails:
        conn.execute(
            "DELETE FROM group_members WHERE group_id = ? AND user_id IN "
            "(SELECT id FROM users WHERE email = ?)",
            (group["id"], email),
        )
