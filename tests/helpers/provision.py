"""A described organisation (``simulator.Org``) made real in an embedded sandbox, so the real
planner and the real apply engine run against it through the real client (in-process,
``httpx.ASGITransport``).

``provision(org, tmp_path)`` writes the organisation's folders, items, groups, grants and
datasets straight into a fresh sandbox store (as ``reconciler sandbox seed`` does: no API
call, so no lock and no request budget) and returns the ``Sandbox`` to connect to, with the
sandbox uuid of every object named by its ``Org`` id. The organisation's buckets become files
under the integration's root, so a cloud sync finds them. The sandbox's admin plays the
``Org``'s caller: it is an admin of the organisation, but (as in the ``Org``) not a member
of the groups and datasets provisioned, which carry exactly the members the ``Org`` lists.
"""

from __future__ import annotations

import json
import sqlite3
import uuid as uuids
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from simulator import CALLER, Collection, Dataset, Group, Item, Org

from helpers.embedded import Sandbox, ensure_created
from reconciler.apply import ApplyOptions, apply_plan
from reconciler.encord import EncordClient
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    DesiredState,
    OrganisationRole,
    Provider,
    SandboxIntegration,
    SandboxUser,
)
from reconciler.model.live import LiveState
from reconciler.plan import Plan
from reconciler.sandbox.store import access, collections, datasets, groups, tags
from reconciler.sandbox.store import org as org_store
from reconciler.sandbox.store.common import (
    DATASET_ADMIN,
    DATASET_USER,
    Caller,
    new_uuid,
    now_text,
)
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.folders import NewFolder, insert_folder
from reconciler.sandbox.store.items import insert_items

PROVIDER: Provider = "s3"
_DATASET_ROLES = {"admin": DATASET_ADMIN, "user": DATASET_USER}
_MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/wav"}


@dataclass
class Provisioned:
    """The sandbox and, for each ``Org`` id (folder, item, group, dataset), its sandbox uuid."""

    sandbox: Sandbox
    uuids: dict[str, str] = field(default_factory=dict)


async def read(client: EncordClient, desired: DesiredState) -> LiveState:
    """The live state ``reconciler plan`` reads for ``desired``."""
    return await read_live(client, Scope.from_desired(desired))


async def apply(client: EncordClient, plan: Plan, desired: DesiredState | None = None) -> None:
    """Apply ``plan`` with the real engine; every step must take effect. With ``desired``,
    what cloud syncs bring is planned and applied after them, as ``reconciler apply`` does."""
    result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
    assert not result.failures, [f.message for f in result.failures]


async def provision(org: Org, tmp_path: Path) -> Provisioned:
    """A new embedded sandbox under ``tmp_path`` holding ``org``."""
    buckets = tmp_path / "buckets"
    _write_buckets(org, buckets)
    sandbox = Sandbox(
        db=tmp_path / "sandbox.sqlite",
        integrations=tuple(
            SandboxIntegration(title=title, provider=PROVIDER, root=str(buckets))
            for title in sorted(set(org.integrations.values()))
        ),
        users=tuple(
            SandboxUser(email=email, role=cast(OrganisationRole, role))
            for email, role in sorted(org.users.items())
            if email != CALLER
        ),
    )
    await ensure_created(sandbox)
    db = Database.open(sandbox.db)
    try:
        with db.write() as conn:
            uuids = _Writer(conn, org).write()
    finally:
        db.close()
    return Provisioned(sandbox, uuids)


def _write_buckets(org: Org, buckets: Path) -> None:
    """Each bucket file as a small JPEG-looking file at ROOT/bucket/prefix/relative."""
    for url, files in org.buckets.items():
        scheme, rest = url.split("://", 1)
        assert scheme == PROVIDER, f"only {PROVIDER}:// buckets are provisioned, not {url}"
        for relative in files:
            path = buckets / rest / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\xff\xd8\xff" + relative.encode())


