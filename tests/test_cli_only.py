"""``--only`` in ``plan``, ``apply`` and ``drift``: globs that name nothing fail (exit 1, one
line saying so) instead of printing "No changes. The organisation matches the configuration."
while changes are pending; globs that select objects that are in sync say exactly that."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

from reconciler.cli.only import selects_nothing
from reconciler.config import load_config
from reconciler.model.live import LiveDataRow, LiveDataset, LiveFolder, LiveItem, LiveState
from reconciler.plan import diff

SETTINGS = """\
version: 1
target:
  sandbox: {path: .reconciler/sandbox.sqlite}
ownership: {id: only}
"""
FOLDERS = "folders:\n  /o:\n    description: o\n  /o/a:\n    description: a\n"


def config(directory: Path, folders: str = FOLDERS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(SETTINGS)
    (directory / "folders.yaml").write_text(folders)
    return directory


@pytest.mark.slow
def test_a_glob_that_names_nothing_fails_in_every_command(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    for command in (("plan", "--detailed-exitcode"), ("drift",), ("apply", "--auto-approve")):
        result = run_cli(*command, str(cfg), "--only", "folder:/nope/**")
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert result.stdout == "", command  # no "No changes ... matches the configuration"
        assert result.stderr.splitlines() == [
            "Error: --only 'folder:/nope/**' matched nothing: no change, declared object or "
            "live object has a matching address (2 changes planned without --only); check "
            "the glob, e.g. 'folder:/path/**'"
        ]
    planned = run_cli("plan", str(cfg), "--detailed-exitcode")
    assert planned.returncode == 2, planned.stderr  # the failed apply changed nothing


@pytest.mark.slow
def test_a_glob_that_selects_objects_in_sync_says_so_and_exits_0(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    assert run_cli("apply", str(cfg), "--auto-approve").returncode == 0
    config(cfg, FOLDERS.replace("description: a", "description: edited"))  # /o/a differs
    plan = run_cli("plan", str(cfg), "--only", "folder:/o", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes to what --only selects; other objects may still differ." in plan.stdout
    assert "matches the configuration" not in plan.stdout
    drift = run_cli("drift", str(cfg), "--only", "folder:/o")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert "matches the configuration" not in drift.stdout


def test_live_items_and_links_count_as_something_to_select(tmp_path: Path) -> None:
    desired = load_config(config(tmp_path))
    folder = LiveFolder(uuid="f", parent=None, name="o", path="/o")
    item = LiveItem(uuid="i", parent="f", folder_path="/o", name="x.jpg", item_type="image")
    dataset = LiveDataset(uuid="d", title="ds", rows=(LiveDataRow("h", "i"),))
    live = LiveState(
        folders={"f": folder}, paths={"/o": "f"}, items={"i": item}, datasets={"d": dataset}
    )
    full = diff(desired, live)
    for glob in ("item:/o/*.jpg", "link:ds#**", "dataset:ds", "folder:/o/a"):
        assert selects_nothing((glob,), full=full, desired=desired, live=live) is None, glob
    problem = selects_nothing(("item:/p/**", "folders:/o"), full=full, desired=desired, live=live)
    assert problem is not None
    assert problem.startswith("--only 'item:/p/**' --only 'folders:/o' matched nothing")
