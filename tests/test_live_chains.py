"""The live read's item listings in parallel chains: split by subtree (``live/chains.py``) and
read from both ends (``encord.paging.both_ends``). The parallel read must find exactly what
one recursive listing of the root finds (no item lost or doubled), make a known number of
requests, and fail as a whole when one chain fails.

One sandbox serves the module over a loopback socket; its layouts are seeded once.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

import httpx
import pytest
from encord_data.kit import FAST_RETRY, over_socket, seed, served
from helpers import SandboxServer

from reconciler.encord import ClientOptions, EncordClient, ServerError, key_auth_from_file
from reconciler.encord.calls import V2Call
from reconciler.encord.paging import answers, both_ends, peek_token
from reconciler.encord.responses import RawJSON, json_value
from reconciler.encord.stats import ClientStats
from reconciler.live import Scope, read_live

ITEMS_ROUTE = "GET /v2/public/storage/folders/{uuid}/items"

# root -> (seeds under it: (path, folders, items)), the item listings read_live makes.
LAYOUTS: dict[str, tuple[tuple[tuple[str, int, int], ...], int]] = {
    # A flat folder, odd and even counts: the first page alone, then a page from each end
    # per round until they share an item (2501: 1000 + [1000 | 1000] = 3 requests; 3000:
    # after 1000 + [1000 | 1000] the ends touch but share nothing, so one more round, 5).
    "/flat-odd": ((("/flat-odd", 0, 2501),), 3),
    "/flat-even": ((("/flat-even", 0, 3000),), 5),
    # Every name twice (two seeds): equal names at the meeting point keep both ends reading.
    "/twice": ((("/twice", 0, 1500), ("/twice", 0, 1500)), 5),
    # A longer flat folder: after AHEAD_AFTER (3) rounds each end asks for its next page as
    # soon as its page is in (read ahead), so where the ends meet (round 5: 1000 + 5 x
    # [1000 | 1000] = 11) each has asked for one page more (13).
    "/long": ((("/long", 0, 9500),), 13),
    # More children than the client's concurrency (16): one listing, from both ends.
    "/wide": ((("/wide", 40, 2400),), 3),
    # Five children: the root's own items (1 request) and one listing per child, each from
    # both ends (2 x 5 + 1 <= 16); a child of 1200 items costs 1000 + [200 | 1000] = 3.
    "/split": ((("/split", 5, 6000),), 1 + 5 * 3),
    # Deep, with empty subfolders and items at several levels: /deep's own (1), and its
    # children split while they fit: a (1, its own 3 items), a/b (1), a/b/c (1, empty),
    # a/b/c/folder-0000{0,1} (2 x 3, 1100 items each, both ends), empty (1) and its three
    # empty children (3).
    "/deep": (
        (
            ("/deep/a/b/c", 2, 2200),
            ("/deep/a", 0, 3),
            ("/deep/empty", 3, 0),
        ),
        1 + 1 + 1 + 1 + 2 * 3 + 1 + 3,
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with served(tmp_path_factory.mktemp("chains")) as running:
        for seeds, _ in LAYOUTS.values():
            for under, folders, items in seeds:
                seed(running.db_path, under, folders=folders, items=items)
        yield running


async def _one_chain(client: EncordClient, root: str) -> list[tuple[str, str, str]]:
    """What the old reader read: one recursive listing of the root, from one end."""
    (folder,) = await client.folders.find_children(None, root.strip("/"))
    pages = client.items.list_pages(folder.uuid, recursive=True)
    return [(str(i.uuid), i.name, str(i.parent)) async for page in pages for i in page]


@pytest.mark.anyio
@pytest.mark.parametrize("root", list(LAYOUTS))
async def test_the_parallel_read_finds_what_one_chain_finds(
    server: SandboxServer, root: str
) -> None:
    async with over_socket(server) as s:
        old = await _one_chain(s.client, root)
        await s.reset_stats()
        live = await read_live(s.client, Scope(roots=(root,)))
        stats = await s.stats()
    assert live.complete and not live.problems
    new = [(i.uuid, i.name, i.parent) for i in live.items.values()]
    assert sorted(new) == sorted(old)
    assert len(old) == sum(n for _, _, n in LAYOUTS[root][0])
    # Each item counted once: the listing count is folders + items as read, doubles included.
    assert live.listing_counts[root] == len(live.folders) - 1 + len(old)
    assert stats[ITEMS_ROUTE] == LAYOUTS[root][1]


@pytest.mark.anyio
async def test_the_request_count_of_a_split_read_is_exact(server: SandboxServer) -> None:
    """All of /deep: resolve it (1), list its folders (1), one role read per folder, the item
    listings (above), the organisation's groups, integrations, users and schema (4), and who
    the caller is (3, see live/identity)."""
    async with over_socket(server) as s:
        await s.reset_stats()
        live = await read_live(s.client, Scope(roots=("/deep",)))
        stats = await s.stats()
    folders = len(live.folders)
    assert folders == 1 + 1 + 1 + 1 + 2 + 1 + 3
    assert stats[ITEMS_ROUTE] == LAYOUTS["/deep"][1]
    assert stats["total"] == 1 + 1 + folders + LAYOUTS["/deep"][1] + 4 + 3


class _FailDescending(httpx.AsyncBaseTransport):
    """The real socket, except that descending item listings answer ``status``."""

    def __init__(self, status: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/items") and request.url.params.get("desc") == "True":
            return httpx.Response(self._status, json={"message": "refused"})
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _client(server: SandboxServer, transport: httpx.AsyncBaseTransport) -> EncordClient:
    options = ClientOptions(
        domain=server.url,
        auth=key_auth_from_file(server.key_path),
        retry=FAST_RETRY,
        transport=transport,
    )
    return EncordClient(options)


@pytest.mark.anyio
async def test_a_refused_end_makes_the_read_incomplete_with_no_items(
    server: SandboxServer,
) -> None:
    async with _client(server, _FailDescending(403)) as client:
        live = await read_live(client, Scope(roots=("/split",)))
    assert not live.complete
    assert live.items == {}
    assert len(live.problems) == 1
    assert live.problems[0].startswith("items under /split: forbidden")


@pytest.mark.anyio
async def test_an_end_that_keeps_failing_fails_the_read(server: SandboxServer) -> None:
    async with _client(server, _FailDescending(500)) as client:
        with pytest.raises(ServerError):
            await read_live(client, Scope(roots=("/flat-odd",)))


class _HideFolder(httpx.AsyncBaseTransport):
    """The real socket, except that recursive folder listings leave out folders named ``b``."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        params = request.url.params
        if not request.url.path.endswith("/folders") or params.get("isRecursive") != "True":
            return response
        page = json.loads(await response.aread())
        page["results"] = [f for f in page["results"] if f["name"] != "b"]
        return httpx.Response(response.status_code, json=page)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.anyio
