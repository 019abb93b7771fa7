"""The path of every API request: count, fault, authenticate, de-duplicate, run, answer.

Handlers are plain functions ``handler(call) -> Reply`` run in a worker thread inside one
database transaction (a write transaction unless the method is GET), so a handler that raises
``ApiError`` half way changes nothing. ``Routes`` collects them per module; ``app`` mounts
them. The order of the steps is part of the contract:

1. count the request (``Stats``); 2. draw its fate (``Faults``): sleep, maybe answer 429/5xx
now; 3. verify the signature or token (401); 4. for non-GET, answer an identical re-send from
the ``ReplayCache``; 5. run the handler; 6. maybe answer 502 although the work was committed. A write the faults make hang waits
after step 3 (then it is never carried out) or after step 5 (committed, its answer held).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from reconciler.sandbox.auth import (
    Credential,
    check_v2_body,
    request_target,
    resolve,
    v2_credential,
)
from reconciler.sandbox.errors import ApiError, bad_request
from reconciler.sandbox.faults import Fate
from reconciler.sandbox.replay import replay_key
from reconciler.sandbox.reply import Reply, error_reply
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.store.common import Caller
from reconciler.wire.query import parse_bool

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of a request a handler needs (Starlette objects stay in the event loop)."""

    method: str
    path_params: dict[str, str]
    query: QueryParams
    body: bytes
    raw_path: str  # as sent, percent-encoded, without the query
    headers: Mapping[str, str]  # lower-case names
    write: bool
    waited: bool = False  # True when re-run after a ``Reply.wait``


