"""Ctrl-C during a registration, end to end over a socket: the running data-upload job is
cancelled through the cancel call, what it registered is journaled, the run says it was
interrupted, and ``apply --resume`` registers the rest, each object once (the official SDK
reads the folder back)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

ROWS = 400  # one job; 10 ms a unit: 4 s to interrupt it in
CANCEL = "POST /v2/public/storage/folders/{uuid}/data-upload-jobs/{job_uuid}/cancel"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SandboxServer, Path]]:
    buckets = tmp_path / "buckets"
    (buckets / "raw" / "ctrl-c").mkdir(parents=True)
    for n in range(ROWS):
        (buckets / "raw" / "ctrl-c" / f"o{n:04d}.txt").write_bytes(b"x")
    db, key = tmp_path / "sandbox.sqlite", tmp_path / "admin.key"
    for step in (
        ("sandbox", "init", "--db", str(db), "--key-out", str(key)),
        ("sandbox", "add-integration", "--db", str(db), "--title", "s3-raw",
         "--provider", "s3", "--root", str(buckets)),
    ):  # fmt: skip
        done = run_cli(*step)
        assert done.returncode == 0, done.stderr
    with running_sandbox(tmp_path, init=False, serve_args=("--upload-unit-ms", "10")) as server:
        yield server, buckets


def config_dir(directory: Path, buckets: Path) -> Path:
    directory.mkdir()
    (directory / "reconciler.yaml").write_text(
        "version: 1\ntarget:\n  sandbox:\n    path: .reconciler/unused.sqlite\n"
        f"    integrations: {{s3-raw: {{provider: s3, root: {buckets}}}}}\n"
        "ownership: {id: ctrl-c}\n"
    )
    (directory / "folders.yaml").write_text(
        "folders:\n  /ctrl-c:\n    register: {integration: s3-raw, manifest: m.jsonl}\n"
    )
    rows = [{"url": f"s3://raw/ctrl-c/o{n:04d}.txt"} for n in range(ROWS)]
    (directory / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return directory


def journal_text(config: Path) -> str:
    journals = config / ".reconciler" / "journal"
    files = sorted(journals.glob("*.jsonl")) if journals.is_dir() else []
    return "".join(f.read_text() for f in files)


def test_ctrl_c_cancels_the_running_job_and_resume_registers_the_rest_once(
    served: tuple[SandboxServer, Path], tmp_path: Path
) -> None:
    server, buckets = served
    config = config_dir(tmp_path / "config", buckets)
    command = [sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve"]
    with subprocess.Popen(
        [*command, *flags(server)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as apply:
        deadline = time.monotonic() + 120
        while apply.poll() is None and time.monotonic() < deadline:
            if '"type":"upload-job"' in journal_text(config):
                break
            time.sleep(0.02)
        assert apply.poll() is None, "apply ended before a job could be interrupted"
        apply.send_signal(signal.SIGINT)
        output, _ = apply.communicate(timeout=120)

    assert apply.returncode == 1, output
    assert "Apply interrupted" in output and "interrupted:" in output
    assert server.stats().get(CANCEL) == 1
    journal = journal_text(config)
    assert '"status":"CANCELLED"' in journal  # what the cancelled job registered is journaled
    (folder,) = [f for f in sdk(server).find_storage_folders(search="ctrl-c") if f.name == "ctrl-c"]
    assert len(list(folder.list_items())) < ROWS

    resumed = run_cli(
        "apply", str(config), "--auto-approve", "--resume", *flags(server), timeout=300
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    urls = [item.url for item in folder.list_items()]
    assert len(urls) == ROWS and len(set(urls)) == ROWS
