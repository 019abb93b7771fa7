"""v2 Index collection routes (``index/collections``), as SDK 0.1.211 calls them.

Create answers the new UUID as a bare JSON string; a get is a listing by ``uuids`` (an
unknown or inaccessible UUID gives empty ``results``, which the SDK turns into "No
collection found"). Listings are paged by name (``pageSize`` 1 to 1000, 100 by default).
"""

from __future__ import annotations

import json
import sqlite3

from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.listing import item_columns
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import NO_CONTENT, Reply
from reconciler.sandbox.serialize import page, page_text
from reconciler.sandbox.store import collections
from reconciler.sandbox.store.paging import PageSpec, page_spec
from reconciler.wire.collections import (
    CollectionItemsPayload,
    CreateCollectionPayload,
    UpdateCollectionPayload,
)

routes = Routes()
COLLECTIONS = "/v2/public/index/collections"
ONE = f"{COLLECTIONS}/{{uuid}}"
MAX_BULK = 1000


def collection_json(row: sqlite3.Row) -> dict[str, object]:
    return {
        "uuid": row["uuid"],
        "topLevelFolderUuid": row["folder_uuid"],
        "name": row["name"],
        "description": row["description"],
        "createdAt": row["created_at"],
        "lastEditedAt": row["last_edited_at"],
    }


def _spec(call: Call) -> PageSpec:
    """Pages in name order: the listings take no ``order``."""
    return page_spec(
        order="name", desc=False, size=call.q_int("pageSize"), token=call.q("pageToken")
    )


@routes.post(COLLECTIONS)
def create_collection(call: Call) -> Reply:
    body = call.payload(CreateCollectionPayload)
    folder = call.q("topLevelFolderUuid") or ""
    created = collections.create(call.conn, call.caller, folder, body.name, body.description)
    return Reply(200, created)


@routes.get(COLLECTIONS)
def list_collections(call: Call) -> Reply:
    folder = call.q("topLevelFolderUuid")
    folder_id = None
    if folder is not None:
        folder_id = collections.require_top_level(call.conn, call.caller, folder)["id"]
    filters = collections.CollectionFilters(folder_id=folder_id, uuids=tuple(call.q_list("uuids")))
    rows, token = collections.list_page(call.conn, call.caller, filters, _spec(call))
    return Reply(200, page([collection_json(row) for row in rows], token))


@routes.patch(ONE)
def update_collection(call: Call) -> Reply:
    row = collections.require_collection(call.conn, call.caller, call.path_params["uuid"])
    body = call.payload(UpdateCollectionPayload)
    collections.update(call.conn, row, body.name, body.description)
    return NO_CONTENT


@routes.delete(ONE)
def delete_collection(call: Call) -> Reply:
    row = collections.require_collection(call.conn, call.caller, call.path_params["uuid"])
    collections.delete(call.conn, row)
    return NO_CONTENT


def _change(call: Call, *, add: bool) -> Reply:
    row = collections.require_collection(call.conn, call.caller, call.path_params["uuid"])
    body = call.payload(CollectionItemsPayload)
    if len(body.item_uuids) > MAX_BULK:
        raise bad_request(f"at most {MAX_BULK} item UUIDs per request")
    failed = collections.change_items(call.conn, row, body.item_uuids, add=add)
    return Reply(200, {"failedItems": failed})


@routes.post(f"{ONE}/add-items")
def add_items(call: Call) -> Reply:
    return _change(call, add=True)


@routes.post(f"{ONE}/remove-items")
def remove_items(call: Call) -> Reply:
    return _change(call, add=False)


@routes.get(f"{ONE}/accessible-items")
def accessible_items(call: Call) -> Reply:
    """The members as storage items (deleted ones left out)."""
    row = collections.require_collection(call.conn, call.caller, call.path_params["uuid"])
    rows, token = collections.member_page(
        call.conn, row, item_columns(call), _spec(call), deleted=False
    )
    return Reply(200, text=page_text([member["json"] for member in rows], token))


@routes.get(f"{ONE}/all-items")
def all_items(call: Call) -> Reply:
    """Every member: a storage item, or a bare ``{"uuid"}`` for one no longer accessible."""
    row = collections.require_collection(call.conn, call.caller, call.path_params["uuid"])
    columns = f"{item_columns(call)}, it.is_tombstone AS gone"
    rows, token = collections.member_page(call.conn, row, columns, _spec(call), deleted=True)
    texts = [json.dumps({"uuid": m["uuid"]}) if m["gone"] else m["json"] for m in rows]
    return Reply(200, text=page_text(texts, token))
