"""Whose journal is it: a run that stopped, or one still running?

A journal's ``start`` record names its process (``pid``, ``host``). While it applies, the
process holds an exclusive ``flock`` on the journal and touches it every
``HEARTBEAT_SECONDS`` (``reconciler.cli.apply_lock.heartbeat``). A journal is *running* when:

* on this host: its process is alive and the file is locked (a reused pid holds no lock);
* on another host (a shared checkout): it was touched within ``STALE_SECONDS``.

A running journal must never be resumed or superseded: its owner is still applying it.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # journal.py imports this module
    from reconciler.apply.journal import JournalState

try:  # POSIX; elsewhere only the heartbeat tells
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

HEARTBEAT_SECONDS = 15.0
STALE_SECONDS = 90.0


@dataclass(frozen=True, slots=True)
class Owner:
    """The process a journal's last ``start`` record names."""

    pid: int
    host: str
    started: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.started or 'an unknown time'}"


def running_message(state: JournalState) -> str:
    """One line for a journal whose owner is still applying it: wait, never resume."""
    who = state.owner.describe() if state.owner is not None else "another process"
    return (
        f"another apply of this config is still running ({who}, journal {state.path}); "
        "wait for it to finish, then run apply again"
    )


def this_process() -> dict[str, object]:
    """What a ``start`` record says about the process writing it."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def is_running(owner: Owner | None, journal: Path) -> bool:
    if owner is None:
        return False  # written before journals named their process
    if owner.pid == os.getpid() and owner.host == socket.gethostname():
        return False  # this very process: it is not someone else's run
    if owner.host == socket.gethostname():
        return _alive(owner.pid) and _locked(journal)
    try:
        return time.time() - journal.stat().st_mtime < STALE_SECONDS
    except OSError:
        return False


def dead_here(host: str, pid: int) -> bool:
    """True when ``pid`` on ``host`` is a process of this machine that no longer runs."""
    return host == socket.gethostname() and pid != os.getpid() and not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _locked(journal: Path) -> bool:
    """True when another process holds the journal's lock (an apply has it open)."""
    if fcntl is None:
        return True
    try:
        handle = journal.open("a", encoding="utf-8")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
