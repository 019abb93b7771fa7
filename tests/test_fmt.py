"""``reconciler fmt``: canonical key order and quoting, comments kept, meaning unchanged;
``--check`` for pre-commit; and the shell completion click provides."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from reconciler.config import ConfigError, load_config
from reconciler.config.fmt import format_text
from reconciler.model.desired import DesiredState, Source

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SETTINGS = """\
# who we are
ownership: {id: fmt-test}   # stays with its key
version: 1
target:
  encord: {domain: "https://api.encord.com"}
"""
CANONICAL_SETTINGS = """\
# who we are
version: 1

target:
  encord: {domain: https://api.encord.com}

ownership: {id: fmt-test}   # stays with its key
"""
REORDERED = """\
# yaml-language-server: $schema=config.schema.json
groups:
  zeta: {members: [b@example.com], description: "last"}
  alpha:
    description: first     # kept
folders:
  /b: {groups: {zeta: user, alpha: admin}, description: b}
  /a/c: {}
  /a: {metadata: {z: 1, a: "yes", n: "1.0"}}
items:
  - {metadata: {k: v}, folder: /b}
  - {folder: /a, metadata: {k: w}}
"""
CANONICAL = """\
# yaml-language-server: $schema=config.schema.json
folders:
  /a: {metadata: {z: 1, a: yes, n: "1.0"}}
  /a/c: {}
  /b: {description: b, groups: {alpha: admin, zeta: user}}

groups:
  alpha:
    description: first     # kept
  zeta: {description: last, members: [b@example.com]}

items:
  - {folder: /b, metadata: {k: v}}
  - {folder: /a, metadata: {k: w}}
"""


@pytest.mark.parametrize("example", ["quickstart", "realistic"])
def test_every_example_is_already_canonical(example: str) -> None:
    checked = run_cli("fmt", "--check", str(EXAMPLES / example))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == ""


def test_a_reordered_file_fails_the_check_then_is_rewritten_canonically(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "main.yaml").write_text(REORDERED)
    before = load_config(tmp_path, env={})

    checked = run_cli("fmt", "--check", cwd=tmp_path)
    assert checked.returncode == 2
    assert sorted(checked.stdout.splitlines()) == [
        "would reformat main.yaml",
        "would reformat reconciler.yaml",
    ]
    assert (tmp_path / "main.yaml").read_text() == REORDERED  # --check writes nothing

    done = run_cli("fmt", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "main.yaml").read_text() == CANONICAL
    assert (tmp_path / "reconciler.yaml").read_text() == CANONICAL_SETTINGS
    after = load_config(tmp_path, env={})
    assert after.folders.keys() == before.folders.keys()
    assert _unordered(after) == _unordered(before)
    assert [r.folder for r in after.rules] == ["/b", "/a"]  # lists keep their order
    assert run_cli("fmt", "--check", str(tmp_path)).returncode == 0


def _unordered(state: DesiredState) -> DesiredState:
    """The state without what formatting may reorder (folders, groups, rules) or move."""
    return dataclasses.replace(state, folders={}, groups={}, rules=(), source=OTHER_SOURCE)


OTHER_SOURCE = Source(file="", line=0)


def test_formatting_is_idempotent_and_keeps_anchors_and_merges() -> None:
    text = (
        "x-team: &team {groups: {b: user, a: admin}, description: Team}\n"
        "folders:\n"
        "  /t/ml: *team\n"
        "  /t/cv: {description: Vision, <<: *team}\n"
        "  /a: {}\n"
    )
    once = format_text(text, "f.yaml")
    assert once.startswith("x-team: &team {description: Team, groups: {a: admin, b: user}}\n")
    assert "  /t/cv: {description: Vision, <<: *team}\n" in once  # a merge is left as written
    assert once.index("/a:") < once.index("/t/cv:") < once.index("/t/ml: *team")
    assert format_text(once, "f.yaml") == once


def test_a_file_that_is_not_yaml_is_one_line_at_its_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        format_text("folders:\n  /a: {description: [\n", "bad.yaml")
    (problem,) = error.value.diagnostics
    assert (problem.file, problem.line) == ("bad.yaml", 3)
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "bad.yaml").write_text("folders: [\n")
    done = run_cli("fmt", str(tmp_path))
    assert done.returncode == 1
    assert "bad.yaml:2:1: not valid YAML" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "reconciler.yaml").read_text() == CANONICAL_SETTINGS  # the rest done


def test_shell_completion_scripts_are_produced() -> None:
    entry = Path(sys.executable).parent / "reconciler"
    for shell, marker in (("bash", "_reconciler_completion()"), ("zsh", "#compdef reconciler")):
        env = {**os.environ, "_RECONCILER_COMPLETE": f"{shell}_source"}
        out = subprocess.run([entry], env=env, capture_output=True, text=True, check=True)
        assert marker in out.stdout
    env = {**os.environ, "_RECONCILER_COMPLETE": "bash_complete"}
    env.update(COMP_WORDS="reconciler fm", COMP_CWORD="1")
    out = subprocess.run([entry], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["plain,fmt"]


def test_an_empty_file_is_left_alone_and_a_changed_meaning_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert format_text("# nothing here\n", "empty.yaml") == "# nothing here\n"
    # The safety net: were the formatter to lose a line, the file is refused, not written.
    monkeypatch.setattr(
        "reconciler.config.fmt._blank_lines", lambda text: text.replace("  /b: {}\n", "")
    )
    with pytest.raises(ConfigError, match="without changing what it means"):
        format_text("folders:\n  /b: {}\n  /a: {}\n", "f.yaml")
