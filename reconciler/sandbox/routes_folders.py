"""v2 storage folder routes: create (incl. cloud-synced), get, list, search, patch, move,
delete, summary, group grants, and cloud-sync start and long-poll."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from reconciler.sandbox.cloud import remote_location
from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.listing import (
    check_org_access,
    folder_body,
    folder_filters,
    folders_page,
    listing_visibility,
    page_spec_of,
)
from reconciler.sandbox.metadata import check_values, parse_metadata_text
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import NO_CONTENT, Reply
from reconciler.sandbox.serialize import page, role_group_json
from reconciler.sandbox.store import access, folders, groups, mirrors, org, sync
from reconciler.sandbox.store.common import path_end
from reconciler.wire.org import AddStorageFolderGroupsPayload
from reconciler.wire.storage import (
    CreateFolderPayload,
    FoldersPatchBulkPayload,
    MoveFoldersPayload,
    PatchFolderPayload,
)

routes = Routes()
FOLDERS = "/v2/public/storage/folders"
MAX_BULK = 1000


@routes.post(FOLDERS)
def create_folder(call: Call) -> Reply:
    body = call.payload(CreateFolderPayload)
    conn, caller = call.conn, call.caller
    parent = None
    if body.parent is not None:
        parent, _ = access.require_folder(conn, caller, str(body.parent), "admin")
    metadata_text = None
    if body.client_metadata is not None:
        metadata = parse_metadata_text(body.client_metadata)
        check_values(org.metadata_schema(conn), metadata)
        metadata_text = json.dumps(metadata)
    new = folders.NewFolder(
        name=body.name,
        owner_id=caller.user_id,
        parent=parent,
        description=body.description or "",
        client_metadata=metadata_text,
        **_cloud_fields(call, body),
    )
    return Reply(200, folder_body(call, folders.insert_folder(conn, new)))


def _cloud_fields(call: Call, body: CreateFolderPayload) -> dict[str, Any]:
    params = body.cloud_synced_folder_params
    if params is None:
        return {}
    integration = sync.integration_by_uuid(call.conn, str(params.integration_uuid))
    remote_location(integration["provider"], integration["root"], params.remote_url)
    return {
        "folder_type": "cloudLinked",
        "integration_id": integration["id"],
        "remote_url": params.remote_url,
    }


@routes.get(FOLDERS)
def list_root_folders(call: Call) -> Reply:
    vis = listing_visibility(call)
    recursive = call.q_bool("isRecursive", False)
    scope = folders.scope_visible(vis) if recursive else folders.scope_top(vis)
    rows, token = folders.list_folders(call.conn, scope, folder_filters(call), page_spec_of(call))
    return Reply(200, folders_page(call, rows, token, vis))


@routes.get("/v2/public/storage/search/folders")
def search_folders(call: Call) -> Reply:
    vis = listing_visibility(call)
    scope = folders.scope_visible(vis)
    rows, token = folders.list_folders(call.conn, scope, folder_filters(call), page_spec_of(call))
    return Reply(200, folders_page(call, rows, token, vis))


@routes.patch(f"{FOLDERS}/patch-bulk")
def patch_folders_bulk(call: Call) -> Reply:
    body = call.payload(FoldersPatchBulkPayload)
    if len(body.folder_patches) > MAX_BULK:
        raise bad_request(f"at most {MAX_BULK} folder patches per request")
    schema = org.metadata_schema(call.conn)
    patched = []
    for folder_uuid, patch in body.folder_patches.items():
        folder, _ = access.require_folder(call.conn, call.caller, folder_uuid, "admin")
        folders.patch_folder(call.conn, folder, _patch_fields(patch), schema)
        patched.append(folder["uuid"])
    rows = [access.folder_by_uuid(call.conn, folder_uuid) for folder_uuid in patched]
    vis = access.visibility(call.conn, call.caller)
    return Reply(200, folders_page(call, rows, None, vis))


def _patch_fields(patch: PatchFolderPayload) -> dict[str, Any]:
    return {name: getattr(patch, name) for name in patch.model_fields_set}


@routes.post(f"{FOLDERS}/move")
def move_folders(call: Call) -> Reply:
    body = call.payload(MoveFoldersPayload)
    conn, caller = call.conn, call.caller
    target = None
    if body.new_parent_uuid is not None:
        target, _ = access.require_folder(conn, caller, str(body.new_parent_uuid), "admin")
    tracked = mirrors.any_mirrors(conn)
    for folder_uuid in body.folder_uuids:
        folder, _ = access.require_folder(conn, caller, str(folder_uuid), "admin")
        if target is not None:  # an earlier move in this request may have changed its path
            target = access.folder_by_uuid(conn, target["uuid"])
        before = _mirrored(conn, folder) if tracked else set()
        folders.move_folder(conn, folder, target)
        if tracked:
            after = _mirrored(conn, access.folder_by_uuid(conn, folder["uuid"]))
            mirrors.follow(conn, before, after, allow_unlink=False)
    return NO_CONTENT


def _mirrored(conn: sqlite3.Connection, folder: sqlite3.Row) -> mirrors.Pairs:
    return mirrors.members_in_range(conn, folder["path"], path_end(folder["path"]))


@routes.get(f"{FOLDERS}/{{uuid}}")
def get_folder(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    return Reply(200, folder_body(call, folder))


@routes.patch(f"{FOLDERS}/{{uuid}}")
def patch_folder(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    patch = call.payload(PatchFolderPayload)
    folders.patch_folder(call.conn, folder, _patch_fields(patch), org.metadata_schema(call.conn))
    return Reply(200, folder_body(call, access.folder_by_uuid(call.conn, folder["uuid"])))


@routes.delete(f"{FOLDERS}/{{uuid}}")
def delete_folder(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    folders.delete_folder(call.conn, folder)
    return NO_CONTENT


@routes.get(f"{FOLDERS}/{{uuid}}/folders")
def list_subfolders(call: Call) -> Reply:
    check_org_access(call)
    parent, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    recursive = call.q_bool("isRecursive", False)
    scope = folders.scope_subtree(parent) if recursive else folders.scope_children(parent)
    rows, token = folders.list_folders(call.conn, scope, folder_filters(call), page_spec_of(call))
    vis = access.visibility(call.conn, call.caller)
    return Reply(200, folders_page(call, rows, token, vis))


@routes.get(f"{FOLDERS}/{{uuid}}/summary")
def folder_summary(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    return Reply(200, folders.summary(call.conn, folder))


# --- group grants ----------------------------------------------------------------------------


@routes.get(f"{FOLDERS}/{{uuid}}/groups")
def list_folder_groups(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    rows = access.folder_grants(call.conn, folder["id"])
    return Reply(200, page([role_group_json(row, row["role"]) for row in rows], None))


@routes.post(f"{FOLDERS}/{{uuid}}/groups")
def add_folder_groups(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    body = call.payload(AddStorageFolderGroupsPayload)
    rows = groups.groups_by_uuid(call.conn, [str(g) for g in body.group_hash_list])
    access.grant(call.conn, folder["id"], [row["id"] for row in rows], body.user_role.value)
    return NO_CONTENT


@routes.delete(f"{FOLDERS}/{{uuid}}/groups")
def remove_folder_groups(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    rows = groups.groups_by_uuid(call.conn, call.q_list("groupHashList"))
    access.revoke(call.conn, folder["id"], [row["id"] for row in rows])
    return NO_CONTENT


# --- cloud sync ------------------------------------------------------------------------------


@routes.post(f"{FOLDERS}/{{uuid}}/cloud-synced-folder-syncs")
def start_sync(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    if folder["folder_type"] != "cloudLinked":
        raise bad_request(f"folder {folder['uuid']} is not a cloud-synced folder")
    job_uuid = sync.create_job(call.conn, folder["id"])
    call.after_commit.append(lambda: call.runtime.jobs.start(job_uuid, folder["id"]))
    return Reply(200, job_uuid)


@routes.get(f"{FOLDERS}/{{uuid}}/cloud-linked-folder-syncs/{{job_uuid}}/long-polling")
def poll_sync(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    job = sync.job_by_uuid(call.conn, folder["id"], call.path_params["job_uuid"])
    if job["status"] == "pending" and not call.waited:
        cap = call.runtime.options.long_poll_cap_seconds
        timeout = min(float(call.q_int("timeoutSeconds") or cap), cap)
        # No event: the job finished after this transaction's snapshot; a re-run sees it.
        event = call.runtime.jobs.done_event(job["uuid"]) or _SETTLED
        if timeout > 0:
            return Reply(wait=event, wait_seconds=timeout)
    return Reply(200, sync.job_result(job))


_SETTLED = threading.Event()
_SETTLED.set()
