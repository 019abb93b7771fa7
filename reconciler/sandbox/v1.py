"""The legacy v1 RPC at ``POST /public``: get dataset, data rows, link items, delete rows, add
dataset users (and an empty project list at ``POST /public/user``).

The body names the operation (``query_type``, ``query_method``); the answer is HTTP 200 with
``{"status": 200, "response": ...}``, or ``{"status": N, "response": ["CODE"], "payload": msg}``
on error. Only injected faults use the HTTP status: 429 plainly (the SDK reads it from the
status line), 5xx with an error envelope.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from reconciler.sandbox.auth import Credential, require_v1_authorization, v1_credential
from reconciler.sandbox.errors import ApiError, bad_request, forbidden
from reconciler.sandbox.faults import Fate
from reconciler.sandbox.pipeline import (
    Call,
    Incoming,
    fault_reply,
    keepable,
    lower_headers,
    read_body,
    run_handler,
)
from reconciler.sandbox.replay import replay_key
from reconciler.sandbox.reply import Reply
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.serialize import data_row_json_column, json_array_text
from reconciler.sandbox.store import access, datasets, items
from reconciler.sandbox.store.common import canonical_uuid, stored_time
from reconciler.wire.datasets import AddDatasetUsersPayload, LinkItemsPayload, V1Request, V1Values
from reconciler.wire.enums import LEGACY_DATASET_TYPE, V1_DATA_TYPE, LegacyStorageLocation

V1Handler = Callable[[Call, V1Values], Any]

# v1 data types → the item types they cover.
_ITEM_TYPES_OF: dict[str, list[str]] = {}
for _item_type, _data_type in V1_DATA_TYPE.items():
    _ITEM_TYPES_OF.setdefault(_data_type, []).append(_item_type.value)


def envelope(response: Any) -> dict[str, Any]:
    return {"status": 200, "response": response}


def error_envelope(error: ApiError) -> dict[str, Any]:
    return {"status": error.status, "response": [error.v1_code], "payload": error.message}


def _dataset_uuid(call: Call, values: V1Values) -> str:
    uid = values.uid if isinstance(values.uid, str) else call.headers.get("resourceid")
    if not uid:
        raise bad_request("no dataset given (values.uid or the ResourceID header)")
    return uid


def _settings(payload: Any) -> dict[str, Any]:
    settings = payload.get("dataset_access_settings") if isinstance(payload, dict) else None
    return settings if isinstance(settings, dict) else {}


@dataclass(frozen=True, slots=True)
class JsonText:
    """A response already encoded as JSON text (large row lists are built by SQLite)."""

    text: str


def get_dataset(call: Call, values: V1Values) -> Any:
    row = datasets.require_dataset(call.conn, call.caller, _dataset_uuid(call, values), admin=False)
    settings = _settings(values.payload)
    rows: list[str] = []
    if settings.get("fetch_rows", True):
        column = data_row_json_column(client_metadata=bool(settings.get("fetch_client_metadata")))
        rows = datasets.data_rows(call.conn, row["id"], datasets.RowFilters(), column)
    head = {
        "dataset_hash": row["uuid"],
        "title": row["title"],
        "description": row["description"],
        "dataset_type": LEGACY_DATASET_TYPE[LegacyStorageLocation(row["storage_location"])],
        "backing_folder_uuid": row["backing_folder_uuid"],
    }
    return JsonText(json.dumps(head)[:-1] + f', "data_rows": {json_array_text(rows)}}}')


def list_data_rows(call: Call, values: V1Values) -> Any:
    row = datasets.require_dataset(call.conn, call.caller, _dataset_uuid(call, values), admin=False)
    payload = values.payload if isinstance(values.payload, dict) else {}
    metadata = bool(_settings(payload).get("fetch_client_metadata", False))
    column = data_row_json_column(client_metadata=metadata)
    found = datasets.data_rows(call.conn, row["id"], _row_filters(payload), column)
    return JsonText(json_array_text(found))


def _row_filters(payload: dict[str, Any]) -> datasets.RowFilters:
    data_types = payload.get("data_types")
    item_types = None
    if data_types is not None:
        unknown = [t for t in data_types if t not in _ITEM_TYPES_OF]
        if unknown:
            raise bad_request(f"unknown data_types: {', '.join(map(str, unknown))}")
        item_types = tuple(t for d in data_types for t in _ITEM_TYPES_OF[d])
    hashes = payload.get("data_hashes")
    return datasets.RowFilters(
        title_eq=payload.get("title_eq"),
        title_like=payload.get("title_like"),
        created_before=_timestamp(payload.get("created_before"), "created_before"),
        created_after=_timestamp(payload.get("created_after"), "created_after"),
        item_types=item_types,
        data_hashes=None if hashes is None else tuple(str(h) for h in hashes),
    )


def _timestamp(text: Any, what: str) -> str | None:
    return None if text is None else stored_time(text, what)


def link_items(call: Call, values: V1Values) -> Any:
    dataset = datasets.require_dataset(
        call.conn, call.caller, _dataset_uuid(call, values), admin=True
    )
    payload = _parse(LinkItemsPayload, values.payload)
    rows = items.items_by_uuid(call.conn, payload.item_uuids)
    for row in rows:
        if access.folder_rank(call.conn, call.caller, row["folder_path"]) == 0:
            raise forbidden(f"you have no access to storage item {row['uuid']}")
    created = datasets.link_items(
        call.conn, dataset["id"], [row["id"] for row in rows], payload.duplicates_behavior.value
    )
    filters = datasets.RowFilters(row_ids=tuple(created))
    column = data_row_json_column(client_metadata=False)
    return JsonText(json_array_text(datasets.data_rows(call.conn, dataset["id"], filters, column)))


def delete_rows(call: Call, values: V1Values) -> Any:
    dataset = datasets.require_dataset(call.conn, call.caller, _resource(call), admin=True)
    hashes = values.uid if isinstance(values.uid, list) else [values.uid]
    if not all(isinstance(h, str) for h in hashes):
        raise bad_request("values.uid must be a list of data hashes")
    datasets.delete_rows(call.conn, dataset["id"], [canonical_uuid(h, "data hash") for h in hashes])
    return True


def _resource(call: Call) -> str:
    resource = call.headers.get("resourceid")
    if not resource:
        raise bad_request("the ResourceID header must name the dataset")
    return resource


def add_users(call: Call, values: V1Values) -> Any:
    dataset = datasets.require_dataset(
        call.conn, call.caller, _dataset_uuid(call, values), admin=True
    )
    payload = _parse(AddDatasetUsersPayload, values.payload)
    added = datasets.add_users(
        call.conn, dataset["id"], payload.user_emails, int(payload.user_role)
    )
    return [
        {"user_email": email, "user_role": role, "dataset_hash": dataset["uuid"]}
        for email, role in added
    ]


def list_projects(call: Call, values: V1Values) -> Any:
    return []  # the sandbox has no annotation projects


def _parse(model: Any, payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise bad_request(f"invalid payload at {where}: {first['msg']}") from None


def _malformed(call: Call, values: V1Values) -> Any:
    raise bad_request("the body is not a v1 query envelope")


def _unsupported(call: Call, values: V1Values) -> Any:
    raise ApiError(405, "this query_type and query_method are not supported by the sandbox")


HANDLERS: dict[tuple[str, str, str], V1Handler] = {
    ("/public", "dataset", "GET"): get_dataset,
    ("/public", "datarows", "GET"): list_data_rows,
    ("/public", "datasetlinkitems", "POST"): link_items,
    ("/public", "video", "DELETE"): delete_rows,
    ("/public", "datasetusers", "POST"): add_users,
    ("/public/user", "projectwithuserrole", "GET"): list_projects,
}


# --- serving ---------------------------------------------------------------------------------


def v1_error(error: ApiError) -> Reply:
    return Reply(200, error_envelope(error))


def _fault(fate: Fate) -> Reply:
    if fate.status_before == 429:  # plain, no envelope: the SDK reads 429 off the status line
        return fault_reply(fate)
    status = fate.status_before or 500
    return Reply(status, error_envelope(ApiError(status, "injected server error")))


def _request(body: bytes) -> V1Request | None:
    try:
        return V1Request.model_validate_json(body)
    except ValidationError:
        return None


async def serve_v1(request: Request, runtime: Runtime) -> Response:
    path = request.url.path
    headers = lower_headers(request)
    try:
        require_v1_authorization(headers)
    except ApiError as exc:  # no credential at all: the body is never read
        runtime.stats.count(f"POST {path} (unauthenticated)")
        fate = runtime.faults.decide(write=False)  # faults come first, as for every request
        if fate.status_before is not None:
            return _fault(fate).to_response()
        return v1_error(exc).to_response()
    try:
        body = await read_body(request, runtime.options.max_body_bytes)
    except ApiError as exc:
        runtime.stats.count(f"POST {path} (refused)")
        return v1_error(exc).to_response()
    rpc = _request(body)
    route = f"POST {path} {rpc.query_type if rpc else '(invalid)'}"
    runtime.stats.count(route)
    fate = runtime.faults.decide(write=rpc is not None and rpc.query_method != "GET", route=route)
    if fate.latency_s:
        await anyio.sleep(fate.latency_s)
    if fate.status_before is not None:
        return _fault(fate).to_response()
    try:
        credential = v1_credential(body, headers)
    except ApiError as exc:
        return v1_error(exc).to_response()
    if fate.hang == "before":  # released, it is dropped: never carried out
        await runtime.faults.hang()
        return _fault(Fate(status_before=503)).to_response()
    handler: V1Handler
    if rpc is None:
        handler, rpc = _malformed, V1Request(query_type="", query_method="GET", values=V1Values())
    else:
        handler = HANDLERS.get((path, rpc.query_type, rpc.query_method), _unsupported)
    reply = await _run(
        runtime,
        handler,
        rpc,
        credential,
        Incoming("POST", {}, QueryParams(""), body, path, headers, write=rpc.query_method != "GET"),
    )
    if fate.hang == "after":
        await runtime.faults.hang()
    if fate.status_after is not None:
        error = ApiError(fate.status_after, "injected server error after the work was done")
        return Reply(fate.status_after, error_envelope(error)).to_response()
    return reply.to_response()


async def _run(
    runtime: Runtime, handler: V1Handler, rpc: V1Request, credential: Credential, incoming: Incoming
) -> Reply:
    def handle(call: Call) -> Reply:
        response = handler(call, rpc.values)
        if isinstance(response, JsonText):
            return Reply(200, text=f'{{"status": 200, "response": {response.text}}}')
        return Reply(200, envelope(response))

    async def work() -> Reply:
        return (await run_handler(runtime, handle, credential, incoming, v1_error)).encoded()

    key = None
    if incoming.write:
        key = replay_key("POST", incoming.raw_path, incoming.body, incoming.headers)
    return await work() if key is None else await runtime.replay.run(key, work, keep=keepable)