class _Writer:
    """Writes one ``Org`` into an open write transaction; ``ids`` maps Org id → row id."""

    def __init__(self, conn: sqlite3.Connection, org: Org) -> None:
        self.conn = conn
        self.org = org
        admin = org_store.first_admin(conn)
        assert admin is not None
        self.caller = Caller(int(admin["id"]), str(admin["email"]), "ADMIN")
        self.uuids: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def write(self) -> dict[str, str]:
        if self.org.schema is not None:
            org_store.set_metadata_schema(self.conn, dict(self.org.schema))
        self._folders()
        self._items()
        for group in self.org.groups.values():
            self._group(group)
        for folder_id, grants in self.org.folder_groups.items():
            for group_id, role in grants.items():
                access.grant(self.conn, self.ids[folder_id], [self.ids[group_id]], role)
        for dataset in self.org.datasets.values():
            self._dataset(dataset)
        for tag_id, (name, description) in self.org.tags.items():
            self.uuids[tag_id] = tags.create_tag(self.conn, name, description)["uuid"]
        for collection in self.org.collections.values():
            self._collection(collection)
        return self.uuids

    def _folders(self) -> None:
        rows: dict[str, sqlite3.Row] = {}
        integrations = self._integrations()
        for uuid, f in self.org.folders.items():  # in creation order: parents first
            row = insert_folder(
                self.conn,
                NewFolder(
                    name=f.name,
                    owner_id=self.caller.user_id,
                    parent=rows[f.parent] if f.parent is not None else None,
                    description=f.description,
                    client_metadata=json.dumps(f.metadata) if f.metadata else None,
                    folder_type=f.folder_type,
                    integration_id=integrations.get(f.integration_uuid or ""),
                    remote_url=f.remote_url,
                ),
            )
            rows[uuid] = row
            self._remember(uuid, row)

    def _integrations(self) -> dict[str, int]:
        """Org integration id → sandbox integration row id (matched by title)."""
        found = {}
        for uuid, title in self.org.integrations.items():
            row = self.conn.execute("SELECT id FROM integrations WHERE title = ?", (title,))
            found[uuid] = int(row.fetchone()["id"])
        return found

    def _items(self) -> None:
        now = now_text()
        for uuid, item in self.org.items.items():
            folder = access.folder_by_uuid(self.conn, self.uuids[item.parent])
            insert_items(self.conn, [_item_row(item, folder, self.caller.user_id, now)])
            row = self.conn.execute(
                "SELECT id, uuid FROM items WHERE id = last_insert_rowid()"
            ).fetchone()
            self._remember(uuid, row)

    def _group(self, group: Group) -> None:
        hash_ = groups.create_group(self.conn, self.caller, group.name, group.description)
        row = groups.get_group(self.conn, hash_)
        groups.remove_members(self.conn, row, [self.caller.email])
        groups.add_members(self.conn, row, sorted(group.members - {CALLER}))
        self._remember(group.hash, row)

    def _dataset(self, dataset: Dataset) -> None:
        uuid = datasets.create_dataset(
            self.conn,
            self.caller,
            title=dataset.title,
            description=dataset.description,
            backing_folder_id=None,
        )
        row = datasets.dataset_by_uuid(self.conn, uuid)
        datasets.remove_users(self.conn, int(row["id"]), [self.caller.email])
        for email, role in dataset.users.items():
            datasets.add_users(self.conn, int(row["id"]), [email], _DATASET_ROLES[role])
        for group_id, role in dataset.groups.items():
            datasets.grant_groups(
                self.conn, int(row["id"]), [self.ids[group_id]], _DATASET_ROLES[role]
            )
        items = [self.ids[item] for item in dataset.rows.values()]
        datasets.link_items(self.conn, int(row["id"]), items, "DUPLICATE")
        self._remember(dataset.uuid, row)

    def _collection(self, collection: Collection) -> None:
        made = collections.create(
            self.conn,
            self.caller,
            self.uuids[collection.folder],
            collection.name,
            collection.description,
        )
        row = collections.require_collection(self.conn, self.caller, made)
        members = [uuids.UUID(self.uuids[item]) for item in sorted(collection.members)]
        assert collections.change_items(self.conn, row, members, add=True) == []
        self._remember(collection.uuid, row)

    def _remember(self, org_id: str, row: sqlite3.Row) -> None:
        self.uuids[org_id] = str(row["uuid"])
        self.ids[org_id] = int(row["id"])


def _item_row(item: Item, folder: sqlite3.Row, owner_id: int, now: str) -> tuple[Any, ...]:
    """The ``items.INSERT_COLUMNS`` values of one item stored by Encord."""
    mime = _MIME.get(item.item_type, "application/octet-stream")
    return (
        new_uuid(), folder["id"], folder["path"], item.item_type, item.name, item.name.lower(),
        "", json.dumps(item.metadata), owner_id, now, now, "encord", None, None, 1000, mime, None, None,
        None,
    )  # fmt: skip


# --- reading it back: what each object looks like, to compare before and after an apply ------

