"""Following ``nextPageToken`` and parsing answers into typed values.

A listing re-sends the same query with ``pageToken`` added where the SDK's params model has
it, until the token is null or absent. An empty-string token also ends the listing (the SDK
would loop on it forever), and a token seen twice is a server fault, not a reason to loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from reconciler.encord.calls import Call, stats_route
from reconciler.encord.errors import ResponseError
from reconciler.encord.responses import RawJSON, json_value
from reconciler.encord.session import Session
from reconciler.encord.window import ReadWindow
from reconciler.wire.base import Page

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
T = TypeVar("T")
# A broken or hostile server could page forever with fresh tokens and nothing in the pages;
# an empty page before the last is rare, a hundred in a row is a listing that never ends.
MAX_EMPTY_PAGES = 100
# Full pages a listing read from both ends reads from the ascending end alone first (a
# listing of one page then costs one request; beyond that the ends meet with at most one
# page to spare whatever the head start).
HEAD_START = 1
# Rounds a listing read from both ends reads before its ends read ahead (``ReadAhead``): each
# end then asks for its next page as soon as its page's token is known, not when the round is
# in and parsed, for one request more per end where they meet; a listing this short pays none.
AHEAD_AFTER = 3


class ReadAhead:
    """A switch a listing's pages are read under (``answers``): once on, each page's
    successor is asked for as soon as its token is known (``prefetch``)."""

    __slots__ = ("on",)

    def __init__(self, on: bool = False) -> None:
        self.on = on


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
    prefetch: bool | ReadAhead = False,
) -> AsyncGenerator[list[M], None]:
    """Yield each page's results in order; ``make_call(token)`` builds the request for a page.

    With ``prefetch`` the request for page N+1 goes out as soon as page N's token is known,
    before page N is validated and handed over, so validating and handling a page overlap the
    next round trip. Only for callers that read to the end: one that stops early has then
    sent one request too many.
    """
    # aclosing: a caller that stops early cancels the request in flight now, not at collection
    async with contextlib.aclosing(answers(session, make_call, prefetch=prefetch)) as listing:
        async for call, answer, _ in listing:
            # Validate the raw bytes when we have them: faster than the objects just parsed.
            page = parser(Page[model], call.route)(answer)  # type: ignore[valid-type]
            yield page.results


async def answers(
    session: Session,
    make_call: Callable[[str | None], Call],
    *,
    prefetch: bool | ReadAhead = False,
    read: Callable[[Any], Any] = json_value,
) -> AsyncGenerator[tuple[Call, Any, dict[str, Any]], None]:
    """Each page of a listing as it came (the answer, and the page object ``read`` from it:
    its JSON value unless the caller reads pages its own way, with ``results`` and
    ``nextPageToken`` where the JSON has them), for callers that read the results
    themselves; ``pages`` explains ``prefetch`` (a ``ReadAhead`` can turn it on meanwhile)."""
    seen: set[str] = set()
    token: str | None = None
    empty = 0  # pages in a row with no results, yet a next token
    pending = asyncio.ensure_future(_raw(session, make_call(None)))
    try:
        while True:
            call, answer = await pending
            # With prefetch the next page is asked for before this one is parsed (``read``:
            # about 6 ms a 1,000-item page, which would otherwise sit on the chain), when
            # the token can be read from the end of the bytes; the parse then confirms it.
            ahead = prefetch.on if isinstance(prefetch, ReadAhead) else prefetch
            early = peek_token(answer, seen) if ahead else None
            if early is not None:
                pending = asyncio.ensure_future(_raw(session, make_call(early)))
                await let_out()
            data = read(answer)
            token = _next_token(call, data, seen)
            _count(session, call, data.get("results"))
            empty = empty + 1 if token is not None and not data.get("results") else 0
            if empty > MAX_EMPTY_PAGES:
                raise ResponseError(
                    f"{call.route}: the server answered {MAX_EMPTY_PAGES} empty pages in a row, "
                    "each with a new page token; refused (a listing that never ends)"
                )
            if early is not None and token != early:  # the peek misread an odd page: undo
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
            sent = ahead and token is not None
            if sent and token != early:
                pending = asyncio.ensure_future(_raw(session, make_call(token)))
                await let_out()  # the request goes out before the CPU work below
            yield call, answer, data
            if token is None:
                return
            if not sent:
                pending = asyncio.ensure_future(_raw(session, make_call(token)))
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


# A page's ``nextPageToken`` where the API writes it, as the last key of the page object: a
# JSON string with no escapes, then the object's (and the answer's) closing brace. Only a key
# can match (an unescaped quote cannot sit inside a string), and only the top-level object's
# last key (any nested value would close before the final brace).
_TAIL_TOKEN = re.compile(rb'[{,]\s*"nextPageToken"\s*:\s*"([^"\\]+)"\s*}\s*\Z')
_TAIL = 4096  # bytes of the answer's end searched for it (a token is far shorter)


def peek_token(answer: Any, seen: set[str]) -> str | None:
    """The next page's token read from the end of the answer's bytes, without parsing the
    page; None when it is not plainly there (the caller waits for the parse) or was seen
    before (a fault the parse reports). The parse must then give the same token."""
    if not isinstance(answer, RawJSON):
        return None
    match = _TAIL_TOKEN.search(answer.content, max(0, len(answer.content) - _TAIL))
    if match is None:
        return None
    try:
        token = match.group(1).decode()
    except UnicodeDecodeError:
        return None
    return None if token in seen else token


async def both_ends(
    ascending: AsyncGenerator[list[T], None],
    descending: Callable[[], AsyncGenerator[list[T], None]],
    *,
    identity: Callable[[T], Hashable],
    name: Callable[[T], str],
    full: int,
    read_ahead: ReadAhead | None = None,
) -> AsyncIterator[list[T]]:
    """One listing read from both ends at once (ascending and descending by name) until the
    ends meet; yields new objects as they come, each object once.

    The ascending end reads alone until ``HEAD_START`` full pages in a row show that the
    listing goes on (after a short page it reads on alone: the listing ends soon). Then
    each round asks each end for its next page, and the chain of pages is about half as
    long as from one end, for at most one request more.

    The ends have met when an object has come from both and the last names of the two ends
    differ: the ascending end then holds everything named before its last name, the
    descending end everything after its own, and the two names are in the wrong order, so
    nothing is left between them. That holds whatever order the server gives objects of
    one name (equal names keep both ends reading), provided names that differ sort apart
    (a deterministic collation, as Postgres and SQLite have) and the descending order is the
    ascending one reversed (a server that ignores ``desc`` is recognised by the descending
    end starting where the ascending one did, and the listing is then read from one end).
    An end that reaches the end of the listing has read all of it. Either end failing fails
    the listing. The next pages are asked for before the last ones are handed over (the
    same pages the meeting rule would ask for next), so, as with ``pages``'s prefetch, a
    caller that stops early has sent up to two requests it did not need (then cancelled).
    After ``AHEAD_AFTER`` rounds ``read_ahead`` (the switch the ends read under) is turned
    on: each end then keeps its next page asked for, and where the ends meet each has asked
    for one page more than the meeting needed (a long listing's rounds each save the parse
    and the wait for the other end). To give each object once it remembers only the objects
    near where each end is (``ReadWindow``: a few pages' worth a listing of any length).
    """
    # Which end read each object first, for the objects of the last names each end read
    # (``ReadWindow``: only objects near where the ends are can come again).
    seen = ReadWindow(identity, name, full)
    last: list[str | None] = [None, None]
    sides = (ascending, descending())
    # The next pages asked for, before the last ones are handed over: deciding what to ask
    # for next needs only the pages themselves, so the caller's work on them (making
    # records) overlaps the next round trip instead of delaying it.
    ahead: list[asyncio.Future[list[T] | None]] = []
    try:
        ahead = await _ask(sides[:1])
        full_pages = 0  # in a row from the start; -1 once a short page came
        while 0 <= full_pages < HEAD_START:
            (page,) = await _take(ahead)
            if page is None:
                return
            full_pages = full_pages + 1 if len(page) >= full else -1
            ahead = await _ask(sides if full_pages >= HEAD_START else sides[:1])
            last[0] = name(page[-1]) if page else last[0]
            yield seen.fresh(page, 0)[0]
        while full_pages < 0:  # the listing ends soon: the ascending end reads on alone
            (page,) = await _take(ahead)
            if page is None:
                return
            ahead = await _ask(sides[:1])
            yield seen.fresh(page, 0)[0]
        met = False  # an object has come from both ends
        rounds = 0
        while True:
            got = await _take(ahead)
            rounds += 1
            if read_ahead is not None and rounds >= AHEAD_AFTER:
                read_ahead.on = True
            if last[1] is None and got[1] and seen.first_end(got[1][0]) == 0:
                # The descending end starts where the ascending one did: the server ignored
                # ``desc``, and meeting means nothing. Read on from one end.
                yield seen.fresh(got[0] or [], 0)[0]
                async for page in _rest(ascending, got[0]):
                    yield seen.fresh(page, 0)[0]
                return
            fresh: list[list[T]] = []
            for end, page in enumerate(got):
                new, crossed = seen.fresh(page or [], end)
                fresh.append(new)
                met = met or crossed
                last[end] = name(page[-1]) if page else last[end]
            done = None in got or (met and last[0] != last[1] and last[1] is not None)
            ahead = [] if done else await _ask(sides)
            for new in fresh:
                yield new
            if done:
                return
    finally:
        await _drop(ahead)
        for side in sides:
            await side.aclose()


async def _rest(
    side: AsyncGenerator[list[T], None], latest: list[T] | None
) -> AsyncIterator[list[T]]:
    """The pages of ``side`` after ``latest`` (None: it had ended)."""
    if latest is None:
        return
    async for page in side:
        yield page


async def _ask(
    sides: Sequence[AsyncGenerator[list[T], None]],
) -> list[asyncio.Future[list[T] | None]]:
    """Ask each of ``sides`` for its next page (None: that end is done), and let the requests
    go out before the caller's own work (``let_out``)."""
    tasks: list[asyncio.Future[list[T] | None]] = [
        asyncio.ensure_future(anext(side, None)) for side in sides
    ]
    try:
        await let_out(SEND_ITERATIONS + 1)  # +1: the page's generator starts the request
    except BaseException:  # cancelled meanwhile: the caller never gets the tasks to stop
        await _drop(tasks)
        raise
    return tasks


async def _take(tasks: list[asyncio.Future[list[T] | None]]) -> list[list[T] | None]:
    """The pages asked for; the first failure is raised (the other ends are stopped)."""
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        await _drop(tasks)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return [task.result() for task in tasks]


async def _drop(tasks: list[asyncio.Future[list[T] | None]]) -> None:
    """Stop what is still running of ``tasks`` (nothing, once they are all done)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# Loop iterations a request started as a task needs before httpx (through httpcore and anyio)
# has written it on a reused connection (measured: 3). Work that follows without awaiting
# anything (parsing a page, making its records) would otherwise hold the request back until
# it is done, and a chain of pages would pay that work on every link.
SEND_ITERATIONS = 3


async def let_out(iterations: int = SEND_ITERATIONS) -> None:
    """Let requests just started reach the wire before CPU work that does not await."""
    for _ in range(iterations):
        await asyncio.sleep(0)


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
    _count(session, call, page.results)
    return page.results


def _count(session: Session, call: Call, results: Any) -> None:
    """The objects an answer held, for the time per object a read measures (``stats``)."""
    if isinstance(results, list):
        session.stats.count_objects(stats_route(call), len(results))


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
