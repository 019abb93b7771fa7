"""A dataset's data rows: one unpaged answer, read by link time in windows when that answer
is larger than the client's cap (``--max-answer-mib``), never refused for its size alone."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from helpers.embedded import Sandbox, ensure_created, make_sandbox

from reconciler.encord import AnswerTooLargeError, EncordClient
from reconciler.targets import TargetOptions, connect

ROWS = 3000  # three link calls of 1000: three distinct link times


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def linked(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Sandbox, str, datetime]]:
    sandbox = make_sandbox(tmp_path_factory.mktemp("rows"))
    await ensure_created(sandbox)
    sandbox.seed("/rows", items=ROWS)
    with sqlite3.connect(sandbox.db) as conn:
        items = [uuid for (uuid,) in conn.execute("SELECT uuid FROM items ORDER BY id")]
    async with sandbox.connect() as client:
        dataset = await client.datasets.create("big")
        await client.datasets.link_items(dataset.dataset_uuid, items)
        (listed,) = await client.datasets.list_all(title_eq="big")
    yield sandbox, str(dataset.dataset_uuid), listed.created_at


def capped(sandbox: Sandbox, size: int) -> EncordClient:
    return connect(TargetOptions(config=sandbox.target, max_response_bytes=size))


@pytest.mark.anyio
async def test_rows_larger_than_the_cap_are_read_in_windows(
    linked: tuple[Sandbox, str, datetime],
) -> None:
    sandbox, dataset, created = linked
    async with sandbox.connect() as client:
        whole = await client.datasets.data_rows(dataset)
        client.reset_stats()
        await client.datasets.data_rows(dataset)
        one_answer = client.stats.total
    assert len(whole) == ROWS and one_answer == 1
    async with capped(sandbox, 2**20) as client:  # about 1,500 rows an answer
        rows = await client.datasets.data_rows(dataset, since=created)
        requests = client.stats.total
    assert len(rows) == ROWS
    assert {r.data_hash for r in rows} == {r.data_hash for r in whole}
    assert {r.backing_item_uuid for r in rows} == {r.backing_item_uuid for r in whole}
    # The whole answer refused, then windows of a 16th from the dataset's creation (less 5
    # minutes' clock tolerance) down to one link call each: about five levels at the most.
    assert 1 < requests <= 5 * 16


@pytest.mark.anyio
async def test_one_link_larger_than_the_cap_names_the_option(
    linked: tuple[Sandbox, str, datetime],
) -> None:
    sandbox, dataset, created = linked
    async with capped(sandbox, 100 * 2**10) as client:  # fewer rows than one link call made
        with pytest.raises(AnswerTooLargeError) as raised:
            await client.datasets.data_rows(dataset, subject="dataset big", since=created)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("data rows of dataset big: the rows linked within")
    assert "raise --max-answer-mib" in message
