"""Sending calls: URL and signature, one concurrency limit, retries, a client-wide 429 pause.

Every attempt is signed afresh (a new ``created``), counted and timed. Retries follow
``RetryOptions``. A 429 moves the "not before" time of its route forward, and every request
of that route waits for it (outside the concurrency limit, so other routes go on), so a
rate-limit storm on one route slows that route instead of one worker hammering on, without
stalling unrelated work. Non-idempotent calls are never resent blindly after an ambiguous failure (a
5xx or a dropped connection after the request went out): a ``Recovery`` reads the live state
first, and without one the session raises ``AmbiguousOperationError``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from reconciler.encord.calls import (
    V1_PATH,
    V2_PREFIX,
    Call,
    Done,
    Recovery,
    V1Call,
    V2Call,
    stats_route,
)
from reconciler.encord.errors import (
    AmbiguousOperationError,
    AnswerTooLargeError,
    EncordError,
    RateLimitedError,
    ResponseError,
    ServerError,
    TransportError,
)
from reconciler.encord.options import ClientOptions
from reconciler.encord.responses import decode_v1, decode_v2
from reconciler.encord.stats import ClientStats
from reconciler.wire.query import encode_query

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Failures before the request left this machine: resending cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def is_retriable(error: EncordError) -> bool:
    return isinstance(error, RateLimitedError | ServerError | TransportError)


def is_ambiguous(error: EncordError) -> bool:
    """True when the failed request may have taken effect on the server."""
    if isinstance(error, TransportError):
        return error.sent
    return isinstance(error, ServerError)


class Session:
    """The HTTP side of one ``EncordClient``. Not shared between clients."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.stats = ClientStats()
        self._origin = options.domain.rstrip("/")
        self._http = httpx.AsyncClient(
            transport=options.transport,
            timeout=options.timeout_seconds,
            headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip"},
            follow_redirects=False,
        )
        self._semaphore = asyncio.Semaphore(options.concurrency)
        self.in_flight = 0  # requests sent and not answered yet (progress displays read it)
        self._answered = False  # has the server answered anything yet?
        # Per route: time.monotonic() before which no request of the route may start.
        self._not_before: dict[str, float] = {}
        self._random = random.Random()
        # Routes on which this caller was refused includeOrgAccess=True (see ``orgwide``).
        self.org_wide: dict[str, bool] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        call: Call,
        parse: Callable[[Any], T],
        *,
        recovery: Recovery[T] | None = None,
    ) -> T:
        """Send ``call`` until it succeeds or retrying must stop; return ``parse(json)``."""
        retry = self.options.retry
        started = time.monotonic()
        ambiguous = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(await self._attempt(call, retried=attempt > 1))
            except EncordError as error:
                if not is_retriable(error):
                    if ambiguous and recovery is not None and not recovery.before_resend:
                        done = await recovery.check()
                        if done is not None:
                            return done.value
                    raise
                if is_ambiguous(error):
                    ambiguous = True
                    if not call.idempotent:
                        done = await self._recover(call, error, recovery)
                        if done is not None:
                            return done.value
                delay = self._delay(attempt, error)
                elapsed = time.monotonic() - started
                counted_out = retry.max_attempts is not None and attempt >= retry.max_attempts
                if counted_out or elapsed + delay > self._budget(error):
                    error.args = (f"{error} (gave up after {attempt} attempts, {elapsed:.1f} s)",)
                    raise
                if isinstance(error, RateLimitedError):
                    paused = self._not_before.get(call.route, 0.0)
                    self._not_before[call.route] = max(paused, time.monotonic() + delay)
                await asyncio.sleep(delay)

    async def _recover(
        self, call: Call, error: EncordError, recovery: Recovery[T] | None
    ) -> Done[T] | None:
        """After an ambiguous failure of a non-idempotent call: learn whether it happened."""
        if recovery is not None:
            return await recovery.check()
        if isinstance(call, V2Call) and call.resend_if_ambiguous:
            return None
        what = call.route if isinstance(call, V1Call) else f"{call.method} {call.route}"
        raise AmbiguousOperationError(
            f"{what} on {call.subject} failed after it was sent ({error}); it may or may not "
            "have taken effect: check, then run again"
        ) from error

    def _budget(self, error: EncordError) -> float:
        """Seconds a call may keep retrying after ``error``."""
        retry = self.options.retry
        if isinstance(error, TransportError) and not self._answered:
            return min(retry.max_total_seconds, retry.first_contact_seconds)
        return retry.max_total_seconds

    def _delay(self, attempt: int, error: EncordError) -> float:
        retry = self.options.retry
        ceiling = min(retry.cap_backoff_seconds, retry.base_backoff_seconds * 2 ** (attempt - 1))
        jitter = self._random.uniform(0.0, ceiling)
        after = error.retry_after if isinstance(error, RateLimitedError) else None
        return max(jitter, after) if after is not None else jitter

    async def _attempt(self, call: Call, *, retried: bool) -> Any:
        await self._wait_for_pause(call.route)  # a paused route holds no concurrency slot
        async with self._semaphore:
            await self._wait_for_pause(call.route)
            request = self._build(call)
            route = stats_route(call)
            began = time.perf_counter()
            self.in_flight += 1
            try:
                response = await self._receive(request, call)
            except httpx.TransportError as exc:
                seconds = time.perf_counter() - began
                self.stats.record(route, "transport-error", seconds, retry=retried)
                self._log(call, "ERR", seconds)
                raise TransportError(
                    f"cannot reach Encord at {self._origin}: {type(exc).__name__}: {exc}",
                    sent=not isinstance(exc, _NOT_SENT),
                ) from None
            finally:
                self.in_flight -= 1
            seconds = time.perf_counter() - began
            self._answered = True
            self.stats.record(route, response.status_code, seconds, retry=retried)
            self._log(call, response.status_code, seconds)
        identity = self.options.auth.identity
        if isinstance(call, V1Call):
            return decode_v1(call, response, identity)
        return decode_v2(call, response, identity)

    async def _receive(self, request: httpx.Request, call: Call) -> httpx.Response:
        """Send ``request`` and read its answer, decompressed, up to ``max_response_bytes``."""
        limit = self.options.max_response_bytes
        response = await self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise AnswerTooLargeError(
                        f"{_what(call)}: the answer is larger than {_mib(limit)} once "
                        "decompressed; refused (check the domain, or raise --max-answer-mib "
                        "or RECONCILER_MAX_ANSWER_MIB if the object is that large)"
                    )
                chunks.append(chunk)
        except httpx.DecodingError:
            raise ResponseError(
                f"{_what(call)}: the answer's compressed body cannot be decoded; check the domain"
            ) from None
        finally:
            await response.aclose()
        # The body is decoded already, so the copy drops the headers that describe the encoding.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    async def _wait_for_pause(self, route: str) -> None:
        while (wait := self._not_before.get(route, 0.0) - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def _build(self, call: Call) -> httpx.Request:
        if isinstance(call, V1Call):
            return self._build_v1(call)
        query = encode_query(call.query)
        target = V2_PREFIX + call.path + (f"?{query}" if query else "")
        body = call.body or b""
        headers = {"X-Cloud-Trace-Context": _trace()}
        if body:
            headers["Content-Type"] = "application/json"
        elif call.method != "GET":
            headers["Content-Length"] = "0"  # httpx leaves it out on an empty DELETE
        headers.update(self.options.auth.v2_headers(call.method, target, body))
        request = self._http.build_request(
            call.method,
            self._origin + target,
            # Like the SDK: a GET carries no body at all, other methods "Content-Length: 0".
            content=None if call.method == "GET" else body,
            headers=headers,
            timeout=call.timeout_seconds or httpx.USE_CLIENT_DEFAULT,
        )
        if request.url.raw_path.decode("ascii") != target:
            # The signature covers the target we computed; a re-encoded URL would not verify.
            raise ValueError(f"httpx changed the request target {target!r}")
        del request.headers["Accept"]  # the SDK sends no Accept header on v2
        return request

    def _build_v1(self, call: V1Call) -> httpx.Request:
        body = call.body()
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "ResourceType": "dataset",
            "ResourceID": call.dataset_hash,
            "X-Cloud-Trace-Context": _trace(),
            **self.options.auth.v1_headers(body),
        }
        return self._http.build_request(
            "POST", self._origin + V1_PATH, content=body, headers=headers
        )

    def _log(self, call: Call, status: int | str, seconds: float) -> None:
        if isinstance(call, V1Call):
            logger.info("POST %s %s %s %.0fms", V1_PATH, call.query_type, status, seconds * 1000)
        else:
            path = V2_PREFIX + call.path
            logger.info("%s %s %s %.0fms", call.method, path, status, seconds * 1000)


def _what(call: Call) -> str:
    return call.route if isinstance(call, V1Call) else f"{call.method} {V2_PREFIX}{call.path}"


def _trace() -> str:
    return f"{uuid.uuid4().hex}/1;o=1"


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"
