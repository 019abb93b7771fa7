"""v2 dataset routes: create, list with the caller's role, dataset groups and dataset users.

Roles are integers here (0 admin, 1 user) except in ``datasets/list``, where the caller's role
is a string. Linking, listing rows and adding users are v1 calls (``v1.py``).
"""

from __future__ import annotations

from reconciler.sandbox.listing import check_org_access
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import NO_CONTENT, Reply
from reconciler.sandbox.serialize import dataset_json, page, role_group_json
from reconciler.sandbox.store import datasets, folders, groups
from reconciler.sandbox.store.common import new_uuid, stored_time
from reconciler.wire.datasets import CreateDatasetPayload
from reconciler.wire.org import AddDatasetGroupsPayload, GroupUsersPayload

routes = Routes()
DATASETS = "/v2/public/datasets"


@routes.post(DATASETS)
def create_dataset(call: Call) -> Reply:
    body = call.payload(CreateDatasetPayload)
    dataset_uuid = new_uuid()
    backing = None
    if body.create_backing_folder:
        backing = folders.insert_folder(
            call.conn,
            folders.NewFolder(
                name=body.title.replace("/", "_"),
                owner_id=call.caller.user_id,
                description=body.description or "",
                synced_dataset_uuid=dataset_uuid,
            ),
        )
    datasets.create_dataset(
        call.conn,
        call.caller,
        title=body.title,
        description=body.description or "",
        backing_folder_id=backing["id"] if backing is not None else None,
        dataset_uuid=dataset_uuid,
    )
    backing_uuid = backing["uuid"] if backing is not None else None
    return Reply(200, {"datasetUuid": dataset_uuid, "backingFolderUuid": backing_uuid})


_FILTER_PARAMS = {
    "titleEq": "title_eq",
    "titleLike": "title_like",
    "descriptionEq": "description_eq",
    "descriptionLike": "description_like",
}
_TIME_PARAMS = {
    "createdBefore": "created_before",
    "createdAfter": "created_after",
    "editedBefore": "edited_before",
    "editedAfter": "edited_after",
}


@routes.get(f"{DATASETS}/list")
def list_datasets(call: Call) -> Reply:
    org_access = check_org_access(call)
    values: dict[str, str] = {}
    for param, name in _FILTER_PARAMS.items():
        if call.q(param) is not None:
            values[name] = str(call.q(param))
    for param, name in _TIME_PARAMS.items():
        text = call.q(param)
        if text is not None:
            values[name] = stored_time(text, param)
    filters = datasets.DatasetFilters(**values)
    found = datasets.list_datasets(call.conn, call.caller, filters, org_access=org_access)
    return Reply(200, {"result": [dataset_json(row, role) for row, role in found]})


@routes.get(f"{DATASETS}/{{dataset_hash}}/groups")
def list_dataset_groups(call: Call) -> Reply:
    dataset = datasets.require_dataset(
        call.conn, call.caller, call.path_params["dataset_hash"], admin=False
    )
    rows = datasets.dataset_groups(call.conn, dataset["id"])
    return Reply(200, page([role_group_json(row, int(row["role"])) for row in rows], None))


@routes.post(f"{DATASETS}/{{dataset_hash}}/groups")
def add_dataset_groups(call: Call) -> Reply:
    dataset = datasets.require_dataset(
        call.conn, call.caller, call.path_params["dataset_hash"], admin=True
    )
    body = call.payload(AddDatasetGroupsPayload)
    rows = groups.groups_by_uuid(call.conn, [str(g) for g in body.group_hash_list])
    datasets.grant_groups(
        call.conn, dataset["id"], [row["id"] for row in rows], int(body.user_role)
    )
    return NO_CONTENT


@routes.delete(f"{DATASETS}/{{dataset_hash}}/groups")
def remove_dataset_groups(call: Call) -> Reply:
    dataset = datasets.require_dataset(
        call.conn, call.caller, call.path_params["dataset_hash"], admin=True
    )
    rows = groups.groups_by_uuid(call.conn, call.q_list("groupHashList"))
    datasets.revoke_groups(call.conn, dataset["id"], [row["id"] for row in rows])
    return NO_CONTENT


@routes.get(f"{DATASETS}/{{dataset_hash}}/users")
def list_dataset_users(call: Call) -> Reply:
    dataset = datasets.require_dataset(
        call.conn, call.caller, call.path_params["dataset_hash"], admin=False
    )
    rows = datasets.dataset_users(call.conn, dataset["id"])
    results = [
        {"datasetUuid": dataset["uuid"], "userEmail": row["email"], "userRole": int(row["role"])}
        for row in rows
    ]
    return Reply(200, page(results, None))


@routes.post(f"{DATASETS}/{{dataset_hash}}/users/bulk-delete")
def remove_dataset_users(call: Call) -> Reply:
    dataset = datasets.require_dataset(
        call.conn, call.caller, call.path_params["dataset_hash"], admin=True
    )
    body = call.payload(GroupUsersPayload)
    datasets.remove_users(call.conn, dataset["id"], body.user_emails)
    return NO_CONTENT
