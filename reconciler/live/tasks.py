"""Running independent reads together, failing like one read when one of them fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")


@asynccontextmanager
async def task_group() -> AsyncIterator[asyncio.TaskGroup]:
    """An ``asyncio.TaskGroup`` (a failure cancels the rest) whose failure surfaces as the
    first exception itself, not an ``ExceptionGroup``: callers handle one ``EncordError``
    whatever the number of reads that were in flight."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except ExceptionGroup as failed:
        raise _first_leaf(failed) from None


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all concurrently in one ``task_group``; results in the order given."""
    tasks: list[asyncio.Task[T]] = []
    async with task_group() as group:
        for awaitable in awaitables:
            tasks.append(group.create_task(_wrap(awaitable)))
    return [task.result() for task in tasks]


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
