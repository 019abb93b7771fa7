"""The client's sending rules against scripted servers (``httpx.MockTransport``): retries and
their bounds, ``Retry-After`` and the per-route 429 pause, recovery of non-idempotent calls
after ambiguous failures, error mapping and messages, paging limits, concurrency, logging and
the secrecy of key material."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.apply.cost import measured_latency_ms, measured_object_ms
from reconciler.encord import (
    AmbiguousOperationError,
    AuthenticationError,
    BearerAuth,
    ClientOptions,
    ConflictError,
    EncordClient,
    EncordError,
    ForbiddenError,
    InvalidRequestError,
    KeyAuth,
    NotFoundError,
    RateLimitedError,
    ResponseError,
    RetryOptions,
    ServerError,
    TransportError,
)
from reconciler.wire.base import format_datetime, utc_now
from reconciler.wire.signing import private_key_to_openssh
from reconciler.wire.storage import PatchFolderPayload

KEY = Ed25519PrivateKey.generate()
FAST = RetryOptions(max_attempts=4, base_backoff_seconds=0.001, cap_backoff_seconds=0.01)
F1 = "adba34d6-829d-427b-bcab-1ddee5134713"
F2 = "19c8dd02-0951-4412-8d0b-7713962fcd35"
I1 = "1dc53184-2c51-4ec4-8208-355b4bd419d4"
DS = "29f4b289-f26a-418e-b743-a765c6996687"

MEDIA_KEYS = [
    "integrationHash",
    "url",
    "signedUrl",
    "fileSize",
    "mimeType",
    "duration",
    "fps",
    "height",
    "width",
    "dicomInstanceUid",
    "dicomStudyUid",
    "dicomSeriesUid",
    "frameCount",
    "audioSampleRate",
    "audioBitDepth",
    "audioCodec",
    "audioNumChannels",
]

# What httpx.MockTransport accepts: a plain or an async handler.
Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


def client(handler: Handler, **options: Any) -> EncordClient:
    options.setdefault("retry", FAST)
    options.setdefault("auth", KeyAuth(KEY))
    return EncordClient(
        ClientOptions(domain="https://api.test", transport=httpx.MockTransport(handler), **options)
    )


async def run(
    handler: Handler, op: Callable[[EncordClient], Awaitable[Any]], **options: Any
) -> Any:
    async def go() -> Any:
        async with client(handler, **options) as c:
            return await op(c)

    return await go()


def folder_json(uuid: str, name: str, parent: str | None = None) -> dict[str, Any]:
    now = format_datetime(utc_now())
    return {
        "uuid": uuid, "parent": parent, "name": name, "description": "", "clientMetadata": None,
        "owner": "a@x", "createdAt": now, "lastEditedAt": now, "userRole": "admin",
        "syncedDatasetHash": None, "pathToRoot": [],
    }  # fmt: skip


def item_json(uuid: str, parent: str) -> dict[str, Any]:
    now = format_datetime(utc_now())
    media = dict.fromkeys(MEDIA_KEYS)
    return {
        "uuid": uuid, "parent": parent, "itemType": "image", "name": "a.jpg", "clientMetadata": "{}",
        "owner": "a@x", "createdAt": now, "lastEditedAt": now, "backedDataUnitsCount": 0,
        "storageLocation": "encord", **media,
    }  # fmt: skip


def data_row(data_hash: str, item: str) -> dict[str, Any]:
    return {
        "data_hash": data_hash, "data_title": "a.jpg", "data_type": "IMAGE",
        "created_at": "2026-01-01 00:00:00", "last_edited_at": "2026-01-01 00:00:00",
        "width": None, "height": None, "file_link": None, "file_size": None, "file_type": None,
        "storage_location": 0, "frames_per_second": None, "duration": None,
        "backing_item_uuid": item,
    }  # fmt: skip


def v1(response: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(200, json={"status": status, "response": response})


def v1_query_type(request: httpx.Request) -> str:
    return str(json.loads(request.content)["query_type"])


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_server_errors_are_retried_until_success() -> None:
    answers = [503, 500, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        return httpx.Response(
            status, json=folder_json(F1, "a") if status == 200 else {"message": "x"}
        )

    async def op(c: EncordClient) -> Any:
        folder = await c.folders.get(F1)
        return folder, c.stats

    folder, stats = await run(handler, op)
    assert folder.name == "a"
    assert (stats.total, stats.retries) == (3, 2)
    assert stats.by_route == {"GET /v2/public/storage/folders/{uuid}": 3}
    assert stats.by_status == {"503": 1, "500": 1, "200": 1}


@pytest.mark.anyio
async def test_retries_stop_after_max_attempts() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, json={"message": "bad gateway"})

    with pytest.raises(ServerError, match=r"server error 502.*gave up after 4 attempts"):
        await run(handler, lambda c: c.folders.get(F1))
    assert len(calls) == 4


@pytest.mark.anyio
async def test_retries_stop_when_the_time_budget_is_spent() -> None:
    """A Retry-After beyond the total budget ends retrying at once instead of sleeping."""
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(429, headers={"Retry-After": "30"})

    retry = RetryOptions(max_attempts=10, max_total_seconds=2.0, base_backoff_seconds=0.001)
    started = time.monotonic()
    with pytest.raises(RateLimitedError, match=r"Retry-After: 30 s.*gave up after 1 attempts"):
        await run(handler, lambda c: c.folders.get(F1), retry=retry)
    assert len(calls) == 1
    assert time.monotonic() - started < 1.0


@pytest.mark.anyio
async def test_client_errors_are_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"detail": "page size too big"})

    with pytest.raises(
        InvalidRequestError, match=r"invalid request for folder .*page size too big"
    ):
        await run(handler, lambda c: c.folders.get(F1))
    assert len(calls) == 1


@pytest.mark.anyio
async def test_retry_after_is_honoured_and_pauses_the_route() -> None:
    """One 429 with Retry-After: 1 holds back every request of its route, not just its own."""
    sent: list[tuple[str, float]] = []
    limited: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        sent.append((request.url.path, now))
        if request.url.path.endswith(F1) and not limited:
            limited.append(now)
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json=folder_json(F2, "b"))

    async def op(c: EncordClient) -> Any:
        first = asyncio.create_task(c.folders.get(F1))
        await asyncio.sleep(0.05)  # the 429 has been answered: the pause is in force
        others = [asyncio.create_task(c.folders.get(F2)) for _ in range(5)]
        await asyncio.gather(first, *others)
        return c.stats

    stats = await run(handler, op)
    later = [t for _, t in sent[1:]]
    assert len(later) == 6
    assert min(later) >= limited[0] + 0.95
    assert stats.rate_limited == 1 and stats.retries == 1


@pytest.mark.anyio
async def test_retrying_is_bounded_by_time_not_by_a_count_of_attempts() -> None:
    """A server down for twenty quick attempts does not fail a call with time left (six
    counted attempts gave up within 2-12 s of a restarting server)."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) <= 20:
            return httpx.Response(503, json={"message": "restarting"})
        return httpx.Response(200, json=folder_json(F1, "a"))

    retry = RetryOptions(max_total_seconds=30, base_backoff_seconds=0.001, cap_backoff_seconds=0.01)
    folder = await run(handler, lambda c: c.folders.get(F1), retry=retry)
    assert folder.name == "a" and len(calls) == 21
    assert RetryOptions().max_attempts is None and RetryOptions().max_total_seconds >= 60


