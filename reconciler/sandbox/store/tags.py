"""Organisation tags: names unique in the organisation; deleting a tag detaches it from every
folder (foreign-key cascade). Folders are tagged only through the control route (in Encord
only the app can)."""

from __future__ import annotations

import sqlite3

from reconciler.sandbox.errors import bad_request, conflict, not_found
from reconciler.sandbox.store.common import canonical_uuid, new_uuid, now_text


def list_tags(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM organisation_tags ORDER BY name, id").fetchall()


def create_tag(conn: sqlite3.Connection, name: str, description: str | None) -> sqlite3.Row:
    if not name.strip():
        raise bad_request("tag name must not be empty")
    if conn.execute("SELECT 1 FROM organisation_tags WHERE name = ?", (name,)).fetchone():
        raise conflict(f"an organisation tag named {name!r} already exists")
    tag_uuid = new_uuid()
    conn.execute(
        "INSERT INTO organisation_tags (uuid, name, description, created_at) VALUES (?, ?, ?, ?)",
        (tag_uuid, name, description, now_text()),
    )
    return get_tag(conn, tag_uuid)


def get_tag(conn: sqlite3.Connection, tag_uuid: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM organisation_tags WHERE uuid = ?", (canonical_uuid(tag_uuid, "tag uuid"),)
    ).fetchone()
    if row is None:
        raise not_found(f"no organisation tag {tag_uuid}")
    return row


def delete_tag(conn: sqlite3.Connection, tag_uuid: str) -> None:
    conn.execute("DELETE FROM organisation_tags WHERE id = ?", (get_tag(conn, tag_uuid)["id"],))


def tag_folder(conn: sqlite3.Connection, folder_uuid: str, name: str) -> None:
    """Attach a tag to a folder, as the Encord app does (idempotent)."""
    tag = conn.execute("SELECT id FROM organisation_tags WHERE name = ?", (name,)).fetchone()
    if tag is None:
        raise not_found(f"no organisation tag named {name!r}")
    folder = conn.execute(
        "SELECT id FROM folders WHERE uuid = ?", (canonical_uuid(folder_uuid, "folder uuid"),)
    ).fetchone()
    if folder is None:
        raise not_found(f"no folder {folder_uuid}")
    conn.execute(
        "INSERT OR IGNORE INTO folder_tags (folder_id, tag_id) VALUES (?, ?)",
        (folder["id"], tag["id"]),
    )
