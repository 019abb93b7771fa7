"""Forked sandbox servers and forked applies, for killing an apply at a chosen write.

Starting ``python -m reconciler`` costs a second or more of imports per run, and the org
lock waits its confirmation delay (3.5-5 s over a network) in every apply; the crash-boundary
test runs a few hundred applies. So this test process, which has imported everything once and
runs no threads, forks instead:

* ``Server``: one listening socket on 127.0.0.1, kept open here for the whole test, so every
  run talks to the same URL (the plan's target, hence its checksum, stays the same and a
  journal can be resumed exactly); each run forks a uvicorn child that serves the sandbox app
  over that socket, on the database of that run.
* ``run_cli``: a forked child runs the ``reconciler`` command line in-process, its output
  in a file. The lock is the product's ``OrgLock``, with every request it makes, but its waits
  (the confirmation delay, polls) are skipped: only one apply runs at a time here, which is
  all the delay protects against. Renewals keep their period.

Everything a child runs is imported here first (the command line alone takes seconds to
import on a loaded machine). A run's world is a directory (``save``/``restore``): the sandbox database and the config
directory with its journal, so a killed state can be continued twice from the same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from helpers.servers import control

import reconciler.cli.apply_lock as apply_lock
from reconciler.apply.lock import LockTiming, OrgLock
from reconciler.cli.main import cli
from reconciler.encord import EncordClient
from reconciler.sandbox.app import create_app

TIMING = LockTiming(write_window=10.0, confirm_delay=(10.5, 11.0))


async def _skip_waits(seconds: float) -> None:
    """The lock's sleeps: confirmation delays and polls pass at once, renewals keep time."""
    await asyncio.sleep(seconds if seconds >= TIMING.renew_every else 0)


def _unwaited_lock(client: EncordClient, ownership_id: str, *, timing: LockTiming) -> OrgLock:
    return OrgLock(client, ownership_id, timing=TIMING, sleep=_skip_waits)


def _child(run: Any, log: Path) -> int:
    """Fork; in the child, send fds 1 and 2 to ``log``, call ``run()`` and exit with what it
    returns (never back into pytest)."""
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdout = sys.stderr = open(1, "w", closefd=False)  # noqa: SIM115
        code = run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(code)


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int  # the exit code, or -9 when killed
    output: str


def run_cli(args: list[str], log: Path) -> Outcome:
    """``reconciler ARGS`` in a forked child, to the end."""
    pid = start_cli(args, log)
    _, status = os.waitpid(pid, 0)
    return Outcome(_exit_code(status), log.read_text(errors="replace"))


def start_cli(args: list[str], log: Path) -> int:
    def run() -> int:
        apply_lock.OrgLock = _unwaited_lock  # type: ignore[attr-defined, assignment]  # a test double
        cli.main(args=args, prog_name="reconciler", standalone_mode=True)
        return 0

    return _child(run, log)


class Server:
    """The sandbox over one loopback socket; ``serving(db)`` forks a server for one run."""

    def __init__(self, logs: Path) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._logs = logs

    def close(self) -> None:
        self._socket.close()

    @contextlib.contextmanager
    def serving(self, db: Path) -> Iterator[Server]:
        """Serve ``db`` for the block; stopped gracefully after it (a hanging write is
        released first), so that a sync job it started finishes and the database is closed."""
        sock = self._socket

        def run() -> int:
            config = uvicorn.Config(
                create_app(db), log_level="warning", access_log=False, lifespan="on"
            )
            uvicorn.Server(config).run(sockets=[sock])
            return 0

        pid = _child(run, self._logs / "server.log")
        try:
            self.control("GET", "/_sandbox/health")  # queued on the socket until it serves
            yield self
        finally:
            with contextlib.suppress(OSError):
                self.control("POST", "/_sandbox/faults", {"hang_write": None})
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
        # uvicorn shuts down gracefully, then raises the SIGTERM again
        stopped = _exit_code(status) in (0, -signal.SIGTERM)
        assert stopped, (self._logs / "server.log").read_text()[-2000:]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        return control(
            self.url, method, path, body, timeout=60
        )  # the first call waits for the forked server

    def writes_seen(self) -> int:
        return int(self.control("GET", "/_sandbox/faults")["writes_seen"])

    def kill_at_write(self, args: list[str], log: Path, *, write: int, after: bool) -> str | None:
        """Run ``reconciler ARGS``; once the write after ``write`` writes reaches the server,
        ``kill -9`` it there: before that write is carried out, or (``after``) once it is
        committed but before its answer leaves. The write's route; None when the run ended
        before that write."""
        self.control("POST", "/_sandbox/faults", {"hang_write": write, "hang_after": after})
        pid = start_cli(args, log)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return None
            faults = self.control("GET", "/_sandbox/faults")
            if faults["hanging"]:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                assert _exit_code(status) == -signal.SIGKILL
                return str(faults["hung_route"])
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError(f"write {write + 1} never came: {log.read_text()[-2000:]}")


def save(work: Path, state: Path) -> None:
    """Keep the world in ``work`` (no server may have its database open) as ``state``."""
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(work, state)