@pytest.mark.anyio
async def test_a_429_pauses_its_own_route_and_leaves_slots_to_the_others() -> None:
    """With one slot, a route held back by Retry-After neither delays nor blocks another."""
    sent: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.monotonic()))
        if request.url.path.endswith(F1):
            if len([p for p, _ in sent if p.endswith(F1)]) == 1:
                return httpx.Response(429, headers={"Retry-After": "2"})
            return httpx.Response(200, json=folder_json(F1, "a"))
        return httpx.Response(200, json={"results": [], "nextPageToken": None})

    async def op(c: EncordClient) -> float:
        limited = asyncio.create_task(c.folders.get(F1))
        await asyncio.sleep(0.1)  # the 429 has been answered: its route is paused
        asked = time.monotonic()
        await c.groups.list_all()
        waited = time.monotonic() - asked
        await limited
        return waited

    waited = await run(handler, op, concurrency=1)
    assert waited < 1.0  # not held behind the paused route's two seconds
    folder_times = [t for path, t in sent if path.endswith(F1)]
    assert folder_times[1] - folder_times[0] >= 1.9


@pytest.mark.anyio
async def test_concurrency_is_bounded_by_one_semaphore() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json=folder_json(F1, "a"))

    async def op(c: EncordClient) -> int:
        await asyncio.gather(*(c.folders.get(F1) for _ in range(20)))
        return c.stats.total

    assert await run(handler, op, concurrency=3) == 20
    assert peak == 3


