"""Ctrl-C and SIGTERM during ``reconciler apply`` over a served sandbox: before anything is
written nothing is advised but the truth; while applying, the bundle in flight finishes and
is journaled, the run says what it did and how to resume, and exits 1 (not 143)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk, write_config
from test_apply_e2e import RULES, SETTINGS, folder_by_path

LINKED = (
    RULES
    + """\
datasets:
  later:
    items:
      - {{folder: /data}}
"""
)

pytestmark = [pytest.mark.slow, pytest.mark.sdk]


def _start(config: Path, server: SandboxServer, **extra: Any) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve",
        "--concurrency", "1", *flags(server),
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **extra
    )


def _wait_for(check: object, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _journal_records(journal_dir: Path) -> list[dict[str, Any]]:
    (journal,) = journal_dir.glob("*.jsonl")
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def _patched_in_journal(journal_dir: Path) -> bool:
    if not journal_dir.is_dir() or not list(journal_dir.glob("*.jsonl")):
        return False
    records = _journal_records(journal_dir)
    return any(r["type"] == "bundle" and r.get("phase") == "patch-items" for r in records)


def test_sigterm_while_applying_finishes_the_bundle_in_flight_and_says_how_to_resume(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 5000),)) as server:
        config = write_config(tmp_path / "config", LINKED.format(stage="term"), SETTINGS)
        journal_dir = config / ".reconciler" / "journal"
        server.set_faults(latency_ms=400)
        process = _start(config, server)
        try:
            _wait_for(lambda: _patched_in_journal(journal_dir), "a journaled patch bundle")
            assert process.poll() is None, "apply finished before it could be stopped"
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
            server.set_faults(latency_ms=0)
        assert process.returncode == 1, out + err
        assert "Apply interrupted: " in out
        (line,) = [x for x in err.splitlines() if x.startswith("Error: ")]
        assert (
            line.startswith("Error: interrupted: ") and "changes were applied and journaled" in line
        )
        assert line.endswith(f"finish the run with `reconciler apply {config} --resume`")
        records = _journal_records(journal_dir)
        assert records[-1]["type"] != "finish"  # open: resumable
        journaled = sum(
            len(r["done"])
            for r in records
            if r["type"] == "bundle" and r.get("phase") == "patch-items"
        )
        items = list(folder_by_path(sdk(server), "/data").list_items())
        written = sum(1 for i in items if i.client_metadata == {"stage": "term"})
        assert written == journaled > 0  # the bundles in flight finished and were journaled
        assert sdk(server).get_datasets(title_eq="later") == []  # no new bundle started
        resumed = run_cli("apply", str(config), "--auto-approve", "--resume", *flags(server))
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "Verified: a fresh plan is empty" in resumed.stdout


def test_ctrl_c_while_reading_says_nothing_was_changed(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        config = write_config(tmp_path / "config", RULES.format(stage="never"), SETTINGS)
        server.reset_stats()
        server.set_faults(latency_ms=3000)
        process = _start(config, server)
        try:
            _wait_for(lambda: server.stats()["total"] > 0, "the first read to be in flight")
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            server.set_faults(latency_ms=0)
        assert process.returncode == 1
        assert err.strip().splitlines() == ["Error: interrupted; nothing was changed"]
        assert not (config / ".reconciler" / "journal").exists()


def _read_until(master: int, wanted: bytes, seconds: float) -> bytes:
    """What the terminal shows until ``wanted`` appears (or the program ends, or time runs out)."""
    shown = b""
    deadline = time.monotonic() + seconds
    while wanted not in shown and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    return shown


def test_sigterm_at_the_prompt_cancels_like_ctrl_c(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        config = write_config(tmp_path / "config", RULES.format(stage="never"), SETTINGS)
        master, slave = pty.openpty()
        try:
            command = [sys.executable, "-m", "reconciler", "apply", str(config), *flags(server)]
            process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave)
            os.close(slave)
            shown = _read_until(master, b"Apply these changes?", 120)
            assert b"Apply these changes?" in shown, shown.decode(errors="replace")
            process.send_signal(signal.SIGTERM)
            shown = _read_until(master, b"nothing was changed", 60)
            process.wait(timeout=60)
        finally:
            os.close(master)
        text = shown.decode(errors="replace")
        assert process.returncode == 1, text
        assert "Error: apply cancelled; nothing was changed" in text
        assert "Traceback" not in text and "resume" not in text
        items = list(folder_by_path(sdk(server), "/data").list_items())
        assert all(not i.client_metadata for i in items)
