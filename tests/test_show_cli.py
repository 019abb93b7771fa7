"""``reconciler show``: a saved plan or drift report rendered again, offline, checksum first."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from helpers import run_cli

SETTINGS = textwrap.dedent(
    """\
    version: 1
    target:
      sandbox:
        path: .reconciler/sandbox.sqlite
    ownership: {id: show-cli}
    """
)
RESOURCES = textwrap.dedent(
    """\
    folders:
      /team:
        description: Team space
        metadata: {team: ml}
        groups: {ops: admin}
      /team/raw: {}
    groups:
      ops: {description: Operators, members: []}
    datasets:
      team-set:
        description: Everything under /team
        groups: {ops: admin}
        items:
          - {folder: /team, recursive: true}
    """
)


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / "resources.yaml").write_text(RESOURCES)
    return config


def _saved(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A saved plan, the live renderings made with it, and the config removed afterwards (so
    show has neither a config nor a sandbox to read). The markdown comes from a second plan,
    saved beside it as ``plan-md.json``: each plan states the latency its own read measured."""
    config = _config(tmp_path)
    out = tmp_path / "plan.json"
    rendered = {"text": run_cli("plan", str(config), "--out", str(out)).stdout}
    md_out = str(tmp_path / "plan-md.json")
    rendered["markdown"] = run_cli(
        "plan", str(config), "--format", "markdown", "--out", md_out
    ).stdout
    shutil.rmtree(config)
    return out, rendered


def test_show_renders_a_saved_plan_offline_in_every_format(tmp_path: Path) -> None:
    out, rendered = _saved(tmp_path)
    text = run_cli("show", str(out), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout == rendered["text"]
    (said,) = text.stderr.strip().splitlines()
    assert said.startswith(f"{out}: checksum verified (sha256:")
    assert "config" not in {p.name for p in tmp_path.iterdir()}  # nothing was re-created
    markdown = run_cli("show", "plan-md.json", "--format", "markdown", cwd=tmp_path)
    assert markdown.stdout == rendered["markdown"]
    as_json = run_cli("show", str(out), "--format", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == json.loads(out.read_text())
    summary = run_cli("show", str(out), "--detail", "summary", cwd=tmp_path)
    assert [r for r in (line.split() for line in summary.stdout.splitlines()) if len(r) == 2] == [
        ["create", "4"],
        ["grant", "2"],
    ]


def test_show_refuses_a_tampered_plan_in_one_line(tmp_path: Path) -> None:
    out, _ = _saved(tmp_path)
    out.write_text(out.read_text().replace("Team space", "Team space!"))
    result = run_cli("show", str(out))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"Error: {out}: plan checksum does not match its content: the file was edited after "
        "it was made; make a new plan and review it"
    ]


def test_show_needs_exactly_one_file_and_says_so_in_one_line(tmp_path: Path) -> None:
    for args in ((), ("a.json", "--drift", "b.json")):
        result = run_cli("show", *args, cwd=tmp_path)
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "name one file" in result.stderr
    missing = run_cli("show", "nope.json", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "Error: cannot read nope.json: No such file or directory"
    ]


def test_show_drift_renders_a_saved_report_offline(tmp_path: Path) -> None:
    config = _config(tmp_path)
    report = tmp_path / "drift.json"
    saved = run_cli("drift", str(config), "--format", "json")
    assert saved.returncode == 2, saved.stderr  # everything is missing: drift
    report.write_text(saved.stdout)
    text = run_cli("drift", str(config)).stdout
    markdown = run_cli("drift", str(config), "--format", "markdown").stdout
    shutil.rmtree(config)
    assert run_cli("show", "--drift", str(report)).stdout == text
    assert run_cli("show", "--drift", str(report), "--format", "markdown").stdout == markdown
    again = run_cli("show", "--drift", str(report), "--format", "json").stdout
    assert json.loads(again) == json.loads(saved.stdout)
    report.write_text('{"format_version": 1}')
    bad = run_cli("show", "--drift", str(report))
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "not a valid drift report" in bad.stderr