Key = tuple[str, str]  # (kind, uuid): ("folder" | "item" | "group" | "dataset" | ..., uuid)


def snapshot(db_path: Path) -> dict[Key, tuple[Any, ...]]:
    """Every folder, item, group and dataset of the sandbox with everything about it that a
    plan can change (relations included: a folder's grants, a dataset's users, groups and
    rows), straight from the store, with nothing the server bumps by itself (timestamps)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {
            **_folders(conn),
            **_items(conn),
            **_groups(conn),
            **_datasets(conn),
            **_tags(conn),
            **_collections(conn),
        }
    finally:
        conn.close()


def _folders(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    grants = _pairs(
        conn,
        "SELECT f.uuid, g.uuid, fg.role FROM folder_grants fg "
        "JOIN folders f ON f.id = fg.folder_id JOIN groups g ON g.id = fg.group_id",
    )
    rows = conn.execute(
        "SELECT f.uuid, p.uuid, f.name, f.description, f.client_metadata FROM folders f "
        "LEFT JOIN folders p ON p.id = f.parent_id"
    )
    return {
        ("folder", uuid): (parent, name, text, _json(meta), grants.get(uuid, frozenset()))
        for uuid, parent, name, text, meta in rows
    }


def _items(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT it.uuid, f.uuid, it.name, it.client_metadata FROM items it "
        "JOIN folders f ON f.id = it.folder_id"
    )
    return {("item", uuid): (folder, name, _json(meta)) for uuid, folder, name, meta in rows}


def _tags(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    rows = conn.execute("SELECT uuid, name, description FROM organisation_tags")
    return {("organisation-tag", uuid): (name, text) for uuid, name, text in rows}


def _groups(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    members = _pairs(
        conn,
        "SELECT g.uuid, u.email, 1 FROM group_members m JOIN groups g ON g.id = m.group_id "
        "JOIN users u ON u.id = m.user_id",
    )
    rows = conn.execute("SELECT uuid, name, description FROM groups")
    return {
        ("group", uuid): (name, text, members.get(uuid, frozenset())) for uuid, name, text in rows
    }


def _datasets(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    users = _pairs(
        conn,
        "SELECT d.uuid, u.email, du.role FROM dataset_users du "
        "JOIN datasets d ON d.id = du.dataset_id JOIN users u ON u.id = du.user_id",
    )
    groups_ = _pairs(
        conn,
        "SELECT d.uuid, g.uuid, dg.role FROM dataset_groups dg "
        "JOIN datasets d ON d.id = dg.dataset_id JOIN groups g ON g.id = dg.group_id",
    )
    rows_ = _pairs(
        conn,
        "SELECT d.uuid, r.data_hash, it.uuid FROM data_rows r "
        "JOIN datasets d ON d.id = r.dataset_id JOIN items it ON it.id = r.item_id",
    )
    out: dict[Key, tuple[Any, ...]] = {}
    for uuid, title, text in conn.execute("SELECT uuid, title, description FROM datasets"):
        empty: frozenset[tuple[Any, Any]] = frozenset()
        out[("dataset", uuid)] = (
            title,
            text,
            users.get(uuid, empty),
            groups_.get(uuid, empty),
            rows_.get(uuid, empty),
        )
    return out


def _collections(conn: sqlite3.Connection) -> dict[Key, tuple[Any, ...]]:
    members = _pairs(
        conn,
        "SELECT c.uuid, it.uuid, 1 FROM collection_items ci "
        "JOIN collections c ON c.id = ci.collection_id JOIN items it ON it.id = ci.item_id",
    )
    rows = conn.execute(
        "SELECT c.uuid, f.uuid, c.name, c.description FROM collections c "
        "JOIN folders f ON f.id = c.folder_id"
    )
    return {
        ("collection", uuid): (folder, name, text, members.get(uuid, frozenset()))
        for uuid, folder, name, text in rows
    }


def _pairs(conn: sqlite3.Connection, query: str) -> dict[str, frozenset[tuple[Any, Any]]]:
    """``owner → {(other, value)}`` from rows of (owner, other, value)."""
    out: dict[str, set[tuple[Any, Any]]] = {}
    for owner, other, value in conn.execute(query):
        out.setdefault(owner, set()).add((other, value))
    return {owner: frozenset(pairs) for owner, pairs in out.items()}


def _json(text: str | None) -> str:
    """Metadata as canonical JSON text (the store keeps whatever spacing it was sent with)."""
    return json.dumps(json.loads(text or "{}"), sort_keys=True)
