"""``reconciler validate``: output and exit codes, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import run_cli

from reconciler.cli.common import load_desired
from reconciler.cli.main import cli
from reconciler.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "config_cases"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)


def test_valid_config_prints_a_summary_and_exits_0() -> None:
    result = invoke(str(ROOT / "examples" / "realistic"))
    assert result.exit_code == 0
    assert result.output == (
        f"valid: {os.path.relpath(ROOT / 'examples' / 'realistic')} (sandbox target): "
        "9 folders, 3 groups, 8 users, 7 rules, 1 manifest, 8 manifest rows, 1 registration, "
        "7 registration rows, 4 datasets, 8 metadata keys\n"
    )


def test_the_summary_counts_declared_users_and_registrations() -> None:
    """Users, folders with ``register:`` and their manifest rows are counted like the rest
    (the realistic example registers one batch of seven objects and declares eight users)."""
    result = invoke("--format", "json", str(ROOT / "examples" / "realistic"))
    assert result.exit_code == 0
    summary = json.loads(result.output)["summary"]
    assert (summary["users"], summary["registrations"], summary["registration_rows"]) == (8, 1, 7)


def test_each_problem_on_its_own_line_and_exit_1() -> None:
    case = CASES / "bad-roles"
    result = CliRunner().invoke(cli, ["validate", str(case)])
    assert result.exit_code == 1
    assert result.stdout == from_cwd(case, (case / "expected.txt").read_text())
    assert result.stderr == "5 problems found:\n"


def from_cwd(case: Path, expected: str) -> str:
    """Golden lines as a command prints them: files relative to the working directory."""
    prefix = Path(os.path.relpath(case)).as_posix() + "/"
    return "".join(prefix + line + "\n" for line in expected.splitlines())


def test_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "repo" / "config"
    shutil.copytree(CASES / "bad-roles", config)
    monkeypatch.chdir(tmp_path / "repo")
    result = CliRunner().invoke(cli, ["validate", "config"])
    assert result.stdout.splitlines()[0] == (
        "config/reconciler.yaml:8:26: folders[\"/a\"].groups.annotators: 'owner' is not one of: "
        "user, admin"
    )
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = CliRunner().invoke(cli, ["validate", "--format", "json", "../repo/config"])
    first = json.loads(result.stdout)["diagnostics"][0]
    assert (first["file"], first["path"]) == ("reconciler.yaml", "../repo/config/reconciler.yaml")


def test_json_format() -> None:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(CASES / "target-both")])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document == {
        "format_version": 1,
        "valid": False,
        "diagnostics": [
            {
                "file": "reconciler.yaml",
                "path": "tests/config_cases/target-both/reconciler.yaml",
                "line": 2,
                "col": 1,
                "message": "target: needs exactly one of 'encord' (a real organisation) or "
                "'sandbox' (the embedded sandbox)",
            }
        ],
        "summary": None,
    }
    ok = CliRunner().invoke(
        cli, ["validate", "--format", "json", str(ROOT / "examples" / "quickstart")]
    )
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["summary"] == {
        "folders": 3,
        "groups": 2,
        "users": 1,
        "rules": 1,
        "manifests": 0,
        "manifest_rows": 0,
        "registrations": 0,
        "registration_rows": 0,
        "datasets": 1,
        "metadata_keys": 0,
    }


def test_default_path_is_the_working_directory() -> None:
    result = run_cli("validate", cwd=ROOT / "examples" / "quickstart")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: ")
    assert result.stderr == ""


@pytest.mark.slow
def test_subprocess_never_prints_a_traceback_for_hostile_input(tmp_path: Path) -> None:
    for case in ("alias-bomb", "binary-bytes", "deep-nesting", "no-settings-file"):
        result = run_cli("validate", str(CASES / case))
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        expected = (CASES / case / "expected.txt").read_text()
        assert result.stdout == from_cwd(CASES / case, expected)
    missing = run_cli("validate", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert (
        missing.stdout
        == f"{tmp_path / 'nope'}:1:1: no such directory; pass a config directory (default: .)\n"
    )


def test_bad_flag_is_a_usage_error_exit_1() -> None:
    result = CliRunner().invoke(cli, ["validate", "--format", "xml"])
    assert result.exit_code == 1
    # what is wrong is named (the option and the value), in whatever words click uses
    assert "--format" in result.output and "xml" in result.output
    assert "Traceback" not in result.output


ENCORD_SETTINGS = """\
version: 1
target:
  encord:
    domain: ${MY_DOMAIN}
    ssh_key_file: ${MY_KEY_FILE}
ownership: {id: team-a}
variables: [MY_DOMAIN, MY_KEY_FILE, MY_DESCRIPTION]
"""


def test_validate_needs_no_target_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MY_DOMAIN", "MY_KEY_FILE", "MY_DESCRIPTION"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "reconciler.yaml").write_text(ENCORD_SETTINGS)
    monkeypatch.chdir(tmp_path)
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")
    # What every command needs is still checked, and the commands that connect still
    # refuse the unset variables in the target.
    (tmp_path / "folders.yaml").write_text("folders:\n  /a: {description: '${MY_DESCRIPTION}'}\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == (
        "folders.yaml:2:22: environment variable MY_DESCRIPTION is not set; set it, or write "
        "${MY_DESCRIPTION:-default}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={"MY_DESCRIPTION": "x"})
    assert [(d.line, d.col) for d in caught.value.diagnostics] == [(4, 13), (5, 19)]


def test_plan_drift_and_apply_list_config_problems_with_a_count_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(CASES / "bad-roles", tmp_path / "cfg")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_desired(Path("cfg"))
    lines = caught.value.lines()
    assert lines[0] == "5 problems in the config:"
    assert lines[1] == (
        "cfg/reconciler.yaml:8:26: folders[\"/a\"].groups.annotators: 'owner' is not one of: "
        "user, admin"
    )
    assert len(lines) == 6