def restore(state: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(state, work)


# --- what the organisation holds, read straight from the database --------------------------

LOCK_PREFIX = "/.reconciler-lock."


@dataclass(frozen=True, slots=True)
class OrgState:
    """Everything a config can declare, by name and path (``shape``), and which object holds
    each UUID (``uuids``: what survived, and where it is now). The lock folder is left out."""

    shape: dict[str, list[tuple[Any, ...]]]
    uuids: dict[str, str]


def org_state(db: Path) -> OrgState:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return OrgState(_shape(conn), _uuids(conn))


def _rows(conn: sqlite3.Connection, query: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in conn.execute(query))


def _shape(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    folders = [
        (path, description, _meta(metadata), remote)
        for path, description, metadata, remote in _rows(
            conn, "SELECT path, description, client_metadata, remote_url FROM folders"
        )
        if not path.startswith(LOCK_PREFIX)
    ]
    return {
        "folders": folders,
        "items": [
            (f"{folder}/{name}", kind, _meta(metadata))
            for folder, name, kind, metadata in _rows(
                conn,
                "SELECT f.path, i.name, i.item_type, i.client_metadata FROM items i "
                "JOIN folders f ON f.id = i.folder_id WHERE i.is_tombstone = 0",
            )
        ],
        "groups": _rows(
            conn,
            "SELECT g.name, g.description, (SELECT group_concat(email, ',') FROM (SELECT "
            "u.email FROM group_members m JOIN users u ON u.id = m.user_id WHERE "
            "m.group_id = g.id ORDER BY u.email)) FROM groups g",
        ),
        "folder_grants": _rows(
            conn,
            "SELECT f.path, g.name, x.role FROM folder_grants x JOIN folders f ON "
            "f.id = x.folder_id JOIN groups g ON g.id = x.group_id",
        ),
        "datasets": _rows(conn, "SELECT title, description FROM datasets"),
        "dataset_roles": [
            (title, who, role)
            for title, who, role in _rows(
                conn,
                "SELECT d.title, 'group:' || g.name, x.role FROM dataset_groups x JOIN datasets "
                "d ON d.id = x.dataset_id JOIN groups g ON g.id = x.group_id UNION ALL "
                "SELECT d.title, 'user:' || u.email, x.role FROM dataset_users x JOIN datasets "
                "d ON d.id = x.dataset_id JOIN users u ON u.id = x.user_id",
            )
        ],
        "links": _rows(
            conn,
            "SELECT d.title, f.path || '/' || i.name FROM data_rows r JOIN datasets d "
            "ON d.id = r.dataset_id JOIN items i ON i.id = r.item_id JOIN folders f "
            "ON f.id = i.folder_id",
        ),
        "schema": _rows(conn, "SELECT metadata_schema FROM organisation"),
        "users": _rows(conn, "SELECT email, org_role, member_type FROM users WHERE active = 1"),
        "organisation_tags": _rows(conn, "SELECT name, description FROM organisation_tags"),
    }


def _uuids(conn: sqlite3.Connection) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, query in (
        ("folder", "SELECT uuid, path FROM folders"),
        (
            "item",
            "SELECT i.uuid, f.path || '/' || i.name FROM items i JOIN folders f "
            "ON f.id = i.folder_id WHERE i.is_tombstone = 0",
        ),
        ("group", "SELECT uuid, name FROM groups"),
        ("dataset", "SELECT uuid, title FROM datasets"),
        ("organisation-tag", "SELECT uuid, name FROM organisation_tags"),
    ):
        for uuid, where in conn.execute(query):
            if not where.startswith(LOCK_PREFIX):
                out[str(uuid)] = f"{kind}:{where}"
    return out


def _meta(text: str | None) -> str:
    """Client metadata without the lock's lease, as canonical JSON."""
    value = json.loads(text) if text else {}
    if isinstance(value, dict):
        value.pop("reconciler.lock", None)
    return json.dumps(value, sort_keys=True)


def fingerprint(work: Path) -> str:
    """What a continuation starts from: the organisation (the lock's lease left out) and the
    journals (times, process ids and the plan's checksum, which covers the time it was made,
    left out). Two killed states with one fingerprint are one state: continuing it once
    tells for both (a kill just before and just after a lock renewal, say)."""
    state = org_state(work / "sandbox.sqlite")
    journals = []
    for path in sorted((work / "config" / ".reconciler" / "journal").glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        for record in records:
            for volatile in ("at", "pid", "host", "checksum"):
                record.pop(volatile, None)
        journals.append(records)
    return json.dumps([state.shape, state.uuids, sorted(journals, key=json.dumps)], sort_keys=True)


def in_parallel(chunks: list[Any], work: Any, out_dir: Path) -> list[Any]:
    """``work(chunk)`` for every chunk, each in a forked worker at once; their results (JSON
    lists), in chunk order."""
    pids = []
    for n, chunk in enumerate(chunks):
        out = out_dir / f"worker-{n}.json"

        def run(chunk: Any = chunk, out: Path = out) -> int:
            out.write_text(json.dumps(work(chunk)))
            return 0

        pids.append((_child(run, out_dir / f"worker-{n}.log"), n))
    results = []
    for pid, n in pids:
        _, status = os.waitpid(pid, 0)
        log = (out_dir / f"worker-{n}.log").read_text(errors="replace")
        assert _exit_code(status) == 0, f"worker {n} failed: {log[-3000:]}"
        results.extend(json.loads((out_dir / f"worker-{n}.json").read_text()))
    return results
