"""``.pre-commit-hooks.yaml``: the ``reconciler-validate`` hook, and that its entry really
validates a config directory (exit 0, or 1 with ``file:line:col`` lines)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SETTINGS = "version: 1\ntarget:\n  sandbox: {path: s.sqlite}\nownership: {id: hooks}\n"


def hook(name: str = "reconciler-validate") -> dict[str, object]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (found,) = [h for h in hooks if h["id"] == name]
    return found  # type: ignore[no-any-return]


def test_the_hook_is_declared_as_pre_commit_expects() -> None:
    found = hook()
    assert found["language"] == "python"
    assert found["pass_filenames"] is False
    assert found["entry"] == "reconciler validate"
    files = re.compile(str(found["files"]))
    for name in ("reconciler.yaml", "folders/cameras.yml", "datasets.yaml"):
        assert files.search(name), name
    for name in ("README.md", "manifests/splits.jsonl", "yaml.txt"):
        assert not files.search(name), name


def test_the_entry_is_a_console_script_of_this_package() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    command = shlex.split(str(hook()["entry"]))[0]
    assert scripts[command] == "reconciler.cli:main"


def run_entry(
    directory: Path, name: str = "reconciler-validate"
) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it (pass_filenames: false, so no file arguments),
    from the repository root, with the console script of this environment."""
    command, *args = shlex.split(str(hook(name)["entry"]))
    executable = Path(sys.executable).parent / command
    return subprocess.run(
        [str(executable), *args], cwd=directory, capture_output=True, text=True, check=False
    )


def test_the_entry_passes_a_valid_config_and_fails_an_invalid_one(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "folders.yaml").write_text("folders:\n  /a:\n    description: ok\n")
    ok = run_entry(tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("valid: ")
    (tmp_path / "folders.yaml").write_text("folders:\n  /a:\n    colour: blue\n")
    bad = run_entry(tmp_path)
    assert bad.returncode == 1
    assert bad.stdout.startswith("folders.yaml:3:5: ")


def test_the_fmt_hook_fails_a_file_out_of_canonical_form(tmp_path: Path) -> None:
    found = hook("reconciler-fmt")
    assert (found["language"], found["pass_filenames"]) == ("python", False)
    canonical = "version: 1\n\ntarget:\n  sandbox: {path: s.sqlite}\n\nownership: {id: hooks}\n"
    (tmp_path / "reconciler.yaml").write_text(canonical)
    (tmp_path / "folders.yaml").write_text("folders:\n  /b: {}\n  /a: {}  # kept\n")
    bad = run_entry(tmp_path, "reconciler-fmt")
    assert (bad.returncode, bad.stdout) == (2, "would reformat folders.yaml\n")
    (tmp_path / "folders.yaml").write_text("folders:\n  /a: {}  # kept\n  /b: {}\n")
    good = run_entry(tmp_path, "reconciler-fmt")
    assert good.returncode == 0, good.stdout + good.stderr