async def test_a_folder_the_listing_left_out_keeps_the_root_whole(
    server: SandboxServer,
) -> None:
    """/deep/a/b missing from the folder listing: no split could reach its items, so /deep
    is one listing (from both ends: 2203 items, 3 requests), and its items are orphans that
    make the read incomplete."""
    await asyncio.to_thread(server.reset_stats)
    async with _client(server, _HideFolder()) as client:
        live = await read_live(client, Scope(roots=("/deep",)))
    assert not live.complete
    assert "2200 items are in folders that were not listed" in live.problems
    assert server.stats()[ITEMS_ROUTE] == 3


# --- the meeting rule, against listings whose order we choose --------------------------------


def _listing(rows: list[tuple[int, str]], size: int) -> AsyncGenerator[list[tuple[int, str]]]:
    async def pages() -> AsyncGenerator[list[tuple[int, str]]]:
        for start in range(0, len(rows), size):
            await asyncio.sleep(0)
            yield rows[start : start + size]

    return pages()


async def _both(asc: list[tuple[int, str]], desc: list[tuple[int, str]], size: int) -> list[int]:
    read = both_ends(
        _listing(asc, size),
        lambda: _listing(desc, size),
        identity=lambda row: row[0],
        name=lambda row: row[1],
        full=size,
    )
    return [row[0] async for page in read for row in page]