@dataclass(slots=True)
class Call:
    """What a handler sees of one request, inside its transaction."""

    incoming: Incoming
    caller: Caller
    conn: sqlite3.Connection
    runtime: Runtime
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def path_params(self) -> dict[str, str]:
        return self.incoming.path_params

    @property
    def raw_path(self) -> str:
        return self.incoming.raw_path

    @property
    def headers(self) -> Mapping[str, str]:
        return self.incoming.headers

    @property
    def waited(self) -> bool:
        return self.incoming.waited

    def json(self) -> Any:
        body = self.incoming.body
        try:
            return json.loads(body) if body else None
        except ValueError:
            raise bad_request("request body is not valid JSON") from None

    def payload(self, model: type[M]) -> M:
        """The body parsed as a wire model; 400 naming the first problem."""
        try:
            return model.model_validate(self.json())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise bad_request(f"invalid request body at {where}: {first['msg']}") from None

    def q(self, name: str) -> str | None:
        return self.incoming.query.get(name)

    def q_bool(self, name: str, default: bool | None = None) -> bool | None:
        try:
            return parse_bool(self.q(name), default=default)
        except ValueError:
            raise bad_request(f"query parameter {name} must be True or False") from None

    def q_int(self, name: str) -> int | None:
        text = self.q(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise bad_request(f"query parameter {name} must be an integer") from None

    def q_list(self, name: str) -> list[str]:
        return self.incoming.query.getlist(name)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # Starlette template, also the stats key
    handler: Handler
    write: bool  # runs in a write transaction (every method but GET, and GETs that mint)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


class Routes:
    """A module's endpoints, declared with ``@routes.get("/v2/public/...")`` and friends."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def _add(self, method: str, path: str, write: bool) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, write))
            return handler

        return register

    def get(self, path: str, *, write: bool = False) -> Callable[[Handler], Handler]:
        return self._add("GET", path, write)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("POST", path, True)

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("PATCH", path, True)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self._add("DELETE", path, True)


# --- running ---------------------------------------------------------------------------------

ErrorMapper = Callable[[ApiError], Reply]


def v2_error(error: ApiError) -> Reply:
    return error_reply(error.status, error.message)


def execute(
    runtime: Runtime,
    handler: Handler,
    credential: Credential,
    incoming: Incoming,
    on_error: ErrorMapper,
) -> Reply:
    """Run a handler in one transaction (in a worker thread); ``ApiError`` rolls it back."""
    after_commit: list[Callable[[], None]] = []
    transaction = runtime.db.write() if incoming.write else runtime.db.read()
    try:
        with transaction as conn:
            call = Call(incoming, resolve(conn, credential), conn, runtime, after_commit)
            reply = handler(call)
    except ApiError as exc:
        return on_error(exc)
    for action in after_commit:
        action()
    return reply


async def run_handler(
    runtime: Runtime,
    handler: Handler,
    credential: Credential,
    incoming: Incoming,
    on_error: ErrorMapper = v2_error,
) -> Reply:
    """Run a handler off the event loop; honour ``Reply.wait`` once; turn crashes into 500."""
    try:
        reply = await anyio.to_thread.run_sync(
            execute, runtime, handler, credential, incoming, on_error
        )
        if reply.wait is not None:
            await wait_for(reply.wait, reply.wait_seconds)
            again = dataclasses.replace(incoming, waited=True)
            reply = await anyio.to_thread.run_sync(
                execute, runtime, handler, credential, again, on_error
            )
        return reply
    except Exception:
        log.exception("sandbox handler failed")
        return error_reply(500, "internal sandbox error (see the server log)")


async def wait_for(event: threading.Event, seconds: float) -> None:
    """Wait for a thread's event without blocking the loop or holding a worker thread."""
    deadline = anyio.current_time() + seconds
    while not event.is_set() and anyio.current_time() < deadline:
        await anyio.sleep(min(0.02, max(0.0, deadline - anyio.current_time())))


def fault_reply(fate: Fate) -> Reply:
    if fate.status_before == 429:
        return error_reply(
            429, "rate limited (injected)", (("Retry-After", str(fate.retry_after)),)
        )
    return error_reply(fate.status_before or 500, "injected server error")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (before it is all read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def lower_headers(request: Request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


async def serve_v2(request: Request, endpoint: Endpoint, runtime: Runtime) -> Response:
    runtime.stats.count(endpoint.key)
    fate = runtime.faults.decide(write=endpoint.write, route=endpoint.key)
    if fate.latency_s:
        await anyio.sleep(fate.latency_s)
    if fate.status_before is not None:
        return fault_reply(fate).to_response()
    headers = lower_headers(request)
    target = request_target(request.scope)
    try:
        credential = v2_credential(
            endpoint.method, target, headers, max_skew_seconds=runtime.options.max_skew_seconds
        )
        body = await read_body(request, runtime.options.max_body_bytes)
        check_v2_body(credential, headers, body)
    except ApiError as exc:
        return v2_error(exc).to_response()
    refused = runtime.faults.settings.refuse_body
    if endpoint.write and refused and refused.encode() in body:
        return error_reply(503, "injected server error (refused body)").to_response()
    forbidden = runtime.faults.settings.forbid_reads
    if not endpoint.write and forbidden and forbidden in target:
        return error_reply(403, "no access (injected)").to_response()
    if fate.hang == "before":
        return (await hung_reply(runtime)).to_response()
    incoming = Incoming(
        endpoint.method,
        dict(request.path_params),
        request.query_params,
        body,
        target.split("?", 1)[0],
        headers,
        write=endpoint.write,
    )

    async def work() -> Reply:
        reply = await run_handler(runtime, endpoint.handler, credential, incoming)
        return reply.encoded()  # kept for re-sends by its encoded size

    key = replay_key(endpoint.method, target, body, headers) if incoming.write else None
    reply = await work() if key is None else await runtime.replay.run(key, work, keep=keepable)
    if fate.hang == "after":
        await runtime.faults.hang()
    if fate.status_after is not None:
        message = "injected server error after the work was done"
        return error_reply(fate.status_after, message).to_response()
    return reply.to_response()


async def hung_reply(runtime: Runtime) -> Reply:
    """A write that hung before it was handled: released, it is dropped, never carried out."""
    await runtime.faults.hang()
    return error_reply(503, "injected server error (the write hung and was dropped)")


def keepable(reply: Reply) -> bool:
    """Answers worth replaying to a re-send: everything but server errors."""
    return reply.status < 500
