"""Storage folders: create, patch, move, delete, list, summarise.

Callers check roles first (``access.require_folder``); these functions keep the tree's
invariants: ``path`` and ``items.folder_path`` follow every move, a folder is never moved into
its own subtree, and only an empty folder (no subfolders, no items, tombstones included) that
backs no dataset is deleted.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.metadata import check_values
from reconciler.sandbox.store.access import FOLDER_SELECT, Visibility, folder_display
from reconciler.sandbox.store.common import new_uuid, now_text, path_end, path_ids
from reconciler.sandbox.store.paging import PageSpec, fetch_page


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFolder:
    name: str
    owner_id: int
    parent: sqlite3.Row | None = None
    description: str = ""
    client_metadata: str | None = None  # JSON text, already validated
    folder_type: str = "generic"
    integration_id: int | None = None
    remote_url: str | None = None
    synced_dataset_uuid: str | None = None
    sync_root_id: int | None = None
    sync_relpath: str | None = None


def check_name(name: str, what: str = "folder") -> None:
    if not name.strip():
        raise bad_request(f"{what} name must not be empty")
    if "/" in name:
        raise bad_request(f"{what} name must not contain '/': {name!r}")


def insert_folder(conn: sqlite3.Connection, new: NewFolder) -> sqlite3.Row:
    """Insert a folder and return its row (as ``access.folder_by_uuid`` reads it)."""
    check_name(new.name)
    now = now_text()
    folder_uuid = new_uuid()
    cursor = conn.execute(
        "INSERT INTO folders (uuid, parent_id, path, name, name_lower, description, "
        "client_metadata, owner_id, created_at, last_edited_at, folder_type, integration_id, "
        "remote_url, synced_dataset_uuid, sync_root_id, sync_relpath) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            folder_uuid,
            new.parent["id"] if new.parent is not None else None,
            "#" + folder_uuid,  # placeholder until the row id is known
            new.name,
            new.name.lower(),
            new.description,
            new.client_metadata,
            new.owner_id,
            now,
            now,
            new.folder_type,
            new.integration_id,
            new.remote_url,
            new.synced_dataset_uuid,
            new.sync_root_id,
            new.sync_relpath,
        ),
    )
    parent_path = new.parent["path"] if new.parent is not None else "/"
    conn.execute(
        "UPDATE folders SET path = ? WHERE id = ?",
        (f"{parent_path}{cursor.lastrowid}/", cursor.lastrowid),
    )
    row: sqlite3.Row = conn.execute(
        FOLDER_SELECT + " WHERE f.id = ?", (cursor.lastrowid,)
    ).fetchone()
    return row


def patch_folder(
    conn: sqlite3.Connection,
    folder: sqlite3.Row,
    patch: Mapping[str, Any],
    schema: Mapping[str, Mapping[str, Any]] | None,
) -> None:
    """Apply ``name``/``description``/``clientMetadata`` (a whole replacement) where given."""
    sets: list[str] = []
    params: list[Any] = []
    if patch.get("name") is not None:
        check_name(patch["name"])
        sets += ["name = ?", "name_lower = ?"]
        params += [patch["name"], patch["name"].lower()]
    if patch.get("description") is not None:
        sets.append("description = ?")
        params.append(patch["description"])
    if "client_metadata" in patch:
        metadata = patch["client_metadata"]
        if metadata is not None:
            check_values(schema, metadata)
        sets.append("client_metadata = ?")
        params.append(None if metadata is None else json.dumps(metadata))
    if sets:
        conn.execute(
            f"UPDATE folders SET {', '.join(sets)}, last_edited_at = ? WHERE id = ?",
            (*params, now_text(), folder["id"]),
        )


def move_folder(
    conn: sqlite3.Connection, folder: sqlite3.Row, new_parent: sqlite3.Row | None
) -> None:
    """Re-parent ``folder`` (None: to the root), carrying its subtree's paths along."""
    old_path = folder["path"]
    if new_parent is not None and new_parent["path"].startswith(old_path):
        raise bad_request(
            f"cannot move folder {folder_display(conn, old_path)} into itself or its own subtree"
        )
    new_parent_id = new_parent["id"] if new_parent is not None else None
    if new_parent_id == folder["parent_id"]:
        return
    new_path = (new_parent["path"] if new_parent is not None else "/") + f"{folder['id']}/"
    bounds = (old_path, path_end(old_path))
    conn.execute(
        "UPDATE folders SET path = ? || substr(path, ?) WHERE path >= ? AND path < ?",
        (new_path, len(old_path) + 1, *bounds),
    )
    conn.execute(
        "UPDATE items SET folder_path = ? || substr(folder_path, ?) "
        "WHERE folder_path >= ? AND folder_path < ?",
        (new_path, len(old_path) + 1, *bounds),
    )
    conn.execute(
        "UPDATE folders SET parent_id = ?, last_edited_at = ? WHERE id = ?",
        (new_parent_id, now_text(), folder["id"]),
    )


