"""Storage items: bulk insert, patch, move, delete, keyset listing.

An item's ``folder_path`` always equals its folder's ``path`` (``folders.move_folder`` carries
both), so a recursive listing is a range over ``folder_path``. Two plans serve it: for a large
subtree, walk the (name|created_at, uuid, folder_path) index in order and skip rows outside
the range without touching the table; for a small subtree, range-scan the subtree and sort it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import bad_request, not_found
from reconciler.sandbox.metadata import check_values
from reconciler.sandbox.store.common import canonical_uuid, now_text, path_end
from reconciler.sandbox.store.folders import check_name
from reconciler.sandbox.store.paging import PageSpec, fetch_page

ITEM_FROM = (
    "FROM items it {hint} JOIN folders pf ON pf.id = it.folder_id "
    "JOIN users u ON u.id = it.owner_id LEFT JOIN integrations ig ON ig.id = it.integration_id"
)
# What handlers use of an item row; answers select ``serialize.item_json_columns`` instead.
ITEM_COLUMNS = "it.*, pf.uuid AS folder_uuid, u.email AS owner_email, ig.uuid AS integration_uuid"


# Columns a new item row is inserted with, in order (see ``insert_items``).
INSERT_COLUMNS = (
    "uuid",
    "folder_id",
    "folder_path",
    "item_type",
    "name",
    "name_lower",
    "description",
    "client_metadata",
    "owner_id",
    "created_at",
    "last_edited_at",
    "storage_location",
    "integration_id",
    "url",
    "file_size",
    "mime_type",
    "width",
    "height",
    "source_mtime_ns",
)

# Below this share of all folders, a subtree is listed by range scan and sort.
SMALL_SUBTREE_SHARE = 0.05


def insert_items(conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert; each row holds the ``INSERT_COLUMNS`` values in order."""
    marks = ",".join("?" * len(INSERT_COLUMNS))
    conn.executemany(f"INSERT INTO items ({','.join(INSERT_COLUMNS)}) VALUES ({marks})", rows)


def item_by_uuid(
    conn: sqlite3.Connection, item_uuid: str, select: str = ITEM_COLUMNS
) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        f"SELECT {select} {ITEM_FROM.format(hint='')} WHERE it.uuid = ?",
        (canonical_uuid(item_uuid, "item UUID"),),
    ).fetchone()
    if row is None:
        raise not_found(f"no storage item {item_uuid}")
    return row


def items_by_uuid(
    conn: sqlite3.Connection, item_uuids: Sequence[str], select: str = ITEM_COLUMNS
) -> list[sqlite3.Row]:
    """Rows in the order asked (duplicates kept); 404 naming the first unknown UUID.

    ``select`` must include the item's ``uuid`` column."""
    wanted = [canonical_uuid(u, "item UUID") for u in item_uuids]
    found: dict[str, sqlite3.Row] = {}
    unique = list(dict.fromkeys(wanted))
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        rows = conn.execute(
            f"SELECT {select} {ITEM_FROM.format(hint='')} "
            f"WHERE it.uuid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        found.update((row["uuid"], row) for row in rows)
    for item_uuid in wanted:
        if item_uuid not in found:
            raise not_found(f"no storage item {item_uuid}")
    return [found[item_uuid] for item_uuid in wanted]


def patch_items(
    conn: sqlite3.Connection,
    patches: Sequence[tuple[sqlite3.Row, Mapping[str, Any]]],
    schema: Mapping[str, Mapping[str, Any]] | None,
) -> None:
    """Apply each ``name``/``description``/``clientMetadata`` (a whole replacement) given.

    Items patched alike (the same fields) are updated by one ``executemany``; every item that
    changes gets the same new ``last_edited_at``.
    """
    now = now_text()
    grouped: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for item, patch in patches:
        columns, values = _patch_values(patch, schema)
        if columns:
            grouped.setdefault(columns, []).append((*values, now, item["id"]))
    for columns, rows in grouped.items():
        sets = ", ".join(f"{column} = ?" for column in columns)
        conn.executemany(f"UPDATE items SET {sets}, last_edited_at = ? WHERE id = ?", rows)


def _patch_values(
    patch: Mapping[str, Any], schema: Mapping[str, Mapping[str, Any]] | None
) -> tuple[tuple[str, ...], list[Any]]:
    columns: list[str] = []
    values: list[Any] = []
    if patch.get("name") is not None:
        check_name(patch["name"], "item")
        columns += ["name", "name_lower"]
        values += [patch["name"], patch["name"].lower()]
    if patch.get("description") is not None:
        columns.append("description")
        values.append(patch["description"])
    if "client_metadata" in patch:
        metadata = patch["client_metadata"] or {}
        check_values(schema, metadata)
        columns.append("client_metadata")
        values.append(json.dumps(metadata))
    return tuple(columns), values


def move_items(conn: sqlite3.Connection, items: Sequence[sqlite3.Row], target: sqlite3.Row) -> None:
    now = now_text()
    conn.executemany(
        "UPDATE items SET folder_id = ?, folder_path = ?, last_edited_at = ? WHERE id = ?",
        [
            (target["id"], target["path"], now, item["id"])
            for item in items
            if item["folder_id"] != target["id"]
        ],
    )


def delete_items(conn: sqlite3.Connection, items: Sequence[sqlite3.Row]) -> int:
    """Delete items and their data rows; return how many items went."""
    ids = sorted({item["id"] for item in items})
    conn.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in ids])
    return len(ids)


