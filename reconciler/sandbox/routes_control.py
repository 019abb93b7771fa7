"""Control routes under ``/_sandbox/``: health, request counters, fault settings, and
tagging a folder with an organisation tag (what only the Encord app can do).

No authentication, never counted, never faulted, and refused (403) to any peer that is not
loopback unless the server was started with ``allow_remote_control``. Also refused: a
``Host`` that is not a loopback name and any cross-origin ``Origin``, so a web page open in a
browser on the same machine cannot reach them (directly, or by DNS rebinding).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.reply import NO_CONTENT, Reply, error_reply
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.store.tags import tag_folder

LOOPBACK = {"127.0.0.1", "::1", "localhost"}

ControlHandler = Callable[[Request, Runtime], Awaitable[Reply]]


def is_loopback(request: Request) -> bool:
    client = request.client
    return client is not None and (client.host in LOOPBACK or client.host.startswith("127."))


async def health(request: Request, runtime: Runtime) -> Reply:
    return Reply(200, {"status": "ok"})


async def stats(request: Request, runtime: Runtime) -> Reply:
    return Reply(200, runtime.stats.snapshot())


async def reset_stats(request: Request, runtime: Runtime) -> Reply:
    runtime.stats.reset()
    return NO_CONTENT


async def get_faults(request: Request, runtime: Runtime) -> Reply:
    return Reply(200, runtime.faults.snapshot())


async def set_faults(request: Request, runtime: Runtime) -> Reply:
    try:
        changes: Any = json.loads(await request.body() or b"{}")
    except ValueError:
        return error_reply(400, "body must be a JSON object of fault settings")
    if not isinstance(changes, dict):
        return error_reply(400, "body must be a JSON object of fault settings")
    try:
        runtime.faults.update(changes)
    except (ValueError, TypeError) as exc:
        return error_reply(400, str(exc))
    return Reply(200, runtime.faults.snapshot())


async def folder_tag(request: Request, runtime: Runtime) -> Reply:
    """``{"folder": UUID, "tag": NAME}``: attach the tag to the folder, as the app does."""
    try:
        body: Any = json.loads(await request.body() or b"{}")
        folder, tag = str(body["folder"]), str(body["tag"])
    except (ValueError, TypeError, KeyError):
        return error_reply(400, 'body must be {"folder": UUID, "tag": NAME}')
    try:
        with runtime.db.write() as conn:
            tag_folder(conn, folder, tag)
    except ApiError as error:
        return error_reply(error.status, error.message)
    return NO_CONTENT


# The name in-process clients (httpx.ASGITransport: the embedded target, tests) give the app;
# no socket serves it, so no browser can send it.
IN_PROCESS_HOST = "sandbox.local"


def _is_loopback_name(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.") or host == IN_PROCESS_HOST


def _host_name(authority: str) -> str:
    """``127.0.0.1:8080`` -> ``127.0.0.1``; ``[::1]:8080`` -> ``::1``."""
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def _foreign(request: Request) -> str | None:
    """Why a request must not reach the control routes, or None."""
    host = request.headers.get("host", "")
    if not _is_loopback_name(_host_name(host).lower()):
        return f"Host {host!r} is not a loopback name"
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{host}":
        return f"cross-origin request from {origin!r}"
    return None


def _guarded(handler: ControlHandler, runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not runtime.options.allow_remote_control:
            if not is_loopback(request):
                message = "control routes answer loopback clients only"
                return error_reply(403, message).to_response()
            if (why := _foreign(request)) is not None:
                return error_reply(403, f"control routes refused: {why}").to_response()
        return (await handler(request, runtime)).to_response()

    return endpoint


def control_routes(runtime: Runtime) -> list[Route]:
    table: list[tuple[str, str, ControlHandler]] = [
        ("/_sandbox/health", "GET", health),
        ("/_sandbox/stats", "GET", stats),
        ("/_sandbox/stats/reset", "POST", reset_stats),
        ("/_sandbox/faults", "GET", get_faults),
        ("/_sandbox/faults", "POST", set_faults),
        ("/_sandbox/folder-tags", "POST", folder_tag),
    ]
    return [
        Route(path, _guarded(handler, runtime), methods=[method]) for path, method, handler in table
    ]