@pytest.mark.anyio
@pytest.mark.parametrize("server_order", ["reversed", "ties-ascending", "ignores-desc"])
async def test_the_ends_meet_without_losing_or_doubling_an_item(server_order: str) -> None:
    """Names repeat often; the server may break ties either way in the descending order, or
    ignore ``desc`` altogether: every item comes exactly once."""
    draw = random.Random(19)
    for count in range(0, 40):
        for size in (1, 2, 3, 7):
            rows = [(n, f"n{draw.randint(0, count // 3 + 1)}") for n in range(count)]
            asc = sorted(rows, key=lambda row: (row[1], row[0]))
            desc = {
                "reversed": asc[::-1],
                "ties-ascending": sorted(sorted(rows), key=lambda row: row[1], reverse=True),
                "ignores-desc": asc,
            }[server_order]
            assert sorted(await _both(asc, desc, size)) == list(range(count)), (count, size)


@pytest.mark.anyio
async def test_short_pages_and_repeats_within_an_end_are_read_once() -> None:
    """A short first page means the listing ends soon: it is read on from one end (the
    descending end never starts), and an item a listing repeats comes once."""
    asked: list[str] = []

    async def ascending() -> AsyncGenerator[list[tuple[int, str]]]:
        for page in ([(1, "a")], [(2, "b"), (3, "c")], [(3, "c"), (4, "d")]):
            asked.append("asc")
            yield page

    async def descending() -> AsyncGenerator[list[tuple[int, str]]]:
        asked.append("desc")
        yield [(4, "d")]

    read = both_ends(ascending(), descending, identity=lambda r: r[0], name=lambda r: r[1], full=2)
    assert [row[0] async for page in read for row in page] == [1, 2, 3, 4]
    assert asked == ["asc", "asc", "asc"]


@pytest.mark.anyio
async def test_the_next_round_is_asked_for_before_the_caller_handles_this_one() -> None:
    """Deciding what to ask for next needs only the pages, so the caller's work on a round
    (making records, which does not await) overlaps the next round trip; no page is asked
    for that the ends did not need. ``asked``: the pages each end had been asked for when
    the caller got each page."""
    rows = [(n, f"n{n:03d}") for n in range(10)]
    asked: list[str] = []

    def end(tag: str, rows: list[tuple[int, str]]) -> AsyncGenerator[list[tuple[int, str]]]:
        async def pages() -> AsyncGenerator[list[tuple[int, str]]]:
            for start in range(0, len(rows), 2):
                asked.append(f"{tag}{start // 2}")
                await asyncio.sleep(0)
                yield rows[start : start + 2]

        return pages()

    read = both_ends(
        end("a", rows),
        lambda: end("d", rows[::-1]),
        identity=lambda r: r[0],
        name=lambda r: r[1],
        full=2,
    )
    got = [([r[0] for r in page], sorted(asked)) async for page in read]
    first, second, third = (
        ["a0", "a1", "d0"],
        ["a0", "a1", "a2", "d0", "d1"],
        ["a0", "a1", "a2", "a3", "d0", "d1", "d2"],
    )
    assert got == [
        ([0, 1], first),  # the head start; the first round is asked for already
        ([2, 3], second),
        ([9, 8], second),
        ([4, 5], third),
        ([7, 6], third),
        ([], third),  # the ends met: everything of this round had come from the other end
        ([], third),
    ]


@pytest.mark.anyio
async def test_a_listing_stopped_at_any_point_stops_both_ends_cleanly() -> None:
    """Cancelled wherever it is (a chain beside it failed): every end that started is
    closed, none is left running, and the cancellation is what comes out (not an error from
    closing an end still running)."""
    reached_both = False
    for steps in range(40):
        started: list[str] = []
        closed: list[str] = []

        def end(
            tag: str, started: list[str] = started, closed: list[str] = closed
        ) -> AsyncGenerator[list[tuple[int, str]]]:
            async def pages() -> AsyncGenerator[list[tuple[int, str]]]:
                started.append(tag)
                try:
                    for n in range(1000):
                        await asyncio.sleep(0)
                        yield [(n * 2, f"{tag}{n:04d}"), (n * 2 + 1, f"{tag}{n:04d}")]
                finally:
                    closed.append(tag)

            return pages()

        async def consume() -> None:
            read = both_ends(
                end("a"), lambda: end("d"), identity=lambda r: r, name=lambda r: r[1], full=2
            )
            async for _ in read:
                pass

        task = asyncio.ensure_future(consume())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted(closed) == sorted(started), steps
        reached_both = reached_both or "d" in started
    assert reached_both  # some of the stops came while both ends were reading


