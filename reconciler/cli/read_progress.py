"""A live line on stderr while the organisation is read: answers received, folders and items
listed, requests in flight, elapsed time.

Only on a terminal (stderr) and never with ``--format json``: logs, pipes and CI output
stay exactly what they were. The line is transient: it is gone once the read ends, and the
plan or report that follows is all that stays on screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reconciler.live import ReadListener, ReadProgress
from reconciler.words import plural


def describe(event: ReadProgress) -> str:
    pages = plural(event.pages, "page", thousands=True)
    folders = plural(event.folders, "folder", thousands=True)
    items = plural(event.items, "item", thousands=True)
    return f"reading: {pages}, {folders}, {items}; {plural(event.in_flight, 'request')} in flight"


class ReadLine:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("reading: connecting", total=None)
        self._progress.start()

    def __call__(self, event: ReadProgress) -> None:
        self._progress.update(self._task, description=describe(event))
        if event.done:
            self._progress.refresh()  # the final counts are drawn at least once

    def close(self) -> None:
        self._progress.stop()


@contextmanager
def read_progress(fmt: str, console: Console | None = None) -> Iterator[ReadListener | None]:
    """A listener for ``read_live`` when progress should show, else None."""
    console = console or Console(stderr=True)
    if fmt == "json" or not console.is_terminal:
        yield None
        return
    line = ReadLine(console)
    try:
        yield line
    finally:
        line.close()
