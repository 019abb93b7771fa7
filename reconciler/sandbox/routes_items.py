"""v2 storage item routes: list (incl. recursive), search, get, get-bulk, patch, patch-bulk,
move, delete, summary and child items. Changing an item needs admin on its folder."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.listing import (
    check_org_access,
    item_columns,
    item_filters,
    items_page,
    listing_visibility,
    page_spec_of,
)
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import Reply
from reconciler.sandbox.serialize import item_json_columns, page, page_text
from reconciler.sandbox.store import access, datasets, items, mirrors, org
from reconciler.sandbox.store.common import ROLE_RANK, Caller
from reconciler.wire.storage import (
    DeleteItemsPayload,
    GetItemsBulkPayload,
    ItemsPatchBulkPayload,
    MoveItemsPayload,
    PatchItemPayload,
)

routes = Routes()
FOLDERS = "/v2/public/storage/folders"
ITEMS = "/v2/public/storage/items"
MAX_BULK = 1000


def require_item_access(
    conn: sqlite3.Connection, caller: Caller, item: sqlite3.Row, need: str
) -> None:
    """403 unless the caller holds ``need`` on the item's folder."""
    rank = access.folder_rank(conn, caller, item["folder_path"])
    if rank < ROLE_RANK[need]:  # the folder row is only needed for the message
        access.require_rank(conn, access.folder_by_uuid(conn, item["folder_uuid"]), rank, need)


# Enough of an item to check access, beside its JSON: one fetch serves a get-bulk whole.
_ACCESS_COLUMNS = (
    "it.id AS id, it.folder_id AS folder_id, it.folder_path AS folder_path, pf.uuid AS folder_uuid"
)


def _require_items(
    call: Call, uuids: list[str], need: str, select: str = items.ITEM_COLUMNS
) -> list[sqlite3.Row]:
    rows = items.items_by_uuid(call.conn, uuids, select)
    checked: set[str] = set()
    for row in rows:
        if row["folder_uuid"] not in checked:
            require_item_access(call.conn, call.caller, row, need)
            checked.add(row["folder_uuid"])
    return rows


@routes.get(f"{FOLDERS}/{{uuid}}/items")
def list_folder_items(call: Call) -> Reply:
    check_org_access(call)
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    recursive = call.q_bool("isRecursive", False)
    scope = items.subtree_scope(call.conn, folder) if recursive else items.children_scope(folder)
    rows, token = items.list_items(
        call.conn, scope, item_filters(call), page_spec_of(call), item_columns(call)
    )
    return Reply(200, text=items_page(rows, token))


@routes.get("/v2/public/storage/search/items")
def search_items(call: Call) -> Reply:
    vis = listing_visibility(call)
    ranges = [("/", "0")] if vis.everything else [(p, p[:-1] + "0") for p in vis.top_paths()]
    scope = items.ranges_scope(ranges)
    rows, token = items.list_items(
        call.conn, scope, item_filters(call), page_spec_of(call), item_columns(call)
    )
    return Reply(200, text=items_page(rows, token))


@routes.get(f"{ITEMS}/{{item_uuid}}")
def get_item(call: Call) -> Reply:
    item = items.item_by_uuid(call.conn, call.path_params["item_uuid"])
    require_item_access(call.conn, call.caller, item, "user")
    columns = item_json_columns(sign_urls=bool(call.q_bool("signUrl", False)))
    return Reply(200, text=items.item_by_uuid(call.conn, item["uuid"], columns)["json"])


@routes.post(f"{ITEMS}/get-bulk")
def get_items_bulk(call: Call) -> Reply:
    body = call.payload(GetItemsBulkPayload)
    if len(body.item_uuids) > MAX_BULK:
        raise bad_request(f"at most {MAX_BULK} item UUIDs per request")
    columns = f"{item_json_columns(sign_urls=body.sign_urls)}, {_ACCESS_COLUMNS}"
    rows = _require_items(call, [str(u) for u in body.item_uuids], "user", columns)
    return Reply(200, text=page_text([row["json"] for row in rows], None))