class _PagedSession:
    """A session answering a listing of ``pages`` pages (tokens "1", "2", ...) in the API's
    form, and noting each request as it is made, before anything awaits."""

    def __init__(self, pages: int, tail: str = "") -> None:
        self.stats = ClientStats()
        self.asked: list[str | None] = []
        self._pages = pages
        self._tail = tail  # after the token: a page whose token is not plainly last

    async def call(self, call: V2Call, parse: Callable[[Any], Any]) -> Any:
        token = next((str(v) for k, v in call.query if k == "pageToken"), None)
        self.asked.append(token)
        page = int(token or 0)
        after = f',"nextPageToken":"{page + 1}"' if page + 1 < self._pages else ""
        body = f'{{"results":[{{"n":{page}}}]{after}{self._tail}}}'
        return parse(RawJSON(body.encode(), call.route))


def _page_call(token: str | None) -> V2Call:
    query = (("pageToken", token),) if token else ()
    return V2Call("GET", "storage/folders/f/items", "storage/folders/{uuid}/items", query=query)


@pytest.mark.anyio
@pytest.mark.parametrize("tail", ["", ',"x":1'])
async def test_the_next_page_is_asked_for_before_this_one_is_parsed(tail: str) -> None:
    """A listing read ahead asks for page N+1 as soon as page N's bytes are in, its token read
    from their end, so parsing page N (about 6 ms for 1,000 items) is off the chain; when the
    token is not plainly the page's last key, it asks after the parse, as before. Either way
    it makes the same requests."""
    session = _PagedSession(4, tail)
    asked_when_read: list[int] = []

    def read(answer: Any) -> Any:
        asked_when_read.append(len(session.asked))
        return json_value(answer)

    listing = answers(session, _page_call, prefetch=True, read=read)  # type: ignore[arg-type]
    got = [data["results"][0]["n"] async for _, _, data in listing]
    assert got == [0, 1, 2, 3]
    assert session.asked == [None, "1", "2", "3"]
    assert asked_when_read == ([1, 2, 3, 4] if tail else [2, 3, 4, 4])


@pytest.mark.anyio
async def test_a_token_read_ahead_that_the_parse_contradicts_is_withdrawn() -> None:
    """The parse decides: a page whose parsed token differs from the one read from its end
    (here: the parse finds none) ends the listing, and the page asked for early is dropped."""
    session = _PagedSession(3)

    def read(answer: Any) -> Any:
        return {**json_value(answer), "nextPageToken": None}

    listing = answers(session, _page_call, prefetch=True, read=read)  # type: ignore[arg-type]
    assert [data["results"] async for _, _, data in listing] == [[{"n": 0}]]
    assert session.asked == [None, "1"]  # asked early, then withdrawn


@pytest.mark.parametrize(
    ("body", "token"),
    [
        (b'{"results":[],"nextPageToken":"abc"}', "abc"),
        (b'{"results": [], "nextPageToken" : "t\xc3\xa9" }\n', "té"),
        (b'{"nextPageToken":"abc","results":[]}', None),  # not the last key: parse first
        (b'{"results":[],"nextPageToken":"a\\"b"}', None),  # escaped: parse first
        (b'{"results":[{"nextPageToken":"abc"}]}', None),  # an item's key, not the page's
        (b'{"results":[],"page":{"nextPageToken":"abc"}}', None),
        (b'{"results":[],"nextPageToken":null}', None),
        (b'{"results":[],"nextPageToken":"seen"}', None),  # a repeat: the parse reports it
        (b'{"results":[],"next_page_token":"abc"}', None),
        (b'{"results":[],"nextPageToken":"\xff"}', None),  # not UTF-8
    ],
)
def test_a_token_is_read_from_the_end_of_a_page_only_when_plainly_there(
    body: bytes, token: str | None
) -> None:
    assert peek_token(RawJSON(body, "r"), {"seen"}) == token
    assert peek_token({"nextPageToken": "abc"}, set()) is None  # a value, not bytes
