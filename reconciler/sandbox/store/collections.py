"""Index collections: named sets of items inside one top-level folder.

Every call needs access (any role) to the collection's top-level folder, as the SDK's
docstrings say (``AuthorisationError`` "if the user does not have access to the folder");
a role there reaches every item below, so the items a caller cannot access are the deleted
ones (tombstones). Membership is a set: adding an item twice keeps one row, removing an
absent one does nothing. An item the call cannot take (unknown, outside the top-level
folder, deleted) is answered in ``failedItems`` and the others are still done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from reconciler.sandbox.errors import bad_request, not_found
from reconciler.sandbox.store.access import folder_by_uuid, folder_rank, require_rank
from reconciler.sandbox.store.common import Caller, canonical_uuid, new_uuid, now_text, path_end
from reconciler.sandbox.store.items import ITEM_FROM
from reconciler.sandbox.store.paging import PageSpec, fetch_page

COLLECTION_SELECT = (
    "SELECT c.*, f.uuid AS folder_uuid, f.path AS folder_path FROM collections c "
    "JOIN folders f ON f.id = c.folder_id"
)


def require_top_level(conn: sqlite3.Connection, caller: Caller, folder_uuid: str) -> sqlite3.Row:
    """The top-level folder a collection lives in; 404 unknown, 400 not top-level, 403 no
    access."""
    folder = folder_by_uuid(conn, folder_uuid)
    if folder["parent_id"] is not None:
        raise bad_request(f"folder {folder_uuid} is not a top-level folder")
    require_rank(conn, folder, folder_rank(conn, caller, folder["path"]), "user")
    return folder


def create(
    conn: sqlite3.Connection, caller: Caller, folder_uuid: str, name: str, description: str
) -> str:
    folder = require_top_level(conn, caller, folder_uuid)
    if not name.strip():
        raise bad_request("collection name must not be empty")
    now = now_text()
    collection_uuid = new_uuid()
    conn.execute(
        "INSERT INTO collections (uuid, folder_id, name, description, created_at, "
        "last_edited_at) VALUES (?, ?, ?, ?, ?, ?)",
        (collection_uuid, folder["id"], name, description, now, now),
    )
    return collection_uuid


def require_collection(
    conn: sqlite3.Connection, caller: Caller, collection_uuid: str
) -> sqlite3.Row:
    """The collection (with its folder's ``folder_uuid`` and ``folder_path``); 404 unknown,
    403 without access to its top-level folder."""
    row: sqlite3.Row | None = conn.execute(
        COLLECTION_SELECT + " WHERE c.uuid = ?",
        (canonical_uuid(collection_uuid, "collection UUID"),),
    ).fetchone()
    if row is None:
        raise not_found(f"no collection {collection_uuid}")
    require_top_level(conn, caller, row["folder_uuid"])
    return row


def update(
    conn: sqlite3.Connection, collection: sqlite3.Row, name: str | None, description: str | None
) -> None:
    if name is not None and not name.strip():
        raise bad_request("collection name must not be empty")
    conn.execute(
        "UPDATE collections SET name = coalesce(?, name), "
        "description = coalesce(?, description), last_edited_at = ? WHERE id = ?",
        (name, description, now_text(), collection["id"]),
    )


def delete(conn: sqlite3.Connection, collection: sqlite3.Row) -> None:
    conn.execute("DELETE FROM collections WHERE id = ?", (collection["id"],))


@dataclass(frozen=True, slots=True)
class CollectionFilters:
    folder_id: int | None = None
    uuids: tuple[str, ...] = ()


def list_page(
    conn: sqlite3.Connection, caller: Caller, filters: CollectionFilters, spec: PageSpec
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of the collections matching ``filters`` in top-level folders the caller can
    see (both filters: their intersection, as the SDK documents)."""
    where: list[str] = []
    params: list[object] = []
    if filters.folder_id is not None:
        where.append("c.folder_id = ?")
        params.append(filters.folder_id)
    if filters.uuids:
        where.append(f"c.uuid IN ({','.join('?' * len(filters.uuids))})")
        params.extend(canonical_uuid(u, "collection UUID") for u in filters.uuids)
    if not caller.is_admin:
        where.append("c.folder_id IN (SELECT value FROM json_each(?))")
        params.append(_visible_folders(conn, caller))
    return fetch_page(conn, COLLECTION_SELECT, where or ["1"], params, "c", spec)


def _visible_folders(conn: sqlite3.Connection, caller: Caller) -> str:
    """JSON array of the top-level folder ids the caller has any role on."""
    rows = conn.execute("SELECT id, path FROM folders WHERE parent_id IS NULL").fetchall()
    ids = [row["id"] for row in rows if folder_rank(conn, caller, row["path"]) > 0]
    return "[" + ",".join(str(i) for i in ids) + "]"


def member_page(
    conn: sqlite3.Connection,
    collection: sqlite3.Row,
    select: str,
    spec: PageSpec,
    *,
    deleted: bool,
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of the collection's items (``select`` over ``ITEM_FROM``'s aliases);
    ``deleted``: tombstones too (``all-items``)."""
    head = f"SELECT {select} {ITEM_FROM.format(hint='')}"
    where = ["it.id IN (SELECT item_id FROM collection_items WHERE collection_id = ?)"]
    if not deleted:
        where.append("NOT it.is_tombstone")
    return fetch_page(conn, head, where, [collection["id"]], "it", spec)


def change_items(
    conn: sqlite3.Connection, collection: sqlite3.Row, item_uuids: Sequence[UUID], *, add: bool
) -> list[str]:
    """Add or remove items; the UUIDs that failed: unknown, or (to add) outside the
    collection's top-level folder or deleted (a tombstone is no longer accessible)."""
    wanted = list(dict.fromkeys(str(u) for u in item_uuids))
    rows: dict[str, sqlite3.Row] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        found = conn.execute(
            "SELECT id, uuid, folder_path, is_tombstone FROM items "
            f"WHERE uuid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        rows.update((row["uuid"], row) for row in found)
    top, end = collection["folder_path"], path_end(collection["folder_path"])
    ok: list[int] = []
    failed: list[str] = []
    for item_uuid in wanted:
        row = rows.get(item_uuid)
        outside = row is not None and not top <= row["folder_path"] < end
        if row is None or (add and (row["is_tombstone"] or outside)):
            failed.append(item_uuid)  # a member is removed wherever it has gone since
        else:
            ok.append(row["id"])
    # Membership is not the collection's own state: lastEditedAt stays (name, description).
    sql = (
        "INSERT OR IGNORE INTO collection_items (collection_id, item_id) VALUES (?, ?)"
        if add
        else "DELETE FROM collection_items WHERE collection_id = ? AND item_id = ?"
    )
    conn.executemany(sql, [(collection["id"], item_id) for item_id in ok])
    return failed