def require_children(items: Sequence[sqlite3.Row], folder: sqlite3.Row) -> None:
    strays = [item["uuid"] for item in items if item["folder_id"] != folder["id"]]
    if strays:
        raise bad_request(
            f"items are not direct children of folder {folder['uuid']}: {', '.join(strays[:5])}"
        )


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFilters:
    search: str | None = None
    item_types: tuple[str, ...] = ()
    is_in_dataset: bool | None = None


@dataclass(frozen=True, slots=True)
class ItemScope:
    """Which items: one folder's children, or the union of path ranges (a subtree, or what a
    member can see). ``small`` picks the range-scan-and-sort plan."""

    folder_id: int | None = None
    ranges: tuple[tuple[str, str], ...] = ()
    small: bool = False


def children_scope(folder: sqlite3.Row) -> ItemScope:
    return ItemScope(folder_id=folder["id"])


def subtree_scope(conn: sqlite3.Connection, folder: sqlite3.Row) -> ItemScope:
    path = folder["path"]
    inside, total = conn.execute(
        "SELECT (SELECT count(*) FROM folders WHERE path >= ? AND path < ?), "
        "(SELECT count(*) FROM folders)",
        (path, path_end(path)),
    ).fetchone()
    return ItemScope(ranges=((path, path_end(path)),), small=inside < SMALL_SUBTREE_SHARE * total)


def ranges_scope(ranges: Sequence[tuple[str, str]]) -> ItemScope:
    return ItemScope(ranges=tuple(ranges))


def list_items(
    conn: sqlite3.Connection,
    scope: ItemScope,
    filters: ItemFilters,
    spec: PageSpec,
    select: str = ITEM_COLUMNS,
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of items and the token of the next page (None at the end).

    ``select`` must include the item's ``uuid`` and the sort column (``name``/``created_at``)."""
    where, params, hint = _scope_sql(scope, spec)
    if filters.search:
        where.append("instr(it.name_lower, ?) > 0")
        params.append(filters.search.lower())
    if filters.item_types:
        where.append(f"it.item_type IN ({','.join('?' * len(filters.item_types))})")
        params.extend(filters.item_types)
    if filters.is_in_dataset is not None:
        exists = "EXISTS" if filters.is_in_dataset else "NOT EXISTS"
        where.append(f"{exists} (SELECT 1 FROM data_rows d WHERE d.item_id = it.id)")
    head = f"SELECT {select} {ITEM_FROM.format(hint=hint)}"
    return fetch_page(conn, head, where, params, "it", spec)


def _scope_sql(scope: ItemScope, spec: PageSpec) -> tuple[list[str], list[Any], str]:
    if scope.folder_id is not None:
        return ["it.folder_id = ?"], [scope.folder_id], ""
    if not scope.ranges:
        return ["0"], [], ""
    clauses = " OR ".join("(it.folder_path >= ? AND it.folder_path < ?)" for _ in scope.ranges)
    params = [bound for pair in scope.ranges for bound in pair]
    if scope.small:
        hint = "INDEXED BY items_path_name"
    else:
        hint = "INDEXED BY items_name" if spec.order == "name" else "INDEXED BY items_created"
    return [f"({clauses})"], params, hint
