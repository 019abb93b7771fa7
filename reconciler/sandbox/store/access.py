"""Who may see and change which folder: effective roles from grants, inheritance and ownership.

A caller's role on a folder is the highest of: ``admin`` when the caller owns the folder or an
ancestor; the role any of the caller's groups holds on the folder or an ancestor. Organisation
admins hold ``admin`` everywhere. A grant reaches down the whole subtree and nothing revokes
it below, so the folders a caller can see are the union of the subtrees of its *access roots*
(granted or owned folders), and the role on a folder is the best root above it.

Organisation-wide listings (the root listing, searches) show an organisation admin, too, only
its own access roots unless it asks for ``includeOrgAccess`` (as the SDK documents); its direct
reads and changes are never restricted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from reconciler.sandbox.errors import forbidden, not_found
from reconciler.sandbox.store.common import (
    ROLE_RANK,
    Caller,
    canonical_uuid,
    now_text,
    path_end,
    path_ids,
)

ADMIN = ROLE_RANK["admin"]
USER = ROLE_RANK["user"]

_RANK_SQL = "CASE g.role WHEN 'admin' THEN 2 ELSE 1 END"


@dataclass(frozen=True, slots=True)
class AccessRoot:
    path: str
    rank: int


@dataclass(frozen=True, slots=True)
class Visibility:
    """What one caller lists: everything, or the subtrees of ``roots`` (sorted by path).
    ``admin``: an organisation admin, whose role is ``admin`` wherever it looks."""

    everything: bool
    roots: tuple[AccessRoot, ...] = ()
    admin: bool = False

    def rank_of(self, path: str) -> int:
        """0 (invisible), 1 (user) or 2 (admin) on the folder with this materialised path."""
        if self.everything or self.admin:
            return ADMIN
        return max((r.rank for r in self.roots if path.startswith(r.path)), default=0)

    def top_paths(self) -> list[str]:
        """Roots not inside another root: the subtrees that together hold every visible folder."""
        tops: list[str] = []
        for root in self.roots:  # sorted, so an ancestor comes before its descendants
            if not tops or not root.path.startswith(tops[-1]):
                tops.append(root.path)
        return tops

    def subtree_filter(self, column: str) -> tuple[str, list[str]]:
        """SQL condition (and parameters) keeping rows whose ``column`` path is visible."""
        if self.everything:
            return "1", []
        tops = self.top_paths()
        if not tops:
            return "0", []
        clauses = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in tops)
        return f"({clauses})", [bound for top in tops for bound in (top, path_end(top))]


def visibility(conn: sqlite3.Connection, caller: Caller, *, org_access: bool = False) -> Visibility:
    """What ``caller`` lists; ``org_access`` (admins only) widens it to the organisation."""
    if caller.is_admin and org_access:
        return Visibility(everything=True, admin=True)
    rows = conn.execute(
        f"SELECT f.path AS path, max({_RANK_SQL}) AS rank FROM folder_grants g "
        "JOIN group_members m ON m.group_id = g.group_id JOIN folders f ON f.id = g.folder_id "
        "WHERE m.user_id = ? GROUP BY f.path "
        "UNION ALL SELECT path, 2 FROM folders WHERE owner_id = ?",
        (caller.user_id, caller.user_id),
    ).fetchall()
    best: dict[str, int] = {}
    for row in rows:
        best[row["path"]] = max(best.get(row["path"], 0), int(row["rank"]))
    roots = tuple(AccessRoot(path, rank) for path, rank in sorted(best.items()))
    return Visibility(everything=False, roots=roots, admin=caller.is_admin)


def folder_rank(conn: sqlite3.Connection, caller: Caller, path: str) -> int:
    """The caller's role rank on one folder, from its ancestors' grants and owners."""
    if caller.is_admin:
        return ADMIN
    ids = path_ids(path)
    marks = ",".join("?" * len(ids))
    owned = conn.execute(
        f"SELECT 1 FROM folders WHERE id IN ({marks}) AND owner_id = ? LIMIT 1",
        (*ids, caller.user_id),
    ).fetchone()
    if owned is not None:
        return ADMIN
    row = conn.execute(
        f"SELECT max({_RANK_SQL}) FROM folder_grants g JOIN group_members m "
        f"ON m.group_id = g.group_id WHERE m.user_id = ? AND g.folder_id IN ({marks})",
        (caller.user_id, *ids),
    ).fetchone()
    return int(row[0] or 0)


def folder_by_uuid(conn: sqlite3.Connection, folder_uuid: str) -> sqlite3.Row:
    """The folder row (with ``owner_email`` and ``integration_uuid``); 404 when unknown."""
    row: sqlite3.Row | None = conn.execute(
        FOLDER_SELECT + " WHERE f.uuid = ?", (canonical_uuid(folder_uuid, "folder UUID"),)
    ).fetchone()
    if row is None:
        raise not_found(f"no storage folder {folder_uuid}")
    return row


FOLDER_SELECT = (
    "SELECT f.*, u.email AS owner_email, i.uuid AS integration_uuid FROM folders f "
    "JOIN users u ON u.id = f.owner_id LEFT JOIN integrations i ON i.id = f.integration_id"
)


def require_folder(
    conn: sqlite3.Connection, caller: Caller, folder_uuid: str, need: str
) -> tuple[sqlite3.Row, int]:
    """The folder and the caller's rank on it; 404 unknown, 403 below ``need`` (user|admin)."""
    row = folder_by_uuid(conn, folder_uuid)
    rank = folder_rank(conn, caller, row["path"])
    require_rank(conn, row, rank, need)
    return row, rank


def require_rank(conn: sqlite3.Connection, folder: sqlite3.Row, rank: int, need: str) -> None:
    if rank >= ROLE_RANK[need]:
        return
    where = f"folder {folder_display(conn, folder['path'])} ({folder['uuid']})"
    if rank == 0:
        raise forbidden(f"you have no access to {where}")
    raise forbidden(f"you need the admin role on {where}")


def folder_display(conn: sqlite3.Connection, path: str) -> str:
    """``/a/b``: the names from the root down, for messages."""
    ids = path_ids(path)
    rows = conn.execute(
        f"SELECT id, name FROM folders WHERE id IN ({','.join('?' * len(ids))})", ids
    ).fetchall()
    names = {row["id"]: row["name"] for row in rows}
    return "/" + "/".join(names.get(i, "?") for i in ids)


# --- grants ----------------------------------------------------------------------------------


def folder_grants(conn: sqlite3.Connection, folder_id: int) -> list[sqlite3.Row]:
    """The groups granted a role directly on this folder (not inherited ones), with ``role``."""
    return conn.execute(
        "SELECT g.*, fg.role AS role FROM folder_grants fg JOIN groups g ON g.id = fg.group_id "
        "WHERE fg.folder_id = ? ORDER BY fg.created_at, g.id",
        (folder_id,),
    ).fetchall()


def grant(conn: sqlite3.Connection, folder_id: int, group_ids: list[int], role: str) -> None:
    """Give groups a role on the folder; a group granted already gets the new role."""
    now = now_text()
    conn.executemany(
        "INSERT INTO folder_grants (folder_id, group_id, role, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (folder_id, group_id) DO UPDATE SET role = excluded.role",
        [(folder_id, group_id, role, now) for group_id in group_ids],
    )


def revoke(conn: sqlite3.Connection, folder_id: int, group_ids: list[int]) -> None:
    conn.executemany(
        "DELETE FROM folder_grants WHERE folder_id = ? AND group_id = ?",
        [(folder_id, group_id) for group_id in group_ids],
    )
