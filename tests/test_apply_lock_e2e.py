"""Two applies at once, end to end: real ``reconciler apply`` processes against one
``reconciler sandbox serve`` over a loopback socket, with the official SDK as the referee.

Each race starts two processes together from two checkouts (two journals) of one config and
checks the organisation afterwards: no folder twice, exactly one run applied, the other
waited or stopped with one line naming the holder. Then: a stale lease is taken over, a live
one is not (unless ``--force-unlock``), Ctrl-C releases, and a second run from the same
checkout never advises ``--resume`` while the first is alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from encord.storage import StorageFolder
from encord.user_client import EncordUserClient
from helpers import SandboxServer, running_sandbox, sdk, write_config

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

OWNER = "lock-e2e"
LOCK_NAME = f".reconciler-lock.{OWNER}"
ROUNDS = int(os.environ.get("RECONCILER_LOCK_RACE_ROUNDS", "10"))
SETTINGS = f"""\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
ownership: {{id: {OWNER}}}
"""


def tree(root: str, children: int = 3) -> str:
    lines = ["folders:", f"  {root}:", "    description: raced"]
    for n in range(children):
        lines += [f"  {root}/c{n}:", "    description: raced child"]
    return "\n".join(lines) + "\n"


def chain(root: str, depth: int) -> str:
    """A deep chain: folders are created parents first, one level at a time (a slow apply),
    then a group is granted a role on the top one (a later phase)."""
    lines = ["groups:", "  raters: {description: people who rate}", "folders:"]
    lines += [f"  {root}:", "    description: slow", "    groups: {raters: user}"]
    path = root
    for n in range(depth):
        path += f"/l{n}"
        lines += [f"  {path}:", "    description: slow"]
    return "\n".join(lines) + "\n"


def start_apply(config: Path, server: SandboxServer, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve"]
    command += ["--domain", server.url, "--ssh-key-file", str(server.key_path), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"apply did not finish in {timeout} s: {out}{err}") from None
    return process.returncode, out, err


def duplicates(uc: EncordUserClient) -> list[str]:
    """Paths held by more than one folder, over the whole organisation."""
    folders: dict[UUID, StorageFolder] = {}
    for top in uc.list_storage_folders():
        folders[top.uuid] = top
        for sub in top.find_subfolders():
            folders[sub.uuid] = sub

    def path(folder: StorageFolder) -> str:
        parent = folders.get(folder.parent_uuid) if folder.parent_uuid else None
        return (path(parent) if parent is not None else "") + "/" + folder.name

    found = Counter(path(f) for f in folders.values())
    return sorted(p for p, n in found.items() if n > 1)


def lock_folders(uc: EncordUserClient) -> list[Any]:
    return [f for f in uc.list_storage_folders() if f.name == LOCK_NAME]


def lease(uc: EncordUserClient) -> dict[str, Any] | None:
    for folder in lock_folders(uc):
        record = (folder.client_metadata or {}).get("reconciler.lock")
        if record:
            return record  # type: ignore[no-any-return]
    return None


def applied(out: str) -> bool:
    return "Apply complete:" in out and "Verified: a fresh plan is empty" in out


def test_two_processes_started_together_never_apply_twice(tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()
    with running_sandbox(tmp_path) as server:
        uc = sdk(server)
        for n in range(ROUNDS):
            body = tree(f"/race{n}")
            a = write_config(tmp_path / f"a{n}", body, SETTINGS)
            b = write_config(tmp_path / f"b{n}", body, SETTINGS)
            # Even rounds wait for each other; odd rounds give up at once.
            extra = ("--lock-timeout", "120") if n % 2 == 0 else ("--lock-timeout", "0")
            runs = [start_apply(a, server, *extra), start_apply(b, server, *extra)]
            results = [finish(p) for p in runs]
            appliers = [r for r in results if r[0] == 0 and applied(r[1])]
            assert len(appliers) == 1, results
            (other,) = [r for r in results if r is not appliers[0]]
            code, out, err = other
            if code == 0:
                assert "No changes." in out, other
                outcomes["waited" if "Waiting up to" in err else "found nothing to do"] += 1
            else:
                assert n % 2 == 1, other
                (line,) = err.strip().splitlines()
                assert "another apply holds the lock" in line and "since" in line, line
                assert "run " in line and "--force-unlock" in line, line
                outcomes["stopped"] += 1
            assert "--resume" not in out + err, other
            assert duplicates(uc) == [], n
            assert len(lock_folders(uc)) == 1 and lease(uc) is None
    print(f"\n{ROUNDS} races: {dict(outcomes)}; duplicate folders: 0")
    assert outcomes["waited"] + outcomes["stopped"] >= 1


def write_lease(uc: EncordUserClient, *, run: str, expires: datetime) -> None:
    record = {
        "run": run,
        "holder": "ci@runner-7 pid 4242",
        "since": "2026-01-01T00:00:00+00:00",
        "expires": expires.isoformat(timespec="seconds"),
    }
    metadata = {"reconciler.owner": OWNER, "reconciler.lock": record}
    (folder,) = lock_folders(uc) or [uc.create_storage_folder(LOCK_NAME, client_metadata=metadata)]
    folder.update(client_metadata=metadata)


def test_a_stale_lease_is_taken_over_and_a_live_one_only_with_force_unlock(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path) as server:
        uc = sdk(server)
        config = write_config(tmp_path / "c", tree("/stale"), SETTINGS)
        write_lease(uc, run="dead-run", expires=datetime.now(UTC) - timedelta(seconds=5))
        code, out, err = finish(start_apply(config, server, "--lock-timeout", "0"))
        assert code == 0 and applied(out), out + err
        assert lease(uc) is None  # released at the end

        write_config(config, tree("/stale") + "  /stale/more:\n    description: x\n", SETTINGS)
        write_lease(uc, run="live-run", expires=datetime.now(UTC) + timedelta(hours=1))
        code, out, err = finish(start_apply(config, server, "--lock-timeout", "2"))
        assert code == 1, out + err
        waiting, line = err.strip().splitlines()
        assert waiting.startswith("Waiting up to 2 s") and "run live-run" in waiting
        assert line.startswith("Error: another apply holds the lock"), line
        assert "run live-run by ci@runner-7 pid 4242 since 2026-01-01" in line, line
        assert "--force-unlock live-run" in line
        assert "Apply complete" not in out

        forced = ("--force-unlock", "other-run", "--lock-timeout", "1")
        code, out, err = finish(start_apply(config, server, *forced))
        assert code == 1 and "run live-run" in err, out + err  # only the named run is unlocked

        code, out, err = finish(start_apply(config, server, "--force-unlock", "live-run"))
        assert code == 0 and applied(out), out + err
        assert lease(uc) is None
        assert duplicates(uc) == []


def wait_for_lease(uc: EncordUserClient, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = lease(uc)
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError("no apply took the lock")


def test_ctrl_c_releases_the_lock(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        uc = sdk(server)
        config = write_config(tmp_path / "c", chain("/slow", 12), SETTINGS)
        server.set_faults(latency_ms=300)
        process = start_apply(config, server)
        held = wait_for_lease(uc)
        time.sleep(2.0)
        process.send_signal(signal.SIGINT)
        code, out, err = finish(process, timeout=120)
        assert code == 1 and "interrupted" in err, out + err
        server.set_faults(latency_ms=0)
        assert lease(uc) is None, held
        again = finish(start_apply(config, server, "--lock-timeout", "0"))
        assert again[0] == 0, again


def test_ctrl_c_while_reading_inside_the_confirmation_delay_releases_and_changes_nothing(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path) as server:
        uc = sdk(server)
        config = write_config(tmp_path / "c", tree("/unread"), SETTINGS)
        server.reset_stats()
        server.set_faults(latency_ms=400)  # the confirmation delay is 3.5-5 s after the lease
        process = start_apply(config, server)
        try:
            # the lock sends only folder listings and the lease; these are the scope's read,
            # which begins with the confirmation delay (``tests/test_apply_lock_overlap.py``)
            reading = {"GET /v2/public/user/current", "GET /v2/public/organisation/users"}
            deadline = time.monotonic() + 60
            while not reading & server.stats().keys():
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.02)
            assert lease(uc) is not None
            process.send_signal(signal.SIGINT)
            code, out, err = finish(process, timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
            server.set_faults(latency_ms=0)
        assert code == 1, out + err
        assert err.strip().splitlines() == ["Error: interrupted; nothing was changed"]
        assert lease(uc) is None  # released on the way out
        assert not (config / ".reconciler" / "journal").exists()
        assert [f.name for f in uc.list_storage_folders()] == [LOCK_NAME]  # nothing else made


def test_a_second_run_from_the_same_checkout_never_advises_resume(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        uc = sdk(server)
        config = write_config(tmp_path / "c", tree("/same"), SETTINGS)
        runs = [start_apply(config, server), start_apply(config, server)]
        results = [finish(p) for p in runs]
        assert sum(1 for r in results if r[0] == 0 and applied(r[1])) == 1, results
        for _, out, err in results:
            assert "--resume" not in out + err and "Carrying on" not in out + err
        assert duplicates(uc) == []

        # The lock taken from under a live run: its journal still names a live process.
        # Latency keeps the first run applying well past the poll below: without it, its 15
        # creates could all finish between two polls, and a finished run is rightly no
        # obstacle (the second run then applied an empty plan: this test's old flake).
        write_config(config, chain("/same-slow", 14), SETTINGS)
        server.set_faults(latency_ms=150)
        first = start_apply(config, server)
        held = wait_for_lease(uc)
        journals = config / ".reconciler" / "journal"
        deadline = time.monotonic() + 120
        while not any(_started(j, first.pid) for j in journals.glob("*.jsonl")):
            assert time.monotonic() < deadline and first.poll() is None, finish(first)
            time.sleep(0.2)
        first.send_signal(signal.SIGSTOP)  # alive, holding its journal, going nowhere
        server.set_faults(latency_ms=0)
        ours = [j for j in journals.glob("*.jsonl") if _started(j, first.pid)]
        first_finished = any(_finished(j) for j in ours)
        try:
            second = finish(start_apply(config, server, "--force-unlock", held["run"]))
        finally:
            first.send_signal(signal.SIGCONT)
        try:
            assert not first_finished, "the first run finished before it was stopped"
            code, out, err = second
            assert code == 1, second
            (line,) = err.strip().splitlines()
            assert f"pid {first.pid}" in line and "still running" in line, line
            assert "--resume" not in line
        finally:  # never leave the first run behind, whatever failed above
            first_code, first_out, first_err = finish(first)
        assert first_code == 1 and "lost the lock" in first_err, first_out + first_err
        assert duplicates(uc) == []


def _finished(journal: Path) -> bool:
    """The journal's run wrote its ``finish`` record."""
    with contextlib.suppress(OSError, ValueError):
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        return any(r.get("type") == "finish" for r in records)
    return False


def _started(journal: Path, pid: int) -> bool:
    """The journal records a start by process ``pid``."""
    with contextlib.suppress(OSError, ValueError):
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        return any(r.get("type") == "start" and r.get("pid") == pid for r in records)
    return False