@pytest.mark.anyio
async def test_connection_refused_is_retried_and_then_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(TransportError, match=r"cannot reach Encord at https://api\.test"):
        await run(handler, lambda c: c.folders.get(F1))


# --- non-idempotent calls after ambiguous failures --------------------------------------------


def _create_script(*, lost: str, exists_after: bool) -> tuple[Handler, list[str]]:
    """POST storage/folders fails ambiguously once (``lost``: "502" or "timeout")."""
    log: list[str] = []
    created: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            created.append(folder_json(F2, "new", F1))
            if log.count(log[-1]) == 1:
                if not exists_after:
                    created.clear()
                if lost == "timeout":
                    raise httpx.ReadTimeout("read timed out")
                return httpx.Response(502, json={"message": "upstream died"})
            return httpx.Response(200, json=created[-1])
        assert request.url.params.get("search") in ("new", None)  # None: the confirming listing
        return httpx.Response(200, json={"results": created, "nextPageToken": None})

    return handler, log


@pytest.mark.anyio
@pytest.mark.parametrize("lost", ["502", "timeout"])
async def test_create_folder_is_not_resent_when_the_first_attempt_took_effect(lost: str) -> None:
    handler, log = _create_script(lost=lost, exists_after=True)
    folder = await run(handler, lambda c: c.folders.create("new", parent=F1))
    assert str(folder.uuid) == F2
    assert log == [
        "POST /v2/public/storage/folders",
        f"GET /v2/public/storage/folders/{F1}/folders",
    ]


@pytest.mark.anyio
async def test_create_folder_is_resent_when_the_first_attempt_did_not_take_effect() -> None:
    handler, log = _create_script(lost="502", exists_after=False)
    folder = await run(handler, lambda c: c.folders.create("new", parent=F1))
    assert str(folder.uuid) == F2
    assert log == [
        "POST /v2/public/storage/folders",
        f"GET /v2/public/storage/folders/{F1}/folders",  # search=new: nothing
        f"GET /v2/public/storage/folders/{F1}/folders",  # unfiltered: still nothing
        "POST /v2/public/storage/folders",
    ]


@pytest.mark.anyio
async def test_create_folder_is_resent_without_reading_when_the_connection_never_opened() -> None:
    log: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(request.method)
        if len(log) == 1:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=folder_json(F2, "new"))

    await run(handler, lambda c: c.folders.create("new"))
    assert log == ["POST", "POST"]


@pytest.mark.anyio
async def test_create_group_after_a_lost_answer_finds_the_group_instead_of_making_two() -> None:
    groups: list[dict[str, Any]] = []
    posts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(1)
            groups.append({"groupHash": F2, "name": "ann", "description": "",
                           "createdAt": format_datetime(utc_now())})  # fmt: skip
            return httpx.Response(503, json={"message": "lost"})
        return httpx.Response(200, json={"results": groups})

    group = await run(handler, lambda c: c.groups.create("ann"))
    assert str(group.group_hash) == F2 and posts == [1]


@pytest.mark.anyio
async def test_link_items_after_a_lost_answer_reads_the_rows_instead_of_linking_again() -> None:
    rows: list[dict[str, Any]] = []
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        kind = v1_query_type(request)
        sent.append(kind)
        if kind == "datasetlinkitems":
            rows.append(data_row("h1", I1))
            return httpx.Response(502)
        return v1(rows)

    linked = await run(handler, lambda c: c.datasets.link_items(DS, [I1]))
    assert [r.backing_item_uuid for r in linked] == [I1]
    assert sent == ["datasetlinkitems", "datarows"]


