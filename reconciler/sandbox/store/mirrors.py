"""Mirror datasets follow their backing folders.

A dataset created with a backing folder mirrors the items under that folder's subtree: an item
moved in is linked to the dataset; an item moved out that is linked to it is refused unless
the caller allows mirror changes (``allowSyncedDatasetMove``), and is then unlinked. Moves
compare which (dataset, item) pairs are mirrored before and after, inside the move's own
transaction, so a refusal undoes the move.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.store.common import new_uuid, now_text

Pairs = set[tuple[int, int]]  # (dataset id, item id)

_MEMBERS = (
    "SELECT d.id AS dataset_id, it.id AS item_id FROM datasets d "
    "JOIN folders f ON f.id = d.backing_folder_id "
    "JOIN items it ON it.folder_path >= f.path AND it.folder_path < substr(f.path, 1, "
    "length(f.path) - 1) || '0' "
)


def any_mirrors(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT 1 FROM datasets WHERE backing_folder_id IS NOT NULL LIMIT 1")
    return found.fetchone() is not None


def members_of_items(conn: sqlite3.Connection, item_ids: Sequence[int]) -> Pairs:
    pairs: Pairs = set()
    for start in range(0, len(item_ids), 900):
        chunk = list(item_ids[start : start + 900])
        rows = conn.execute(
            _MEMBERS + f"WHERE it.id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
        pairs.update((row["dataset_id"], row["item_id"]) for row in rows)
    return pairs


def members_in_range(conn: sqlite3.Connection, low: str, high: str) -> Pairs:
    """Mirrored pairs of the items whose folder path lies in ``[low, high)``."""
    rows = conn.execute(
        _MEMBERS + "WHERE it.folder_path >= ? AND it.folder_path < ?", (low, high)
    ).fetchall()
    return {(row["dataset_id"], row["item_id"]) for row in rows}


def follow(conn: sqlite3.Connection, before: Pairs, after: Pairs, *, allow_unlink: bool) -> None:
    """Link items that entered a backing folder; unlink (or refuse) linked items that left."""
    left = sorted(before - after)
    linked_left = [
        pair
        for pair in left
        if conn.execute(
            "SELECT 1 FROM data_rows WHERE dataset_id = ? AND item_id = ? LIMIT 1", pair
        ).fetchone()
    ]
    if linked_left and not allow_unlink:
        raise bad_request(
            f"{len(linked_left)} items are linked to a mirror dataset and would leave its "
            "backing folder; pass allowSyncedDatasetMove=true to move them (they are unlinked)"
        )
    now = now_text()
    conn.executemany("DELETE FROM data_rows WHERE dataset_id = ? AND item_id = ?", linked_left)
    for dataset_id, item_id in sorted(after - before):
        already = conn.execute(
            "SELECT 1 FROM data_rows WHERE dataset_id = ? AND item_id = ? LIMIT 1",
            (dataset_id, item_id),
        ).fetchone()
        if already is None:
            conn.execute(
                "INSERT INTO data_rows (data_hash, dataset_id, item_id, created_at, "
                "last_edited_at) VALUES (?, ?, ?, ?, ?)",
                (new_uuid(), dataset_id, item_id, now, now),
            )
    changed = {dataset_id for dataset_id, _ in set(linked_left) | (after - before)}
    conn.executemany(
        "UPDATE datasets SET last_edited_at = ? WHERE id = ?", [(now, d) for d in changed]
    )