def delete_folder(conn: sqlite3.Connection, folder: sqlite3.Row) -> None:
    where = f"folder {folder_display(conn, folder['path'])} ({folder['uuid']})"
    has_child = conn.execute(
        "SELECT 1 FROM folders WHERE parent_id = ? UNION ALL "
        "SELECT 1 FROM items WHERE folder_id = ? LIMIT 1",
        (folder["id"], folder["id"]),
    ).fetchone()
    if has_child is not None:
        raise bad_request(f"{where} is not empty: delete its items and subfolders first")
    backing = conn.execute(
        "SELECT uuid FROM datasets WHERE backing_folder_id = ?", (folder["id"],)
    ).fetchone()
    if backing is not None:
        raise bad_request(f"{where} backs dataset {backing['uuid']} and cannot be deleted")
    conn.execute("DELETE FROM folders WHERE id = ?", (folder["id"],))


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderFilters:
    search: str | None = None
    dataset_synced: bool | None = None
    tags: tuple[str, ...] = ()


def scope_children(parent: sqlite3.Row) -> tuple[str, list[Any]]:
    return "f.parent_id = ?", [parent["id"]]


def scope_subtree(parent: sqlite3.Row) -> tuple[str, list[Any]]:
    return "f.path > ? AND f.path < ?", [parent["path"], path_end(parent["path"])]


def scope_top(vis: Visibility) -> tuple[str, list[Any]]:
    """Root listing: the organisation's root folders, or a member's top-most visible folders."""
    if vis.everything:
        return "f.parent_id IS NULL", []
    tops = vis.top_paths()
    return f"f.path IN ({','.join('?' * len(tops))})" if tops else "0", list(tops)


def scope_visible(vis: Visibility) -> tuple[str, list[Any]]:
    sql, params = vis.subtree_filter("f.path")
    return sql, list(params)


def list_folders(
    conn: sqlite3.Connection,
    scope: tuple[str, list[Any]],
    filters: FolderFilters,
    spec: PageSpec,
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of folders in ``scope``, and the token of the next page (None at the end)."""
    where, params = [scope[0]], list(scope[1])
    if filters.search:
        where.append("instr(f.name_lower, ?) > 0")
        params.append(filters.search.lower())
    if filters.dataset_synced is not None:
        where.append(f"f.synced_dataset_uuid IS {'NOT ' if filters.dataset_synced else ''}NULL")
    for name in filters.tags:  # all of them (``organisationTagNamesAllof``)
        where.append(
            "EXISTS (SELECT 1 FROM folder_tags ft JOIN organisation_tags t ON t.id = ft.tag_id "
            "WHERE ft.folder_id = f.id AND t.name = ?)"
        )
        params.append(name)
    return fetch_page(conn, FOLDER_SELECT, where, params, "f", spec)


def ancestors(conn: sqlite3.Connection, folders: list[sqlite3.Row]) -> dict[int, sqlite3.Row]:
    """Every folder on the paths of ``folders`` (themselves included), by row id."""
    ids = sorted({i for folder in folders for i in path_ids(folder["path"])})
    found: dict[int, sqlite3.Row] = {}
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        rows = conn.execute(
            "SELECT id, uuid, name, synced_dataset_uuid FROM folders "
            f"WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        found.update((row["id"], row) for row in rows)
    return found


_TYPE_COUNTERS = {
    "video": "videos",
    "image": "images",
    "imageGroup": "imageGroups",
    "imageSequence": "imageSequences",
    "dicomFile": "dicomFiles",
    "dicomSeries": "dicomSeries",
    "nifti": "niftis",
    "audio": "audios",
    "pdf": "pdfs",
    "plainText": "plainTexts",
}


def summary(conn: sqlite3.Connection, folder: sqlite3.Row) -> dict[str, Any]:
    """Counts of the folder's direct contents, as ``StorageFolderSummary``."""
    out: dict[str, Any] = {"files": 0, "folders": 0}
    out.update({name: 0 for name in _TYPE_COUNTERS.values()})
    out.update({"tombstones": 0, "uploadJobs": 0, "totalSize": 0.0})
    out["folders"] = conn.execute(
        "SELECT count(*) FROM folders WHERE parent_id = ?", (folder["id"],)
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT item_type, is_tombstone, count(*) AS n, coalesce(sum(file_size), 0) AS size "
        "FROM items WHERE folder_id = ? GROUP BY item_type, is_tombstone",
        (folder["id"],),
    ).fetchall()
    for row in rows:
        if row["is_tombstone"]:
            out["tombstones"] += row["n"]
            continue
        out["files"] += row["n"]
        out["totalSize"] += float(row["size"])
        counter = _TYPE_COUNTERS.get(row["item_type"])
        if counter:
            out[counter] += row["n"]
    return out