def _items_text(call: Call, rows: list[sqlite3.Row]) -> str:
    """A single-page answer holding these items as they are now, in this order."""
    fresh = items.items_by_uuid(call.conn, [row["uuid"] for row in rows], item_json_columns())
    return page_text([row["json"] for row in fresh], None)


@routes.patch(f"{FOLDERS}/{{uuid}}/items/{{item_uuid}}")
def patch_item(call: Call) -> Reply:
    item = _require_items(call, [call.path_params["item_uuid"]], "admin")[0]
    patch = call.payload(PatchItemPayload)
    items.patch_items(call.conn, [(item, _patch_fields(patch))], org.metadata_schema(call.conn))
    return Reply(200, text=items.item_by_uuid(call.conn, item["uuid"], item_json_columns())["json"])


def _patch_fields(patch: PatchItemPayload) -> dict[str, Any]:
    return {name: getattr(patch, name) for name in patch.model_fields_set}


@routes.patch(f"{ITEMS}/patch-bulk")
def patch_items_bulk(call: Call) -> Reply:
    body = call.payload(ItemsPatchBulkPayload)
    if len(body.item_patches) > MAX_BULK:
        raise bad_request(f"at most {MAX_BULK} item patches per request")
    rows = _require_items(call, list(body.item_patches), "admin")
    patches = [_patch_fields(patch) for patch in body.item_patches.values()]
    items.patch_items(
        call.conn, list(zip(rows, patches, strict=True)), org.metadata_schema(call.conn)
    )
    return Reply(200, text=_items_text(call, rows))


@routes.post(f"{FOLDERS}/{{uuid}}/items/move")
def move_items(call: Call) -> Reply:
    source, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    body = call.payload(MoveItemsPayload)
    target, _ = access.require_folder(call.conn, call.caller, str(body.new_parent_uuid), "admin")
    rows = items.items_by_uuid(call.conn, [str(u) for u in body.item_uuids])
    items.require_children(rows, source)
    ids = [row["id"] for row in rows]
    tracked = mirrors.any_mirrors(call.conn)
    before = mirrors.members_of_items(call.conn, ids) if tracked else set()
    items.move_items(call.conn, rows, target)
    if tracked:
        after = mirrors.members_of_items(call.conn, ids)
        mirrors.follow(call.conn, before, after, allow_unlink=body.allow_synced_dataset_move)
    return Reply(204)


@routes.post(f"{FOLDERS}/{{uuid}}/items/delete")
def delete_items(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    body = call.payload(DeleteItemsPayload)
    rows = items.items_by_uuid(call.conn, [str(u) for u in body.child_uuids])
    items.require_children(rows, folder)
    removed = items.delete_items(call.conn, rows)
    return Reply(200, {"removedItemsCount": removed, "removedFoldersCount": 0})


@routes.get(f"{FOLDERS}/{{uuid}}/items/{{item_uuid}}/summary")
def item_summary(call: Call) -> Reply:
    item = _require_items(call, [call.path_params["item_uuid"]], "user")[0]
    using = datasets.datasets_using(call.conn, item["id"])
    visible = [
        _short_dataset(entry)
        for entry in using
        if datasets.dataset_role(call.conn, call.caller, entry.dataset_id) is not None
    ]
    summary = {
        "frameInGroups": 0,  # the sandbox holds no group items
        "accessibleGroupItems": [],
        "usedInDatasets": len(using),
        "accessibleDatasets": visible,
    }
    return Reply(200, summary)


def _short_dataset(entry: datasets.DatasetUse) -> dict[str, Any]:
    return {
        "datasetHash": entry.dataset_uuid,
        "backingFolderUuid": entry.backing_folder_uuid,
        "title": entry.title,
        "dataHashes": list(entry.data_hashes),
        "dataUnitsCreatedAt": entry.first_linked_at,
    }


@routes.get(f"{FOLDERS}/{{uuid}}/items/{{item_uuid}}/child-items")
def child_items(call: Call) -> Reply:
    _require_items(call, [call.path_params["item_uuid"]], "user")
    return Reply(200, page([], None))  # the sandbox holds no group items, so no children
