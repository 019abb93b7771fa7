"""v2 data-upload jobs (start, long-poll, cancel) and folder configs (get, set)."""

from __future__ import annotations

import threading
from typing import Any

from pydantic import ValidationError

from reconciler.sandbox.errors import bad_request
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import Reply
from reconciler.sandbox.store import access, sync
from reconciler.sandbox.store import uploads as store
from reconciler.wire.uploads import DataUploadItems, FolderConfig, PostUploadJobParams

routes = Routes()
JOBS = "/v2/public/storage/folders/{uuid}/data-upload-jobs"
CONFIG = "/v2/public/storage/folders/{uuid}/folder-config"

# DataUploadItems lists, as the wire (and the documented JSON upload format) spell them.
_LISTS = (
    "videos",
    "imageGroups",
    "dicomSeries",
    "images",
    "imageGroupsFromItems",
    "audio",
    "timeSeries",
    "nifti",
    "text",
    "pdf",
    "scenes",
)


@routes.post(JOBS)
def start_upload(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    if folder["folder_type"] == "cloudLinked":
        raise bad_request(
            f"folder {folder['uuid']} is cloud-synced: its items come from its sync, "
            "register objects into a plain folder"
        )
    body = call.payload(PostUploadJobParams)
    items = _items(body)
    if body.integration_hash is None:
        raise bad_request("integrationHash is required: the sandbox registers cloud objects only")
    integration = sync.integration_by_uuid(call.conn, str(body.integration_hash))
    job_uuid = store.create_job(
        call.conn,
        store.NewJob(
            folder_id=folder["id"],
            integration_id=integration["id"],
            owner_id=call.caller.user_id,
            skip_duplicate_urls=items.skip_duplicate_urls,
            upsert_metadata=items.upsert_metadata,
            ignore_errors=body.ignore_errors,
            units=_units(items),
        ),
    )
    call.after_commit.append(lambda: call.runtime.uploads.start(job_uuid))
    return Reply(200, job_uuid)


def _items(body: PostUploadJobParams) -> DataUploadItems:
    """The structured form, or the documented JSON format sent under ``externalFiles``."""
    if body.data_items is not None:
        return body.data_items
    files: dict[str, Any] = dict(body.external_files or {})
    if not files:
        raise bad_request("a data-upload job needs dataItems or externalFiles")
    flags = {
        "skip_duplicate_urls": files.pop(
            "skip_duplicate_urls", files.pop("skipDuplicateUrls", False)
        ),
        "upsert_metadata": files.pop("upsert_metadata", files.pop("upsertMetadata", False)),
    }
    try:
        return DataUploadItems.model_validate({**files, **flags})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise bad_request(
            f"externalFiles is not in the JSON upload format at {where}: {first['msg']}"
        ) from None


def _units(items: DataUploadItems) -> list[dict[str, Any]]:
    wire = items.to_request()
    return [{"list": key, "entry": entry} for key in _LISTS for entry in wire.get(key, [])]


@routes.get(JOBS + "/{job_uuid}")
def poll_upload(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    job = store.job_by_uuid(call.conn, folder["id"], call.path_params["job_uuid"])
    if job["status"] == store.PENDING and not call.waited:
        cap = call.runtime.options.long_poll_cap_seconds
        timeout = min(float(call.q_int("timeoutSeconds") or cap), cap)
        event = call.runtime.uploads.done_event(job["uuid"]) or _SETTLED
        if timeout > 0:
            return Reply(wait=event, wait_seconds=timeout)
    return Reply(200, store.job_result(call.conn, job))


@routes.post(JOBS + "/{job_uuid}/cancel")
def cancel_upload(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    job = store.job_by_uuid(call.conn, folder["id"], call.path_params["job_uuid"])
    cancelled = store.cancel_job(call.conn, job)
    call.after_commit.append(lambda: call.runtime.uploads.wake(job["uuid"]))
    return Reply(200, {"unitsCancelledCount": cancelled})


@routes.get(CONFIG)
def get_config(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "user")
    return Reply(200, {"metadataIngestion": None, **store.folder_config(call.conn, folder["id"])})


@routes.post(CONFIG)
def set_config(call: Call) -> Reply:
    folder, _ = access.require_folder(call.conn, call.caller, call.path_params["uuid"], "admin")
    config = call.payload(FolderConfig)  # validates metadataIngestion; other keys are kept
    store.set_folder_config(call.conn, folder["id"], config.to_request())
    return Reply(200, None)


_SETTLED = threading.Event()
_SETTLED.set()
