"""``create_app``: the sandbox as a Starlette ASGI app over one SQLite database.

Serve it with uvicorn (``reconciler sandbox serve``) or drive it in-process with
``httpx.ASGITransport(app=create_app(path))``. The app owns a ``Runtime`` (``app.state.runtime``)
that its lifespan closes on shutdown; without lifespan events (ASGITransport), call
``close_app(app)``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reconciler.sandbox import (
    routes_collections,
    routes_datasets,
    routes_folders,
    routes_items,
    routes_org,
    routes_tags,
    routes_uploads,
    v1,
)
from reconciler.sandbox.options import DEFAULT_OPTIONS, SandboxOptions
from reconciler.sandbox.pipeline import Endpoint, serve_v2
from reconciler.sandbox.reply import error_reply
from reconciler.sandbox.routes_control import control_routes
from reconciler.sandbox.runtime import Runtime

__all__ = ["SandboxOptions", "close_app", "create_app"]

log = logging.getLogger(__name__)

ENDPOINTS: tuple[Endpoint, ...] = tuple(
    endpoint
    for module in (
        routes_folders,
        routes_items,
        routes_org,
        routes_tags,
        routes_datasets,
        routes_collections,
        routes_uploads,
    )
    for endpoint in module.routes.endpoints
)


def create_app(db_path: Path, *, options: SandboxOptions = DEFAULT_OPTIONS) -> Starlette:
    """The sandbox app over the database at ``db_path`` (which must exist; see ``provision``)."""
    runtime = Runtime(Path(db_path), options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.close()

    app = Starlette(
        routes=_routes(runtime),
        lifespan=lifespan,
        exception_handlers={HTTPException: _unrouted(runtime), ClientDisconnect: _disconnected},
    )
    app.state.runtime = runtime
    return app


def close_app(app: Starlette) -> None:
    """Release the database and background worker of an app driven without lifespan."""
    runtime: Runtime = app.state.runtime
    runtime.close()


def _routes(runtime: Runtime) -> list[BaseRoute]:
    routes: list[BaseRoute] = list(control_routes(runtime))
    for endpoint in ENDPOINTS:
        routes.append(Route(endpoint.path, _v2(endpoint, runtime), methods=[endpoint.method]))

    async def public(request: Request) -> Response:
        return await v1.serve_v1(request, runtime)

    routes.append(Route("/public", public, methods=["POST"]))
    routes.append(Route("/public/user", public, methods=["POST"]))
    return routes


def _v2(endpoint: Endpoint, runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        return await serve_v2(request, endpoint, runtime)

    return handle


def _unrouted(runtime: Runtime) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Unknown paths and methods answer JSON like every other error, and are counted."""

    async def handle(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if not request.url.path.startswith("/_sandbox/"):
            runtime.stats.count(f"{request.method} (unknown route)")
        message = "no such route" if status == 404 else str(getattr(exc, "detail", "error"))
        return error_reply(status, f"{message}: {request.method} {request.url.path}").to_response()

    return handle


async def _disconnected(request: Request, _exc: Exception) -> Response:
    """A client that hangs up before its answer is routine (a killed run, a timeout): one
    log line, not uvicorn's traceback of the whole middleware stack."""
    peer = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    log.warning(
        "%s hung up before its request was answered: %s %s",
        peer,
        request.method,
        request.url.path,
    )
    return Response(status_code=499)  # nginx's "client closed request"; nobody receives it
