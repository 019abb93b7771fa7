"""Pausing the cycle collector around work that builds millions of small acyclic objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading a large config or planning a million items makes millions of small acyclic
    containers; each full run of the cycle collector walks them all again (most of the time of
    a large load, a fifth of the CPU of planning 100,000 items). Reference counting frees what
    that work drops, so the collector is paused and restored after (left off if it was off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def collector_frozen() -> Iterator[None]:
    """What is alive on entry (a plan of 100,000 changes, the live state it was made from)
    lives on to the end: ``gc.freeze`` keeps it out of every run of the cycle collector
    meanwhile, which otherwise walks all of it again on each full run (a sixth of the CPU of
    applying such a plan). New objects are collected as usual. The outermost one hands the
    frozen objects back to the collector on exit; an inner one, or one inside the command
    line's start-up freeze (``pause_for_start_up``: that process ends with the command), only
    freezes what is new."""
    outermost = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if outermost:
            gc.unfreeze()


_paused_for_start_up = False


def pause_for_start_up() -> None:
    """Pause the cycle collector until ``start_up_done``, with what exists so far frozen.

    Start-up imports make thousands of long-lived objects (modules, classes, functions) and
    almost no garbage, and each run of the collector walks the new ones again: 6-10 ms of
    the 0.15 s that ``reconciler validate`` takes. ``gc.freeze`` moves them out of its sight;
    they are still freed by reference counting, and only a cycle among them (they live
    until the process ends anyway) would never be collected. The command line's entry point
    alone calls this: a library user's objects are not ours to freeze."""
    global _paused_for_start_up
    _paused_for_start_up = True
    gc.disable()
    gc.freeze()


def start_up_done() -> None:
    """The command's own modules are loaded: freeze them too, and collect as usual again."""
    global _paused_for_start_up
    if _paused_for_start_up:
        _paused_for_start_up = False
        gc.freeze()
        gc.enable()
