"""A ``previously:`` move that also renames is two requests (move, then rename). A run that
stops between them leaves the folder at ``<new parent>/<old name>``; the next run must finish
the move, never create an empty folder at the declared path and prune the real one.

Over a served sandbox that refuses the rename (``refuse_body``), so the run stops after the
move."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SandboxServer, flags, running_sandbox, sdk, write_config
from test_apply_e2e import SETTINGS, apply, assert_converged, folder_by_path

from reconciler.model.desired import OWNER_KEY

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

BEFORE = """\
folders:
  /cams:
    description: cameras
  /archive:
    description: old footage
"""

AFTER = """\
folders:
  /archive:
    description: old footage
  /archive/footage:
    previously: [/cams]
    description: cameras
"""


def _items(folder: object) -> set[str]:
    return {str(i.uuid) for i in folder.list_items()}  # type: ignore[attr-defined]


def _stop_after_the_move(config: Path, server: SandboxServer, *, kill: bool) -> None:
    """Apply while the sandbox refuses the rename (any write naming "footage"): the move goes
    through. Either let the rename fail after its retries, or ``kill -9`` the run while it
    retries."""
    server.set_faults(refuse_body="footage")
    try:
        if not kill:
            stopped = apply(config, server, "--retry-seconds", "1")
            assert stopped.returncode == 1, stopped.stdout + stopped.stderr
            return
        command = [
            sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve",
            "--retry-seconds", "120", *flags(server),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            uc, deadline = sdk(server), time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if [f.name for f in folder_by_path(uc, "/archive").list_subfolders()] == ["cams"]:
                    break
                time.sleep(0.05)
            assert process.poll() is None, "apply stopped before it could be killed"
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    finally:
        server.set_faults(refuse_body=None)


@pytest.mark.parametrize(
    ("kill", "again"),
    [(False, ()), (True, ()), (True, ("--resume",))],
    ids=["rename-failed", "killed-then-apply", "killed-then-resume"],
)
def test_a_run_stopped_between_move_and_rename_loses_nothing_on_the_next_run(
    tmp_path: Path, kill: bool, again: tuple[str, ...]
) -> None:
    with running_sandbox(tmp_path, seeds=(("/cams", 4),)) as server:
        first = apply(write_config(tmp_path / "before", BEFORE, SETTINGS), server)
        assert first.returncode == 0, first.stdout + first.stderr
        uc = sdk(server)
        cams = folder_by_path(uc, "/cams")
        # Our marker, as on a folder this config created: prune: owned may delete it.
        cams.update(client_metadata={OWNER_KEY: "e2e-tests"})
        items = _items(cams)
        assert len(items) == 4

        after = write_config(tmp_path / "after", AFTER, SETTINGS)
        _stop_after_the_move(after, server, kill=kill)
        half = folder_by_path(uc, "/archive/cams")  # moved, not renamed
        assert str(half.uuid) == str(cams.uuid)

        finished = apply(after, server, *again)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        footage = folder_by_path(uc, "/archive/footage")
        assert str(footage.uuid) == str(cams.uuid), finished.stdout
        assert _items(footage) == items
        assert footage.description == "cameras"
        assert "to delete" in finished.stdout and " 0 to delete" in finished.stdout
        names = [f.name for f in folder_by_path(uc, "/archive").list_subfolders()]
        assert names == ["footage"]
        assert_converged(after, server)
