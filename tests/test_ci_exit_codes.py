"""One exit-code contract for ``plan --detailed-exitcode``, ``apply`` and ``drift`` (what CI
scripts branch on, documented in the README's "Exit codes" section):

    0  nothing to do / applied and converged / in sync
    2  changes (plan --detailed-exitcode) / drift (drift)
    1  any error: bad config or flags, unreachable target, refusal, apply failure

Each situation is produced for real (embedded sandbox, or a closed port) and every command is
run in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

SETTINGS = """\
version: 1
target:
  sandbox: {path: .reconciler/unused.sqlite}
ownership: {id: exit-codes}
"""
FOLDERS = """\
folders:
  /exit:
    description: exit codes
  /exit/a:
    description: a
"""


def config(directory: Path, folders: str = FOLDERS, settings: str = SETTINGS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(settings)
    (directory / "folders.yaml").write_text(folders)
    return directory


def codes(cfg: Path, *target: str) -> dict[str, int]:
    """The exit code of each command on ``cfg`` (apply with --auto-approve)."""
    plan = run_cli("plan", str(cfg), "--detailed-exitcode", *target)
    drift = run_cli("drift", str(cfg), *target)
    apply = run_cli("apply", str(cfg), "--auto-approve", *target)
    for result in (plan, drift, apply):
        assert "Traceback" not in result.stderr, result.stderr
    return {"plan": plan.returncode, "drift": drift.returncode, "apply": apply.returncode}


@pytest.mark.slow
def test_changes_then_nothing_to_do(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    sandbox = ("--sandbox", str(tmp_path / "s.sqlite"))
    plain = run_cli("plan", str(cfg), *sandbox)
    assert plain.returncode == 0, plain.stderr  # without --detailed-exitcode: changes are fine
    # plan and drift see the changes (2); apply makes them (0) ...
    assert codes(cfg, *sandbox) == {"plan": 2, "drift": 2, "apply": 0}
    # ... after which there is nothing to do anywhere
    assert codes(cfg, *sandbox) == {"plan": 0, "drift": 0, "apply": 0}


def test_bad_config_is_1_everywhere(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg", folders="folders:\n  /exit:\n    colour: blue\n")
    assert codes(cfg, "--sandbox", str(tmp_path / "s.sqlite")) == {
        "plan": 1,
        "drift": 1,
        "apply": 1,
    }


def test_bad_flags_are_1_everywhere_not_clicks_2(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    for command in ("plan", "drift", "apply"):
        result = run_cli(command, str(cfg), "--no-such-flag")
        assert result.returncode == 1, (command, result.stderr)
        # the bad flag is named, in whatever words click uses
        assert "Error: " in result.stderr and "--no-such-flag" in result.stderr


@pytest.mark.slow
def test_an_unreachable_target_is_1_everywhere(tmp_path: Path) -> None:
    key = tmp_path / "k"
    init = run_cli("sandbox", "init", "--db", str(tmp_path / "s.sqlite"), "--key-out", str(key))
    assert init.returncode == 0, init.stderr
    target = ("--domain", "http://127.0.0.1:9", "--ssh-key-file", str(key))
    assert codes(config(tmp_path / "cfg"), *target) == {"plan": 1, "drift": 1, "apply": 1}


@pytest.mark.slow
def test_a_refusal_is_1_everywhere(tmp_path: Path) -> None:
    """A leftover folder of ours under ``policy.protect``: prune may not delete it."""
    cfg = config(tmp_path / "cfg", folders=FOLDERS + "  /exit/leftover:\n    description: x\n")
    sandbox = ("--sandbox", str(tmp_path / "s.sqlite"))
    first = run_cli("apply", str(cfg), "--auto-approve", *sandbox)
    assert first.returncode == 0, first.stdout + first.stderr
    config(cfg, settings=SETTINGS + "policy: {protect: [/exit/leftover/**]}\n")
    assert codes(cfg, *sandbox) == {"plan": 1, "drift": 1, "apply": 1}


@pytest.mark.slow
def test_applying_a_stale_saved_plan_is_1(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    sandbox = ("--sandbox", str(tmp_path / "s.sqlite"))
    assert run_cli("apply", str(cfg), "--auto-approve", *sandbox).returncode == 0
    config(cfg, folders=FOLDERS.replace("description: a", "description: reviewed"))
    saved = tmp_path / "plan.json"
    planned = run_cli("plan", str(cfg), "--out", str(saved), "--detailed-exitcode", *sandbox)
    assert planned.returncode == 2, planned.stderr
    assert [c["address"] for c in json.loads(saved.read_text())["changes"]] == ["folder:/exit/a"]
    # someone else changes /exit/a after the review
    other = config(
        tmp_path / "other", folders=FOLDERS.replace("description: a", "description: by hand")
    )
    assert run_cli("apply", str(other), "--auto-approve", *sandbox).returncode == 0
    stale = run_cli("apply", str(saved), "--auto-approve", *sandbox, cwd=cfg)
    assert stale.returncode == 1, stale.stdout + stale.stderr
