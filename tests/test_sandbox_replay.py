"""The replay cache on its own: keys, expiry, and its entry and byte bounds."""

from __future__ import annotations

import time

import pytest

from reconciler.sandbox.replay import ReplayCache, replay_key
from reconciler.sandbox.reply import Reply

TRACE = {"x-cloud-trace-context": "abc/1;o=1", "signature": "encord-sig=:x:"}


def test_keys_need_a_trace_id_and_cover_every_part() -> None:
    key = replay_key("POST", "/v2/public/x", b"{}", TRACE)
    assert key is not None and len(key) == 64
    assert replay_key("POST", "/v2/public/x", b"{}", {"signature": "encord-sig=:x:"}) is None
    others = [
        replay_key("PATCH", "/v2/public/x", b"{}", TRACE),
        replay_key("POST", "/v2/public/y", b"{}", TRACE),
        replay_key("POST", "/v2/public/x", b"[]", TRACE),
        replay_key("POST", "/v2/public/x", b"{}", {**TRACE, "x-cloud-trace-context": "def/1;o=1"}),
        replay_key("POST", "/v2/public/x", b"{}", {**TRACE, "signature": "encord-sig=:y:"}),
    ]
    assert key not in others and len(set(others)) == len(others)


async def run(cache: ReplayCache[Reply], key: str, text: str, status: int = 200) -> Reply:
    async def work() -> Reply:
        return Reply(status, text=text)

    return await cache.run(key, work, keep=lambda r: r.status < 500)


@pytest.mark.anyio
async def test_kept_answers_replay_until_they_expire() -> None:
    cache: ReplayCache[Reply] = ReplayCache(ttl=0.2)
    assert (await run(cache, "k", "first")).text == "first"
    assert (await run(cache, "k", "second")).text == "first"
    assert (await run(cache, "failed", "x", status=502)).text == "x"
    assert (await run(cache, "failed", "y", status=200)).text == "y"  # server errors are not kept
    time.sleep(0.25)
    assert (await run(cache, "k", "third")).text == "third"


@pytest.mark.anyio
async def test_entry_and_byte_bounds_drop_the_oldest() -> None:
    by_count: ReplayCache[Reply] = ReplayCache(max_entries=2)
    for name in ("a", "b", "c"):
        await run(by_count, name, name)
    assert (await run(by_count, "a", "new")).text == "new"  # evicted
    by_bytes: ReplayCache[Reply] = ReplayCache(max_bytes=3000)
    await run(by_bytes, "big-1", "x" * 2000)
    await run(by_bytes, "big-2", "y" * 2000)
    assert (await run(by_bytes, "big-2", "again")).text == "y" * 2000
    assert (
        await run(by_bytes, "big-1", "again")
    ).text == "again"  # evicted to stay under 3000 bytes
