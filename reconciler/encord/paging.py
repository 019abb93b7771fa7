"""Following ``nextPageToken`` and parsing answers into typed values.

A listing re-sends the same query with ``pageToken`` added where the SDK's params model has
it, until the token is null or absent. An empty-string token also ends the listing (the SDK
would loop on it forever), and a token seen twice is a server fault, not a reason to loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from reconciler.encord.calls import Call
from reconciler.encord.errors import ResponseError
from reconciler.encord.responses import RawJSON, json_value
from reconciler.encord.session import Session
from reconciler.wire.base import Page

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
T = TypeVar("T")
# A broken or hostile server could page forever with fresh tokens and nothing in the pages;
# an empty page before the last is rare, a hundred in a row is a listing that never ends.
MAX_EMPTY_PAGES = 100


def parser(model: type[M], route: str) -> Callable[[Any], M]:
    """Validate a JSON value into ``model``; a mismatch is a ``ResponseError`` naming the route."""

    def parse(value: Any) -> M:
        try:
            if isinstance(value, RawJSON):
                return model.model_validate_json(value.content)
            return model.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise ResponseError(f"{route}: unexpected answer at {where}: {first['msg']}") from None

    return parse


def list_parser(model: type[M], route: str) -> Callable[[Any], list[M]]:
    one = parser(model, route)

    def parse(value: Any) -> list[M]:
        value = json_value(value)
        if not isinstance(value, list):
            raise ResponseError(f"{route}: expected a list, got {type(value).__name__}")
        return [one(row) for row in value]

    return parse


def ignore(value: Any) -> None:
    """For calls whose answer carries nothing we use (204, ``null``, ``{}``); a 200 must
    still be JSON."""
    json_value(value)


async def pages(
    session: Session,
    make_call: Callable[[str | None], Call],
    model: type[M],
    *,
    prefetch: bool = False,
) -> AsyncIterator[list[M]]:
    """Yield each page's results in order; ``make_call(token)`` builds the request for a page.

    With ``prefetch`` the request for page N+1 goes out as soon as page N's token is known,
    before page N is validated and handed over, so validating and handling a page overlap the
    next round trip. Only for callers that read to the end: one that stops early has then
    sent one request too many.
    """
    seen: set[str] = set()
    token: str | None = None
    empty = 0  # pages in a row with no results, yet a next token
    pending = asyncio.ensure_future(_raw(session, make_call(None)))
    try:
        while True:
            call, answer = await pending
            data = json_value(answer)
            token = _next_token(call, data, seen)
            empty = empty + 1 if token is not None and not data.get("results") else 0
            if empty > MAX_EMPTY_PAGES:
                raise ResponseError(
                    f"{call.route}: the server answered {MAX_EMPTY_PAGES} empty pages in a row, "
                    "each with a new page token; refused (a listing that never ends)"
                )
            if token is not None and prefetch:
                pending = asyncio.ensure_future(_raw(session, make_call(token)))
                await asyncio.sleep(0)  # let the request go out before the CPU work below
            # Validate the raw bytes when we have them: faster than the objects just parsed.
            page = parser(Page[model], call.route)(answer)  # type: ignore[valid-type]
            yield page.results
            if token is None:
                return
            if not prefetch:
                pending = asyncio.ensure_future(_raw(session, make_call(token)))
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


async def _raw(session: Session, call: Call) -> tuple[Call, Any]:
    return call, await session.call(call, lambda answer: answer)


def _next_token(call: Call, data: Any, seen: set[str]) -> str | None:
    """The page's ``nextPageToken`` (either spelling); None at the end, ``""`` included."""
    if not isinstance(data, dict):
        raise ResponseError(f"{call.route}: expected a page object, got {type(data).__name__}")
    token = data.get("nextPageToken", data.get("next_page_token"))
    if token is not None and not isinstance(token, str):
        raise ResponseError(f"{call.route}: nextPageToken is not a string")
    if not token:
        return None
    if token in seen:
        raise ResponseError(f"{call.route}: the server repeated page token {token!r}")
    seen.add(token)
    return token


async def one_page(session: Session, call: Call, model: type[M]) -> list[M]:
    """The results of a single ``Page`` answer (bulk calls answer with one page)."""
    page = await session.call(call, parser(Page[model], call.route))  # type: ignore[valid-type]
    return page.results


def chunks(rows: Sequence[R], size: int) -> list[list[R]]:
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)]


async def in_bundles(
    rows: Sequence[R], size: int, send: Callable[[list[R]], Awaitable[list[T]]]
) -> list[T]:
    """Send ``rows`` in chunks of ``size``, all chunks concurrently (the client's one limit
    still applies), and return every chunk's results in order."""
    results = await asyncio.gather(*(send(chunk) for chunk in chunks(rows, size)))
    return [row for result in results for row in result]


def uuid_parser(route: str) -> Callable[[Any], UUID]:
    """For answers that are a bare JSON string holding a UUID (sync start)."""

    def parse(value: Any) -> UUID:
        value = json_value(value)
        try:
            return UUID(value)
        except (TypeError, ValueError, AttributeError):
            raise ResponseError(f"{route}: expected a UUID string, got {value!r}") from None

    return parse


async def collect(
    session: Session, make_call: Callable[[str | None], Call], model: type[M]
) -> list[M]:
    out: list[M] = []
    async for page in pages(session, make_call, model):
        out.extend(page)
    return out
