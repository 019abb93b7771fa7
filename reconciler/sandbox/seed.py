"""Bulk seeding for benchmarks and tests: folders and items written straight into the store.

``seed(db, under="/bench", folders=500, items=100_000)`` creates ``/bench`` (and any missing
ancestors) if needed, ``folders`` sub-folders ``folder-00000``… under it, and ``items`` image
items ``item-0000000.jpg``… spread round-robin over them (or under ``/bench`` itself when
``folders`` is 0), all owned by the first organisation admin, in one transaction of bulk
inserts. Seeding twice adds a second set beside the first (names may repeat, as they may in
Encord).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.sandbox.errors import ApiError, ProvisionError
from reconciler.sandbox.store import org
from reconciler.sandbox.store.access import FOLDER_SELECT
from reconciler.sandbox.store.common import now_text
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.folders import NewFolder, insert_folder
from reconciler.sandbox.store.items import insert_items

REBUILD_AT_LEAST = 10_000


@dataclass(frozen=True, slots=True)
class SeedResult:
    root_uuid: str
    folders: int
    items: int
    seconds: float


def seed(db_path: Path, *, under: str, folders: int, items: int) -> SeedResult:
    if not under.startswith("/") or under.endswith("/"):
        raise ProvisionError(f"--under must be an absolute folder path like /bench, got {under!r}")
    if folders < 0 or items < 0:
        raise ProvisionError("--folders and --items must not be negative")
    started = time.perf_counter()
    db = Database.open(db_path)
    try:
        with db.write() as conn:
            admin = org.first_admin(conn)
            if admin is None:
                raise ProvisionError(f"{db_path} has no organisation admin to own the seed")
            root = _ensure_path(conn, under, int(admin["id"]))
            targets = _seed_folders(conn, root, folders, int(admin["id"]))
            targets = targets or [(int(root["id"]), str(root["path"]))]
            _seed_items(conn, targets, items, int(admin["id"]))
    except ApiError as exc:
        raise ProvisionError(exc.message) from None
    finally:
        db.close()
    return SeedResult(root["uuid"], folders, items, time.perf_counter() - started)


def _ensure_path(conn: sqlite3.Connection, path: str, owner_id: int) -> sqlite3.Row:
    """The folder at ``path`` (names from the root), creating missing ones; refuse ambiguity."""
    parent: sqlite3.Row | None = None
    for name in [part for part in path.split("/") if part]:
        rows = conn.execute(
            FOLDER_SELECT + " WHERE f.name = ? AND f.parent_id IS ?",
            (name, parent["id"] if parent is not None else None),
        ).fetchall()
        if len(rows) > 1:
            raise ProvisionError(f"{path} is ambiguous: several folders named {name!r}")
        parent = (
            rows[0]
            if rows
            else insert_folder(conn, NewFolder(name=name, owner_id=owner_id, parent=parent))
        )
    if parent is None:
        raise ProvisionError("--under must name a folder, not the root")
    return parent


def _seed_folders(
    conn: sqlite3.Connection, root: sqlite3.Row, count: int, owner_id: int
) -> list[tuple[int, str]]:
    """Bulk-insert ``count`` sub-folders; return their (id, path)."""
    first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM folders").fetchone()[0]
    now = now_text()
    rows = []
    for index in range(count):
        folder_id = first_id + index
        name = f"folder-{index:05d}"
        path = f"{root['path']}{folder_id}/"
        rows.append(
            (folder_id, str(uuid.uuid4()), root["id"], path, name, name, owner_id, now, now)
        )
    conn.executemany(
        "INSERT INTO folders (id, uuid, parent_id, path, name, name_lower, owner_id, created_at, "
        "last_edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return [(row[0], row[3]) for row in rows]


def _seed_items(
    conn: sqlite3.Connection, targets: list[tuple[int, str]], count: int, owner_id: int
) -> None:
    """Bulk-insert ``count`` image items spread round-robin over ``targets`` (id, path)."""
    now = now_text()

    def rows() -> Iterator[tuple[object, ...]]:
        for index in range(count):
            folder_id, path = targets[index % len(targets)]
            name = f"item-{index:07d}.jpg"
            yield (
                str(uuid.uuid4()), folder_id, path, "image", name, name, "", "{}", owner_id,
                now, now, "encord", None, None, 1000 + index % 9000, "image/jpeg", 640, 480, None,
            )  # fmt: skip

    with _indexes_rebuilt_if_cheaper(conn, count):
        insert_items(conn, rows())


@contextlib.contextmanager
def _indexes_rebuilt_if_cheaper(conn: sqlite3.Connection, count: int) -> Iterator[None]:
    """Build the item indexes once after a large insert instead of row by row.

    Sorting 100,000 keys once is several times faster than 100,000 random B-tree inserts per
    index, but rebuilding costs the whole table: only worth it when the batch is at least as
    large as what is already there. Inside the caller's transaction, so readers never see the
    table without its indexes.
    """
    existing = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    if count < max(REBUILD_AT_LEAST, existing):
        yield
        return
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for index in indexes:
        conn.execute(f'DROP INDEX "{index["name"]}"')
    yield
    for index in indexes:
        conn.execute(index["sql"])
