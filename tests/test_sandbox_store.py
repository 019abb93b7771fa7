"""The store below the HTTP layer: database lifecycle, transactions, paths, visibility, paging."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.errors import (
    ApiError,
    CorruptDatabaseError,
    DatabaseExistsError,
    DatabaseMissingError,
)
from reconciler.sandbox.provision import init_database
from reconciler.sandbox.store import access, folders, items
from reconciler.sandbox.store.common import Caller, now_text, path_end, path_ids
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.paging import PageSpec, page_spec
from reconciler.sandbox.store.schema import SCHEMA_VERSION


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "s.sqlite"
    init_database(path, admin_email="admin@example.com")
    handle = Database.open(path)
    yield handle
    handle.close()


def test_lifecycle_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with pytest.raises(DatabaseMissingError, match="sandbox init"):
        Database.open(path)
    Database.create(path).close()
    with pytest.raises(DatabaseExistsError):
        Database.create(path)
    with pytest.raises(CorruptDatabaseError, match="not a reconciler sandbox"):
        Database.open(path)  # a schema but no organisation
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\x00" * 5000)
    with pytest.raises(CorruptDatabaseError):
        Database.open(garbage)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    init_database(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CorruptDatabaseError, match="newer"):
        Database.open(path)


def test_write_rolls_back_on_error_and_reads_see_snapshots(db: Database) -> None:
    with pytest.raises(ApiError), db.write() as conn:
        conn.execute("UPDATE organisation SET name = 'changed'")
        raise ApiError(400, "stop")
    with db.read() as conn:
        assert conn.execute("SELECT name FROM organisation").fetchone()[0] == "Sandbox organisation"
        with db.write() as writer:
            writer.execute("UPDATE organisation SET name = 'later'")
        # Still the snapshot this read transaction started with.
        assert conn.execute("SELECT name FROM organisation").fetchone()[0] == "Sandbox organisation"
    with db.read() as conn:
        assert conn.execute("SELECT name FROM organisation").fetchone()[0] == "later"


def test_connections_are_shared_safely_between_threads(db: Database) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                with db.write() as conn:
                    conn.execute("UPDATE organisation SET name = ?", (f"{n}-{i}",))
                with db.read() as conn:
                    conn.execute("SELECT count(*) FROM folders").fetchone()
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def test_closed_database_refuses_use(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    init_database(path)
    handle = Database.open(path)
    handle.close()
    with pytest.raises(CorruptDatabaseError, match="closed"), handle.read():
        pass


def test_timestamps_strictly_increase() -> None:
    stamps = [now_text() for _ in range(2000)]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert stamps[0].endswith("+00:00") and len(stamps[0]) == len(
        "2026-01-01T00:00:00.000000+00:00"
    )


def test_subtree_ranges() -> None:
    assert path_end("/1/5/") == "/1/50"
    inside = ["/1/5/", "/1/5/9/", "/1/5/123/4/"]
    outside = ["/1/", "/1/50/", "/1/51/", "/1/6/", "/15/"]
    assert all("/1/5/" <= p < path_end("/1/5/") for p in inside)
    assert not any("/1/5/" <= p < path_end("/1/5/") for p in outside)
    assert path_ids("/3/17/200/") == [3, 17, 200]


def test_visibility_of_nested_grants() -> None:
    vis = access.Visibility(
        everything=False,
        roots=(
            access.AccessRoot("/1/", 1),
            access.AccessRoot("/1/2/", 2),
            access.AccessRoot("/7/", 1),
        ),
    )
    assert vis.top_paths() == ["/1/", "/7/"]
    assert (
        vis.rank_of("/1/"),
        vis.rank_of("/1/2/3/"),
        vis.rank_of("/1/4/"),
        vis.rank_of("/8/"),
    ) == (1, 2, 1, 0)
    sql, params = vis.subtree_filter("f.path")
    assert params == ["/1/", "/10", "/7/", "/70"] and sql.count("OR") == 1
    assert access.Visibility(everything=False).subtree_filter("x") == ("0", [])


def test_moves_carry_folder_and_item_paths(db: Database) -> None:
    with db.write() as conn:
        owner = conn.execute("SELECT id FROM users").fetchone()[0]
        a = folders.insert_folder(conn, folders.NewFolder(name="a", owner_id=owner))
        b = folders.insert_folder(conn, folders.NewFolder(name="b", owner_id=owner))
        child = folders.insert_folder(conn, folders.NewFolder(name="c", owner_id=owner, parent=a))
        leaf = folders.insert_folder(
            conn, folders.NewFolder(name="d", owner_id=owner, parent=child)
        )
        items.insert_items(
            conn,
            [("00000000-0000-4000-8000-000000000001", leaf["id"], leaf["path"], "image", "x", "x", "", "{}", owner, now_text(), now_text(), "encord", None, None, 1, None, None, None, None)],
        )  # fmt: skip
        folders.move_folder(conn, child, b)
        paths = dict(conn.execute("SELECT name, path FROM folders").fetchall())
        item_path = conn.execute("SELECT folder_path FROM items").fetchone()[0]
    assert paths["c"] == f"{paths['b']}{child['id']}/"
    assert paths["d"] == f"{paths['c']}{leaf['id']}/" == item_path
    with db.write() as conn, pytest.raises(ApiError) as caught:
        moved_child = access.folder_by_uuid(conn, child["uuid"])
        folders.move_folder(conn, access.folder_by_uuid(conn, b["uuid"]), moved_child)
    assert caught.value.status == 400


def test_member_rank_comes_from_ancestors(db: Database) -> None:
    with db.write() as conn:
        admin_id = conn.execute("SELECT id FROM users").fetchone()[0]
        member_id = conn.execute(
            "INSERT INTO users (email, org_role, member_type, created_at, last_edited_at) "
            "VALUES ('m@x.y', 'MEMBER', 'internal', '', '') RETURNING id"
        ).fetchone()[0]
        top = folders.insert_folder(conn, folders.NewFolder(name="t", owner_id=admin_id))
        below = folders.insert_folder(
            conn, folders.NewFolder(name="b", owner_id=admin_id, parent=top)
        )
        member = Caller(member_id, "m@x.y", "MEMBER")
        assert access.folder_rank(conn, member, below["path"]) == 0
        owned = folders.insert_folder(
            conn, folders.NewFolder(name="o", owner_id=member_id, parent=below)
        )
        assert access.folder_rank(conn, member, owned["path"]) == 2
        assert access.visibility(conn, member).top_paths() == [owned["path"]]


def test_page_tokens() -> None:
    spec = page_spec(order="createdAt", desc=True, size=10, token=None)
    token = spec.token_after("2026-01-01", "u-1")
    assert page_spec(order="createdAt", desc=True, size=10, token=token).after == (
        "2026-01-01",
        "u-1",
    )
    for order, desc in (("name", True), ("createdAt", False)):
        with pytest.raises(ApiError):
            page_spec(order=order, desc=desc, size=10, token=token)
    assert PageSpec().keyset("t") == ("1", [])
    assert (
        "(t.created_at, t.uuid) < (?, ?)"
        in page_spec(order="createdAt", desc=True, size=1, token=token).keyset("t")[0]
    )