@pytest.mark.anyio
async def test_sync_start_is_never_resent_blindly() -> None:
    posts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posts.append(1)
        if len(posts) == 1:
            return httpx.Response(502)
        return httpx.Response(200, json="d0e6327f-1952-40dd-8db7-092727e2ff19")

    with pytest.raises(AmbiguousOperationError, match="may or may not have taken effect"):
        await run(handler, lambda c: c.folders.start_sync(F1))
    assert posts == [1]
    posts.clear()
    job = await run(handler, lambda c: c.folders.start_sync(F1, resend_if_ambiguous=True))
    assert str(job) == "d0e6327f-1952-40dd-8db7-092727e2ff19" and posts == [1, 1]


@pytest.mark.anyio
async def test_delete_whose_answer_was_lost_succeeds_when_the_folder_is_gone() -> None:
    log: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(request.method)
        if request.method == "DELETE":
            return httpx.Response(502 if log.count("DELETE") == 1 else 404)
        return httpx.Response(404, json={"message": "no such folder"})

    await run(handler, lambda c: c.folders.delete(F1))
    assert log == ["DELETE", "DELETE", "GET"]


@pytest.mark.anyio
async def test_delete_of_a_missing_folder_is_an_error_when_nothing_was_lost() -> None:
    with pytest.raises(NotFoundError, match=f"not found: folder {F1}"):
        await run(lambda r: httpx.Response(404), lambda c: c.folders.delete(F1))


@pytest.mark.anyio
async def test_item_move_whose_resend_is_refused_checks_where_the_items_are() -> None:
    log: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(request.url.path.rsplit("/", 1)[1])
        if request.url.path.endswith("/items/move"):
            first = log.count("move") == 1
            return httpx.Response(502 if first else 400, json={"message": "not a child"})
        return httpx.Response(200, json={"results": [item_json(I1, F2)]})

    await run(handler, lambda c: c.items.move(F1, [I1], F2))
    assert log == ["move", "move", "get-bulk"]


# --- error mapping -------------------------------------------------------------------------------


def _secrets() -> list[str]:
    raw = KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    text = private_key_to_openssh(KEY)
    body = "".join(text.splitlines()[1:-1])
    return [raw.hex(), base64.b64encode(raw).decode(), body[20:60], "s3cr3t-bearer-token"]


@pytest.mark.anyio
async def test_authentication_failure_names_the_key_id_and_never_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as info:
        await run(
            lambda r: httpx.Response(401, json={"message": "bad sig"}), lambda c: c.folders.get(F1)
        )
    keyid = KeyAuth(KEY).key_id
    assert str(info.value) == (
        f"authentication failed for key id {keyid[:4]}…: is the key registered with this organisation?"
    )
    shown = (
        str(info.value)
        + caplog.text
        + repr(KeyAuth(KEY))
        + repr(client(lambda r: httpx.Response(200)))
    )
    assert keyid not in shown
    for secret in _secrets():
        assert secret not in shown


@pytest.mark.anyio
async def test_bearer_token_never_appears_in_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = BearerAuth("s3cr3t-bearer-token")
    with pytest.raises(AuthenticationError) as info:
        await run(lambda r: httpx.Response(401), lambda c: c.folders.get(F1), auth=auth)
    assert str(info.value) == (
        "authentication failed for the bearer token: is the token valid for this organisation?"
    )
    assert "s3cr3t" not in str(info.value) + caplog.text + repr(auth)


@pytest.mark.anyio
async def test_forbidden_names_the_role_and_the_subject_the_caller_knows() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": "no"})

    with pytest.raises(ForbiddenError) as info:
        await run(handler, lambda c: c.folders.patch_bulk(
            {F1: PatchFolderPayload(description="d")}, subject="folder /a/b"))  # fmt: skip
    assert str(info.value) == "forbidden: you need admin on folder /a/b (Encord said: no)"
    with pytest.raises(ForbiddenError, match=r"^forbidden: you need access to folder /x$"):
        await run(lambda r: httpx.Response(403), lambda c: c.folders.get(F1, subject="folder /x"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("AUTHENTICATION_ERROR", AuthenticationError),
        ("AUTHORISATION_ERROR", ForbiddenError),
        ("RESOURCE_NOT_FOUND_ERROR", NotFoundError),
        ("INVALID_ARGUMENTS_ERROR", InvalidRequestError),
        ("OPERATION_NOT_ALLOWED", InvalidRequestError),
        ("RESOURCE_EXISTS_ERROR", ConflictError),
        ("RATE_LIMIT_ERROR", RateLimitedError),
        ("UNKNOWN_ERROR", ServerError),
        ("SOMETHING_NEW", InvalidRequestError),
    ],
)
async def test_v1_error_codes_map_into_the_tree(code: str, error: type[EncordError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": 400, "response": [code], "payload": "detail"})

    with pytest.raises(error):
        await run(handler, lambda c: c.datasets.data_rows(DS, subject="dataset cams"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(200, json={"response": {}}), ResponseError, "not a v1 envelope"),
        (httpx.Response(200, text="<html>"), ResponseError, "not a v1 envelope"),
        (
            httpx.Response(200, json={"status": 200, "response": None}),
            NotFoundError,
            "dataset cams",
        ),
        (httpx.Response(401, json={"message": "no"}), AuthenticationError, "authentication failed"),
    ],
)
async def test_v1_answers_outside_the_envelope(
    response: httpx.Response, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        await run(lambda r: response, lambda c: c.datasets.get(DS, subject="dataset cams"))


@pytest.mark.anyio
async def test_v1_http_429_is_retried() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "0"}), v1([])]
    rows = await run(lambda r: answers.pop(0), lambda c: c.datasets.data_rows(DS))
    assert rows == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(201, json={}), "unexpected HTTP 201"),
        (httpx.Response(204), "unexpected answer"),
        (httpx.Response(200, content=b""), "empty body"),
        (httpx.Response(200, json={"uuid": "not-a-uuid"}), "unexpected answer at uuid"),
    ],
)
async def test_answers_the_contract_does_not_allow(response: httpx.Response, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        await run(lambda r: response, lambda c: c.folders.get(F1))


@pytest.mark.anyio
async def test_a_repeated_page_token_is_an_error_and_an_empty_one_ends_the_listing() -> None:
    def same_token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [], "nextPageToken": "t"})

    with pytest.raises(ResponseError, match="repeated page token"):
        await run(same_token, lambda c: _all(c.folders.list_root()))
    empty = await run(
        lambda r: httpx.Response(
            200, json={"results": [folder_json(F1, "a")], "nextPageToken": ""}
        ),
        lambda c: _all(c.folders.list_root()),
    )
    assert len(empty) == 1


async def _all(source: Any) -> list[Any]:
    return [x async for x in source]


@pytest.mark.anyio
async def test_verbose_log_shows_method_path_status_and_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.encord")
    await run(lambda r: httpx.Response(200, json=folder_json(F1, "a")), lambda c: c.folders.get(F1))
    await run(lambda r: v1([]), lambda c: c.datasets.data_rows(DS))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith(f"GET /v2/public/storage/folders/{F1} 200 ")
    assert lines[0].endswith("ms")
    assert lines[1].startswith("POST /public datarows 200 ")
    for secret in _secrets():
        assert secret not in caplog.text


@pytest.mark.anyio
async def test_bulk_bodies_are_split_at_1000_and_results_kept_in_order() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(200, json={"results": [item_json(i, F1) for i in body["itemUuids"]]})

    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(2500)]
    items = await run(handler, lambda c: c.items.get_bulk(ids))
    assert sorted(len(b["itemUuids"]) for b in bodies) == [500, 1000, 1000]
    assert [str(i.uuid) for i in items] == ids


@pytest.mark.anyio
async def test_a_listing_stopped_early_sends_no_further_request() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.params.get("pageToken", "-"))
        page = {"results": [folder_json(F1, "a")], "nextPageToken": f"t{len(sent)}"}
        return httpx.Response(200, json=page)

    async def op(c: EncordClient) -> None:
        async for _ in c.folders.list_root(page_size=1):
            break

    await run(handler, op)
    assert sent == ["-"]


@pytest.mark.anyio
async def test_the_reader_listing_requests_the_next_page_while_a_page_is_handled() -> None:
    events: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        events.append(f"request {token or 'first'}")
        following = {None: "p2", "p2": "p3", "p3": None}[token]
        return httpx.Response(200, json={"results": [], "nextPageToken": following})

    async def op(c: EncordClient) -> None:
        async for _ in c.items.list_pages(F1, recursive=True):
            events.append("handled")
            await asyncio.sleep(0.01)

    await run(handler, op)
    assert events == ["request first", "request p2", "handled", "request p3", "handled", "handled"]


@pytest.mark.anyio
async def test_organisation_access_is_asked_for_until_a_route_refuses_it() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        org = request.url.params.get("includeOrgAccess")
        sent.append(f"{request.url.path.rsplit('/', 1)[1]} {org}")
        if request.url.path.endswith("/datasets/list") and org == "True":
            return httpx.Response(403, json={"message": "admins only"})
        if request.url.path.endswith("/datasets/list"):
            return httpx.Response(200, json={"result": []})
        return httpx.Response(200, json={"result": []})

    async def op(c: EncordClient) -> None:
        for _ in range(2):
            await c.datasets.list_all(include_org_access="auto")
            await c.integrations.list_all(include_org_access="auto")
        await c.datasets.list_all()

    await run(handler, op)
    assert sent == [
        "list True", "list False", "cloud-integrations True",
        "list False", "cloud-integrations True",
        "list False",
    ]  # fmt: skip


@pytest.mark.anyio
async def test_a_host_never_reached_is_given_up_on_sooner_than_one_that_answered() -> None:
    """Refused connections before any answer: a wrong domain, not a restart (short budget);
    after one answer, the same failures are ridden out for the whole budget."""
    calls: list[float] = []
    answered = {"yet": False}

    def refusing(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        raise httpx.ConnectError("connection refused", request=request)

    retry = RetryOptions(
        max_total_seconds=60, first_contact_seconds=0.3, base_backoff_seconds=0.01,
        cap_backoff_seconds=0.05,
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(TransportError, match="cannot reach Encord"):
        await run(refusing, lambda c: c.folders.get(F1), retry=retry)
    assert time.monotonic() - started < 5

    def restarting(request: httpx.Request) -> httpx.Response:
        if not answered["yet"]:
            answered["yet"] = True
            return httpx.Response(200, json=folder_json(F1, "a"))
        calls.append(time.monotonic())
        if len(calls) < 80:  # longer than the first-contact budget allows
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=folder_json(F2, "b"))

    calls.clear()

    async def twice(c: EncordClient) -> str:
        await c.folders.get(F1)
        return (await c.folders.get(F2)).name

    assert await run(restarting, twice, retry=retry) == "b"
    assert calls[-1] - calls[0] > 0.3


@pytest.mark.anyio
async def test_stats_keep_per_route_the_objects_answers_held_and_each_requests_span() -> None:
    """What a plan's cost is measured from: the items route's objects, when each request
    went out and came back (three pages at once overlap), and the fastest request."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/items"):
            await asyncio.sleep(0.05)
            return httpx.Response(200, json={"results": [item_json(I1, F1)] * 100})  # bulk
        return httpx.Response(200, json=folder_json(F1, "a"))

    async def op(c: EncordClient) -> Any:
        async def listing(folder: str) -> None:
            async for _ in c.items.list_pages(folder, recursive=True):
                pass

        assert measured_object_ms(c) is None  # nothing measured yet
        await asyncio.gather(*(listing(f) for f in (F1, F2, F1)))
        await c.folders.get(F1)
        measured = c.stats, c.request_spans(), measured_latency_ms(c), measured_object_ms(c)
        c.reset_stats()
        assert not c.stats.objects_by_route and c.stats.fastest is None
        assert not c.request_spans()
        return measured

    stats, spans, latency, object_ms = await run(handler, op)
    items = "GET /v2/public/storage/folders/{uuid}/items"
    pages = spans[items]
    assert len(pages) == 3 and all(answered - sent >= 0.05 for sent, answered in pages)
    assert max(sent for sent, _ in pages) < min(answered for _, answered in pages)  # at once
    # the round trip is the light route's (the folder's), not the mean the pages would raise
    ((sent, answered),) = spans["GET /v2/public/storage/folders/{uuid}"]
    assert latency == pytest.approx((answered - sent) * 1000) and answered - sent < 0.05
    # the pages waited side by side, not one after another: about one 50 ms wait over 300
    # objects (0.17 ms each), not three (0.5 ms)
    assert object_ms is not None and 0 < object_ms < 0.4
    assert stats.by_route[items] == 3 and stats.objects_by_route[items] == 300
    assert stats.objects_by_route.get("GET /v2/public/storage/folders/{uuid}", 0) == 0
    assert stats.seconds_by_route[items] >= 3 * 0.05
    assert stats.fastest is not None and stats.fastest < 0.05  # the folder's answer
